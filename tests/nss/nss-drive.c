/*
 * Drives libnss_mynumber.so.2 directly (dlopen, the _nss_mynumber_* entry points) for
 * tests/integration/test-nss.sh:
 *   nss-drive SO status NAME         getpwnam_r: prints "STATUS errno=E" (NAME or #UID)
 *   nss-drive SO smallbuf USER GROUP buffers growing from 1 byte: getpwnam_r(USER),
 *                                    getgrnam_r(GROUP), the whole getpwent_r/getgrent_r
 *                                    enumeration; TRYAGAIN/ERANGE until it fits, then the
 *                                    same entry as with a large buffer
 *   nss-drive SO initgroups USER PRIMARY LIMIT
 *                                    prints the gids initgroups_dyn gives
 *   nss-drive SO threads MAP N       8 threads x 10000 random lookups in a map made by
 *                                    "nssmap-tool gen N", while the map is republished
 * errno must survive every call. Exit 0 when everything matched, 1 otherwise.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_file.h"

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);
typedef enum nss_status (*setent_fn)(int);
typedef enum nss_status (*endent_fn)(void);
typedef enum nss_status (*initgr_fn)(const char *, gid_t, long int *, long int *, gid_t **,
                                     long int, int *);

static struct {
	pwnam_fn getpwnam_r;
	pwuid_fn getpwuid_r;
	grnam_fn getgrnam_r;
	grgid_fn getgrgid_r;
	pwent_fn getpwent_r;
	grent_fn getgrent_r;
	setent_fn setpwent, setgrent;
	endent_fn endpwent, endgrent;
	initgr_fn initgroups_dyn;
} F;

#define SENTINEL 4711 /* errno value every call must leave alone */

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "FAIL: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	failures++;
}

static const char *st_name(enum nss_status s)
{
	switch (s) {
	case NSS_STATUS_SUCCESS:
		return "SUCCESS";
	case NSS_STATUS_NOTFOUND:
		return "NOTFOUND";
	case NSS_STATUS_TRYAGAIN:
		return "TRYAGAIN";
	case NSS_STATUS_UNAVAIL:
		return "UNAVAIL";
	default:
		return "OTHER";
	}
}

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	if (p == NULL) {
		fprintf(stderr, "missing %s\n", name);
		exit(1);
	}
	return p;
}

static void load(const char *so)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);

	if (h == NULL) {
		fprintf(stderr, "%s\n", dlerror());
		exit(1);
	}
	F.getpwnam_r = (pwnam_fn)sym(h, "_nss_mynumber_getpwnam_r");
	F.getpwuid_r = (pwuid_fn)sym(h, "_nss_mynumber_getpwuid_r");
	F.getgrnam_r = (grnam_fn)sym(h, "_nss_mynumber_getgrnam_r");
	F.getgrgid_r = (grgid_fn)sym(h, "_nss_mynumber_getgrgid_r");
	F.getpwent_r = (pwent_fn)sym(h, "_nss_mynumber_getpwent_r");
	F.getgrent_r = (grent_fn)sym(h, "_nss_mynumber_getgrent_r");
	F.setpwent = (setent_fn)sym(h, "_nss_mynumber_setpwent");
	F.setgrent = (setent_fn)sym(h, "_nss_mynumber_setgrent");
	F.endpwent = (endent_fn)sym(h, "_nss_mynumber_endpwent");
	F.endgrent = (endent_fn)sym(h, "_nss_mynumber_endgrent");
	F.initgroups_dyn = (initgr_fn)sym(h, "_nss_mynumber_initgroups_dyn");
}

static void pw_line(const struct passwd *p, char *out, size_t n)
{
	snprintf(out, n, "%s:%s:%u:%u:%s:%s:%s", p->pw_name, p->pw_passwd, (unsigned)p->pw_uid,
	         (unsigned)p->pw_gid, p->pw_gecos, p->pw_dir, p->pw_shell);
}

static void gr_line(const struct group *g, char *out, size_t n)
{
	size_t l =
	    (size_t)snprintf(out, n, "%s:%s:%u:", g->gr_name, g->gr_passwd, (unsigned)g->gr_gid);
	for (char **m = g->gr_mem; *m != NULL && l < n; m++)
		l += (size_t)snprintf(out + l, n - l, "%s%s", m == g->gr_mem ? "" : ",", *m);
}

static int cmd_status(const char *key)
{
	struct passwd pw;
	char buf[4096];
	int e = 0;
	enum nss_status s;

	errno = SENTINEL;
	if (key[0] == '#')
		s = F.getpwuid_r((uid_t)strtoul(key + 1, NULL, 10), &pw, buf, sizeof(buf), &e);
	else
		s = F.getpwnam_r(key, &pw, buf, sizeof(buf), &e);
	if (errno != SENTINEL)
		fail("%s: errno changed to %d", key, errno);
	printf("%s errno=%s\n", st_name(s),
	       e == ENOENT   ? "ENOENT"
	       : e == ERANGE ? "ERANGE"
	       : e == 0      ? "0"
	                     : "other");
	if (s == NSS_STATUS_SUCCESS) {
		char line[8192];
		pw_line(&pw, line, sizeof(line));
		printf("%s\n", line);
	}
	return failures != 0;
}

