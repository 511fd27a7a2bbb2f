/* Unit tests: card-info AP basic-attribute TLV (layout of a real test card). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_cardinfo.h"
#include "mn_err.h"

/* FF20 with DF21 offsets, name, address, birth, sex (offsets as on the documented card) */
static size_t sample(uint8_t *buf)
{
	static const char name[] = "\xe9\xbb\x92\xe6\xa1\x90\xe3\x80\x80\xe5\xb9\xb9\xe4\xb9\x9f";
	static const char addr[] = "\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe6\xb8\x85\xe7\x80\xac"
	                           "\xe5\xb8\x82";
	struct mn_attrs a;
	size_t n;

	memset(&a, 0, sizeof(a));
	strcpy(a.name, name);
	strcpy(a.address, addr);
	strcpy(a.birth, "19800217");
	a.sex = '1';
	assert_int_equal(mn_attrs_encode(&a, buf, 512, &n), MN_OK);
	return n;
}

static void test_roundtrip(void **state)
{
	uint8_t buf[512];
	struct mn_attrs a;
	size_t n;

	(void)state;
	n = sample(buf);
	assert_int_equal(buf[0], 0xFF);
	assert_int_equal(buf[1], 0x20);
	/* DF21 offsets point at DF22: 3-byte header + 11-byte DF21 = 0x0E */
	assert_int_equal(buf[3], 0xDF);
	assert_int_equal(buf[4], 0x21);
	assert_int_equal(buf[6] << 8 | buf[7], 0x0E);
	assert_int_equal(mn_attrs_decode(buf, n, &a), MN_OK);
	assert_string_equal(a.birth, "19800217");
	assert_int_equal(a.sex, '1');
	assert_int_equal(strlen(a.name), 15);
	/* filler after the TLV is tolerated */
	memset(buf + n, 0xFF, 10);
	assert_int_equal(mn_attrs_decode(buf, n + 10, &a), MN_OK);
}

static void test_rejects(void **state)
{
	uint8_t buf[512], bad[512];
	struct mn_attrs a;
	size_t n;

	(void)state;
	n = sample(buf);
	memset(&a, 0, sizeof(a));
	a.sex = 'z';

	memcpy(bad, buf, n);
	bad[7] ^= 1; /* offset table disagrees */
	assert_int_equal(mn_attrs_decode(bad, n, &a), MN_ERR_FORMAT);

	memcpy(bad, buf, n);
	bad[n] = 0x41; /* trailing garbage */
	assert_int_equal(mn_attrs_decode(bad, n + 1, &a), MN_ERR_TRAILING);

	assert_int_equal(mn_attrs_decode(buf, n - 1, &a), MN_ERR_TRUNCATED);

	memcpy(bad, buf, n);
	bad[1] = 0x21; /* wrong outer tag */
	assert_int_equal(mn_attrs_decode(bad, n, &a), MN_ERR_FORMAT);

	memcpy(bad, buf, n);
	bad[17] = 0xC0; /* invalid UTF-8 in the name (overlong lead byte) */
	assert_int_equal(mn_attrs_decode(bad, n, &a), MN_ERR_FORMAT);

	memcpy(bad, buf, n);
	bad[n - 1] = 'x'; /* sex not in 0/1/2/9 */
	assert_int_equal(mn_attrs_decode(bad, n, &a), MN_ERR_FORMAT);

	assert_int_equal(a.sex, 'z'); /* untouched */
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(mn_utf8_valid((const uint8_t *)"abc", 3));
	assert_true(mn_utf8_valid((const uint8_t *)"\xe3\x80\x80", 3));
	assert_false(mn_utf8_valid((const uint8_t *)"\xe3\x80", 2));
	assert_false(mn_utf8_valid((const uint8_t *)"\xc0\xaf", 2));         /* overlong */
	assert_false(mn_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3));     /* surrogate */
	assert_false(mn_utf8_valid((const uint8_t *)"a\0b", 3));             /* NUL */
	assert_false(mn_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests_name("cardinfo", tests, NULL, NULL);
}
