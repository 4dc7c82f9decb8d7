/*
 * fp_match.c
 *		Minutia cylinders and their consolidation into one score.
 *
 * A cylinder describes the neighbourhood of one minutia in its own frame
 * (centred on it, turned by its direction): FPM_NS x FPM_NS spatial cells of
 * radius R, each with FPM_ND direction sections.  A cell's bit is set when
 * neighbours near it, with a relative direction near the section's, add up
 * past a threshold (Gaussian in space and direction); a cell is valid when
 * it lies within R and inside the fingerprint area (convex hull of the
 * minutiae, enlarged).  Cylinders compare by XOR/AND/popcount.
 *
 * Consolidation: the most similar minutia pairs are taken one-to-one, then
 * relaxed: a pair keeps its weight only as far as other pairs agree with it
 * on distance, relative direction and radial angle.  The score is the mean
 * weight of the best-supported pairs.
 */
#include "fp_match.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI_F			3.14159265358979f
#define R_MM			3.5f	/* cylinder radius: 70 px at 500 dpi */
#define SIGMA_S			0.47f	/* spatial spread: 28/3 px at 500 dpi */
#define SIGMA_D			(2.0f * PI_F / 9.0f)
/* cell on when contributions reach this: the paper's 0.01 is per pixel of
 * density at 500 dpi; densities here are per millimetre (x 1/0.0508) */
#define MU_PSI			(0.01f / 0.0508f)
#define OMEGA_MM		2.5f	/* hull enlargement: 50 px */
#define MIN_VALID_CELLS 0.60f	/* share of a cylinder's cells that must be valid */
#define MIN_NEIGHBOURS	2
#define MATCH_MIN_CELLS 0.60f	/* share of cells valid in both to compare */
#define MAX_DTHETA		(PI_F / 2)
#define PAIR_DIST_MM	0.75f	/* aligned minutiae within this pair up */
#define PAIR_DTHETA		(PI_F / 6)

static inline float
dphi(float a, float b)			/* difference of angles in (-pi, pi] */
{
	float		d = a - b;

	while (d > PI_F)
		d -= 2 * PI_F;
	while (d <= -PI_F)
		d += 2 * PI_F;
	return d;
}

