/*
 * fingerprint_type.c
 *		The refuge.fingerprint type: one finger view's minutiae in the
 *		canonical frame of matcher/fp_record.h (micrometres, 1/65536 turn),
 *		with finger position, impression, quality, image size and resolution.
 *
 * Text form (integers only, so it round-trips exactly):
 *   pos=2 imp=0 q=80 size=388x374 ppcm=197x197 m=X:Y:ANGLE:TYPE:QUALITY ...
 * Everything is validated on input; scoring never fails on a value.
 *
 * Scores: refuge.fingerprint_score is calibrated, 10 log10(1 / FMR) (20 = a
 * false-match rate of 1 %, 40 = 0.01 %); the distance a <-> b is that FMR
 * itself (1 = no evidence, smaller = stronger match).
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "fp_match.h"
#include "fp_record.h"
#include "fingerprint_type.h"

PG_FUNCTION_INFO_V1(refuge_fingerprint_in);
PG_FUNCTION_INFO_V1(refuge_fingerprint_out);
PG_FUNCTION_INFO_V1(refuge_fingerprint_recv);
PG_FUNCTION_INFO_V1(refuge_fingerprint_send);
PG_FUNCTION_INFO_V1(refuge_fingerprint_from_xyt);
PG_FUNCTION_INFO_V1(refuge_fingerprint_from_record);
PG_FUNCTION_INFO_V1(refuge_fingerprint_to_iso);
PG_FUNCTION_INFO_V1(refuge_fingerprint_score);
PG_FUNCTION_INFO_V1(refuge_fingerprint_distance);
PG_FUNCTION_INFO_V1(refuge_fingerprint_match);
PG_FUNCTION_INFO_V1(refuge_fingerprint_match_op);
PG_FUNCTION_INFO_V1(refuge_fingerprint_minutiae);
PG_FUNCTION_INFO_V1(refuge_fingerprint_quality);
PG_FUNCTION_INFO_V1(refuge_fingerprint_position);

#define FP_DATUM_VERSION 1

typedef struct FingerprintDatum
{
	int32		vl_len_;
	uint8		version;
	uint8		position;
	uint8		impression;
	uint8		quality;
	uint16		width;
	uint16		height;
	uint16		res_x;
	uint16		res_y;
	uint16		nminutiae;
	uint16		reserved;
	fp_minutia	minutiae[FLEXIBLE_ARRAY_MEMBER];
} FingerprintDatum;

#define FP_DATUM_SIZE(n)		(offsetof(FingerprintDatum, minutiae) + (n) * sizeof(fp_minutia))
#define PG_GETARG_FP_P(n)		((FingerprintDatum *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

double		refuge_fingerprint_threshold = 40.0;

double
RefugeFingerprintThreshold(void)
{
	return refuge_fingerprint_threshold;
}

void
RefugeFingerprintInit(void)
{
	DefineCustomRealVariable("refuge.fingerprint_threshold",
							 "Calibrated score at or above which fingerprint % fingerprint is true.",
							 "Scores are 10 log10(1/FMR): 40 is a false-match rate of 0.01 %.",
							 &refuge_fingerprint_threshold, 40.0, 0.0, 1000.0, PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Check every field a view can hold (input from text or binary). */
static void
check_view(const FingerprintDatum *d, int errcode_for_bad)
{
	if (d->position > 10 || (d->impression > 3 && d->impression != 8) || d->quality > 100 ||
		d->width == 0 || d->height == 0 || d->width > 16383 || d->height > 16383 ||
		d->res_x < 40 || d->res_y < 40 || d->res_x > 2000 || d->res_y > 2000 || d->nminutiae > FP_MAX_MINUTIAE)
		ereport(ERROR,
				(errcode(errcode_for_bad),
				 errmsg("fingerprint header out of range: position %d (0-10), impression %d (0-3, 8), quality %d (0-100), "
						"size %dx%d (1-16383 pixels a side), %dx%d pixels/cm (40-2000), %d minutiae (at most %d)",
						d->position, d->impression, d->quality, d->width, d->height, d->res_x, d->res_y,
						d->nminutiae, FP_MAX_MINUTIAE),
				 errdetail("%s is out of range.",
						   d->position > 10 ? "The finger position" :
						   (d->impression > 3 && d->impression != 8) ? "The impression type" :
						   d->quality > 100 ? "The quality" :
						   (d->width == 0 || d->width > 16383) ? "The image width" :
						   (d->height == 0 || d->height > 16383) ? "The image height" :
						   (d->res_x < 40 || d->res_x > 2000) ? "The horizontal resolution" :
						   (d->res_y < 40 || d->res_y > 2000) ? "The vertical resolution" : "The number of minutiae")));
	for (int i = 0; i < d->nminutiae; i++)
	{
		const fp_minutia *m = &d->minutiae[i];
		double		wx = d->width * 10000.0 / d->res_x, wy = d->height * 10000.0 / d->res_y;

		if (m->x < 0 || m->y < 0 || m->x > wx || m->y > wy || m->type > 2 || (m->quality > 100 && m->quality != 255))
			ereport(ERROR,
					(errcode(errcode_for_bad),
					 errmsg("fingerprint minutia %d out of range: (%d, %d) micrometres in a %.0f x %.0f image, type %d, quality %d",
							i + 1, m->x, m->y, wx, wy, m->type, m->quality)));
	}
}

