/*
 * pdf.c
 *		Printable documents (the Resettlement Registration Form, identity
 *		cards, attestations) with libharu.
 *
 * The content and every access decision are SQL's (refuge.rrf_pdf ...); this
 * file only lays out lines of the form "KIND<tab>text[<tab>text]":
 *
 *	PAGE	A4 or CARD: only as the first line; without it, A4
 *	TITLE	text (on a card, in the band across the top)
 *	SUB		text
 *	SECTION text
 *	MEMBER	a member's heading
 *	PHOTO	index of an image in images (1-based), 0 for none: at the right
 *			of an A4 page, at the left of a card; the lines after it go
 *			beside it
 *	FIELD	label, value (on a card: the label small, the value shrunk to
 *			fit down to a minimum size, then cut with an ellipsis)
 *	TEXT	a wrapped paragraph (right-aligned when it is right-to-left)
 *	NOTE	heading, wrapped text
 *	QR		payload (at most QR_MAX_BYTES bytes): a QR code, level M,
 *			drawn as vector squares with a 4-module quiet zone; 120 pt square
 *			at the current position on A4, at the right of a card
 *	BACK	(cards only) starts the back of the card
 *
 * A4 documents flow over up to PDF_MAX_PAGES pages; a card (ID-1, 85.6 x 54
 * mm) has a front and a back, and a line that does not fit is an error,
 * never silently dropped.
 *
 * Text in every script is set by pdf_text.c with embedded Noto fonts, bidi
 * and Arabic shaping (GNU FriBidi).  Correct: Latin, Greek, Cyrillic,
 * Armenian, Georgian, Ethiopic (Amharic, Tigrinya), Hebrew, and Arabic script
 * (Arabic, Persian, Urdu, Pashto: contextual forms, lam-alef, right to left).
 * NOT shaped correctly, because libharu has no OpenType layout: Myanmar,
 * Khmer, Devanagari, Bengali, Gurmukhi, Gujarati, Tamil and Sinhala print
 * their characters in logical order without reordering or conjuncts; the
 * marks of Arabic, Hebrew and Thai are not positioned; characters outside
 * the Basic Multilingual Plane or without a font here (CJK ...) print as "?".
 *
 * libharu reports errors through a callback; ours only records the first
 * one (never longjmps out of the library), and the document is freed before
 * any error leaves this file.  Nothing untrusted reaches libharu's parsers:
 * photos are decoded by image.c (libpng and libjpeg under our own error
 * handling, dimensions checked first) and handed over as raw pixels; fonts
 * come from the superuser's refuge.font_dir.  libharu's memory comes from a
 * memory context of ours with a ceiling, so it is accounted for and released
 * on any error (a font file it keeps open is closed by HPDF_Free).  Long
 * text is laid out TEXT_CHUNK bytes at a time, every line checks for
 * interrupts, and a document stops at PDF_MAX_PAGES.
 */
#include "postgres.h"

#include <errno.h>
#include <math.h>

#include <hpdf.h>
#include <qrencode.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "image.h"
#include "pdf_text.h"

PG_FUNCTION_INFO_V1(refuge_render_pdf);

#define PAGE_MARGIN		50.0f
#define PHOTO_W			72.0f
#define PHOTO_H			90.0f
/* photos are printed at about 240 dpi */
#define PHOTO_PX_W		240
#define PHOTO_PX_H		300
#define PDF_MAX_PAGES	300
#define PDF_MAX_MEMORY	(256L * 1024 * 1024)
/* bytes of a paragraph decoded, shaped and measured at a time: many lines' worth */
#define TEXT_CHUNK		4096
/* a line that is never wrapped (card title, label, value) is cut to this first */
#define LINE_MAX_BYTES	1000

/* ID-1 card: 85.6 x 54 mm, landscape */
#define CARD_W			242.65f
#define CARD_H			153.07f
#define CARD_MARGIN		8.0f
#define CARD_BAND		22.0f
#define CARD_PHOTO_W	56.0f
#define CARD_PHOTO_H	70.0f
#define CARD_LABEL		5.0f
#define CARD_VALUE		8.0f
#define CARD_VALUE_MIN	5.0f
#define CARD_TEXT		6.0f
/* QR codes: side with the quiet zone; the payload's limit */
#define CARD_QR_MAX		100.0f
#define CARD_QR_MIN		50.0f
#define A4_QR			120.0f
#define QR_MAX_BYTES	1200

