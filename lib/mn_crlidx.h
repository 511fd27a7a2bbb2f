/*
 * CRL index: a verified CRL turned into a file of fixed-width records sorted by serial, so a
 * login can binary-search a serial (about 20 record reads) without parsing the CRL (format:
 * doc/crl-index.md). mn_crl_import runs off the login path (root, after a download); the
 * lookup side allocates nothing proportional to the CRL.
 */
#ifndef MN_CRLIDX_H
#define MN_CRLIDX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#define MN_CRLIDX_MAGIC       "MNCRLIX1"
#define MN_CRLIDX_VERSION     1
#define MN_CRLIDX_HEADER_SIZE 128
#define MN_CRLIDX_RECORD_SIZE 32
#define MN_CRLIDX_MAX_SERIAL  20 /* octets; RFC 5280 4.1.2.2 */
#define MN_CRLIDX_MAX_CRL     (512L * 1024 * 1024)
#define MN_KEY_ID_LEN         20
#define MN_CRL_REASON_NONE    (-1) /* the entry has no reasonCode (0xFF in the file) */

/*
 * Verify a DER or PEM CRL (at most MN_CRLIDX_MAX_CRL bytes) against the trust anchors and
 * write <index_dir>/<40 hex digits of the issuer key id>.idx atomically.
 *
 * The issuer is the anchor whose subject equals the CRL issuer and whose key verifies the
 * CRL signature (all generations of a JPKI CA share one DN); it must be a CA (basic
 * constraints) with cRLSign when it has a key usage, and match the CRL's authority key
 * identifier when both are present. Refused: thisUpdate later than now + 300 s, no
 * nextUpdate or one not after thisUpdate, nextUpdate before now (expired),
 * unknown critical CRL or entry extensions, indirect, attribute-only, CA-only or
 * reason-partitioned CRLs (issuingDistributionPoint), negative serials or serials longer than
 * 20 octets, removeFromCRL entries in a full CRL, and a CRL older than the index it would
 * replace (lower
 * CRL number, or the same number or no numbers with an earlier thisUpdate; a CRL without a
 * number never replaces one with a number). A corrupt existing index is replaced. Imports
 * into one directory are serialised with flock on the directory.
 *
 * A delta CRL (critical deltaCRLIndicator) is merged into the current index: it needs one
 * for the same issuer whose CRL number is at least the delta's BaseCRLNumber, its own number
 * must be higher; its entries are added and its removeFromCRL entries removed.
 *
 * ret_index_path (may be NULL) receives the index path; MN_ERR_TOO_LARGE when pathlen is too
 * small (checked before anything is written). err (may be NULL) receives a one-line reason
 * on failure. Returns MN_ERR_NOT_FOUND (no anchor issued the CRL), MN_ERR_CRYPTO,
 * MN_ERR_FORMAT (unusable CRL), MN_ERR_UNSUPPORTED (unknown critical extension),
 * MN_ERR_IO, MN_ERR_TOO_LARGE, MN_ERR_NOMEM.
 */
/* clang-format off: it reads STACK_OF(X509) *p as a multiplication */
int mn_crl_import(const char *crl_path, STACK_OF(X509) *anchors, time_t now, const char *index_dir,
                  char *ret_index_path, size_t pathlen, char *err, size_t errlen);
/* clang-format on */

struct mn_crlidx;

/*
 * Open an index and read its header (lookups read records with pread). Checks the magic,
 * version, reserved bytes, the header fields and that the size is exactly
 * 128 + 32 * count; a group- or world-writable file is refused. Records are checked when a
 * lookup reaches them. MN_ERR_NOT_FOUND when the file does not exist, MN_ERR_IO, MN_ERR_FORMAT,
 * MN_ERR_TRUNCATED, MN_ERR_TOO_LARGE; err (may be NULL) says which.
 */
int mn_crlidx_open(const char *path, struct mn_crlidx **ret, char *err, size_t errlen);

/* Unmap; accepts NULL and *idx == NULL, sets *idx to NULL. */
void mn_crlidx_close(struct mn_crlidx **idx);

/*
 * Binary search for serial: the DER INTEGER content octets (a leading 0x00 pad is stripped,
 * so the unsigned magnitude works as well). *ret_revoked = 1 when listed, then *ret_reason
 * (CRLReason code or MN_CRL_REASON_NONE) and *ret_date (unix time) are set; 0 when not listed
 * (*ret_reason = MN_CRL_REASON_NONE, *ret_date = 0). ret_reason and ret_date may be NULL.
 * MN_ERR_TOO_LARGE for a serial longer than 20 octets (it cannot be in a CRL), MN_ERR_FORMAT
 * for an empty serial or a corrupt record.
 */
int mn_crlidx_lookup(const struct mn_crlidx *idx, const unsigned char *serial, size_t serial_len,
                     int *ret_revoked, int *ret_reason, int64_t *ret_date);

int64_t mn_crlidx_this_update(const struct mn_crlidx *idx);
int64_t mn_crlidx_next_update(const struct mn_crlidx *idx);
/* 20 bytes: SHA-1 of the issuing CA's subjectPublicKey (RFC 5280 4.2.1.2 method 1). */
const unsigned char *mn_crlidx_issuer_key_id(const struct mn_crlidx *idx);
/* 32 bytes: SHA-256 of the DER issuer name of the CRL. */
const unsigned char *mn_crlidx_issuer_name_sha256(const struct mn_crlidx *idx);
/* The CRL number as big-endian octets; *len = 0 when the CRL had none. */
const unsigned char *mn_crlidx_crl_number(const struct mn_crlidx *idx, size_t *len);
size_t mn_crlidx_count(const struct mn_crlidx *idx);

/* SHA-1 key id of a certificate's public key (RFC 5280 method 1), whatever its SKI says. */
int mn_key_id(X509 *cert, unsigned char out[20]);

/* SHA-256 of the DER encoding of a name (as the index stores the CRL issuer). */
int mn_name_sha256(const X509_NAME *name, unsigned char out[32]);

#endif