/* errcode_for_bad: 22P03 when the view came from a record's bytes */
static FingerprintDatum *
from_view(const fp_record *rec, int v, int errcode_for_bad)
{
	const fp_view *view = &rec->views[v];
	FingerprintDatum *d = palloc0(FP_DATUM_SIZE(view->nminutiae));

	SET_VARSIZE(d, FP_DATUM_SIZE(view->nminutiae));
	d->version = FP_DATUM_VERSION;
	d->position = view->position;
	d->impression = view->impression;
	d->quality = view->quality;
	d->width = rec->width;
	d->height = rec->height;
	d->res_x = rec->res_x;
	d->res_y = rec->res_y;
	d->nminutiae = view->nminutiae;
	memcpy(d->minutiae, view->minutiae, view->nminutiae * sizeof(fp_minutia));
	/* whatever the record allowed, a stored value must read back from its text form */
	check_view(d, errcode_for_bad);
	return d;
}

void *
RefugeFingerprintFromView(const fp_record *rec, int view)
{
	return from_view(rec, view, ERRCODE_INVALID_PARAMETER_VALUE);
}

static void
to_record(const FingerprintDatum *d, fp_record *rec)
{
	memset(rec, 0, offsetof(fp_record, views));
	rec->format = FP_ISO_2005;
	rec->width = d->width;
	rec->height = d->height;
	rec->res_x = d->res_x;
	rec->res_y = d->res_y;
	rec->nviews = 1;
	memset(&rec->views[0], 0, offsetof(fp_view, minutiae));
	rec->views[0].position = d->position;
	rec->views[0].impression = d->impression;
	rec->views[0].quality = d->quality;
	rec->views[0].nminutiae = d->nminutiae;
	memcpy(rec->views[0].minutiae, d->minutiae, d->nminutiae * sizeof(fp_minutia));
}

Datum
refuge_fingerprint_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	int			pos, imp, q, w, h, rx, ry, used = 0;
	FingerprintDatum *d;
	const char *p;
	int			n = 0;

	if (sscanf(str, "pos=%d imp=%d q=%d size=%dx%d ppcm=%dx%d m=%n", &pos, &imp, &q, &w, &h, &rx, &ry, &used) != 7 || used == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type fingerprint: \"%.40s%s\"", str, strlen(str) > 40 ? "..." : ""),
				 errdetail("Expected pos=N imp=N q=N size=WxH ppcm=XxY m=X:Y:ANGLE:TYPE:QUALITY ...")));
	d = palloc0(FP_DATUM_SIZE(FP_MAX_MINUTIAE));
	p = str + used;
	while (*p)
	{
		long		v[5];
		char	   *end;

		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (n == FP_MAX_MINUTIAE)
			ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							errmsg("invalid input syntax for type fingerprint: more than %d minutiae", FP_MAX_MINUTIAE)));
		for (int k = 0; k < 5; k++)
		{
			v[k] = strtol(p, &end, 10);
			if (end == p || (k < 4 && *end != ':') || (k == 4 && *end != ' ' && *end != '\0') ||
				v[k] < 0 || v[k] > 100000000)
				ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
								errmsg("invalid input syntax for type fingerprint: minutia %d at character %d", n + 1,
									   (int) (p - str) + 1)));
			p = end + (k < 4 ? 1 : 0);
		}
		if (v[2] > 65535 || v[4] > 255)
			ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							errmsg("invalid input syntax for type fingerprint: minutia %d: angle %ld (0-65535) or quality %ld",
								   n + 1, v[2], v[4])));
		d->minutiae[n].x = (int32) v[0];
		d->minutiae[n].y = (int32) v[1];
		d->minutiae[n].angle = (uint16) v[2];
		d->minutiae[n].type = (uint8) (v[3] > 255 ? 255 : v[3]);
		d->minutiae[n].quality = (uint8) v[4];
		n++;
	}
	if (pos < 0 || pos > 255 || imp < 0 || imp > 255 || q < 0 || q > 255 || w < 0 || w > 65535 || h < 0 || h > 65535 ||
		rx < 0 || rx > 65535 || ry < 0 || ry > 65535)
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("invalid input syntax for type fingerprint: header value out of range")));
	SET_VARSIZE(d, FP_DATUM_SIZE(n));
	d->version = FP_DATUM_VERSION;
	d->position = (uint8) pos;
	d->impression = (uint8) imp;
	d->quality = (uint8) q;
	d->width = (uint16) w;
	d->height = (uint16) h;
	d->res_x = (uint16) rx;
	d->res_y = (uint16) ry;
	d->nminutiae = (uint16) n;
	check_view(d, ERRCODE_INVALID_TEXT_REPRESENTATION);
	PG_RETURN_POINTER(d);
}

