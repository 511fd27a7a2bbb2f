/* Unit tests: mynumber.conf parsing, validation and the file checks. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_conf.h"
#include "mn_err.h"

/* Write len bytes to a new temporary file with this mode; path receives its name. */
static void write_file(char path[32], const char *text, size_t len, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/mn-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Load text from a 0644 file. On failure err holds the message with the path removed. */
static int load_text_len(const char *text, size_t len, struct mn_conf **c, char *err, size_t errlen)
{
	char path[32], msg[512];
	int r;

	write_file(path, text, len, 0644);
	strcpy(msg, "untouched");
	r = mn_conf_load(path, c, msg, sizeof(msg));
	unlink(path);
	if (r != MN_OK) {
		/* "PATH:LINE: reason" -> ":LINE: reason" */
		assert_memory_equal(msg, path, strlen(path));
		snprintf(err, errlen, "%s", msg + strlen(path));
	} else {
		assert_string_equal(msg, "");
	}
	return r;
}

static int load_text(const char *text, struct mn_conf **c, char *err, size_t errlen)
{
	return load_text_len(text, strlen(text), c, err, errlen);
}

/* text must fail with MN_ERR_FORMAT and a message starting with ":LINE: " containing what. */
static void expect_error(const char *text, unsigned line, const char *what)
{
	struct mn_conf *c = NULL;
	char err[512], prefix[32];

	assert_int_equal(load_text(text, &c, err, sizeof(err)), MN_ERR_FORMAT);
	assert_null(c);
	snprintf(prefix, sizeof(prefix), ":%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("for %s: got \"%s\", want \"%s...%s\"", text, err, prefix, what);
}

static void expect_ok(const char *text)
{
	struct mn_conf *c = NULL;
	char err[512];

	if (load_text(text, &c, err, sizeof(err)) != MN_OK)
		fail_msg("for %s: %s", text, err);
	mn_conf_free(&c);
}

static void test_defaults(void **state)
{
	struct mn_conf *c = NULL;
	unsigned u = 0;
	int b = -1;

	(void)state;
	assert_int_equal(mn_conf_new(&c), MN_OK);
	assert_string_equal(mn_conf_get(c, "", "trust_anchors"),
	                    MN_SYSCONFDIR "/mynumber/trust-anchors");
	assert_string_equal(mn_conf_get(c, "", "store"), MN_SYSCONFDIR "/mynumber/enrollments");
	assert_non_null(mn_conf_get(c, "", "pkcs11_module"));
	assert_string_equal(mn_conf_get(c, "", "opensc_conf"), "");
	assert_string_equal(mn_conf_get(c, "", "policy_oids"), "1.2.392.200149.8.5.1.3.30");
	assert_non_null(mn_conf_get(c, "", "helper"));
	assert_non_null(mn_conf_get(c, "", "locale_dir"));
	assert_string_equal(mn_conf_get(c, "revocation", "backends"), "crl");
	assert_string_equal(mn_conf_get(c, "revocation", "policy"), "require");
	assert_non_null(mn_conf_get(c, "revocation", "plugin_dir"));
	assert_null(mn_conf_get(c, "revocation", "crl_dir"));
	assert_string_equal(mn_conf_get(c, "", "state_dir"), MN_STATEDIR);
	assert_int_equal(mn_conf_get_bool(c, "", "warm_login", &b), MN_OK);
	assert_int_equal(b, 1);
	assert_int_equal(mn_conf_get_uint(c, "", "card_wait", &u), MN_OK);
	assert_int_equal(u, 30);
	assert_int_equal(mn_conf_get_uint(c, "", "min_pin_tries", &u), MN_OK);
	assert_int_equal(u, 2);
	assert_int_equal(mn_conf_get_uint(c, "", "timeout", &u), MN_OK);
	assert_int_equal(u, 20);
	assert_int_equal(mn_conf_get_uint(c, "revocation", "max_staleness", &u), MN_OK);
	assert_int_equal(u, 86400);
	assert_int_equal(mn_conf_get_bool(c, "", "allow_phone", &b), MN_OK);
	assert_int_equal(b, 1);

	/* unknown keys, wrong sections, wrong types */
	assert_null(mn_conf_get(c, "", "nope"));
	assert_null(mn_conf_get(c, "revocation", "card_wait"));
	assert_null(mn_conf_get(c, "nope", "store"));
	assert_null(mn_conf_get(c, NULL, "store"));
	u = 7, b = 7;
	assert_int_equal(mn_conf_get_uint(c, "", "store", &u), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_conf_get_uint(c, "", "allow_phone", &u), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_conf_get_uint(c, "", "nope", &u), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_conf_get_bool(c, "", "card_wait", &b), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_conf_get_bool(c, "revocation", "allow_phone", &b), MN_ERR_INVALID_ARG);
	assert_int_equal(u, 7);
	assert_int_equal(b, 7);

	mn_conf_free(&c);
	assert_null(c);
	mn_conf_free(&c);
	mn_conf_free(NULL);
}

static void test_full_file(void **state)
{
	static const char text[] = "# mynumber.conf\n"
	                           "; another comment style\n"
	                           "\n"
	                           "   \t\n"
	                           "trust_anchors = /etc/ta.pem\n"
	                           "store=/var/lib/enroll\n"
	                           "  pkcs11_module\t=\t/opt/p11.so  \n"
	                           "opensc_conf =\n"
	                           "card_wait = 0\n"
	                           "min_pin_tries = 3\n"
	                           "timeout = 300\n"
	                           "policy_oids = 1.2.392.200149.8.5.1.3.30 , 2.999.1,0.39\n"
	                           "helper = /usr/lib/x/helper\n"
	                           "allow_phone = No\n"
	                           "locale_dir = /usr/local/share/locale\r\n"
	                           "\t# indented comment\n"
	                           "[revocation]\n"
	                           "backends = none\n"
	                           "policy = soft\n"
	                           "plugin_dir = /srv/plugins\n"
	                           "max_staleness = 31536000"; /* no final newline */
	struct mn_conf *c = NULL;
	char err[512];
	unsigned u;
	int b;

	(void)state;
	if (load_text(text, &c, err, sizeof(err)) != MN_OK)
		fail_msg("%s", err);
	assert_string_equal(mn_conf_get(c, "", "trust_anchors"), "/etc/ta.pem");
	assert_string_equal(mn_conf_get(c, "", "store"), "/var/lib/enroll");
	assert_string_equal(mn_conf_get(c, "", "pkcs11_module"), "/opt/p11.so");
	assert_string_equal(mn_conf_get(c, "", "opensc_conf"), "");
	assert_string_equal(mn_conf_get(c, "", "policy_oids"),
	                    "1.2.392.200149.8.5.1.3.30 , 2.999.1,0.39");
	assert_string_equal(mn_conf_get(c, "", "helper"), "/usr/lib/x/helper");
	assert_string_equal(mn_conf_get(c, "", "locale_dir"), "/usr/local/share/locale");
	assert_string_equal(mn_conf_get(c, "revocation", "backends"), "none");
	assert_string_equal(mn_conf_get(c, "revocation", "policy"), "soft");
	assert_string_equal(mn_conf_get(c, "revocation", "plugin_dir"), "/srv/plugins");
	assert_int_equal(mn_conf_get_uint(c, "", "card_wait", &u), MN_OK);
	assert_int_equal(u, 0);
	assert_int_equal(mn_conf_get_uint(c, "", "min_pin_tries", &u), MN_OK);
	assert_int_equal(u, 3);
	assert_int_equal(mn_conf_get_uint(c, "", "timeout", &u), MN_OK);
	assert_int_equal(u, 300);
	assert_int_equal(mn_conf_get_uint(c, "revocation", "max_staleness", &u), MN_OK);
	assert_int_equal(u, 31536000);
	assert_int_equal(mn_conf_get_bool(c, "", "allow_phone", &b), MN_OK);
	assert_int_equal(b, 0);
	mn_conf_free(&c);

	/* empty file and comments only: all defaults */
	expect_ok("");
	expect_ok("# nothing\n\n;\n");
	expect_ok("[revocation]\n");
}

static void test_uint(void **state)
{
	(void)state;
	expect_ok("card_wait = 600\n");
	expect_ok("card_wait = 007\n");
	expect_ok("min_pin_tries = 1\n");
	expect_ok("[revocation]\nmax_staleness = 0\n");
	expect_error("card_wait = 601\n", 1, "'card_wait' must be an integer from 0 to 600");
	expect_error("card_wait = -1\n", 1, "card_wait");
	expect_error("card_wait = +1\n", 1, "card_wait");
	expect_error("card_wait = 30s\n", 1, "card_wait");
	expect_error("card_wait = 3 0\n", 1, "card_wait");
	expect_error("card_wait = 0x10\n", 1, "card_wait");
	expect_error("card_wait =\n", 1, "'card_wait' must not be empty");
	expect_error("card_wait = 99999999999999999999999\n", 1, "card_wait");
	expect_error("card_wait = 30 # comment\n", 1, "card_wait");
	expect_error("min_pin_tries = 0\n", 1, "from 1 to 3");
	expect_error("min_pin_tries = 4\n", 1, "from 1 to 3");
	expect_error("timeout = 0\n", 1, "'timeout' must be an integer from 1 to 300");
	expect_error("timeout = 301\n", 1, "timeout");
	expect_error("[revocation]\nmax_staleness = 31536001\n", 2, "max_staleness");
}

static void test_bool(void **state)
{
	static const struct {
		const char *text;
		int value;
	} ok[] = {
	    {"allow_phone = yes\n", 1}, {"allow_phone = YES\n", 1}, {"allow_phone = true\n", 1},
	    {"allow_phone = 1\n", 1},   {"allow_phone = no\n", 0},  {"allow_phone = False\n", 0},
	    {"allow_phone = 0\n", 0},
	};
	struct mn_conf *c = NULL;
	char err[512];
	size_t i;
	int b;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(load_text(ok[i].text, &c, err, sizeof(err)), MN_OK);
		assert_int_equal(mn_conf_get_bool(c, "", "allow_phone", &b), MN_OK);
		assert_int_equal(b, ok[i].value);
		mn_conf_free(&c);
	}
	expect_error("allow_phone = y\n", 1, "'allow_phone' must be yes, no, true, false, 1 or 0");
	expect_error("allow_phone = 2\n", 1, "allow_phone");
	expect_error("allow_phone = on\n", 1, "allow_phone");
	expect_error("allow_phone =\n", 1, "allow_phone");
}

