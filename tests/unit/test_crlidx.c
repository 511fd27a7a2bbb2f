/* Unit tests: CRL import, the mmap index, and the revocation check with its policy. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_crlidx.h"
#include "mn_conf.h"
#include "mn_err.h"
#include "mn_revoke.h"
#include "mn_revoker.h"

#define DAY (24L * 3600)

/* Keys and certificates made once for the group (RSA-1024: tests only, for speed). */
static struct {
	EVP_PKEY *key_a, *key_b, *key_c, *key_leaf;
	X509 *ca_a;     /* "Test CA" with key A */
	X509 *ca_b;     /* same DN, key B: another generation */
	X509 *ca_other; /* another DN, key A */
	X509 *ca_nocrl; /* keyCertSign only */
	X509 *leaf_good, *leaf_revoked, *leaf_b, *leaf_other, *leaf_long;
	char dir[64];
	time_t now;
} fx;

static const char *const dn_test[] = {"C", "JP", "O", "JPKI-TEST", "OU", "Test CA", NULL};
static const char *const dn_other[] = {"C", "JP", "O", "JPKI-TEST", "OU", "Other CA", NULL};
static const char *const dn_nocrl[] = {"C", "JP", "O", "JPKI-TEST", "OU", "No CRL CA", NULL};
static const char *const dn_leaf[] = {"C", "JP", "CN", "TESTUSER", NULL};

/* ---------------------------------------------------------------- fixtures */

static X509_NAME *mk_name(const char *const *f)
{
	X509_NAME *n = X509_NAME_new();
	size_t i;

	assert_non_null(n);
	for (i = 0; f[i] != NULL; i += 2)
		assert_true(X509_NAME_add_entry_by_txt(n, f[i], MBSTRING_UTF8,
		                                       (const unsigned char *)f[i + 1], -1, -1, 0));
	return n;
}

static ASN1_INTEGER *hex_int(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	assert_non_null(ai);
	BN_free(bn);
	return ai;
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	assert_non_null(ext);
	assert_true(X509_add_ext(x, ext, -1));
	X509_EXTENSION_free(ext);
}

/* issuer NULL: a self-signed CA with key usage ku. */
static X509 *mk_cert(EVP_PKEY *key, const char *const *subject, X509 *issuer, EVP_PKEY *ikey,
                     const char *serial, const char *ku)
{
	X509 *x = X509_new();
	X509_NAME *name = mk_name(subject);
	ASN1_INTEGER *sn = hex_int(serial);

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(X509_set_serialNumber(x, sn));
	assert_true(X509_set_subject_name(x, name));
	assert_true(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name));
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, NULL));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, NULL));
	assert_true(X509_set_pubkey(x, key));
	if (issuer == NULL) {
		add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, NULL, NID_key_usage, ku);
		add_ext(x, NULL, NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	}
	assert_true(X509_sign(x, issuer != NULL ? ikey : key, EVP_sha256()) > 0);
	X509_NAME_free(name);
	ASN1_INTEGER_free(sn);
	return x;
}