Datum
refuge_fingerprint_out(PG_FUNCTION_ARGS)
{
	FingerprintDatum *d = PG_GETARG_FP_P(0);
	StringInfoData s;

	initStringInfo(&s);
	appendStringInfo(&s, "pos=%d imp=%d q=%d size=%dx%d ppcm=%dx%d m=", d->position, d->impression, d->quality,
					 d->width, d->height, d->res_x, d->res_y);
	for (int i = 0; i < d->nminutiae; i++)
		appendStringInfo(&s, "%s%d:%d:%d:%d:%d", i ? " " : "", d->minutiae[i].x, d->minutiae[i].y,
						 d->minutiae[i].angle, d->minutiae[i].type, d->minutiae[i].quality);
	PG_RETURN_CSTRING(s.data);
}

/*
 * Binary form: the template itself, field by field in network byte order,
 * so that binary COPY, binary drivers and logical replication in binary
 * mode carry it unchanged (an ISO record rounds angles and coordinates):
 *
 *		"RFP" version(1) position impression quality
 *		width height res_x res_y nminutiae (uint16 each)
 *		nminutiae x { x y (int32) angle (uint16) type quality (uint8) }
 *
 * recv also accepts an ISO/IEC 19794-2 or ANSI 378 record ("FMR\0") with one
 * view, as earlier versions sent.
 */
#define FP_BINARY_MAGIC "RFP"
#define FP_BINARY_VERSION 1

Datum
refuge_fingerprint_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	FingerprintDatum *d;
	int			n;

	if (len >= 4 && memcmp(buf->data + buf->cursor, "FMR", 4) == 0)
	{
		fp_record  *rec = palloc(sizeof(fp_record));
		rf_error	err;

		if (fp_parse_record((const uint8_t *) pq_getmsgbytes(buf, len), len, 0, rec, &err) != RF_OK)
			ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							errmsg("invalid binary fingerprint: %s", err.message),
							errdetail("At byte %ld of %d.", err.offset, len)));
		if (rec->nviews != 1)
			ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							errmsg("invalid binary fingerprint: %d views, expected 1", rec->nviews)));
		PG_RETURN_POINTER(from_view(rec, 0, ERRCODE_INVALID_BINARY_REPRESENTATION));
	}
	if (len < 4 + 3 + 5 * 2 || memcmp(buf->data + buf->cursor, FP_BINARY_MAGIC, 3) != 0 ||
		buf->data[buf->cursor + 3] != FP_BINARY_VERSION)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("invalid binary fingerprint: %d bytes without the RFP version 1 header", len)));
	buf->cursor += 4;
	n = (len - 17) / 12;
	if ((len - 17) % 12 != 0 || n > FP_MAX_MINUTIAE)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("invalid binary fingerprint: %d bytes is not a header and whole minutiae", len)));
	d = palloc0(FP_DATUM_SIZE(n));
	SET_VARSIZE(d, FP_DATUM_SIZE(n));
	d->version = FP_DATUM_VERSION;
	d->position = pq_getmsgint(buf, 1);
	d->impression = pq_getmsgint(buf, 1);
	d->quality = pq_getmsgint(buf, 1);
	d->width = pq_getmsgint(buf, 2);
	d->height = pq_getmsgint(buf, 2);
	d->res_x = pq_getmsgint(buf, 2);
	d->res_y = pq_getmsgint(buf, 2);
	d->nminutiae = pq_getmsgint(buf, 2);
	if (d->nminutiae != n)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("invalid binary fingerprint: header says %d minutiae, the value holds %d", d->nminutiae, n)));
	for (int i = 0; i < n; i++)
	{
		d->minutiae[i].x = (int32) pq_getmsgint(buf, 4);
		d->minutiae[i].y = (int32) pq_getmsgint(buf, 4);
		d->minutiae[i].angle = pq_getmsgint(buf, 2);
		d->minutiae[i].type = pq_getmsgint(buf, 1);
		d->minutiae[i].quality = pq_getmsgint(buf, 1);
	}
	check_view(d, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(d);
}

