/* The managed-account map: reader and checker (libc only: the NSS module links this file). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_nssmap.h"

enum str_kind { STR_NAME, STR_GECOS, STR_PATH };

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void seterr(char *err, size_t errlen, const char *msg)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
}

static int name_ok_len(const char *s, size_t len)
{
	size_t i;

	if (len < 1 || len > MN_NSSMAP_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		            (c >= '0' && c <= '9') || c == '_';
		if (!alnum && (i == 0 || (c != '.' && c != '-')))
			return 0;
	}
	return 1;
}

int mn_nssmap_name_ok(const char *s)
{
	return s != NULL && name_ok_len(s, strnlen(s, MN_NSSMAP_NAME_MAX + 1));
}

static int id_ok(uint32_t id)
{
	return id != 0 && id != 65534 && id != UINT32_MAX;
}

/* A NUL-terminated string at data-area offset off that ends inside the data area. */
static int get_str(const struct mn_nssmap *m, uint32_t off, enum str_kind kind, const char **ret,
                   size_t *ret_len)
{
	size_t avail, len, i;
	const char *s, *nul;

	if (off >= m->size - m->data_off)
		return MN_ERR_FORMAT;
	s = (const char *)m->base + m->data_off + off;
	avail = m->size - m->data_off - off;
	if ((nul = memchr(s, '\0', avail)) == NULL)
		return MN_ERR_FORMAT;
	len = (size_t)(nul - s);
	if (kind == STR_NAME) {
		if (!name_ok_len(s, len))
			return MN_ERR_FORMAT;
	} else {
		if (kind == STR_GECOS ? len > MN_NSSMAP_GECOS_MAX
		                      : len < 1 || len > MN_NSSMAP_PATH_MAX || s[0] != '/')
			return MN_ERR_FORMAT;
		for (i = 0; i < len; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c < 0x20 || c == 0x7F || c == ':')
				return MN_ERR_FORMAT;
		}
	}
	*ret = s;
	*ret_len = len;
	return MN_OK;
}

/* A list (u32 count, count u32 values) at data-area offset off, inside the data area. */
static int get_list(const struct mn_nssmap *m, uint32_t off, uint32_t *count)
{
	uint64_t avail;

	if (off >= m->size - m->data_off)
		return MN_ERR_FORMAT;
	avail = (uint64_t)(m->size - m->data_off - off);
	if (avail < 4)
		return MN_ERR_FORMAT;
	*count = le32(m->base + m->data_off + off);
	if (4 + 4 * (uint64_t)*count > avail)
		return MN_ERR_FORMAT;
	return MN_OK;
}

/*
 * Compare key (keylen bytes, no NUL) with the string at data-area offset off, bytewise as
 * strcmp does; MN_ERR_FORMAT when the string does not end inside the data area.
 */
static int cmp_name(const struct mn_nssmap *m, uint32_t off, const char *key, size_t keylen,
                    int *cmp)
{
	size_t avail, n;
	const unsigned char *s;

	if (off >= m->size - m->data_off)
		return MN_ERR_FORMAT;
	s = m->base + m->data_off + off;
	avail = m->size - m->data_off - off;
	n = keylen + 1 <= avail ? keylen + 1 : avail;
	*cmp = memcmp(key, s, n); /* the key's NUL takes part: "ab" < "abc" */
	if (*cmp == 0 && n < keylen + 1)
		return MN_ERR_FORMAT; /* the stored bytes run to the end without a NUL */
	return MN_OK;
}

static const unsigned char *user_rec(const struct mn_nssmap *m, uint32_t i)
{
	return m->base + m->users_off + (size_t)i * MN_NSSMAP_USER_SIZE;
}

static const unsigned char *group_rec(const struct mn_nssmap *m, uint32_t i)
{
	return m->base + m->groups_off + (size_t)i * MN_NSSMAP_GROUP_SIZE;
}