static uint64_t
fnv(const void *p, size_t n, uint64_t h)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Convex hull (Andrew's monotone chain) of the points; returns its size. */
static int
cross_sign(const fpm_point *o, const fpm_point *a, const fpm_point *b)
{
	float		c = (a->x - o->x) * (b->y - o->y) - (a->y - o->y) * (b->x - o->x);

	return c > 0 ? 1 : (c < 0 ? -1 : 0);
}

static int
hull(const fpm_point *pts, int n, fpm_point *h)
{
	fpm_point	s[FPM_MAX];
	int			k = 0;

	memcpy(s, pts, n * sizeof(fpm_point));
	/* insertion sort by x, y (n <= 96) */
	for (int i = 1; i < n; i++)
	{
		fpm_point	v = s[i];
		int			j = i - 1;

		while (j >= 0 && (s[j].x > v.x || (s[j].x == v.x && s[j].y > v.y)))
		{
			s[j + 1] = s[j];
			j--;
		}
		s[j + 1] = v;
	}
	for (int i = 0; i < n; i++)
	{
		while (k >= 2 && cross_sign(&h[k - 2], &h[k - 1], &s[i]) <= 0)
			k--;
		h[k++] = s[i];
	}
	for (int i = n - 2, t = k + 1; i >= 0; i--)
	{
		while (k >= t && cross_sign(&h[k - 2], &h[k - 1], &s[i]) <= 0)
			k--;
		h[k++] = s[i];
	}
	return k > 1 ? k - 1 : k;
}

/* Squared distance from (x, y) to the segment a-b. */
static inline float
segment_dist2(const fpm_point *a, const fpm_point *b, float x, float y)
{
	float		ex = b->x - a->x, ey = b->y - a->y;
	float		px = x - a->x, py = y - a->y;
	float		len2 = ex * ex + ey * ey;
	float		t = len2 > 0 ? (px * ex + py * ey) / len2 : 0;
	float		dx, dy;

	t = t < 0 ? 0 : (t > 1 ? 1 : t);
	dx = x - (a->x + t * ex);
	dy = y - (a->y + t * ey);
	return dx * dx + dy * dy;
}

/* Inside the hull, or within OMEGA of it. */
static int
in_area(const fpm_point *h, int nh, float x, float y)
{
	float		best = 1e9f;
	int			inside = 1;

	if (nh < 3)
		return 1;
	/* most points are inside: test that first, edge distances only if not */
	for (int i = 0; i < nh && inside; i++)
	{
		const fpm_point *a = &h[i];
		const fpm_point *b = &h[i + 1 == nh ? 0 : i + 1];

		if ((b->x - a->x) * (y - a->y) - (b->y - a->y) * (x - a->x) < 0)
			inside = 0;
	}
	if (inside)
		return 1;
	for (int i = 0; i < nh; i++)
	{
		float		d2 = segment_dist2(&h[i], &h[i + 1 == nh ? 0 : i + 1], x, y);

		if (d2 < best)
			best = d2;
	}
	return best <= OMEGA_MM * OMEGA_MM;
}

/*
 * The hull edges that can decide in_area() for a point of the disc of radius
 * R around c, so that the cells of one cylinder test only those (same
 * result, a few edges instead of all).  An edge whose line has the whole disc
 * on its inner side (with a margin far above rounding) passes every cell, so
 * the inside test can skip it; an edge farther than R + OMEGA from c cannot be
 * within OMEGA of any cell, so the distance test can skip it.  Returns 1 when
 * no edge can fail the inside test: every cell is in the area.
 */
typedef struct edge_set
{
	int			nside;
	int			nnear;
	uint8_t		side[FPM_MAX + 1];
	uint8_t		near[FPM_MAX + 1];
} edge_set;

#define EDGE_MARGIN_MM	0.01f

static int
select_edges(const fpm_point *h, int nh, const fpm_point *c, edge_set *es)
{
	es->nside = es->nnear = 0;
	if (nh < 3)
		return 1;				/* in_area accepts everything then */
	for (int i = 0; i < nh; i++)
	{
		const fpm_point *a = &h[i];
		const fpm_point *b = &h[i + 1 == nh ? 0 : i + 1];
		float		ex = b->x - a->x, ey = b->y - a->y;
		float		len = sqrtf(ex * ex + ey * ey);

		if (len == 0 || (ex * (c->y - a->y) - ey * (c->x - a->x)) / len < R_MM + EDGE_MARGIN_MM)
			es->side[es->nside++] = (uint8_t) i;
		if (sqrtf(segment_dist2(a, b, c->x, c->y)) <= R_MM + OMEGA_MM + EDGE_MARGIN_MM)
			es->near[es->nnear++] = (uint8_t) i;
	}
	return es->nside == 0;
}

/* in_area() restricted to the edges select_edges() kept: the same answer. */
static int
in_area_edges(const fpm_point *h, int nh, const edge_set *es, float x, float y)
{
	float		best = 1e9f;

	for (int k = 0; k < es->nside; k++)
	{
		int			i = es->side[k];
		const fpm_point *a = &h[i];
		const fpm_point *b = &h[i + 1 == nh ? 0 : i + 1];

		if ((b->x - a->x) * (y - a->y) - (b->y - a->y) * (x - a->x) < 0)
			goto outside;
	}
	return 1;
outside:
	for (int k = 0; k < es->nnear; k++)
	{
		int			i = es->near[k];
		float		d2 = segment_dist2(&h[i], &h[i + 1 == nh ? 0 : i + 1], x, y);

		if (d2 < best)
			best = d2;
	}
	return best <= OMEGA_MM * OMEGA_MM;
}

/* Gaussian integral over a direction section: erf form */
static float
sector_weight(float d, float centre)
{
	float		half = PI_F / FPM_ND;
	float		a = dphi(d, centre);

	return 0.5f * (erff((a + half) / (SIGMA_D * 1.41421356f)) - erff((a - half) / (SIGMA_D * 1.41421356f)));
}

/*
 * The same for every section at once, from a table over the angle (4,096
 * steps of 0.09 degree, far finer than the 60-degree sections): building a
 * template calls it for every neighbour of every cell.
 */
#define SECTOR_STEPS	4096
static float sector_table[SECTOR_STEPS][FPM_ND];
static int	sector_table_ready = 0;

static inline const float *
sector_weights(float d)
{
	int			q;

	if (!sector_table_ready)
	{
		for (int i = 0; i < SECTOR_STEPS; i++)
			for (int k = 0; k < FPM_ND; k++)
				sector_table[i][k] = sector_weight(-PI_F + (i + 0.5f) * (2 * PI_F / SECTOR_STEPS),
												   -PI_F + (k + 0.5f) * (2 * PI_F / FPM_ND));
		sector_table_ready = 1;
	}
	q = (int) ((dphi(d, 0) + PI_F) * (SECTOR_STEPS / (2 * PI_F)));
	return sector_table[q < 0 ? 0 : (q >= SECTOR_STEPS ? SECTOR_STEPS - 1 : q)];
}

/* Spatial cells of the disc of radius R (all of them valid in an interior cylinder). */
static int
disc_cells(void)
{
	static int	n = -1;
	float		cell = 2.0f * R_MM / FPM_NS;

	if (n < 0)
	{
		int			c = 0;

		for (int a = 0; a < FPM_NS; a++)
			for (int b = 0; b < FPM_NS; b++)
			{
				float		u = (a - (FPM_NS - 1) / 2.0f) * cell;
				float		v = (b - (FPM_NS - 1) / 2.0f) * cell;

				c += u * u + v * v <= R_MM * R_MM;
			}
		n = c;
	}
	return n;
}

void
fpm_build(const fp_view *view, fpm_template *t)
{
	int			order[FP_MAX_MINUTIAE];
	int			n = view->nminutiae;
	fpm_point	h[FPM_MAX + 1];
	int			nh;
	float		cell = 2.0f * R_MM / FPM_NS;

	memset(t, 0, sizeof(*t));
	t->version = FPM_VERSION;
	/* keep the FPM_MAX best-quality minutiae (stable: by quality, then order) */
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = 1; i < n; i++)
	{
		int			v = order[i];
		int			j = i - 1;

		while (j >= 0 && view->minutiae[order[j]].quality < view->minutiae[v].quality)
		{
			order[j + 1] = order[j];
			j--;
		}
		order[j + 1] = v;
	}
	if (n > FPM_MAX)
		n = FPM_MAX;
	t->n = (uint16_t) n;
	for (int i = 0; i < n; i++)
	{
		const fp_minutia *m = &view->minutiae[order[i]];

		/* ISO angles turn counter-clockwise as seen on the image, whose y
		 * axis points down: work in a y-up frame so rotations are standard */
		t->p[i].x = m->x / 1000.0f;
		t->p[i].y = -m->y / 1000.0f;
		t->p[i].angle = m->angle * (2 * PI_F / 65536.0f);
	}
	nh = hull(t->p, n, h);
	t->nhull = (uint16_t) nh;
	memcpy(t->hull, h, nh * sizeof(fpm_point));

	for (int i = 0; i < n; i++)
	{
		const fpm_point *c = &t->p[i];
		float		cs = cosf(c->angle), sn = sinf(c->angle);
		int			neighbours = 0;
		int			valid = 0;
		int			near[FPM_MAX];
		const float *near_sw[FPM_MAX];
		float		near_u[FPM_MAX];
		edge_set	edges;
		int			interior = select_edges(h, nh, c, &edges);

		/* only minutiae within R + 3 sigma can reach a cell of this cylinder */
		for (int j = 0; j < n; j++)
		{
			float		dx = t->p[j].x - c->x, dy = t->p[j].y - c->y;

			if (j != i && dx * dx + dy * dy <= (R_MM + 3 * SIGMA_S) * (R_MM + 3 * SIGMA_S))
			{
				/* the direction weights depend on the pair, not the cell */
				near_sw[neighbours] = sector_weights(dphi(c->angle, t->p[j].angle));
				/* its coordinate along the cylinder's rows */
				near_u[neighbours] = dx * cs + dy * sn;
				near[neighbours++] = j;
			}
		}
		for (int a = 0; a < FPM_NS; a++)
		{
			/*
			 * Neighbours more than 3 sigma from this row (plus a margin far
			 * above rounding) reach none of its cells: the row's cells loop
			 * over the others only, in the same order, so the sums are the same.
			 */
			int			row[FPM_MAX];
			int			nrow = 0;
			float		ru = (a - (FPM_NS - 1) / 2.0f) * cell;

			for (int q = 0; q < neighbours; q++)
				if (fabsf(near_u[q] - ru) <= 3 * SIGMA_S + 0.01f)
					row[nrow++] = q;
			for (int b = 0; b < FPM_NS; b++)
			{
				/* cell centre in the minutia's frame, then in the image */
				float		u = (a - (FPM_NS - 1) / 2.0f) * cell;
				float		v = (b - (FPM_NS - 1) / 2.0f) * cell;
				float		px = c->x + u * cs - v * sn;
				float		py = c->y + u * sn + v * cs;
				float		acc[FPM_ND] = {0};

				if (u * u + v * v > R_MM * R_MM || (!interior && !in_area_edges(h, nh, &edges, px, py)))
					continue;
				valid++;
				for (int r = 0; r < nrow; r++)
				{
					int			q = row[r];
					int			j = near[q];
					float		dx, dy, d2, ws;

					dx = t->p[j].x - px;
					dy = t->p[j].y - py;
					d2 = dx * dx + dy * dy;
					if (d2 > 9 * SIGMA_S * SIGMA_S)
						continue;
					ws = expf(-d2 / (2 * SIGMA_S * SIGMA_S)) / (SIGMA_S * 2.5066283f);
					for (int k = 0; k < FPM_ND; k++)
						acc[k] += ws * near_sw[q][k];
				}
				for (int k = 0; k < FPM_ND; k++)
				{
					int			bit = (a * FPM_NS + b) * FPM_ND + k;

					t->mask[i][bit >> 6] |= (uint64_t) 1 << (bit & 63);
					if (acc[k] >= MU_PSI)
						t->bits[i][bit >> 6] |= (uint64_t) 1 << (bit & 63);
				}
			}
		}
		t->ncells[i] = (uint16_t) (valid * FPM_ND);
		t->full[i] = valid == disc_cells();
		for (int w = 0; w < FPM_WORDS; w++)
			t->nbits[i] += (uint16_t) __builtin_popcountll(t->bits[i][w]);
		if (neighbours >= MIN_NEIGHBOURS && valid >= MIN_VALID_CELLS * (PI_F / 4) * FPM_NS * FPM_NS)
		{
			t->valid[i] = 1;
			t->nvalid++;
		}
	}
	t->order = fnv(t->p, n * sizeof(fpm_point), 0xcbf29ce484222325ULL) ^ n;
}

