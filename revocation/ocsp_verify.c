/*
 * The "ocsp" backend's checks of a response: exact DER, and a signature by a responder the
 * issuer authorized (RFC 6960 4.2.2.2). Every JPKI CA generation has the same name, so a
 * responder named byName is looked for among all candidates whose name matches, and the one
 * whose key verifies the signature is the signer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "ocsp.h"

#define MAX_RESPONSE_CERTS 16

int ocsp_check_der(const unsigned char *der, size_t der_len, OCSP_BASICRESP *bs)
{
	unsigned char hdr[8], *q = hdr, *enc = NULL;
	int len, r = MN_ERR_TRAILING;
	size_t hl;

	if ((len = i2d_OCSP_BASICRESP(bs, &enc)) <= 0)
		return MN_ERR_FORMAT;
	/* responseBytes.response is the last TLV of the response: 04 <length> <DER of bs> */
	ASN1_put_object(&q, 0, len, V_ASN1_OCTET_STRING, V_ASN1_UNIVERSAL);
	hl = (size_t)(q - hdr);
	if (der_len >= hl + (size_t)len &&
	    memcmp(der + der_len - (size_t)len, enc, (size_t)len) == 0 &&
	    memcmp(der + der_len - (size_t)len - hl, hdr, hl) == 0)
		r = MN_OK;
	OPENSSL_free(enc);
	return r;
}

/* The response's ResponderID names this certificate (by name or by SHA-1 key hash). */
static int names_signer(OCSP_BASICRESP *bs, X509 *x)
{
	const ASN1_OCTET_STRING *key = NULL;
	const X509_NAME *name = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!OCSP_resp_get0_id(bs, &key, &name))
		return 0;
	if (name != NULL)
		return X509_NAME_cmp(X509_get_subject_name(x), name) == 0;
	return key != NULL && X509_pubkey_digest(x, EVP_sha1(), md, &mdlen) && mdlen == 20 &&
	       ASN1_STRING_length(key) == 20 && memcmp(ASN1_STRING_get0_data(key), md, 20) == 0;
}

static int signed_by(OCSP_BASICRESP *bs, X509 *x)
{
	EVP_PKEY *pkey = X509_get0_pubkey(x);

	return pkey != NULL &&
	       ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(bs),
	                        OCSP_resp_get0_signature(bs), OCSP_resp_get0_respdata(bs),
	                        pkey) == 1;
}

static int valid_at(X509 *x, int64_t now)
{
	time_t t = (time_t)now;

	return X509_cmp_time(X509_get0_notBefore(x), &t) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(x), &t) > 0;
}

/* A delegated responder: issued by the issuer, for OCSP signing, valid at now. NULL when it
 * is authorized, else why not. */
static const char *delegation_problem(X509 *x, X509 *issuer, int64_t now)
{
	uint32_t flags = X509_get_extension_flags(x);
	EVP_PKEY *ikey = X509_get0_pubkey(issuer);

	if ((flags & EXFLAG_INVALID) != 0)
		return "the responder certificate has invalid extensions";
	if (X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(issuer)) != 0 ||
	    ikey == NULL || X509_verify(x, ikey) != 1)
		return "the responder certificate is not issued by the certificate's CA";
	if ((flags & EXFLAG_XKUSAGE) == 0 || (X509_get_extended_key_usage(x) & XKU_OCSP_SIGN) == 0)
		return "the responder certificate lacks the OCSPSigning extended key usage";
	if ((flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) == 0)
		return "the responder certificate's key usage forbids signatures";
	if (!valid_at(x, now))
		return "the responder certificate is not valid now";
	return NULL;
}

int ocsp_verify_signer(OCSP_BASICRESP *bs, X509 *issuer, X509 *trusted, int64_t now, char *why,
                       size_t whylen)
{
	const STACK_OF(X509) *certs = OCSP_resp_get0_certs(bs);
	X509 *cand[2 + MAX_RESPONSE_CERTS];
	const char *problem = NULL;
	int n = 0, i, named = 0;

	if (trusted != NULL)
		cand[n++] = trusted;
	cand[n++] = issuer;
	for (i = 0; i < sk_X509_num(certs) && i < MAX_RESPONSE_CERTS; i++)
		cand[n++] = sk_X509_value(certs, i);
	for (i = 0; i < n; i++) {
		if (!names_signer(bs, cand[i]))
			continue;
		named = 1;
		if (!signed_by(bs, cand[i]))
			continue;
		if (X509_cmp(cand[i], issuer) == 0)
			return MN_OK;
		if (trusted != NULL && X509_cmp(cand[i], trusted) == 0) {
			if (valid_at(trusted, now))
				return MN_OK;
			problem = "responder_cert is not valid now";
			continue;
		}
		if ((problem = delegation_problem(cand[i], issuer, now)) == NULL)
			return MN_OK;
	}
	if (problem == NULL)
		problem = named ? "bad signature" : "signed by an unknown responder";
	snprintf(why, whylen, "%s", problem);
	return MN_ERR_CRYPTO;
}
