/*
 * libpamtest + cmocka: pam_mynumber in-process (under pam_wrapper), asserting return codes
 * and the exact messages a user sees. Run by tests/integration/test-pam.sh, which provides
 * the virtual card, the service file and the enrollment of "taro" (PIN 1234).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpamtest.h>
#include <security/pam_appl.h>

#define NMSG 8

struct msgs {
	char buf[2][NMSG][PAM_MAX_MSG_SIZE];
	char *info[NMSG + 1];
	char *err[NMSG + 1];
};

static void setup_msgs(struct msgs *m, struct pamtest_conv_data *conv, const char **pins)
{
	int i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < NMSG; i++) {
		m->info[i] = m->buf[0][i];
		m->err[i] = m->buf[1][i];
	}
	memset(conv, 0, sizeof(*conv));
	conv->in_echo_off = pins;
	conv->out_info = m->info;
	conv->out_err = m->err;
}

static const char *service(void)
{
	const char *s = getenv("MN_PAM_SERVICE");

	return s != NULL ? s : "mynumber-test";
}

static int any_contains(char **list, const char *needle)
{
	int i;

	for (i = 0; i < NMSG; i++)
		if (list[i][0] != '\0' && strstr(list[i], needle) != NULL)
			return 1;
	return 0;
}

static void test_wrong_pin_then_right(void **state)
{
	const char *wrong[] = {"1111", NULL}, *right[] = {"1234", NULL};
	struct pamtest_conv_data conv;
	struct pam_testcase fail[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_AUTH_ERR)};
	struct pam_testcase pass[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
	                              pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS)};
	struct msgs m;

	(void)state;
	setup_msgs(&m, &conv, wrong);
	assert_int_equal(run_pamtest(service(), "taro", &conv, fail, NULL), PAMTEST_ERR_OK);
	assert_true(any_contains(m.info, "Hold your My Number card or phone over the reader."));
	assert_true(any_contains(m.err, "Wrong PIN. 2 tries left."));

	setup_msgs(&m, &conv, right);
	assert_int_equal(run_pamtest(service(), "taro", &conv, pass, NULL), PAMTEST_ERR_OK);
	assert_false(any_contains(m.err, "Wrong PIN"));
}

static void test_malformed_pin_is_not_sent(void **state)
{
	const char *pins[] = {"12345", NULL};
	struct pamtest_conv_data conv;
	struct pam_testcase tc[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_AUTH_ERR)};
	struct msgs m;

	(void)state;
	setup_msgs(&m, &conv, pins);
	assert_int_equal(run_pamtest(service(), "taro", &conv, tc, NULL), PAMTEST_ERR_OK);
	assert_true(any_contains(m.err, "The PIN is 4 digits. Nothing was sent to the card."));
}

static void test_unknown_user(void **state)
{
	const char *pins[] = {"1234", NULL};
	struct pamtest_conv_data conv;
	struct pam_testcase tc[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN)};
	struct msgs m;

	(void)state;
	setup_msgs(&m, &conv, pins);
	assert_int_equal(run_pamtest(service(), "nosuchuser", &conv, tc, NULL), PAMTEST_ERR_OK);
}

static void test_not_enrolled(void **state)
{
	const char *pins[] = {"1234", NULL};
	struct pamtest_conv_data conv;
	struct pam_testcase tc[] = {pam_test(PAMTEST_AUTHENTICATE, PAM_CRED_INSUFFICIENT),
	                            pam_test(PAMTEST_ACCOUNT, PAM_USER_UNKNOWN)};
	struct msgs m;

	(void)state;
	setup_msgs(&m, &conv, pins);
	assert_int_equal(run_pamtest(service(), "jiro", &conv, tc, NULL), PAMTEST_ERR_OK);
	assert_true(any_contains(m.err, "No My Number card is enrolled for jiro."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrong_pin_then_right),
	    cmocka_unit_test(test_malformed_pin_is_not_sent),
	    cmocka_unit_test(test_unknown_user),
	    cmocka_unit_test(test_not_enrolled),
	};
	return cmocka_run_group_tests_name("pam_mynumber", tests, NULL, NULL);
}