/*
 * call(ent, buf, len, &e) with len = 1, 2, ...: until it succeeds each answer must be
 * TRYAGAIN/ERANGE, and the result must equal want. Returns the length that fitted.
 */
enum kind { K_PWNAM, K_GRNAM, K_PWENT, K_GRENT };

static size_t grow(enum kind k, const char *key, const char *want)
{
	char line[65536];
	size_t len;

	for (len = 1; len < 1 << 20; len++) {
		char *buf = malloc(len);
		struct passwd pw;
		struct group gr;
		enum nss_status s;
		int e = 0;

		errno = SENTINEL;
		switch (k) {
		case K_PWNAM:
			s = F.getpwnam_r(key, &pw, buf, len, &e);
			break;
		case K_GRNAM:
			s = F.getgrnam_r(key, &gr, buf, len, &e);
			break;
		case K_PWENT:
			s = F.getpwent_r(&pw, buf, len, &e);
			break;
		default:
			s = F.getgrent_r(&gr, buf, len, &e);
			break;
		}
		if (errno != SENTINEL)
			fail("%s: errno changed to %d", key, errno);
		if (s == NSS_STATUS_SUCCESS) {
			if (k == K_PWNAM || k == K_PWENT)
				pw_line(&pw, line, sizeof(line));
			else
				gr_line(&gr, line, sizeof(line));
			if (strcmp(line, want) != 0)
				fail("%s: got a different entry after growing (len %zu)", key, len);
			free(buf);
			return len;
		}
		free(buf);
		if (s != NSS_STATUS_TRYAGAIN || e != ERANGE) {
			fail("%s: %s/%d with a small buffer (len %zu), not TRYAGAIN/ERANGE", key,
			     st_name(s), e, len);
			return 0;
		}
	}
	fail("%s: never fitted", key);
	return 0;
}

static int cmd_smallbuf(const char *user, const char *group)
{
	static char big[1 << 20];
	char want[65536], **ents = NULL;
	struct passwd pw;
	struct group gr;
	size_t n = 0, i, len;
	int e;

	if (F.getpwnam_r(user, &pw, big, sizeof(big), &e) != NSS_STATUS_SUCCESS) {
		fail("%s: not found with a large buffer", user);
		return 1;
	}
	pw_line(&pw, want, sizeof(want));
	len = grow(K_PWNAM, user, want);
	printf("getpwnam_r %s: fits in %zu bytes\n", user, len);
	if (F.getgrnam_r(group, &gr, big, sizeof(big), &e) != NSS_STATUS_SUCCESS) {
		fail("%s: not found with a large buffer", group);
		return 1;
	}
	gr_line(&gr, want, sizeof(want));
	len = grow(K_GRNAM, group, want);
	printf("getgrnam_r %s: fits in %zu bytes\n", group, len);

	for (int g = 0; g < 2; g++) {
		/* the enumeration with a large buffer, then again from 1 byte per entry */
		(g ? F.setgrent : F.setpwent)(1);
		for (n = 0;; n++) {
			enum nss_status s = g ? F.getgrent_r(&gr, big, sizeof(big), &e)
			                      : F.getpwent_r(&pw, big, sizeof(big), &e);
			if (s != NSS_STATUS_SUCCESS)
				break;
			if ((ents = realloc(ents, (n + 1) * sizeof(*ents))) == NULL)
				return 1;
			if (g)
				gr_line(&gr, want, sizeof(want));
			else
				pw_line(&pw, want, sizeof(want));
			ents[n] = strdup(want);
		}
		(g ? F.endgrent : F.endpwent)();
		(g ? F.setgrent : F.setpwent)(1);
		for (i = 0; i < n; i++)
			grow(g ? K_GRENT : K_PWENT, ents[i], ents[i]);
		if ((g ? F.getgrent_r(&gr, big, sizeof(big), &e)
		       : F.getpwent_r(&pw, big, sizeof(big), &e)) != NSS_STATUS_NOTFOUND ||
		    e != ENOENT)
			fail("%s: enumeration does not end with NOTFOUND/ENOENT", g ? "gr" : "pw");
		(g ? F.endgrent : F.endpwent)();
		printf("%s: %zu entries enumerated with growing buffers\n",
		       g ? "getgrent_r" : "getpwent_r", n);
		for (i = 0; i < n; i++)
			free(ents[i]);
	}
	free(ents);
	return failures != 0;
}

