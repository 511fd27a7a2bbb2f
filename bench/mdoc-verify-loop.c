/*
 * mdoc-verify-loop: DeviceResponse verifications per second (bench/bench-mdoc.sh).
 *   mdoc-verify-loop IACA.pem ST.cbor READER.pem|- AT_EPOCH SECONDS RESPONSE.cbor
 * Loads the trust anchors and the reader key once (as a long-running verifier would), then
 * runs the whole mn_mdoc_verify (strict CBOR parse, certificate path and profile, IssuerAuth,
 * MSO, digests, device authentication, result) over the same bytes for about SECONDS seconds
 * (at least 20 times). Prints "verifications=N seconds=S per_s=R".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mdoc/mn_mdoc.h"
#include "mn_err.h"

#define LOOP_MAX_INPUT (1024 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;

	if (f == NULL)
		return NULL;
	if ((b = malloc(LOOP_MAX_INPUT)) != NULL) {
		*len = fread(b, 1, LOOP_MAX_INPUT, f);
		if (ferror(f) || *len == LOOP_MAX_INPUT) {
			free(b);
			b = NULL;
		}
	}
	fclose(f);
	return b;
}

int main(int argc, char **argv)
{
	STACK_OF(X509) *iaca = sk_X509_new_null();
	EVP_PKEY *reader = NULL;
	uint8_t *st = NULL, *resp = NULL;
	size_t st_len = 0, resp_len = 0;
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check failed = MN_MDOC_CHECK_NONE;
	char why[256] = "";
	double seconds, t0, t;
	long n = 0;
	time_t at;
	X509 *x;
	FILE *f;
	int rc = 1;

	if (argc != 7 || (seconds = atof(argv[5])) <= 0 || seconds > 600) {
		fprintf(stderr, "usage: mdoc-verify-loop IACA.pem ST.cbor READER.pem|- AT_EPOCH "
		                "SECONDS RESPONSE.cbor\n");
		return 2;
	}
	at = (time_t)strtoll(argv[4], NULL, 10);
	if (iaca == NULL || (f = fopen(argv[1], "r")) == NULL)
		goto out;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(iaca, x))
			X509_free(x);
	fclose(f);
	if (strcmp(argv[3], "-") != 0) {
		if ((f = fopen(argv[3], "r")) == NULL)
			goto out;
		reader = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
		if (reader == NULL)
			goto out;
	}
	if ((st = slurp(argv[2], &st_len)) == NULL || (resp = slurp(argv[6], &resp_len)) == NULL)
		goto out;

	t0 = now_s();
	do {
		if (mn_mdoc_verify(resp, resp_len, st, st_len, reader, iaca, at,
		                   MN_MDOC_DEFAULT_SKEW, &res, &failed, why,
		                   sizeof(why)) != MN_OK) {
			fprintf(stderr, "mdoc-verify-loop: FAILED check %s: %s\n",
			        mn_mdoc_check_name(failed), why);
			goto out;
		}
		if (mn_mdoc_result_count(res) == 0)
			goto out;
		mn_mdoc_result_free(&res);
		n++;
		t = now_s() - t0;
	} while (n < 20 || t < seconds);
	printf("verifications=%ld seconds=%.3f per_s=%.1f\n", n, t, (double)n / t);
	rc = 0;
out:
	if (rc != 0 && failed == MN_MDOC_CHECK_NONE)
		fprintf(stderr, "mdoc-verify-loop: cannot read the inputs\n");
	free(st);
	free(resp);
	EVP_PKEY_free(reader);
	sk_X509_pop_free(iaca, X509_free);
	return rc;
}
