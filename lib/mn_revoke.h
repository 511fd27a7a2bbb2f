/*
 * The result of a revocation check (mn_revoker.h runs it: the backends of
 * include/mynumber/revocation.h, the cache, the require/soft policy).
 */
#ifndef MN_REVOKE_H
#define MN_REVOKE_H

#include <stddef.h>
#include <stdint.h>

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
	/* REVOKED because renewed: the serial of the successor certificate, when the backend
	 * knows it (J-LIS links old and new serials for platform operators) */
	unsigned char successor[20];
	size_t successor_len;
};

/* "keyCompromise" etc., "unspecified" for MN_CRL_REASON_NONE; never NULL. */
const char *mn_rev_reason_name(int reason);

/* "good", "revoked", "unknown", "unavailable". */
const char *mn_rev_status_name(enum mn_rev_status s);

#endif
