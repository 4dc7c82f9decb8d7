/*
 * refuge.h
 *		Declarations shared by the C files of the refuge extension.
 */
#ifndef REFUGE_H
#define REFUGE_H

/* audit.c: the role on whose behalf the current statement runs */
extern char *RefugeCallerName(void);

/* iris_type.c: the threshold of iris % iris (refuge.iris_threshold) */
extern double RefugeIrisThreshold(void);
extern void RefugeIrisInit(void);

/* fingerprint_type.c: the threshold of fingerprint % fingerprint */
extern double RefugeFingerprintThreshold(void);
extern void RefugeFingerprintInit(void);

#endif							/* REFUGE_H */
