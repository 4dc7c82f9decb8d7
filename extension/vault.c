/*
 * vault.c
 *		Encryption at rest of biometric source images (HQ vault):
 *		AES-256-GCM through OpenSSL.
 *
 * The key is 32 bytes read by the server from the file named by the
 * superuser-only setting refuge.vault_key_file (raw, or 64 hex digits), so
 * it never appears in SQL text, in a plan or in the log.  A sealed value is
 *
 *		"RFV1" | key id (8) | nonce (12) | tag (16) | ciphertext
 *
 * where the key id is the start of SHA-256(key): a value sealed under an
 * older key is refused by name rather than failing as "corrupt".  The caller
 * binds each value to its row with additional authenticated data (vault row,
 * individual, part), so sealed values cannot be swapped between rows.
 */
#include "postgres.h"

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "refuge.h"
#include "vault.h"

PG_FUNCTION_INFO_V1(refuge_vault_seal);
PG_FUNCTION_INFO_V1(refuge_vault_open);
PG_FUNCTION_INFO_V1(refuge_vault_key_id);
PG_FUNCTION_INFO_V1(refuge_vault_previous_key_id);

#define VAULT_MAGIC		"RFV1"
#define VAULT_HDRLEN	(4 + VAULT_IDLEN + VAULT_NONCELEN + VAULT_TAGLEN)

static char *vault_key_file = NULL;
static char *vault_previous_key_file = NULL;

void
RefugeVaultInit(void)
{
	DefineCustomStringVariable("refuge.vault_key_file",
							   "File holding the 256-bit key of the biometric image vault.",
							   "32 raw bytes or 64 hexadecimal digits; readable by the server only "
							   "(no group or other permissions).  Superuser-only.",
							   &vault_key_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("refuge.vault_previous_key_file",
							   "File holding the vault key being rotated out (refuge.rotate_vault_key).",
							   "Values sealed under it still open while it is set; refuge.rotate_vault_key "
							   "seals them again under refuge.vault_key_file.  Superuser-only.",
							   &vault_previous_key_file, "", PGC_SUSET, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
}

/* The key file's name ("" when unset). */
const char *
RefugeVaultKeyFile(void)
{
	return vault_key_file != NULL ? vault_key_file : "";
}

/* Is a vault key file named (not: is it readable)? */
bool
RefugeVaultKeyConfigured(void)
{
	return vault_key_file != NULL && vault_key_file[0] != '\0';
}

static void LoadKeyFrom(const char *setting, const char *path, uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN]);

/* Read the key and its id; the caller wipes key after use. */
void
RefugeVaultLoadKey(uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN])
{
	LoadKeyFrom("refuge.vault_key_file", vault_key_file, key, id);
}

/* The previous key, when refuge.vault_previous_key_file is set (else false). */
bool
RefugeVaultLoadPreviousKey(uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN])
{
	if (vault_previous_key_file == NULL || vault_previous_key_file[0] == '\0')
		return false;
	LoadKeyFrom("refuge.vault_previous_key_file", vault_previous_key_file, key, id);
	return true;
}

static void
LoadKeyFrom(const char *setting, const char *path, uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN])
{
	struct stat st;
	FILE	   *f;
	uint8		buf[130];
	size_t		n;
	uint8		digest[EVP_MAX_MD_SIZE];
	unsigned int dlen;

	RefugeRequirePreload("the vault");
	if (path == NULL || path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s is not set", setting),
				 errhint("A superuser names the vault key file in postgresql.conf or with ALTER SYSTEM.")));
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("%s: could not stat the key file: %m", setting),
				 errdetail_log("The file is \"%s\".", path)));
	if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s: the key file must be a regular file without group or other permissions", setting),
				 errdetail_log("The file is \"%s\".", path)));
	f = AllocateFile(path, "rb");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("%s: could not open the key file: %m", setting),
				 errdetail_log("The file is \"%s\".", path)));
	n = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == VAULT_KEYLEN)
		memcpy(key, buf, VAULT_KEYLEN);
	else if (n == 2 * VAULT_KEYLEN)
	{
		for (int i = 0; i < VAULT_KEYLEN; i++)
		{
			int			hi = RefugeHexValue(buf[2 * i]);
			int			lo = RefugeHexValue(buf[2 * i + 1]);

			if (hi < 0 || lo < 0)
				n = 0;
			key[i] = (uint8) (hi << 4 | lo);
		}
	}
	else
		n = 0;
	explicit_bzero(buf, sizeof(buf));
	if (n == 0)
	{
		explicit_bzero(key, VAULT_KEYLEN);
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("%s: the key file does not hold a 256-bit key (32 bytes or 64 hex digits)", setting),
				 errdetail_log("The file is \"%s\".", path)));
	}
	if (!EVP_Digest(key, VAULT_KEYLEN, digest, &dlen, EVP_sha256(), NULL))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("vault: SHA-256 failed")));
	memcpy(id, digest, VAULT_IDLEN);
}

