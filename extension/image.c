/*
 * image.c
 *		Images that enter Refuge (vault captures, photos on forms): checked
 *		when they arrive, decoded only here, under our own error handling.
 *
 * A corrupt PNG made libharu's PNG loader abort the backend (libpng error
 * without a recovery point), and a 389 KB PNG of 20,000 x 20,000 pixels
 * cost 418 MB outside PostgreSQL's accounting.  So:
 *
 *	- refuge.image_check() validates an image before it is stored: the media
 *	  type against the bytes, the header, the dimensions and size against
 *	  the limits below, and (PNG, JPEG) a full decode that must succeed
 *	  without a warning.  JPEG 2000 and WSQ (finger and iris captures that
 *	  only the vault holds and Refuge never decodes) are checked up to their
 *	  headers.
 *	- RefugeImageDecodeRGB() is the only way an image reaches another C
 *	  library: PNG through libpng's simplified API (which traps its own
 *	  errors), JPEG through libjpeg with an error manager that returns here,
 *	  both after the header's dimensions were checked, the pixels into
 *	  memory that PostgreSQL accounts for, scaled down to what the caller
 *	  needs (libjpeg's own working memory is bounded, see below).  The
 *	  PDF writer gets raw pixels, never a PNG or JPEG stream.
 *
 * Limits (superuser-only settings): refuge.max_image_bytes,
 * refuge.max_image_pixels, refuge.max_capture_image_bytes.
 */
#include "postgres.h"

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>
#include <png.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "image.h"

PG_FUNCTION_INFO_V1(refuge_image_check);

static int	max_image_bytes = 5 * 1024 * 1024;
static int	max_image_pixels = 16 * 1000 * 1000;
static int	max_capture_image_bytes = 20 * 1024 * 1024;

/* The longest side accepted, whatever the pixel budget. */
#define IMAGE_MAX_SIDE	20000
/*
 * libjpeg's working memory, which it allocates itself (outside PostgreSQL's
 * accounting): a progressive JPEG keeps every coefficient of the image, two
 * bytes per pixel and component, so one is refused before decoding when
 * that would pass this bound (a 1 KB file can claim 16 megapixels).
 */
#define JPEG_MAX_MEMORY (48L * 1024 * 1024)

