/*
 * test_iris.c
 *		Unit tests of the iris core: layout, validation, rotation, 1:1
 *		distance, the 1:N kernels, thresholds and the synthetic generator.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "iris.h"
#include "synth.h"
#include "tap.h"

#define R 8
#define C 128
#define B 2
#define NBYTES ((R * C * B + 7) / 8)

static void *
make(const synth_iris_params *p, uint64_t subject, uint64_t capture, int *rot)
{
	uint8_t		code[NBYTES];
	uint8_t		mask[NBYTES];
	size_t		sz = iris_size(p->rows, p->cols, p->bits_per_cell);
	void	   *t = malloc(sz);
	rf_error	err;
	int			r = synth_iris_capture(p, 42, subject, capture, code, mask);

	if (rot)
		*rot = r;
	if (iris_from_bytes(code, NBYTES, mask, NBYTES, p->rows, p->cols, p->bits_per_cell, t, sz, &err) != RF_OK)
	{
		printf("# synth template refused: %s\n", err.message);
		exit(2);
	}
	return t;
}

static void
test_layout_and_errors(void)
{
	uint8_t		code[NBYTES];
	uint8_t		mask[NBYTES];
	uint8_t		back_c[NBYTES];
	uint8_t		back_m[NBYTES];
	size_t		sz = iris_size(R, C, B);
	void	   *t = malloc(sz);
	rf_error	err;
	rf_status	st;

	ok(sz == sizeof(iris_header) + 2 * 32 * 8, "8 x 128 x 2 template is header + 2 x 256 bytes (%zu)", sz);
	ok(iris_size(0, 128, 2) == 0 && iris_size(8, 128, 9) == 0 && iris_size(1024, 8192, 8) == 0,
	   "impossible geometries have no size");
	memset(code, 0xa5, NBYTES);
	memset(mask, 0xff, NBYTES);
	st = iris_from_bytes(code, NBYTES - 1, mask, NBYTES, R, C, B, t, sz, &err);
	ok(st == RF_ELENGTH && strstr(err.message, "code has 255 bytes") != NULL, "short code: %s", err.message);
	st = iris_from_bytes(code, NBYTES, mask, NBYTES + 1, R, C, B, t, sz, &err);
	ok(st == RF_ELENGTH && strstr(err.message, "mask has 257 bytes") != NULL, "long mask: %s", err.message);
	st = iris_from_bytes(code, NBYTES, mask, NBYTES, 8, 128, 0, t, sz, &err);
	ok(st == RF_EINVAL, "zero bits per cell: %s", err.message);
	memset(mask, 0, NBYTES);
	mask[0] = 0xff;
	st = iris_from_bytes(code, NBYTES, mask, NBYTES, R, C, B, t, sz, &err);
	ok(st == RF_ETOOFEW, "an almost fully masked template is refused: %s", err.message);
	{
		/* 3 x 5 x 1 = 15 bits: the 16th bit must be zero */
		uint8_t		c2[2] = {0xff, 0xff};
		uint8_t		m2[2] = {0xff, 0xfe};
		void	   *t2 = malloc(iris_size(3, 5, 1));

		st = iris_from_bytes(c2, 2, m2, 2, 3, 5, 1, t2, iris_size(3, 5, 1), &err);
		ok(st == RF_ERANGE && err.offset == 1, "a set spare bit is reported at byte 1: %s", err.message);
		free(t2);
	}

	memset(mask, 0xff, NBYTES);
	mask[3] = 0x0f;				/* the code bits under these zero mask bits are dropped */
	st = iris_from_bytes(code, NBYTES, mask, NBYTES, R, C, B, t, sz, &err);
	ok(st == RF_OK, "valid template accepted");
	ok(((iris_header *) t)->valid_bits == (uint32_t) (R * C * B - 4), "valid bits counted (%u)", ((iris_header *) t)->valid_bits);
	iris_to_bytes(t, back_c, back_m);
	ok(memcmp(back_m, mask, NBYTES) == 0, "mask round-trips");
	ok(back_c[3] == (code[3] & 0x0f) && memcmp(back_c + 4, code + 4, NBYTES - 4) == 0,
	   "code round-trips, with bits under the mask stored as zero");
	ok(iris_validate(t, sz, &err) == RF_OK, "flat template validates");
	ok(iris_validate(t, sz - 8, &err) == RF_ELENGTH, "truncated flat template: %s", err.message);
	((uint64_t *) iris_code(t))[0] |= (uint64_t) 1 << 25;	/* bit 25 is under the zero mask */
	ok(iris_validate(t, sz, &err) == RF_ERANGE, "code outside the mask: %s", err.message);
	((uint64_t *) iris_code(t))[0] &= ~((uint64_t) 1 << 25);
	((iris_header *) t)->valid_bits++;
	ok(iris_validate(t, sz, &err) == RF_EFORMAT, "wrong valid count: %s", err.message);
	((iris_header *) t)->valid_bits--;
	((iris_header *) t)->version = 9;
	ok(iris_validate(t, sz, &err) == RF_EFORMAT, "unknown version: %s", err.message);
	free(t);
}

