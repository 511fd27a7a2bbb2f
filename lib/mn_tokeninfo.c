#include <string.h>

#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_tokeninfo.h"

static const struct {
	enum mn_token_kind kind;
	const char *label;
	const char *name;
} kinds[] = {
    {MN_TOKEN_CARD, "JPKIAPICCTOKEN2", "My Number Card"},
    {MN_TOKEN_ANDROID, "JPKIAPGPSETOKEN", "JPKI Android"},
    {MN_TOKEN_IPHONE, "JPKIAPIOSTOKEN", "JPKI iPhone"},
    {MN_TOKEN_JUKI, "JPKIAPICCTOKEN", "Juki card"},
};

/* Copy a blank-padded field, refusing control characters, trimming blanks and NULs. */
static int copy_field(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	size_t i, end = 0;

	if (n + 1 > cap)
		return MN_ERR_INTERNAL;
	for (i = 0; i < n; i++) {
		if (src[i] == 0 || src[i] == ' ')
			continue;
		if (src[i] < 0x20 || src[i] > 0x7E)
			return MN_ERR_FORMAT;
		end = i + 1;
	}
	for (i = 0; i < end; i++)
		dst[i] = src[i] == 0 ? ' ' : (char)src[i];
	dst[end] = '\0';
	return MN_OK;
}

int mn_tokeninfo_parse(const uint8_t *buf, size_t len, struct mn_tokeninfo *out)
{
	struct mn_tokeninfo ti;
	size_t i;
	int r, zeros = 1;

	if (buf == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < MN_TOKEN_INFO_LEN)
		return MN_ERR_TRUNCATED;
	memset(&ti, 0, sizeof(ti));
	if ((r = copy_field(ti.label, sizeof(ti.label), buf, 32)) != MN_OK ||
	    (r = copy_field(ti.manufacturer, sizeof(ti.manufacturer), buf + 32, 32)) != MN_OK ||
	    (r = copy_field(ti.model, sizeof(ti.model), buf + 64, 16)) != MN_OK)
		return r;
	/* The serial must be printable; an unusable one is dropped, not fatal. */
	if (copy_field(ti.serial, sizeof(ti.serial), buf + 80, 16) != MN_OK)
		ti.serial[0] = '\0';
	for (i = 0; ti.serial[i] != '\0'; i++)
		if (ti.serial[i] != '0')
			zeros = 0;
	if (zeros)
		ti.serial[0] = '\0';
	ti.kind = MN_TOKEN_UNKNOWN;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(ti.label, kinds[i].label) == 0)
			ti.kind = kinds[i].kind;
	*out = ti;
	return MN_OK;
}

static void pad(uint8_t *dst, const char *src, size_t n)
{
	size_t l = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, l < n ? l : n);
}

int mn_tokeninfo_encode(const struct mn_tokeninfo *ti, uint8_t out[160])
{
	static const uint32_t ulongs[10] = {0, 0, 0, 0, 16, 4, 0, 0, 0, 0};
	size_t i;

	if (ti == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	memset(out, 0, MN_TOKEN_INFO_LEN);
	pad(out, ti->label, 32);
	pad(out + 32, ti->manufacturer, 32);
	pad(out + 64, ti->model, 16);
	pad(out + 80, ti->serial, 16);
	/* flags: CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_TOKEN_INITIALIZED */
	out[96 + 3] = 0x0C;
	out[96 + 2] = 0x04;
	for (i = 0; i < 10; i++) {
		out[100 + 4 * i] = (uint8_t)(ulongs[i] >> 24);
		out[101 + 4 * i] = (uint8_t)(ulongs[i] >> 16);
		out[102 + 4 * i] = (uint8_t)(ulongs[i] >> 8);
		out[103 + 4 * i] = (uint8_t)ulongs[i];
	}
	memcpy(out + 140, "0301", 4);
	memset(out + 144, ' ', 16);
	return MN_OK;
}

const char *mn_token_kind_label(enum mn_token_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].label;
	return "";
}

const char *mn_token_kind_name(enum mn_token_kind kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "Unknown JPKI token";
}
