/* Where the enrollment records come from: the store file, or the directory and its cache. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_file.h"
#include "mn_ldap.h"
#include "mn_storesrc.h"

#define CACHE_PATH_MAX 4096

static size_t record_count(const struct mn_store *s)
{
	return mn_store_count(s) + mn_store_phone_count(s) + mn_store_account_count(s);
}

/* Decimal seconds since the epoch: 1..19 digits, no leading zero, at most LLONG_MAX. */
static int parse_epoch(const char *p, size_t len, time_t *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 19 || (len > 1 && p[0] == '0'))
		return MN_ERR_FORMAT;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return MN_ERR_FORMAT;
		v = v * 10 + (unsigned long long)(p[i] - '0');
	}
	if (v > (unsigned long long)LLONG_MAX || (time_t)v < 0)
		return MN_ERR_FORMAT;
	*out = (time_t)v;
	return MN_OK;
}

/* The first line of buf: header followed by an epoch. *ret_rest: what follows its LF. */
static int parse_header(const char *buf, size_t len, const char *header, time_t *ret_fetched,
                        size_t *ret_rest)
{
	const char *nl = buf != NULL ? memchr(buf, '\n', len) : NULL;
	size_t hl = strlen(header), ll;

	if (nl == NULL)
		return MN_ERR_FORMAT;
	ll = (size_t)(nl - buf);
	if (ll <= hl || memcmp(buf, header, hl) != 0 ||
	    parse_epoch(buf + hl, ll - hl, ret_fetched) != MN_OK)
		return MN_ERR_FORMAT;
	*ret_rest = ll + 1;
	return MN_OK;
}

int mn_store_cache_parse_marker(const char *buf, size_t len, time_t *ret_fetched)
{
	time_t t;
	size_t rest;

	if (ret_fetched == NULL ||
	    parse_header(buf, len, MN_LDAP_CACHE_FULL_HEADER, &t, &rest) != MN_OK || rest != len)
		return MN_ERR_FORMAT;
	*ret_fetched = t;
	return MN_OK;
}

int mn_store_cache_parse(const char *name, const char *buf, size_t len, const char *user,
                         struct mn_store **ret, time_t *ret_fetched, char *err, size_t errlen)
{
	struct mn_store *s = NULL;
	const char *other = NULL;
	time_t fetched;
	size_t rest, i;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL || user == NULL || ret == NULL || ret_fetched == NULL)
		return MN_ERR_INVALID_ARG;
	if (parse_header(buf, len, MN_LDAP_CACHE_HEADER, &fetched, &rest) != MN_OK) {
		mn_errf(err, errlen, "%s: corrupt cache: the first line is not \"%sEPOCH\"", name,
		        MN_LDAP_CACHE_HEADER);
		return MN_ERR_FORMAT;
	}
	if ((r = mn_store_parse(name, buf + rest, len - rest, &s, err, errlen)) != MN_OK) {
		if (r == MN_ERR_FORMAT && err != NULL && errlen > 0) {
			char why[512];

			snprintf(why, sizeof(why), "%s", err);
			mn_errf(err, errlen, "corrupt cache: %s (line numbers after the first)",
			        why);
		}
		goto out;
	}
	for (i = 0; other == NULL && i < mn_store_count(s); i++)
		if (strcmp(mn_store_at(s, i)->user, user) != 0)
			other = mn_store_at(s, i)->user;
	for (i = 0; other == NULL && i < mn_store_phone_count(s); i++)
		if (strcmp(mn_store_phone_at(s, i)->user, user) != 0)
			other = mn_store_phone_at(s, i)->user;
	for (i = 0; other == NULL && i < mn_store_account_count(s); i++)
		if (strcmp(mn_store_account_at(s, i)->user, user) != 0)
			other = mn_store_account_at(s, i)->user;
	if (other != NULL) {
		mn_errf(err, errlen, "%s: corrupt cache: a record of %s in the file of %s", name,
		        other, user);
		r = MN_ERR_FORMAT;
		goto out;
	}
	*ret = s;
	s = NULL;
	*ret_fetched = fetched;
	r = MN_OK;
out:
	mn_store_free(&s);
	return r;
}

static int fresh(time_t fetched, time_t now, unsigned max_age)
{
	return max_age > 0 && fetched <= now && (unsigned long long)(now - fetched) <= max_age;
}

