/* Unit tests: the strict base64 codec of the enrollment store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_b64.h"
#include "mn_err.h"

static void check_pair(const char *raw, const char *enc)
{
	char out[64];
	uint8_t dec[64];
	size_t n = 99;

	assert_int_equal(mn_b64_encoded_len(strlen(raw)), strlen(enc));
	assert_int_equal(mn_b64_encode((const uint8_t *)raw, strlen(raw), out, sizeof(out), &n),
	                 MN_OK);
	assert_string_equal(out, enc);
	assert_int_equal(n, strlen(enc));
	assert_int_equal(mn_b64_decode(enc, strlen(enc), dec, sizeof(dec), &n), MN_OK);
	assert_int_equal(n, strlen(raw));
	assert_memory_equal(dec, raw, n);
}

static void test_rfc4648_vectors(void **state)
{
	(void)state;
	check_pair("", "");
	check_pair("f", "Zg==");
	check_pair("fo", "Zm8=");
	check_pair("foo", "Zm9v");
	check_pair("foob", "Zm9vYg==");
	check_pair("fooba", "Zm9vYmE=");
	check_pair("foobar", "Zm9vYmFy");
}

static void test_all_bytes(void **state)
{
	uint8_t raw[256], dec[256];
	char enc[400];
	size_t n, len;

	(void)state;
	for (n = 0; n < 256; n++)
		raw[n] = (uint8_t)(255 - n);
	for (len = 250; len <= 256; len++) {
		assert_int_equal(mn_b64_encode(raw, len, enc, sizeof(enc), &n), MN_OK);
		assert_int_equal(mn_b64_decode(enc, n, dec, sizeof(dec), &n), MN_OK);
		assert_int_equal(n, len);
		assert_memory_equal(dec, raw, len);
	}
	assert_non_null(strchr(enc, '+'));
	assert_non_null(strchr(enc, '/'));
}

static void test_reject_noncanonical(void **state)
{
	static const char *const bad[] = {
	    "Zg=",      /* length not a multiple of 4 */
	    "Zg",       /* no padding */
	    "Zh==",     /* unused bits set */
	    "Zm9=",     /* unused bits set */
	    "Z===",     /* too much padding */
	    "====",     /* padding only */
	    "Zg==Zg==", /* padding in the middle */
	    "Zm=v",     /* '=' inside a group */
	    "Zm9v\n",   /* whitespace */
	    "Zm 9v",    /* whitespace */
	    "Zm9-",     /* URL-safe alphabet */
	    "Zm9_",     /* URL-safe alphabet */
	};
	uint8_t dec[16];
	size_t i, n = 77;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mn_b64_decode(bad[i], strlen(bad[i]), dec, sizeof(dec), &n),
		                 MN_ERR_FORMAT);
	assert_int_equal(n, 77);
}

static void test_bounds(void **state)
{
	uint8_t dec[5];
	char enc[9];
	size_t n = 0;

	(void)state;
	/* the NUL needs room too */
	assert_int_equal(mn_b64_encode((const uint8_t *)"foobar", 6, enc, 8, &n), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_b64_encode((const uint8_t *)"foobar", 6, enc, 9, &n), MN_OK);
	assert_int_equal(mn_b64_decode("Zm9vYmFy", 8, dec, 5, &n), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_b64_decode("Zm9vYmE=", 8, dec, 5, &n), MN_OK);
	assert_int_equal(n, 5);
	assert_int_equal(mn_b64_decode("Zm9v", 4, dec, 5, NULL), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_b64_encode(NULL, 1, enc, sizeof(enc), NULL), MN_ERR_INVALID_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_vectors),
	    cmocka_unit_test(test_all_bytes),
	    cmocka_unit_test(test_reject_noncanonical),
	    cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests_name("b64", tests, NULL, NULL);
}
