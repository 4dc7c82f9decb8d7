/*
 * log_privacy.c
 *		Keep personal data out of the server log when a statement fails.
 *
 * With log_min_error_statement at its default (ERROR), PostgreSQL writes the
 * text of a failed statement to the server log, literal values included: a
 * failed refuge.record_gbv_incident() call put the survivor's narrative
 * there.  Values also reach the log through an error's context (the json
 * parser quotes the text around a syntax error) and detail (a unique
 * violation quotes the key), and input errors quote the value in their
 * message.  Knowing which statement "concerns refuge" is not possible in
 * general (search_path, EXECUTE of a prepared statement, a wrapper
 * function, an argument that fails to parse before any function starts), so
 * on a server that preloads refuge every report of WARNING or above goes to
 * the server log without its statement, context and detail, and an input
 * error's message without the value it quotes (the client loses that
 * echo too: it sent the value; everything else still reaches it).
 * refuge.log_error_detail (superuser only, default off)
 * restores PostgreSQL's behaviour for a debugging session.
 *
 * What this cannot hide: log_statement = 'all' or 'mod' logs statements
 * before they run, and pgaudit or auto_explain may log them too.
 * refuge.deployment_check() reports such settings.
 */
#include "postgres.h"

#include "replication/logicalworker.h"

#include "mb/pg_wchar.h"
#include "utils/elog.h"
#include "utils/guc.h"

#include "log_privacy.h"

static emit_log_hook_type prev_emit_log_hook = NULL;

/* refuge.log_error_detail: the server log gets statements and details again */
static bool log_error_detail = false;

/*
 * The message of an input error, without the value it quotes: type input
 * functions report 'invalid input syntax for type uuid: "<value>"', and the
 * value may be anything a caller typed.
 */
static void
withhold_quoted_value(ErrorData *edata)
{
	char	   *quote;

	if (edata->message == NULL || ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION)
		return;
	/* the input errors of types ("... for type T: "v""), not refuge's own field errors */
	if (strstr(edata->message, " for type ") == NULL && strncmp(edata->message, "malformed ", 10) != 0 &&
		strncmp(edata->message, "date/time field value out of range", 34) != 0)
		return;
	quote = strstr(edata->message, ": \"");
	if (quote != NULL)
	{
		size_t		keep = quote - edata->message;
		char	   *m = palloc(keep + 32);

		memcpy(m, edata->message, keep);
		strcpy(m + keep, " (value withheld)");
		edata->message = m;
	}
}

/*
 * Every report of WARNING or above: the server log gets the error, not the
 * statement, its context or its detail; messages are cut at 300 bytes.
 */
/*
 * An API error raised on purpose (refuge.raise_field: a field path, a
 * SQLSTATE, a problem; marked with schema "refuge") reaches the client
 * without the lines of PL/pgSQL context naming every function it went
 * through; errors that PostgreSQL raised inside those functions keep theirs.
 */
static bool
raised_by_refuge(ErrorData *edata)
{
	return edata->funcname != NULL && strcmp(edata->funcname, "exec_stmt_raise") == 0 &&
		edata->schema_name != NULL && strcmp(edata->schema_name, "refuge") == 0;
}

static void
refuge_emit_log_hook(ErrorData *edata)
{
	if (edata->elevel >= ERROR && raised_by_refuge(edata))
		edata->context = NULL;
	if (edata->elevel >= WARNING && !log_error_detail)
	{
		edata->hide_stmt = true;
		/*
		 * A logical replication worker's context names the origin, the
		 * table, the transaction and its LSN, which ALTER SUBSCRIPTION ...
		 * SKIP needs; PL/pgSQL lines in it name statements, not values.
		 */
		edata->hide_ctx = !IsLogicalWorker();
		if (edata->detail != NULL || edata->detail_log != NULL)
			edata->detail_log = pstrdup("(withheld from the server log: it may carry personal data)");
		withhold_quoted_value(edata);
		if (edata->message != NULL && strlen(edata->message) > 300)
		{
			int			cut = pg_mbcliplen(edata->message, strlen(edata->message), 300);
			char	   *m = palloc(cut + 64);

			memcpy(m, edata->message, cut);
			snprintf(m + cut, 64, "... (%zu bytes)", strlen(edata->message));
			edata->message = m;
		}
	}
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
RefugeLogPrivacyInit(void)
{
	DefineCustomBoolVariable("refuge.log_error_detail",
							 "Lets the server log carry failed statements, error contexts and details.",
							 "Off: they may carry personal data; the client still receives them.",
							 &log_error_detail, false, PGC_SUSET, 0, NULL, NULL, NULL);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = refuge_emit_log_hook;
}
