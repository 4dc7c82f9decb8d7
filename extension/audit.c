/*
 * audit.c
 *		Row stamping and the audit trail, as C triggers.
 *
 * refuge_stamp_row sets created_at/created_by (inserts) and
 * updated_at/updated_by (every write) from the calling role.
 * refuge_audit_row records every insert, update and delete in
 * refuge.audit_log: who, when, which row, and the values (changed columns
 * only for updates).
 *
 * Rows loaded with row_security = off (pg_restore, or a superuser's COPY)
 * keep the stamps they carry and are recorded per statement, not per row,
 * in refuge.audit_bulk_load (who, when, which table, how many rows and the
 * SHA-256 of their values): a restore brings its own audit trail, and
 * writing per-row audit rows during it would collide with the restored
 * ones.  Updates and deletes are audited row by row whatever the settings.
 * The triggers are ENABLE ALWAYS, so session_replication_role does not
 * silence them either.  In a logical replication worker (a field site's
 * rows arriving at HQ, or HQ's at a field) rows keep the stamps they carry,
 * and audit rows are written as each row is applied: apply fires no
 * statement triggers.
 *
 * They are in C because they run for every row the API writes; the PL/pgSQL
 * versions cost ~90 us a row, mostly in per-row SPI and to_jsonb (which asks
 * PostGIS for a CRS per geometry).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "replication/logicalworker.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"
#include "utils/numeric.h"
#include "utils/uuid.h"

#include "common/cryptohash.h"
#include "common/sha2.h"

#include "access_log.h"
#include "audit.h"
#include "person_key.h"
#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_stamp_row);
PG_FUNCTION_INFO_V1(refuge_audit_row);
PG_FUNCTION_INFO_V1(refuge_audit_flush);

static const char *const audit_skip[] = {"created_at", "created_by", "updated_at", "updated_by"};


/*
 * The role on whose behalf the statement runs: the role chosen with SET ROLE
 * (also inside SECURITY DEFINER functions), else the login role.  Same rule
 * as refuge.caller().
 */
char *
RefugeCallerName(void)
{
	const char *role;

	/* a logging worker writes on behalf of the reader who started it */
	if (RefugeWorkerActor != NULL)
		return pstrdup(RefugeWorkerActor);
	role = GetConfigOption("role", false, false);

	if (role != NULL && strcmp(role, "none") != 0)
		return pstrdup(role);
	return GetUserNameFromId(GetSessionUserId(), false);
}

/*
 * A bulk load: an insert with row_security = off, as pg_dump's and
 * pg_restore's scripts run.  Only superusers and BYPASSRLS roles can write
 * refuge's tables that way.  Loads are recorded, never silent.
 */
static bool
BulkLoading(TriggerData *trigdata)
{
	return !row_security && TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
}

static void
CheckTriggerCall(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: not called by trigger manager", name)));
	if (!TRIGGER_FIRED_FOR_ROW(((TriggerData *) fcinfo->context)->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s: must be fired for each row", name)));
}

/*
 * BEFORE INSERT OR UPDATE: who and when, whatever the statement said.
 */
static bool
NodeLocalColumn(const char *name)
{
	return strcmp(name, "seq") == 0 || strcmp(name, "sync_operation") == 0 ||
		strcmp(name, "sync_shared") == 0 || strcmp(name, "sync_owner") == 0 ||
		strcmp(name, "updated_at") == 0 || strcmp(name, "updated_by") == 0;
}

/* Does an update change only the columns each node keeps for itself? */
static bool
OnlyNodeLocalChange(TriggerData *trigdata)
{
	TupleDesc	tupdesc = RelationGetDescr(trigdata->tg_relation);

	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		bool		old_null;
		bool		new_null;
		Datum		old_value;
		Datum		new_value;

		if (att->attisdropped || NodeLocalColumn(NameStr(att->attname)))
			continue;
		old_value = heap_getattr(trigdata->tg_trigtuple, i + 1, tupdesc, &old_null);
		new_value = heap_getattr(trigdata->tg_newtuple, i + 1, tupdesc, &new_null);
		if (old_null != new_null)
			return false;
		if (!old_null && !datumIsEqual(old_value, new_value, att->attbyval, att->attlen))
			return false;
	}
	return true;
}

Datum
refuge_stamp_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			cols[4];
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int			n = 0;
	Datum		now;
	Datum		who;
	bool		inserting;

	CheckTriggerCall(fcinfo, "refuge_stamp_row");
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		elog(ERROR, "refuge_stamp_row: must be fired before the write");

	inserting = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event);
	tuple = inserting ? trigdata->tg_trigtuple : trigdata->tg_newtuple;
	/* a restored or replicated row keeps its stamps, and so does a row an update script fills in */
	if (BulkLoading(trigdata) || IsLogicalWorker() || creating_extension)
		return PointerGetDatum(tuple);
	/* re-routing or re-sequencing a row (what each node keeps for itself) is no edit */
	if (!inserting && OnlyNodeLocalChange(trigdata))
		return PointerGetDatum(tuple);

	tupdesc = RelationGetDescr(trigdata->tg_relation);
	now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	who = DirectFunctionCall1(namein, CStringGetDatum(RefugeCallerName()));

	for (int i = 0; i < 4; i++)
	{
		int			attnum = SPI_fnumber(tupdesc, audit_skip[i]);
		bool		isnull;

		if (attnum <= 0)
			continue;
		cols[n] = attnum;
		if (i < 2 && !inserting)
		{
			/* created_* never change after the insert */
			values[n] = heap_getattr(trigdata->tg_trigtuple, attnum, tupdesc, &isnull);
			nulls[n] = isnull;
		}
		else
			values[n] = (i % 2 == 0) ? now : who;
		n++;
	}
	if (n > 0)
		tuple = heap_modify_tuple_by_cols(tuple, tupdesc, n, cols, values, nulls);
	return PointerGetDatum(tuple);
}

