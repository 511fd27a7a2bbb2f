/*
 * mynumber enroll [--renew] [--create-account] [--label TEXT] USER
 * mynumber enroll --phone [--create-account] [--label TEXT] USER
 * mynumber enroll [--phone] --ldif [--label TEXT] USER   (store_backend = ldap)
 */
#include "config.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
#include "mn_publish.h"
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

/* What the enrollment does besides binding the token. */
struct enroll_opts {
	const char *label;
	int create_account; /* --create-account: a managed account when the user has none */
	int ldif;           /* --ldif: print the directory change instead of writing the file */
};

/*
 * The store to enroll into: the file, locked (*lock) until the enrollment is saved, or with
 * --ldif an empty one (the directory holds the records).
 */
static int open_store(const char *path, int ldif, int *lock, struct mn_store **ret)
{
	char err[512];

	if (ldif)
		return mn_store_new(ret) == MN_OK ? 0 : 1;
	if (mn_store_lock(path, lock, err, sizeof(err)) != MN_OK ||
	    mn_store_load(path, ret, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	return 0;
}

/*
 * Before the token is asked for: may USER be enrolled, and does a managed account have to
 * be created (*create)?
 */
static int check_user(const struct mn_store *store, const char *user, int create_account,
                      int *create)
{
	*create = 0;
	if (create_account && mn_store_account_find(store, user) == NULL) {
		if (user_exists(user)) {
			fprintf(stderr, "mynumber: %s: %s\n", user,
			        _("already an account on this system; enroll it without "
			          "--create-account"));
			return 1;
		}
		*create = 1;
		return 0;
	}
	if (!user_exists(user) && mn_store_account_find(store, user) == NULL) {
		fprintf(stderr, "mynumber: %s: %s\n", user,
		        _("no such user (--create-account makes a managed account)"));
		return 1;
	}
	return 0;
}

static int uid_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* The lowest uid of [accounts] uid_min..uid_max free in the store, passwd and group. */
static int free_uid(struct cli *c, const struct mn_store *store, unsigned *ret)
{
	size_t n = mn_store_account_count(store), i, k = 0;
	unsigned lo = 0, hi = 0, uid, *used;
	int rc = 1;

	if (mn_conf_get_uint(c->conf, "accounts", "uid_min", &lo) != MN_OK ||
	    mn_conf_get_uint(c->conf, "accounts", "uid_max", &hi) != MN_OK ||
	    (used = calloc(n + 1, sizeof(*used))) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		used[i] = mn_store_account_at(store, i)->uid;
	qsort(used, n, sizeof(*used), uid_cmp);
	for (uid = lo; uid <= hi && uid != 0; uid++) {
		while (k < n && used[k] < uid)
			k++;
		if (k < n && used[k] == uid)
			continue;
		if (getpwuid(uid) == NULL && getgrgid(uid) == NULL) {
			*ret = uid;
			rc = 0;
			break;
		}
	}
	free(used);
	if (rc != 0)
		fprintf(stderr, "mynumber: %s\n",
		        _("no free uid left in [accounts] uid_min..uid_max"));
	return rc;
}

/* Add a managed account for user to the store (not yet saved). */
static int add_account(struct cli *c, struct mn_store *store, const char *user, unsigned *ret_uid)
{
	struct mn_account a;
	time_t now = time(NULL);
	struct tm tm;

	memset(&a, 0, sizeof(a));
	snprintf(a.user, sizeof(a.user), "%s", user);
	if (free_uid(c, store, &a.uid) != 0)
		return 1;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(a.created, sizeof(a.created), "%Y%m%d%H%M%SZ", &tm) == 0 ||
	    mn_store_account_add(store, &a, NULL) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", _("cannot record the managed account"));
		return 1;
	}
	*ret_uid = a.uid;
	return 0;
}

/*
 * After the store was saved: refresh the map of managed accounts when there are any (or
 * there were: a map that exists is rewritten so removed accounts go).
 */
int cli_publish_accounts(struct cli *c, const struct mn_store *store)
{
	const char *map = mn_conf_get(c->conf, "accounts", "nss_map");
	char err[512];

	if (mn_store_account_count(store) == 0 && access(map, F_OK) != 0)
		return 0;
	if (mn_accounts_publish(c->conf, store, 0, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		fprintf(stderr, "mynumber: %s\n",
		        _("the enrollment is saved, but the account map is not: run "
		          "'mynumber accounts publish'"));
		return 1;
	}
	return 0;
}

/*
 * --ldif: the store records of this enrollment as an LDIF change for the user's entry
 * (store_backend = ldap: the directory, not this host, holds the bindings).
 */
static int print_ldif(struct cli *c, const struct mn_store *one, const char *user)
{
	char *text = NULL, *line, *nl, *rec;
	size_t len = 0;
	int rc = 1;

	if (mn_store_format(one, &text, &len) != MN_OK)
		return 1;
	printf("# %s\n", _("apply with ldapmodify; the entry needs objectClass mynumberUser"));
	printf("dn: %s=%s,%s\nchangetype: modify\nadd: mynumberRecord\n",
	       mn_conf_get(c->conf, "ldap", "user_attribute"), user,
	       mn_conf_get(c->conf, "ldap", "base"));
	line = strchr(text, '\n'); /* past the header */
	while (line != NULL && *++line != '\0') {
		if ((nl = strchr(line, '\n')) == NULL)
			goto out;
		*nl = '\0';
		/* drop the user and id fields */
		if ((rec = strchr(line, '\t')) == NULL || (rec = strchr(rec + 1, '\t')) == NULL)
			goto out;
		printf("mynumberRecord: %s\n", rec + 1);
		line = nl;
	}
	printf("-\n");
	rc = 0;
out:
	free(text);
	return rc;
}

/*
 * A phone: read and verify the mapping elements, store a random salt and
 * HMAC-SHA256(salt, values) with the IACA fingerprint; never the values.
 */
static int enroll_phone(struct cli *c, const char *user, const struct enroll_opts *opt)
{
	const char *label = opt->label;
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
	unsigned uid = 0;
	int lock = -1, rc = 1, r, create = 0;

	memset(&pb, 0, sizeof(pb));
	if (!mn_phone_enabled(c->conf)) {
		fprintf(stderr, "mynumber: %s\n",
		        _("phone login is not configured: set [phone] mdoc_trust_anchors"));
		return 1;
	}
	if (open_store(path, opt->ldif, &lock, &store) != 0)
		goto out;
	if (check_user(store, user, opt->create_account, &create) != 0)
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
	if (opt->ldif) {
		rc = print_ldif(c, store, user);
		goto out;
	}
	if (create && add_account(c, store, user, &uid) != 0)
		goto out;
	if (mn_store_save(store, path, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Enrolled %s (id %u): %s (phone), hash %.8s.\n"), user, id, pb.label, pb.hmac);
	if (create)
		printf(_("Created the managed account %s (uid %u).\n"), user, uid);
	rc = cli_publish_accounts(c, store);
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
	struct enroll_opts opt = {NULL, 0, 0};
	const char *user = NULL, *path;
	char err[512];
	unsigned id = 0, uid = 0;
	size_t i, removed = 0, n;
	int renew = 0, phone = 0, lock = -1, rc = 1, a, had_token = 0, had_any = 0, create = 0;
	int ldap;

	memset(&out, 0, sizeof(out));
	memset(&b, 0, sizeof(b));
	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--renew") == 0)
			renew = 1;
		else if (strcmp(argv[a], "--phone") == 0)
			phone = 1;
		else if (strcmp(argv[a], "--label") == 0 && a + 1 < argc)
			opt.label = argv[++a];
		else if (strcmp(argv[a], "--create-account") == 0)
			opt.create_account = 1;
		else if (strcmp(argv[a], "--ldif") == 0)
			opt.ldif = 1;
		else if (user == NULL && argv[a][0] != '-')
			user = argv[a];
		else
			user = NULL, a = argc;
	}
	if (user == NULL || (phone && renew) || (opt.ldif && (renew || opt.create_account))) {
		fprintf(stderr,
		        "usage: mynumber enroll [--renew] [--create-account] [--label TEXT] "
		        "USER\n"
		        "       mynumber enroll --phone [--create-account] [--label TEXT] USER\n"
		        "       mynumber enroll [--phone] --ldif [--label TEXT] USER\n");
		return 2;
	}
	if (opt.label != NULL && strlen(opt.label) > 64) {
		fprintf(stderr, "mynumber: %s\n", _("the label is at most 64 bytes"));
		return 2;
	}
	ldap = strcmp(mn_conf_get(c->conf, "", "store_backend"), "ldap") == 0;
	if (ldap != opt.ldif) {
		fprintf(
		    stderr, "mynumber: %s\n",
		    ldap ? _("the enrollments are kept in the LDAP directory: use --ldif and apply "
		             "its output with ldapmodify")
		         : _("--ldif is for store_backend = ldap"));
		return 2;
	}
	if (phone)
		return enroll_phone(c, user, &opt);
	path = mn_conf_get(c->conf, "", "store");
	if (open_store(path, opt.ldif, &lock, &store) != 0)
		goto out;
	if (check_user(store, user, opt.create_account, &create) != 0)
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
	                         opt.label != NULL ? opt.label : out.token.label, &b) != MN_OK ||
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
	if (opt.ldif) {
		rc = print_ldif(c, store, user);
		goto out;
	}
	if (create && add_account(c, store, user, &uid) != 0)
		goto out;
	if (mn_store_save(store, path, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	printf(_("Enrolled %s (id %u): %s, certificate %s, valid until %s.\n"), user, id, b.label,
	       b.sha256, b.not_after);
	if (removed > 0)
		printf(_("Replaced %zu older enrollment(s) of this card.\n"), removed);
	if (create)
		printf(_("Created the managed account %s (uid %u).\n"), user, uid);
	rc = cli_publish_accounts(c, store);
out:
	mn_binding_release(&b);
	mn_auth_out_clear(&out);
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return rc;
}
