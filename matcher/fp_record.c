/*
 * fp_record.c
 *		Reading ISO/IEC 19794-2:2005, ANSI INCITS 378-2004 and NIST .xyt
 *		minutiae, writing ISO/IEC 19794-2:2005.
 *
 * Layouts (big-endian):
 *   ISO 2005:  "FMR\0" " 20\0" length(4) equipment(2) width(2) height(2)
 *              xres(2) yres(2) views(1) reserved(1)                     = 24
 *   ANSI 2004: "FMR\0" " 20\0" length(2, or 0 then 4) cbeff owner(2)
 *              cbeff type(2) equipment(2) width height xres yres views reserved
 *   view:      position(1) view<<4|impression(1) quality(1) count(1),
 *              count x 6 bytes: type<<14|x (2) reserved<<14|y (2) angle(1)
 *              quality(1), then extended data length(2) and that many bytes
 *              (areas of type(2) length(2) and length data bytes).
 * ISO angles are 360/256 degrees per unit, ANSI angles 2 degrees.
 */
#include "fp_record.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct cursor
{
	const uint8_t *p;
	size_t		len;
	size_t		off;
	rf_error   *err;
} cursor;

/* RF_OK when n more bytes are there; else the truncation error. */
static rf_status
need(cursor *c, size_t n, const char *what)
{
	if (c->off > c->len || c->len - c->off < n)
		return rf_fail(c->err, RF_ETRUNCATED, (long) c->off, "record ends at byte %zu inside %s (%zu more bytes needed)",
					   c->len, what, n - (c->len - c->off));
	return RF_OK;
}

#define NEED(n, what) do { rf_status st_ = need(&c, (n), (what)); if (st_ != RF_OK) return st_; } while (0)

static uint32_t
u8(cursor *c)
{
	return c->p[c->off++];
}

static uint32_t
u16(cursor *c)
{
	uint32_t	v = ((uint32_t) c->p[c->off] << 8) | c->p[c->off + 1];

	c->off += 2;
	return v;
}

static uint32_t
u32(cursor *c)
{
	uint32_t	v = ((uint32_t) c->p[c->off] << 24) | ((uint32_t) c->p[c->off + 1] << 16) |
		((uint32_t) c->p[c->off + 2] << 8) | c->p[c->off + 3];

	c->off += 4;
	return v;
}

int
fp_ppcm_from_dpi(int dpi)
{
	return (int) lround(dpi / 2.54);
}

int
fp_dpi_from_ppcm(int ppcm)
{
	return (int) lround(ppcm * 2.54);
}

static int32_t
px_to_um(uint32_t px, uint32_t ppcm)
{
	return (int32_t) lround((double) px * 10000.0 / ppcm);
}

static uint32_t
um_to_px(int32_t um, uint32_t ppcm)
{
	long		v = lround((double) um * ppcm / 10000.0);

	return v < 0 ? 0 : (uint32_t) v;
}

static uint16_t
deg_to_angle(double deg)
{
	return (uint16_t) ((long) lround(deg * 65536.0 / 360.0) & 0xffff);
}

/* Which binary format: ISO 2005 has a 4-byte length, ANSI 2004 a 2-byte one
 * (or 0 and then 4 bytes).  Decided by which reading matches the input. */
static fp_format
detect(const uint8_t *d, size_t len)
{
	uint32_t	l4 = ((uint32_t) d[8] << 24) | ((uint32_t) d[9] << 16) | ((uint32_t) d[10] << 8) | d[11];
	uint32_t	l2 = ((uint32_t) d[8] << 8) | d[9];

	if (l2 != 0)
		return FP_ANSI_2004;	/* an ISO length >= 65,536 would be absurd for minutiae */
	if (l4 >= 24 && l4 <= len && len >= 26)
	{
		/* could still be ANSI's 6-byte form: 0x0000 then a 4-byte length */
		uint32_t	l6 = ((uint32_t) d[10] << 24) | ((uint32_t) d[11] << 16) | ((uint32_t) d[12] << 8) | d[13];

		if (l6 == len && l4 != len)
			return FP_ANSI_2004;
		return FP_ISO_2005;
	}
	if (len >= 14)
	{
		uint32_t	l6 = ((uint32_t) d[10] << 24) | ((uint32_t) d[11] << 16) | ((uint32_t) d[12] << 8) | d[13];

		if (l6 >= 26 && l6 <= len)
			return FP_ANSI_2004;
	}
	return FP_ISO_2005;
}

