/* Unit tests: command APDU parsing/building and status words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_apdu.h"
#include "mn_err.h"

static void test_parse_cases(void **state)
{
	static const uint8_t c1[] = {0x00, 0x20, 0x00, 0x80};
	static const uint8_t c2[] = {0x00, 0xB0, 0x01, 0x00, 0x00};
	static const uint8_t c3[] = {0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'};
	static const uint8_t c4[] = {0x80, 0x2A, 0x00, 0x80, 0x02, 0xAA, 0xBB, 0x00};
	struct mn_capdu c;

	(void)state;
	assert_int_equal(mn_capdu_parse(c1, sizeof(c1), &c), MN_OK);
	assert_int_equal(c.ins, 0x20);
	assert_int_equal(c.lc, 0);
	assert_false(c.has_le);
	assert_null(c.data);

	assert_int_equal(mn_capdu_parse(c2, sizeof(c2), &c), MN_OK);
	assert_true(c.has_le);
	assert_int_equal(c.le, 256);
	assert_int_equal(c.p1, 0x01);

	assert_int_equal(mn_capdu_parse(c3, sizeof(c3), &c), MN_OK);
	assert_int_equal(c.lc, 4);
	assert_memory_equal(c.data, "1234", 4);
	assert_false(c.has_le);

	assert_int_equal(mn_capdu_parse(c4, sizeof(c4), &c), MN_OK);
	assert_int_equal(c.cla, 0x80);
	assert_int_equal(c.lc, 2);
	assert_true(c.has_le);
	assert_int_equal(c.le, 256);
}

static void test_parse_rejects(void **state)
{
	static const uint8_t short3[] = {0x00, 0xA4, 0x04};
	static const uint8_t lc_long[] = {0x00, 0xA4, 0x02, 0x0C, 0x03, 0x00, 0x0A};
	static const uint8_t lc_short[] = {0x00, 0xA4, 0x02, 0x0C, 0x01, 0x00, 0x0A, 0x00, 0x00};
	static const uint8_t ext[] = {0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00};
	struct mn_capdu c;

	(void)state;
	memset(&c, 0x5A, sizeof(c));
	assert_int_equal(mn_capdu_parse(short3, sizeof(short3), &c), MN_ERR_FORMAT);
	assert_int_equal(c.cla, 0x5A); /* untouched on failure */
	assert_int_equal(mn_capdu_parse(lc_long, sizeof(lc_long), &c), MN_ERR_FORMAT);
	assert_int_equal(mn_capdu_parse(lc_short, sizeof(lc_short), &c), MN_ERR_FORMAT);
	assert_int_equal(mn_capdu_parse(ext, sizeof(ext), &c), MN_ERR_UNSUPPORTED);
	assert_int_equal(mn_capdu_parse(NULL, 4, &c), MN_ERR_INVALID_ARG);
}

static void test_build_roundtrip(void **state)
{
	static const uint8_t aid[] = {0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t want[] = {0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0,
	                               0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
	uint8_t buf[300];
	size_t n;
	struct mn_capdu c;

	(void)state;
	assert_int_equal(
	    mn_capdu_build(0x00, 0xA4, 0x04, 0x0C, aid, sizeof(aid), 0, buf, sizeof(buf), &n),
	    MN_OK);
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(buf, want, n);
	assert_int_equal(mn_capdu_build(0x00, 0xB0, 0x00, 0x00, NULL, 0, 256, buf, sizeof(buf), &n),
	                 MN_OK);
	assert_int_equal(n, 5);
	assert_int_equal(buf[4], 0x00);
	assert_int_equal(mn_capdu_parse(buf, n, &c), MN_OK);
	assert_int_equal(c.le, 256);
	/* too small a buffer, too long data */
	assert_int_equal(mn_capdu_build(0, 0xA4, 4, 0x0C, aid, sizeof(aid), 0, buf, 8, &n),
	                 MN_ERR_TOO_LARGE);
	assert_int_equal(mn_capdu_build(0, 0xA4, 4, 0x0C, buf, 256, 0, buf, sizeof(buf), &n),
	                 MN_ERR_INVALID_ARG);
}

static void test_rapdu_and_tries(void **state)
{
	static const uint8_t r[] = {0x01, 0x02, 0x63, 0xC2};
	size_t dl;
	uint16_t sw;
	int tries = 99;

	(void)state;
	assert_int_equal(mn_rapdu_split(r, sizeof(r), &dl, &sw), MN_OK);
	assert_int_equal(dl, 2);
	assert_int_equal(sw, 0x63C2);
	assert_int_equal(mn_rapdu_split(r, 1, &dl, &sw), MN_ERR_TRUNCATED);

	assert_int_equal(mn_sw_pin_tries(0x63C2, &tries), MN_OK);
	assert_int_equal(tries, 2);
	assert_int_equal(mn_sw_pin_tries(0x63C0, &tries), MN_OK);
	assert_int_equal(tries, 0);
	assert_int_equal(mn_sw_pin_tries(0x6984, &tries), MN_OK);
	assert_int_equal(tries, 0);
	assert_int_equal(mn_sw_pin_tries(0x9000, &tries), MN_OK);
	assert_int_equal(tries, -1);
	tries = 7;
	assert_int_equal(mn_sw_pin_tries(0x6A82, &tries), MN_ERR_FORMAT);
	assert_int_equal(tries, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_cases),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_build_roundtrip),
	    cmocka_unit_test(test_rapdu_and_tries),
	};
	return cmocka_run_group_tests_name("apdu", tests, NULL, NULL);
}
