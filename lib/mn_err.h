/* Error codes shared by every component: 0 is success, failures are negative. */
#ifndef MN_ERR_H
#define MN_ERR_H

#include <stddef.h>

enum {
	MN_OK = 0,
	MN_ERR_INVALID_ARG = -1, /* caller passed something unusable */
	MN_ERR_NOMEM = -2,
	MN_ERR_FORMAT = -3,    /* input is malformed */
	MN_ERR_TRUNCATED = -4, /* input ends before a length says it should */
	MN_ERR_TOO_LARGE = -5, /* a length exceeds its bound */
	MN_ERR_IO = -6,
	MN_ERR_NOT_FOUND = -7,
	MN_ERR_CRYPTO = -8,
	MN_ERR_PIN_FORMAT = -9, /* PIN/password not of the card's format: never sent */
	MN_ERR_UNSUPPORTED = -10,
	MN_ERR_TRAILING = -11, /* bytes left after a complete object */
	MN_ERR_INTERNAL = -12,
	MN_ERR_TIMEOUT = -13,       /* a deadline passed */
	MN_ERR_EOF = -14,           /* the peer closed the connection */
	MN_ERR_NO_READER = -15,     /* no smart-card reader, or pcscd not running */
	MN_ERR_NO_TOKEN = -16,      /* no My Number card or phone presented in time */
	MN_ERR_TOKEN_REMOVED = -17, /* the card or phone went away during the operation */
	MN_ERR_PIN_INCORRECT = -18,
	MN_ERR_PIN_LOCKED = -19,
	MN_ERR_PKCS11 = -20,      /* the PKCS#11 module failed */
	MN_ERR_UNAVAILABLE = -21, /* a directory cannot be reached and no fresh cached answer */
};

/* A short English description of an MN_ERR_* code (never NULL). */
const char *mn_strerror(int err);

/* printf into err[errlen] (the "reason" out-parameter); nothing when err is NULL or errlen 0. */
void mn_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
