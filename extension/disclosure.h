/*
 * disclosure.h
 *		Statistical disclosure control: the refuge.min_cell_size setting (disclosure.c).
 */
#ifndef REFUGE_DISCLOSURE_H
#define REFUGE_DISCLOSURE_H

/* the refuge.min_cell_size setting */
extern void RefugeDisclosureInit(void);

#endif							/* REFUGE_DISCLOSURE_H */
