/*
 * pdf_text.c
 *		Text in every script for the printable documents (pdf.c).
 *
 * A document whose text is all Windows-1252 keeps the standard Helvetica
 * fonts (nothing embedded, a few kilobytes).  Any other character switches
 * the whole document to embedded Noto TrueType fonts (fonts-noto-core) from
 * the directory refuge.font_dir, so that it looks the same everywhere: one
 * font per script family and weight, each loaded only when a character of
 * its script is printed (Latin, digits and spaces in NotoSans).  libharu
 * embeds the outlines of the glyphs used only, but the whole character map
 * and metrics of a font: about 45 kB for each weight of NotoSans, 20 to 25 kB
 * for Noto Sans Arabic or Ethiopic.  A missing font is a WARNING, and its
 * script prints as "?" (Latin falls back to Helvetica).  Two defects of
 * libharu 2.3.0 are mended before the document is saved (PdfFontsFinish):
 * nested composite glyphs and the fonts' ToUnicode maps.
 *
 * Each text is decoded here (malformed UTF-8 prints as "?"), run through the
 * Unicode bidirectional algorithm and Arabic joining and shaping (GNU
 * FriBidi: Arabic letters become their contextual forms from the Arabic
 * Presentation Forms blocks, with the lam-alef ligatures), measured per
 * character with its script's font, broken into lines in logical order and
 * reordered per line into visual order, then drawn left to right in runs of
 * one font.
 *
 * What libharu cannot do, and so what prints wrongly: it has no OpenType
 * layout (GSUB/GPOS).  Latin, Greek, Cyrillic, Armenian, Georgian, Ethiopic
 * (Amharic, Tigrinya), Hebrew (without points) and Arabic-script letters that
 * have presentation forms (Arabic, Persian, Urdu and Pashto's common letters)
 * print correctly.  Combining marks (Arabic harakat, Hebrew points, Thai
 * vowels and tones) are placed by their default offsets, not positioned, and
 * may collide.  Myanmar, Khmer and the Indic scripts (Devanagari, Bengali,
 * Gurmukhi, Gujarati, Tamil, Sinhala) are printed with their fonts in logical
 * order, without reordering, conjuncts or ligatures: pre-base vowels come
 * after their consonant and conjuncts fall apart; readable with effort, not
 * correct.  Arabic letters without presentation forms (some of Sindhi,
 * Uyghur, Rohingya's Arabic orthography) print in their isolated form.  Only
 * the Basic Multilingual Plane can be set (libharu's UTF-8 encoder): other
 * characters, CJK and scripts without a font here print as "?".
 */
#include "postgres.h"

#include <sys/stat.h>

#include <hpdf_font.h>
#include <hpdf_fontdef.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "pdf_text.h"
#include "refuge.h"

static char *font_dir = NULL;

void
RefugePdfInit(void)
{
	DefineCustomStringVariable("refuge.font_dir",
							   "Directory of the Noto TrueType fonts of printed documents.",
							   "Debian's fonts-noto-core; a script whose font is missing prints as \"?\".",
							   &font_dir, "/usr/share/fonts/truetype/noto", PGC_SUSET, 0, NULL, NULL, NULL);
}