typedef struct pair
{
	float		s;
	uint8_t		a;
	uint8_t		b;
} pair;

static inline __attribute__((always_inline)) float
cylinder_similarity(const fpm_template *a, int i, const fpm_template *b, int j)
{
	int			common = 0, na = 0, nb = 0, nx = 0;

	if (a->full[i] && b->full[j])
	{
		/* both interior: masks are the whole disc, counts are precomputed */
		for (int w = 0; w < FPM_WORDS; w++)
			nx += __builtin_popcountll(a->bits[i][w] ^ b->bits[j][w]);
		na = a->nbits[i];
		nb = b->nbits[j];
		return na + nb == 0 ? 0.0f : 1.0f - (float) nx / (float) (na + nb);
	}
	for (int w = 0; w < FPM_WORDS; w++)
	{
		uint64_t	m = a->mask[i][w] & b->mask[j][w];
		uint64_t	x = a->bits[i][w] & m;
		uint64_t	y = b->bits[j][w] & m;

		common += __builtin_popcountll(m);
		na += __builtin_popcountll(x);
		nb += __builtin_popcountll(y);
		nx += __builtin_popcountll(x ^ y);
	}
	if (common < MATCH_MIN_CELLS * (PI_F / 4) * FPM_CELLS || na + nb == 0)
		return 0.0f;
	return 1.0f - (float) nx / (float) (na + nb);
}

