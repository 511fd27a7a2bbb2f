/* Unit tests: the enrollment store (format, validation, atomic save, lock). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "mn_b64.h"
#include "mn_err.h"
#include "mn_store.h"

#define N_CERTS 2

/* Group state: self-signed test certificates. */
struct certs {
	unsigned char *cert[N_CERTS], *spki[N_CERTS];
	size_t cert_len[N_CERTS], spki_len[N_CERTS];
	char serial[N_CERTS][41], issuer[N_CERTS][513];
};

/* Test state: a fresh directory with the store path in it. */
struct fx {
	struct certs *certs;
	char dir[32];
	char path[64];
};

static int make_cert(struct certs *c, int i)
{
	EVP_PKEY *k = EVP_RSA_gen(1024);
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *bn = NULL;
	unsigned char *p = NULL;
	char *hex;
	int n;

	if (k == NULL || x == NULL)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1A2B3C00L + i);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"JPKI test", -1,
	                           -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	                           (const unsigned char *)(i == 0 ? "alice" : "bob"), -1, -1, 0);
	X509_set_issuer_name(x, name);
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		return -1;
	if ((n = i2d_X509(x, &p)) <= 0)
		return -1;
	c->cert[i] = p, c->cert_len[i] = (size_t)n, p = NULL;
	if ((n = i2d_PUBKEY(k, &p)) <= 0)
		return -1;
	c->spki[i] = p, c->spki_len[i] = (size_t)n;
	X509_NAME_oneline(X509_get_issuer_name(x), c->issuer[i], sizeof(c->issuer[i]));
	bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(x), NULL);
	hex = BN_bn2hex(bn);
	snprintf(c->serial[i], sizeof(c->serial[i]), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(k);
	return 0;
}

static int group_setup(void **state)
{
	struct certs *c = calloc(1, sizeof(*c));
	int i;

	if (c == NULL)
		return -1;
	for (i = 0; i < N_CERTS; i++)
		if (make_cert(c, i) != 0)
			return -1;
	*state = c;
	return 0;
}