static void test_enum_and_lists(void **state)
{
	(void)state;
	expect_ok("[revocation]\npolicy = require\n");
	expect_error("[revocation]\npolicy = Soft\n", 2, "'policy' must be one of: require, soft");
	expect_error("[revocation]\npolicy = \n", 2, "policy");

	expect_ok("[revocation]\nbackends = crl\n");
	expect_ok("[revocation]\nbackends =  crl  \n");
	expect_error("[revocation]\nbackends = crl,none\n", 2, "'none' must be the only backend");
	expect_error("[revocation]\nbackends = none, none\n", 2, "listed twice");
	expect_error("[revocation]\nbackends = crl,crl\n", 2, "listed twice");
	expect_ok("[revocation]\nbackends = crl, ocsp, http\n"); /* plugins, checked when loaded */
	expect_error("[revocation]\nbackends = OCSP\n", 2, "bad backend name 'OCSP'");
	expect_error("[revocation]\nbackends = ../x\n", 2, "bad backend name");
	expect_error("[revocation]\nbackends = crl,\n", 2, "bad backend name ''");
	expect_error("[revocation]\nbackends =\n", 2, "must not be empty");

	expect_ok("policy_oids = 1.2\n");
	expect_ok("policy_oids = 2.25.329800735698586629295641978511506172918\n");
	expect_ok("policy_oids = 1.2.392.200149.8.5.1.3.30,1.2.392.200149.8.5.1.3.10\n");
	expect_error("policy_oids = 1\n", 1, "'1' is not a dotted OID");
	expect_error("policy_oids = 3.1\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1.40\n", 1, "not a dotted OID");
	expect_error("policy_oids = 01.2\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1.02\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1..2\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1.2.\n", 1, "not a dotted OID");
	expect_error("policy_oids = .1.2\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1.2.a\n", 1, "'1.2.a' is not a dotted OID");
	expect_error("policy_oids = 1.2 .3\n", 1, "not a dotted OID");
	expect_error("policy_oids = 1.2.3,,1.2.4\n", 1, "'' is not a dotted OID");
	expect_error("policy_oids =\n", 1, "must not be empty");
}

