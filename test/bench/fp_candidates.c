/*
 * fp_candidates.c
 *		How often the refuge_fingerprint candidate stage loses a true mate
 *		that the full matcher would accept (issue 4), on the matcher alone.
 *
 * Gallery: N synthetic fingers (enrolment impressions) plus, when the
 * fingerprint kit is present, the first impression of every real finger in
 * it (FVC 2002/2004, NIST mindtct minutiae).  Probes: a new impression of
 * 300 synthetic fingers, and impressions 2-8 of every real finger.  For each
 * probe whose mate the full matcher accepts (calibrated score >= 40, the
 * default refuge.fingerprint_threshold), the mate's rank by candidate score
 * among the whole gallery (ties counted against it); the loss at M
 * candidates is the share of accepted mates ranked M or worse.
 *
 *   fp_candidates [N] [fingerprint kit folder]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fp_index.h"
#include "fp_match.h"
#include "fp_record.h"
#include "synth.h"
#include "../lib/test_util.h"

#define SEED		13
#define SYN_PROBES	300
#define MAXREAL		64

static const int cuts[] = {1, 10, 30, 100, 300, 1000};
#define NCUTS ((int) (sizeof(cuts) / sizeof(cuts[0])))

typedef struct gallery
{
	int			n;
	uint16_t   *keys;			/* n x FPI_GALLERY_KEYS */
	uint16_t   *nkeys;
} gallery;

static void
add(gallery *g, const fpm_template *t)
{
	g->nkeys[g->n] = (uint16_t) fpi_keys(t, FPI_GALLERY, g->keys + (size_t) g->n * FPI_GALLERY_KEYS);
	g->n++;
}

/* rank of entry `mate` for this probe (0 = first), ties against it */
static int
rank_of(const gallery *g, const uint64_t *bitmap, int mate, double *scan_s)
{
	double		t0 = now();
	float		ms = fpi_score(bitmap, g->keys + (size_t) mate * FPI_GALLERY_KEYS, g->nkeys[mate]);
	int			better = 0;

	for (int i = 0; i < g->n; i++)
		if (i != mate && fpi_score(bitmap, g->keys + (size_t) i * FPI_GALLERY_KEYS, g->nkeys[i]) >= ms)
			better++;
	*scan_s += now() - t0;
	return better;
}

typedef struct tally
{
	int			probes;
	int			accepted;
	int			lost[NCUTS];
} tally;

static void
count(tally *t, int rank, double calibrated)
{
	t->probes++;
	if (calibrated < 40.0)
		return;
	t->accepted++;
	for (int c = 0; c < NCUTS; c++)
		t->lost[c] += rank >= cuts[c];
}

static void
report(const char *what, const tally *t)
{
	printf("| %s | %d | %d |", what, t->probes, t->accepted);
	for (int c = 0; c < NCUTS; c++)
		printf(" %.2f%% |", t->accepted ? 100.0 * t->lost[c] / t->accepted : 0.0);
	printf("\n");
}

