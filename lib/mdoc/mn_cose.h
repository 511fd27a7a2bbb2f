/* COSE (RFC 9052) pieces an mdoc reader needs: COSE_Sign1 with ECDSA, COSE_Mac0 with HMAC. */
#ifndef MN_COSE_H
#define MN_COSE_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/evp.h>

#define MN_COSE_ALG_ES256       (-7)
#define MN_COSE_ALG_ES384       (-35)
#define MN_COSE_ALG_ES512       (-36)
#define MN_COSE_ALG_HMAC256_256 5
#define MN_COSE_HDR_X5CHAIN     33

/*
 * Verify a COSE_Sign1 (untagged 4-array) with the EC public key pub. With detached == NULL
 * the payload is the embedded bstr (exact content as received); otherwise the embedded
 * payload must be null and detached[0..dlen) is signed. The protected header must be a
 * non-empty bstr holding a map with alg ES256/ES384/ES512 matching pub's curve and no
 * crit. MN_ERR_FORMAT for structure errors, MN_ERR_CRYPTO for a bad signature.
 */
int mn_cose_sign1_verify(const cbor_item_t *sign1, const uint8_t *detached, size_t dlen,
                         EVP_PKEY *pub, char *why, size_t whylen);

/*
 * Verify a COSE_Mac0 (untagged 4-array, detached payload) with alg 5 (HMAC 256/256) and
 * the key key[0..keylen).
 */
int mn_cose_mac0_verify(const cbor_item_t *mac0, const uint8_t *detached, size_t dlen,
                        const uint8_t *key, size_t keylen, char *why, size_t whylen);

/* A COSE_Key EC2 (P-256/384/521, uncompressed x/y) as an EVP_PKEY public key. */
int mn_cose_key_to_pkey(const cbor_item_t *cose_key, EVP_PKEY **ret);

/*
 * Convert an ECDSA signature raw r||s (2 * flen bytes) into DER; *der is OPENSSL_malloc'ed.
 */
int mn_cose_ecdsa_raw_to_der(const uint8_t *sig, size_t len, size_t flen, uint8_t **der,
                             size_t *der_len);

/*
 * Build the Sig_structure / MAC_structure ["Signature1"|"MAC0", protected, h'', payload]
 * into a malloc'ed buffer.
 */
int mn_cose_tbs(const char *context, const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                size_t payload_len, uint8_t **out, size_t *out_len);

#endif
