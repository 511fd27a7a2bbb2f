#include <stdarg.h>
#include <stdio.h>

#include "mn_err.h"

const char *mn_strerror(int err)
{
	switch (err) {
	case MN_OK:
		return "success";
	case MN_ERR_INVALID_ARG:
		return "invalid argument";
	case MN_ERR_NOMEM:
		return "out of memory";
	case MN_ERR_FORMAT:
		return "malformed data";
	case MN_ERR_TRUNCATED:
		return "data truncated";
	case MN_ERR_TOO_LARGE:
		return "length out of bounds";
	case MN_ERR_IO:
		return "input/output error";
	case MN_ERR_NOT_FOUND:
		return "not found";
	case MN_ERR_CRYPTO:
		return "cryptographic operation failed";
	case MN_ERR_PIN_FORMAT:
		return "PIN or password does not have the card's format";
	case MN_ERR_UNSUPPORTED:
		return "not supported";
	case MN_ERR_TRAILING:
		return "unexpected trailing data";
	case MN_ERR_INTERNAL:
		return "internal error";
	case MN_ERR_TIMEOUT:
		return "timed out";
	case MN_ERR_EOF:
		return "connection closed";
	case MN_ERR_NO_READER:
		return "no smart-card reader available";
	case MN_ERR_NO_TOKEN:
		return "no card or phone presented";
	case MN_ERR_TOKEN_REMOVED:
		return "card or phone removed";
	case MN_ERR_PIN_INCORRECT:
		return "wrong PIN";
	case MN_ERR_PIN_LOCKED:
		return "PIN blocked";
	case MN_ERR_PKCS11:
		return "PKCS#11 module error";
	case MN_ERR_UNAVAILABLE:
		return "directory unavailable and no fresh cached answer";
	}
	return "unknown error";
}

void mn_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
