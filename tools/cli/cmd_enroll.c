/* mynumber enroll [--renew] [--label TEXT] USER | mynumber enroll --phone [--label TEXT] USER */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/x509.h>
#include <security/pam_appl.h>
#include <security/pam_misc.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_enroll.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_phone.h"
#include "mn_store.h"
#include "mdoc/mn_pcsc_apdu.h"

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

/*
 * A phone: read and verify the mapping elements, store a random salt and
 * HMAC-SHA256(salt, values) with the IACA fingerprint; never the values.
 */
static int enroll_phone(struct cli *c, const char *user, const char *label)
{
	struct mn_store *store = NULL;
	struct mn_pcsc_apdu *card = NULL;
	struct mn_phone_binding pb;
	struct mn_ui ui;
	unsigned char *vals = NULL, salt[MN_PHONE_SALT_LEN];
	size_t vlen = 0, i;
	unsigned wait = 30, id = 0;
	const char *path = mn_conf_get(c->conf, "", "store");
	char err[512];
	time_t now = time(NULL);
	struct tm tm;
	int lock = -1, rc = 1, r;

	memset(&pb, 0, sizeof(pb));
	if (!mn_phone_enabled(c->conf)) {
		fprintf(stderr, "mynumber: %s\n",
		        _("phone login is not configured: set [phone] mdoc_trust_anchors"));
		return 1;
	}
	if (mn_store_lock(path, &lock, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if (cli_load_store(c, &store) != 0)
		goto out;
	cli_ui(c, &ui);
	mn_conf_get_uint(c->conf, "", "card_wait", &wait);
	fprintf(stderr, "mynumber: %s\n", _("Hold the phone over the reader."));
	if ((r = mn_pcsc_apdu_open(NULL, wait * 1000u, &card)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n",
		        r == MN_ERR_NO_TOKEN ? _("no phone on the reader in time")
		                             : mn_strerror(r));
		goto out;
	}
	if (mn_phone_present(c->conf, card, &ui, now, &vals, &vlen, pb.iaca) != MN_RES_OK) {
		fprintf(stderr, "mynumber: %s\n", _("enrollment failed"));
		goto out;
	}
	/* the same phone already enrolled for this user (its hash under each record's salt) */
	for (i = 0; i < mn_store_phone_count(store); i++) {
		const struct mn_phone_binding *o = mn_store_phone_at(store, i);
		unsigned char os[MN_PHONE_SALT_LEN];
		char oh[65];
		size_t k;
		unsigned hi, lo;
		int bad = 0;

		if (strcmp(o->user, user) != 0 || strcmp(o->iaca, pb.iaca) != 0)
			continue;
		for (k = 0; k < sizeof(os) && !bad; k++) {
			bad = sscanf(o->salt + 2 * k, "%1x%1x", &hi, &lo) != 2;
			os[k] = (unsigned char)(hi << 4 | lo);
		}
		if (!bad && mn_phone_hmac_hex(os, sizeof(os), vals, vlen, oh) == MN_OK &&
		    strcmp(oh, o->hmac) == 0) {
			printf("%s\n", _("This phone is already enrolled for this user."));
			rc = 0;
			goto out;
		}
	}
	snprintf(pb.user, sizeof(pb.user), "%s", user);
	snprintf(pb.label, sizeof(pb.label), "%s", label != NULL ? label : "My Number Card");
	if (RAND_bytes(salt, sizeof(salt)) != 1 || gmtime_r(&now, &tm) == NULL ||
	    strftime(pb.created, sizeof(pb.created), "%Y%m%d%H%M%SZ", &tm) == 0 ||
	    mn_phone_hmac_hex(salt, sizeof(salt), vals, vlen, pb.hmac) != MN_OK)
		goto out;
	for (i = 0; i < sizeof(salt); i++)
		snprintf(pb.salt + 2 * i, 3, "%02x", salt[i]);
	r = mn_store_phone_add(store, &pb, &id);
	if (r == MN_ERR_INVALID_ARG) {
		printf("%s\n", _("This phone is already enrolled for this user."));
		rc = 0;
		goto out;
	}
	if (r != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", _("cannot record the enrollment"));
		goto out;
	}
	if (mn_store_save(store, path, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Enrolled %s (id %u): %s (phone), hash %.8s.\n"), user, id, pb.label, pb.hmac);
	rc = 0;
out:
	explicit_bzero(salt, sizeof(salt));
	mn_phone_values_free(&vals, vlen);
	mn_pcsc_apdu_free(&card);
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return rc;
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
	int renew = 0, phone = 0, lock = -1, rc = 1, a, had_token = 0, had_any = 0;

	memset(&out, 0, sizeof(out));
	memset(&b, 0, sizeof(b));
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--renew") == 0)
			renew = 1;
		else if (strcmp(argv[a], "--phone") == 0)
			phone = 1;
		else if (strcmp(argv[a], "--label") == 0 && a + 1 < argc)
			label = argv[++a];
		else if (user == NULL && argv[a][0] != '-')
			user = argv[a];
		else
			user = NULL, a = argc;
	}
	if (user == NULL || (phone && renew)) {
		fprintf(stderr, "usage: mynumber enroll [--renew] [--label TEXT] USER\n"
		                "       mynumber enroll --phone [--label TEXT] USER\n");
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
	if (phone)
		return enroll_phone(c, user, label);
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
