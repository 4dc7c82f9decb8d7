/*
 * refuge.c
 *		Module entry point: library magic, settings, and the library version.
 *
 * Business rules live in the SQL API (functions/); this file only glues the
 * C parts of refuge into the server.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "refuge.h"
#include "disclosure.h"
#include "fingerprint_index.h"
#include "fingerprint_type.h"
#include "identity.h"
#include "image.h"
#include "iris_type.h"
#include "log_privacy.h"
#include "sync.h"
#include "vault.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * Was the library loaded by shared_preload_libraries?  Backends and workers
 * forked from the postmaster inherit the answer.  Superuser-only settings
 * (the vault key file above all) are hidden from other roles only when they
 * are defined before any session starts: a session that has not loaded the
 * library would otherwise show their values from postgresql.conf as
 * placeholders to anyone.
 */
bool		RefugePreloaded = false;

/*
 * Module load: define the settings, then reserve the "refuge." prefix so
 * that a misspelt refuge.* setting is reported instead of silently kept.
 */
void
_PG_init(void)
{
	if (process_shared_preload_libraries_in_progress)
		RefugePreloaded = true;
	RefugeIrisInit();
	RefugeFingerprintInit();
	RefugeFingerprintIndexInit();
	RefugeIdentityInit();
	RefugeVaultInit();
	RefugeDocumentKeyInit();
	RefugeImageInit();
	RefugeLogPrivacyInit();
	RefugeDisclosureInit();
	RefugeSyncInit();
	RefugePdfInit();
	RefugeNamesInit();
	MarkGUCPrefixReserved("refuge");
}

PG_FUNCTION_INFO_V1(refuge_lib_version);
PG_FUNCTION_INFO_V1(refuge_preloaded);

/* refuge.preloaded(): is refuge in shared_preload_libraries? */
Datum
refuge_preloaded(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(RefugePreloaded);
}

/*
 * Raise an error unless the library was preloaded: what needs its settings
 * hidden from the server's start (the vault key) refuses to run otherwise.
 */
void
RefugeRequirePreload(const char *what)
{
	if (!RefugePreloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s needs refuge in shared_preload_libraries", what),
				 errdetail("Loaded later, the superuser-only settings of refuge (refuge.vault_key_file above all) "
						   "are readable by any role in sessions that have not loaded the library."),
				 errhint("Add refuge to shared_preload_libraries in postgresql.conf and restart the server.")));
}

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
 * A relation of schema refuge by name, or InvalidOid: before the extension
 * exists, or before the update that makes the relation.
 */
Oid
RefugeRelid(const char *name)
{
	Oid			nsp = get_namespace_oid("refuge", true);

	return OidIsValid(nsp) ? get_relname_relid(name, nsp) : InvalidOid;
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
