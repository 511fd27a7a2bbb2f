/*
 * The "ocsp" revocation backend, internal: the HTTP exchange (ocsp_http.c) and the response
 * signer checks (ocsp_verify.c) used by ocsp.c. Nothing here is exported from ocsp.so.
 */
#ifndef MN_REV_OCSP_H
#define MN_REV_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

#define OCSP_MAX_URL 1024

/* An http:// URL split for the request. */
struct ocsp_url {
	char host[256];     /* for the lookup: no brackets around an IPv6 address */
	char port[8];       /* decimal */
	char hostport[272]; /* for the Host header */
	char path[OCSP_MAX_URL];
};

/* Monotonic milliseconds, for deadlines. */
int64_t ocsp_now_ms(void);

/* Parse an http:// URL (no userinfo, no control characters). MN_ERR_UNSUPPORTED for https://,
 * MN_ERR_INVALID_ARG otherwise; err says why. */
int ocsp_parse_url(const char *url, struct ocsp_url *u, char *err, size_t errlen);

/* POST req as application/ocsp-request to u and return the body of a 200 answer of type
 * application/ocsp-response: one DER SEQUENCE of at most max_resp bytes, nothing after it.
 * Everything (lookup, connect, send, receive) ends by deadline_ms (ocsp_now_ms() clock).
 * On success *resp (OPENSSL_free it) and *resp_len; otherwise MN_ERR_TIMEOUT, MN_ERR_IO,
 * MN_ERR_TOO_LARGE or MN_ERR_FORMAT and a short reason in err. */
int ocsp_http_post(const struct ocsp_url *u, OCSP_REQUEST *req, size_t max_resp,
                   int64_t deadline_ms, unsigned char **resp, size_t *resp_len, char *err,
                   size_t errlen);

/* The response is DER with nothing after it: resp was parsed from all of der, and the
 * BasicOCSPResponse inside it is exactly the content of responseBytes. */
int ocsp_check_der(const unsigned char *der, size_t der_len, OCSP_BASICRESP *bs);

/* The response is signed by a responder authorized for issuer (RFC 6960 4.2.2.2): trusted
 * (when not NULL, the locally configured responder certificate), the issuer itself, or a
 * certificate in the response issued by the issuer with id-kp-OCSPSigning; responder
 * certificates must be valid at now. MN_OK, or MN_ERR_CRYPTO and the reason in why. */
int ocsp_verify_signer(OCSP_BASICRESP *bs, X509 *issuer, X509 *trusted, int64_t now, char *why,
                       size_t whylen);

#endif
