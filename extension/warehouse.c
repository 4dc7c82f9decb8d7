/*
 * warehouse.c
 *		Pseudonymous keys of the data warehouse and the random key behind them.
 *
 * Warehouse facts carry no identifiers: a person, family or case appears
 * under HMAC-SHA256(warehouse key, its uuid), cut to 128 bits and shown as
 * a uuid.  The same key serves every snapshot, so analysts can follow a
 * pseudonym through time without learning who it is; without the key (kept
 * in a table no role can read) a pseudonym cannot be linked back.
 */
#include "postgres.h"

#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "port.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(refuge_pseudonym);
PG_FUNCTION_INFO_V1(refuge_random_bytes);

/* refuge.pseudonym(key bytea, id uuid) RETURNS uuid */
Datum
refuge_pseudonym(PG_FUNCTION_ARGS)
{
	bytea	   *key = PG_GETARG_BYTEA_PP(0);
	pg_uuid_t  *id = PG_GETARG_UUID_P(1);
	uint8		mac[PG_SHA256_DIGEST_LENGTH];
	pg_uuid_t  *result;
	pg_hmac_ctx *ctx;

	if (VARSIZE_ANY_EXHDR(key) < 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("key: a pseudonym key has at least 32 bytes, not %d",
						(int) VARSIZE_ANY_EXHDR(key))));
	ctx = pg_hmac_create(PG_SHA256);
	if (ctx == NULL ||
		pg_hmac_init(ctx, (uint8 *) VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)) < 0 ||
		pg_hmac_update(ctx, id->data, UUID_LEN) < 0 ||
		pg_hmac_final(ctx, mac, sizeof(mac)) < 0)
	{
		pg_hmac_free(ctx);
		elog(ERROR, "refuge_pseudonym: HMAC-SHA256 failed");
	}
	pg_hmac_free(ctx);
	result = palloc(sizeof(pg_uuid_t));
	memcpy(result->data, mac, UUID_LEN);
	PG_RETURN_UUID_P(result);
}

/* refuge.random_bytes(n integer) RETURNS bytea: from the server's strong source */
Datum
refuge_random_bytes(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	bytea	   *result;

	if (n < 1 || n > 1024)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("n: %d is not between 1 and 1024", n)));
	result = palloc(VARHDRSZ + n);
	SET_VARSIZE(result, VARHDRSZ + n);
	if (!pg_strong_random(VARDATA(result), n))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("no strong random bytes available")));
	PG_RETURN_BYTEA_P(result);
}