static void
test_rotation_and_compare(void)
{
	synth_iris_params p = synth_iris_defaults();
	void	   *a = make(&p, 1, 0, NULL);
	void	   *b = malloc(iris_size(R, C, B));
	void	   *c = malloc(iris_size(R, C, B));
	iris_params ip = iris_default_params(a);
	iris_match	m;
	iris_match	m2;
	rf_error	err;
	int			rot;
	void	   *g;
	void	   *other;

	ok(ip.max_shift == 3, "default: 7 shifts for 128 columns");
	iris_rotate(a, 5, b);
	iris_rotate(b, -5, c);
	ok(memcmp(a, c, iris_size(R, C, B)) == 0, "rotating by +5 then -5 columns is the identity");
	iris_rotate(a, C, c);
	ok(memcmp(a, c, iris_size(R, C, B)) == 0, "rotating by a full turn is the identity");

	/* raw 0; normalised just above 0 when fewer bits than typical are valid */
	ok(iris_compare(a, a, &ip, &m, &err) == RF_OK && m.hd_raw == 0.0 && m.hd_norm < 0.1 && m.shift == 0,
	   "a template is at distance 0 from itself (raw 0, normalised %.4f)", m.hd_norm);
	{
		/* many valid bits: several shifts clamp to 0; the tie goes to the exact
		 * alignment (found by fuzzing: shift -3 with raw 0.06 was reported) */
		uint8_t		cc[NBYTES];
		uint8_t		mm[NBYTES];
		void	   *full = malloc(iris_size(R, C, B));

		for (int i = 0; i < NBYTES; i++)
			cc[i] = (uint8_t) (i * 37 + 11), mm[i] = 0xff;
		iris_from_bytes(cc, NBYTES, mm, NBYTES, R, C, B, full, iris_size(R, C, B), &err);
		ok(iris_compare(full, full, &ip, &m, &err) == RF_OK && m.hd_raw == 0.0 && m.shift == 0,
		   "clamped ties go to the exact alignment (raw %.3f, shift %d)", m.hd_raw, m.shift);
		free(full);
	}
	iris_rotate(a, 2, b);
	ok(iris_compare(a, b, &ip, &m, &err) == RF_OK && m.hd_raw == 0.0 && m.shift == -2,
	   "a copy turned by 2 columns is found at shift -2 (got %d)", m.shift);
	g = make(&p, 1, 3, &rot);
	other = make(&p, 2, 0, NULL);
	iris_compare(a, g, &ip, &m, &err);
	iris_compare(g, a, &ip, &m2, &err);
	ok(m.hd_norm == m2.hd_norm && m.shift == -m2.shift, "symmetric: d(a,b) = d(b,a) = %.4f, shifts %d / %d",
	   m.hd_norm, m.shift, m2.shift);
	ok(m.shift == -rot, "re-capture turned by %d columns is matched at shift %d", rot, m.shift);
	iris_compare(a, other, &ip, &m2, &err);
	ok(m.hd_norm < 0.3 && m2.hd_norm > 0.4, "genuine %.3f < 0.3 < 0.4 < impostor %.3f", m.hd_norm, m2.hd_norm);
	ok(fabs(iris_normalise(0.3, 100, 911) - (0.5 - 0.2 * sqrt(100.0 / 911))) < 1e-12 && iris_normalise(0.3, 100, 911) > 0.43,
	   "few compared bits pull the score towards 0.5 (0.30 on 100 bits -> %.3f)", iris_normalise(0.3, 100, 911));
	ip.min_bits = 5000;
	ok(iris_compare(a, g, &ip, &m, &err) == RF_ETOOFEW, "too few bits in common is an error: %s", err.message);
	ip = iris_default_params(a);
	ip.max_shift = C;
	ok(iris_compare(a, g, &ip, &m, &err) == RF_EINVAL, "absurd shift range refused: %s", err.message);
	{
		void	   *small = malloc(iris_size(16, 256, 2));
		uint8_t		cc[1024];
		uint8_t		mm[1024];

		memset(cc, 0x3c, sizeof(cc));
		memset(mm, 0xff, sizeof(mm));
		iris_from_bytes(cc, 1024, mm, 1024, 16, 256, 2, small, iris_size(16, 256, 2), &err);
		ip = iris_default_params(a);
		ok(iris_compare(a, small, &ip, &m, &err) == RF_EMISMATCH, "different geometries: %s", err.message);
		free(small);
	}
	free(a);
	free(b);
	free(c);
	free(g);
	free(other);
}

