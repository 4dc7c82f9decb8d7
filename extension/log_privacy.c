/*
 * log_privacy.c
 *		Keep personal data out of the server log when an API call fails.
 *
 * With log_min_error_statement at its default (ERROR), PostgreSQL writes the
 * text of a failed statement to the server log, literal values included: a
 * failed refuge.record_gbv_incident() call put the survivor's narrative
 * there.  Every refuge API function is SECURITY DEFINER, so PostgreSQL
 * routes its calls through fmgr_hook: when an error leaves one of them
 * (FHET_ABORT), the error's report is marked to leave the statement out
 * (emit_log_hook sets hide_stmt).  The error itself still reaches the
 * client and the log; refuge's messages quote at most 40 characters of what
 * was sent.
 *
 * What this cannot hide: log_statement = 'all' or 'mod' logs statements
 * before they run, and pgaudit or auto_explain may log them too.
 * refuge.deployment_check() reports such settings.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/syscache.h"

#include "refuge.h"

static fmgr_hook_type prev_fmgr_hook = NULL;
static emit_log_hook_type prev_emit_log_hook = NULL;

/* an error went through a refuge API function since the last report */
static bool error_in_api = false;
static Oid	refuge_namespace = InvalidOid;

/*
 * The refuge API functions seen starting, so that an abort (when the
 * catalogue may not be read) is recognised without a lookup.  A small open
 * hash set of function OIDs: the API has about a hundred.
 */
#define API_SET_SIZE 1024
static Oid	api_set[API_SET_SIZE];

static bool
api_set_member(Oid fn)
{
	for (uint32 i = fn % API_SET_SIZE, n = 0; n < API_SET_SIZE; i = (i + 1) % API_SET_SIZE, n++)
	{
		if (api_set[i] == fn)
			return true;
		if (api_set[i] == InvalidOid)
			return false;
	}
	return false;
}

static void
api_set_add(Oid fn)
{
	for (uint32 i = fn % API_SET_SIZE, n = 0; n < API_SET_SIZE; i = (i + 1) % API_SET_SIZE, n++)
	{
		if (api_set[i] == fn)
			return;
		if (api_set[i] == InvalidOid)
		{
			api_set[i] = fn;
			return;
		}
	}
}

/* Is this SECURITY DEFINER function one of refuge's?  (catalogue lookup) */
static bool
is_refuge_api(Oid fn_oid)
{
	HeapTuple	tup;
	Oid			nsp;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn_oid));
	if (!HeapTupleIsValid(tup))
		return false;
	nsp = ((Form_pg_proc) GETSTRUCT(tup))->pronamespace;
	ReleaseSysCache(tup);
	if (nsp != refuge_namespace)
		refuge_namespace = get_namespace_oid("refuge", true);
	return OidIsValid(nsp) && nsp == refuge_namespace;
}

/*
 * PostgreSQL calls this around every SECURITY DEFINER function (all of
 * refuge's API is): remember ours at the start, note an error leaving them.
 */
static void
refuge_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	if (event == FHET_START && !api_set_member(flinfo->fn_oid) && is_refuge_api(flinfo->fn_oid))
		api_set_add(flinfo->fn_oid);
	else if (event == FHET_ABORT && api_set_member(flinfo->fn_oid))
		error_in_api = true;
}

/* Does the statement being run call refuge at all? */
static bool
statement_names_refuge(void)
{
	const char *q = debug_query_string;

	if (q == NULL)
		return false;
	for (; *q; q++)
		if ((*q == 'r' || *q == 'R') && pg_strncasecmp(q, "refuge", 6) == 0)
			return true;
	return false;
}

/*
 * An error that left a refuge API function, or arose in a statement that
 * calls refuge (an argument that did not parse as json or uuid, before the
 * function started): the server log gets the error, not the statement, its
 * context (the json parser quotes the text around the fault) or its detail.
 * The client still receives all of it.
 */
static void
refuge_emit_log_hook(ErrorData *edata)
{
	if (edata->elevel >= ERROR && (error_in_api || statement_names_refuge()))
	{
		edata->hide_stmt = true;
		edata->hide_ctx = true;
		if (edata->detail != NULL && edata->detail_log == NULL)
			edata->detail_log = pstrdup("(withheld from the server log: the statement may carry personal data)");
		/* a value quoted by a type's input function is not echoed at length (to the client either) */
		if (edata->message != NULL && strlen(edata->message) > 300)
		{
			int			cut = pg_mbcliplen(edata->message, strlen(edata->message), 300);
			char	   *m = palloc(cut + 64);

			memcpy(m, edata->message, cut);
			snprintf(m + cut, 64, "... (%zu bytes)", strlen(edata->message));
			edata->message = m;
		}
	}
	if (edata->elevel >= ERROR)
		error_in_api = false;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
RefugeLogPrivacyInit(void)
{
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = refuge_fmgr_hook;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = refuge_emit_log_hook;
}
