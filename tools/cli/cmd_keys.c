/*
 * mynumber authorized-keys USER: for sshd's AuthorizedKeysCommand. Prints the OpenSSH keys of
 * USER's enrolled certificates that are trusted, valid and not revoked now. No card access.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "cli.h"
#include "mn_cert.h"
#include "mn_err.h"
#include "mn_revoker.h"
#include "mn_store.h"

int cmd_authorized_keys(struct cli *c, int argc, char **argv)
{
	struct mn_store *store = NULL;
	struct mn_anchors *anchors = NULL;
	struct mn_revoker *rv = NULL;
	char err[512], line[2048], comment[64];
	time_t now = time(NULL);
	enum mn_store_origin origin = MN_STORE_FROM_FILE;
	size_t i, n;
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: mynumber authorized-keys USER\n");
		return 2;
	}
	if (mn_anchors_load(mn_conf_get(c->conf, "", "trust_anchors"), &anchors, err,
	                    sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if (mn_revoker_open(c->conf, &rv, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		goto out;
	}
	if (cli_load_store(c, argv[1], &store, &origin) != 0)
		goto out;
	if (origin == MN_STORE_FROM_CACHE) {
		/* sshd discards our stderr: the warning goes to the system log */
		openlog("mynumber", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_WARNING,
		       "authorized-keys %s: the enrollment directory cannot be reached; keys from "
		       "the local cache",
		       argv[1]);
		closelog();
	}
	n = mn_store_count(store);
	for (i = 0; i < n; i++) {
		const struct mn_binding *b = mn_store_at(store, i);
		enum mn_cert_verdict v;
		struct mn_rev_result rev;
		X509 *cert = NULL, *issuer = NULL;

		if (strcmp(b->user, argv[1]) != 0)
			continue;
		if (mn_cert_from_der(b->cert, b->cert_len, &cert) == MN_OK &&
		    mn_cert_validate(anchors, cert, mn_conf_get(c->conf, "", "policy_oids"), now,
		                     &v, &issuer, NULL, 0) == MN_OK &&
		    v == MN_CERT_OK && mn_revoker_check(rv, cert, issuer, now, &rev) == MN_OK &&
		    (rev.status == MN_REV_GOOD ||
		     (rev.status != MN_REV_REVOKED && rev.soft_accepted))) {
			if (rev.soft_accepted) {
				/* sshd discards our stderr: the warning goes to the system log */
				openlog("mynumber", LOG_PID, LOG_AUTHPRIV);
				syslog(LOG_WARNING, "authorized-keys %s id %u: %s", b->user, b->id,
				       rev.detail);
				closelog();
			}
			snprintf(comment, sizeof(comment), "mynumber:%s:%u", b->user, b->id);
			if (mn_cert_ssh_pubkey(cert, comment, line, sizeof(line)) == MN_OK)
				printf("%s\n", line);
		} else if (c->debug) {
			fprintf(stderr, "mynumber: enrollment %u of %s not usable now\n", b->id,
			        b->user);
		}
		X509_free(cert);
		X509_free(issuer);
	}
	rc = 0;
out:
	mn_store_free(&store);
	mn_revoker_close(&rv);
	mn_anchors_free(&anchors);
	return rc;
}
