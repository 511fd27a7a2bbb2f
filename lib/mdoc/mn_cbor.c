#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_err.h"
#include "mdoc/mn_cbor.h"

struct walk {
	const uint8_t *b;
	size_t len;
	size_t off;
	const char *why;
};

struct span {
	const uint8_t *p;
	size_t len;
};

static int fail(struct walk *w, int err, const char *why)
{
	if (w->why == NULL)
		w->why = why;
	return err;
}

static int head(struct walk *w, unsigned *major, unsigned *ai, uint64_t *arg)
{
	unsigned n, i;
	uint64_t v = 0;
	uint8_t ib;

	if (w->off >= w->len)
		return fail(w, MN_ERR_TRUNCATED, "CBOR item truncated");
	ib = w->b[w->off++];
	*major = ib >> 5;
	*ai = ib & 0x1F;
	if (*ai < 24) {
		*arg = *ai;
		return MN_OK;
	}
	if (*ai == 31)
		return fail(w, MN_ERR_FORMAT, "indefinite-length CBOR item");
	if (*ai > 27)
		return fail(w, MN_ERR_FORMAT, "reserved CBOR additional information");
	n = 1u << (*ai - 24);
	if (w->len - w->off < n)
		return fail(w, MN_ERR_TRUNCATED, "CBOR head truncated");
	for (i = 0; i < n; i++)
		v = v << 8 | w->b[w->off++];
	*arg = v;
	if (*major == 7) {
		if (*ai == 24 && v < 32)
			return fail(w, MN_ERR_FORMAT, "non-shortest CBOR simple value");
		return MN_OK;
	}
	if ((*ai == 24 && v < 24) || (*ai == 25 && v <= 0xFF) || (*ai == 26 && v <= 0xFFFF) ||
	    (*ai == 27 && v <= 0xFFFFFFFFu))
		return fail(w, MN_ERR_FORMAT, "non-shortest CBOR length or integer");
	return MN_OK;
}

static int utf8_ok(const uint8_t *s, size_t n)
{
	size_t i = 0, k, more;
	uint32_t cp;

	while (i < n) {
		uint8_t c = s[i++];

		if (c < 0x80)
			continue;
		if (c >= 0xC2 && c <= 0xDF) {
			more = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			more = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			more = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < more)
			return 0;
		for (k = 0; k < more; k++) {
			if ((s[i] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i++] & 0x3F);
		}
		if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	}
	return 1;
}

static int walk_item(struct walk *w, unsigned depth);

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

static int walk_map(struct walk *w, uint64_t n, unsigned depth)
{
	struct span *keys = NULL;
	uint64_t i;
	int r = MN_OK;

	if (n == 0)
		return MN_OK;
	keys = calloc((size_t)n, sizeof(*keys));
	if (keys == NULL)
		return MN_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		size_t start = w->off;

		if ((r = walk_item(w, depth + 1)) != MN_OK)
			goto out;
		keys[i].p = w->b + start;
		keys[i].len = w->off - start;
		if ((r = walk_item(w, depth + 1)) != MN_OK)
			goto out;
	}
	/* duplicates: sort the encoded keys (n log n, not n^2 comparisons), compare neighbours */
	qsort(keys, (size_t)n, sizeof(*keys), span_cmp);
	for (i = 1; i < n; i++) {
		if (span_cmp(&keys[i - 1], &keys[i]) == 0) {
			r = fail(w, MN_ERR_FORMAT, "duplicate CBOR map key");
			goto out;
		}
	}
out:
	free(keys);
	return r;
}

