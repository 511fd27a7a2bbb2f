/* Unit tests: PIN formats are checked before anything reaches the card. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_err.h"
#include "mn_pin.h"

#define U(s) ((const uint8_t *)(s))

static void test_digits4(void **state)
{
	(void)state;
	assert_int_equal(mn_pin_check_digits4(U("1234"), 4), MN_OK);
	assert_int_equal(mn_pin_check_digits4(U("0000"), 4), MN_OK);
	assert_int_equal(mn_pin_check_digits4(U("123"), 3), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_check_digits4(U("12345"), 5), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_check_digits4(U("12a4"), 4), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_check_digits4(U("１２"), 4), MN_ERR_PIN_FORMAT); /* full width */
	assert_int_equal(mn_pin_check_digits4(NULL, 4), MN_ERR_PIN_FORMAT);
}

static void test_sign_normalize(void **state)
{
	uint8_t out[16];

	(void)state;
	memset(out, 0, sizeof(out));
	assert_int_equal(mn_pin_normalize_sign(U("abc123"), 6, out, sizeof(out)), MN_OK);
	assert_memory_equal(out, "ABC123", 6);
	assert_int_equal(mn_pin_normalize_sign(U("SignPass1"), 9, out, sizeof(out)), MN_OK);
	assert_memory_equal(out, "SIGNPASS1", 9);
	assert_int_equal(mn_pin_normalize_sign(U("ABCDEFGHIJ123456"), 16, out, sizeof(out)), MN_OK);

	memset(out, '#', sizeof(out));
	assert_int_equal(mn_pin_normalize_sign(U("abc12"), 5, out, sizeof(out)), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_normalize_sign(U("ABCDEFGHIJ1234567"), 17, out, sizeof(out)),
	                 MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_normalize_sign(U("abc-123"), 7, out, sizeof(out)),
	                 MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_normalize_sign(U("abc 123"), 7, out, sizeof(out)),
	                 MN_ERR_PIN_FORMAT);
	assert_int_equal(out[0], '#'); /* nothing written on failure */
	assert_int_equal(mn_pin_normalize_sign(U("abc123"), 6, out, 5), MN_ERR_INVALID_ARG);
}

static void test_new_sign(void **state)
{
	(void)state;
	assert_int_equal(mn_pin_check_new_sign(U("ABC123"), 6), MN_OK);
	assert_int_equal(mn_pin_check_new_sign(U("ABCDEF"), 6), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_check_new_sign(U("123456"), 6), MN_ERR_PIN_FORMAT);
	assert_int_equal(mn_pin_check_new_sign(U("abc123"), 6), MN_ERR_PIN_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digits4),
	    cmocka_unit_test(test_sign_normalize),
	    cmocka_unit_test(test_new_sign),
	};
	return cmocka_run_group_tests_name("pin", tests, NULL, NULL);
}
