/*
 * bench_util.h
 *		Small helpers shared by the C benchmarks: a monotonic clock and
 *		reading a whole file.
 */
#ifndef REFUGE_BENCH_UTIL_H
#define REFUGE_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The file's bytes with a NUL after them, or NULL if it cannot be read. */
static inline char *
slurp(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *b;
	long		n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n + 1);
	n = (long) fread(b, 1, n, f);
	b[n] = 0;
	fclose(f);
	return b;
}

#endif							/* REFUGE_BENCH_UTIL_H */