static int walk_tag(struct walk *w, uint64_t tag, unsigned depth)
{
	size_t start = w->off, body;
	unsigned major, ai;
	uint64_t arg;
	int64_t t;
	int r;

	/*
	 * Peek at the content's head, then walk the content once: walking it twice (once to
	 * check it, once more after re-reading its head) doubles the work at every level of
	 * nested tags, 2^depth in all.
	 */
	if ((r = head(w, &major, &ai, &arg)) != MN_OK)
		return r;
	body = w->off;
	w->off = start;
	if ((r = walk_item(w, depth + 1)) != MN_OK)
		return r;
	/* the content is well-formed: a string's bytes lie at b[body..body + arg) */
	switch (tag) {
	case 0:
		if (major != 3 ||
		    mn_cbor_parse_rfc3339((const char *)w->b + body, (size_t)arg, &t) != MN_OK)
			return fail(w, MN_ERR_FORMAT, "tag 0 without an RFC 3339 date-time");
		break;
	case 1004:
		if (major != 3 || !mn_cbor_is_full_date((const char *)w->b + body, (size_t)arg))
			return fail(w, MN_ERR_FORMAT, "tag 1004 without a full-date");
		break;
	case 24:
		if (major != 2)
			return fail(w, MN_ERR_FORMAT, "tag 24 without a byte string");
		break;
	case 1:
		if (major > 1 && !(major == 7 && ai >= 25 && ai <= 27))
			return fail(w, MN_ERR_FORMAT, "tag 1 without a number");
		break;
	default:
		break;
	}
	return MN_OK;
}

static int walk_item(struct walk *w, unsigned depth)
{
	unsigned major, ai;
	uint64_t arg, i;
	int r;

	if (depth > MN_CBOR_MAX_DEPTH)
		return fail(w, MN_ERR_TOO_LARGE, "CBOR nested too deeply");
	if ((r = head(w, &major, &ai, &arg)) != MN_OK)
		return r;
	switch (major) {
	case 0:
	case 1:
		return MN_OK;
	case 2:
	case 3:
		if (arg > w->len - w->off)
			return fail(w, MN_ERR_TRUNCATED, "CBOR string truncated");
		if (major == 3 && !utf8_ok(w->b + w->off, (size_t)arg))
			return fail(w, MN_ERR_FORMAT, "CBOR text string is not UTF-8");
		w->off += (size_t)arg;
		return MN_OK;
	case 4:
		if (arg > MN_CBOR_MAX_ITEMS)
			return fail(w, MN_ERR_TOO_LARGE, "CBOR array too long");
		for (i = 0; i < arg; i++)
			if ((r = walk_item(w, depth + 1)) != MN_OK)
				return r;
		return MN_OK;
	case 5:
		if (arg > MN_CBOR_MAX_ITEMS)
			return fail(w, MN_ERR_TOO_LARGE, "CBOR map too long");
		return walk_map(w, arg, depth);
	case 6:
		return walk_tag(w, arg, depth);
	default:
		if (ai < 20 || ai == 24)
			return fail(w, MN_ERR_FORMAT, "unassigned CBOR simple value");
		return MN_OK;
	}
}

