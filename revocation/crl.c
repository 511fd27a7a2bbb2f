/*
 * The "crl" revocation backend: the indexes "mynumber crl import" writes, one per issuing CA
 * (<dir>/<hex issuer key id>.idx, doc/crl-index.md), binary-searched with ~20 record reads.
 * No allocation proportional to the CRL, no network. The answer is fresh until the CRL's
 * nextUpdate; the core applies require/soft and max_staleness.
 *
 *   [revocation.crl]
 *   dir = /var/lib/mynumber/crl
 *   source = https://operator.example/jpki/auth.crl, /srv/crl-drop   (mynumber crl refresh)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "mn_crlidx.h"
#include "mn_err.h"
#include "mynumber/revocation.h"

#ifndef MN_STATEDIR
#define MN_STATEDIR "/var/lib/mynumber"
#endif

struct crl_state {
	char dir[4096];
};

static int crl_open(const struct mynumber_rev_setting *settings, size_t n, void **state, char *err,
                    size_t errlen)
{
	struct crl_state *s;
	const char *dir = MN_STATEDIR "/crl";
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(settings[i].key, "dir") == 0 && settings[i].value[0] == '/') {
			dir = settings[i].value;
		} else if (strcmp(settings[i].key, "source") == 0) {
			/* where "mynumber crl refresh" fetches CRLs from: not the login's business
			 */
		} else {
			snprintf(err, errlen, "[revocation.crl]: unknown or invalid setting '%s'",
			         settings[i].key);
			return MN_ERR_INVALID_ARG;
		}
	}
	if (strlen(dir) >= sizeof(s->dir) - 48 || (s = calloc(1, sizeof(*s))) == NULL)
		return MN_ERR_NOMEM;
	strcpy(s->dir, dir);
	*state = s;
	return MN_OK;
}

static int crl_check(void *state, const struct mynumber_rev_query *q, struct mynumber_rev_answer *a)
{
	struct crl_state *s = state;
	struct mn_crlidx *idx = NULL;
	const unsigned char *p = q->cert;
	unsigned char name_sha[32];
	char path[4096 + 48], err[200];
	X509 *cert = NULL;
	int64_t date = 0;
	int revoked = 0, reason = -1, r, i;

	a->reason = -1;
	a->status = MYNUMBER_REV_UNAVAILABLE;
	i = snprintf(path, sizeof(path), "%s/", s->dir);
	for (r = 0; r < 20; r++)
		i += snprintf(path + i, sizeof(path) - (size_t)i, "%02x", q->issuer_key_id[r]);
	snprintf(path + i, sizeof(path) - (size_t)i, ".idx");
	if (mn_crlidx_open(path, &idx, err, sizeof(err)) != MN_OK) {
		snprintf(a->detail, sizeof(a->detail), "crl: no usable index (%.180s)", err);
		return MN_OK;
	}
	cert = d2i_X509(NULL, &p, (long)q->cert_len);
	if (cert == NULL || mn_name_sha256(X509_get_issuer_name(cert), name_sha) != MN_OK ||
	    memcmp(name_sha, mn_crlidx_issuer_name_sha256(idx), 32) != 0 ||
	    memcmp(q->issuer_key_id, mn_crlidx_issuer_key_id(idx), 20) != 0) {
		a->status = MYNUMBER_REV_UNKNOWN;
		snprintf(a->detail, sizeof(a->detail), "crl: the index is for another issuer");
		goto out;
	}
	r = mn_crlidx_lookup(idx, q->serial, q->serial_len, &revoked, &reason, &date);
	if (r == MN_ERR_TOO_LARGE) {
		a->status = MYNUMBER_REV_UNKNOWN;
		snprintf(a->detail, sizeof(a->detail), "crl: this serial cannot be on a CRL");
		goto out;
	}
	if (r != MN_OK) {
		snprintf(a->detail, sizeof(a->detail), "crl: the index cannot be read (%s)",
		         mn_strerror(r));
		goto out;
	}
	a->this_update = mn_crlidx_this_update(idx);
	a->cache_until = mn_crlidx_next_update(idx);
	if (revoked) {
		a->status = MYNUMBER_REV_REVOKED;
		a->reason = reason;
		a->revoked_at = date;
		snprintf(a->detail, sizeof(a->detail), "crl: revoked (CRL of %lld, %zu entries)",
		         (long long)a->this_update, mn_crlidx_count(idx));
	} else {
		a->status = MYNUMBER_REV_GOOD;
		snprintf(a->detail, sizeof(a->detail), "crl: not on the CRL of %lld (%zu entries)",
		         (long long)a->this_update, mn_crlidx_count(idx));
	}
out:
	X509_free(cert);
	mn_crlidx_close(&idx);
	return MN_OK;
}

static void crl_close(void *state)
{
	free(state);
}

static const struct mynumber_rev_backend crl_backend = {
    MYNUMBER_REV_ABI_VERSION, "crl", crl_open, crl_check, crl_close,
};

const struct mynumber_rev_backend *mynumber_revocation_backend(void)
{
	return &crl_backend;
}
