/*
 * Unit test for fuzzing finding 1 (doc/fuzzing.md): the payload slot of a detached COSE_Sign1
 * (deviceSignature) or COSE_Mac0 (deviceMac) holding anything but null — in particular a
 * float, on which libcbor's cbor_is_null() asserts and aborts the process — is refused with
 * MN_ERR_FORMAT before any signature or MAC check.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "mn_cbor.h"
#include "mn_cose.h"
#include "mn_err.h"

/* [h'A10126' (alg ES256) or h'A10105' (HMAC 256/256), {}, PAYLOAD, h'00..'] */
static int verify(int mac, const uint8_t *payload, size_t plen)
{
	uint8_t buf[128];
	size_t n = 0, taglen = mac ? 32 : 64;
	cbor_item_t *it = NULL;
	EVP_PKEY *key = NULL;
	char why[256];
	int r;

	buf[n++] = 0x84;
	buf[n++] = 0x43;
	buf[n++] = 0xa1;
	buf[n++] = 0x01;
	buf[n++] = mac ? 0x05 : 0x26;
	buf[n++] = 0xa0;
	memcpy(buf + n, payload, plen);
	n += plen;
	buf[n++] = 0x58;
	buf[n++] = (uint8_t)taglen;
	memset(buf + n, 0, taglen);
	n += taglen;
	assert_int_equal(mn_cbor_load_strict(buf, n, &it, why, sizeof(why)), MN_OK);
	if (mac) {
		static const uint8_t k[32];
		r = mn_cose_mac0_verify(it, (const uint8_t *)"x", 1, k, sizeof(k), why,
		                        sizeof(why));
	} else {
		key = EVP_EC_gen("P-256");
		assert_non_null(key);
		r = mn_cose_sign1_verify(it, (const uint8_t *)"x", 1, key, why, sizeof(why));
		EVP_PKEY_free(key);
	}
	cbor_decref(&it);
	return r;
}

static void test_non_null_payloads(void **state)
{
	static const struct {
		uint8_t b[9];
		size_t n;
	} p[] = {
	    {{0xf9, 0x3c, 0x00}, 3},                   /* half 1.0 */
	    {{0xfa, 0x3f, 0xc0, 0x00, 0x00}, 5},       /* single 1.5 */
	    {{0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 9}, /* double 1.5 */
	    {{0xf4}, 1},                               /* false */
	    {{0xf7}, 1},                               /* undefined */
	    {{0x40}, 1},                               /* h'' */
	};
	size_t i;
	int mac;

	(void)state;
	for (mac = 0; mac < 2; mac++)
		for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
			assert_int_equal(verify(mac, p[i].b, p[i].n), MN_ERR_FORMAT);
}

static void test_null_payload_reaches_the_check(void **state)
{
	static const uint8_t null[] = {0xf6};

	(void)state;
	/* the zero signature / tag is wrong: refused by the check, not the format */
	assert_int_equal(verify(0, null, 1), MN_ERR_CRYPTO);
	assert_int_equal(verify(1, null, 1), MN_ERR_CRYPTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_non_null_payloads),
	    cmocka_unit_test(test_null_payload_reaches_the_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
