/* Unit tests: strict CBOR, COSE_Sign1, and mdoc verification against the Annex D vectors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_cose.h"
#include "mdoc/mn_mdoc.h"

#ifndef MN_VECTORS_DIR
#define MN_VECTORS_DIR "../shared/vectors"
#endif
#define ANNEX_D MN_VECTORS_DIR "/iso18013-5-annex-d/ISO_18013_5_ANNEX_D_"
#define AT_2021 ((time_t)1609459200) /* 2021-01-01T00:00:00Z */

static int load(const uint8_t *b, size_t n)
{
	cbor_item_t *it = NULL;
	char why[128];
	int r = mn_cbor_load_strict(b, n, &it, why, sizeof(why));

	if (it != NULL)
		cbor_decref(&it);
	return r;
}

static void test_strict_cbor(void **state)
{
	static const uint8_t ok[] = {0xA2, 0x01, 0x01, 0x02, 0x02};
	static const uint8_t dup[] = {0xA2, 0x01, 0x01, 0x01, 0x02};
	static const uint8_t dup_text[] = {0xA2, 0x61, 'a', 0x01, 0x61, 'a', 0x02};
	static const uint8_t trailing[] = {0x01, 0x00};
	static const uint8_t indef_arr[] = {0x9F, 0x01, 0xFF};
	static const uint8_t indef_bstr[] = {0x5F, 0x41, 0x00, 0xFF};
	static const uint8_t indef_map[] = {0xBF, 0x01, 0x01, 0xFF};
	static const uint8_t tag0_int[] = {0xC0, 0x01};
	static const uint8_t tag24_int[] = {0xD8, 0x18, 0x01};
	static const uint8_t tag1004_bad[] = {0xD9, 0x03, 0xEC, 0x63, 'a', 'b', 'c'};
	static const uint8_t tag1004_ok[] = {0xD9, 0x03, 0xEC, 0x6A, '2', '0', '1',
	                                     '9',  '-',  '1',  '0',  '-', '2', '0'};
	static const uint8_t nonshort[] = {0x18, 0x01};
	static const uint8_t truncated[] = {0x62, 'a'};
	static const uint8_t bad_utf8[] = {0x61, 0xFF};

	(void)state;
	assert_int_equal(load(ok, sizeof(ok)), MN_OK);
	assert_int_equal(load(tag1004_ok, sizeof(tag1004_ok)), MN_OK);
	assert_int_equal(load(dup, sizeof(dup)), MN_ERR_FORMAT);
	assert_int_equal(load(dup_text, sizeof(dup_text)), MN_ERR_FORMAT);
	assert_int_equal(load(trailing, sizeof(trailing)), MN_ERR_TRAILING);
	assert_int_equal(load(indef_arr, sizeof(indef_arr)), MN_ERR_FORMAT);
	assert_int_equal(load(indef_bstr, sizeof(indef_bstr)), MN_ERR_FORMAT);
	assert_int_equal(load(indef_map, sizeof(indef_map)), MN_ERR_FORMAT);
	assert_int_equal(load(tag0_int, sizeof(tag0_int)), MN_ERR_FORMAT);
	assert_int_equal(load(tag24_int, sizeof(tag24_int)), MN_ERR_FORMAT);
	assert_int_equal(load(tag1004_bad, sizeof(tag1004_bad)), MN_ERR_FORMAT);
	assert_int_equal(load(nonshort, sizeof(nonshort)), MN_ERR_FORMAT);
	assert_int_equal(load(truncated, sizeof(truncated)), MN_ERR_TRUNCATED);
	assert_int_equal(load(bad_utf8, sizeof(bad_utf8)), MN_ERR_FORMAT);
}

static void test_rfc3339(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01T00:00:00Z", 20, &t), MN_OK);
	assert_int_equal(t, 1609459200);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01T09:00:00+09:00", 25, &t), MN_OK);
	assert_int_equal(t, 1609459200);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-02-30T00:00:00Z", 20, &t), MN_ERR_FORMAT);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01 00:00:00Z", 20, &t), MN_ERR_FORMAT);
}

/* Build a COSE_Sign1 over payload signed by key (ES256), optionally damaged. */
static cbor_item_t *make_sign1(EVP_PKEY *key, const uint8_t *payload, size_t plen)
{
	static const uint8_t prot[] = {0xA1, 0x01, 0x26};
	uint8_t *tbs = NULL, *der = NULL, raw[64];
	const unsigned char *p;
	size_t tbs_len = 0, der_len = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	const BIGNUM *r, *s;
	cbor_item_t *a = cbor_new_definite_array(4);

	assert_int_equal(
	    mn_cose_tbs("Signature1", prot, sizeof(prot), payload, plen, &tbs, &tbs_len), MN_OK);
	assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(m, NULL, &der_len, tbs, tbs_len), 1);
	der = malloc(der_len);
	assert_int_equal(EVP_DigestSign(m, der, &der_len, tbs, tbs_len), 1);
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
	assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, sizeof(prot)))));
	assert_true(cbor_array_push(a, cbor_move(cbor_new_definite_map(0))));
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, plen))));
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(raw, sizeof(raw)))));
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(m);
	free(der);
	free(tbs);
	return a;
}