static int group_teardown(void **state)
{
	struct certs *c = *state;
	int i;

	for (i = 0; i < N_CERTS; i++) {
		OPENSSL_free(c->cert[i]);
		OPENSSL_free(c->spki[i]);
	}
	free(c);
	return 0;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	fx->certs = *state;
	strcpy(fx->dir, "/tmp/mn-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/enrollments", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	struct dirent *de;
	char p[300];
	DIR *d;

	chmod(fx->dir, 0700);
	if ((d = opendir(fx->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", fx->dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Number of entries in the directory other than . and .. */
static int dir_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void make_binding(const struct certs *c, int i, const char *user, struct mn_binding *b)
{
	memset(b, 0, sizeof(*b));
	snprintf(b->user, sizeof(b->user), "%s", user);
	b->kind = i == 0 ? MN_TOKEN_CARD : MN_TOKEN_IPHONE;
	strcpy(b->token_serial, i == 0 ? "0123456789ABCDEF" : "");
	strcpy(b->not_after, "20301231235959Z");
	strcpy(b->serial, c->serial[i]);
	strcpy(b->issuer, c->issuer[i]);
	strcpy(b->label, i == 0 ? "my card" : "");
	b->spki = c->spki[i];
	b->spki_len = c->spki_len[i];
	b->cert = c->cert[i];
	b->cert_len = c->cert_len[i];
}

static void assert_binding_equal(const struct mn_binding *a, const struct mn_binding *b)
{
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->id, b->id);
	assert_string_equal(a->sha256, b->sha256);
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->token_serial, b->token_serial);
	assert_string_equal(a->not_after, b->not_after);
	assert_string_equal(a->serial, b->serial);
	assert_string_equal(a->issuer, b->issuer);
	assert_string_equal(a->label, b->label);
	assert_int_equal(a->spki_len, b->spki_len);
	assert_memory_equal(a->spki, b->spki, a->spki_len);
	assert_int_equal(a->cert_len, b->cert_len);
	assert_memory_equal(a->cert, b->cert, a->cert_len);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static void write_all(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A saved store with alice (cert 0, id 1) and bob (cert 1, id 2); the file text returned. */
static char *two_bindings(struct fx *fx)
{
	struct mn_store *s = NULL;
	struct mn_binding b;
	char err[256];

	assert_int_equal(mn_store_new(&s), MN_OK);
	make_binding(fx->certs, 0, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);
	make_binding(fx->certs, 1, "bob", &b);
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);
	return read_all(fx->path, NULL);
}

/* ---------------------------------------------------------------- tests */

static void test_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL, *t = NULL;
	struct mn_binding b;
	struct stat st;
	char err[256] = "x", *text;
	unsigned id = 0;
	size_t i;

	assert_int_equal(mn_store_new(&s), MN_OK);
	assert_int_equal(mn_store_count(s), 0);
	assert_null(mn_store_at(s, 0));
	make_binding(fx->certs, 0, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 1);
	make_binding(fx->certs, 1, "alice", &b); /* a second token for the same user */
	b.kind = MN_TOKEN_ANDROID;
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 2);
	make_binding(fx->certs, 0, "Bob_2.x-y", &b); /* the same card for another user */
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 3);
	assert_int_equal(mn_store_count(s), 3);
	/* the store owns copies: the caller's buffers are untouched and separate */
	assert_ptr_not_equal(mn_store_at(s, 0)->cert, fx->certs->cert[0]);
	assert_int_equal(strlen(mn_store_at(s, 0)->sha256), 64);

	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	assert_string_equal(err, "");
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(dir_entries(fx->dir), 1); /* no temporary file left */
	text = read_all(fx->path, NULL);
	assert_memory_equal(text, "# mynumber enrollment store v1\nalice\t1\t", 38);
	assert_non_null(strstr(text, "\tcard\t0123456789ABCDEF\t20301231235959Z\t"));
	assert_non_null(strstr(text, "\tandroid\t-\t"));
	free(text);

	assert_int_equal(mn_store_load(fx->path, &t, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(t), 3);
	for (i = 0; i < 3; i++)
		assert_binding_equal(mn_store_at(s, i), mn_store_at(t, i));
	assert_string_equal(mn_store_at(t, 2)->user, "Bob_2.x-y");
	assert_int_equal(mn_store_at(t, 1)->kind, MN_TOKEN_ANDROID);
	assert_string_equal(mn_store_at(t, 1)->token_serial, "");
	assert_string_equal(mn_store_at(t, 1)->label, "");

	/* saving what was loaded gives the same bytes */
	text = read_all(fx->path, NULL);
	assert_int_equal(mn_store_save(t, fx->path, err, sizeof(err)), MN_OK);
	{
		char *again = read_all(fx->path, NULL);
		assert_string_equal(again, text);
		free(again);
	}
	free(text);

	mn_store_free(&s);
	mn_store_free(&t);
	assert_null(s);
	mn_store_free(&s);
	mn_store_free(NULL);
	assert_int_equal(mn_store_count(NULL), 0);
	assert_null(mn_store_at(NULL, 0));
}

static void test_missing_file_is_empty(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	char err[256];

	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(s), 0);
	/* an empty store saves as the header alone and loads back */
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(s), 0);
	mn_store_free(&s);
	assert_int_equal(mn_store_load(NULL, &s, err, sizeof(err)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_store_load(fx->path, NULL, err, sizeof(err)), MN_ERR_INVALID_ARG);
}

static void test_ids_and_remove(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct mn_binding b;
	unsigned id = 0;
	size_t removed = 0;

	assert_int_equal(mn_store_new(&s), MN_OK);
	make_binding(fx->certs, 0, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	make_binding(fx->certs, 1, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	make_binding(fx->certs, 0, "bob", &b);
	b.id = 999; /* ignored */
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 3);

	/* the same user and certificate again */
	id = 77;
	make_binding(fx->certs, 0, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_ERR_INVALID_ARG);
	assert_int_equal(id, 77);
	assert_int_equal(mn_store_count(s), 3);

	/* removing the highest id frees it; others are not reused */
	assert_int_equal(mn_store_remove(s, "bob", 3, &removed), MN_OK);
	assert_int_equal(removed, 1);
	make_binding(fx->certs, 1, "bob", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 3);
	assert_int_equal(mn_store_remove(s, "alice", 1, &removed), MN_OK);
	make_binding(fx->certs, 0, "carol", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 4);

	/* id must belong to the user */
	removed = 55;
	assert_int_equal(mn_store_remove(s, "alice", 3, &removed), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_store_remove(s, "nobody", 0, &removed), MN_ERR_NOT_FOUND);
	assert_int_equal(removed, 55);
	assert_int_equal(mn_store_count(s), 3);

	/* all of a user's */
	make_binding(fx->certs, 0, "bob", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(mn_store_count(s), 4);
	assert_int_equal(mn_store_remove(s, "bob", 0, &removed), MN_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(mn_store_count(s), 2);
	assert_string_equal(mn_store_at(s, 0)->user, "alice");
	assert_int_equal(mn_store_at(s, 0)->id, 2);
	assert_string_equal(mn_store_at(s, 1)->user, "carol");
	assert_int_equal(mn_store_remove(s, "carol", 0, NULL), MN_OK);
	assert_int_equal(mn_store_remove(s, "alice", 0, NULL), MN_OK);
	assert_int_equal(mn_store_count(s), 0);
	make_binding(fx->certs, 0, "alice", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 1);

	assert_int_equal(mn_store_remove(s, NULL, 0, NULL), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_store_add(s, NULL, NULL), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_store_add(NULL, &b, NULL), MN_ERR_INVALID_ARG);
	mn_store_free(&s);
}

static void test_add_validation(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct mn_binding b;
	unsigned char big[MN_STORE_CERT_MAX + 1];
	unsigned id = 0;

	assert_int_equal(mn_store_new(&s), MN_OK);
#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		make_binding(fx->certs, 0, "alice", &b);                                           \
		stmt;                                                                              \
		assert_int_equal(mn_store_add(s, &b, &id), MN_ERR_FORMAT);                         \
	} while (0)
	BAD(strcpy(b.user, ""));
	BAD(strcpy(b.user, "al ice"));
	BAD(strcpy(b.user, "-alice"));
	BAD(strcpy(b.user, ".alice"));
	BAD(strcpy(b.user, "al:ice"));
	BAD(memset(b.user, 'a', sizeof(b.user))); /* not terminated */
	BAD(b.kind = MN_TOKEN_UNKNOWN);
	BAD(b.kind = MN_TOKEN_JUKI);
	BAD(strcpy(b.token_serial, "-"));
	BAD(strcpy(b.token_serial, "12 34"));
	BAD(strcpy(b.not_after, "20300231000000Z"));
	BAD(strcpy(b.not_after, "2030-12-31 23:5"));
	BAD(strcpy(b.serial, ""));
	BAD(strcpy(b.serial, "1a"));
	BAD(strcpy(b.issuer, ""));
	BAD(b.spki = NULL);
	BAD(b.spki_len = 0);
	BAD(b.spki_len = MN_STORE_SPKI_MAX + 1);
	BAD(b.cert_len = 0);
	BAD((b.cert = big, b.cert_len = sizeof(big)));
	BAD(strcpy(b.sha256, "00"));
	BAD(memset(b.sha256, 'a', 64));
	/* the public key of another certificate: the login verifies with this key */
	BAD((b.spki = fx->certs->spki[1], b.spki_len = fx->certs->spki_len[1]));
#undef BAD
	assert_int_equal(mn_store_count(s), 0);

	/* a correct digest passed in is accepted; the longest user name too */
	make_binding(fx->certs, 0, "abcdefghijklmnopqrstuvwxyz012345", &b);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	make_binding(fx->certs, 0, "alice", &b);
	strcpy(b.sha256, mn_store_at(s, 0)->sha256);
	assert_int_equal(mn_store_add(s, &b, &id), MN_OK);
	assert_int_equal(id, 2);
	mn_store_free(&s);
}

/* Split a line (no newline) into its 11 fields, copied into f. */
static void split(const char *line, char f[11][12000])
{
	const char *p = line, *e;
	int i;

	for (i = 0; i < 11; i++) {
		e = strchr(p, '\t');
		if (e == NULL)
			e = p + strlen(p);
		assert_true((size_t)(e - p) < 12000);
		memcpy(f[i], p, (size_t)(e - p));
		f[i][e - p] = '\0';
		p = *e != '\0' ? e + 1 : e;
	}
}

/* Write header + text to the store, load it and expect MN_ERR_FORMAT ":LINE: ...what...". */
static void expect_corrupt_raw(struct fx *fx, const char *text, size_t len, unsigned line,
                               const char *what)
{
	struct mn_store *s = NULL;
	char err[512], prefix[80];

	write_all(fx->path, text, len, 0600);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_ERR_FORMAT);
	assert_null(s);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", fx->path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL)
		fail_msg("got \"%s\", want \"%s...%s\"", err, prefix, what);
}

static void test_corrupt_fields(void **state)
{
	static const struct {
		int field;
		const char *value;
		const char *what;
	} cases[] = {
	    {0, "", "bad user name"},
	    {0, "b b", "bad user name"},
	    {0, "-bob", "bad user name"},
	    {0, ".bob", "bad user name"},
	    {0, "bo/b", "bad user name"},
	    {0, "abcdefghijklmnopqrstuvwxyz0123456", "bad user name"},
	    {1, "", "bad id"},
	    {1, "0", "bad id"},
	    {1, "02", "bad id"},
	    {1, "-2", "bad id"},
	    {1, "2x", "bad id"},
	    {1, "2147483648", "bad id"},
	    {1, "99999999999999999999", "bad id"},
	    {1, "1", "id used twice"},
	    {2, "", "bad sha256"},
	    {2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", "bad sha256"},
	    {2, "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "bad sha256"},
	    {2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg", "bad sha256"},
	    {2, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     "sha256 does not match the certificate"},
	    {3, "phone", "bad token kind"},
	    {3, "Card", "bad token kind"},
	    {3, "", "bad token kind"},
	    {4, "", "bad token serial"},
	    {4, "12345678901234567", "bad token serial"},
	    {4, "a b", "bad token serial"},
	    {4, "a\x7f", "bad token serial"},
	    {5, "20250230000000Z", "bad not_after"},
	    {5, "20230229000000Z", "bad not_after"},
	    {5, "20251301000000Z", "bad not_after"},
	    {5, "20250101240000Z", "bad not_after"},
	    {5, "20250101236000Z", "bad not_after"},
	    {5, "2025010100000Z", "bad not_after"},
	    {5, "20250101000000", "bad not_after"},
	    {5, "20250101000000z", "bad not_after"},
	    {6, "", "bad certificate serial"},
	    {6, "ab", "bad certificate serial"},
	    {6, "0G", "bad certificate serial"},
	    {6, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "bad certificate serial"},
	    {7, "", "bad issuer"},
	    {7, "CN=%GG", "bad issuer"},
	    {7, "CN=%4", "bad issuer"},
	    {7, "CN=%00x", "bad issuer"},
	    {7, "CN=a\rb", "bad issuer"},
	    {8, "", "bad label"},
	    {8, "%", "bad label"},
	    {8, "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123", "bad label"},
	    {9, "", "bad spki"},
	    {9, "abc", "bad spki"},
	    {9, "AAB=", "bad spki"},
	    {9, "AA==AA==", "bad spki"},
	    {10, "", "bad certificate (base64)"},
	    {10, "!!!!", "bad certificate (base64)"},
	    {10, "AAAA", "sha256 does not match"},
	};
	struct fx *fx = *state;
	static char f[11][12000], bob[11][12000];
	char *text, *lines[3], *out;
	size_t i, k, cap = 64 * 1024;
	int j;

	text = two_bindings(fx);
	lines[0] = strtok(text, "\n");
	lines[1] = strtok(NULL, "\n");
	lines[2] = strtok(NULL, "\n");
	assert_non_null(lines[2]);
	split(lines[2], bob);
	out = malloc(cap);
	assert_non_null(out);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(f, bob, sizeof(f));
		strcpy(f[cases[i].field], cases[i].value);
		k = (size_t)snprintf(out, cap, "%s\n%s\n", lines[0], lines[1]);
		for (j = 0; j < 11; j++)
			k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
		expect_corrupt_raw(fx, out, k, 3, cases[i].what);
	}

	/* an issuer over 512 bytes, an spki over 2048 */
	memcpy(f, bob, sizeof(f));
	memset(f[7], 'x', 513);
	f[7][513] = '\0';
	k = (size_t)snprintf(out, cap, "%s\n", lines[0]);
	for (j = 0; j < 11; j++)
		k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
	expect_corrupt_raw(fx, out, k, 2, "bad issuer");
	{
		unsigned char raw[MN_STORE_SPKI_MAX + 3];
		memset(raw, 0x30, sizeof(raw));
		memcpy(f, bob, sizeof(f));
		assert_int_equal(
		    mn_b64_encode(raw, MN_STORE_SPKI_MAX + 1, f[9], sizeof(f[9]), NULL), MN_OK);
		k = (size_t)snprintf(out, cap, "%s\n", lines[0]);
		for (j = 0; j < 11; j++)
			k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
		expect_corrupt_raw(fx, out, k, 2, "bad spki");
	}

	/* alice's certificate with bob's digest field: the cert field is what gets checked */
	memcpy(f, bob, sizeof(f));
	split(lines[1], f);
	strcpy(f[1], "2");
	strcpy(f[10], bob[10]);
	k = (size_t)snprintf(out, cap, "%s\n%s\n", lines[0], lines[1]);
	for (j = 0; j < 11; j++)
		k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
	expect_corrupt_raw(fx, out, k, 3, "sha256 does not match the certificate");

	/* the same user and certificate on two lines */
	split(lines[1], f);
	strcpy(f[1], "2");
	strcpy(f[8], "another%20label");
	k = (size_t)snprintf(out, cap, "%s\n%s\n", lines[0], lines[1]);
	for (j = 0; j < 11; j++)
		k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
	expect_corrupt_raw(fx, out, k, 3, "user bound twice to the same certificate");

	/* accepted variants: leap day, lower-case percent escapes, a "-" label */
	{
		struct mn_store *s = NULL;
		char err[256];
		memcpy(f, bob, sizeof(f));
		strcpy(f[5], "20240229235959Z");
		strcpy(f[7], "CN=%2a%2A");
		strcpy(f[8], "%2D");
		k = (size_t)snprintf(out, cap, "%s\n", lines[0]);
		for (j = 0; j < 11; j++)
			k += (size_t)snprintf(out + k, cap - k, "%s%s", f[j], j < 10 ? "\t" : "\n");
		write_all(fx->path, out, k, 0600);
		if (mn_store_load(fx->path, &s, err, sizeof(err)) != MN_OK)
			fail_msg("%s", err);
		assert_string_equal(mn_store_at(s, 0)->issuer, "CN=**");
		assert_string_equal(mn_store_at(s, 0)->label, "-");
		assert_string_equal(mn_store_at(s, 0)->not_after, "20240229235959Z");
		mn_store_free(&s);
	}
	free(out);
	free(text);
}

static void test_corrupt_structure(void **state)
{
	struct fx *fx = *state;
	char *text, *l2, *l3, *out, *p;
	size_t len, n1, n2;

	text = two_bindings(fx);
	len = strlen(text);
	n1 = (size_t)(strchr(text, '\n') - text) + 1;           /* header with its newline */
	n2 = (size_t)(strchr(text + n1, '\n') - text) + 1 - n1; /* alice's line */
	l2 = text + n1;
	l3 = l2 + n2;
	out = malloc(len + 100);
	assert_non_null(out);

	/* header missing, wrong, other version; empty file */
	expect_corrupt_raw(fx, l2, len - n1, 1, "missing header");
	expect_corrupt_raw(fx, "", 0, 1, "missing header");
	expect_corrupt_raw(fx, "# mynumber enrollment store\n", 28, 1, "missing header");
	expect_corrupt_raw(fx, "# mynumber enrollment store v1 \n", 32, 1, "missing header");
	expect_corrupt_raw(fx, "# mynumber enrollment store v4\n", 31, 1,
	                   "unsupported store version");
	expect_corrupt_raw(fx, "# mynumber enrollment store v1", 30, 1, "last line not terminated");

	/* last line without its newline */
	expect_corrupt_raw(fx, text, len - 1, 3, "last line not terminated");
	/* an empty line, a comment line */
	memcpy(out, text, n1 + n2);
	memcpy(out + n1 + n2, "\n", 1);
	memcpy(out + n1 + n2 + 1, l3, len - n1 - n2);
	expect_corrupt_raw(fx, out, len + 1, 3, "empty line");
	memcpy(out + n1 + n2, "# x\n", 4);
	memcpy(out + n1 + n2 + 4, l3, len - n1 - n2);
	expect_corrupt_raw(fx, out, len + 4, 3, "fewer than 11 fields");
	/* CRLF */
	memcpy(out, text, len);
	out[len - 1] = '\r';
	out[len] = '\n';
	expect_corrupt_raw(fx, out, len + 1, 3, "bad certificate (base64)");
	/* NUL inside a line */
	memcpy(out, text, len);
	out[n1 + 2] = '\0';
	expect_corrupt_raw(fx, out, len, 2, "NUL byte");
	/* too few fields: drop bob's cert */
	memcpy(out, text, len + 1);
	p = strrchr(out, '\t');
	strcpy(p, "\n");
	expect_corrupt_raw(fx, out, strlen(out), 3, "fewer than 11 fields");
	/* too many fields: an extra one after bob's cert */
	memcpy(out, text, len);
	strcpy(out + len - 1, "\textra\n");
	expect_corrupt_raw(fx, out, len + 6, 3, "more than 11 fields");
	memcpy(out, text, len);
	strcpy(out + len - 1, "\t\n");
	expect_corrupt_raw(fx, out, len + 1, 3, "more than 11 fields");
	free(out);
	free(text);
}

static void test_percent_roundtrip(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct mn_binding b;
	char err[256], *text;
	static const char label[] = "a\tb\nc%d\re\x01\x7f \xe3\x83\x9e\xe3\x82\xa4#;=";
	static const char issuer[] = "/C=JP/O=JPKI\t100%/CN=x\ny";

	assert_int_equal(mn_store_new(&s), MN_OK);
	make_binding(fx->certs, 0, "alice", &b);
	strcpy(b.label, label);
	strcpy(b.issuer, issuer);
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);
	make_binding(fx->certs, 1, "alice", &b);
	strcpy(b.label, "-");
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);
	make_binding(fx->certs, 1, "bob", &b);
	memset(b.label, 'L', 64); /* the longest label */
	b.label[64] = '\0';
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);

	text = read_all(fx->path, NULL);
	assert_non_null(strstr(text, "\ta%09b%0Ac%25d%0De%01%7F \xe3\x83\x9e\xe3\x82\xa4#;=\t"));
	assert_non_null(strstr(text, "\t/C=JP/O=JPKI%09100%25/CN=x%0Ay\t"));
	assert_non_null(strstr(text, "\t%2D\t"));
	free(text);

	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(s), 3);
	assert_string_equal(mn_store_at(s, 0)->label, label);
	assert_string_equal(mn_store_at(s, 0)->issuer, issuer);
	assert_string_equal(mn_store_at(s, 1)->label, "-");
	assert_int_equal(strlen(mn_store_at(s, 2)->label), 64);
	mn_store_free(&s);
}

