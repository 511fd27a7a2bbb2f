/*
 * mynumber accounts [list] | publish | check: the managed accounts (people enrolled with
 * --create-account who have no /etc/passwd line) and the map libnss_mynumber serves them from.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_nssmap.h"
#include "mn_publish.h"
#include "mn_store.h"

static int accounts_list(struct cli *c, const struct mn_store *store)
{
	const char *tmpl = mn_conf_get(c->conf, "accounts", "home");
	char home[256];
	size_t i;

	for (i = 0; i < mn_store_account_count(store); i++) {
		const struct mn_account *a = mn_store_account_at(store, i);
		if (mn_accounts_home(tmpl, a->user, home, sizeof(home)) != MN_OK)
			snprintf(home, sizeof(home), "?");
		printf("%s\t%u\t%s\t%s\t%s\n", a->user, a->uid, home,
		       mn_conf_get(c->conf, "accounts", "shell"), a->created);
	}
	return 0;
}

static int accounts_check(struct cli *c)
{
	const char *map = mn_conf_get(c->conf, "accounts", "nss_map");
	size_t users = 0, groups = 0;
	time_t expires = 0;
	char err[512];

	if (mn_nssmap_check(map, &users, &groups, &expires, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		fprintf(stderr, "mynumber: %s\n",
		        _("managed accounts cannot be looked up until the map is rewritten: run "
		          "'mynumber accounts publish' (or 'mynumber sync' with a directory)"));
		return 1;
	}
	printf(_("%s: %zu accounts, %zu groups"), map, users, groups);
	if (expires != 0) {
		char when[32];
		struct tm tm;
		if (gmtime_r(&expires, &tm) != NULL &&
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
			printf(_(", valid until %s%s"), when,
			       expires < time(NULL) ? _(" (expired: run 'mynumber sync')") : "");
	}
	printf("\n");
	return 0;
}

int cli_publish_report(struct cli *c, const struct mn_store *store, time_t expires)
{
	size_t published = 0, skipped = 0;
	char err[512];

	if (mn_accounts_publish_ex(c->conf, store, expires, &published, &skipped, err,
	                           sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	printf(_("Published %zu managed account(s) to %s.\n"), published,
	       mn_conf_get(c->conf, "accounts", "nss_map"));
	if (skipped > 0)
		printf(_("Left out %zu account(s) whose uid is outside [accounts] "
		         "uid_min..uid_max.\n"),
		       skipped);
	return 0;
}

int cmd_accounts(struct cli *c, int argc, char **argv)
{
	const char *sub = argc >= 2 ? argv[1] : "list";
	const char *path = mn_conf_get(c->conf, "", "store");
	struct mn_store *store = NULL;
	char err[512];
	int rc = 1, lock = -1;

	if (argc > 2 || (strcmp(sub, "list") != 0 && strcmp(sub, "publish") != 0 &&
	                 strcmp(sub, "check") != 0)) {
		fprintf(stderr, "usage: mynumber accounts [list | publish | check]\n");
		return 2;
	}
	if (strcmp(sub, "check") == 0)
		return accounts_check(c);
	if (strcmp(mn_conf_get(c->conf, "", "store_backend"), "ldap") == 0) {
		fprintf(stderr, "mynumber: %s\n",
		        _("the accounts are kept in the LDAP directory: 'mynumber sync' publishes "
		          "them"));
		return 1;
	}
	/* publish: no enrollment may change the store between reading it and the map */
	if (strcmp(sub, "publish") == 0 && mn_store_lock(path, &lock, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if (mn_store_load(path, &store, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	if (strcmp(sub, "list") == 0) {
		rc = accounts_list(c, store);
		goto out;
	}
	rc = cli_publish_report(c, store, 0);
out:
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return rc;
}