/* A private directory: owned by root or the euid, no group/other bits; created when asked. */
static int check_dir(const char *path, int create, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT) {
			mn_errf(err, errlen, "%s: %s", path, strerror(errno));
			return MN_ERR_IO;
		}
		if (!create) {
			mn_errf(err, errlen, "%s: no such directory", path);
			return MN_ERR_NOT_FOUND;
		}
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			mn_errf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			return MN_ERR_IO;
		}
		if (lstat(path, &st) != 0) {
			mn_errf(err, errlen, "%s: %s", path, strerror(errno));
			return MN_ERR_IO;
		}
	}
	if (!S_ISDIR(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & 077) != 0) {
		mn_errf(err, errlen,
		        "%s: not a private directory (owned by root, no group or other access)",
		        path);
		return MN_ERR_IO;
	}
	return MN_OK;
}

struct cache {
	const char *dir;
	char udir[CACHE_PATH_MAX];
	char marker[CACHE_PATH_MAX];
	unsigned max_age;
};

static int cache_init(const struct mn_conf *conf, struct cache *c, char *err, size_t errlen)
{
	int n1, n2;

	c->dir = mn_conf_get(conf, "ldap", "cache_dir");
	c->max_age = 86400;
	if (c->dir == NULL || c->dir[0] == '\0' ||
	    mn_conf_get_uint(conf, "ldap", "cache_max_age", &c->max_age) != MN_OK) {
		mn_errf(err, errlen, "[ldap] cache settings missing");
		return MN_ERR_INVALID_ARG;
	}
	n1 = snprintf(c->udir, sizeof(c->udir), "%s/u", c->dir);
	n2 = snprintf(c->marker, sizeof(c->marker), "%s/full", c->dir);
	if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(c->udir) - 40 ||
	    (size_t)n2 >= sizeof(c->marker)) {
		mn_errf(err, errlen, "[ldap] cache_dir is too long");
		return MN_ERR_INVALID_ARG;
	}
	return MN_OK;
}

/* cache_init left room for any user name: a failure here is not expected */
static int user_path(const struct cache *c, const char *user, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", c->udir, user);

	return n < 0 || (size_t)n >= cap ? MN_ERR_TOO_LARGE : MN_OK;
}

/* Create cache_dir and cache_dir/u when missing and check both. */
static int cache_prepare(const struct cache *c, char *err, size_t errlen)
{
	int r;

	if ((r = check_dir(c->dir, 1, err, errlen)) != MN_OK)
		return r;
	return check_dir(c->udir, 1, err, errlen);
}

static int cache_write_user(const struct cache *c, const char *user, const struct mn_store *s,
                            time_t now, char *err, size_t errlen)
{
	char path[CACHE_PATH_MAX], head[96], *text = NULL, *buf = NULL;
	size_t tlen = 0, hlen;
	int r;

	if ((r = user_path(c, user, path, sizeof(path))) != MN_OK) {
		mn_errf(err, errlen, "cache path too long");
		return r;
	}
	if (record_count(s) == 0) {
		if (unlink(path) != 0 && errno != ENOENT) {
			mn_errf(err, errlen, "%s: cannot remove: %s", path, strerror(errno));
			return MN_ERR_IO;
		}
		return MN_OK;
	}
	if ((r = mn_store_format(s, &text, &tlen)) != MN_OK) {
		mn_errf(err, errlen, "%s: cannot format the records", path);
		return r;
	}
	hlen =
	    (size_t)snprintf(head, sizeof(head), "%s%lld\n", MN_LDAP_CACHE_HEADER, (long long)now);
	if ((buf = malloc(hlen + tlen)) == NULL) {
		mn_errf(err, errlen, "out of memory");
		r = MN_ERR_NOMEM;
		goto out;
	}
	memcpy(buf, head, hlen);
	memcpy(buf + hlen, text, tlen);
	r = mn_file_write_atomic(path, buf, hlen + tlen, 0600, err, errlen);
out:
	free(buf);
	free(text);
	return r;
}

