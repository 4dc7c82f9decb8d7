/*
 * test_fp_match.c
 *		Unit tests of the minutiae matcher: symmetry, self-similarity,
 *		invariance to rotation and translation, degenerate input.  Uses the
 *		shared mindtct minutiae when present, a hand-made print otherwise.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fp_match.h"
#include "fp_record.h"
#include "synth.h"
#include "tap.h"

static fp_record rec;
static fpm_template ta, tb, tc;

/* A print-like cloud of minutiae (deterministic). */
static void
synthetic_view(fp_view *v, int n, uint32_t seed)
{
	memset(v, 0, sizeof(*v));
	v->nminutiae = (uint16_t) n;
	for (int i = 0; i < n; i++)
	{
		seed = seed * 1664525u + 1013904223u;
		v->minutiae[i].x = 2000 + (int32_t) (seed % 12000);
		seed = seed * 1664525u + 1013904223u;
		v->minutiae[i].y = 2000 + (int32_t) (seed % 14000);
		seed = seed * 1664525u + 1013904223u;
		v->minutiae[i].angle = (uint16_t) (seed >> 16);
		v->minutiae[i].type = 1 + (seed & 1);
		v->minutiae[i].quality = 60;
	}
}

/* Turn a view by deg degrees about (cx, cy) micrometres and shift it. */
static void
transform(const fp_view *in, fp_view *out, double deg, double cx, double cy, double tx, double ty)
{
	double		r = deg * M_PI / 180.0;

	*out = *in;
	for (int i = 0; i < in->nminutiae; i++)
	{
		/* in the image frame (y down) an on-screen counter-clockwise turn is -r */
		double		x = in->minutiae[i].x - cx, y = in->minutiae[i].y - cy;

		out->minutiae[i].x = (int32_t) lround(cx + x * cos(r) + y * sin(r) + tx);
		out->minutiae[i].y = (int32_t) lround(cy - x * sin(r) + y * cos(r) + ty);
		out->minutiae[i].angle = (uint16_t) (in->minutiae[i].angle + (int) lround(deg * 65536.0 / 360.0));
	}
}

int
main(void)
{
	static fp_view v, w;
	const char *env = getenv("REFUGE_SHARED");
	char		path[1024];
	FILE	   *f;

	synthetic_view(&v, 45, 7);
	fpm_build(&v, &ta);
	ok(ta.n == 45 && ta.nvalid > 20, "template keeps the minutiae (%d, %d with a valid cylinder)", ta.n, ta.nvalid);
	ok(fpm_score(&ta, &ta) > 0.9, "a print matches itself (%.3f)", fpm_score(&ta, &ta));
	ok(fabs(fpm_calibrate(fpm_score_for_fmr(0.001)) - 30) < 1e-9 && fabs(fpm_calibrate(fpm_score_for_fmr(0.01)) - 20) < 1e-9,
	   "calibrated 20 and 30 are the scores of FMR 1%% and 0.1%%");
	ok(fpm_calibrate(0) == 0 && fpm_calibrate(0.2) > fpm_calibrate(0.1), "calibration is monotone and floored at 0");
	transform(&v, &w, 30, 9000, 10000, 1500, -800);
	fpm_build(&w, &tb);
	ok(fpm_score(&ta, &tb) > 0.85, "turned by 30 degrees and moved 1.7 mm it still matches (%.3f)", fpm_score(&ta, &tb));
	ok(fpm_score(&ta, &tb) == fpm_score(&tb, &ta), "symmetric: %.6f == %.6f", fpm_score(&ta, &tb), fpm_score(&tb, &ta));
	synthetic_view(&w, 45, 99);
	fpm_build(&w, &tc);
	ok(fpm_score(&ta, &tc) < 0.3, "an unrelated print scores low (%.3f)", fpm_score(&ta, &tc));
	synthetic_view(&w, 1, 5);
	fpm_build(&w, &tc);
	ok(fpm_score(&ta, &tc) == 0.0 && fpm_score(&tc, &tc) == 0.0, "a template with one minutia cannot match anything");

	{
		/* synthetic fingers: re-captures match, other fingers do not */
		synth_finger_params sp = synth_finger_defaults();
		double		gmin = 1, imax = 0, gsum = 0, isum = 0;
		int			ng = 0, ni = 0, rank1 = 0;
		static fpm_template enrol[40];

		for (int f = 0; f < 40; f++)
		{
			synth_finger_capture(&sp, 3, f, 0, &v);
			fpm_build(&v, &enrol[f]);
		}
		for (int f = 0; f < 40; f++)
		{
			int			best = 0;
			double		bests = -1;

			synth_finger_capture(&sp, 3, f, 1 + f % 4, &w);
			fpm_build(&w, &tb);
			for (int g = 0; g < 40; g++)
			{
				double		s = fpm_score(&tb, &enrol[g]);

				if (s > bests)
					bests = s, best = g;
				if (g == f)
					gsum += s, ng++, gmin = s < gmin ? s : gmin;
				else
					isum += s, ni++, imax = s > imax ? s : imax;
			}
			rank1 += best == f;
		}
		printf("# synthetic fingers: genuine mean %.3f (min %.3f), impostor mean %.3f (max %.3f)\n",
			   gsum / ng, gmin, isum / ni, imax);
		ok(rank1 >= 38, "synthetic re-captures find their finger first (%d of 40)", rank1);
		ok(gsum / ng > 5 * isum / ni, "synthetic genuine scores far above impostors");
		synth_finger_capture(&sp, 3, 7, 2, &v);
		synth_finger_capture(&sp, 3, 7, 2, &w);
		ok(memcmp(&v, &w, sizeof(v)) == 0 && v.nminutiae >= 15, "the finger generator is deterministic (%d minutiae)", v.nminutiae);
	}

	snprintf(path, sizeof(path), "%s/data/fingerprints/fvc2002_db1_b/101_1.xyt", env ? env : "../../../shared");
	if ((f = fopen(path, "r")) == NULL)
	{
		skip("../shared not found: tests on real minutiae skipped");
		return tap_done();
	}
	fclose(f);
	{
		/* all ordered pairs of 16 real prints (2 fingers x 8): symmetric to the bit */
		static fpm_template t[16];
		int			asym = 0;
		double		gen = 0, imp = 0;
		int			ng = 0, ni = 0;

		for (int k = 0; k < 16; k++)
		{
			char		text[8192];
			size_t		len;

			snprintf(path, sizeof(path), "%s/data/fingerprints/fvc2002_db1_b/%d_%d.xyt",
					 env ? env : "../../../shared", 101 + k / 8, 1 + k % 8);
			f = fopen(path, "r");
			len = fread(text, 1, sizeof(text) - 1, f);
			fclose(f);
			fp_parse_xyt(text, len, 388, 374, 500, 0, &rec, NULL);
			fpm_build(&rec.views[0], &t[k]);
		}
		for (int a = 0; a < 16; a++)
			for (int b = 0; b < 16; b++)
			{
				double		s = fpm_score(&t[a], &t[b]);

				asym += s != fpm_score(&t[b], &t[a]);
				if (a < b && a / 8 == b / 8)
					gen += s, ng++;
				else if (a < b)
					imp += s, ni++;
			}
		ok(asym == 0, "256 ordered pairs of real prints: s(a, b) == s(b, a) every time");
		ok(gen / ng > 4 * imp / ni, "genuine pairs score far above impostors (mean %.3f vs %.3f)", gen / ng, imp / ni);
	}
	return tap_done();
}
