/*
 * person_key.c
 *		A key per person: the personal values of the audit trail sealed under
 *		a key of their own, so that erasing a person destroys one key and,
 *		with it, every value of theirs the trail ever recorded, while the
 *		hash chain (over what is stored) still verifies.
 *
 * Envelope encryption: a person's key is 32 random bytes kept in
 * refuge.person_key wrapped with AES-256-GCM under the vault key
 * (refuge.vault_key_file, extension/vault.c), the person's id bound in.
 * Keys are node-local: each node wraps its own keys for the audit rows it
 * writes; an erasure arriving through replication destroys the local key
 * too (refuge.erasure).  Unwrapped keys live in this backend for one
 * transaction and are wiped at its end; they never pass through SQL text,
 * plans or logs.
 *
 * A sealed audit value is "rfp1:" and the base64 of nonce (12) | tag (16) |
 * ciphertext, the person and the table bound in as additional data.
 */
#include "postgres.h"

#include <openssl/rand.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/base64.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/uuid.h"

#include "access_log.h"
#include "person_key.h"
#include "refuge.h"
#include "vault.h"

PG_FUNCTION_INFO_V1(refuge_audit_unseal);
PG_FUNCTION_INFO_V1(refuge_destroy_person_key);
PG_FUNCTION_INFO_V1(refuge_rewrap_person_keys);

#define PK_NONCELEN		VAULT_NONCELEN
#define PK_TAGLEN		VAULT_TAGLEN
#define PK_WRAPMAGIC	"RFK1"
#define PK_WRAPLEN		(4 + PK_NONCELEN + PK_TAGLEN + VAULT_KEYLEN)
#define PK_SEALPREFIX	"rfp1:"

typedef struct PersonKey
{
	pg_uuid_t	subject;		/* hash key */
	bool		erased;			/* destroyed: nothing can be sealed or opened */
	SubTransactionId subxid;	/* created or destroyed in this subtransaction */
	uint8		key[VAULT_KEYLEN];
} PersonKey;

static HTAB *cache = NULL;
static bool callbacks_registered = false;

/* the vault key, read once per transaction (the file is read again in the next) */
static bool master_loaded = false;
static uint8 master_key[VAULT_KEYLEN];
static uint8 master_key_id[VAULT_IDLEN];

static void
MasterKey(uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN])
{
	if (!master_loaded)
	{
		RefugeVaultLoadKey(master_key, master_key_id);
		master_loaded = true;
	}
	memcpy(key, master_key, VAULT_KEYLEN);
	memcpy(id, master_key_id, VAULT_IDLEN);
}

static void
WipeCache(void)
{
	HASH_SEQ_STATUS seq;
	PersonKey  *k;

	if (master_loaded)
	{
		explicit_bzero(master_key, VAULT_KEYLEN);
		master_loaded = false;
	}
	if (cache == NULL)
		return;
	hash_seq_init(&seq, cache);
	while ((k = hash_seq_search(&seq)) != NULL)
		explicit_bzero(k->key, VAULT_KEYLEN);
	hash_destroy(cache);
	cache = NULL;
}

static void
PersonKeyXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		WipeCache();
}

/* A key created or destroyed in a rolled-back subtransaction is read again. */
static void
PersonKeySubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	HASH_SEQ_STATUS seq;
	PersonKey  *k;

	if (event != SUBXACT_EVENT_ABORT_SUB || cache == NULL)
		return;
	hash_seq_init(&seq, cache);
	while ((k = hash_seq_search(&seq)) != NULL)
		if (k->subxid != InvalidSubTransactionId && k->subxid >= mySubid)
		{
			explicit_bzero(k->key, VAULT_KEYLEN);
			hash_search(cache, &k->subject, HASH_REMOVE, NULL);
		}
}

