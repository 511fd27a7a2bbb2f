/* Unit tests: strict CBOR, COSE_Sign1, and mdoc verification against the Annex D vectors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_cose.h"
#include "mdoc/mn_mdoc.h"

#ifndef MN_VECTORS_DIR
#define MN_VECTORS_DIR "../shared/vectors"
#endif
#define ANNEX_D MN_VECTORS_DIR "/iso18013-5-annex-d/ISO_18013_5_ANNEX_D_"
#define AT_2021 ((time_t)1609459200) /* 2021-01-01T00:00:00Z */

static int load(const uint8_t *b, size_t n)
{
	cbor_item_t *it = NULL;
	char why[128];
	int r = mn_cbor_load_strict(b, n, &it, why, sizeof(why));

	if (it != NULL)
		cbor_decref(&it);
	return r;
}

static void test_strict_cbor(void **state)
{
	static const uint8_t ok[] = {0xA2, 0x01, 0x01, 0x02, 0x02};
	static const uint8_t dup[] = {0xA2, 0x01, 0x01, 0x01, 0x02};
	static const uint8_t dup_text[] = {0xA2, 0x61, 'a', 0x01, 0x61, 'a', 0x02};
	static const uint8_t trailing[] = {0x01, 0x00};
	static const uint8_t indef_arr[] = {0x9F, 0x01, 0xFF};
	static const uint8_t indef_bstr[] = {0x5F, 0x41, 0x00, 0xFF};
	static const uint8_t indef_map[] = {0xBF, 0x01, 0x01, 0xFF};
	static const uint8_t tag0_int[] = {0xC0, 0x01};
	static const uint8_t tag24_int[] = {0xD8, 0x18, 0x01};
	static const uint8_t tag1004_bad[] = {0xD9, 0x03, 0xEC, 0x63, 'a', 'b', 'c'};
	static const uint8_t tag1004_ok[] = {0xD9, 0x03, 0xEC, 0x6A, '2', '0', '1',
	                                     '9',  '-',  '1',  '0',  '-', '2', '0'};
	static const uint8_t nonshort[] = {0x18, 0x01};
	static const uint8_t truncated[] = {0x62, 'a'};
	static const uint8_t bad_utf8[] = {0x61, 0xFF};

	(void)state;
	assert_int_equal(load(ok, sizeof(ok)), MN_OK);
	assert_int_equal(load(tag1004_ok, sizeof(tag1004_ok)), MN_OK);
	assert_int_equal(load(dup, sizeof(dup)), MN_ERR_FORMAT);
	assert_int_equal(load(dup_text, sizeof(dup_text)), MN_ERR_FORMAT);
	assert_int_equal(load(trailing, sizeof(trailing)), MN_ERR_TRAILING);
	assert_int_equal(load(indef_arr, sizeof(indef_arr)), MN_ERR_FORMAT);
	assert_int_equal(load(indef_bstr, sizeof(indef_bstr)), MN_ERR_FORMAT);
	assert_int_equal(load(indef_map, sizeof(indef_map)), MN_ERR_FORMAT);
	assert_int_equal(load(tag0_int, sizeof(tag0_int)), MN_ERR_FORMAT);
	assert_int_equal(load(tag24_int, sizeof(tag24_int)), MN_ERR_FORMAT);
	assert_int_equal(load(tag1004_bad, sizeof(tag1004_bad)), MN_ERR_FORMAT);
	assert_int_equal(load(nonshort, sizeof(nonshort)), MN_ERR_FORMAT);
	assert_int_equal(load(truncated, sizeof(truncated)), MN_ERR_TRUNCATED);
	assert_int_equal(load(bad_utf8, sizeof(bad_utf8)), MN_ERR_FORMAT);
}

static void test_rfc3339(void **state)
{
	int64_t t;

	(void)state;
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01T00:00:00Z", 20, &t), MN_OK);
	assert_int_equal(t, 1609459200);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01T09:00:00+09:00", 25, &t), MN_OK);
	assert_int_equal(t, 1609459200);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-02-30T00:00:00Z", 20, &t), MN_ERR_FORMAT);
	assert_int_equal(mn_cbor_parse_rfc3339("2021-01-01 00:00:00Z", 20, &t), MN_ERR_FORMAT);
}

