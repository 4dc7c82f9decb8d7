/*
 * names.c
 *		Canonical tokens, phonetic keys and aligned-token comparison of
 *		personal names (see names.h).
 *
 * The rules are written for the names of the people Refuge serves: Arabic
 * names in every transliteration (and from Arabic script, where short
 * vowels are not written, so keys drop vowels), Somali orthography (c for
 * ayn, x for the pharyngeal h, doubled long vowels), Dinka and Nuer (c for
 * ch, ny, ng), Dari and Pashto (v and w, p), Swahili (Khamis and Hamisi),
 * Amharic and Tigrinya from Ethiopic script, French spellings from Chad,
 * Mali and Guinea (ou, ch for sh).  Standard English phonetic codes
 * (Soundex, Double Metaphone) fold none of these together.
 */
#include "names.h"

#include <string.h>

typedef struct tok
{
	char		s[RF_NAME_TOKEN_LEN + 1];
	int			n;
	int			nkeys;			/* 0 until computed */
	char		keys[RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
} tok;

static int
is_vowel(char c)
{
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}

static int
in_list(const char *s, int n, const char *const *list)
{
	for (; *list; list++)
		if ((int) strlen(*list) == n && memcmp(*list, s, n) == 0)
			return 1;
	return 0;
}

/* titles and honorifics, not names */
static const char *const honorifics[] = {
	"haji", "hajji", "hadji", "hadj", "hajj", "alhaji", "alhadji", "elhadj", "hajia", "hajiya", "hadja",
	"sheikh", "shaikh", "sheik", "shaykh", "cheikh", "cheick", "sheekh", "sh",
	"mr", "mrs", "ms", "miss", "dr", "prof", "eng", "sayed", "sayyid", "syed", "sayid", "seyed", "sayyed",
	"mullah", "mulla", "mawlana", "maulana", "moulana", "ustaz", "ustadh", "ustad", "hon", NULL
};

/* words that join a name to a father's or a tribe's name */
static const char *const connectors[] = {
	"bin", "ben", "ibn", "ibnu", "bint", "binti", "bt", "bn", "ould", "wuld", "wad", "wald", "walad",
	"oulad", "ag", "ait", NULL
};

/* detached Arabic articles */
static const char *const articles[] = {"al", "el", "ul", "il", NULL};

/* Allah's names that follow Abd (canonical spellings; compared by key) */
static const char *const divine[] = {
	"rahman", "rahim", "aziz", "karim", "kadir", "latif", "majid", "malik", "nasir", "razak", "salam",
	"samad", "wahab", "hamid", "hakim", "halim", "jabar", "gani", "fatah", "bari", "hadi", "rashid",
	"wahid", "kayum", "jalil", "kawi", "gafar", "mutalib", "hafiz", "basit", "shakur", "manan", "nur",
	"rauf", "satar", "wadud", "kalik", "muhsin", "munim", "mumin", "mujib", "kahar", "azim",
	"alim", "jalal", "kabir", "sabur", "kudus", NULL
};

/* "-uddin" and its spellings: Salahuddin, Nureddine, Alaeldin */
static const char *const din_suffixes[] = {
	"uddin", "uddine", "eddin", "eddine", "addin", "iddin", "uddeen", "eddeen", "uldin", "eldin",
	"aldin", "aldeen", "eldeen", "udin", "edin", "adin", "udeen", "edine", NULL
};

static const char *const abbreviations[] = {"mohd", "muhd", "mhd", "md", "mohd", "mohmd", NULL};

/* ------------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------------
 */

/*
 * One reading of a token as consonant classes.  creading says what a c not
 * followed by h is: 0 k (s before e, i, y), 1 an ayn (Somali), 2 ch (Dinka,
 * Nuer).  Returns the key's length.
 */
static int
key_reading(const char *t, int n, int creading, char *key)
{
	int			k = 0;

	for (int i = 0; i < n && k < RF_NAME_KEY_LEN - 2; i++)
	{
		char		c = t[i];
		char		nx = i + 1 < n ? t[i + 1] : 0;
		char		cls = 0;

		if (is_vowel(c) || (c == 'y' && !(i == 0 && is_vowel(nx))))
		{
			if (i == 0)
				cls = 'A';
		}
		else if (c == 'h')
		{
			/* a final h (Fatimah, Abdullahi), or an h between vowels only */
			int			rest_vowels = 1;

			for (int j = i + 1; j < n; j++)
				if (!is_vowel(t[j]) && t[j] != 'y')
					rest_vowels = 0;
			if (!rest_vowels)
				cls = 'H';
		}
		else if (nx == 'h' && (c == 'k' || c == 'g' || c == 's' || c == 'c' || c == 't' || c == 'd' ||
							   c == 'p'))
		{
			/* (not zh: Arabic Zahra writes z and h) */
			cls = c == 'k' ? 'H' : c == 'g' ? 'G' : c == 's' || c == 'c' ? 'X' :
				c == 't' ? 'S' : c == 'd' ? 'D' : 'F';
			i++;
		}
		else if (c == 'd' && nx == 'j')
		{
			cls = 'J';
			i++;
		}
		else if (c == 't' && nx == 's')
		{
			cls = 'S';
			i++;
		}
		else if (c == 'n' && nx == 'y')
		{
			cls = 'N';
			i++;
		}
		else
		{
			switch (c)
			{
				case 'c':
					if (creading == 1)
						cls = i == 0 ? 'A' : 0;
					else if (creading == 2)
						cls = 'X';
					else
						cls = (nx == 'e' || nx == 'i' || nx == 'y') ? 'S' : 'K';
					break;
				case 'q':
				case 'k':
					cls = 'K';
					break;
				case 'x':
					cls = 'H';
					break;
				case 'p':
				case 'b':
					cls = 'B';
					break;
				case 'v':
				case 'w':
					/* w between vowels is a glide (Dawud, Daud; Tewolde) */
					if (c == 'w' && i > 0 && is_vowel(t[i - 1]) && is_vowel(nx))
						cls = 0;
					else
						cls = 'W';
					break;
				case 'z':
				case 's':
					cls = 'S';
					break;
				case 'y':
					cls = 'Y';
					break;
				case 't':
				case 'd':
					/* Fatima and Fadumo, Mahamat and Mohamed, Ahmat and Ahmed */
					cls = 'D';
					break;
				default:
					if (c >= 'a' && c <= 'z')
						cls = c - 'a' + 'A';
					break;
			}
		}
		if (cls && !(k > 0 && key[k - 1] == cls))
			key[k++] = cls;
	}
	if (k == 0)
		key[k++] = 'A';
	key[k] = '\0';
	return k;
}

static int
add_key(char keys[][RF_NAME_KEY_LEN], int nk, const char *key)
{
	for (int i = 0; i < nk; i++)
		if (strcmp(keys[i], key) == 0)
			return nk;
	if (nk >= RF_NAME_MAX_KEYS)
		return nk;
	strcpy(keys[nk], key);
	return nk + 1;
}

int
rf_name_token_keys(const char *t, size_t len, char keys[][RF_NAME_KEY_LEN])
{
	char		key[RF_NAME_KEY_LEN];
	int			n = len > RF_NAME_TOKEN_LEN ? RF_NAME_TOKEN_LEN : (int) len;
	int			nk = 0;
	int			has_c = 0;

	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (t[i] == 'c' && (i + 1 >= n || t[i + 1] != 'h'))
			has_c = 1;
	key_reading(t, n, 0, key);
	nk = add_key(keys, nk, key);
	if (has_c)
	{
		key_reading(t, n, 1, key);
		nk = add_key(keys, nk, key);
		key_reading(t, n, 2, key);
		nk = add_key(keys, nk, key);
	}
	/* an attached article: Alhassan is also Hassan */
	if (n >= 6 && (t[0] == 'a' || t[0] == 'e') && t[1] == 'l' && !is_vowel(t[2]))
	{
		key_reading(t + 2, n - 2, 0, key);
		nk = add_key(keys, nk, key);
	}
	return nk;
}

static int
same_key(const char *a, int an, const char *b, int bn)
{
	char		ka[RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
	char		kb[RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
	int			na = rf_name_token_keys(a, an, ka);
	int			nb = rf_name_token_keys(b, bn, kb);

	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (strcmp(ka[i], kb[j]) == 0)
				return 1;
	return 0;
}

/* ------------------------------------------------------------------------
 * Canonical tokens
 * ------------------------------------------------------------------------
 */

static int
is_divine(const char *s, int n, const char **canon)
{
	char		k1[RF_NAME_KEY_LEN];
	char		k2[RF_NAME_KEY_LEN];

	if (n < 2)
		return 0;
	key_reading(s, n, 0, k1);
	for (const char *const *d = divine; *d; d++)
	{
		key_reading(*d, strlen(*d), 0, k2);
		if (strcmp(k1, k2) == 0)
		{
			*canon = *d;
			return 1;
		}
	}
	return 0;
}

/* "allah", "ullahi", "illahi", "ulla", "lahi": Allah after Abd */
static int
is_allah(const char *s, int n)
{
	int			i = 0;

	while (i < n && is_vowel(s[i]))
		i++;
	if (i >= n || s[i] != 'l')
		return 0;
	while (i < n && s[i] == 'l')
		i++;
	while (i < n && is_vowel(s[i]))
		i++;
	if (i < n && s[i] == 'h')
		i++;
	while (i < n && (is_vowel(s[i]) || s[i] == 'y'))
		i++;
	return i == n;
}

static void
tok_set(tok *t, const char *s, int n)
{
	if (n > RF_NAME_TOKEN_LEN)
		n = RF_NAME_TOKEN_LEN;
	memmove(t->s, s, n);
	t->s[n] = '\0';
	t->n = n;
	t->nkeys = 0;
}

/*
 * The rest of an Abd compound after "abd": a connecting vowel, an article
 * (l, or the first consonant doubled: Abdurrahman), then one of Allah's
 * names.  Writes "abd<name>" into t and returns 1 when it is one.
 */
static int
abd_compound(tok *t, const char *rest, int n)
{
	const char *canon;
	char		buf[RF_NAME_TOKEN_LEN + 1];
	int			i = 0;

	while (i < n && i < 2 && is_vowel(rest[i]))
		i++;
	if (is_allah(rest + i, n - i) || is_allah(rest, n))
	{
		tok_set(t, "abdallah", 8);
		return 1;
	}
	for (int pass = 0; pass < 2; pass++)
	{
		int			j = i;

		if (pass == 1)
		{
			if (j < n && rest[j] == 'l')
				j++;
			else
				continue;
		}
		if (j + 1 < n && rest[j] == rest[j + 1] && !is_vowel(rest[j]))
			j++;
		if (is_divine(rest + j, n - j, &canon))
		{
			int			cn = (int) strlen(canon);

			memcpy(buf, "abd", 3);
			memcpy(buf + 3, canon, cn);
			tok_set(t, buf, 3 + cn);
			return 1;
		}
	}
	return 0;
}

/* Spelling folds inside one token: doubled letters, ou, ph, a final h. */
static void
fold_spelling(tok *t)
{
	char		out[RF_NAME_TOKEN_LEN + 1];
	int			k = 0;

	for (int i = 0; i < t->n; i++)
	{
		char		c = t->s[i];

		if (c == 'o' && i + 1 < t->n && t->s[i + 1] == 'u')
		{
			c = 'u';
			i++;
		}
		else if (c == 'p' && i + 1 < t->n && t->s[i + 1] == 'h')
		{
			c = 'f';
			i++;
		}
		if (k > 0 && out[k - 1] == c)
			continue;
		out[k++] = c;
	}
	if (k > 2 && out[k - 1] == 'h' && (is_vowel(out[k - 2]) || out[k - 2] == 'y'))
		k--;
	tok_set(t, out, k);
}

int
rf_name_canon(const char *folded, size_t len, char *out, size_t outlen)
{
	tok			raw[RF_NAME_MAX_TOKENS * 2];
	tok			res[RF_NAME_MAX_TOKENS];
	int			nraw = 0;
	int			nres = 0;
	int			kept = 0;
	size_t		pos = 0;
	size_t		o = 0;

	if (outlen == 0)
		return 0;
	out[0] = '\0';
	if (len > RF_NAME_MAX_LEN)
		len = RF_NAME_MAX_LEN;

	/* split: letters and apostrophes; a leading apostrophe (ayn) reads as a */
	while (pos < len && nraw < RF_NAME_MAX_TOKENS * 2)
	{
		char		buf[RF_NAME_TOKEN_LEN + 1];
		int			n = 0;
		int			start = 1;

		while (pos < len && !((folded[pos] >= 'a' && folded[pos] <= 'z') || folded[pos] == '\''))
			pos++;
		while (pos < len && ((folded[pos] >= 'a' && folded[pos] <= 'z') || folded[pos] == '\''))
		{
			char		c = folded[pos++];

			if (c == '\'')
			{
				if (start && n == 0 && n < RF_NAME_TOKEN_LEN)
					buf[n++] = 'a';
			}
			else if (n < RF_NAME_TOKEN_LEN)
				buf[n++] = c;
			start = 0;
		}
		if (n > 0)
			tok_set(&raw[nraw++], buf, n);
	}

	/* how many tokens are name parts (a name of titles alone keeps them) */
	for (int i = 0; i < nraw; i++)
		if (!in_list(raw[i].s, raw[i].n, honorifics) && !in_list(raw[i].s, raw[i].n, connectors) &&
			!in_list(raw[i].s, raw[i].n, articles))
			kept++;

	for (int i = 0; i < nraw && nres < RF_NAME_MAX_TOKENS; i++)
	{
		tok		   *t = &raw[i];
		tok			cur;

		if (kept > 0)
		{
			if (in_list(t->s, t->n, honorifics) || in_list(t->s, t->n, connectors) ||
				in_list(t->s, t->n, articles))
				continue;
			/* an assimilated article: ar Rahman, ad Din, as Sayed */
			if (t->n == 2 && is_vowel(t->s[0]) && !is_vowel(t->s[1]) && i + 1 < nraw &&
				raw[i + 1].s[0] == t->s[1])
				continue;
		}
		cur = *t;
		/* Somali Cabdi, Cabdullaahi: the c is the ayn of Abd */
		if (cur.n >= 4 && memcmp(cur.s, "cabd", 4) == 0)
			tok_set(&cur, cur.s + 1, cur.n - 1);
		if (in_list(cur.s, cur.n, abbreviations))
			tok_set(&cur, "mohamed", 7);

		/* Abd compounds, written as one token or two */
		if (cur.n >= 3 && memcmp(cur.s, "abd", 3) == 0)
		{
			int			joined = 0;

			if (cur.n <= 6 && i + 1 < nraw)
			{
				/* Abdi Rahman, Abdul Rahman, Abd al-Rahman (the article is skipped above) */
				int			j = i + 1;
				tok			c2;

				while (j < nraw && in_list(raw[j].s, raw[j].n, articles))
					j++;
				if (j < nraw)
				{
					char		both[2 * RF_NAME_TOKEN_LEN + 1];
					int			bn = 0;

					memcpy(both, cur.s + 3, cur.n - 3);
					bn = cur.n - 3;
					memcpy(both + bn, raw[j].s, raw[j].n);
					bn += raw[j].n;
					if (abd_compound(&c2, both, bn > RF_NAME_TOKEN_LEN ? RF_NAME_TOKEN_LEN : bn))
					{
						cur = c2;
						i = j;
						joined = 1;
					}
				}
			}
			if (!joined && cur.n > 4)
			{
				tok			c2;

				if (abd_compound(&c2, cur.s + 3, cur.n - 3))
					cur = c2;
			}
		}

		/* -uddin: Salahuddin is Salah ad-Din */
		for (const char *const *d = din_suffixes; *d; d++)
		{
			int			sn = (int) strlen(*d);

			if (cur.n > sn + 2 && memcmp(cur.s + cur.n - sn, *d, sn) == 0)
			{
				char		buf[RF_NAME_TOKEN_LEN + 4];
				int			b = cur.n - sn;

				memcpy(buf, cur.s, b);
				memcpy(buf + b, "din", 3);
				tok_set(&cur, buf, b + 3);
				break;
			}
		}
		fold_spelling(&cur);
		/* a detached "din" joins the name before it */
		if (nres > 0 && (strcmp(cur.s, "din") == 0 || strcmp(cur.s, "dine") == 0 || strcmp(cur.s, "den") == 0))
		{
			tok		   *p = &res[nres - 1];

			if (p->n + 3 <= RF_NAME_TOKEN_LEN)
			{
				memcpy(p->s + p->n, "din", 4);
				p->n += 3;
			}
			continue;
		}
		res[nres++] = cur;
	}

	for (int i = 0; i < nres; i++)
	{
		if (o + res[i].n + 2 > outlen)
			break;
		if (i > 0)
			out[o++] = ' ';
		memcpy(out + o, res[i].s, res[i].n);
		o += res[i].n;
	}
	out[o] = '\0';
	return nres;
}

/* ------------------------------------------------------------------------
 * Comparison
 * ------------------------------------------------------------------------
 */

double
rf_jaro_winkler(const char *a, size_t alen, const char *b, size_t blen)
{
	unsigned char amatch[RF_NAME_MAX_LEN];
	unsigned char bmatch[RF_NAME_MAX_LEN];
	int			window;
	int			m = 0;
	int			trans = 0;
	int			prefix = 0;
	double		jaro;

	if (alen > RF_NAME_MAX_LEN)
		alen = RF_NAME_MAX_LEN;
	if (blen > RF_NAME_MAX_LEN)
		blen = RF_NAME_MAX_LEN;
	if (alen == 0 && blen == 0)
		return 1.0;
	if (alen == 0 || blen == 0)
		return 0.0;
	window = (int) ((alen > blen ? alen : blen) / 2) - 1;
	if (window < 0)
		window = 0;
	memset(amatch, 0, alen);
	memset(bmatch, 0, blen);
	for (int i = 0; i < (int) alen; i++)
	{
		int			lo = i - window > 0 ? i - window : 0;
		int			hi = i + window + 1 < (int) blen ? i + window + 1 : (int) blen;

		for (int j = lo; j < hi; j++)
			if (!bmatch[j] && a[i] == b[j])
			{
				amatch[i] = bmatch[j] = 1;
				m++;
				break;
			}
	}
	if (m == 0)
		return 0.0;
	for (int i = 0, j = 0; i < (int) alen; i++)
	{
		if (!amatch[i])
			continue;
		while (!bmatch[j])
			j++;
		if (a[i] != b[j])
			trans++;
		j++;
	}
	jaro = ((double) m / alen + (double) m / blen + (m - trans / 2.0) / m) / 3.0;
	while (prefix < 4 && prefix < (int) alen && prefix < (int) blen && a[prefix] == b[prefix])
		prefix++;
	return jaro + prefix * 0.1 * (1.0 - jaro);
}

double
rf_name_token_similarity(const char *a, size_t alen, const char *b, size_t blen)
{
	double		s;

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 1.0;
	s = rf_jaro_winkler(a, alen, b, blen);
	if (s < 0.92 && same_key(a, alen, b, blen))
		s = 0.92;
	return s;
}

/* Similarity of two tokens, their keys computed once. */
static double
tok_sim(tok *a, tok *b)
{
	double		s;

	if (a->n == b->n && memcmp(a->s, b->s, a->n) == 0)
		return 1.0;
	s = rf_jaro_winkler(a->s, a->n, b->s, b->n);
	if (s >= 0.92)
		return s;
	if (a->nkeys == 0)
		a->nkeys = rf_name_token_keys(a->s, a->n, a->keys);
	if (b->nkeys == 0)
		b->nkeys = rf_name_token_keys(b->s, b->n, b->keys);
	for (int i = 0; i < a->nkeys; i++)
		for (int j = 0; j < b->nkeys; j++)
			if (strcmp(a->keys[i], b->keys[j]) == 0)
				return 0.92;
	return s;
}

static int
split_tokens(const char *s, size_t len, tok *t)
{
	int			n = 0;
	size_t		i = 0;

	if (len > RF_NAME_MAX_LEN)
		len = RF_NAME_MAX_LEN;
	while (i < len && n < RF_NAME_MAX_TOKENS)
	{
		size_t		st;

		while (i < len && s[i] == ' ')
			i++;
		st = i;
		while (i < len && s[i] != ' ')
			i++;
		if (i > st)
			tok_set(&t[n++], s + st, (int) (i - st));
	}
	return n;
}

/* Join adjacent tokens of the longer name that the shorter writes as one. */
static int
join_adjacent(tok *l, int nl, tok *s, int ns)
{
	for (int i = 0; i + 1 < nl && nl > ns; i++)
	{
		char		both[2 * RF_NAME_TOKEN_LEN + 1];
		int			bn = l[i].n + l[i + 1].n;

		if (bn > RF_NAME_TOKEN_LEN)
			continue;
		memcpy(both, l[i].s, l[i].n);
		memcpy(both + l[i].n, l[i + 1].s, l[i + 1].n);
		for (int j = 0; j < ns; j++)
		{
			tok			tb;

			double		whole;

			tok_set(&tb, both, bn);
			whole = tok_sim(&tb, &s[j]);
			if (whole >= 0.92 && whole > tok_sim(&l[i], &s[j]) && whole > tok_sim(&l[i + 1], &s[j]))
			{
				tok_set(&l[i], both, bn);
				memmove(&l[i + 1], &l[i + 2], sizeof(tok) * (nl - i - 2));
				nl--;
				break;
			}
		}
	}
	return nl;
}

void
rf_name_compare(const char *a, size_t alen, const char *b, size_t blen, rf_name_cmp *out)
{
	tok			ta[RF_NAME_MAX_TOKENS];
	tok			tb[RF_NAME_MAX_TOKENS];
	double		sim[RF_NAME_MAX_TOKENS][RF_NAME_MAX_TOKENS];
	unsigned char used_a[RF_NAME_MAX_TOKENS] = {0};
	unsigned char used_b[RF_NAME_MAX_TOKENS] = {0};
	int			na = split_tokens(a, alen, ta);
	int			nb = split_tokens(b, blen, tb);
	int			ns;
	double		total = 0;
	double		best_any = 0;
	double		worst = 1;

	memset(out, 0, sizeof(*out));
	if (na == 0 || nb == 0)
		return;
	if (na > nb)
		na = join_adjacent(ta, na, tb, nb);
	else if (nb > na)
		nb = join_adjacent(tb, nb, ta, na);
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
		{
			sim[i][j] = tok_sim(&ta[i], &tb[j]);
			if (sim[i][j] > best_any)
				best_any = sim[i][j];
		}
	ns = na < nb ? na : nb;
	/* greedy alignment on similarity: names are short, and ties are rare */
	for (int k = 0; k < ns; k++)
	{
		int			bi = -1,
					bj = -1;
		double		bs = -1;

		for (int i = 0; i < na; i++)
			for (int j = 0; j < nb; j++)
				if (!used_a[i] && !used_b[j] && sim[i][j] > bs)
				{
					bs = sim[i][j];
					bi = i;
					bj = j;
				}
		used_a[bi] = used_b[bj] = 1;
		total += bs;
		if (bs < worst)
			worst = bs;
		if (bs >= 0.90)
			out->matched++;
		if (bs >= 1.0)
			out->exact++;
	}
	out->tokens = ns;
	out->similarity = total / ns;
	if (ns >= 2 && out->exact == ns)
		out->level = 5;
	else if (ns >= 2 && out->matched == ns)
		out->level = 4;
	else if ((ns >= 3 && out->matched >= ns - 1) || (ns >= 2 && worst >= 0.80) ||
			 (ns == 1 && out->matched == 1))
		out->level = 3;
	else if (out->matched >= 1)
		out->level = 2;
	else if (best_any >= 0.80)
		out->level = 1;
	/* two or more parts missing from the shorter name weigh against it */
	if (out->level == 5 && (na > nb ? na - nb : nb - na) >= 2)
		out->level = 4;
}
