/*
 * vault.h
 *		The vault: its key file setting (vault.c).
 */
#ifndef REFUGE_VAULT_H
#define REFUGE_VAULT_H

#define VAULT_KEYLEN	32
#define VAULT_IDLEN		8
#define VAULT_NONCELEN	12
#define VAULT_TAGLEN	16

/* the key file setting */
extern void RefugeVaultInit(void);

/* the key file's name ("" when unset) */
extern const char *RefugeVaultKeyFile(void);

/* is refuge.vault_key_file set? */
extern bool RefugeVaultKeyConfigured(void);

/* the vault key and its id (start of its SHA-256); the caller wipes key */
extern void RefugeVaultLoadKey(uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN]);

/* the key being rotated out, when refuge.vault_previous_key_file is set */
extern bool RefugeVaultLoadPreviousKey(uint8 key[VAULT_KEYLEN], uint8 id[VAULT_IDLEN]);

/* refuse to seal or wrap anything new under a key a rotation retired */
extern void RefugeVaultCheckNotRetired(const uint8 id[VAULT_IDLEN]);

/* AES-256-GCM, aad bound in: out = nonce | tag | ciphertext (plen bytes) */
extern void RefugeGcmSeal(const uint8 *key, const uint8 *aad, int aadlen, const uint8 *plain, int plen, uint8 *out);

/* its inverse: false when the value fails authentication */
extern bool RefugeGcmOpen(const uint8 *key, const uint8 *aad, int aadlen, const uint8 *in, int inlen, uint8 *plain);

/* a key id in hex (palloc'd) */
extern char *RefugeVaultHexId(const uint8 *id);

#endif							/* REFUGE_VAULT_H */
