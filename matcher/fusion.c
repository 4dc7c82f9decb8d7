/*
 * fusion.c
 *		Person-level score fusion (see fusion.h).
 */
#include <math.h>

#include "fusion.h"
#include "iris.h"

double
fusion_finger_evidence(double calibrated_score)
{
	if (!(calibrated_score > 0))
		return 0;
	return fmin(calibrated_score / 10.0, FUSION_MAX_EVIDENCE);
}

double
fusion_iris_evidence(double hd, double dof, int nshift)
{
	double		p = iris_false_match(hd, dof, nshift);

	if (!(p < 1))
		return 0;
	if (!(p > 0))
		return FUSION_MAX_EVIDENCE;
	return fmin(-log10(p), FUSION_MAX_EVIDENCE);
}

/*
 * With x = t ln 10, P(-ln(U1...Uk) >= x) = e^-x sum_{j<k} x^j / j!  (the
 * Erlang survival function).  Summed in logs so that large t or k neither
 * overflow nor lose the small terms.
 */
double
fusion_tail(double t, int k)
{
	double		x = t * M_LN10;
	double		sum = 0;

	if (k < 1)
		return 1;
	if (!(t > 0))
		return 1;
	for (int j = 0; j < k; j++)
		sum += exp(-x + j * log(x) - lgamma(j + 1.0));
	return fmin(sum, 1.0);
}

double
fusion_fpir(double t, int k, double n)
{
	double		p = fusion_tail(t, k);

	if (n < 1)
		n = 1;
	if (p >= 1)
		return 1;
	/* 1 - (1 - p)^n without cancellation */
	return -expm1(n * log1p(-p));
}

double
fusion_threshold(double n, double fpir, int k)
{
	double		lo = 0;
	double		hi = 64 * FUSION_MAX_EVIDENCE;	/* k parts can sum to k times the cap */

	if (!(n >= 1) || !(fpir > 0 && fpir < 1) || k < 1 || k > 64)
		return NAN;
	/* fusion_fpir falls with t: bisect to well below any score's resolution */
	for (int i = 0; i < 60; i++)
	{
		double		mid = (lo + hi) / 2;

		if (fusion_fpir(mid, k, n) > fpir)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}
