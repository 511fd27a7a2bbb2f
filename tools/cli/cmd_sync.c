/*
 * mynumber sync: store_backend = ldap. Fetch every mynumberUser entry of the directory (paged),
 * replace the local cache with it, and publish the managed accounts for libnss_mynumber with
 * an expiry of now + [ldap] cache_max_age (a map built from the directory stops answering once
 * it is older than the cache may be). Run by a timer (doc/ldap.md).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mn_err.h"
#include "mn_ldap.h"
#include "mn_msg.h"
#include "mn_publish.h"
#include "mn_store.h"
#include "mn_storesrc.h"

static void print_note(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "mynumber: %s\n", text);
}

int cmd_sync(struct cli *c, int argc, char **argv)
{
	struct mn_ldap *l = NULL;
	struct mn_store *store = NULL;
	size_t skipped = 0, users = 0;
	unsigned max_age = 0;
	time_t now = time(NULL);
	char err[512];
	int rc = 1;

	if (argc != 1) {
		fprintf(stderr, "usage: mynumber sync\n");
		return 2;
	}
	if (strcmp(mn_conf_get(c->conf, "", "store_backend"), "ldap") != 0) {
		fprintf(
		    stderr, "mynumber: %s\n",
		    _("sync needs store_backend = ldap (the enrollments are in the store file)"));
		return 1;
	}
	mn_conf_get_uint(c->conf, "ldap", "cache_max_age", &max_age);
	if (mn_ldap_open(c->conf, &l, err, sizeof(err)) != MN_OK ||
	    mn_ldap_fetch(l, NULL, &store, &skipped, print_note, NULL, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		fprintf(stderr, "mynumber: %s\n",
		        _("the directory could not be read; the cache and the account map are "
		          "unchanged"));
		goto out;
	}
	if (mn_store_cache_replace(c->conf, store, now, &users, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Fetched %zu certificate, %zu phone and %zu account record(s) of %zu user(s) from "
	         "the directory.\n"),
	       mn_store_count(store), mn_store_phone_count(store), mn_store_account_count(store),
	       users);
	if (skipped > 0)
		printf(_("Skipped %zu invalid value(s) or entries (see the messages above).\n"),
		       skipped);
	rc = cli_publish_report(c, store, now + (time_t)max_age);
out:
	mn_store_free(&store);
	mn_ldap_close(&l);
	return rc;
}
