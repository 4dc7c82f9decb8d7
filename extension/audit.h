/*
 * audit.h
 *		The audit trail (audit.c).
 */
#ifndef REFUGE_AUDIT_H
#define REFUGE_AUDIT_H

/* the role on whose behalf the current statement runs */
extern char *RefugeCallerName(void);

#endif							/* REFUGE_AUDIT_H */
