/*
 * mynumber.conf: a strict INI file. Lines are "# comment", "; comment", blank, "[section]"
 * or "key = value" (blanks around key and value trimmed; no quotes, no continuation, no
 * comment after a value). Keys before the first section header belong to the main section
 * "". Unknown sections and keys, a key set twice, a section header repeated, lines longer
 * than 1024 bytes, files larger than 64 KiB, NUL or other control characters and values
 * out of their range are all errors. The file must be a regular file (not a symlink) owned
 * by root or by the effective uid and not writable by group or others.
 *
 * Keys (type, default):
 *   main section:
 *     trust_anchors  path  /etc/mynumber/trust-anchors (a PEM file or a directory of them)
 *     store          path  /etc/mynumber/enrollments
 *     pkcs11_module  path  MN_DEFAULT_PKCS11_MODULE
 *     opensc_conf    path or empty, default empty (do not set OPENSC_CONF)
 *     card_wait      uint  30 (seconds, 0..600)
 *     min_pin_tries  uint  2 (1..3)
 *     timeout        uint  20 (seconds beyond the card wait and the user's typing, 1..300)
 *     policy_oids    comma-separated dotted OIDs, 1.2.392.200149.8.5.1.3.30
 *     helper         path  MN_DEFAULT_HELPER
 *     allow_phone    bool  yes (yes/no/true/false/1/0, any case)
 *     locale_dir     path  MN_LOCALEDIR
 *     warm_login     bool  yes
 *     state_dir      path  MN_STATEDIR
 *     store_backend  file | ldap; file (ldap: the bindings live in the directory, see [ldap])
 *   [revocation]:
 *     backends       comma-separated plugin names ([a-z0-9_]), or "none" alone; crl
 *     policy         require | soft; require
 *     max_staleness  uint  86400 (seconds, 0..31536000)
 *     plugin_dir     path  MN_PLUGINDIR
 *     timeout        uint  5 (seconds for all backends together, 1..60)
 *   [revocation.NAME]: any keys, checked by the backend NAME when it is loaded
 *   [phone]:
 *     phone                  auto | yes | no; auto (auto: on when mdoc_trust_anchors is set)
 *     mdoc_trust_anchors     path or empty, default empty (IACA PEM file or directory)
 *     mdoc_elements          comma-separated NAMESPACE:IDENTIFIER, 1..64, never
 *                            individual_number_unicode; full name and birth date
 *     mdoc_allow_device_mac  bool  no
 *     mdoc_skew              uint  300 (seconds, 0..3600)
 *     ble                    auto | no; auto (auto: BLE data retrieval when the phone offers
 *                            no NFC data retrieval, e.g. Apple Wallet; doc/mdoc-ble.md)
 *     ble_bus                a D-Bus address or empty, default empty (the system bus, where
 *                            bluetoothd is; tests point it at a private bus)
 *     ble_wait               uint  20 (seconds for the phone to connect over BLE, and for each
 *                            of its answers, 1..120)
 *   [accounts]: managed accounts (mynumber enroll --create-account, libnss_mynumber)
 *     uid_min, uid_max  uint  70000, 79999 (1000..2147483647, uid_min <= uid_max)
 *     home              path  /home/%u (%u: the user name)
 *     shell             path  /bin/bash
 *     group             name or empty, default empty: a group every managed account is in
 *     group_gid         uint  0 (set with group, outside the uid range)
 *     nss_map           path  MN_STATEDIR/nss.db (the map libnss_mynumber reads)
 *   [ldap]: the enrollment store in a directory (store_backend = ldap needs uri and base)
 *     uri                 ldap://HOST[:PORT] or ldaps://..., default empty
 *     base                the search base DN, default empty
 *     bind_dn             DN to bind as, empty: anonymous
 *     bind_password_file  path or empty (a root-only file holding the password)
 *     user_attribute      name  uid (the attribute holding the login name)
 *     starttls            bool  no
 *     tls_ca_file         path or empty (CA certificates for ldaps:// and StartTLS)
 *     timeout             uint  3 (seconds, 1..60)
 *     cache_max_age       uint  86400 (seconds, 0..31536000: how long cached answers serve
 *                         while the directory cannot be reached)
 *     cache_dir           path  MN_STATEDIR/ldap-cache
 * Paths must be absolute.
 */
#ifndef MN_CONF_H
#define MN_CONF_H

#include <stddef.h>

struct mn_conf;

/*
 * Load and validate PATH. err (may be NULL) receives "PATH:LINE: reason" (or "PATH: reason"
 * for a problem with the whole file) on failure. Returns MN_ERR_NOT_FOUND when the file does
 * not exist, MN_ERR_IO when it cannot be read or is not a safe regular file (symlink, wrong
 * owner, group/other writable), MN_ERR_TOO_LARGE over 64 KiB, MN_ERR_FORMAT for any error
 * in the content.
 */
int mn_conf_load(const char *path, struct mn_conf **ret, char *err, size_t errlen);

/*
 * Parse a configuration held in memory (buf[0..len), at most the size mn_conf_load accepts),
 * as mn_conf_load does after reading the file; name is used in the messages.
 */
int mn_conf_parse(const char *name, const char *buf, size_t len, struct mn_conf **ret, char *err,
                  size_t errlen);

/* Defaults only (no file). */
int mn_conf_new(struct mn_conf **ret);

/* Accepts NULL and *c == NULL; sets *c to NULL. */
void mn_conf_free(struct mn_conf **c);

/*
 * Value of a known key as written (the default when not set); NULL for an unknown
 * section/key. The main section is "". Valid until mn_conf_free.
 */
const char *mn_conf_get(const struct mn_conf *c, const char *section, const char *key);

/* Typed getters: MN_ERR_INVALID_ARG on an unknown key or one of another type. */
int mn_conf_get_uint(const struct mn_conf *c, const char *section, const char *key, unsigned *out);
/* *out = 1 for yes/true/1, 0 for no/false/0. */
int mn_conf_get_bool(const struct mn_conf *c, const char *section, const char *key, int *out);

/*
 * The settings of [revocation.NAME] (a backend's own section, checked by the backend): n
 * key/value pairs, valid while c lives; n = 0 when the section is absent.
 */
int mn_conf_backend_settings(const struct mn_conf *c, const char *backend,
                             const char *const **ret_keys, const char *const **ret_vals,
                             size_t *ret_n);
/* One setting of [revocation.NAME], or NULL. */
const char *mn_conf_backend_get(const struct mn_conf *c, const char *backend, const char *key);

#endif
