/*
 * crl-lookup: lookup latency in a CRL index (bench/bench-crl.sh).
 *   crl-lookup INDEX N     N random serials (8 bytes, like the benchmark CRL's)
 * Prints the mean microseconds per lookup, twice: with the index kept open, and with
 * open + header read + lookup + close for every query (what one login does).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/rand.h>

#include "mn_crlidx.h"
#include "mn_err.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	struct mn_crlidx *idx = NULL;
	unsigned char (*serials)[8];
	char err[256];
	long n, i, hits = 0;
	double t0, t1, t2;
	int revoked;

	if (argc != 3 || (n = atol(argv[2])) <= 0 || n > 10000000) {
		fprintf(stderr, "usage: crl-lookup INDEX N\n");
		return 2;
	}
	if ((serials = malloc((size_t)n * 8)) == NULL || RAND_bytes(serials[0], (int)n * 8) != 1)
		return 1;
	if (mn_crlidx_open(argv[1], &idx, err, sizeof(err)) != MN_OK) {
		fprintf(stderr, "crl-lookup: %s\n", err);
		return 1;
	}
	printf("entries=%zu ", mn_crlidx_count(idx));
	t0 = now_us();
	for (i = 0; i < n; i++) {
		serials[i][0] &= 0x7F;
		if (mn_crlidx_lookup(idx, serials[i], 8, &revoked, NULL, NULL) == MN_OK && revoked)
			hits++;
	}
	t1 = now_us();
	mn_crlidx_close(&idx);
	for (i = 0; i < n; i++) {
		if (mn_crlidx_open(argv[1], &idx, err, sizeof(err)) != MN_OK ||
		    mn_crlidx_lookup(idx, serials[i], 8, &revoked, NULL, NULL) != MN_OK)
			return 1;
		mn_crlidx_close(&idx);
	}
	t2 = now_us();
	printf("lookups=%ld hits=%ld lookup_us=%.3f open_lookup_close_us=%.3f\n", n, hits,
	       (t1 - t0) / n, (t2 - t1) / n);
	free(serials);
	return 0;
}
