/*
 * names.h
 *		Personal names for demographic deduplication: canonical tokens,
 *		phonetic keys and an order-free comparison on aligned tokens.
 *
 * Input is a name already folded to lower-case ASCII letters by the caller
 * (extension/names.c transliterates every script to Latin with ICU); an
 * apostrophe stands for an ayn or hamza.  Nothing here allocates: buffers
 * are the caller's and every length is capped.
 */
#ifndef REFUGE_NAMES_H
#define REFUGE_NAMES_H

#include <stddef.h>

#define RF_NAME_MAX_LEN		400		/* bytes of a folded or canonical name */
#define RF_NAME_MAX_TOKENS	12		/* tokens kept of one name */
#define RF_NAME_TOKEN_LEN	40		/* bytes of one token, longer ones cut */
#define RF_NAME_KEY_LEN		24		/* bytes of one key, with its NUL */
#define RF_NAME_MAX_KEYS	3		/* readings of one token */

/*
 * Canonical tokens of a folded name, space separated, into out (outlen
 * bytes, at least RF_NAME_MAX_LEN).  Honorifics and connectors (haji,
 * sheikh, bin, ould ...) and detached articles (al, el ...) are dropped
 * while a name part remains; "Abd" compounds (Abdi Rahman, Abdul-Rahman,
 * Abdurrahman, Cabdiraxmaan) become one token; doubled letters, "ou" and
 * "ph" spellings and a final h are folded.  Returns the number of tokens.
 */
int			rf_name_canon(const char *folded, size_t len, char *out, size_t outlen);

/*
 * Phonetic keys of one canonical token: consonant classes that merge the
 * spellings transliteration produces (kh/h/x, q/k, th/s/z, sh/ch, v/w, p/b,
 * t/d), vowels dropped except a leading one (A).  Ambiguous letters
 * give more readings: Somali c (an ayn) and x, Dinka and Nuer c (ch), an
 * attached article (Alhassan, Hassan).  Returns how many keys were written.
 */
int			rf_name_token_keys(const char *tok, size_t len, char keys[][RF_NAME_KEY_LEN]);

/* Jaro-Winkler similarity (prefix scale 0.1, up to 4 letters) in [0, 1]. */
double		rf_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen);

/* Similarity of two canonical tokens: Jaro-Winkler, raised to 0.92 when a phonetic key agrees. */
double		rf_name_token_similarity(const char *a, size_t alen, const char *b, size_t blen);

typedef struct rf_name_cmp
{
	int			level;			/* 0 (nothing) .. 5 (every token exact) */
	double		similarity;		/* mean similarity of the shorter name's tokens */
	int			matched;		/* tokens of the shorter name aligned at >= 0.90 */
	int			exact;			/* of which exactly equal */
	int			tokens;			/* tokens of the shorter name */
} rf_name_cmp;

/*
 * Compare two canonical names (space separated tokens, as rf_name_canon
 * writes them) in any order of their parts: tokens are aligned greedily on
 * their similarity, adjacent tokens joined when the other name writes them
 * as one, and extra parts of the longer name are not held against it.
 * Levels: 5 every token of the shorter name (two or more) equal; 4 every
 * token similar (>= 0.90); 3 all but one similar with two or more similar,
 * or all >= 0.80, or a one-part name similar; 2 one token similar; 1 some
 * token >= 0.80; 0 nothing.
 */
void		rf_name_compare(const char *a, size_t alen, const char *b, size_t blen, rf_name_cmp *out);

#endif							/* REFUGE_NAMES_H */