static void test_cose_sign1(void **state)
{
	static const uint8_t payload[] = "payload bytes";
	EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	EVP_PKEY *p384 = EVP_EC_gen("P-384");
	cbor_item_t *s1, *sig, *det;
	char why[128];

	(void)state;
	assert_non_null(key);
	s1 = make_sign1(key, payload, sizeof(payload));
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, key, why, sizeof(why)), MN_OK);
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, other, why, sizeof(why)), MN_ERR_CRYPTO);
	/* ES256 with a P-384 key is refused */
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, p384, why, sizeof(why)),
	                 MN_ERR_UNSUPPORTED);
	/* embedded payload where a detached one is expected */
	assert_int_equal(mn_cose_sign1_verify(s1, payload, sizeof(payload), key, why, sizeof(why)),
	                 MN_ERR_FORMAT);
	/* a damaged signature byte */
	sig = cbor_array_handle(s1)[3];
	cbor_bytestring_handle(sig)[5] ^= 0x01;
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, key, why, sizeof(why)), MN_ERR_CRYPTO);
	cbor_decref(&s1);
	/* a detached payload */
	s1 = make_sign1(key, payload, sizeof(payload));
	det = cbor_array_handle(s1)[2];
	assert_true(cbor_array_set(s1, 2, cbor_move(cbor_new_null())));
	(void)det;
	assert_int_equal(mn_cose_sign1_verify(s1, payload, sizeof(payload), key, why, sizeof(why)),
	                 MN_OK);
	assert_int_equal(
	    mn_cose_sign1_verify(s1, payload, sizeof(payload) - 1, key, why, sizeof(why)),
	    MN_ERR_CRYPTO);
	cbor_decref(&s1);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	EVP_PKEY_free(p384);
}

static uint8_t *read_hex(const char *name, size_t *len)
{
	char path[512], *hex;
	FILE *f;
	long n;
	size_t i;
	uint8_t *b;

	snprintf(path, sizeof(path), "%s%s.hex", ANNEX_D, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	hex = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(hex, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	b = malloc((size_t)n / 2);
	for (i = 0; i < (size_t)n / 2; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	free(hex);
	*len = (size_t)n / 2;
	return b;
}

static void test_annex_d(void **state)
{
	size_t rl, sl, il, i;
	uint8_t *resp = read_hex("DEVICE_RESPONSE", &rl),
	        *st = read_hex("SESSION_TRANSCRIPT_BYTES", &sl);
	uint8_t *iaca_der = read_hex("IACA_CERT", &il);
	const unsigned char *p;
	STACK_OF(X509) *iaca = sk_X509_new_null();
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check chk;
	char why[256];
	int found = 0;

	(void)state;
	if (resp == NULL || st == NULL || iaca_der == NULL) {
		free(resp);
		free(st);
		free(iaca_der);
		sk_X509_free(iaca);
		skip();
	}
	p = iaca_der;
	sk_X509_push(iaca, d2i_X509(NULL, &p, (long)il));
	/* everything up to device authentication holds; deviceMac without the reader key fails */
	assert_int_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, AT_2021, 300, &res, &chk, why,
	                                sizeof(why)),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(chk, MN_MDOC_CHECK_DEVICE_AUTH);
	assert_null(res);
	/* the real clock: expired */
	assert_int_not_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, 1900000000, 300, &res,
	                                    &chk, why, sizeof(why)),
	                     MN_OK);
	assert_int_equal(chk, MN_MDOC_CHECK_CERT_VALIDITY);
	/* "Doe" -> "Foe": the digest of family_name no longer matches */
	for (i = 0; i + 4 <= rl; i++)
		if (memcmp(resp + i,
		           "\x63"
		           "Doe",
		           4) == 0) {
			resp[i + 1] = 'F';
			found = 1;
			break;
		}
	assert_true(found);
	assert_int_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, AT_2021, 300, &res, &chk, why,
	                                sizeof(why)),
	                 MN_ERR_CRYPTO);
	assert_int_equal(chk, MN_MDOC_CHECK_DIGEST);
	sk_X509_pop_free(iaca, X509_free);
	free(resp);
	free(st);
	free(iaca_der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strict_cbor),
	    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_cose_sign1),
	    cmocka_unit_test(test_annex_d),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
