/* The managed-account map: the writer (format in mn_nssmap.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_err.h"
#include "mn_file.h"
#include "mn_nssmap.h"

struct idkey {
	uint32_t id, rec;
};

/* The image being built: a cursor in the data area. */
struct img {
	unsigned char *p;
	uint32_t data_off, used;
};

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static int id_ok(uint32_t id)
{
	return id != 0 && id != 65534 && id != UINT32_MAX;
}

/* gecos (path == 0) or an absolute path: bounded, no ':' and no control characters */
static int text_ok(const char *s, int path)
{
	size_t i, len;

	if (s == NULL)
		return 0;
	len = strnlen(s, MN_NSSMAP_PATH_MAX + 1);
	if (path ? len < 1 || len > MN_NSSMAP_PATH_MAX || s[0] != '/' : len > MN_NSSMAP_GECOS_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F || c == ':')
			return 0;
	}
	return 1;
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp((*(const struct mn_nss_user *const *)a)->name,
	              (*(const struct mn_nss_user *const *)b)->name);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp((*(const struct mn_nss_group *const *)a)->name,
	              (*(const struct mn_nss_group *const *)b)->name);
}

static int cmp_idkey(const void *a, const void *b)
{
	const struct idkey *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t put_str(struct img *im, const char *s)
{
	uint32_t off = im->used;
	size_t n = strlen(s) + 1;

	memcpy(im->p + im->data_off + off, s, n);
	im->used += (uint32_t)n;
	return off;
}

static uint32_t put_list(struct img *im, const uint32_t *v, uint32_t n)
{
	uint32_t off = im->used, i;

	put32(im->p + im->data_off + off, n);
	for (i = 0; i < n; i++)
		put32(im->p + im->data_off + off + 4 + 4 * i, v[i]);
	im->used += 4 + 4 * n;
	return off;
}

int mn_nssmap_build(const struct mn_nss_user *users, size_t n_users,
                    const struct mn_nss_group *groups, size_t n_groups, time_t expires,
                    unsigned char **ret, size_t *ret_len, char *err, size_t errlen)
{
	const struct mn_nss_user **un = NULL;
	const struct mn_nss_group **gn = NULL;
	struct idkey *ids = NULL;
	uint32_t *cnt = NULL, *start = NULL, *fill = NULL, *sgid = NULL, *memb = NULL, *tmp = NULL;
	uint32_t *name_off = NULL;
	uint64_t data = 0, total, n_memb = 0, k;
	struct img im = {0};
	size_t i, j;
	int r = MN_ERR_FORMAT;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((users == NULL && n_users > 0) || (groups == NULL && n_groups > 0) || ret == NULL ||
	    ret_len == NULL || expires < 0)
		return MN_ERR_INVALID_ARG;
	if (n_users > MN_NSSMAP_MAX_SIZE / MN_NSSMAP_USER_SIZE ||
	    n_groups > MN_NSSMAP_MAX_SIZE / MN_NSSMAP_GROUP_SIZE) {
		snprintf(err, errlen, "too many users or groups");
		return MN_ERR_TOO_LARGE;
	}
	/* every value first: names are printed only once they are known to be valid */
	for (i = 0; i < n_users; i++) {
		const struct mn_nss_user *u = &users[i];
		const char *what = NULL;
		if (!mn_nssmap_name_ok(u->name))
			what = "invalid name";
		else if (!id_ok(u->uid))
			what = "invalid uid (0, 65534 and 4294967295 are not allowed)";
		else if (!id_ok(u->gid))
			what = "invalid gid (0, 65534 and 4294967295 are not allowed)";
		else if (!text_ok(u->gecos, 0))
			what = "invalid gecos (':' or a control character, or too long)";
		else if (!text_ok(u->home, 1))
			what = "invalid home (not an absolute path, ':' or a control character)";
		else if (!text_ok(u->shell, 1))
			what = "invalid shell (not an absolute path, ':' or a control character)";
		if (what != NULL) {
			snprintf(err, errlen, "user #%zu%s%s: %s", i + 1,
			         mn_nssmap_name_ok(u->name) ? " " : "",
			         mn_nssmap_name_ok(u->name) ? u->name : "", what);
			goto out;
		}
	}
	for (i = 0; i < n_groups; i++) {
		const struct mn_nss_group *g = &groups[i];
		const char *what = NULL;
		if (!mn_nssmap_name_ok(g->name))
			what = "invalid name";
		else if (!id_ok(g->gid))
			what = "invalid gid (0, 65534 and 4294967295 are not allowed)";
		else if (g->members == NULL && g->n_members > 0)
			what = "no member array";
		if (what != NULL) {
			snprintf(err, errlen, "group #%zu%s%s: %s", i + 1,
			         mn_nssmap_name_ok(g->name) ? " " : "",
			         mn_nssmap_name_ok(g->name) ? g->name : "", what);
			goto out;
		}
		n_memb += g->n_members;
	}
	if (n_memb > MN_NSSMAP_MAX_SIZE / 4) {
		snprintf(err, errlen, "too many group members");
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	r = MN_ERR_NOMEM;
	if ((un = calloc(n_users + 1, sizeof(*un))) == NULL ||
	    (gn = calloc(n_groups + 1, sizeof(*gn))) == NULL ||
	    (ids = calloc(n_users + n_groups + 1, sizeof(*ids))) == NULL ||
	    (cnt = calloc(n_users + 1, sizeof(*cnt))) == NULL ||
	    (start = calloc(n_users + 1, sizeof(*start))) == NULL ||
	    (fill = calloc(n_users + 1, sizeof(*fill))) == NULL ||
	    (name_off = calloc(n_users + 1, sizeof(*name_off))) == NULL ||
	    (sgid = calloc(n_memb + 1, sizeof(*sgid))) == NULL ||
	    (memb = calloc(n_memb + 1, sizeof(*memb))) == NULL ||
	    (tmp = calloc(n_memb + 1, sizeof(*tmp))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	r = MN_ERR_FORMAT;
	for (i = 0; i < n_users; i++)
		un[i] = &users[i];
	qsort(un, n_users, sizeof(*un), cmp_user);
	for (i = 0; i < n_groups; i++)
		gn[i] = &groups[i];
	qsort(gn, n_groups, sizeof(*gn), cmp_group);
	for (i = 1; i < n_users; i++)
		if (strcmp(un[i - 1]->name, un[i]->name) == 0) {
			snprintf(err, errlen, "duplicate user name %s", un[i]->name);
			goto out;
		}
	for (i = 1; i < n_groups; i++)
		if (strcmp(gn[i - 1]->name, gn[i]->name) == 0) {
			snprintf(err, errlen, "duplicate group name %s", gn[i]->name);
			goto out;
		}
	for (i = 0; i < n_users; i++)
		ids[i] = (struct idkey){un[i]->uid, (uint32_t)i};
	qsort(ids, n_users, sizeof(*ids), cmp_idkey);
	for (i = 1; i < n_users; i++)
		if (ids[i - 1].id == ids[i].id) {
			snprintf(err, errlen, "duplicate uid %lu (%s and %s)",
			         (unsigned long)ids[i].id, un[ids[i - 1].rec]->name,
			         un[ids[i].rec]->name);
			goto out;
		}
	for (i = 0; i < n_groups; i++)
		ids[n_users + i] = (struct idkey){gn[i]->gid, (uint32_t)i};
	qsort(ids + n_users, n_groups, sizeof(*ids), cmp_idkey);
	for (i = n_users + 1; i < n_users + n_groups; i++)
		if (ids[i - 1].id == ids[i].id) {
			snprintf(err, errlen, "duplicate gid %lu (%s and %s)",
			         (unsigned long)ids[i].id, gn[ids[i - 1].rec]->name,
			         gn[ids[i].rec]->name);
			goto out;
		}
	/* members -> user records; each user's supplementary gids */
	for (i = 0, k = 0; i < n_groups; i++) {
		const struct mn_nss_group *g = gn[i];
		for (j = 0; j < g->n_members; j++) {
			struct mn_nss_user key = {.name = g->members[j]};
			const struct mn_nss_user *kp = &key, **hit = NULL;
			if (mn_nssmap_name_ok(key.name))
				hit = bsearch(&kp, un, n_users, sizeof(*un), cmp_user);
			if (hit == NULL) {
				snprintf(err, errlen,
				         "group %s: member %s is not a user of the map", g->name,
				         mn_nssmap_name_ok(key.name) ? key.name : "(invalid name)");
				goto out;
			}
			memb[k + j] = tmp[j] = (uint32_t)(hit - un);
			cnt[hit - un]++;
		}
		qsort(tmp, g->n_members, sizeof(*tmp), cmp_u32);
		for (j = 1; j < g->n_members; j++)
			if (tmp[j] == tmp[j - 1]) {
				snprintf(err, errlen, "group %s: member %s is listed twice",
				         g->name, un[tmp[j]]->name);
				goto out;
			}
		k += g->n_members;
	}
	for (i = 1; i < n_users; i++)
		start[i] = start[i - 1] + cnt[i - 1];
	for (i = 0, k = 0; i < n_groups; i++)
		for (j = 0; j < gn[i]->n_members; j++, k++)
			sgid[start[memb[k]] + fill[memb[k]]++] = gn[i]->gid;
	for (i = 0; i < n_users; i++)
		qsort(sgid + start[i], cnt[i], sizeof(*sgid), cmp_u32);

	/* sizes */
	for (i = 0; i < n_users; i++)
		data += strlen(un[i]->name) + strlen(un[i]->gecos) + strlen(un[i]->home) +
		        strlen(un[i]->shell) + 4 + 4 + 4 * (uint64_t)cnt[i];
	for (i = 0; i < n_groups; i++)
		data += strlen(gn[i]->name) + 1 + 4 + 4 * (uint64_t)gn[i]->n_members;
	total = MN_NSSMAP_HDR_SIZE + (uint64_t)n_users * (MN_NSSMAP_USER_SIZE + 4) +
	        (uint64_t)n_groups * (MN_NSSMAP_GROUP_SIZE + 4) + data;
	if (total > MN_NSSMAP_MAX_SIZE) {
		snprintf(err, errlen, "the map would be larger than 256 MiB");
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	r = MN_ERR_NOMEM;
	if ((im.p = calloc(1, (size_t)total)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	{
		uint32_t users_off = MN_NSSMAP_HDR_SIZE;
		uint32_t uids_off = users_off + (uint32_t)n_users * MN_NSSMAP_USER_SIZE;
		uint32_t groups_off = uids_off + (uint32_t)n_users * 4;
		uint32_t gids_off = groups_off + (uint32_t)n_groups * MN_NSSMAP_GROUP_SIZE;
		unsigned char *h = im.p;

		im.data_off = gids_off + (uint32_t)n_groups * 4;
		/* user names first: group member lists point at them */
		for (i = 0; i < n_users; i++)
			name_off[i] = put_str(&im, un[i]->name);
		for (i = 0; i < n_users; i++) {
			unsigned char *rec = h + users_off + i * MN_NSSMAP_USER_SIZE;
			put32(rec, name_off[i]);
			put32(rec + 4, un[i]->uid);
			put32(rec + 8, un[i]->gid);
			put32(rec + 12, put_str(&im, un[i]->gecos));
			put32(rec + 16, put_str(&im, un[i]->home));
			put32(rec + 20, put_str(&im, un[i]->shell));
			put32(rec + 24, put_list(&im, sgid + start[i], cnt[i]));
			put32(h + uids_off + 4 * i, ids[i].rec);
		}
		for (i = 0, k = 0; i < n_groups; i++) {
			unsigned char *rec = h + groups_off + i * MN_NSSMAP_GROUP_SIZE;
			for (j = 0; j < gn[i]->n_members; j++)
				tmp[j] = name_off[memb[k + j]];
			k += gn[i]->n_members;
			put32(rec, put_str(&im, gn[i]->name));
			put32(rec + 4, gn[i]->gid);
			put32(rec + 8, put_list(&im, tmp, (uint32_t)gn[i]->n_members));
			put32(h + gids_off + 4 * i, ids[n_users + i].rec);
		}
		memcpy(h, MN_NSSMAP_MAGIC, 8);
		put32(h + 8, MN_NSSMAP_VERSION);
		put64(h + 16, (uint64_t)expires);
		put32(h + 32, (uint32_t)total);
		put32(h + 36, (uint32_t)n_users);
		put32(h + 40, (uint32_t)n_groups);
		put32(h + 44, users_off);
		put32(h + 48, uids_off);
		put32(h + 52, groups_off);
		put32(h + 56, gids_off);
		put32(h + 60, im.data_off);
		if ((uint64_t)im.data_off + im.used != total) {
			snprintf(err, errlen, "internal error: size mismatch");
			r = MN_ERR_INTERNAL;
			goto out;
		}
		put64(h + 24, mn_nssmap_checksum(h, (size_t)total));
	}
	*ret = im.p;
	*ret_len = (size_t)total;
	im.p = NULL;
	r = MN_OK;
out:
	free(im.p);
	free(un);
	free(gn);
	free(ids);
	free(cnt);
	free(start);
	free(fill);
	free(name_off);
	free(sgid);
	free(memb);
	free(tmp);
	return r;
}

int mn_nssmap_write(const char *path, const struct mn_nss_user *users, size_t n_users,
                    const struct mn_nss_group *groups, size_t n_groups, time_t expires, char *err,
                    size_t errlen)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	int r;

	if (path == NULL || path[0] == '\0')
		return MN_ERR_INVALID_ARG;
	if ((r = mn_nssmap_build(users, n_users, groups, n_groups, expires, &buf, &len, err,
	                         errlen)) != 0)
		goto out;
	/* mn_file_write_atomic fchmods the new file: 0644 whatever the umask */
	r = mn_file_write_atomic(path, buf, len, 0644, err, errlen);
out:
	free(buf);
	return r;
}