static void
test_scan(void)
{
	synth_iris_params p = synth_iris_defaults();
	size_t		stride = iris_size(R, C, B);
	size_t		n = 3000;
	uint8_t    *gallery = malloc(stride * n);
	float	   *out = malloc(sizeof(float) * n);
	void	   *probe_t;
	iris_params ip;
	iris_probe	probe;
	void	   *scratch;
	rf_error	err;
	const char *names[3] = {"portable", "avx2", "avx512"};

	for (size_t i = 0; i < n; i++)
	{
		void	   *t = make(&p, 1000 + i, 0, NULL);

		memcpy(gallery + i * stride, t, stride);
		free(t);
	}
	probe_t = make(&p, 1000 + 1234, 5, NULL);	/* a re-capture of gallery entry 1234 */
	ip = iris_default_params(probe_t);
	scratch = malloc(iris_probe_size(probe_t, &ip));
	ok(iris_probe_init(&probe, probe_t, &ip, scratch, iris_probe_size(probe_t, &ip), &err) == RF_OK, "probe prepared");
	for (int k = 0; k < 3; k++)
	{
		size_t		best = 0;
		int			same = 1;

		if (!iris_kernel_force(k))
		{
			skip("%s kernel: not available on this CPU", names[k]);
			skip("%s kernel: not available on this CPU", names[k]);
			continue;
		}
		memset(out, 0, sizeof(float) * n);
		iris_scan(&probe, gallery, stride, n, out);
		for (size_t i = 0; i < n; i++)
		{
			iris_match	m;

			if (iris_compare(probe_t, (iris_header *) (gallery + i * stride), &ip, &m, &err) != RF_OK)
				m.hd_norm = 1.0;
			if ((float) m.hd_norm != out[i])
				same = 0;
			if (out[i] < out[best])
				best = i;
		}
		ok(same, "%s kernel: all %zu distances equal the 1:1 comparison", iris_kernel_name(), n);
		ok(best == 1234 && out[best] < 0.3, "%s kernel: the mate ranks first (%.3f)", iris_kernel_name(), out[best]);
	}
	iris_kernel_force(-1);
	printf("# best kernel on this CPU: %s\n", iris_kernel_name());
	free(probe_t);
	free(scratch);
	free(gallery);
	free(out);
}

