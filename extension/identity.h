/*
 * identity.h
 *		Deduplication policy settings (identity.c).
 */
#ifndef REFUGE_IDENTITY_H
#define REFUGE_IDENTITY_H

/* dedup policy settings */
extern void RefugeIdentityInit(void);

#endif							/* REFUGE_IDENTITY_H */
