/*
 * access_log.c
 *		Records of sensitive reads that outlive the reader's transaction.
 *
 * A read of a sealed note, an SGBV incident, a vault image or biometric
 * templates must leave a record even when the reader rolls back.  PostgreSQL
 * has no autonomous transactions, so refuge.log_durably(rows jsonb) hands
 * the rows to a background worker that inserts them in a transaction of its
 * own and commits; the caller gets its data only after that commit (the
 * worker's status says so), never before.  A read whose record cannot be
 * written is refused.
 *
 * rows is an object whose keys name log tables of schema refuge (only the
 * ones in durable_tables) and whose values are arrays of row objects:
 *		{"sensitive_read": [{"actor": "...", "kind": "...", ...}], ...}
 * The worker connects as the bootstrap superuser (a background worker may
 * not log in as a NOLOGIN role in PostgreSQL 15), so it writes nothing but
 * those tables, with a statement it builds from their catalogue columns.
 * The audit triggers of those tables see the reader, not the worker, as the
 * actor (RefugeWorkerActor).
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/wait_event.h"

#include "access_log.h"
#include "vault.h"
#include "audit.h"

PG_FUNCTION_INFO_V1(refuge_log_durably);
PGDLLEXPORT void refuge_log_worker_main(Datum arg);

/* The only tables the worker writes. */
static const char *const durable_tables[] = {
	"sensitive_read", "vault_access", "biometric_identification", "biometric_verification", "publication", NULL
};

#define LOG_STATUS_PENDING	0
#define LOG_STATUS_DONE		1
#define LOG_STATUS_FAILED	2
#define LOG_MAX_ROWS_BYTES	(8 * 1024 * 1024)

/* Shared with the worker through a dynamic shared memory segment. */
typedef struct DurableLogShared
{
	Oid			database;
	int			status;
	char		actor[NAMEDATALEN];
	char		vault_key_file[MAXPGPATH];	/* the reader's: audit rows of people are sealed alike */
	char		vault_previous_key_file[MAXPGPATH];	/* and during a rotation, the key rotated out */
	char		error[512];
	Size		len;			/* of rows, a jsonb text with its '\0' */
	char		rows[FLEXIBLE_ARRAY_MEMBER];
} DurableLogShared;

/* Set in a worker process: the reader on whose behalf it writes. */
char	   *RefugeWorkerActor = NULL;

static bool
durable_table(const char *name)
{
	for (int i = 0; durable_tables[i] != NULL; i++)
		if (strcmp(durable_tables[i], name) == 0)
			return true;
	return false;
}

/*
 * refuge.log_durably(rows jsonb) returns void: insert and commit the rows
 * in their log tables before returning.  Internal: SECURITY DEFINER API
 * functions call it before they hand out what they logged.
 */
Datum
refuge_log_durably(PG_FUNCTION_ARGS)
{
	Jsonb	   *rows = PG_GETARG_JSONB_P(0);
	char	   *text;
	Size		len;
	dsm_segment *seg;
	DurableLogShared *shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle = NULL;
	BgwHandleStatus status;
	pid_t		pid;
	char	   *actor = RefugeCallerName();

	if (!JB_ROOT_IS_OBJECT(rows) || JB_ROOT_COUNT(rows) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows: expected an object of log tables and their rows")));
	text = JsonbToCString(NULL, &rows->root, VARSIZE(rows));
	len = strlen(text) + 1;
	if (len > LOG_MAX_ROWS_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rows: %zu bytes of log rows; at most %d at a time", len, LOG_MAX_ROWS_BYTES)));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("sensitive records are not read on a standby: the read could not be logged")));

	seg = dsm_create(offsetof(DurableLogShared, rows) + len, 0);
	shared = dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->status = LOG_STATUS_PENDING;
	strlcpy(shared->actor, actor, NAMEDATALEN);
	strlcpy(shared->vault_key_file, RefugeVaultKeyFile(), MAXPGPATH);
	strlcpy(shared->vault_previous_key_file, GetConfigOption("refuge.vault_previous_key_file", true, false) ?
			GetConfigOption("refuge.vault_previous_key_file", true, false) : "", MAXPGPATH);
	shared->error[0] = '\0';
	shared->len = len;
	memcpy(shared->rows, text, len);

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "refuge");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "refuge_log_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "refuge access log for %s", actor);
	snprintf(worker.bgw_type, BGW_MAXLEN, "refuge access log");
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	/* every worker slot may be busy for a moment (parallel queries): retry for up to 5 s */
	for (int attempt = 0; !RegisterDynamicBackgroundWorker(&worker, &handle); attempt++)
	{
		if (attempt >= 250)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("the read could not be logged: no background worker slot is free"),
					 errhint("Raise max_worker_processes; every logged read needs one worker for a moment.")));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 20L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STARTED)
		status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while a read was being logged")));
	pg_read_barrier();
	if (shared->status != LOG_STATUS_DONE)
		ereport(ERROR,
				(errcode(ERRCODE_IO_ERROR),
				 errmsg("the read could not be logged, so nothing is returned"),
				 errdetail("%s", shared->error[0] ? shared->error : "the logging worker did not finish")));
	dsm_detach(seg);
	PG_RETURN_VOID();
}

