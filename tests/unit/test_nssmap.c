/* Unit tests: the managed-account map for the NSS module (writer, reader, checker). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "mn_err.h"
#include "mn_nssmap.h"

static const char *const kiosk_members[] = {"taro", "hanako"};
static const char *const staff_members[] = {"taro"};

static const struct mn_nss_user USERS[] = {
    {"taro", 5001, 5001, "Yamada Taro,Room 1", "/home/taro", "/bin/bash"},
    {"hanako", 5002, 5001, "", "/home/hanako", "/bin/sh"},
    {"jiro.s-2", 70000, 6000, "Jiro", "/srv/jiro", "/usr/sbin/nologin"},
};
static const struct mn_nss_group GROUPS[] = {
    {"kiosk", 5001, kiosk_members, 2},
    {"staff", 6000, staff_members, 1},
    {"empty", 6001, NULL, 0},
};

/* Test state: a fresh directory with the map path in it. */
struct fx {
	char dir[32];
	char path[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/mn-nssmap.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/nss.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[80];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void build(unsigned char **img, size_t *len, time_t expires)
{
	char err[256];
	int r = mn_nssmap_build(USERS, 3, GROUPS, 3, expires, img, len, err, sizeof(err));
	if (r != 0)
		fail_msg("build: %s", err);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fix_checksum(unsigned char *img, size_t len)
{
	uint64_t h = mn_nssmap_checksum(img, len);
	put32(img + 24, (uint32_t)h);
	put32(img + 28, (uint32_t)(h >> 32));
}

/* Every reader entry point on a map: must not crash or read outside (ASan), whatever it is. */
static void touch_everything(const struct mn_nssmap *m)
{
	static const char *const names[] = {"taro",  "hanako", "jiro.s-2", "kiosk", "staff",
	                                    "empty", "nobody", "a",        "zzz"};
	struct mn_nssmap_pw pw;
	struct mn_nssmap_gr gr;
	const char *s;
	size_t len;
	uint32_t i, j, gid;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (mn_nssmap_user_by_name(m, names[i], &pw) == 0)
			for (j = 0; j < pw.n_groups; j++)
				(void)mn_nssmap_user_group(m, &pw, j, &gid);
		if (mn_nssmap_group_by_name(m, names[i], &gr) == 0)
			for (j = 0; j < gr.n_members; j++)
				(void)mn_nssmap_group_member(m, &gr, j, &s, &len);
	}
	for (i = 0; i < 8; i++) {
		(void)mn_nssmap_user_by_uid(
		    m, (uint32_t[]){5001, 5002, 70000, 1, 0, 65534, 99999, UINT32_MAX}[i], &pw);
		(void)mn_nssmap_group_by_gid(
		    m, (uint32_t[]){5001, 6000, 6001, 1, 0, 65534, 7, UINT32_MAX}[i], &gr);
	}
	for (i = 0; i < 5; i++) {
		if (mn_nssmap_user_at(m, i, &pw) == 0)
			for (j = 0; j < pw.n_groups; j++)
				(void)mn_nssmap_user_group(m, &pw, j, &gid);
		if (mn_nssmap_group_at(m, i, &gr) == 0)
			for (j = 0; j < gr.n_members; j++)
				(void)mn_nssmap_group_member(m, &gr, j, &s, &len);
	}
}

static void test_roundtrip(void **state)
{
	struct fx *f = *state;
	struct mn_nssmap m;
	struct mn_nssmap_pw pw;
	struct mn_nssmap_gr gr;
	struct stat st;
	size_t nu, ng, len;
	time_t exp = 1;
	uint32_t gid;
	const char *s;
	char err[256];
	mode_t old = umask(077);

	assert_int_equal(mn_nssmap_write(f->path, USERS, 3, GROUPS, 3, 0, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* whatever the umask */
	assert_int_equal(mn_nssmap_check(f->path, &nu, &ng, &exp, err, sizeof(err)), 0);
	assert_int_equal(nu, 3);
	assert_int_equal(ng, 3);
	assert_int_equal(exp, 0);

	assert_int_equal(mn_nssmap_map_file(f->path, &m, &st, NULL, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_user_by_name(&m, "taro", &pw), 0);
	assert_string_equal(pw.name, "taro");
	assert_int_equal(pw.uid, 5001);
	assert_int_equal(pw.gid, 5001);
	assert_string_equal(pw.gecos, "Yamada Taro,Room 1");
	assert_string_equal(pw.home, "/home/taro");
	assert_string_equal(pw.shell, "/bin/bash");
	assert_int_equal(pw.n_groups, 2); /* kiosk (its primary group too) and staff */
	assert_int_equal(mn_nssmap_user_group(&m, &pw, 0, &gid), 0);
	assert_int_equal(gid, 5001);
	assert_int_equal(mn_nssmap_user_group(&m, &pw, 1, &gid), 0);
	assert_int_equal(gid, 6000);
	assert_int_equal(mn_nssmap_user_by_name(&m, "jiro.s-2", &pw), 0);
	assert_int_equal(pw.n_groups, 0);
	assert_int_equal(mn_nssmap_user_by_uid(&m, 5002, &pw), 0);
	assert_string_equal(pw.name, "hanako");
	assert_string_equal(pw.gecos, "");
	assert_int_equal(mn_nssmap_user_by_uid(&m, 70000, &pw), 0);
	assert_string_equal(pw.name, "jiro.s-2");
	/* misses, and keys that never reach the map */
	assert_int_equal(mn_nssmap_user_by_name(&m, "tar", &pw), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_user_by_name(&m, "taroo", &pw), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_user_by_name(&m, "", &pw), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_user_by_name(&m, "ta:ro", &pw), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_user_by_uid(&m, 0, &pw), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_user_by_uid(&m, 5003, &pw), MN_ERR_NOT_FOUND);
	/* enumeration in uid order */
	assert_int_equal(mn_nssmap_user_at(&m, 0, &pw), 0);
	assert_string_equal(pw.name, "taro");
	assert_int_equal(mn_nssmap_user_at(&m, 2, &pw), 0);
	assert_string_equal(pw.name, "jiro.s-2");
	assert_int_equal(mn_nssmap_user_at(&m, 3, &pw), MN_ERR_NOT_FOUND);
	/* groups */
	assert_int_equal(mn_nssmap_group_by_name(&m, "kiosk", &gr), 0);
	assert_int_equal(gr.gid, 5001);
	assert_int_equal(gr.n_members, 2);
	assert_int_equal(mn_nssmap_group_member(&m, &gr, 0, &s, &len), 0);
	assert_string_equal(s, "taro");
	assert_int_equal(mn_nssmap_group_member(&m, &gr, 1, &s, &len), 0);
	assert_string_equal(s, "hanako");
	assert_int_equal(len, 6);
	assert_int_equal(mn_nssmap_group_member(&m, &gr, 2, &s, &len), MN_ERR_FORMAT);
	assert_int_equal(mn_nssmap_group_by_gid(&m, 6001, &gr), 0);
	assert_string_equal(gr.name, "empty");
	assert_int_equal(gr.n_members, 0);
	assert_int_equal(mn_nssmap_group_by_gid(&m, 6002, &gr), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_group_at(&m, 0, &gr), 0);
	assert_string_equal(gr.name, "kiosk");
	assert_int_equal(mn_nssmap_group_at(&m, 3, &gr), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nssmap_expired(&m, time(NULL)), 0);
	mn_nssmap_unmap(&m);

	/* an empty map is a valid map */
	assert_int_equal(mn_nssmap_write(f->path, NULL, 0, NULL, 0, 0, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_check(f->path, &nu, &ng, NULL, err, sizeof(err)), 0);
	assert_int_equal(nu + ng, 0);
}

/* One invalid input per case: each must be refused with its reason. */
static void test_writer_validation(void **state)
{
	static const char *const ghost[] = {"ghost"};
	static const char *const twice[] = {"taro", "taro"};
	static const char *const bad_member[] = {"ta ro"};
	struct ucase {
		struct mn_nss_user u;
		const char *why;
	} ucases[] = {
	    {{"", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{NULL, 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{".taro", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{"-taro", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{"ta ro", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{"ta:ro", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{"t\xc3\xa4ro", 5001, 5001, "", "/h", "/bin/sh"}, "invalid name"},
	    {{"abcdefghijabcdefghijabcdefghijabc", 5001, 5001, "", "/h", "/bin/sh"},
	     "invalid name"},
	    {{"taro", 0, 5001, "", "/h", "/bin/sh"}, "invalid uid"},
	    {{"taro", 65534, 5001, "", "/h", "/bin/sh"}, "invalid uid"},
	    {{"taro", UINT32_MAX, 5001, "", "/h", "/bin/sh"}, "invalid uid"},
	    {{"taro", 5001, 0, "", "/h", "/bin/sh"}, "invalid gid"},
	    {{"taro", 5001, 65534, "", "/h", "/bin/sh"}, "invalid gid"},
	    {{"taro", 5001, 5001, "a:b", "/h", "/bin/sh"}, "invalid gecos"},
	    {{"taro", 5001, 5001, "a\nb", "/h", "/bin/sh"}, "invalid gecos"},
	    {{"taro", 5001, 5001, "a\x7f", "/h", "/bin/sh"}, "invalid gecos"},
	    {{"taro", 5001, 5001, NULL, "/h", "/bin/sh"}, "invalid gecos"},
	    {{"taro", 5001, 5001, "", "home/taro", "/bin/sh"}, "invalid home"},
	    {{"taro", 5001, 5001, "", "", "/bin/sh"}, "invalid home"},
	    {{"taro", 5001, 5001, "", "/h:x", "/bin/sh"}, "invalid home"},
	    {{"taro", 5001, 5001, "", "/h", NULL}, "invalid shell"},
	    {{"taro", 5001, 5001, "", "/h", "/bin/\tsh"}, "invalid shell"},
	    {{"taro", 5001, 5001, "", "/h", "sh"}, "invalid shell"},
	};
	struct gcase {
		struct mn_nss_group g;
		const char *why;
	} gcases[] = {
	    {{"", 7000, NULL, 0}, "invalid name"},
	    {{"bad/name", 7000, NULL, 0}, "invalid name"},
	    {{"g", 0, NULL, 0}, "invalid gid"},
	    {{"g", 65534, NULL, 0}, "invalid gid"},
	    {{"g", 7000, NULL, 1}, "no member array"},
	    {{"g", 7000, ghost, 1}, "member ghost is not a user"},
	    {{"g", 7000, bad_member, 1}, "(invalid name)"},
	    {{"g", 7000, twice, 2}, "listed twice"},
	    {{"kiosk", 7000, NULL, 0}, "duplicate group name kiosk"},
	    {{"g", 6000, NULL, 0}, "duplicate gid 6000"},
	};
	struct mn_nss_user users[4];
	struct mn_nss_group groups[4];
	char gecos[MN_NSSMAP_GECOS_MAX + 2];
	unsigned char *img;
	size_t len, i;
	char err[256];

	for (i = 0; i < sizeof(ucases) / sizeof(ucases[0]); i++) {
		memcpy(users, USERS, sizeof(USERS));
		users[1] = ucases[i].u; /* in place of hanako */
		users[1].name = users[1].name != NULL && strcmp(users[1].name, "taro") == 0
		                    ? "hanako"
		                    : users[1].name;
		err[0] = '\0';
		assert_int_equal(
		    mn_nssmap_build(users, 3, NULL, 0, 0, &img, &len, err, sizeof(err)),
		    MN_ERR_FORMAT);
		if (strstr(err, ucases[i].why) == NULL)
			fail_msg("user case %zu: \"%s\" does not say \"%s\"", i, err,
			         ucases[i].why);
	}
	memcpy(users, USERS, sizeof(USERS));
	users[2].name = "taro";
	assert_int_equal(mn_nssmap_build(users, 3, NULL, 0, 0, &img, &len, err, sizeof(err)),
	                 MN_ERR_FORMAT);
	assert_non_null(strstr(err, "duplicate user name taro"));
	memcpy(users, USERS, sizeof(USERS));
	users[2].uid = 5001;
	assert_int_equal(mn_nssmap_build(users, 3, NULL, 0, 0, &img, &len, err, sizeof(err)),
	                 MN_ERR_FORMAT);
	assert_non_null(strstr(err, "duplicate uid 5001"));
	memcpy(users, USERS, sizeof(USERS));
	memset(gecos, 'g', sizeof(gecos) - 1);
	gecos[sizeof(gecos) - 1] = '\0';
	users[2].gecos = gecos;
	assert_int_equal(mn_nssmap_build(users, 3, NULL, 0, 0, &img, &len, err, sizeof(err)),
	                 MN_ERR_FORMAT);
	gecos[MN_NSSMAP_GECOS_MAX] = '\0'; /* the longest allowed */
	assert_int_equal(mn_nssmap_build(users, 3, NULL, 0, 0, &img, &len, err, sizeof(err)), 0);
	free(img);

	for (i = 0; i < sizeof(gcases) / sizeof(gcases[0]); i++) {
		memcpy(groups, GROUPS, sizeof(GROUPS));
		groups[3] = gcases[i].g;
		err[0] = '\0';
		assert_int_equal(
		    mn_nssmap_build(USERS, 3, groups, 4, 0, &img, &len, err, sizeof(err)),
		    MN_ERR_FORMAT);
		if (strstr(err, gcases[i].why) == NULL)
			fail_msg("group case %zu: \"%s\" does not say \"%s\"", i, err,
			         gcases[i].why);
	}
	/* misuse */
	assert_int_equal(mn_nssmap_build(NULL, 1, NULL, 0, 0, &img, &len, err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_nssmap_build(USERS, 3, NULL, 1, 0, &img, &len, err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_nssmap_build(USERS, 3, NULL, 0, -1, &img, &len, err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_nssmap_write(NULL, USERS, 3, NULL, 0, 0, err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	/* I/O: a directory that does not exist */
	assert_int_equal(
	    mn_nssmap_write("/nonexistent-dir/nss.db", USERS, 3, NULL, 0, 0, err, sizeof(err)),
	    MN_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent-dir/nss.db"));
}

/* Truncated at every length: always an error, never a read past the (exact) allocation. */
static void test_truncated(void **state)
{
	struct fx *f = *state;
	struct mn_nssmap m;
	unsigned char *img, *cut;
	size_t len, n;
	char err[256];
	FILE *fp;

	build(&img, &len, 0);
	for (n = 0; n < len; n++) {
		cut = malloc(n + 1);
		assert_non_null(cut);
		memcpy(cut, img, n);
		err[0] = '\0';
		assert_int_not_equal(mn_nssmap_open_mem(&m, n ? cut : NULL, n, err, sizeof(err)),
		                     0);
		assert_true(err[0] != '\0');
		free(cut);
		/* and as a file, through the checker */
		fp = fopen(f->path, "wb");
		assert_non_null(fp);
		assert_int_equal(fwrite(img, 1, n, fp), n);
		assert_int_equal(fclose(fp), 0);
		chmod(f->path, 0644);
		err[0] = '\0';
		assert_int_not_equal(mn_nssmap_check(f->path, NULL, NULL, NULL, err, sizeof(err)),
		                     0);
		assert_non_null(strstr(err, f->path));
	}
	/* one byte too many */
	cut = malloc(len + 1);
	memcpy(cut, img, len);
	cut[len] = 0;
	assert_int_equal(mn_nssmap_open_mem(&m, cut, len + 1, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "trailing"));
	free(cut);
	free(img);
}

/*
 * Random byte changes (fixed seed): the checker must refuse every one (checksum), and with
 * the checksum recomputed (a hostile map) the structural checks must hold and the lookups
 * must stay inside the map, whatever they answer.
 */
static void test_byte_flips(void **state)
{
	struct mn_nssmap m;
	unsigned char *img, *bad;
	size_t len;
	unsigned seed = 20240601;
	char err[256];
	int i, refused = 0, still_valid = 0;

	build(&img, &len, 0);
	bad = malloc(len);
	assert_non_null(bad);
	for (i = 0; i < 20000; i++) {
		size_t pos = (size_t)rand_r(&seed) % len;
		int flips = 1 + rand_r(&seed) % 3;

		memcpy(bad, img, len);
		for (int k = 0; k < flips; k++) {
			bad[pos] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
			pos = (pos + (size_t)rand_r(&seed) % 16) % len;
		}
		if (memcmp(bad, img, len) == 0)
			continue;
		if (mn_nssmap_open_mem(&m, bad, len, err, sizeof(err)) == 0) {
			assert_int_not_equal(mn_nssmap_verify(&m, err, sizeof(err)), 0);
			touch_everything(&m);
		}
		fix_checksum(bad, len);
		if (mn_nssmap_open_mem(&m, bad, len, err, sizeof(err)) == 0) {
			if (mn_nssmap_verify(&m, err, sizeof(err)) == 0)
				still_valid++; /* e.g. a gecos letter changed */
			else
				refused++;
			touch_everything(&m);
		} else {
			refused++;
		}
	}
	print_message("hostile maps: %d refused, %d still valid\n", refused, still_valid);
	assert_true(refused > 1000);
	free(bad);
	free(img);
}

/* Offsets and counts pointing outside, with a correct checksum: clear errors, no crash. */
static void test_hostile_offsets(void **state)
{
	struct {
		size_t field;   /* byte offset in the file (header) or -1: in the first user */
		uint32_t value; /* value written */
		int open_fails; /* 1: open_mem refuses; 0: lookups/verify must */
	} cases[] = {
	    {36, UINT32_MAX, 1},     /* n_users huge */
	    {40, UINT32_MAX, 1},     /* n_groups huge */
	    {36, 0x08000001u, 1},    /* n_users x 32 wraps 32 bits */
	    {44, UINT32_MAX - 8, 1}, /* users_off near 4 GiB */
	    {44, 0, 1},              /* users table over the header */
	    {60, UINT32_MAX, 1},     /* data_off outside */
	    {60, 16, 1},             /* data_off inside the header */
	    {48, 64, 1},             /* uid index overlapping the user table */
	    {12, 1, 1},              /* unknown flag */
	    {8, 2, 1},               /* future version */
	    {32, 1u << 30, 1},       /* total size larger than the file */
	};
	struct mn_nssmap m;
	struct mn_nssmap_pw pw;
	struct mn_nssmap_gr gr;
	unsigned char *img, *bad;
	size_t len, i;
	uint32_t users_off, data_off, data_len, groups_off;
	char err[256];

	build(&img, &len, 0);
	bad = malloc(len);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, img, len);
		put32(bad + cases[i].field, cases[i].value);
		fix_checksum(bad, len);
		err[0] = '\0';
		assert_int_not_equal(mn_nssmap_open_mem(&m, bad, len, err, sizeof(err)), 0);
		assert_true(err[0] != '\0');
	}
	users_off = get32(img + 44);
	groups_off = get32(img + 52);
	data_off = get32(img + 60);
	data_len = (uint32_t)len - data_off;
	/* record fields pointing past the data area, at binary bytes, or at lists running past the
	 * end */
	struct {
		size_t at;
		uint32_t value;
	} rec[] = {
	    {users_off + 0, data_len},
	    {users_off + 0, UINT32_MAX},
	    {users_off + 12, data_len - 4},
	    {users_off + 16, data_len + 100},
	    {users_off + 24, data_len - 2},
	    {groups_off + 0, UINT32_MAX},
	    {groups_off + 8, data_len - 3},
	    {users_off + 4, 0},
	    {users_off + 28, 1},
	    {groups_off + 4, 65534},
	};
	for (i = 0; i < sizeof(rec) / sizeof(rec[0]); i++) {
		memcpy(bad, img, len);
		put32(bad + rec[i].at, rec[i].value);
		fix_checksum(bad, len);
		assert_int_equal(mn_nssmap_open_mem(&m, bad, len, err, sizeof(err)), 0);
		err[0] = '\0';
		assert_int_not_equal(mn_nssmap_verify(&m, err, sizeof(err)), 0);
		assert_true(err[0] != '\0');
		touch_everything(&m);
	}
	/* a member list count running past the end */
	memcpy(bad, img, len);
	assert_int_equal(mn_nssmap_open_mem(&m, bad, len, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_group_by_name(&m, "kiosk", &gr), 0);
	put32(bad + data_off + gr.members, UINT32_MAX);
	assert_int_equal(mn_nssmap_group_by_name(&m, "kiosk", &gr), MN_ERR_FORMAT);
	/* a user list count running past the end */
	memcpy(bad, img, len);
	assert_int_equal(mn_nssmap_user_by_name(&m, "taro", &pw), 0);
	put32(bad + data_off + pw.groups, 0x40000000u);
	assert_int_equal(mn_nssmap_user_by_name(&m, "taro", &pw), MN_ERR_FORMAT);
	/* uid index entry out of range */
	memcpy(bad, img, len);
	put32(bad + get32(img + 48), 77);
	assert_int_not_equal(mn_nssmap_user_by_uid(&m, 5001, &pw), 0);
	assert_int_equal(mn_nssmap_user_at(&m, 0, &pw), MN_ERR_FORMAT);
	free(bad);
	free(img);
}

static void test_expires(void **state)
{
	struct fx *f = *state;
	struct mn_nssmap m;
	time_t now = time(NULL), exp;
	char err[256];

	assert_int_equal(mn_nssmap_write(f->path, USERS, 3, GROUPS, 3, now - 10, err, sizeof(err)),
	                 0);
	/* an expired map is still a valid map: the checker reports the time */
	assert_int_equal(mn_nssmap_check(f->path, NULL, NULL, &exp, err, sizeof(err)), 0);
	assert_int_equal(exp, now - 10);
	assert_int_equal(mn_nssmap_map_file(f->path, &m, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_expired(&m, now), 1);
	assert_int_equal(mn_nssmap_expired(&m, now - 10), 0); /* "after" */
	mn_nssmap_unmap(&m);
	assert_int_equal(
	    mn_nssmap_write(f->path, USERS, 3, GROUPS, 3, now + 3600, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_map_file(f->path, &m, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_expired(&m, now), 0);
	assert_int_equal(mn_nssmap_expired(&m, now + 3601), 1);
	mn_nssmap_unmap(&m);
}

static void test_file_refusals(void **state)
{
	struct fx *f = *state;
	struct mn_nssmap m;
	char err[256], link[80];
	int e = 0;

	assert_int_equal(mn_nssmap_map_file(f->path, &m, NULL, &e, err, sizeof(err)),
	                 MN_ERR_NOT_FOUND);
	assert_int_equal(e, ENOENT);
	assert_int_equal(mn_nssmap_write(f->path, USERS, 3, GROUPS, 3, 0, err, sizeof(err)), 0);
	snprintf(link, sizeof(link), "%s/link.db", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(mn_nssmap_check(link, NULL, NULL, NULL, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(mn_nssmap_check(f->path, NULL, NULL, NULL, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "writable"));
	assert_int_equal(chmod(f->path, 0664), 0);
	assert_int_equal(mn_nssmap_check(f->path, NULL, NULL, NULL, err, sizeof(err)), MN_ERR_IO);
	assert_int_equal(chmod(f->path, 0600), 0); /* stricter is fine */
	assert_int_equal(mn_nssmap_check(f->path, NULL, NULL, NULL, err, sizeof(err)), 0);
	assert_int_equal(mn_nssmap_check(f->dir, NULL, NULL, NULL, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "not a regular file"));
}

static void test_names(void **state)
{
	assert_true(mn_nssmap_name_ok("a"));
	assert_true(mn_nssmap_name_ok("_a.b-c9"));
	assert_true(mn_nssmap_name_ok("abcdefghijabcdefghijabcdefghijab")); /* 32 */
	assert_false(mn_nssmap_name_ok("abcdefghijabcdefghijabcdefghijabc"));
	assert_false(mn_nssmap_name_ok(""));
	assert_false(mn_nssmap_name_ok(NULL));
	assert_false(mn_nssmap_name_ok("9 "));
	assert_false(mn_nssmap_name_ok("a/b"));
	assert_false(mn_nssmap_name_ok("+nis"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test(test_writer_validation),
	    cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	    cmocka_unit_test(test_byte_flips),
	    cmocka_unit_test(test_hostile_offsets),
	    cmocka_unit_test_setup_teardown(test_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_refusals, setup, teardown),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
