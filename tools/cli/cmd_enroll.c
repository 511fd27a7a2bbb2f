/* mynumber enroll [--renew] [--label TEXT] USER */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>
#include <security/pam_appl.h>
#include <security/pam_misc.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_enroll.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_store.h"

/* PAM service that checks the account password before a renewed certificate is bound. */
#define RENEW_SERVICE "mynumber-renew"

static int user_exists(const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	return getpwnam_r(user, &pw, buf, sizeof(buf), &res) == 0 && res != NULL;
}

/* The account password, through PAM (service mynumber-renew). */
static int prove_password(const char *user)
{
	struct pam_conv conv = {misc_conv, NULL};
	pam_handle_t *pamh = NULL;
	int r;

	r = pam_start(RENEW_SERVICE, user, &conv, &pamh);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(pamh, 0);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(pamh, 0);
	if (r != PAM_SUCCESS)
		fprintf(stderr, "mynumber: %s: %s\n", _("the account password was not accepted"),
		        pam_strerror(pamh, r));
	pam_end(pamh, r);
	return r == PAM_SUCCESS ? 0 : 1;
}

int cmd_enroll(struct cli *c, int argc, char **argv)
{
	struct mn_store *store = NULL;
	struct mn_binding b;
	struct mn_auth_out out;
	struct mn_ui ui;
	const char *user = NULL, *label = NULL, *path;
	char err[512];
	unsigned id = 0;
	size_t i, removed = 0, n;
	int renew = 0, lock = -1, rc = 1, a, had_token = 0, had_any = 0;

	memset(&out, 0, sizeof(out));
	memset(&b, 0, sizeof(b));
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--renew") == 0)
			renew = 1;
		else if (strcmp(argv[a], "--label") == 0 && a + 1 < argc)
			label = argv[++a];
		else if (user == NULL && argv[a][0] != '-')
			user = argv[a];
		else
			user = NULL, a = argc;
	}
	if (user == NULL) {
		fprintf(stderr, "usage: mynumber enroll [--renew] [--label TEXT] USER\n");
		return 2;
	}
	if (label != NULL && strlen(label) > 64) {
		fprintf(stderr, "mynumber: %s\n", _("the label is at most 64 bytes"));
		return 2;
	}
	if (!user_exists(user)) {
		fprintf(stderr, "mynumber: %s: %s\n", user, _("no such user"));
		return 1;
	}
	path = mn_conf_get(c->conf, "", "store");
	if (mn_store_lock(path, &lock, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if (cli_load_store(c, &store) != 0)
		goto out;
	n = mn_store_count(store);
	for (i = 0; i < n; i++)
		if (strcmp(mn_store_at(store, i)->user, user) == 0)
			had_any = 1;
	if (renew && !had_any) {
		fprintf(stderr, "mynumber: %s\n",
		        _("--renew replaces an enrollment, but this user has none"));
		goto out;
	}
	cli_ui(c, &ui);
	if (mn_auth_run(c->conf, store, user, MN_AUTH_ENROLL, &ui, time(NULL), &out) != MN_OK ||
	    out.result != MN_RES_OK) {
		fprintf(stderr, "mynumber: %s\n", _("enrollment failed"));
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct mn_binding *o = mn_store_at(store, i);
		if (strcmp(o->user, user) != 0)
			continue;
		if (strcmp(o->sha256, out.sha256) == 0) {
			printf("%s\n", _("This certificate is already enrolled for this user."));
			rc = 0;
			goto out;
		}
		if (o->token_serial[0] != '\0' && strcmp(o->token_serial, out.token.serial) == 0)
			had_token = 1;
	}
	if (had_token && !renew) {
		fprintf(stderr, "mynumber: %s\n",
		        _("this card is enrolled with an older certificate: use --renew"));
		goto out;
	}
	if (renew && prove_password(user) != 0)
		goto out;
	if (mn_binding_from_cert(user, out.cert, out.token.kind, out.token.serial,
	                         label != NULL ? label : out.token.label, &b) != MN_OK ||
	    mn_store_add(store, &b, &id) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", _("cannot record the enrollment"));
		goto out;
	}
	if (renew) {
		/* the renewed card's old certificates go */
		for (i = mn_store_count(store); i-- > 0;) {
			const struct mn_binding *o = mn_store_at(store, i);
			if (strcmp(o->user, user) == 0 && o->id != id &&
			    strcmp(o->token_serial, out.token.serial) == 0 && o->token_serial[0]) {
				size_t k;
				if (mn_store_remove(store, user, o->id, &k) == MN_OK)
					removed += k;
			}
		}
	}
	if (mn_store_save(store, path, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Enrolled %s (id %u): %s, certificate %s, valid until %s.\n"), user, id, b.label,
	       b.sha256, b.not_after);
	if (removed > 0)
		printf(_("Replaced %zu older enrollment(s) of this card.\n"), removed);
	rc = 0;
out:
	mn_binding_release(&b);
	mn_auth_out_clear(&out);
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return rc;
}
