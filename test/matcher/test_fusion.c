/*
 * test_fusion.c
 *		Unit tests of person-level fusion: the evidence of each modality,
 *		the closed-form tail against simulation, and thresholds.
 */
#include <math.h>

#include "fusion.h"
#include "iris.h"
#include "rf_rng.h"
#include "tap.h"

/* Monte Carlo P(sum of k impostor evidences >= t) with uniform FMRs. */
static double
simulated_tail(double t, int k, int trials)
{
	rf_rng		r;
	int			hits = 0;

	rf_rng_seed(&r, 7, (uint64_t) k, (uint64_t) (t * 1000));
	for (int i = 0; i < trials; i++)
	{
		double		e = 0;

		for (int j = 0; j < k; j++)
			e += -log10(1.0 - rf_uniform(&r));	/* uniform on (0, 1] */
		hits += e >= t;
	}
	return (double) hits / trials;
}

int
main(void)
{
	/* evidence of single modalities */
	ok(fusion_finger_evidence(30) == 3.0, "a calibrated fingerprint score of 30 is 3 decades of evidence");
	ok(fusion_finger_evidence(-4) == 0 && fusion_finger_evidence(NAN) == 0, "no or invalid score is no evidence");
	ok(fusion_finger_evidence(1e6) == FUSION_MAX_EVIDENCE, "evidence is capped at %g decades", FUSION_MAX_EVIDENCE);
	ok(fusion_iris_evidence(0.5, 249, 7) < 0.01, "an iris distance of 0.5 is (almost) no evidence");
	ok(fabs(fusion_iris_evidence(0.32, 249, 7) - log10(1 / iris_false_match(0.32, 249, 7))) < 1e-9,
	   "iris evidence is -log10 of the binomial model's false-match rate");
	ok(fusion_iris_evidence(0.32, 249, 7) > 7 && fusion_iris_evidence(0.32, 249, 7) < 8,
	   "HD 0.32 is about 1 in 26 million (Daugman): %.2f decades", fusion_iris_evidence(0.32, 249, 7));
	ok(fusion_iris_evidence(0.05, 249, 7) == FUSION_MAX_EVIDENCE, "a near-identical iris hits the cap");

	/* the tail in closed form */
	ok(fabs(fusion_tail(3, 1) - 1e-3) < 1e-12, "one modality: P(e >= 3) = 10^-3");
	ok(fabs(fusion_tail(2, 2) - 1e-2 * (1 + 2 * M_LN10)) < 1e-12, "two modalities: 10^-t (1 + t ln 10)");
	ok(fusion_tail(0, 5) == 1 && fusion_tail(-1, 5) == 1, "t <= 0 is certain");
	ok(fusion_tail(400, 12) >= 0 && fusion_tail(400, 12) < 1e-300, "far tail underflows gracefully, not to NaN");
	{
		int			good = 1;

		for (int k = 1; k <= 12; k++)
			for (double t = 0.5; t < 20; t += 0.5)
				if (!(fusion_tail(t, k) <= fusion_tail(t - 0.5, k)) || !(fusion_tail(t, k) <= fusion_tail(t, k + 1)))
					good = 0;
		ok(good, "the tail falls with t and grows with k");
	}
	for (int k = 1; k <= 12; k += 5)
	{
		double		t = k + 1.5;
		double		exact = fusion_tail(t, k);
		double		sim = simulated_tail(t, k, 400000);
		double		se = sqrt(exact * (1 - exact) / 400000);

		ok(fabs(sim - exact) < 5 * se + 1e-6, "k=%d t=%.1f: closed form %.5f, simulated %.5f", k, t, exact, sim);
	}

	/* person-level rate and thresholds */
	ok(fabs(fusion_fpir(9, 1, 1e6) - 9.995e-4) < 1e-6 && fusion_fpir(9, 1, 1e6) < 1e-3, "FPIR = 1 - (1 - p)^N, a little under N p");
	ok(fusion_fpir(0, 3, 100) == 1, "no evidence: every search raises a false candidate");
	{
		double		t1 = fusion_threshold(1e6, 1e-3, 1);

		ok(fabs(t1 - 9.0) < 1e-3, "one modality, N=1e6, FPIR 1e-3: threshold 9 decades (%.4f)", t1);
	}
	{
		int			good = 1;

		for (int k = 1; k <= 12; k++)
			for (double n = 10; n <= 1e8; n *= 10)
			{
				double		t = fusion_threshold(n, 1e-3, k);

				if (!(fabs(fusion_fpir(t, k, n) - 1e-3) < 1e-6))
					good = 0;
				if (!(t > fusion_threshold(n / 10, 1e-3, k)) && n > 10)
					good = 0;
			}
		ok(good, "thresholds reproduce the target FPIR and grow with the gallery");
	}
	ok(fusion_threshold(1e6, 1e-3, 12) > fusion_threshold(1e6, 1e-3, 2),
	   "more modalities need more total evidence (%.2f for 12, %.2f for 2)",
	   fusion_threshold(1e6, 1e-3, 12), fusion_threshold(1e6, 1e-3, 2));
	ok(isnan(fusion_threshold(0, 1e-3, 2)) && isnan(fusion_threshold(10, 0, 2)) && isnan(fusion_threshold(10, 1, 2))
	   && isnan(fusion_threshold(10, 1e-3, 0)), "bad gallery size, rate or modality count gives NaN");
	return tap_done();
}
