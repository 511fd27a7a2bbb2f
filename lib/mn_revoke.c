/* Revocation check of a login certificate: backends and the require/soft policy. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mn_crlidx.h"
#include "mn_err.h"
#include "mn_revoke.h"

#define MAX_BACKENDS 4

enum backend {
	BACKEND_NONE,
	BACKEND_CRL,
};

static void set_detail(struct mn_rev_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_detail(struct mn_rev_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
}

static void time_str(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0F];
	}
	out[2 * n] = '\0';
}

/* An RFC 2253 rendering of a name (UTF-8 kept), truncated to cap. */
static void name_str(const X509_NAME *name, char *out, size_t cap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	snprintf(out, cap, "?");
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		snprintf(out, cap, "%.*s", (int)(n < (long)cap ? n : (long)cap - 1), data);
	BIO_free(bio);
}

const char *mn_rev_reason_name(int reason)
{
	static const char *const names[] = {
	    "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
	    "superseded",    "cessationOfOperation", "certificateHold", "reason 7",
	    "removeFromCRL", "privilegeWithdrawn",   "aACompromise",
	};

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return "unspecified";
	return names[reason];
}

const char *mn_rev_status_name(enum mn_rev_status s)
{
	switch (s) {
	case MN_REV_GOOD:
		return "good";
	case MN_REV_REVOKED:
		return "revoked";
	case MN_REV_UNKNOWN:
		return "unknown";
	case MN_REV_UNAVAILABLE:
		return "unavailable";
	}
	return "?";
}

/* "crl", "crl,ocsp" (later), "none": blanks around names allowed, none only alone. */
static int parse_backends(const char *s, enum backend *out, size_t *n_out)
{
	size_t n = 0, len, i;
	const char *p = s, *end;
	int none = 0;

	while (1) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n == MAX_BACKENDS)
			return MN_ERR_INVALID_ARG;
		if (len == 3 && memcmp(p, "crl", 3) == 0)
			out[n] = BACKEND_CRL;
		else if (len == 4 && memcmp(p, "none", 4) == 0)
			out[n] = BACKEND_NONE, none = 1;
		else
			return MN_ERR_INVALID_ARG;
		for (i = 0; i < n; i++)
			if (out[i] == out[n])
				return MN_ERR_INVALID_ARG;
		n++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	if (none && n > 1)
		return MN_ERR_INVALID_ARG;
	*n_out = n;
	return MN_OK;
}

/*
 * The crl backend. *fresh = 1 when an index for this issuer exists, is consistent and is no
 * older than nextUpdate + max_staleness (what the soft policy requires).
 */