/* Build a COSE_Sign1 over payload signed by key (ES256), optionally damaged. */
static cbor_item_t *make_sign1(EVP_PKEY *key, const uint8_t *payload, size_t plen)
{
	static const uint8_t prot[] = {0xA1, 0x01, 0x26};
	uint8_t *tbs = NULL, *der = NULL, raw[64];
	const unsigned char *p;
	size_t tbs_len = 0, der_len = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	const BIGNUM *r, *s;
	cbor_item_t *a = cbor_new_definite_array(4);

	assert_int_equal(
	    mn_cose_tbs("Signature1", prot, sizeof(prot), payload, plen, &tbs, &tbs_len), MN_OK);
	assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(m, NULL, &der_len, tbs, tbs_len), 1);
	der = malloc(der_len);
	assert_int_equal(EVP_DigestSign(m, der, &der_len, tbs, tbs_len), 1);
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, raw, 32), 32);
	assert_int_equal(BN_bn2binpad(s, raw + 32, 32), 32);
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, sizeof(prot)))));
	assert_true(cbor_array_push(a, cbor_move(cbor_new_definite_map(0))));
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, plen))));
	assert_true(cbor_array_push(a, cbor_move(cbor_build_bytestring(raw, sizeof(raw)))));
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(m);
	free(der);
	free(tbs);
	return a;
}

static void test_cose_sign1(void **state)
{
	static const uint8_t payload[] = "payload bytes";
	EVP_PKEY *key = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	EVP_PKEY *p384 = EVP_EC_gen("P-384");
	cbor_item_t *s1, *sig, *det;
	char why[128];

	(void)state;
	assert_non_null(key);
	s1 = make_sign1(key, payload, sizeof(payload));
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, key, why, sizeof(why)), MN_OK);
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, other, why, sizeof(why)), MN_ERR_CRYPTO);
	/* ES256 with a P-384 key is refused */
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, p384, why, sizeof(why)),
	                 MN_ERR_UNSUPPORTED);
	/* embedded payload where a detached one is expected */
	assert_int_equal(mn_cose_sign1_verify(s1, payload, sizeof(payload), key, why, sizeof(why)),
	                 MN_ERR_FORMAT);
	/* a damaged signature byte */
	sig = cbor_array_handle(s1)[3];
	cbor_bytestring_handle(sig)[5] ^= 0x01;
	assert_int_equal(mn_cose_sign1_verify(s1, NULL, 0, key, why, sizeof(why)), MN_ERR_CRYPTO);
	cbor_decref(&s1);
	/* a detached payload */
	s1 = make_sign1(key, payload, sizeof(payload));
	det = cbor_array_handle(s1)[2];
	assert_true(cbor_array_set(s1, 2, cbor_move(cbor_new_null())));
	(void)det;
	assert_int_equal(mn_cose_sign1_verify(s1, payload, sizeof(payload), key, why, sizeof(why)),
	                 MN_OK);
	assert_int_equal(
	    mn_cose_sign1_verify(s1, payload, sizeof(payload) - 1, key, why, sizeof(why)),
	    MN_ERR_CRYPTO);
	cbor_decref(&s1);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	EVP_PKEY_free(p384);
}

