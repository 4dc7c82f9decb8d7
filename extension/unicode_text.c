/*
 * unicode_text.c
 *		Text as people write it, checked with ICU: names and free text in
 *		Unicode NFC without control or bidirectional-override characters,
 *		and identifier keys under which look-alike document numbers meet.
 *
 * refuge.clean_text(value, field): NFC; refuses C0/C1 controls (but tab
 * and line breaks), bidirectional embeddings and overrides (U+202A-202E,
 * the "Trojan Source" characters), private-use and unassigned code points.
 *
 * refuge.clean_name(value, field): as clean_text, and also refuses line
 * breaks, tabs, every bidirectional control and every default-ignorable
 * (invisible) character, the Hangul fillers included, except the joiners
 * that Persian, Dari, Pashto and Indic spellings need (U+200C, U+200D),
 * more than four combining marks in a row, and a name without a single
 * visible letter (only marks, digits, punctuation or fillers).
 *
 * refuge.identifier_key(value): the key under which a document number is
 * compared: NFKC (full-width and compatibility forms), decimal digits of
 * every script as 0-9, letters of other scripts that look like Latin ones
 * as those (ICU's confusable skeleton, UTS #39: Cyrillic, Greek, Cherokee
 * ...), upper case, and nothing but letters and digits kept (spaces, dashes
 * of every kind, dots, slashes, invisible and default-ignorable characters
 * go).  "AB-123 456", "ab123456.", "АВ１２３４５６" (Cyrillic letters,
 * full-width digits) and "AB\u200B123456" share a key; Latin letters and
 * digits are never folded into each other (AB1 and ABI, 0 and O stay apart:
 * different documents must not be refused as duplicates).
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

/* Check and normalise; name = the stricter rules of a person's name. */
static text *
clean(text *value, const char *field, bool name)
{
	int32		len;
	UChar	   *u;
	UChar	   *nfc;
	int32		nlen;
	UErrorCode	status = U_ZERO_ERROR;
	const UNormalizer2 *norm;
	int32		i = 0;
	int			marks = 0;
	bool		letter = false;
	int			index = 0;

	if (GetDatabaseEncoding() != PG_UTF8)
		return value;			/* Refuge's texts are Unicode; other encodings pass unchecked */
	u = to_utf16(value, &len);
	norm = unorm2_getNFCInstance(&status);
	icu_check(status, "NFC");
	nfc = normalise(norm, u, len, &nlen);

	while (i < nlen)
	{
		UChar32		c;
		int8_t		type;

		U16_NEXT(nfc, i, nlen, c);
		index++;
		type = u_charType(c);
		if (c == '\t' || c == '\n' || c == '\r')
		{
			if (name)
				ereport(ERROR,
						(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
						 errmsg("%s: a name is one line (a tab or line break at character %d)", field, index)));
			marks = 0;
			continue;
		}
		if (type == U_CONTROL_CHAR)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("%s: control character %s at character %d", field, code_point(c), index)));
		if (type == U_PRIVATE_USE_CHAR || type == U_UNASSIGNED || type == U_SURROGATE)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("%s: %s at character %d is not an assigned Unicode character", field, code_point(c), index)));
		if ((c >= 0x202A && c <= 0x202E) || (name && is_bidi_control(c)))
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("%s: bidirectional control %s at character %d", field, code_point(c), index),
					 errhint("Text direction comes from the letters themselves; these controls can make text display as something else.")));
		if (name && (type == U_FORMAT_CHAR || u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			&& c != 0x200C && c != 0x200D)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("%s: invisible character %s at character %d", field, code_point(c), index)));
		if (type == U_NON_SPACING_MARK || type == U_ENCLOSING_MARK || type == U_COMBINING_SPACING_MARK)
		{
			if (name && ++marks > 4)
				ereport(ERROR,
						(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
						 errmsg("%s: more than four combining marks on one letter at character %d", field, index)));
		}
		else
			marks = 0;
		if (u_isalpha(c) && !u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			letter = true;
	}
	if (name && !letter)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: a name has at least one letter", field)));
	return from_utf16(nfc, nlen);
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

/* Is c written in the Latin script, or shared by all (digits, punctuation, marks)? */
static bool
latin_or_common(UChar32 c)
{
	UErrorCode	status = U_ZERO_ERROR;
	UScriptCode sc = uscript_getScript(c, &status);

	return U_FAILURE(status) || sc == USCRIPT_LATIN || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED;
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

	cap = nlen * 4 + 16;
	out = palloc(cap * sizeof(UChar));
	while (i < nlen)
	{
		UChar32		c;
		UChar		one[2];
		int32		onelen = 0;
		UChar		skel[16];
		int32		slen;
		int32		j = 0;

		U16_NEXT(nfkc, i, nlen, c);
		if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			continue;			/* invisible: zero-width spaces, joiners, Hangul fillers, soft hyphens */
		if (u_charType(c) == U_DECIMAL_DIGIT_NUMBER)
		{
			out[olen++] = (UChar) ('0' + u_charDigitValue(c));
			continue;
		}
		if (!u_isalnum(c))
			continue;			/* separators, punctuation, marks */
		if (latin_or_common(c))
		{
			c = u_toupper(c);
			U16_APPEND_UNSAFE(out, olen, c);
			continue;
		}
		/* another script's letter: the Latin letter its capital is made to look like, if any */
		c = u_toupper(c);
		U16_APPEND_UNSAFE(one, onelen, c);
		status = U_ZERO_ERROR;
		slen = uspoof_getSkeleton(spoof_checker(), 0, one, onelen, skel, lengthof(skel), &status);
		if (U_FAILURE(status))
		{
			slen = 0;
			U16_APPEND_UNSAFE(skel, slen, c);
		}
		while (j < slen)
		{
			UChar32		k;

			U16_NEXT(skel, j, slen, k);
			if (u_isalnum(k) && !u_hasBinaryProperty(k, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) && olen + 2 < cap)
			{
				k = u_toupper(k);
				U16_APPEND_UNSAFE(out, olen, k);
			}
		}
	}
	PG_RETURN_TEXT_P(from_utf16(out, olen));
}
