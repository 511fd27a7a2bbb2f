/*
 * mynumber read-mdoc --trust IACA.pem [--reader NAME] [--wait SECONDS]
 *                    [--element NAMESPACE:NAME]... [--allow-mac] [--skew SECONDS]
 *                    [--ble-bus ADDRESS] [--no-ble]
 * Read the smartphone My Number Card (docType org.iso.23220.1.jp.mnc) from a phone held on a
 * PC/SC contactless reader (ISO 18013-5 NFC engagement; NFC data retrieval, or BLE through
 * BlueZ when the phone offers only that, as Apple Wallet does: doc/mdoc-ble.md), verify it and
 * print the verified issuer-signed elements as JSON (namespace -> element -> value).
 * --ble-bus: the D-Bus address where BlueZ is (default: the system bus); --no-ble: NFC only.
 * Exit 0 verified, 1 not read or not verified (the failed check is named), 2 usage.
 * Needs no configuration file.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "mn_err.h"
#include "mdoc/mn_ble.h"
#include "mdoc/mn_mdoc.h"
#include "mdoc/mn_mdoc_reader.h"
#include "mdoc/mn_pcsc_apdu.h"

#include "cli.h"
#include "mdoc_json.h"

#define DEFAULT_WAIT 30
#define MAX_WAIT     600

static void usage(void)
{
	fprintf(stderr, "usage: mynumber read-mdoc --trust IACA.pem [--reader NAME] "
	                "[--wait SECONDS]\n"
	                "         [--element NAMESPACE:NAME]... [--allow-mac] [--skew SECONDS]\n"
	                "         [--ble-bus ADDRESS] [--no-ble]\n");
}

/* BLE when the phone offers only that: say so, then mn_ble_reader_open */
static int ble_open(void *ctx, const uint8_t uuid[16], const uint8_t *edevice_key_bytes, size_t len,
                    struct mn_mdoc_transport *out, char *why, size_t whylen)
{
	const struct mn_ble_opts *o = ctx;
	char u[MN_BLE_UUID_STRLEN + 1];

	mn_ble_uuid_str(uuid, u);
	fprintf(stderr,
	        "mynumber: the phone answers over Bluetooth (service %s): keep it near "
	        "(waiting %u s)\n",
	        u, o->wait);
	return mn_ble_reader_open(ctx, uuid, edevice_key_bytes, len, out, why, whylen);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return 0;
	*v = strtoul(s, &end, 10);
	return *end == '\0' && *v <= max;
}

