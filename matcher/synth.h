/*
 * synth.h
 *		Seeded, deterministic synthetic biometrics for tests, the demo and
 *		benchmarks.  Every template is a function of (seed, subject, capture),
 *		so galleries of millions need no storage to reproduce.
 */
#ifndef RF_SYNTH_H
#define RF_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#define SYNTH_IRIS_MAX_BITS 32768

typedef struct synth_iris_params
{
	int			rows;
	int			cols;
	int			bits_per_cell;
	double		corr_len;		/* angular correlation length, columns */
	double		radial;			/* correlation between neighbouring rings */
	double		noise;			/* capture noise sd, relative to the field */
	double		quality_sd;		/* log-normal spread of per-capture noise */
	int			max_rotation;	/* captures are turned by up to this many columns */
	double		eyelid;			/* mean share of the outer rings' bits under eyelids */
} synth_iris_params;

/* Daugman-like 8 x 128 x 2 codes: impostor HD binomial with ~250 degrees of
 * freedom, genuine ~0.1 +- 0.05 (see the unit test that checks it). */
synth_iris_params synth_iris_defaults(void);

/*
 * Capture number `capture` of eye `subject` as packed code and mask bytes
 * (MSB first, ceil(bits / 8) bytes each).  Returns the rotation applied, in
 * columns.  Capture 0 is the enrolment image, others are re-captures.
 */
int			synth_iris_capture(const synth_iris_params *p, uint64_t seed, uint64_t subject, uint64_t capture,
							   uint8_t *code, uint8_t *mask);

/* Synthetic fingerprints at minutia level. */
struct fp_view;

typedef struct synth_finger_params
{
	double		width_mm;		/* print area (ellipse axes) */
	double		height_mm;
	int			min_minutiae;	/* per master finger */
	int			max_minutiae;
	double		max_rotation_deg;	/* impressions: rigid motion */
	double		max_shift_mm;
	double		distortion_mm;	/* amplitude of the smooth plastic distortion */
	double		jitter_mm;		/* per-minutia position noise */
	double		jitter_deg;
	double		dropout;		/* share of minutiae missed */
	double		spurious;		/* share of false minutiae added */
	double		type_flip;		/* ending <-> bifurcation */
	double		crop;			/* share of the print that may fall outside the window */
} synth_finger_params;

synth_finger_params synth_finger_defaults(void);

/*
 * Impression `capture` of finger `subject` as a view in the canonical frame
 * (micrometres; a 500 dpi image of width x height pixels is assumed only for
 * placing the print and cropping).  Capture 0 is the enrolment impression.
 */
void		synth_finger_capture(const synth_finger_params *p, uint64_t seed, uint64_t subject, uint64_t capture,
								 struct fp_view *out);

#endif							/* RF_SYNTH_H */