static HTAB *
Cache(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(PersonKeyXactCallback, NULL);
		RegisterSubXactCallback(PersonKeySubXactCallback, NULL);
		callbacks_registered = true;
	}
	if (cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(pg_uuid_t);
		ctl.entrysize = sizeof(PersonKey);
		ctl.hcxt = TopMemoryContext;
		cache = hash_create("refuge person keys", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return cache;
}

/* refuge.person_key, or InvalidOid before ALTER EXTENSION refuge UPDATE */
static Oid
PersonKeyRelid(void)
{
	return RefugeRelid("person_key");
}

bool
PersonKeysActive(void)
{
	return RefugeVaultKeyConfigured() && !creating_extension && OidIsValid(PersonKeyRelid());
}

/*
 * Run SPI as the owner of refuge.person_key, whoever the caller is (the
 * audit trigger runs as the role that wrote the row; the table has no
 * policies and no grants).  As PostgreSQL's RI checks do.
 */
typedef struct OwnerContext
{
	Oid			save_userid;
	int			save_sec;
	int			save_nestlevel;
} OwnerContext;

static void
BecomeOwner(OwnerContext *oc, Oid relid)
{
	HeapTuple	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);
	GetUserIdAndSecContext(&oc->save_userid, &oc->save_sec);
	SetUserIdAndSecContext(owner, oc->save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	/* the caller's search_path must not choose the operators the owner runs */
	oc->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "person key: SPI_connect failed");
}

static void
ResumeCaller(OwnerContext *oc)
{
	SPI_finish();
	AtEOXact_GUC(true, oc->save_nestlevel);
	SetUserIdAndSecContext(oc->save_userid, oc->save_sec);
}

static void
WrapAad(char *buf, size_t size, const pg_uuid_t *subject)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(subject)));

	snprintf(buf, size, "refuge person key|%s", s);
	pfree(s);
}

/*
 * The person's key: from this transaction's cache, refuge.person_key, or
 * (create) a new one.  NULL when there is none and none may be made.
 * locked: read the row FOR SHARE, past the cache (opening a value must not
 * outlive an erasure committed since the reader's snapshot).  quiet: a key
 * that does not unwrap under the configured vault key gives NULL, not an
 * error (a logging worker must log the read whatever the key).
 */