/* The insert of one log table's rows, its columns checked against the catalogue. */
static void
insert_rows(const char *table, Datum rows)
{
	Oid			argtypes[2] = {TEXTOID, JSONBOID};
	Datum		args[2];
	char	   *columns;
	bool		isnull;
	StringInfoData sql;

	/* every key of every row must be an ordinary, writable column */
	args[0] = CStringGetTextDatum(table);
	args[1] = rows;
	if (SPI_execute_with_args(
			"select string_agg(pg_catalog.quote_ident(k.key), ', ' order by k.key), "
			"       bool_and(a.attnum is not null) "
			"  from (select distinct pg_catalog.jsonb_object_keys(r) as key "
			"          from pg_catalog.jsonb_array_elements($2) r) k "
			"  left join pg_catalog.pg_attribute a "
			"    on a.attrelid = ('refuge.' || pg_catalog.quote_ident($1))::pg_catalog.regclass "
			"   and a.attname = k.key and a.attnum > 0 and not a.attisdropped "
			"   and a.attidentity <> 'a' and a.attgenerated = ''",
			2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "refuge access log: could not read the columns of %s", table);
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) || isnull)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("rows.%s: a row names a column that %s does not have", table, table)));
	columns = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

	initStringInfo(&sql);
	appendStringInfo(&sql, "insert into refuge.%s (%s) select %s from "
					 "pg_catalog.jsonb_populate_recordset(null::refuge.%s, $1)",
					 quote_identifier(table), columns, columns, quote_identifier(table));
	argtypes[0] = JSONBOID;
	args[0] = rows;
	if (SPI_execute_with_args(sql.data, 1, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "refuge access log: insert into %s failed", table);
}

/*
 * The worker: attach, connect, insert every table's rows in one transaction,
 * commit, then say so.  Any error leaves the status FAILED with its message.
 */
void
refuge_log_worker_main(Datum arg)
{
	dsm_segment *seg;
	DurableLogShared *shared;
	Jsonb	   *rows;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refuge access log: the reader is gone")));
	shared = dsm_segment_address(seg);
	RefugeWorkerActor = pstrdup(shared->actor);

	BackgroundWorkerInitializeConnectionByOid(shared->database, InvalidOid, 0);

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		/* a reader holding a lock on a log table must not make us wait for ever */
		SetConfigOption("lock_timeout", "10s", PGC_SUSET, PGC_S_SESSION);
		SetConfigOption("statement_timeout", "60s", PGC_SUSET, PGC_S_SESSION);
		SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
		if (shared->vault_key_file[0] != '\0')
			SetConfigOption("refuge.vault_key_file", shared->vault_key_file, PGC_SUSET, PGC_S_SESSION);
		if (shared->vault_previous_key_file[0] != '\0')
			SetConfigOption("refuge.vault_previous_key_file", shared->vault_previous_key_file, PGC_SUSET, PGC_S_SESSION);
		SPI_connect();
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, "refuge access log");

		rows = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(shared->rows)));
		it = JsonbIteratorInit(&rows->root);
		tok = JsonbIteratorNext(&it, &v, false);
		while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
		{
			char	   *table;

			if (tok != WJB_KEY)
				continue;
			table = pnstrdup(v.val.string.val, v.val.string.len);
			tok = JsonbIteratorNext(&it, &v, true);
			if (!durable_table(table))
				ereport(ERROR,
						(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						 errmsg("rows.%s: not a log table", table)));
			if (tok != WJB_VALUE || v.type != jbvBinary)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("rows.%s: expected an array of rows", table)));
			insert_rows(table, JsonbPGetDatum(JsonbValueToJsonb(&v)));
		}

		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		pg_write_barrier();
		shared->status = LOG_STATUS_DONE;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(shared->error, edata->message ? edata->message : "error", sizeof(shared->error));
		pg_write_barrier();
		shared->status = LOG_STATUS_FAILED;
		PG_RE_THROW();
	}
	PG_END_TRY();
	dsm_detach(seg);
	proc_exit(0);
}