/*
 * Is this one of the who/when columns that the audit does not repeat, or a
 * column replication derives on each node (which operation's field sites a
 * row is sent to)?
 */
static bool
SkippedColumn(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(name, audit_skip[i]) == 0)
			return true;
	return strcmp(name, "sync_operation") == 0 || strcmp(name, "sync_shared") == 0;
}

/*
 * One column value as a JSON value: booleans and numbers as JSON scalars,
 * jsonb as itself, everything else (text, dates, uuids, arrays, geometries)
 * as the string of its output function.
 */
static void
PushColumnValue(JsonbParseState **state, Datum value, bool isnull, Oid typid)
{
	JsonbValue	v;

	if (isnull)
	{
		v.type = jbvNull;
		pushJsonbValue(state, WJB_VALUE, &v);
		return;
	}
	switch (typid)
	{
		case BOOLOID:
			v.type = jbvBool;
			v.val.boolean = DatumGetBool(value);
			break;
		case DATEOID:
		case TIMEOID:
		case TIMETZOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			{
				/* ISO 8601 whatever the session's DateStyle, as to_jsonb */
				char		buf[MAXDATELEN + 1];

				JsonEncodeDateTime(buf, value, typid, NULL);
				v.type = jbvString;
				v.val.string.val = pstrdup(buf);
				v.val.string.len = strlen(buf);
				break;
			}
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case NUMERICOID:
			{
				Oid			out;
				bool		varlena;
				char	   *s;

				getTypeOutputInfo(typid, &out, &varlena);
				s = OidOutputFunctionCall(out, value);
				if (typid == NUMERICOID && (strchr(s, 'N') || strchr(s, 'n')))
				{
					/* NaN and Infinity are not JSON numbers */
					v.type = jbvString;
					v.val.string.val = s;
					v.val.string.len = strlen(s);
					break;
				}
				v.type = jbvNumeric;
				v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(s),
																	ObjectIdGetDatum(InvalidOid),
																	Int32GetDatum(-1)));
				break;
			}
		case JSONBOID:
			{
				Jsonb	   *jb = DatumGetJsonbP(value);

				v.type = jbvBinary;
				v.val.binary.data = &jb->root;
				v.val.binary.len = VARSIZE(jb) - VARHDRSZ;
				break;
			}
		default:
			{
				Oid			out;
				bool		varlena;
				char	   *s;

				getTypeOutputInfo(typid, &out, &varlena);
				s = OidOutputFunctionCall(out, value);
				v.type = jbvString;
				v.val.string.val = s;
				v.val.string.len = strlen(s);
				break;
			}
	}
	pushJsonbValue(state, WJB_VALUE, &v);
}

static void
PushKey(JsonbParseState **state, const char *name)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) name;
	k.val.string.len = strlen(name);
	pushJsonbValue(state, WJB_KEY, &k);
}

/*
 * The row as a jsonb object, or (when other is given) only the columns whose
 * value differs from other.  Sets *changed to the number of such columns.
 */