/* Do the areas of an extended data block of n bytes end exactly at n? */
static int
ext_areas_fit(const uint8_t *p, size_t n, int length_includes_header)
{
	size_t		off = 0;

	while (off < n)
	{
		size_t		alen;

		if (n - off < 4)
			return 0;
		alen = ((size_t) p[off + 2] << 8) | p[off + 3];
		if (length_includes_header)
		{
			if (alen < 4 || alen > n - off)
				return 0;
			off += alen;
		}
		else
		{
			if (alen > n - off - 4)
				return 0;
			off += 4 + alen;
		}
	}
	return 1;
}

rf_status
fp_parse_record(const uint8_t *data, size_t len, int flags, fp_record *out, rf_error *err)
{
	cursor		c = {data, len, 0, err};
	uint32_t	declared;
	uint32_t	equipment;
	uint32_t	nviews;
	int			ansi;

	memset(out, 0, offsetof(fp_record, views));
	out->nviews = 0;
	NEED(8, "the format identifier");
	if (memcmp(data, "FMR\0", 4) != 0)
		return rf_fail(err, RF_EFORMAT, 0, "not a finger minutiae record (format identifier is not \"FMR\")");
	if (memcmp(data + 4, "030\0", 4) == 0 || memcmp(data + 4, "035\0", 4) == 0)
		return rf_fail(err, RF_EFORMAT, 4,
					   "version \"%.3s\" (ISO/IEC 19794-2:2011 or ANSI INCITS 378-2009) is not supported; "
					   "use ISO/IEC 19794-2:2005 or ANSI INCITS 378-2004", (const char *) data + 4);
	if (memcmp(data + 4, " 20\0", 4) != 0)
		return rf_fail(err, RF_EFORMAT, 4, "unknown version \"%.3s\" (expected \" 20\")", (const char *) data + 4);
	NEED(12, "the record length");
	c.off = 8;
	ansi = detect(data, len) == FP_ANSI_2004;
	out->format = ansi ? FP_ANSI_2004 : FP_ISO_2005;
	if (ansi)
	{
		declared = u16(&c);
		if (declared == 0)
		{
			NEED(4, "the 4-byte record length");
			declared = u32(&c);
		}
		NEED(4, "the CBEFF product identifier");
		out->cbeff_owner = (uint16_t) u16(&c);
		out->cbeff_type = (uint16_t) u16(&c);
	}
	else
		declared = u32(&c);
	if (declared > len)
		return rf_fail(err, RF_ELENGTH, 8, "record length field says %u bytes but only %zu were given", declared, len);
	if (declared < (uint32_t) (ansi ? 26 : 24) || declared < c.off)
		return rf_fail(err, RF_ELENGTH, 8, "record length field says %u bytes, less than the record header", declared);
	if (declared < len)
	{
		int			zero = 1;

		for (size_t i = declared; i < len; i++)
			zero &= data[i] == 0;
		if (!(flags & FP_ALLOW_TRAILING) && !(zero && (flags & FP_ALLOW_ZERO_PADDING)))
			return rf_fail(err, RF_ELENGTH, 8, "record length field says %u bytes but %zu were given%s",
						   declared, len, zero ? " (zero padding)" : "");
	}
	/* nothing past the declared end is read, unless the caller trusts the
	 * content over the length field (NIST's annex example overruns it by one) */
	c.len = (flags & FP_ALLOW_TRAILING) ? len : declared;

	NEED(14, "the record header");
	equipment = u16(&c);
	out->certified = (uint8_t) (equipment >> 15);
	if ((equipment >> 12) & 0x7)
		return rf_fail(err, RF_ERANGE, (long) c.off - 2, "reserved bits of the capture equipment field are set");
	out->device_id = (uint16_t) (equipment & 0x0fff);
	out->width = (uint16_t) u16(&c);
	out->height = (uint16_t) u16(&c);
	out->res_x = (uint16_t) u16(&c);
	out->res_y = (uint16_t) u16(&c);
	nviews = u8(&c);
	(void) u8(&c);				/* reserved */
	if (out->width == 0 || out->height == 0)
		return rf_fail(err, RF_ERANGE, (long) c.off - 10, "image size %ux%u is empty", out->width, out->height);
	if (out->res_x < 40 || out->res_y < 40 || out->res_x > 2000 || out->res_y > 2000)
		return rf_fail(err, RF_ERANGE, (long) c.off - 6,
					   "resolution %ux%u pixels/cm is outside 40-2000 (101-5080 dpi)", out->res_x, out->res_y);
	if (nviews == 0)
		return rf_fail(err, RF_ERANGE, (long) c.off - 2, "record has no finger view");
	if (nviews > FP_MAX_VIEWS)
		return rf_fail(err, RF_ERANGE, (long) c.off - 2, "record has %u finger views; at most %d are supported",
					   nviews, FP_MAX_VIEWS);

	for (uint32_t v = 0; v < nviews; v++)
	{
		fp_view    *view = &out->views[v];
		size_t		start = c.off;
		uint32_t	b;
		uint32_t	n;
		uint32_t	ext;

		NEED(4, "a finger view header");
		view->position = (uint8_t) u8(&c);
		b = u8(&c);
		view->view_number = (uint8_t) (b >> 4);
		view->impression = (uint8_t) (b & 0x0f);
		view->quality = (uint8_t) u8(&c);
		n = u8(&c);
		if (view->position > 10)
			return rf_fail(err, RF_ERANGE, (long) start, "view %u: finger position %u is not 0-10", v + 1, view->position);
		if (view->impression > 3 && view->impression != 8)
			return rf_fail(err, RF_ERANGE, (long) start + 1, "view %u: impression type %u is not 0-3 or 8",
						   v + 1, view->impression);
		if (view->quality > 100)
			return rf_fail(err, RF_ERANGE, (long) start + 2, "view %u: quality %u is over 100", v + 1, view->quality);
		for (uint32_t w = 0; w < v; w++)
			if (out->views[w].position == view->position && out->views[w].view_number == view->view_number)
				return rf_fail(err, RF_EFORMAT, (long) start, "view %u repeats finger %u view %u", v + 1,
							   view->position, view->view_number);
		NEED((size_t) n * 6, "the minutiae");
		view->nminutiae = (uint16_t) n;
		for (uint32_t i = 0; i < n; i++)
		{
			size_t		at = c.off;
			uint32_t	tx = u16(&c);
			uint32_t	ry = u16(&c);
			uint32_t	a = u8(&c);
			uint32_t	q = u8(&c);
			uint32_t	type = tx >> 14;
			uint32_t	x = tx & 0x3fff;
			uint32_t	y = ry & 0x3fff;
			fp_minutia *m = &view->minutiae[i];

			if (type == 3)
				return rf_fail(err, RF_ERANGE, (long) at, "view %u minutia %u: type 3 is undefined", v + 1, i + 1);
			if (ry >> 14)
				return rf_fail(err, RF_ERANGE, (long) at + 2, "view %u minutia %u: reserved bits are set", v + 1, i + 1);
			if (x >= out->width || y >= out->height)
				return rf_fail(err, RF_ERANGE, (long) at, "view %u minutia %u: (%u, %u) is outside the %ux%u image",
							   v + 1, i + 1, x, y, out->width, out->height);
			if (ansi && a > 179)
				return rf_fail(err, RF_ERANGE, (long) at + 4, "view %u minutia %u: angle %u is over 179 (2-degree units)",
							   v + 1, i + 1, a);
			if (q > 100)
				return rf_fail(err, RF_ERANGE, (long) at + 5, "view %u minutia %u: quality %u is over 100", v + 1, i + 1, q);
			m->type = (uint8_t) type;
			m->x = px_to_um(x, out->res_x);
			m->y = px_to_um(y, out->res_y);
			m->angle = ansi ? deg_to_angle(2.0 * a) : (uint16_t) (a << 8);
			m->quality = (uint8_t) q;
		}
		NEED(2, "the extended data length");
		ext = u16(&c);
		NEED(ext, "the extended data");
		/*
		 * Extended data areas: type(2) length(2) data.  Writers disagree on
		 * whether the length counts the 4 header bytes (NIST's annex example,
		 * SourceAFIS) or only the data (FingerprintIO's sample); the areas are
		 * skipped, so either reading that ends exactly at the block's end is
		 * accepted.
		 */
		if (!ext_areas_fit(data + c.off, ext, 1) && !ext_areas_fit(data + c.off, ext, 0))
			return rf_fail(err, RF_EFORMAT, (long) c.off, "view %u: the %u bytes of extended data are not a sequence of areas",
						   v + 1, ext);
		c.off += ext;
		out->nviews = (uint8_t) (v + 1);
	}
	if (c.off != declared && !(flags & FP_ALLOW_TRAILING))
		return rf_fail(err, RF_ELENGTH, (long) c.off, "record length field says %u bytes but the content ends at %zu",
					   declared, c.off);
	return RF_OK;
}