static bytea *
to_iso(const FingerprintDatum *d)
{
	fp_record  *rec = palloc(sizeof(fp_record));
	bytea	   *out;
	size_t		len;

	to_record(d, rec);
	out = palloc(VARHDRSZ + fp_iso_size(rec));
	if (fp_write_iso(rec, (uint8_t *) VARDATA(out), fp_iso_size(rec), &len, NULL) != RF_OK)
		elog(ERROR, "refuge: could not write an ISO record");
	SET_VARSIZE(out, VARHDRSZ + len);
	return out;
}

Datum
refuge_fingerprint_send(PG_FUNCTION_ARGS)
{
	FingerprintDatum *d = PG_GETARG_FP_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, FP_BINARY_MAGIC, 3);
	pq_sendint8(&buf, FP_BINARY_VERSION);
	pq_sendint8(&buf, d->position);
	pq_sendint8(&buf, d->impression);
	pq_sendint8(&buf, d->quality);
	pq_sendint16(&buf, d->width);
	pq_sendint16(&buf, d->height);
	pq_sendint16(&buf, d->res_x);
	pq_sendint16(&buf, d->res_y);
	pq_sendint16(&buf, d->nminutiae);
	for (int i = 0; i < d->nminutiae; i++)
	{
		pq_sendint32(&buf, d->minutiae[i].x);
		pq_sendint32(&buf, d->minutiae[i].y);
		pq_sendint16(&buf, d->minutiae[i].angle);
		pq_sendint8(&buf, d->minutiae[i].type);
		pq_sendint8(&buf, d->minutiae[i].quality);
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* refuge.fingerprint_from_xyt(xyt text, width int, height int, dpi int, finger_position int default 0) */
Datum
refuge_fingerprint_from_xyt(PG_FUNCTION_ARGS)
{
	text	   *xyt = PG_GETARG_TEXT_PP(0);
	fp_record  *rec = palloc(sizeof(fp_record));
	rf_error	err;

	if (fp_parse_xyt(VARDATA_ANY(xyt), VARSIZE_ANY_EXHDR(xyt), PG_GETARG_INT32(1), PG_GETARG_INT32(2),
					 PG_GETARG_INT32(3), PG_GETARG_INT32(4), rec, &err) != RF_OK)
		ereport(ERROR,
				(errcode(err.status == RF_EINVAL ? ERRCODE_INVALID_PARAMETER_VALUE : ERRCODE_INVALID_TEXT_REPRESENTATION),
				 err.status == RF_EINVAL ? errmsg("fingerprint_from_xyt: %s", err.message)
				 : errmsg("invalid xyt text for type fingerprint: %s", err.message),
				 err.offset >= 0 ? errdetail("At byte %ld of %d.", err.offset, (int) VARSIZE_ANY_EXHDR(xyt)) : 0));
	PG_RETURN_POINTER(from_view(rec, 0, ERRCODE_INVALID_PARAMETER_VALUE));
}

/* refuge.fingerprint_from_record(record bytea, view int default 1) */
Datum
refuge_fingerprint_from_record(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int32		view = PG_GETARG_INT32(1);
	fp_record  *rec = palloc(sizeof(fp_record));
	rf_error	err;

	if (fp_parse_record((const uint8_t *) VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), FP_ALLOW_ZERO_PADDING, rec, &err) != RF_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid fingerprint record: %s", err.message),
				 err.offset >= 0 ? errdetail("At byte %ld of %d.", err.offset, (int) VARSIZE_ANY_EXHDR(b)) : 0));
	if (view < 1 || view > rec->nviews)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("view: the record has %d finger view%s; %d does not exist", rec->nviews,
							   rec->nviews == 1 ? "" : "s", view)));
	PG_RETURN_POINTER(from_view(rec, view - 1, ERRCODE_INVALID_BINARY_REPRESENTATION));
}

