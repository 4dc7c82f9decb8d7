/*
 * fp_accuracy.c
 *		Accuracy and speed of the fingerprint matcher on a folder laid out
 *		like ../shared/data/fingerprints: manifest.csv (geometry and dpi per
 *		image, never assumed), <db>/<finger>_<impression>.xyt, the comparison
 *		lists scores/protocol_<db>.csv and bozorth3's metrics_bozorth3.csv.
 *		For every database and protocol (fvc, extended) it prints EER (FVC
 *		method), FMR100, FMR1000 and ZeroFMR of refuge's matcher next to
 *		bozorth3's on the same minutiae and pairs, and their ratio.
 *
 *		fp_accuracy <folder> [db ...]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fp_match.h"
#include "fp_record.h"
#include "../lib/test_util.h"

#define MAXIMG 2000

typedef struct img
{
	char		db[64];
	char		name[32];
	int			w, h, dpi;
	fpm_template *t;
} img;

static img	imgs[MAXIMG];
static int	nimg;
static fp_record rec;

static img *
find(const char *db, const char *name)
{
	for (int i = 0; i < nimg; i++)
		if (strcmp(imgs[i].db, db) == 0 && strcmp(imgs[i].name, name) == 0)
			return &imgs[i];
	return NULL;
}

typedef struct metrics
{
	double		eer, fmr100, fmr1000, zerofmr;
} metrics;

static int
cmpd(const void *a, const void *b)
{
	double		x = *(const double *) a, y = *(const double *) b;

	return x < y ? -1 : x > y;
}

/* FMR and FNMR when scores at or above th are accepted */
static void
rates(const double *gen, int ng, const double *imp, int ni, double th, double *fmr, double *fnmr)
{
	int			fa = 0, fr = 0;

	for (int i = 0; i < ni; i++)
		fa += imp[i] >= th;
	for (int i = 0; i < ng; i++)
		fr += gen[i] < th;
	*fmr = (double) fa / ni;
	*fnmr = (double) fr / ng;
}

