/*
 * A PC/SC card handle as the APDU transmit callback of mn_nfc: a phone held on a contactless
 * reader is an ISO 14443-4 card (T=CL, reported as T=1 by pcsc-lite). Extended-length APDUs
 * are passed through as they are; whether they work depends on the reader.
 */
#ifndef MN_PCSC_APDU_H
#define MN_PCSC_APDU_H

#include <stddef.h>
#include <stdint.h>

#define MN_PCSC_APDU_MAX_WAIT_MS (10u * 60 * 1000) /* bound on the wait for a phone */
#define MN_PCSC_APDU_MAX_CMD     (65535 + 9)       /* longest extended command APDU */

struct mn_pcsc_apdu;

/*
 * Wait at most wait_ms milliseconds for a card (phone) on `reader` (NULL or "" = the first
 * reader that has one) and connect to it. Errors: MN_ERR_NO_READER (pcscd not running, no
 * reader, or the named reader absent when the wait ends), MN_ERR_NO_TOKEN (no card in time),
 * MN_ERR_IO (connect failed).
 */
int mn_pcsc_apdu_open(const char *reader, unsigned wait_ms, struct mn_pcsc_apdu **ret);

/* Disconnect (leaving the card as it is) and release the context. */
void mn_pcsc_apdu_free(struct mn_pcsc_apdu **p);
/* As mn_pcsc_apdu_free, but the card is left as it is (no field reset): for a token that
 * turned out not to be a phone, so its own login path still finds it untouched. */
void mn_pcsc_apdu_release(struct mn_pcsc_apdu **pp);

/* The name of the connected reader. */
const char *mn_pcsc_apdu_reader(const struct mn_pcsc_apdu *p);

/*
 * mn_apdu_transmit_fn over the handle (ctx is the struct mn_pcsc_apdu *): the response
 * (data + SW1 SW2) into rapdu[0..rcap). MN_ERR_TOKEN_REMOVED when the phone went away,
 * MN_ERR_TOO_LARGE when the command or the response exceed their bounds, MN_ERR_IO otherwise.
 */
int mn_pcsc_apdu_transmit(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t rcap,
                          size_t *rlen);

#endif
