/*
 * fuzz_fp_record.c
 *		libFuzzer target: ISO/ANSI record parser.  Never reads out of bounds
 *		(ASan), and anything it accepts survives write-ISO-and-parse-again
 *		with the same minutiae.
 */
#include <stdlib.h>
#include <string.h>

#include "fp_record.h"

static fp_record rec;
static fp_record again;
static uint8_t out[24 + FP_MAX_VIEWS * (4 + 6 * FP_MAX_MINUTIAE + 2)];

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rf_error	err;
	size_t		len;

	for (int flags = 0; flags <= FP_ALLOW_ZERO_PADDING + FP_ALLOW_TRAILING; flags++)
	{
		if (fp_parse_record(data, size, flags, &rec, &err) != RF_OK)
		{
			if (err.message[0] == 0 || err.offset < -1 || err.offset > (long) size)
				abort();		/* every refusal says where and why */
			continue;
		}
		if (fp_write_iso(&rec, out, sizeof(out), &len, &err) != RF_OK)
			abort();
		if (fp_parse_record(out, len, 0, &again, &err) != RF_OK)
			abort();
		if (again.nviews != rec.nviews)
			abort();
		for (int v = 0; v < rec.nviews; v++)
		{
			if (again.views[v].nminutiae != rec.views[v].nminutiae)
				abort();
			for (int i = 0; i < rec.views[v].nminutiae; i++)
				if (again.views[v].minutiae[i].type != rec.views[v].minutiae[i].type)
					abort();
		}
	}
	return 0;
}
