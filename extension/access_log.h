/*
 * access_log.h
 *		Reads logged by a background worker (access_log.c).
 */
#ifndef REFUGE_ACCESS_LOG_H
#define REFUGE_ACCESS_LOG_H

/* in a logging worker, the reader it writes for */
extern char *RefugeWorkerActor;

#endif							/* REFUGE_ACCESS_LOG_H */