/* font files per script, [bold][candidate] */
static const struct
{
	const char *name;
	const char *files[2][2];
}			script_fonts[PDF_NSCRIPTS] =
{
	[PDF_LATIN] = {"Latin", {{"NotoSans-Regular.ttf"}, {"NotoSans-Bold.ttf"}}},
	[PDF_ARABIC] = {"Arabic", {{"NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf"},
	{"NotoSansArabic-Bold.ttf", "NotoNaskhArabic-Bold.ttf"}}},
	[PDF_HEBREW] = {"Hebrew", {{"NotoSansHebrew-Regular.ttf"}, {"NotoSansHebrew-Bold.ttf"}}},
	[PDF_ETHIOPIC] = {"Ethiopic", {{"NotoSansEthiopic-Regular.ttf"}, {"NotoSansEthiopic-Bold.ttf"}}},
	[PDF_ARMENIAN] = {"Armenian", {{"NotoSansArmenian-Regular.ttf"}, {"NotoSansArmenian-Bold.ttf"}}},
	[PDF_GEORGIAN] = {"Georgian", {{"NotoSansGeorgian-Regular.ttf"}, {"NotoSansGeorgian-Bold.ttf"}}},
	[PDF_THAI] = {"Thai", {{"NotoSansThai-Regular.ttf"}, {"NotoSansThai-Bold.ttf"}}},
	[PDF_DEVANAGARI] = {"Devanagari", {{"NotoSansDevanagari-Regular.ttf"}, {"NotoSansDevanagari-Bold.ttf"}}},
	[PDF_BENGALI] = {"Bengali", {{"NotoSansBengali-Regular.ttf"}, {"NotoSansBengali-Bold.ttf"}}},
	[PDF_GURMUKHI] = {"Gurmukhi", {{"NotoSansGurmukhi-Regular.ttf"}, {"NotoSansGurmukhi-Bold.ttf"}}},
	[PDF_GUJARATI] = {"Gujarati", {{"NotoSansGujarati-Regular.ttf"}, {"NotoSansGujarati-Bold.ttf"}}},
	[PDF_TAMIL] = {"Tamil", {{"NotoSansTamil-Regular.ttf"}, {"NotoSansTamil-Bold.ttf"}}},
	[PDF_SINHALA] = {"Sinhala", {{"NotoSansSinhala-Regular.ttf"}, {"NotoSansSinhala-Bold.ttf"}}},
	[PDF_MYANMAR] = {"Myanmar", {{"NotoSansMyanmar-Regular.ttf"}, {"NotoSansMyanmar-Bold.ttf"}}},
	[PDF_KHMER] = {"Khmer", {{"NotoSansKhmer-Regular.ttf"}, {"NotoSansKhmer-Bold.ttf"}}},
};

/*
 * The font of a character, by block, as the Noto fonts cover them (the
 * script fonts carry their own punctuation and digits; spaces and ASCII go
 * to NotoSans).  Sorted; a character in no range prints as "?".
 */
static const struct
{
	uint32		lo;
	uint32		hi;
	uint8		script;
}			script_ranges[] =
{
	{0x0020, 0x052F, PDF_LATIN},	/* Latin, IPA, Greek, Cyrillic */
	{0x0530, 0x058F, PDF_ARMENIAN},
	{0x0590, 0x05FF, PDF_HEBREW},
	{0x0600, 0x06FF, PDF_ARABIC},
	{0x0750, 0x077F, PDF_ARABIC},
	{0x08A0, 0x08FF, PDF_ARABIC},
	{0x0900, 0x097F, PDF_DEVANAGARI},
	{0x0980, 0x09FF, PDF_BENGALI},
	{0x0A00, 0x0A7F, PDF_GURMUKHI},
	{0x0A80, 0x0AFF, PDF_GUJARATI},
	{0x0B80, 0x0BFF, PDF_TAMIL},
	{0x0D80, 0x0DFF, PDF_SINHALA},
	{0x0E00, 0x0E7F, PDF_THAI},
	{0x1000, 0x109F, PDF_MYANMAR},
	{0x10A0, 0x10FF, PDF_GEORGIAN},
	{0x1200, 0x139F, PDF_ETHIOPIC},
	{0x1780, 0x17FF, PDF_KHMER},
	{0x19E0, 0x19FF, PDF_KHMER},
	{0x1AB0, 0x1AFF, PDF_LATIN},
	{0x1C80, 0x1C8F, PDF_LATIN},
	{0x1C90, 0x1CBF, PDF_GEORGIAN},
	{0x1D00, 0x1FFF, PDF_LATIN},
	{0x2000, 0x20CF, PDF_LATIN},	/* punctuation, currency */
	{0x2100, 0x215F, PDF_LATIN},
	{0x2C60, 0x2C7F, PDF_LATIN},
	{0x2D00, 0x2D2F, PDF_GEORGIAN},
	{0x2D80, 0x2DDF, PDF_ETHIOPIC},
	{0x2DE0, 0x2E52, PDF_LATIN},
	{0xA640, 0xA69F, PDF_LATIN},
	{0xA700, 0xA7FF, PDF_LATIN},
	{0xA9E0, 0xA9FF, PDF_MYANMAR},
	{0xAA60, 0xAA7F, PDF_MYANMAR},
	{0xAB00, 0xAB2F, PDF_ETHIOPIC},
	{0xAB30, 0xAB6F, PDF_LATIN},
	{0xFB00, 0xFB06, PDF_LATIN},
	{0xFB13, 0xFB17, PDF_ARMENIAN},
	{0xFB1D, 0xFB4F, PDF_HEBREW},
	{0xFB50, 0xFDFF, PDF_ARABIC},	/* presentation forms A */
	{0xFE20, 0xFE2F, PDF_LATIN},
	{0xFE70, 0xFEFE, PDF_ARABIC},	/* presentation forms B */
};