static void test_file_security(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct stat st;
	char err[256], link[80], *text;
	mode_t old;

	text = two_bindings(fx);
	/* saved 0600 whatever the umask and the mode of the file replaced */
	assert_int_equal(chmod(fx->path, 0644), 0);
	old = umask(0);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "accessible by group or others (mode 0644"));
	assert_null(s);
	assert_int_equal(mn_store_new(&s), MN_OK);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	umask(old);
	mn_store_free(&s);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* any group or other bit is refused, even read-only */
	write_all(fx->path, text, strlen(text), 0640);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_ERR_IO);
	assert_int_equal(chmod(fx->path, 0604), 0);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_ERR_IO);
	assert_int_equal(chmod(fx->path, 0400), 0);
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(s), 2);
	mn_store_free(&s);
	assert_int_equal(chmod(fx->path, 0600), 0);

	/* a symlink is refused, not followed */
	snprintf(link, sizeof(link), "%s/link", fx->dir);
	assert_int_equal(symlink(fx->path, link), 0);
	assert_int_equal(mn_store_load(link, &s, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "symbolic link"));
	unlink(link);

	/* a directory */
	assert_int_equal(mn_store_load(fx->dir, &s, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "not a regular file"));

	/* another owner (only root can set that up) */
	if (geteuid() == 0) {
		assert_int_equal(chown(fx->path, 4242, 4242), 0);
		assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_ERR_IO);
		assert_non_null(strstr(err, "owned by uid 4242"));
	}
	assert_null(s);
	free(text);
}

