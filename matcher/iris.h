/*
 * iris.h
 *		Iris templates (code + mask bits with explicit geometry), the masked,
 *		normalised fractional Hamming distance with rotation, the 1:N scan
 *		kernel, and decision thresholds.
 *
 * Bit layout.  A template has rows x cols x bits_per_cell bits; bit
 * ((row * cols) + col) * bits_per_cell + b is bit (i % 64) of word i / 64 of
 * its plane.  Rotating the eye turns every row by whole columns, so a shift
 * of s columns rotates each row's cols * bits_per_cell bits by
 * s * bits_per_cell.  Byte input is MSB-first (as numpy.packbits).
 *
 * Flat layout (versioned; what the database stores): iris_header, then
 * nwords code words, then nwords mask words, 8-byte aligned.
 */
#ifndef RF_IRIS_H
#define RF_IRIS_H

#include <stddef.h>
#include <stdint.h>

#include "rf_error.h"

#define IRIS_FORMAT_VERSION		1
#define IRIS_MAX_BITS			(1 << 17)	/* 131,072 code bits */
#define IRIS_MAX_SHIFT			64
#define IRIS_MIN_VALID_BITS		256 /* a template with fewer is refused */

typedef struct iris_header
{
	uint8_t		version;
	uint8_t		bits_per_cell;
	uint16_t	rows;
	uint16_t	cols;
	uint16_t	reserved;
	uint32_t	nwords;			/* 64-bit words per plane */
	uint32_t	valid_bits;		/* popcount of the mask */
} iris_header;

typedef struct iris_params
{
	int			max_shift;		/* compare at shifts -max_shift .. +max_shift columns */
	double		norm_bits;		/* Daugman's n_ref: bits "typically" compared (911 for 2,048) */
	int			min_bits;		/* fewer bits compared than this: no decision */
} iris_params;

typedef struct iris_match
{
	double		hd_norm;		/* normalised fractional HD (the distance) */
	double		hd_raw;			/* fractional HD at the best shift */
	int			shift;			/* best shift in columns */
	uint32_t	bits_compared;	/* valid in both at the best shift */
} iris_match;

static inline const uint64_t *
iris_code(const iris_header *h)
{
	return (const uint64_t *) (h + 1);
}

static inline const uint64_t *
iris_mask(const iris_header *h)
{
	return (const uint64_t *) (h + 1) + h->nwords;
}

static inline uint32_t
iris_nbits(const iris_header *h)
{
	return (uint32_t) h->rows * h->cols * h->bits_per_cell;
}

/* Templates are comparable only when their geometries are identical. */
static inline int
iris_same_geometry(const iris_header *a, const iris_header *b)
{
	return a->rows == b->rows && a->cols == b->cols && a->bits_per_cell == b->bits_per_cell;
}

/* Size of the flat template for a geometry, 0 if the geometry is invalid. */
size_t		iris_size(int rows, int cols, int bits_per_cell);

/*
 * Build a template from packed bytes (MSB first).  code and mask must each
 * hold exactly ceil(rows * cols * bits_per_cell / 8) bytes; spare bits of the
 * last byte must be zero.  out must have iris_size() bytes.
 */
rf_status	iris_from_bytes(const uint8_t *code, size_t code_len, const uint8_t *mask, size_t mask_len,
							int rows, int cols, int bits_per_cell, void *out, size_t out_len, rf_error *err);

/* Check a flat template received from outside (binary input, disk). */
rf_status	iris_validate(const void *data, size_t len, rf_error *err);

/* Write code and mask back as packed bytes (nbytes each). */
void		iris_to_bytes(const iris_header *h, uint8_t *code, uint8_t *mask);

/* Default parameters for a geometry: 7 shifts for 8 x 128 x 2, Daugman's n_ref scaled. */
iris_params iris_default_params(const iris_header *h);

/* Daugman's rule: pull scores built on few bits towards 0.5. */
double		iris_normalise(double hd_raw, uint32_t bits, double norm_bits);

/*
 * The same in single precision, from the counts: what the 1:1 comparison and
 * every 1:N kernel use, so that they agree to the bit (IEEE division and
 * square root are exact-rounded in scalar and vector units alike).
 */
static inline float
iris_normalise_f(uint32_t diff, uint32_t valid, float inv_norm_bits)
{
	float		hd = 0.5f - (0.5f - (float) diff / (float) valid) * __builtin_sqrtf((float) valid * inv_norm_bits);

	return hd < 0.0f ? 0.0f : hd;
}

/* 1:1 comparison: best normalised HD over the shifts. */
rf_status	iris_compare(const iris_header *a, const iris_header *b, const iris_params *p,
						 iris_match *out, rf_error *err);

/* Rotate a template by shift columns (copy; dst has the same size). */
void		iris_rotate(const iris_header *src, int shift, iris_header *dst);

/*
 * 1:N.  A probe holds the 2 * max_shift + 1 rotations of one template,
 * contiguous, so the scan compares words without shifting bits.  The gallery
 * is n contiguous templates of one geometry, each iris_size() bytes apart.
 */
typedef struct iris_probe
{
	const iris_header *head;	/* geometry of the probe */
	int			nshift;
	int			max_shift;
	uint32_t	nwords;
	double		norm_bits;
	int			min_bits;
	uint64_t   *words;			/* nshift x (code nwords, mask nwords) */
} iris_probe;

/* Bytes of scratch memory a probe needs. */
size_t		iris_probe_size(const iris_header *h, const iris_params *p);
rf_status	iris_probe_init(iris_probe *probe, const iris_header *h, const iris_params *p,
							void *scratch, size_t scratch_len, rf_error *err);

/*
 * Distances of the probe to n gallery templates (stride bytes apart, same
 * geometry as the probe): out[i] = best normalised HD, or 1.0 when fewer
 * than min_bits are valid in both at every shift.  No allocation.
 */
void		iris_scan(const iris_probe *probe, const uint8_t *gallery, size_t stride, size_t n, float *out);

/* Name of the kernel iris_scan uses on this CPU ("avx512", "avx2", "portable"). */
const char *iris_kernel_name(void);

/* Force a kernel (tests and benchmarks): 0 portable, 1 avx2, 2 avx512; -1 best. */
int			iris_kernel_force(int kernel);

/*
 * Decision threshold on the normalised HD for a gallery of gallery_size
 * templates and a target false-positive identification rate, under the
 * binomial impostor model with dof degrees of freedom and nshift independent
 * rotations: FPIR = 1 - (1 - P_FM(t))^gallery, P_FM(t) = 1 - (1 - B(dof*t))^nshift.
 */
double		iris_threshold(double gallery_size, double target_fpir, double dof, int nshift);

/* P_FM of one comparison at threshold t under the same model. */
double		iris_false_match(double t, double dof, int nshift);

#endif							/* RF_IRIS_H */