static void test_phone(void **state)
{
	struct mn_conf *c = NULL;
	char err[512];

	(void)state;
	assert_int_equal(
	    load_text("[phone]\nmdoc_trust_anchors = /etc/iaca.pem\n", &c, err, sizeof(err)),
	    MN_OK);
	assert_string_equal(mn_conf_get(c, "phone", "phone"), "auto");
	assert_string_equal(mn_conf_get(c, "phone", "mdoc_elements"),
	                    "org.iso.23220.1.jp:full_name_unicode,"
	                    "org.iso.23220.1.jp:birth_date_unicode");
	mn_conf_free(&c);
	expect_ok("[phone]\nphone = no\nmdoc_allow_device_mac = yes\nmdoc_skew = 0\n");
	expect_ok("[phone]\nmdoc_elements = org.iso.23220.1:age_over_20\n");
	expect_error("[phone]\nmdoc_elements = org.iso.23220.1.jp:individual_number_unicode\n", 2,
	             "My Number Act");
	expect_error("[phone]\nmdoc_elements = a:b, x:individual_number_unicode\n", 2,
	             "individual_number_unicode is never requested");
	expect_error("[phone]\nmdoc_elements = full_name_unicode\n", 2,
	             "is not NAMESPACE:IDENTIFIER");
	expect_error("[phone]\nmdoc_elements = a:b,a:b\n", 2, "listed twice");
	expect_error("[phone]\nmdoc_elements = a:\n", 2, "is not NAMESPACE:IDENTIFIER");
	expect_error("[phone]\nphone = maybe\n", 2, "'phone' must be one of");
	expect_error("[phone]\nmdoc_skew = 3601\n", 2, "'mdoc_skew' must be an integer");
	expect_error("[phone]\nmdoc_trust_anchors = iaca.pem\n", 2, "absolute path");
}

