/*
 * iris_scan.c
 *		The 1:N iris kernel: one probe (all its rotations precomputed) against
 *		a packed, contiguous gallery.  XOR / AND / popcount on whole words, no
 *		allocation, no bit shifting in the loop.
 *
 * Three versions chosen once by CPUID: AVX-512 VPOPCNTDQ, AVX2 (popcount by
 * nibble table) and portable (64-bit popcount).  The build never uses
 * -march=native; the wide versions are compiled with target attributes.
 */
#include "iris.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && !defined(__llvm__)
/* PostgreSQL also compiles every file to LLVM bitcode with clang for JIT;
 * that path gets the portable kernel only (like pgvector's bitutils.c). */
#define RF_X86_KERNELS 1
#include <immintrin.h>
#endif

size_t
iris_probe_size(const iris_header *h, const iris_params *p)
{
	return (size_t) (2 * p->max_shift + 1) * 2 * h->nwords * sizeof(uint64_t);
}

rf_status
iris_probe_init(iris_probe *probe, const iris_header *h, const iris_params *p,
				void *scratch, size_t scratch_len, rf_error *err)
{
	uint64_t	tmp[sizeof(iris_header) / 8 + 2 * (IRIS_MAX_BITS / 64)];
	iris_header *rot = (iris_header *) tmp;

	if (p->max_shift < 0 || p->max_shift > IRIS_MAX_SHIFT || p->max_shift >= h->cols)
		return rf_fail(err, RF_EINVAL, -1, "max_shift %d out of range", p->max_shift);
	if (scratch_len < iris_probe_size(h, p))
		return rf_fail(err, RF_ESPACE, -1, "probe scratch too small");
	probe->head = h;
	probe->max_shift = p->max_shift;
	probe->nshift = 2 * p->max_shift + 1;
	probe->nwords = h->nwords;
	probe->norm_bits = p->norm_bits;
	probe->min_bits = p->min_bits;
	probe->words = (uint64_t *) scratch;
	for (int k = 0; k < probe->nshift; k++)
	{
		uint64_t   *dst = probe->words + (size_t) k * 2 * h->nwords;

		/* comparing gallery g with the probe turned by -s = g turned by +s */
		iris_rotate(h, -(k - p->max_shift), rot);
		memcpy(dst, iris_code(rot), h->nwords * sizeof(uint64_t));
		memcpy(dst + h->nwords, iris_mask(rot), h->nwords * sizeof(uint64_t));
	}
	return RF_OK;
}

/*
 * Best normalised HD from per-shift counts, in single precision exactly as
 * iris_normalise_f (so 1:1 and 1:N agree to the bit).  Never inlined: inside
 * a function compiled for AVX-512 the compiler may fuse the multiply and the
 * subtraction into one FMA, which rounds once instead of twice and moves the
 * score away from the 1:1 comparison's.
 */
static __attribute__((noinline)) float
best_of(const iris_probe *pr, const uint32_t *diff, const uint32_t *valid)
{
	float		best = 1.0f;
	float		inv_norm = 1.0f / (float) pr->norm_bits;

	for (int k = 0; k < pr->nshift; k++)
	{
		float		hd;

		if ((int) valid[k] < pr->min_bits)
			continue;
		hd = iris_normalise_f(diff[k], valid[k], inv_norm);
		if (hd < best)
			best = hd;
	}
	return best;
}

static inline __attribute__((always_inline)) void
scan_words_w(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out, const uint32_t W)
{
	uint32_t	diff[2 * IRIS_MAX_SHIFT + 1];
	uint32_t	valid[2 * IRIS_MAX_SHIFT + 1];

	for (size_t g = 0; g < n; g++)
	{
		const iris_header *t = (const iris_header *) (gallery + g * stride);
		const uint64_t *gc = iris_code(t);
		const uint64_t *gm = iris_mask(t);

		for (int k = 0; k < pr->nshift; k++)
		{
			const uint64_t *pc = pr->words + (size_t) k * 2 * W;
			const uint64_t *pm = pc + W;
			uint32_t	d = 0;
			uint32_t	v = 0;

			for (uint32_t i = 0; i < W; i++)
			{
				uint64_t	m = pm[i] & gm[i];

				d += (uint32_t) __builtin_popcountll((pc[i] ^ gc[i]) & m);
				v += (uint32_t) __builtin_popcountll(m);
			}
			diff[k] = d;
			valid[k] = v;
		}
		out[g] = best_of(pr, diff, valid);
	}
}

/* W constant for 2,048-bit codes so the word loop unrolls */
static inline __attribute__((always_inline)) void
scan_words(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	if (pr->nwords == 32)
		scan_words_w(pr, gallery, stride, n, out, 32);
	else
		scan_words_w(pr, gallery, stride, n, out, pr->nwords);
}

