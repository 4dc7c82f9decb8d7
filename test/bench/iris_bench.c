/*
 * iris_bench.c
 *		1:N iris scan speed: templates per second per core for 8 x 128 x 2
 *		codes with 7 shifts, for every kernel this CPU has, against a trivial
 *		reference scan (XOR-reduce of the same memory: the read ceiling)
 *		measured in the same run.  Also checks that every genuine probe finds
 *		its mate first (rank-1 = 1.0) at the gallery-size threshold.
 *
 *		iris_bench [gallery_size] [probes]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iris.h"
#include "synth.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	size_t		n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
	int			nprobe = argc > 2 ? atoi(argv[2]) : 20;
	synth_iris_params sp = synth_iris_defaults();
	size_t		stride = iris_size(sp.rows, sp.cols, sp.bits_per_cell);
	size_t		nbytes = (size_t) (sp.rows * sp.cols * sp.bits_per_cell + 7) / 8;
	uint8_t    *gallery = aligned_alloc(64, stride * n);
	float	   *out = malloc(sizeof(float) * n);
	uint8_t		code[4096], mask[4096];
	uint8_t		probe_t[sizeof(iris_header) + 1024] __attribute__((aligned(8)));
	iris_params ip;
	rf_error	err;
	double		t0;
	double		ref_rate;
	double		threshold;
	const char *names[3] = {"portable", "avx2", "avx512"};
	double		rates[3] = {0, 0, 0};

	t0 = now();
	for (size_t i = 0; i < n; i++)
	{
		synth_iris_capture(&sp, 7, i, 0, code, mask);
		if (iris_from_bytes(code, nbytes, mask, nbytes, sp.rows, sp.cols, sp.bits_per_cell,
							gallery + i * stride, stride, &err) != RF_OK)
		{
			fprintf(stderr, "generator: %s\n", err.message);
			return 1;
		}
	}
	printf("gallery: %zu synthetic 8x128x2 templates (%zu bytes each, %.0f MB), generated in %.1f s\n",
		   n, stride, n * stride / 1e6, now() - t0);
	ip = iris_default_params((iris_header *) gallery);
	threshold = iris_threshold((double) n, 0.001, 249, 2 * ip.max_shift + 1);
	printf("threshold for FPIR 0.1%% at this gallery size (model, 249 DoF, %d shifts): %.4f\n",
		   2 * ip.max_shift + 1, threshold);

	/* reference: read every byte once (XOR-reduce), no masks, no shifts */
	{
		double		best = 1e9;

		for (int rep = 0; rep < 3; rep++)
		{
			uint64_t	x = 0;
			const uint64_t *w = (const uint64_t *) gallery;
			size_t		nw = stride * n / 8;

			t0 = now();
			for (size_t i = 0; i < nw; i++)
				x ^= w[i];
			if (now() - t0 < best)
				best = now() - t0;
			if (x == 42)
				printf(" ");
		}
		ref_rate = n / best;
		printf("reference scan (XOR-reduce of the gallery memory): %.1f M templates/s, %.1f GB/s\n",
			   ref_rate / 1e6, n * stride / best / 1e9);
	}

	for (int k = 0; k < 3; k++)
	{
		double	   *lat;
		int			rank1 = 0;
		int			accepted = 0;

		if (!iris_kernel_force(k))
		{
			printf("%-8s kernel: not available on this CPU\n", names[k]);
			continue;
		}
		lat = malloc(sizeof(double) * nprobe);
		for (int p = 0; p < nprobe; p++)
		{
			size_t		mate = (size_t) (p * 7919) % n;
			uint64_t	scratch[7 * 2 * 64];
			iris_probe	probe;
			size_t		best = 0;

			synth_iris_capture(&sp, 7, mate, 1 + p % 5, code, mask);
			iris_from_bytes(code, nbytes, mask, nbytes, sp.rows, sp.cols, sp.bits_per_cell, probe_t, sizeof(probe_t), &err);
			iris_probe_init(&probe, (iris_header *) probe_t, &ip, scratch, sizeof(scratch), &err);
			t0 = now();
			iris_scan(&probe, gallery, stride, n, out);
			lat[p] = now() - t0;
			for (size_t i = 1; i < n; i++)
				if (out[i] < out[best])
					best = i;
			rank1 += best == mate;
			accepted += out[mate] <= threshold;
		}
		qsort(lat, nprobe, sizeof(double), cmp_double);
		rates[k] = n / lat[nprobe / 2];
		printf("%-8s kernel: %6.2f M templates/s/core (7 shifts), p50 %.1f ms, p95 %.1f ms per probe; "
			   "%.2f x reference; rank-1 %d/%d, mate under threshold %d/%d\n",
			   names[k], rates[k] / 1e6, lat[nprobe / 2] * 1e3, lat[(nprobe * 95) / 100] * 1e3,
			   rates[k] / ref_rate, rank1, nprobe, accepted, nprobe);
		free(lat);
	}
	if (rates[0] > 0 && rates[1] > 0)
		printf("avx2 / portable: %.2f x\n", rates[1] / rates[0]);
	if (rates[0] > 0 && rates[2] > 0)
		printf("avx512 / portable: %.2f x\n", rates[2] / rates[0]);
	free(gallery);
	free(out);
	return 0;
}
