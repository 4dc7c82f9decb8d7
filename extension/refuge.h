/*
 * refuge.h
 *		Declarations shared by the C files of the refuge extension.
 */
#ifndef REFUGE_H
#define REFUGE_H

#include "fmgr.h"

/* refuge.c: one hexadecimal digit's value, or -1 */
extern int	RefugeHexValue(char c);

/* refuge.c: loaded by shared_preload_libraries?  (an error unless) */
extern bool RefugePreloaded;
extern void RefugeRequirePreload(const char *what);

/* image.c: images checked as they enter, decoded for other libraries */
extern void RefugeImageInit(void);
extern int	RefugeMaxCaptureImageBytes(void);
extern void RefugeImageCheck(const uint8 *data, size_t len, const char *media_type, const char *field,
							 const char **checked_type, int *width, int *height);
extern uint8 *RefugeImageDecodeRGB(const uint8 *data, size_t len, int max_w, int max_h, int *out_w,
								   int *out_h, const char **why);

/* log_privacy.c: failed API calls leave their statement out of the server log */
extern void RefugeLogPrivacyInit(void);

/* disclosure.c: the refuge.min_cell_size setting */
extern void RefugeDisclosureInit(void);

/* access_log.c: in a logging worker, the reader it writes for */
extern char *RefugeWorkerActor;

/* audit.c: the role on whose behalf the current statement runs */
extern char *RefugeCallerName(void);

/* iris_type.c: the threshold of iris % iris (refuge.iris_threshold) */
extern double RefugeIrisThreshold(void);
extern void RefugeIrisInit(void);

/* fingerprint_type.c: the threshold of fingerprint % fingerprint */
extern double RefugeFingerprintThreshold(void);
extern void RefugeFingerprintInit(void);

/* iris_type.c: the SQL constructor, also called from C */
extern Datum refuge_iris_from_bytes(PG_FUNCTION_ARGS);

/* fingerprint_type.c: a fingerprint datum from a view of a parsed record */
struct fp_record;
extern void *RefugeFingerprintFromView(const struct fp_record *rec, int view);

/* fingerprint_type.c: for the fingerprint index */
struct fpm_template;
extern void RefugeFingerprintTemplate(const void *datum, struct fpm_template *t);
extern void RefugeFingerprintCheck(const void *p, Size len, int errcode_for_bad);
extern int	RefugeFingerprintPosition(const void *datum);

/* iris_type.c: 1:1 distance of detoasted datums, and the rotations compared */
extern double RefugeIrisDistance(const void *a, const void *b, int *nshift);

/* identity.c: dedup policy settings */
extern void RefugeIdentityInit(void);

/* vault.c: the key file setting */
extern void RefugeVaultInit(void);

/* fingerprint_index.c: the refuge_fingerprint index method's settings */
extern void RefugeFingerprintIndexInit(void);

#endif							/* REFUGE_H */