static void
scan_portable(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	scan_words(pr, gallery, stride, n, out);
}

#ifdef RF_X86_KERNELS
/* the same loop, compiled for the POPCNT instruction */
__attribute__((target("popcnt")))
static void
scan_popcnt(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	scan_words(pr, gallery, stride, n, out);
}

/* per-byte popcount by nibble table (Mula): each byte holds 0..8 */
__attribute__((target("avx2")))
static inline __m256i
popcnt_bytes(__m256i v)
{
	const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
										   0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
	const __m256i low = _mm256_set1_epi8(0x0f);

	return _mm256_add_epi8(_mm256_shuffle_epi8(table, _mm256_and_si256(v, low)),
						   _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(v, 4), low)));
}

/* sum of the 32 byte counts */
__attribute__((target("avx2")))
static inline uint32_t
sum_bytes(__m256i v)
{
	__m256i		s = _mm256_sad_epu8(v, _mm256_setzero_si256());
	__m128i		t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));

	return (uint32_t) (_mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1));
}

/* best_of on 8 shifts at a time; the same IEEE operations in the same order */
__attribute__((target("avx2")))
static inline float
best_of_avx2(const iris_probe *pr, const uint32_t *diff, const uint32_t *valid)
{
	__m256		best = _mm256_set1_ps(1.0f);
	__m256		half = _mm256_set1_ps(0.5f);
	__m256		zero = _mm256_setzero_ps();
	__m256		inv_norm = _mm256_set1_ps(1.0f / (float) pr->norm_bits);
	__m256i		minb = _mm256_set1_epi32(pr->min_bits - 1);
	float		lanes[8];
	float		b;

	for (int k = 0; k < pr->nshift; k += 8)
	{
		__m256i		vi = _mm256_loadu_si256((const __m256i *) (valid + k));
		__m256		d = _mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *) (diff + k)));
		__m256		v = _mm256_cvtepi32_ps(vi);
		__m256		hd = _mm256_sub_ps(half, _mm256_mul_ps(_mm256_sub_ps(half, _mm256_div_ps(d, v)),
														   _mm256_sqrt_ps(_mm256_mul_ps(v, inv_norm))));
		__m256		ok = _mm256_castsi256_ps(_mm256_cmpgt_epi32(vi, minb));

		hd = _mm256_max_ps(hd, zero);
		best = _mm256_min_ps(best, _mm256_blendv_ps(_mm256_set1_ps(1.0f), hd, ok));
	}
	_mm256_storeu_ps(lanes, best);
	b = lanes[0];
	for (int i = 1; i < 8; i++)
		if (lanes[i] < b)
			b = lanes[i];
	return b;
}

/*
 * The AVX2 body for templates of W words; with W a compile-time constant
 * (2,048-bit codes: 32 words) the loops unroll completely.
 */
__attribute__((target("avx2,popcnt"))) static inline __attribute__((always_inline)) void
scan_avx2_body(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out,
			   const uint32_t W)
{
	/* padded to whole groups of 8; padding lanes have valid 0 and lose */
	uint32_t	diff[2 * IRIS_MAX_SHIFT + 8] = {0};
	uint32_t	valid[2 * IRIS_MAX_SHIFT + 8] = {0};
	const uint32_t V = W / 4;	/* whole 256-bit vectors */

	for (size_t g = 0; g < n; g++)
	{
		const iris_header *t = (const iris_header *) (gallery + g * stride);
		const uint64_t *gc = iris_code(t);
		const uint64_t *gm = iris_mask(t);

		for (int k = 0; k < pr->nshift; k++)
		{
			const uint64_t *pc = pr->words + (size_t) k * 2 * W;
			const uint64_t *pm = pc + W;
			uint32_t	d = 0;
			uint32_t	v = 0;
			uint32_t	i = 0;

			while (i < V)
			{
				/* byte counters hold up to 31 vectors (31 x 8 < 256) */
				uint32_t	end = V - i > 31 ? i + 31 : V;
				__m256i		dacc = _mm256_setzero_si256();
				__m256i		vacc = _mm256_setzero_si256();

				for (; i < end; i++)
				{
					__m256i		m = _mm256_and_si256(_mm256_loadu_si256((const __m256i *) (pm + 4 * i)),
													 _mm256_loadu_si256((const __m256i *) (gm + 4 * i)));
					__m256i		x = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *) (pc + 4 * i)),
													 _mm256_loadu_si256((const __m256i *) (gc + 4 * i)));

					dacc = _mm256_add_epi8(dacc, popcnt_bytes(_mm256_and_si256(x, m)));
					vacc = _mm256_add_epi8(vacc, popcnt_bytes(m));
				}
				d += sum_bytes(dacc);
				v += sum_bytes(vacc);
			}
			for (uint32_t j = 4 * V; j < W; j++)
			{
				uint64_t	m = pm[j] & gm[j];

				d += (uint32_t) _mm_popcnt_u64((pc[j] ^ gc[j]) & m);
				v += (uint32_t) _mm_popcnt_u64(m);
			}
			diff[k] = d;
			valid[k] = v;
		}
		out[g] = best_of_avx2(pr, diff, valid);
	}
}

