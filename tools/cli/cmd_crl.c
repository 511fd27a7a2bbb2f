/* mynumber crl import FILE: verify a CRL against the trust anchors and index it for logins. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_crlidx.h"
#include "mn_err.h"
#include "mn_msg.h"

#ifndef MN_STATEDIR
#define MN_STATEDIR "/var/lib/mynumber"
#endif

int cmd_crl(struct cli *c, int argc, char **argv)
{
	struct mn_anchors *anchors = NULL;
	char err[512], path[4096];
	const char *dir = mn_conf_backend_get(c->conf, "crl", "dir");
	int rc = 1;

	if (dir == NULL)
		dir = MN_STATEDIR "/crl";

	if (argc != 3 || strcmp(argv[1], "import") != 0) {
		fprintf(stderr, "usage: mynumber crl import FILE\n");
		return 2;
	}
	if (mn_anchors_load(mn_conf_get(c->conf, "", "trust_anchors"), &anchors, err,
	                    sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	/* the index directory is made on first use, readable by the login helper */
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "mynumber: %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (mn_crl_import(argv[2], mn_anchors_stack(anchors), time(NULL), dir, path, sizeof(path),
	                  err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s: %s\n", argv[2], err);
		goto out;
	}
	printf(_("CRL imported: %s\n"), path);
	rc = 0;
out:
	mn_anchors_free(&anchors);
	return rc;
}
