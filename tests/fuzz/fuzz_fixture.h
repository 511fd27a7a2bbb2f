/* Reading the fixed inputs of a fuzz target from tests/fuzz/fixtures (MN_FUZZ_DIR). */
#ifndef MN_FUZZ_FIXTURE_H
#define MN_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

/* The whole file tests/fuzz/fixtures/NAME, NUL-terminated (free() it); NULL when absent. */
static inline unsigned char *fuzz_fixture(const char *name, size_t *len)
{
	char path[4096];
	unsigned char *buf = NULL, *nb;
	size_t n = 0, cap = 0, got;
	FILE *f;

	snprintf(path, sizeof(path), "%s/fixtures/%s", MN_FUZZ_DIR, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - n < 4097) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		if ((got = fread(buf + n, 1, cap - n - 1, f)) == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The PEM certificates of tests/fuzz/fixtures/NAME; exits when there are none. */
static inline STACK_OF(X509) *fuzz_fixture_certs(const char *name)
{
	size_t len;
	unsigned char *pem = fuzz_fixture(name, &len);
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b;
	X509 *x;

	if (pem == NULL || sk == NULL || (b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		fprintf(stderr,
		        "fuzz: fixture %s/fixtures/%s missing (tests/fuzz/make-corpus.sh)\n",
		        MN_FUZZ_DIR, name);
		exit(2);
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	BIO_free(b);
	free(pem);
	if (sk_X509_num(sk) == 0) {
		fprintf(stderr, "fuzz: no certificate in fixture %s\n", name);
		exit(2);
	}
	return sk;
}

/* A Unix time written in tests/fuzz/fixtures/NAME, or def. */
static inline long long fuzz_fixture_time(const char *name, long long def)
{
	size_t len;
	unsigned char *s = fuzz_fixture(name, &len);
	long long t = def;

	if (s != NULL) {
		t = strtoll((const char *)s, NULL, 10);
		free(s);
	}
	return t;
}

#endif