int cmd_read_mdoc(int argc, char **argv)
{
	const char *trust = NULL, *reader = NULL;
	struct mn_mdoc_element *el = NULL;
	char **spec = NULL;
	size_t nel = 0, i;
	unsigned long wait = DEFAULT_WAIT, skew = MN_MDOC_DEFAULT_SKEW;
	int allow_mac = 0, no_ble = 0, a, r, rc = 2;
	struct mn_ble_opts bo;
	STACK_OF(X509) *iaca = NULL;
	struct mn_pcsc_apdu *card = NULL;
	struct mn_mdoc_reader_opts o;
	struct mn_mdoc_reader *rd = NULL;
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check chk = MN_MDOC_CHECK_NONE;
	char why[512], *json = NULL, *colon;
	size_t json_len = 0;

	if ((el = calloc(MN_MDOC_READER_MAX_ELEMENTS, sizeof(*el))) == NULL ||
	    (spec = calloc(MN_MDOC_READER_MAX_ELEMENTS, sizeof(*spec))) == NULL) {
		rc = 1;
		goto out;
	}
	memset(&bo, 0, sizeof(bo));
	bo.wait = MN_BLE_WAIT_DEF;
	for (a = 1; a < argc; a++) {
		const char *arg = argv[a];

		if (strcmp(arg, "--allow-mac") == 0) {
			allow_mac = 1;
			continue;
		}
		if (strcmp(arg, "--no-ble") == 0) {
			no_ble = 1;
			continue;
		}
		if (a + 1 >= argc)
			goto usage;
		if (strcmp(arg, "--trust") == 0)
			trust = argv[++a];
		else if (strcmp(arg, "--reader") == 0)
			reader = argv[++a];
		else if (strcmp(arg, "--ble-bus") == 0)
			bo.bus_address = argv[++a];
		else if (strcmp(arg, "--wait") == 0) {
			if (!parse_uint(argv[++a], MAX_WAIT, &wait))
				goto usage;
		} else if (strcmp(arg, "--skew") == 0) {
			if (!parse_uint(argv[++a], 86400, &skew))
				goto usage;
		} else if (strcmp(arg, "--element") == 0) {
			if (nel >= MN_MDOC_READER_MAX_ELEMENTS) {
				fprintf(stderr, "mynumber: read-mdoc: at most %u elements\n",
				        MN_MDOC_READER_MAX_ELEMENTS);
				goto usage;
			}
			/* NAMESPACE:NAME, split at the last colon (identifiers have none) */
			if ((spec[nel] = strdup(argv[++a])) == NULL) {
				rc = 1;
				goto out;
			}
			if ((colon = strrchr(spec[nel], ':')) == NULL || colon == spec[nel] ||
			    colon[1] == '\0') {
				fprintf(stderr,
				        "mynumber: read-mdoc: --element wants NAMESPACE:NAME\n");
				nel++;
				goto usage;
			}
			*colon = '\0';
			el[nel].ns = spec[nel];
			el[nel].id = colon + 1;
			nel++;
		} else
			goto usage;
	}
	if (trust == NULL)
		goto usage;
	if (nel > 0 && mn_mdoc_reader_check_elements(el, nel, why, sizeof(why)) != MN_OK) {
		fprintf(stderr, "mynumber: read-mdoc: %s\n", why);
		goto usage;
	}
	rc = 1;
	if ((iaca = mdoc_read_certs(trust)) == NULL) {
		fprintf(stderr, "mynumber: cannot read IACA certificates from %s\n", trust);
		goto out;
	}
	fprintf(stderr, "mynumber: hold the phone on the reader (waiting %lu s)\n", wait);
	if ((r = mn_pcsc_apdu_open(reader, (unsigned)wait * 1000u, &card)) != MN_OK) {
		fprintf(stderr, "mynumber: read-mdoc: %s\n",
		        r == MN_ERR_NO_TOKEN ? "no phone on the reader in time" : mn_strerror(r));
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.transmit = mn_pcsc_apdu_transmit;
	o.transmit_ctx = card;
	o.iaca = iaca;
	o.elements = nel > 0 ? el : NULL;
	o.n_elements = nel;
	o.allow_device_mac = allow_mac;
	o.skew = (unsigned)skew;
	if (!no_ble) {
		o.ble_open = ble_open;
		o.ble_ctx = &bo;
	}
	if ((r = mn_mdoc_reader_new(&o, &rd)) != MN_OK) {
		fprintf(stderr, "mynumber: read-mdoc: %s\n", mn_strerror(r));
		goto out;
	}
	if ((r = mn_mdoc_reader_run(rd, &res, &chk, why, sizeof(why))) != MN_OK) {
		if (chk != MN_MDOC_CHECK_NONE)
			fprintf(stderr, "mynumber: read-mdoc: FAILED check %s: %s\n",
			        mn_mdoc_check_name(chk), why);
		else
			fprintf(stderr, "mynumber: read-mdoc: %s\n",
			        why[0] != '\0'              ? why
			        : r == MN_ERR_TOKEN_REMOVED ? "the phone was taken away too early"
			                                    : mn_strerror(r));
		goto out;
	}
	if ((r = mdoc_json_result(res, &json, &json_len)) != MN_OK) {
		fprintf(stderr,
		        "mynumber: read-mdoc: verified, but the elements cannot be shown as JSON "
		        "(%s): nothing printed\n",
		        mdoc_json_strerror(r));
		goto out;
	}
	if (fwrite(json, 1, json_len, stdout) != json_len || fflush(stdout) != 0) {
		fprintf(stderr, "mynumber: read-mdoc: cannot write the result\n");
		goto out;
	}
	rc = 0;
	goto out;
usage:
	usage();
	rc = 2;
out:
	if (json != NULL)
		explicit_bzero(json, json_len);
	free(json);
	mn_mdoc_result_free(&res);
	mn_mdoc_reader_free(&rd);
	mn_pcsc_apdu_free(&card);
	sk_X509_pop_free(iaca, X509_free);
	for (i = 0; spec != NULL && i < nel; i++)
		free(spec[i]);
	free(spec);
	free(el);
	return rc;
}