static int decode_user(const struct mn_nssmap *m, uint32_t i, struct mn_nssmap_pw *pw)
{
	const unsigned char *r;
	int e;

	if (i >= m->n_users)
		return MN_ERR_FORMAT;
	r = user_rec(m, i);
	pw->uid = le32(r + 4);
	pw->gid = le32(r + 8);
	pw->groups = le32(r + 24);
	if (!id_ok(pw->uid) || !id_ok(pw->gid) || le32(r + 28) != 0)
		return MN_ERR_FORMAT;
	if ((e = get_str(m, le32(r), STR_NAME, &pw->name, &pw->name_len)) != 0 ||
	    (e = get_str(m, le32(r + 12), STR_GECOS, &pw->gecos, &pw->gecos_len)) != 0 ||
	    (e = get_str(m, le32(r + 16), STR_PATH, &pw->home, &pw->home_len)) != 0 ||
	    (e = get_str(m, le32(r + 20), STR_PATH, &pw->shell, &pw->shell_len)) != 0 ||
	    (e = get_list(m, pw->groups, &pw->n_groups)) != 0)
		return e;
	return MN_OK;
}

static int decode_group(const struct mn_nssmap *m, uint32_t i, struct mn_nssmap_gr *gr)
{
	const unsigned char *r;
	int e;

	if (i >= m->n_groups)
		return MN_ERR_FORMAT;
	r = group_rec(m, i);
	gr->gid = le32(r + 4);
	gr->members = le32(r + 8);
	if (!id_ok(gr->gid) || le32(r + 12) != 0)
		return MN_ERR_FORMAT;
	if ((e = get_str(m, le32(r), STR_NAME, &gr->name, &gr->name_len)) != 0 ||
	    (e = get_list(m, gr->members, &gr->n_members)) != 0)
		return e;
	return MN_OK;
}

/* table [off, off + count * recsize) inside [64, data_off) */
static int table_ok(uint32_t off, uint32_t count, uint32_t recsize, uint32_t data_off)
{
	return off >= MN_NSSMAP_HDR_SIZE && (uint64_t)off + (uint64_t)count * recsize <= data_off;
}

static int disjoint(uint32_t a, uint64_t alen, uint32_t b, uint64_t blen)
{
	return alen == 0 || blen == 0 || a + alen <= b || b + blen <= a;
}

int mn_nssmap_open_mem(struct mn_nssmap *m, const void *base, size_t size, char *err, size_t errlen)
{
	const unsigned char *h = base;
	uint64_t len[4];
	uint32_t off[4];
	int i, j;

	if (m == NULL || (base == NULL && size > 0))
		return MN_ERR_INVALID_ARG;
	memset(m, 0, sizeof(*m));
	if (size < MN_NSSMAP_HDR_SIZE) {
		seterr(err, errlen, "truncated: shorter than the 64-byte header");
		return MN_ERR_TRUNCATED;
	}
	if (memcmp(h, MN_NSSMAP_MAGIC, 8) != 0) {
		seterr(err, errlen, "not a mynumber NSS map (bad magic)");
		return MN_ERR_FORMAT;
	}
	if (le32(h + 8) != MN_NSSMAP_VERSION) {
		seterr(err, errlen, "unsupported map version");
		return MN_ERR_UNSUPPORTED;
	}
	if (le32(h + 12) != 0) {
		seterr(err, errlen, "unknown flags set");
		return MN_ERR_FORMAT;
	}
	if (size > MN_NSSMAP_MAX_SIZE || le32(h + 32) != size) {
		seterr(err, errlen,
		       le32(h + 32) > size ? "truncated: shorter than its header says"
		                           : "size does not match the header (trailing bytes)");
		return le32(h + 32) > size ? MN_ERR_TRUNCATED : MN_ERR_FORMAT;
	}
	m->base = h;
	m->size = size;
	m->expires = le64(h + 16);
	m->n_users = le32(h + 36);
	m->n_groups = le32(h + 40);
	m->users_off = le32(h + 44);
	m->uids_off = le32(h + 48);
	m->groups_off = le32(h + 52);
	m->gids_off = le32(h + 56);
	m->data_off = le32(h + 60);
	if (m->data_off < MN_NSSMAP_HDR_SIZE || m->data_off > size) {
		seterr(err, errlen, "data area offset out of the file");
		goto bad;
	}
	if (!table_ok(m->users_off, m->n_users, MN_NSSMAP_USER_SIZE, m->data_off) ||
	    !table_ok(m->uids_off, m->n_users, 4, m->data_off) ||
	    !table_ok(m->groups_off, m->n_groups, MN_NSSMAP_GROUP_SIZE, m->data_off) ||
	    !table_ok(m->gids_off, m->n_groups, 4, m->data_off)) {
		seterr(err, errlen, "a table lies outside the file (bad offset or count)");
		goto bad;
	}
	off[0] = m->users_off, len[0] = (uint64_t)m->n_users * MN_NSSMAP_USER_SIZE;
	off[1] = m->uids_off, len[1] = (uint64_t)m->n_users * 4;
	off[2] = m->groups_off, len[2] = (uint64_t)m->n_groups * MN_NSSMAP_GROUP_SIZE;
	off[3] = m->gids_off, len[3] = (uint64_t)m->n_groups * 4;
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			if (!disjoint(off[i], len[i], off[j], len[j])) {
				seterr(err, errlen, "tables overlap");
				goto bad;
			}
	return MN_OK;
bad:
	memset(m, 0, sizeof(*m));
	return MN_ERR_FORMAT;
}