/* accept if score >= t; FVC EER; lowest FNMR at FMR <= 1 %, 0.1 %, 0 */
static metrics
compute(const double *gen, int ng, const double *imp, int ni)
{
	double	   *t = malloc(sizeof(double) * (ng + ni + 1));
	int			nt = 0;
	metrics		m = {0, 1, 1, 1};
	double		best_sum = 1e9;
	double		t1 = -1e300, t2 = 1e300;

	for (int i = 0; i < ng; i++)
		t[nt++] = gen[i];
	for (int i = 0; i < ni; i++)
		t[nt++] = imp[i];
	t[nt++] = 1e300;
	qsort(t, nt, sizeof(double), cmpd);
	for (int k = 0; k < nt; k++)
	{
		double		th = t[k];
		double		fmr, fnmr;

		if (k > 0 && t[k] == t[k - 1])
			continue;
		rates(gen, ng, imp, ni, th, &fmr, &fnmr);
		if (fnmr <= fmr && th > t1)
			t1 = th;
		if (fnmr >= fmr && th < t2)
			t2 = th;
		if (fmr <= 0.01 && fnmr < m.fmr100)
			m.fmr100 = fnmr;
		if (fmr <= 0.001 && fnmr < m.fmr1000)
			m.fmr1000 = fnmr;
		if (fmr == 0 && fnmr < m.zerofmr)
			m.zerofmr = fnmr;
	}
	/* EER: of t1 and t2, the one with the smaller FMR + FNMR */
	for (int s = 0; s < 2; s++)
	{
		double		fmr, fnmr;

		rates(gen, ng, imp, ni, s == 0 ? t1 : t2, &fmr, &fnmr);
		if (fmr + fnmr < best_sum)
		{
			best_sum = fmr + fnmr;
			m.eer = (fmr + fnmr) / 2;
		}
	}
	free(t);
	return m;
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "../shared/data/fingerprints";
	char		path[4096];
	char	   *manifest, *line, *bmetrics;
	double		total_cmp = 0, total_time = 0;
	double		eer_ratio_worst = 0;

	snprintf(path, sizeof(path), "%s/manifest.csv", dir);
	if ((manifest = slurp(path, NULL)) == NULL)
	{
		printf("no %s: nothing to measure\n", path);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/metrics_bozorth3.csv", dir);
	bmetrics = slurp(path, NULL);
	/* db,file,image,finger,impression,width,height,dpi,minutiae,... */
	for (line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n"))
	{
		char		db[64], file[128];
		int			finger, impr, w, h, dpi, nm;
		char	   *text;
		rf_error	err;

		if (sscanf(line, "%63[^,],%127[^,],%*[^,],%d,%d,%d,%d,%d,%d", db, file, &finger, &impr, &w, &h, &dpi, &nm) != 8)
			continue;
		if (argc > 2)
		{
			int			want = 0;

			for (int a = 2; a < argc; a++)
				want |= strcmp(argv[a], db) == 0;
			if (!want)
				continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		if ((text = slurp(path, NULL)) == NULL || nimg == MAXIMG)
			continue;
		if (fp_parse_xyt(text, strlen(text), w, h, dpi, 0, &rec, &err) != RF_OK)
		{
			printf("%s: %s\n", path, err.message);
			free(text);
			continue;
		}
		strcpy(imgs[nimg].db, db);
		snprintf(imgs[nimg].name, sizeof(imgs[nimg].name), "%d_%d", finger, impr);
		imgs[nimg].t = malloc(sizeof(fpm_template));
		fpm_build(&rec.views[0], imgs[nimg].t);
		nimg++;
		free(text);
	}
	printf("%-14s %-8s | %-29s | %-29s | EER ratio\n", "", "", "refuge  EER  FMR100 FMR1000 0FMR", "bozorth3 EER FMR100 FMR1000 0FMR");
	for (int i = 0; i < nimg; i++)
	{
		const char *db = imgs[i].db;
		char	   *csv;
		double		gen[2][4000], imp[2][4000];
		int			ng[2] = {0, 0}, ni[2] = {0, 0};
		double		bgen[2][4000], bimp[2][4000];

		if (i > 0 && strcmp(db, imgs[i - 1].db) == 0)
			continue;
		snprintf(path, sizeof(path), "%.3000s/scores/protocol_%.60s.csv", dir, db);
		if ((csv = slurp(path, NULL)) == NULL)
			continue;
		/* db,gallery,probe,type,protocol,bozorth3_score */
		for (char *save = NULL, *l = strtok_r(csv, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		{
			char		d[64], g[32], p[32], type[16], proto[16];
			int			bscore;
			img		   *a, *b;
			double		s;

			if (sscanf(l, "%63[^,],%31[^,],%31[^,],%15[^,],%15[^,],%d", d, g, p, type, proto, &bscore) != 6)
				continue;
			if ((a = find(db, g)) == NULL || (b = find(db, p)) == NULL)
				continue;
			s = fpm_score(a->t, b->t);
			if (getenv("FP_DUMP"))
				fprintf(stderr, "%s,%s,%s,%.6f\n", db, type, proto, s);
			/* the fvc protocol's pairs are part of the extended protocol too */
			for (int pr = 0; pr < 2; pr++)
			{
				if (pr == 0 && strcmp(proto, "fvc") != 0)
					continue;
				if (strcmp(type, "genuine") == 0)
				{
					bgen[pr][ng[pr]] = bscore;
					gen[pr][ng[pr]++] = s;
				}
				else
				{
					bimp[pr][ni[pr]] = bscore;
					imp[pr][ni[pr]++] = s;
				}
			}
		}
		free(csv);
		for (int pr = 0; pr < 2; pr++)
		{
			metrics		m = compute(gen[pr], ng[pr], imp[pr], ni[pr]);
			metrics		bz = compute(bgen[pr], ng[pr], bimp[pr], ni[pr]);
			double		ratio = bz.eer > 0 ? m.eer / bz.eer : 0;

			printf("%-14s %-8s | %5.2f%% %5.2f%% %6.2f%% %5.2f%% | %5.2f%% %5.2f%% %6.2f%% %5.2f%% | %.2f\n",
				   db, pr == 0 ? "fvc" : "extended", 100 * m.eer, 100 * m.fmr100, 100 * m.fmr1000, 100 * m.zerofmr,
				   100 * bz.eer, 100 * bz.fmr100, 100 * bz.fmr1000, 100 * bz.zerofmr, ratio);
			if (ratio > eer_ratio_worst)
				eer_ratio_worst = ratio;
			if (pr == 1)
			{
				/* calibration: share of impostors at or over the calibrated 20 and 30 */
				int			c20 = 0, c30 = 0;

				for (int k = 0; k < ni[pr]; k++)
				{
					c20 += fpm_calibrate(imp[pr][k]) >= 20;
					c30 += fpm_calibrate(imp[pr][k]) >= 30;
				}
				printf("%-14s %-8s   calibrated 20 (FMR 1%%): impostor FMR %.2f%%; 30 (0.1%%): %.2f%%\n", db, "",
					   100.0 * c20 / ni[pr], 100.0 * c30 / ni[pr]);
			}
		}
		/* speed: all ordered pairs of this database */
		{
			int			first = i, last = i;
			double		t0 = now(), sink = 0;
			long		n = 0;

			while (last + 1 < nimg && strcmp(imgs[last + 1].db, db) == 0)
				last++;
			for (int a = first; a <= last; a++)
				for (int b = first; b <= last; b++, n++)
					sink += fpm_score(imgs[a].t, imgs[b].t);
			total_time += now() - t0;
			total_cmp += n;
			if (sink < 0)
				printf(" ");
		}
	}
	printf("worst EER ratio (refuge / bozorth3): %.2f\n", eer_ratio_worst);
	printf("speed: %.0f comparisons/s on one core (%.0f all-vs-all comparisons)\n", total_cmp / total_time, total_cmp);
	(void) bmetrics;
	return 0;
}