/* Whether a trigger argument after the first names this column. */
static bool
RedactedColumn(const Trigger *trigger, const char *name)
{
	for (int i = 1; i < trigger->tgnargs; i++)
		if (strcmp(trigger->tgargs[i], name) == 0)
			return true;
	return false;
}

/* Is this table a case file's ("@case" among the trigger's arguments)? */
static bool
CaseFileTable(const Trigger *trigger)
{
	return RedactedColumn(trigger, "@case");
}

static bool
HasColumn(TupleDesc tupdesc, const char *name)
{
	return SPI_fnumber(tupdesc, name) > 0;
}

/*
 * A redacted value (biometric templates, sealed images): its size and the
 * start of its SHA-256, enough to see that it changed and to compare two
 * audit rows, not enough to use it.
 */
static void
PushRedacted(JsonbParseState **state, Datum value, bool isnull, Form_pg_attribute att)
{
	JsonbValue	v;
	struct varlena *d;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		buf[64];

	if (isnull || att->attlen != -1)
	{
		PushColumnValue(state, value, isnull, att->atttypid);
		return;
	}
	d = PG_DETOAST_DATUM_PACKED(value);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) VARDATA_ANY(d), VARSIZE_ANY_EXHDR(d)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "refuge: could not hash a redacted audit value");
	pg_cryptohash_free(ctx);
	snprintf(buf, sizeof(buf), "redacted %zu bytes sha256:%02x%02x%02x%02x%02x%02x%02x%02x",
			 (size_t) VARSIZE_ANY_EXHDR(d), digest[0], digest[1], digest[2], digest[3],
			 digest[4], digest[5], digest[6], digest[7]);
	v.type = jbvString;
	v.val.string.val = pstrdup(buf);
	v.val.string.len = strlen(buf);
	pushJsonbValue(state, WJB_VALUE, &v);
}

/* which columns RowToJsonb takes: all, or (rows about a person) the ids or the rest */
typedef enum RowPart
{
	ROW_ALL,
	ROW_IDS,
	ROW_PERSONAL
} RowPart;

static Jsonb *
RowToJsonb(HeapTuple tuple, HeapTuple other, TupleDesc tupdesc, const Trigger *trigger, RowPart part, int *changed)
{
	JsonbParseState *state = NULL;
	JsonbValue *result;

	*changed = 0;
	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		Datum		value;
		bool		isnull;

		if (att->attisdropped || SkippedColumn(NameStr(att->attname)))
			continue;
		if ((part == ROW_IDS && att->atttypid != UUIDOID) || (part == ROW_PERSONAL && att->atttypid == UUIDOID))
			continue;
		value = heap_getattr(tuple, i + 1, tupdesc, &isnull);
		if (other != NULL)
		{
			bool		other_null;
			Datum		other_value = heap_getattr(other, i + 1, tupdesc, &other_null);

			if (isnull == other_null &&
				(isnull || datum_image_eq(value, other_value, att->attbyval, att->attlen)))
				continue;
		}
		(*changed)++;
		PushKey(&state, NameStr(att->attname));
		if (RedactedColumn(trigger, NameStr(att->attname)))
			PushRedacted(&state, value, isnull, att);
		else
			PushColumnValue(&state, value, isnull, att->atttypid);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

static Datum
GetColumn(HeapTuple tuple, TupleDesc tupdesc, const char *name, Oid expected, bool *isnull)
{
	int			attnum = SPI_fnumber(tupdesc, name);

	*isnull = true;
	if (attnum <= 0 || TupleDescAttr(tupdesc, attnum - 1)->atttypid != expected)
		return (Datum) 0;
	return heap_getattr(tuple, attnum, tupdesc, isnull);
}

static SPIPlanPtr
SavedPlan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *argtypes)
{
	if (*plan == NULL)
	{
		/* generic: a custom plan per call (sized to the arrays) costs more than it saves */
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "refuge: SPI_prepare failed for \"%s\": %s", sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

/*
 * Audit rows waiting for the end of their statement.  The row trigger only
 * collects; the statement trigger (refuge_audit_flush) writes them all with
 * one insert, because an insert per row (executor start, three indexes, a
 * lookup of the operation) cost ~60 us a row.  Rows remember their
 * subtransaction so that a rolled-back one leaves nothing behind.
 */
typedef struct PendingAudit
{
	SubTransactionId subxid;
	char	   *actor;
	bool		op_null;
	pg_uuid_t	op;
	bool		ind_null;
	pg_uuid_t	ind;			/* operation comes from this individual */
	char	   *table_name;
	bool		row_null;
	pg_uuid_t	row_id;
	bool		case_null;
	pg_uuid_t	case_id;		/* module and operation of case records */
	char		action;
	Jsonb	   *old_data;		/* all values, or (subject set) the ids */
	Jsonb	   *new_data;
	bool		subject_null;
	pg_uuid_t	subject;		/* the person a row is about: their values are sealed */
	Jsonb	   *old_personal;	/* the other values, to seal under the person's key */
	Jsonb	   *new_personal;
} PendingAudit;

static List *pending = NIL;
static MemoryContext pending_context = NULL;
static bool callbacks_registered = false;

/*
 * Rows bulk-loaded by the current statement, per table: counted and hashed
 * by the row trigger, recorded by the statement trigger.
 */
typedef struct BulkLoad
{
	SubTransactionId subxid;
	Oid			relid;
	char	   *table_name;
	int64		rows;
	pg_cryptohash_ctx *hash;
} BulkLoad;

static List *bulk_loads = NIL;

/* refuge_audit_flush is inserting genuine audit rows (not a load) */
static bool flushing = false;

static void FlushPending(void);

static void
AuditXactCallback(XactEvent event, void *arg)
{
	/* an audit row collected but never written would be lost: refuse */
	if (event == XACT_EVENT_PRE_COMMIT && pending != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("refuge: %d audit rows were not written; is the audit_flush trigger disabled?",
						list_length(pending))));
	if (event == XACT_EVENT_PRE_COMMIT && bulk_loads != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("refuge: a bulk load was not recorded; is the audit_flush trigger disabled?")));
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PREPARE)
	{
		ListCell   *lc;

		foreach(lc, bulk_loads)
			pg_cryptohash_free(((BulkLoad *) lfirst(lc))->hash);
		bulk_loads = NIL;
		pending = NIL;
		if (pending_context != NULL)
			MemoryContextReset(pending_context);
	}
}

