/*
 * fusion.h
 *		Person-level score fusion and its decision thresholds.
 *
 * Each compared modality (one finger position, one eye) contributes its
 * evidence in decades, e = -log10(FMR), where FMR is the calibrated
 * probability that an impostor scores at least as well.  Under the impostor
 * hypothesis the FMRs of independent modalities are uniform on (0, 1], so the
 * sum of k evidences is the negative log of a product of k uniforms, whose
 * tail is known in closed form.  A gallery of N people then gives a
 * person-level false-positive identification rate, and the threshold for a
 * target FPIR follows from N and k: no hand-tuned score thresholds.
 */
#ifndef REFUGE_FUSION_H
#define REFUGE_FUSION_H

/*
 * Evidence cap per part: the score models are fitted on some 1e4-1e6
 * impostor comparisons, so claims far below 1e-10 would be extrapolation.
 * A person is then identified by the number of parts that agree, and one
 * perfect finger alone cannot outweigh a large gallery.
 */
#define FUSION_MAX_EVIDENCE 10.0

/* Evidence of a calibrated fingerprint score (10 log10(1/FMR)). */
double		fusion_finger_evidence(double calibrated_score);

/* Evidence of a normalised iris distance under the binomial impostor model. */
double		fusion_iris_evidence(double hd, double dof, int nshift);

/* P(sum of k impostor evidences >= t): the tail of -log10 of k uniforms. */
double		fusion_tail(double t, int k);

/* Person-level FPIR of evidence t over k modalities in a gallery of n people. */
double		fusion_fpir(double t, int k, double n);

/* The evidence at which fusion_fpir(t, k, n) equals fpir (NaN on bad input). */
double		fusion_threshold(double n, double fpir, int k);

#endif							/* REFUGE_FUSION_H */