static int group_setup(void **state)
{
	static const char crl_ku[] = "critical,keyCertSign,cRLSign";
	static const char long_serial[] = "0123456789ABCDEF0123456789ABCDEF0123456789"; /* 21 */

	(void)state;
	fx.key_a = EVP_RSA_gen(1024);
	fx.key_b = EVP_RSA_gen(1024);
	fx.key_c = EVP_RSA_gen(1024);
	fx.key_leaf = EVP_RSA_gen(1024);
	if (fx.key_a == NULL || fx.key_b == NULL || fx.key_c == NULL || fx.key_leaf == NULL)
		return -1;
	fx.ca_a = mk_cert(fx.key_a, dn_test, NULL, NULL, "0A", crl_ku);
	fx.ca_b = mk_cert(fx.key_b, dn_test, NULL, NULL, "0B", crl_ku);
	fx.ca_other = mk_cert(fx.key_a, dn_other, NULL, NULL, "0C", crl_ku);
	fx.ca_nocrl = mk_cert(fx.key_c, dn_nocrl, NULL, NULL, "0D", "critical,keyCertSign");
	fx.leaf_good = mk_cert(fx.key_leaf, dn_leaf, fx.ca_a, fx.key_a, "1002", NULL);
	fx.leaf_revoked = mk_cert(fx.key_leaf, dn_leaf, fx.ca_a, fx.key_a, "8001", NULL);
	fx.leaf_b = mk_cert(fx.key_leaf, dn_leaf, fx.ca_b, fx.key_b, "1002", NULL);
	fx.leaf_other = mk_cert(fx.key_leaf, dn_leaf, fx.ca_other, fx.key_a, "1002", NULL);
	fx.leaf_long = mk_cert(fx.key_leaf, dn_leaf, fx.ca_a, fx.key_a, long_serial, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(fx.key_a);
	EVP_PKEY_free(fx.key_b);
	EVP_PKEY_free(fx.key_c);
	EVP_PKEY_free(fx.key_leaf);
	X509_free(fx.ca_a);
	X509_free(fx.ca_b);
	X509_free(fx.ca_other);
	X509_free(fx.ca_nocrl);
	X509_free(fx.leaf_good);
	X509_free(fx.leaf_revoked);
	X509_free(fx.leaf_b);
	X509_free(fx.leaf_other);
	X509_free(fx.leaf_long);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/test_crlidx.XXXXXX");
	fx.now = time(NULL);
	return mkdtemp(fx.dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(fx.dir);
	struct dirent *e;
	char path[512];

	(void)state;
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", fx.dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(fx.dir);
}

static char *tpath(const char *name)
{
	static char buf[4][512];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", fx.dir, name);
	return buf[k];
}

/* ---------------------------------------------------------------- test CRLs */

struct entry {
	const char *serial; /* hex */
	int reason;         /* -1: no reasonCode */
	int critical;       /* an unknown critical entry extension */
};

struct crl_spec {
	X509 *ca;
	EVP_PKEY *key;
	long this_off, next_off; /* seconds from fx.now */
	int no_next;
	long number; /* < 0: no CRL number */
	const struct entry *entries;
	size_t n;
	int delta, unknown_ext; /* unknown_ext: 1 non-critical, 2 critical */
	int der;
};

static X509_EXTENSION *unknown_ext(int critical)
{
	static const unsigned char null_der[] = {0x05, 0x00};
	ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	assert_non_null(obj);
	assert_non_null(os);
	assert_true(ASN1_OCTET_STRING_set(os, null_der, sizeof(null_der)));
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os);
	assert_non_null(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(os);
	return ext;
}

static void set_time(ASN1_TIME **t, long off)
{
	*t = ASN1_TIME_set(NULL, fx.now + off);
	assert_non_null(*t);
}

static void add_entries(X509_CRL *crl, const struct crl_spec *s)
{
	ASN1_TIME *date;
	size_t i;

	set_time(&date, -3600);
	for (i = 0; i < s->n; i++) {
		X509_REVOKED *rev = X509_REVOKED_new();
		ASN1_INTEGER *sn = hex_int(s->entries[i].serial);

		assert_non_null(rev);
		assert_true(X509_REVOKED_set_serialNumber(rev, sn));
		assert_true(X509_REVOKED_set_revocationDate(rev, date));
		if (s->entries[i].reason >= 0) {
			ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
			assert_true(ASN1_ENUMERATED_set(e, s->entries[i].reason));
			assert_int_equal(X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0),
			                 1);
			ASN1_ENUMERATED_free(e);
		}
		if (s->entries[i].critical) {
			X509_EXTENSION *ext = unknown_ext(1);
			assert_true(X509_REVOKED_add_ext(rev, ext, -1));
			X509_EXTENSION_free(ext);
		}
		assert_true(X509_CRL_add0_revoked(crl, rev));
		ASN1_INTEGER_free(sn);
	}
	ASN1_TIME_free(date);
}

static void write_crl(const struct crl_spec *s, const char *path)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *tu, *nu;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	BIO *bio;

	assert_non_null(crl);
	assert_true(X509_CRL_set_version(crl, X509_CRL_VERSION_2));
	assert_true(X509_CRL_set_issuer_name(crl, X509_get_subject_name(s->ca)));
	set_time(&tu, s->this_off);
	set_time(&nu, s->next_off);
	assert_true(X509_CRL_set1_lastUpdate(crl, tu));
	if (!s->no_next)
		assert_true(X509_CRL_set1_nextUpdate(crl, nu));
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	add_entries(crl, s);
	if (s->number >= 0) {
		ASN1_INTEGER *num = ASN1_INTEGER_new();
		assert_true(ASN1_INTEGER_set(num, s->number));
		assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0), 1);
		if (s->delta)
			assert_int_equal(X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1, 0), 1);
		ASN1_INTEGER_free(num);
	}
	X509V3_set_ctx(&ctx, s->ca, NULL, NULL, crl, 0);
	ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	assert_non_null(ext);
	assert_true(X509_CRL_add_ext(crl, ext, -1));
	X509_EXTENSION_free(ext);
	if (s->unknown_ext) {
		ext = unknown_ext(s->unknown_ext == 2);
		assert_true(X509_CRL_add_ext(crl, ext, -1));
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_CRL_sort(crl));
	assert_true(X509_CRL_sign(crl, s->key, EVP_sha256()) > 0);
	bio = BIO_new_file(path, "wb");
	assert_non_null(bio);
	if (s->der)
		assert_true(i2d_X509_CRL_bio(bio, crl));
	else
		assert_true(PEM_write_bio_X509_CRL(bio, crl));
	BIO_free(bio);
	X509_CRL_free(crl);
}