static void
AuditSubXactCallback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	/* drop what this subtransaction and its children collected */
	foreach(lc, pending)
	{
		PendingAudit *p = lfirst(lc);

		if (p->subxid >= mySubid)
			pending = foreach_delete_current(pending, lc);
	}
	foreach(lc, bulk_loads)
	{
		BulkLoad   *b = lfirst(lc);

		if (b->subxid >= mySubid)
		{
			pg_cryptohash_free(b->hash);
			bulk_loads = foreach_delete_current(bulk_loads, lc);
		}
	}
}

static void
RegisterCallbacks(void)
{
	if (!callbacks_registered)
	{
		pending_context = AllocSetContextCreate(TopMemoryContext, "refuge pending audit", ALLOCSET_DEFAULT_SIZES);
		RegisterXactCallback(AuditXactCallback, NULL);
		RegisterSubXactCallback(AuditSubXactCallback, NULL);
		callbacks_registered = true;
	}
}

/* Count and hash one bulk-loaded row of its statement's table. */
static void
CollectBulkRow(TriggerData *trigdata, const Trigger *trigger)
{
	Relation	rel = trigdata->tg_relation;
	BulkLoad   *b = NULL;
	ListCell   *lc;
	Jsonb	   *row;
	char	   *text;
	int			changed;
	MemoryContext old;

	RegisterCallbacks();
	foreach(lc, bulk_loads)
	{
		BulkLoad   *x = lfirst(lc);

		if (x->relid == RelationGetRelid(rel))
			b = x;
	}
	old = MemoryContextSwitchTo(pending_context);
	if (b == NULL)
	{
		b = palloc0(sizeof(BulkLoad));
		b->subxid = GetCurrentSubTransactionId();
		b->relid = RelationGetRelid(rel);
		b->table_name = pstrdup(RelationGetRelationName(rel));
		b->hash = pg_cryptohash_create(PG_SHA256);
		if (b->hash == NULL || pg_cryptohash_init(b->hash) < 0)
			elog(ERROR, "refuge: could not start a hash");
		bulk_loads = lappend(bulk_loads, b);
	}
	MemoryContextSwitchTo(old);
	row = RowToJsonb(trigdata->tg_trigtuple, NULL, RelationGetDescr(rel), trigger, ROW_ALL, &changed);
	text = JsonbToCString(NULL, &row->root, VARSIZE(row));
	if (pg_cryptohash_update(b->hash, (uint8 *) text, strlen(text) + 1) < 0)
		elog(ERROR, "refuge: could not hash a loaded row");
	b->rows++;
	pfree(text);
	pfree(row);
}

