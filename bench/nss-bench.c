/*
 * getpwnam_r latency through glibc's NSS, whatever /etc/nsswitch.conf says (bench/bench-nss.sh
 * runs it in a private mount namespace, once with "passwd: files" and once with
 * "passwd: mynumber"): nss-bench N LOOKUPS SEED. Names are mn%06u as made by
 * "nssmap-tool gen N"; one lookup in ten is a miss (an index past N). Prints
 * "hit_median_ns hit_p99_ns miss_median_ns miss_p99_ns all_median_ns all_p99_ns".
 */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_u64(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
	return x < y ? -1 : x > y;
}

static unsigned long long pct(unsigned long long *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

int main(int argc, char **argv)
{
	unsigned long n, lookups, i;
	unsigned long long *hit, *miss, *all;
	size_t nh = 0, nm = 0, na = 0;
	unsigned seed;
	char buf[4096], name[32];
	struct passwd pw, *res;

	if (argc != 4) {
		fprintf(stderr, "usage: nss-bench N LOOKUPS SEED\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	lookups = strtoul(argv[2], NULL, 10);
	seed = (unsigned)strtoul(argv[3], NULL, 10);
	hit = calloc(lookups + 1, sizeof(*hit));
	miss = calloc(lookups + 1, sizeof(*miss));
	all = calloc(lookups + 1, sizeof(*all));
	if (hit == NULL || miss == NULL || all == NULL || n == 0)
		return 1;
	/* warm up: the first lookup loads the module (and maps the map) */
	snprintf(name, sizeof(name), "mn%06lu", 0UL);
	if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		fprintf(stderr, "warm-up lookup of %s failed: the backend does not serve it\n",
		        name);
		return 1;
	}
	for (i = 0; i < lookups; i++) {
		unsigned long k = (unsigned long)rand_r(&seed) % n;
		int is_miss = rand_r(&seed) % 10 == 0;
		struct timespec t0, t1;
		unsigned long long ns;

		snprintf(name, sizeof(name), is_miss ? "nx%06lu" : "mn%06lu", k);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r = getpwnam_r(name, &pw, buf, sizeof(buf), &res);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((res != NULL) == is_miss || (r != 0 && r != ENOENT)) {
			fprintf(stderr, "%s: wrong answer (r=%d)\n", name, r);
			return 1;
		}
		ns = (unsigned long long)(t1.tv_sec - t0.tv_sec) * 1000000000ULL +
		     (unsigned long long)t1.tv_nsec - (unsigned long long)t0.tv_nsec;
		if (is_miss)
			miss[nm++] = ns;
		else
			hit[nh++] = ns;
		all[na++] = ns;
	}
	qsort(hit, nh, sizeof(*hit), cmp_u64);
	qsort(miss, nm, sizeof(*miss), cmp_u64);
	qsort(all, na, sizeof(*all), cmp_u64);
	printf("%llu %llu %llu %llu %llu %llu\n", pct(hit, nh, 0.5), pct(hit, nh, 0.99),
	       pct(miss, nm, 0.5), pct(miss, nm, 0.99), pct(all, na, 0.5), pct(all, na, 0.99));
	free(hit);
	free(miss);
	free(all);
	return 0;
}
