#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_err.h"
#include "mn_nssmap.h"
#include "mn_publish.h"

#define HOME_MAX 256

int mn_accounts_home(const char *tmpl, const char *user, char *out, size_t outlen)
{
	size_t o = 0, n;
	const char *p;

	if (tmpl == NULL || user == NULL || out == NULL || outlen == 0 || tmpl[0] != '/')
		return MN_ERR_INVALID_ARG;
	for (p = tmpl; *p != '\0'; p++) {
		const char *add = p;
		n = 1;
		if (*p == '%') {
			if (p[1] == 'u') {
				add = user;
				n = strlen(user);
			} else if (p[1] != '%') {
				return MN_ERR_FORMAT;
			}
			p++;
		} else if (*p == ':' || (unsigned char)*p < 0x20 || *p == 0x7F) {
			return MN_ERR_FORMAT;
		}
		if (n >= outlen - o)
			return MN_ERR_TOO_LARGE;
		memcpy(out + o, add, n);
		o += n;
	}
	out[o] = '\0';
	/* "/home/%u" with a user ".." cannot happen (names never start with '.'), but a
	 * template like "/srv/%u/../x" is the administrator's choice; refuse any dot segment */
	if (strstr(out, "/../") != NULL || strstr(out, "/./") != NULL ||
	    (o >= 3 && strcmp(out + o - 3, "/..") == 0) ||
	    (o >= 2 && strcmp(out + o - 2, "/.") == 0))
		return MN_ERR_FORMAT;
	return MN_OK;
}

int mn_accounts_publish_ex(const struct mn_conf *conf, const struct mn_store *store, time_t expires,
                           size_t *ret_published, size_t *ret_skipped, char *err, size_t errlen)
{
	struct mn_nss_user *users = NULL;
	struct mn_nss_group *groups = NULL;
	const char **members = NULL;
	char *homes = NULL;
	size_t n = mn_store_account_count(store), nu = 0, ng = 0, skipped = 0, i;
	unsigned lo = 0, hi = 0, ggid = 0;
	const char *tmpl, *shell, *gname, *path;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (conf == NULL || store == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = mn_conf_get_uint(conf, "accounts", "uid_min", &lo)) != MN_OK ||
	    (r = mn_conf_get_uint(conf, "accounts", "uid_max", &hi)) != MN_OK ||
	    (r = mn_conf_get_uint(conf, "accounts", "group_gid", &ggid)) != MN_OK)
		return r;
	tmpl = mn_conf_get(conf, "accounts", "home");
	shell = mn_conf_get(conf, "accounts", "shell");
	gname = mn_conf_get(conf, "accounts", "group");
	path = mn_conf_get(conf, "accounts", "nss_map");
	users = calloc(n + 1, sizeof(*users));
	groups = calloc(n + 1, sizeof(*groups));
	members = calloc(n + 1, sizeof(*members));
	homes = calloc(n + 1, HOME_MAX);
	if (users == NULL || groups == NULL || members == NULL || homes == NULL) {
		r = MN_ERR_NOMEM;
		mn_errf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mn_account *a = mn_store_account_at(store, i);
		char *home = homes + nu * HOME_MAX;

		if (a->uid < lo || a->uid > hi) {
			skipped++;
			continue;
		}
		if (gname[0] != '\0' && strcmp(a->user, gname) == 0) {
			r = MN_ERR_FORMAT;
			mn_errf(err, errlen, "account %s has the name of [accounts] group",
			        a->user);
			goto out;
		}
		if ((r = mn_accounts_home(tmpl, a->user, home, HOME_MAX)) != MN_OK) {
			mn_errf(err, errlen, "[accounts] home gives no safe path for %s", a->user);
			r = MN_ERR_FORMAT;
			goto out;
		}
		users[nu] = (struct mn_nss_user){a->user, a->uid, a->uid, a->gecos, home, shell};
		groups[ng++] = (struct mn_nss_group){a->user, a->uid, NULL, 0};
		members[nu] = a->user;
		nu++;
	}
	if (gname[0] != '\0')
		groups[ng++] = (struct mn_nss_group){gname, ggid, members, nu};
	if ((r = mn_nssmap_write(path, users, nu, groups, ng, expires, err, errlen)) != MN_OK)
		goto out;
	if (ret_published != NULL)
		*ret_published = nu;
	if (ret_skipped != NULL)
		*ret_skipped = skipped;
out:
	free(users);
	free(groups);
	free(members);
	free(homes);
	return r;
}

int mn_accounts_publish(const struct mn_conf *conf, const struct mn_store *store, time_t expires,
                        char *err, size_t errlen)
{
	return mn_accounts_publish_ex(conf, store, expires, NULL, NULL, err, errlen);
}
