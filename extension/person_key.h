/*
 * person_key.h
 *		Keys per person for the audit trail's personal values (person_key.c).
 */
#ifndef REFUGE_PERSON_KEY_H
#define REFUGE_PERSON_KEY_H

#include "utils/uuid.h"

/* Are personal audit values sealed (vault key named, catalogue up to date)? */
extern bool PersonKeysActive(void);

/*
 * Seal plain (the text of a jsonb object) for the audit row of table_name
 * describing subject; a new person gets a key.  NULL once the person's key
 * was destroyed (erased).
 */
extern char *PersonKeySeal(const pg_uuid_t *subject, const char *table_name, const char *plain, int len);

#endif							/* REFUGE_PERSON_KEY_H */
