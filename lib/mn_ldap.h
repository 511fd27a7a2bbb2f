/*
 * The enrollment store in an LDAP directory (store_backend = ldap; doc/ldap.md).
 *
 * Each user is an entry of the auxiliary objectClass mynumberUser; its multi-valued attribute
 * mynumberRecord holds one store record per value, written without the user and id fields
 * (what mn_store_add_record accepts). The user is the entry's [ldap] user_attribute (uid).
 *
 * Connection: ldap_initialize on [ldap] uri (ldap://, ldaps:// or ldapi://), LDAP v3, no
 * referrals, network and operation timeouts of [ldap] timeout seconds each, StartTLS when
 * starttls = yes, certificates always checked (LDAP_OPT_X_TLS_DEMAND) against tls_ca_file when
 * set, then a simple bind as bind_dn with the password of bind_password_file (a root-only
 * file; wiped after use, never logged), or no bind at all (anonymous) when bind_dn is empty.
 *
 * Resolving a host name in the uri goes through NSS (libc): use an IP address, or a name in
 * /etc/hosts with "hosts: files" first, so that a login never waits on DNS.
 *
 * Values: each is at most MN_LDAP_VALUE_MAX bytes, one line, no NUL; a bad value (or one the
 * store refuses: invalid field, duplicate, uid taken) is reported through the note callback
 * with the entry's DN and the reason and skipped; the user's other values and other entries
 * are kept. An entry whose user_attribute has no value or several, or a value that is not a
 * valid user name, is skipped with a note. An entry with more than MN_LDAP_VALUES_MAX values
 * is skipped whole. Several entries for one user add up.
 */
#ifndef MN_LDAP_H
#define MN_LDAP_H

#include <stddef.h>

#include "mn_conf.h"
#include "mn_store.h"

#define MN_LDAP_VALUE_MAX    32768   /* bytes of one mynumberRecord value */
#define MN_LDAP_VALUES_MAX   256     /* mynumberRecord values of one entry */
#define MN_LDAP_ENTRIES_MAX  1000000 /* entries of one full fetch */
#define MN_LDAP_PAGE_SIZE    500     /* Simple Paged Results (RFC 2696) page size */
#define MN_LDAP_PASSWORD_MAX 1024    /* bytes of bind_password_file */
#define MN_LDAP_OBJECTCLASS  "mynumberUser"
#define MN_LDAP_ATTRIBUTE    "mynumberRecord"

struct mn_ldap;

/* Told about every value or entry that was skipped (DN and reason; no secrets). */
typedef void (*mn_ldap_note_fn)(void *ctx, const char *text);

/*
 * Connect and bind as [ldap] says. err (may be NULL) gets the reason on failure.
 * MN_ERR_UNAVAILABLE when the directory cannot be reached, StartTLS fails or the bind is
 * refused; MN_ERR_INVALID_ARG for unusable settings (uri scheme, user_attribute, starttls with
 * ldaps://); MN_ERR_IO / MN_ERR_NOT_FOUND / MN_ERR_TOO_LARGE when the password file cannot be
 * read or is not root-only; MN_ERR_FORMAT when it is empty.
 */
int mn_ldap_open(const struct mn_conf *conf, struct mn_ldap **ret, char *err, size_t errlen);

/* Unbind and free. Accepts NULL and *l == NULL; sets *l to NULL. */
void mn_ldap_close(struct mn_ldap **l);

/*
 * The records of user (a valid user name), or of every mynumberUser entry under the base when
 * user is NULL (paged), in a new store. *ret_skipped (may be NULL) receives the number of
 * values and entries skipped; note (may be NULL) is told about each. A user with no entry is
 * an empty store. MN_ERR_UNAVAILABLE when the search fails or times out (a partial result is
 * never returned), MN_ERR_TOO_LARGE over MN_LDAP_ENTRIES_MAX entries, MN_ERR_INVALID_ARG for a
 * bad user name.
 */
int mn_ldap_fetch(struct mn_ldap *l, const char *user, struct mn_store **ret, size_t *ret_skipped,
                  mn_ldap_note_fn note, void *ctx, char *err, size_t errlen);

/*
 * An assertion value escaped for a search filter (RFC 4515: '*', '(', ')', '\' and NUL as
 * \XX, and also every byte below 0x20 or above 0x7E). MN_ERR_TOO_LARGE when it does not fit in
 * cap bytes with its NUL.
 */
int mn_ldap_escape_filter(const char *in, size_t len, char *out, size_t cap);

/*
 * The filter for user (NULL: everyone) with the user attribute attr:
 * (&(objectClass=mynumberUser)(ATTR=USER)) or (objectClass=mynumberUser).
 * MN_ERR_INVALID_ARG for an attribute that is not a descriptor ([A-Za-z][A-Za-z0-9-]*, at most
 * 64 characters), MN_ERR_TOO_LARGE when the filter does not fit.
 */
int mn_ldap_filter(const char *attr, const char *user, char *out, size_t cap);

/*
 * Whether one attribute value may be a record: 1..MN_LDAP_VALUE_MAX bytes, no NUL, CR or LF.
 * 0 if so, else MN_ERR_FORMAT (or MN_ERR_TOO_LARGE) with *reason set.
 */
int mn_ldap_check_value(const char *val, size_t len, const char **reason);

#endif
