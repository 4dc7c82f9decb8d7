/*
 * sync.c
 *		Field sites and HQ joined by PostgreSQL's logical replication: what
 *		functions/90_sync.sql cannot say in SQL.
 *
 * refuge.sync_applying() tells the triggers whether they run in a logical
 * replication worker (rows arriving from a peer) or in a session.
 *
 * refuge.sync_subscription_ready(subscription, tables) lists tables in a
 * subscription created WITH (connect = false) as ready, the state CREATE
 * SUBSCRIPTION gives them WITH (copy_data = false).  HQ subscribes to a
 * field site before the site's cluster exists (the deployment order is HQ
 * first); PostgreSQL 15 fills a subscription's table list only by asking the
 * publisher, so HQ's subscription would otherwise apply nothing until
 * someone ran ALTER SUBSCRIPTION ... REFRESH PUBLICATION by hand, which
 * cannot run inside a function.  The field publishes exactly the tables
 * listed in refuge.sync_table (both sides run the same extension version)
 * and has none of its own rows before it joins, so there is nothing to copy.
 *
 * refuge.sync_create_remote_slot(conninfo, slot, replace) creates a slot on
 * the peer over a replication connection, as CREATE SUBSCRIPTION does, but
 * from inside a function.  A logical slot must not be older than the
 * publication it is read with: PostgreSQL 15's pgoutput decodes each change
 * with the catalogue of its time and stops for good ("publication does not
 * exist") on one committed before the publication.  A slot made by its own
 * transaction on the peer, after the publication there was committed, never
 * is; one made by the function that creates the publication would be, on a
 * busy HQ.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_subscription.h"
#include "catalog/pg_subscription_rel.h"
#include "catalog/pg_type.h"
#include "commands/subscriptioncmds.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "replication/logicalworker.h"
#include "replication/slot.h"
#include "replication/walreceiver.h"
#include "replication/worker_internal.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/pg_lsn.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "refuge.h"
#include "sync.h"

PG_FUNCTION_INFO_V1(refuge_sync_applying);
PG_FUNCTION_INFO_V1(refuge_sync_source);
PG_FUNCTION_INFO_V1(refuge_sync_copying);
PG_FUNCTION_INFO_V1(refuge_sync_as_replica);
PG_FUNCTION_INFO_V1(refuge_sync_purging);
PG_FUNCTION_INFO_V1(refuge_sync_subscription_ready);
PG_FUNCTION_INFO_V1(refuge_sync_create_remote_slot);

static bool sync_purging = false;

/*
 * refuge.sync_purging: set (locally, by a superuser) while a re-seed deletes
 * this cluster's copies of rows owned elsewhere, which append-only tables
 * otherwise refuse.  Not a user-settable placeholder: the prefix is reserved.
 */
void
RefugeSyncInit(void)
{
	DefineCustomBoolVariable("refuge.sync_purging",
							 "Set while a re-seed deletes copies of rows owned by another node.",
							 NULL, &sync_purging, false, PGC_SUSET,
							 GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL,
							 NULL, NULL, NULL);
}

/* refuge.sync_purging() returns boolean */
Datum
refuge_sync_purging(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(sync_purging);
}

/* refuge.sync_applying() returns boolean */
Datum
refuge_sync_applying(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsLogicalWorker());
}

/*
 * refuge.sync_source() returns text: the subscription whose rows this
 * logical replication worker applies (null in a session), so that HQ can
 * hold each field site to its own rows.
 */
Datum
refuge_sync_source(PG_FUNCTION_ARGS)
{
	if (!IsLogicalWorker() || MySubscription == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(MySubscription->name));
}

/*
 * refuge.sync_copying() returns boolean: a table synchronisation worker (a
 * first copy or a re-seed), which copies tables in no particular order, so
 * a row may come before the record it hangs on.
 */
Datum
refuge_sync_copying(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(IsLogicalWorker() && MyLogicalRepWorker != NULL && OidIsValid(MyLogicalRepWorker->relid));
}

/*
 * refuge.sync_as_replica(on boolean) returns void: session_replication_role
 * replica (or origin) for the rest of the transaction, for a supervisor's
 * refuge.resolve_conflict('retry'), which writes a refused row as it
 * arrived (its owner kept, not sent back), and whose definer is not a
 * superuser.  Not executable by any role: only refuge's own functions, which
 * authorise the caller first, call it.
 */
Datum
refuge_sync_as_replica(PG_FUNCTION_ARGS)
{
	(void) set_config_option("session_replication_role", PG_GETARG_BOOL(0) ? "replica" : "origin",
							 PGC_SUSET, PGC_S_SESSION, GUC_ACTION_LOCAL, true, 0, false);
	PG_RETURN_VOID();
}

/*
 * refuge.sync_subscription_ready(subscription name, tables regclass[])
 * returns integer: the number of tables newly listed as ready.
 */
Datum
refuge_sync_subscription_ready(PG_FUNCTION_ARGS)
{
	Name		subname = PG_GETARG_NAME(0);
	ArrayType  *tables = PG_GETARG_ARRAYTYPE_P(1);
	Datum	   *relids;
	bool	   *nulls;
	int			n;
	int			added = 0;
	Oid			subid;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("sync_subscription_ready: only a superuser may change a subscription's tables")));
	subid = get_subscription_oid(NameStr(*subname), false);
	deconstruct_array(tables, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &relids, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		Oid			relid = DatumGetObjectId(relids[i]);
		XLogRecPtr	lsn;

		CHECK_FOR_INTERRUPTS();
		if (nulls[i])
			continue;
		if (get_rel_relkind(relid) != RELKIND_RELATION)
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("sync_subscription_ready: relation %u is not a table", relid)));
		if (GetSubscriptionRelState(subid, relid, &lsn) != SUBREL_STATE_UNKNOWN)
			continue;
		AddSubscriptionRelState(subid, relid, SUBREL_STATE_READY, InvalidXLogRecPtr);
		added++;
	}
	PG_RETURN_INT32(added);
}

/*
 * refuge.sync_create_remote_slot(conninfo text, slot name, replace boolean)
 * returns pg_lsn: the slot's consistent point on the peer.  With replace, a
 * slot of that name there is dropped first (waiting for its reader to go).
 */
Datum
refuge_sync_create_remote_slot(PG_FUNCTION_ARGS)
{
	char	   *conninfo = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *slot = pstrdup(NameStr(*PG_GETARG_NAME(1)));
	bool		replace = PG_GETARG_BOOL(2);
	WalReceiverConn *wrconn;
	char	   *err = NULL;
	XLogRecPtr	lsn = InvalidXLogRecPtr;

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("sync_create_remote_slot: only a superuser creates replication slots")));
	ReplicationSlotValidateName(slot, ERROR);
	load_file("libpqwalreceiver", false);
	wrconn = walrcv_connect(conninfo, true, "refuge join", &err);
	if (wrconn == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not connect to the peer to create replication slot \"%s\": %s", slot,
						err ? err : "unknown error"),
				 errrefuge()));
	PG_TRY();
	{
		if (replace)
			ReplicationSlotDropAtPubNode(wrconn, slot, true);
		walrcv_create_slot(wrconn, slot, false, false, CRS_NOEXPORT_SNAPSHOT, &lsn);
	}
	PG_FINALLY();
	{
		walrcv_disconnect(wrconn);
	}
	PG_END_TRY();
	PG_RETURN_LSN(lsn);
}
