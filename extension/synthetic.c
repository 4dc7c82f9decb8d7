/*
 * synthetic.c
 *		SQL access to the matcher's seeded synthetic biometrics, for
 *		training, load tests, demos and benchmarks: the same (seed, subject,
 *		capture) always gives the same template, on any machine.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "fp_record.h"
#include "iris.h"
#include "synth.h"
#include "fingerprint_type.h"
#include "iris_type.h"

PG_FUNCTION_INFO_V1(refuge_synthetic_iris);

/* refuge.synthetic_iris(seed bigint, subject bigint, capture int default 0): 8 x 128 x 2 */
Datum
refuge_synthetic_iris(PG_FUNCTION_ARGS)
{
	int64		seed = PG_GETARG_INT64(0);
	int64		subject = PG_GETARG_INT64(1);
	int32		capture = PG_GETARG_INT32(2);
	synth_iris_params p = synth_iris_defaults();
	size_t		nbytes = (size_t) (p.rows * p.cols * p.bits_per_cell + 7) / 8;
	bytea	   *code = palloc(VARHDRSZ + nbytes);
	bytea	   *mask = palloc(VARHDRSZ + nbytes);

	if (capture < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("capture: %d is negative", capture)));
	SET_VARSIZE(code, VARHDRSZ + nbytes);
	SET_VARSIZE(mask, VARHDRSZ + nbytes);
	synth_iris_capture(&p, (uint64_t) seed, (uint64_t) subject, (uint64_t) capture,
					   (uint8_t *) VARDATA(code), (uint8_t *) VARDATA(mask));
	/* through the ordinary constructor: the same checks as any input */
	return DirectFunctionCall5(refuge_iris_from_bytes, PointerGetDatum(code), PointerGetDatum(mask),
							   Int32GetDatum(p.rows), Int32GetDatum(p.cols), Int32GetDatum(p.bits_per_cell));
}

PG_FUNCTION_INFO_V1(refuge_synthetic_fingerprint);

/* refuge.synthetic_fingerprint(seed bigint, subject bigint, capture int default 0): a 500 dpi view */
Datum
refuge_synthetic_fingerprint(PG_FUNCTION_ARGS)
{
	int64		seed = PG_GETARG_INT64(0);
	int64		subject = PG_GETARG_INT64(1);
	int32		capture = PG_GETARG_INT32(2);
	synth_finger_params p = synth_finger_defaults();
	fp_record  *rec = palloc0(sizeof(fp_record));

	if (capture < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("capture: %d is negative", capture)));
	synth_finger_capture(&p, (uint64_t) seed, (uint64_t) subject, (uint64_t) capture, &rec->views[0]);
	rec->format = FP_ISO_2005;
	rec->width = 500;			/* 25.4 mm at 500 dpi: the generator's frame */
	rec->height = 500;
	rec->res_x = rec->res_y = 197;
	rec->nviews = 1;
	/* keep what falls inside the image, as a sensor would */
	{
		fp_view    *v = &rec->views[0];
		int			k = 0;

		for (int i = 0; i < v->nminutiae; i++)
			if (v->minutiae[i].x >= 0 && v->minutiae[i].y >= 0 && v->minutiae[i].x < 25380 && v->minutiae[i].y < 25380)
				v->minutiae[k++] = v->minutiae[i];
		v->nminutiae = (uint16) k;
	}
	PG_RETURN_POINTER(RefugeFingerprintFromView(rec, 0));
}
