/*
 * image.h
 *		Images checked as they enter, decoded for other libraries (image.c).
 */
#ifndef REFUGE_IMAGE_H
#define REFUGE_IMAGE_H

/* images checked as they enter, decoded for other libraries */
extern void RefugeImageInit(void);
extern int	RefugeMaxCaptureImageBytes(void);
extern void RefugeImageCheck(const uint8 *data, size_t len, const char *media_type, const char *field,
							 const char **checked_type, int *width, int *height);
extern uint8 *RefugeImageDecodeRGB(const uint8 *data, size_t len, int max_w, int max_h, int *out_w,
								   int *out_h, const char **why);

#endif							/* REFUGE_IMAGE_H */
