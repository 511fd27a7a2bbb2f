/*
 * The "ocsp" revocation backend: asks an OCSP responder (RFC 6960) over HTTP about one
 * certificate, within the query's deadline (ocsp_http.c), and believes only a response signed
 * by a responder the issuer authorized (ocsp_verify.c). doc/revocation-ocsp.md has the details.
 *
 *   [revocation.ocsp]
 *   url = http://127.0.0.1:8080/   # default: the certificate's AIA OCSP URL
 *   digest = sha256                # the CertID hash: sha256 or sha1
 *   nonce = yes                    # yes, optional (sent, may be missing) or no
 *   responder_cert = /etc/mynumber/ocsp-responder.pem   # a responder trusted directly
 *   max_response = 65536           # bytes
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "mynumber/revocation.h"
#include "ocsp.h"

#define SKEW              300 /* seconds of clock difference tolerated on the response dates */
#define MAX_RESPONDER_PEM (64 * 1024)
#define MIN_RESPONSE      512
#define MAX_RESPONSE      (16 * 1024 * 1024)

enum { NONCE_NO, NONCE_YES, NONCE_OPTIONAL };

struct ocsp_state {
	char url[OCSP_MAX_URL]; /* "": the certificate's AIA */
	struct ocsp_url parsed;
	const EVP_MD *md;
	int nonce;
	X509 *responder; /* responder_cert, or NULL */
	size_t max_response;
};

static const char *const reason_names[] = {
    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
    "superseded",    "cessationOfOperation", "certificateHold", "reason 7",
    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
};

static void fmt_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

static int asn1_time_unix(const ASN1_GENERALIZEDTIME *t, int64_t *out)
{
	struct tm tm;
	time_t v;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || (v = timegm(&tm)) == (time_t)-1)
		return MN_ERR_FORMAT;
	*out = (int64_t)v;
	return MN_OK;
}

static int load_responder(const char *path, X509 **out, char *err, size_t errlen)
{
	struct stat st;
	FILE *f = NULL;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r = MN_ERR_IO;

	if (path[0] != '/' || (f = fopen(path, "re")) == NULL || fstat(fileno(f), &st) != 0 ||
	    !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "[revocation.ocsp]: cannot read responder_cert %.200s", path);
		goto out;
	}
	if (st.st_size > MAX_RESPONDER_PEM || (bio = BIO_new_fp(f, BIO_CLOSE)) == NULL) {
		snprintf(err, errlen, "[revocation.ocsp]: responder_cert %.200s is too large",
		         path);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	f = NULL;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen, "[revocation.ocsp]: no PEM certificate in %.200s", path);
		r = MN_ERR_FORMAT;
		goto out;
	}
	*out = x;
	r = MN_OK;
out:
	if (f != NULL)
		fclose(f);
	BIO_free(bio);
	return r;
}

static int set_one(struct ocsp_state *s, const char *key, const char *v, char *err, size_t errlen)
{
	char *end;
	unsigned long n;

	if (strcmp(key, "url") == 0) {
		if (ocsp_parse_url(v, &s->parsed, err, errlen) != MN_OK)
			return MN_ERR_INVALID_ARG;
		snprintf(s->url, sizeof(s->url), "%s", v);
	} else if (strcmp(key, "digest") == 0 && strcmp(v, "sha256") == 0) {
		s->md = EVP_sha256();
	} else if (strcmp(key, "digest") == 0 && strcmp(v, "sha1") == 0) {
		s->md = EVP_sha1();
	} else if (strcmp(key, "nonce") == 0 && strcmp(v, "yes") == 0) {
		s->nonce = NONCE_YES;
	} else if (strcmp(key, "nonce") == 0 && strcmp(v, "no") == 0) {
		s->nonce = NONCE_NO;
	} else if (strcmp(key, "nonce") == 0 && strcmp(v, "optional") == 0) {
		s->nonce = NONCE_OPTIONAL;
	} else if (strcmp(key, "responder_cert") == 0) {
		return load_responder(v, &s->responder, err, errlen);
	} else if (strcmp(key, "max_response") == 0 && v[0] >= '0' && v[0] <= '9' &&
	           (n = strtoul(v, &end, 10)) >= MIN_RESPONSE && n <= MAX_RESPONSE &&
	           *end == '\0') {
		s->max_response = n;
	} else {
		snprintf(err, errlen, "[revocation.ocsp]: unknown or invalid setting '%.40s'", key);
		return MN_ERR_INVALID_ARG;
	}
	return MN_OK;
}

static void ocsp_close(void *state)
{
	struct ocsp_state *s = state;

	if (s != NULL)
		X509_free(s->responder);
	free(s);
}

