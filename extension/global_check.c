/*
 * global_check.c
 *		HQ's global deduplication of field enrolments, outside replication.
 *
 * A field enrolment that reaches HQ is searched against everyone enrolled
 * anywhere (refuge.sync_global_check: 0.6 s at 100,000 people).  Run by the
 * apply worker when the capture arrives, every later change from that site
 * would wait behind the search, registrations and case work included; so
 * the apply worker only starts this background worker
 * (refuge.sync_start_checks), which waits for the apply transaction to end
 * and then runs refuge.sync_next_global_check(), one check per transaction
 * (the enrolment lock is held no longer than one search), until none is
 * pending (a check that failed waits for refuge.run_global_checks()).
 * One runs per database at a time; a capture that arrives while the last one
 * is finishing is seen by its final look, by the next start, or by a
 * scheduled refuge.run_global_checks().
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_sync_start_checks);
PGDLLEXPORT void refuge_global_check_main(Datum arg);

#define CHECKER_TYPE "refuge global checks"

/*
 * refuge.sync_start_checks() returns boolean: start the worker for this
 * database (false when none could be registered: all worker slots busy).
 */
Datum
refuge_sync_start_checks(PG_FUNCTION_ARGS)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	TransactionId xid = GetTopTransactionIdIfAny();

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "refuge");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "refuge_global_check_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, CHECKER_TYPE);
	snprintf(worker.bgw_type, BGW_MAXLEN, CHECKER_TYPE);
	worker.bgw_main_arg = ObjectIdGetDatum(MyDatabaseId);
	memcpy(worker.bgw_extra, &xid, sizeof(xid));
	worker.bgw_notify_pid = 0;
	PG_RETURN_BOOL(RegisterDynamicBackgroundWorker(&worker, &handle));
}

/* One statement in its own transaction; returns the first column as int64. */
static int64
run_in_transaction(const char *sql)
{
	int64		result = 0;
	bool		isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, sql);
	if (SPI_execute(sql, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "refuge global checks: %s failed", sql);
	result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		result = 0;
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* a background worker sends its statistics itself (pg_stat_user_functions, tables) */
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return result;
}

void
refuge_global_check_main(Datum arg)
{
	TransactionId xid;
	int			idle_looks = 0;

	memcpy(&xid, MyBgworkerEntry->bgw_extra, sizeof(xid));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(arg), InvalidOid, 0);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
	SetConfigOption("lock_timeout", "60s", PGC_SUSET, PGC_S_SESSION);
	/* no single check may hold the queue (or the enrolment lock) for long */
	SetConfigOption("statement_timeout", "10min", PGC_SUSET, PGC_S_SESSION);

	/* the transaction that brought the capture first */
	if (TransactionIdIsValid(xid))
	{
		StartTransactionCommand();
		XactLockTableWait(xid, NULL, NULL, XLTW_None);
		CommitTransactionCommand();
	}
	/* one worker per database: another waits a moment for the one finishing, then leaves */
	for (int attempt = 0;; attempt++)
	{
		CHECK_FOR_INTERRUPTS();
		if (run_in_transaction("select pg_catalog.pg_try_advisory_lock(pg_catalog.hashtext('refuge global checks'))::int::int8") != 0)
			break;
		if (attempt >= 3)
			proc_exit(0);
		pg_usleep(1000000L);
	}

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (run_in_transaction("select refuge.sync_next_global_check()::int8") > 0)
		{
			idle_looks = 0;
			continue;
		}
		/* a capture committed while this one looked: a last look a moment later */
		if (++idle_looks > 2)
			break;
		pg_usleep(500000L);
	}
	pgstat_report_stat(true);
	proc_exit(0);
}