static uint8_t *read_hex(const char *name, size_t *len)
{
	char path[512], *hex;
	FILE *f;
	long n;
	size_t i;
	uint8_t *b;

	snprintf(path, sizeof(path), "%s%s.hex", ANNEX_D, name);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	hex = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(hex, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	b = malloc((size_t)n / 2);
	for (i = 0; i < (size_t)n / 2; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	free(hex);
	*len = (size_t)n / 2;
	return b;
}

static void test_annex_d(void **state)
{
	size_t rl, sl, il, i;
	uint8_t *resp = read_hex("DEVICE_RESPONSE", &rl),
	        *st = read_hex("SESSION_TRANSCRIPT_BYTES", &sl);
	uint8_t *iaca_der = read_hex("IACA_CERT", &il);
	const unsigned char *p;
	STACK_OF(X509) *iaca = sk_X509_new_null();
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check chk;
	char why[256];
	int found = 0;

	(void)state;
	if (resp == NULL || st == NULL || iaca_der == NULL) {
		free(resp);
		free(st);
		free(iaca_der);
		sk_X509_free(iaca);
		skip();
	}
	p = iaca_der;
	sk_X509_push(iaca, d2i_X509(NULL, &p, (long)il));
	/* everything up to device authentication holds; deviceMac without the reader key fails */
	assert_int_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, AT_2021, 300, &res, &chk, why,
	                                sizeof(why)),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(chk, MN_MDOC_CHECK_DEVICE_AUTH);
	assert_null(res);
	/* the real clock: expired */
	assert_int_not_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, 1900000000, 300, &res,
	                                    &chk, why, sizeof(why)),
	                     MN_OK);
	assert_int_equal(chk, MN_MDOC_CHECK_CERT_VALIDITY);
	/* "Doe" -> "Foe": the digest of family_name no longer matches */
	for (i = 0; i + 4 <= rl; i++)
		if (memcmp(resp + i,
		           "\x63"
		           "Doe",
		           4) == 0) {
			resp[i + 1] = 'F';
			found = 1;
			break;
		}
	assert_true(found);
	assert_int_equal(mn_mdoc_verify(resp, rl, st, sl, NULL, iaca, AT_2021, 300, &res, &chk, why,
	                                sizeof(why)),
	                 MN_ERR_CRYPTO);
	assert_int_equal(chk, MN_MDOC_CHECK_DIGEST);
	sk_X509_pop_free(iaca, X509_free);
	free(resp);
	free(st);
	free(iaca_der);
}

/* ------------------------------------------------------------------ a signed mdoc generator */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
};

static void w_mem(struct wbuf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void w_head(struct wbuf *b, unsigned major, uint64_t arg)
{
	uint8_t h[9];

	w_mem(b, h, mn_cbor_head(h, major, arg));
}

static void w_text(struct wbuf *b, const char *s)
{
	w_head(b, 3, strlen(s));
	w_mem(b, s, strlen(s));
}

static void w_bstr(struct wbuf *b, const void *p, size_t n)
{
	w_head(b, 2, n);
	w_mem(b, p, n);
}

/* #6.24(bstr) of inner */
static void w_tag24(struct wbuf *b, const struct wbuf *inner)
{
	w_head(b, 6, 24);
	w_bstr(b, inner->p, inner->n);
}

static void w_tdate(struct wbuf *b, const char *s)
{
	w_head(b, 6, 0);
	w_text(b, s);
}

/* ES256/384 raw r||s signature over tbs */
static void sign_raw(EVP_PKEY *key, const uint8_t *tbs, size_t n, uint8_t *raw, size_t flen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	ECDSA_SIG *es;
	const BIGNUM *r, *s;

	assert_int_equal(
	    EVP_DigestSignInit(m, NULL, flen == 32 ? EVP_sha256() : EVP_sha384(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(m, NULL, &der_len, tbs, n), 1);
	der = malloc(der_len);
	assert_int_equal(EVP_DigestSign(m, der, &der_len, tbs, n), 1);
	p = der;
	es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, raw, (int)flen), (int)flen);
	assert_int_equal(BN_bn2binpad(s, raw + flen, (int)flen), (int)flen);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(m);
	free(der);
}

/* COSE_Sign1 ES256 into b: payload embedded, or detached (null) when det != NULL */
static void w_sign1(struct wbuf *b, EVP_PKEY *key, const struct wbuf *payload, int detached,
                    const uint8_t *x5, size_t x5len)
{
	static const uint8_t prot[] = {0xA1, 0x01, 0x26};
	uint8_t *tbs = NULL, raw[64];
	size_t tbs_len = 0;

	assert_int_equal(
	    mn_cose_tbs("Signature1", prot, sizeof(prot), payload->p, payload->n, &tbs, &tbs_len),
	    MN_OK);
	sign_raw(key, tbs, tbs_len, raw, 32);
	free(tbs);
	w_head(b, 4, 4);
	w_bstr(b, prot, sizeof(prot));
	if (x5 != NULL) {
		w_head(b, 5, 1);
		w_head(b, 0, 33);
		w_bstr(b, x5, x5len);
	} else {
		w_head(b, 5, 0);
	}
	if (detached)
		w_head(b, 7, 22);
	else
		w_bstr(b, payload->p, payload->n);
	w_bstr(b, raw, sizeof(raw));
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

struct gen_opts {
	long ds_days;      /* DS lifetime from 2020-10-01 */
	int serial_octets; /* DS serial length */
	const char *signed_at, *valid_from, *valid_until;
	const char *value_hex; /* the second element's CBOR value */
	int docs;              /* number of (identical) documents */
};

/* An Annex B-shaped certificate, notBefore 2020-10-01 */
static X509 *make_cert(EVP_PKEY *key, EVP_PKEY *ikey, X509 *issuer, int ca, long days,
                       int serial_octets)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	uint8_t sn[32];
	BIGNUM *bn;
	int i;

	assert_int_equal(X509_set_version(x, 2), 1);
	for (i = 0; i < serial_octets; i++)
		sn[i] = (uint8_t)(0x11 + i);
	bn = BN_bin2bn(sn, serial_octets, NULL);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), 1601510400)); /* 2020-10-01 */
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), 1601510400 + days * 86400));
	X509_NAME_add_entry_by_txt(nm, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1, -1, 0);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	                           (const unsigned char *)(ca ? "test iaca" : "test ds"), -1, -1,
	                           0);
	X509_set_subject_name(x, nm);
	X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : nm);
	X509_NAME_free(nm);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier, "hash");
	if (ca) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_ext_key_usage, "critical,1.0.18013.5.1.2");
	}
	add_ext(x, issuer != NULL ? issuer : x, NID_issuer_alt_name, "URI:https://example.jp/");
	add_ext(x, issuer != NULL ? issuer : x, NID_crl_distribution_points,
	        "URI:https://example.jp/ca.crl");
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

