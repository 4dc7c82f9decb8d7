/*
 * fuzz_iris.c
 *		libFuzzer target: iris templates from bytes and from the flat
 *		(stored) form.  A template that is accepted compares at distance 0 with
 *		itself, and the 1:N kernel agrees with the 1:1 comparison.
 */
#include <stdlib.h>
#include <string.h>

#include "iris.h"

static uint64_t buf[(sizeof(iris_header) + 2 * 8 * 2048) / 8 + 8];
static uint64_t scratch[2 * 64 * 2 * 2048 / 64 / 8];

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const iris_header *h)
{
	iris_params p = iris_default_params(h);
	iris_match	m;
	rf_error	err;
	iris_probe	probe;
	float		d;

	if (p.max_shift > 8)
		p.max_shift = 8;
	if (p.max_shift >= h->cols)
		p.max_shift = h->cols - 1;
	if (iris_compare(h, h, &p, &m, &err) == RF_OK && m.hd_raw != 0.0)
		abort();
	if (iris_probe_size(h, &p) <= sizeof(scratch) &&
		iris_probe_init(&probe, h, &p, scratch, sizeof(scratch), &err) == RF_OK)
	{
		iris_scan(&probe, (const uint8_t *) h, 0, 1, &d);
		if (iris_compare(h, h, &p, &m, &err) == RF_OK ? (float) m.hd_norm != d : d != 1.0f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rf_error	err;

	/* 1. the stored form, as the database would hand it over */
	if (size <= sizeof(buf))
	{
		memcpy(buf, data, size);
		if (iris_validate(buf, size, &err) == RF_OK)
			check((const iris_header *) buf);
	}
	/* 2. geometry in 3 bytes, then code and mask halves */
	if (size >= 3)
	{
		int			rows = 1 + data[0] % 16;
		int			cols = 2 + data[1] % 256;
		int			bpc = 1 + data[2] % 4;
		size_t		half = (size - 3) / 2;

		if (iris_from_bytes(data + 3, half, data + 3 + half, half, rows, cols, bpc, buf, sizeof(buf), &err) == RF_OK)
		{
			if (iris_validate(buf, iris_size(rows, cols, bpc), &err) != RF_OK)
				abort();
			check((const iris_header *) buf);
		}
	}
	return 0;
}