static int ocsp_open(const struct mynumber_rev_setting *settings, size_t n, void **state, char *err,
                     size_t errlen)
{
	struct ocsp_state *s = calloc(1, sizeof(*s));
	size_t i, j;
	int r = MN_OK;

	if (s == NULL)
		return MN_ERR_NOMEM;
	s->md = EVP_sha256();
	s->nonce = NONCE_YES;
	s->max_response = 65536;
	ERR_set_mark();
	for (i = 0; i < n && r == MN_OK; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(settings[i].key, settings[j].key) == 0) {
				snprintf(err, errlen, "[revocation.ocsp]: '%.40s' given twice",
				         settings[i].key);
				r = MN_ERR_INVALID_ARG;
			}
		}
		if (r == MN_OK)
			r = set_one(s, settings[i].key, settings[i].value, err, errlen);
	}
	ERR_pop_to_mark();
	if (r != MN_OK) {
		ocsp_close(s);
		return r;
	}
	*state = s;
	return MN_OK;
}

/* The first http:// OCSP URL of the certificate's AIA. */
static int aia_url(X509 *cert, char *out, size_t outlen)
{
	STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
	const char *u;
	int i, r = MN_ERR_NOT_FOUND;

	for (i = 0; i < sk_OPENSSL_STRING_num(urls) && r != MN_OK; i++) {
		u = sk_OPENSSL_STRING_value(urls, i);
		if (strncasecmp(u, "http://", 7) == 0 && strlen(u) < outlen) {
			snprintf(out, outlen, "%s", u);
			r = MN_OK;
		}
	}
	X509_email_free(urls);
	return r;
}

static const char *response_status_name(int status)
{
	switch (status) {
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
		return "malformedRequest";
	case OCSP_RESPONSE_STATUS_INTERNALERROR:
		return "internalError";
	case OCSP_RESPONSE_STATUS_TRYLATER:
		return "tryLater";
	case OCSP_RESPONSE_STATUS_SIGREQUIRED:
		return "sigRequired";
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
		return "unauthorized";
	}
	return "an unknown status";
}

/* Believe der (or not) and fill a; why says what was found either way. */
static void evaluate(const struct ocsp_state *s, const struct mynumber_rev_query *q,
                     OCSP_REQUEST *req, OCSP_CERTID *id, X509 *issuer, const unsigned char *der,
                     size_t der_len, struct mynumber_rev_answer *a, char *why, size_t whylen)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)der_len);
	OCSP_BASICRESP *bs = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	int64_t this_update = 0, next_update = 0, revoked_at = 0;
	int status, reason = -1, idx;
	char sig[160], t1[32], t2[32];

	if (resp == NULL || p != der + der_len) {
		snprintf(why, whylen, "not a DER OCSP response");
		goto out;
	}
	status = OCSP_response_status(resp);
	if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(why, whylen, "the responder answered %s", response_status_name(status));
		goto out;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL ||
	    ocsp_check_der(der, der_len, bs) != MN_OK) {
		snprintf(why, whylen, "not a DER basic OCSP response");
		goto out;
	}
	if (ocsp_verify_signer(bs, issuer, s->responder, q->now, sig, sizeof(sig)) != MN_OK) {
		snprintf(why, whylen, "response rejected: %s", sig);
		goto out;
	}
	if (s->nonce != NONCE_NO) { /* we sent one */
		if (OCSP_BASICRESP_get_ext_by_NID(bs, NID_id_pkix_OCSP_Nonce, -1) < 0) {
			if (s->nonce == NONCE_YES) {
				snprintf(why, whylen, "the response has no nonce");
				goto out;
			}
		} else if (OCSP_check_nonce(req, bs) != 1) {
			snprintf(why, whylen, "the response nonce does not match");
			goto out;
		}
	}
	if ((idx = OCSP_resp_find(bs, id, -1)) < 0 || OCSP_resp_find(bs, id, idx) >= 0) {
		snprintf(why, whylen, "%s for this certificate",
		         idx < 0 ? "no answer" : "several answers");
		goto out;
	}
	status =
	    OCSP_single_get0_status(OCSP_resp_get0(bs, idx), &reason, &rev, &thisupd, &nextupd);
	if (asn1_time_unix(thisupd, &this_update) != MN_OK ||
	    (nextupd != NULL &&
	     (asn1_time_unix(nextupd, &next_update) != MN_OK || next_update < this_update)) ||
	    (status == V_OCSP_CERTSTATUS_REVOKED && asn1_time_unix(rev, &revoked_at) != MN_OK)) {
		snprintf(why, whylen, "bad dates in the response");
		goto out;
	}
	fmt_time(this_update, t1);
	fmt_time(next_update, t2);
	if (this_update > q->now + SKEW) {
		snprintf(why, whylen, "the response is from the future (thisUpdate %s)", t1);
		goto out;
	}
	if (nextupd != NULL && next_update < q->now - SKEW) {
		snprintf(why, whylen, "stale OCSP response (nextUpdate %s)", t2);
		goto out;
	}
	a->this_update = this_update;
	a->cache_until = next_update;
	if (status == V_OCSP_CERTSTATUS_GOOD) {
		a->status = MYNUMBER_REV_GOOD;
		snprintf(why, whylen, "good (thisUpdate %s, nextUpdate %s)", t1,
		         nextupd != NULL ? t2 : "none");
	} else if (status == V_OCSP_CERTSTATUS_REVOKED) {
		a->status = MYNUMBER_REV_REVOKED;
		a->reason = reason >= 0 && reason <= 10 ? reason : -1;
		a->revoked_at = revoked_at;
		fmt_time(revoked_at, t2);
		snprintf(why, whylen, "revoked at %s (%s)", t2,
		         a->reason >= 0 ? reason_names[a->reason] : "no reason given");
	} else if (status == V_OCSP_CERTSTATUS_UNKNOWN) {
		a->status = MYNUMBER_REV_UNKNOWN;
		snprintf(why, whylen, "the responder does not know this certificate");
	} else {
		a->this_update = 0;
		a->cache_until = 0;
		snprintf(why, whylen, "bad certificate status in the response");
	}
