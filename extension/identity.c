/*
 * identity.c
 *		Person-level matching for enrolment, identification and verification:
 *		the dedup policy settings, fused scores of one person against
 *		another (all fingers and both eyes), and the thresholds that follow
 *		from the gallery size and a target FPIR (matcher/fusion.h).
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"

#include "fp_match.h"
#include "fusion.h"
#include "fingerprint_type.h"
#include "identity.h"
#include "iris_type.h"

PG_FUNCTION_INFO_V1(refuge_fused_threshold);
PG_FUNCTION_INFO_V1(refuge_fused_fpir);
PG_FUNCTION_INFO_V1(refuge_person_match);
PG_FUNCTION_INFO_V1(refuge_dedup_settings);
PG_FUNCTION_INFO_V1(refuge_gallery_seq_latest);
PG_FUNCTION_INFO_V1(refuge_iris_evidence);

/* Iris impostor model: degrees of freedom of a 2,048-bit code (Daugman). */
#define IRIS_DOF		249.0

/* Parts compared: finger positions 1-10, then right and left iris. */
#define PART_RIGHT_IRIS 10
#define PART_LEFT_IRIS	11
#define NPARTS			12

static double target_fpir = 0.001;
static double block_fpir = 1e-6;
static double verify_fmr = 1e-4;
static int	min_age = 5;
static char *dedup_fingers = NULL;
static int	dedup_finger_candidates = 20;

void
RefugeIdentityInit(void)
{
	/* policy, not a session preference: only superusers may change them */
	DefineCustomRealVariable("refuge.target_fpir",
							 "Person-level false-positive identification rate at which enrolment raises a candidate.",
							 "A candidate whose fused evidence a gallery of this size would produce by chance less often "
							 "than this goes to adjudication.",
							 &target_fpir, 0.001, 1e-12, 0.5, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("refuge.block_fpir",
							 "Person-level false-positive identification rate below which enrolment blocks outright.",
							 "Must not exceed refuge.target_fpir; between the two a reviewer decides.",
							 &block_fpir, 1e-6, 1e-15, 0.5, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("refuge.verify_fmr",
							 "False-match rate of 1:1 verification (refuge.verify, collection at distributions).",
							 NULL, &verify_fmr, 1e-4, 1e-12, 0.5, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("refuge.biometric_min_age",
							"Age in years from which biometrics are taken.",
							NULL, &min_age, 5, 0, 18, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("refuge.dedup_fingers",
							   "Finger positions searched 1:N at enrolment (comma-separated, 1-10).",
							   "Each needs a refuge_fingerprint index on refuge.biometric_finger for that position; "
							   "every captured finger is still compared with each candidate.",
							   &dedup_fingers, "1,2,6,7", PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("refuge.dedup_finger_candidates",
							"Candidates each enrolment finger search re-scores with the full matcher.",
							"refuge.fingerprint_candidates for the searches of enrol_biometrics: each candidate costs "
							"about a millisecond, and the person-level decision also has the other fingers and the irises.",
							&dedup_finger_candidates, 20, 1, 100000, PGC_SUSET, 0, NULL, NULL, NULL);
}

/*
 * refuge.dedup_settings(): the policy as one row, checked, so that the SQL
 * API reads validated values (and loading it defines the settings).
 */
Datum
refuge_dedup_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	Datum		fingers[10];
	int			nfingers = 0;
	bool		seen[11] = {false};
	char	   *list = pstrdup(dedup_fingers ? dedup_fingers : "");
	char	   *tok;
	char	   *save;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (block_fpir > target_fpir)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("refuge.block_fpir: %g is above refuge.target_fpir (%g)", block_fpir, target_fpir)));
	for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save))
	{
		char	   *end;
		long		p = strtol(tok, &end, 10);

		if (*end != '\0' || p < 1 || p > 10)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("refuge.dedup_fingers: \"%s\" is not a finger position 1-10", tok)));
		if (!seen[p])
			fingers[nfingers++] = Int16GetDatum((int16) p);
		seen[p] = true;
	}
	values[0] = Float8GetDatum(target_fpir);
	values[1] = Float8GetDatum(block_fpir);
	values[2] = Float8GetDatum(verify_fmr);
	values[3] = Int32GetDatum(min_age);
	values[4] = PointerGetDatum(construct_array(fingers, nfingers, INT2OID, 2, true, TYPALIGN_SHORT));
	values[5] = Int32GetDatum(dedup_finger_candidates);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* refuge.fused_threshold(gallery_size, fpir, modalities) */