static int
ScriptOf(uint32 c)
{
	int			lo = 0,
				hi = lengthof(script_ranges) - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (c < script_ranges[mid].lo)
			hi = mid - 1;
		else if (c > script_ranges[mid].hi)
			lo = mid + 1;
		else
			return script_ranges[mid].script;
	}
	return -1;
}

/* Invisible format characters: they steer bidi and joining, then are not drawn. */
static bool
IsFormatChar(uint32 c)
{
	return c == 0x00AD || (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
		(c >= 0x2060 && c <= 0x206F) || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF;
}

/* Windows-1252 at 0x80-0x9F (0: unassigned) */
static const uint16 cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178
};

/* The byte of a character in the standard fonts (WinAnsiEncoding), 0 if none */
static int
WinAnsiByte(uint32 c)
{
	if ((c >= 0x20 && c < 0x7F) || (c >= 0xA0 && c <= 0xFF))
		return (int) c;
	for (int i = 0; i < 32; i++)
		if (cp1252_high[i] != 0 && cp1252_high[i] == c)
			return 0x80 + i;
	return 0;
}

/*
 * The next code point of s[0..len), len > 0; a malformed sequence (the
 * database's text is valid UTF-8, but this does not rely on it) is one byte
 * of U+FFFD.
 */
static uint32
DecodeUtf8(const unsigned char *s, int len, int *n)
{
	uint32		c = s[0];
	uint32		min;
	int			need;

	*n = 1;
	if (c < 0x80)
		return c;
	else if ((c & 0xE0) == 0xC0)
		need = 1, c &= 0x1F, min = 0x80;
	else if ((c & 0xF0) == 0xE0)
		need = 2, c &= 0x0F, min = 0x800;
	else if ((c & 0xF8) == 0xF0)
		need = 3, c &= 0x07, min = 0x10000;
	else
		return 0xFFFD;
	if (need >= len)
		return 0xFFFD;
	for (int i = 1; i <= need; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0xFFFD;
	*n = need + 1;
	return c;
}

/* The longest prefix of s[0..len) of at most max bytes that ends between characters */
int
PdfClipUtf8(const char *s, int len, int max)
{
	if (len <= max)
		return len;
	while (max > 0 && (((unsigned char) s[max]) & 0xC0) == 0x80)
		max--;
	return max;
}

/* Does a text need more than the standard fonts (Windows-1252)? */
bool
PdfNeedsUnicode(const char *s, int len)
{
	const unsigned char *p = (const unsigned char *) s;

	while (len > 0)
	{
		int			n;
		uint32		c = DecodeUtf8(p, len, &n);

		/* controls and malformed sequences print as spaces or '?' */
		if (c >= 0x20 && !(c >= 0x7F && c < 0xA0) && c != 0xFFFD && WinAnsiByte(c) == 0)
			return true;
		p += n;
		len -= n;
	}
	return false;
}

void
PdfFontsInit(PdfFonts *f, HPDF_Doc doc, HPDF_STATUS *error, bool unicode)
{
	memset(f, 0, sizeof(*f));
	f->doc = doc;
	f->error = error;
	f->unicode = unicode;
	if (unicode)
		HPDF_UseUTFEncodings(doc);
}

static HPDF_Font
Helvetica(PdfFonts *f, bool bold)
{
	if (f->helvetica[bold] == NULL)
		f->helvetica[bold] = HPDF_GetFont(f->doc, bold ? "Helvetica-Bold" : "Helvetica", "WinAnsiEncoding");
	return f->helvetica[bold];
}

/*
 * Load a script's font file.  A file that is absent is looked for with
 * stat() first, so that libharu records no error; one it cannot read is
 * forgotten (its error reset): either way the script falls back.
 */
static HPDF_Font
LoadFont(PdfFonts *f, int script, bool bold)
{
	for (int k = 0; k < 2; k++)
	{
		const char *file = script_fonts[script].files[bold][k];
		char		path[MAXPGPATH];
		struct stat st;
		const char *name;
		HPDF_Font	font = NULL;
		HPDF_STATUS before = *f->error;

		if (file == NULL)
			break;
		snprintf(path, sizeof(path), "%s/%s", font_dir ? font_dir : "", file);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		name = HPDF_LoadTTFontFromFile(f->doc, path, HPDF_TRUE);
		if (name != NULL)
			font = HPDF_GetFont(f->doc, name, "UTF-8");
		if (font != NULL)
			return font;
		HPDF_ResetError(f->doc);
		*f->error = before;
		ereport(WARNING,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("font file \"%s\" could not be loaded", path),
				 errhint("Check refuge.font_dir.")));
	}
	return NULL;
}

