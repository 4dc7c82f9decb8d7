/*
 * vocab.c
 *		Backend-local cache of the vocabularies, and the triggers that use it.
 *
 * Every registration writes dozens of coded values (sex, country, language,
 * relationship, ...).  Checking each with a query, or with a foreign key and
 * its FOR KEY SHARE row lock, cost more than the rest of the write.  Here each
 * vocabulary is loaded once per backend into a hash table; a change to a
 * vocabulary table sends a relcache invalidation (transactional: other
 * backends see it at commit), which empties that vocabulary's cache.
 *
 * Codes are permanent: they can be deactivated (active = false) but not
 * deleted or renamed, so data recorded with a code keeps its meaning.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/acl.h"

#include "audit.h"

PG_FUNCTION_INFO_V1(refuge_code_exists);
PG_FUNCTION_INFO_V1(refuge_check_codes);
PG_FUNCTION_INFO_V1(refuge_vocab_guard);
PG_FUNCTION_INFO_V1(refuge_vocab_changed);
PG_FUNCTION_INFO_V1(refuge_caller_is_superuser);

#define VOCAB_NAME_LEN	NAMEDATALEN
#define CODE_LEN		64

/* One cached vocabulary: its table and a hash set of its codes. */
typedef struct VocabEntry
{
	char		name[VOCAB_NAME_LEN];	/* hash key: table name in schema refuge */
	Oid			relid;
	HTAB	   *codes;			/* CodeEntry; NULL until loaded */
} VocabEntry;

typedef struct CodeEntry
{
	char		code[CODE_LEN];	/* hash key */
	bool		active;
} CodeEntry;

static HTAB *vocabularies = NULL;
static MemoryContext vocab_context = NULL;
static bool invalidated_while_loading = false;

/* A relcache invalidation of a vocabulary table (or of all) drops its codes. */
static void
VocabInvalidate(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS status;
	VocabEntry *v;

	if (vocabularies == NULL)
		return;
	invalidated_while_loading = true;
	hash_seq_init(&status, vocabularies);
	while ((v = hash_seq_search(&status)) != NULL)
	{
		if ((relid == InvalidOid || v->relid == relid) && v->codes != NULL)
		{
			hash_destroy(v->codes);
			v->codes = NULL;
		}
	}
}

static void
VocabInit(void)
{
	HASHCTL		ctl;

	if (vocabularies != NULL)
		return;
	vocab_context = AllocSetContextCreate(TopMemoryContext, "refuge vocabularies", ALLOCSET_DEFAULT_SIZES);
	ctl.keysize = VOCAB_NAME_LEN;
	ctl.entrysize = sizeof(VocabEntry);
	ctl.hcxt = vocab_context;
	vocabularies = hash_create("refuge vocabularies", 64, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	CacheRegisterRelcacheCallback(VocabInvalidate, (Datum) 0);
}

/* Is name a vocabulary table of schema refuge (it has a "shipped" column)? */
static Oid
VocabRelid(const char *name)
{
	Oid			nsp = get_namespace_oid("refuge", false);
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid) || get_attnum(relid, "shipped") == InvalidAttrNumber ||
		get_attnum(relid, "code") == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("refuge: \"%s\" is not a vocabulary", name)));
	return relid;
}

/* The codes of one vocabulary, loading them on first use. */
static HTAB *
VocabCodes(const char *name)
{
	VocabEntry *v;
	bool		found;
	HASHCTL		ctl;
	StringInfoData sql;
	int			rc;
	HTAB	   *codes;

	VocabInit();
	if (strlen(name) >= VOCAB_NAME_LEN)
		ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("refuge: \"%s\" is not a vocabulary", name)));
	v = hash_search(vocabularies, name, HASH_ENTER, &found);
	if (!found)
	{
		v->codes = NULL;
		v->relid = InvalidOid;
		PG_TRY();
		{
			v->relid = VocabRelid(name);
		}
		PG_CATCH();
		{
			hash_search(vocabularies, name, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (v->codes != NULL)
		return v->codes;

retry:
	invalidated_while_loading = false;
	ctl.keysize = CODE_LEN;
	ctl.entrysize = sizeof(CodeEntry);
	ctl.hcxt = vocab_context;
	codes = hash_create("refuge vocabulary codes", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	initStringInfo(&sql);
	appendStringInfo(&sql, "select code::text, active from refuge.%s", quote_identifier(name));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "refuge: SPI_connect failed");
	rc = SPI_execute(sql.data, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "refuge: could not read vocabulary %s: %s", name, SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		char	   *code = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		Datum		active = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		CodeEntry  *c;

		if (code == NULL || strlen(code) >= CODE_LEN)
			continue;			/* longer codes cannot be looked up: none exist */
		c = hash_search(codes, code, HASH_ENTER, NULL);
		c->active = !isnull && DatumGetBool(active);
	}
	SPI_finish();
	if (invalidated_while_loading)
	{
		/* a change arrived while reading: what was read may be stale */
		hash_destroy(codes);
		goto retry;
	}
	v->codes = codes;
	return codes;
}

/* 1: active code, 0: inactive code, -1: unknown */
static int
CodeState(const char *vocab, const char *code)
{
	CodeEntry  *c;

	if (strlen(code) >= CODE_LEN)
		return -1;
	c = hash_search(VocabCodes(vocab), code, HASH_FIND, NULL);
	if (c == NULL)
		return -1;
	return c->active ? 1 : 0;
}

/*
 * refuge.code_exists(vocab text, code text, active_only boolean default true)
 */
Datum
refuge_code_exists(PG_FUNCTION_ARGS)
{
	char	   *vocab = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *code = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		active_only = PG_GETARG_BOOL(2);
	int			state = CodeState(vocab, code);

	PG_RETURN_BOOL(state == 1 || (state == 0 && !active_only));
}

static void
CheckOne(Relation rel, const char *column, const char *vocab, const char *code)
{
	if (CodeState(vocab, code) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s.%s: unknown code \"%s\"", RelationGetRelationName(rel), column, code),
				 errhint("valid codes are in refuge.%s", vocab)));
}