static void
CopyUuid(pg_uuid_t *dst, bool *isnull, HeapTuple tuple, TupleDesc tupdesc, const char *column)
{
	Datum		d = GetColumn(tuple, tupdesc, column, UUIDOID, isnull);

	if (!*isnull)
		memcpy(dst->data, DatumGetUUIDP(d)->data, UUID_LEN);
}

/*
 * AFTER INSERT OR UPDATE OR DELETE, for each row: collect the audit row.
 * tg_argv[0] says how to find the operation a row belongs to: 'self' (its
 * operation_id column), 'individual' (through individual_id), 'none'; further
 * arguments name columns recorded only as size and digest (biometrics).
 */
Datum
refuge_audit_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Trigger    *trigger;
	TupleDesc	tupdesc;
	HeapTuple	row;
	const char *how;
	int			changed;
	PendingAudit *p;
	MemoryContext old;

	CheckTriggerCall(fcinfo, "refuge_audit_row");
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event))
		elog(ERROR, "refuge_audit_row: must be fired after the write");
	trigger = trigdata->tg_trigger;
	/* the extension's own script writing its shipped rows is not a change to audit */
	if (creating_extension)
		return PointerGetDatum(NULL);
	if (BulkLoading(trigdata))
	{
		CollectBulkRow(trigdata, trigger);
		return PointerGetDatum(NULL);
	}
	RegisterCallbacks();

	how = trigger->tgnargs > 0 ? trigger->tgargs[0] : "none";
	tupdesc = RelationGetDescr(trigdata->tg_relation);

	old = MemoryContextSwitchTo(pending_context);
	p = palloc0(sizeof(PendingAudit));
	p->subxid = GetCurrentSubTransactionId();
	row = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? trigdata->tg_newtuple : trigdata->tg_trigtuple;
	/* a row about one person: their values are sealed under their key */
	p->subject_null = true;
	/* (the record of an erasure names no one: kept readable) */
	if (PersonKeysActive() && strcmp(RelationGetRelationName(trigdata->tg_relation), "erasure") != 0)
	{
		CopyUuid(&p->subject, &p->subject_null, row, tupdesc,
				 strcmp(RelationGetRelationName(trigdata->tg_relation), "individual") == 0 ? "id" : "individual_id");
		/*
		 * A case file's rows ("@case"): what staff wrote can name its
		 * members, so it is sealed under the case's own key, destroyed when
		 * no member of the case is left unerased (refuge.erase_case_files).
		 */
		if (p->subject_null && CaseFileTable(trigger))
		{
			const char *col = HasColumn(tupdesc, "case_id") ? "case_id" : "id";

			CopyUuid(&p->subject, &p->subject_null, row, tupdesc, col);
			/* never in clear by mistake: a case file's row names its case */
			if (p->subject_null)
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("audit: a row of case file table %s has no case (uuid column %s)",
								RelationGetRelationName(trigdata->tg_relation), col)));
		}
	}
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) || TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
	{
		Jsonb	   *data;
		Jsonb	   *personal = NULL;

		p->action = TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ? 'I' : 'D';
		if (p->subject_null)
			data = RowToJsonb(row, NULL, tupdesc, trigger, ROW_ALL, &changed);
		else
		{
			data = RowToJsonb(row, NULL, tupdesc, trigger, ROW_IDS, &changed);
			personal = RowToJsonb(row, NULL, tupdesc, trigger, ROW_PERSONAL, &changed);
		}
		if (p->action == 'I')
			p->new_data = data, p->new_personal = personal;
		else
			p->old_data = data, p->old_personal = personal;
	}
	else
	{
		int			more = 0;

		p->action = 'U';
		p->new_data = RowToJsonb(row, trigdata->tg_trigtuple, tupdesc, trigger,
								 p->subject_null ? ROW_ALL : ROW_IDS, &changed);
		if (!p->subject_null)
			p->new_personal = RowToJsonb(row, trigdata->tg_trigtuple, tupdesc, trigger, ROW_PERSONAL, &more);
		if (changed + more == 0)
		{
			/* only who/when moved */
			MemoryContextSwitchTo(old);
			return PointerGetDatum(NULL);
		}
		p->old_data = RowToJsonb(trigdata->tg_trigtuple, row, tupdesc, trigger,
								 p->subject_null ? ROW_ALL : ROW_IDS, &changed);
		if (!p->subject_null)
			p->old_personal = RowToJsonb(trigdata->tg_trigtuple, row, tupdesc, trigger, ROW_PERSONAL, &more);
	}
	p->actor = RefugeCallerName();
	p->table_name = pstrdup(RelationGetRelationName(trigdata->tg_relation));
	CopyUuid(&p->row_id, &p->row_null, row, tupdesc, "id");
	CopyUuid(&p->case_id, &p->case_null, row, tupdesc, "case_id");
	p->op_null = p->ind_null = true;
	if (strcmp(how, "self") == 0)
		CopyUuid(&p->op, &p->op_null, row, tupdesc, "operation_id");
	else if (strcmp(how, "individual") == 0)
		CopyUuid(&p->ind, &p->ind_null, row, tupdesc, "individual_id");
	pending = lappend(pending, p);
	MemoryContextSwitchTo(old);
	/* logical replication apply fires no statement triggers: write it now */
	if (IsLogicalWorker() && !flushing)
		FlushPending();
	return PointerGetDatum(NULL);
}

