/*
 * fingerprint_type.h
 *		The fingerprint type (fingerprint_type.c).
 */
#ifndef REFUGE_FINGERPRINT_TYPE_H
#define REFUGE_FINGERPRINT_TYPE_H

/* the threshold of fingerprint % fingerprint */
extern double RefugeFingerprintThreshold(void);
extern void RefugeFingerprintInit(void);

/* a fingerprint datum from a view of a parsed record */
struct fp_record;
extern void *RefugeFingerprintFromView(const struct fp_record *rec, int view);

/* for the fingerprint index */
struct fpm_template;
extern void RefugeFingerprintTemplate(const void *datum, struct fpm_template *t);
extern void RefugeFingerprintCheck(const void *p, Size len, int errcode_for_bad);
extern int	RefugeFingerprintPosition(const void *datum);

#endif							/* REFUGE_FINGERPRINT_TYPE_H */
