/*
 * status_context.c
 *		The context of the status change the current statement makes (source,
 *		reason, actor, approver, effective date), for the history trigger.
 *
 * It lives in backend memory, not in a setting: a setting can be set by any
 * caller with set_config(), and then it would describe a change the caller
 * never had the right to make.  Only roles that may execute
 * refuge.set_status_context() (the extension's owner, that is its SECURITY
 * DEFINER functions) can set it.  It is tied to the local transaction that set
 * it, so an error between setting and clearing cannot leak it into a later
 * transaction.
 */
#include "postgres.h"

#include "fmgr.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(refuge_set_status_context);
PG_FUNCTION_INFO_V1(refuge_get_status_context);

/* a change's context is a few fields; anything larger is not one */
#define STATUS_CONTEXT_MAX	8192

static char *context_text = NULL;
static LocalTransactionId context_lxid = InvalidLocalTransactionId;

/* refuge.set_status_context(ctx text): null clears it */
Datum
refuge_set_status_context(PG_FUNCTION_ARGS)
{
	if (context_text != NULL)
	{
		pfree(context_text);
		context_text = NULL;
	}
	context_lxid = InvalidLocalTransactionId;
	if (!PG_ARGISNULL(0))
	{
		text	   *t = PG_GETARG_TEXT_PP(0);

		if (VARSIZE_ANY_EXHDR(t) > STATUS_CONTEXT_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("status context: %zu bytes is more than a change's context (%d)",
							(size_t) VARSIZE_ANY_EXHDR(t), STATUS_CONTEXT_MAX)));
		context_text = MemoryContextStrdup(TopMemoryContext, text_to_cstring(t));
		context_lxid = MyProc->lxid;
	}
	PG_RETURN_VOID();
}

/* refuge.get_status_context() returns text: null unless set in this transaction */
Datum
refuge_get_status_context(PG_FUNCTION_ARGS)
{
	if (context_text == NULL || context_lxid != MyProc->lxid)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(context_text));
}
