#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>

#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_cose.h"

#define MN_COSE_MAX_TBS (2u * MN_CBOR_MAX_INPUT)

static int say(char *why, size_t whylen, int err, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return err;
}

int mn_cose_tbs(const char *context, const uint8_t *prot, size_t prot_len, const uint8_t *payload,
                size_t payload_len, uint8_t **out, size_t *out_len)
{
	size_t clen, n = 0, cap;
	uint8_t *b;

	if (context == NULL || out == NULL || out_len == NULL || (prot == NULL && prot_len) ||
	    (payload == NULL && payload_len))
		return MN_ERR_INVALID_ARG;
	clen = strlen(context);
	if (prot_len > MN_CBOR_MAX_INPUT || payload_len > MN_COSE_MAX_TBS || clen > 64)
		return MN_ERR_TOO_LARGE;
	cap = 1 + 9 + clen + 9 + prot_len + 1 + 9 + payload_len;
	if ((b = malloc(cap)) == NULL)
		return MN_ERR_NOMEM;
	n += mn_cbor_head(b + n, 4, 4);
	n += mn_cbor_head(b + n, 3, clen);
	memcpy(b + n, context, clen);
	n += clen;
	n += mn_cbor_head(b + n, 2, prot_len);
	if (prot_len)
		memcpy(b + n, prot, prot_len);
	n += prot_len;
	n += mn_cbor_head(b + n, 2, 0);
	n += mn_cbor_head(b + n, 2, payload_len);
	if (payload_len)
		memcpy(b + n, payload, payload_len);
	n += payload_len;
	*out = b;
	*out_len = n;
	return MN_OK;
}

int mn_cose_ecdsa_raw_to_der(const uint8_t *sig, size_t len, size_t flen, uint8_t **der,
                             size_t *der_len)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = NULL;
	int n, ret = MN_ERR_CRYPTO;

	if (sig == NULL || der == NULL || der_len == NULL || flen == 0)
		return MN_ERR_INVALID_ARG;
	if (len != 2 * flen)
		return MN_ERR_FORMAT;
	if ((es = ECDSA_SIG_new()) == NULL)
		goto out;
	r = BN_bin2bn(sig, (int)flen, NULL);
	s = BN_bin2bn(sig + flen, (int)flen, NULL);
	if (r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL;
	if ((n = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = p;
	*der_len = (size_t)n;
	ret = MN_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return ret;
}

/* Field size in bytes and COSE crv of an EC key; 0 if unsupported. */
static size_t ec_field_len(EVP_PKEY *pk)
{
	char name[64];

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
	                                    NULL))
		return 0;
	if (strcmp(name, "prime256v1") == 0 || strcmp(name, "P-256") == 0)
		return 32;
	if (strcmp(name, "secp384r1") == 0 || strcmp(name, "P-384") == 0)
		return 48;
	if (strcmp(name, "secp521r1") == 0 || strcmp(name, "P-521") == 0)
		return 66;
	return 0;
}

/* Borrowed element i of a definite array (no reference taken). */
static cbor_item_t *arr_at(const cbor_item_t *arr, size_t i)
{
	return cbor_array_handle(arr)[i];
}

/* Decode and check the protected header of a COSE array; *alg gets its alg. */
static int parse_protected(const cbor_item_t *arr, int64_t *alg, char *why, size_t whylen)
{
	cbor_item_t *ph = NULL, *a;
	cbor_item_t *prot;
	char sub[128];
	int r;

	if (arr == NULL || !cbor_isa_array(arr) || !cbor_array_is_definite(arr) ||
	    cbor_array_size(arr) != 4)
		return say(why, whylen, MN_ERR_FORMAT, "COSE structure is not a 4-element array");
	prot = arr_at(arr, 0);
	if (prot == NULL || !cbor_isa_bytestring(prot) || !cbor_bytestring_is_definite(prot)) {
		r = say(why, whylen, MN_ERR_FORMAT, "COSE protected header is not a bstr");
		goto out;
	}
	if (cbor_bytestring_length(prot) == 0) {
		r = say(why, whylen, MN_ERR_FORMAT, "COSE protected header is empty (no alg)");
		goto out;
	}
	if ((r = mn_cbor_load_strict(cbor_bytestring_handle(prot), cbor_bytestring_length(prot),
	                             &ph, sub, sizeof(sub))) != MN_OK) {
		if (why != NULL)
			snprintf(why, whylen, "COSE protected header: %s", sub);
		goto out;
	}
	if (!cbor_isa_map(ph)) {
		r = say(why, whylen, MN_ERR_FORMAT, "COSE protected header is not a map");
		goto out;
	}
	if (mn_cbor_map_get_int(ph, 2) != NULL) {
		r = say(why, whylen, MN_ERR_UNSUPPORTED, "COSE crit header not supported");
		goto out;
	}
	a = mn_cbor_map_get_int(ph, 1);
	if (a == NULL || mn_cbor_get_int(a, alg) != MN_OK) {
		r = say(why, whylen, MN_ERR_FORMAT, "COSE protected header has no integer alg");
		goto out;
	}
	if (!cbor_isa_map(arr_at(arr, 1)) || mn_cbor_map_get_int(arr_at(arr, 1), 1) != NULL) {
		r = say(why, whylen, MN_ERR_FORMAT,
		        "COSE unprotected header is not a map or repeats alg");
	}
out:
	if (ph != NULL)
		cbor_decref(&ph);
	return r;
}