/* [phone] ble, ble_bus, ble_wait: BLE data retrieval through BlueZ */
static void test_phone_ble(void **state)
{
	struct mn_conf *c = NULL;
	char err[512];
	unsigned u = 0;
	int b = 0;

	(void)state;
	assert_int_equal(mn_conf_new(&c), MN_OK);
	assert_string_equal(mn_conf_get(c, "phone", "ble"), "auto");
	assert_string_equal(mn_conf_get(c, "phone", "ble_bus"), "");
	assert_int_equal(mn_conf_get_uint(c, "phone", "ble_wait", &u), MN_OK);
	assert_int_equal(u, 20);
	mn_conf_free(&c);
	assert_int_equal(load_text("[phone]\nble = no\n"
	                           "ble_bus = unix:path=/run/mn-test/bus,guid=0123\n"
	                           "ble_wait = 120\n",
	                           &c, err, sizeof(err)),
	                 MN_OK);
	assert_string_equal(mn_conf_get(c, "phone", "ble"), "no");
	assert_string_equal(mn_conf_get(c, "phone", "ble_bus"),
	                    "unix:path=/run/mn-test/bus,guid=0123");
	assert_int_equal(mn_conf_get_uint(c, "phone", "ble_wait", &u), MN_OK);
	assert_int_equal(u, 120);
	assert_int_equal(mn_conf_get_bool(c, "phone", "ble", &b), MN_ERR_INVALID_ARG);
	mn_conf_free(&c);
	expect_ok("[phone]\nble = auto\nble_wait = 1\n");
	expect_ok("[phone]\nble_bus =\n");
	expect_error("[phone]\nble = yes\n", 2, "'ble' must be one of");
	expect_error("[phone]\nble = maybe\n", 2, "'ble' must be one of");
	expect_error("[phone]\nble_wait = 0\n", 2, "'ble_wait' must be an integer");
	expect_error("[phone]\nble_wait = 121\n", 2, "'ble_wait' must be an integer");
	expect_error("[phone]\nble_wait = -1\n", 2, "'ble_wait' must be an integer");
	expect_error("ble = no\n", 1, "ble"); /* not in the main section */
	expect_error("[phone]\nble_bus = a\001b\n", 2, "control character");
}

static void expect_error_together(const char *text, const char *what)
{
	struct mn_conf *c = NULL;
	char err[512];

	assert_int_equal(load_text(text, &c, err, sizeof(err)), MN_ERR_FORMAT);
	assert_null(c);
	if (strstr(err, what) == NULL)
		fail_msg("for %s: got \"%s\", want \"%s\"", text, err, what);
}