Datum
refuge_fused_threshold(PG_FUNCTION_ARGS)
{
	double		n = PG_GETARG_FLOAT8(0);
	double		fpir = PG_GETARG_FLOAT8(1);
	int32		k = PG_GETARG_INT32(2);

	if (!(fpir > 0 && fpir < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fpir: %g is not a rate strictly between 0 and 1", fpir)));
	if (k < 1 || k > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("modalities: %d is not between 1 and 64", k)));
	PG_RETURN_FLOAT8(fusion_threshold(n < 1 ? 1 : n, fpir, k));
}

/* refuge.iris_evidence(hd): decades of evidence of one iris comparison */
Datum
refuge_iris_evidence(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(fusion_iris_evidence(PG_GETARG_FLOAT8(0), IRIS_DOF, 7));
}

/* refuge.fused_fpir(evidence, modalities, gallery_size) */
Datum
refuge_fused_fpir(PG_FUNCTION_ARGS)
{
	double		t = PG_GETARG_FLOAT8(0);
	int32		k = PG_GETARG_INT32(1);
	double		n = PG_GETARG_FLOAT8(2);

	if (k < 1)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(fusion_fpir(t, Min(k, 64), n));
}

/* One side of a comparison: a datum per part (NULL when not captured). */
typedef struct PersonSide
{
	void	   *part[NPARTS];
	Size		len[NPARTS];
} PersonSide;

/* The probe's fingerprint templates, built once per query (fn_extra). */
typedef struct ProbeCache
{
	void	   *value[10];
	Size		len[10];
	fpm_template *t[10];
} ProbeCache;

static void
unpack_side(ArrayType *fingers, ArrayType *irises, PersonSide *side, const char *which)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	memset(side, 0, sizeof(*side));
	if (fingers != NULL)
	{
		get_typlenbyvalalign(ARR_ELEMTYPE(fingers), &typlen, &typbyval, &typalign);
		deconstruct_array(fingers, ARR_ELEMTYPE(fingers), typlen, typbyval, typalign, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			void	   *d;
			int			pos;

			if (nulls[i])
				continue;
			d = PG_DETOAST_DATUM(elems[i]);
			pos = RefugeFingerprintPosition(d);
			if (pos < 1 || pos > 10)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s_fingers[%d]: finger position %d is not 1-10", which, i + 1, pos)));
			if (side->part[pos - 1] != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s_fingers[%d]: finger position %d appears twice", which, i + 1, pos)));
			side->part[pos - 1] = d;
			side->len[pos - 1] = VARSIZE(d);
		}
	}
	if (irises != NULL)
	{
		get_typlenbyvalalign(ARR_ELEMTYPE(irises), &typlen, &typbyval, &typalign);
		deconstruct_array(irises, ARR_ELEMTYPE(irises), typlen, typbyval, typalign, &elems, &nulls, &n);
		if (n > 2)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s_irises: %d elements, expected [right, left]", which, n)));
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				side->part[PART_RIGHT_IRIS + i] = PG_DETOAST_DATUM(elems[i]);
	}
}

static const fpm_template *
probe_template(FunctionCallInfo fcinfo, int pos, const void *d, Size len)
{
	ProbeCache *c = (ProbeCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ProbeCache));
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->value[pos] == NULL || c->len[pos] != len || memcmp(c->value[pos], d, len) != 0)
	{
		if (c->t[pos] == NULL)
			c->t[pos] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(fpm_template));
		if (c->value[pos] != NULL)
			pfree(c->value[pos]);
		c->value[pos] = NULL;
		RefugeFingerprintTemplate(d, c->t[pos]);
		c->value[pos] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len);
		memcpy(c->value[pos], d, len);
		c->len[pos] = len;
	}
	return c->t[pos];
}

/*
 * refuge.person_match(probe_fingers, probe_irises, gallery_fingers,
 * gallery_irises, OUT scores, OUT evidence, OUT modalities): every part
 * captured on both sides is compared (fingers by position, irises by eye).
 * scores[1..10] are calibrated fingerprint scores, scores[11..12] normalised
 * iris distances (right, left), NULL where not compared; evidence is their
 * fused sum in decades over `modalities` parts.  The probe's templates are
 * kept between calls, so comparing one probe with many people builds them
 * once.
 */
Datum
refuge_person_match(PG_FUNCTION_ARGS)
{
	PersonSide	probe;
	PersonSide	gallery;
	TupleDesc	tupdesc;
	Datum		scores[NPARTS];
	bool		score_null[NPARTS];
	int			dims[1] = {NPARTS};
	int			lbs[1] = {1};
	double		evidence = 0;
	int			k = 0;
	fpm_template *gt = NULL;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	unpack_side(PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
				PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1), &probe, "probe");
	unpack_side(PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2),
				PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), &gallery, "gallery");

	for (int i = 0; i < NPARTS; i++)
	{
		double		s;
		double		e;

		score_null[i] = true;
		scores[i] = (Datum) 0;
		if (probe.part[i] == NULL || gallery.part[i] == NULL)
			continue;
		if (i < 10)
		{
			const fpm_template *pt = probe_template(fcinfo, i, probe.part[i], probe.len[i]);

			if (gt == NULL)
				gt = palloc(sizeof(fpm_template));
			RefugeFingerprintTemplate(gallery.part[i], gt);
			s = fpm_calibrate(fpm_score(pt, gt));
			e = fusion_finger_evidence(s);
		}
		else
		{
			int			nshift;

			s = RefugeIrisDistance(probe.part[i], gallery.part[i], &nshift);
			e = fusion_iris_evidence(s, IRIS_DOF, nshift);
		}
		scores[i] = Float8GetDatum(s);
		score_null[i] = false;
		evidence += e;
		k++;
	}
	if (gt)
		pfree(gt);
	values[0] = PointerGetDatum(construct_md_array(scores, score_null, 1, dims, lbs, FLOAT8OID, 8,
												   FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = Float8GetDatum(evidence);
	values[2] = Int32GetDatum(k);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * refuge.gallery_seq_latest(): the highest enrolment sequence number
 * committed so far, read with a fresh snapshot whatever the isolation level
 * (as the foreign-key checks of REPEATABLE READ do).  enrol_biometrics
 * compares it with what its own snapshot sees: a difference means someone
 * enrolled after the snapshot was taken, whom this transaction cannot
 * compare with, so it must retry.
 */
Datum
refuge_gallery_seq_latest(PG_FUNCTION_ARGS)
{
	SPIPlanPtr	plan;
	bool		isnull;
	Datum		d;
	int64		result = 0;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "refuge: SPI_connect failed");
	plan = SPI_prepare("select max(seq) from refuge.biometric_enrolment", 0, NULL);
	if (plan == NULL)
		elog(ERROR, "refuge: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot, true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "refuge: could not read the enrolment sequence");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
		result = DatumGetInt64(d);
	SPI_finish();
	PG_RETURN_INT64(result);
}
