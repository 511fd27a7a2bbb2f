/*
 * The user-authentication side of a My Number token through PKCS#11 (OpenSC with the
 * mynumber driver by default): find the token, read its auth certificate, read the tries left
 * without spending one, log in, sign.
 */
#ifndef MN_P11_H
#define MN_P11_H

#include <stddef.h>

#include "mn_tokeninfo.h"

struct mn_p11;

struct mn_p11_token {
	unsigned long slot;
	enum mn_token_kind kind;
	char label[33];
	char serial[17];
	char reader[128]; /* the PC/SC reader (slot description) */
	int tries;        /* auth PIN tries left: 0..3, -1 unknown */
	int max_tries;    /* 3 */
};

/* dlopen the module and C_Initialize it. */
int mn_p11_open(const char *module, struct mn_p11 **ret, char *err, size_t errlen);
/* Close any session, C_Finalize, dlclose. */
void mn_p11_close(struct mn_p11 **p);

/*
 * Wait up to wait_ms for a My Number token's auth slot ("... (Auth PIN)" of a card, Android or
 * iPhone token). MN_ERR_NO_READER when no reader exists (or pcscd is not running),
 * MN_ERR_NO_TOKEN when none appeared in time.
 */
int mn_p11_wait_token(struct mn_p11 *p, int wait_ms, struct mn_p11_token *ret);

/* Refresh tok->tries from the token flags (no PIN try is spent). */
int mn_p11_tries(struct mn_p11 *p, struct mn_p11_token *tok);

/*
 * The user-authentication certificate (CKA_ID 01, never an authority certificate) as DER.
 * MN_ERR_NOT_FOUND when the token does not show it (Android before login).
 */
int mn_p11_read_auth_cert(struct mn_p11 *p, const struct mn_p11_token *tok, unsigned char **ret,
                          size_t *ret_len);

/* C_Login as user. MN_ERR_PIN_INCORRECT, MN_ERR_PIN_LOCKED, MN_ERR_TOKEN_REMOVED, ... */
int mn_p11_login(struct mn_p11 *p, const struct mn_p11_token *tok, const char *pin, size_t len);

/* Sign data with the auth key, CKM_SHA256_RSA_PKCS. */
int mn_p11_sign(struct mn_p11 *p, const struct mn_p11_token *tok, const unsigned char *data,
                size_t len, unsigned char *sig, size_t *siglen);

/*
 * State of the sign password of the same token (its "(Sign PIN)" slot), from the token flags:
 * "ok", "count low", "final try", "locked", or "unknown".
 */
const char *mn_p11_sign_pin_state(struct mn_p11 *p, const struct mn_p11_token *tok);

/* C_Logout (errors ignored: the session is closed next anyway). */
void mn_p11_logout(struct mn_p11 *p);

#endif