static PersonKey *
GetPersonKey(const pg_uuid_t *subject, bool create, bool locked, bool quiet)
{
	static SPIPlanPtr select_plan = NULL;
	static SPIPlanPtr locked_plan = NULL;
	static SPIPlanPtr insert_plan = NULL;
	SPIPlanPtr	plan;
	HTAB	   *h = Cache();
	PersonKey  *k;
	bool		found;
	Oid			relid = PersonKeyRelid();
	OwnerContext oc;
	Datum		arg[3];
	Oid			types[3] = {UUIDOID, TEXTOID, BYTEAOID};
	char		aad[80];
	uint8		master[VAULT_KEYLEN];
	uint8		master_id[VAULT_IDLEN];
	bool		have_row = false;
	bool		row_erased = false;
	bytea	   *wrapped = NULL;
	char	   *key_id = NULL;
	bool		made = false;
	MemoryContext caller_cxt = CurrentMemoryContext;

	k = hash_search(h, subject, HASH_FIND, NULL);
	if (k != NULL && (!locked || k->erased))
		return k;
	if (!OidIsValid(relid))
		return NULL;

	BecomeOwner(&oc, relid);
	if (select_plan == NULL)
	{
		select_plan = SPI_prepare("select wrapped, key_id from refuge.person_key "
								  "where individual_id operator(pg_catalog.=) $1", 1, types);
		if (select_plan == NULL)
			elog(ERROR, "person key: SPI_prepare failed");
		SPI_keepplan(select_plan);
		locked_plan = SPI_prepare("select wrapped, key_id from refuge.person_key "
								  "where individual_id operator(pg_catalog.=) $1 for share", 1, types);
		if (locked_plan == NULL)
			elog(ERROR, "person key: SPI_prepare failed");
		SPI_keepplan(locked_plan);
	}
	plan = locked ? locked_plan : select_plan;
	arg[0] = UUIDPGetDatum(subject);
	for (int attempt = 0; attempt < 2 && !have_row; attempt++)
	{
		if (SPI_execute_plan(plan, arg, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "person key: lookup failed");
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum		w = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			have_row = true;
			row_erased = isnull;
			if (!isnull)
			{
				/* copies that outlive SPI_finish */
				MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);

				wrapped = DatumGetByteaPCopy(w);
				key_id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
				MemoryContextSwitchTo(spi_cxt);
			}
			break;
		}
		/* a logging worker never makes one: it would wait on its reader's uncommitted key */
		if (!create || attempt > 0 || RefugeWorkerActor != NULL)
			break;

		/* a new person: 32 random bytes, wrapped under the vault key */
		{
			uint8		fresh[VAULT_KEYLEN];
			bytea	   *w = palloc(VARHDRSZ + PK_WRAPLEN);

			if (RAND_bytes(fresh, VAULT_KEYLEN) != 1)
				ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("person key: no random key available")));
			MasterKey(master, master_id);
			RefugeVaultCheckNotRetired(master_id);
			WrapAad(aad, sizeof(aad), subject);
			memcpy(VARDATA(w), PK_WRAPMAGIC, 4);
			RefugeGcmSeal(master, (const uint8 *) aad, strlen(aad), fresh, VAULT_KEYLEN, (uint8 *) VARDATA(w) + 4);
			explicit_bzero(master, VAULT_KEYLEN);
			explicit_bzero(fresh, VAULT_KEYLEN);
			SET_VARSIZE(w, VARHDRSZ + PK_WRAPLEN);
			if (insert_plan == NULL)
			{
				insert_plan = SPI_prepare("insert into refuge.person_key (individual_id, key_id, wrapped) "
										  "values ($1, $2, $3) on conflict (individual_id) do nothing",
										  3, types);
				if (insert_plan == NULL)
					elog(ERROR, "person key: SPI_prepare failed");
				SPI_keepplan(insert_plan);
			}
			arg[1] = CStringGetTextDatum(RefugeVaultHexId(master_id));
			arg[2] = PointerGetDatum(w);
			if (SPI_execute_plan(insert_plan, arg, NULL, false, 0) != SPI_OK_INSERT)
				elog(ERROR, "person key: could not store a key");
			made = true;
			/* read it back: the row is ours, or a concurrent writer's */
		}
	}
	ResumeCaller(&oc);
	if (!have_row)
		return NULL;

	k = hash_search(h, subject, HASH_ENTER, &found);
	k->erased = row_erased;
	k->subxid = made ? GetCurrentSubTransactionId() : InvalidSubTransactionId;
	memset(k->key, 0, VAULT_KEYLEN);
	if (!row_erased)
	{
		bool		wrap_id_ok;

		MasterKey(master, master_id);
		wrap_id_ok = key_id != NULL && strcmp(key_id, RefugeVaultHexId(master_id)) == 0;
		if (!wrap_id_ok && key_id != NULL)
		{
			/* wrapped under the key being rotated out (refuge.rotate_vault_key) */
			uint8		prev_id[VAULT_IDLEN];

			explicit_bzero(master, VAULT_KEYLEN);
			if (RefugeVaultLoadPreviousKey(master, prev_id) && strcmp(key_id, RefugeVaultHexId(prev_id)) == 0)
				wrap_id_ok = true;
			else
				MasterKey(master, master_id);
		}
		WrapAad(aad, sizeof(aad), subject);
		if (!wrap_id_ok || VARSIZE_ANY_EXHDR(wrapped) != PK_WRAPLEN ||
			memcmp(VARDATA_ANY(wrapped), PK_WRAPMAGIC, 4) != 0 ||
			!RefugeGcmOpen(master, (const uint8 *) aad, strlen(aad), (uint8 *) VARDATA_ANY(wrapped) + 4, PK_WRAPLEN - 4, k->key))
		{
			explicit_bzero(master, VAULT_KEYLEN);
			explicit_bzero(k->key, VAULT_KEYLEN);
			hash_search(h, subject, HASH_REMOVE, NULL);
			if (quiet)
				return NULL;
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("person key: the key of a person cannot be unwrapped with the configured vault key"),
					 errdetail("It was wrapped under vault key %s; the server holds %s.",
							   key_id ? key_id : "(none)", RefugeVaultHexId(master_id)),
					 errhint("While a key is rotated out, name it in refuge.vault_previous_key_file.")));
		}
		explicit_bzero(master, VAULT_KEYLEN);
	}
	return k;
}

