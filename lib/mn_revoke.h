/*
 * Revocation check of a login certificate, with a policy. Backends: "crl" (the indexes that
 * mn_crl_import writes to crl_dir, doc/crl-index.md) or "none"; later backends (OCSP) join
 * the comma-separated list. The check does no network I/O and allocates nothing
 * proportional to a CRL.
 */
#ifndef MN_REVOKE_H
#define MN_REVOKE_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

enum mn_rev_status {
	MN_REV_GOOD = 0,
	MN_REV_REVOKED,
	MN_REV_UNKNOWN,     /* a CRL was consulted but cannot answer for this certificate */
	MN_REV_UNAVAILABLE, /* no usable, fresh enough revocation information */
};

enum mn_rev_policy {
	MN_REV_REQUIRE = 0, /* only GOOD passes */
	MN_REV_SOFT,
};

struct mn_rev_result {
	enum mn_rev_status status;
	int reason;         /* REVOKED: CRLReason code or MN_CRL_REASON_NONE (-1); else -1 */
	int64_t revoked_at; /* REVOKED: revocationDate (unix time); else 0 */
	int soft_accepted;  /* 1: UNAVAILABLE/UNKNOWN let through by the soft policy */
	char detail[256];   /* one English line for the log */
};

/*
 * Check cert (issued by issuer: name, AKI and signature are checked here; a certificate
 * not issued by issuer is UNKNOWN and never accepted) at time now.
 *
 * crl backend: <crl_dir>/<hex SHA-1 key id of issuer>.idx.
 *   - missing or unusable index, or one for another issuer name -> UNAVAILABLE;
 *   - a serial on the index -> REVOKED (reason, date), even when the index is stale: an old
 *     CRL still proves a revocation;
 *   - now > nextUpdate + max_staleness -> UNAVAILABLE ("CRL stale since ...");
 *   - a negative serial or one longer than 20 octets -> UNKNOWN (no CRL entry can match it);
 *   - otherwise GOOD; past nextUpdate but within max_staleness the detail says so.
 * "none" -> GOOD, "revocation checking disabled".
 *
 * Policy: REQUIRE keeps UNAVAILABLE/UNKNOWN as failures. SOFT sets soft_accepted = 1 for
 * UNAVAILABLE/UNKNOWN only while an index for this issuer exists that is no older than
 * nextUpdate + max_staleness; a missing or too-stale index is never accepted, so with the crl
 * backend alone SOFT only lets through the UNKNOWN serials above (SOFT matters for later
 * backends such as OCSP). REVOKED is never accepted.
 *
 * Returns 0 when a decision was made (*ret written); callers accept only GOOD, or
 * UNAVAILABLE/UNKNOWN with soft_accepted = 1. MN_ERR_INVALID_ARG for a bad backends list
 * (comma-separated from {crl, none}, "none" only alone) or missing arguments;
 * MN_ERR_CRYPTO, MN_ERR_TOO_LARGE (crl_dir path) otherwise.
 */
int mn_revoke_check(const char *backends, const char *crl_dir, enum mn_rev_policy policy,
                    unsigned max_staleness, X509 *cert, X509 *issuer, time_t now,
                    struct mn_rev_result *ret);

/* "keyCompromise" etc., "unspecified" for MN_CRL_REASON_NONE; never NULL. */
const char *mn_rev_reason_name(int reason);

/* "good", "revoked", "unknown", "unavailable". */
const char *mn_rev_status_name(enum mn_rev_status s);

#endif
