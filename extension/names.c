/*
 * names.c
 *		Names in every script, folded to Latin for matching (ICU), and the
 *		SQL face of matcher/names.c: canonical tokens, phonetic and blocking
 *		keys, Jaro-Winkler and the aligned-token comparison.
 *
 * refuge.name_fold(name): the name in lower-case ASCII Latin.  Arabic
 * letter variants are unified first (alef with hamza or madda and alef
 * wasla as alef, taa marbuta as haa, alif maqsura, Persian and Urdu yeh as
 * yeh, keheh as kaf; harakat and tatweel dropped; waw and yeh after a
 * consonant read as the long vowels u and i they write; a word-initial
 * article al- dropped) and Persian and Pashto letters (p, ch, zh, g, v ...)
 * read as Latin; then ICU transliterates: Russian-Latin/BGN for Cyrillic
 * (Khasan, Yusuf, not ISO 9's Hasan, Ûsuf) and Any-Latin for the rest
 * (Arabic, Ethiopic, Devanagari, Myanmar ...), the Ethiopic sixth-order
 * vowel is dropped (it is mostly silent), ayn and hamza become an
 * apostrophe, and Latin-ASCII folds diacritics (Dinka and Nuer ŋ as ng,
 * ɛ as e, ɔ as o).  Case is folded; anything else separates words.
 *
 * ICU is the Unicode library PostgreSQL builds with; its transliterators
 * are CLDR's.  The transliterators are opened once per backend.
 */
#include "postgres.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/uspoof.h>
#include <unicode/utrans.h>
#include <unicode/ustring.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "names.h"
#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_name_fold);
PG_FUNCTION_INFO_V1(refuge_name_canonical);
PG_FUNCTION_INFO_V1(refuge_name_keys);
PG_FUNCTION_INFO_V1(refuge_name_block_keys);
PG_FUNCTION_INFO_V1(refuge_jaro_winkler);
PG_FUNCTION_INFO_V1(refuge_name_match_level);

/* names are capped by the API at 200 characters; the functions at this */
#define NAME_MAX_INPUT	2000
/* name forms of one person compared at once, and keyed for blocking */
#define NAME_MAX_FORMS	REFUGE_NAME_MAX_FORMS
#define NAME_KEYED_FORMS 8

static double candidate_rate = 0.01;
static double case_rate = 0.001;
static bool check_at_registration = true;

void
RefugeNamesInit(void)
{
	/* policy, not a session preference: only superusers may change them */
	DefineCustomRealVariable("refuge.demographic_candidate_rate",
							 "False candidates per registration at which demographic possible duplicates are reported.",
							 "The score threshold follows from the non-matching pairs' scores of the model in force "
							 "(refuge.estimate_match_model).",
							 &candidate_rate, 0.01, 1e-6, 10, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomRealVariable("refuge.demographic_case_rate",
							 "False candidates per registration at which a demographic possible duplicate opens an adjudication case.",
							 "At most refuge.demographic_candidate_rate; a stricter rate gives a higher threshold.",
							 &case_rate, 0.001, 1e-6, 10, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("refuge.demographic_check",
							 "Compare people with everyone held here when they are registered or their names change.",
							 "Off only for a bulk migration that runs refuge.possible_duplicates afterwards; "
							 "refuge.possible_duplicates works either way.",
							 &check_at_registration, true, PGC_SUSET, 0, NULL, NULL, NULL);
}

static UTransliterator *to_latin = NULL;
static UTransliterator *to_ascii = NULL;

static void
icu_check(UErrorCode status, const char *what)
{
	if (U_FAILURE(status))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("ICU %s failed: %s", what, u_errorName(status))));
}

static UTransliterator *
open_transliterator(const char *id)
{
	UChar		uid[128];
	UErrorCode	status = U_ZERO_ERROR;
	UTransliterator *t;

	u_uastrcpy(uid, id);
	t = utrans_openU(uid, -1, UTRANS_FORWARD, NULL, 0, NULL, &status);
	icu_check(status, "transliterator");
	return t;
}

static bool
is_arabic_letter(UChar c)
{
	return (c >= 0x0621 && c <= 0x064A) || (c >= 0x0671 && c <= 0x06D3);
}

/*
 * Arabic-script letters unified and read where ICU would not, in place
 * (the result is never longer than twice the input).
 */