/* Record the bulk loads of the statement that just ended. */
static void
FlushBulkLoads(void)
{
	static const char *sql =
		"insert into refuge.audit_bulk_load (actor, table_name, rows, sha256) values ($1, $2, $3, $4)";
	static SPIPlanPtr plan = NULL;
	List	   *loads = bulk_loads;
	ListCell   *lc;

	bulk_loads = NIL;
	foreach(lc, loads)
	{
		BulkLoad   *b = lfirst(lc);
		uint8		digest[PG_SHA256_DIGEST_LENGTH];
		bytea	   *d = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
		Datum		args[4];
		Oid			types[4] = {NAMEOID, TEXTOID, INT8OID, BYTEAOID};

		if (pg_cryptohash_final(b->hash, digest, sizeof(digest)) < 0)
			elog(ERROR, "refuge: could not hash a bulk load");
		pg_cryptohash_free(b->hash);
		b->hash = NULL;
		memcpy(VARDATA(d), digest, PG_SHA256_DIGEST_LENGTH);
		SET_VARSIZE(d, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
		args[0] = DirectFunctionCall1(namein, CStringGetDatum(RefugeCallerName()));
		args[1] = CStringGetTextDatum(b->table_name);
		args[2] = Int64GetDatum(b->rows);
		args[3] = PointerGetDatum(d);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "refuge_audit_flush: SPI_connect failed");
		if (SPI_execute_plan(SavedPlan(&plan, sql, 4, types), args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "refuge_audit_flush: could not record a bulk load of %s", b->table_name);
		SPI_finish();
	}
}

/* Has the catalogue the audit columns of 0.7.0 (class, module)? */
static bool
AuditHasClass(void)
{
	Oid			rel = RefugeRelid("audit_log");

	return OidIsValid(rel) && get_attnum(rel, "class") != InvalidAttrNumber;
}

/*
 * AFTER INSERT OR UPDATE OR DELETE, for each statement: write what the row
 * triggers collected with one insert.  The plan is a function scan feeding
 * the insert (no sort, no parallelism), so audit ids follow the order in
 * which the rows were written.  Each row is classed by its table
 * (refuge.audit_scope) and, for case records, given the case's module and
 * operation, so that the audit trail can be read as narrowly as the rows
 * it describes.  (A library newer than the catalogue writes the old shape
 * until ALTER EXTENSION refuge UPDATE has run.)
 */
Datum
refuge_audit_flush(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "refuge_audit_flush: not called by trigger manager");
	if (bulk_loads != NIL)
		FlushBulkLoads();
	FlushPending();
	return PointerGetDatum(NULL);
}

/*
 * The ids of a row about a person, their id under "$subject" and the rest
 * sealed under their key in "$sealed" ("$erased": true once the key is
 * destroyed).  refuge.audit_values opens it for those who read the trail.
 */
