/*
 * The "http" revocation backend: a REST inquiry per certificate to a platform operator's (or
 * the Digital Agency's) service, which answers in JSON (doc/revocation-http.md).
 *
 *   [revocation.http]
 *   url = https://revocation.example.jp/v1/status/{serial}?kid={issuer_key_id}
 *   method = GET                        # or POST: {"serial":..,"issuer_key_id":..,"sha256":..}
 *   ca_file = /etc/mynumber/revocation-ca.pem   # required for https: the only CA trusted
 *   pin_sha256 = <hex or base64 SHA-256 of the server's SubjectPublicKeyInfo>   # optional
 *   header = Authorization: Bearer XXX  # optional, a secret: never in details
 *   max_response = 16384
 *   max_age = 0                         # cache an answer without next_update this long
 *
 * libcurl, one easy handle per check, bounded by query->timeout_ms; no redirects, no proxy,
 * only the url's scheme. open() calls curl_global_init, which is not thread-safe with every
 * libcurl build: open and close the backend from one thread (the helper is single-threaded);
 * check() itself may run concurrently.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "http_internal.h"
#include "mn_err.h"
#include "mynumber/revocation.h"

struct body {
	char *data;
	size_t len, cap;
	int over;
};

static void http_close(void *state)
{
	struct http_state *s = state;

	if (s == NULL)
		return;
	if (s->curl_ready)
		curl_global_cleanup();
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

static int http_open(const struct mynumber_rev_setting *settings, size_t n, void **state, char *err,
                     size_t errlen)
{
	struct http_state *s;
	size_t i, j;
	int r = MN_ERR_INVALID_ARG, k;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MN_ERR_NOMEM;
	s->max_response = 16384;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(settings[i].key, settings[j].key) == 0) {
				snprintf(err, errlen, "[revocation.http]: '%.40s' is set twice",
				         settings[i].key);
				goto out;
			}
		}
		if ((k = http_apply_setting(s, settings[i].key, settings[i].value)) != 0) {
			/* never the value: header is a secret */
			snprintf(err, errlen, "[revocation.http]: %s setting '%.40s'",
			         k == -2 ? "unknown" : "invalid", settings[i].key);
			goto out;
		}
	}
	if (s->url[0] == '\0') {
		snprintf(err, errlen, "[revocation.http]: url is required");
		goto out;
	}
	if (s->https != (s->ca_file[0] != '\0') || (!s->https && s->pins[0] != '\0')) {
		snprintf(err, errlen,
		         "[revocation.http]: an https url needs ca_file; ca_file and "
		         "pin_sha256 are for https only");
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "[revocation.http]: libcurl cannot be initialised");
		r = MN_ERR_INTERNAL;
		goto out;
	}
	s->curl_ready = 1;
	*state = s;
	s = NULL;
	r = MN_OK;
out:
	http_close(s);
	return r;
}

