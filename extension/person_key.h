/*
 * person_key.h
 *		Keys per person for the audit trail's personal values (person_key.c).
 */
#ifndef REFUGE_PERSON_KEY_H
#define REFUGE_PERSON_KEY_H

#include "utils/uuid.h"

/* Are personal audit values sealed (vault key named, catalogue up to date)? */
extern bool PersonKeysActive(void);

typedef enum PersonSealResult
{
	PERSON_SEALED,
	PERSON_ERASED,				/* the key was destroyed: nothing is kept */
	PERSON_WITHHELD				/* no key here yet (a logging worker): nothing is kept */
} PersonSealResult;

/*
 * Seal plain (the text of a jsonb object) for the audit row of table_name
 * describing subject; a new person gets a key.  NULL (and *result says
 * why) when nothing may be sealed.
 */
extern char *PersonKeySeal(const pg_uuid_t *subject, const char *table_name, const char *plain, int len,
						   PersonSealResult *result);

#endif							/* REFUGE_PERSON_KEY_H */