/* Read and check one cache file; MN_ERR_NOT_FOUND when it is missing. */
static int cache_read_user(const struct cache *c, const char *user, struct mn_store **ret,
                           time_t *ret_fetched, char *err, size_t errlen)
{
	char path[CACHE_PATH_MAX], *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = user_path(c, user, path, sizeof(path))) != MN_OK) {
		mn_errf(err, errlen, "cache path too long");
		return r;
	}
	if ((r = mn_file_read_private(path, MN_LDAP_CACHE_MAX, 077, &buf, &len, err, errlen)) !=
	    MN_OK)
		return r;
	r = mn_store_cache_parse(path, buf, len, user, ret, ret_fetched, err, errlen);
	free(buf);
	return r;
}

/* The full marker's fetch time; MN_ERR_NOT_FOUND when there is none. */
static int cache_read_marker(const struct cache *c, time_t *ret, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if ((r = mn_file_read_private(c->marker, 4096, 077, &buf, &len, err, errlen)) != MN_OK)
		return r;
	if (mn_store_cache_parse_marker(buf, len, ret) != MN_OK) {
		mn_errf(err, errlen, "%s: corrupt cache: not a full-fetch marker", c->marker);
		r = MN_ERR_FORMAT;
	}
	free(buf);
	return r;
}

/* Copy every record of src into dst (new ids); records dst refuses are counted in *skipped. */
static int merge(struct mn_store *dst, const struct mn_store *src, size_t *skipped)
{
	size_t i;
	int r;

	for (i = 0; i < mn_store_count(src); i++)
		if ((r = mn_store_add(dst, mn_store_at(src, i), NULL)) != MN_OK) {
			if (r != MN_ERR_INVALID_ARG)
				return r;
			(*skipped)++;
		}
	for (i = 0; i < mn_store_phone_count(src); i++)
		if ((r = mn_store_phone_add(dst, mn_store_phone_at(src, i), NULL)) != MN_OK) {
			if (r != MN_ERR_INVALID_ARG)
				return r;
			(*skipped)++;
		}
	for (i = 0; i < mn_store_account_count(src); i++)
		if ((r = mn_store_account_add(dst, mn_store_account_at(src, i), NULL)) != MN_OK) {
			if (r != MN_ERR_INVALID_ARG)
				return r;
			(*skipped)++;
		}
	return MN_OK;
}

/*
 * The cached answer for user (NULL: everyone). MN_ERR_UNAVAILABLE with the reason when there
 * is no fresh one; *ret_fetched: when it was fetched.
 */
static int cache_load(const struct cache *c, const char *user, time_t now, struct mn_store **ret,
                      time_t *ret_fetched, char *err, size_t errlen)
{
	struct mn_store *all = NULL, *one = NULL;
	DIR *d = NULL;
	struct dirent *de;
	time_t marker = 0, fetched = 0;
	size_t skipped = 0;
	int r, have_marker;

	if ((r = check_dir(c->dir, 0, err, errlen)) != MN_OK ||
	    (r = check_dir(c->udir, 0, err, errlen)) != MN_OK) {
		if (r == MN_ERR_NOT_FOUND)
			mn_errf(err, errlen, "nothing cached yet");
		return r == MN_ERR_NOT_FOUND ? MN_ERR_UNAVAILABLE : r;
	}
	r = cache_read_marker(c, &marker, err, errlen);
	if (r != MN_OK && r != MN_ERR_NOT_FOUND)
		return r;
	have_marker = r == MN_OK;
	if (user != NULL) {
		r = cache_read_user(c, user, &one, &fetched, err, errlen);
		if (r == MN_ERR_NOT_FOUND) {
			/* no records for user: known only from a fresh complete fetch */
			if (!have_marker || !fresh(marker, now, c->max_age)) {
				mn_errf(err, errlen,
				        "no cached records of %s and no complete fetch within "
				        "cache_max_age (%u s)",
				        user, c->max_age);
				return MN_ERR_UNAVAILABLE;
			}
			if ((r = mn_store_new(&one)) != MN_OK)
				return r;
			fetched = marker;
		} else if (r != MN_OK) {
			return r;
		} else if (!fresh(fetched, now, c->max_age)) {
			mn_errf(err, errlen,
			        "the cached records of %s were fetched %lld s ago, more than "
			        "cache_max_age (%u s)",
			        user, (long long)(now - fetched), c->max_age);
			mn_store_free(&one);
			return MN_ERR_UNAVAILABLE;
		}
		*ret = one;
		*ret_fetched = fetched;
		return MN_OK;
	}
	if (!have_marker || !fresh(marker, now, c->max_age)) {
		mn_errf(err, errlen, "no complete fetch cached within cache_max_age (%u s)",
		        c->max_age);
		return MN_ERR_UNAVAILABLE;
	}
	if ((r = mn_store_new(&all)) != MN_OK)
		goto out;
	if ((d = opendir(c->udir)) == NULL) {
		mn_errf(err, errlen, "%s: %s", c->udir, strerror(errno));
		r = MN_ERR_IO;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!mn_store_user_valid(de->d_name))
			continue;
		if ((r = cache_read_user(c, de->d_name, &one, &fetched, err, errlen)) != MN_OK) {
			if (r == MN_ERR_NOT_FOUND) /* removed meanwhile */
				continue;
			goto out;
		}
		/* older than the last complete fetch: left over from before it */
		if (fetched >= marker && (r = merge(all, one, &skipped)) != MN_OK)
			goto out;
		mn_store_free(&one);
	}
	*ret = all;
	all = NULL;
	*ret_fetched = marker;
	mn_errf(err, errlen, "%zu cached records refused (duplicates)", skipped);
	if (skipped == 0 && err != NULL && errlen > 0)
		err[0] = '\0';
	r = MN_OK;
