/*
 * fp_index.c
 *		Min-hash keys of minutia cylinders for fingerprint candidate search.
 *
 * A cylinder is sparse (a few dozen of its 1,536 cells set), so sampling
 * cells would mostly read zeros that everyone shares; the min-hash of the
 * set cells instead collides with probability equal to the Jaccard
 * similarity of two cylinders.  FPI_BAND of them per key makes chance
 * collisions between different neighbourhoods rare while a genuine pair
 * (similarity ~0.5) still shares a fair share of its FPI_TABLES keys.
 * Cells are ranked by fixed pseudo-random permutations, made once.
 */
#include "fp_index.h"

#include <stdlib.h>
#include <string.h>

#include "rf_rng.h"

#if defined(__x86_64__) && !defined(__llvm__)
/* not in the LLVM bitcode PostgreSQL builds for JIT (as in iris_scan.c) */
#define RF_X86_KERNELS 1
#include <immintrin.h>
#endif

/* A random rank of every cylinder cell for each min-hash */
static uint16_t cell_rank[FPI_TABLES * FPI_BAND][FPM_CELLS];
static int	ranks_ready = 0;

static void
make_ranks(void)
{
	rf_rng		r;

	rf_rng_seed(&r, 0x6670692d6b657973ULL, 0, 0);
	for (int h = 0; h < FPI_TABLES * FPI_BAND; h++)
		for (int c = 0; c < FPM_CELLS; c++)
			cell_rank[h][c] = (uint16_t) rf_below(&r, 65536);
	ranks_ready = 1;
}

static int
cmp_u16(const void *a, const void *b)
{
	return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

int
fpi_keys(const fpm_template *t, int cylinders, uint16_t *keys)
{
	int			n = 0, used = 0, out = 0;

	if (!ranks_ready)
		make_ranks();
	/* the template keeps minutiae best quality first */
	for (int i = 0; i < t->n && used < cylinders; i++)
	{
		uint16_t	set[FPM_CELLS];
		int			nset = 0;

		if (!t->valid[i] || t->nbits[i] < FPI_MIN_ONES)
			continue;
		used++;
		for (int w = 0; w < FPM_WORDS; w++)
			for (uint64_t b = t->bits[i][w]; b; b &= b - 1)
				set[nset++] = (uint16_t) (w * 64 + __builtin_ctzll(b));
		for (int l = 0; l < FPI_TABLES; l++)
		{
			uint32_t	h = 0x811C9DC5u ^ (uint32_t) l;

			for (int k = 0; k < FPI_BAND; k++)
			{
				const uint16_t *rank = cell_rank[l * FPI_BAND + k];
				int			best = 0;

				for (int s = 1; s < nset; s++)
					if (rank[set[s]] < rank[set[best]])
						best = s;
				h = (h ^ set[best]) * 0x01000193u;
			}
			h ^= h >> 15;
			h *= 0x85EBCA77u;
			h ^= h >> 13;
			keys[n++] = (uint16_t) (h >> 16);
		}
	}
	qsort(keys, n, sizeof(uint16_t), cmp_u16);
	for (int i = 0; i < n; i++)
		if (out == 0 || keys[out - 1] != keys[i])
			keys[out++] = keys[i];
	return out;
}

void
fpi_bitmap(const uint16_t *keys, int nkeys, uint64_t *bitmap)
{
	memset(bitmap, 0, FPI_BITMAP_WORDS * sizeof(uint64_t));
	for (int i = 0; i < nkeys; i++)
		bitmap[keys[i] >> 6] |= (uint64_t) 1 << (keys[i] & 63);
}

#ifdef RF_X86_KERNELS
/*
 * Eight keys per step: widen to 32 bits, gather the 32-bit bitmap words they
 * fall in, shift each key's bit down and add.  The bitmap is little-endian
 * 64-bit words, so bit k is bit k & 31 of 32-bit word k >> 5.
 */
__attribute__((target("avx2")))
static int
hits_avx2(const uint64_t *bitmap, const uint16_t *keys, int nkeys)
{
	const int  *words = (const int *) bitmap;
	__m256i		acc = _mm256_setzero_si256();
	__m256i		one = _mm256_set1_epi32(1);
	__m256i		low5 = _mm256_set1_epi32(31);
	__m128i		lo, hi;
	int			i = 0, hits;

	for (; i + 8 <= nkeys; i += 8)
	{
		__m256i		k = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *) (keys + i)));
		__m256i		w = _mm256_i32gather_epi32(words, _mm256_srli_epi32(k, 5), 4);

		acc = _mm256_add_epi32(acc, _mm256_and_si256(_mm256_srlv_epi32(w, _mm256_and_si256(k, low5)), one));
	}
	lo = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	lo = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0x4e));
	hi = _mm_add_epi32(lo, _mm_shuffle_epi32(lo, 0xb1));
	hits = _mm_cvtsi128_si32(hi);
	return hits + fpi_hits_portable(bitmap, keys + i, nkeys - i);
}
#endif

typedef int (*hits_fn) (const uint64_t *, const uint16_t *, int);

static hits_fn hits_chosen = NULL;

int
fpi_hits(const uint64_t *bitmap, const uint16_t *keys, int nkeys)
{
	if (hits_chosen == NULL)
	{
		hits_chosen = fpi_hits_portable;
#ifdef RF_X86_KERNELS
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx2"))
			hits_chosen = hits_avx2;
#endif
	}
	return hits_chosen(bitmap, keys, nkeys);
}