static int cmd_initgroups(const char *user, gid_t primary, long limit)
{
	long start = 1, size = 1;
	gid_t *groups = malloc(sizeof(*groups));
	int e = 0;
	enum nss_status s;

	if (groups == NULL)
		return 1;
	groups[0] = primary;
	errno = SENTINEL;
	s = F.initgroups_dyn(user, primary, &start, &size, &groups, limit, &e);
	if (errno != SENTINEL)
		fail("%s: errno changed to %d", user, errno);
	printf("%s", st_name(s));
	for (long i = 0; i < start; i++)
		printf(" %u", (unsigned)groups[i]);
	printf("\n");
	if (start > size || (limit > 0 && size > limit))
		fail("%s: start/size out of contract (size %ld)", user, size);
	free(groups);
	return failures != 0;
}

/* ---------------------------------------------------------------- threads */

struct tctx {
	unsigned seed;
	unsigned long n, bad, lookups;
};

static volatile int stop_republish;
static const char *map_path;

static void *reader(void *arg)
{
	struct tctx *t = arg;
	char buf[2048], want[64];
	struct passwd pw;
	struct group gr;
	int e;

	for (int k = 0; k < 10000; k++) {
		unsigned long i = (unsigned long)rand_r(&t->seed) % (t->n + t->n / 10 + 1);
		int hit = i < t->n, ok;
		enum nss_status s;

		snprintf(want, sizeof(want), "mn%06lu", i);
		switch (k % 3) {
		case 0:
			s = F.getpwnam_r(want, &pw, buf, sizeof(buf), &e);
			ok = hit ? s == NSS_STATUS_SUCCESS && pw.pw_uid == 200000 + i &&
			               pw.pw_gid == 300000 + i / 100 &&
			               strcmp(pw.pw_dir + 6, want) == 0
			         : s == NSS_STATUS_NOTFOUND && e == ENOENT;
			break;
		case 1:
			s = F.getpwuid_r((uid_t)(200000 + i), &pw, buf, sizeof(buf), &e);
			ok = hit ? s == NSS_STATUS_SUCCESS && strcmp(pw.pw_name, want) == 0
			         : s == NSS_STATUS_NOTFOUND && e == ENOENT;
			break;
		default:
			s = F.getgrgid_r((gid_t)(300000 + i / 100), &gr, buf, sizeof(buf), &e);
			ok = i / 100 < (t->n + 99) / 100
			         ? s == NSS_STATUS_SUCCESS && gr.gr_gid == 300000 + i / 100 &&
			               (hit ? strcmp(gr.gr_mem[i % 100], want) == 0 : 1)
			         : s == NSS_STATUS_NOTFOUND;
			break;
		}
		t->lookups++;
		if (!ok)
			t->bad++;
	}
	return NULL;
}

static void *republisher(void *arg)
{
	char *data = NULL, err[256];
	size_t len = 0;
	FILE *f = fopen(map_path, "rb");
	long n = 0;

	if (f == NULL)
		return NULL;
	data = malloc(256u << 20);
	if (data != NULL)
		len = fread(data, 1, 256u << 20, f);
	fclose(f);
	/* the same content under a new inode each time: every reader must reload and agree */
	while (data != NULL && !stop_republish) {
		if (mn_file_write_atomic(map_path, data, len, 0644, err, sizeof(err)) != 0) {
			fprintf(stderr, "republish: %s\n", err);
			break;
		}
		n++;
		usleep(2000);
	}
	free(data);
	*(long *)arg = n;
	return NULL;
}

static int cmd_threads(const char *map, unsigned long n)
{
	pthread_t th[8], rp;
	struct tctx t[8];
	unsigned long bad = 0, total = 0;
	long republished = 0;

	map_path = map;
	if (pthread_create(&rp, NULL, republisher, &republished) != 0)
		return 1;
	for (int i = 0; i < 8; i++) {
		t[i] = (struct tctx){.seed = 1234u + (unsigned)i, .n = n};
		if (pthread_create(&th[i], NULL, reader, &t[i]) != 0)
			return 1;
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		bad += t[i].bad;
		total += t[i].lookups;
	}
	stop_republish = 1;
	pthread_join(rp, NULL);
	printf("%lu lookups in 8 threads, %lu wrong, map republished %ld times\n", total, bad,
	       republished);
	return bad != 0 || total != 80000;
}

int main(int argc, char **argv)
{
	int r = 2;

	if (argc < 3)
		goto usage;
	load(argv[1]);
	if (strcmp(argv[2], "status") == 0 && argc == 4)
		r = cmd_status(argv[3]);
	else if (strcmp(argv[2], "smallbuf") == 0 && argc == 5)
		r = cmd_smallbuf(argv[3], argv[4]);
	else if (strcmp(argv[2], "initgroups") == 0 && argc == 6)
		r = cmd_initgroups(argv[3], (gid_t)strtoul(argv[4], NULL, 10),
		                   strtol(argv[5], NULL, 10));
	else if (strcmp(argv[2], "threads") == 0 && argc == 5)
		r = cmd_threads(argv[3], strtoul(argv[4], NULL, 10));
	else
		goto usage;
	return r;
usage:
	fprintf(stderr, "usage: nss-drive SO status NAME|#UID | smallbuf USER GROUP | "
	                "initgroups USER PRIMARY LIMIT | threads MAP N\n");
	return 2;
}
