/*
 * fp_index.h
 *		Candidate keys for 1:N fingerprint search: min-hashes of minutia
 *		cylinders (locality-sensitive for the Jaccard similarity of their set
 *		cells, after Cappelli, Ferrara and Maltoni's MCC indexing).  Each
 *		cylinder gives FPI_TABLES keys, each the hash of FPI_BAND min-hashes;
 *		a gallery finger's candidate score is how many of its keys the probe
 *		also has.
 *
 * Keys are 16 bits so a probe's key set is a 64 Kbit bitmap that stays in
 * L1 cache, and a gallery finger's keys are a short sorted array: counting
 * is one bit test per key, no allocation, no hashing at scan time.  Gallery
 * fingers are keyed on their FPI_GALLERY best cylinders, probes on all.
 *
 * The keys are stored in indexes: changing any constant here changes
 * FPI_VERSION, and indexes built with another version must be rebuilt.
 */
#ifndef RF_FP_INDEX_H
#define RF_FP_INDEX_H

#include <math.h>
#include <stdint.h>

#include "fp_match.h"

#define FPI_TABLES		16		/* keys per cylinder */
#define FPI_BAND		2		/* min-hashes per key */
#define FPI_MIN_ONES	4		/* cylinders with fewer set cells say too little */
#define FPI_GALLERY		32		/* cylinders keyed in a gallery finger */
#define FPI_GALLERY_KEYS (FPI_TABLES * FPI_GALLERY)
#define FPI_MAX_KEYS	(FPI_TABLES * FPM_MAX)
#define FPI_BITMAP_WORDS (65536 / 64)
#define FPI_VERSION		1

/*
 * The sorted, distinct keys of a template's first `cylinders` valid
 * cylinders (best quality first); returns how many (<= FPI_TABLES * cylinders).
 */
int			fpi_keys(const fpm_template *t, int cylinders, uint16_t *keys);

/* The probe's keys as a bitmap of FPI_BITMAP_WORDS words. */
void		fpi_bitmap(const uint16_t *keys, int nkeys, uint64_t *bitmap);

/*
 * Keys of a gallery finger that the probe also has: one bit test per key,
 * eight at a time with AVX2 gathers where the CPU has them (chosen once).
 */
int			fpi_hits(const uint64_t *bitmap, const uint16_t *keys, int nkeys);

/* The same, one key at a time (the reference the fast path is tested against). */
static inline int
fpi_hits_portable(const uint64_t *bitmap, const uint16_t *keys, int nkeys)
{
	int			hits = 0;

	for (int i = 0; i < nkeys; i++)
		hits += (int) ((bitmap[keys[i] >> 6] >> (keys[i] & 63)) & 1);
	return hits;
}

/*
 * A gallery finger's candidate score: shared keys over the square root of
 * its key count, so fingers with many minutiae do not win by size alone.
 */
static inline float
fpi_score(const uint64_t *bitmap, const uint16_t *keys, int nkeys)
{
	return (float) fpi_hits(bitmap, keys, nkeys) / sqrtf((float) nkeys + 1.0f);
}

#endif							/* RF_FP_INDEX_H */