/* A key id in hex (palloc'd). */
char *
RefugeVaultHexId(const uint8 *id)
{
	char	   *hex = palloc(2 * VAULT_IDLEN + 1);

	for (int i = 0; i < VAULT_IDLEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	return hex;
}

/*
 * Nothing new is sealed or wrapped under a key a rotation retired
 * (refuge.vault_key_retired): a session that still reads the old key file
 * must reconnect, or its values would be left under a key about to be
 * destroyed.
 */
void
RefugeVaultCheckNotRetired(const uint8 id[VAULT_IDLEN])
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	bool		retired;
	char	   *hex;

	if (!OidIsValid(RefugeRelid("vault_key_retired")))
		return;
	hex = RefugeVaultHexId(id);
	args[0] = CStringGetTextDatum(hex);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "vault: SPI_connect failed");
	if (SPI_execute_with_args("select 1 from refuge.vault_key_retired where key_id operator(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "vault: could not read the retired keys");
	retired = SPI_processed > 0;
	SPI_finish();
	if (retired)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the vault key %s was retired by a key rotation: nothing new is sealed under it", hex),
				 errhint("Reconnect: the session must read the new refuge.vault_key_file.")));
}

static void
CryptoError(EVP_CIPHER_CTX *ctx, const char *what)
{
	EVP_CIPHER_CTX_free(ctx);
	ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("vault: %s failed", what)));
}

/*
 * AES-256-GCM under key, aad bound in: out = nonce (12) | tag (16) |
 * ciphertext (plen bytes), a random 96-bit nonce per value (collision odds
 * stay negligible far beyond any vault's size).  The vault and the
 * per-person keys (person_key.c) both seal this way.
 */
void
RefugeGcmSeal(const uint8 *key, const uint8 *aad, int aadlen, const uint8 *plain, int plen, uint8 *out)
{
	EVP_CIPHER_CTX *ctx;
	uint8	   *nonce = out;
	uint8	   *tag = out + VAULT_NONCELEN;
	uint8	   *ct = tag + VAULT_TAGLEN;
	int			len = 0;

	if (RAND_bytes(nonce, VAULT_NONCELEN) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("vault: no random nonce available")));
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		CryptoError(ctx, "cipher context");
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCELEN, NULL) != 1 ||
		EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1 ||
		EVP_EncryptUpdate(ctx, NULL, &len, aad, aadlen) != 1 ||
		(plen > 0 && EVP_EncryptUpdate(ctx, ct, &len, plain, plen) != 1) ||
		EVP_EncryptFinal_ex(ctx, ct + (plen > 0 ? len : 0), &len) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, VAULT_TAGLEN, tag) != 1)
		CryptoError(ctx, "encryption");
	EVP_CIPHER_CTX_free(ctx);
}

/* The inverse of RefugeGcmSeal: false when the value fails authentication. */
bool
RefugeGcmOpen(const uint8 *key, const uint8 *aad, int aadlen, const uint8 *in, int inlen, uint8 *plain)
{
	EVP_CIPHER_CTX *ctx;
	uint8		tag[VAULT_TAGLEN];
	int			clen = inlen - VAULT_NONCELEN - VAULT_TAGLEN;
	int			len = 0;
	bool		ok;

	if (clen < 0)
		return false;
	memcpy(tag, in + VAULT_NONCELEN, VAULT_TAGLEN);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		CryptoError(ctx, "cipher context");
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, VAULT_NONCELEN, NULL) != 1 ||
		EVP_DecryptInit_ex(ctx, NULL, NULL, key, in) != 1 ||
		EVP_DecryptUpdate(ctx, NULL, &len, aad, aadlen) != 1 ||
		(clen > 0 && EVP_DecryptUpdate(ctx, plain, &len, in + VAULT_NONCELEN + VAULT_TAGLEN, clen) != 1) ||
		EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, VAULT_TAGLEN, tag) != 1)
		CryptoError(ctx, "decryption");
	ok = EVP_DecryptFinal_ex(ctx, plain + (clen > 0 ? len : 0), &len) == 1;
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* refuge.vault_seal(plain bytea, aad text) returns bytea */
Datum
refuge_vault_seal(PG_FUNCTION_ARGS)
{
	bytea	   *plain = PG_GETARG_BYTEA_PP(0);
	text	   *aad = PG_GETARG_TEXT_PP(1);
	int			plen = VARSIZE_ANY_EXHDR(plain);
	uint8		key[VAULT_KEYLEN];
	uint8		id[VAULT_IDLEN];
	bytea	   *out = palloc(VARHDRSZ + VAULT_HDRLEN + plen);
	uint8	   *p = (uint8 *) VARDATA(out);

	RefugeVaultLoadKey(key, id);
	PG_TRY();
	{
		RefugeVaultCheckNotRetired(id);
		memcpy(p, VAULT_MAGIC, 4);
		memcpy(p + 4, id, VAULT_IDLEN);
		RefugeGcmSeal(key, (uint8 *) VARDATA_ANY(aad), VARSIZE_ANY_EXHDR(aad),
					  (uint8 *) VARDATA_ANY(plain), plen, p + 4 + VAULT_IDLEN);
	}
	PG_FINALLY();
	{
		explicit_bzero(key, VAULT_KEYLEN);
	}
	PG_END_TRY();
	SET_VARSIZE(out, VARHDRSZ + VAULT_HDRLEN + plen);
	PG_RETURN_BYTEA_P(out);
}