out:
	if (d != NULL)
		closedir(d);
	mn_store_free(&one);
	mn_store_free(&all);
	return r;
}

/* ------------------------------------------------------------------ full replacement */

struct ref {
	const char *user;
	int kind; /* 0 binding, 1 phone, 2 account */
	size_t i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c != 0)
		return c;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key, *(const char *const *)elem);
}

static int add_ref(struct mn_store *dst, const struct mn_store *all, const struct ref *f)
{
	if (f->kind == 0)
		return mn_store_add(dst, mn_store_at(all, f->i), NULL);
	if (f->kind == 1)
		return mn_store_phone_add(dst, mn_store_phone_at(all, f->i), NULL);
	return mn_store_account_add(dst, mn_store_account_at(all, f->i), NULL);
}

int mn_store_cache_replace(const struct mn_conf *conf, const struct mn_store *all, time_t now,
                           size_t *ret_users, char *err, size_t errlen)
{
	struct cache c;
	struct ref *refs = NULL;
	const char **names = NULL;
	struct mn_store *one = NULL;
	DIR *d = NULL;
	struct dirent *de;
	size_t nb, np, na, n, i, k, nn = 0;
	char path[CACHE_PATH_MAX], head[96];
	int r, hl;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (conf == NULL || all == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = cache_init(conf, &c, err, errlen)) != MN_OK ||
	    (r = cache_prepare(&c, err, errlen)) != MN_OK)
		return r;
	nb = mn_store_count(all);
	np = mn_store_phone_count(all);
	na = mn_store_account_count(all);
	n = nb + np + na;
	if ((refs = calloc(n + 1, sizeof(*refs))) == NULL ||
	    (names = calloc(n + 1, sizeof(*names))) == NULL) {
		mn_errf(err, errlen, "out of memory");
		r = MN_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < nb; i++)
		refs[i] = (struct ref){mn_store_at(all, i)->user, 0, i};
	for (i = 0; i < np; i++)
		refs[nb + i] = (struct ref){mn_store_phone_at(all, i)->user, 1, i};
	for (i = 0; i < na; i++)
		refs[nb + np + i] = (struct ref){mn_store_account_at(all, i)->user, 2, i};
	qsort(refs, n, sizeof(*refs), ref_cmp);
	for (i = 0; i < n; i = k) {
		if ((r = mn_store_new(&one)) != MN_OK)
			goto out;
		for (k = i; k < n && strcmp(refs[k].user, refs[i].user) == 0; k++)
			if ((r = add_ref(one, all, &refs[k])) != MN_OK) {
				mn_errf(err, errlen, "cannot copy a record of %s: %s", refs[i].user,
				        mn_strerror(r));
				goto out;
			}
		if ((r = cache_write_user(&c, refs[i].user, one, now, err, errlen)) != MN_OK)
			goto out;
		mn_store_free(&one);
		names[nn++] = refs[i].user;
	}
	/* the users the directory no longer has */
	if ((d = opendir(c.udir)) == NULL) {
		mn_errf(err, errlen, "%s: %s", c.udir, strerror(errno));
		r = MN_ERR_IO;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (mn_store_user_valid(de->d_name) &&
		    bsearch(de->d_name, names, nn, sizeof(*names), name_cmp) != NULL)
			continue;
		if (user_path(&c, de->d_name, path, sizeof(path)) != MN_OK)
			continue; /* not a name this cache wrote */
		if (unlink(path) != 0 && errno != ENOENT) {
			mn_errf(err, errlen, "%s: cannot remove: %s", path, strerror(errno));
			r = MN_ERR_IO;
			goto out;
		}
	}
	hl = snprintf(head, sizeof(head), "%s%lld\n", MN_LDAP_CACHE_FULL_HEADER, (long long)now);
	if ((r = mn_file_write_atomic(c.marker, head, (size_t)hl, 0600, err, errlen)) != MN_OK)
		goto out;
	if (ret_users != NULL)
		*ret_users = nn;
	r = MN_OK;