static inline float
zsig(float v, float mu, float tau)
{
	return 1.0f / (1.0f + expf(-tau * (v - mu)));
}

/* atan2 to about 0.005 rad: enough for angles compared at pi/12 */
static inline float
fast_atan2(float y, float x)
{
	float		ax = fabsf(x), ay = fabsf(y);
	float		mn = ax < ay ? ax : ay, mx = ax < ay ? ay : ax;
	float		a = mx > 0 ? mn / mx : 0;
	float		s = a * a;
	float		r = ((-0.0464964749f * s + 0.15931422f) * s - 0.327622764f) * s * a + a;

	if (ay > ax)
		r = 1.57079637f - r;
	if (x < 0)
		r = PI_F - r;
	return y < 0 ? -r : r;
}

/* steep compatibility sigmoids: exact where it matters, cut off in the tails */
static inline float
zsig_fast(float v, float mu, float tau)
{
	float		z = tau * (v - mu);

	if (z > 8)
		return 1.0f;
	if (z < -8)
		return 0.0f;
	return 1.0f / (1.0f + expf(-z));
}


/* All valid, direction-compatible minutia pairs with their cylinder similarity. */
static inline __attribute__((always_inline)) int
candidate_pairs_body(const fpm_template *a, const fpm_template *b, pair *pairs)
{
	int			npairs = 0;

	for (int i = 0; i < a->n; i++)
	{
		if (!a->valid[i])
			continue;
		for (int j = 0; j < b->n; j++)
		{
			float		s;

			if (!b->valid[j] || fabsf(dphi(a->p[i].angle, b->p[j].angle)) > MAX_DTHETA)
				continue;
			s = cylinder_similarity(a, i, b, j);
			if (s > 0)
			{
				pairs[npairs].s = s;
				pairs[npairs].a = (uint8_t) i;
				pairs[npairs].b = (uint8_t) j;
				npairs++;
			}
		}
	}
	return npairs;
}

