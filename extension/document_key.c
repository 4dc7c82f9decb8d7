/*
 * document_key.c
 *		Ed25519 signatures of the documents issued to refugees (OpenSSL).
 *
 * Each operation signs with its own key: the file <OPERATION>.pem (PKCS#8,
 * as "openssl genpkey -algorithm ed25519" writes it) in the directory named
 * by the superuser-only setting refuge.document_key_dir.  As with the vault
 * key, the private key is read by the server from a file that only it may
 * read, so it never appears in SQL text, in a plan or in the log; SQL sees
 * only signatures and the 32-byte public key.  Verification needs nothing
 * but the public key, which is what an offline checker holds.
 */
#include "postgres.h"

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fmgr.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_document_sign);
PG_FUNCTION_INFO_V1(refuge_document_public_key);
PG_FUNCTION_INFO_V1(refuge_ed25519_verify);

#define ED25519_KEYLEN	32
#define ED25519_SIGLEN	64
/* what is signed is a short payload; anything larger is not ours */
#define SIGN_MAX_BYTES	4096

static char *document_key_dir = NULL;

void
RefugeDocumentKeyInit(void)
{
	DefineCustomStringVariable("refuge.document_key_dir",
							   "Directory holding each operation's Ed25519 document signing key.",
							   "One PKCS#8 PEM file per operation, named after its code (KEN.pem), "
							   "readable by the server only.  Superuser-only.",
							   &document_key_dir, "", PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
}

/* An operation code names a file: only what refuge.operation allows. */
static void
check_operation_code(const char *code)
{
	size_t		n = strlen(code);

	if (n < 2 || n > 10 || strspn(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation: \"%s\" is not an operation code (2 to 10 capital letters or digits)",
						pnstrdup(code, Min(n, 20)))));
}

/* Load the operation's private key; the caller frees it with EVP_PKEY_free. */
static EVP_PKEY *
load_signing_key(const char *code)
{
	char		path[MAXPGPATH];
	struct stat st;
	FILE	   *f;
	EVP_PKEY   *key;

	RefugeRequirePreload("document signing");
	check_operation_code(code);
	if (document_key_dir == NULL || document_key_dir[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refuge.document_key_dir is not set"),
				 errhint("A superuser names the directory of the document signing keys in postgresql.conf or with ALTER SYSTEM.")));
	snprintf(path, sizeof(path), "%s/%s.pem", document_key_dir, code);
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("operation %s has no document signing key", code),
				 errdetail_log("No readable file \"%s\": %m.", path)));
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("refuge.document_key_dir: the key file of %s must be a regular file without group or other permissions", code),
				 errdetail_log("The file is \"%s\".", path)));
	if (st.st_size > 16384)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("refuge.document_key_dir: the key file of %s is not an Ed25519 key", code)));
	f = AllocateFile(path, "r");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("refuge.document_key_dir: could not open the key file of %s: %m", code),
				 errdetail_log("The file is \"%s\".", path)));
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	FreeFile(f);
	if (key == NULL || EVP_PKEY_id(key) != EVP_PKEY_ED25519)
	{
		EVP_PKEY_free(key);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("refuge.document_key_dir: the key file of %s is not an Ed25519 private key in PEM", code),
				 errdetail_log("The file is \"%s\".", path)));
	}
	return key;
}

/* refuge.document_sign(operation text, message bytea) returns bytea */
Datum
refuge_document_sign(PG_FUNCTION_ARGS)
{
	char	   *code = text_to_cstring(PG_GETARG_TEXT_PP(0));
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	EVP_PKEY   *key;
	EVP_MD_CTX *ctx;
	bytea	   *sig;
	size_t		siglen = ED25519_SIGLEN;
	bool		ok;

	if (VARSIZE_ANY_EXHDR(msg) > SIGN_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("message: %zu bytes is more than a document payload (%d)",
						(size_t) VARSIZE_ANY_EXHDR(msg), SIGN_MAX_BYTES)));
	key = load_signing_key(code);
	sig = palloc(VARHDRSZ + ED25519_SIGLEN);
	ctx = EVP_MD_CTX_new();
	/* Ed25519 is one-shot: no digest of our own, the message as it is */
	ok = ctx != NULL
		&& EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1
		&& EVP_DigestSign(ctx, (unsigned char *) VARDATA(sig), &siglen,
						  (const unsigned char *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg)) == 1
		&& siglen == ED25519_SIGLEN;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	if (!ok)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("document signing: Ed25519 signature failed")));
	SET_VARSIZE(sig, VARHDRSZ + ED25519_SIGLEN);
	PG_RETURN_BYTEA_P(sig);
}

/* refuge.document_public_key(operation text) returns bytea (32 bytes) */
Datum
refuge_document_public_key(PG_FUNCTION_ARGS)
{
	char	   *code = text_to_cstring(PG_GETARG_TEXT_PP(0));
	EVP_PKEY   *key = load_signing_key(code);
	bytea	   *pub = palloc(VARHDRSZ + ED25519_KEYLEN);
	size_t		len = ED25519_KEYLEN;
	bool		ok;

	ok = EVP_PKEY_get_raw_public_key(key, (unsigned char *) VARDATA(pub), &len) == 1 && len == ED25519_KEYLEN;
	EVP_PKEY_free(key);
	if (!ok)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("document signing: could not read the public key")));
	SET_VARSIZE(pub, VARHDRSZ + ED25519_KEYLEN);
	PG_RETURN_BYTEA_P(pub);
}

/* refuge.ed25519_verify(public_key bytea, message bytea, signature bytea) returns boolean */
Datum
refuge_ed25519_verify(PG_FUNCTION_ARGS)
{
	bytea	   *pub = PG_GETARG_BYTEA_PP(0);
	bytea	   *msg = PG_GETARG_BYTEA_PP(1);
	bytea	   *sig = PG_GETARG_BYTEA_PP(2);
	EVP_PKEY   *key;
	EVP_MD_CTX *ctx;
	int			rc;

	if (VARSIZE_ANY_EXHDR(pub) != ED25519_KEYLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("public_key: an Ed25519 public key is %d bytes, not %zu",
						ED25519_KEYLEN, (size_t) VARSIZE_ANY_EXHDR(pub))));
	/* a signature of another length, or an oversized message, is simply not valid */
	if (VARSIZE_ANY_EXHDR(sig) != ED25519_SIGLEN || VARSIZE_ANY_EXHDR(msg) > SIGN_MAX_BYTES)
		PG_RETURN_BOOL(false);
	key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
									  (const unsigned char *) VARDATA_ANY(pub), ED25519_KEYLEN);
	if (key == NULL)
		PG_RETURN_BOOL(false);
	ctx = EVP_MD_CTX_new();
	rc = ctx != NULL && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1
		? EVP_DigestVerify(ctx, (const unsigned char *) VARDATA_ANY(sig), ED25519_SIGLEN,
						   (const unsigned char *) VARDATA_ANY(msg), VARSIZE_ANY_EXHDR(msg))
		: -1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	PG_RETURN_BOOL(rc == 1);
}
