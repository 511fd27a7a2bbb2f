/*
 * libnss_mynumber.so.2: passwd and group entries of managed accounts (people enrolled by
 * card without an /etc/passwd line) from the published map (format in lib/mn_nssmap.h).
 *
 * Reads only the map: never the store, the configuration or the network, never calls back
 * into NSS, links only libc. The map is mapped once and kept while it stays the same file
 * (device, inode, size, mtime, ctime, mode, owner: an atomic replacement, chmod or chown
 * shows); every lookup lstat()s the path to notice. Statuses:
 *   found                 NSS_STATUS_SUCCESS
 *   not in the map        NSS_STATUS_NOTFOUND, ENOENT (also for invalid names, uid/gid 0)
 *   buffer too small      NSS_STATUS_TRYAGAIN, ERANGE (enumeration does not advance)
 *   no map, map refused (symlink, owner, mode, size), corrupt or expired
 *                         NSS_STATUS_UNAVAIL, ENOENT: "this source has nothing to say", so
 *                         the next source is asked and getent exits 2
 *   out of memory or descriptors while mapping
 *                         NSS_STATUS_TRYAGAIN, EAGAIN
 * errno is left as the caller had it; results go only through *errnop.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_nssmap.h"

/* A mapping shared by lookups in flight: freed when the last one lets go. */
struct cached {
	struct mn_nssmap m;
	struct stat st;
	unsigned refs;
	char path[];
};

/*
 * The module's only mutable state: the cached mapping and the enumeration positions
 * (required by setpwent/getpwent_r), all under one mutex held only for a few instructions.
 */
static struct {
	pthread_mutex_t lock;
	struct cached *cur;
	uint32_t pw_pos, gr_pos;
} S = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&S.lock);
}

static void fork_release(void)
{
	pthread_mutex_unlock(&S.lock);
}

/* a child forked while another thread held the lock would otherwise deadlock on it */
static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_release, fork_release);
}

static void release(struct cached *c)
{
	int last;

	if (c == NULL)
		return;
	pthread_mutex_lock(&S.lock);
	last = --c->refs == 0;
	pthread_mutex_unlock(&S.lock);
	if (last) {
		mn_nssmap_unmap(&c->m);
		free(c);
	}
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mode == b->st_mode && a->st_uid == b->st_uid &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * The current map, referenced (release() it), or NULL with the NSS status and errno to
 * answer. An expired map is mapped but not served.
 */
static struct cached *acquire(enum nss_status *status, int *err)
{
	const char *path = secure_getenv(MN_NSSMAP_ENV);
	struct cached *c = NULL, *old = NULL;
	struct stat st;
	size_t plen;
	int e = 0, r;

	pthread_once(&atfork_once, register_atfork);
	if (path == NULL || path[0] == '\0')
		path = MN_NSSMAP_DEFAULT_PATH;
	plen = strlen(path);
	*status = NSS_STATUS_UNAVAIL;
	*err = ENOENT;
	if (lstat(path, &st) != 0) {
		if (errno == ENOMEM) {
			*status = NSS_STATUS_TRYAGAIN;
			*err = EAGAIN;
		}
		return NULL;
	}
	pthread_mutex_lock(&S.lock);
	if (S.cur != NULL && strcmp(S.cur->path, path) == 0 && same_file(&S.cur->st, &st)) {
		c = S.cur;
		c->refs++;
	}
	pthread_mutex_unlock(&S.lock);
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c) + plen + 1)) == NULL) {
			*status = NSS_STATUS_TRYAGAIN;
			*err = EAGAIN;
			return NULL;
		}
		memcpy(c->path, path, plen + 1);
		r = mn_nssmap_map_file(path, &c->m, &c->st, &e, NULL, 0);
		if (r != 0) {
			if (e == ENOMEM || e == EMFILE || e == ENFILE || e == EAGAIN) {
				*status = NSS_STATUS_TRYAGAIN;
				*err = EAGAIN;
			}
			free(c);
			return NULL;
		}
		c->refs = 2; /* the cache's and ours */
		pthread_mutex_lock(&S.lock);
		old = S.cur;
		S.cur = c;
		pthread_mutex_unlock(&S.lock);
		release(old);
	}
	if (mn_nssmap_expired(&c->m, time(NULL))) {
		release(c);
		return NULL;
	}
	*status = NSS_STATUS_SUCCESS;
	*err = 0;
	return c;
}

