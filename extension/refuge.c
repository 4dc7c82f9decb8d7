/*
 * refuge.c
 *		Module entry point: library magic, settings, and the library version.
 *
 * Business rules live in the SQL API (functions/); this file only glues the
 * C parts of refuge into the server.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "refuge.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Module load: define the settings, then reserve the "refuge." prefix so
 * that a misspelt refuge.* setting is reported instead of silently kept.
 */
void
_PG_init(void)
{
	RefugeIrisInit();
	RefugeFingerprintInit();
	RefugeFingerprintIndexInit();
	RefugeIdentityInit();
	RefugeVaultInit();
	MarkGUCPrefixReserved("refuge");
}

PG_FUNCTION_INFO_V1(refuge_lib_version);

/*
 * Version of the loaded shared library.  The install and upgrade scripts
 * compare it with the catalogue version so that a library left behind by a
 * half-finished upgrade is noticed.
 */
Datum
refuge_lib_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(REFUGE_VERSION));
}

/*
 * Value of one hexadecimal digit, or -1.  Our own, not PostgreSQL's
 * hex_decode: that one quotes the offending character in its error, and the
 * vault key must never reach a message.
 */
int
RefugeHexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
