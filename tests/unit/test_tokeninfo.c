/* Unit tests: EF 0006 token info — telling card, Android, iPhone and 住基 apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_tokeninfo.h"

static void make(uint8_t *buf, const char *label, const char *serial)
{
	memset(buf, ' ', MN_TOKEN_INFO_LEN);
	memcpy(buf, label, strlen(label));
	memcpy(buf + 80, serial, strlen(serial));
}

static void test_kinds(void **state)
{
	static const struct {
		const char *label;
		enum mn_token_kind kind;
	} cases[] = {
	    {"JPKIAPICCTOKEN2", MN_TOKEN_CARD},    {"JPKIAPGPSETOKEN", MN_TOKEN_ANDROID},
	    {"JPKIAPIOSTOKEN", MN_TOKEN_IPHONE},   {"JPKIAPICCTOKEN", MN_TOKEN_JUKI},
	    {"JPKIAPICCTOKEN3", MN_TOKEN_UNKNOWN}, {"", MN_TOKEN_UNKNOWN},
	};
	uint8_t buf[MN_TOKEN_INFO_LEN];
	struct mn_tokeninfo ti;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make(buf, cases[i].label, "0123ABCD");
		assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &ti), MN_OK);
		assert_int_equal(ti.kind, cases[i].kind);
		assert_string_equal(ti.label, cases[i].label);
		assert_string_equal(ti.serial, "0123ABCD");
	}
}

static void test_serial_rules(void **state)
{
	uint8_t buf[MN_TOKEN_INFO_LEN];
	struct mn_tokeninfo ti;

	(void)state;
	make(buf, "JPKIAPICCTOKEN2", "00000000");
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &ti), MN_OK);
	assert_string_equal(ti.serial, ""); /* OpenSC's placeholder is no serial */
	make(buf, "JPKIAPICCTOKEN2", "");
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &ti), MN_OK);
	assert_string_equal(ti.serial, "");
	make(buf, "JPKIAPICCTOKEN2", "AB");
	buf[81] = 0x07; /* control character: serial dropped, token still usable */
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &ti), MN_OK);
	assert_string_equal(ti.serial, "");
	assert_int_equal(ti.kind, MN_TOKEN_CARD);
}

static void test_rejects(void **state)
{
	uint8_t buf[MN_TOKEN_INFO_LEN];
	struct mn_tokeninfo ti;

	(void)state;
	memset(&ti, 0, sizeof(ti));
	ti.kind = MN_TOKEN_IPHONE;
	make(buf, "JPKIAPICCTOKEN2", "1");
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf) - 1, &ti), MN_ERR_TRUNCATED);
	buf[3] = 0x01; /* control byte inside the label */
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &ti), MN_ERR_FORMAT);
	assert_int_equal(ti.kind, MN_TOKEN_IPHONE); /* untouched */
}

static void test_encode_roundtrip(void **state)
{
	struct mn_tokeninfo in, out;
	uint8_t buf[MN_TOKEN_INFO_LEN];

	(void)state;
	memset(&in, 0, sizeof(in));
	strcpy(in.label, mn_token_kind_label(MN_TOKEN_ANDROID));
	strcpy(in.manufacturer, "mynumber-sim");
	strcpy(in.model, "virtual");
	strcpy(in.serial, "5EED5EED5EED5EED");
	assert_int_equal(mn_tokeninfo_encode(&in, buf), MN_OK);
	assert_int_equal(mn_tokeninfo_parse(buf, sizeof(buf), &out), MN_OK);
	assert_int_equal(out.kind, MN_TOKEN_ANDROID);
	assert_string_equal(out.manufacturer, "mynumber-sim");
	assert_string_equal(out.model, "virtual");
	assert_string_equal(out.serial, "5EED5EED5EED5EED");
	assert_string_equal(mn_token_kind_name(MN_TOKEN_CARD), "My Number Card");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_serial_rules),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_encode_roundtrip),
	};
	return cmocka_run_group_tests_name("tokeninfo", tests, NULL, NULL);
}
