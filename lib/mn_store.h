/*
 * The enrollment store: binds local users to the certificates of their My Number JPKI
 * user-authentication keys (card or smartphone).
 *
 * File format (v1). A text file, owned by root (or the effective uid), mode 0600, replaced
 * atomically (temporary file in the same directory, fsync, rename, fsync of the directory)
 * while PATH.lock is held with flock(LOCK_EX). The first line is exactly
 *
 *     # mynumber enrollment store v1
 *
 * and every other line, each ending in LF, is one binding of 11 fields separated by TABs:
 *
 *     user id sha256 kind token_serial not_after serial issuer label spki cert
 *
 *   user          1..32 of [A-Za-z0-9_.-], not starting with '.' or '-'
 *   id            decimal 1..2147483647 without leading zeros, unique in the store
 *   sha256        64 lower-case hex digits: SHA-256 of the certificate DER (checked)
 *   kind          card | android | iphone
 *   token_serial  1..16 printable ASCII characters other than space, or "-" when empty
 *                 (so a serial cannot be "-" itself)
 *   not_after     YYYYMMDDHHMMSSZ (UTC), a valid date and time
 *   serial        the certificate serial number, 1..40 upper-case hex digits
 *   issuer        the issuer DN as text, percent-encoded, 1..512 bytes decoded
 *   label         free text, percent-encoded, 0..64 bytes decoded; "-" when empty
 *   spki          base64 (standard alphabet, padded, canonical) of the
 *                 SubjectPublicKeyInfo DER, 1..2048 bytes decoded
 *   cert          base64 of the certificate DER, 1..8192 bytes decoded
 *
 * Percent-encoding: '%', TAB, LF, CR, bytes below 0x20 and 0x7F are written %XX (upper-case
 * hex); a label that is exactly "-" is written %2D. Decoding accepts %XX in either case for
 * any byte except NUL. Other bytes (UTF-8 included) are written as they are.
 *
 * No empty lines, no further comments, no CR; anything else is a corrupt store. A missing
 * file is an empty store.
 */
#ifndef MN_STORE_H
#define MN_STORE_H

#include <stddef.h>

#include "mn_tokeninfo.h"

#define MN_STORE_HEADER       "# mynumber enrollment store v1"
#define MN_STORE_HEADER_V2    "# mynumber enrollment store v2" /* with phone records */
#define MN_STORE_HEADER_V3    "# mynumber enrollment store v3" /* with managed accounts */
#define MN_STORE_MAX_ID       2147483647u
#define MN_STORE_SPKI_MAX     2048
#define MN_STORE_CERT_MAX     8192
#define MN_STORE_LOCK_WAIT_MS 10000

struct mn_binding {
	char user[33];
	unsigned id;
	char sha256[65];         /* lower-case hex */
	enum mn_token_kind kind; /* MN_TOKEN_CARD, MN_TOKEN_ANDROID or MN_TOKEN_IPHONE */
	char token_serial[17];   /* "" when unknown */
	char not_after[16];      /* YYYYMMDDHHMMSSZ */
	char serial[41];         /* upper-case hex */
	char issuer[513];
	char label[65];
	unsigned char *spki; /* owned by the store when the binding is in one */
	size_t spki_len;
	unsigned char *cert;
	size_t cert_len;
};

/*
 * A phone (mdoc) enrollment, format v2 (written only when the store holds one; a v1 file
 * loads as it is). Line of 8 TAB-separated fields, the third literally "phone":
 *     user id phone salt hmac iaca created label
 *   salt     32 lower-case hex digits (16 random bytes)
 *   hmac     64 lower-case hex digits: HMAC-SHA256(salt, the mapping elements' values)
 *   iaca     64 lower-case hex digits: SHA-256 of the IACA certificate that verified it
 *   created  YYYYMMDDHHMMSSZ
 *   label    as in a binding
 * Never the element values. ids are unique over bindings and phone records together.
 */
struct mn_phone_binding {
	char user[33];
	unsigned id;
	char salt[33];
	char hmac[65];
	char iaca[65];
	char created[16];
	char label[65];
};

/*
 * A managed account, format v3 (written only when the store holds one): a person with no
 * /etc/passwd line, served by libnss_mynumber from the map that `mynumber` publishes. Line of
 * 6 TAB-separated fields, the third literally "account":
 *     user id account uid created gecos
 *   uid      decimal 1..4294967294 without leading zeros, not 65534; also the gid of the
 *            account's own group; unique in the store
 *   created  YYYYMMDDHHMMSSZ
 *   gecos    percent-encoded, 0..64 bytes decoded, "-" when empty; no ':' ',' or control
 *            characters
 * One account per user. ids are unique over all record kinds.
 */
struct mn_account {
	char user[33];
	unsigned id;
	unsigned uid;
	char created[16];
	char gecos[65];
};

struct mn_store;

/* A user name as the store accepts it: 1..32 of [A-Za-z0-9_.-], not starting with '.' or '-'. */
int mn_store_user_valid(const char *u);
/* The same for u[0..n) (no NUL needed). */
int mn_store_user_valid_n(const char *u, size_t n);

