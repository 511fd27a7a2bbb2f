/*
 * Test tool for the managed-account map (lib/mn_nssmap.h):
 *   nssmap-tool write OUT [EXPIRES] < TSV   publish a map; TSV lines are
 *       u NAME UID GID GECOS HOME SHELL     (TAB-separated)
 *       g NAME GID MEMBER,MEMBER,...        (members may be empty)
 *   nssmap-tool check PATH                  mn_nssmap_check(): "ok users=N groups=M expires=T"
 *   nssmap-tool gen N OUT [PASSWD]          N synthetic users mn000000.. (uid 200000 + i, gid
 *       300000 + i / 100), a group g0000.. (gid 300000 + j) per 100 users with them as
 *       members; PASSWD gets the same users as passwd(5) lines
 * Exit 0 on success, 1 with the reason on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mn_err.h"
#include "mn_nssmap.h"

#define MAXF 8

static int split(char *line, char **f, int max, char sep)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p != '\0' && n < max; p++)
		if (*p == sep) {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static int cmd_write(const char *out, time_t expires)
{
	struct mn_nss_user *u = NULL;
	struct mn_nss_group *g = NULL;
	size_t nu = 0, ng = 0, cap_u = 0, cap_g = 0;
	char *line = NULL, *f[MAXF], err[256], **copies = NULL;
	size_t llen = 0, ncopies = 0, cap_c = 0, i;
	ssize_t n;
	int r = 1;

	while ((n = getline(&line, &llen, stdin)) >= 0) {
		int nf;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (ncopies == cap_c) {
			char **c = realloc(copies, (cap_c = cap_c * 2 + 16) * sizeof(*c));
			if (c == NULL)
				goto out;
			copies = c;
		}
		/* the fields point into this copy, kept until the map is written */
		if ((copies[ncopies] = strdup(line)) == NULL)
			goto out;
		nf = split(copies[ncopies++], f, MAXF, '\t');
		if (strcmp(f[0], "u") == 0 && nf == 7) {
			if (nu == cap_u &&
			    (u = realloc(u, (cap_u = cap_u * 2 + 16) * sizeof(*u))) == NULL)
				goto out;
			u[nu++] = (struct mn_nss_user){f[1],
			                               (uint32_t)strtoul(f[2], NULL, 10),
			                               (uint32_t)strtoul(f[3], NULL, 10),
			                               f[4],
			                               f[5],
			                               f[6]};
		} else if (strcmp(f[0], "g") == 0 && nf == 4) {
			char **m = calloc(strlen(f[3]) + 2, sizeof(*m));
			size_t nm = 0;
			if (m == NULL)
				goto out;
			if (f[3][0] != '\0')
				nm = (size_t)split(f[3], m, (int)strlen(f[3]) + 1, ',');
			if (ng == cap_g &&
			    (g = realloc(g, (cap_g = cap_g * 2 + 16) * sizeof(*g))) == NULL) {
				free(m);
				goto out;
			}
			g[ng++] = (struct mn_nss_group){f[1], (uint32_t)strtoul(f[2], NULL, 10),
			                                (const char *const *)m, nm};
		} else {
			fprintf(stderr, "bad TSV line: %s\n", line);
			goto out;
		}
	}
	if ((r = mn_nssmap_write(out, u, nu, g, ng, expires, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s (%s)\n", err, mn_strerror(r));
		r = 1;
	}
out:
	for (i = 0; i < ng; i++)
		free((void *)g[i].members);
	free(g);
	free(u);
	for (i = 0; i < ncopies; i++)
		free(copies[i]);
	free(copies);
	free(line);
	return r;
}

static int cmd_check(const char *path)
{
	size_t nu, ng;
	time_t exp;
	char err[256];
	int r;

	if ((r = mn_nssmap_check(path, &nu, &ng, &exp, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s (%s)\n", err, mn_strerror(r));
		return 1;
	}
	printf("ok users=%zu groups=%zu expires=%lld\n", nu, ng, (long long)exp);
	return 0;
}

static int cmd_gen(size_t n, const char *out, const char *passwd)
{
	struct mn_nss_user *u = calloc(n + 1, sizeof(*u));
	size_t ng = (n + 99) / 100, i;
	struct mn_nss_group *g = calloc(ng + 1, sizeof(*g));
	const char **mem = calloc(n + 1, sizeof(*mem));
	char err[256], *s;
	FILE *pf = NULL;
	int r = 1;

	if (u == NULL || g == NULL || mem == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (asprintf(&s, "mn%06zu", i) < 0)
			goto out;
		u[i].name = mem[i] = s;
		u[i].uid = (uint32_t)(200000 + i);
		u[i].gid = (uint32_t)(300000 + i / 100);
		if (asprintf(&s, "Managed User %zu", i) < 0)
			goto out;
		u[i].gecos = s;
		if (asprintf(&s, "/home/mn%06zu", i) < 0)
			goto out;
		u[i].home = s;
		u[i].shell = "/bin/bash";
	}
	for (i = 0; i < ng; i++) {
		if (asprintf(&s, "g%04zu", i) < 0)
			goto out;
		g[i].name = s;
		g[i].gid = (uint32_t)(300000 + i);
		g[i].members = mem + i * 100;
		g[i].n_members = n - i * 100 < 100 ? n - i * 100 : 100;
	}
	if ((r = mn_nssmap_write(out, u, n, g, ng, 0, err, sizeof(err))) != 0) {
		fprintf(stderr, "%s (%s)\n", err, mn_strerror(r));
		r = 1;
		goto out;
	}
	r = 1;
	if (passwd != NULL) {
		if ((pf = fopen(passwd, "w")) == NULL)
			goto out;
		for (i = 0; i < n; i++)
			fprintf(pf, "%s:x:%u:%u:%s:%s:%s\n", u[i].name, u[i].uid, u[i].gid,
			        u[i].gecos, u[i].home, u[i].shell);
		if (fclose(pf) != 0)
			goto out;
	}
	r = 0;
out:
	/* calloc'ed arrays: the unset entries are NULL */
	for (i = 0; u != NULL && i < n; i++) {
		free((void *)u[i].name);
		free((void *)u[i].gecos);
		free((void *)u[i].home);
	}
	for (i = 0; g != NULL && i < ng; i++)
		free((void *)g[i].name);
	free(u);
	free(g);
	free(mem);
	return r;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "write") == 0)
		return cmd_write(argv[2], argc > 3 ? (time_t)strtoll(argv[3], NULL, 10) : 0);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	if (argc >= 4 && strcmp(argv[1], "gen") == 0)
		return cmd_gen(strtoul(argv[2], NULL, 10), argv[3], argc > 4 ? argv[4] : NULL);
	fprintf(stderr, "usage: nssmap-tool write OUT [EXPIRES] < TSV | check PATH | gen N OUT "
	                "[PASSWD]\n");
	return 2;
}