__attribute__((target("avx2,popcnt")))
static void
scan_avx2(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	if (pr->nwords == 32)		/* 2,048-bit codes, e.g. Daugman's 8 x 128 x 2 */
		scan_avx2_body(pr, gallery, stride, n, out, 32);
	else
		scan_avx2_body(pr, gallery, stride, n, out, pr->nwords);
}

__attribute__((target("avx512f,avx512vpopcntdq"))) static inline __attribute__((always_inline)) void
scan_avx512_body(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out,
				 const uint32_t W)
{
	uint32_t	diff[2 * IRIS_MAX_SHIFT + 1];
	uint32_t	valid[2 * IRIS_MAX_SHIFT + 1];
	const uint32_t V = W / 8;	/* whole 512-bit vectors */

	for (size_t g = 0; g < n; g++)
	{
		const iris_header *t = (const iris_header *) (gallery + g * stride);
		const uint64_t *gc = iris_code(t);
		const uint64_t *gm = iris_mask(t);

		for (int k = 0; k < pr->nshift; k++)
		{
			const uint64_t *pc = pr->words + (size_t) k * 2 * W;
			const uint64_t *pm = pc + W;
			__m512i		dacc = _mm512_setzero_si512();
			__m512i		vacc = _mm512_setzero_si512();
			uint32_t	d;
			uint32_t	v;

			for (uint32_t i = 0; i < V; i++)
			{
				__m512i		m = _mm512_and_si512(_mm512_loadu_si512(pm + 8 * i), _mm512_loadu_si512(gm + 8 * i));
				__m512i		x = _mm512_xor_si512(_mm512_loadu_si512(pc + 8 * i), _mm512_loadu_si512(gc + 8 * i));

				dacc = _mm512_add_epi64(dacc, _mm512_popcnt_epi64(_mm512_and_si512(x, m)));
				vacc = _mm512_add_epi64(vacc, _mm512_popcnt_epi64(m));
			}
			d = (uint32_t) _mm512_reduce_add_epi64(dacc);
			v = (uint32_t) _mm512_reduce_add_epi64(vacc);
			for (uint32_t i = 8 * V; i < W; i++)
			{
				uint64_t	m = pm[i] & gm[i];

				d += (uint32_t) __builtin_popcountll((pc[i] ^ gc[i]) & m);
				v += (uint32_t) __builtin_popcountll(m);
			}
			diff[k] = d;
			valid[k] = v;
		}
		out[g] = best_of(pr, diff, valid);
	}
}

__attribute__((target("avx512f,avx512vpopcntdq,popcnt")))
static void
scan_avx512(const iris_probe *pr, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	if (pr->nwords == 32)
		scan_avx512_body(pr, gallery, stride, n, out, 32);
	else
		scan_avx512_body(pr, gallery, stride, n, out, pr->nwords);
}
#endif

typedef void (*scan_fn) (const iris_probe *, const uint8_t *, size_t, size_t, float *);

static scan_fn chosen = NULL;
static const char *chosen_name = "portable";

static int
kernel_available(int kernel)
{
#ifdef RF_X86_KERNELS
	__builtin_cpu_init();
	if (kernel == 2)
		return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
	if (kernel == 1)
		return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#endif
	return kernel == 0;
}

int
iris_kernel_force(int kernel)
{
	if (kernel < 0)
	{
		chosen = NULL;
		return 1;
	}
	if (!kernel_available(kernel))
		return 0;
#ifdef RF_X86_KERNELS
	if (kernel == 2)
	{
		chosen = scan_avx512;
		chosen_name = "avx512";
		return 1;
	}
	if (kernel == 1)
	{
		chosen = scan_avx2;
		chosen_name = "avx2";
		return 1;
	}
	chosen = __builtin_cpu_supports("popcnt") ? scan_popcnt : scan_portable;
#else
	chosen = scan_portable;
#endif
	chosen_name = "portable";
	return 1;
}

static void
choose_kernel(void)
{
	if (!iris_kernel_force(2) && !iris_kernel_force(1))
		iris_kernel_force(0);
}

const char *
iris_kernel_name(void)
{
	if (chosen == NULL)
		choose_kernel();
	return chosen_name;
}

void
iris_scan(const iris_probe *probe, const uint8_t *gallery, size_t stride, size_t n, float *out)
{
	if (chosen == NULL)
		choose_kernel();
	chosen(probe, gallery, stride, n, out);
}
