/*
 * template_order.c
 *		Equality and a total order for refuge.iris and refuge.fingerprint, so
 *		that DISTINCT, GROUP BY, UNION, ORDER BY, btree and hash indexes and
 *		the drivers that rely on them work with the biometric types.
 *
 * Two values are equal when their stored bytes are: the same template, not
 * the same person (that is <-> and %, the matchers).  The order is that of
 * the bytes, then the length: arbitrary but stable, as bytea's.  One set of
 * functions serves both types, whose values are plain varlenas.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "utils/fmgrprotos.h"

PG_FUNCTION_INFO_V1(refuge_template_eq);
PG_FUNCTION_INFO_V1(refuge_template_ne);
PG_FUNCTION_INFO_V1(refuge_template_lt);
PG_FUNCTION_INFO_V1(refuge_template_le);
PG_FUNCTION_INFO_V1(refuge_template_gt);
PG_FUNCTION_INFO_V1(refuge_template_ge);
PG_FUNCTION_INFO_V1(refuge_template_cmp);
PG_FUNCTION_INFO_V1(refuge_template_hash);
PG_FUNCTION_INFO_V1(refuge_template_hash_extended);

static int
template_cmp(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_VARLENA_PP(0);
	struct varlena *b = PG_GETARG_VARLENA_PP(1);
	Size		la = VARSIZE_ANY_EXHDR(a);
	Size		lb = VARSIZE_ANY_EXHDR(b);
	int			c = memcmp(VARDATA_ANY(a), VARDATA_ANY(b), Min(la, lb));

	if (c == 0 && la != lb)
		c = la < lb ? -1 : 1;
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return c;
}

Datum
refuge_template_eq(PG_FUNCTION_ARGS)
{
	/* unequal lengths are unequal values without reading them */
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) != toast_raw_datum_size(PG_GETARG_DATUM(1)))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(template_cmp(fcinfo) == 0);
}

Datum
refuge_template_ne(PG_FUNCTION_ARGS)
{
	if (toast_raw_datum_size(PG_GETARG_DATUM(0)) != toast_raw_datum_size(PG_GETARG_DATUM(1)))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(template_cmp(fcinfo) != 0);
}

Datum
refuge_template_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(template_cmp(fcinfo) < 0);
}

Datum
refuge_template_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(template_cmp(fcinfo) <= 0);
}

Datum
refuge_template_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(template_cmp(fcinfo) > 0);
}

Datum
refuge_template_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(template_cmp(fcinfo) >= 0);
}

Datum
refuge_template_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(template_cmp(fcinfo));
}

Datum
refuge_template_hash(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_PP(0);
	Datum		h = hash_any((const unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));

	PG_FREE_IF_COPY(v, 0);
	return h;
}

Datum
refuge_template_hash_extended(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_PP(0);
	Datum		h = hash_any_extended((const unsigned char *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v),
									  PG_GETARG_INT64(1));

	PG_FREE_IF_COPY(v, 0);
	return h;
}