int mn_cbor_load_strict(const uint8_t *buf, size_t len, cbor_item_t **ret, char *why, size_t whylen)
{
	struct walk w = {buf, len, 0, NULL};
	struct cbor_load_result res;
	cbor_item_t *item;
	int r;

	if (buf == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if (len == 0) {
		r = fail(&w, MN_ERR_TRUNCATED, "empty CBOR input");
		goto out;
	}
	if (len > MN_CBOR_MAX_INPUT) {
		r = fail(&w, MN_ERR_TOO_LARGE, "CBOR input too large");
		goto out;
	}
	if ((r = walk_item(&w, 0)) != MN_OK)
		goto out;
	if (w.off != len) {
		r = fail(&w, MN_ERR_TRAILING, "bytes after the CBOR item");
		goto out;
	}
	memset(&res, 0, sizeof(res));
	item = cbor_load(buf, len, &res);
	if (item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (item != NULL)
			cbor_decref(&item);
		r = fail(&w, MN_ERR_FORMAT, "libcbor rejected the item");
		goto out;
	}
	*ret = item;
out:
	if (r != MN_OK && why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", w.why != NULL ? w.why : "CBOR decoding failed");
	return r;
}

int mn_cbor_text_eq(const cbor_item_t *item, const char *s)
{
	size_t n = strlen(s);

	return item != NULL && cbor_isa_string(item) && cbor_string_is_definite(item) &&
	       cbor_string_length(item) == n && memcmp(cbor_string_handle(item), s, n) == 0;
}

cbor_item_t *mn_cbor_map_get(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *p;
	size_t i, n;

	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++)
		if (mn_cbor_text_eq(p[i].key, key))
			return p[i].value;
	return NULL;
}

int mn_cbor_get_int(const cbor_item_t *item, int64_t *v)
{
	uint64_t u;

	if (item == NULL || v == NULL)
		return MN_ERR_INVALID_ARG;
	if (!cbor_isa_uint(item) && !cbor_isa_negint(item))
		return MN_ERR_FORMAT;
	u = cbor_get_int(item);
	if (u > INT64_MAX)
		return MN_ERR_FORMAT;
	*v = cbor_isa_uint(item) ? (int64_t)u : -1 - (int64_t)u;
	return MN_OK;
}

cbor_item_t *mn_cbor_map_get_int(const cbor_item_t *map, int64_t key)
{
	struct cbor_pair *p;
	size_t i, n;
	int64_t v;

	if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
		return NULL;
	p = cbor_map_handle(map);
	n = cbor_map_size(map);
	for (i = 0; i < n; i++)
		if (mn_cbor_get_int(p[i].key, &v) == MN_OK && v == key)
			return p[i].value;
	return NULL;
}

size_t mn_cbor_head(uint8_t *out, unsigned major, uint64_t arg)
{
	uint8_t mt = (uint8_t)(major << 5);
	size_t n, i;

	if (arg < 24) {
		out[0] = mt | (uint8_t)arg;
		return 1;
	}
	if (arg <= 0xFF) {
		out[0] = mt | 24;
		n = 1;
	} else if (arg <= 0xFFFF) {
		out[0] = mt | 25;
		n = 2;
	} else if (arg <= 0xFFFFFFFFu) {
		out[0] = mt | 26;
		n = 4;
	} else {
		out[0] = mt | 27;
		n = 8;
	}
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(arg >> (8 * (n - 1 - i)));
	return 1 + n;
}

static int digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (s[i] - '0');
	}
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
	if (!digits(s, 4, y) || s[4] != '-' || !digits(s + 5, 2, m) || s[7] != '-' ||
	    !digits(s + 8, 2, d))
		return 0;
	return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

int mn_cbor_is_full_date(const char *s, size_t len)
{
	int y, m, d;

	return s != NULL && len == 10 && parse_date(s, &y, &m, &d);
}

int mn_cbor_parse_rfc3339(const char *s, size_t len, int64_t *t)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	size_t i = 19;

	if (s == NULL || t == NULL || len < 20 || len > 64)
		return MN_ERR_FORMAT;
	if (!parse_date(s, &y, &mo, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
		return MN_ERR_FORMAT;
	if (h > 23 || mi > 59 || se > 60)
		return MN_ERR_FORMAT;
	if (s[i] == '.') {
		i++;
		if (i >= len || s[i] < '0' || s[i] > '9')
			return MN_ERR_FORMAT;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	if (i >= len)
		return MN_ERR_FORMAT;
	if (s[i] == 'Z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		sign = s[i] == '+' ? 1 : -1;
		if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
		    !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return MN_ERR_FORMAT;
		i += 6;
	} else {
		return MN_ERR_FORMAT;
	}
	if (i != len)
		return MN_ERR_FORMAT;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se > 59 ? 59 : se) -
	     sign * (oh * 3600 + om * 60);
	return MN_OK;
}

int mn_cbor_parse_tdate_utc(const char *s, size_t len, int64_t *t)
{
	if (s == NULL || t == NULL || len != 20 || s[19] != 'Z')
		return MN_ERR_FORMAT;
	return mn_cbor_parse_rfc3339(s, len, t);
}
