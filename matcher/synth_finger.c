/*
 * synth_finger.c
 *		Synthetic fingerprints at minutia level: a master finger (minutiae
 *		spread over an elliptical print with directions from a smooth
 *		orientation field with a core and a delta), and impressions of it
 *		with what capture does to minutiae: rigid motion, smooth plastic
 *		distortion, position and direction noise, partial overlap, missed and
 *		spurious minutiae, type flips.  Deterministic in (seed, subject,
 *		capture), so galleries of millions need no storage.
 */
#include "synth.h"

#include <math.h>
#include <string.h>

#include "fp_record.h"
#include "rf_rng.h"

synth_finger_params
synth_finger_defaults(void)
{
	synth_finger_params p;

	p.width_mm = 14.0;
	p.height_mm = 18.0;
	p.min_minutiae = 30;
	p.max_minutiae = 60;
	p.max_rotation_deg = 25.0;
	p.max_shift_mm = 2.0;
	p.distortion_mm = 0.35;
	p.jitter_mm = 0.08;
	p.jitter_deg = 6.0;
	p.dropout = 0.15;
	p.spurious = 0.10;
	p.type_flip = 0.10;
	p.crop = 0.15;
	return p;
}

typedef struct master
{
	int			n;
	double		x[FP_MAX_MINUTIAE], y[FP_MAX_MINUTIAE], a[FP_MAX_MINUTIAE];
	int			type[FP_MAX_MINUTIAE];
} master;

/* Ridge direction at (x, y): a core and a delta (Sherlock-Monro style). */
static double
orientation(double x, double y, double cx, double cy, double dx, double dy, double base)
{
	return base + 0.5 * (atan2(y - cy, x - cx) - atan2(y - dy, x - dx));
}

static void
make_master(const synth_finger_params *p, uint64_t seed, uint64_t subject, master *m)
{
	rf_rng		r;
	double		cx, cy, dx, dy, base;
	int			target;
	int			tries = 0;

	rf_rng_seed(&r, seed, subject, 0xf1);
	target = p->min_minutiae + (int) rf_below(&r, (uint32_t) (p->max_minutiae - p->min_minutiae + 1));
	cx = (rf_uniform(&r) - 0.5) * 4.0;
	cy = -2.0 + (rf_uniform(&r) - 0.5) * 3.0;
	dx = cx + (rf_uniform(&r) - 0.5) * 8.0;
	dy = cy + 5.0 + rf_uniform(&r) * 3.0;
	base = (rf_uniform(&r) - 0.5) * 0.6;
	m->n = 0;
	while (m->n < target && tries++ < 20000)
	{
		double		x = (rf_uniform(&r) - 0.5) * p->width_mm;
		double		y = (rf_uniform(&r) - 0.5) * p->height_mm;
		int			ok = 1;

		if ((x * x) / (p->width_mm * p->width_mm / 4) + (y * y) / (p->height_mm * p->height_mm / 4) > 1)
			continue;
		/* minutiae are at least about a ridge period apart */
		for (int i = 0; i < m->n && ok; i++)
			ok = (m->x[i] - x) * (m->x[i] - x) + (m->y[i] - y) * (m->y[i] - y) > 0.8 * 0.8;
		if (!ok)
			continue;
		m->x[m->n] = x;
		m->y[m->n] = y;
		/* along the ridge, either way */
		m->a[m->n] = orientation(x, y, cx, cy, dx, dy, base) + (rf_next(&r) & 1 ? M_PI : 0);
		m->type[m->n] = rf_next(&r) & 1 ? FP_ENDING : FP_BIFURCATION;
		m->n++;
	}
}

void
synth_finger_capture(const synth_finger_params *p, uint64_t seed, uint64_t subject, uint64_t capture, fp_view *out)
{
	master		m;
	rf_rng		r;
	double		rot, tx, ty, cr, sr;
	double		ax, ay, fx, fy, phx, phy;
	double		win_w, win_h, win_x, win_y;

	make_master(p, seed, subject, &m);
	rf_rng_seed(&r, seed ^ 0x5eed, subject, capture + 1);
	rot = (rf_uniform(&r) * 2 - 1) * p->max_rotation_deg * M_PI / 180.0;
	tx = (rf_uniform(&r) * 2 - 1) * p->max_shift_mm;
	ty = (rf_uniform(&r) * 2 - 1) * p->max_shift_mm;
	cr = cos(rot);
	sr = sin(rot);
	/* smooth plastic distortion: a low-frequency displacement field */
	ax = p->distortion_mm * (rf_uniform(&r) * 2 - 1);
	ay = p->distortion_mm * (rf_uniform(&r) * 2 - 1);
	fx = 2 * M_PI / (10 + 10 * rf_uniform(&r));
	fy = 2 * M_PI / (10 + 10 * rf_uniform(&r));
	phx = 2 * M_PI * rf_uniform(&r);
	phy = 2 * M_PI * rf_uniform(&r);
	/* the sensor window: part of the print may fall outside */
	win_w = p->width_mm * (1 - p->crop * rf_uniform(&r));
	win_h = p->height_mm * (1 - p->crop * rf_uniform(&r));
	win_x = (rf_uniform(&r) - 0.5) * (p->width_mm - win_w);
	win_y = (rf_uniform(&r) - 0.5) * (p->height_mm - win_h);

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < m.n && out->nminutiae < FP_MAX_MINUTIAE; i++)
	{
		double		x = m.x[i], y = m.y[i], a = m.a[i];
		double		qx, qy;
		fp_minutia *o;

		if (capture != 0 && rf_uniform(&r) < p->dropout)
			continue;
		if (fabs(x - win_x) > win_w / 2 || fabs(y - win_y) > win_h / 2)
			continue;
		if (capture != 0)
		{
			x += ax * sin(fy * y + phx) + rf_gauss(&r) * p->jitter_mm;
			y += ay * sin(fx * x + phy) + rf_gauss(&r) * p->jitter_mm;
			a += rf_gauss(&r) * p->jitter_deg * M_PI / 180.0;
		}
		qx = x * cr - y * sr + tx;
		qy = x * sr + y * cr + ty;
		a += rot;
		o = &out->minutiae[out->nminutiae++];
		/* the image frame: origin 12.7 mm up-left of the print's centre, y down */
		o->x = (int32_t) lround((qx + 12.7) * 1000.0);
		o->y = (int32_t) lround((12.7 - qy) * 1000.0);
		o->angle = (uint16_t) ((long) lround(a * 65536.0 / (2 * M_PI)) & 0xffff);
		o->type = (uint8_t) (capture != 0 && rf_uniform(&r) < p->type_flip ? 3 - m.type[i] : m.type[i]);
		o->quality = (uint8_t) (40 + rf_below(&r, 60));
	}
	if (capture != 0)
	{
		int			extra = (int) (m.n * p->spurious * rf_uniform(&r) * 2);

		for (int k = 0; k < extra && out->nminutiae < FP_MAX_MINUTIAE; k++)
		{
			fp_minutia *o = &out->minutiae[out->nminutiae++];
			double		x = win_x + (rf_uniform(&r) - 0.5) * win_w;
			double		y = win_y + (rf_uniform(&r) - 0.5) * win_h;

			o->x = (int32_t) lround((x + 12.7) * 1000.0);
			o->y = (int32_t) lround((12.7 - y) * 1000.0);
			o->angle = (uint16_t) rf_next(&r);
			o->type = (uint8_t) (1 + (rf_next(&r) & 1));
			o->quality = (uint8_t) (10 + rf_below(&r, 40));
		}
	}
}
