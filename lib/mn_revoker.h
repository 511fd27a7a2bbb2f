/*
 * The revocation check of the login: the backends of include/mynumber/revocation.h, loaded
 * as plugins and asked in the configured order, an on-disk cache of their answers, and the
 * require/soft policy. Everything happens before the PIN and within [revocation] timeout.
 */
#ifndef MN_REVOKER_H
#define MN_REVOKER_H

#include <time.h>

#include <openssl/x509.h>

#include "mn_conf.h"
#include "mn_revoke.h"

struct mn_revoker;

/*
 * Load the backends named in [revocation] backends from plugin_dir, each opened with its
 * [revocation.NAME] settings. A missing plugin or a refused setting is an error (err says
 * which): a misconfigured revocation check must not silently become no check.
 */
int mn_revoker_open(const struct mn_conf *conf, struct mn_revoker **ret, char *err, size_t errlen);
void mn_revoker_close(struct mn_revoker **r);

/*
 * Decide for cert, issued by issuer (a trust anchor chosen by signature), at now. Returns 0
 * with *ret written; callers accept only GOOD, or UNAVAILABLE/UNKNOWN with soft_accepted = 1
 * (then ret->detail says why, to be logged as a warning).
 */
int mn_revoker_check(struct mn_revoker *r, X509 *cert, X509 *issuer, time_t now,
                     struct mn_rev_result *ret);

#endif
