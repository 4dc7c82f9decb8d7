/*
 * test_fp_record.c
 *		Unit tests of the fingerprint record parsers and writer, on the real
 *		test vectors in ../shared/data/fingerprints (skipped where absent) and
 *		on hand-made broken records.
 */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fp_record.h"
#include "tap.h"
#include "../lib/test_util.h"

static char shared[1024];
static fp_record rec;			/* large: keep off the stack */
static fp_record rec2;

static uint8_t *
vec(const char *rel, size_t *len)
{
	char		path[2048];

	snprintf(path, sizeof(path), "%s/%s", shared, rel);
	return (uint8_t *) slurp(path, len);
}

/* the numbers that follow "key" in a JSON text, in order */
static int
json_numbers(const char *json, const char *key, long *out, int max)
{
	char		pat[64];
	int			n = 0;
	const char *p = json;

	snprintf(pat, sizeof(pat), "\"%s\" : ", key);
	while (n < max && (p = strstr(p, pat)) != NULL)
	{
		p += strlen(pat);
		out[n++] = strtol(p, NULL, 10);
	}
	return n;
}

static long
px(int32_t um, int ppcm)
{
	return lround((double) um * ppcm / 10000.0);
}

static void
test_spec_samples(void)
{
	size_t		len, jlen, wlen;
	uint8_t    *d;
	char	   *json;
	rf_error	err;
	uint8_t		out[4096];
	long		xs[200], ys[200], as[200];

	d = vec("iso19794-2/nist-biomdi/ISO-19794-2_2005_Appendix-C2_Example.raw", &len);
	if (!d)
	{
		skip("../shared/data/fingerprints not found: spec sample tests skipped");
		return;
	}
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_ELENGTH && err.offset == 8,
	   "NIST ISO annex example: strict parser reports the length mismatch: %s", err.message);
	ok(fp_parse_record(d, len, FP_ALLOW_TRAILING, &rec, &err) == RF_OK && rec.format == FP_ISO_2005 &&
	   rec.nviews == 2 && rec.views[0].nminutiae == 27 && rec.views[1].nminutiae == 22 &&
	   rec.width == 512 && rec.res_x == 197, "with trailing bytes allowed: ISO, 2 views of 27 and 22 minutiae");
	free(d);

	d = vec("iso19794-2/fingerprintio/iso19794p2v2005-sample.dat", &len);
	json = (char *) vec("iso19794-2/fingerprintio/iso19794p2v2005-sample.json", &jlen);
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_OK, "FingerprintIO ISO 2005 sample parses (%zu bytes)", len);
	{
		int			n = json_numbers(json, "positionX", xs, 200);
		int			k = 0, same = 1;

		json_numbers(json, "positionY", ys, 200);
		json_numbers(json, "angle", as, 200);
		for (int v = 0; v < rec.nviews; v++)
			for (int i = 0; i < rec.views[v].nminutiae; i++, k++)
			{
				fp_minutia *m = &rec.views[v].minutiae[i];

				same &= k < n && px(m->x, rec.res_x) == xs[k] && px(m->y, rec.res_y) == ys[k] && (m->angle >> 8) == as[k];
			}
		ok(same && k == n, "all %d minutiae match FingerprintIO's decoded values", n);
	}
	/* its second view carries 10 bytes of extended data, which are not kept */
	ok(fp_write_iso(&rec, out, sizeof(out), &wlen, &err) == RF_OK && wlen == len - 10 &&
	   memcmp(out + 12, d + 12, wlen - 12 - 2) == 0,
	   "writing it back gives the same bytes, less the extended data (%zu of %zu)", wlen, len);
	free(d);
	free(json);

	d = vec("iso19794-2/nist-biomdi/ANSI-INCITS-378_2004_Appendix-B2_Example.raw", &len);
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_OK && rec.format == FP_ANSI_2004 && rec.nviews == 2 &&
	   rec.views[0].position == 7 && rec.views[0].nminutiae == 27 && rec.cbeff_owner == 0x42,
	   "NIST ANSI 378 annex example parses as ANSI: 2 views, left index, 27 minutiae");
	ok(rec.views[0].minutiae[0].angle == (uint16_t) lround(112.0 * 65536 / 360),
	   "ANSI angle unit is 2 degrees (stored 56 -> 112 degrees)");
	{
		uint8_t		back[4096];
		size_t		blen;

		int			same = 1;

		ok(fp_write_ansi(&rec, back, sizeof(back), &blen, &err) == RF_OK &&
		   fp_parse_record(back, blen, 0, &rec2, &err) == RF_OK && rec2.format == FP_ANSI_2004 &&
		   rec2.nviews == rec.nviews && rec2.cbeff_owner == rec.cbeff_owner, "written back as ANSI, it parses as ANSI");
		for (int v = 0; v < rec.nviews; v++)
			for (int i = 0; i < rec.views[v].nminutiae; i++)
				same &= memcmp(&rec.views[v].minutiae[i], &rec2.views[v].minutiae[i], sizeof(fp_minutia)) == 0;
		ok(same, "with every minutia exactly as read (2-degree angles survive the canonical frame)");
	}
	ok(fp_write_iso(&rec, out, sizeof(out), &wlen, &err) == RF_OK &&
	   fp_parse_record(out, wlen, 0, &rec2, &err) == RF_OK && rec2.format == FP_ISO_2005 &&
	   rec2.views[0].minutiae[0].x == rec.views[0].minutiae[0].x &&
	   out[24 + 4 + 4] == (uint8_t) lround(112.0 * 256 / 360), "ANSI converts to ISO (112 degrees -> ISO unit 80)");
	free(d);

	d = vec("iso19794-2/fingerprintio/ansi378v2004-sample.dat", &len);
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_EFORMAT && err.offset == 4,
	   "FingerprintIO's bogus ANSI sample (version \"020\") is refused at byte 4: %s", err.message);
	d[4] = ' ';
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_ELENGTH, "with the version fixed, its length field is wrong too: %s",
	   err.message);
	ok(fp_parse_record(d, len, FP_ALLOW_TRAILING, &rec, &err) == RF_ERANGE && strstr(err.message, "over 179") != NULL,
	   "with the version fixed, its out-of-range angles are refused: %s", err.message);
	free(d);
	d = vec("iso19794-2/fingerprintio/iso19794p2v2011-sample.dat", &len);
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_EFORMAT && strstr(err.message, "not supported") != NULL,
	   "ISO 2011 is recognised and refused clearly: %s", err.message);
	free(d);

	d = vec("iso19794-2/sourceafis/iso-probe.dat", &len);
	ok(fp_parse_record(d, len, 0, &rec, &err) == RF_ELENGTH, "SourceAFIS zero-padded record: strict refuses: %s", err.message);
	ok(fp_parse_record(d, len, FP_ALLOW_ZERO_PADDING, &rec, &err) == RF_OK && rec.nviews == 1 &&
	   rec.views[0].nminutiae == 38, "zero padding allowed: 1 view, 38 minutiae");
	free(d);
	for (int t = 1; t <= 3; t++)
	{
		char		name[200];

		snprintf(name, sizeof(name), "iso19794-2/openafis-invalid/101_1_truncate_%d_byte%s.iso", t, t == 1 ? "" : "s");
		d = vec(name, &len);
		ok(d && fp_parse_record(d, len, 0, &rec, &err) != RF_OK, "truncated by %d: %s", t, err.message);
		free(d);
	}
}

