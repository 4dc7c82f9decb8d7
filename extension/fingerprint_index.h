/*
 * fingerprint_index.h
 *		The refuge_fingerprint index method: its settings (fingerprint_index.c).
 */
#ifndef REFUGE_FINGERPRINT_INDEX_H
#define REFUGE_FINGERPRINT_INDEX_H

/* the refuge_fingerprint index method's settings */
extern void RefugeFingerprintIndexInit(void);

#endif							/* REFUGE_FINGERPRINT_INDEX_H */