static int32
arabic_premap(const UChar *in, int32 n, UChar *out)
{
	int32		o = 0;

	for (int32 i = 0; i < n; i++)
	{
		UChar		c = in[i];
		bool		word_start = (o == 0 || !is_arabic_letter(out[o - 1]));
		const char *latin = NULL;

		/* the article al- at the start of a word of three letters more */
		if (c == 0x0627 && i + 1 < n && in[i + 1] == 0x0644 && word_start &&
			i + 4 < n && is_arabic_letter(in[i + 2]) && is_arabic_letter(in[i + 3]) &&
			is_arabic_letter(in[i + 4]))
		{
			i++;
			continue;
		}
		switch (c)
		{
			case 0x0623: case 0x0625: case 0x0622: case 0x0671:
				c = 0x0627;
				break;
			case 0x0629:
				c = 0x0647;
				break;
			case 0x0649: case 0x06CC: case 0x0626: case 0x06D0: case 0x06CD:
				c = 0x064A;
				break;
			case 0x0624:
				c = 0x0648;
				break;
			case 0x06A9:
				c = 0x0643;
				break;
			case 0x0621: case 0x0640:
				continue;
			case 0x067E: latin = "p"; break;
			case 0x0686: latin = "ch"; break;
			case 0x0698: case 0x0696: latin = "zh"; break;
			case 0x06AF: latin = "g"; break;
			case 0x06A4: latin = "v"; break;
			case 0x067C: latin = "t"; break;
			case 0x0689: latin = "d"; break;
			case 0x0693: latin = "r"; break;
			case 0x069A: latin = "sh"; break;
			case 0x0681: latin = "z"; break;
			case 0x0685: latin = "ts"; break;
			case 0x06BC: latin = "n"; break;
			default:
				break;
		}
		if (c >= 0x064B && c <= 0x065F)
			continue;
		if (c == 0x0670)
			continue;
		if (latin)
		{
			for (; *latin; latin++)
				out[o++] = (UChar) *latin;
			continue;
		}
		/* waw and yeh after a consonant write the long vowels */
		if ((c == 0x0648 || c == 0x064A) && !word_start && out[o - 1] != 0x0627 &&
			is_arabic_letter(out[o - 1]))
			c = c == 0x0648 ? 'u' : 'i';
		out[o++] = c;
	}
	return o;
}

/*
 * After Any-Latin: marks ICU keeps that Latin-ASCII would lose or misread.
 * Writes at most 2 * n characters; returns -1 if out (cap) is too small.
 */
static int32
latin_postmap(const UChar *in, int32 n, UChar *out, int32 cap)
{
	int32		o = 0;

	for (int32 i = 0; i < n; i++)
	{
		UChar		c = in[i];

		if (o + 2 > cap)
			return -1;
		switch (c)
		{
			case 0x01DD:		/* ǝ: the Ethiopic sixth order */
				continue;
			case 0x02BF: case 0x02BE: case 0x02BB: case 0x02BC: case 0x2018: case 0x2019:
			case 0x0060: case 0x00B4:
				out[o++] = '\'';
				continue;
			case 0x014B: case 0x014A:
				out[o++] = 'n';
				out[o++] = 'g';
				continue;
			case 0x025B: case 0x0190:
				out[o++] = 'e';
				continue;
			case 0x0254: case 0x0186:
				out[o++] = 'o';
				continue;
			default:
				out[o++] = c;
		}
	}
	return o;
}

/* One spoof checker per backend (ICU's confusable data, UTS #39). */
static USpoofChecker *
spoof_checker(void)
{
	static USpoofChecker *checker = NULL;

	if (checker == NULL)
	{
		UErrorCode	status = U_ZERO_ERROR;
		USpoofChecker *c = uspoof_open(&status);

		icu_check(status, "spoof checker");
		checker = c;
	}
	return checker;
}

static bool
lookalike_script(UScriptCode sc)
{
	return sc == USCRIPT_CYRILLIC || sc == USCRIPT_GREEK || sc == USCRIPT_ARMENIAN || sc == USCRIPT_CHEROKEE ||
		sc == USCRIPT_COPTIC;
}

/*
 * A word that mixes Latin letters with Cyrillic, Greek, Armenian, Cherokee
 * or Coptic ones is a Latin word with look-alikes typed in ("Уusuf" with a
 * Cyrillic U, "Ηassan" with a Greek Eta): each such letter becomes the
 * ASCII letter its confusable skeleton is, so that transliteration does not
 * read it as Yu or E.  Words in one script are left alone (Хасан is Cyrillic
 * and transliterated as such).  Returns the new length, at most 4 * n.
 */
