/*
 * unicode_text.c
 *		Text as people write it, checked with ICU: names and free text in
 *		Unicode NFC without control or bidirectional-override characters,
 *		and identifier keys under which look-alike document numbers meet.
 *
 * refuge.clean_text(value, field): NFC; refuses C0/C1 controls (but tab
 * and line breaks), bidirectional embeddings, overrides and isolates
 * (U+202A-202E, U+2066-2069: the "Trojan Source" characters), private-use
 * and unassigned code points, U+FFFC and U+FFFD.
 *
 * refuge.clean_name(value, field): as clean_text, and also refuses line
 * breaks of every kind, tabs, every bidirectional control and every
 * default-ignorable (invisible) character, the Hangul fillers and the
 * braille blank included; the joiners (U+200C, U+200D) only between letters
 * of the scripts whose spellings need them (Persian, Dari, Pashto, Indic
 * ...); more than four combining marks in a row; and a name without a
 * single visible letter.  Spaces of every kind (no-break, narrow,
 * ideographic) become one ASCII space between words, none at either end.
 *
 * refuge.identifier_key(value): the key under which a document number is
 * compared: NFKC (full-width and compatibility forms), decimal digits of
 * every script by value as 0-9, every letter outside ASCII as the ASCII
 * letter it is made to look like (ICU's confusable skeleton, UTS #39:
 * Cyrillic, Greek, Cherokee, small capitals ...; a capital as a capital, so
 * Greek iota is I, not L), upper case, and nothing but letters and digits
 * kept (spaces, dashes of every kind, dots, slashes, invisible and
 * default-ignorable characters go).  "AB-123 456", "ab123456.",
 * "АВ１２３４５６" (Cyrillic letters, full-width digits) and
 * "AB\u200B123456" share a key; ASCII letters and digits are never folded
 * into each other (AB1 and ABI, 0 and O stay apart: different documents
 * must not be refused as duplicates).  The key depends on ICU's data: after
 * an ICU upgrade, REINDEX the index on it (README, Known limits).
 *
 * ICU is the Unicode library PostgreSQL itself builds with; the confusable
 * data and normalisation tables come with it.
 */
#include "postgres.h"

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/unorm2.h>
#include <unicode/uspoof.h>
#include <unicode/ustring.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "refuge.h"

PG_FUNCTION_INFO_V1(refuge_clean_text);
PG_FUNCTION_INFO_V1(refuge_clean_name);
PG_FUNCTION_INFO_V1(refuge_identifier_key);

/* inputs are capped by the API (names 100-200 characters, texts longer) */
#define UNICODE_MAX_INPUT	(1024 * 1024)

static void
icu_check(UErrorCode status, const char *what)
{
	if (U_FAILURE(status))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("ICU %s failed: %s", what, u_errorName(status))));
}

/* UTF-8 text to palloc'd UTF-16. */
static UChar *
to_utf16(text *t, int32 *len)
{
	const char *s = VARDATA_ANY(t);
	int32		n = VARSIZE_ANY_EXHDR(t);
	UErrorCode	status = U_ZERO_ERROR;
	UChar	   *u;
	int32		ulen;

	if (n > UNICODE_MAX_INPUT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("text of %d bytes is longer than %d", n, UNICODE_MAX_INPUT)));
	u_strFromUTF8(NULL, 0, &ulen, s, n, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		icu_check(status, "UTF-8 decoding");
	status = U_ZERO_ERROR;
	u = palloc((ulen + 1) * sizeof(UChar));
	u_strFromUTF8(u, ulen + 1, len, s, n, &status);
	icu_check(status, "UTF-8 decoding");
	return u;
}

static text *
from_utf16(const UChar *u, int32 len)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		n;
	text	   *t;

	u_strToUTF8(NULL, 0, &n, u, len, &status);
	if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status))
		icu_check(status, "UTF-8 encoding");
	status = U_ZERO_ERROR;
	t = palloc(VARHDRSZ + n + 1);
	u_strToUTF8(VARDATA(t), n + 1, &n, u, len, &status);
	icu_check(status, "UTF-8 encoding");
	SET_VARSIZE(t, VARHDRSZ + n);
	return t;
}

/* Normalise with one of ICU's normalisers into palloc'd memory. */
static UChar *
normalise(const UNormalizer2 *norm, const UChar *u, int32 len, int32 *out_len)
{
	UErrorCode	status = U_ZERO_ERROR;
	int32		cap = len * 3 + 16;
	UChar	   *out = palloc(cap * sizeof(UChar));

	*out_len = unorm2_normalize(norm, u, len, out, cap, &status);
	if (status == U_BUFFER_OVERFLOW_ERROR)
	{
		status = U_ZERO_ERROR;
		out = repalloc(out, (*out_len + 1) * sizeof(UChar));
		*out_len = unorm2_normalize(norm, u, len, out, *out_len + 1, &status);
	}
	icu_check(status, "normalisation");
	return out;
}

static bool
is_bidi_control(UChar32 c)
{
	return c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E) ||
		(c >= 0x2066 && c <= 0x2069);
}