size_t mn_store_account_count(const struct mn_store *s);
/* The i-th account in file order (NULL when out of range). */
const struct mn_account *mn_store_account_at(const struct mn_store *s, size_t i);
/* user's account, or NULL. */
const struct mn_account *mn_store_account_find(const struct mn_store *s, const char *user);
/*
 * Add a copy of *a with the next id. MN_ERR_FORMAT for an invalid field, MN_ERR_INVALID_ARG
 * when the user already has an account or the uid is taken, MN_ERR_TOO_LARGE when no id is
 * left.
 */
int mn_store_account_add(struct mn_store *s, const struct mn_account *a, unsigned *ret_id);

/*
 * Add one record for user given as its store line without the user and id fields (for
 * example the value of a directory attribute): a binding (9 fields from sha256 on), a phone
 * record ("phone" and 5 fields) or an account ("account" and 3 fields). It gets the next id.
 * MN_ERR_FORMAT with the reason in err for an invalid record, MN_ERR_INVALID_ARG for a
 * duplicate.
 */
int mn_store_add_record(struct mn_store *s, const char *user, const char *record, char *err,
                        size_t errlen);

/*
 * Parse a whole store file held in memory (name is used in error messages only): the same
 * format and checks as mn_store_load.
 */
int mn_store_parse(const char *name, const char *buf, size_t len, struct mn_store **ret, char *err,
                   size_t errlen);

/* The store in file format, in a new NUL-terminated buffer (free() it). */
int mn_store_format(const struct mn_store *s, char **ret, size_t *ret_len);

size_t mn_store_phone_count(const struct mn_store *s);
/* The i-th phone record in file order (NULL when out of range). */
const struct mn_phone_binding *mn_store_phone_at(const struct mn_store *s, size_t i);
/*
 * Add a copy of *p with the next id (over both kinds). MN_ERR_FORMAT for an invalid field,
 * MN_ERR_INVALID_ARG for a duplicate (same user and hmac), MN_ERR_TOO_LARGE when no id is left.
 */
int mn_store_phone_add(struct mn_store *s, const struct mn_phone_binding *p, unsigned *ret_id);

/*
 * Load PATH. A missing file is an empty store. A file that is not a regular file (symlinks
 * are refused), not owned by root or the euid, or has any group/other permission bit is
 * refused with MN_ERR_IO, as are read errors; a file over 64 MiB is MN_ERR_TOO_LARGE; a
 * corrupt line is MN_ERR_FORMAT with "PATH:LINE: reason" in err (may be NULL).
 */
int mn_store_load(const char *path, struct mn_store **ret, char *err, size_t errlen);

/* An empty store. */
int mn_store_new(struct mn_store **ret);

/* Accepts NULL and *s == NULL; sets *s to NULL. */
void mn_store_free(struct mn_store **s);

size_t mn_store_count(const struct mn_store *s);

/*
 * The i-th binding in file order (NULL when out of range). Valid until the store is
 * changed or freed.
 */
const struct mn_binding *mn_store_at(const struct mn_store *s, size_t i);

/*
 * Add a copy of *b (b->id is ignored) with the next id: one more than the highest in the
 * store, 1 for an empty one. b->sha256 may be "", else it must equal SHA-256(cert).
 * Returns MN_ERR_FORMAT when a field is invalid (see the format above), MN_ERR_INVALID_ARG
 * for a duplicate (the same user and certificate already bound), MN_ERR_TOO_LARGE when no
 * id is left. *ret_id (may be NULL) receives the id.
 */
int mn_store_add(struct mn_store *s, const struct mn_binding *b, unsigned *ret_id);

/*
 * Remove user's record (binding, phone or account) with this id, or all of user's records
 * when id is 0.
 * MN_ERR_NOT_FOUND when nothing matched. *ret_removed (may be NULL) receives the count.
 */
int mn_store_remove(struct mn_store *s, const char *user, unsigned id, size_t *ret_removed);

/*
 * Write the store to PATH atomically: a temporary file PATH.XXXXXX in the same directory
 * (mode 0600), write, fsync, rename over PATH, fsync the directory. On failure before the
 * rename, PATH is untouched and the temporary file removed; MN_ERR_IO with the reason in
 * err. If only the final fsync of the directory fails, PATH holds the new store but
 * MN_ERR_IO is still returned. Take mn_store_lock around load/modify/save.
 */
int mn_store_save(const struct mn_store *s, const char *path, char *err, size_t errlen);

/*
 * Take an exclusive flock on PATH.lock (created with mode 0600 if needed), retrying every
 * 50 ms for at most MN_STORE_LOCK_WAIT_MS. MN_ERR_TIMEOUT when still held by someone else,
 * MN_ERR_IO when the lock file cannot be opened. *ret_fd receives the descriptor.
 */
int mn_store_lock(const char *path, int *ret_fd, char *err, size_t errlen);

/* mn_store_lock with a wait of wait_ms milliseconds (0: a single attempt). */
int mn_store_lock_wait(const char *path, unsigned wait_ms, int *ret_fd, char *err, size_t errlen);

/* Release and close; accepts NULL and *fd < 0; sets *fd to -1. */
void mn_store_unlock(int *fd);

#endif
