/*
 * pdf.c
 *		Printable documents (the Resettlement Registration Form) with libharu.
 *
 * The content and every access decision are SQL's (refuge.rrf_pdf); this
 * file only lays out lines of the form "KIND<tab>text[<tab>text]" on A4
 * pages: TITLE, SUB, SECTION, MEMBER (a member's heading), PHOTO (index of
 * an image, 0 for none), FIELD (label, value), TEXT (a wrapped paragraph)
 * and NOTE (heading, wrapped text).  Text is set in the standard Helvetica
 * fonts, so characters outside Windows-1252 print as '?'.
 *
 * libharu reports errors through a callback; ours only records the first
 * one (never longjmps out of the library), and the document is freed before
 * any ereport.  Nothing untrusted reaches libharu's parsers: photos are
 * decoded by image.c (libpng and libjpeg under our own error handling,
 * dimensions checked first) and handed over as raw pixels.  libharu's
 * memory comes from a memory context of ours with a ceiling, so it is
 * accounted for and released on any error.  Long text is measured a window
 * at a time (libharu measures to the end of the string it is given), every
 * line checks for interrupts, and a document stops at PDF_MAX_PAGES.
 */
#include "postgres.h"

#include <hpdf.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "image.h"

PG_FUNCTION_INFO_V1(refuge_render_pdf);

#define PAGE_MARGIN		50.0f
#define PHOTO_W			72.0f
#define PHOTO_H			90.0f
/* photos are printed at about 240 dpi */
#define PHOTO_PX_W		240
#define PHOTO_PX_H		300
#define PDF_MAX_PAGES	300
#define PDF_MAX_MEMORY	(256L * 1024 * 1024)
/* bytes of a paragraph measured at a time: more than any line holds */
#define MEASURE_WINDOW	600

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
	HPDF_Font	regular;
	HPDF_Font	bold;
	float		y;				/* baseline of the next line */
	float		photo_bottom;	/* the current member's photo ends here */
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

/* UTF-8 to Windows-1252 for the standard fonts: Latin-1 passes, the rest is '?'. */
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

static void
Footer(PdfState *st)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "Page %d", st->pages);
	HPDF_Page_BeginText(st->page);
	HPDF_Page_SetFontAndSize(st->page, st->regular, 8);
	HPDF_Page_TextOut(st->page, PAGE_MARGIN, 25, "Resettlement Registration Form - confidential");
	HPDF_Page_TextOut(st->page, HPDF_Page_GetWidth(st->page) - PAGE_MARGIN - 40, 25, buf);
	HPDF_Page_EndText(st->page);
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
	HPDF_Page_SetSize(st->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
	st->pages++;
	st->y = HPDF_Page_GetHeight(st->page) - PAGE_MARGIN;
	st->photo_bottom = st->y;
}

/* Room for height points below y, or a new page. */
static void
Need(PdfState *st, float height)
{
	if (st->y - height < PAGE_MARGIN + 20)
		NewPage(st);
}

static void
Line(PdfState *st, HPDF_Font font, float size, float x, const char *text)
{
	char	   *t = ToWinAnsi(text);

	Need(st, size + 4);
	HPDF_Page_BeginText(st->page);
	HPDF_Page_SetFontAndSize(st->page, font, size);
	HPDF_Page_TextOut(st->page, x, st->y - size, t);
	HPDF_Page_EndText(st->page);
	st->y -= size + 4;
	pfree(t);
}

/* A paragraph wrapped to the width between x and the right margin. */
static void
Paragraph(PdfState *st, float x, float size, const char *text)
{
	char	   *t = ToWinAnsi(text);
	char	   *rest = t;
	size_t		left = strlen(t);
	char		window[MEASURE_WINDOW + 1];
	float		width;

	HPDF_Page_SetFontAndSize(st->page, st->regular, size);
	while (left > 0 && st->error == 0)
	{
		HPDF_UINT	fit;
		size_t		n = Min(left, MEASURE_WINDOW);

		CHECK_FOR_INTERRUPTS();
		/* libharu measures to the end of what it is given: give it a window */
		memcpy(window, rest, n);
		window[n] = '\0';
		/* beside a member's photo the line stops short of it */
		width = HPDF_Page_GetWidth(st->page) - PAGE_MARGIN - x - (st->y > st->photo_bottom ? PHOTO_W + 10 : 0);
		fit = HPDF_Page_MeasureText(st->page, window, width, HPDF_TRUE, NULL);

		if (fit == 0)			/* one word wider than the line: cut it */
			fit = HPDF_Page_MeasureText(st->page, window, width, HPDF_FALSE, NULL);
		if (fit == 0)
			fit = 1;
		window[fit] = '\0';
		Need(st, size + 4);
		HPDF_Page_BeginText(st->page);
		HPDF_Page_SetFontAndSize(st->page, st->regular, size);
		HPDF_Page_TextOut(st->page, x, st->y - size, window);
		HPDF_Page_EndText(st->page);
		st->y -= size + 4;
		rest += fit;
		left -= fit;
		while (left > 0 && *rest == ' ')
		{
			rest++;
			left--;
		}
	}
	pfree(t);
}

/*
 * A member's photo, decoded by image.c into raw RGB pixels (never handed to
 * libharu's PNG or JPEG loaders); an unreadable one is replaced by a box
 * that says so.
 */
