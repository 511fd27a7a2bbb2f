/*
 * The "http" revocation backend's parts (doc/revocation-http.md): http.c (the plugin, libcurl),
 * http_conf.c (the settings, the url template), http_json.c (the JSON answer).
 */
#ifndef MN_HTTP_INTERNAL_H
#define MN_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mynumber/revocation.h"

#define MAX_URL      2048
#define MAX_SERIAL   32
#define MAX_PINS     4
#define MAX_HEADER   4096
#define URL_CAP      (MAX_URL * 9) /* every placeholder (8 or more bytes) gives at most 64 */
#define MAX_RESPONSE (1024 * 1024)
#define MAX_AGE      (366 * 86400)

struct http_state {
	char url[MAX_URL + 1]; /* the template */
	char origin[100];      /* scheme://host[:port]: what the details name */
	int https, post, curl_ready;
	char ca_file[4096];
	char pins[MAX_PINS * 53 + 1]; /* "sha256//B64;sha256//B64", or empty */
	char header[MAX_HEADER + 1];  /* a secret */
	size_t max_response;
	int64_t max_age;
};

/*
 * Apply one "key = value" to s: 0, -1 for an invalid value, -2 for an unknown key. Prints
 * nothing and never copies the value anywhere but s.
 */
int http_apply_setting(struct http_state *s, const char *key, const char *value);

/* The url template with {serial}, {issuer_key_id}, {sha256} replaced by values[0..2] into
 * out[cap]: MN_OK or MN_ERR_TOO_LARGE. */
int http_expand_url(const char *tpl, const char *const values[3], char *out, size_t cap);

/* What one answer said. */
struct http_fields {
	enum mynumber_rev_status status; /* GOOD, REVOKED or UNKNOWN */
	int reason;                      /* CRLReason 0..10 (not 7, not 8), -1 when absent */
	int64_t revoked_at;              /* 0 when absent */
	int64_t this_update;             /* 0 when absent */
	int64_t next_update;             /* 0 when absent */
	int has_next_update;
	unsigned char successor[20];
	size_t successor_len; /* 0 when absent */
};

/*
 * Parse the body[0..len) of a 200 answer. MN_OK and *f filled, or MN_ERR_FORMAT with *why
 * set to a short static English description (never text from the body); *f untouched then.
 */
int http_parse_answer(const char *body, size_t len, struct http_fields *f, const char **why);

/*
 * An RFC 3339 date-time ("2024-01-02T03:04:05Z", fraction and offset allowed) of exactly len
 * bytes into unix time. MN_OK or MN_ERR_FORMAT.
 */
int http_parse_time(const char *s, size_t len, int64_t *out);

#endif
