/* Minimal TAP output for the matcher unit tests. */
#ifndef RF_TAP_H
#define RF_TAP_H

#include <stdio.h>

static int	tap_n = 0;
static int	tap_failed = 0;

#define ok(cond, ...) do { \
	tap_n++; \
	if (cond) printf("ok %d - ", tap_n); \
	else { printf("not ok %d - ", tap_n); tap_failed++; } \
	printf(__VA_ARGS__); printf("\n"); \
	if (!(cond)) printf("#   at %s:%d\n", __FILE__, __LINE__); \
} while (0)

#define skip(...) do { tap_n++; printf("ok %d - # SKIP ", tap_n); printf(__VA_ARGS__); printf("\n"); } while (0)

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed != 0;
}

#endif