static void test_failed_save(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct mn_binding b;
	char err[256], path[96], *before, *after;
	int status;
	pid_t pid;

	before = two_bindings(fx);
	assert_int_equal(mn_store_new(&s), MN_OK);
	make_binding(fx->certs, 0, "carol", &b);
	assert_int_equal(mn_store_add(s, &b, NULL), MN_OK);

	/* a directory that does not exist */
	snprintf(path, sizeof(path), "%s/nope/enrollments", fx->dir);
	assert_int_equal(mn_store_save(s, path, err, sizeof(err)), MN_ERR_IO);
	assert_non_null(strstr(err, "cannot create a temporary file"));

	/* a write that fails half-way (file size limit): the old file stays, no temp file */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = {100, 100};
		free(before); /* the child's copy is not needed: no leak at its _exit (valgrind) */
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
			_exit(2);
		_exit(mn_store_save(s, fx->path, err, sizeof(err)) == MN_ERR_IO &&
		              strstr(err, "cannot write") != NULL
		          ? 0
		          : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	after = read_all(fx->path, NULL);
	assert_string_equal(after, before);
	free(after);
	assert_int_equal(dir_entries(fx->dir), 1);

	/* a read-only directory (root ignores permissions) */
	if (geteuid() != 0) {
		assert_int_equal(chmod(fx->dir, 0500), 0);
		assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_ERR_IO);
		assert_int_equal(chmod(fx->dir, 0700), 0);
		after = read_all(fx->path, NULL);
		assert_string_equal(after, before);
		free(after);
		assert_int_equal(dir_entries(fx->dir), 1);
	}

	/* and a good save still replaces it */
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	after = read_all(fx->path, NULL);
	assert_string_not_equal(after, before);
	free(after);
	free(before);
	mn_store_free(&s);
	assert_int_equal(mn_store_save(NULL, fx->path, err, sizeof(err)), MN_ERR_INVALID_ARG);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_lock(void **state)
{
	struct fx *fx = *state;
	const struct timespec nap = {0, 200 * 1000000L};
	char err[256], lock[80];
	struct stat st;
	int fd = -1, fd2 = -1, status;
	pid_t pid;

	assert_int_equal(mn_store_lock(fx->path, &fd, err, sizeof(err)), MN_OK);
	assert_true(fd >= 0);
	snprintf(lock, sizeof(lock), "%s.lock", fx->path);
	assert_int_equal(stat(lock, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);

	/* another process times out */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long t0 = now_ms(), dt;
		int cfd = -1, r = mn_store_lock_wait(fx->path, 200, &cfd, err, sizeof(err));
		dt = now_ms() - t0;
		_exit(r == MN_ERR_TIMEOUT && cfd == -1 && dt >= 190 && dt < 1000 &&
		              strstr(err, "held by another process") != NULL
		          ? 0
		          : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* another process waits and gets it once released */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long t0 = now_ms(), dt;
		int cfd = -1, r = mn_store_lock_wait(fx->path, 1500, &cfd, err, sizeof(err));
		dt = now_ms() - t0;
		mn_store_unlock(&cfd);
		_exit(r == MN_OK && cfd == -1 && dt >= 100 ? 0 : 1);
	}
	nanosleep(&nap, NULL);
	mn_store_unlock(&fd);
	assert_int_equal(fd, -1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* free again: a single attempt succeeds; a second one (new open file) does not */
	assert_int_equal(mn_store_lock_wait(fx->path, 0, &fd, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_lock_wait(fx->path, 0, &fd2, err, sizeof(err)), MN_ERR_TIMEOUT);
	assert_int_equal(fd2, -1);
	mn_store_unlock(&fd);
	mn_store_unlock(&fd);
	mn_store_unlock(NULL);

	/* the lock file must be a regular file */
	unlink(lock);
	assert_int_equal(mkdir(lock, 0700), 0);
	assert_int_equal(mn_store_lock(fx->path, &fd, err, sizeof(err)), MN_ERR_IO);
	rmdir(lock);
	assert_int_equal(mn_store_lock(NULL, &fd, err, sizeof(err)), MN_ERR_INVALID_ARG);
}

/* Phone records: v2 only while one exists, never values, ids shared with bindings. */
static void test_phone_records(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	struct mn_phone_binding p;
	const struct mn_phone_binding *q;
	char err[256], head[64];
	unsigned id = 0;
	size_t removed = 0;
	FILE *f;

	memset(&p, 0, sizeof(p));
	snprintf(p.user, sizeof(p.user), "taro");
	memset(p.salt, 'a', 32);
	memset(p.hmac, 'b', 64);
	memset(p.iaca, 'c', 64);
	snprintf(p.created, sizeof(p.created), "20261123000000Z");
	snprintf(p.label, sizeof(p.label), "my phone");
	assert_int_equal(mn_store_new(&s), MN_OK);
	assert_int_equal(mn_store_phone_add(s, &p, &id), MN_OK);
	assert_int_equal(id, 1);
	assert_int_equal(mn_store_phone_add(s, &p, NULL), MN_ERR_INVALID_ARG); /* duplicate */
	p.salt[0] = 'X';
	assert_int_equal(mn_store_phone_add(s, &p, NULL), MN_ERR_FORMAT);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);
	f = fopen(fx->path, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_string_equal(head, MN_STORE_HEADER_V2 "\n");
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_count(s), 0);
	assert_int_equal(mn_store_phone_count(s), 1);
	q = mn_store_phone_at(s, 0);
	assert_non_null(q);
	assert_int_equal(q->id, 1);
	assert_string_equal(q->label, "my phone");
	assert_null(mn_store_phone_at(s, 1));
	assert_int_equal(mn_store_remove(s, "taro", 1, &removed), MN_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);
	f = fopen(fx->path, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_string_equal(head, MN_STORE_HEADER "\n"); /* back to v1 */
	/* a phone line in a v1 store is corrupt */
	expect_corrupt_raw(fx,
	                   "# mynumber enrollment store v1\ntaro\t1\tphone\t"
	                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\t"
	                   "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\t"
	                   "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\t"
	                   "20261123000000Z\t-\n",
	                   31 + 5 + 2 + 6 + 33 + 65 + 65 + 16 + 2, 2, "fields");
}

static void expect_corrupt_text(struct fx *fx, const char *text, unsigned line, const char *what)
{
	expect_corrupt_raw(fx, text, strlen(text), line, what);
}

static void test_accounts(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL, *t = NULL;
	struct mn_account a;
	const struct mn_account *q;
	char err[256], head[64], *text = NULL;
	unsigned id = 0;
	size_t len = 0, removed = 0;
	FILE *f;

	memset(&a, 0, sizeof(a));
	snprintf(a.user, sizeof(a.user), "kiosk1");
	a.uid = 70001;
	snprintf(a.created, sizeof(a.created), "20261123000000Z");
	snprintf(a.gecos, sizeof(a.gecos), "Kiosk %s", "\xe5\xb1\xb1\xe7\x94\xb0"); /* UTF-8 */
	assert_int_equal(mn_store_new(&s), MN_OK);
	assert_int_equal(mn_store_account_add(s, &a, &id), MN_OK);
	assert_int_equal(id, 1);
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_INVALID_ARG); /* same user */
	snprintf(a.user, sizeof(a.user), "kiosk2");
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_INVALID_ARG); /* same uid */
	a.uid = 0;
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_FORMAT);
	a.uid = 65534;
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_FORMAT);
	a.uid = 70002;
	snprintf(a.gecos, sizeof(a.gecos), "a:b");
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_FORMAT);
	snprintf(a.gecos, sizeof(a.gecos), "a,b");
	assert_int_equal(mn_store_account_add(s, &a, NULL), MN_ERR_FORMAT);
	snprintf(a.gecos, sizeof(a.gecos), "-");
	assert_int_equal(mn_store_account_add(s, &a, &id), MN_OK);
	assert_int_equal(id, 2);
	assert_int_equal(mn_store_save(s, fx->path, err, sizeof(err)), MN_OK);
	mn_store_free(&s);

	f = fopen(fx->path, "r");
	assert_non_null(f);
	assert_non_null(fgets(head, sizeof(head), f));
	fclose(f);
	assert_string_equal(head, MN_STORE_HEADER_V3 "\n");
	assert_int_equal(mn_store_load(fx->path, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_account_count(s), 2);
	q = mn_store_account_find(s, "kiosk1");
	assert_non_null(q);
	assert_int_equal(q->uid, 70001);
	assert_string_equal(q->gecos, "Kiosk \xe5\xb1\xb1\xe7\x94\xb0");
	q = mn_store_account_find(s, "kiosk2");
	assert_non_null(q);
	assert_string_equal(q->gecos, "-");
	assert_null(mn_store_account_find(s, "nobody"));
	assert_null(mn_store_account_at(s, 2));

	/* the format round-trips through memory */
	assert_int_equal(mn_store_format(s, &text, &len), MN_OK);
	assert_int_equal(strlen(text), len);
	assert_int_equal(mn_store_parse("mem", text, len, &t, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_account_count(t), 2);
	mn_store_free(&t);
	assert_int_equal(mn_store_parse("mem", text, len - 1, &t, err, sizeof(err)), MN_ERR_FORMAT);
	assert_null(t);
	assert_non_null(strstr(err, "mem:3: last line not terminated"));
	free(text);

	/* a record from a directory attribute: next id, same checks */
	assert_int_equal(mn_store_add_record(s, "hanako", "account\t70003\t20261123000000Z\t-", err,
	                                     sizeof(err)),
	                 MN_OK);
	assert_int_equal(mn_store_account_find(s, "hanako")->id, 3);
	assert_int_equal(mn_store_add_record(s, "hanako2", "account\t70003\t20261123000000Z\t-",
	                                     err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(
	    mn_store_add_record(s, "x", "account\t7\t20261323000000Z\t-", err, sizeof(err)),
	    MN_ERR_FORMAT);
	assert_non_null(strstr(err, "bad creation time"));
	assert_int_equal(
	    mn_store_add_record(s, "x", "account\t7\t20261123000000Z\t-\n", err, sizeof(err)),
	    MN_ERR_FORMAT);
	assert_int_equal(
	    mn_store_add_record(s, "-x", "account\t7\t20261123000000Z\t-", err, sizeof(err)),
	    MN_ERR_FORMAT);
	assert_int_equal(mn_store_add_record(s, "y", "phone\tzz", err, sizeof(err)), MN_ERR_FORMAT);
	assert_int_equal(mn_store_remove(s, "kiosk1", 0, &removed), MN_OK);
	assert_int_equal(removed, 1);
	assert_null(mn_store_account_find(s, "kiosk1"));
	mn_store_free(&s);

	/* corrupt account lines, with the line that is wrong */
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v2\nk\t1\taccount\t70001\t"
	                    "20261123000000Z\t-\n",
	                    2, "fields");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t070001\t"
	                    "20261123000000Z\t-\n",
	                    2, "bad uid");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t4294967295\t"
	                    "20261123000000Z\t-\n",
	                    2, "bad uid");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t70001\t"
	                    "20261123000000Z\n",
	                    2, "fewer than 6 fields");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t70001\t"
	                    "20261123000000Z\ta%3Ab\n",
	                    2, "bad gecos");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t70001\t"
	                    "20261123000000Z\t-\nj\t2\taccount\t70002\t20261123000000Z\t-\n"
	                    "m\t3\taccount\t70001\t20261123000000Z\t-\n",
	                    4, "uid used twice");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t1\taccount\t70001\t"
	                    "20261123000000Z\t-\nk\t2\taccount\t70002\t20261123000000Z\t-\n",
	                    3, "user has two accounts");
	expect_corrupt_text(fx,
	                    "# mynumber enrollment store v3\nk\t7\taccount\t70001\t"
	                    "20261123000000Z\t-\nj\t7\taccount\t70002\t20261123000000Z\t-\n",
	                    3, "id used twice");
}

