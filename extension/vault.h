/*
 * vault.h
 *		The vault: its key file setting (vault.c).
 */
#ifndef REFUGE_VAULT_H
#define REFUGE_VAULT_H

/* the key file setting */
extern void RefugeVaultInit(void);

#endif							/* REFUGE_VAULT_H */