/* refuge.vault_open(sealed bytea, aad text) returns bytea */
Datum
refuge_vault_open(PG_FUNCTION_ARGS)
{
	bytea	   *sealed = PG_GETARG_BYTEA_PP(0);
	text	   *aad = PG_GETARG_TEXT_PP(1);
	int			slen = VARSIZE_ANY_EXHDR(sealed);
	const uint8 *p = (const uint8 *) VARDATA_ANY(sealed);
	uint8		key[VAULT_KEYLEN];
	uint8		id[VAULT_IDLEN];
	bytea	   *out;
	int			clen;
	bool		ok;

	if (slen < VAULT_HDRLEN || memcmp(p, VAULT_MAGIC, 4) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed: not a vault value (%d bytes, bad header)", slen)));
	RefugeVaultLoadKey(key, id);
	if (memcmp(p + 4, id, VAULT_IDLEN) != 0)
	{
		uint8		prev_id[VAULT_IDLEN];
		char	   *current = RefugeVaultHexId(id);

		/* sealed under the key being rotated out? */
		explicit_bzero(key, VAULT_KEYLEN);
		if (!RefugeVaultLoadPreviousKey(key, prev_id) || memcmp(p + 4, prev_id, VAULT_IDLEN) != 0)
		{
			explicit_bzero(key, VAULT_KEYLEN);
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("sealed: value was sealed under key %s, not the configured key %s",
							RefugeVaultHexId(p + 4), current),
					 errhint("While a key is rotated out, name it in refuge.vault_previous_key_file.")));
		}
	}
	clen = slen - VAULT_HDRLEN;
	out = palloc(VARHDRSZ + Max(clen, 1));
	PG_TRY();
	{
		ok = RefugeGcmOpen(key, (uint8 *) VARDATA_ANY(aad), VARSIZE_ANY_EXHDR(aad),
						   p + 4 + VAULT_IDLEN, slen - 4 - VAULT_IDLEN, (uint8 *) VARDATA(out));
	}
	PG_FINALLY();
	{
		explicit_bzero(key, VAULT_KEYLEN);
	}
	PG_END_TRY();
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("sealed: authentication failed (value altered, or bound to another row)")));
	SET_VARSIZE(out, VARHDRSZ + clen);
	PG_RETURN_BYTEA_P(out);
}

/* refuge.vault_key_id(): hex id of the configured key (not the key). */
Datum
refuge_vault_key_id(PG_FUNCTION_ARGS)
{
	uint8		key[VAULT_KEYLEN];
	uint8		id[VAULT_IDLEN];

	RefugeVaultLoadKey(key, id);
	explicit_bzero(key, VAULT_KEYLEN);
	PG_RETURN_TEXT_P(cstring_to_text(RefugeVaultHexId(id)));
}

/* refuge.vault_previous_key_id(): hex id of the key being rotated out, or null. */
Datum
refuge_vault_previous_key_id(PG_FUNCTION_ARGS)
{
	uint8		key[VAULT_KEYLEN];
	uint8		id[VAULT_IDLEN];

	if (!RefugeVaultLoadPreviousKey(key, id))
		PG_RETURN_NULL();
	explicit_bzero(key, VAULT_KEYLEN);
	PG_RETURN_TEXT_P(cstring_to_text(RefugeVaultHexId(id)));
}
