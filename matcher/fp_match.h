/*
 * fp_match.h
 *		Minutiae matching with local binary cylinders (after Cappelli, Ferrara
 *		and Maltoni's Minutia Cylinder-Code) and global consolidation with
 *		relaxation on geometric compatibility.
 *
 * fpm_build() turns one finger view into a template once (all descriptors
 * precomputed, fixed size, no pointers); fpm_score() compares two templates
 * without parsing or allocating.  Symmetric: the two are put in a canonical
 * order first, so s(a, b) == s(b, a) exactly.
 */
#ifndef RF_FP_MATCH_H
#define RF_FP_MATCH_H

#include <stdint.h>

#include "fp_record.h"

#define FPM_NS			16		/* spatial cells per side */
#define FPM_ND			6		/* direction sections */
#define FPM_CELLS		(FPM_NS * FPM_NS * FPM_ND)
#define FPM_WORDS		((FPM_CELLS + 63) / 64)
#define FPM_MAX			96		/* minutiae kept (best quality first) */
#define FPM_VERSION		1

typedef struct fpm_point
{
	float		x;				/* millimetres; y up (the image's y negated) */
	float		y;
	float		angle;			/* radians, counter-clockwise */
} fpm_point;

typedef struct fpm_template
{
	uint8_t		version;
	uint8_t		reserved;
	uint16_t	n;				/* minutiae kept */
	uint16_t	nvalid;			/* with a valid cylinder */
	uint16_t	reserved2;
	uint64_t	order;			/* canonical order key (hash of the content) */
	fpm_point	p[FPM_MAX];
	uint8_t		valid[FPM_MAX];
	uint16_t	ncells[FPM_MAX];	/* valid cells of the cylinder */
	uint16_t	nbits[FPM_MAX];		/* bits set in the cylinder */
	uint8_t		full[FPM_MAX];		/* every cell of the disc valid */
	uint64_t	bits[FPM_MAX][FPM_WORDS];
	uint64_t	mask[FPM_MAX][FPM_WORDS];
	uint16_t	nhull;			/* convex hull of the minutiae */
	fpm_point	hull[FPM_MAX + 1];
} fpm_template;

/* Build the template of one view (canonical micrometre frame). */
void		fpm_build(const fp_view *view, fpm_template *t);

/* Similarity in [0, 1]; symmetric; 0 when either side has too few cylinders. */
double		fpm_score(const fpm_template *a, const fpm_template *b);

/*
 * Calibrated score: 10 log10(1 / FMR), so 20 means a false-match rate of 1 %,
 * 30 of 0.1 %, 40 of 0.01 %.  FMR comes from an exponential model of the
 * impostor score tail, fitted on 11,520 cross-finger comparisons of NIST
 * mindtct minutiae (FVC 2002/2004 B sets, 500 dpi optical, capacitive and
 * synthetic sensors): log10 FMR = 1.858 - 88.98 s.  Other extractors may need
 * their own fit; test/bench/fp_accuracy prints the check per database.
 */
double		fpm_calibrate(double score);

/* The raw score at which the model's FMR equals fmr (inverse of the above). */
double		fpm_score_for_fmr(double fmr);

#endif							/* RF_FP_MATCH_H */
