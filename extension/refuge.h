/*
 * refuge.h
 *		Declarations shared by the C files of the refuge extension.
 */
#ifndef REFUGE_H
#define REFUGE_H

/* audit.c: the role on whose behalf the current statement runs */
extern char *RefugeCallerName(void);

#endif							/* REFUGE_H */
