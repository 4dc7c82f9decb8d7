/*
 * pdf_text.h
 *		Text in every script for the printable documents (pdf_text.c): fonts
 *		loaded per script when a document needs them, bidi, Arabic shaping,
 *		widths and line breaks.
 */
#ifndef REFUGE_PDF_TEXT_H
#define REFUGE_PDF_TEXT_H

#include <hpdf.h>
#include <fribidi.h>

/* the script families that have a font of their own */
typedef enum PdfScript
{
	PDF_LATIN,					/* Latin, Greek, Cyrillic, punctuation */
	PDF_ARABIC,
	PDF_HEBREW,
	PDF_ETHIOPIC,
	PDF_ARMENIAN,
	PDF_GEORGIAN,
	PDF_THAI,
	PDF_DEVANAGARI,
	PDF_BENGALI,
	PDF_GURMUKHI,
	PDF_GUJARATI,
	PDF_TAMIL,
	PDF_SINHALA,
	PDF_MYANMAR,
	PDF_KHMER,
	PDF_NSCRIPTS
} PdfScript;

typedef struct PdfFonts
{
	HPDF_Doc	doc;
	HPDF_STATUS *error;			/* the document's first error (pdf.c) */
	bool		unicode;		/* Noto fonts; otherwise Helvetica (Windows-1252) */
	HPDF_Font	helvetica[2];	/* [bold] */
	HPDF_Font	font[PDF_NSCRIPTS][2];
	bool		tried[PDF_NSCRIPTS][2];
} PdfFonts;

/* A paragraph (or a piece of a long one) ready to be wrapped and drawn. */
typedef struct PdfText
{
	int			len;			/* characters */
	FriBidiChar *chars;			/* shaped, in logical order */
	int		   *offset;			/* byte offset of each in the source; [len] = end */
	FriBidiCharType *types;
	FriBidiLevel *levels;
	FriBidiParType dir;			/* resolved: FRIBIDI_PAR_LTR or _RTL */
	HPDF_Font  *font;			/* NULL: not drawn (joiners, bidi marks) */
	uint8	   *utf8;			/* font takes UTF-8 (Noto), else Windows-1252 */
	int16	   *width;			/* advance in thousandths of an em */
	FriBidiChar *visual;		/* work space of PdfTextDraw */
	FriBidiStrIndex *map;
} PdfText;

#define PDF_ELLIPSIS "\xE2\x80\xA6"

extern bool PdfNeedsUnicode(const char *s, int len);
extern void PdfFontsInit(PdfFonts *f, HPDF_Doc doc, HPDF_STATUS *error, bool unicode);
extern void PdfFontsFinish(PdfFonts *f);
extern PdfText *PdfTextPrepare(PdfFonts *f, const char *s, int len, bool bold, FriBidiParType dir);
extern float PdfTextUnits(const PdfText *t, int start, int end);
extern int	PdfTextBreak(const PdfText *t, int start, float max_units);
extern int	PdfTextSkipSpaces(const PdfText *t, int pos);
extern void PdfTextDraw(PdfText *t, HPDF_Page page, int start, int end, float x, float y, float size);
extern void PdfTextFree(PdfText *t);
extern int	PdfClipUtf8(const char *s, int len, int max);

#endif							/* REFUGE_PDF_TEXT_H */
