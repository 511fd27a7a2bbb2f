/*
 * ISO/IEC 18013-5 mdoc reader-side verification of a DeviceResponse: strict CBOR, IssuerAuth
 * (COSE_Sign1 by a Document Signer certificate chained to a configured IACA, Annex B profile
 * checks), the MSO (version, digest algorithm, docType, validity), the digest of every
 * disclosed IssuerSignedItem (over the tag-24 bytes as received) and device authentication
 * (deviceSignature, or deviceMac with the reader's ephemeral key).
 */
#ifndef MN_MDOC_H
#define MN_MDOC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#define MN_MDOC_DEFAULT_SKEW 300u

/* Which check failed. */
enum mn_mdoc_check {
	MN_MDOC_CHECK_NONE = 0,
	MN_MDOC_CHECK_ARGS,              /* unusable arguments */
	MN_MDOC_CHECK_CBOR,              /* not strict, well-formed CBOR */
	MN_MDOC_CHECK_STRUCTURE,         /* CBOR valid but not a DeviceResponse as specified */
	MN_MDOC_CHECK_STATUS,            /* status != 0, documentErrors, no documents */
	MN_MDOC_CHECK_TRANSCRIPT,        /* the SessionTranscript is malformed or not ours */
	MN_MDOC_CHECK_X5CHAIN,           /* no usable DS certificate in IssuerAuth */
	MN_MDOC_CHECK_CERT_CHAIN,        /* DS certificate does not chain to a configured IACA */
	MN_MDOC_CHECK_CERT_VALIDITY,     /* DS or IACA certificate not valid at that time */
	MN_MDOC_CHECK_CERT_PROFILE,      /* Annex B profile of the DS or IACA certificate */
	MN_MDOC_CHECK_ISSUER_SIGNATURE,  /* IssuerAuth signature */
	MN_MDOC_CHECK_MSO,               /* MSO content (version, algorithm, digests, key) */
	MN_MDOC_CHECK_DOCTYPE,           /* MSO docType != Document docType */
	MN_MDOC_CHECK_MSO_VALIDITY,      /* validityInfo window */
	MN_MDOC_CHECK_DIGEST,            /* a disclosed item's digest */
	MN_MDOC_CHECK_DEVICE_AUTH,       /* deviceSignature / deviceMac */
	MN_MDOC_CHECK_KEY_AUTHORIZATION, /* device-signed element not in keyAuthorizations */
};

/* A short name of a check, e.g. "issuer-signature" (never NULL). */
const char *mn_mdoc_check_name(enum mn_mdoc_check c);

struct mn_mdoc_result;

/*
 * Verify the DeviceResponse resp[0..len) against the SessionTranscriptBytes st[0..st_len)
 * (#6.24(bstr .cbor SessionTranscript), as used for the session) at time `at` with `skew`
 * seconds of tolerance. reader_priv is the reader's ephemeral private key (needed for
 * deviceMac; may be NULL otherwise); when given, it must match EReaderKey in the transcript.
 * iaca holds the trust anchors. On success *ret gets the verified issuer-signed elements.
 * On failure returns a negative MN_ERR_*, *failed (may be NULL) names the check and why
 * (may be NULL) gets a message.
 */
int mn_mdoc_verify(const uint8_t *resp, size_t len, const uint8_t *st, size_t st_len,
                   EVP_PKEY *reader_priv, STACK_OF(X509) *iaca, time_t at, unsigned skew,
                   struct mn_mdoc_result **ret, enum mn_mdoc_check *failed, char *why,
                   size_t whylen);

/* Number of verified elements. */
size_t mn_mdoc_result_count(const struct mn_mdoc_result *r);

/*
 * Element i: its document's docType, namespace, identifier and CBOR value (all borrowed,
 * valid until mn_mdoc_result_free). MN_ERR_NOT_FOUND past the end.
 */
int mn_mdoc_result_get(const struct mn_mdoc_result *r, size_t i, const char **doctype,
                       const char **ns, const char **id, const cbor_item_t **value);

/*
 * The Document Signer certificate of the (first) verified document and the configured IACA
 * that verified it (both borrowed, valid until mn_mdoc_result_free): for a revocation check.
 * MN_ERR_NOT_FOUND when the result has none.
 */
int mn_mdoc_result_signer(const struct mn_mdoc_result *r, X509 **ds, X509 **iaca);

void mn_mdoc_result_free(struct mn_mdoc_result **r);

#endif
