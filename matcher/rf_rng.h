/*
 * rf_rng.h
 *		Small seeded random number generator for the synthetic data
 *		(xoshiro256** seeded by splitmix64): deterministic across machines.
 */
#ifndef RF_RNG_H
#define RF_RNG_H

#include <stdint.h>

typedef struct rf_rng
{
	uint64_t	s[4];
} rf_rng;

static inline uint64_t
rf_splitmix64(uint64_t *x)
{
	uint64_t	z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed from any number of 64-bit values (seed, subject, capture, ...). */
static inline void
rf_rng_seed(rf_rng *r, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t	x = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL) * 0xd1b54a32d192ed03ULL ^ c;

	for (int i = 0; i < 4; i++)
		r->s[i] = rf_splitmix64(&x);
}

static inline uint64_t
rf_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
rf_next(rf_rng *r)
{
	uint64_t   *s = r->s;
	uint64_t	result = rf_rotl(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rf_rotl(s[3], 45);
	return result;
}

/* uniform in [0, 1) */
static inline double
rf_uniform(rf_rng *r)
{
	return (double) (rf_next(r) >> 11) * 0x1.0p-53;
}

/* uniform integer in [0, n) */
static inline uint32_t
rf_below(rf_rng *r, uint32_t n)
{
	return (uint32_t) (((rf_next(r) >> 32) * (uint64_t) n) >> 32);
}

/*
 * Approximately standard normal: the sum of four uniform 16-bit values,
 * centred and scaled (Irwin-Hall).  Fast, and good enough for synthetic
 * templates (the tails are bounded at about 3.46 sd).
 */
static inline double
rf_gauss(rf_rng *r)
{
	uint64_t	u = rf_next(r);
	double		s = (double) (u & 0xffff) + (double) ((u >> 16) & 0xffff) +
		(double) ((u >> 32) & 0xffff) + (double) (u >> 48);

	return (s / 65536.0 - 2.0) * 1.7320508075688772;	/* var of U(0,1) sum of 4 = 1/3 */
}

#endif							/* RF_RNG_H */
