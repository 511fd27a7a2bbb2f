/*
 * mynumber crl import FILE...   verify CRLs (full or delta) against the trust anchors (and the
 *                               phone IACAs, for Document Signer CRLs) and index them for logins
 * mynumber crl refresh          import from the sources in [revocation.crl] source: URLs
 *                               (fetched with a size cap and a timeout) and directories of
 *                               *.crl / *.pem / *.der files dropped by an operator
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_crlidx.h"
#include "mn_err.h"
#include "mn_msg.h"

#ifndef MN_STATEDIR
#define MN_STATEDIR "/var/lib/mynumber"
#endif

#define FETCH_MAX     (512L * 1024 * 1024) /* the largest CRL accepted */
#define FETCH_TIMEOUT 300L                 /* seconds */
#define MAX_FILES     256

struct crl_ctx {
	struct mn_anchors *anchors; /* JPKI trust_anchors */
	struct mn_anchors *iaca;    /* [phone] mdoc_trust_anchors (NULL when unset) */
	STACK_OF(X509) *issuers;    /* both (borrowed references): who may sign a CRL */
	const char *dir;
};

static int import_one(struct crl_ctx *x, const char *path, int quiet)
{
	char err[512], idx[4096];

	if (mn_crl_import(path, x->issuers, time(NULL), x->dir, idx, sizeof(idx), err,
	                  sizeof(err)) != MN_OK) {
		if (!quiet)
			fprintf(stderr, "mynumber: %s: %s\n", path, err);
		return 1;
	}
	printf(_("CRL imported: %s\n"), idx);
	return 0;
}

static size_t fetch_write(char *p, size_t size, size_t n, void *arg)
{
	FILE *f = arg;

	if (ftell(f) + (long)(size * n) > FETCH_MAX)
		return 0; /* aborts the transfer */
	return fwrite(p, size, n, f);
}

/* Download url into a temporary file next to the indexes, then import it. */
static int fetch_import(struct crl_ctx *x, const char *url)
{
	char tmp[4096];
	CURL *c = NULL;
	CURLcode e;
	FILE *f = NULL;
	long status = 0;
	int fd, rc = 1;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.fetch.XXXXXX", x->dir) >= sizeof(tmp) ||
	    (fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		fprintf(stderr, "mynumber: %s: cannot make a temporary file\n", x->dir);
		return 1;
	}
	if ((f = fdopen(fd, "w+")) == NULL || (c = curl_easy_init()) == NULL) {
		if (f == NULL)
			close(fd);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	e = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (e != CURLE_OK || status != 200) {
		fprintf(stderr, "mynumber: %s: %s\n", url,
		        e != CURLE_OK ? curl_easy_strerror(e) : "HTTP status is not 200");
		goto out;
	}
	if (fflush(f) != 0)
		goto out;
	rc = import_one(x, tmp, 0);
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	if (f != NULL)
		fclose(f);
	unlink(tmp);
	return rc;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every CRL file of a directory. A delta may come before its base in name order, so what
 * fails is tried once more after the others.
 */
static int import_dir(struct crl_ctx *x, const char *dir)
{
	char *names[MAX_FILES], path[4096];
	int failed[MAX_FILES];
	struct dirent *e;
	size_t n = 0, i;
	int rc = 0, pass;
	DIR *d = opendir(dir);

	if (d == NULL) {
		fprintf(stderr, "mynumber: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL && n < MAX_FILES) {
		if (e->d_name[0] == '.' ||
		    !(has_suffix(e->d_name, ".crl") || has_suffix(e->d_name, ".pem") ||
		      has_suffix(e->d_name, ".der")))
			continue;
		if ((names[n] = strdup(e->d_name)) != NULL)
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n; i++)
		failed[i] = 1;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if (!failed[i] || (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
			                                   names[i]) >= sizeof(path))
				continue;
			failed[i] = import_one(x, path, pass == 0);
		}
	for (i = 0; i < n; i++) {
		rc |= failed[i];
		free(names[i]);
	}
	return rc;
}

int cmd_crl(struct cli *c, int argc, char **argv)
{
	struct crl_ctx x = {NULL, NULL, NULL, NULL};
	const char *src, *iaca_path;
	char err[512], *list = NULL, *tok, *save = NULL;
	int rc = 1, i;

	if (argc < 2 || (strcmp(argv[1], "import") == 0 && argc < 3) ||
	    (strcmp(argv[1], "refresh") == 0 && argc != 2) ||
	    (strcmp(argv[1], "import") != 0 && strcmp(argv[1], "refresh") != 0)) {
		fprintf(stderr, "usage: mynumber crl import FILE... | mynumber crl refresh\n");
		return 2;
	}
	x.dir = mn_conf_backend_get(c->conf, "crl", "dir");
	if (x.dir == NULL)
		x.dir = MN_STATEDIR "/crl";
	if (mn_anchors_load(mn_conf_get(c->conf, "", "trust_anchors"), &x.anchors, err,
	                    sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	/* a phone's document signer is revoked by a CRL of its IACA */
	iaca_path = mn_conf_get(c->conf, "phone", "mdoc_trust_anchors");
	if (iaca_path != NULL && iaca_path[0] != '\0' &&
	    mn_anchors_load(iaca_path, &x.iaca, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	if ((x.issuers = sk_X509_dup(mn_anchors_stack(x.anchors))) == NULL) {
		fprintf(stderr, "mynumber: %s\n", mn_strerror(MN_ERR_NOMEM));
		goto out;
	}
	for (i = 0; x.iaca != NULL && i < sk_X509_num(mn_anchors_stack(x.iaca)); i++)
		if (sk_X509_push(x.issuers, sk_X509_value(mn_anchors_stack(x.iaca), i)) <= 0) {
			fprintf(stderr, "mynumber: %s\n", mn_strerror(MN_ERR_NOMEM));
			goto out;
		}
	/* the index directory is made on first use, readable by the login helper */
	if (mkdir(x.dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mynumber: %s: %s\n", x.dir, strerror(errno));
		goto out;
	}
	rc = 0;
	if (strcmp(argv[1], "import") == 0) {
		for (i = 2; i < argc; i++)
			rc |= import_one(&x, argv[i], 0);
		goto out;
	}
	src = mn_conf_backend_get(c->conf, "crl", "source");
	if (src == NULL || (list = strdup(src)) == NULL) {
		fprintf(stderr, "mynumber: %s\n", _("no [revocation.crl] source is configured"));
		rc = 1;
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
		rc |= strncmp(tok, "http://", 7) == 0 || strncmp(tok, "https://", 8) == 0
		          ? fetch_import(&x, tok)
		          : import_dir(&x, tok);
	curl_global_cleanup();
out:
	free(list);
	sk_X509_free(x.issuers); /* the certificates belong to the anchor sets */
	mn_anchors_free(&x.iaca);
	mn_anchors_free(&x.anchors);
	return rc;
}