static int
candidate_pairs_generic(const fpm_template *a, const fpm_template *b, pair *pairs)
{
	return candidate_pairs_body(a, b, pairs);
}

#if defined(__x86_64__) && !defined(__llvm__)
/* the same, with the POPCNT instruction (the build targets baseline x86-64) */
__attribute__((target("popcnt")))
static int
candidate_pairs_popcnt(const fpm_template *a, const fpm_template *b, pair *pairs)
{
	return candidate_pairs_body(a, b, pairs);
}
#endif

static int
candidate_pairs(const fpm_template *a, const fpm_template *b, pair *pairs)
{
#if defined(__x86_64__) && !defined(__llvm__)
	static int	has_popcnt = -1;

	if (has_popcnt < 0)
	{
		__builtin_cpu_init();
		has_popcnt = __builtin_cpu_supports("popcnt") ? 1 : 0;
	}
	if (has_popcnt)
		return candidate_pairs_popcnt(a, b, pairs);
#endif
	return candidate_pairs_generic(a, b, pairs);
}

/*
 * The score of two templates in three steps: the candidate pairs taken one
 * to one from the most similar down; relaxation over their geometric
 * compatibility, which keeps the pairs that agree with the others; and a
 * global check that aligns the prints on the best pairs.
 */

/*
 * One-to-one: take pairs from the most similar down, skipping minutiae
 * already used.  A bucket order (1,024 steps of similarity, pairs in a
 * bucket in index order) replaces a full sort.  Returns how many were taken.
 */
