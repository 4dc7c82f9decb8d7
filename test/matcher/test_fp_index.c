/*
 * Unit tests of the fingerprint candidate keys (matcher/fp_index.c).
 */
#include <stdlib.h>
#include <string.h>

#include "fp_index.h"
#include "fp_match.h"
#include "fp_record.h"
#include "synth.h"
#include "tap.h"

static fp_view view;

static int
keys_of(uint64_t subject, uint64_t capture, int cylinders, uint16_t *keys, fpm_template *t)
{
	synth_finger_params p = synth_finger_defaults();

	synth_finger_capture(&p, 21, subject, capture, &view);
	fpm_build(&view, t);
	return fpi_keys(t, cylinders, keys);
}

int
main(void)
{
	fpm_template *t = malloc(sizeof(fpm_template));
	static uint16_t a[FPI_MAX_KEYS], b[FPI_MAX_KEYS], g[FPI_GALLERY_KEYS];
	static uint64_t bitmap[FPI_BITMAP_WORDS];
	int			na, nb, ng, sorted = 1, naive = 0, set = 0;
	int			genuine_wins = 0, genuine_total = 0;
	double		gen_hits = 0, imp_hits = 0;

	na = keys_of(1, 0, FPM_MAX, a, t);
	nb = keys_of(1, 0, FPM_MAX, b, t);
	ok(na > 0 && na == nb && memcmp(a, b, na * sizeof(uint16_t)) == 0, "keys are deterministic (%d keys)", na);
	for (int i = 1; i < na; i++)
		sorted &= a[i - 1] < a[i];
	ok(sorted, "keys come sorted and distinct");
	ng = fpi_keys(t, FPI_GALLERY, g);
	ok(ng <= FPI_GALLERY_KEYS && ng <= na, "a gallery finger keys at most %d cylinders: %d keys (probe %d)", FPI_GALLERY, ng, na);

	/* the bitmap and the hit count agree with a plain search */
	fpi_bitmap(a, na, bitmap);
	for (int w = 0; w < FPI_BITMAP_WORDS; w++)
		set += __builtin_popcountll(bitmap[w]);
	ok(set == na, "the probe bitmap has one bit per key (%d)", set);
	nb = keys_of(2, 0, FPI_GALLERY, b, t);
	for (int i = 0; i < nb; i++)
		for (int j = 0; j < na; j++)
			naive += b[i] == a[j];
	ok(fpi_hits(bitmap, b, nb) == naive, "fpi_hits counts shared keys (%d)", naive);
	ok(fpi_hits(bitmap, a, na) == na, "a finger shares all its keys with itself");
	/* the dispatched kernel (AVX2 gathers where present) equals the plain loop */
	{
		int			same = 1;
		uint64_t	x = 0x9e3779b97f4a7c15ULL;

		for (int trial = 0; trial < 200; trial++)
		{
			int			n = trial % 67;

			for (int w = 0; w < FPI_BITMAP_WORDS; w++)
			{
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				bitmap[w] = x & (x >> 3);
			}
			for (int i = 0; i < n; i++)
			{
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				b[i] = (uint16_t) x;
			}
			same &= fpi_hits(bitmap, b, n) == fpi_hits_portable(bitmap, b, n);
		}
		ok(same, "fpi_hits equals the one-key-at-a-time count on 200 random bitmaps and key lists of 0-66 keys");
	}
	fpi_bitmap(a, na, bitmap);

	/* a new impression shares more keys with its own finger than with others */
	for (int s = 0; s < 100; s++)
	{
		int			np = keys_of(s, 1, FPM_MAX, a, t);
		float		mate, best_other = 0;

		fpi_bitmap(a, np, bitmap);
		nb = keys_of(s, 0, FPI_GALLERY, b, t);
		mate = fpi_score(bitmap, b, nb);
		gen_hits += fpi_hits(bitmap, b, nb);
		for (int o = 100; o < 150; o++)
		{
			float		sc;

			nb = keys_of(o, 0, FPI_GALLERY, b, t);
			sc = fpi_score(bitmap, b, nb);
			imp_hits += fpi_hits(bitmap, b, nb) / 50.0;
			if (sc > best_other)
				best_other = sc;
		}
		genuine_total++;
		genuine_wins += mate > best_other;
	}
	ok(genuine_wins >= 95, "the mate outscores 50 other fingers for %d of %d new impressions", genuine_wins, genuine_total);
	ok(gen_hits / genuine_total > 2 * imp_hits / genuine_total,
	   "mates share %.1f keys on average, other fingers %.1f", gen_hits / genuine_total, imp_hits / genuine_total);

	/* an empty finger has no keys and scores nothing */
	memset(&view, 0, sizeof(view));
	fpm_build(&view, t);
	ok(fpi_keys(t, FPM_MAX, a) == 0, "a finger without minutiae has no keys");
	ok(fpi_score(bitmap, a, 0) == 0.0f, "and scores 0");
	free(t);
	return tap_done();
}
