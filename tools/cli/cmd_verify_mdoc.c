/*
 * mynumber verify-mdoc --trust IACA.pem --session-transcript ST.cbor [--reader-key KEY.pem]
 *                      [--at RFC3339] [--skew SECONDS] RESPONSE.cbor
 * Verify an ISO 18013-5 DeviceResponse and print its verified issuer-signed elements as JSON
 * (namespace -> element -> value). Exit 0 verified, 1 not verified, 2 usage.
 * Needs no configuration file.
 */
#include "config.h"

#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mn_b64.h"
#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_mdoc.h"

#include "cli.h"
#include "mdoc_json.h"

#define MAX_FILE (MN_CBOR_MAX_INPUT + 1)

static void usage(void)
{
	fprintf(stderr,
	        "usage: mynumber verify-mdoc --trust IACA.pem --session-transcript ST.cbor\n"
	        "         [--reader-key EREADER.pem] [--at RFC3339-TIME] [--skew SECONDS] "
	        "RESPONSE.cbor\n");
}

static int read_file(const char *path, uint8_t **out, size_t *out_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n;
	int err;

	if (f == NULL)
		return MN_ERR_IO;
	if ((b = malloc(MAX_FILE + 1)) == NULL) {
		fclose(f);
		return MN_ERR_NOMEM;
	}
	n = fread(b, 1, MAX_FILE + 1, f);
	err = ferror(f);
	fclose(f);
	if (err || n > MAX_FILE) {
		free(b);
		return err ? MN_ERR_IO : MN_ERR_TOO_LARGE;
	}
	*out = b;
	*out_len = n;
	return MN_OK;
}

/* No passphrase prompt: an encrypted key file is refused, not asked for on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The reader's private key; the file's bytes are wiped after parsing. */
static EVP_PKEY *read_private_key(const char *path)
{
	uint8_t *b = NULL;
	size_t n = 0;
	BIO *bio = NULL;
	EVP_PKEY *k = NULL;

	if (read_file(path, &b, &n) != MN_OK)
		return NULL;
	if (n <= INT_MAX && (bio = BIO_new_mem_buf(b, (int)n)) != NULL)
		k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(b, n);
	free(b);
	return k;
}

int cmd_verify_mdoc(int argc, char **argv)
{
	const char *trust = NULL, *stp = NULL, *keyp = NULL, *atp = NULL, *respp = NULL;
	uint8_t *resp = NULL, *st = NULL;
	size_t resp_len = 0, st_len = 0;
	STACK_OF(X509) *iaca = NULL;
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check chk = MN_MDOC_CHECK_NONE;
	EVP_PKEY *reader = NULL;
	unsigned long skew = MN_MDOC_DEFAULT_SKEW;
	int64_t when = (int64_t)time(NULL);
	char *json = NULL;
	size_t json_len = 0;
	char why[512], *end;
	int i, r, rc = 1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (a[0] != '-') {
			if (respp != NULL) {
				usage();
				return 2;
			}
			respp = a;
			continue;
		}
		if (i + 1 >= argc) {
			usage();
			return 2;
		}
		if (strcmp(a, "--trust") == 0)
			trust = argv[++i];
		else if (strcmp(a, "--session-transcript") == 0)
			stp = argv[++i];
		else if (strcmp(a, "--reader-key") == 0)
			keyp = argv[++i];
		else if (strcmp(a, "--at") == 0)
			atp = argv[++i];
		else if (strcmp(a, "--skew") == 0) {
			skew = strtoul(argv[++i], &end, 10);
			if (*argv[i] == '\0' || *end != '\0' || skew > 86400) {
				usage();
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}
	if (trust == NULL || stp == NULL || respp == NULL) {
		usage();
		return 2;
	}
	if (atp != NULL && mn_cbor_parse_rfc3339(atp, strlen(atp), &when) != MN_OK) {
		fprintf(stderr, "mynumber: --at: not an RFC 3339 date-time: %s\n", atp);
		usage();
		return 2;
	}
	if ((iaca = mdoc_read_certs(trust)) == NULL) {
		fprintf(stderr, "mynumber: cannot read IACA certificates from %s\n", trust);
		goto out;
	}
	if (keyp != NULL) {
		if ((reader = read_private_key(keyp)) == NULL) {
			fprintf(stderr, "mynumber: cannot read the reader private key %s\n", keyp);
			goto out;
		}
	}
	if (read_file(stp, &st, &st_len) != MN_OK) {
		fprintf(stderr, "mynumber: cannot read %s (missing or over 1 MiB)\n", stp);
		goto out;
	}
	if (read_file(respp, &resp, &resp_len) != MN_OK) {
		fprintf(stderr, "mynumber: cannot read %s (missing or over 1 MiB)\n", respp);
		goto out;
	}
	if (mn_mdoc_verify(resp, resp_len, st, st_len, reader, iaca, (time_t)when, (unsigned)skew,
	                   &res, &chk, why, sizeof(why)) != MN_OK) {
		fprintf(stderr, "mynumber: verify-mdoc: FAILED check %s: %s\n",
		        mn_mdoc_check_name(chk), why);
		goto out;
	}
	if ((r = mdoc_json_result(res, &json, &json_len)) != MN_OK) {
		fprintf(stderr,
		        "mynumber: verify-mdoc: verified, but the elements cannot be shown "
		        "as JSON (%s): nothing printed\n",
		        mdoc_json_strerror(r));
		goto out;
	}
	if (fwrite(json, 1, json_len, stdout) != json_len || fflush(stdout) != 0) {
		fprintf(stderr, "mynumber: verify-mdoc: cannot write the result\n");
		goto out;
	}
	rc = 0;
out:
	free(json);
	mn_mdoc_result_free(&res);
	EVP_PKEY_free(reader);
	sk_X509_pop_free(iaca, X509_free);
	free(resp);
	free(st);
	return rc;
}