static void test_accounts_and_ldap(void **state)
{
	struct mn_conf *c = NULL;
	char err[512];
	unsigned u = 0;

	(void)state;
	assert_int_equal(load_text("", &c, err, sizeof(err)), MN_OK);
	assert_string_equal(mn_conf_get(c, "", "store_backend"), "file");
	assert_int_equal(mn_conf_get_uint(c, "accounts", "uid_min", &u), MN_OK);
	assert_int_equal(u, 70000);
	assert_string_equal(mn_conf_get(c, "accounts", "home"), "/home/%u");
	assert_string_equal(mn_conf_get(c, "accounts", "group"), "");
	assert_string_equal(mn_conf_get(c, "ldap", "user_attribute"), "uid");
	assert_int_equal(mn_conf_get_uint(c, "ldap", "cache_max_age", &u), MN_OK);
	assert_int_equal(u, 86400);
	mn_conf_free(&c);
	expect_ok("[accounts]\nuid_min = 5000\nuid_max = 5000\ngroup = kiosk\ngroup_gid = 4999\n");
	expect_ok("store_backend = ldap\n[ldap]\nuri = ldap://127.0.0.1:389\n"
	          "base = ou=people,dc=example,dc=org\nbind_dn = cn=host,dc=example,dc=org\n"
	          "bind_password_file = /etc/mynumber/ldap.secret\nstarttls = yes\n");
	expect_error("[accounts]\nuid_min = 999\n", 2, "'uid_min' must be an integer");
	expect_error("[accounts]\ngroup = -x\n", 2, "'group' must be a name");
	expect_error("[accounts]\nhome = home/%u\n", 2, "absolute path");
	expect_error("[ldap]\nuser_attribute = a b\n", 2, "must be a name");
	expect_error("store_backend = nis\n", 1, "'store_backend' must be one of");
	expect_error_together("[accounts]\nuid_min = 6000\nuid_max = 5000\n",
	                      "uid_min is above uid_max");
	expect_error_together("[accounts]\ngroup = kiosk\n", "group and group_gid go together");
	expect_error_together("[accounts]\ngroup_gid = 4000\n", "group and group_gid go together");
	expect_error_together("[accounts]\ngroup = kiosk\ngroup_gid = 70001\n",
	                      "group_gid is inside the uid range");
	expect_error_together("store_backend = ldap\n", "needs [ldap] uri and base");
	expect_error_together("store_backend = ldap\n[ldap]\nuri = ldap://127.0.0.1\n",
	                      "needs [ldap] uri and base");
}

static void test_paths(void **state)
{
	(void)state;
	expect_ok("opensc_conf = /etc/mynumber/opensc.conf\n");
	expect_ok("opensc_conf = \n");
	expect_error("store = enrollments\n", 1, "'store' must be an absolute path");
	expect_error("store =\n", 1, "'store' must not be empty");
	expect_error("opensc_conf = opensc.conf\n", 1, "absolute path");
	expect_error("[revocation]\nplugin_dir = ./p\n", 2, "plugin_dir");
	/* backend sections: any backend name, keys checked by the backend itself */
	expect_error("[revocation.Bad-Name]\n", 1, "bad backend section");
	expect_error("[revocation.ocsp]\nurl = http://x/ # old\n", 2, "comments are not allowed");
	expect_error("[revocation.ocsp]\nurl = a\nurl = b\n", 3, "set twice");
	expect_error("[revocation.ocsp]\n[revocation.ocsp]\n", 2, "appears twice");
	expect_error("helper = ~/helper\n", 1, "helper");
}

static void test_structure_errors(void **state)
{
	(void)state;
	expect_error("# c\nstores = /x\n", 2, "unknown key 'stores' in the main section");
	expect_error("[revocation]\ncard_wait = 3\n", 2,
	             "unknown key 'card_wait' in section [revocation]");
	expect_error("\n\n[ocsp]\n", 3, "unknown section [ocsp]");
	expect_error("[]\n", 1, "unknown section []");
	expect_error("[revocation\n", 1, "closing ']'");
	expect_error("[revocation] x\n", 1, "closing ']'");
	expect_error("card_wait = 3\ntimeout = 5\ncard_wait = 4\n", 3,
	             "'card_wait' set twice (first on line 1)");
	expect_error("[revocation]\npolicy=soft\n[revocation]\n", 3, "appears twice");
	expect_error("card_wait\n", 1, "expected 'key = value'");
	expect_error(" = 3\n", 1, "missing key");
	expect_error("Card_Wait = 3\n", 1, "unknown key");
	expect_error("card wait = 3\n", 1, "unknown key");
	expect_error("\"card_wait\" = 3\n", 1, "unknown key");
	expect_error("# ok\ncard_wait = 3\x01\n", 2, "control character 0x01");
	expect_error("card_wait = 3\rx\n", 1, "control character 0x0D");
	expect_error("store = /a\x7f\n", 1, "control character 0x7F");
	/* a trailing comment must not silently become part of a path */
	expect_error("store = /etc/x # old path\n", 1, "comments are not allowed after a value");
	expect_error("card_wait = 3 ; seconds\n", 1, "comments are not allowed after a value");
}

