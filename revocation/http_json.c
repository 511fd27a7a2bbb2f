/*
 * The JSON answer of the "http" revocation backend (doc/revocation-http.md): one object in
 * strict JSON (json-c's strict mode, plus what it lets through: single-quoted strings,
 * duplicate members, bytes after the object), members it does not know ignored, the ones it
 * knows checked for type and range. Any fault makes the whole answer unusable.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "http_internal.h"
#include "mn_err.h"

#define MAX_DEPTH  16
#define MAX_STRING 64 /* the longest string a known member may hold */

static const char *const reason_names[] = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", NULL,
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
};

/*
 * The members of the top-level object, counted on the text (json-c keeps only the last of
 * duplicates, so fewer members in the parsed object than here means a duplicate), or -1 when
 * the text has a single-quoted string. Only for text json-c accepted.
 */
static long top_level_members(const char *s, size_t len)
{
	size_t i;
	long members = 0;
	int depth = 0, in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = 0;
			continue;
		}
		switch (s[i]) {
		case '"':
			in_string = 1;
			break;
		case '\'':
			return -1;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ':':
			if (depth == 1)
				members++;
			break;
		default:
			break;
		}
	}
	return members;
}

/* Member KEY as a string of 1..MAX_STRING bytes without NUL: 1; absent or null: 0; else -1. */
static int get_string(struct json_object *o, const char *key, const char **s, size_t *len)
{
	struct json_object *v = NULL;
	int n;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -1;
	n = json_object_get_string_len(v);
	*s = json_object_get_string(v);
	if (n <= 0 || n > MAX_STRING || *s == NULL || strlen(*s) != (size_t)n)
		return -1;
	*len = (size_t)n;
	return 1;
}

/* Member KEY as an RFC 3339 time: 1 and *t, 0 when absent or null, -1 when invalid. */
static int get_time(struct json_object *o, const char *key, int64_t *t)
{
	const char *s;
	size_t len;
	int r = get_string(o, key, &s, &len);

	if (r <= 0)
		return r;
	return http_parse_time(s, len, t) == MN_OK ? 1 : -1;
}

/* "reason": a CRLReason name or number; 0 when absent or null, -1 when invalid. */
static int get_reason(struct json_object *o, int *reason)
{
	struct json_object *v = NULL;
	const char *s;
	size_t len, i;
	int64_t n;

	if (!json_object_object_get_ex(o, "reason", &v) || v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		n = json_object_get_int64(v);
		if (n < 0 || n > 10 || reason_names[n] == NULL || n == 8)
			return -1;
		*reason = (int)n;
		return 1;
	}
	if (get_string(o, "reason", &s, &len) != 1)
		return -1;
	for (i = 0; i < sizeof(reason_names) / sizeof(reason_names[0]); i++) {
		if (i != 8 && reason_names[i] != NULL && strcmp(s, reason_names[i]) == 0) {
			*reason = (int)i;
			return 1;
		}
	}
	return -1;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "successor_serial": 1..40 hex digits into big-endian bytes without leading zero bytes. */
static int get_successor(struct json_object *o, unsigned char out[20], size_t *out_len)
{
	unsigned char buf[20];
	const char *s;
	size_t len, i, n, from_end, skip = 0;
	int r = get_string(o, "successor_serial", &s, &len), v;

	if (r <= 0)
		return r;
	if (len > 40)
		return -1;
	n = (len + 1) / 2;
	memset(buf, 0, sizeof(buf));
	for (i = 0; i < len; i++) {
		if ((v = hex_value(s[i])) < 0)
			return -1;
		from_end = len - 1 - i;
		buf[n - 1 - from_end / 2] |= (unsigned char)(from_end % 2 ? v << 4 : v);
	}
	while (skip + 1 < n && buf[skip] == 0)
		skip++;
	memcpy(out, buf + skip, n - skip);
	*out_len = n - skip;
	return 1;
}

int http_parse_answer(const char *body, size_t len, struct http_fields *ret, const char **why)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	struct http_fields f;
	const char *s;
	size_t slen, end;
	int r = MN_ERR_FORMAT;

	memset(&f, 0, sizeof(f));
	f.reason = -1;
	*why = "not one JSON object";
	if (len == 0 || len > (size_t)INT32_MAX || memchr(body, '\0', len) != NULL)
		goto out;
	if ((tok = json_tokener_new_ex(MAX_DEPTH)) == NULL) {
		*why = "out of memory";
		r = MN_ERR_NOMEM;
		goto out;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success)
		goto out;
	end = json_tokener_get_parse_end(tok);
	while (end < len && strchr(" \t\r\n", body[end]) != NULL)
		end++;
	if (end != len) {
		*why = "data after the JSON object";
		goto out;
	}
	if (!json_object_is_type(o, json_type_object))
		goto out;
	if (top_level_members(body, len) != (long)json_object_object_length(o)) {
		*why = "duplicate members or single-quoted strings";
		goto out;
	}
	*why = "no valid \"status\"";
	if (get_string(o, "status", &s, &slen) != 1)
		goto out;
	if (strcmp(s, "good") == 0)
		f.status = MYNUMBER_REV_GOOD;
	else if (strcmp(s, "revoked") == 0)
		f.status = MYNUMBER_REV_REVOKED;
	else if (strcmp(s, "unknown") == 0)
		f.status = MYNUMBER_REV_UNKNOWN;
	else
		goto out;
	*why = "a member of the wrong type or out of range";
	if (get_reason(o, &f.reason) < 0 || get_time(o, "revoked_at", &f.revoked_at) < 0 ||
	    get_time(o, "this_update", &f.this_update) < 0 ||
	    (f.has_next_update = get_time(o, "next_update", &f.next_update)) < 0 ||
	    get_successor(o, f.successor, &f.successor_len) < 0)
		goto out;
	if (f.has_next_update && f.this_update != 0 && f.next_update <= f.this_update) {
		*why = "next_update is not after this_update";
		goto out;
	}
	*ret = f;
	*why = NULL;
	r = MN_OK;
out:
	json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	return r;
}

static int digits(const char *s, int n, int *v)
{
	int i;

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
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int http_parse_time(const char *s, size_t len, int64_t *out)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	size_t p = 19, start;

	if (len < 20 || len > 40 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
	    !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !digits(s + 17, 2, &sec))
		return MN_ERR_FORMAT;
	if (s[p] == '.') {
		start = ++p;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == start || p - start > 9)
			return MN_ERR_FORMAT;
	}
	if (p + 1 == len && (s[p] == 'Z' || s[p] == 'z')) {
		sign = 0;
	} else if (p + 6 == len && (s[p] == '+' || s[p] == '-') && digits(s + p + 1, 2, &oh) &&
	           s[p + 3] == ':' && digits(s + p + 4, 2, &om)) {
		sign = s[p] == '-' ? -1 : 1;
	} else {
		return MN_ERR_FORMAT;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return MN_ERR_FORMAT;
	if (sec == 60) /* a leap second: the last second of that minute */
		sec = 59;
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	return MN_OK;
}
