/*
 * test_util.h
 *		Small helpers shared by the C tests and benchmarks: a monotonic
 *		clock and reading a whole file.
 */
#ifndef REFUGE_TEST_UTIL_H
#define REFUGE_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <stdint.h>

static inline double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * The file's bytes with a NUL after them (and their count in *len unless len
 * is NULL), or NULL if it cannot be read.
 */
static inline char *
slurp(const char *path, size_t *len)
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
	if (fread(b, 1, n, f) != (size_t) n)
		n = 0;
	b[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t) n;
	return b;
}

#endif							/* REFUGE_TEST_UTIL_H */
