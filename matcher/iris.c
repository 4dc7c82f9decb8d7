/*
 * iris.c
 *		Iris templates: construction, validation, rotation, 1:1 comparison and
 *		decision thresholds.  The 1:N kernel is in iris_scan.c.
 */
#include "iris.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IRIS_MAX_WORDS	(IRIS_MAX_BITS / 64)

static uint32_t
popcount_words(const uint64_t *w, uint32_t n)
{
	uint32_t	c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += (uint32_t) __builtin_popcountll(w[i]);
	return c;
}

static int
geometry_ok(int rows, int cols, int bits_per_cell)
{
	long		nbits = (long) rows * cols * bits_per_cell;

	return rows >= 1 && rows <= 1024 && cols >= 2 && cols <= 8192 &&
		bits_per_cell >= 1 && bits_per_cell <= 8 && nbits <= IRIS_MAX_BITS;
}

size_t
iris_size(int rows, int cols, int bits_per_cell)
{
	long		nbits;

	if (!geometry_ok(rows, cols, bits_per_cell))
		return 0;
	nbits = (long) rows * cols * bits_per_cell;
	return sizeof(iris_header) + 2 * sizeof(uint64_t) * (size_t) ((nbits + 63) / 64);
}

static inline int
get_bit(const uint64_t *w, uint32_t i)
{
	return (int) ((w[i >> 6] >> (i & 63)) & 1);
}

static inline void
set_bit(uint64_t *w, uint32_t i)
{
	w[i >> 6] |= (uint64_t) 1 << (i & 63);
}

rf_status
iris_from_bytes(const uint8_t *code, size_t code_len, const uint8_t *mask, size_t mask_len,
				int rows, int cols, int bits_per_cell, void *out, size_t out_len, rf_error *err)
{
	iris_header *h = (iris_header *) out;
	uint64_t   *c;
	uint64_t   *m;
	uint32_t	nbits;
	size_t		nbytes;
	uint32_t	min_valid;

	if (!geometry_ok(rows, cols, bits_per_cell))
		return rf_fail(err, RF_EINVAL, -1,
					   "geometry %d x %d x %d is not supported (rows 1-1024, cols 2-8192, bits per cell 1-8, at most %d bits)",
					   rows, cols, bits_per_cell, IRIS_MAX_BITS);
	nbits = (uint32_t) rows * cols * bits_per_cell;
	nbytes = (nbits + 7) / 8;
	if (code_len != nbytes)
		return rf_fail(err, RF_ELENGTH, -1, "code has %zu bytes; %d x %d x %d bits need %zu",
					   code_len, rows, cols, bits_per_cell, nbytes);
	if (mask_len != nbytes)
		return rf_fail(err, RF_ELENGTH, -1, "mask has %zu bytes; %d x %d x %d bits need %zu",
					   mask_len, rows, cols, bits_per_cell, nbytes);
	if (out_len < iris_size(rows, cols, bits_per_cell))
		return rf_fail(err, RF_ESPACE, -1, "output buffer too small");
	if (nbits % 8 != 0)
	{
		uint8_t		spare = (uint8_t) (0xff >> (nbits % 8));

		if ((code[nbytes - 1] & spare) || (mask[nbytes - 1] & spare))
			return rf_fail(err, RF_ERANGE, (long) nbytes - 1, "bits beyond the %u-bit template are set", nbits);
	}

	memset(out, 0, iris_size(rows, cols, bits_per_cell));
	h->version = IRIS_FORMAT_VERSION;
	h->bits_per_cell = (uint8_t) bits_per_cell;
	h->rows = (uint16_t) rows;
	h->cols = (uint16_t) cols;
	h->nwords = (nbits + 63) / 64;
	c = (uint64_t *) iris_code(h);
	m = (uint64_t *) iris_mask(h);
	for (uint32_t i = 0; i < nbits; i++)
	{
		int			bit = 7 - (int) (i & 7);

		if ((mask[i >> 3] >> bit) & 1)
		{
			set_bit(m, i);
			/* code bits under a zero mask carry nothing: store them as 0 */
			if ((code[i >> 3] >> bit) & 1)
				set_bit(c, i);
		}
	}
	h->valid_bits = popcount_words(m, h->nwords);
	min_valid = nbits / 8 < 64 ? 64 : nbits / 8;
	if (h->valid_bits < min_valid)
		return rf_fail(err, RF_ETOOFEW, -1, "mask has %u valid bits; at least %u (1/8 of the template) are needed",
					   h->valid_bits, min_valid);
	return RF_OK;
}