void
RefugeImageInit(void)
{
	DefineCustomIntVariable("refuge.max_image_bytes",
							"Largest image accepted (face, finger and iris captures, in bytes).",
							NULL, &max_image_bytes, 5 * 1024 * 1024, 1024, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("refuge.max_image_pixels",
							"Largest image accepted, in pixels (width times height).",
							"Checked from the header before anything is decoded; a larger image is refused.",
							&max_image_pixels, 16 * 1000 * 1000, 1, 100 * 1000 * 1000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("refuge.max_capture_image_bytes",
							"Total bytes of the images of one biometric capture.",
							NULL, &max_capture_image_bytes, 20 * 1024 * 1024, 1024, 256 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
}

int
RefugeMaxCaptureImageBytes(void)
{
	return max_capture_image_bytes;
}

/* ---------- what the bytes are ---------- */

typedef enum ImageFormat
{
	IMG_UNKNOWN,
	IMG_PNG,
	IMG_JPEG,
	IMG_JP2,
	IMG_J2K,
	IMG_WSQ
} ImageFormat;

static ImageFormat
sniff(const uint8 *d, size_t len)
{
	static const uint8 png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	static const uint8 jp2_sig[12] = {0, 0, 0, 12, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'};

	if (len >= 8 && memcmp(d, png_sig, 8) == 0)
		return IMG_PNG;
	if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
		return IMG_JPEG;
	if (len >= 12 && memcmp(d, jp2_sig, 12) == 0)
		return IMG_JP2;
	if (len >= 4 && d[0] == 0xFF && d[1] == 0x4F && d[2] == 0xFF && d[3] == 0x51)
		return IMG_J2K;
	if (len >= 2 && d[0] == 0xFF && d[1] == 0xA0)
		return IMG_WSQ;
	return IMG_UNKNOWN;
}

static const char *
format_media_type(ImageFormat f)
{
	switch (f)
	{
		case IMG_PNG:
			return "image/png";
		case IMG_JPEG:
			return "image/jpeg";
		case IMG_JP2:
			return "image/jp2";
		case IMG_J2K:
			return "image/j2k";
		case IMG_WSQ:
			return "image/x-wsq";
		default:
			return NULL;
	}
}

static uint32
be32(const uint8 *p)
{
	return ((uint32) p[0] << 24) | ((uint32) p[1] << 16) | ((uint32) p[2] << 8) | p[3];
}

static uint16
be16(const uint8 *p)
{
	return (uint16) ((p[0] << 8) | p[1]);
}

/* ---------- PNG: libpng's simplified API, which never aborts ---------- */

/*
 * Decode a PNG into palloc'd 8-bit pixels of the given format.  The header
 * is read first and its dimensions checked; returns NULL with *why set on
 * any failure (libpng's own message when it has one).
 */
static uint8 *
png_decode(const uint8 *data, size_t len, uint32 format, int *w, int *h, const char **why)
{
	png_image	img;
	uint8	   *buf;
	size_t		size;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, data, len))
	{
		*why = pstrdup(img.message[0] ? img.message : "unreadable PNG header");
		png_image_free(&img);
		return NULL;
	}
	if (img.width == 0 || img.height == 0 || img.width > IMAGE_MAX_SIDE || img.height > IMAGE_MAX_SIDE ||
		(uint64) img.width * img.height > (uint64) max_image_pixels)
	{
		*why = psprintf("%u x %u pixels is more than refuge.max_image_pixels (%d) allows",
						img.width, img.height, max_image_pixels);
		png_image_free(&img);
		return NULL;
	}
	img.format = format;
	size = PNG_IMAGE_SIZE(img);
	buf = palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
	{
		*why = "out of memory";
		png_image_free(&img);
		return NULL;
	}
	if (!png_image_finish_read(&img, NULL, buf, 0, NULL) || PNG_IMAGE_FAILED(img))
	{
		*why = pstrdup(img.message[0] ? img.message : "corrupt PNG data");
		png_image_free(&img);
		pfree(buf);
		return NULL;
	}
	*w = img.width;
	*h = img.height;
	png_image_free(&img);
	return buf;
}

/* ---------- JPEG: libjpeg with an error manager that returns here ---------- */

typedef struct JpegError
{
	struct jpeg_error_mgr pub;
	jmp_buf		jump;
	char		message[JMSG_LENGTH_MAX];
	int			warnings;
	bool		interrupted;
} JpegError;

/*
 * A progressive JPEG may hold any number of scans, each read in full before
 * the first scanline comes out: libjpeg reports its progress here, where a
 * file with too many scans is refused and a cancel or statement_timeout is
 * noticed (we return to our own setjmp and let PostgreSQL act on it there).
 */
#define JPEG_MAX_SCANS	100

typedef struct JpegProgress
{
	struct jpeg_progress_mgr pub;
	JpegError  *err;
} JpegProgress;

static void
jpeg_progress(j_common_ptr cinfo)
{
	JpegProgress *progress = (JpegProgress *) cinfo->progress;

	if (cinfo->is_decompressor && ((j_decompress_ptr) cinfo)->input_scan_number > JPEG_MAX_SCANS)
	{
		snprintf(progress->err->message, sizeof(progress->err->message),
				 "more than %d scans in one image", JPEG_MAX_SCANS);
		longjmp(progress->err->jump, 1);
	}
	if (InterruptPending)
	{
		progress->err->interrupted = true;
		snprintf(progress->err->message, sizeof(progress->err->message), "interrupted");
		longjmp(progress->err->jump, 1);
	}
}

static void
jpeg_error_exit(j_common_ptr cinfo)
{
	JpegError  *err = (JpegError *) cinfo->err;

	(*cinfo->err->format_message) (cinfo, err->message);
	longjmp(err->jump, 1);
}

/* corrupt entropy-coded data is only a warning to libjpeg: count it */
static void
jpeg_emit_message(j_common_ptr cinfo, int level)
{
	JpegError  *err = (JpegError *) cinfo->err;

	if (level < 0)
	{
		if (err->warnings++ == 0)
			(*cinfo->err->format_message) (cinfo, err->message);
	}
}

static void
jpeg_output_message(j_common_ptr cinfo)
{
	/* never to stderr */
}

/*
 * Decode a JPEG into palloc'd 8-bit pixels (3 channels, or 1 when gray is
 * asked), scaled down by libjpeg (1/1 .. 1/8) so that the result is at
 * least min_w x min_h when possible.  NULL with *why on any failure; a
 * warning (corrupt data) is a failure.
 */
static uint8 *
jpeg_decode(const uint8 *data, size_t len, bool gray, int min_w, int min_h, int *w, int *h,
			int *full_w, int *full_h, const char **why)
{
	struct jpeg_decompress_struct cinfo;
	JpegError	err;
	JpegProgress progress;
	uint8	   *volatile buf = NULL;
	volatile bool created = false;
	JSAMPROW	row;
	int			channels;

	memset(&cinfo, 0, sizeof(cinfo));
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = jpeg_error_exit;
	err.pub.emit_message = jpeg_emit_message;
	err.pub.output_message = jpeg_output_message;
	err.warnings = 0;
	err.interrupted = false;
	err.message[0] = '\0';
	memset(&progress, 0, sizeof(progress));
	progress.pub.progress_monitor = jpeg_progress;
	progress.err = &err;

	if (setjmp(err.jump))
	{
		if (created)
			jpeg_destroy_decompress(&cinfo);
		if (buf)
			pfree(buf);
		if (err.interrupted)
			CHECK_FOR_INTERRUPTS();		/* a cancel or timeout ends the statement here */
		*why = pstrdup(err.message[0] ? err.message : "corrupt JPEG data");
		return NULL;
	}
	jpeg_create_decompress(&cinfo);
	created = true;
	cinfo.progress = &progress.pub;
	cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
	jpeg_mem_src(&cinfo, (unsigned char *) data, (unsigned long) len);
	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK)
	{
		jpeg_destroy_decompress(&cinfo);
		*why = "no JPEG image in the data";
		return NULL;
	}
	if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
		cinfo.image_width > IMAGE_MAX_SIDE || cinfo.image_height > IMAGE_MAX_SIDE ||
		(uint64) cinfo.image_width * cinfo.image_height > (uint64) max_image_pixels)
	{
		*why = psprintf("%u x %u pixels is more than refuge.max_image_pixels (%d) allows",
						cinfo.image_width, cinfo.image_height, max_image_pixels);
		jpeg_destroy_decompress(&cinfo);
		return NULL;
	}
	if (cinfo.progressive_mode)
	{
		uint64		coefficients = 0;

		for (int c = 0; c < cinfo.num_components; c++)
			coefficients += (uint64) (cinfo.image_width / 8 + 2) * (cinfo.image_height / 8 + 2) * 64 *
				cinfo.comp_info[c].h_samp_factor * cinfo.comp_info[c].v_samp_factor /
				(cinfo.max_h_samp_factor * cinfo.max_v_samp_factor);
		if (coefficients * sizeof(JCOEF) > (uint64) JPEG_MAX_MEMORY)
		{
			*why = psprintf("a progressive JPEG of %u x %u pixels needs %llu MB to decode, more than the %ld MB allowed (save it as baseline JPEG or smaller)",
							cinfo.image_width, cinfo.image_height,
							(unsigned long long) (coefficients * sizeof(JCOEF) >> 20), JPEG_MAX_MEMORY >> 20);
			jpeg_destroy_decompress(&cinfo);
			return NULL;
		}
	}
	*full_w = cinfo.image_width;
	*full_h = cinfo.image_height;
	cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
	cinfo.scale_num = 1;
	cinfo.scale_denom = 1;
	while (cinfo.scale_denom < 8 &&
		   cinfo.image_width / (cinfo.scale_denom * 2) >= (JDIMENSION) min_w &&
		   cinfo.image_height / (cinfo.scale_denom * 2) >= (JDIMENSION) min_h)
		cinfo.scale_denom *= 2;
	jpeg_start_decompress(&cinfo);
	channels = cinfo.output_components;
	buf = palloc_extended((Size) cinfo.output_width * cinfo.output_height * channels,
						  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
	if (buf == NULL)
	{
		jpeg_destroy_decompress(&cinfo);
		*why = "out of memory";
		return NULL;
	}
	PG_TRY();
	{
		while (cinfo.output_scanline < cinfo.output_height)
		{
			CHECK_FOR_INTERRUPTS();
			row = buf + (Size) cinfo.output_scanline * cinfo.output_width * channels;
			jpeg_read_scanlines(&cinfo, &row, 1);
		}
	}
	PG_CATCH();
	{
		jpeg_destroy_decompress(&cinfo);
		PG_RE_THROW();
	}
	PG_END_TRY();
	jpeg_finish_decompress(&cinfo);
	*w = cinfo.output_width;
	*h = cinfo.output_height;
	jpeg_destroy_decompress(&cinfo);
	if (err.warnings > 0)
	{
		pfree(buf);
		*why = pstrdup(err.message[0] ? err.message : "corrupt JPEG data");
		return NULL;
	}
	return buf;
}

/* ---------- JPEG 2000 and WSQ: headers only ---------- */

/* The image header box of a JP2 file (inside the jp2h superbox). */
static bool
jp2_dimensions(const uint8 *d, size_t len, uint32 *w, uint32 *h)
{
	size_t		pos = 0;
	size_t		end = len;
	int			depth = 0;

	while (pos + 8 <= end)
	{
		uint64		box = be32(d + pos);
		uint32		type = be32(d + pos + 4);
		size_t		hdr = 8;

		if (box == 1)
		{
			if (pos + 16 > end)
				return false;
			box = ((uint64) be32(d + pos + 8) << 32) | be32(d + pos + 12);
			hdr = 16;
		}
		else if (box == 0)
			box = end - pos;
		if (box < hdr || box > end - pos)
			return false;
		if (type == 0x6a703268 && depth == 0)	/* 'jp2h': look inside */
		{
			end = pos + box;
			pos += hdr;
			depth = 1;
			continue;
		}
		if (type == 0x69686472 && depth == 1)	/* 'ihdr' */
		{
			if (box - hdr < 14)
				return false;
			*h = be32(d + pos + hdr);
			*w = be32(d + pos + hdr + 4);
			return true;
		}
		pos += box;
	}
	return false;
}

/* SIZ marker of a raw JPEG 2000 codestream (right after SOC). */
static bool
j2k_dimensions(const uint8 *d, size_t len, uint32 *w, uint32 *h)
{
	uint32		xs,
				ys,
				x0,
				y0;

	if (len < 4 + 2 + 2 + 16)
		return false;
	/* d[4..5] = Lsiz, d[6..7] = Rsiz, then Xsiz Ysiz XOsiz YOsiz */
	xs = be32(d + 8);
	ys = be32(d + 12);
	x0 = be32(d + 16);
	y0 = be32(d + 20);
	if (xs <= x0 || ys <= y0)
		return false;
	*w = xs - x0;
	*h = ys - y0;
	return true;
}

/* The frame header (SOF_WSQ, 0xFFA2) of a WSQ fingerprint image. */
static bool
wsq_dimensions(const uint8 *d, size_t len, uint32 *w, uint32 *h)
{
	size_t		pos = 2;		/* after SOI 0xFFA0 */

	while (pos + 4 <= len)
	{
		uint16		marker = be16(d + pos);
		uint16		seglen = be16(d + pos + 2);

		if ((marker & 0xFF00) != 0xFF00 || seglen < 2 || pos + 2 + seglen > len)
			return false;
		if (marker == 0xFFA2)
		{
			/* Lf(2) black(1) white(1) Y(2) X(2) ... */
			if (seglen < 8)
				return false;
			*h = be16(d + pos + 6);
			*w = be16(d + pos + 8);
			return true;
		}
		if (marker == 0xFFA3 || marker == 0xFFA1)	/* SOB or EOI before a frame */
			return false;
		pos += 2 + seglen;
	}
	return false;
}

/* ---------- the check ---------- */

/*
 * Check an image as it enters.  Raises an error naming field when the
 * media type does not match the bytes, the format is not one Refuge takes,
 * the image is too large, or it does not decode.  Fills the dimensions.
 */
void
RefugeImageCheck(const uint8 *data, size_t len, const char *media_type, const char *field,
				 const char **checked_type, int *width, int *height)
{
	ImageFormat f;
	const char *type;
	const char *why = NULL;
	uint32		w = 0,
				h = 0;
	int			dw,
				dh;

	if (len == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the image is empty", field)));
	if (len > (size_t) max_image_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s: %zu bytes is more than the %d an image may have (refuge.max_image_bytes)",
						field, len, max_image_bytes)));
	f = sniff(data, len);
	type = format_media_type(f);
	if (type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: not a PNG, JPEG, JPEG 2000 or WSQ image", field),
				 errhint("Images are image/png, image/jpeg, image/jp2 (or image/j2k) or image/x-wsq.")));
	/* image/jpg and image/wsq are common misspellings of the registered names */
	if (media_type != NULL &&
		!(strcmp(media_type, type) == 0 ||
		  (f == IMG_JPEG && strcmp(media_type, "image/jpg") == 0) ||
		  (f == IMG_WSQ && strcmp(media_type, "image/wsq") == 0)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: the media type says %s but the bytes are %s", field, media_type, type)));

	switch (f)
	{
		case IMG_PNG:
			{
				uint8	   *px = png_decode(data, len, PNG_FORMAT_GRAY, &dw, &dh, &why);

				if (px == NULL)
					break;
				pfree(px);
				w = dw;
				h = dh;
				break;
			}
		case IMG_JPEG:
			{
				/* decoded at 1/8 scale: every coefficient is still read and checked */
				int			fw,
							fh;
				uint8	   *px = jpeg_decode(data, len, true, 1, 1, &dw, &dh, &fw, &fh, &why);

				if (px == NULL)
					break;
				pfree(px);
				w = fw;
				h = fh;
				break;
			}
		case IMG_JP2:
			if (!jp2_dimensions(data, len, &w, &h))
				why = "no image header box (jp2h/ihdr) in the JPEG 2000 file";
			break;
		case IMG_J2K:
			if (!j2k_dimensions(data, len, &w, &h))
				why = "no valid SIZ marker in the JPEG 2000 codestream";
			break;
		case IMG_WSQ:
			if (!wsq_dimensions(data, len, &w, &h))
				why = "no frame header in the WSQ image";
			break;
		default:
			break;
	}
	if (why == NULL && (w == 0 || h == 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
						(uint64) w * h > (uint64) max_image_pixels))
		why = psprintf("%u x %u pixels is more than refuge.max_image_pixels (%d) allows", w, h, max_image_pixels);
	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s: not a valid %s image: %s", field, type, why)));
	*checked_type = type;
	*width = (int) w;
	*height = (int) h;
}

/*
 * refuge.image_check(data bytea, media_type text, field text) returns jsonb
 * {"media_type", "width", "height", "bytes"}; an error naming field when the
 * image is refused.
 */
Datum
refuge_image_check(PG_FUNCTION_ARGS)
{
	bytea	   *data;
	char	   *media_type = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *field = PG_ARGISNULL(2) ? "image" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	const char *type;
	int			w,
				h;
	char	   *json;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s: the image is required", field)));
	data = PG_GETARG_BYTEA_PP(0);
	RefugeImageCheck((const uint8 *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), media_type, field, &type, &w, &h);
	json = psprintf("{\"media_type\": \"%s\", \"width\": %d, \"height\": %d, \"bytes\": %zu}",
					type, w, h, (size_t) VARSIZE_ANY_EXHDR(data));
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
}

/* ---------- decoding for other libraries ---------- */

/*
 * An image as 8-bit RGB pixels no larger than max_w x max_h (box filter),
 * palloc'd.  NULL (with *why) when the image cannot be decoded: the caller
 * leaves it out.  Only PNG and JPEG decode.
 */
uint8 *
RefugeImageDecodeRGB(const uint8 *data, size_t len, int max_w, int max_h, int *out_w, int *out_h,
					 const char **why)
{
	ImageFormat f = sniff(data, len);
	uint8	   *px;
	uint8	   *out;
	int			w = 0,
				h = 0;
	int			ow,
				oh;

	*why = NULL;
	if (len > (size_t) max_image_bytes)
	{
		*why = "larger than refuge.max_image_bytes";
		return NULL;
	}
	if (f == IMG_PNG)
		px = png_decode(data, len, PNG_FORMAT_RGB, &w, &h, why);
	else if (f == IMG_JPEG)
	{
		int			fw,
					fh;

		px = jpeg_decode(data, len, false, max_w, max_h, &w, &h, &fw, &fh, why);
	}
	else
	{
		*why = "only PNG and JPEG images are printed";
		return NULL;
	}
	if (px == NULL)
		return NULL;
	/* fit inside max_w x max_h, keeping the aspect ratio */
	ow = w;
	oh = h;
	if (ow > max_w || oh > max_h)
	{
		if ((int64) w * max_h > (int64) h * max_w)
		{
			ow = max_w;
			oh = Max(1, (int) ((int64) h * max_w / w));
		}
		else
		{
			oh = max_h;
			ow = Max(1, (int) ((int64) w * max_h / h));
		}
	}
	if (ow == w && oh == h)
	{
		*out_w = w;
		*out_h = h;
		return px;
	}
	out = palloc((Size) ow * oh * 3);
	for (int y = 0; y < oh; y++)
	{
		int			y0 = (int) ((int64) y * h / oh);
		int			y1 = Max(y0 + 1, (int) ((int64) (y + 1) * h / oh));

		CHECK_FOR_INTERRUPTS();
		for (int x = 0; x < ow; x++)
		{
			int			x0 = (int) ((int64) x * w / ow);
			int			x1 = Max(x0 + 1, (int) ((int64) (x + 1) * w / ow));
			uint64		sum[3] = {0, 0, 0};
			uint64		n = (uint64) (x1 - x0) * (y1 - y0);

			for (int yy = y0; yy < y1; yy++)
			{
				const uint8 *p = px + ((Size) yy * w + x0) * 3;

				for (int xx = x0; xx < x1; xx++, p += 3)
				{
					sum[0] += p[0];
					sum[1] += p[1];
					sum[2] += p[2];
				}
			}
			for (int c = 0; c < 3; c++)
				out[((Size) y * ow + x) * 3 + c] = (uint8) ((sum[c] + n / 2) / n);
		}
	}
	pfree(px);
	*out_w = ow;
	*out_h = oh;
	return out;
}