static const struct entry sample[] = {
    {"1001", 1, 0},
    {"01", -1, 0},
    {"7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 4, 0}, /* 20 octets, the largest */
    {"8001", 6, 0},                                     /* DER 00 80 01 */
    {"1001", 1, 0},                                     /* duplicate */
};

static struct crl_spec spec_a(void)
{
	struct crl_spec s = {.ca = fx.ca_a,
	                     .key = fx.key_a,
	                     .this_off = -3600,
	                     .next_off = 7 * DAY,
	                     .number = 5,
	                     .entries = sample,
	                     .n = sizeof(sample) / sizeof(sample[0])};
	return s;
}

/* clang-format off */
static STACK_OF(X509) *anchors(X509 *a, X509 *b)
/* clang-format on */
{
	STACK_OF(X509) *sk = sk_X509_new_null();

	assert_non_null(sk);
	assert_true(sk_X509_push(sk, a));
	if (b != NULL)
		assert_true(sk_X509_push(sk, b));
	return sk;
}

/* clang-format off */
static int import(const struct crl_spec *s, STACK_OF(X509) *sk, char *path, size_t plen,
                  char *err, size_t errlen)
/* clang-format on */
{
	write_crl(s, tpath("crl"));
	return mn_crl_import(tpath("crl"), sk, fx.now, fx.dir, path, plen, err, errlen);
}

static void key_hex(X509 *ca, char out[41])
{
	unsigned char kid[20];
	size_t i;

	assert_int_equal(mn_key_id(ca, kid), MN_OK);
	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02x", kid[i]);
}

/* ---------------------------------------------------------------- import and lookup */

static void test_key_id_matches_ski(void **state)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(fx.ca_a);
	unsigned char kid[20];

	(void)state;
	assert_int_equal(mn_key_id(fx.ca_a, kid), MN_OK);
	assert_non_null(ski);
	assert_int_equal(ASN1_STRING_length(ski), 20);
	assert_memory_equal(ASN1_STRING_get0_data(ski), kid, 20);
	assert_int_equal(mn_key_id(NULL, kid), MN_ERR_INVALID_ARG);
}

