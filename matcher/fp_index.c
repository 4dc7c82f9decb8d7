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
