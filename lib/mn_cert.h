/*
 * Certificates: trust anchors and validation of a user-authentication certificate.
 * All generations of a JPKI CA share one DN, so the issuer is chosen by signature.
 */
#ifndef MN_CERT_H
#define MN_CERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

struct mn_anchors;

/* Load CA certificates from a PEM file or a directory of *.pem / *.crt files. */
int mn_anchors_load(const char *path, struct mn_anchors **ret, char *err, size_t errlen);
void mn_anchors_free(struct mn_anchors **a);
/* The anchors as a stack (borrowed, valid while a lives). */
STACK_OF(X509) *mn_anchors_stack(const struct mn_anchors *a);

enum mn_cert_verdict {
	MN_CERT_OK = 0,
	MN_CERT_EXPIRED,       /* the certificate (or its CA) is past notAfter */
	MN_CERT_NOT_YET_VALID, /* before notBefore */
	MN_CERT_UNTRUSTED,     /* not issued by a configured trust anchor */
	MN_CERT_BAD_USAGE,     /* no digitalSignature key usage, or a CA certificate */
	MN_CERT_BAD_POLICY,    /* none of the accepted certificate policies */
	MN_CERT_BAD_KEY,       /* not an RSA key of at least 2048 bits */
};

/*
 * Validate a user-authentication certificate at time now: the issuer is the anchor with the
 * certificate's issuer name whose key verifies its signature; then OpenSSL's path validation
 * with that anchor alone (strict, explicit policy: one of the comma-separated policy_oids),
 * digitalSignature key usage, not a CA, RSA >= 2048. Returns 0 when a verdict was reached
 * (*ret_verdict, detail); *ret_issuer (may be NULL) gets a new reference to the anchor when
 * one was found by signature.
 */
int mn_cert_validate(const struct mn_anchors *a, X509 *cert, const char *policy_oids, time_t now,
                     enum mn_cert_verdict *ret_verdict, X509 **ret_issuer, char *detail,
                     size_t detlen);

/* Lower-case hex SHA-256 of the DER certificate. */
int mn_cert_sha256_hex(X509 *cert, char out[65]);

/* The certificate's RSA key as one OpenSSH authorized_keys line ("ssh-rsa AAAA... comment"). */
int mn_cert_ssh_pubkey(X509 *cert, const char *comment, char *out, size_t cap);

/* Parse DER bytes into a certificate (all bytes must be consumed). */
int mn_cert_from_der(const unsigned char *der, size_t len, X509 **ret);

/* notAfter as YYYYMMDDHHMMSSZ; serial as upper-case hex; issuer as an RFC 2253 string. */
int mn_cert_not_after(X509 *cert, char out[16]);
int mn_cert_serial_hex(X509 *cert, char *out, size_t cap);
int mn_cert_issuer_str(X509 *cert, char *out, size_t cap);

#endif