/* The font of a script in a weight, loaded the first time it is needed; NULL if none. */
static HPDF_Font
ScriptFont(PdfFonts *f, int script, bool bold)
{
	if (!f->unicode)
		return script == PDF_LATIN ? Helvetica(f, bold) : NULL;
	if (!f->tried[script][bold])
	{
		HPDF_Font	font = LoadFont(f, script, bold);

		f->tried[script][bold] = true;
		if (font == NULL && bold)
		{
			/* the regular weight, or Helvetica-Bold below */
			font = ScriptFont(f, script, false);
			if (font == f->helvetica[0])
				font = NULL;
		}
		else if (font == NULL)
			ereport(WARNING,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("no %s font in refuge.font_dir \"%s\"", script_fonts[script].name,
							font_dir ? font_dir : ""),
					 errdetail(script == PDF_LATIN ?
							   "Latin text prints in Helvetica, characters outside Windows-1252 as \"?\"." :
							   "Its characters print as \"?\"."),
					 errhint("Install fonts-noto-core, or set refuge.font_dir to where %s is.",
							 script_fonts[script].files[0][0])));
		f->font[script][bold] = font;
	}
	if (f->font[script][bold] == NULL && script == PDF_LATIN)
		return Helvetica(f, bold);
	return f->font[script][bold];
}

/*
 * libharu 2.3.0 embeds the glyphs a document uses and the components of
 * those that are composite, but not the components of components (fixed in
 * 2.4): Noto Sans Arabic's final noon, teh marbuta and feh, among others,
 * would print as a lone dot.  Before the document is saved, add them, read
 * from the font file libharu keeps open (its parsed loca table gives each
 * glyph's place).  This uses libharu's installed internal headers.
 */