static void check_sample_index(const char *path)
{
	static const unsigned char first[] = {0x01}, middle[] = {0x10, 0x01};
	static const unsigned char padded[] = {0x00, 0x80, 0x01}, bare[] = {0x80, 0x01};
	static const unsigned char absent[] = {0x10, 0x02}, zero[] = {0x00};
	unsigned char last[20], longer[21], kid[20];
	struct mn_crlidx *idx = NULL;
	char err[256];
	const unsigned char *num;
	size_t nlen;
	int revoked = -1, reason = -2;
	int64_t date = -1;

	assert_int_equal(mn_crlidx_open(path, &idx, err, sizeof(err)), MN_OK);
	assert_int_equal(mn_crlidx_count(idx), 4); /* duplicate removed */
	assert_int_equal(mn_crlidx_this_update(idx), fx.now - 3600);
	assert_int_equal(mn_crlidx_next_update(idx), fx.now + 7 * DAY);
	assert_int_equal(mn_key_id(fx.ca_a, kid), MN_OK);
	assert_memory_equal(mn_crlidx_issuer_key_id(idx), kid, 20);
	num = mn_crlidx_crl_number(idx, &nlen);
	assert_int_equal(nlen, 1);
	assert_int_equal(num[0], 5);

	assert_int_equal(mn_crlidx_lookup(idx, first, 1, &revoked, &reason, &date), MN_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(reason, MN_CRL_REASON_NONE);
	assert_int_equal(date, fx.now - 3600);
	assert_int_equal(mn_crlidx_lookup(idx, middle, 2, &revoked, &reason, &date), MN_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(reason, 1);
	memset(last, 0xFF, sizeof(last));
	last[0] = 0x7F;
	assert_int_equal(mn_crlidx_lookup(idx, last, 20, &revoked, &reason, NULL), MN_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(reason, 4);
	assert_int_equal(mn_crlidx_lookup(idx, padded, 3, &revoked, &reason, NULL), MN_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(reason, 6);
	revoked = -1;
	assert_int_equal(mn_crlidx_lookup(idx, bare, 2, &revoked, NULL, NULL), MN_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(mn_crlidx_lookup(idx, absent, 2, &revoked, &reason, &date), MN_OK);
	assert_int_equal(revoked, 0);
	assert_int_equal(reason, MN_CRL_REASON_NONE);
	assert_int_equal(date, 0);
	assert_int_equal(mn_crlidx_lookup(idx, zero, 1, &revoked, NULL, NULL), MN_OK);
	assert_int_equal(revoked, 0);
	last[19] = 0xFE; /* just below the last */
	assert_int_equal(mn_crlidx_lookup(idx, last, 20, &revoked, NULL, NULL), MN_OK);
	assert_int_equal(revoked, 0);
	memset(longer, 0x11, sizeof(longer));
	assert_int_equal(mn_crlidx_lookup(idx, longer, 21, &revoked, NULL, NULL), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_crlidx_lookup(idx, first, 0, &revoked, NULL, NULL), MN_ERR_FORMAT);
	mn_crlidx_close(&idx);
	assert_null(idx);
	mn_crlidx_close(&idx);
	mn_crlidx_close(NULL);
}

static void test_import_lookup(void **state)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	char path[512], want[600], hex[41], err[256], small[8];
	struct stat st;

	(void)state;
	assert_int_equal(import(&s, sk, path, sizeof(path), err, sizeof(err)), MN_OK);
	key_hex(fx.ca_a, hex);
	snprintf(want, sizeof(want), "%s/%s.idx", fx.dir, hex);
	assert_string_equal(path, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 128 + 4 * 32);
	check_sample_index(path);

	/* DER input, same result */
	s.der = 1;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	check_sample_index(path);

	/* path buffer too small: nothing written, out-parameter untouched */
	memset(small, 'x', sizeof(small));
	assert_int_equal(import(&s, sk, small, sizeof(small), err, sizeof(err)), MN_ERR_TOO_LARGE);
	assert_int_equal(small[0], 'x');

	/* an empty CRL */
	s.n = 0;
	s.number = 6;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 128);
	sk_X509_free(sk);
}

static void test_wrong_signer(void **state)
{
	STACK_OF(X509) *only_a = anchors(fx.ca_a, NULL);
	STACK_OF(X509) *both = anchors(fx.ca_a, fx.ca_b);
	STACK_OF(X509) *both_rev = anchors(fx.ca_b, fx.ca_a);
	struct crl_spec s = spec_a();
	char path[512], hex[41], err[256];

	(void)state;
	s.ca = fx.ca_b; /* same DN as A */
	s.key = fx.key_b;
	assert_int_equal(import(&s, only_a, path, sizeof(path), err, sizeof(err)),
	                 MN_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "does not verify"));
	key_hex(fx.ca_b, hex);
	assert_int_equal(import(&s, both, path, sizeof(path), err, sizeof(err)), MN_OK);
	assert_non_null(strstr(path, hex));
	assert_int_equal(import(&s, both_rev, path, sizeof(path), err, sizeof(err)), MN_OK);
	assert_non_null(strstr(path, hex));
	/* a CA named differently is not a candidate at all */
	sk_X509_free(only_a);
	only_a = anchors(fx.ca_other, NULL);
	assert_int_equal(import(&s, only_a, path, sizeof(path), err, sizeof(err)),
	                 MN_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "no trust anchor is named"));
	/* signed by the right key but the anchor may not sign CRLs */
	s.ca = fx.ca_nocrl;
	s.key = fx.key_c;
	sk_X509_free(only_a);
	only_a = anchors(fx.ca_nocrl, NULL);
	assert_int_equal(import(&s, only_a, path, sizeof(path), err, sizeof(err)),
	                 MN_ERR_NOT_FOUND);
	assert_non_null(strstr(err, "cRLSign"));
	sk_X509_free(only_a);
	sk_X509_free(both);
	sk_X509_free(both_rev);
}

static void current_number(const char *path, int expect)
{
	struct mn_crlidx *idx = NULL;
	const unsigned char *num;
	size_t len;

	assert_int_equal(mn_crlidx_open(path, &idx, NULL, 0), MN_OK);
	num = mn_crlidx_crl_number(idx, &len);
	assert_int_equal(len, 1);
	assert_int_equal(num[0], expect);
	mn_crlidx_close(&idx);
}

static void test_rollback(void **state)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	char path[512], err[256];

	(void)state;
	assert_int_equal(import(&s, sk, path, sizeof(path), err, sizeof(err)), MN_OK);
	s.number = 4;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "rollback refused"));
	current_number(path, 5);
	s.number = 5; /* same number, older thisUpdate */
	s.this_off = -7200;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "rollback refused"));
	s.this_off = -3600; /* the same CRL again */
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	s.number = -1; /* no number after one with a number */
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "no CRL number"));
	s.number = 6;
	s.this_off = -7200; /* a higher number wins */
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	current_number(path, 6);
	/* a corrupt current index is replaced */
	assert_int_equal(truncate(path, 100), 0);
	s.number = 1;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	current_number(path, 1);
	sk_X509_free(sk);
}

