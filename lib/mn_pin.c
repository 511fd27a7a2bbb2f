#include <sys/prctl.h>
#include <sys/resource.h>

#include "mn_err.h"
#include "mn_pin.h"

int mn_pin_check_digits4(const uint8_t *pin, size_t len)
{
	size_t i;

	if (pin == NULL || len != 4)
		return MN_ERR_PIN_FORMAT;
	for (i = 0; i < len; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return MN_ERR_PIN_FORMAT;
	return MN_OK;
}

int mn_pin_normalize_sign(const uint8_t *pw, size_t len, uint8_t *out, size_t cap)
{
	size_t i;

	if (pw == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < MN_SIGN_PW_MIN || len > MN_SIGN_PW_MAX)
		return MN_ERR_PIN_FORMAT;
	if (cap < len)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < len; i++) {
		uint8_t c = pw[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return MN_ERR_PIN_FORMAT;
	}
	for (i = 0; i < len; i++)
		out[i] = (pw[i] >= 'a' && pw[i] <= 'z') ? (uint8_t)(pw[i] - 'a' + 'A') : pw[i];
	return MN_OK;
}

int mn_pin_check_new_sign(const uint8_t *pw, size_t len)
{
	int letters = 0, digits = 0;
	size_t i;

	if (pw == NULL || len < MN_SIGN_PW_MIN || len > MN_SIGN_PW_MAX)
		return MN_ERR_PIN_FORMAT;
	for (i = 0; i < len; i++) {
		if (pw[i] >= 'A' && pw[i] <= 'Z')
			letters = 1;
		else if (pw[i] >= '0' && pw[i] <= '9')
			digits = 1;
		else
			return MN_ERR_PIN_FORMAT;
	}
	return letters && digits ? MN_OK : MN_ERR_PIN_FORMAT;
}

int mn_pin_protect_process(void)
{
	struct rlimit zero = {0, 0};
	int r = MN_OK;

	if (setrlimit(RLIMIT_CORE, &zero) != 0)
		r = MN_ERR_IO;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		r = MN_ERR_IO;
	return r;
}
