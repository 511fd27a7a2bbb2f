#include "config.h"

#include <string.h>

#include "mn_account.h"
#include "mn_cert.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_revoker.h"

static enum mn_result check_one(const struct mn_conf *conf, const struct mn_anchors *anchors,
                                struct mn_revoker *rv, const struct mn_binding *b, time_t now,
                                const struct mn_ui *ui)
{
	enum mn_cert_verdict v;
	struct mn_rev_result rev;
	X509 *cert = NULL, *issuer = NULL;
	enum mn_result res = MN_RES_PERM_DENIED;

	if (mn_cert_from_der(b->cert, b->cert_len, &cert) != MN_OK)
		goto out;
	if (mn_cert_validate(anchors, cert, mn_conf_get(conf, "", "policy_oids"), now, &v, &issuer,
	                     NULL, 0) != MN_OK)
		goto out;
	if (v == MN_CERT_EXPIRED) {
		res = MN_RES_ACCT_EXPIRED;
		goto out;
	}
	if (v != MN_CERT_OK || mn_revoker_check(rv, cert, issuer, now, &rev) != MN_OK)
		goto out;
	if (rev.soft_accepted && ui->warn != NULL)
		ui->warn(ui->ctx, rev.detail);
	if (rev.status == MN_REV_GOOD || (rev.status != MN_REV_REVOKED && rev.soft_accepted))
		res = MN_RES_OK;
out:
	X509_free(cert);
	X509_free(issuer);
	return res;
}

int mn_account_check(const struct mn_conf *conf, const struct mn_store *store, const char *user,
                     const char *cert_sha256, time_t now, const struct mn_ui *ui,
                     enum mn_result *ret)
{
	struct mn_anchors *anchors = NULL;
	struct mn_revoker *rv = NULL;
	enum mn_result best = MN_RES_USER_UNKNOWN, res;
	size_t i, n;
	int r;

	if (conf == NULL || store == NULL || user == NULL || ui == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	r = mn_anchors_load(mn_conf_get(conf, "", "trust_anchors"), &anchors, NULL, 0);
	if (r == MN_OK)
		r = mn_revoker_open(conf, &rv, NULL, 0);
	if (r != MN_OK) {
		mn_anchors_free(&anchors);
		*ret = MN_RES_SYSTEM_ERR;
		return MN_OK;
	}
	n = mn_store_count(store);
	for (i = 0; i < n && best != MN_RES_OK; i++) {
		const struct mn_binding *b = mn_store_at(store, i);
		if (strcmp(b->user, user) != 0)
			continue;
		if (cert_sha256 != NULL && strcmp(b->sha256, cert_sha256) != 0)
			continue;
		res = check_one(conf, anchors, rv, b, now, ui);
		/* keep the most telling verdict: OK, else expired, else denied */
		if (res == MN_RES_OK || best == MN_RES_USER_UNKNOWN ||
		    (res == MN_RES_ACCT_EXPIRED && best == MN_RES_PERM_DENIED))
			best = res;
	}
	/* a phone login names its enrollment (the hmac) where a card login names a certificate */
	for (i = 0; best == MN_RES_USER_UNKNOWN && i < mn_store_phone_count(store); i++) {
		const struct mn_phone_binding *p = mn_store_phone_at(store, i);
		if (strcmp(p->user, user) == 0 &&
		    (cert_sha256 == NULL || strcmp(p->hmac, cert_sha256) == 0))
			best = MN_RES_OK;
	}
	if (best == MN_RES_ACCT_EXPIRED)
		ui->say(ui->ctx, 1,
		        _("Your enrolled My Number certificate has expired. Renew it at your "
		          "municipal office, then enroll it again."));
	else if (best == MN_RES_PERM_DENIED)
		ui->say(ui->ctx, 1, _("Your enrolled My Number certificate is no longer valid."));
	mn_revoker_close(&rv);
	mn_anchors_free(&anchors);
	*ret = best;
	return MN_OK;
}
