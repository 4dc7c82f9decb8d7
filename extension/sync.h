/*
 * sync.h
 *		Field sites and HQ joined by logical replication (sync.c).
 */
#ifndef REFUGE_SYNC_H
#define REFUGE_SYNC_H

/* refuge.sync_purging: a re-seed is deleting copies (superuser only) */
extern void RefugeSyncInit(void);

#endif							/* REFUGE_SYNC_H */
