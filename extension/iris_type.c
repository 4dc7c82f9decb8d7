/*
 * iris_type.c
 *		The refuge.iris type: an iris code and mask with their geometry.
 *
 * On disk: varlena header, 4 bytes of padding (so the 64-bit words of the
 * matcher's flat layout are 8-byte aligned; typalign is 'd'), then the
 * matcher's versioned layout (iris.h).  Everything is validated on input, so
 * the comparison functions never raise value-dependent errors and can be
 * LEAKPROOF; templates that cannot be compared (other geometry, too few bits
 * in common) are at distance 1.
 *
 * Text form: ROWSxCOLSxBITS:CODEHEX:MASKHEX (packed bytes, MSB first), e.g.
 * 8x128x2:5a3c...:ffff...  Code bits under a zero mask bit are stored as 0.
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "iris.h"
#include "refuge.h"
#include "iris_type.h"

PG_FUNCTION_INFO_V1(refuge_iris_in);
PG_FUNCTION_INFO_V1(refuge_iris_out);
PG_FUNCTION_INFO_V1(refuge_iris_recv);
PG_FUNCTION_INFO_V1(refuge_iris_send);
PG_FUNCTION_INFO_V1(refuge_iris_from_layout);
PG_FUNCTION_INFO_V1(refuge_iris_from_bytes);
PG_FUNCTION_INFO_V1(refuge_iris_distance);
PG_FUNCTION_INFO_V1(refuge_iris_match);
PG_FUNCTION_INFO_V1(refuge_iris_match_op);
PG_FUNCTION_INFO_V1(refuge_iris_valid_bits);
PG_FUNCTION_INFO_V1(refuge_iris_threshold_for);

typedef struct IrisDatum
{
	int32		vl_len_;		/* varlena header */
	int32		pad;			/* keeps the words 8-byte aligned */
	iris_header h;				/* followed by code and mask words */
} IrisDatum;

#define IRIS_DATUM_SIZE(flat)	(offsetof(IrisDatum, h) + (flat))
#define DatumGetIrisP(d)		((IrisDatum *) PG_DETOAST_DATUM(d))
#define PG_GETARG_IRIS_P(n)		DatumGetIrisP(PG_GETARG_DATUM(n))

double		refuge_iris_threshold = 0.32;

/* The threshold of the % operator: one place for the operator and index code. */
double
RefugeIrisThreshold(void)
{
	return refuge_iris_threshold;
}

void
RefugeIrisInit(void)
{
	DefineCustomRealVariable("refuge.iris_threshold",
							 "Normalised Hamming distance at or below which iris % iris is true.",
							 "0.32 is about one false match in 26 million comparisons (Daugman); "
							 "for identification use refuge.iris_threshold_for(gallery size, FPIR).",
							 &refuge_iris_threshold, 0.32, 0.0, 1.0, PGC_USERSET, 0, NULL, NULL, NULL);
}

static IrisDatum *
make_iris(const uint8_t *code, size_t code_len, const uint8_t *mask, size_t mask_len, int rows, int cols, int bpc,
		  int errcode_for_bad)
{
	size_t		flat = iris_size(rows, cols, bpc);
	IrisDatum  *r;
	rf_error	err;

	if (flat == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("iris geometry %d x %d x %d is not supported", rows, cols, bpc),
				 errhint("rows 1-1024, columns 2-8192, bits per cell 1-8, at most %d bits", IRIS_MAX_BITS)));
	r = palloc0(IRIS_DATUM_SIZE(flat));
	SET_VARSIZE(r, IRIS_DATUM_SIZE(flat));
	if (iris_from_bytes(code, code_len, mask, mask_len, rows, cols, bpc, &r->h, flat, &err) != RF_OK)
		ereport(ERROR, (errcode(errcode_for_bad), errmsg("invalid iris: %s", err.message)));
	return r;
}

/* Decode hex up to ':' or the end; returns bytes or -1 (and where it failed). */
static long
decode_hex(const char *s, uint8_t *out, size_t cap, const char **end)
{
	size_t		n = 0;

	while (*s && *s != ':')
	{
		int			hi = RefugeHexValue(s[0]);
		int			lo = s[1] ? RefugeHexValue(s[1]) : -1;

		if (hi < 0 || lo < 0 || n == cap)
		{
			*end = s;
			return -1;
		}
		out[n++] = (uint8_t) (hi << 4 | lo);
		s += 2;
	}
	*end = s;
	return (long) n;
}