static char *
SealAad(const pg_uuid_t *subject, const char *table_name)
{
	char	   *s = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(subject)));

	return psprintf("refuge audit|%s|%s", s, table_name);
}

char *
PersonKeySeal(const pg_uuid_t *subject, const char *table_name, const char *plain, int len, PersonSealResult *result)
{
	PersonKey  *k = GetPersonKey(subject, true, false, RefugeWorkerActor != NULL);
	char	   *aad;
	int			rawlen = PK_NONCELEN + PK_TAGLEN + len;
	uint8	   *raw;
	char	   *out;
	int			n;
	int			prefix = strlen(PK_SEALPREFIX);

	if (k == NULL && RefugeWorkerActor != NULL)
	{
		*result = PERSON_WITHHELD;
		return NULL;
	}
	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("person key: no key could be made for a person")));
	if (k->erased)
	{
		*result = PERSON_ERASED;
		return NULL;
	}
	*result = PERSON_SEALED;
	aad = SealAad(subject, table_name);
	raw = palloc(rawlen);
	RefugeGcmSeal(k->key, (const uint8 *) aad, strlen(aad), (const uint8 *) plain, len, raw);
	out = palloc(prefix + pg_b64_enc_len(rawlen) + 1);
	memcpy(out, PK_SEALPREFIX, prefix);
	n = pg_b64_encode((const char *) raw, rawlen, out + prefix, pg_b64_enc_len(rawlen));
	if (n < 0)
		elog(ERROR, "person key: base64 encoding failed");
	out[prefix + n] = '\0';
	pfree(raw);
	pfree(aad);
	return out;
}

/*
 * refuge.audit_unseal(audit_id bigint, side text) RETURNS jsonb: the sealed
 * personal values of one side ('old' or 'new') of an audit row, or NULL when
 * it has none, the caller cannot see the row (it is read under the caller's
 * row-level security, so only rows the caller may read open), or the
 * person's key was destroyed.
 */
Datum
refuge_audit_unseal(PG_FUNCTION_ARGS)
{
	int64		audit_id = PG_GETARG_INT64(0);
	char	   *side = text_to_cstring(PG_GETARG_TEXT_PP(1));
	static SPIPlanPtr plan = NULL;
	Oid			types[2] = {INT8OID, BOOLOID};
	Datum		args[2];
	int			nestlevel;
	char	   *sealed = NULL;
	char	   *subject_text = NULL;
	char	   *table_name = NULL;
	pg_uuid_t  *subject;
	int			prefix = strlen(PK_SEALPREFIX);
	int			slen;
	uint8	   *raw;
	int			rawlen;
	char	   *plain;
	PersonKey  *k;
	char	   *aad;
	MemoryContext caller_cxt = CurrentMemoryContext;

	if (strcmp(side, "old") != 0 && strcmp(side, "new") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("side: expected old or new")));
	/* the row as the caller sees it, with operators the caller cannot replace */
	nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "audit_unseal: SPI_connect failed");
	if (plan == NULL)
	{
		plan = SPI_prepare("select a.table_name, d operator(pg_catalog.->>) '$sealed', d operator(pg_catalog.->>) '$subject' "
						   "from refuge.audit_log a, "
						   "lateral (select case when $2 then a.old_data else a.new_data end) x(d) "
						   "where a.id operator(pg_catalog.=) $1", 2, types);
		if (plan == NULL)
			elog(ERROR, "audit_unseal: SPI_prepare failed");
		SPI_keepplan(plan);
	}
	args[0] = Int64GetDatum(audit_id);
	args[1] = BoolGetDatum(strcmp(side, "old") == 0);
	if (SPI_execute_plan(plan, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "audit_unseal: could not read the audit row");
	if (SPI_processed == 1)
	{
		MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);

		table_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		sealed = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		subject_text = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
		MemoryContextSwitchTo(spi_cxt);
	}
	SPI_finish();
	AtEOXact_GUC(true, nestlevel);
	if (sealed == NULL || subject_text == NULL || table_name == NULL)
		PG_RETURN_NULL();

	slen = strlen(sealed);
	if (slen <= prefix || memcmp(sealed, PK_SEALPREFIX, prefix) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit row %lld: not a sealed audit value", (long long) audit_id)));
	subject = DatumGetUUIDP(DirectFunctionCall1(uuid_in, CStringGetDatum(subject_text)));
	raw = palloc(pg_b64_dec_len(slen - prefix) + 1);
	rawlen = pg_b64_decode(sealed + prefix, slen - prefix, (char *) raw, pg_b64_dec_len(slen - prefix));
	if (rawlen < PK_NONCELEN + PK_TAGLEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit row %lld: not a sealed audit value", (long long) audit_id)));
	k = GetPersonKey(subject, false, true, false);
	if (k == NULL || k->erased)
		PG_RETURN_NULL();
	aad = SealAad(subject, table_name);
	plain = palloc(rawlen - PK_NONCELEN - PK_TAGLEN + 1);
	if (!RefugeGcmOpen(k->key, (const uint8 *) aad, strlen(aad), raw, rawlen, (uint8 *) plain))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("audit row %lld: its sealed values fail authentication", (long long) audit_id)));
	plain[rawlen - PK_NONCELEN - PK_TAGLEN] = '\0';
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(plain)));
}

