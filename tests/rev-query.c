/*
 * rev-query: ask one revocation backend plugin about one certificate, the way the login does.
 *   rev-query PLUGIN.so CERT.pem ISSUER.pem [--now UNIX] [--timeout-ms N] [key=value ...]
 * Prints "status=<good|revoked|unknown|unavailable> reason=N revoked_at=T this_update=T
 * cache_until=T" and the detail line; exit 0 when check() returned 0, 1 otherwise, 2 on usage.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mn_crlidx.h"
#include "mynumber/revocation.h"

static const char *status_name(enum mynumber_rev_status s)
{
	switch (s) {
	case MYNUMBER_REV_GOOD:
		return "good";
	case MYNUMBER_REV_REVOKED:
		return "revoked";
	case MYNUMBER_REV_UNKNOWN:
		return "unknown";
	case MYNUMBER_REV_UNAVAILABLE:
		return "unavailable";
	}
	return "?";
}

static X509 *load(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

int main(int argc, char **argv)
{
	const struct mynumber_rev_backend *(*entry)(void);
	const struct mynumber_rev_backend *be;
	struct mynumber_rev_setting set[32];
	struct mynumber_rev_query q;
	struct mynumber_rev_answer a;
	unsigned char *der = NULL, *ider = NULL, kid[20], serial[64];
	X509 *cert = NULL, *issuer = NULL;
	BIGNUM *bn = NULL;
	void *dl, *sym, *state = NULL;
	char err[512];
	size_t n = 0;
	int i, r, rc, len, ilen;

	if (argc < 4) {
		fprintf(stderr, "usage: rev-query PLUGIN.so CERT.pem ISSUER.pem [--now UNIX] "
		                "[--timeout-ms N] [key=value ...]\n");
		return 2;
	}
	memset(&q, 0, sizeof(q));
	q.now = time(NULL);
	q.timeout_ms = 5000;
	for (i = 4; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
			q.now = strtoll(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
			q.timeout_ms = atoi(argv[++i]);
		} else if (eq != NULL && n < 32) {
			*eq = '\0';
			set[n].key = argv[i];
			set[n++].value = eq + 1;
		} else {
			return 2;
		}
	}
	if ((dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "rev-query: %s\n", dlerror());
		return 1;
	}
	sym = dlsym(dl, "mynumber_revocation_backend");
	memcpy(&entry, &sym, sizeof(entry));
	if (entry == NULL || (be = entry()) == NULL ||
	    be->abi_version != MYNUMBER_REV_ABI_VERSION) {
		fprintf(stderr, "rev-query: not a version %d backend\n", MYNUMBER_REV_ABI_VERSION);
		return 1;
	}
	rc = 1;
	if ((cert = load(argv[2])) == NULL || (issuer = load(argv[3])) == NULL) {
		fprintf(stderr, "rev-query: cannot read the certificates\n");
		goto out;
	}
	len = i2d_X509(cert, &der);
	ilen = i2d_X509(issuer, &ider);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (len <= 0 || ilen <= 0 || bn == NULL || BN_num_bytes(bn) > (int)sizeof(serial) ||
	    mn_key_id(issuer, kid) != 0) {
		fprintf(stderr, "rev-query: bad certificates\n");
		goto out;
	}
	q.cert = der;
	q.cert_len = (size_t)len;
	q.issuer = ider;
	q.issuer_len = (size_t)ilen;
	q.issuer_key_id = kid;
	q.serial_len = (size_t)BN_bn2bin(bn, serial);
	q.serial = serial;
	if (be->open(set, n, &state, err, sizeof(err)) != 0) {
		fprintf(stderr, "rev-query: %s: %s\n", be->name, err);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	r = be->check(state, &q, &a);
	printf("status=%s reason=%d revoked_at=%lld this_update=%lld cache_until=%lld\n%s\n",
	       status_name(a.status), a.reason, (long long)a.revoked_at, (long long)a.this_update,
	       (long long)a.cache_until, a.detail);
	be->close(state);
	rc = r == 0 ? 0 : 1;
out:
	/* every path frees what it loaded: the sanitizer runs count leaks of this tool too */
	OPENSSL_free(der);
	OPENSSL_free(ider);
	BN_free(bn);
	X509_free(cert);
	X509_free(issuer);
	dlclose(dl);
	return rc;
}
