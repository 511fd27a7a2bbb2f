/*
 * mynumber revocation backends: the plugin ABI, version 1.
 *
 * A backend is a shared object installed as $(libdir)/mynumber/revocation/NAME.so that
 * exports one function:
 *
 *     const struct mynumber_rev_backend *mynumber_revocation_backend(void);
 *
 * The login helper and the mynumber command load the backends listed in mynumber.conf,
 *
 *     [revocation]
 *     backends = crl, ocsp
 *     policy = require
 *     max_staleness = 86400
 *     [revocation.ocsp]
 *     url = http://127.0.0.1:8080/
 *
 * (backends are asked in the listed order; policy is require or soft; each backend reads
 * only its own [revocation.NAME] section)
 *
 * and ask them, in order, about a certificate BEFORE the PIN is asked for. The first
 * definite answer decides: REVOKED (never accepted) or a fresh GOOD. UNKNOWN and UNAVAILABLE
 * pass to the next backend. The core, not the backend, applies the policy and the cache:
 *
 *   - a fresh GOOD (cache_until > now) or a REVOKED is kept on disk (root only); when no
 *     backend gives a definite answer (offline), a kept REVOKED stands and a kept GOOD is
 *     used while fresh;
 *   - "require": only a fresh GOOD (now <= cache_until, or cache_until == 0) logs in;
 *   - "soft": when no backend gives a definite answer, a GOOD that went stale no more than
 *     max_staleness seconds ago (a backend's, or the cache's) is accepted, and logged as a
 *     warning with the reason. REVOKED is never accepted.
 *
 * Rules for backends: answer within query->timeout_ms (bound every network operation by
 * it); print nothing; keep no secrets in answers; refuse unknown settings in open(); treat
 * every byte from a file or the network as hostile (bounds, signatures, no trailing data).
 * All strings are NUL-terminated UTF-8.
 */
#ifndef MYNUMBER_REVOCATION_H
#define MYNUMBER_REVOCATION_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MYNUMBER_REV_ABI_VERSION 1

enum mynumber_rev_status {
	MYNUMBER_REV_GOOD = 0,        /* not revoked, per information valid until cache_until */
	MYNUMBER_REV_REVOKED = 1,     /* revoked: reason, revoked_at */
	MYNUMBER_REV_UNKNOWN = 2,     /* the source does not know this certificate */
	MYNUMBER_REV_UNAVAILABLE = 3, /* no usable answer (down, slow, stale, garbage) */
};

/* What is asked. Every pointer is valid for the duration of check() only. */
struct mynumber_rev_query {
	const unsigned char *cert; /* DER of the certificate */
	size_t cert_len;
	const unsigned char *issuer; /* DER of the CA that issued it (a trust anchor, chosen by
	                              * signature: every JPKI CA generation has the same name) */
	size_t issuer_len;
	const unsigned char *issuer_key_id; /* 20 bytes: SHA-1 of the issuer's subjectPublicKey */
	const unsigned char *serial;        /* the certificate serial, big-endian, no sign byte */
	size_t serial_len;
	int64_t now;    /* unix time the answer is for */
	int timeout_ms; /* answer within this many milliseconds */
};

/* The answer; zeroed by the caller before check(). */
struct mynumber_rev_answer {
	enum mynumber_rev_status status;
	int reason;          /* REVOKED: CRLReason (0..10), or -1 when absent */
	int64_t revoked_at;  /* REVOKED: unix time, 0 when unknown */
	int64_t this_update; /* when the information was produced (unix time), 0 when unknown */
	int64_t cache_until; /* the information is fresh until then (CRL or OCSP nextUpdate);
	                      * 0: no stated end, do not cache */
	/* optional: the certificate was renewed and this is its successor's serial (J-LIS
	 * links old and new serials for platform operators) */
	unsigned char successor_serial[20];
	size_t successor_serial_len;
	char detail[256]; /* one English line for the log: what was consulted, what it said */
};

/* One "key = value" of the backend's [revocation.NAME] section. */
struct mynumber_rev_setting {
	const char *key;
	const char *value;
};

struct mynumber_rev_backend {
	unsigned abi_version; /* MYNUMBER_REV_ABI_VERSION */
	const char *name;     /* the NAME in NAME.so and [revocation.NAME] */
	/* Validate the settings (refuse unknown keys) and prepare. 0 or negative. */
	int (*open)(const struct mynumber_rev_setting *settings, size_t n, void **state, char *err,
	            size_t errlen);
	/* Answer for one certificate: 0 when *answer was filled (any status), negative on an
	 * internal error (the core treats it as UNAVAILABLE). */
	int (*check)(void *state, const struct mynumber_rev_query *query,
	             struct mynumber_rev_answer *answer);
	void (*close)(void *state);
};

/* The one symbol a backend exports. */
const struct mynumber_rev_backend *mynumber_revocation_backend(void);

#ifdef __cplusplus
}
#endif

#endif