static int
choose_pairs(const pair *pairs, int npairs, pair *chosen)
{
	static __thread uint16_t count[1025];
	static __thread uint16_t start[1025];
	static __thread uint16_t sorted[FPM_MAX * FPM_MAX];
	uint8_t		used_a[FPM_MAX] = {0}, used_b[FPM_MAX] = {0};
	int			nr = 0;

	memset(count, 0, sizeof(count));
	for (int k = 0; k < npairs; k++)
		count[(int) (pairs[k].s * 1024.0f)]++;
	for (int q = 1024, at = 0; q >= 0; q--)
	{
		start[q] = (uint16_t) at;
		at += count[q];
	}
	for (int k = 0; k < npairs; k++)
		sorted[start[(int) (pairs[k].s * 1024.0f)]++] = (uint16_t) k;
	for (int k = 0; k < npairs && nr < 48; k++)
	{
		const pair *pk = &pairs[sorted[k]];

		if (used_a[pk->a] || used_b[pk->b])
			continue;
		used_a[pk->a] = used_b[pk->b] = 1;
		chosen[nr++] = *pk;
	}
	return nr;
}

/*
 * Relaxation: each chosen pair's weight is reinforced by the pairs
 * compatible with it (distance, direction, radial angle).  Returns the mean
 * weight of the np pairs whose weight held up best, and their order in idx.
 */
static double
relax_pairs(const fpm_template *a, const fpm_template *b, const pair *chosen, int nr, int np, int *idx)
{
	float		lambda[FPM_MAX], lambda0[FPM_MAX], next[FPM_MAX];
	float		rho[FPM_MAX][FPM_MAX];
	float		eta[FPM_MAX];
	double		score = 0;

	/* compatibility of every two chosen pairs: distance, direction, radial angle */
	for (int r = 0; r < nr; r++)
	{
		rho[r][r] = 0;
		for (int k = r + 1; k < nr; k++)
		{
			const fpm_point *a1 = &a->p[chosen[r].a], *a2 = &a->p[chosen[k].a];
			const fpm_point *b1 = &b->p[chosen[r].b], *b2 = &b->p[chosen[k].b];
			float		dxa = a2->x - a1->x, dya = a2->y - a1->y;
			float		dxb = b2->x - b1->x, dyb = b2->y - b1->y;
			float		da = sqrtf(dxa * dxa + dya * dya), db = sqrtf(dxb * dxb + dyb * dyb);
			float		d1 = fabsf(da - db);
			float		d2 = fabsf(dphi(dphi(a1->angle, a2->angle), dphi(b1->angle, b2->angle)));
			float		c1 = zsig_fast(d1, 0.25f, -32.0f);
			float		c2 = c1 > 0 ? zsig_fast(d2, PI_F / 12, -30.0f) : 0;
			float		c = 0;

			if (c2 > 0)
			{
				float		ra = dphi(a1->angle, fast_atan2(dya, dxa));
				float		rb = dphi(b1->angle, fast_atan2(dyb, dxb));

				c = c1 * c2 * zsig_fast(fabsf(dphi(ra, rb)), PI_F / 12, -30.0f);
			}

			rho[r][k] = rho[k][r] = c;
		}
	}
	for (int r = 0; r < nr; r++)
		lambda[r] = lambda0[r] = chosen[r].s;
	for (int it = 0; it < 5; it++)
	{
		for (int r = 0; r < nr; r++)
		{
			float		sum = 0;

			for (int k = 0; k < nr; k++)
				sum += rho[r][k] * lambda[k];
			next[r] = 0.5f * lambda[r] + 0.5f * sum / (nr - 1);
		}
		memcpy(lambda, next, nr * sizeof(float));
	}
	/* the np pairs whose weight held up best */
	for (int r = 0; r < nr; r++)
	{
		eta[r] = lambda[r] / lambda0[r];
		idx[r] = r;
	}
	for (int r = 1; r < nr; r++)
	{
		int			v = idx[r];
		int			j = r - 1;

		while (j >= 0 && eta[idx[j]] < eta[v])
		{
			idx[j + 1] = idx[j];
			j--;
		}
		idx[j + 1] = v;
	}
	for (int r = 0; r < np; r++)
		score += lambda[idx[r]];
	return score / np;
}

/*
 * Global check: align b onto a by each of the best-supported pairs in turn,
 * pair up minutiae that land close with a close direction, and relate the
 * pairs to the minutiae in the common area.  Local cylinders alone cannot
 * tell a consistent print from scattered look-alikes.  Returns the best
 * share of paired minutiae (0-1).
 */