/*
 * libharu's allocator has no user argument: the context of the document
 * being made (one at a time per backend) is kept here.
 */
static MemoryContext pdf_context = NULL;

static void *
PdfAlloc(HPDF_UINT size)
{
	if (pdf_context == NULL || MemoryContextMemAllocated(pdf_context, false) + size > PDF_MAX_MEMORY)
		return NULL;			/* libharu reports HPDF_FAILD_TO_ALLOC_MEM */
	return MemoryContextAllocExtended(pdf_context, size, MCXT_ALLOC_NO_OOM);
}

static void
PdfFree(void *p)
{
	if (p != NULL && pdf_context != NULL)
		pfree(p);
}

typedef struct PdfState
{
	HPDF_Doc	doc;
	HPDF_Page	page;
	PdfFonts	fonts;
	bool		card;			/* an ID-1 card, not A4 pages */
	bool		back;			/* on the card's back */
	int			line;			/* the line being laid out (1-based, for errors) */
	float		width;			/* of the page */
	float		margin;
	float		y;				/* top of the next line */
	float		left_w;			/* a photo at the left takes this width ... */
	float		left_bottom;	/* ... down to here */
	float		right_w;		/* the same at the right (A4 photo, card QR) */
	float		right_bottom;
	int			pages;
	HPDF_STATUS error;
	HPDF_STATUS detail;
} PdfState;

static void
PdfError(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
	PdfState   *st = (PdfState *) user_data;

	if (st->error == 0)
	{
		st->error = error_no;
		st->detail = detail_no;
	}
}

/* UTF-8 to Windows-1252 for the document's title (Info dictionary): Latin-1 passes, the rest is '?'. */
static char *
ToWinAnsi(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	char	   *out = palloc(strlen(s) + 1);
	char	   *o = out;

	while (*p)
	{
		unsigned int cp;
		int			len;

		if (*p < 0x80)
		{
			cp = *p;
			len = 1;
		}
		else if ((*p & 0xE0) == 0xC0 && p[1])
		{
			cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
			len = 2;
		}
		else if ((*p & 0xF0) == 0xE0 && p[1] && p[2])
		{
			cp = 0x10000;		/* outside Latin-1 */
			len = 3;
		}
		else if ((*p & 0xF8) == 0xF0 && p[1] && p[2] && p[3])
		{
			cp = 0x10000;
			len = 4;
		}
		else
		{
			cp = '?';
			len = 1;
		}
		*o++ = (cp >= 0xA0 && cp <= 0xFF) || (cp >= 0x20 && cp < 0x7F) ? (char) cp : (cp == '\n' ? ' ' : '?');
		p += len;
	}
	*o = '\0';
	return out;
}

/* One line, not wrapped, baseline at y. */
static void
TextAt(PdfState *st, const char *s, bool bold, float size, float x, float y)
{
	PdfText    *t = PdfTextPrepare(&st->fonts, s, PdfClipUtf8(s, strlen(s), LINE_MAX_BYTES), bold,
								   FRIBIDI_PAR_ON);

	PdfTextDraw(t, st->page, 0, t->len, x, y, size);
	PdfTextFree(t);
}

static void
Footer(PdfState *st)
{
	char		buf[64];

	if (st->card)
		return;
	snprintf(buf, sizeof(buf), "Page %d", st->pages);
	TextAt(st, "Resettlement Registration Form - confidential", false, 8, PAGE_MARGIN, 25);
	TextAt(st, buf, false, 8, st->width - PAGE_MARGIN - 40, 25);
}