int mn_nssmap_expired(const struct mn_nssmap *m, time_t now)
{
	return m->expires != 0 && (now < 0 || (uint64_t)now > m->expires);
}

static uint64_t fnv1a(const unsigned char *p, size_t n, uint64_t h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t mn_nssmap_checksum(const unsigned char *p, size_t n)
{
	static const unsigned char zero[8];
	uint64_t h = 0xcbf29ce484222325ULL;

	if (n < MN_NSSMAP_HDR_SIZE)
		return fnv1a(p, n, h);
	h = fnv1a(p, 24, h);
	h = fnv1a(zero, 8, h);
	return fnv1a(p + 32, n - 32, h);
}

static int cmp_off(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int list_has(const struct mn_nssmap *m, uint32_t list, uint32_t n, uint32_t v)
{
	const unsigned char *p = m->base + m->data_off + list + 4;
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, x = le32(p + 4 * (size_t)mid);
		if (x == v)
			return 1;
		if (x < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

int mn_nssmap_verify(const struct mn_nssmap *m, char *err, size_t errlen)
{
	struct mn_nssmap_pw pw, prev_pw;
	struct mn_nssmap_gr gr, prev_gr;
	uint32_t i, j, idx, prev = 0, *tmp = NULL;
	uint64_t n_user_side = 0, n_group_side = 0;
	char msg[160];
	int r = MN_ERR_FORMAT;

	if (m == NULL || m->base == NULL)
		return MN_ERR_INVALID_ARG;
	if (mn_nssmap_checksum(m->base, m->size) != le64(m->base + 24)) {
		seterr(err, errlen, "checksum mismatch (the map is corrupt)");
		goto out;
	}
	for (i = 0; i < m->n_users; i++) {
		if (decode_user(m, i, &pw) != 0) {
			snprintf(msg, sizeof(msg), "user record %u is invalid", i);
			seterr(err, errlen, msg);
			goto out;
		}
		if (i > 0 && strcmp(prev_pw.name, pw.name) >= 0) {
			snprintf(msg, sizeof(msg), "user records not sorted by name at %u", i);
			seterr(err, errlen, msg);
			goto out;
		}
		for (j = 0; j < pw.n_groups; j++) {
			uint32_t g;
			const unsigned char *lp = m->base + m->data_off + pw.groups + 4;
			g = le32(lp + 4 * (size_t)j);
			if (!id_ok(g) || (j > 0 && le32(lp + 4 * (size_t)(j - 1)) >= g) ||
			    mn_nssmap_group_by_gid(m, g, &gr) != 0) {
				snprintf(msg, sizeof(msg), "user %s: bad supplementary group list",
				         pw.name);
				seterr(err, errlen, msg);
				goto out;
			}
		}
		n_user_side += pw.n_groups;
		prev_pw = pw;
	}
	for (i = 0; i < m->n_users; i++) {
		idx = le32(m->base + m->uids_off + 4 * (size_t)i);
		if (idx >= m->n_users || (i > 0 && le32(user_rec(m, idx) + 4) <= prev)) {
			snprintf(msg, sizeof(msg), "uid index broken at %u", i);
			seterr(err, errlen, msg);
			goto out;
		}
		prev = le32(user_rec(m, idx) + 4);
	}
	for (i = 0; i < m->n_groups; i++) {
		if (decode_group(m, i, &gr) != 0) {
			snprintf(msg, sizeof(msg), "group record %u is invalid", i);
			seterr(err, errlen, msg);
			goto out;
		}
		if (i > 0 && strcmp(prev_gr.name, gr.name) >= 0) {
			snprintf(msg, sizeof(msg), "group records not sorted by name at %u", i);
			seterr(err, errlen, msg);
			goto out;
		}
		free(tmp);
		if ((tmp = malloc(((size_t)gr.n_members + 1) * sizeof(*tmp))) == NULL) {
			r = MN_ERR_NOMEM;
			goto out;
		}
		for (j = 0; j < gr.n_members; j++) {
			const char *name;
			size_t len;
			uint32_t moff =
			    le32(m->base + m->data_off + gr.members + 4 + 4 * (size_t)j);
			if (mn_nssmap_group_member(m, &gr, j, &name, &len) != 0 ||
			    mn_nssmap_user_by_name(m, name, &pw) != 0 ||
			    (uint32_t)(pw.name - (const char *)m->base - m->data_off) != moff ||
			    !list_has(m, pw.groups, pw.n_groups, gr.gid)) {
				snprintf(msg, sizeof(msg),
				         "group %s: member %u is not a user of the map", gr.name,
				         j);
				seterr(err, errlen, msg);
				goto out;
			}
			tmp[j] = moff;
		}
		qsort(tmp, gr.n_members, sizeof(*tmp), cmp_off);
		for (j = 1; j < gr.n_members; j++)
			if (tmp[j] == tmp[j - 1]) {
				snprintf(msg, sizeof(msg), "group %s: a member is listed twice",
				         gr.name);
				seterr(err, errlen, msg);
				goto out;
			}
		n_group_side += gr.n_members;
		prev_gr = gr;
	}
	if (n_group_side != n_user_side) {
		seterr(err, errlen, "supplementary group lists do not match the group members");
		goto out;
	}
	for (i = 0; i < m->n_groups; i++) {
		idx = le32(m->base + m->gids_off + 4 * (size_t)i);
		if (idx >= m->n_groups || (i > 0 && le32(group_rec(m, idx) + 4) <= prev)) {
			snprintf(msg, sizeof(msg), "gid index broken at %u", i);
			seterr(err, errlen, msg);
			goto out;
		}
		prev = le32(group_rec(m, idx) + 4);
	}
	r = MN_OK;
out:
	free(tmp);
	return r;
}

int mn_nssmap_map_file(const char *path, struct mn_nssmap *m, struct stat *st, int *ret_errno,
                       char *err, size_t errlen)
{
	struct stat sb;
	char eb[96], msg[256];
	void *p = MAP_FAILED;
	int fd, e = 0, r = MN_ERR_IO;

	if (path == NULL || m == NULL)
		return MN_ERR_INVALID_ARG;
	if (st == NULL)
		st = &sb;
	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			r = MN_ERR_NOT_FOUND;
		snprintf(msg, sizeof(msg), "%s: %s", path,
		         e == ELOOP ? "is a symbolic link (refused)"
		                    : strerror_r(e, eb, sizeof(eb)));
		seterr(err, errlen, msg);
		goto out;
	}
	if (fstat(fd, st) != 0) {
		e = errno;
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror_r(e, eb, sizeof(eb)));
		seterr(err, errlen, msg);
		goto out;
	}
	e = EACCES;
	if (!S_ISREG(st->st_mode)) {
		snprintf(msg, sizeof(msg), "%s: not a regular file (refused)", path);
		seterr(err, errlen, msg);
		goto out;
	}
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(msg, sizeof(msg),
		         "%s: owned by uid %lu, neither root nor uid %lu (refused)", path,
		         (unsigned long)st->st_uid, (unsigned long)geteuid());
		seterr(err, errlen, msg);
		goto out;
	}
	if (st->st_mode & 022) {
		snprintf(msg, sizeof(msg), "%s: writable by group or others (mode %04o, refused)",
		         path, (unsigned)(st->st_mode & 07777));
		seterr(err, errlen, msg);
		goto out;
	}
	if (st->st_size < MN_NSSMAP_HDR_SIZE || st->st_size > MN_NSSMAP_MAX_SIZE) {
		snprintf(msg, sizeof(msg), "%s: %s", path,
		         st->st_size < MN_NSSMAP_HDR_SIZE ? "truncated: shorter than the header"
		                                          : "larger than 256 MiB (refused)");
		seterr(err, errlen, msg);
		r = st->st_size < MN_NSSMAP_HDR_SIZE ? MN_ERR_TRUNCATED : MN_ERR_TOO_LARGE;
		e = 0;
		goto out;
	}
	p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		e = errno;
		snprintf(msg, sizeof(msg), "%s: cannot map: %s", path,
		         strerror_r(e, eb, sizeof(eb)));
		seterr(err, errlen, msg);
		goto out;
	}
	e = 0;
	if ((r = mn_nssmap_open_mem(m, p, (size_t)st->st_size, msg, sizeof(msg))) != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, msg);
		munmap(p, (size_t)st->st_size);
		goto out;
	}
	r = MN_OK;
