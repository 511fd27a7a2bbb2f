/* Error codes shared by every component: 0 is success, failures are negative. */
#ifndef MN_ERR_H
#define MN_ERR_H

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
};

/* A short English description of an MN_ERR_* code (never NULL). */
const char *mn_strerror(int err);

#endif