static void test_times(void **state)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	char err[256];

	(void)state;
	s.this_off = -8 * DAY;
	s.next_off = -60;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "CRL expired at "));
	s.next_off = 7 * DAY;
	s.no_next = 1;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "no nextUpdate"));
	s.no_next = 0;
	s.this_off = 3600;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "in the future"));
	s.this_off = 8 * DAY;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	s.this_off = 100; /* clock skew within 300 s */
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	sk_X509_free(sk);
}

static void test_extensions(void **state)
{
	static const struct entry crit_entry[] = {{"05", 1, 0}, {"06", -1, 1}};
	static const struct entry remove[] = {{"05", 8, 0}};
	static const struct entry negative[] = {{"-05", 1, 0}};
	static const struct entry too_long[] = {
	    {"010000000000000000000000000000000000000000", 1, 0}};
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	char err[256];

	(void)state;
	/* a delta CRL needs its base in the index first (test-crl.sh applies deltas) */
	s.delta = 1;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_NOT_FOUND);
	assert_string_equal(err, "a delta CRL needs the base CRL imported first");
	s.delta = 0;
	s.unknown_ext = 2;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "critical CRL extension 1.3.6.1.4.1.99999.1"));
	s.unknown_ext = 1; /* non-critical: ignored */
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	s.unknown_ext = 0;
	s.entries = crit_entry;
	s.n = 2;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "serial 06"));
	s.entries = remove;
	s.n = 1;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "removeFromCRL"));
	s.entries = negative;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "negative"));
	s.entries = too_long;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_ERR_FORMAT);
	assert_non_null(strstr(err, "longer than 20 octets"));
	sk_X509_free(sk);
}