rf_status
iris_validate(const void *data, size_t len, rf_error *err)
{
	const iris_header *h = (const iris_header *) data;
	size_t		expect;
	uint32_t	nbits;

	if (len < sizeof(iris_header))
		return rf_fail(err, RF_ETRUNCATED, 0, "iris template of %zu bytes is shorter than its header", len);
	if (h->version != IRIS_FORMAT_VERSION)
		return rf_fail(err, RF_EFORMAT, 0, "unknown iris template version %d", h->version);
	expect = iris_size(h->rows, h->cols, h->bits_per_cell);
	if (expect == 0)
		return rf_fail(err, RF_ERANGE, 2, "geometry %d x %d x %d is not supported", h->rows, h->cols, h->bits_per_cell);
	if (len != expect)
		return rf_fail(err, RF_ELENGTH, -1, "iris template has %zu bytes; its geometry needs %zu", len, expect);
	nbits = iris_nbits(h);
	if (h->nwords != (nbits + 63) / 64 || h->reserved != 0)
		return rf_fail(err, RF_EFORMAT, 8, "iris template header is inconsistent");
	if (nbits % 64 != 0)
	{
		uint64_t	spare = ~(uint64_t) 0 << (nbits % 64);

		if ((iris_code(h)[h->nwords - 1] & spare) || (iris_mask(h)[h->nwords - 1] & spare))
			return rf_fail(err, RF_ERANGE, -1, "bits beyond the %u-bit template are set", nbits);
	}
	for (uint32_t i = 0; i < h->nwords; i++)
		if (iris_code(h)[i] & ~iris_mask(h)[i])
			return rf_fail(err, RF_ERANGE, -1, "code bits are set outside the mask");
	if (popcount_words(iris_mask(h), h->nwords) != h->valid_bits)
		return rf_fail(err, RF_EFORMAT, 12, "valid-bit count does not match the mask");
	if (h->valid_bits < (nbits / 8 < 64 ? 64 : nbits / 8))
		return rf_fail(err, RF_ETOOFEW, -1, "mask has only %u valid bits", h->valid_bits);
	return RF_OK;
}