static int32
lookalikes_to_latin(const UChar *in, int32 n, UChar *out)
{
	int32		o = 0;
	int32		i = 0;

	while (i < n)
	{
		int32		start = i;
		bool		latin = false;
		bool		other = false;
		UChar32		c;

		/* one word: letters and marks */
		while (i < n)
		{
			int32		at = i;

			U16_NEXT(in, i, n, c);
			if (!(u_isalpha(c) || u_getCombiningClass(c) > 0 || u_charType(c) == U_NON_SPACING_MARK))
			{
				i = at;
				break;
			}
			{
				UErrorCode	status = U_ZERO_ERROR;
				UScriptCode sc = uscript_getScript(c, &status);

				if (sc == USCRIPT_LATIN)
					latin = true;
				else if (lookalike_script(sc))
					other = true;
			}
		}
		for (int32 j = start; j < i;)
		{
			UErrorCode	status = U_ZERO_ERROR;
			int32		at = j;

			U16_NEXT(in, j, i, c);
			if (latin && other && lookalike_script(uscript_getScript(c, &status)))
			{
				UChar		one[2];
				UChar		skel[8];
				int32		onelen = 0;
				int32		k;

				U16_APPEND_UNSAFE(one, onelen, c);
				status = U_ZERO_ERROR;
				k = uspoof_getSkeleton(spoof_checker(), 0, one, onelen, skel, lengthof(skel), &status);
				/* a skeleton of one or two ASCII letters replaces the letter */
				if (U_SUCCESS(status) && k >= 1 && k <= 2 && skel[0] < 128 && u_isalpha(skel[0]) &&
					(k == 1 || (skel[1] < 128 && u_isalpha(skel[1]))))
				{
					for (int32 m = 0; m < k; m++)
						out[o++] = skel[m];
					continue;
				}
			}
			while (at < j)
				out[o++] = in[at++];
		}
		/* the separator after the word */
		if (i < n)
		{
			int32		at = i;

			U16_NEXT(in, i, n, c);
			while (at < i)
				out[o++] = in[at++];
		}
	}
	return o;
}

static int32
transliterate(UTransliterator *t, UChar **buf, int32 len, int32 *cap)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		limit = len;
	int32		textlen = len;

	utrans_transUChars(t, *buf, &textlen, *cap, 0, &limit, &status);
	if (status == U_BUFFER_OVERFLOW_ERROR)
	{
		/* transUChars leaves the text undefined on overflow: the caller retries larger */
		return -1;
	}
	icu_check(status, "transliteration");
	return textlen;
}

/*
 * The name as lower-case ASCII words separated by single spaces (an
 * apostrophe for ayn and hamza), into a palloc'd string.
 */
