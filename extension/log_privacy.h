/*
 * log_privacy.h
 *		Personal data kept out of the server log (log_privacy.c).
 */
#ifndef REFUGE_LOG_PRIVACY_H
#define REFUGE_LOG_PRIVACY_H

/* failed API calls leave their statement out of the server log */
extern void RefugeLogPrivacyInit(void);

#endif							/* REFUGE_LOG_PRIVACY_H */
