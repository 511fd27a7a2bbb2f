/* mynumber status: the presented token, its PINs, its certificate, its enrollments. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_p11.h"
#include "mn_revoker.h"
#include "mn_store.h"

static const char *verdict_text(enum mn_cert_verdict v)
{
	switch (v) {
	case MN_CERT_OK:
		return "valid";
	case MN_CERT_EXPIRED:
		return "expired";
	case MN_CERT_NOT_YET_VALID:
		return "not yet valid";
	case MN_CERT_UNTRUSTED:
		return "not issued by a configured trust anchor";
	case MN_CERT_BAD_USAGE:
		return "not a user-authentication certificate";
	case MN_CERT_BAD_POLICY:
		return "certificate policy not accepted";
	case MN_CERT_BAD_KEY:
		return "unsupported key";
	}
	return "?";
}

static const char *rev_text(enum mn_rev_status s)
{
	return s == MN_REV_GOOD      ? "good"
	       : s == MN_REV_REVOKED ? "REVOKED"
	       : s == MN_REV_UNKNOWN ? "unknown"
	                             : "unavailable";
}

static void show_cert(struct cli *c, X509 *cert)
{
	struct mn_anchors *anchors = NULL;
	struct mn_revoker *rv = NULL;
	struct mn_rev_result rev;
	enum mn_cert_verdict v;
	X509 *issuer = NULL;
	char na[16] = "?", sha[65] = "?", detail[256] = "", err[512];

	mn_cert_not_after(cert, na);
	mn_cert_sha256_hex(cert, sha);
	printf("certificate:   SHA-256 %s, valid until %s\n", sha, na);
	if (mn_anchors_load(mn_conf_get(c->conf, "", "trust_anchors"), &anchors, err,
	                    sizeof(err)) != MN_OK) {
		printf("               cannot check it: %s\n", err);
		return;
	}
	if (mn_cert_validate(anchors, cert, mn_conf_get(c->conf, "", "policy_oids"), time(NULL), &v,
	                     &issuer, detail, sizeof(detail)) == MN_OK) {
		printf("               %s%s%s\n", verdict_text(v), detail[0] ? ": " : "", detail);
		if (v == MN_CERT_OK && mn_revoker_open(c->conf, &rv, err, sizeof(err)) != MN_OK)
			printf("revocation:    cannot check: %s\n", err);
		else if (v == MN_CERT_OK &&
		         mn_revoker_check(rv, cert, issuer, time(NULL), &rev) == MN_OK)
			printf("revocation:    %s%s (%s)\n", rev_text(rev.status),
			       rev.soft_accepted ? ", accepted by the soft policy" : "",
			       rev.detail);
		mn_revoker_close(&rv);
	}
	X509_free(issuer);
	mn_anchors_free(&anchors);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	struct mn_p11 *p11 = NULL;
	struct mn_p11_token tok;
	struct mn_store *store = NULL;
	unsigned char *der = NULL;
	size_t len = 0, i, n, shown = 0;
	X509 *cert = NULL;
	char err[512], sha[65] = "";
	unsigned wait = 10;
	int r, rc = 1;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: mynumber status\n");
		return 2;
	}
	if (mn_p11_open(mn_conf_get(c->conf, "", "pkcs11_module"), &p11, err, sizeof(err)) !=
	    MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	mn_conf_get_uint(c->conf, "", "card_wait", &wait);
	fprintf(stderr, "%s\n", _("Hold your My Number card or phone over the reader."));
	r = mn_p11_wait_token(p11, (int)wait * 1000, &tok);
	if (r != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", mn_strerror(r));
		goto out;
	}
	printf("reader:        %s\n", tok.reader[0] ? tok.reader : "-");
	printf("token:         %s, serial %s\n", tok.label, tok.serial[0] ? tok.serial : "-");
	printf("auth PIN:      %d of %d tries left\n", tok.tries, tok.max_tries);
	printf("sign password: %s\n", mn_p11_sign_pin_state(p11, &tok));
	r = mn_p11_read_auth_cert(p11, &tok, &der, &len);
	if (r == MN_OK && mn_cert_from_der(der, len, &cert) == MN_OK) {
		show_cert(c, cert);
		mn_cert_sha256_hex(cert, sha);
	} else if (tok.kind == MN_TOKEN_ANDROID) {
		printf("certificate:   behind the PIN on this phone\n");
	} else {
		printf("certificate:   unreadable (%s)\n", mn_strerror(r));
	}
	if (cli_load_store(c, NULL, &store, NULL) == 0) {
		n = mn_store_count(store);
		for (i = 0; i < n; i++) {
			const struct mn_binding *b = mn_store_at(store, i);
			int same_cert = sha[0] && strcmp(b->sha256, sha) == 0;
			int same_token = tok.serial[0] && strcmp(b->token_serial, tok.serial) == 0;
			if (!same_cert && !same_token)
				continue;
			printf("enrolled:      %s (id %u)%s\n", b->user, b->id,
			       same_cert ? ""
			                 : " with an older certificate: re-enroll with --renew");
			shown++;
		}
		if (shown == 0)
			printf("enrolled:      no\n");
	}
	rc = 0;
out:
	X509_free(cert);
	free(der);
	mn_store_free(&store);
	mn_p11_close(&p11);
	return rc;
}
