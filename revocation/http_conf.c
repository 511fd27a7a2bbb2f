/*
 * The settings of the "http" revocation backend ([revocation.http], doc/revocation-http.md)
 * and its url template. Values are checked here once, in open(); the header value is a
 * secret and is never echoed.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "http_internal.h"
#include "mn_b64.h"
#include "mn_err.h"

static const char *const placeholders[] = {"{serial}", "{issuer_key_id}", "{sha256}"};

/* The placeholder at s: its index, or -1. */
static int placeholder_at(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(placeholders) / sizeof(placeholders[0]); i++)
		if (strncmp(s, placeholders[i], strlen(placeholders[i])) == 0)
			return (int)i;
	return -1;
}

static int set_url(struct http_state *s, const char *v)
{
	size_t len = strlen(v), scheme, host, i;
	int k;

	if (len > MAX_URL)
		return -1;
	if (strncmp(v, "https://", 8) == 0)
		scheme = 8;
	else if (strncmp(v, "http://", 7) == 0)
		scheme = 7;
	else
		return -1;
	host = strcspn(v + scheme, "/?#");
	if (host == 0 || scheme + host >= sizeof(s->origin))
		return -1;
	/* no credentials (use header), no placeholders in the authority */
	for (i = scheme; i < scheme + host; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
		           v[i]) == NULL)
			return -1;
	for (i = scheme + host; i < len; i++) {
		if (v[i] <= ' ' || v[i] > '~' || v[i] == '}')
			return -1;
		if (v[i] == '{') {
			if ((k = placeholder_at(v + i)) < 0)
				return -1;
			i += strlen(placeholders[k]) - 1;
		}
	}
	memcpy(s->url, v, len + 1);
	memcpy(s->origin, v, scheme + host);
	s->origin[scheme + host] = '\0';
	s->https = scheme == 8;
	return 0;
}

/* pin_sha256: up to MAX_PINS SHA-256 hashes, 64 hex digits or 44 base64 characters, each
 * optionally "sha256//"-prefixed, separated by ';' or ','. */
static int set_pins(struct http_state *s, const char *v)
{
	unsigned char h[32];
	char b64[45];
	size_t len, i, n, o = 0;
	int count = 0, hi, lo;

	while (*v != '\0') {
		if (count++ == MAX_PINS)
			return -1;
		if (strncmp(v, "sha256//", 8) == 0)
			v += 8;
		len = strcspn(v, ";,");
		if (len == 64) {
			for (i = 0; i < 32; i++) {
				hi = OPENSSL_hexchar2int((unsigned char)v[2 * i]);
				lo = OPENSSL_hexchar2int((unsigned char)v[2 * i + 1]);
				if (hi < 0 || lo < 0)
					return -1;
				h[i] = (unsigned char)(hi << 4 | lo);
			}
		} else if (len != 44 || mn_b64_decode(v, len, h, sizeof(h), &n) != MN_OK ||
		           n != 32) {
			return -1;
		}
		if (mn_b64_encode(h, 32, b64, sizeof(b64), NULL) != MN_OK)
			return -1;
		o += (size_t)snprintf(s->pins + o, sizeof(s->pins) - o, "%ssha256//%s",
		                      o > 0 ? ";" : "", b64);
		v += len;
		if (*v != '\0' && *++v == '\0')
			return -1;
	}
	return count > 0 ? 0 : -1;
}

/* header: "Name: value", a token name that does not redefine the request's framing. */
static int set_header(struct http_state *s, const char *v)
{
	static const char *const refused[] = {"host",       "content-length", "transfer-encoding",
	                                      "connection", "content-type",   "expect"};
	size_t name = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                        "0123456789!#$%&'*+-.^_`|~"),
	       len = strlen(v), i;

	if (name == 0 || v[name] != ':' || len > MAX_HEADER)
		return -1;
	for (i = name + 1; i < len; i++)
		if ((v[i] < ' ' && v[i] != '\t') || v[i] == 0x7f)
			return -1;
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (strlen(refused[i]) == name && strncasecmp(v, refused[i], name) == 0)
			return -1;
	memcpy(s->header, v, len + 1);
	return 0;
}

/* A decimal number in [lo, hi]. */
static int set_number(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	if (v[0] == '\0' || strlen(v) > 10)
		return -1;
	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	if (n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int http_apply_setting(struct http_state *s, const char *key, const char *v)
{
	int64_t n;

	if (strcmp(key, "url") == 0)
		return set_url(s, v);
	if (strcmp(key, "method") == 0) {
		if (strcasecmp(v, "GET") != 0 && strcasecmp(v, "POST") != 0)
			return -1;
		s->post = strcasecmp(v, "POST") == 0;
		return 0;
	}
	if (strcmp(key, "ca_file") == 0) {
		if (v[0] != '/' || strlen(v) >= sizeof(s->ca_file) || access(v, R_OK) != 0)
			return -1;
		strcpy(s->ca_file, v);
		return 0;
	}
	if (strcmp(key, "pin_sha256") == 0)
		return set_pins(s, v);
	if (strcmp(key, "header") == 0)
		return set_header(s, v);
	if (strcmp(key, "max_response") == 0) {
		if (set_number(v, 2, MAX_RESPONSE, &n) != 0)
			return -1;
		s->max_response = (size_t)n;
		return 0;
	}
	if (strcmp(key, "max_age") == 0)
		return set_number(v, 0, MAX_AGE, &s->max_age);
	return -2;
}

/* The url template with each placeholder replaced by values[its index]. */
int http_expand_url(const char *tpl, const char *const values[3], char *out, size_t cap)
{
	size_t o = 0, n;
	int k;

	while (*tpl != '\0') {
		if (*tpl == '{' && (k = placeholder_at(tpl)) >= 0) {
			n = strlen(values[k]);
			if (n >= cap - o)
				return MN_ERR_TOO_LARGE;
			memcpy(out + o, values[k], n);
			o += n;
			tpl += strlen(placeholders[k]);
		} else {
			if (o + 1 >= cap)
				return MN_ERR_TOO_LARGE;
			out[o++] = *tpl++;
		}
	}
	out[o] = '\0';
	return MN_OK;
}
