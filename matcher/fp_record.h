/*
 * fp_record.h
 *		Fingerprint minutiae records: ISO/IEC 19794-2:2005 and ANSI INCITS
 *		378-2004 binary records (detected), NIST .xyt text, and an ISO 2005
 *		writer.  Everything is converted into one canonical frame:
 *
 *		  x, y   micrometres from the top-left corner of the image, y down
 *		  angle  direction in 1/65536 turn, counter-clockwise from +x, pointing
 *		         along the ridge away from the ending / into the valley of the
 *		         bifurcation (the ISO convention; xyt differs by half a turn)
 *
 * The resolution always comes from the record or the caller; it is kept so
 * that writing back to pixels is exact.  Parsers never read past the input
 * and report the byte offset and reason of the first problem.
 */
#ifndef RF_FP_RECORD_H
#define RF_FP_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "rf_error.h"

#define FP_MAX_VIEWS		16
#define FP_MAX_MINUTIAE		255 /* per view: the count is one byte */

typedef enum fp_type
{
	FP_OTHER = 0,
	FP_ENDING = 1,
	FP_BIFURCATION = 2
} fp_type;

typedef enum fp_format
{
	FP_ISO_2005 = 1,
	FP_ANSI_2004 = 2,
	FP_XYT = 3
} fp_format;

typedef struct fp_minutia
{
	int32_t		x;				/* micrometres */
	int32_t		y;
	uint16_t	angle;			/* 1/65536 turn */
	uint8_t		type;			/* fp_type */
	uint8_t		quality;		/* 0-100; 255 unknown */
} fp_minutia;

typedef struct fp_view
{
	uint8_t		position;		/* ISO finger position 0-10 (0 unknown, 1 right thumb ... 10 left little) */
	uint8_t		view_number;
	uint8_t		impression;		/* 0 live plain, 1 live rolled, 2 non-live plain, 3 non-live rolled, 8 swipe */
	uint8_t		quality;		/* 0-100 */
	uint16_t	nminutiae;
	fp_minutia	minutiae[FP_MAX_MINUTIAE];
} fp_view;

typedef struct fp_record
{
	fp_format	format;			/* what it was read from */
	uint16_t	width;			/* image size in pixels */
	uint16_t	height;
	uint16_t	res_x;			/* pixels per centimetre (197 = 500 dpi) */
	uint16_t	res_y;
	uint16_t	device_id;		/* capture equipment id (12 bits) */
	uint8_t		certified;		/* capture equipment certification flag */
	uint16_t	cbeff_owner;	/* ANSI only */
	uint16_t	cbeff_type;
	uint8_t		nviews;
	fp_view		views[FP_MAX_VIEWS];
} fp_record;

/* Accept records followed by zero padding (as some SDKs write them). */
#define FP_ALLOW_ZERO_PADDING	0x1
/* Trust the content over the length field: accept trailing bytes, and
 * content that runs past the declared length (up to the buffer's end). */
#define FP_ALLOW_TRAILING		0x2

/* Parse an ISO/IEC 19794-2:2005 or ANSI INCITS 378-2004 record (detected). */
rf_status	fp_parse_record(const uint8_t *data, size_t len, int flags, fp_record *out, rf_error *err);

/*
 * Parse NIST .xyt text ("x y theta [quality]" per line; y up from the bottom,
 * theta counter-clockwise from east pointing away from the minutia).  The
 * image geometry and resolution come from the caller (dpi, not assumed).
 */
rf_status	fp_parse_xyt(const char *text, size_t len, int width, int height, int dpi, int position,
						 fp_record *out, rf_error *err);

/* Bytes an ISO 2005 record of this record needs. */
size_t		fp_iso_size(const fp_record *rec);

/* Write an ISO/IEC 19794-2:2005 record (no extended data). */
rf_status	fp_write_iso(const fp_record *rec, uint8_t *out, size_t cap, size_t *len, rf_error *err);

/* Bytes an ANSI INCITS 378-2004 record of this record needs. */
size_t		fp_ansi_size(const fp_record *rec);

/*
 * Write an ANSI INCITS 378-2004 record (2-byte length, or 0 and a 4-byte one
 * from 65,536 bytes; angles in 2-degree units).  CBEFF owner and type are the
 * record's (0 when it came from elsewhere).
 */
rf_status	fp_write_ansi(const fp_record *rec, uint8_t *out, size_t cap, size_t *len, rf_error *err);

/*
 * Write one view as NIST .xyt text ("x y theta quality" lines; y up from the
 * bottom, theta turned half a turn back).  Returns the bytes written (without
 * a terminating zero), or 0 when cap is too small.
 */
size_t		fp_write_xyt(const fp_record *rec, int view, char *out, size_t cap);

/* Pixels per centimetre for a resolution in dots per inch, and back. */
int			fp_ppcm_from_dpi(int dpi);
int			fp_dpi_from_ppcm(int ppcm);

#endif							/* RF_FP_RECORD_H */