static char *
fold_name(const char *s, int n)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		ulen;
	UChar	   *u;
	UChar	   *work;
	UChar	   *tmp;
	int32		len;
	char	   *utf8;
	int32		u8len;
	char	   *out;
	int			o = 0;

	if (n > NAME_MAX_INPUT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("name: %d bytes is longer than %d", n, NAME_MAX_INPUT)));
	if (to_latin == NULL)
	{
		UTransliterator *a = open_transliterator("Russian-Latin/BGN; Any-Latin");
		UTransliterator *b = open_transliterator("Latin-ASCII; Lower");

		to_latin = a;
		to_ascii = b;
	}
	u_strFromUTF8(NULL, 0, &ulen, s, n, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		icu_check(status, "UTF-8 decoding");
	status = U_ZERO_ERROR;
	u = palloc((ulen + 1) * sizeof(UChar));
	u_strFromUTF8(u, ulen + 1, &ulen, s, n, &status);
	icu_check(status, "UTF-8 decoding");

	/* look-alike letters typed into Latin words */
	{
		UChar	   *l = palloc((4 * ulen + 16) * sizeof(UChar));

		ulen = lookalikes_to_latin(u, ulen, l);
		pfree(u);
		u = l;
	}

	/*
	 * Every step at most grows the text a few times (Any-Latin of a
	 * syllabary most, a ligature such as U+FDFA up to 19 times): on overflow,
	 * again with buffers twice the size.
	 */
	for (int factor = 8;; factor *= 2)
	{
		int32		wcap = ulen * factor + 16;	/* >= 2 * ulen: the premap's output */
		int32		tcap = 2 * wcap + 16;	/* >= 2 * wcap: the postmap's output */

		work = palloc(wcap * sizeof(UChar));
		tmp = palloc(tcap * sizeof(UChar));
		len = arabic_premap(u, ulen, work);
		len = transliterate(to_latin, &work, len, &wcap);
		if (len >= 0)
			len = latin_postmap(work, len, tmp, tcap);
		if (len >= 0)
			len = transliterate(to_ascii, &tmp, len, &tcap);
		if (len >= 0)
			break;
		pfree(work);
		pfree(tmp);
		if (factor >= 128)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("name: its transliteration is too long")));
	}
	status = U_ZERO_ERROR;
	u_strToUTF8(NULL, 0, &u8len, tmp, len, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		icu_check(status, "UTF-8 encoding");
	status = U_ZERO_ERROR;
	utf8 = palloc(u8len + 1);
	u_strToUTF8(utf8, u8len + 1, &u8len, tmp, len, &status);
	icu_check(status, "UTF-8 encoding");

	out = palloc(u8len + 1);
	for (int i = 0; i < u8len; i++)
	{
		char		c = utf8[i];

		if ((c >= 'a' && c <= 'z') || c == '\'')
			out[o++] = c;
		else if (c >= 'A' && c <= 'Z')
			out[o++] = c - 'A' + 'a';
		else if (o > 0 && out[o - 1] != ' ')
			out[o++] = ' ';
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	pfree(u);
	pfree(work);
	pfree(tmp);
	pfree(utf8);
	return out;
}

/* Canonical tokens of one name as entered (any script). */
static char *
canonical(text *name)
{
	char	   *folded = fold_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
	char	   *out = palloc(RF_NAME_MAX_LEN + 1);

	rf_name_canon(folded, strlen(folded), out, RF_NAME_MAX_LEN + 1);
	pfree(folded);
	return out;
}

Datum
refuge_name_fold(PG_FUNCTION_ARGS)
{
	text	   *name = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(fold_name(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name))));
}