static void test_bad_input(void **state)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	char err[256];
	FILE *f;

	(void)state;
	assert_int_equal(
	    mn_crl_import(tpath("missing"), sk, fx.now, fx.dir, NULL, 0, err, sizeof(err)),
	    MN_ERR_NOT_FOUND);
	f = fopen(tpath("garbage"), "w");
	assert_non_null(f);
	fputs("not a CRL\n", f);
	fclose(f);
	assert_int_equal(
	    mn_crl_import(tpath("garbage"), sk, fx.now, fx.dir, NULL, 0, err, sizeof(err)),
	    MN_ERR_FORMAT);
	f = fopen(tpath("garbage"), "w");
	fputs("\x30\x82\x01", f); /* truncated DER */
	fclose(f);
	assert_int_equal(
	    mn_crl_import(tpath("garbage"), sk, fx.now, fx.dir, NULL, 0, err, sizeof(err)),
	    MN_ERR_FORMAT);
	assert_int_equal(mn_crl_import(NULL, sk, fx.now, fx.dir, NULL, 0, err, sizeof(err)),
	                 MN_ERR_INVALID_ARG);
	sk_X509_free(sk);
}

/* ---------------------------------------------------------------- corrupt indexes */

static void put_file(const char *path, const unsigned char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int open_bytes(const unsigned char *data, size_t len, mode_t mode)
{
	struct mn_crlidx *idx = NULL;
	char err[256];
	int r;

	put_file(tpath("bad.idx"), data, len, mode);
	r = mn_crlidx_open(tpath("bad.idx"), &idx, err, sizeof(err));
	if (r == MN_OK)
		mn_crlidx_close(&idx);
	else
		assert_null(idx);
	return r;
}

static void test_corrupt_index(void **state)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	unsigned char good[128 + 4 * 32 + 40], bad[sizeof(good)];
	struct mn_crlidx *idx = NULL;
	char path[512], err[256];
	size_t n;
	int revoked;
	FILE *f;

	(void)state;
	assert_int_equal(import(&s, sk, path, sizeof(path), err, sizeof(err)), MN_OK);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(good, 1, sizeof(good), f);
	fclose(f);
	assert_int_equal(n, 128 + 4 * 32);

	assert_int_equal(open_bytes(good, n, 0644), MN_OK);
	assert_int_equal(open_bytes(good, n, 0664), MN_ERR_IO); /* group-writable */
	assert_int_equal(open_bytes(good, n - 5, 0644), MN_ERR_TRUNCATED);
	assert_int_equal(open_bytes(good, 100, 0644), MN_ERR_TRUNCATED);
	assert_int_equal(open_bytes(good, 0, 0644), MN_ERR_TRUNCATED);
	memset(good + n, 0, 32);
	assert_int_equal(open_bytes(good, n + 32, 0644), MN_ERR_TRAILING);
	memcpy(bad, good, n);
	bad[0] = 'X';
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_FORMAT);
	memcpy(bad, good, n);
	bad[11] = 2; /* version */
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_UNSUPPORTED);
	memcpy(bad, good, n);
	bad[15] = 5; /* count */
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_TRUNCATED);
	memcpy(bad, good, n);
	bad[120] = 1; /* reserved */
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_FORMAT);
	memcpy(bad, good, n);
	bad[32] = 21; /* CRL number length */
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_FORMAT);
	memcpy(bad, good, n);
	memcpy(bad + 24, bad + 16, 8); /* nextUpdate == thisUpdate */
	assert_int_equal(open_bytes(bad, n, 0644), MN_ERR_FORMAT);
	assert_int_equal(mn_crlidx_open(tpath("none.idx"), &idx, err, sizeof(err)),
	                 MN_ERR_NOT_FOUND);
	assert_int_equal(mn_crlidx_open(fx.dir, &idx, err, sizeof(err)), MN_ERR_IO);

	/* a record whose serial_len disagrees: found, but refused */
	memcpy(bad, good, n);
	bad[128 + 20] = 7; /* first record: serial 01 */
	put_file(tpath("bad.idx"), bad, n, 0644);
	assert_int_equal(mn_crlidx_open(tpath("bad.idx"), &idx, err, sizeof(err)), MN_OK);
	assert_int_equal(
	    mn_crlidx_lookup(idx, (const unsigned char *)"\x01", 1, &revoked, NULL, NULL),
	    MN_ERR_FORMAT);
	mn_crlidx_close(&idx);
	sk_X509_free(sk);
}

/* ---------------------------------------------------------------- mn_revoke_check */

