/*
 * mynumber: enroll My Number cards and phones for login, and look after the enrollments.
 *   mynumber [--config FILE] [--debug] COMMAND ...
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_pin.h"
#include "mn_store.h"
#include "mn_storesrc.h"

#ifndef MN_SYSCONFDIR
#define MN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG MN_SYSCONFDIR "/mynumber/mynumber.conf"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: mynumber [--config FILE] [--debug] COMMAND ...\n"
	    "  enroll [--renew] [--label TEXT] USER   bind the presented card or phone to USER\n"
	    "      [--phone] [--create-account]       (a phone; a new managed account)\n"
	    "      [--ldif]                           (store_backend = ldap: print the change)\n"
	    "  list [USER]                            show enrollments\n"
	    "  remove USER [ID]                       remove USER's enrollment(s)\n"
	    "  status                                 the presented token, its PINs and "
	    "certificate\n"
	    "  authorized-keys USER                   OpenSSH keys of USER's valid "
	    "certificates\n"
	    "  accounts [list | publish | check]      managed accounts and their NSS map\n"
	    "  sync                                   store_backend = ldap: fetch the directory,\n"
	    "                                         refresh the cache, publish the accounts\n"
	    "  crl import FILE                        verify a CRL and index it for logins\n"
	    "  verify-mdoc --trust IACA.pem --session-transcript ST.cbor [--reader-key KEY.pem]\n"
	    "      [--at RFC3339-TIME] [--skew SECONDS] RESPONSE.cbor\n"
	    "                                         verify an ISO 18013-5 DeviceResponse\n"
	    "  read-mdoc --trust IACA.pem [--reader NAME] [--wait SECONDS]\n"
	    "      [--element NAMESPACE:NAME]... [--allow-mac] [--skew SECONDS]\n"
	    "                                         read and verify a phone's mdoc over NFC\n");
}

int cli_load_store(struct cli *c, const char *user, struct mn_store **ret,
                   enum mn_store_origin *ret_origin)
{
	enum mn_store_origin origin = MN_STORE_FROM_FILE;
	char err[1024];
	int r;

	r = mn_store_source_load(c->conf, user, time(NULL), ret, &origin, err, sizeof(err));
	if (r != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		if (r == MN_ERR_UNAVAILABLE)
			fprintf(stderr, "mynumber: %s\n",
			        _("the enrollment directory cannot be reached and no recent cached "
			          "answer is available"));
		return 1;
	}
	if (err[0] != '\0' && (c->debug || origin == MN_STORE_FROM_CACHE))
		fprintf(stderr, "mynumber: %s\n", err);
	if (ret_origin != NULL)
		*ret_origin = origin;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli c = {DEFAULT_CONFIG, NULL, 0};
	char err[512];
	const char *v, *cmd;
	int i = 1, rc;

	setlocale(LC_ALL, "");
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			c.config_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--debug") == 0) {
			c.debug = 1;
			i++;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("mynumber %s\n", PACKAGE_VERSION);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[i];
	if (strcmp(cmd, "verify-mdoc") == 0)
		return cmd_verify_mdoc(argc - i, argv + i);
	if (strcmp(cmd, "read-mdoc") == 0)
		return cmd_read_mdoc(argc - i, argv + i);
	if (mn_conf_load(c.config_path, &c.conf, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "mynumber: %s\n", err);
		return 1;
	}
	if ((v = mn_conf_get(c.conf, "", "locale_dir")) != NULL && v[0] != '\0')
		bindtextdomain(MN_TEXTDOMAIN, v);
	if ((v = mn_conf_get(c.conf, "", "opensc_conf")) != NULL && v[0] != '\0')
		setenv("OPENSC_CONF", v, 1);
	argc -= i;
	argv += i;
	if (strcmp(cmd, "enroll") == 0) {
		/* enroll reads the card PIN and, with --renew, the account password */
		mn_pin_protect_process();
		rc = cmd_enroll(&c, argc, argv);
	} else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&c, argc, argv);
	else if (strcmp(cmd, "remove") == 0)
		rc = cmd_remove(&c, argc, argv);
	else if (strcmp(cmd, "status") == 0)
		rc = cmd_status(&c, argc, argv);
	else if (strcmp(cmd, "authorized-keys") == 0)
		rc = cmd_authorized_keys(&c, argc, argv);
	else if (strcmp(cmd, "crl") == 0)
		rc = cmd_crl(&c, argc, argv);
	else if (strcmp(cmd, "accounts") == 0)
		rc = cmd_accounts(&c, argc, argv);
	else if (strcmp(cmd, "sync") == 0)
		rc = cmd_sync(&c, argc, argv);
	else {
		usage(stderr);
		rc = 2;
	}
	mn_conf_free(&c.conf);
	return rc;
}