static void hex_to(struct wbuf *b, const char *hex)
{
	unsigned v;

	for (; hex[0] && hex[1]; hex += 2) {
		uint8_t c;

		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		c = (uint8_t)v;
		w_mem(b, &c, 1);
	}
}

struct gen {
	struct wbuf resp, st;
	STACK_OF(X509) *iaca;
};

static void gen_free(struct gen *g)
{
	free(g->resp.p);
	free(g->st.p);
	sk_X509_pop_free(g->iaca, X509_free);
	memset(g, 0, sizeof(*g));
}

/* A DeviceResponse with deviceSignature over a minimal SessionTranscript, signed by a fresh
 * IACA -> DS; elements "name" = "Taro" and "value" = value_hex in namespace "org.test". */
static void gen_mdoc(const struct gen_opts *o, struct gen *g)
{
	static const char *const ids[] = {"name", "value"};
	EVP_PKEY *ik = EVP_EC_gen("P-256"), *dk = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256");
	X509 *iaca = make_cert(ik, ik, NULL, 1, 3650, 8);
	X509 *ds = make_cert(dk, ik, iaca, 0, o->ds_days, o->serial_octets);
	struct wbuf items[2], mso = {0}, msob = {0}, doc = {0}, stin = {0}, da = {0}, dab = {0};
	struct wbuf empty = {0}, t = {0}, ia = {0}, dsig = {0};
	uint8_t *der = NULL, dig[32], rnd[16];
	BIGNUM *bx = NULL, *by = NULL;
	uint8_t x[32], y[32];
	int dl, i;

	memset(g, 0, sizeof(*g));
	memset(items, 0, sizeof(items));
	memset(rnd, 0x5A, sizeof(rnd));
	g->iaca = sk_X509_new_null();
	sk_X509_push(g->iaca, iaca);
	/* SessionTranscript = [24(<<{}>>), 24(<<{}>>), null] */
	w_head(&empty, 5, 0);
	w_head(&stin, 4, 3);
	w_tag24(&stin, &empty);
	w_tag24(&stin, &empty);
	w_head(&stin, 7, 22);
	w_tag24(&g->st, &stin);
	/* the items */
	for (i = 0; i < 2; i++) {
		struct wbuf it = {0};

		w_head(&it, 5, 4);
		w_text(&it, "digestID");
		w_head(&it, 0, (uint64_t)i);
		w_text(&it, "random");
		w_bstr(&it, rnd, sizeof(rnd));
		w_text(&it, "elementIdentifier");
		w_text(&it, ids[i]);
		w_text(&it, "elementValue");
		if (i == 0)
			w_text(&it, "Taro");
		else
			hex_to(&it, o->value_hex);
		w_tag24(&items[i], &it);
		free(it.p);
	}
	/* MSO */
	assert_int_equal(EVP_PKEY_get_bn_param(sk, "qx", &bx), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(sk, "qy", &by), 1);
	BN_bn2binpad(bx, x, 32);
	BN_bn2binpad(by, y, 32);
	w_head(&mso, 5, 6);
	w_text(&mso, "version");
	w_text(&mso, "1.0");
	w_text(&mso, "digestAlgorithm");
	w_text(&mso, "SHA-256");
	w_text(&mso, "valueDigests");
	w_head(&mso, 5, 1);
	w_text(&mso, "org.test");
	w_head(&mso, 5, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(EVP_Digest(items[i].p, items[i].n, dig, NULL, EVP_sha256(), NULL),
		                 1);
		w_head(&mso, 0, (uint64_t)i);
		w_bstr(&mso, dig, sizeof(dig));
	}
	w_text(&mso, "deviceKeyInfo");
	w_head(&mso, 5, 1);
	w_text(&mso, "deviceKey");
	w_head(&mso, 5, 4);
	w_head(&mso, 0, 1);
	w_head(&mso, 0, 2);
	w_head(&mso, 1, 0);
	w_head(&mso, 0, 1);
	w_head(&mso, 1, 1);
	w_bstr(&mso, x, 32);
	w_head(&mso, 1, 2);
	w_bstr(&mso, y, 32);
	w_text(&mso, "docType");
	w_text(&mso, "org.test.doc");
	w_text(&mso, "validityInfo");
	w_head(&mso, 5, 3);
	w_text(&mso, "signed");
	w_tdate(&mso, o->signed_at);
	w_text(&mso, "validFrom");
	w_tdate(&mso, o->valid_from);
	w_text(&mso, "validUntil");
	w_tdate(&mso, o->valid_until);
	w_tag24(&msob, &mso);
	dl = i2d_X509(ds, &der);
	assert_true(dl > 0);
	w_sign1(&ia, dk, &msob, 0, der, (size_t)dl);
	/* DeviceAuthenticationBytes */
	w_head(&da, 4, 4);
	w_text(&da, "DeviceAuthentication");
	w_mem(&da, stin.p, stin.n);
	w_text(&da, "org.test.doc");
	w_tag24(&da, &empty);
	w_tag24(&dab, &da);
	w_sign1(&dsig, sk, &dab, 1, NULL, 0);
	/* Document */
	w_head(&doc, 5, 3);
	w_text(&doc, "docType");
	w_text(&doc, "org.test.doc");
	w_text(&doc, "issuerSigned");
	w_head(&doc, 5, 2);
	w_text(&doc, "nameSpaces");
	w_head(&doc, 5, 1);
	w_text(&doc, "org.test");
	w_head(&doc, 4, 2);
	w_mem(&doc, items[0].p, items[0].n);
	w_mem(&doc, items[1].p, items[1].n);
	w_text(&doc, "issuerAuth");
	w_mem(&doc, ia.p, ia.n);
	w_text(&doc, "deviceSigned");
	w_head(&doc, 5, 2);
	w_text(&doc, "nameSpaces");
	w_tag24(&doc, &empty);
	w_text(&doc, "deviceAuth");
	w_head(&doc, 5, 1);
	w_text(&doc, "deviceSignature");
	w_mem(&doc, dsig.p, dsig.n);
	/* DeviceResponse */
	w_head(&g->resp, 5, 3);
	w_text(&g->resp, "version");
	w_text(&g->resp, "1.0");
	w_text(&g->resp, "documents");
	w_head(&g->resp, 4, (uint64_t)(o->docs > 0 ? o->docs : 1));
	for (i = 0; i < (o->docs > 0 ? o->docs : 1); i++)
		w_mem(&g->resp, doc.p, doc.n);
	w_text(&g->resp, "status");
	w_head(&g->resp, 0, 0);
	(void)t;
	OPENSSL_free(der);
	BN_free(bx);
	BN_free(by);
	free(items[0].p);
	free(items[1].p);
	free(mso.p);
	free(msob.p);
	free(doc.p);
	free(stin.p);
	free(da.p);
	free(dab.p);
	free(empty.p);
	free(ia.p);
	free(dsig.p);
	X509_free(ds);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(dk);
	EVP_PKEY_free(sk);
}