Datum
refuge_iris_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int			rows, cols, bpc, used = 0;
	size_t		nbytes;
	uint8_t    *code;
	uint8_t    *mask;
	const char *p;
	long		nc, nm;

	if (sscanf(str, "%dx%dx%d:%n", &rows, &cols, &bpc, &used) != 3 || used == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type iris: \"%.40s%s\"", str, strlen(str) > 40 ? "..." : ""),
				 errdetail("Expected ROWSxCOLSxBITS:CODEHEX:MASKHEX, e.g. 8x128x2:...:....")));
	if (iris_size(rows, cols, bpc) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type iris: geometry %dx%dx%d is not supported", rows, cols, bpc)));
	nbytes = ((size_t) rows * cols * bpc + 7) / 8;
	code = palloc(nbytes + 1);
	mask = palloc(nbytes + 1);
	nc = decode_hex(str + used, code, nbytes + 1, &p);
	if (nc >= 0 && *p == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type iris: the mask is missing (expected ROWSxCOLSxBITS:CODEHEX:MASKHEX)")));
	if (nc < 0 || *p != ':')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type iris: bad code hex at character %d", (int) (p - str) + 1)));
	nm = decode_hex(p + 1, mask, nbytes + 1, &p);
	if (nm < 0 || *p != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type iris: bad mask hex at character %d", (int) (p - str) + 1)));
	PG_RETURN_POINTER(make_iris(code, (size_t) nc, mask, (size_t) nm, rows, cols, bpc, ERRCODE_INVALID_TEXT_REPRESENTATION));
}

Datum
refuge_iris_out(PG_FUNCTION_ARGS)
{
	IrisDatum  *t = PG_GETARG_IRIS_P(0);
	size_t		nbytes = (iris_nbits(&t->h) + 7) / 8;
	uint8_t    *code = palloc(nbytes);
	uint8_t    *mask = palloc(nbytes);
	StringInfoData s;
	static const char hex[] = "0123456789abcdef";

	iris_to_bytes(&t->h, code, mask);
	initStringInfo(&s);
	appendStringInfo(&s, "%dx%dx%d:", t->h.rows, t->h.cols, t->h.bits_per_cell);
	for (size_t i = 0; i < nbytes; i++)
	{
		appendStringInfoChar(&s, hex[code[i] >> 4]);
		appendStringInfoChar(&s, hex[code[i] & 15]);
	}
	appendStringInfoChar(&s, ':');
	for (size_t i = 0; i < nbytes; i++)
	{
		appendStringInfoChar(&s, hex[mask[i] >> 4]);
		appendStringInfoChar(&s, hex[mask[i] & 15]);
	}
	PG_RETURN_CSTRING(s.data);
}

/* Binary form: the flat layout, checked like any other input. */
Datum
refuge_iris_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	IrisDatum  *r;
	rf_error	err;

	if (len < (int) sizeof(iris_header) || len > (int) iris_size(1024, 128, 1) * 64)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), errmsg("invalid binary iris of %d bytes", len)));
	r = palloc0(IRIS_DATUM_SIZE(len));
	SET_VARSIZE(r, IRIS_DATUM_SIZE(len));
	memcpy(&r->h, pq_getmsgbytes(buf, len), len);
	if (iris_validate(&r->h, (size_t) len, &err) != RF_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION), errmsg("invalid binary iris: %s", err.message)));
	PG_RETURN_POINTER(r);
}

/* bytea::iris, the same layout as the binary form (iris::bytea is the send function). */
Datum
refuge_iris_from_layout(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	return DirectFunctionCall1(refuge_iris_recv, PointerGetDatum(&buf));
}

Datum
refuge_iris_send(PG_FUNCTION_ARGS)
{
	IrisDatum  *t = PG_GETARG_IRIS_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, (const char *) &t->h, VARSIZE(t) - offsetof(IrisDatum, h));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* refuge.iris_from_bytes(code bytea, mask bytea, rows int, cols int, bits_per_cell int) */
Datum
refuge_iris_from_bytes(PG_FUNCTION_ARGS)
{
	bytea	   *code = PG_GETARG_BYTEA_PP(0);
	bytea	   *mask = PG_GETARG_BYTEA_PP(1);

	PG_RETURN_POINTER(make_iris((const uint8_t *) VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code),
								(const uint8_t *) VARDATA_ANY(mask), VARSIZE_ANY_EXHDR(mask),
								PG_GETARG_INT32(2), PG_GETARG_INT32(3), PG_GETARG_INT32(4),
								ERRCODE_INVALID_BINARY_REPRESENTATION));
}

/* Best normalised HD over the default shifts; 1 when not comparable. */
static double
distance(const IrisDatum *a, const IrisDatum *b)
{
	iris_params p = iris_default_params(&a->h);
	iris_match	m;

	if (iris_compare(&a->h, &b->h, &p, &m, NULL) != RF_OK)
		return 1.0;
	return m.hd_norm;
}