/* A large store loads in O(n log n): 100,000 accounts (not timed; a quadratic check would
 * take minutes and trip the test timeout). */
static void test_large_store(void **state)
{
	struct fx *fx = *state;
	struct mn_store *s = NULL;
	char *text, err[256];
	size_t cap = 100000 * 64 + 64, k, i;

	text = malloc(cap);
	assert_non_null(text);
	k = (size_t)snprintf(text, cap, "%s\n", MN_STORE_HEADER_V3);
	for (i = 0; i < 100000; i++)
		k += (size_t)snprintf(text + k, cap - k,
		                      "u%zu\t%zu\taccount\t%zu\t20261123000000Z\t-\n", i, i + 1,
		                      100000 + i);
	assert_int_equal(mn_store_parse("big", text, k, &s, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_store_account_count(s), 100000);
	mn_store_free(&s);
	/* the last line repeats the first uid */
	k = (size_t)snprintf(text + k, cap - k,
	                     "dup\t100001\taccount\t100000\t20261123000000Z\t-\n") +
	    k;
	assert_int_equal(mn_store_parse("big", text, k, &s, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "big:100002: uid used twice"));
	free(text);
	(void)fx;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file_is_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_phone_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_store, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ids_and_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_structure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_percent_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_security, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failed_save, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, group_setup, group_teardown);
}