static void
test_corpora(void)
{
	const char *dbs[4] = {"fvc2002_db1_b", "fvc2002_db3_b", "fvc2004_db1_b", "fvc2004_db4_b"};
	int			iso_ok = 0, iso_n = 0, iso_same = 0;
	int			xyt_ok = 0, xyt_n = 0, xyt_count = 0, xyt_trip = 0;
	size_t		len;
	char	   *manifest = (char *) vec("manifest.csv", &len);
	rf_error	err;
	uint8_t		out[4096];
	size_t		wlen;

	if (!manifest)
	{
		skip("../shared/data/fingerprints not found: corpus tests skipped");
		return;
	}
	for (int b = 0; b < 4; b++)
		for (int f = 101; f <= 110; f++)
			for (int i = 1; i <= 8; i++)
			{
				char		name[300];
				uint8_t    *d;
				char		key[200];
				char	   *row;
				int			w, h, dpi, nmin;

				snprintf(name, sizeof(name), "iso19794-2/openafis-secugen/%s/%d_%d.iso", dbs[b], f, i);
				if ((d = vec(name, &len)) != NULL)
				{
					iso_n++;
					if (fp_parse_record(d, len, 0, &rec, &err) == RF_OK)
					{
						iso_ok++;
						if (fp_write_iso(&rec, out, sizeof(out), &wlen, &err) == RF_OK && wlen == len && memcmp(out, d, len) == 0)
							iso_same++;
					}
					else
						printf("# %s: %s\n", name, err.message);
					free(d);
				}
				/* manifest: db,file,image,finger,impression,width,height,dpi,minutiae,... */
				snprintf(key, sizeof(key), "\n%s,%s/%d_%d.xyt,", dbs[b], dbs[b], f, i);
				row = strstr(manifest, key);
				snprintf(name, sizeof(name), "%s/%d_%d.xyt", dbs[b], f, i);
				if (row && (d = vec(name, &len)) != NULL)
				{
					const char *p = row + strlen(key);

					for (int k = 0; k < 3; k++)
						p = strchr(p, ',') + 1;		/* image, finger, impression */
					sscanf(p, "%d,%d,%d,%d", &w, &h, &dpi, &nmin);
					xyt_n++;
					if (fp_parse_xyt((const char *) d, len, w, h, dpi, 0, &rec, &err) == RF_OK)
					{
						xyt_ok++;
						xyt_count += rec.views[0].nminutiae == nmin;
						/* xyt -> ISO -> parse: same minutiae within ISO's angle unit */
						if (fp_write_iso(&rec, out, sizeof(out), &wlen, &err) == RF_OK &&
							fp_parse_record(out, wlen, 0, &rec2, &err) == RF_OK)
						{
							int			same = rec2.views[0].nminutiae == rec.views[0].nminutiae;

							for (int k = 0; same && k < rec.views[0].nminutiae; k++)
							{
								int			da = abs((int) rec.views[0].minutiae[k].angle - (int) rec2.views[0].minutiae[k].angle);

								same = labs(rec.views[0].minutiae[k].x - rec2.views[0].minutiae[k].x) <= 60 &&
									labs(rec.views[0].minutiae[k].y - rec2.views[0].minutiae[k].y) <= 60 &&
									(da <= 128 || da >= 65536 - 128);
							}
							xyt_trip += same;
						}
					}
					else
						printf("# %s: %s\n", name, err.message);
					free(d);
				}
			}
	ok(iso_n == 320 && iso_ok == 320, "all SecuGen ISO templates parse (%d of %d)", iso_ok, iso_n);
	ok(iso_same == 320, "and write back byte for byte (%d)", iso_same);
	ok(xyt_n == 320 && xyt_ok == 320, "all mindtct .xyt files parse with the manifest's geometry and dpi (%d of %d)", xyt_ok, xyt_n);
	ok(xyt_count == 320, "minutia counts equal the manifest's (%d)", xyt_count);
	ok(xyt_trip == 320, "xyt -> ISO -> canonical keeps every minutia within a pixel and ISO's angle unit (%d)", xyt_trip);
	free(manifest);
}