static void import_a(long next_off)
{
	STACK_OF(X509) *sk = anchors(fx.ca_a, NULL);
	struct crl_spec s = spec_a();
	char err[256];

	s.next_off = next_off;
	assert_int_equal(import(&s, sk, NULL, 0, err, sizeof(err)), MN_OK);
	sk_X509_free(sk);
}

/* The login's revocation check: mn_revoker with the crl plugin from the build tree. */
static int revoker_for(const char *backends, enum mn_rev_policy policy, unsigned staleness,
                       struct mn_revoker **ret)
{
	char path[700], cwd[512], text[2048], err[256];
	struct mn_conf *conf = NULL;
	int fd, r;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	snprintf(path, sizeof(path), "%s/mynumber.conf", fx.dir);
	snprintf(text, sizeof(text),
	         "state_dir = %s/state\n[revocation]\nbackends = %s\npolicy = %s\n"
	         "max_staleness = %u\nplugin_dir = %s/revocation/.libs\n"
	         "[revocation.crl]\ndir = %s\n",
	         fx.dir, backends, policy == MN_REV_SOFT ? "soft" : "require", staleness, cwd,
	         fx.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	r = mn_conf_load(path, &conf, err, sizeof(err));
	if (r == MN_OK)
		r = mn_revoker_open(conf, ret, err, sizeof(err));
	mn_conf_free(&conf);
	return r;
}

static struct mn_rev_result check(const char *backends, enum mn_rev_policy policy,
                                  unsigned staleness, X509 *cert, X509 *issuer, time_t now)
{
	struct mn_revoker *rv = NULL;
	struct mn_rev_result res;

	memset(&res, 0x55, sizeof(res));
	assert_int_equal(revoker_for(backends, policy, staleness, &rv), MN_OK);
	assert_int_equal(mn_revoker_check(rv, cert, issuer, now, &res), MN_OK);
	mn_revoker_close(&rv);
	return res;
}

static void test_revoke_basic(void **state)
{
	struct mn_rev_result r;

	(void)state;
	/* nothing imported */
	r = check("crl", MN_REV_REQUIRE, 0, fx.leaf_good, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_UNAVAILABLE);
	assert_non_null(strstr(r.detail, "no usable index"));
	assert_int_equal(r.soft_accepted, 0);
	r = check("crl", MN_REV_SOFT, 3600, fx.leaf_good, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_UNAVAILABLE);
	assert_int_equal(r.soft_accepted, 0);

	import_a(7 * DAY);
	r = check("crl", MN_REV_REQUIRE, 0, fx.leaf_good, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_GOOD);
	assert_int_equal(r.soft_accepted, 0);
	assert_int_equal(r.reason, MN_CRL_REASON_NONE);
	assert_int_equal(r.revoked_at, 0);
	r = check(" crl ", MN_REV_SOFT, 0, fx.leaf_revoked, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_REVOKED);
	assert_int_equal(r.reason, 6);
	assert_int_equal(r.revoked_at, fx.now - 3600);
	assert_int_equal(r.soft_accepted, 0);
	assert_non_null(strstr(r.detail, "revoked"));
	assert_string_equal(mn_rev_reason_name(r.reason), "certificateHold");

	/* none */
	r = check("none", MN_REV_REQUIRE, 0, fx.leaf_revoked, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_GOOD);
	assert_string_equal(r.detail, "revocation checking disabled");
}

static void test_revoke_stale(void **state)
{
	struct mn_rev_result r;
	time_t next = fx.now + DAY;

	(void)state;
	import_a(DAY);
	/* past nextUpdate, within max_staleness: refused by require, let through by soft */
	r = check("crl", MN_REV_REQUIRE, 3600, fx.leaf_good, fx.ca_a, next + 60);
	assert_int_equal(r.status, MN_REV_UNAVAILABLE);
	assert_int_equal(r.soft_accepted, 0);
	assert_non_null(strstr(r.detail, "stale since"));
	r = check("crl", MN_REV_SOFT, 3600, fx.leaf_good, fx.ca_a, next + 60);
	assert_int_equal(r.soft_accepted, 1);
	assert_non_null(strstr(r.detail, "soft policy"));
	/* beyond it: never */
	r = check("crl", MN_REV_REQUIRE, 3600, fx.leaf_good, fx.ca_a, next + 3601);
	assert_int_equal(r.status, MN_REV_UNAVAILABLE);
	r = check("crl", MN_REV_SOFT, 3600, fx.leaf_good, fx.ca_a, next + 3601);
	assert_int_equal(r.status, MN_REV_UNAVAILABLE);
	assert_int_equal(r.soft_accepted, 0);
	/* a stale CRL still proves a revocation */
	r = check("crl", MN_REV_SOFT, 0, fx.leaf_revoked, fx.ca_a, next + 10 * DAY);
	assert_int_equal(r.status, MN_REV_REVOKED);
	assert_int_equal(r.soft_accepted, 0);
}

static void test_revoke_issuer_mismatch(void **state)
{
	struct mn_rev_result r;
	char src[600], dst[600], hex[41];

	(void)state;
	import_a(7 * DAY);
	/* same key as A, other DN: the index of that key is for another issuer name */
	r = check("crl", MN_REV_SOFT, 0, fx.leaf_other, fx.ca_other, fx.now);
	assert_int_equal(r.status, MN_REV_UNKNOWN);
	assert_non_null(strstr(r.detail, "another issuer"));
	assert_int_equal(r.soft_accepted, 0);
	/* issued by B (same DN as A) but checked against A */
	r = check("crl", MN_REV_SOFT, 0, fx.leaf_b, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_UNKNOWN);
	assert_non_null(strstr(r.detail, "not issued by this CA"));
	assert_int_equal(r.soft_accepted, 0);
	/* A's index renamed to B's key id: the key id inside does not match */
	key_hex(fx.ca_a, hex);
	snprintf(src, sizeof(src), "%s/%s.idx", fx.dir, hex);
	key_hex(fx.ca_b, hex);
	snprintf(dst, sizeof(dst), "%s/%s.idx", fx.dir, hex);
	assert_int_equal(rename(src, dst), 0);
	r = check("crl", MN_REV_REQUIRE, 0, fx.leaf_b, fx.ca_b, fx.now);
	assert_int_equal(r.status, MN_REV_UNKNOWN);
	assert_non_null(strstr(r.detail, "another issuer"));
}

static void test_revoke_soft_and_args(void **state)
{
	struct mn_rev_result r;

	(void)state;
	import_a(7 * DAY);
	/* a 21-octet serial cannot be on the CRL: UNKNOWN, and no GOOD to fall back on */
	r = check("crl", MN_REV_REQUIRE, 0, fx.leaf_long, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_UNKNOWN);
	assert_int_equal(r.soft_accepted, 0);
	r = check("crl", MN_REV_SOFT, 0, fx.leaf_long, fx.ca_a, fx.now);
	assert_int_equal(r.status, MN_REV_UNKNOWN);
	assert_int_equal(r.soft_accepted, 0);

	/* configurations that must not become "no check" */
	{
		struct mn_revoker *rv = NULL;
		assert_int_not_equal(revoker_for("ocsp9", MN_REV_REQUIRE, 0, &rv), MN_OK);
		assert_int_not_equal(revoker_for("crl,none", MN_REV_REQUIRE, 0, &rv), MN_OK);
		assert_int_not_equal(revoker_for("crl,crl", MN_REV_REQUIRE, 0, &rv), MN_OK);
		assert_int_not_equal(revoker_for("", MN_REV_REQUIRE, 0, &rv), MN_OK);
		assert_null(rv);
		assert_int_equal(revoker_for("crl", MN_REV_REQUIRE, 0, &rv), MN_OK);
		memset(&r, 0x55, sizeof(r));
		assert_int_equal(mn_revoker_check(rv, NULL, fx.ca_a, fx.now, &r),
		                 MN_ERR_INVALID_ARG);
		assert_int_equal(r.status, 0x55555555); /* untouched on failure */
		mn_revoker_close(&rv);
	}
	assert_string_equal(mn_rev_reason_name(1), "keyCompromise");
	assert_string_equal(mn_rev_reason_name(MN_CRL_REASON_NONE), "unspecified");
	assert_string_equal(mn_rev_status_name(MN_REV_UNAVAILABLE), "unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_key_id_matches_ski, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_signer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_extensions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_index, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_issuer_mismatch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_soft_and_args, setup, teardown),
	};
	return cmocka_run_group_tests_name("crlidx", tests, group_setup, group_teardown);
}
