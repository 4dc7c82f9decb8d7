/*
 * iris_type.h
 *		The iris type (iris_type.c).
 */
#ifndef REFUGE_IRIS_TYPE_H
#define REFUGE_IRIS_TYPE_H

#include "fmgr.h"

/* the threshold of iris % iris (refuge.iris_threshold) */
extern double RefugeIrisThreshold(void);
extern void RefugeIrisInit(void);

/* the SQL constructor, also called from C */
extern Datum refuge_iris_from_bytes(PG_FUNCTION_ARGS);

/* 1:1 distance of detoasted datums, and the rotations compared */
extern double RefugeIrisDistance(const void *a, const void *b, int *nshift);

#endif							/* REFUGE_IRIS_TYPE_H */