/* A small valid ISO record to break in different ways. */
static size_t
make_iso(uint8_t *b)
{
	uint8_t		rec_[] = {'F', 'M', 'R', 0, ' ', '2', '0', 0, 0, 0, 0, 42,
		0x00, 0x05, 0x01, 0x00, 0x01, 0x00, 0x00, 197, 0x00, 197, 1, 0,
		/* view: right index, view 0 live plain, quality 80, 2 minutiae */
		2, 0x00, 80, 2,
		0x40, 10, 0x00, 20, 64, 90,		/* ending (10, 20), 90 degrees, q 90 */
		0x80, 30, 0x00, 40, 128, 70,	/* bifurcation (30, 40), 180 degrees */
	0, 0};

	memcpy(b, rec_, sizeof(rec_));
	return sizeof(rec_);
}

static void
test_broken(void)
{
	uint8_t		b[128];
	size_t		n = make_iso(b);
	rf_error	err;

	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_OK && rec.views[0].minutiae[1].type == FP_BIFURCATION &&
	   rec.views[0].minutiae[0].angle == 64 * 256, "hand-made record parses");
	for (size_t cut = 0; cut < n; cut++)
		if (fp_parse_record(b, cut, 0, &rec, &err) == RF_OK)
		{
			ok(0, "a record cut to %zu bytes was accepted", cut);
			break;
		}
	ok(1, "every truncation of it is refused");
	n = make_iso(b);
	b[0] = 'X';
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_EFORMAT && err.offset == 0, "wrong magic at byte 0: %s", err.message);
	n = make_iso(b);
	b[28] = 0xc0;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ERANGE && err.offset == 28, "minutia type 3 at byte 28: %s", err.message);
	n = make_iso(b);
	b[29] = 0xff;
	b[28] = 0x41;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ERANGE && strstr(err.message, "outside") != NULL,
	   "minutia outside the image: %s", err.message);
	n = make_iso(b);
	b[22] = 0;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ERANGE, "no views: %s", err.message);
	n = make_iso(b);
	b[19] = 0;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ERANGE, "zero resolution: %s", err.message);
	n = make_iso(b);
	b[24] = 11;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ERANGE && err.offset == 24, "finger position 11: %s", err.message);
	n = make_iso(b);
	b[27] = 3;					/* claims 3 minutiae */
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ETRUNCATED, "more minutiae than bytes: %s", err.message);
	n = make_iso(b);
	b[n - 1] = 6;				/* 6 bytes of extended data that are not there */
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ETRUNCATED, "extended data past the end: %s", err.message);
	n = make_iso(b);
	b[11] = 41;
	ok(fp_parse_record(b, n, 0, &rec, &err) == RF_ELENGTH, "declared length one short: %s", err.message);
	n = make_iso(b);
	b[11] = 5;					/* shorter than the header (found by fuzzing: read past the end) */
	ok(fp_parse_record(b, n, FP_ALLOW_TRAILING, &rec, &err) == RF_ELENGTH, "declared length under the header: %s", err.message);
	{
		/* ANSI 6-byte length form declaring 5 bytes */
		uint8_t		a[] = {'F', 'M', 'R', 0, ' ', '2', '0', 0, 0, 0, 0, 0, 0, 5, 0, 0x42, 0, 0x11, 0, 0, 1, 0, 1, 0,
		0, 197, 0, 197, 1, 0};

		ok(fp_parse_record(a, sizeof(a), FP_ALLOW_TRAILING, &rec, &err) == RF_ELENGTH,
		   "ANSI 4-byte length under the header: %s", err.message);
	}
}