static const struct gen_opts good_opts = {
    365, 8, "2020-10-01T13:30:02Z", "2020-10-01T13:30:02Z", "2021-10-01T00:00:00Z", "6141", 1};

static int gen_verify(const struct gen_opts *o, enum mn_mdoc_check *chk)
{
	struct mn_mdoc_result *res = NULL;
	struct gen g;
	char why[256];
	int r;

	gen_mdoc(o, &g);
	r = mn_mdoc_verify(g.resp.p, g.resp.n, g.st.p, g.st.n, NULL, g.iaca, AT_2021, 300, &res,
	                   chk, why, sizeof(why));
	if (r != MN_OK)
		print_message("  -> %s: %s\n", mn_mdoc_check_name(*chk), why);
	else
		assert_int_equal(mn_mdoc_result_count(res),
		                 2 * (size_t)(o->docs > 0 ? o->docs : 1));
	mn_mdoc_result_free(&res);
	gen_free(&g);
	return r;
}

static void test_generated(void **state)
{
	struct gen_opts o;
	enum mn_mdoc_check chk;

	(void)state;
	assert_int_equal(gen_verify(&good_opts, &chk), MN_OK);
	/* Annex B: DS lifetime at most 457 days */
	o = good_opts;
	o.ds_days = 457;
	assert_int_equal(gen_verify(&o, &chk), MN_OK);
	o.ds_days = 458;
	assert_int_equal(gen_verify(&o, &chk), MN_ERR_FORMAT);
	assert_int_equal(chk, MN_MDOC_CHECK_CERT_PROFILE);
	/* Annex B: serial number at most 20 octets (0x11.. has no sign octet) */
	o = good_opts;
	o.serial_octets = 20;
	assert_int_equal(gen_verify(&o, &chk), MN_OK);
	o.serial_octets = 21;
	assert_int_equal(gen_verify(&o, &chk), MN_ERR_FORMAT);
	assert_int_equal(chk, MN_MDOC_CHECK_CERT_PROFILE);
	/* validityInfo tdate: fractional seconds and offsets are refused */
	o = good_opts;
	o.valid_until = "2021-10-01T00:00:00.5Z";
	assert_int_equal(gen_verify(&o, &chk), MN_ERR_FORMAT);
	assert_int_equal(chk, MN_MDOC_CHECK_MSO);
	o = good_opts;
	o.signed_at = "2020-10-01T22:30:02+09:00";
	assert_int_equal(gen_verify(&o, &chk), MN_ERR_FORMAT);
	assert_int_equal(chk, MN_MDOC_CHECK_MSO);
	/* two documents verify (the library keeps both; the CLI refuses duplicate JSON keys) */
	o = good_opts;
	o.docs = 2;
	assert_int_equal(gen_verify(&o, &chk), MN_OK);
}

