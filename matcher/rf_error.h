/*
 * rf_error.h
 *		Errors of the biometric core: a code, the byte offset in the input
 *		where the problem is (or -1), and a message for people.
 *
 * The core never allocates or reports by itself; the caller owns an rf_error
 * and decides what to do (the extension turns it into ereport).
 */
#ifndef RF_ERROR_H
#define RF_ERROR_H

#include <stddef.h>

typedef enum rf_status
{
	RF_OK = 0,
	RF_EINVAL,					/* an argument is out of range */
	RF_ETRUNCATED,				/* input ends before its content */
	RF_EFORMAT,					/* wrong magic, version or structure */
	RF_ERANGE,					/* a field holds an impossible value */
	RF_ELENGTH,					/* declared and actual lengths disagree */
	RF_EMISMATCH,				/* two templates cannot be compared */
	RF_ETOOFEW,					/* too few valid bits / minutiae to decide */
	RF_ESPACE					/* output buffer too small */
} rf_status;

typedef struct rf_error
{
	rf_status	status;
	long		offset;			/* byte offset in the input, -1 when none */
	char		message[200];
} rf_error;

/* Fill err (when given) and return status.  printf-style message. */
rf_status	rf_fail(rf_error *err, rf_status status, long offset, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

#endif							/* RF_ERROR_H */
