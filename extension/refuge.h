/*
 * refuge.h
 *		The refuge module: the preload, and helpers every file may use.
 */
#ifndef REFUGE_H
#define REFUGE_H

/* one hexadecimal digit's value, or -1 */
extern int	RefugeHexValue(char c);

/* loaded by shared_preload_libraries?  (an error unless) */
extern bool RefugePreloaded;
extern void RefugeRequirePreload(const char *what);

#endif							/* REFUGE_H */