static Jsonb *
Sealed(Jsonb *ids, Jsonb *personal, const pg_uuid_t *subject, const char *table_name)
{
	JsonbParseState *state = NULL;
	JsonbIterator *it;
	JsonbIteratorToken r;
	JsonbValue	v;
	JsonbValue *result;
	char	   *plain;
	char	   *sealed;
	int			len;
	PersonSealResult why;

	if (ids == NULL || personal == NULL || JB_ROOT_COUNT(personal) == 0)
		return ids;
	plain = JsonbToCString(NULL, &personal->root, VARSIZE(personal));
	len = strlen(plain);
	sealed = PersonKeySeal(subject, table_name, plain, len, &why);
	explicit_bzero(plain, len);
	pfree(plain);

	it = JsonbIteratorInit(&ids->root);
	while ((r = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		if (r == WJB_END_OBJECT)
			break;
		pushJsonbValue(&state, r, r == WJB_KEY || r == WJB_VALUE || r == WJB_ELEM ? &v : NULL);
	}
	PushKey(&state, "$subject");
	v.type = jbvString;
	v.val.string.val = DatumGetCString(DirectFunctionCall1(uuid_out, UUIDPGetDatum(subject)));
	v.val.string.len = strlen(v.val.string.val);
	pushJsonbValue(&state, WJB_VALUE, &v);
	if (sealed != NULL)
	{
		PushKey(&state, "$sealed");
		v.type = jbvString;
		v.val.string.val = sealed;
		v.val.string.len = strlen(sealed);
	}
	else
	{
		PushKey(&state, why == PERSON_WITHHELD ? "$withheld" : "$erased");
		v.type = jbvBool;
		v.val.boolean = true;
	}
	pushJsonbValue(&state, WJB_VALUE, &v);
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(result);
}

static void
FlushPending(void)
{
	List	   *rows;
	int			n;
	int			i = 0;
	Datum	   *actor, *op, *ind, *tab, *rid, *action, *olds, *news, *cas;
	bool	   *op_n, *ind_n, *rid_n, *old_n, *new_n, *cas_n;
	Datum		args[9];
	int			dims[1];
	int			lbs[1] = {1};
	ListCell   *lc;
	int			rc;
	bool		classed;
	static const char *sql =
		"insert into refuge.audit_log (actor, operation_id, table_name, row_id, action, old_data, new_data, "
		"                              class, module) "
		"select a.actor, coalesce(a.op, c.operation_id, "
		"                         (select i.operation_id from refuge.individual i where i.id = a.ind)), "
		"a.tab, a.rid, a.action, a.old, a.new, coalesce(s.class, 'restricted'), c.module "
		"from unnest($1::name[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[], "
		"            $9::uuid[]) as a(actor, op, ind, tab, rid, action, old, new, cas) "
		"left join refuge.audit_scope s on s.table_name = a.tab "
		"left join refuge.process_case c "
		"       on c.id = coalesce(a.cas, case when a.tab = 'process_case' then a.rid end)";
	static const char *sql_old =
		"insert into refuge.audit_log (actor, operation_id, table_name, row_id, action, old_data, new_data) "
		"select a.actor, coalesce(a.op, (select i.operation_id from refuge.individual i where i.id = a.ind)), "
		"a.tab, a.rid, a.action, a.old, a.new "
		"from unnest($1::name[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::jsonb[], $8::jsonb[]) "
		"as a(actor, op, ind, tab, rid, action, old, new)";
	static SPIPlanPtr plan = NULL;
	static SPIPlanPtr plan_old = NULL;

	if (pending == NIL)
		return;

	rows = pending;
	pending = NIL;
	n = list_length(rows);
	foreach(lc, rows)
	{
		PendingAudit *p = lfirst(lc);

		if (p->subject_null)
			continue;
		p->old_data = Sealed(p->old_data, p->old_personal, &p->subject, p->table_name);
		p->new_data = Sealed(p->new_data, p->new_personal, &p->subject, p->table_name);
	}
	actor = palloc(n * sizeof(Datum));
	op = palloc(n * sizeof(Datum));
	ind = palloc(n * sizeof(Datum));
	tab = palloc(n * sizeof(Datum));
	rid = palloc(n * sizeof(Datum));
	action = palloc(n * sizeof(Datum));
	olds = palloc(n * sizeof(Datum));
	news = palloc(n * sizeof(Datum));
	cas = palloc(n * sizeof(Datum));
	op_n = palloc(n * sizeof(bool));
	ind_n = palloc(n * sizeof(bool));
	rid_n = palloc(n * sizeof(bool));
	old_n = palloc(n * sizeof(bool));
	new_n = palloc(n * sizeof(bool));
	cas_n = palloc(n * sizeof(bool));
	foreach(lc, rows)
	{
		PendingAudit *p = lfirst(lc);
		char		a[2] = {p->action, '\0'};

		actor[i] = DirectFunctionCall1(namein, CStringGetDatum(p->actor));
		op[i] = UUIDPGetDatum(&p->op);
		op_n[i] = p->op_null;
		ind[i] = UUIDPGetDatum(&p->ind);
		ind_n[i] = p->ind_null;
		tab[i] = CStringGetTextDatum(p->table_name);
		rid[i] = UUIDPGetDatum(&p->row_id);
		rid_n[i] = p->row_null;
		action[i] = CStringGetTextDatum(a);
		olds[i] = p->old_data ? JsonbPGetDatum(p->old_data) : (Datum) 0;
		old_n[i] = p->old_data == NULL;
		news[i] = p->new_data ? JsonbPGetDatum(p->new_data) : (Datum) 0;
		new_n[i] = p->new_data == NULL;
		cas[i] = UUIDPGetDatum(&p->case_id);
		cas_n[i] = p->case_null;
		i++;
	}
	dims[0] = n;
	args[0] = PointerGetDatum(construct_array(actor, n, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(construct_md_array(op, op_n, 1, dims, lbs, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[2] = PointerGetDatum(construct_md_array(ind, ind_n, 1, dims, lbs, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[3] = PointerGetDatum(construct_array(tab, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[4] = PointerGetDatum(construct_md_array(rid, rid_n, 1, dims, lbs, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[5] = PointerGetDatum(construct_array(action, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[6] = PointerGetDatum(construct_md_array(olds, old_n, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT));
	args[7] = PointerGetDatum(construct_md_array(news, new_n, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT));
	args[8] = PointerGetDatum(construct_md_array(cas, cas_n, 1, dims, lbs, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));

	classed = AuditHasClass();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "refuge_audit_flush: SPI_connect failed");
	{
		Oid			argtypes[9] = {NAMEARRAYOID, UUIDARRAYOID, UUIDARRAYOID, TEXTARRAYOID, UUIDARRAYOID,
		TEXTARRAYOID, JSONBARRAYOID, JSONBARRAYOID, UUIDARRAYOID};

		flushing = true;
		PG_TRY();
		{
			if (classed)
				rc = SPI_execute_plan(SavedPlan(&plan, sql, 9, argtypes), args, NULL, false, 0);
			else
				rc = SPI_execute_plan(SavedPlan(&plan_old, sql_old, 8, argtypes), args, NULL, false, 0);
		}
		PG_FINALLY();
		{
			flushing = false;
		}
		PG_END_TRY();
	}
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "refuge_audit_flush: audit insert failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

PG_FUNCTION_INFO_V1(refuge_audit_guard);

/*
 * BEFORE INSERT on refuge.audit_log: an audit row is dated by the
 * transaction that writes it and names the role on whose behalf it runs,
 * whatever the statement says, so that no row can be back-dated or
 * attributed to someone else.  A bulk load (restore) keeps what it loads;
 * it is recorded in refuge.audit_bulk_load like any other.
 */
Datum
refuge_audit_guard(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tuple;
	int			cols[3];
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	CheckTriggerCall(fcinfo, "refuge_audit_guard");
	tuple = trigdata->tg_trigtuple;
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		elog(ERROR, "refuge_audit_guard: must be fired before insert");
	if (BulkLoading(trigdata) && !flushing)
	{
		CollectBulkRow(trigdata, trigdata->tg_trigger);
		return PointerGetDatum(tuple);
	}
	tupdesc = RelationGetDescr(trigdata->tg_relation);
	cols[0] = SPI_fnumber(tupdesc, "at");
	cols[1] = SPI_fnumber(tupdesc, "txid");
	cols[2] = SPI_fnumber(tupdesc, "actor");
	if (cols[0] <= 0 || cols[1] <= 0 || cols[2] <= 0)
		elog(ERROR, "refuge_audit_guard: not the audit_log table");
	values[0] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[1] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(RefugeCallerName()));
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, tupdesc, 3, cols, values, nulls));
}

PG_FUNCTION_INFO_V1(refuge_refuse_truncate);

/* BEFORE TRUNCATE: the audit trail and the tables it describes are never emptied wholesale. */
Datum
refuge_refuse_truncate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		elog(ERROR, "refuge_refuse_truncate: must be fired by TRUNCATE");
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("refuge.%s cannot be truncated", RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("Rows of refuge's tables are removed one by one, through its functions, so that each removal is audited.")));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(refuge_cluster_id);

/*
 * The cluster's system identifier.  The audit chain's sealing horizons are
 * transaction ids, which only compare within one cluster: after a restore
 * into another cluster the sealer must not trust the horizons it finds.
 */
Datum
refuge_cluster_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) GetSystemIdentifier());
}