/* lookup result (MN_ERR_*) -> NSS status */
static enum nss_status lookup_status(int r, int *err)
{
	if (r == MN_ERR_NOT_FOUND) {
		*err = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	*err = ENOENT; /* corrupt where we looked */
	return NSS_STATUS_UNAVAIL;
}

/* a bump allocator over the caller's buffer */
struct bufp {
	char *p;
	size_t left;
};

static char *take(struct bufp *b, const char *s, size_t len)
{
	char *d;

	if (b->left < len + 1)
		return NULL;
	d = b->p;
	memcpy(d, s, len);
	d[len] = '\0';
	b->p += len + 1;
	b->left -= len + 1;
	return d;
}

static int fill_pw(const struct mn_nssmap_pw *u, struct passwd *pw, char *buf, size_t buflen)
{
	struct bufp b = {buf, buflen};

	if ((pw->pw_name = take(&b, u->name, u->name_len)) == NULL ||
	    (pw->pw_passwd = take(&b, "x", 1)) == NULL ||
	    (pw->pw_gecos = take(&b, u->gecos, u->gecos_len)) == NULL ||
	    (pw->pw_dir = take(&b, u->home, u->home_len)) == NULL ||
	    (pw->pw_shell = take(&b, u->shell, u->shell_len)) == NULL)
		return ERANGE;
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return 0;
}

static int fill_gr(const struct mn_nssmap *m, const struct mn_nssmap_gr *g, struct group *gr,
                   char *buf, size_t buflen)
{
	struct bufp b = {buf, buflen};
	size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *), need;
	const char *name;
	size_t len;
	char **mem;
	uint32_t i;

	/* the member pointer array first, aligned */
	need = ((size_t)g->n_members + 1) * sizeof(char *);
	if (buflen < pad || buflen - pad < need)
		return ERANGE;
	mem = (char **)(void *)(buf + pad);
	b.p = buf + pad + need;
	b.left = buflen - pad - need;
	for (i = 0; i < g->n_members; i++) {
		if (mn_nssmap_group_member(m, g, i, &name, &len) != 0)
			return EIO;
		if ((mem[i] = take(&b, name, len)) == NULL)
			return ERANGE;
	}
	mem[g->n_members] = NULL;
	if ((gr->gr_name = take(&b, g->name, g->name_len)) == NULL ||
	    (gr->gr_passwd = take(&b, "x", 1)) == NULL)
		return ERANGE;
	gr->gr_gid = g->gid;
	gr->gr_mem = mem;
	return 0;
}

/* fill result -> NSS status */
static enum nss_status fill_status(int f, int *err)
{
	if (f == 0)
		return NSS_STATUS_SUCCESS;
	if (f == ERANGE) {
		*err = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	*err = ENOENT;
	return NSS_STATUS_UNAVAIL;
}

enum user_key { BY_NAME, BY_UID };

static enum nss_status get_user(enum user_key k, const char *name, uid_t uid, struct passwd *pw,
                                char *buf, size_t buflen, int *errnop)
{
	int saved = errno, e = ENOENT, r;
	enum nss_status s = NSS_STATUS_NOTFOUND;
	struct mn_nssmap_pw u;
	struct cached *c = NULL;

	/* invalid keys never reach the map */
	if (pw == NULL || buf == NULL || (k == BY_NAME ? !mn_nssmap_name_ok(name) : uid == 0))
		goto out;
	if ((c = acquire(&s, &e)) == NULL)
		goto out;
	r = k == BY_NAME ? mn_nssmap_user_by_name(&c->m, name, &u)
	                 : mn_nssmap_user_by_uid(&c->m, (uint32_t)uid, &u);
	if (r != 0)
		s = lookup_status(r, &e);
	else
		s = fill_status(fill_pw(&u, pw, buf, buflen), &e);
out:
	release(c);
	errno = saved;
	*errnop = e; /* last: errnop may be &errno */
	return s;
}

enum nss_status _nss_mynumber_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_mynumber_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                         size_t buflen, int *errnop)
{
	return get_user(BY_NAME, name, 0, pw, buf, buflen, errnop);
}

