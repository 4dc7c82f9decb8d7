/*
 * rf_error.c
 *		Filling an rf_error.
 */
#include "rf_error.h"

#include <stdarg.h>
#include <stdio.h>

rf_status
rf_fail(rf_error *err, rf_status status, long offset, const char *fmt,...)
{
	if (err != NULL)
	{
		va_list		ap;

		err->status = status;
		err->offset = offset;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return status;
}