/* "U+202E" for messages: never the character itself. */
static char *
code_point(UChar32 c)
{
	return psprintf("U+%04X", (unsigned int) c);
}

/* Is c a letter or mark of a script that joins (Arabic, Indic ...), where ZWJ and ZWNJ spell? */
static bool
joining_context(UChar32 c)
{
	UErrorCode	status = U_ZERO_ERROR;
	UScriptCode sc = uscript_getScript(c, &status);

	if (U_FAILURE(status) || sc == USCRIPT_LATIN || sc == USCRIPT_COMMON || sc == USCRIPT_GREEK ||
		sc == USCRIPT_CYRILLIC || sc == USCRIPT_ARMENIAN || sc == USCRIPT_HAN || sc == USCRIPT_HANGUL)
		return false;
	return u_isalpha(c) || u_getCombiningClass(c) > 0 || u_charType(c) == U_NON_SPACING_MARK ||
		u_charType(c) == U_COMBINING_SPACING_MARK;
}

static void
refuse(const char *field, UChar32 c, int index, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE), errrefuge(),
			 errmsg("%s: %s %s at character %d", field, what, code_point(c), index)));
}

/*
 * Check and normalise; name = the stricter rules of a person's name, whose
 * spaces of every kind also become one ASCII space, none at either end.
 */
static text *
clean(text *value, const char *field, bool name)
{
	int32		len;
	UChar	   *u;
	UChar	   *nfc;
	int32		nlen;
	UChar	   *out;
	int32		olen = 0;
	UErrorCode	status = U_ZERO_ERROR;
	const UNormalizer2 *norm;
	int32		i = 0;
	int			marks = 0;
	bool		letter = false;
	int			index = 0;
	UChar32		prev = 0;

	if (GetDatabaseEncoding() != PG_UTF8)
		return value;			/* Refuge's texts are Unicode; other encodings pass unchecked */
	u = to_utf16(value, &len);
	norm = unorm2_getNFCInstance(&status);
	icu_check(status, "NFC");
	nfc = normalise(norm, u, len, &nlen);
	out = palloc((nlen + 1) * sizeof(UChar));

	while (i < nlen)
	{
		UChar32		c;
		int8_t		type;

		U16_NEXT(nfc, i, nlen, c);
		index++;
		type = u_charType(c);
		if (c == '\t' || c == '\n' || c == '\r' || type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR)
		{
			if (name)
				ereport(ERROR,
						(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE), errrefuge(),
						 errmsg("%s: a name is one line (a tab or line break at character %d)", field, index)));
			marks = 0;
			U16_APPEND_UNSAFE(out, olen, c);
			prev = c;
			continue;
		}
		if (type == U_CONTROL_CHAR)
			refuse(field, c, index, "control character");
		if (type == U_PRIVATE_USE_CHAR || type == U_UNASSIGNED || type == U_SURROGATE)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE), errrefuge(),
					 errmsg("%s: %s at character %d is not an assigned Unicode character", field, code_point(c), index)));
		if (c == 0xFFFC || c == 0xFFFD)
			refuse(field, c, index, "replacement character (the text was damaged on its way)");
		/* embeddings, overrides and isolates ("Trojan Source"); a name takes no direction mark either */
		if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || (name && is_bidi_control(c)))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE), errrefuge(),
					 errmsg("%s: bidirectional control %s at character %d", field, code_point(c), index),
					 errhint("Text direction comes from the letters themselves; these controls can make text display as something else.")));
		if (name && (c == 0x200C || c == 0x200D))
		{
			/* the joiners spell Persian, Dari, Pashto and Indic names, between letters of those scripts only */
			UChar32		next = 0;

			if (i < nlen)
				U16_GET(nfc, 0, i, nlen, next);
			if (!joining_context(prev) || !joining_context(next))
				refuse(field, c, index, "joiner outside a word of a script that uses it:");
		}
		else if (name && (type == U_FORMAT_CHAR || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
						  c == 0x2800 || c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0))
			refuse(field, c, index, "invisible character");
		if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_COMBINING_SPACING_MARK)
		{
			if (name && ++marks > 4)
				ereport(ERROR,
						(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE), errrefuge(),
						 errmsg("%s: more than four combining marks on one letter at character %d", field, index)));
		}
		else
			marks = 0;
		if (u_isalpha(c) && !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			letter = true;
		if (name && type == U_SPACE_SEPARATOR)
		{
			/* no-break, narrow, ideographic ... spaces: one ASCII space between words */
			if (olen > 0 && out[olen - 1] != ' ')
				out[olen++] = ' ';
			prev = ' ';
			continue;
		}
		U16_APPEND_UNSAFE(out, olen, c);
		prev = c;
	}
	if (name)
		while (olen > 0 && out[olen - 1] == ' ')
			olen--;
	if (name && !letter)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE), errrefuge(),
				 errmsg("%s: a name has at least one letter", field)));
	return from_utf16(out, olen);
}