static void
EmbedComponents(PdfFonts *f, HPDF_Font font)
{
	HPDF_FontDef def = ((HPDF_FontAttr) font->attr)->fontdef;
	HPDF_TTFontDefAttr a;
	uint16	   *todo;
	int			ntodo = 0;

	if (def->type != HPDF_FONTDEF_TYPE_TRUETYPE)
		return;
	a = (HPDF_TTFontDefAttr) def->attr;
	if (!a->embedding || a->stream == NULL || a->glyph_tbl.flgs == NULL || a->glyph_tbl.offsets == NULL)
		return;
	todo = palloc(sizeof(uint16) * (a->num_glyphs + 1));
	for (int g = 0; g < a->num_glyphs; g++)
		if (a->glyph_tbl.flgs[g] == 1)
			todo[ntodo++] = (uint16) g;
	while (ntodo > 0)
	{
		int			g = todo[--ntodo];
		uint32		start = a->glyph_tbl.offsets[g];
		uint32		end = a->glyph_tbl.offsets[g + 1];
		HPDF_BYTE	buf[4096];
		HPDF_UINT	n;
		HPDF_UINT	p = 10;		/* numberOfContours and the bounding box */
		uint16		flags;

		if (a->header.index_to_loc_format == 0)
			start *= 2, end *= 2;
		if (end <= start)
			continue;			/* no outline */
		n = Min(end - start, sizeof(buf));
		if (HPDF_Stream_Seek(a->stream, a->glyph_tbl.base_offset + start, HPDF_SEEK_SET) != HPDF_OK ||
			HPDF_Stream_Read(a->stream, buf, &n) != HPDF_OK)
			break;				/* libharu's save reports it */
		if (n < 10 || (int16) ((buf[0] << 8) | buf[1]) >= 0)
			continue;			/* a simple glyph */
		do
		{
			uint16		component;

			if (p + 4 > n)
				break;
			flags = (buf[p] << 8) | buf[p + 1];
			component = (buf[p + 2] << 8) | buf[p + 3];
			p += 4 + ((flags & 0x0001) ? 4 : 2);	/* arguments: words or bytes */
			if (flags & 0x0008)
				p += 2;			/* a scale */
			else if (flags & 0x0040)
				p += 4;			/* x and y scales */
			else if (flags & 0x0080)
				p += 8;			/* a 2 by 2 matrix */
			if (component < a->num_glyphs && a->glyph_tbl.flgs[component] != 1)
			{
				a->glyph_tbl.flgs[component] = 1;
				todo[ntodo++] = component;
			}
		} while (flags & 0x0020);	/* more components */
	}
	pfree(todo);
}

/*
 * libharu 2.3.0 writes its UTF-8 CMap (begincidrange) as the fonts'
 * ToUnicode map, which is not one: readers that reject it cannot copy or
 * search the text.  Our codes are the characters themselves (Identity-H,
 * CID = code point), so the right map is the identity over the Basic
 * Multilingual Plane (without surrogates), written in bfrange blocks of at
 * most 100, over the stream libharu made.
 */
static void
FixToUnicode(HPDF_Font font, const char *cmap)
{
	HPDF_FontAttr attr = (HPDF_FontAttr) font->attr;

	if (attr->type != HPDF_FONT_TYPE0_TT || attr->cmap_stream == NULL || attr->cmap_stream->stream == NULL)
		return;
	HPDF_MemStream_FreeData(attr->cmap_stream->stream);
	HPDF_Stream_WriteStr(attr->cmap_stream->stream, cmap);
}