static void test_limits(void **state)
{
	struct mn_conf *c = NULL;
	char line[1100], err[512], *big;
	size_t n = 70 * 1024;

	(void)state;
	/* a 1024-byte line is fine, 1025 is not */
	memset(line, 0, sizeof(line));
	line[0] = '#';
	memset(line + 1, 'x', 1023);
	strcat(line, "\n");
	expect_ok(line);
	memset(line, 0, sizeof(line));
	memcpy(line, "\n\n\n\n\n#", 6);
	memset(line + 6, 'x', 1024);
	strcat(line, "\n");
	expect_error(line, 6, "line longer than 1024 bytes");

	/* NUL */
	assert_int_equal(load_text_len("# a\n# b\0c\n", 10, &c, err, sizeof(err)), MN_ERR_FORMAT);
	assert_string_equal(err, ":2: NUL byte");
	assert_int_equal(load_text_len("store = /a\0\n", 12, &c, err, sizeof(err)), MN_ERR_FORMAT);
	assert_string_equal(err, ":1: NUL byte");

	/* 64 KiB is the limit */
	big = malloc(n);
	assert_non_null(big);
	memset(big, '\n', n);
	assert_int_equal(load_text_len(big, 64 * 1024, &c, err, sizeof(err)), MN_OK);
	mn_conf_free(&c);
	assert_int_equal(load_text_len(big, 64 * 1024 + 1, &c, err, sizeof(err)), MN_ERR_TOO_LARGE);
	assert_non_null(strstr(err, "larger than 64 KiB"));
	assert_null(c);
	free(big);
}

static void test_file_checks(void **state)
{
	struct mn_conf *c = NULL;
	char path[32], link[40], dir[32], err[512];

	(void)state;
	/* group or other writable */
	write_file(path, "card_wait = 3\n", 14, 0664);
	assert_int_equal(mn_conf_load(path, &c, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "writable by group or others"));
	assert_memory_equal(err, path, strlen(path));
	assert_int_equal(chmod(path, 0602), 0);
	assert_int_equal(mn_conf_load(path, &c, err, sizeof(err)), MN_ERR_IO);
	assert_null(c);
	/* read-only for everyone is fine */
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(mn_conf_load(path, &c, err, sizeof(err)), MN_OK);
	mn_conf_free(&c);
	assert_int_equal(chmod(path, 0600), 0);

	/* a symlink to a good file is refused */
	snprintf(link, sizeof(link), "%s.lnk", path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(mn_conf_load(link, &c, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "symbolic link"));
	assert_null(c);
	unlink(link);

	/* not owned by root or the euid (needs root to set up) */
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 4242, 4242), 0);
		assert_int_equal(mn_conf_load(path, &c, err, sizeof(err)), MN_ERR_IO);
		assert_non_null(strstr(err, "owned by uid 4242"));
		assert_null(c);
	}
	unlink(path);

	/* missing file, directory */
	assert_int_equal(mn_conf_load(path, &c, err, sizeof(err)), MN_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "no such file"));
	strcpy(dir, "/tmp/mn-conf-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(mn_conf_load(dir, &c, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "not a regular file"));
	rmdir(dir);

	/* arguments; a NULL err is fine */
	assert_int_equal(mn_conf_load(NULL, &c, err, sizeof(err)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_conf_load(path, &c, NULL, 0), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_conf_new(NULL), MN_ERR_INVALID_ARG);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),       cmocka_unit_test(test_full_file),
	    cmocka_unit_test(test_uint),           cmocka_unit_test(test_bool),
	    cmocka_unit_test(test_enum_and_lists), cmocka_unit_test(test_phone),
	    cmocka_unit_test(test_phone_ble),      cmocka_unit_test(test_accounts_and_ldap),
	    cmocka_unit_test(test_paths),          cmocka_unit_test(test_structure_errors),
	    cmocka_unit_test(test_limits),         cmocka_unit_test(test_file_checks),
	};
	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