out:
	if (d != NULL)
		closedir(d);
	mn_store_free(&one);
	free(names);
	free(refs);
	return r;
}

/* ------------------------------------------------------------------ the one entry point */

struct notes {
	size_t n;
	char first[256];
};

static void take_note(void *ctx, const char *text)
{
	struct notes *nt = ctx;

	if (nt->n++ == 0)
		snprintf(nt->first, sizeof(nt->first), "%s", text);
}

int mn_store_source_load(const struct mn_conf *conf, const char *user, time_t now,
                         struct mn_store **ret, enum mn_store_origin *origin, char *err,
                         size_t errlen)
{
	struct mn_ldap *l = NULL;
	struct mn_store *s = NULL;
	struct notes nt = {0, ""};
	struct cache c;
	const char *backend;
	char why[512], cerr[512];
	time_t fetched = 0;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (conf == NULL || ret == NULL || origin == NULL)
		return MN_ERR_INVALID_ARG;
	backend = mn_conf_get(conf, "", "store_backend");
	if (backend == NULL || strcmp(backend, "ldap") != 0) {
		/* the whole file: the callers pick user's records */
		if ((r = mn_store_load(mn_conf_get(conf, "", "store"), &s, err, errlen)) != MN_OK)
			return r;
		*ret = s;
		*origin = MN_STORE_FROM_FILE;
		return MN_OK;
	}
	if (user != NULL && !mn_store_user_valid(user)) {
		mn_errf(err, errlen, "not a valid user name");
		return MN_ERR_INVALID_ARG;
	}
	if ((r = cache_init(conf, &c, err, errlen)) != MN_OK)
		return r;
	r = mn_ldap_open(conf, &l, why, sizeof(why));
	if (r == MN_OK)
		r = mn_ldap_fetch(l, user, &s, NULL, take_note, &nt, why, sizeof(why));
	mn_ldap_close(&l);
	if (r == MN_OK) {
		cerr[0] = '\0';
		if (user != NULL) {
			if (cache_prepare(&c, cerr, sizeof(cerr)) == MN_OK)
				cache_write_user(&c, user, s, now, cerr, sizeof(cerr));
		} else {
			mn_store_cache_replace(conf, s, now, NULL, cerr, sizeof(cerr));
		}
		if (nt.n > 0)
			mn_errf(err, errlen, "%zu directory value(s) skipped, first: %s%s%s", nt.n,
			        nt.first, cerr[0] ? "; cache not updated: " : "", cerr);
		else if (cerr[0] != '\0')
			mn_errf(err, errlen, "cache not updated: %s", cerr);
		*ret = s;
		*origin = MN_STORE_FROM_DIRECTORY;
		return MN_OK;
	}
	if (r != MN_ERR_UNAVAILABLE) {
		mn_errf(err, errlen, "%s", why);
		return r;
	}
	r = cache_load(&c, user, now, &s, &fetched, cerr, sizeof(cerr));
	if (r == MN_ERR_UNAVAILABLE) {
		mn_errf(err, errlen, "the directory cannot be reached (%s), and %s", why, cerr);
		return r;
	}
	if (r != MN_OK) {
		mn_errf(err, errlen, "the directory cannot be reached (%s), and the cache: %s", why,
		        cerr);
		return r;
	}
	mn_errf(err, errlen,
	        "the directory cannot be reached (%s): answered from the cache fetched %lld s "
	        "ago%s%s",
	        why, (long long)(now - fetched), cerr[0] ? "; " : "", cerr);
	*ret = s;
	*origin = MN_STORE_FROM_CACHE;
	return MN_OK;
}
