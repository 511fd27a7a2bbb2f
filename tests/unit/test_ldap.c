/*
 * Unit tests: the directory client's pure parts (filter escaping, value checks) and the local
 * cache of store_backend = ldap (file format, freshness, corruption, full replacement), with a
 * directory that cannot be reached (ldap://127.0.0.1:1).
 */
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
#include "mn_ldap.h"
#include "mn_store.h"
#include "mn_storesrc.h"

#define ACC_TARO "account\t70001\t20250101000000Z\tTaro"
#define ACC_JIRO "account\t70002\t20250101000000Z\t-"
#define PHONE                                                                                      \
	"phone\t00112233445566778899aabbccddeeff\t"                                                \
	"0000000000000000000000000000000000000000000000000000000000000001\t"                       \
	"0000000000000000000000000000000000000000000000000000000000000002\t20250101000000Z\t-"

static void test_escape(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(mn_ldap_escape_filter("taro", 4, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "taro");
	assert_int_equal(mn_ldap_escape_filter("a*b(c)d\\e", 9, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "a\\2Ab\\28c\\29d\\5Ce");
	assert_int_equal(mn_ldap_escape_filter("a\0b", 3, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "a\\00b");
	assert_int_equal(mn_ldap_escape_filter("\xe5\n", 2, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "\\E5\\0A");
	assert_int_equal(mn_ldap_escape_filter("", 0, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "");
	/* bounds: exactly fits, one short */
	assert_int_equal(mn_ldap_escape_filter("abc", 3, out, 4), MN_OK);
	assert_int_equal(mn_ldap_escape_filter("abc", 3, out, 3), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_ldap_escape_filter("*", 1, out, 4), MN_OK);
	assert_int_equal(mn_ldap_escape_filter("*", 1, out, 3), MN_ERR_TOO_LARGE);
}

static void test_filter(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(mn_ldap_filter("uid", "taro", out, sizeof(out)), MN_OK);
	assert_string_equal(out, "(&(objectClass=mynumberUser)(uid=taro))");
	assert_int_equal(mn_ldap_filter("uid", NULL, out, sizeof(out)), MN_OK);
	assert_string_equal(out, "(objectClass=mynumberUser)");
	assert_int_equal(mn_ldap_filter("uid", "*)(uid=*", out, sizeof(out)), MN_OK);
	assert_string_equal(out, "(&(objectClass=mynumberUser)(uid=\\2A\\29\\28uid=\\2A))");
	assert_int_equal(mn_ldap_filter("x-login", "a", out, sizeof(out)), MN_OK);
	assert_int_equal(mn_ldap_filter("uid)(x", "a", out, sizeof(out)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ldap_filter("1uid", "a", out, sizeof(out)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ldap_filter("", "a", out, sizeof(out)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ldap_filter("uid", "taro", out, 20), MN_ERR_TOO_LARGE);
}

static void test_check_value(void **state)
{
	const char *why = NULL;
	char *big;

	(void)state;
	assert_int_equal(mn_ldap_check_value(ACC_TARO, strlen(ACC_TARO), &why), MN_OK);
	assert_int_equal(mn_ldap_check_value("", 0, &why), MN_ERR_FORMAT);
	assert_int_equal(mn_ldap_check_value("a\nb", 3, &why), MN_ERR_FORMAT);
	assert_string_equal(why, "a record is one line");
	assert_int_equal(mn_ldap_check_value("a\rb", 3, &why), MN_ERR_FORMAT);
	assert_int_equal(mn_ldap_check_value("a\0b", 3, &why), MN_ERR_FORMAT);
	big = malloc(MN_LDAP_VALUE_MAX + 1);
	assert_non_null(big);
	memset(big, 'a', MN_LDAP_VALUE_MAX + 1);
	assert_int_equal(mn_ldap_check_value(big, MN_LDAP_VALUE_MAX, &why), MN_OK);
	assert_int_equal(mn_ldap_check_value(big, MN_LDAP_VALUE_MAX + 1, &why), MN_ERR_TOO_LARGE);
	free(big);
}

static void test_cache_parse(void **state)
{
	struct mn_store *s = NULL;
	char err[512];
	time_t t = 0;
	const char *good = "# mynumber ldap cache v1 fetched=1700000000\n"
	                   "# mynumber enrollment store v3\n"
	                   "taro\t1\t" ACC_TARO "\n";
	const char *other = "# mynumber ldap cache v1 fetched=1700000000\n"
	                    "# mynumber enrollment store v3\n"
	                    "jiro\t1\t" ACC_JIRO "\n";

	(void)state;
	assert_int_equal(
	    mn_store_cache_parse("c", good, strlen(good), "taro", &s, &t, err, sizeof(err)), MN_OK);
	assert_int_equal(t, 1700000000);
	assert_int_equal(mn_store_account_count(s), 1);
	mn_store_free(&s);
	/* records of someone else in taro's file */
	assert_int_equal(
	    mn_store_cache_parse("c", other, strlen(other), "taro", &s, &t, err, sizeof(err)),
	    MN_ERR_FORMAT);
	assert_non_null(strstr(err, "corrupt cache"));
	assert_null(s);
	/* headers */
	{
		static const char *const bad[] = {
		    "",
		    "# mynumber ldap cache v1 fetched=\n# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v1 fetched=01\n# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v1 fetched=12x\n# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v1 fetched=-5\n# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v1 fetched=99999999999999999999\n"
		    "# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v2 fetched=1\n# mynumber enrollment store v1\n",
		    "# mynumber ldap cache v1 fetched=1",
		    "# mynumber enrollment store v1\n",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			assert_int_equal(mn_store_cache_parse("c", bad[i], strlen(bad[i]), "taro",
			                                      &s, &t, err, sizeof(err)),
			                 MN_ERR_FORMAT);
			assert_non_null(strstr(err, "corrupt cache"));
		}
	}
	/* a broken record after a good header */
	{
		const char *b = "# mynumber ldap cache v1 fetched=5\n"
		                "# mynumber enrollment store v3\ntaro\t1\taccount\t0\tx\t-\n";
		assert_int_equal(
		    mn_store_cache_parse("c", b, strlen(b), "taro", &s, &t, err, sizeof(err)),
		    MN_ERR_FORMAT);
		assert_non_null(strstr(err, "corrupt cache"));
	}
	/* the marker */
	assert_int_equal(
	    mn_store_cache_parse_marker("# mynumber ldap cache v1 full fetched=7\n", 40, &t),
	    MN_OK);
	assert_int_equal(t, 7);
	assert_int_equal(
	    mn_store_cache_parse_marker("# mynumber ldap cache v1 full fetched=7", 39, &t),
	    MN_ERR_FORMAT);
	assert_int_equal(
	    mn_store_cache_parse_marker("# mynumber ldap cache v1 full fetched=7\nx", 41, &t),
	    MN_ERR_FORMAT);
}

/* A temporary directory with a mynumber.conf for store_backend = ldap at an unreachable uri. */
struct env {
	char dir[64];
	char conf[128];
	char cache[128];
	struct mn_conf *c;
};

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	FILE *f;
	char err[512];

	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/mn-test-ldap.XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->conf, sizeof(e->conf), "%s/mynumber.conf", e->dir);
	snprintf(e->cache, sizeof(e->cache), "%s/cache", e->dir);
	f = fopen(e->conf, "w");
	assert_non_null(f);
	fprintf(f,
	        "store_backend = ldap\nstore = %s/enrollments\n[ldap]\nuri = ldap://127.0.0.1:1\n"
	        "base = dc=example,dc=org\ntimeout = 1\ncache_max_age = 100\ncache_dir = %s\n",
	        e->dir, e->cache);
	fclose(f);
	chmod(e->conf, 0600);
	assert_int_equal(mn_conf_load(e->conf, &e->c, err, sizeof(err)), MN_OK);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	mn_conf_free(&e->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

static void test_cache_fallback(void **state)
{
	struct env *e = *state;
	struct mn_store *all = NULL, *s = NULL;
	enum mn_store_origin origin = MN_STORE_FROM_FILE;
	char err[1024], path[256];
	size_t users = 0;
	struct stat st;
	FILE *f;

	assert_int_equal(mn_store_new(&all), MN_OK);
	assert_int_equal(mn_store_add_record(all, "taro", ACC_TARO, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_add_record(all, "taro", PHONE, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_add_record(all, "jiro", ACC_JIRO, err, sizeof(err)), MN_OK);

	/* nothing cached yet: unavailable, with the directory's reason */
	assert_int_equal(mn_store_source_load(e->c, "taro", 1000, &s, &origin, err, sizeof(err)),
	                 MN_ERR_UNAVAILABLE);
	assert_null(s);
	assert_non_null(strstr(err, "cannot be reached"));

	/* a stale file of a user who left the directory is removed by a full replacement */
	assert_int_equal(mn_store_cache_replace(e->c, all, 1000, &users, err, sizeof(err)), MN_OK);
	assert_int_equal(users, 2);
	snprintf(path, sizeof(path), "%s/u/gone", e->cache);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(mn_store_cache_replace(e->c, all, 1000, &users, err, sizeof(err)), MN_OK);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(stat(e->cache, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/u/taro", e->cache);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* fresh: from the cache */
	assert_int_equal(mn_store_source_load(e->c, "taro", 1050, &s, &origin, err, sizeof(err)),
	                 MN_OK);
	assert_int_equal(origin, MN_STORE_FROM_CACHE);
	assert_int_equal(mn_store_account_count(s), 1);
	assert_int_equal(mn_store_phone_count(s), 1);
	assert_non_null(strstr(err, "from the cache"));
	mn_store_free(&s);
	/* everyone */
	assert_int_equal(mn_store_source_load(e->c, NULL, 1100, &s, &origin, err, sizeof(err)),
	                 MN_OK);
	assert_int_equal(origin, MN_STORE_FROM_CACHE);
	assert_int_equal(mn_store_account_count(s), 2);
	mn_store_free(&s);
	/* a user with no file: no records, known from the fresh full fetch */
	assert_int_equal(mn_store_source_load(e->c, "saburo", 1050, &s, &origin, err, sizeof(err)),
	                 MN_OK);
	assert_int_equal(mn_store_account_count(s) + mn_store_count(s), 0);
	mn_store_free(&s);
	/* too old, or from the future: unavailable */
	assert_int_equal(mn_store_source_load(e->c, "taro", 1101, &s, &origin, err, sizeof(err)),
	                 MN_ERR_UNAVAILABLE);
	assert_non_null(strstr(err, "cache_max_age"));
	assert_int_equal(mn_store_source_load(e->c, NULL, 1101, &s, &origin, err, sizeof(err)),
	                 MN_ERR_UNAVAILABLE);
	assert_int_equal(mn_store_source_load(e->c, "saburo", 1101, &s, &origin, err, sizeof(err)),
	                 MN_ERR_UNAVAILABLE);
	assert_int_equal(mn_store_source_load(e->c, "taro", 999, &s, &origin, err, sizeof(err)),
	                 MN_ERR_UNAVAILABLE);
	/* corrupt: a clear error, never records */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# mynumber ldap cache v1 fetched=1000\ngarbage\n", f);
	fclose(f);
	assert_int_equal(mn_store_source_load(e->c, "taro", 1050, &s, &origin, err, sizeof(err)),
	                 MN_ERR_FORMAT);
	assert_null(s);
	assert_non_null(strstr(err, "corrupt cache"));
	/* a cache file others may read is refused */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# mynumber ldap cache v1 fetched=1000\n# mynumber enrollment store v1\n", f);
	fclose(f);
	chmod(path, 0644);
	assert_int_equal(mn_store_source_load(e->c, "taro", 1050, &s, &origin, err, sizeof(err)),
	                 MN_ERR_IO);
	assert_null(s);
	mn_store_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_cache_parse),
	    cmocka_unit_test_setup_teardown(test_cache_fallback, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