static void
test_synthetic_statistics(void)
{
	synth_iris_params p = synth_iris_defaults();
	int			n = 600;
	double		s = 0, s2 = 0, g = 0, g2 = 0, best7 = 0;
	int			ng = 0, ni = 0;
	void	  **enrol = malloc(sizeof(void *) * n);
	iris_params ip;
	iris_params one;
	rf_error	err;
	uint8_t		c1[NBYTES], m1[NBYTES], c2[NBYTES], m2[NBYTES];

	for (int i = 0; i < n; i++)
		enrol[i] = make(&p, i, 0, NULL);
	ip = iris_default_params(enrol[0]);
	one = ip;
	one.max_shift = 0;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n && j < i + 20; j++)
		{
			iris_match	m;

			/* degrees of freedom from the raw HD at one alignment */
			iris_compare(enrol[i], enrol[j], &one, &m, &err);
			s += m.hd_raw;
			s2 += m.hd_raw * m.hd_raw;
			iris_compare(enrol[i], enrol[j], &ip, &m, &err);
			best7 += m.hd_raw;
			ni++;
		}
	for (int i = 0; i < n; i++)
	{
		iris_match	m;
		void	   *re = make(&p, i, 1 + i % 7, NULL);

		iris_compare(enrol[i], re, &ip, &m, &err);
		g += m.hd_raw;
		g2 += m.hd_raw * m.hd_raw;
		ng++;
		free(re);
	}
	{
		double		mean = s / ni;
		double		sd = sqrt(s2 / ni - mean * mean);
		double		dof = mean * (1 - mean) / (sd * sd);
		double		gm = g / ng;
		double		gsd = sqrt(g2 / ng - gm * gm);

		printf("# synthetic 8x128x2: impostor mean %.4f sd %.4f -> %.0f degrees of freedom; best-of-7 mean %.4f; "
			   "genuine %.4f +- %.4f\n", mean, sd, dof, best7 / ni, gm, gsd);
		ok(fabs(mean - 0.5) < 0.01, "impostor HD centred on 0.5 (%.4f)", mean);
		ok(dof > 180 && dof < 340, "impostor distribution has about Daugman's 249 degrees of freedom (%.0f)", dof);
		ok(gm > 0.05 && gm < 0.16 && gsd > 0.02 && gsd < 0.08, "genuine HD about 0.1 +- 0.05 (%.3f +- %.3f)", gm, gsd);
	}
	synth_iris_capture(&p, 42, 77, 3, c1, m1);
	synth_iris_capture(&p, 42, 77, 3, c2, m2);
	ok(memcmp(c1, c2, NBYTES) == 0 && memcmp(m1, m2, NBYTES) == 0, "the generator is deterministic");
	synth_iris_capture(&p, 43, 77, 3, c2, m2);
	ok(memcmp(c1, c2, NBYTES) != 0, "another seed gives another eye");
	for (int i = 0; i < n; i++)
		free(enrol[i]);
	free(enrol);
}

static void
test_thresholds(void)
{
	/* biometrics.md 2.1: best-of-7, N = 249 model, normalised HD */
	struct { double gallery, fpir, expect; } t[] = {
		{1e6, 0.01, 0.309}, {1e6, 0.001, 0.297}, {1e7, 0.01, 0.297}, {1e7, 0.001, 0.289},
		{24e6, 0.01, 0.293}, {24e6, 0.001, 0.285}, {1e8, 0.01, 0.289}, {1e8, 0.001, 0.277},
		{1e9, 0.01, 0.277}, {1e9, 0.001, 0.269}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
	{
		double		th = iris_threshold(t[i].gallery, t[i].fpir, 249, 7);

		ok(fabs(th - t[i].expect) <= 0.0045, "threshold for %.0e eyes at FPIR %g: %.4f (table %.3f)",
		   t[i].gallery, t[i].fpir, th, t[i].expect);
	}
	ok(iris_threshold(1e6, 0.01, 249, 7) > iris_threshold(1e7, 0.01, 249, 7),
	   "a larger gallery needs a lower threshold");
	{
		/* Daugman's FMR table: 0.32 -> about 1 in 26 M (model: 1 in 35 M) */
		double		f = iris_false_match(0.32, 249, 7);

		ok(f > 1.0 / 60e6 && f < 1.0 / 15e6, "P_FM(0.32) = 1 in %.0f", 1.0 / f);
	}
	ok(isnan(iris_threshold(1e6, 0, 249, 7)) && isnan(iris_threshold(0, 0.01, 249, 7)), "nonsense arguments give NaN");
}

int
main(void)
{
	test_layout_and_errors();
	test_rotation_and_compare();
	test_scan();
	test_synthetic_statistics();
	test_thresholds();
	return tap_done();
}
