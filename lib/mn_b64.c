#include "mn_b64.h"
#include "mn_err.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a base64 symbol, -1 for anything else (including '='). */
static int symbol(char ch)
{
	unsigned char c = (unsigned char)ch;

	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t mn_b64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0);

	if (groups > (size_t)-1 / 4)
		return 0;
	return groups * 4;
}

int mn_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len)
{
	size_t need = mn_b64_encoded_len(len), i, o = 0;
	uint32_t v;

	if (out == NULL || (in == NULL && len > 0))
		return MN_ERR_INVALID_ARG;
	if ((need == 0 && len > 0) || cap <= need)
		return MN_ERR_TOO_LARGE;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = alphabet[(v >> 6) & 0x3F];
		out[o++] = alphabet[v & 0x3F];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 0x3F];
		out[o++] = alphabet[(v >> 6) & 0x3F];
		out[o++] = '=';
	}
	out[o] = '\0';
	if (out_len != NULL)
		*out_len = o;
	return MN_OK;
}

int mn_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t i, k, o = 0, pad = 0, need;
	int s[4];
	uint32_t v;

	if (out_len == NULL || (in == NULL && len > 0) || (out == NULL && cap > 0))
		return MN_ERR_INVALID_ARG;
	if (len % 4 != 0)
		return MN_ERR_FORMAT;
	if (len > 0 && in[len - 1] == '=')
		pad = in[len - 2] == '=' ? 2 : 1;
	need = len / 4 * 3 - pad;
	if (need > cap)
		return MN_ERR_TOO_LARGE;
	for (i = 0; i < len; i += 4) {
		int last = i + 4 == len;
		for (k = 0; k < 4; k++) {
			s[k] = symbol(in[i + k]);
			/* '=' only as the final pad characters of the last group */
			if (s[k] < 0 && !(last && in[i + k] == '=' && k >= 4 - pad))
				return MN_ERR_FORMAT;
		}
		if (last && pad == 2) {
			if (s[1] & 0x0F)
				return MN_ERR_FORMAT;
			out[o++] = (uint8_t)(s[0] << 2 | s[1] >> 4);
		} else if (last && pad == 1) {
			if (s[2] & 0x03)
				return MN_ERR_FORMAT;
			v = (uint32_t)s[0] << 18 | (uint32_t)s[1] << 12 | (uint32_t)s[2] << 6;
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
		} else {
			v = (uint32_t)s[0] << 18 | (uint32_t)s[1] << 12 | (uint32_t)s[2] << 6 |
			    (uint32_t)s[3];
			out[o++] = (uint8_t)(v >> 16);
			out[o++] = (uint8_t)(v >> 8);
			out[o++] = (uint8_t)v;
		}
	}
	*out_len = o;
	return MN_OK;
}