static void
NewPage(PdfState *st)
{
	if (st->pages >= PDF_MAX_PAGES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the document would have more than %d pages", PDF_MAX_PAGES),
				 errdetail("A text of the form is too long to print; shorten it or attach it as a document.")));
	if (st->page)
		Footer(st);
	st->page = HPDF_AddPage(st->doc);
	if (st->card)
	{
		HPDF_Page_SetWidth(st->page, CARD_W);
		HPDF_Page_SetHeight(st->page, CARD_H);
		st->margin = CARD_MARGIN;
	}
	else
	{
		HPDF_Page_SetSize(st->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
		st->margin = PAGE_MARGIN;
	}
	st->pages++;
	st->width = HPDF_Page_GetWidth(st->page);
	st->y = HPDF_Page_GetHeight(st->page) - st->margin;
	st->left_w = st->right_w = 0;
	st->left_bottom = st->right_bottom = st->y;
}

/* Room for height points below y: a new A4 page, or on a card an error. */
static void
Need(PdfState *st, float height)
{
	if (st->card)
	{
		if (st->y - height < CARD_MARGIN)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("lines[%d] does not fit on the %s of the card", st->line,
							st->back ? "back" : "front"),
					 errdetail("A card has a front and a back (a BACK line starts it); shorten the text or print it on A4.")));
	}
	else if (st->y - height < PAGE_MARGIN + 20)
		NewPage(st);
}

/* Space between baselines */
static float
Lead(PdfState *st, float size)
{
	return st->card ? size * 1.25f : size + 4;
}

/* Where a line starting at x begins and ends: beside a photo or QR code, short of it */
static float
LineLeft(PdfState *st, float x)
{
	return x + (st->y > st->left_bottom ? st->left_w : 0);
}

static float
LineRight(PdfState *st)
{
	return st->width - st->margin - (st->y > st->right_bottom ? st->right_w : 0);
}

/*
 * A paragraph wrapped to the width between x and the right margin (short of
 * a photo beside it); a right-to-left one right-aligned if align_start.  It
 * is decoded, shaped and measured TEXT_CHUNK bytes at a time, cut at a space:
 * the last line of a piece is laid out again with the next piece, and the
 * direction of the first piece holds for the whole paragraph.
 */
static void
Paragraph(PdfState *st, float x, float size, const char *text, bool bold, bool align_start)
{
	int			total = strlen(text);
	int			done = 0;
	FriBidiParType dir = FRIBIDI_PAR_ON;

	while (done < total && st->error == 0)
	{
		int			n = PdfClipUtf8(text + done, total - done, TEXT_CHUNK);
		bool		last;
		PdfText    *t;
		int			pos = 0;

		if (n == 0)
			n = Min(total - done, TEXT_CHUNK);
		last = done + n == total;
		if (!last)
		{
			int			k = n;

			while (k > n / 2 && text[done + k - 1] != ' ')
				k--;
			if (k > n / 2)
				n = k;
		}
		t = PdfTextPrepare(&st->fonts, text + done, n, bold, dir);
		dir = t->dir;
		if (done > 0)
			pos = PdfTextSkipSpaces(t, 0);
		while (pos < t->len && st->error == 0)
		{
			float		left = LineLeft(st, x);
			int			end;
			float		width;

			CHECK_FOR_INTERRUPTS();
			end = PdfTextBreak(t, pos, (LineRight(st) - left) * 1000 / size);
			if (end == t->len && !last && pos > 0)
				break;			/* laid out again with what follows */
			Need(st, Lead(st, size));
			/* a new page has no photo beside the line: it still fits */
			left = LineLeft(st, x);
			width = PdfTextUnits(t, pos, end) * size / 1000;
			if (align_start && t->dir == FRIBIDI_PAR_RTL)
				left = LineRight(st) - width;
			PdfTextDraw(t, st->page, pos, end, left, st->y - size, size);
			st->y -= Lead(st, size);
			pos = PdfTextSkipSpaces(t, end);
		}
		done += pos < t->len ? t->offset[pos] : n;
		PdfTextFree(t);
	}
}

/*
 * One line in at most width points, baseline at y: at max_size if it fits,
 * else smaller down to min_size (half points), else cut in logical order and
 * ended with an ellipsis (so that a right-to-left name ends at its left).
 */