/*
 * A CBOR null. Not cbor_is_null() alone: libcbor asserts (aborts) when that is asked of a
 * float, and the payload slot of a detached COSE_Sign1 / COSE_Mac0 is the sender's to fill.
 */
static int is_null(const cbor_item_t *item)
{
	return item != NULL && cbor_isa_float_ctrl(item) && cbor_float_ctrl_is_ctrl(item) &&
	       cbor_is_null(item);
}

int mn_cose_sign1_verify(const cbor_item_t *sign1, const uint8_t *detached, size_t dlen,
                         EVP_PKEY *pub, char *why, size_t whylen)
{
	cbor_item_t *prot, *pay, *sig;
	const uint8_t *payload;
	size_t plen, flen, tbs_len = 0, der_len = 0;
	uint8_t *tbs = NULL, *der = NULL;
	EVP_MD_CTX *mctx = NULL;
	const char *md;
	int64_t alg = 0;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0'; /* the fallback message at out relies on it */
	if (sign1 == NULL || pub == NULL || (detached == NULL && dlen))
		return MN_ERR_INVALID_ARG;
	if ((r = parse_protected(sign1, &alg, why, whylen)) != MN_OK)
		return r;
	prot = arr_at(sign1, 0);
	pay = arr_at(sign1, 2);
	sig = arr_at(sign1, 3);
	flen = ec_field_len(pub);
	if (alg == MN_COSE_ALG_ES256 && flen == 32)
		md = "SHA256";
	else if (alg == MN_COSE_ALG_ES384 && flen == 48)
		md = "SHA384";
	else if (alg == MN_COSE_ALG_ES512 && flen == 66)
		md = "SHA512";
	else
		return say(why, whylen, MN_ERR_UNSUPPORTED,
		           "COSE_Sign1 alg unsupported or not matching the key's curve");
	if (detached != NULL) {
		if (!is_null(pay))
			return say(why, whylen, MN_ERR_FORMAT,
			           "detached COSE_Sign1 carries a payload");
		payload = detached;
		plen = dlen;
	} else {
		if (!cbor_isa_bytestring(pay) || !cbor_bytestring_is_definite(pay))
			return say(why, whylen, MN_ERR_FORMAT, "COSE_Sign1 payload is not a bstr");
		payload = cbor_bytestring_handle(pay);
		plen = cbor_bytestring_length(pay);
	}
	if (!cbor_isa_bytestring(sig) || !cbor_bytestring_is_definite(sig))
		return say(why, whylen, MN_ERR_FORMAT, "COSE_Sign1 signature is not a bstr");
	if (cbor_bytestring_length(sig) != 2 * flen)
		return say(why, whylen, MN_ERR_CRYPTO, "COSE_Sign1 signature has the wrong length");
	if ((r = mn_cose_tbs("Signature1", cbor_bytestring_handle(prot),
	                     cbor_bytestring_length(prot), payload, plen, &tbs, &tbs_len)) != MN_OK)
		goto out;
	if ((r = mn_cose_ecdsa_raw_to_der(cbor_bytestring_handle(sig), cbor_bytestring_length(sig),
	                                  flen, &der, &der_len)) != MN_OK)
		goto out;
	r = MN_ERR_CRYPTO;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(mctx, NULL, md, NULL, NULL, pub, NULL) != 1)
		goto out;
	if (EVP_DigestVerify(mctx, der, der_len, tbs, tbs_len) != 1) {
		say(why, whylen, MN_ERR_CRYPTO, "COSE_Sign1 signature does not verify");
		goto out;
	}
	r = MN_OK;
