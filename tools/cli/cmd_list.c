/* mynumber list [USER] / mynumber remove USER [ID] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_store.h"

static const char *kind_name(enum mn_token_kind k)
{
	return k == MN_TOKEN_ANDROID ? "android" : k == MN_TOKEN_IPHONE ? "iphone" : "card";
}

int cmd_list(struct cli *c, int argc, char **argv)
{
	struct mn_store *store = NULL;
	const char *user = argc > 1 ? argv[1] : NULL;
	size_t i, n, shown = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: mynumber list [USER]\n");
		return 2;
	}
	if (cli_load_store(c, user, &store, NULL) != 0)
		return 1;
	n = mn_store_count(store);
	for (i = 0; i < n; i++) {
		const struct mn_binding *b = mn_store_at(store, i);
		if (user != NULL && strcmp(user, b->user) != 0)
			continue;
		if (shown++ == 0)
			printf("%-16s %4s %-8s %-16s %-15s %-16s %s\n", "USER", "ID", "TOKEN",
			       "TOKEN-SERIAL", "NOT-AFTER", "SHA256", "LABEL");
		printf("%-16s %4u %-8s %-16s %-15s %.16s %s\n", b->user, b->id, kind_name(b->kind),
		       b->token_serial[0] ? b->token_serial : "-", b->not_after, b->sha256,
		       b->label);
	}
	n = mn_store_phone_count(store);
	for (i = 0; i < n; i++) {
		const struct mn_phone_binding *p = mn_store_phone_at(store, i);
		if (user != NULL && strcmp(user, p->user) != 0)
			continue;
		if (shown++ == 0)
			printf("%-16s %4s %-8s %-16s %-15s %-16s %s\n", "USER", "ID", "TOKEN",
			       "TOKEN-SERIAL", "NOT-AFTER", "SHA256", "LABEL");
		/* kind, hash prefix and label only: never the element values (a phone
		 * enrollment has no expiry; the mdoc validity is checked at every login) */
		printf("%-16s %4u %-8s %-16s %-15s %.16s %s\n", p->user, p->id, "phone", "-", "-",
		       p->hmac, p->label);
	}
	if (shown == 0)
		printf("%s\n", _("No enrollments."));
	mn_store_free(&store);
	return 0;
}

int cmd_remove(struct cli *c, int argc, char **argv)
{
	struct mn_store *store = NULL;
	const char *path = mn_conf_get(c->conf, "", "store");
	char err[512], *end;
	unsigned long id = 0;
	size_t removed = 0;
	int lock = -1, rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: mynumber remove USER [ID]\n");
		return 2;
	}
	if (argc == 3) {
		id = strtoul(argv[2], &end, 10);
		if (*end != '\0' || id == 0 || id > 0x7FFFFFFF) {
			fprintf(stderr, "mynumber: %s\n",
			        _("the enrollment ID is a positive number"));
			return 2;
		}
	}
	if (strcmp(mn_conf_get(c->conf, "", "store_backend"), "ldap") == 0) {
		fprintf(stderr, "mynumber: %s\n",
		        _("the enrollments are kept in the LDAP directory: delete the user's "
		          "mynumberRecord value there"));
		return 1;
	}
	if (mn_store_lock(path, &lock, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if (mn_store_load(path, &store, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	if (mn_store_remove(store, argv[1], (unsigned)id, &removed) != MN_OK || removed == 0) {
		fprintf(stderr, "mynumber: %s\n", _("no such enrollment"));
		goto out;
	}
	if (mn_store_save(store, path, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Removed %zu enrollment(s).\n"), removed);
	rc = cli_publish_accounts(c, store);
out:
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return rc;
}