static void
FitLine(PdfState *st, const char *s, bool bold, float max_size, float min_size, float x, float y, float width)
{
	int			full = strlen(s);
	int			len = PdfClipUtf8(s, full, LINE_MAX_BYTES);
	PdfText    *t = PdfTextPrepare(&st->fonts, s, len, bold, FRIBIDI_PAR_ON);
	float		units = PdfTextUnits(t, 0, t->len);
	float		size = max_size;

	if (units * size / 1000 > width)
		size = Max(min_size, floorf(width * 1000 / units * 2) / 2);
	if (units * size / 1000 > width || len < full)
	{
		PdfText    *e = PdfTextPrepare(&st->fonts, PDF_ELLIPSIS, strlen(PDF_ELLIPSIS), bold, FRIBIDI_PAR_ON);
		float		room = width * 1000 / size - PdfTextUnits(e, 0, e->len);
		float		w = 0;
		int			k = 0;
		FriBidiParType dir = t->dir;
		char	   *cut;

		while (k < t->len && w + t->width[k] <= room)
			w += t->width[k++];
		while (k > 0 && t->chars[k - 1] == ' ')
			k--;
		cut = psprintf("%.*s%s", t->offset[k], s, PDF_ELLIPSIS);
		PdfTextFree(e);
		PdfTextFree(t);
		t = PdfTextPrepare(&st->fonts, cut, strlen(cut), bold, dir);
	}
	PdfTextDraw(t, st->page, 0, t->len, x, y, size);
	PdfTextFree(t);
}

/* A card's title, in a band across the top */
static void
CardTitle(PdfState *st, const char *s)
{
	HPDF_Page_SetRGBFill(st->page, 0.11f, 0.26f, 0.49f);
	HPDF_Page_Rectangle(st->page, 0, CARD_H - CARD_BAND, CARD_W, CARD_BAND);
	HPDF_Page_Fill(st->page);
	HPDF_Page_SetRGBFill(st->page, 1, 1, 1);
	FitLine(st, s, true, 9, 6, CARD_MARGIN, CARD_H - CARD_BAND / 2 - 3, CARD_W - 2 * CARD_MARGIN);
	HPDF_Page_SetRGBFill(st->page, 0, 0, 0);
	st->y = Min(st->y, CARD_H - CARD_BAND - 4);
}

/* A card's field: the label small and grey, the value below it on one line */
static void
CardField(PdfState *st, const char *label, const char *value)
{
	float		left,
				width;

	Need(st, CARD_LABEL + CARD_VALUE + 4.5f);
	left = LineLeft(st, CARD_MARGIN);
	width = LineRight(st) - left;
	HPDF_Page_SetRGBFill(st->page, 0.35f, 0.35f, 0.35f);
	FitLine(st, label, false, CARD_LABEL, CARD_LABEL, left, st->y - CARD_LABEL, width);
	HPDF_Page_SetRGBFill(st->page, 0, 0, 0);
	st->y -= CARD_LABEL + 1.5f;
	FitLine(st, value, true, CARD_VALUE, CARD_VALUE_MIN, left, st->y - CARD_VALUE, width);
	st->y -= CARD_VALUE + 3;
}

/*
 * A member's photo, decoded by image.c into raw RGB pixels (never handed to
 * libharu's PNG or JPEG loaders); an unreadable one is replaced by a box
 * that says so.  At the right of an A4 page, at the left of a card; the
 * lines that follow go beside it.
 */
static void
Photo(PdfState *st, bytea *img)
{
	float		w = st->card ? CARD_PHOTO_W : PHOTO_W;
	float		h = st->card ? CARD_PHOTO_H : PHOTO_H;
	float		x;
	HPDF_Image	image = NULL;
	const char *label = "no photo";

	Need(st, st->card ? h : h + 10);
	x = st->card ? CARD_MARGIN : st->width - PAGE_MARGIN - PHOTO_W;
	if (img != NULL)
	{
		int			pw,
					ph;
		const char *why;
		uint8	   *rgb = RefugeImageDecodeRGB((const uint8 *) VARDATA_ANY(img), VARSIZE_ANY_EXHDR(img),
											   PHOTO_PX_W, PHOTO_PX_H, &pw, &ph, &why);

		if (rgb != NULL)
		{
			HPDF_STATUS before = st->error;

			image = HPDF_LoadRawImageFromMem(st->doc, rgb, pw, ph, HPDF_CS_DEVICE_RGB, 8);
			if (image == NULL)
			{
				/* the box below instead; the document goes on */
				HPDF_ResetError(st->doc);
				st->error = before;
			}
			pfree(rgb);
		}
		if (image == NULL)
			label = "photo unreadable";
	}
	if (image != NULL)
		HPDF_Page_DrawImage(st->page, image, x, st->y - h, w, h);
	else
	{
		HPDF_Page_SetLineWidth(st->page, 0.5);
		HPDF_Page_Rectangle(st->page, x, st->y - h, w, h);
		HPDF_Page_Stroke(st->page);
		TextAt(st, label, false, st->card ? 6 : 8, x + (st->card ? 4 : 6), st->y - h / 2);
	}
	if (st->card)
	{
		st->left_w = w + 8;
		st->left_bottom = st->y - h - 4;
	}
	else
	{
		st->right_w = PHOTO_W + 10;
		st->right_bottom = st->y - PHOTO_H - 6;
	}
}