static char *
IdentityToUnicode(void)
{
	StringInfoData s;
	int			n = 0;

	initStringInfo(&s);
	appendStringInfoString(&s,
						   "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
						   "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
						   "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
						   "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
	for (int hi = 0; hi < 256; hi++)
	{
		if (hi >= 0xD8 && hi <= 0xDF)
			continue;
		if (n % 100 == 0)
			appendStringInfo(&s, "%d beginbfrange\n", Min(100, 248 - n));
		appendStringInfo(&s, "<%02X00> <%02XFF> <%02X00>\n", hi, hi, hi);
		if (++n % 100 == 0 || n == 248)
			appendStringInfoString(&s, "endbfrange\n");
	}
	appendStringInfoString(&s, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
	return s.data;
}

/* Before the document is saved: the fonts' glyphs complete, their ToUnicode maps right. */
void
PdfFontsFinish(PdfFonts *f)
{
	char	   *cmap = NULL;

	for (int s = 0; s < PDF_NSCRIPTS; s++)
		for (int b = 0; b < 2; b++)
			if (f->font[s][b] != NULL && f->font[s][b] != f->helvetica[0] && f->font[s][b] != f->helvetica[1])
			{
				if (cmap == NULL)
					cmap = IdentityToUnicode();
				EmbedComponents(f, f->font[s][b]);
				FixToUnicode(f->font[s][b], cmap);
			}
	if (cmap != NULL)
		pfree(cmap);
}

/*
 * Decode, bidi, shape and measure s[0..len) as one paragraph of direction
 * dir (FRIBIDI_PAR_ON: from its first strong character).
 */
PdfText *
PdfTextPrepare(PdfFonts *f, const char *s, int len, bool bold, FriBidiParType dir)
{
	PdfText    *t = palloc0(sizeof(PdfText));
	const unsigned char *p = (const unsigned char *) s;
	FriBidiBracketType *brackets;
	FriBidiArabicProp *joining;
	int			n = 0;

	t->chars = palloc(sizeof(FriBidiChar) * (len + 1));
	t->offset = palloc(sizeof(int) * (len + 1));
	for (int pos = 0; pos < len;)
	{
		int			k;
		uint32		c = DecodeUtf8(p + pos, len - pos, &k);

		/* line breaks and tabs are spaces here; other controls are not printed as such */
		if (c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
			c = ' ';
		else if (c < 0x20 || (c >= 0x7F && c < 0xA0) || c == 0xFFFD)
			c = '?';
		t->offset[n] = pos;
		t->chars[n++] = c;
		pos += k;
	}
	t->offset[n] = len;
	t->len = n;
	t->dir = dir == FRIBIDI_PAR_RTL ? FRIBIDI_PAR_RTL : FRIBIDI_PAR_LTR;
	t->types = palloc(sizeof(FriBidiCharType) * (n + 1));
	t->levels = palloc0(sizeof(FriBidiLevel) * (n + 1));
	t->font = palloc0(sizeof(HPDF_Font) * (n + 1));
	t->utf8 = palloc0(n + 1);
	t->width = palloc0(sizeof(int16) * (n + 1));
	t->visual = palloc(sizeof(FriBidiChar) * (n + 1));
	t->map = palloc(sizeof(FriBidiStrIndex) * (n + 1));
	if (n == 0)
		return t;

	brackets = palloc(sizeof(FriBidiBracketType) * n);
	joining = palloc(sizeof(FriBidiArabicProp) * n);
	fribidi_get_bidi_types(t->chars, n, t->types);
	fribidi_get_bracket_types(t->chars, n, t->types, brackets);
	if (fribidi_get_par_embedding_levels_ex(t->types, brackets, n, &dir, t->levels) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not lay out bidirectional text")));
	t->dir = dir == FRIBIDI_PAR_RTL ? FRIBIDI_PAR_RTL : FRIBIDI_PAR_LTR;
	fribidi_get_joining_types(t->chars, n, joining);
	fribidi_join_arabic(t->types, n, t->levels, joining);
	/* mirrored brackets in right-to-left runs, Arabic contextual forms and ligatures */
	fribidi_shape(FRIBIDI_FLAGS_DEFAULT | FRIBIDI_FLAGS_ARABIC, t->levels, n, joining, t->chars);
	pfree(brackets);
	pfree(joining);

	for (int i = 0; i < n; i++)
	{
		uint32		c = t->chars[i];
		int			script;
		HPDF_Font	font;

		if (IsFormatChar(c))
			continue;			/* font NULL: not drawn, no width */
		script = c > 0xFFFF ? -1 : ScriptOf(c);
		font = script >= 0 ? ScriptFont(f, script, bold) : NULL;
		if (font == NULL)
		{
			/* no font for it: a visible replacement */
			c = '?';
			font = ScriptFont(f, PDF_LATIN, bold);
		}
		t->utf8[i] = font != f->helvetica[0] && font != f->helvetica[1];
		if (!t->utf8[i] && WinAnsiByte(c) == 0)
			c = '?';
		t->chars[i] = c;
		t->font[i] = font;
		t->width[i] = (int16) HPDF_Font_GetUnicodeWidth(font, (HPDF_UNICODE) c);
	}
	return t;
}

/* Width of characters [start, end), thousandths of an em */
float
PdfTextUnits(const PdfText *t, int start, int end)
{
	float		w = 0;

	for (int i = start; i < end; i++)
		w += t->width[i];
	return w;
}

/*
 * The end of the line that starts at start and is at most max_units wide:
 * at a space (or after an Ethiopic word space), else inside the word that
 * does not fit (never before a zero-width mark); at least one character.
 */
int
PdfTextBreak(const PdfText *t, int start, float max_units)
{
	float		w = 0;
	int			brk = -1;

	for (int i = start; i < t->len; i++)
	{
		FriBidiChar c = t->chars[i];

		if ((c == ' ' || c == 0x200B) && i > start)
			brk = i;
		w += t->width[i];
		if (w > max_units && i > start)
		{
			int			k = i;

			if (brk > start)
				return brk;
			while (k > start + 1 && t->width[k] == 0)
				k--;
			return k;
		}
		if (c == 0x1361)
			brk = i + 1;
	}
	return t->len;
}

/* The start of the next line: after the spaces a line ended at */
int
PdfTextSkipSpaces(const PdfText *t, int pos)
{
	while (pos < t->len && (t->chars[pos] == ' ' || t->chars[pos] == 0x200B))
		pos++;
	return pos;
}

static char *
EncodeUtf8(char *o, uint32 c)
{
	if (c < 0x80)
		*o++ = (char) c;
	else if (c < 0x800)
	{
		*o++ = (char) (0xC0 | (c >> 6));
		*o++ = (char) (0x80 | (c & 0x3F));
	}
	else
	{
		*o++ = (char) (0xE0 | (c >> 12));
		*o++ = (char) (0x80 | ((c >> 6) & 0x3F));
		*o++ = (char) (0x80 | (c & 0x3F));
	}
	return o;
}

/*
 * Draw characters [start, end) as one line with its left end at x and
 * baseline y: reordered into visual order (rules L1-L4), then left to right
 * in runs of one font.  Not inside a text object.
 */
void
PdfTextDraw(PdfText *t, HPDF_Page page, int start, int end, float x, float y, float size)
{
	char	   *buf;
	int			p;

	if (end <= start)
		return;
	for (int i = start; i < end; i++)
	{
		t->visual[i] = t->chars[i];
		t->map[i] = i;
	}
	if (fribidi_reorder_line(FRIBIDI_FLAGS_DEFAULT, t->types, end - start, start, t->dir,
							 t->levels, t->visual, t->map) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not lay out bidirectional text")));

	buf = palloc((end - start) * 3 + 1);
	HPDF_Page_BeginText(page);
	p = start;
	while (p < end)
	{
		HPDF_Font	font = t->font[t->map[p]];
		bool		utf8 = t->utf8[t->map[p]];
		char	   *o = buf;
		float		units = 0;

		if (font == NULL)
		{
			p++;
			continue;
		}
		/* a run: the characters of this font, and the undrawn ones among them */
		for (; p < end && (t->font[t->map[p]] == font || t->font[t->map[p]] == NULL); p++)
		{
			int			li = t->map[p];

			if (t->font[li] == NULL)
				continue;
			if (utf8)
				o = EncodeUtf8(o, t->chars[li]);
			else
				*o++ = (char) WinAnsiByte(t->chars[li]);
			units += t->width[li];
		}
		*o = '\0';
		HPDF_Page_SetFontAndSize(page, font, size);
		HPDF_Page_TextOut(page, x, y, buf);
		x += units * size / 1000;
	}
	HPDF_Page_EndText(page);
	pfree(buf);
}

void
PdfTextFree(PdfText *t)
{
	pfree(t->chars);
	pfree(t->offset);
	pfree(t->types);
	pfree(t->levels);
	pfree(t->font);
	pfree(t->utf8);
	pfree(t->width);
	pfree(t->visual);
	pfree(t->map);
	pfree(t);
}