/*
 * Distance of two detoasted iris datums for callers in other files, with the
 * number of rotations compared (for the impostor model); 1.0 when the
 * geometries differ or too few bits are common.
 */
double
RefugeIrisDistance(const void *a, const void *b, int *nshift)
{
	const IrisDatum *ia = (const IrisDatum *) a;
	const IrisDatum *ib = (const IrisDatum *) b;
	iris_params p = iris_default_params(&ia->h);

	*nshift = 2 * p.max_shift + 1;
	if (!iris_same_geometry(&ia->h, &ib->h))
		return 1.0;
	return distance(ia, ib);
}

/*
 * A prepared probe (all its rotations) for the value an argument had last
 * time, kept in fn_extra: in a scan one side is the same on every row, and
 * each row then costs one run of the 1:N kernel.  Same result as distance().
 */
typedef struct ProbeCache
{
	Size		len;
	IrisDatum  *value;
	iris_probe	probe;
	void	   *scratch;
} ProbeCache;

static double
cached_distance(FunctionCallInfo fcinfo, const IrisDatum *a, const IrisDatum *b)
{
	ProbeCache *c = (ProbeCache *) fcinfo->flinfo->fn_extra;
	const IrisDatum *other;
	float		d;

	if (!iris_same_geometry(&a->h, &b->h))
		return 1.0;
	if (c != NULL && c->len == VARSIZE(a) && memcmp(c->value, a, c->len) == 0)
		other = b;				/* the first argument is the cached probe */
	else
	{
		/* by default the second argument is the constant one (t <-> probe) */
		other = a;
		if (c == NULL || c->len != VARSIZE(b) || memcmp(c->value, b, c->len) != 0)
		{
			iris_params p = iris_default_params(&b->h);
			MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

			if (c == NULL)
			{
				c = palloc0(sizeof(ProbeCache));
				fcinfo->flinfo->fn_extra = c;
			}
			if (c->value)
				pfree(c->value);
			if (c->scratch)
				pfree(c->scratch);
			c->len = VARSIZE(b);
			c->value = palloc(c->len);
			memcpy(c->value, b, c->len);
			c->scratch = palloc(iris_probe_size(&b->h, &p));
			MemoryContextSwitchTo(old);
			if (iris_probe_init(&c->probe, &c->value->h, &p, c->scratch, iris_probe_size(&b->h, &p), NULL) != RF_OK)
			{
				c->len = 0;
				return distance(a, b);
			}
		}
	}
	iris_scan(&c->probe, (const uint8_t *) &other->h, 0, 1, &d);
	return d;
}

Datum
refuge_iris_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(cached_distance(fcinfo, PG_GETARG_IRIS_P(0), PG_GETARG_IRIS_P(1)));
}

/* refuge.match(iris, iris, threshold): IMMUTABLE, for anything pinned or shipped */
Datum
refuge_iris_match(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cached_distance(fcinfo, PG_GETARG_IRIS_P(0), PG_GETARG_IRIS_P(1)) <= PG_GETARG_FLOAT8(2));
}

/* iris % iris: at refuge.iris_threshold (STABLE) */
Datum
refuge_iris_match_op(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(cached_distance(fcinfo, PG_GETARG_IRIS_P(0), PG_GETARG_IRIS_P(1)) <= RefugeIrisThreshold());
}

Datum
refuge_iris_valid_bits(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) PG_GETARG_IRIS_P(0)->h.valid_bits);
}

/* refuge.iris_threshold_for(gallery_size, fpir, dof default 249, shifts default 7) */
Datum
refuge_iris_threshold_for(PG_FUNCTION_ARGS)
{
	double		gallery = PG_GETARG_FLOAT8(0);
	double		fpir = PG_GETARG_FLOAT8(1);
	double		dof = PG_GETARG_FLOAT8(2);
	int32		shifts = PG_GETARG_INT32(3);

	if (!(gallery >= 1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("gallery_size: %g is not 1 or more", gallery)));
	if (!(fpir > 0 && fpir < 1))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("fpir: %g is not between 0 and 1", fpir)));
	if (!(dof >= 10))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("dof: %g is below 10", dof)));
	if (shifts < 1 || shifts > 2 * IRIS_MAX_SHIFT + 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("shifts: %d is not 1-%d", shifts, 2 * IRIS_MAX_SHIFT + 1)));
	PG_RETURN_FLOAT8(iris_threshold(gallery, fpir, dof, shifts));
}
