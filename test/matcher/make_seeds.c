/*
 * make_seeds.c
 *		Writes the seed corpora of the fuzz targets (run once by a developer;
 *		the seeds are committed under corpus/).
 */
#include <stdio.h>
#include <string.h>

#include "fp_record.h"
#include "iris.h"
#include "synth.h"

static void
write_file(const char *path, const void *d, size_t n)
{
	FILE	   *f = fopen(path, "wb");

	fwrite(d, 1, n, f);
	fclose(f);
}

int
main(void)
{
	static fp_record rec;
	uint8_t		out[4096];
	size_t		len;
	rf_error	err;
	char		path[256];
	const char *xyt[] = {"10 20 30 40\n50 60 70 80\n", "1 1 0\n", "100 200 359 99\r\n3 4 5\n\n"};

	for (int k = 0; k < 3; k++)
	{
		char		text[64];

		fp_parse_xyt(xyt[k], strlen(xyt[k]), 300, 300, 500 + 100 * k, k, &rec, &err);
		fp_write_iso(&rec, out, sizeof(out), &len, &err);
		snprintf(path, sizeof(path), "corpus/fp_record/iso_%d", k);
		write_file(path, out, len);
		/* an ANSI form of the same: 2-byte length, CBEFF id */
		{
			uint8_t		ansi[4096];
			size_t		alen = len + 2;

			memcpy(ansi, out, 8);
			ansi[8] = (uint8_t) (alen >> 8);
			ansi[9] = (uint8_t) alen;
			ansi[10] = 0;
			ansi[11] = 0x42;
			ansi[12] = 0;
			ansi[13] = 0x11;
			memcpy(ansi + 14, out + 12, len - 12);
			/* ANSI angles are 2-degree units: clamp into 0-179 */
			for (size_t i = 24 + 2 + 4; i + 6 <= alen - 2; i += 6)
				ansi[i + 4] = (uint8_t) (ansi[i + 4] % 180);
			snprintf(path, sizeof(path), "corpus/fp_record/ansi_%d", k);
			write_file(path, ansi, alen);
		}
		text[0] = 1;
		text[1] = 44;
		text[2] = 1;
		text[3] = 44;
		text[4] = 50;
		memcpy(text + 5, xyt[k], strlen(xyt[k]));
		snprintf(path, sizeof(path), "corpus/xyt/seed_%d", k);
		write_file(path, text, 5 + strlen(xyt[k]));
	}
	{
		synth_iris_params p = synth_iris_defaults();
		uint8_t		code[256], mask[256];
		static uint64_t t[1024];
		uint8_t		raw[3 + 2 * 32];

		p.rows = 4;
		p.cols = 32;
		synth_iris_capture(&p, 1, 1, 0, code, mask);
		iris_from_bytes(code, 32, mask, 32, 4, 32, 2, t, sizeof(t), &err);
		write_file("corpus/iris/flat_4x32x2", t, iris_size(4, 32, 2));
		raw[0] = 3;
		raw[1] = 30;
		raw[2] = 1;
		memcpy(raw + 3, code, 32);
		memcpy(raw + 35, mask, 32);
		write_file("corpus/iris/bytes_4x32x2", raw, sizeof(raw));
	}
	return 0;
}
