/*
 * Login and enrollment with the smartphone My Number Card presented as an ISO 18013-5 mdoc
 * (engagement over NFC, the data over NFC or Bluetooth LE): the [phone] settings, the reader flow with fresh ephemeral keys, the revocation
 * check of the Document Signer certificate, and the salted hash of the mapping elements
 * (never the values) that a phone enrollment stores.
 */
#ifndef MN_PHONE_H
#define MN_PHONE_H

#include <stddef.h>
#include <time.h>

#include "mn_auth.h"
#include "mn_conf.h"
#include "mn_store.h"

#define MN_PHONE_SALT_LEN 16

struct mn_pcsc_apdu;

/* [phone] phone = yes, or auto with mdoc_trust_anchors set. */
int mn_phone_enabled(const struct mn_conf *conf);

/*
 * Present, verify (chain, MSO, digests, device authentication against this session's
 * transcript), check the DS certificate through the revocation backends and hash the
 * mapping elements: on MN_RES_OK, values (free with mn_phone_values_free) holds the
 * canonical encoding (per element: 4-byte big-endian length, then the verified CBOR value)
 * and iaca_hex the SHA-256 of the IACA. card: an open PC/SC handle (borrowed).
 */
enum mn_result mn_phone_present(const struct mn_conf *conf, struct mn_pcsc_apdu *card,
                                const struct mn_ui *ui, time_t now, unsigned char **values,
                                size_t *values_len, char iaca_hex[65]);
void mn_phone_values_free(unsigned char **values, size_t len);

/* HMAC-SHA256(salt, values) as lower-case hex. */
int mn_phone_hmac_hex(const unsigned char *salt, size_t salt_len, const unsigned char *values,
                      size_t len, char out[65]);

/*
 * Login with the phone on card: success only when the hash matches one of user's phone
 * enrollments with the same IACA (constant-time compare). On success, matched gets that
 * enrollment's hmac (the identifier the account phase is given instead of a certificate).
 */
enum mn_result mn_phone_login(const struct mn_conf *conf, const struct mn_store *store,
                              const char *user, struct mn_pcsc_apdu *card, const struct mn_ui *ui,
                              time_t now, char matched[65]);

/* Does the token on card answer SELECT of the JPKI application (a card, not a phone)? */
int mn_phone_is_jpki_card(struct mn_pcsc_apdu *card);

#endif