void
iris_to_bytes(const iris_header *h, uint8_t *code, uint8_t *mask)
{
	uint32_t	nbits = iris_nbits(h);
	size_t		nbytes = (nbits + 7) / 8;

	memset(code, 0, nbytes);
	memset(mask, 0, nbytes);
	for (uint32_t i = 0; i < nbits; i++)
	{
		if (get_bit(iris_code(h), i))
			code[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
		if (get_bit(iris_mask(h), i))
			mask[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
	}
}

iris_params
iris_default_params(const iris_header *h)
{
	iris_params p;
	uint32_t	nbits = iris_nbits(h);
	int			s = (int) lround(3.0 * h->cols / 128.0);

	/* 7 shifts for 128 columns (Daugman), proportionally more for finer grids */
	p.max_shift = s < 1 ? 1 : (s > IRIS_MAX_SHIFT ? IRIS_MAX_SHIFT : s);
	/*
	 * The number of bits typically compared, so that a typical comparison is
	 * left as it is and only unusually small or large overlaps move: 3/4 of
	 * the code (open-iris).  Daugman's 911 of 2,048 reflects his masks; with
	 * overlaps of ~1,500 bits it would stretch every score by sqrt(1500/911)
	 * and widen the impostor distribution from ~250 to ~150 degrees of freedom.
	 */
	p.norm_bits = nbits * 0.75;
	p.min_bits = (int) (nbits / 16 < 32 ? 32 : nbits / 16);
	return p;
}

double
iris_normalise(double hd_raw, uint32_t bits, double norm_bits)
{
	double		hd = 0.5 - (0.5 - hd_raw) * sqrt((double) bits / norm_bits);

	return hd < 0.0 ? 0.0 : (hd > 1.0 ? 1.0 : hd);
}

/* Rotate every row of one plane by k bits (k in [0, rowbits)). */
static void
rotate_plane(const uint64_t *src, uint64_t *dst, uint32_t nwords, int rows, uint32_t rowbits, uint32_t k)
{
	memset(dst, 0, nwords * sizeof(uint64_t));
	for (int r = 0; r < rows; r++)
	{
		uint32_t	base = (uint32_t) r * rowbits;

		for (uint32_t i = 0; i < rowbits; i++)
			if (get_bit(src, base + i))
				set_bit(dst, base + (i + k) % rowbits);
	}
}

void
iris_rotate(const iris_header *src, int shift, iris_header *dst)
{
	uint32_t	rowbits = (uint32_t) src->cols * src->bits_per_cell;
	long		k = ((long) shift * src->bits_per_cell) % (long) rowbits;

	if (k < 0)
		k += rowbits;
	*dst = *src;
	rotate_plane(iris_code(src), (uint64_t *) iris_code(dst), src->nwords, src->rows, rowbits, (uint32_t) k);
	rotate_plane(iris_mask(src), (uint64_t *) iris_mask(dst), src->nwords, src->rows, rowbits, (uint32_t) k);
}

rf_status
iris_compare(const iris_header *a, const iris_header *b, const iris_params *p, iris_match *out, rf_error *err)
{
	uint64_t	buf[sizeof(iris_header) / 8 + 2 * IRIS_MAX_WORDS];
	iris_header *rb = (iris_header *) buf;
	int			found = 0;

	if (!iris_same_geometry(a, b))
		return rf_fail(err, RF_EMISMATCH, -1, "iris templates of geometry %d x %d x %d and %d x %d x %d cannot be compared",
					   a->rows, a->cols, a->bits_per_cell, b->rows, b->cols, b->bits_per_cell);
	if (p->max_shift < 0 || p->max_shift > IRIS_MAX_SHIFT || p->max_shift >= a->cols)
		return rf_fail(err, RF_EINVAL, -1, "max_shift %d is not between 0 and %d", p->max_shift,
					   a->cols - 1 < IRIS_MAX_SHIFT ? a->cols - 1 : IRIS_MAX_SHIFT);
	out->hd_norm = 1.0;
	out->hd_raw = 1.0;
	out->shift = 0;
	out->bits_compared = 0;
	for (int s = -p->max_shift; s <= p->max_shift; s++)
	{
		uint32_t	diff = 0;
		uint32_t	valid = 0;
		double		hd;

		iris_rotate(b, s, rb);
		for (uint32_t i = 0; i < a->nwords; i++)
		{
			uint64_t	m = iris_mask(a)[i] & iris_mask(rb)[i];

			diff += (uint32_t) __builtin_popcountll((iris_code(a)[i] ^ iris_code(rb)[i]) & m);
			valid += (uint32_t) __builtin_popcountll(m);
		}
		if ((int) valid < p->min_bits)
			continue;
		hd = iris_normalise_f(diff, valid, 1.0f / (float) p->norm_bits);
		/* ties (scores clamped at 0) go to the lower raw distance, then the
		 * smaller rotation */
		if (!found || hd < out->hd_norm ||
			(hd == out->hd_norm && ((double) diff / valid < out->hd_raw ||
									((double) diff / valid == out->hd_raw && abs(s) < abs(out->shift)))))
		{
			out->hd_norm = hd;
			out->hd_raw = (double) diff / valid;
			out->shift = s;
			out->bits_compared = valid;
			found = 1;
		}
	}
	if (!found)
		return rf_fail(err, RF_ETOOFEW, -1, "fewer than %d bits are valid in both templates at every shift", p->min_bits);
	return RF_OK;
}

/* Binomial CDF P(X <= k) for X ~ B(n, 1/2), n real (interpolated in k). */
static double
binom_half_cdf(double n, double k)
{
	/* exact sum in log space over integer n */
	long		nn = lround(n);
	long		kk = (long) floor(k);
	double		sum = 0.0;
	double		logc = -nn * log(2.0);	/* log C(n,0) + n log 1/2 */

	if (kk < 0)
		return 0.0;
	if (kk >= nn)
		return 1.0;
	for (long i = 0; i <= kk; i++)
	{
		sum += exp(logc);
		logc += log((double) (nn - i)) - log((double) (i + 1));
	}
	return sum > 1.0 ? 1.0 : sum;
}

double
iris_false_match(double t, double dof, int nshift)
{
	double		p1 = binom_half_cdf(dof, dof * t);

	/* 1 - (1 - p1)^nshift without cancellation for small p1 */
	return -expm1(nshift * log1p(-p1));
}

double
iris_threshold(double gallery_size, double target_fpir, double dof, int nshift)
{
	double		lo = 0.0;
	double		hi = 0.5;

	if (gallery_size < 1 || target_fpir <= 0 || target_fpir >= 1 || dof < 10 || nshift < 1)
		return NAN;
	/* FPIR(t) = 1 - (1 - P_FM(t))^N grows with t: bisect on a 0.0001 grid */
	for (int i = 0; i < 60; i++)
	{
		double		mid = (lo + hi) / 2;
		double		pfm = iris_false_match(mid, dof, nshift);
		double		fpir = -expm1(gallery_size * log1p(-pfm));

		if (fpir <= target_fpir)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}
