/*
 * audit_chain.c
 *		The links of the audit trail's hash chain (refuge.seal_audit,
 *		refuge.verify_audit).
 *
 * A link is SHA-256(previous hash || seq || the audit row's canonical form).
 * The canonical form is the row's first AUDIT_CHAIN_COLUMNS columns, each as
 * a presence byte and, when present, its length and its binary send form
 * (independent of DateStyle, TimeZone and the like; jsonb's is its
 * normalised text).  Columns added to refuge.audit_log later are not part of
 * it, so existing seals stay valid.  Done in C because verification hashes
 * every row of the trail: building the same form in SQL cost more than the
 * hash itself.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "port/pg_bswap.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(refuge_audit_digest);
PG_FUNCTION_INFO_V1(refuge_audit_link);

/* id, at, txid, actor, operation_id, table_name, row_id, action, old_data, new_data */
#define AUDIT_CHAIN_COLUMNS 10

typedef struct ChainCache
{
	Oid			rowtype;
	FmgrInfo	send[AUDIT_CHAIN_COLUMNS];
} ChainCache;

/* Send functions of the row type's columns, looked up once per query. */
static ChainCache *
GetChainCache(FunctionCallInfo fcinfo, TupleDesc tupdesc, Oid rowtype)
{
	ChainCache *cache = (ChainCache *) fcinfo->flinfo->fn_extra;

	if (cache == NULL || cache->rowtype != rowtype)
	{
		if (tupdesc->natts < AUDIT_CHAIN_COLUMNS)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("an audit row has at least %d columns, not %d", AUDIT_CHAIN_COLUMNS, tupdesc->natts)));
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ChainCache));
		for (int i = 0; i < AUDIT_CHAIN_COLUMNS; i++)
		{
			Oid			sendfn;
			bool		varlena;

			getTypeBinaryOutputInfo(TupleDescAttr(tupdesc, i)->atttypid, &sendfn, &varlena);
			fmgr_info_cxt(sendfn, &cache->send[i], fcinfo->flinfo->fn_mcxt);
		}
		cache->rowtype = rowtype;
		fcinfo->flinfo->fn_extra = cache;
	}
	return cache;
}

static void
Update(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "refuge: SHA-256 update failed");
}

/* Feed the canonical form of the audit row (argument argno) to ctx. */
static void
HashRow(FunctionCallInfo fcinfo, int argno, pg_cryptohash_ctx *ctx)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(argno);
	Oid			rowtype = HeapTupleHeaderGetTypeId(rec);
	TupleDesc	tupdesc = lookup_rowtype_tupdesc(rowtype, HeapTupleHeaderGetTypMod(rec));
	HeapTupleData tuple;
	ChainCache *cache = GetChainCache(fcinfo, tupdesc, rowtype);

	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;

	for (int i = 0; i < AUDIT_CHAIN_COLUMNS; i++)
	{
		bool		isnull;
		Datum		value = heap_getattr(&tuple, i + 1, tupdesc, &isnull);
		uint8		present = isnull ? 0 : 1;

		Update(ctx, &present, 1);
		if (!isnull)
		{
			bytea	   *bin = SendFunctionCall(&cache->send[i], value);
			uint32		len = pg_hton32((uint32) VARSIZE(bin) - VARHDRSZ);

			Update(ctx, &len, sizeof(len));
			Update(ctx, VARDATA(bin), VARSIZE(bin) - VARHDRSZ);
			pfree(bin);
		}
	}
	ReleaseTupleDesc(tupdesc);
}

static bytea *
Finish(pg_cryptohash_ctx *ctx)
{
	bytea	   *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (pg_cryptohash_final(ctx, (uint8 *) VARDATA(result), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "refuge: SHA-256 failed");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return result;
}

static pg_cryptohash_ctx *
Start(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "refuge: SHA-256 could not start");
	return ctx;
}

/* refuge.audit_digest(a refuge.audit_log) RETURNS bytea: SHA-256 of the row's canonical form */
Datum
refuge_audit_digest(PG_FUNCTION_ARGS)
{
	pg_cryptohash_ctx *ctx = Start();

	HashRow(fcinfo, 0, ctx);
	PG_RETURN_BYTEA_P(Finish(ctx));
}

/* refuge.audit_link(prev bytea, seq bigint, a refuge.audit_log) RETURNS bytea */
Datum
refuge_audit_link(PG_FUNCTION_ARGS)
{
	bytea	   *prev = PG_GETARG_BYTEA_PP(0);
	uint64		seq = pg_hton64((uint64) PG_GETARG_INT64(1));
	pg_cryptohash_ctx *ctx = Start();

	Update(ctx, VARDATA_ANY(prev), VARSIZE_ANY_EXHDR(prev));
	Update(ctx, &seq, sizeof(seq));
	HashRow(fcinfo, 2, ctx);
	PG_RETURN_BYTEA_P(Finish(ctx));
}
