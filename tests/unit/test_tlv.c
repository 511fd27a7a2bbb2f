/* Unit tests: BER-TLV headers, bounds and sibling search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_err.h"
#include "mn_tlv.h"

static void test_header_forms(void **state)
{
	static const uint8_t cert[] = {0x30, 0x82, 0x05, 0x1A, 0x30};
	static const uint8_t priv[] = {0xFF, 0x20, 0x65};
	static const uint8_t l81[] = {0xDF, 0x23, 0x81, 0x90};
	uint32_t tag;
	size_t hl, vl;

	(void)state;
	assert_int_equal(mn_tlv_header(cert, sizeof(cert), &tag, &hl, &vl), MN_OK);
	assert_int_equal(tag, 0x30);
	assert_int_equal(hl, 4);
	assert_int_equal(vl, 0x051A);
	assert_int_equal(mn_tlv_header(priv, sizeof(priv), &tag, &hl, &vl), MN_OK);
	assert_int_equal(tag, 0xFF20);
	assert_int_equal(hl, 3);
	assert_int_equal(vl, 0x65);
	assert_int_equal(mn_tlv_header(l81, sizeof(l81), &tag, &hl, &vl), MN_OK);
	assert_int_equal(tag, 0xDF23);
	assert_int_equal(hl, 4);
	assert_int_equal(vl, 0x90);
}

static void test_header_rejects(void **state)
{
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t five_len[] = {0x30, 0x85, 1, 2, 3, 4, 5};
	static const uint8_t cut_len[] = {0x30, 0x82, 0x05};
	static const uint8_t cut_tag[] = {0xDF};
	static const uint8_t long_tag[] = {0xDF, 0x81, 0x82, 0x83, 0x01, 0x00};
	uint32_t tag = 1;
	size_t hl = 2, vl = 3;

	(void)state;
	assert_int_equal(mn_tlv_header(indefinite, sizeof(indefinite), &tag, &hl, &vl),
	                 MN_ERR_FORMAT);
	assert_int_equal(mn_tlv_header(five_len, sizeof(five_len), &tag, &hl, &vl),
	                 MN_ERR_TOO_LARGE);
	assert_int_equal(mn_tlv_header(cut_len, sizeof(cut_len), &tag, &hl, &vl), MN_ERR_TRUNCATED);
	assert_int_equal(mn_tlv_header(cut_tag, sizeof(cut_tag), &tag, &hl, &vl), MN_ERR_TRUNCATED);
	assert_int_equal(mn_tlv_header(long_tag, sizeof(long_tag), &tag, &hl, &vl),
	                 MN_ERR_TOO_LARGE);
	/* outputs untouched */
	assert_int_equal(tag, 1);
	assert_int_equal(hl, 2);
	assert_int_equal(vl, 3);
}

static void test_parse_value_bounds(void **state)
{
	static const uint8_t ok[] = {0xDF, 0x24, 0x02, '1', '9'};
	static const uint8_t over[] = {0xDF, 0x24, 0x03, '1', '9'};
	struct mn_tlv t;

	(void)state;
	assert_int_equal(mn_tlv_parse(ok, sizeof(ok), &t), MN_OK);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.value, ok + 3);
	assert_int_equal(mn_tlv_parse(over, sizeof(over), &t), MN_ERR_TRUNCATED);
}

static void test_find_and_put(void **state)
{
	uint8_t buf[600], v[300];
	size_t n = 0, w;
	struct mn_tlv t;

	(void)state;
	memset(v, 'x', sizeof(v));
	assert_int_equal(mn_tlv_put(buf + n, sizeof(buf) - n, 0xDF31, v, 32, &w), MN_OK);
	assert_int_equal(w, 35);
	n += w;
	assert_int_equal(mn_tlv_put(buf + n, sizeof(buf) - n, 0xDF33, v, 256, &w), MN_OK);
	assert_int_equal(w, 3 + 2 + 256);
	assert_int_equal(buf[n + 2], 0x82);
	n += w;
	assert_int_equal(mn_tlv_put(buf + n, sizeof(buf) - n, 0x04, v, 200, &w), MN_OK);
	assert_int_equal(buf[n + 1], 0x81);
	n += w;
	assert_int_equal(mn_tlv_find(buf, n, 0xDF33, &t), MN_OK);
	assert_int_equal(t.len, 256);
	assert_int_equal(mn_tlv_find(buf, n, 0x04, &t), MN_OK);
	assert_int_equal(t.len, 200);
	assert_int_equal(mn_tlv_find(buf, n, 0xDF99, &t), MN_ERR_NOT_FOUND);
	/* a broken sibling stops the search */
	assert_int_equal(mn_tlv_find(buf, n - 1, 0xDF99, &t), MN_ERR_TRUNCATED);
	/* no room */
	assert_int_equal(mn_tlv_put(buf, 10, 0xDF31, v, 32, &w), MN_ERR_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_forms),
	    cmocka_unit_test(test_header_rejects),
	    cmocka_unit_test(test_parse_value_bounds),
	    cmocka_unit_test(test_find_and_put),
	};
	return cmocka_run_group_tests_name("tlv", tests, NULL, NULL);
}
