#include <string.h>

#include "mn_cardinfo.h"
#include "mn_err.h"
#include "mn_tlv.h"

#define TAG_ATTRS   0xFF20
#define TAG_OFFSETS 0xDF21
#define TAG_NAME    0xDF22
#define TAG_ADDRESS 0xDF23
#define TAG_BIRTH   0xDF24
#define TAG_SEX     0xDF25

int mn_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0, k, need;
	uint32_t cp, min;

	while (i < n) {
		uint8_t c = s[i];
		if (c < 0x20 || c == 0x7F)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			need = 1, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			need = 2, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += need + 1;
	}
	return 1;
}

static int take_string(const struct mn_tlv *t, char *dst, size_t cap)
{
	if (t->len >= cap)
		return MN_ERR_TOO_LARGE;
	if (!mn_utf8_valid(t->value, t->len))
		return MN_ERR_FORMAT;
	memcpy(dst, t->value, t->len);
	dst[t->len] = '\0';
	return MN_OK;
}

int mn_attrs_decode(const uint8_t *buf, size_t len, struct mn_attrs *out)
{
	static const uint32_t order[4] = {TAG_NAME, TAG_ADDRESS, TAG_BIRTH, TAG_SEX};
	struct mn_attrs a;
	struct mn_tlv outer, t, items[4];
	size_t off, i, end;
	int r;

	if (buf == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = mn_tlv_parse(buf, len, &outer)) != MN_OK)
		return r;
	if (outer.tag != TAG_ATTRS)
		return MN_ERR_FORMAT;
	end = outer.hdr_len + outer.len;
	for (i = end; i < len; i++)
		if (buf[i] != 0x00 && buf[i] != 0xFF)
			return MN_ERR_TRAILING;

	/* DF21 first, then DF22..DF25 in order, nothing else. */
	off = outer.hdr_len;
	if ((r = mn_tlv_parse(buf + off, end - off, &t)) != MN_OK)
		return r;
	if (t.tag != TAG_OFFSETS || t.len != 8)
		return MN_ERR_FORMAT;
	off += t.hdr_len + t.len;
	for (i = 0; i < 4; i++) {
		size_t expect = (size_t)t.value[2 * i] << 8 | t.value[2 * i + 1];
		if (expect != off)
			return MN_ERR_FORMAT;
		if ((r = mn_tlv_parse(buf + off, end - off, &items[i])) != MN_OK)
			return r;
		if (items[i].tag != order[i])
			return MN_ERR_FORMAT;
		off += items[i].hdr_len + items[i].len;
	}
	if (off != end)
		return MN_ERR_TRAILING;

	memset(&a, 0, sizeof(a));
	if ((r = take_string(&items[0], a.name, sizeof(a.name))) != MN_OK ||
	    (r = take_string(&items[1], a.address, sizeof(a.address))) != MN_OK)
		return r;
	if (items[2].len != 8)
		return MN_ERR_FORMAT;
	for (i = 0; i < 8; i++)
		if (items[2].value[i] < '0' || items[2].value[i] > '9')
			return MN_ERR_FORMAT;
	memcpy(a.birth, items[2].value, 8);
	if (items[3].len != 1 || strchr("0129", items[3].value[0]) == NULL ||
	    items[3].value[0] == 0)
		return MN_ERR_FORMAT;
	a.sex = (char)items[3].value[0];
	*out = a;
	return MN_OK;
}

int mn_attrs_encode(const struct mn_attrs *in, uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t body[1200], offs[8];
	const uint8_t *vals[4];
	size_t lens[4], pos[4], n = 0, w, i, hdr;
	int r;

	if (in == NULL || out == NULL || out_len == NULL)
		return MN_ERR_INVALID_ARG;
	vals[0] = (const uint8_t *)in->name, lens[0] = strlen(in->name);
	vals[1] = (const uint8_t *)in->address, lens[1] = strlen(in->address);
	vals[2] = (const uint8_t *)in->birth, lens[2] = strlen(in->birth);
	vals[3] = (const uint8_t *)&in->sex, lens[3] = 1;
	/* encode DF22..DF25 first to learn the outer length */
	for (i = 0; i < 4; i++) {
		uint32_t tag = TAG_NAME + (uint32_t)i;
		pos[i] = n;
		if ((r = mn_tlv_put(body + n, sizeof(body) - n, tag, vals[i], lens[i], &w)) != 0)
			return r;
		n += w;
	}
	/* outer header size: tag 2 + length octets; inner DF21 is 11 bytes */
	w = n + 11;
	hdr = 2 + (w < 0x80 ? 1 : w <= 0xFF ? 2 : 3);
	for (i = 0; i < 4; i++) {
		size_t o = hdr + 11 + pos[i];
		offs[2 * i] = (uint8_t)(o >> 8);
		offs[2 * i + 1] = (uint8_t)o;
	}
	if (cap < hdr + w)
		return MN_ERR_TOO_LARGE;
	memmove(out + hdr + 11, body, n);
	if ((r = mn_tlv_put(out + hdr, 11, TAG_OFFSETS, offs, 8, &w)) != 0)
		return r;
	/* the outer header in front */
	out[0] = 0xFF;
	out[1] = 0x20;
	w = n + 11;
	if (w < 0x80) {
		out[2] = (uint8_t)w;
	} else if (w <= 0xFF) {
		out[2] = 0x81, out[3] = (uint8_t)w;
	} else {
		out[2] = 0x82, out[3] = (uint8_t)(w >> 8), out[4] = (uint8_t)w;
	}
	*out_len = hdr + n + 11;
	return MN_OK;
}