Datum
refuge_name_canonical(PG_FUNCTION_ARGS)
{
	char	   *c = canonical(PG_GETARG_TEXT_PP(0));

	if (c[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(c));
}

/* The tokens of a canonical name: at most RF_NAME_MAX_TOKENS. */
static int
tokens_of(const char *s, int len, const char **tok, int *tlen)
{
	int			n = 0;
	int			i = 0;

	while (i < len && n < RF_NAME_MAX_TOKENS)
	{
		int			st;

		while (i < len && s[i] == ' ')
			i++;
		st = i;
		while (i < len && s[i] != ' ')
			i++;
		if (i > st)
		{
			tok[n] = s + st;
			tlen[n] = i - st;
			n++;
		}
	}
	return n;
}

static ArrayType *
text_array(Datum *d, int n)
{
	return construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/* Keys of every token of a name as entered: its readings, in token order. */
Datum
refuge_name_keys(PG_FUNCTION_ARGS)
{
	char	   *c = canonical(PG_GETARG_TEXT_PP(0));
	const char *tok[RF_NAME_MAX_TOKENS];
	int			tlen[RF_NAME_MAX_TOKENS];
	int			nt = tokens_of(c, strlen(c), tok, tlen);
	Datum		d[RF_NAME_MAX_TOKENS * RF_NAME_MAX_KEYS];
	int			nd = 0;

	for (int i = 0; i < nt; i++)
	{
		char		keys[RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
		int			nk = rf_name_token_keys(tok[i], tlen[i], keys);

		for (int k = 0; k < nk; k++)
			d[nd++] = CStringGetTextDatum(keys[k]);
	}
	PG_RETURN_ARRAYTYPE_P(text_array(d, nd));
}

/* The non-null elements of a text[] argument, capped at NAME_MAX_FORMS. */
int
RefugeNameForms(ArrayType *a, char **forms, int *lens, const char *field)
{
	Datum	   *d;
	bool	   *nulls;
	int			n;
	int			k = 0;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s: expected a one-dimensional array of names", field)));
	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &d, &nulls, &n);
	for (int i = 0; i < n && k < NAME_MAX_FORMS; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(d[i]);
		forms[k] = VARDATA_ANY(t);
		lens[k] = VARSIZE_ANY_EXHDR(t);
		if (lens[k] > RF_NAME_MAX_LEN)
			lens[k] = RF_NAME_MAX_LEN;
		k++;
	}
	return k;
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * Blocking keys of a person's canonical name forms: every token's keys
 * ("MHMD"), and every pair of tokens' keys in sorted order ("ABD+MHMD"), so
 * that common names are found by their pairs and rare ones by themselves.
 * The first NAME_KEYED_FORMS forms only (the registered name comes first),
 * so that aliases cannot bloat the index: at most 78 keys a form.
 */
Datum
refuge_name_block_keys(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	char	   *forms[NAME_MAX_FORMS];
	int			lens[NAME_MAX_FORMS];
	int			nf = Min(RefugeNameForms(a, forms, lens, "forms"), NAME_KEYED_FORMS);
	char	  **keys = palloc(sizeof(char *) * NAME_MAX_FORMS * 80 * RF_NAME_MAX_KEYS * RF_NAME_MAX_KEYS);
	int			nkeys = 0;
	Datum	   *d;
	int			nd = 0;

	for (int f = 0; f < nf; f++)
	{
		const char *tok[RF_NAME_MAX_TOKENS];
		int			tlen[RF_NAME_MAX_TOKENS];
		char		tk[RF_NAME_MAX_TOKENS][RF_NAME_MAX_KEYS][RF_NAME_KEY_LEN];
		int			nk[RF_NAME_MAX_TOKENS];
		int			nt = tokens_of(forms[f], lens[f], tok, tlen);

		/* pairs among the first six parts, two readings each: at most 60 */
		if (nt > 6)
			nt = 6;
		for (int i = 0; i < nt; i++)
		{
			nk[i] = rf_name_token_keys(tok[i], tlen[i], tk[i]);
			for (int k = 0; k < nk[i]; k++)
				keys[nkeys++] = pstrdup(tk[i][k]);
		}
		for (int i = 0; i < nt; i++)
			for (int j = i + 1; j < nt; j++)
				for (int x = 0; x < nk[i] && x < 2; x++)
					for (int y = 0; y < nk[j] && y < 2; y++)
					{
						const char *p = tk[i][x];
						const char *q = tk[j][y];

						if (strcmp(p, q) > 0)
						{
							const char *t = p;

							p = q;
							q = t;
						}
						keys[nkeys++] = psprintf("%s+%s", p, q);
					}
	}
	qsort(keys, nkeys, sizeof(char *), cmp_cstr);
	d = palloc(sizeof(Datum) * (nkeys + 1));
	for (int i = 0; i < nkeys; i++)
		if (i == 0 || strcmp(keys[i], keys[i - 1]) != 0)
			d[nd++] = CStringGetTextDatum(keys[i]);
	PG_RETURN_ARRAYTYPE_P(text_array(d, nd));
}

Datum
refuge_jaro_winkler(PG_FUNCTION_ARGS)
{
	text	   *a = PG_GETARG_TEXT_PP(0);
	text	   *b = PG_GETARG_TEXT_PP(1);

	/* names, not documents: longer strings are refused, never cut */
	if (VARSIZE_ANY_EXHDR(a) > RF_NAME_MAX_LEN || VARSIZE_ANY_EXHDR(b) > RF_NAME_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: longer than %d bytes", VARSIZE_ANY_EXHDR(a) > RF_NAME_MAX_LEN ? "a" : "b",
						RF_NAME_MAX_LEN)));

	PG_RETURN_FLOAT8(rf_jaro_winkler(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

/*
 * The best comparison level over two people's canonical name forms
 * (rf_name_compare over every pair of forms, 16 of each at most).
 */
int
RefugeFormsLevel(char **fa, const int *la, int na, char **fb, const int *lb, int nb)
{
	int			best = 0;

	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
		{
			rf_name_cmp r;

			rf_name_compare(fa[i], la[i], fb[j], lb[j], &r);
			if (r.level > best)
				best = r.level;
			if (best >= 5)
				return best;	/* no level is higher */
		}
	return best;
}

Datum
refuge_name_match_level(PG_FUNCTION_ARGS)
{
	char	   *fa[NAME_MAX_FORMS];
	char	   *fb[NAME_MAX_FORMS];
	int			la[NAME_MAX_FORMS];
	int			lb[NAME_MAX_FORMS];
	int			na = RefugeNameForms(PG_GETARG_ARRAYTYPE_P(0), fa, la, "a");
	int			nb = RefugeNameForms(PG_GETARG_ARRAYTYPE_P(1), fb, lb, "b");

	PG_RETURN_INT32(RefugeFormsLevel(fa, la, na, fb, lb, nb));
}