/* refuge.clean_text(value text, field text) returns text */
Datum
refuge_clean_text(PG_FUNCTION_ARGS)
{
	char	   *field = PG_ARGISNULL(1) ? "text" : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(clean(PG_GETARG_TEXT_PP(0), field, false));
}

/* refuge.clean_name(value text, field text) returns text */
Datum
refuge_clean_name(PG_FUNCTION_ARGS)
{
	char	   *field = PG_ARGISNULL(1) ? "name" : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(clean(PG_GETARG_TEXT_PP(0), field, true));
}

/* One spoof checker per backend: opening it loads ICU's confusable data. */
static USpoofChecker *
spoof_checker(void)
{
	static USpoofChecker *checker = NULL;

	if (checker == NULL)
	{
		UErrorCode	status = U_ZERO_ERROR;

		checker = uspoof_open(&status);
		icu_check(status, "spoof checker");
	}
	return checker;
}

/*
 * The skeletons (UTS #39) of the ASCII letters, capital and small, computed
 * once: a letter of another script, or a Latin letter outside ASCII (small
 * capitals, for instance), becomes the ASCII letter whose skeleton it shares.
 * Capitals are matched against capitals first, small letters against small
 * ones: Greek capital iota looks like I (whose skeleton is "l"), not like L.
 */
typedef struct
{
	UChar		skel[8];
	int32		len;
} Skeleton;

static Skeleton ascii_upper[26];
static Skeleton ascii_lower[26];
static bool ascii_ready = false;

static int32
skeleton_of(UChar32 c, UChar *skel, int32 cap)
{
	UChar		one[2];
	int32		onelen = 0;
	UErrorCode	status = U_ZERO_ERROR;
	int32		n;

	U16_APPEND_UNSAFE(one, onelen, c);
	n = uspoof_getSkeleton(spoof_checker(), 0, one, onelen, skel, cap, &status);
	return U_FAILURE(status) ? -1 : n;
}

static void
ascii_skeletons(void)
{
	if (ascii_ready)
		return;
	for (int k = 0; k < 26; k++)
	{
		ascii_upper[k].len = skeleton_of('A' + k, ascii_upper[k].skel, lengthof(ascii_upper[k].skel));
		ascii_lower[k].len = skeleton_of('a' + k, ascii_lower[k].skel, lengthof(ascii_lower[k].skel));
	}
	ascii_ready = true;
}

static int
match_table(const Skeleton *table, const UChar *skel, int32 slen)
{
	for (int k = 0; k < 26; k++)
		if (table[k].len == slen && memcmp(table[k].skel, skel, slen * sizeof(UChar)) == 0)
			return k;
	return -1;
}

/* The ASCII capital a letter looks like, or 0. */
static UChar32
ascii_lookalike(UChar32 c)
{
	UChar		skel[16];
	int32		slen = skeleton_of(c, skel, lengthof(skel));
	int			k;
	bool		capital = u_isupper(c) || u_istitle(c);

	if (slen <= 0)
		return 0;
	ascii_skeletons();
	k = match_table(capital ? ascii_upper : ascii_lower, skel, slen);
	if (k < 0)
		k = match_table(capital ? ascii_lower : ascii_upper, skel, slen);
	return k < 0 ? 0 : 'A' + k;
}

/* refuge.identifier_key(value text) returns text */
Datum
refuge_identifier_key(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);
	int32		len;
	UChar	   *u;
	UChar	   *nfkc;
	int32		nlen;
	UErrorCode	status = U_ZERO_ERROR;
	const UNormalizer2 *norm;
	UChar	   *out;
	int32		olen = 0;
	int32		cap;
	int32		i = 0;

	if (GetDatabaseEncoding() != PG_UTF8)
		PG_RETURN_TEXT_P(value);
	u = to_utf16(value, &len);
	norm = unorm2_getNFKCInstance(&status);
	icu_check(status, "NFKC");
	nfkc = normalise(norm, u, len, &nlen);

	cap = nlen * 2 + 16;
	out = palloc(cap * sizeof(UChar));
	while (i < nlen)
	{
		UChar32		c;
		UChar32		ascii;

		U16_NEXT(nfkc, i, nlen, c);
		if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			continue;			/* invisible: zero-width spaces, joiners, Hangul fillers, soft hyphens */
		if (u_charType(c) == U_DECIMAL_DIGIT_NUMBER)
		{
			/* by value: a Bengali four is a four, whatever it looks like */
			out[olen++] = (UChar) ('0' + u_charDigitValue(c));
			continue;
		}
		if (!u_isalnum(c))
			continue;			/* separators, punctuation, marks */
		if (c < 0x80)
		{
			out[olen++] = (UChar) u_toupper(c);
			continue;
		}
		/* any other letter: the ASCII letter it is made to look like, else itself in capitals */
		ascii = ascii_lookalike(c);
		if (ascii == 0)
			ascii = ascii_lookalike(u_toupper(c));
		if (ascii == 0)
			ascii = u_toupper(c);
		U16_APPEND_UNSAFE(out, olen, ascii);
	}
	PG_RETURN_TEXT_P(from_utf16(out, olen));
}