/* Nested tags are walked once each: 22 tags around a 4096-element array is instant, not 2^22
 * walks of the array. */
static void test_nested_tags_linear(void **state)
{
	struct wbuf b = {0};
	int i;

	(void)state;
	for (i = 0; i < 22; i++)
		w_head(&b, 6, 100);
	w_head(&b, 4, 4096);
	for (i = 0; i < 4096; i++)
		w_head(&b, 0, 0);
	assert_int_equal(load(b.p, b.n), MN_OK);
	free(b.p);
}

/* The digest input is rebuilt from the bstr only because non-shortest heads never get in. */
static void test_tag24_shortest(void **state)
{
	static const uint8_t tag_long[] = {0xD9, 0x00, 0x18, 0x41, 0xA0};
	static const uint8_t len_long[] = {0xD8, 0x18, 0x58, 0x01, 0xA0};
	static const uint8_t ok[] = {0xD8, 0x18, 0x41, 0xA0};
	/* 200 distinct one-byte-or-more keys plus a duplicate far apart */
	struct wbuf b = {0};
	int i;

	(void)state;
	assert_int_equal(load(ok, sizeof(ok)), MN_OK);
	assert_int_equal(load(tag_long, sizeof(tag_long)), MN_ERR_FORMAT);
	assert_int_equal(load(len_long, sizeof(len_long)), MN_ERR_FORMAT);
	w_head(&b, 5, 201);
	for (i = 0; i < 200; i++) {
		w_head(&b, 0, (uint64_t)i);
		w_head(&b, 0, 0);
	}
	w_head(&b, 0, 7);
	w_head(&b, 0, 0);
	assert_int_equal(load(b.p, b.n), MN_ERR_FORMAT);
	free(b.p);
}