out:
	if (fd >= 0)
		close(fd);
	if (ret_errno != NULL)
		*ret_errno = e;
	return r;
}

void mn_nssmap_unmap(struct mn_nssmap *m)
{
	if (m != NULL && m->base != NULL)
		munmap((void *)m->base, m->size);
	if (m != NULL)
		memset(m, 0, sizeof(*m));
}

int mn_nssmap_check(const char *path, size_t *ret_users, size_t *ret_groups, time_t *ret_expires,
                    char *err, size_t errlen)
{
	struct mn_nssmap m;
	char msg[256];
	int r;

	if ((r = mn_nssmap_map_file(path, &m, NULL, NULL, err, errlen)) != 0)
		return r;
	if ((r = mn_nssmap_verify(&m, msg, sizeof(msg))) != 0) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: %s", path, msg);
		goto out;
	}
	if (ret_users != NULL)
		*ret_users = m.n_users;
	if (ret_groups != NULL)
		*ret_groups = m.n_groups;
	if (ret_expires != NULL)
		*ret_expires = (time_t)m.expires;
out:
	mn_nssmap_unmap(&m);
	return r;
}

/*
 * The name-sorted table of n records (user or group): *ret the index of the record whose
 * name is name. Names that no record may have are not searched.
 */
static int search_name(const struct mn_nssmap *m,
                       const unsigned char *(*rec)(const struct mn_nssmap *, uint32_t), uint32_t n,
                       const char *name, uint32_t *ret)
{
	uint32_t lo = 0, hi = n;
	size_t len;
	int c, e;

	if (!mn_nssmap_name_ok(name))
		return MN_ERR_NOT_FOUND;
	len = strlen(name);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if ((e = cmp_name(m, le32(rec(m, mid)), name, len, &c)) != 0)
			return e;
		if (c == 0) {
			*ret = mid;
			return MN_OK;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return MN_ERR_NOT_FOUND;
}

/*
 * The id index at ids_off (n record indexes sorted by the id each record holds at offset 4):
 * *ret the index of the record with this id.
 */
static int search_id(const struct mn_nssmap *m,
                     const unsigned char *(*rec)(const struct mn_nssmap *, uint32_t),
                     size_t ids_off, uint32_t n, uint32_t id, uint32_t *ret)
{
	uint32_t lo = 0, hi = n;

	if (!id_ok(id))
		return MN_ERR_NOT_FOUND;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2, idx, v;
		idx = le32(m->base + ids_off + 4 * (size_t)mid);
		if (idx >= n)
			return MN_ERR_FORMAT;
		v = le32(rec(m, idx) + 4);
		if (v == id) {
			*ret = idx;
			return MN_OK;
		}
		if (id < v)
			hi = mid;
		else
			lo = mid + 1;
	}
	return MN_ERR_NOT_FOUND;
}