/*
 * A QR code (level M, the smallest version that holds the payload) as
 * filled squares, one rectangle per run of dark modules in a row, with a
 * quiet zone of 4 modules: on A4 at the current position, on a card at the
 * right (the lines that follow go beside it).
 */
static void
QrCode(PdfState *st, const char *payload)
{
	size_t		len = strlen(payload);
	QRcode	   *qr;
	int			n;
	uint8	   *dark;
	float		side,
				m,
				x,
				top;

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lines[%d]: a QR line needs a payload", st->line)));
	if (len > QR_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("lines[%d]: a QR code holds at most %d bytes", st->line, QR_MAX_BYTES),
				 errdetail("The payload has %zu bytes.", len)));
	errno = 0;
	qr = QRcode_encodeData((int) len, (const unsigned char *) payload, 0, QR_ECLEVEL_M);
	if (qr == NULL)
	{
		int			why = errno;

		ereport(ERROR,
				(errcode(why == ENOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INTERNAL_ERROR),
				 errmsg("could not encode the QR code of lines[%d]: %s", st->line, strerror(why))));
	}
	/* copied out and freed at once, so that no error below can leak it */
	n = qr->width;
	dark = palloc_extended((Size) n * n, MCXT_ALLOC_NO_OOM);
	if (dark != NULL)
		for (int i = 0; i < n * n; i++)
			dark[i] = qr->data[i] & 1;
	QRcode_free(qr);
	if (dark == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

	if (st->card)
	{
		side = Min(CARD_QR_MAX, st->y - CARD_MARGIN);
		if (side < CARD_QR_MIN)
			Need(st, CARD_QR_MIN);	/* the error */
		x = st->width - CARD_MARGIN - side;
	}
	else
	{
		side = A4_QR;
		Need(st, side + 6);
		x = LineLeft(st, PAGE_MARGIN);
	}
	top = st->y;
	m = side / (n + 8);
	HPDF_Page_SetRGBFill(st->page, 1, 1, 1);
	HPDF_Page_Rectangle(st->page, x, top - side, side, side);
	HPDF_Page_Fill(st->page);
	HPDF_Page_SetRGBFill(st->page, 0, 0, 0);
	for (int r = 0; r < n; r++)
	{
		for (int c = 0; c < n;)
		{
			int			c0 = c;

			if (!dark[r * n + c])
			{
				c++;
				continue;
			}
			while (c < n && dark[r * n + c])
				c++;
			HPDF_Page_Rectangle(st->page, x + (4 + c0) * m, top - (4 + r + 1) * m, (c - c0) * m, m);
		}
	}
	HPDF_Page_Fill(st->page);
	pfree(dark);
	if (st->card)
	{
		st->right_w = side + 4;
		st->right_bottom = top - side;
	}
	else
		st->y -= side + 6;
}

/* The first line, if it is PAGE: CARD or A4 (the default) */
static bool
PageKind(Datum line, bool *card)
{
	char	   *s = text_to_cstring(DatumGetTextPP(line));
	bool		is_page = strncmp(s, "PAGE", 4) == 0 && (s[4] == '\0' || s[4] == '\t');

	if (is_page)
	{
		const char *v = s[4] ? s + 5 : "";

		if (strcmp(v, "CARD") == 0)
			*card = true;
		else if (strcmp(v, "A4") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lines[1]: PAGE is A4 or CARD, not \"%s\"", v)));
	}
	pfree(s);
	return is_page;
}