enum nss_status _nss_mynumber_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
                                         int *errnop);
enum nss_status _nss_mynumber_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
                                         int *errnop)
{
	return get_user(BY_UID, NULL, uid, pw, buf, buflen, errnop);
}

enum group_key { G_BY_NAME, G_BY_GID };

static enum nss_status get_group(enum group_key k, const char *name, gid_t gid, struct group *gr,
                                 char *buf, size_t buflen, int *errnop)
{
	int saved = errno, e = ENOENT, r;
	enum nss_status s = NSS_STATUS_NOTFOUND;
	struct mn_nssmap_gr g;
	struct cached *c = NULL;

	if (gr == NULL || buf == NULL || (k == G_BY_NAME ? !mn_nssmap_name_ok(name) : gid == 0))
		goto out;
	if ((c = acquire(&s, &e)) == NULL)
		goto out;
	r = k == G_BY_NAME ? mn_nssmap_group_by_name(&c->m, name, &g)
	                   : mn_nssmap_group_by_gid(&c->m, (uint32_t)gid, &g);
	if (r != 0)
		s = lookup_status(r, &e);
	else
		s = fill_status(fill_gr(&c->m, &g, gr, buf, buflen), &e);
out:
	release(c);
	errno = saved;
	*errnop = e;
	return s;
}

enum nss_status _nss_mynumber_getgrnam_r(const char *name, struct group *gr, char *buf,
                                         size_t buflen, int *errnop);
enum nss_status _nss_mynumber_getgrnam_r(const char *name, struct group *gr, char *buf,
                                         size_t buflen, int *errnop)
{
	return get_group(G_BY_NAME, name, 0, gr, buf, buflen, errnop);
}

enum nss_status _nss_mynumber_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
                                         int *errnop);
enum nss_status _nss_mynumber_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
                                         int *errnop)
{
	return get_group(G_BY_GID, NULL, gid, gr, buf, buflen, errnop);
}

/* ---------------------------------------------------------------- enumeration */

static void set_pos(uint32_t *pos)
{
	pthread_mutex_lock(&S.lock);
	*pos = 0;
	pthread_mutex_unlock(&S.lock);
}

enum nss_status _nss_mynumber_setpwent(int stayopen);
enum nss_status _nss_mynumber_setpwent(int stayopen)
{
	set_pos(&S.pw_pos);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_mynumber_endpwent(void);
enum nss_status _nss_mynumber_endpwent(void)
{
	set_pos(&S.pw_pos);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_mynumber_setgrent(int stayopen);
enum nss_status _nss_mynumber_setgrent(int stayopen)
{
	set_pos(&S.gr_pos);
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_mynumber_endgrent(void);
enum nss_status _nss_mynumber_endgrent(void)
{
	set_pos(&S.gr_pos);
	return NSS_STATUS_SUCCESS;
}

/*
 * The next entry in uid (gid) order. The position is claimed under the lock and advanced
 * only on success (a retry after ERANGE gets the same entry); two threads enumerating at
 * once share one position, as with every NSS module.
 */
static enum nss_status get_ent(int group, void *ent, char *buf, size_t buflen, int *errnop)
{
	int saved = errno, e = ENOENT, r;
	enum nss_status s = NSS_STATUS_NOTFOUND;
	struct mn_nssmap_pw u;
	struct mn_nssmap_gr g;
	struct cached *c = NULL;
	uint32_t *posp = group ? &S.gr_pos : &S.pw_pos, pos;