out:
	if (r != MN_OK && why != NULL && whylen > 0 && why[0] == '\0')
		snprintf(why, whylen, "COSE_Sign1 verification failed");
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	free(tbs);
	return r;
}

int mn_cose_mac0_verify(const cbor_item_t *mac0, const uint8_t *detached, size_t dlen,
                        const uint8_t *key, size_t keylen, char *why, size_t whylen)
{
	cbor_item_t *prot, *pay, *tag;
	uint8_t *tbs = NULL, mac[EVP_MAX_MD_SIZE];
	size_t tbs_len = 0, mac_len = 0;
	int64_t alg = 0;
	int r;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (mac0 == NULL || detached == NULL || key == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = parse_protected(mac0, &alg, why, whylen)) != MN_OK)
		return r;
	if (alg != MN_COSE_ALG_HMAC256_256)
		return say(why, whylen, MN_ERR_UNSUPPORTED, "COSE_Mac0 alg is not HMAC 256/256");
	prot = arr_at(mac0, 0);
	pay = arr_at(mac0, 2);
	tag = arr_at(mac0, 3);
	if (!is_null(pay))
		return say(why, whylen, MN_ERR_FORMAT, "detached COSE_Mac0 carries a payload");
	if (!cbor_isa_bytestring(tag) || !cbor_bytestring_is_definite(tag) ||
	    cbor_bytestring_length(tag) != 32)
		return say(why, whylen, MN_ERR_CRYPTO, "COSE_Mac0 tag is not 32 bytes");
	if ((r = mn_cose_tbs("MAC0", cbor_bytestring_handle(prot), cbor_bytestring_length(prot),
	                     detached, dlen, &tbs, &tbs_len)) != MN_OK)
		return r;
	r = MN_ERR_CRYPTO;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen, tbs, tbs_len, mac,
	              sizeof(mac), &mac_len) == NULL ||
	    mac_len != 32) {
		say(why, whylen, r, "HMAC computation failed");
		goto out;
	}
	if (CRYPTO_memcmp(mac, cbor_bytestring_handle(tag), 32) != 0) {
		say(why, whylen, r, "COSE_Mac0 tag does not verify");
		goto out;
	}
	r = MN_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(tbs);
	return r;
}

int mn_cose_key_to_pkey(const cbor_item_t *cose_key, EVP_PKEY **ret)
{
	cbor_item_t *x, *y, *kty, *crv;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t pt[1 + 2 * 66];
	const char *group;
	int64_t v;
	size_t flen;
	int r = MN_ERR_FORMAT;

	if (cose_key == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if (!cbor_isa_map(cose_key))
		return MN_ERR_FORMAT;
	kty = mn_cbor_map_get_int(cose_key, 1);
	crv = mn_cbor_map_get_int(cose_key, -1);
	x = mn_cbor_map_get_int(cose_key, -2);
	y = mn_cbor_map_get_int(cose_key, -3);
	if (kty == NULL || mn_cbor_get_int(kty, &v) != MN_OK || v != 2)
		return MN_ERR_UNSUPPORTED;
	if (crv == NULL || mn_cbor_get_int(crv, &v) != MN_OK)
		return MN_ERR_FORMAT;
	if (v == 1) {
		group = "P-256";
		flen = 32;
	} else if (v == 2) {
		group = "P-384";
		flen = 48;
	} else if (v == 3) {
		group = "P-521";
		flen = 66;
	} else {
		return MN_ERR_UNSUPPORTED;
	}
	if (x == NULL || y == NULL || !cbor_isa_bytestring(x) || !cbor_isa_bytestring(y) ||
	    !cbor_bytestring_is_definite(x) || !cbor_bytestring_is_definite(y) ||
	    cbor_bytestring_length(x) != flen || cbor_bytestring_length(y) != flen)
		return MN_ERR_FORMAT;
	pt[0] = 0x04;
	memcpy(pt + 1, cbor_bytestring_handle(x), flen);
	memcpy(pt + 1 + flen, cbor_bytestring_handle(y), flen);
	r = MN_ERR_CRYPTO;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * flen) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	*ret = pk;
	pk = NULL;
	r = MN_OK;
out:
	EVP_PKEY_free(pk);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}