int
main(int argc, char **argv)
{
	int			n = argc > 1 ? atoi(argv[1]) : 100000;
	const char *dir = argc > 2 ? argv[2] : "../shared/data/fingerprints";
	synth_finger_params sp = synth_finger_defaults();
	static fp_view view;
	static fp_record rec;
	static uint64_t bitmap[FPI_BITMAP_WORDS];
	static uint16_t pkeys[FPI_MAX_KEYS];
	fpm_template *t = malloc(sizeof(fpm_template));
	fpm_template *m = malloc(sizeof(fpm_template));
	gallery		g;
	tally		syn = {0}, real = {0};
	double		t0, build_s, scan_s = 0;
	long		scanned = 0;
	char		path[4096];
	char	   *manifest;
	/* real fingers: gallery slot, and their probes' text for later */
	struct
	{
		char		db[64];
		int			finger, impr, w, h, dpi;
		char	   *xyt;
	}		   *real_imgs = calloc(2000, sizeof(*real_imgs));
	int			nreal_imgs = 0, real_slot[MAXREAL], nreal = 0;

	g.n = 0;
	g.keys = malloc((size_t) (n + MAXREAL) * FPI_GALLERY_KEYS * sizeof(uint16_t));
	g.nkeys = malloc((size_t) (n + MAXREAL) * sizeof(uint16_t));
	t0 = now();
	for (int i = 0; i < n; i++)
	{
		synth_finger_capture(&sp, SEED, i, 0, &view);
		fpm_build(&view, t);
		add(&g, t);
	}
	build_s = now() - t0;

	snprintf(path, sizeof(path), "%s/manifest.csv", dir);
	if ((manifest = slurp(path, NULL)) == NULL)
		printf("no %s: real fingers skipped\n", path);
	else
	{
		for (char *save = NULL, *line = strtok_r(manifest, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		{
			char		file[128];
			__typeof__(real_imgs[0]) *r = &real_imgs[nreal_imgs];
			rf_error	err;

			if (nreal_imgs == 2000 ||
				sscanf(line, "%63[^,],%127[^,],%*[^,],%d,%d,%d,%d,%d", r->db, file, &r->finger, &r->impr, &r->w, &r->h, &r->dpi) != 7)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, file);
			if ((r->xyt = slurp(path, NULL)) == NULL)
				continue;
			if (fp_parse_xyt(r->xyt, strlen(r->xyt), r->w, r->h, r->dpi, 0, &rec, &err) != RF_OK)
				continue;
			nreal_imgs++;
			if (r->impr == 1 && nreal < MAXREAL)
			{
				fpm_build(&rec.views[0], t);
				real_slot[nreal++] = g.n;
				add(&g, t);
			}
		}
	}

	/* synthetic probes */
	for (int p = 0; p < SYN_PROBES; p++)
	{
		int			subj = (int) ((long) p * 7919 % n);
		int			rank;

		synth_finger_capture(&sp, SEED, subj, 1, &view);
		fpm_build(&view, t);
		fpi_bitmap(pkeys, fpi_keys(t, FPM_MAX, pkeys), bitmap);
		rank = rank_of(&g, bitmap, subj, &scan_s);
		scanned += g.n;
		synth_finger_capture(&sp, SEED, subj, 0, &view);
		fpm_build(&view, m);
		count(&syn, rank, fpm_calibrate(fpm_score(t, m)));
	}
	/* real probes: impressions 2-8 against impression 1 of the same finger */
	for (int i = 0; i < nreal_imgs; i++)
	{
		rf_error	err;
		int			mate = -1, k = 0;

		if (real_imgs[i].impr == 1)
			continue;
		for (int j = 0; j < nreal_imgs; j++)
			if (real_imgs[j].impr == 1)
			{
				if (strcmp(real_imgs[j].db, real_imgs[i].db) == 0 && real_imgs[j].finger == real_imgs[i].finger)
					mate = k;
				k++;
			}
		if (mate < 0 || mate >= nreal)
			continue;
		fp_parse_xyt(real_imgs[i].xyt, strlen(real_imgs[i].xyt), real_imgs[i].w, real_imgs[i].h, real_imgs[i].dpi, 0,
					 &rec, &err);
		fpm_build(&rec.views[0], t);
		fpi_bitmap(pkeys, fpi_keys(t, FPM_MAX, pkeys), bitmap);
		{
			int			rank = rank_of(&g, bitmap, real_slot[mate], &scan_s);
			int			j;

			scanned += g.n;
			/* the mate's template again, for the full score */
			for (j = 0; j < nreal_imgs; j++)
				if (real_imgs[j].impr == 1 && strcmp(real_imgs[j].db, real_imgs[i].db) == 0 &&
					real_imgs[j].finger == real_imgs[i].finger)
					break;
			fp_parse_xyt(real_imgs[j].xyt, strlen(real_imgs[j].xyt), real_imgs[j].w, real_imgs[j].h, real_imgs[j].dpi, 0,
						 &rec, &err);
			fpm_build(&rec.views[0], m);
			count(&real, rank, fpm_calibrate(fpm_score(t, m)));
		}
	}

	/* key counting: the dispatched kernel against the one-key-at-a-time loop, same run */
	{
		double		t_fast, t_port;
		long		sum_fast = 0, sum_port = 0;

		t0 = now();
		for (int r = 0; r < 5; r++)
			for (int i = 0; i < g.n; i++)
				sum_port += fpi_hits_portable(bitmap, g.keys + (size_t) i * FPI_GALLERY_KEYS, g.nkeys[i]);
		t_port = now() - t0;
		t0 = now();
		for (int r = 0; r < 5; r++)
			for (int i = 0; i < g.n; i++)
				sum_fast += fpi_hits(bitmap, g.keys + (size_t) i * FPI_GALLERY_KEYS, g.nkeys[i]);
		t_fast = now() - t0;
		printf("Key counting per gallery finger: %.0f ns dispatched, %.0f ns one key at a time (%.1f x)%s\n",
			   1e9 * t_fast / (5.0 * g.n), 1e9 * t_port / (5.0 * g.n), t_port / t_fast,
			   sum_fast == sum_port ? "" : " MISMATCH");
	}
	printf("### refuge_fingerprint candidate stage: gallery of %d synthetic + %d real fingers\n", n, nreal);
	printf("Template + keys: %.3f ms per finger; candidate scoring: %.0f ns per gallery finger (one core).\n",
		   1000 * build_s / n, 1e9 * scan_s / (scanned ? scanned : 1));
	printf("Mates lost by the candidate stage, of those the full matcher accepts (calibrated score >= 40), when M candidates are kept:\n\n");
	printf("| probes | count | mates accepted |");
	for (int c = 0; c < NCUTS; c++)
		printf(" M = %d |", cuts[c]);
	printf("\n|---|---:|---:|");
	for (int c = 0; c < NCUTS; c++)
		printf("---:|");
	printf("\n");
	report("synthetic, new impression", &syn);
	if (real.probes)
		report("real (FVC, mindtct), impressions 2-8 vs 1", &real);
	return 0;
}