	if (ent == NULL || buf == NULL)
		goto out;
	if ((c = acquire(&s, &e)) == NULL)
		goto out;
	pthread_mutex_lock(&S.lock);
	pos = *posp;
	pthread_mutex_unlock(&S.lock);
	r = group ? mn_nssmap_group_at(&c->m, pos, &g) : mn_nssmap_user_at(&c->m, pos, &u);
	if (r != 0) {
		s = lookup_status(r, &e);
		goto out;
	}
	s = fill_status(
	    group ? fill_gr(&c->m, &g, ent, buf, buflen) : fill_pw(&u, ent, buf, buflen), &e);
	if (s == NSS_STATUS_SUCCESS) {
		pthread_mutex_lock(&S.lock);
		if (*posp == pos)
			*posp = pos + 1;
		pthread_mutex_unlock(&S.lock);
	}
out:
	release(c);
	errno = saved;
	*errnop = e;
	return s;
}

enum nss_status _nss_mynumber_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_mynumber_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
	return get_ent(0, pw, buf, buflen, errnop);
}

enum nss_status _nss_mynumber_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop);
enum nss_status _nss_mynumber_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop)
{
	return get_ent(1, gr, buf, buflen, errnop);
}

/* ---------------------------------------------------------------- initgroups */

/*
 * glibc's contract: append the user's supplementary gids to (*groupsp)[*start..], skipping
 * the primary group and gids already present, growing *groupsp (realloc) as far as limit
 * (<= 0: unlimited); when full at limit, stop quietly.
 */
enum nss_status _nss_mynumber_initgroups_dyn(const char *user, gid_t group, long int *start,
                                             long int *size, gid_t **groupsp, long int limit,
                                             int *errnop);
enum nss_status _nss_mynumber_initgroups_dyn(const char *user, gid_t group, long int *start,
                                             long int *size, gid_t **groupsp, long int limit,
                                             int *errnop)
{
	int saved = errno, e = ENOENT, r;
	enum nss_status s = NSS_STATUS_NOTFOUND;
	struct mn_nssmap_pw u;
	struct cached *c = NULL;
	uint32_t i, gid;
	long int j;

	if (!mn_nssmap_name_ok(user) || start == NULL || size == NULL || groupsp == NULL ||
	    *start < 0 || *size < *start)
		goto out;
	if ((c = acquire(&s, &e)) == NULL)
		goto out;
	if ((r = mn_nssmap_user_by_name(&c->m, user, &u)) != 0) {
		s = lookup_status(r, &e);
		goto out;
	}
	s = NSS_STATUS_SUCCESS;
	e = 0;
	for (i = 0; i < u.n_groups; i++) {
		if (mn_nssmap_user_group(&c->m, &u, i, &gid) != 0) {
			s = lookup_status(MN_ERR_FORMAT, &e);
			goto out;
		}
		if ((gid_t)gid == group)
			continue;
		for (j = 0; j < *start && (*groupsp)[j] != (gid_t)gid; j++)
			;
		if (j < *start)
			continue;
		if (*start == *size) {
			long int newsize;
			gid_t *ng;
			if (limit > 0 && *size >= limit)
				break; /* full: glibc keeps what fits */
			newsize = *size > 0 ? 2 * *size : 16;
			if (limit > 0 && newsize > limit)
				newsize = limit;
			if ((ng = realloc(*groupsp, (size_t)newsize * sizeof(**groupsp))) == NULL) {
				s = NSS_STATUS_TRYAGAIN;
				e = EAGAIN;
				goto out;
			}
			*groupsp = ng;
			*size = newsize;
		}
		(*groupsp)[(*start)++] = (gid_t)gid;
	}
out:
	release(c);
	errno = saved;
	*errnop = e;
	return s;
}
