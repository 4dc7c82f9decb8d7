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

#endif							/* RF_SYNTH_H */
