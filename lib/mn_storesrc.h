/*
 * Where the enrollment records come from: the store file, or the directory (store_backend =
 * ldap, lib/mn_ldap.h) with a local cache that answers while the directory cannot be reached,
 * for at most [ldap] cache_max_age seconds after the records were fetched (doc/ldap.md).
 *
 * Cache, under [ldap] cache_dir (a directory owned by root or the euid, no group/other bits;
 * created 0700 when missing, its parent must exist):
 *
 *   u/USER   USER's records as fetched, one file per user, mode 0600, replaced atomically:
 *                # mynumber ldap cache v1 fetched=EPOCH
 *                <the records in enrollment store format (mn_store_format), header included>
 *            Every record must belong to USER. Removed when the directory says USER has no
 *            records (or no entry), so a revoked enrollment leaves the cache as soon as the
 *            directory was reachable once.
 *   full     the marker of the last complete fetch of everyone (written after all of u/):
 *                # mynumber ldap cache v1 full fetched=EPOCH
 *            A full fetch rewrites every user's file and removes the files of users no longer
 *            in the directory.
 *
 * A cached answer is fresh when fetched <= now and now - fetched <= cache_max_age. For one
 * user: u/USER if fresh; no u/USER counts as "no records" only when the full marker is fresh.
 * For everyone: the full marker must be fresh, and every u/ file at least as recent as it is
 * used.
 */
#ifndef MN_STORESRC_H
#define MN_STORESRC_H

#include <stddef.h>
#include <time.h>

#include "mn_conf.h"
#include "mn_store.h"

#define MN_LDAP_CACHE_HEADER      "# mynumber ldap cache v1 fetched="
#define MN_LDAP_CACHE_FULL_HEADER "# mynumber ldap cache v1 full fetched="
#define MN_LDAP_CACHE_MAX         (64u * 1024 * 1024)

enum mn_store_origin { MN_STORE_FROM_FILE, MN_STORE_FROM_DIRECTORY, MN_STORE_FROM_CACHE };

/*
 * The enrollment records of user (or of everyone when user is NULL) from where store_backend
 * says. file: mn_store_load of `store`. ldap: ask the directory; on success refresh the local
 * cache and return the fresh records; when the directory cannot be reached (connect/bind/search
 * failure, timeout), the cached records if they were fetched at most cache_max_age seconds
 * before now (origin CACHE), else MN_ERR_UNAVAILABLE. A corrupt cache is MN_ERR_FORMAT with a
 * clear reason. err says what happened (no secrets): on failure the reason; on success with
 * ldap a note (skipped values, cache not writable, why the cache answered), else "".
 */
int mn_store_source_load(const struct mn_conf *conf, const char *user, time_t now,
                         struct mn_store **ret, enum mn_store_origin *origin, char *err,
                         size_t errlen);

/*
 * Replace the whole cache with the records of a complete fetch of everyone, fetched at now:
 * every user's file rewritten, files of users not in all removed, then the full marker.
 * *ret_users (may be NULL) receives the number of users with records.
 */
int mn_store_cache_replace(const struct mn_conf *conf, const struct mn_store *all, time_t now,
                           size_t *ret_users, char *err, size_t errlen);

/*
 * Parse one user's cache file held in memory (name for messages): the v1 header line with its
 * fetch time, then a store whose records all belong to user. MN_ERR_FORMAT with the reason.
 */
int mn_store_cache_parse(const char *name, const char *buf, size_t len, const char *user,
                         struct mn_store **ret, time_t *ret_fetched, char *err, size_t errlen);

/* The fetch time in a full marker's content. MN_ERR_FORMAT when it is not one. */
int mn_store_cache_parse_marker(const char *buf, size_t len, time_t *ret_fetched);

#endif