static void
test_xyt(void)
{
	const char *good = "10 300 0 50\n\n  20 1 90 100\r\n";
	rf_error	err;

	ok(fp_parse_xyt(good, strlen(good), 300, 300, 500, 2, &rec, &err) == RF_OK && rec.views[0].nminutiae == 2 &&
	   rec.res_x == 197 && rec.views[0].position == 2, "xyt parses (blank lines and CRLF allowed)");
	ok(rec.views[0].minutiae[0].y == 0 && rec.views[0].minutiae[0].angle == 32768,
	   "y is flipped (300 -> row 0) and theta turned half a turn (0 -> 180 degrees)");
	ok(rec.views[0].minutiae[1].x == (int32_t) lround(20 * 10000.0 / 197), "x in micrometres at 500 dpi");
	ok(fp_parse_xyt(good, strlen(good), 300, 300, 1000, 0, &rec, &err) == RF_OK &&
	   rec.views[0].minutiae[1].x == (int32_t) lround(20 * 10000.0 / 394), "the resolution is the caller's (1000 dpi)");
	{
		char		text[256];
		size_t		tl;

		fp_parse_xyt(good, strlen(good), 300, 300, 500, 2, &rec, &err);
		tl = fp_write_xyt(&rec, 0, text, sizeof(text));
		text[tl] = 0;
		ok(strcmp(text, "10 300 0 50\n20 1 90 100\n") == 0, "xyt written back: %s", text);
	}
	ok(fp_parse_xyt("1 2 x\n", 6, 300, 300, 500, 0, &rec, &err) == RF_EFORMAT && err.offset == 4,
	   "a letter at byte 4: %s", err.message);
	ok(fp_parse_xyt("1 0 3\n", 6, 300, 300, 500, 0, &rec, &err) == RF_ERANGE, "y 0: %s", err.message);
	ok(fp_parse_xyt("1 2\n", 4, 300, 300, 500, 0, &rec, &err) == RF_EFORMAT, "two fields: %s", err.message);
	ok(fp_parse_xyt("1 2 3 4 5\n", 10, 300, 300, 500, 0, &rec, &err) == RF_EFORMAT, "five fields: %s", err.message);
	ok(fp_parse_xyt("1 2 3\n", 6, 300, 300, 50, 0, &rec, &err) == RF_EINVAL, "50 dpi: %s", err.message);
	ok(fp_parse_xyt("1 2 3\n", 6, 300, 300, 100, 0, &rec, &err) == RF_EINVAL,
	   "100 dpi (39 px/cm, which no binary record can hold): %s", err.message);
	ok(fp_parse_xyt("1 2 3 101\n", 10, 300, 300, 500, 0, &rec, &err) == RF_ERANGE, "quality 101: %s", err.message);
}

int
main(int argc, char **argv)
{
	const char *env = getenv("REFUGE_SHARED");

	snprintf(shared, sizeof(shared), "%s/data/fingerprints", env ? env : "../../../shared");
	test_spec_samples();
	test_corpora();
	test_broken();
	test_xyt();
	return tap_done();
}
