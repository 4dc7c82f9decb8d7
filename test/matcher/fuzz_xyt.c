/*
 * fuzz_xyt.c
 *		libFuzzer target: xyt text parser.  The first 5 bytes choose the
 *		geometry (width, height, dpi); the rest is the text.  Accepted input
 *		must convert to ISO and parse back.
 */
#include <stdlib.h>

#include "fp_record.h"

static fp_record rec;
static fp_record again;
static uint8_t out[24 + (4 + 6 * FP_MAX_MINUTIAE + 2)];

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rf_error	err;
	size_t		len;
	int			width, height, dpi;

	if (size < 5)
		return 0;
	width = 1 + (((int) data[0] << 8 | data[1]) % 2000);
	height = 1 + (((int) data[2] << 8 | data[3]) % 2000);
	dpi = 100 + data[4] * 8;
	if (fp_parse_xyt((const char *) data + 5, size - 5, width, height, dpi, data[0] % 11, &rec, &err) != RF_OK)
	{
		if (err.message[0] == 0)
			abort();
		return 0;
	}
	if (fp_write_iso(&rec, out, sizeof(out), &len, &err) != RF_OK)
		abort();
	if (fp_parse_record(out, len, 0, &again, &err) != RF_OK || again.views[0].nminutiae != rec.views[0].nminutiae)
		abort();
	return 0;
}