/*
 * BEFORE INSERT OR UPDATE trigger: arguments are pairs (column, vocabulary).
 * Text columns hold one code, text[] columns several.  Inactive codes pass
 * (existing data may use them); the API refuses them for new data.
 */
Datum
refuge_check_codes(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	HeapTuple	old = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "refuge_check_codes: must be a BEFORE ROW trigger");
	trigger = trigdata->tg_trigger;
	/*
	 * Loading a dump (row_security = off): the data was consistent when
	 * dumped, and local codes may be restored after the rows that use them.
	 */
	if (!row_security)
		return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple
							   : trigdata->tg_trigtuple);
	if (trigger->tgnargs % 2 != 0)
		elog(ERROR, "refuge_check_codes: arguments must be (column, vocabulary) pairs");
	tupdesc = RelationGetDescr(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		tuple = trigdata->tg_newtuple;
		old = trigdata->tg_trigtuple;
	}
	else
		tuple = trigdata->tg_trigtuple;

	for (int i = 0; i < trigger->tgnargs; i += 2)
	{
		const char *column = trigger->tgargs[i];
		const char *vocab = trigger->tgargs[i + 1];
		int			attnum = SPI_fnumber(tupdesc, column);
		Form_pg_attribute att;
		Datum		value;
		bool		isnull;

		if (attnum <= 0)
			elog(ERROR, "refuge_check_codes: no column \"%s\" in %s", column,
				 RelationGetRelationName(trigdata->tg_relation));
		att = TupleDescAttr(tupdesc, attnum - 1);
		value = heap_getattr(tuple, attnum, tupdesc, &isnull);
		if (isnull)
			continue;
		if (old != NULL)
		{
			bool		old_null;
			Datum		old_value = heap_getattr(old, attnum, tupdesc, &old_null);

			if (!old_null && datumIsEqual(value, old_value, att->attbyval, att->attlen))
				continue;		/* unchanged: was valid when written */
		}
		if (att->atttypid == TEXTOID)
			CheckOne(trigdata->tg_relation, column, vocab, TextDatumGetCString(value));
		else if (att->atttypid == TEXTARRAYOID)
		{
			ArrayType  *arr = DatumGetArrayTypeP(value);
			Datum	   *elems;
			bool	   *nulls;
			int			n;

			deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
			for (int j = 0; j < n; j++)
				if (!nulls[j])
					CheckOne(trigdata->tg_relation, column, vocab, TextDatumGetCString(elems[j]));
		}
		else
			elog(ERROR, "refuge_check_codes: column \"%s\" is neither text nor text[]", column);
	}
	return PointerGetDatum(tuple);
}

/*
 * BEFORE DELETE OR UPDATE on a vocabulary: codes are permanent.
 */
Datum
refuge_vocab_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	int			attnum;
	bool		isnull;
	Datum		code;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "refuge_vocab_guard: must be a row trigger");
	tupdesc = RelationGetDescr(trigdata->tg_relation);
	attnum = SPI_fnumber(tupdesc, "code");
	code = heap_getattr(trigdata->tg_trigtuple, attnum, tupdesc, &isnull);
	if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_RESTRICT_VIOLATION),
				 errmsg("refuge.%s: code \"%s\" cannot be deleted", RelationGetRelationName(trigdata->tg_relation),
						isnull ? "" : TextDatumGetCString(code)),
				 errhint("Codes are permanent so that recorded data keeps its meaning; set active = false instead.")));
	{
		bool		new_null;
		Datum		new_code = heap_getattr(trigdata->tg_newtuple, attnum, tupdesc, &new_null);

		if (new_null || isnull || !datumIsEqual(code, new_code, false, -1))
			ereport(ERROR,
					(errcode(ERRCODE_RESTRICT_VIOLATION),
					 errmsg("refuge.%s: code \"%s\" cannot be renamed", RelationGetRelationName(trigdata->tg_relation),
							isnull ? "" : TextDatumGetCString(code)),
					 errhint("Add the new code and deactivate the old one.")));
	}
	return PointerGetDatum(trigdata->tg_newtuple);
}

/*
 * AFTER INSERT OR UPDATE statement trigger on a vocabulary: tell every
 * backend (at commit; this one at once) to reload it.
 */
Datum
refuge_vocab_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "refuge_vocab_changed: not called by trigger manager");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/*
 * refuge.caller_is_superuser(): is the calling role (refuge.caller()) a
 * superuser?  A catalogue lookup in C instead of a query on pg_roles.
 */
Datum
refuge_caller_is_superuser(PG_FUNCTION_ARGS)
{
	Oid			roleid = get_role_oid(RefugeCallerName(), true);

	PG_RETURN_BOOL(OidIsValid(roleid) && superuser_arg(roleid));
}
