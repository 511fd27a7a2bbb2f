/*
 * Publishing managed accounts: the world-readable map libnss_mynumber reads, built from the
 * account records of the enrollment store (or of the directory's cache).
 */
#ifndef MN_PUBLISH_H
#define MN_PUBLISH_H

#include <stddef.h>
#include <time.h>

#include "mn_conf.h"
#include "mn_store.h"

/*
 * Write [accounts] nss_map from store's accounts: one passwd entry each (uid, gid = uid,
 * gecos, home from the [accounts] home template with %u replaced by the name, shell), a
 * private group per account (same name, gid = uid) and, when [accounts] group is set, that
 * group with every managed account as a member. Accounts whose uid lies outside
 * uid_min..uid_max are left out (a directory entry cannot claim a system uid); *ret_skipped
 * (may be NULL) counts them. expires: 0 = never, else the time after which the module stops
 * answering (maps built from a directory). MN_ERR_FORMAT with the reason in err when an
 * entry cannot be published (a home that is not a safe path, a name also used by the
 * shared group), MN_ERR_IO for the write.
 */
int mn_accounts_publish_ex(const struct mn_conf *conf, const struct mn_store *store, time_t expires,
                           size_t *ret_published, size_t *ret_skipped, char *err, size_t errlen);

/* mn_accounts_publish_ex without the counts. */
int mn_accounts_publish(const struct mn_conf *conf, const struct mn_store *store, time_t expires,
                        char *err, size_t errlen);

/* The home directory of user from the template (%u: the name, %% a '%'). */
int mn_accounts_home(const char *tmpl, const char *user, char *out, size_t outlen);

#endif