/* `test_mdoc --write DIR`: the generated fixtures for tests/integration/test-mdoc-cli.sh */
static void write_file(const char *dir, const char *name, const struct wbuf *b)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static int write_fixtures(const char *dir)
{
	struct gen_opts o = good_opts;
	struct gen g;
	char path[1024];
	FILE *f;

	gen_mdoc(&o, &g);
	write_file(dir, "gen-st.cbor", &g.st);
	write_file(dir, "gen-ok.cbor", &g.resp);
	snprintf(path, sizeof(path), "%s/gen-iaca.pem", dir);
	if ((f = fopen(path, "w")) == NULL || !PEM_write_X509(f, sk_X509_value(g.iaca, 0)) ||
	    fclose(f) != 0)
		return 1;
	gen_free(&g);
	/* the same IACA is not reused: each fixture carries its own, written next to it */
	o.value_hex = "1bffffffffffffffff"; /* uint 2^64-1: no JSON (int64) form */
	gen_mdoc(&o, &g);
	write_file(dir, "gen-nojson.cbor", &g.resp);
	write_file(dir, "gen-nojson-st.cbor", &g.st);
	snprintf(path, sizeof(path), "%s/gen-nojson-iaca.pem", dir);
	if ((f = fopen(path, "w")) == NULL || !PEM_write_X509(f, sk_X509_value(g.iaca, 0)) ||
	    fclose(f) != 0)
		return 1;
	gen_free(&g);
	o = good_opts;
	o.docs = 2;
	o.value_hex = "f93e00"; /* half float 1.5 */
	gen_mdoc(&o, &g);
	write_file(dir, "gen-twodocs.cbor", &g.resp);
	write_file(dir, "gen-twodocs-st.cbor", &g.st);
	snprintf(path, sizeof(path), "%s/gen-twodocs-iaca.pem", dir);
	if ((f = fopen(path, "w")) == NULL || !PEM_write_X509(f, sk_X509_value(g.iaca, 0)) ||
	    fclose(f) != 0)
		return 1;
	gen_free(&g);
	o = good_opts;
	o.value_hex = "f93e00"; /* half float 1.5, printed as 1.5 in any locale */
	gen_mdoc(&o, &g);
	write_file(dir, "gen-float.cbor", &g.resp);
	write_file(dir, "gen-float-st.cbor", &g.st);
	snprintf(path, sizeof(path), "%s/gen-float-iaca.pem", dir);
	if ((f = fopen(path, "w")) == NULL || !PEM_write_X509(f, sk_X509_value(g.iaca, 0)) ||
	    fclose(f) != 0)
		return 1;
	gen_free(&g);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strict_cbor),    cmocka_unit_test(test_rfc3339),
	    cmocka_unit_test(test_cose_sign1),     cmocka_unit_test(test_annex_d),
	    cmocka_unit_test(test_generated),      cmocka_unit_test(test_nested_tags_linear),
	    cmocka_unit_test(test_tag24_shortest),
	};

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_fixtures(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
