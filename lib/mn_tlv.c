#include <string.h>

#include "mn_err.h"
#include "mn_tlv.h"

#define MN_TLV_MAX_LEN 0xFFFFFFu

int mn_tlv_header(const uint8_t *buf, size_t buflen, uint32_t *tag, size_t *hdr_len,
                  size_t *val_len)
{
	size_t i = 0, n, k;
	uint32_t t;
	size_t l;

	if (buf == NULL || tag == NULL || hdr_len == NULL || val_len == NULL)
		return MN_ERR_INVALID_ARG;
	if (buflen < 2)
		return MN_ERR_TRUNCATED;
	t = buf[i++];
	if ((t & 0x1F) == 0x1F) {
		/* multi-byte tag: at most two subsequent bytes */
		do {
			if (i >= buflen)
				return MN_ERR_TRUNCATED;
			if (i >= 3)
				return MN_ERR_TOO_LARGE;
			t = t << 8 | buf[i];
		} while (buf[i++] & 0x80);
	}
	if (i >= buflen)
		return MN_ERR_TRUNCATED;
	if (buf[i] < 0x80) {
		l = buf[i++];
	} else {
		n = buf[i++] & 0x7F;
		if (n == 0)
			return MN_ERR_FORMAT; /* indefinite length */
		if (n > 3)
			return MN_ERR_TOO_LARGE;
		if (buflen - i < n)
			return MN_ERR_TRUNCATED;
		l = 0;
		for (k = 0; k < n; k++)
			l = l << 8 | buf[i++];
		if (l > MN_TLV_MAX_LEN)
			return MN_ERR_TOO_LARGE;
	}
	*tag = t;
	*hdr_len = i;
	*val_len = l;
	return MN_OK;
}

int mn_tlv_parse(const uint8_t *buf, size_t buflen, struct mn_tlv *out)
{
	uint32_t tag;
	size_t hl, vl;
	int r;

	if (out == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = mn_tlv_header(buf, buflen, &tag, &hl, &vl)) != MN_OK)
		return r;
	if (vl > buflen - hl)
		return MN_ERR_TRUNCATED;
	out->tag = tag;
	out->hdr_len = hl;
	out->len = vl;
	out->value = buf + hl;
	return MN_OK;
}

int mn_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct mn_tlv *out)
{
	struct mn_tlv t;
	size_t off = 0;
	int r;

	if (buf == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	while (off < len) {
		if ((r = mn_tlv_parse(buf + off, len - off, &t)) != MN_OK)
			return r;
		if (t.tag == tag) {
			*out = t;
			return MN_OK;
		}
		off += t.hdr_len + t.len;
	}
	return MN_ERR_NOT_FOUND;
}

int mn_tlv_put(uint8_t *out, size_t cap, uint32_t tag, const uint8_t *value, size_t len,
               size_t *out_len)
{
	uint8_t hdr[8];
	size_t n = 0;

	if (out == NULL || out_len == NULL || (len > 0 && value == NULL) || len > MN_TLV_MAX_LEN)
		return MN_ERR_INVALID_ARG;
	if (tag > 0xFFFF)
		hdr[n++] = (uint8_t)(tag >> 16);
	if (tag > 0xFF)
		hdr[n++] = (uint8_t)(tag >> 8);
	hdr[n++] = (uint8_t)tag;
	if (len < 0x80) {
		hdr[n++] = (uint8_t)len;
	} else if (len <= 0xFF) {
		hdr[n++] = 0x81;
		hdr[n++] = (uint8_t)len;
	} else if (len <= 0xFFFF) {
		hdr[n++] = 0x82;
		hdr[n++] = (uint8_t)(len >> 8);
		hdr[n++] = (uint8_t)len;
	} else {
		hdr[n++] = 0x83;
		hdr[n++] = (uint8_t)(len >> 16);
		hdr[n++] = (uint8_t)(len >> 8);
		hdr[n++] = (uint8_t)len;
	}
	if (cap < n || cap - n < len)
		return MN_ERR_TOO_LARGE;
	memcpy(out, hdr, n);
	if (len > 0)
		memmove(out + n, value, len);
	*out_len = n + len;
	return MN_OK;
}