out:
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
}

static int ocsp_check(void *state, const struct mynumber_rev_query *q,
                      struct mynumber_rev_answer *a)
{
	const struct ocsp_state *s = state;
	int64_t deadline = ocsp_now_ms() + (q->timeout_ms > 0 ? q->timeout_ms : 0);
	const unsigned char *p = q->cert, *ip = q->issuer;
	const struct ocsp_url *u = &s->parsed;
	struct ocsp_url aia;
	X509 *cert = NULL, *issuer = NULL;
	OCSP_CERTID *id = NULL, *id2 = NULL;
	OCSP_REQUEST *req = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char why[200], url[OCSP_MAX_URL];
	int r = MN_OK;

	a->status = MYNUMBER_REV_UNAVAILABLE;
	a->reason = -1;
	snprintf(url, sizeof(url), "%s", s->url[0] != '\0' ? s->url : "(no URL)");
	ERR_set_mark();
	if ((cert = d2i_X509(NULL, &p, (long)q->cert_len)) == NULL || p != q->cert + q->cert_len ||
	    (issuer = d2i_X509(NULL, &ip, (long)q->issuer_len)) == NULL ||
	    ip != q->issuer + q->issuer_len) {
		snprintf(why, sizeof(why), "cannot parse the certificate or its issuer");
		goto out;
	}
	if (s->url[0] == '\0') {
		if (aia_url(cert, url, sizeof(url)) != MN_OK) {
			snprintf(why, sizeof(why),
			         "no url setting and no http:// OCSP URL in the "
			         "certificate");
			goto out;
		}
		if (ocsp_parse_url(url, &aia, why, sizeof(why)) != MN_OK)
			goto out;
		u = &aia;
	}
	if (q->timeout_ms <= 0) {
		snprintf(why, sizeof(why), "no time to ask (timeout %d ms)", q->timeout_ms);
		goto out;
	}
	r = MN_ERR_NOMEM;
	if ((id = OCSP_cert_to_id(s->md, cert, issuer)) == NULL ||
	    (req = OCSP_REQUEST_new()) == NULL || (id2 = OCSP_CERTID_dup(id)) == NULL ||
	    OCSP_request_add0_id(req, id2) == NULL) {
		OCSP_CERTID_free(id2);
		snprintf(why, sizeof(why), "cannot build the request");
		goto out;
	}
	if (s->nonce != NONCE_NO && !OCSP_request_add1_nonce(req, NULL, -1)) {
		snprintf(why, sizeof(why), "cannot add a nonce");
		goto out;
	}
	r = MN_OK;
	if (ocsp_http_post(u, req, s->max_response, deadline, &der, &der_len, why, sizeof(why)) !=
	    MN_OK)
		goto out;
	evaluate(s, q, req, id, issuer, der, der_len, a, why, sizeof(why));
out:
	snprintf(a->detail, sizeof(a->detail), "ocsp: %.100s: %.140s", url, why);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	X509_free(issuer);
	X509_free(cert);
	ERR_pop_to_mark();
	return r;
}

static const struct mynumber_rev_backend ocsp_backend = {
    MYNUMBER_REV_ABI_VERSION, "ocsp", ocsp_open, ocsp_check, ocsp_close,
};

const struct mynumber_rev_backend *mynumber_revocation_backend(void)
{
	return &ocsp_backend;
}
