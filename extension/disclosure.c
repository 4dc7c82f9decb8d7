/*
 * disclosure.c
 *		Statistical disclosure control of published tables: primary and
 *		complementary cell suppression (refuge.sdc_protect).
 *
 * A published table is a set of variables (cell counts and the totals
 * published with them) tied by linear equations (a total is the sum of its
 * cells; a pyramid band plus its neighbours is a bracket; ...).  A cell of
 * 1 to k-1 people singles them out, so it is suppressed (primary); but a
 * suppressed cell whose equation has no other unknown is recomputed from
 * the total (female total minus the visible cells), so more cells are
 * suppressed until (complementary suppression, as sdcTable and tau-Argus do):
 *
 *	- no equation holds exactly one suppressed variable;
 *	- in an equation whose suppressed variables all enter with the same
 *	  sign, they add up to at least k (two suppressed cells of 1 and 2 in
 *	  a row whose total is published are a group of 3);
 *	- no suppressed variable is determined by the equations together: the
 *	  system restricted to the suppressed variables is reduced (Gaussian
 *	  elimination modulo a large prime, exact for these small integer
 *	  coefficients) and a variable whose reduced row has no free variable
 *	  is known, so a neighbour of it is suppressed too.
 *
 * The smallest candidate is suppressed each time (the least information
 * lost).  Variables may be fixed (known to everyone, never suppressed) or
 * forced (already suppressed elsewhere).  The interval an attacker can
 * derive for a suppressed cell from non-negativity is not bounded beyond
 * the sum rule above.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "disclosure.h"

PG_FUNCTION_INFO_V1(refuge_sdc_protect);

/* the smallest group of people a published figure may describe */
static int	min_cell_size = 5;

void
RefugeDisclosureInit(void)
{
	DefineCustomIntVariable("refuge.min_cell_size",
							"Smallest number of people a figure published to analysts may describe (k).",
							"Smaller cells, and the cells that would give them away through published totals, "
							"are suppressed when a snapshot is taken and in refuge.population_summary().",
							&min_cell_size, 5, 3, 1000, PGC_SUSET, 0, NULL, NULL, NULL);
}

#define SDC_PRIME 2147483647u	/* 2^31 - 1 */
#define SDC_MAX_VARS	50000
#define SDC_MAX_TERMS	500000
/* the dense matrix of the audit: equations x suppressed figures, 4 bytes each */
#define SDC_MAX_MATRIX	((Size) 64 * 1024 * 1024)

typedef struct Term
{
	int			var;
	int			coef;
} Term;

typedef struct Equation
{
	int			nterms;
	Term	   *terms;
} Equation;

static uint32
mod_inverse(uint32 a)
{
	/* a^(p-2) mod p */
	uint64		result = 1,
				base = a,
				e = SDC_PRIME - 2;

	while (e > 0)
	{
		if (e & 1)
			result = result * base % SDC_PRIME;
		base = base * base % SDC_PRIME;
		e >>= 1;
	}
	return (uint32) result;
}

static uint32
to_mod(int c)
{
	return c >= 0 ? (uint32) c % SDC_PRIME : SDC_PRIME - ((uint32) (-c) % SDC_PRIME);
}

/*
 * Which suppressed variables the equations determine.  determined[v] is set
 * for each.  Dense elimination over the suppressed columns only.
 */