static int check_crl(const char *crl_dir, unsigned max_staleness, X509 *cert, X509 *issuer,
                     time_t now, struct mn_rev_result *res, int *fresh)
{
	unsigned char kid[MN_KEY_ID_LEN], name_hash[32];
	char kid_hex[2 * MN_KEY_ID_LEN + 1], path[4096], msg[200], t1[32], name[160];
	const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
	struct mn_crlidx *idx = NULL;
	int64_t next, date;
	int r, revoked, reason, stale;

	*fresh = 0;
	if (crl_dir == NULL)
		return MN_ERR_INVALID_ARG;
	if (mn_key_id(issuer, kid) != MN_OK ||
	    mn_name_sha256(X509_get_issuer_name(cert), name_hash) != MN_OK)
		return MN_ERR_CRYPTO;
	hex(kid, sizeof(kid), kid_hex);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.idx", crl_dir, kid_hex) >= sizeof(path))
		return MN_ERR_TOO_LARGE;

	res->status = MN_REV_UNAVAILABLE;
	r = mn_crlidx_open(path, &idx, msg, sizeof(msg));
	if (r == MN_ERR_NOT_FOUND) {
		name_str(X509_get_subject_name(issuer), name, sizeof(name));
		set_detail(res, "no CRL imported for issuer %s (key id %s)", name, kid_hex);
		r = MN_OK;
		goto out;
	}
	if (r != MN_OK) {
		set_detail(res, "CRL index unusable: %s", msg);
		r = MN_OK;
		goto out;
	}
	if (memcmp(mn_crlidx_issuer_key_id(idx), kid, sizeof(kid)) != 0 ||
	    memcmp(mn_crlidx_issuer_name_sha256(idx), name_hash, sizeof(name_hash)) != 0) {
		set_detail(res, "CRL index %s is for another issuer than the certificate's", path);
		goto out;
	}
	next = mn_crlidx_next_update(idx);
	stale = (int64_t)now > next + (int64_t)max_staleness;
	time_str(next, t1);

	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER) {
		res->status = MN_REV_UNKNOWN;
		set_detail(res, "certificate serial is negative: no CRL entry can match it");
		*fresh = !stale;
		goto out;
	}
	r = mn_crlidx_lookup(idx, ASN1_STRING_get0_data(sn), (size_t)ASN1_STRING_length(sn),
	                     &revoked, &reason, &date);
	if (r == MN_ERR_TOO_LARGE) {
		res->status = MN_REV_UNKNOWN;
		set_detail(res,
		           "certificate serial longer than 20 octets: no CRL entry can match it");
		*fresh = !stale;
		r = MN_OK;
		goto out;
	}
	if (r != MN_OK) {
		set_detail(res, "CRL index %s is corrupt", path);
		r = MN_OK;
		goto out;
	}
	if (revoked) {
		char t2[32];
		time_str(date, t2);
		res->status = MN_REV_REVOKED;
		res->reason = reason;
		res->revoked_at = date;
		set_detail(res, "certificate revoked at %s (%s)", t2, mn_rev_reason_name(reason));
		goto out;
	}
	if (stale) {
		set_detail(res, "CRL stale since %s (nextUpdate), beyond max_staleness of %u s", t1,
		           max_staleness);
		goto out;
	}
	*fresh = 1;
	res->status = MN_REV_GOOD;
	if ((int64_t)now > next)
		set_detail(res, "not revoked; CRL stale since %s but within max_staleness of %u s",
		           t1, max_staleness);
	else
		set_detail(res, "not revoked (CRL valid until %s)", t1);
out:
	mn_crlidx_close(&idx);
	return r;
}

int mn_revoke_check(const char *backends, const char *crl_dir, enum mn_rev_policy policy,
                    unsigned max_staleness, X509 *cert, X509 *issuer, time_t now,
                    struct mn_rev_result *ret)
{
	struct mn_rev_result res;
	enum backend list[MAX_BACKENDS];
	EVP_PKEY *pk;
	size_t n, i;
	int r, fresh = 0, f;

	if (backends == NULL || cert == NULL || issuer == NULL || ret == NULL ||
	    (policy != MN_REV_REQUIRE && policy != MN_REV_SOFT))
		return MN_ERR_INVALID_ARG;
	if ((r = parse_backends(backends, list, &n)) != MN_OK)
		return r;
	memset(&res, 0, sizeof(res));
	res.reason = MN_CRL_REASON_NONE;
	if (list[0] == BACKEND_NONE) {
		res.status = MN_REV_GOOD;
		set_detail(&res, "revocation checking disabled");
		goto done;
	}
	/* bound to the exact certificate: same-DN CAs are told apart by AKI and signature */
	pk = X509_get0_pubkey(issuer);
	if (X509_check_issued(issuer, cert) != X509_V_OK || pk == NULL ||
	    X509_verify(cert, pk) != 1) {
		ERR_clear_error();
		res.status = MN_REV_UNKNOWN;
		set_detail(&res, "the certificate was not issued by the given issuer");
		goto done;
	}
	res.status = MN_REV_UNAVAILABLE;
	set_detail(&res, "no revocation backend answered");
	for (i = 0; i < n; i++) {
		struct mn_rev_result one;

		memset(&one, 0, sizeof(one));
		one.reason = MN_CRL_REASON_NONE;
		if ((r = check_crl(crl_dir, max_staleness, cert, issuer, now, &one, &f)) != MN_OK)
			return r;
		fresh |= f;
		res = one;
		if (one.status == MN_REV_GOOD || one.status == MN_REV_REVOKED)
			break;
	}
	if ((res.status == MN_REV_UNAVAILABLE || res.status == MN_REV_UNKNOWN) &&
	    policy == MN_REV_SOFT && fresh) {
		size_t len = strlen(res.detail);
		res.soft_accepted = 1;
		snprintf(res.detail + len, sizeof(res.detail) - len, " (accepted by soft policy)");
	}
done:
	*ret = res;
	return MN_OK;
}