rf_status
fp_parse_xyt(const char *text, size_t len, int width, int height, int dpi, int position,
			 fp_record *out, rf_error *err)
{
	fp_view    *view = &out->views[0];
	size_t		i = 0;
	int			line = 1;

	memset(out, 0, offsetof(fp_record, views));
	if (width < 1 || height < 1 || width > 16383 || height > 16383)
		return rf_fail(err, RF_EINVAL, -1, "image size %dx%d is not 1-16383 pixels each way", width, height);
	/* the range binary records can hold: 40-2000 pixels per centimetre */
	if (dpi < 102 || dpi > 5080)
		return rf_fail(err, RF_EINVAL, -1, "resolution %d dpi is not 102-5080", dpi);
	if (position < 0 || position > 10)
		return rf_fail(err, RF_EINVAL, -1, "finger position %d is not 0-10", position);
	out->format = FP_XYT;
	out->width = (uint16_t) width;
	out->height = (uint16_t) height;
	out->res_x = out->res_y = (uint16_t) fp_ppcm_from_dpi(dpi);
	out->nviews = 1;
	memset(view, 0, offsetof(fp_view, minutiae));
	view->position = (uint8_t) position;

	while (i < len)
	{
		long		f[4];
		int			nf = 0;
		size_t		line_start = i;

		/* one line: up to four integers separated by blanks */
		while (i < len && text[i] != '\n')
		{
			if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r')
			{
				i++;
				continue;
			}
			if ((text[i] >= '0' && text[i] <= '9') || text[i] == '-')
			{
				int			neg = text[i] == '-';
				long		v = 0;
				size_t		digits = 0;

				if (neg)
					i++;
				while (i < len && text[i] >= '0' && text[i] <= '9')
				{
					if (v < 100000000)
						v = v * 10 + (text[i] - '0');
					i++;
					digits++;
				}
				if (digits == 0 || (i < len && !(text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')))
					return rf_fail(err, RF_EFORMAT, (long) i, "line %d: not a whole number", line);
				if (nf == 4)
					return rf_fail(err, RF_EFORMAT, (long) i, "line %d: more than 4 fields (x y theta quality)", line);
				f[nf++] = neg ? -v : v;
				continue;
			}
			return rf_fail(err, RF_EFORMAT, (long) i, "line %d: unexpected character 0x%02x", line, (unsigned char) text[i]);
		}
		if (nf > 0)
		{
			fp_minutia *m;

			if (nf < 3)
				return rf_fail(err, RF_EFORMAT, (long) line_start, "line %d: expected x y theta [quality]", line);
			if (view->nminutiae == FP_MAX_MINUTIAE)
				return rf_fail(err, RF_ERANGE, (long) line_start, "more than %d minutiae", FP_MAX_MINUTIAE);
			if (f[0] < 0 || f[0] >= width)
				return rf_fail(err, RF_ERANGE, (long) line_start, "line %d: x %ld is outside 0-%d", line, f[0], width - 1);
			if (f[1] < 1 || f[1] > height)
				return rf_fail(err, RF_ERANGE, (long) line_start, "line %d: y %ld is outside 1-%d (y counts up from the bottom)",
							   line, f[1], height);
			if (f[2] < 0 || f[2] > 360)
				return rf_fail(err, RF_ERANGE, (long) line_start, "line %d: theta %ld is outside 0-360", line, f[2]);
			if (nf == 4 && (f[3] < 0 || f[3] > 100))
				return rf_fail(err, RF_ERANGE, (long) line_start, "line %d: quality %ld is outside 0-100", line, f[3]);
			m = &view->minutiae[view->nminutiae++];
			m->x = px_to_um((uint32_t) f[0], out->res_x);
			m->y = px_to_um((uint32_t) (height - f[1]), out->res_y);
			/* xyt points the other way round: half a turn */
			m->angle = deg_to_angle((double) ((f[2] + 180) % 360));
			m->type = FP_OTHER;
			m->quality = nf == 4 ? (uint8_t) f[3] : 255;
		}
		if (i < len)
			i++;				/* the newline */
		line++;
	}
	return RF_OK;
}

size_t
fp_iso_size(const fp_record *rec)
{
	size_t		n = 24;

	for (int v = 0; v < rec->nviews; v++)
		n += 4 + 6 * (size_t) rec->views[v].nminutiae + 2;
	return n;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/*
 * The finger views of a record, as ISO 2005 and ANSI 2004 both lay them out;
 * only the angle unit differs (ISO 360/256 degrees, ANSI 2 degrees).
 */
static void
write_views(const fp_record *rec, uint8_t *p, int ansi)
{
	for (int v = 0; v < rec->nviews; v++)
	{
		const fp_view *view = &rec->views[v];

		p[0] = view->position;
		p[1] = (uint8_t) ((view->view_number << 4) | (view->impression & 0x0f));
		p[2] = view->quality;
		p[3] = (uint8_t) view->nminutiae;
		p += 4;
		for (int i = 0; i < view->nminutiae; i++)
		{
			const fp_minutia *m = &view->minutiae[i];
			uint32_t	x = um_to_px(m->x, rec->res_x);
			uint32_t	y = um_to_px(m->y, rec->res_y);

			if (x >= rec->width)
				x = rec->width - 1;
			if (y >= rec->height)
				y = rec->height - 1;
			put16(p, ((uint32_t) (m->type & 3) << 14) | (x & 0x3fff));
			put16(p + 2, y & 0x3fff);
			if (ansi)
				p[4] = (uint8_t) (((m->angle * 360L / 65536 + 1) / 2) % 180);
			else
				p[4] = (uint8_t) (((m->angle + 128) >> 8) & 0xff);
			p[5] = m->quality > 100 ? 0 : m->quality;
			p += 6;
		}
		put16(p, 0);			/* no extended data */
		p += 2;
	}
}

/*
 * The 12 bytes both formats share after their own preamble: certification
 * flag and device id, image size, resolution, view count, a reserved byte.
 */
static void
put_image_header(const fp_record *rec, uint8_t *p)
{
	put16(p, ((uint32_t) (rec->certified & 1) << 15) | (rec->device_id & 0x0fff));
	put16(p + 2, rec->width);
	put16(p + 4, rec->height);
	put16(p + 6, rec->res_x);
	put16(p + 8, rec->res_y);
	p[10] = rec->nviews;
	p[11] = 0;
}

rf_status
fp_write_iso(const fp_record *rec, uint8_t *out, size_t cap, size_t *len, rf_error *err)
{
	size_t		n = fp_iso_size(rec);
	uint8_t    *p = out;

	if (cap < n)
		return rf_fail(err, RF_ESPACE, -1, "ISO record needs %zu bytes", n);
	if (rec->nviews == 0 || rec->res_x == 0 || rec->res_y == 0)
		return rf_fail(err, RF_EINVAL, -1, "record has no view or no resolution");
	memcpy(p, "FMR\0 20\0", 8);
	put32(p + 8, (uint32_t) n);
	put_image_header(rec, p + 12);
	p += 24;
	write_views(rec, p, 0);
	*len = n;
	return RF_OK;
}

size_t
fp_ansi_size(const fp_record *rec)
{
	size_t		n = fp_iso_size(rec) + 2;	/* 4-byte CBEFF id, 2-byte length instead of 4 */

	return n >= 65536 ? n + 4 : n;
}

rf_status
fp_write_ansi(const fp_record *rec, uint8_t *out, size_t cap, size_t *len, rf_error *err)
{
	size_t		n = fp_ansi_size(rec);
	uint8_t    *p = out;

	if (cap < n)
		return rf_fail(err, RF_ESPACE, -1, "ANSI record needs %zu bytes", n);
	if (rec->nviews == 0 || rec->res_x == 0 || rec->res_y == 0)
		return rf_fail(err, RF_EINVAL, -1, "record has no view or no resolution");
	memcpy(p, "FMR\0 20\0", 8);
	p += 8;
	if (n < 65536)
	{
		put16(p, (uint32_t) n);
		p += 2;
	}
	else
	{
		put16(p, 0);
		put32(p + 2, (uint32_t) n);
		p += 6;
	}
	put16(p, rec->cbeff_owner);
	put16(p + 2, rec->cbeff_type);
	put_image_header(rec, p + 4);
	p += 16;
	write_views(rec, p, 1);
	*len = n;
	return RF_OK;
}

size_t
fp_write_xyt(const fp_record *rec, int view, char *out, size_t cap)
{
	const fp_view *v;
	size_t		n = 0;

	if (view < 0 || view >= rec->nviews || rec->res_x == 0 || rec->res_y == 0)
		return 0;
	v = &rec->views[view];
	for (int i = 0; i < v->nminutiae; i++)
	{
		const fp_minutia *m = &v->minutiae[i];
		long		x = (long) um_to_px(m->x, rec->res_x);
		long		row = (long) um_to_px(m->y, rec->res_y);
		long		deg = (lround(m->angle * 360.0 / 65536.0) + 180) % 360;
		int			w;

		if (x >= rec->width)
			x = rec->width - 1;
		if (row >= rec->height)
			row = rec->height - 1;
		w = snprintf(out + n, cap - n, "%ld %ld %ld %d\n", x, (long) rec->height - row, deg,
					 m->quality > 100 ? 0 : m->quality);
		if (w < 0 || (size_t) w >= cap - n)
			return 0;
		n += (size_t) w;
	}
	return n;
}