static void hex(const unsigned char *p, size_t n, const char *digits, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *user)
{
	struct body *b = user;
	size_t n = size * nmemb;

	if (nmemb != 0 && n / nmemb != size)
		return 0;
	if (n > b->cap - b->len) {
		b->over = 1;
		return 0; /* aborts the transfer */
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return n;
}

/* Fill a from what the server said. */
static void take(const struct http_state *s, const struct mynumber_rev_query *q,
                 const struct http_fields *f, struct mynumber_rev_answer *a)
{
	static const char *const names[] = {"good", "revoked", "unknown", "unavailable"};

	a->status = f->status;
	a->this_update = f->this_update;
	if (f->status == MYNUMBER_REV_REVOKED) {
		a->reason = f->reason;
		a->revoked_at = f->revoked_at;
	}
	if (f->has_next_update)
		a->cache_until = f->next_update > 0 ? f->next_update : 1;
	else if (s->max_age > 0)
		a->cache_until = q->now + s->max_age;
	memcpy(a->successor_serial, f->successor, f->successor_len);
	a->successor_serial_len = f->successor_len;
	snprintf(a->detail, sizeof(a->detail), "http: %s answered %s (this_update %lld, %s %lld)",
	         s->origin, names[f->status], (long long)f->this_update,
	         f->has_next_update ? "next_update" : "no next_update, cache until",
	         (long long)a->cache_until);
}

static int http_check(void *state, const struct mynumber_rev_query *q,
                      struct mynumber_rev_answer *a)
{
	struct http_state *s = state;
	char serial[2 * MAX_SERIAL + 1], kid[41], sha[65], url[URL_CAP], post[256];
	char accept[] = "Accept: application/json", ctype[] = "Content-Type: application/json";
	const char *values[3] = {serial, kid, sha}, *why = NULL;
	unsigned char digest[32];
	struct curl_slist hdr[3];
	struct body b = {NULL, 0, 0, 0};
	struct http_fields f;
	unsigned int dlen = 0;
	CURL *c = NULL;
	CURLcode rc;
	long code = 0;
	int r = MN_OK;

	a->reason = -1;
	a->status = MYNUMBER_REV_UNAVAILABLE;
	if (q->serial_len == 0 || q->serial_len > MAX_SERIAL || q->timeout_ms <= 0 ||
	    !EVP_Digest(q->cert, q->cert_len, digest, &dlen, EVP_sha256(), NULL) || dlen != 32) {
		snprintf(a->detail, sizeof(a->detail), "http: unusable query (serial, time left)");
		return MN_OK;
	}
	hex(q->serial, q->serial_len, "0123456789ABCDEF", serial);
	hex(q->issuer_key_id, 20, "0123456789abcdef", kid);
	hex(digest, 32, "0123456789abcdef", sha);
	if (http_expand_url(s->url, values, url, sizeof(url)) != MN_OK) {
		snprintf(a->detail, sizeof(a->detail), "http: %s: the url is too long", s->origin);
		return MN_OK;
	}
	snprintf(post, sizeof(post),
	         "{\"serial\":\"%s\",\"issuer_key_id\":\"%s\",\"sha256\":\"%s\"}", serial, kid,
	         sha);
	/* a list on the stack, so that the secret header is not copied */
	hdr[0].data = accept;
	hdr[0].next = NULL;
	hdr[1].data = ctype;
	hdr[1].next = s->post ? &hdr[0] : NULL;
	hdr[2].data = s->header;
	hdr[2].next = s->post ? &hdr[1] : &hdr[0];
	b.cap = s->max_response;
	if ((b.data = malloc(b.cap + 1)) == NULL || (c = curl_easy_init()) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, s->https ? "https" : "http") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)q->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)q->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.cap) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "mynumber/" PACKAGE_VERSION) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, s->header[0] ? &hdr[2] : hdr[2].next) !=
	        CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CAPATH, (char *)NULL) != CURLE_OK ||
	    (s->post &&
	     (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(post)) != CURLE_OK ||
	      curl_easy_setopt(c, CURLOPT_POSTFIELDS, post) != CURLE_OK)) ||
	    (s->https &&
	     (curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file) != CURLE_OK ||
	      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	      curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK ||
	      (s->pins[0] != '\0' &&
	       curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, s->pins) != CURLE_OK)))) {
		snprintf(a->detail, sizeof(a->detail), "http: libcurl refused an option");
		goto out;
	}
	rc = curl_easy_perform(c);
	if (b.over || rc == CURLE_FILESIZE_EXCEEDED) {
		snprintf(a->detail, sizeof(a->detail), "http: %s: answer larger than %zu bytes",
		         s->origin, b.cap);
		goto out;
	}
	if (rc != CURLE_OK) {
		snprintf(a->detail, sizeof(a->detail), "http: %s: %.100s (timeout %d ms)",
		         s->origin, curl_easy_strerror(rc), q->timeout_ms);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code != 200) {
		snprintf(a->detail, sizeof(a->detail), "http: %s: HTTP status %ld", s->origin,
		         code);
		goto out;
	}
	if (http_parse_answer(b.data, b.len, &f, &why) != MN_OK) {
		snprintf(a->detail, sizeof(a->detail), "http: %s: unusable answer: %s", s->origin,
		         why);
		goto out;
	}
	take(s, q, &f, a);
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	free(b.data);
	return r;
}

static const struct mynumber_rev_backend http_backend = {
    MYNUMBER_REV_ABI_VERSION, "http", http_open, http_check, http_close,
};

const struct mynumber_rev_backend *mynumber_revocation_backend(void)
{
	return &http_backend;
}