/*
 * refuge.destroy_person_key(individual_id uuid) RETURNS boolean: forget the
 * person's key for good (a row without a key stays, so that no new key is
 * ever made for them).  True when a key was destroyed.
 */
Datum
refuge_destroy_person_key(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *subject = PG_GETARG_UUID_P(0);
	static SPIPlanPtr plan = NULL;
	Oid			relid = PersonKeyRelid();
	OwnerContext oc;
	Datum		arg[1];
	Oid			types[1] = {UUIDOID};
	PersonKey  *k;
	bool		found;
	bool		destroyed;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refuge.person_key does not exist"),
				 errhint("Run ALTER EXTENSION refuge UPDATE.")));
	BecomeOwner(&oc, relid);
	if (plan == NULL)
	{
		plan = SPI_prepare("with old as (select wrapped is not null as had from refuge.person_key where individual_id operator(pg_catalog.=) $1), "
						   "upd as (insert into refuge.person_key (individual_id, key_id, wrapped, erased_at) "
						   "        values ($1, null, null, pg_catalog.now()) on conflict (individual_id) do update "
						   "        set key_id = null, wrapped = null, erased_at = coalesce(refuge.person_key.erased_at, pg_catalog.now())) "
						   "select coalesce((select had from old), false)", 1, types);
		if (plan == NULL)
			elog(ERROR, "person key: SPI_prepare failed");
		SPI_keepplan(plan);
	}
	arg[0] = UUIDPGetDatum(subject);
	if (SPI_execute_plan(plan, arg, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "person key: could not destroy a key");
	{
		bool		isnull;

		destroyed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	ResumeCaller(&oc);
	k = hash_search(Cache(), subject, HASH_ENTER, &found);
	explicit_bzero(k->key, VAULT_KEYLEN);
	k->erased = true;
	k->subxid = GetCurrentSubTransactionId();
	PG_RETURN_BOOL(destroyed);
}

/*
 * refuge.rewrap_person_keys(max_keys integer) RETURNS bigint: wrap again,
 * under the configured vault key, up to max_keys person keys wrapped under
 * the previous one (refuge.vault_previous_key_file).  Returns how many.
 * The keys themselves do not change: nothing sealed under them moves.
 */
Datum
refuge_rewrap_person_keys(PG_FUNCTION_ARGS)
{
	int32		max_keys = PG_GETARG_INT32(0);
	Oid			relid = PersonKeyRelid();
	OwnerContext oc;
	uint8		cur[VAULT_KEYLEN];
	uint8		cur_id[VAULT_IDLEN];
	uint8		prev[VAULT_KEYLEN];
	uint8		prev_id[VAULT_IDLEN];
	uint8		dek[VAULT_KEYLEN];
	char	   *prev_hex;
	char	   *cur_hex;
	Datum		args[3];
	Oid			types[3] = {TEXTOID, INT4OID, BYTEAOID};
	int64		done = 0;
	uint64		n;
	SPITupleTable *rows;

	if (max_keys < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_keys: must be at least 1")));
	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refuge.person_key does not exist"),
				 errhint("Run ALTER EXTENSION refuge UPDATE.")));
	RefugeVaultLoadKey(cur, cur_id);
	if (!RefugeVaultLoadPreviousKey(prev, prev_id))
	{
		explicit_bzero(cur, VAULT_KEYLEN);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refuge.vault_previous_key_file is not set"),
				 errhint("Name the key being rotated out there, and the new one in refuge.vault_key_file.")));
	}
	prev_hex = RefugeVaultHexId(prev_id);
	cur_hex = RefugeVaultHexId(cur_id);
	BecomeOwner(&oc, relid);
	args[0] = CStringGetTextDatum(prev_hex);
	args[1] = Int32GetDatum(max_keys);
	if (SPI_execute_with_args("select individual_id, wrapped from refuge.person_key "
							  "where key_id operator(pg_catalog.=) $1 and wrapped is not null "
							  "limit $2 for update", 2, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "person key: could not read the keys to rewrap");
	rows = SPI_tuptable;
	n = SPI_processed;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		pg_uuid_t  *subject = DatumGetUUIDP(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		bytea	   *wrapped = DatumGetByteaPP(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		bytea	   *w = palloc(VARHDRSZ + PK_WRAPLEN);
		char		aad[80];
		Datum		uargs[3];
		Oid			utypes[3] = {UUIDOID, TEXTOID, BYTEAOID};

		CHECK_FOR_INTERRUPTS();
		WrapAad(aad, sizeof(aad), subject);
		if (VARSIZE_ANY_EXHDR(wrapped) != PK_WRAPLEN || memcmp(VARDATA_ANY(wrapped), PK_WRAPMAGIC, 4) != 0 ||
			!RefugeGcmOpen(prev, (const uint8 *) aad, strlen(aad), (uint8 *) VARDATA_ANY(wrapped) + 4, PK_WRAPLEN - 4, dek))
		{
			explicit_bzero(cur, VAULT_KEYLEN);
			explicit_bzero(prev, VAULT_KEYLEN);
			explicit_bzero(dek, VAULT_KEYLEN);
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("person key: a key wrapped under %s does not unwrap with refuge.vault_previous_key_file", prev_hex)));
		}
		memcpy(VARDATA(w), PK_WRAPMAGIC, 4);
		RefugeGcmSeal(cur, (const uint8 *) aad, strlen(aad), dek, VAULT_KEYLEN, (uint8 *) VARDATA(w) + 4);
		explicit_bzero(dek, VAULT_KEYLEN);
		SET_VARSIZE(w, VARHDRSZ + PK_WRAPLEN);
		uargs[0] = UUIDPGetDatum(subject);
		uargs[1] = CStringGetTextDatum(cur_hex);
		uargs[2] = PointerGetDatum(w);
		if (SPI_execute_with_args("update refuge.person_key set key_id = $2, wrapped = $3 "
								  "where individual_id operator(pg_catalog.=) $1", 3, utypes, uargs, NULL, false, 0)
			!= SPI_OK_UPDATE)
			elog(ERROR, "person key: could not store a rewrapped key");
		done++;
	}
	ResumeCaller(&oc);
	explicit_bzero(cur, VAULT_KEYLEN);
	explicit_bzero(prev, VAULT_KEYLEN);
	/* the cache holds unwrapped keys only: nothing in it changes */
	PG_RETURN_INT64(done);
}
