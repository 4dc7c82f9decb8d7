/*
 * synth_iris.c
 *		Synthetic iris codes with realistically correlated bits.
 *
 * An eye is a pair of Gaussian fields per ring (one per bit of a cell):
 * AR(1) along the angle with correlation length corr_len, coupled between
 * neighbouring rings.  A capture samples the field turned by a random number
 * of columns, adds noise whose level varies from capture to capture
 * (log-normal), takes signs as code bits, and masks eyelids (outer rings,
 * around 12 and 6 o'clock) and a few specular spots.  Independent bits would
 * give far too narrow impostor distributions; this correlation gives about
 * Daugman's 249 degrees of freedom.
 */
#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rf_rng.h"

synth_iris_params
synth_iris_defaults(void)
{
	synth_iris_params p;

	p.rows = 8;
	p.cols = 128;
	p.bits_per_cell = 2;
	p.corr_len = 4.2;
	p.radial = 0.81;
	p.noise = 0.21;
	p.quality_sd = 0.6;
	p.max_rotation = 2;
	p.eyelid = 0.35;
	return p;
}

/* The eye's latent field, field[(r * cols + c) * bpc + b]. */
static void
latent_field(const synth_iris_params *p, uint64_t seed, uint64_t subject, float *field)
{
	rf_rng		rng;
	double		a = exp(-1.0 / p->corr_len);
	double		ia = sqrt(1.0 - a * a);
	double		rho = p->radial;
	double		irho = sqrt(1.0 - rho * rho);
	int			bpc = p->bits_per_cell;

	rf_rng_seed(&rng, seed, subject, 0x1e5);
	for (int r = 0; r < p->rows; r++)
		for (int b = 0; b < bpc; b++)
		{
			double		x = rf_gauss(&rng);

			for (int c = 0; c < p->cols; c++)
			{
				size_t		i = ((size_t) r * p->cols + c) * bpc + b;
				double		v;

				x = a * x + ia * rf_gauss(&rng);
				v = x;
				if (r > 0)
					v = rho * field[i - (size_t) p->cols * bpc] + irho * x;
				field[i] = (float) v;
			}
		}
}

int
synth_iris_capture(const synth_iris_params *p, uint64_t seed, uint64_t subject, uint64_t capture,
				   uint8_t *code, uint8_t *mask)
{
	float		field[SYNTH_IRIS_MAX_BITS];
	rf_rng		rng;
	int			bpc = p->bits_per_cell;
	size_t		nbits = (size_t) p->rows * p->cols * bpc;
	size_t		nbytes = (nbits + 7) / 8;
	int			rot;
	double		sigma;
	int			lid_rows;
	int			top_half;
	int			bottom_half;

	if (nbits > SYNTH_IRIS_MAX_BITS)
		return 0;
	latent_field(p, seed, subject, field);
	rf_rng_seed(&rng, seed ^ 0xca97u, subject, capture + 1);
	rot = capture == 0 ? 0 : (int) rf_below(&rng, 2 * p->max_rotation + 1) - p->max_rotation;
	sigma = p->noise * exp(p->quality_sd * rf_gauss(&rng));
	/* eyelids cover the outer rings over an angular sector at top and bottom */
	lid_rows = (int) (p->rows * (0.25 + 0.5 * rf_uniform(&rng)));
	top_half = (int) (p->cols * p->eyelid * (0.5 + rf_uniform(&rng)) / 2);
	bottom_half = (int) (p->cols * p->eyelid * (0.3 + 0.6 * rf_uniform(&rng)) / 2);

	memset(code, 0, nbytes);
	memset(mask, 0, nbytes);
	for (int r = 0; r < p->rows; r++)
		for (int c = 0; c < p->cols; c++)
		{
			/* this capture sees the eye turned by rot columns */
			int			src = ((c - rot) % p->cols + p->cols) % p->cols;
			int			d_top = abs(c - p->cols / 4);
			int			d_bottom = abs(c - 3 * p->cols / 4);
			int			covered = r >= p->rows - lid_rows && (d_top <= top_half || d_bottom <= bottom_half);

			for (int b = 0; b < bpc; b++)
			{
				size_t		i = ((size_t) r * p->cols + c) * bpc + b;
				double		v = field[((size_t) r * p->cols + src) * bpc + b] + sigma * rf_gauss(&rng);

				if (v > 0)
					code[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
				if (!covered && rf_uniform(&rng) > 0.02)	/* specular spots */
					mask[i >> 3] |= (uint8_t) (0x80 >> (i & 7));
			}
		}
	return rot;
}