int mn_nssmap_user_by_name(const struct mn_nssmap *m, const char *name, struct mn_nssmap_pw *pw)
{
	uint32_t i = 0;
	int e = search_name(m, user_rec, m->n_users, name, &i);

	return e != MN_OK ? e : decode_user(m, i, pw);
}

int mn_nssmap_user_by_uid(const struct mn_nssmap *m, uint32_t uid, struct mn_nssmap_pw *pw)
{
	uint32_t i = 0;
	int e = search_id(m, user_rec, m->uids_off, m->n_users, uid, &i);

	return e != MN_OK ? e : decode_user(m, i, pw);
}

int mn_nssmap_user_at(const struct mn_nssmap *m, uint32_t pos, struct mn_nssmap_pw *pw)
{
	if (pos >= m->n_users)
		return MN_ERR_NOT_FOUND;
	return decode_user(m, le32(m->base + m->uids_off + 4 * (size_t)pos), pw);
}

int mn_nssmap_group_by_name(const struct mn_nssmap *m, const char *name, struct mn_nssmap_gr *gr)
{
	uint32_t i = 0;
	int e = search_name(m, group_rec, m->n_groups, name, &i);

	return e != MN_OK ? e : decode_group(m, i, gr);
}

int mn_nssmap_group_by_gid(const struct mn_nssmap *m, uint32_t gid, struct mn_nssmap_gr *gr)
{
	uint32_t i = 0;
	int e = search_id(m, group_rec, m->gids_off, m->n_groups, gid, &i);

	return e != MN_OK ? e : decode_group(m, i, gr);
}

int mn_nssmap_group_at(const struct mn_nssmap *m, uint32_t pos, struct mn_nssmap_gr *gr)
{
	if (pos >= m->n_groups)
		return MN_ERR_NOT_FOUND;
	return decode_group(m, le32(m->base + m->gids_off + 4 * (size_t)pos), gr);
}

int mn_nssmap_group_member(const struct mn_nssmap *m, const struct mn_nssmap_gr *gr, uint32_t i,
                           const char **name, size_t *len)
{
	/* gr came from decode_group: the list is inside the data area */
	if (i >= gr->n_members)
		return MN_ERR_FORMAT;
	return get_str(m, le32(m->base + m->data_off + gr->members + 4 + 4 * (size_t)i), STR_NAME,
	               name, len);
}

int mn_nssmap_user_group(const struct mn_nssmap *m, const struct mn_nssmap_pw *pw, uint32_t i,
                         uint32_t *gid)
{
	if (i >= pw->n_groups)
		return MN_ERR_FORMAT;
	*gid = le32(m->base + m->data_off + pw->groups + 4 + 4 * (size_t)i);
	return id_ok(*gid) ? MN_OK : MN_ERR_FORMAT;
}