static void
find_determined(int nvars, const bool *supp, int neq, const Equation *eqs, bool *determined)
{
	int		   *col = palloc(nvars * sizeof(int));	/* var -> column */
	int		   *var_of = palloc(nvars * sizeof(int));
	int			m = 0;
	int			rows = 0;
	uint32	   *a;
	int		   *pivot_col;
	int			rank = 0;

	for (int v = 0; v < nvars; v++)
	{
		determined[v] = false;
		col[v] = -1;
		if (supp[v])
		{
			col[v] = m;
			var_of[m++] = v;
		}
	}
	if (m == 0)
		return;
	/* only equations that involve a suppressed variable matter */
	if ((Size) neq * m > SDC_MAX_MATRIX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%d equations over %d suppressed figures are too many to audit in one piece", neq, m)));
	a = palloc_extended((Size) neq * m * sizeof(uint32), MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	for (int e = 0; e < neq; e++)
	{
		bool		any = false;

		for (int t = 0; t < eqs[e].nterms; t++)
		{
			int			c = col[eqs[e].terms[t].var];

			if (c >= 0)
			{
				uint32	   *cell = &a[(Size) rows * m + c];

				*cell = (uint32) (((uint64) *cell + to_mod(eqs[e].terms[t].coef)) % SDC_PRIME);
				any = true;
			}
		}
		if (any)
			rows++;
	}
	pivot_col = palloc(rows * sizeof(int));
	for (int c = 0; c < m && rank < rows; c++)
	{
		int			p = -1;
		uint32		inv;

		CHECK_FOR_INTERRUPTS();
		for (int r = rank; r < rows; r++)
			if (a[(Size) r * m + c] != 0)
			{
				p = r;
				break;
			}
		if (p < 0)
			continue;
		if (p != rank)
			for (int j = 0; j < m; j++)
			{
				uint32		tmp = a[(Size) p * m + j];

				a[(Size) p * m + j] = a[(Size) rank * m + j];
				a[(Size) rank * m + j] = tmp;
			}
		inv = mod_inverse(a[(Size) rank * m + c]);
		/* whole rows: a column left of c without a pivot may hold entries too */
		for (int j = 0; j < m; j++)
			a[(Size) rank * m + j] = (uint32) ((uint64) a[(Size) rank * m + j] * inv % SDC_PRIME);
		for (int r = 0; r < rows; r++)
		{
			uint64		f;

			if (r == rank || a[(Size) r * m + c] == 0)
				continue;
			f = a[(Size) r * m + c];
			for (int j = 0; j < m; j++)
			{
				uint64		sub = f * a[(Size) rank * m + j] % SDC_PRIME;

				if (sub != 0)
					a[(Size) r * m + j] = (uint32) (((uint64) a[(Size) r * m + j] + SDC_PRIME - sub) % SDC_PRIME);
			}
		}
		pivot_col[rank++] = c;
	}
	/* a pivot whose row has no other non-zero entry is a known value */
	for (int r = 0; r < rank; r++)
	{
		bool		alone = true;

		for (int j = 0; j < m && alone; j++)
			if (j != pivot_col[r] && a[(Size) r * m + j] != 0)
				alone = false;
		if (alone)
			determined[var_of[pivot_col[r]]] = true;
	}
	pfree(a);
	pfree(pivot_col);
	pfree(col);
	pfree(var_of);
}

/*
 * Is v a better variable to suppress next than best?  Lower priority first
 * (cells before the totals they add up to), then a non-zero count, then the
 * fewest people.
 */
static bool
better(int v, int best, const int64 *counts, const int32 *priority)
{
	if (best < 0)
		return true;
	if (priority[v] != priority[best])
		return priority[v] < priority[best];
	if ((counts[v] > 0) != (counts[best] > 0))
		return counts[v] > 0;
	return counts[v] < counts[best];
}

/* The best unsuppressed, suppressible variable of an equation, or -1. */
static int
cheapest(const Equation *eq, const bool *supp, const bool *fixed, const int64 *counts, const int32 *priority)
{
	int			best = -1;

	for (int t = 0; t < eq->nterms; t++)
	{
		int			v = eq->terms[t].var;

		if (!supp[v] && !fixed[v] && better(v, best, counts, priority))
			best = v;
	}
	return best;
}

/*
 * A determined variable d: suppress the best candidate of the equations it
 * is in; when they hold none, of the equations reachable from it through
 * suppressed variables (the ones that determine it).
 */
static int
breaker(int d, int nvars, int neq, const Equation *eqs, const int *const *var_eqs, const int *nvar_eqs,
		const bool *supp, const bool *fixed, const int64 *counts, const int32 *priority)
{
	int			best = -1;
	bool	   *seen_eq = palloc0(Max(neq, 1) * sizeof(bool));
	bool	   *seen_var = palloc0(Max(nvars, 1) * sizeof(bool));
	int		   *queue = palloc(Max(nvars, 1) * sizeof(int));
	int			head = 0,
				tail = 0;

	for (int i = 0; i < nvar_eqs[d]; i++)
	{
		int			v = cheapest(&eqs[var_eqs[d][i]], supp, fixed, counts, priority);

		if (v >= 0 && better(v, best, counts, priority))
			best = v;
	}
	if (best >= 0)
		return best;
	queue[tail++] = d;
	seen_var[d] = true;
	while (head < tail)
	{
		int			u = queue[head++];

		for (int i = 0; i < nvar_eqs[u]; i++)
		{
			int			e = var_eqs[u][i];

			if (seen_eq[e])
				continue;
			seen_eq[e] = true;
			for (int t = 0; t < eqs[e].nterms; t++)
			{
				int			v = eqs[e].terms[t].var;

				if (supp[v] && !seen_var[v])
				{
					seen_var[v] = true;
					queue[tail++] = v;
				}
				else if (!supp[v] && !fixed[v] && better(v, best, counts, priority))
					best = v;
			}
		}
	}
	pfree(seen_eq);
	pfree(seen_var);
	pfree(queue);
	return best;
}

/*
 * refuge.sdc_protect(counts bigint[], eq_id int[], eq_var int[], eq_coef int[],
 *                    k int, fixed boolean[] default null, forced boolean[] default null,
 *                    priority int[] default null)
 *		returns boolean[]: which variables to suppress.  Among candidates, a lower
 * priority is suppressed first (cells before totals), then the fewest people.
 * Variables are 1-based positions in counts; each (eq_id, eq_var, eq_coef)
 * triple is one term of equation eq_id (sum of coef * var = 0).
 */
Datum
refuge_sdc_protect(PG_FUNCTION_ARGS)
{
	ArrayType  *acounts = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *aeq = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *avar = PG_GETARG_ARRAYTYPE_P(2);
	ArrayType  *acoef = PG_GETARG_ARRAYTYPE_P(3);
	int			k = PG_GETARG_INT32(4);
	int			nvars = ArrayGetNItems(ARR_NDIM(acounts), ARR_DIMS(acounts));
	int			nterms = ArrayGetNItems(ARR_NDIM(aeq), ARR_DIMS(aeq));
	int64	   *counts;
	int32	   *eq_id;
	int32	   *eq_var;
	int32	   *eq_coef;
	bool	   *supp;
	bool	   *fixed;
	bool	   *determined;
	int32	   *priority;
	int		  **var_eqs;
	int		   *nvar_eqs;
	int			neq = 0;
	int			maxid = 0;
	int		   *index;
	Equation   *eqs;
	Datum	   *out;
	bool		changed;

	if (ARR_HASNULL(acounts) || ARR_HASNULL(aeq) || ARR_HASNULL(avar) || ARR_HASNULL(acoef) ||
		ARR_ELEMTYPE(acounts) != INT8OID || ARR_ELEMTYPE(aeq) != INT4OID || ARR_ELEMTYPE(avar) != INT4OID ||
		ARR_ELEMTYPE(acoef) != INT4OID)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("counts, eq_id, eq_var, eq_coef: arrays of bigint and integer without nulls")));
	if (ArrayGetNItems(ARR_NDIM(avar), ARR_DIMS(avar)) != nterms ||
		ArrayGetNItems(ARR_NDIM(acoef), ARR_DIMS(acoef)) != nterms)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("eq_id, eq_var, eq_coef: %d, %d and %d terms; one of each per term", nterms,
						ArrayGetNItems(ARR_NDIM(avar), ARR_DIMS(avar)), ArrayGetNItems(ARR_NDIM(acoef), ARR_DIMS(acoef)))));
	if (k < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("k: %d is not a positive number of people", k)));
	/* the elimination holds equations x suppressed cells: keep it within memory PostgreSQL can give */
	if (nvars > SDC_MAX_VARS || nterms > SDC_MAX_TERMS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a table of %d figures and %d equation terms is too large to protect in one piece", nvars, nterms),
				 errhint("At most %d figures and %d terms; protect each operation's table on its own.", SDC_MAX_VARS, SDC_MAX_TERMS)));
	counts = (int64 *) ARR_DATA_PTR(acounts);
	eq_id = (int32 *) ARR_DATA_PTR(aeq);
	eq_var = (int32 *) ARR_DATA_PTR(avar);
	eq_coef = (int32 *) ARR_DATA_PTR(acoef);

	supp = palloc0(Max(nvars, 1) * sizeof(bool));
	fixed = palloc0(Max(nvars, 1) * sizeof(bool));
	determined = palloc0(Max(nvars, 1) * sizeof(bool));
	for (int i = 5; i <= 6; i++)
	{
		ArrayType  *flags;

		if (PG_NARGS() <= i || PG_ARGISNULL(i))
			continue;
		flags = PG_GETARG_ARRAYTYPE_P(i);
		if (ARR_ELEMTYPE(flags) != BOOLOID || ARR_HASNULL(flags) ||
			ArrayGetNItems(ARR_NDIM(flags), ARR_DIMS(flags)) != nvars)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%s: one boolean per variable", i == 5 ? "fixed" : "forced")));
		memcpy(i == 5 ? fixed : supp, ARR_DATA_PTR(flags), nvars * sizeof(bool));
	}
	priority = palloc0(Max(nvars, 1) * sizeof(int32));
	if (PG_NARGS() > 7 && !PG_ARGISNULL(7))
	{
		ArrayType  *pr = PG_GETARG_ARRAYTYPE_P(7);

		if (ARR_ELEMTYPE(pr) != INT4OID || ARR_HASNULL(pr) || ArrayGetNItems(ARR_NDIM(pr), ARR_DIMS(pr)) != nvars)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("priority: one integer per variable")));
		memcpy(priority, ARR_DATA_PTR(pr), nvars * sizeof(int32));
	}
	for (int v = 0; v < nvars; v++)
	{
		if (counts[v] < 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("counts[%d]: %lld is negative", v + 1,
																			   (long long) counts[v])));
		if (!fixed[v] && counts[v] > 0 && counts[v] < k)
			supp[v] = true;		/* primary */
	}

	/* equations: group the terms by id */
	for (int t = 0; t < nterms; t++)
	{
		if (eq_var[t] < 1 || eq_var[t] > nvars)
			ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
							errmsg("eq_var[%d]: %d is not a variable (1-%d)", t + 1, eq_var[t], nvars)));
		if (eq_id[t] < 0 || eq_id[t] >= nterms + 1000000)
			ereport(ERROR, (errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR), errmsg("eq_id[%d]: %d is out of range", t + 1, eq_id[t])));
		maxid = Max(maxid, eq_id[t]);
	}
	index = palloc(((Size) maxid + 1) * sizeof(int));
	for (int i = 0; i <= maxid; i++)
		index[i] = -1;
	for (int t = 0; t < nterms; t++)
		if (index[eq_id[t]] < 0)
			index[eq_id[t]] = neq++;
	eqs = palloc0(Max(neq, 1) * sizeof(Equation));
	for (int t = 0; t < nterms; t++)
		eqs[index[eq_id[t]]].nterms++;
	for (int e = 0; e < neq; e++)
	{
		eqs[e].terms = palloc(eqs[e].nterms * sizeof(Term));
		eqs[e].nterms = 0;
	}
	for (int t = 0; t < nterms; t++)
	{
		Equation   *eq = &eqs[index[eq_id[t]]];

		eq->terms[eq->nterms].var = eq_var[t] - 1;
		eq->terms[eq->nterms].coef = eq_coef[t];
		eq->nterms++;
	}
	/* the equations each variable is in */
	nvar_eqs = palloc0(Max(nvars, 1) * sizeof(int));
	var_eqs = palloc(Max(nvars, 1) * sizeof(int *));
	for (int e = 0; e < neq; e++)
		for (int t = 0; t < eqs[e].nterms; t++)
			nvar_eqs[eqs[e].terms[t].var]++;
	for (int v = 0; v < nvars; v++)
	{
		var_eqs[v] = palloc(Max(nvar_eqs[v], 1) * sizeof(int));
		nvar_eqs[v] = 0;
	}
	for (int e = 0; e < neq; e++)
		for (int t = 0; t < eqs[e].nterms; t++)
		{
			int			v = eqs[e].terms[t].var;

			var_eqs[v][nvar_eqs[v]++] = e;
		}

	do
	{
		changed = false;
		CHECK_FOR_INTERRUPTS();
		for (int e = 0; e < neq; e++)
		{
			int			nsupp = 0;
			int64		sum = 0;
			int			pos = 0,
						neg = 0;
			int			v;

			for (int t = 0; t < eqs[e].nterms; t++)
				if (supp[eqs[e].terms[t].var])
				{
					nsupp++;
					sum += counts[eqs[e].terms[t].var];
					if (eqs[e].terms[t].coef > 0)
						pos++;
					else
						neg++;
				}
			if (nsupp == 0 || (nsupp >= 2 && !((pos == 0 || neg == 0) && sum < k)))
				continue;
			v = cheapest(&eqs[e], supp, fixed, counts, priority);
			if (v >= 0)
			{
				supp[v] = true;
				changed = true;
			}
		}
		if (changed)
			continue;
		/* no equation alone gives a cell away: what do they give together? */
		find_determined(nvars, supp, neq, eqs, determined);
		for (int d = 0; d < nvars && !changed; d++)
		{
			int			v;

			if (!determined[d])
				continue;
			v = breaker(d, nvars, neq, eqs, (const int *const *) var_eqs, nvar_eqs, supp, fixed, counts, priority);
			if (v >= 0)
			{
				supp[v] = true;
				changed = true;
			}
		}
	} while (changed);

	out = palloc(Max(nvars, 1) * sizeof(Datum));
	for (int v = 0; v < nvars; v++)
		out[v] = BoolGetDatum(supp[v]);
	PG_RETURN_ARRAYTYPE_P(construct_array(out, nvars, BOOLOID, 1, true, TYPALIGN_CHAR));
}