Datum
refuge_fingerprint_to_iso(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(to_iso(PG_GETARG_FP_P(0)));
}

/*
 * The matcher's template of a fingerprint.  The template of the last value
 * seen in each argument position is kept in fn_extra: in a scan the probe is
 * the same on every row and is built once.
 */
typedef struct TemplateCache
{
	Size		len[2];
	char	   *value[2];
	fpm_template *t[2];
} TemplateCache;

static const fpm_template *
template_of(FunctionCallInfo fcinfo, int arg, const FingerprintDatum *d, fpm_template *scratch)
{
	TemplateCache *c = (TemplateCache *) fcinfo->flinfo->fn_extra;
	Size		len = VARSIZE(d);
	fp_record  *rec;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TemplateCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->value[arg] != NULL && c->len[arg] == len && memcmp(c->value[arg], d, len) == 0)
		return c->t[arg];
	rec = palloc(sizeof(fp_record));
	to_record(d, rec);
	fpm_build(&rec->views[0], scratch);
	pfree(rec);
	/* remember it for the next call */
	if (c->t[arg] == NULL)
		c->t[arg] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(fpm_template));
	if (c->value[arg] != NULL)
		pfree(c->value[arg]);
	c->value[arg] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len);
	memcpy(c->value[arg], d, len);
	c->len[arg] = len;
	memcpy(c->t[arg], scratch, sizeof(fpm_template));
	return scratch;
}

/* Calibrated score of the two fingerprint arguments. */
static double
score(FunctionCallInfo fcinfo)
{
	FingerprintDatum *a = PG_GETARG_FP_P(0);
	FingerprintDatum *b = PG_GETARG_FP_P(1);
	fpm_template *sa = palloc(sizeof(fpm_template));
	fpm_template *sb = palloc(sizeof(fpm_template));
	double		s = fpm_calibrate(fpm_score(template_of(fcinfo, 0, a, sa), template_of(fcinfo, 1, b, sb)));

	pfree(sa);
	pfree(sb);
	return s;
}

Datum
refuge_fingerprint_score(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(score(fcinfo));
}

/* The model's false-match probability: 1 = no evidence, smaller = stronger. */
Datum
refuge_fingerprint_distance(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(pow(10.0, -score(fcinfo) / 10.0));
}

Datum
refuge_fingerprint_match(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(score(fcinfo) >= PG_GETARG_FLOAT8(2));
}

Datum
refuge_fingerprint_match_op(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(score(fcinfo) >= RefugeFingerprintThreshold());
}

Datum
refuge_fingerprint_minutiae(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_FP_P(0)->nminutiae);
}

Datum
refuge_fingerprint_quality(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_FP_P(0)->quality);
}

Datum
refuge_fingerprint_position(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(PG_GETARG_FP_P(0)->position);
}

/* ---- for the index (fingerprint_index.c) ---- */

/* The matcher's template of a fingerprint datum (detoasted). */
void
RefugeFingerprintTemplate(const void *datum, fpm_template *t)
{
	fp_record  *rec = palloc(sizeof(fp_record));

	to_record((const FingerprintDatum *) datum, rec);
	fpm_build(&rec->views[0], t);
	pfree(rec);
}

/* The finger position (ISO 19794-2: 0 unknown, 1-10) of a detoasted datum. */
int
RefugeFingerprintPosition(const void *datum)
{
	return ((const FingerprintDatum *) datum)->position;
}

/*
 * Whether len bytes at p are a well-formed fingerprint datum (for checking
 * index entries); errors are raised with the given code.
 */
void
RefugeFingerprintCheck(const void *p, Size len, int errcode_for_bad)
{
	const FingerprintDatum *d = p;

	if (len < FP_DATUM_SIZE(0) || VARSIZE(d) != len || d->version != FP_DATUM_VERSION ||
		len != FP_DATUM_SIZE(d->nminutiae))
		ereport(ERROR,
				(errcode(errcode_for_bad),
				 errmsg("fingerprint value of %zu bytes is malformed (header says %u bytes, version %d, %d minutiae)",
						len, len >= VARHDRSZ ? VARSIZE(d) : 0, len >= FP_DATUM_SIZE(0) ? d->version : -1,
						len >= FP_DATUM_SIZE(0) ? d->nminutiae : -1)));
	check_view(d, errcode_for_bad);
}