static double
global_consistency(const fpm_template *a, const fpm_template *b, const pair *chosen, const int *idx, int np)
{
	const fpm_point *ha = a->hull, *hb = b->hull;
	int			nha = a->nhull, nhb = b->nhull;
	double		best = 0;
	int			anchors = np < 5 ? np : 5;

	for (int k = 0; k < anchors; k++)
	{
		const fpm_point *pa = &a->p[chosen[idx[k]].a];
		const fpm_point *pb = &b->p[chosen[idx[k]].b];
		float		rot = dphi(pb->angle, pa->angle);
		float		cr = cosf(rot), sr = sinf(rot);
		uint8_t		taken[FPM_MAX] = {0};
		int			paired = 0, in_a = 0, in_b = 0;
		fpm_point	ta[FPM_MAX];

		for (int i = 0; i < a->n; i++)
		{
			float		dx = a->p[i].x - pa->x, dy = a->p[i].y - pa->y;

			ta[i].x = pb->x + dx * cr - dy * sr;
			ta[i].y = pb->y + dx * sr + dy * cr;
			ta[i].angle = a->p[i].angle + rot;
			in_a += in_area(hb, nhb, ta[i].x, ta[i].y);
		}
		for (int j = 0; j < b->n; j++)
		{
			/* b's minutia back in a's frame: is it inside a's area? */
			float		dx = b->p[j].x - pb->x, dy = b->p[j].y - pb->y;

			in_b += in_area(ha, nha, pa->x + dx * cr + dy * sr, pa->y - dx * sr + dy * cr);
		}
		for (int i = 0; i < a->n; i++)
		{
			int			bj = -1;
			float		bd = PAIR_DIST_MM * PAIR_DIST_MM;

			for (int j = 0; j < b->n; j++)
			{
				float		dx = ta[i].x - b->p[j].x, dy = ta[i].y - b->p[j].y;
				float		d2 = dx * dx + dy * dy;

				if (!taken[j] && d2 < bd && fabsf(dphi(ta[i].angle, b->p[j].angle)) < PAIR_DTHETA)
				{
					bd = d2;
					bj = j;
				}
			}
			if (bj >= 0)
			{
				taken[bj] = 1;
				paired++;
			}
		}
		{
			double		ua = in_a > 20 ? in_a : 20, ub = in_b > 20 ? in_b : 20;
			double		g = (double) paired * paired / (ua * ub);

			if (g > 1)
				g = 1;
			if (g > best)
				best = g;
		}
	}
	return best;
}

double
fpm_score(const fpm_template *x, const fpm_template *y)
{
	const fpm_template *a = x;
	const fpm_template *b = y;
	static const int min_np = 4, max_np = 12;
	pair		pairs[FPM_MAX * FPM_MAX];
	pair		chosen[FPM_MAX];
	int			idx[FPM_MAX];
	int			np, nr, npairs, nmin;
	double		local;

	/* canonical order makes the score symmetric */
	if (x->order > y->order || (x->order == y->order && memcmp(x, y, sizeof(*x)) > 0))
	{
		a = y;
		b = x;
	}
	if (a->nvalid < 2 || b->nvalid < 2)
		return 0.0;

	npairs = candidate_pairs(a, b, pairs);
	/* how many pairs make the score: 4-12, more for larger templates */
	nmin = a->nvalid < b->nvalid ? a->nvalid : b->nvalid;
	np = min_np + (int) lroundf(zsig((float) nmin, 20.0f, 0.4f) * (max_np - min_np));
	nr = choose_pairs(pairs, npairs, chosen);
	if (nr < 2)
		return 0.0;
	if (np > nr)
		np = nr;
	local = relax_pairs(a, b, chosen, nr, np, idx);
	return sqrt(local * global_consistency(a, b, chosen, idx, np));
}

#define CAL_A			1.858	/* log10 FMR = CAL_A - CAL_B * score */
#define CAL_B			88.98

double
fpm_calibrate(double score)
{
	double		c = 10.0 * (CAL_B * score - CAL_A);

	return c < 0 ? 0 : c;
}

double
fpm_score_for_fmr(double fmr)
{
	if (fmr >= 1)
		return 0;
	return (CAL_A - log10(fmr)) / CAL_B;
}