static void
Photo(PdfState *st, bytea *img)
{
	float		x = HPDF_Page_GetWidth(st->page) - PAGE_MARGIN - PHOTO_W;
	HPDF_Image	image = NULL;
	const char *label = "no photo";

	Need(st, PHOTO_H + 10);
	if (img != NULL)
	{
		int			w,
					h;
		const char *why;
		uint8	   *rgb = RefugeImageDecodeRGB((const uint8 *) VARDATA_ANY(img), VARSIZE_ANY_EXHDR(img),
											   PHOTO_PX_W, PHOTO_PX_H, &w, &h, &why);

		if (rgb != NULL)
		{
			HPDF_STATUS before = st->error;

			image = HPDF_LoadRawImageFromMem(st->doc, rgb, w, h, HPDF_CS_DEVICE_RGB, 8);
			if (image == NULL)
				st->error = before;
			pfree(rgb);
		}
		if (image == NULL)
			label = "photo unreadable";
	}
	if (image != NULL)
		HPDF_Page_DrawImage(st->page, image, x, st->y - PHOTO_H, PHOTO_W, PHOTO_H);
	else
	{
		HPDF_Page_SetLineWidth(st->page, 0.5);
		HPDF_Page_Rectangle(st->page, x, st->y - PHOTO_H, PHOTO_W, PHOTO_H);
		HPDF_Page_Stroke(st->page);
		HPDF_Page_BeginText(st->page);
		HPDF_Page_SetFontAndSize(st->page, st->regular, 8);
		HPDF_Page_TextOut(st->page, x + 6, st->y - PHOTO_H / 2, label);
		HPDF_Page_EndText(st->page);
	}
	st->photo_bottom = st->y - PHOTO_H - 6;
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

	deconstruct_array(lines, TEXTOID, -1, false, TYPALIGN_INT, &ldat, &lnull, &nlines);
	if (images)
		deconstruct_array(images, BYTEAOID, -1, false, TYPALIGN_INT, &idat, &inull, &nimages);

	memset(&st, 0, sizeof(st));
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
		st.regular = HPDF_GetFont(st.doc, "Helvetica", "WinAnsiEncoding");
		st.bold = HPDF_GetFont(st.doc, "Helvetica-Bold", "WinAnsiEncoding");
		NewPage(&st);

		for (int i = 0; i < nlines && st.error == 0; i++)
		{
			char	   *line;
			char	   *kind;
			char	   *a;
			char	   *b;

			CHECK_FOR_INTERRUPTS();
			if (lnull[i])
				continue;
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
				Line(&st, st.bold, 18, PAGE_MARGIN, a);
			else if (strcmp(kind, "SUB") == 0)
			{
				Line(&st, st.regular, 9, PAGE_MARGIN, a);
				st.y -= 6;
			}
			else if (strcmp(kind, "SECTION") == 0)
			{
				st.y = Min(st.y, st.photo_bottom) - 8;
				Need(&st, 40);
				Line(&st, st.bold, 13, PAGE_MARGIN, a);
				HPDF_Page_SetLineWidth(st.page, 0.7);
				HPDF_Page_MoveTo(st.page, PAGE_MARGIN, st.y + 1);
				HPDF_Page_LineTo(st.page, HPDF_Page_GetWidth(st.page) - PAGE_MARGIN, st.y + 1);
				HPDF_Page_Stroke(st.page);
				st.y -= 6;
			}
			else if (strcmp(kind, "MEMBER") == 0)
			{
				st.y = Min(st.y, st.photo_bottom) - 6;
				Need(&st, PHOTO_H + 30);
				Line(&st, st.bold, 11, PAGE_MARGIN, a);
			}
			else if (strcmp(kind, "PHOTO") == 0)
			{
				int			k = atoi(a);

				Photo(&st, (k >= 1 && k <= nimages && !inull[k - 1]) ? DatumGetByteaPP(idat[k - 1]) : NULL);
			}
			else if (strcmp(kind, "FIELD") == 0)
			{
				char	   *label = ToWinAnsi(a);

				Need(&st, 13);
				HPDF_Page_BeginText(st.page);
				HPDF_Page_SetFontAndSize(st.page, st.bold, 9);
				HPDF_Page_TextOut(st.page, PAGE_MARGIN, st.y - 9, label);
				HPDF_Page_EndText(st.page);
				pfree(label);
				Paragraph(&st, PAGE_MARGIN + 130, 9, b);
			}
			else if (strcmp(kind, "TEXT") == 0)
			{
				Paragraph(&st, PAGE_MARGIN, 10, a);
				st.y -= 4;
			}
			else if (strcmp(kind, "NOTE") == 0)
			{
				Line(&st, st.bold, 9, PAGE_MARGIN, a);
				Paragraph(&st, PAGE_MARGIN + 10, 9, b);
				st.y -= 4;
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("lines[%d]: \"%s\" is not TITLE, SUB, SECTION, MEMBER, PHOTO, FIELD, TEXT or NOTE",
								i + 1, kind)));
			pfree(line);
		}
		Footer(&st);

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
		/* everything libharu allocated is in pdf_context */
		MemoryContextDelete(pdf_context);
		pdf_context = NULL;
	}
	PG_END_TRY();

	if (st.error != 0 || result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the PDF could not be made (libharu error 0x%04X, detail %u)",
						(unsigned int) st.error, (unsigned int) st.detail)));
	PG_RETURN_BYTEA_P(result);
}