/* Is any printed text outside Windows-1252?  (QR payloads are not printed as text.) */
static bool
NeedsUnicode(Datum *ldat, bool *lnull, int nlines)
{
	for (int i = 0; i < nlines; i++)
	{
		text	   *t;

		if (lnull[i])
			continue;
		t = DatumGetTextPP(ldat[i]);
		if (VARSIZE_ANY_EXHDR(t) >= 3 && memcmp(VARDATA_ANY(t), "QR\t", 3) == 0)
			continue;
		if (PdfNeedsUnicode(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
			return true;
	}
	return false;
}

Datum
refuge_render_pdf(PG_FUNCTION_ARGS)
{
	text	   *title = PG_GETARG_TEXT_PP(0);
	ArrayType  *lines = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *images = PG_ARGISNULL(2) ? NULL : PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *ldat;
	bool	   *lnull;
	int			nlines;
	Datum	   *idat = NULL;
	bool	   *inull = NULL;
	int			nimages = 0;
	PdfState	st;
	bytea	   *result = NULL;
	int			first = 0;
	MemoryContext line_context;
	MemoryContext caller_context = CurrentMemoryContext;

	deconstruct_array(lines, TEXTOID, -1, false, TYPALIGN_INT, &ldat, &lnull, &nlines);
	if (images)
		deconstruct_array(images, BYTEAOID, -1, false, TYPALIGN_INT, &idat, &inull, &nimages);

	memset(&st, 0, sizeof(st));
	if (nlines > 0 && !lnull[0] && PageKind(ldat[0], &st.card))
		first = 1;
	line_context = AllocSetContextCreate(CurrentMemoryContext, "refuge pdf line", ALLOCSET_DEFAULT_SIZES);
	pdf_context = AllocSetContextCreate(CurrentMemoryContext, "refuge pdf", ALLOCSET_DEFAULT_SIZES);
	st.doc = HPDF_NewEx(PdfError, PdfAlloc, PdfFree, 0, &st);
	if (st.doc == NULL)
	{
		MemoryContextDelete(pdf_context);
		pdf_context = NULL;
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("could not start a PDF document")));
	}

	PG_TRY();
	{
		char	   *t = ToWinAnsi(text_to_cstring(title));

		HPDF_SetCompressionMode(st.doc, HPDF_COMP_ALL);
		HPDF_SetInfoAttr(st.doc, HPDF_INFO_TITLE, t);
		HPDF_SetInfoAttr(st.doc, HPDF_INFO_CREATOR, "Refuge " REFUGE_VERSION);
		PdfFontsInit(&st.fonts, st.doc, &st.error, NeedsUnicode(ldat, lnull, nlines));
		NewPage(&st);

		for (int i = first; i < nlines && st.error == 0; i++)
		{
			char	   *line;
			char	   *kind;
			char	   *a;
			char	   *b;

			CHECK_FOR_INTERRUPTS();
			if (lnull[i])
				continue;
			st.line = i + 1;
			MemoryContextSwitchTo(line_context);
			line = text_to_cstring(DatumGetTextPP(ldat[i]));
			kind = line;
			a = strchr(line, '\t');
			if (a)
				*a++ = '\0';
			else
				a = "";
			b = strchr(a, '\t');
			if (b)
				*b++ = '\0';
			else
				b = "";

			if (strcmp(kind, "TITLE") == 0)
			{
				if (st.card)
					CardTitle(&st, a);
				else
					Paragraph(&st, PAGE_MARGIN, 18, a, true, false);
			}
			else if (strcmp(kind, "SUB") == 0)
			{
				Paragraph(&st, st.margin, st.card ? 5.5f : 9, a, false, false);
				st.y -= st.card ? 1 : 6;
			}
			else if (strcmp(kind, "SECTION") == 0)
			{
				float		size = st.card ? 7 : 13;

				st.y = Min(st.y, Min(st.left_bottom, st.right_bottom)) - (st.card ? 2 : 8);
				Need(&st, st.card ? 12 : 40);
				Paragraph(&st, st.margin, size, a, true, false);
				HPDF_Page_SetLineWidth(st.page, st.card ? 0.4 : 0.7);
				HPDF_Page_MoveTo(st.page, st.margin, st.y + 1);
				HPDF_Page_LineTo(st.page, st.width - st.margin, st.y + 1);
				HPDF_Page_Stroke(st.page);
				st.y -= st.card ? 2 : 6;
			}
			else if (strcmp(kind, "MEMBER") == 0)
			{
				st.y = Min(st.y, Min(st.left_bottom, st.right_bottom)) - (st.card ? 2 : 6);
				Need(&st, st.card ? 10 : PHOTO_H + 30);
				Paragraph(&st, st.margin, st.card ? 7 : 11, a, true, false);
			}
			else if (strcmp(kind, "PHOTO") == 0)
			{
				int			k = atoi(a);

				Photo(&st, (k >= 1 && k <= nimages && !inull[k - 1]) ? DatumGetByteaPP(idat[k - 1]) : NULL);
			}
			else if (strcmp(kind, "FIELD") == 0)
			{
				if (st.card)
					CardField(&st, a, b);
				else
				{
					Need(&st, 13);
					TextAt(&st, a, true, 9, PAGE_MARGIN, st.y - 9);
					if (*b)
						Paragraph(&st, PAGE_MARGIN + 130, 9, b, false, false);
					else
						st.y -= 13;
				}
			}
			else if (strcmp(kind, "TEXT") == 0)
			{
				Paragraph(&st, st.margin, st.card ? CARD_TEXT : 10, a, false, true);
				st.y -= st.card ? 2 : 4;
			}
			else if (strcmp(kind, "NOTE") == 0)
			{
				float		size = st.card ? CARD_TEXT : 9;

				Paragraph(&st, st.margin, size, a, true, false);
				Paragraph(&st, st.margin + (st.card ? 6 : 10), size, b, false, true);
				st.y -= st.card ? 2 : 4;
			}
			else if (strcmp(kind, "QR") == 0)
				QrCode(&st, a);
			else if (strcmp(kind, "BACK") == 0)
			{
				if (!st.card)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("lines[%d]: BACK is for a card (a first line PAGE<tab>CARD)", i + 1)));
				if (st.back)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("lines[%d]: a card has one back", i + 1)));
				st.back = true;
				NewPage(&st);
			}
			else if (strcmp(kind, "PAGE") == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("lines[%d]: PAGE can only be the first line", i + 1)));
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("lines[%d]: \"%s\" is not TITLE, SUB, SECTION, MEMBER, PHOTO, FIELD, TEXT, NOTE, QR or BACK",
								i + 1, kind)));
			MemoryContextSwitchTo(caller_context);
			MemoryContextReset(line_context);
		}
		MemoryContextSwitchTo(caller_context);
		Footer(&st);
		PdfFontsFinish(&st.fonts);

		if (st.error == 0 && HPDF_SaveToStream(st.doc) == HPDF_OK)
		{
			HPDF_UINT32 size = HPDF_GetStreamSize(st.doc);
			HPDF_UINT32 got = size;

			result = palloc(VARHDRSZ + size);
			HPDF_ResetStream(st.doc);
			if (HPDF_ReadFromStream(st.doc, (HPDF_BYTE *) VARDATA(result), &got) != HPDF_OK && got != size)
				st.error = st.error ? st.error : HPDF_FILE_IO_ERROR;
			SET_VARSIZE(result, VARHDRSZ + got);
		}
	}
	PG_FINALLY();
	{
		/*
		 * HPDF_Free closes the font files libharu keeps open; everything it
		 * allocated is in pdf_context anyway.
		 */
		MemoryContextSwitchTo(caller_context);
		HPDF_Free(st.doc);
		MemoryContextDelete(pdf_context);
		pdf_context = NULL;
		MemoryContextDelete(line_context);
	}
	PG_END_TRY();

	if (st.error != 0 || result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the PDF could not be made (libharu error 0x%04X, detail %u)",
						(unsigned int) st.error, (unsigned int) st.detail)));
	PG_RETURN_BYTEA_P(result);
}
