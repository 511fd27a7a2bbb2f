/* The account check: the user's enrolled certificate is still valid and not revoked. */
#ifndef MN_ACCOUNT_H
#define MN_ACCOUNT_H

#include <time.h>

#include "mn_auth.h"

/*
 * MN_RES_OK when the binding used at login (cert_sha256; any of the user's when NULL) has a
 * certificate that is trusted, within its validity and not revoked at now. Otherwise
 * MN_RES_USER_UNKNOWN (no binding), MN_RES_ACCT_EXPIRED, MN_RES_PERM_DENIED.
 */
int mn_account_check(const struct mn_conf *conf, const struct mn_store *store, const char *user,
                     const char *cert_sha256, time_t now, const struct mn_ui *ui,
                     enum mn_result *ret);

#endif
