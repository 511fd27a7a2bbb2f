/* Unit tests: ISO 18013-5 session keys, encryption and messages, against the Annex D vectors. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "mdoc/mn_mdoc_session.h"
#include "mn_err.h"

#ifndef MN_VECTORS_DIR
#define MN_VECTORS_DIR "../shared/vectors"
#endif
#define ANNEX_D "iso18013-5-annex-d"

struct buf {
	uint8_t *p;
	size_t n;
};

/* Group state: the Annex D vectors, or present == 0 when they are not there. */
struct vec {
	int present;
	struct buf st, edev_key, se, sd, req, resp, term, sk_reader, sk_device;
	EVP_PKEY *reader, *device; /* ephemeral keys, private */
};

static const char *vectors_dir(void)
{
	const char *d = getenv("MN_VECTORS_DIR");

	return d != NULL && *d != '\0' ? d : MN_VECTORS_DIR;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

/* One .hex file of the Annex D folder. */
static int load_hex(const char *name, struct buf *b)
{
	char path[1024];
	FILE *f;
	long sz;
	char *txt;
	size_t i, n = 0;

	snprintf(path, sizeof(path), "%s/" ANNEX_D "/%s.hex", vectors_dir(), name);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	txt = malloc((size_t)sz + 1);
	b->p = malloc((size_t)sz / 2 + 1);
	if (txt == NULL || b->p == NULL || fread(txt, 1, (size_t)sz, f) != (size_t)sz) {
		fclose(f);
		free(txt);
		return -1;
	}
	fclose(f);
	for (i = 0; i + 1 < (size_t)sz && isxdigit((unsigned char)txt[i]); i += 2)
		b->p[n++] = (uint8_t)(hexval(txt[i]) << 4 | hexval(txt[i + 1]));
	b->n = n;
	free(txt);
	return n > 0 ? 0 : -1;
}

static EVP_PKEY *make_priv(const char *group, const struct buf *d, const struct buf *x,
                           const struct buf *y)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *k = NULL;
	BIGNUM *bn = BN_bin2bn(d->p, (int)d->n, NULL);
	uint8_t pub[1 + 2 * 66];

	pub[0] = 4;
	memcpy(pub + 1, x->p, x->n);
	memcpy(pub + 1 + x->n, y->p, y->n);
	if (bld != NULL && bn != NULL && ctx != NULL &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 1 + x->n + y->n) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) > 0)
		EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_clear_free(bn);
	return k;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
}

static int group_setup(void **state)
{
	struct vec *v = calloc(1, sizeof(*v));
	struct buf rd, rx, ry, dd, dx, dy;
	struct stat st;
	char dir[1024];

	if (v == NULL)
		return -1;
	*state = v;
	snprintf(dir, sizeof(dir), "%s/" ANNEX_D, vectors_dir());
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0; /* every test skips */
	if (load_hex("ISO_18013_5_ANNEX_D_SESSION_TRANSCRIPT_BYTES", &v->st) ||
	    load_hex("ISO_18013_5_ANNEX_D_E_DEVICE_KEY_BYTES", &v->edev_key) ||
	    load_hex("ISO_18013_5_ANNEX_D_SESSION_ESTABLISHMENT", &v->se) ||
	    load_hex("ISO_18013_5_ANNEX_D_SESSION_DATA", &v->sd) ||
	    load_hex("ISO_18013_5_ANNEX_D_DEVICE_REQUEST", &v->req) ||
	    load_hex("ISO_18013_5_ANNEX_D_DEVICE_RESPONSE", &v->resp) ||
	    load_hex("ISO_18013_5_ANNEX_D_SESSION_TERMINATION", &v->term) ||
	    load_hex("derived/SKReader", &v->sk_reader) ||
	    load_hex("derived/SKDevice", &v->sk_device) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_READER_KEY_D", &rd) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_READER_KEY_X", &rx) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_READER_KEY_Y", &ry) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_DEVICE_KEY_D", &dd) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_DEVICE_KEY_X", &dx) ||
	    load_hex("ISO_18013_5_ANNEX_D_EPHEMERAL_DEVICE_KEY_Y", &dy))
		return -1; /* the folder is there but incomplete: fail, do not skip */
	v->reader = make_priv("prime256v1", &rd, &rx, &ry);
	v->device = make_priv("prime256v1", &dd, &dx, &dy);
	buf_free(&rd), buf_free(&rx), buf_free(&ry);
	buf_free(&dd), buf_free(&dx), buf_free(&dy);
	if (v->reader == NULL || v->device == NULL)
		return -1;
	v->present = 1;
	return 0;
}

static int group_teardown(void **state)
{
	struct vec *v = *state;

	if (v == NULL)
		return 0;
	buf_free(&v->st), buf_free(&v->edev_key), buf_free(&v->se), buf_free(&v->sd);
	buf_free(&v->req), buf_free(&v->resp), buf_free(&v->term);
	buf_free(&v->sk_reader), buf_free(&v->sk_device);
	EVP_PKEY_free(v->reader);
	EVP_PKEY_free(v->device);
	free(v);
	return 0;
}

static struct vec *vectors(void **state)
{
	struct vec *v = *state;

	if (!v->present) {
		print_message("SKIP: no Annex D vectors in %s/" ANNEX_D " (set MN_VECTORS_DIR)\n",
		              vectors_dir());
		skip();
	}
	return v;
}

/* The reader's session on the Annex D keys. */
static struct mn_mdoc_session *reader_session(struct vec *v)
{
	struct mn_mdoc_session *s = NULL;

	assert_int_equal(
	    mn_mdoc_session_new(v->reader, v->edev_key.p, v->edev_key.n, v->st.p, v->st.n, &s),
	    MN_OK);
	assert_non_null(s);
	return s;
}

/* The mdoc's session: its own key, and the EReaderKey from the SessionEstablishment. */
static struct mn_mdoc_session *mdoc_session(struct vec *v)
{
	struct mn_mdoc_session *s = NULL;
	const uint8_t *ek, *d;
	size_t ekn, dn;

	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(
	    mn_mdoc_session_new_role(MN_MDOC_ROLE_MDOC, v->device, ek, ekn, v->st.p, v->st.n, &s),
	    MN_OK);
	return s;
}

static void test_session_keys(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = reader_session(v), *m = mdoc_session(v), *bare = NULL;
	uint8_t skr[MN_MDOC_SK_LEN], skd[MN_MDOC_SK_LEN];

	assert_int_equal(v->sk_reader.n, MN_MDOC_SK_LEN);
	assert_int_equal(mn_mdoc_session_get_keys(s, skr, skd), MN_OK);
	assert_memory_equal(skr, v->sk_reader.p, MN_MDOC_SK_LEN);
	assert_memory_equal(skd, v->sk_device.p, MN_MDOC_SK_LEN);
	assert_int_equal(mn_mdoc_session_get_keys(m, skr, skd), MN_OK);
	assert_memory_equal(skr, v->sk_reader.p, MN_MDOC_SK_LEN);
	assert_memory_equal(skd, v->sk_device.p, MN_MDOC_SK_LEN);
	/* the bare COSE_Key (EDeviceKeyBytes without d8 18 58 4b) gives the same keys */
	assert_int_equal(mn_mdoc_session_new(v->reader, v->edev_key.p + 4, v->edev_key.n - 4,
	                                     v->st.p, v->st.n, &bare),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_get_keys(bare, skr, skd), MN_OK);
	assert_memory_equal(skr, v->sk_reader.p, MN_MDOC_SK_LEN);
	mn_mdoc_session_free(&s);
	mn_mdoc_session_free(&m);
	mn_mdoc_session_free(&bare);
	assert_null(s);
	mn_mdoc_session_free(&s);
	mn_mdoc_session_free(NULL);
}

/* BLE Ident over the Annex D EDeviceKeyBytes; the value was computed independently with
 * `openssl kdf -keylen 16 -kdfopt digest:SHA256 -kdfopt hexkey:<EDeviceKeyBytes>
 *  -kdfopt info:BLEIdent HKDF`. */
static void test_ble_ident(void **state)
{
	static const uint8_t want[MN_MDOC_BLE_IDENT_LEN] = {0x8d, 0xa0, 0xb7, 0xa8, 0x59, 0x19,
	                                                    0xf0, 0x56, 0x73, 0x05, 0x4e, 0xa9,
	                                                    0x96, 0xbb, 0xd1, 0x24};
	struct vec *v = vectors(state);
	uint8_t id[MN_MDOC_BLE_IDENT_LEN];

	assert_int_equal(mn_mdoc_ble_ident(v->edev_key.p, v->edev_key.n, id), MN_OK);
	assert_memory_equal(id, want, sizeof(want));
	/* the bytes as received: another encoding of the same key is another Ident */
	assert_int_equal(mn_mdoc_ble_ident(v->edev_key.p + 4, v->edev_key.n - 4, id), MN_OK);
	assert_memory_not_equal(id, want, sizeof(want));
	assert_int_equal(mn_mdoc_ble_ident(NULL, 1, id), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_ble_ident(v->edev_key.p, 0, id), MN_ERR_INVALID_ARG);
}

static void test_ereader_key_bytes(void **state)
{
	struct vec *v = vectors(state);
	const uint8_t *ek, *d;
	size_t ekn, dn, n = 0;
	uint8_t *out = NULL;

	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(mn_mdoc_ereader_key_bytes(v->reader, &out, &n), MN_OK);
	assert_int_equal(n, ekn);
	assert_memory_equal(out, ek, n);
	free(out);
	/* and EDeviceKeyBytes the same way */
	assert_int_equal(mn_mdoc_ereader_key_bytes(v->device, &out, &n), MN_OK);
	assert_int_equal(n, v->edev_key.n);
	assert_memory_equal(out, v->edev_key.p, n);
	free(out);
}

static void test_decrypt_request(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *m = mdoc_session(v);
	const uint8_t *ek, *d;
	size_t ekn, dn, n = 0;
	uint8_t *pt = NULL, *out = NULL;

	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_decrypt(m, d, dn, &pt, &n), MN_OK);
	assert_int_equal(n, v->req.n);
	assert_memory_equal(pt, v->req.p, n);
	free(pt);
	assert_int_equal(mn_mdoc_session_establishment_build(ek, ekn, d, dn, &out, &n), MN_OK);
	assert_int_equal(n, v->se.n);
	assert_memory_equal(out, v->se.p, n);
	free(out);
	mn_mdoc_session_free(&m);
}

static void test_decrypt_response(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = reader_session(v);
	const uint8_t *d;
	size_t dn, n = 0;
	uint8_t *pt = NULL, *out = NULL;
	int st;

	assert_int_equal(mn_mdoc_session_data_parse(v->sd.p, v->sd.n, &d, &dn, &st), MN_OK);
	assert_int_equal(st, MN_MDOC_STATUS_NONE);
	assert_int_equal(mn_mdoc_session_decrypt(s, d, dn, &pt, &n), MN_OK);
	assert_int_equal(n, v->resp.n);
	assert_memory_equal(pt, v->resp.p, n);
	free(pt);
	assert_int_equal(mn_mdoc_session_data_build(d, dn, MN_MDOC_STATUS_NONE, &out, &n), MN_OK);
	assert_int_equal(n, v->sd.n);
	assert_memory_equal(out, v->sd.p, n);
	free(out);
	mn_mdoc_session_free(&s);
}

static void test_encrypt_back(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = reader_session(v), *m = mdoc_session(v);
	const uint8_t *ek, *d;
	size_t ekn, dn, n = 0, n2 = 0;
	uint8_t *ct = NULL, *pt = NULL;
	const uint8_t msg[] = "second request";
	int st;

	/* reader -> mdoc, counter 1: the SessionEstablishment's data */
	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_encrypt(s, v->req.p, v->req.n, &ct, &n), MN_OK);
	assert_int_equal(n, dn);
	assert_memory_equal(ct, d, n);
	free(ct);
	/* mdoc -> reader, counter 1: the SessionData's data */
	assert_int_equal(mn_mdoc_session_data_parse(v->sd.p, v->sd.n, &d, &dn, &st), MN_OK);
	assert_int_equal(mn_mdoc_session_encrypt(m, v->resp.p, v->resp.n, &ct, &n), MN_OK);
	assert_int_equal(n, dn);
	assert_memory_equal(ct, d, n);
	free(ct);
	/* a second message each way: counter 2 on both sides */
	assert_int_equal(mn_mdoc_session_encrypt(s, msg, sizeof(msg), &ct, &n), MN_OK);
	assert_int_equal(n, sizeof(msg) + 16);
	assert_int_equal(mn_mdoc_session_decrypt(m, v->se.p + v->se.n - dn, 0, &pt, &n2),
	                 MN_ERR_TRUNCATED); /* too short: and the session is gone */
	assert_int_equal(mn_mdoc_session_decrypt(m, ct, n, &pt, &n2), MN_ERR_CRYPTO);
	mn_mdoc_session_free(&m);
	m = mdoc_session(v);
	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_decrypt(m, d, dn, &pt, &n2), MN_OK);
	free(pt);
	assert_int_equal(mn_mdoc_session_decrypt(m, ct, n, &pt, &n2), MN_OK);
	assert_int_equal(n2, sizeof(msg));
	assert_memory_equal(pt, msg, n2);
	free(pt);
	free(ct);
	/* an empty message is fine */
	assert_int_equal(mn_mdoc_session_encrypt(s, NULL, 0, &ct, &n), MN_OK);
	assert_int_equal(n, 16);
	assert_int_equal(mn_mdoc_session_decrypt(m, ct, n, &pt, &n2), MN_OK);
	assert_int_equal(n2, 0);
	free(pt);
	free(ct);
	mn_mdoc_session_free(&s);
	mn_mdoc_session_free(&m);
}

/* Flip one byte at off of SessionData's ciphertext: the reader must refuse, then stay closed. */
static void tamper_at(struct vec *v, size_t from_end)
{
	struct mn_mdoc_session *s = reader_session(v);
	const uint8_t *d;
	size_t dn, n = 12345;
	uint8_t *bad, *pt = (uint8_t *)"x";
	uint8_t skr[MN_MDOC_SK_LEN], skd[MN_MDOC_SK_LEN];
	int st;

	assert_int_equal(mn_mdoc_session_data_parse(v->sd.p, v->sd.n, &d, &dn, &st), MN_OK);
	bad = malloc(dn);
	assert_non_null(bad);
	memcpy(bad, d, dn);
	bad[dn - 1 - from_end] ^= 0x01;
	assert_int_equal(mn_mdoc_session_decrypt(s, bad, dn, &pt, &n), MN_ERR_CRYPTO);
	assert_string_equal((const char *)pt, "x"); /* out-params untouched */
	assert_int_equal(n, 12345);
	/* no second chance, not even with the right bytes */
	assert_int_equal(mn_mdoc_session_decrypt(s, d, dn, &pt, &n), MN_ERR_CRYPTO);
	assert_int_equal(mn_mdoc_session_encrypt(s, d, 1, &pt, &n), MN_ERR_CRYPTO);
	assert_int_equal(mn_mdoc_session_get_keys(s, skr, skd), MN_ERR_CRYPTO);
	free(bad);
	mn_mdoc_session_free(&s);
}

static void test_tamper_ciphertext(void **state)
{
	tamper_at(vectors(state), 100); /* in the ciphertext */
}

static void test_tamper_tag(void **state)
{
	tamper_at(vectors(state), 0); /* the tag's last byte */
}

static void test_replay(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = reader_session(v);
	const uint8_t *d;
	size_t dn, n;
	uint8_t *pt = NULL;
	int st;

	assert_int_equal(mn_mdoc_session_data_parse(v->sd.p, v->sd.n, &d, &dn, &st), MN_OK);
	assert_int_equal(mn_mdoc_session_decrypt(s, d, dn, &pt, &n), MN_OK);
	free(pt);
	pt = NULL;
	assert_int_equal(mn_mdoc_session_decrypt(s, d, dn, &pt, &n), MN_ERR_CRYPTO);
	assert_null(pt);
	mn_mdoc_session_free(&s);
}

/* The reader's own SessionData (SKReader) is not accepted as the mdoc's (SKDevice). */
static void test_wrong_direction(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = reader_session(v);
	const uint8_t *ek, *d;
	size_t ekn, dn, n;
	uint8_t *pt = NULL;

	assert_int_equal(mn_mdoc_session_establishment_parse(v->se.p, v->se.n, &ek, &ekn, &d, &dn),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_decrypt(s, d, dn, &pt, &n), MN_ERR_CRYPTO);
	mn_mdoc_session_free(&s);
}

static void test_termination(void **state)
{
	struct vec *v = vectors(state);
	const uint8_t *d = (const uint8_t *)"x";
	size_t dn = 7, n;
	uint8_t *out = NULL;
	int st = 0;

	assert_int_equal(mn_mdoc_session_data_parse(v->term.p, v->term.n, &d, &dn, &st), MN_OK);
	assert_null(d);
	assert_int_equal(dn, 0);
	assert_int_equal(st, MN_MDOC_STATUS_TERMINATION);
	assert_int_equal(mn_mdoc_session_data_build(NULL, 0, MN_MDOC_STATUS_TERMINATION, &out, &n),
	                 MN_OK);
	assert_int_equal(n, v->term.n);
	assert_memory_equal(out, v->term.p, n);
	free(out);
	/* data and status together */
	assert_int_equal(mn_mdoc_session_data_build((const uint8_t *)"ab", 2,
	                                            MN_MDOC_STATUS_TERMINATION, &out, &n),
	                 MN_OK);
	assert_int_equal(mn_mdoc_session_data_parse(out, n, &d, &dn, &st), MN_OK);
	assert_int_equal(dn, 2);
	assert_memory_equal(d, "ab", 2);
	assert_int_equal(st, 20);
	free(out);
	assert_int_equal(mn_mdoc_session_data_build(NULL, 0, MN_MDOC_STATUS_NONE, &out, &n),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_session_data_build(NULL, 0, 12, &out, &n), MN_ERR_INVALID_ARG);
}

struct bad {
	const char *what;
	const char *cbor;
	size_t n;
};

#define BAD(w, s)                                                                                  \
	{                                                                                          \
		w, s, sizeof(s) - 1                                                                \
	}

static void test_malformed_session_data(void **state)
{
	static const struct bad bad[] = {
	    BAD("empty map", "\xa0"),
	    BAD("indefinite map", "\xbf\x64"
	                          "data"
	                          "\x41\x00\xff"),
	    BAD("indefinite bstr", "\xa1\x64"
	                           "data"
	                           "\x5f\x41\x00\xff"),
	    BAD("unknown status", "\xa1\x66"
	                          "status"
	                          "\x0c"),
	    BAD("negative status", "\xa1\x66"
	                           "status"
	                           "\x33"),
	    BAD("trailing byte", "\xa1\x66"
	                         "status"
	                         "\x14\x00"),
	    BAD("duplicate status", "\xa2\x66"
	                            "status"
	                            "\x14\x66"
	                            "status"
	                            "\x14"),
	    BAD("duplicate data", "\xa2\x64"
	                          "data"
	                          "\x41\x00\x64"
	                          "data"
	                          "\x41\x00"),
	    BAD("data as tstr", "\xa1\x64"
	                        "data"
	                        "\x61\x41"),
	    BAD("unknown key", "\xa1\x64"
	                       "dat4"
	                       "\x41\x00"),
	    BAD("integer key", "\xa1\x01\x41\x00"),
	    BAD("truncated bstr", "\xa1\x64"
	                          "data"
	                          "\x45\x00"),
	    BAD("truncated map", "\xa2\x64"
	                         "data"
	                         "\x41\x00"),
	    BAD("three entries", "\xa3\x64"
	                         "data"
	                         "\x41\x00\x66"
	                         "status"
	                         "\x14\x64"
	                         "data"
	                         "\x41\x00"),
	    BAD("tagged", "\xd8\x18\x41\xa0"),
	    BAD("array", "\x81\xa0"),
	    BAD("reserved ai", "\xbc"),
	};
	const uint8_t *d = NULL;
	size_t dn = 99, i;
	int st = 99;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mn_mdoc_session_data_parse((const uint8_t *)bad[i].cbor, bad[i].n, &d, &dn,
		                               &st) >= 0)
			fail_msg("SessionData accepted: %s", bad[i].what);
		assert_null(d);
		assert_int_equal(dn, 99);
		assert_int_equal(st, 99);
	}
	assert_int_equal(mn_mdoc_session_data_parse((const uint8_t *)"", 0, &d, &dn, &st),
	                 MN_ERR_TRUNCATED);
}

static void expect_se_refused(const char *what, const uint8_t *p, size_t n)
{
	const uint8_t *ek = NULL, *d = NULL;
	size_t ekn = 99, dn = 99;

	if (mn_mdoc_session_establishment_parse(p, n, &ek, &ekn, &d, &dn) >= 0)
		fail_msg("SessionEstablishment accepted: %s", what);
	assert_null(ek);
	assert_null(d);
	assert_int_equal(ekn + dn, 198);
}

static void test_malformed_establishment(void **state)
{
	struct vec *v = vectors(state);
	uint8_t *b = malloc(v->se.n + 1);
	/* a2 6a "eReaderKey" d8 18 58 4b a4 01 02 20 01 21 58 20 x 22 58 20 y 64 "data" ... */
	const size_t tag = 12, kty = tag + 6, y = tag + 4 + 40;

	assert_non_null(b);
	memcpy(b, v->se.p, v->se.n);
	b[v->se.n] = 0;
	expect_se_refused("trailing byte", b, v->se.n + 1);
	expect_se_refused("truncated", b, v->se.n - 1);
	b[0] = 0xa3;
	expect_se_refused("map of 3", b, v->se.n);
	b[0] = 0xa1;
	expect_se_refused("map of 1", b, v->se.n);
	b[0] = 0xa2;
	b[tag + 1] = 0x19;
	expect_se_refused("tag 25", b, v->se.n);
	b[tag + 1] = 0x18;
	b[kty] = 0x01;
	expect_se_refused("kty 1", b, v->se.n);
	b[kty] = 0x02;
	b[kty + 2] = 0x02;
	expect_se_refused("crv P-384 with 32-byte coordinates", b, v->se.n);
	b[kty + 2] = 0x01;
	b[y] = 0x21;
	expect_se_refused("x twice, no y", b, v->se.n);
	b[y] = 0x22;
	b[2] = 'f';
	expect_se_refused("eReaderKey misspelt", b, v->se.n);
	b[2] = 'e';
	/* back to the vector: still accepted */
	assert_memory_equal(b, v->se.p, v->se.n);
	{
		const uint8_t *ek, *d;
		size_t ekn, dn;

		assert_int_equal(
		    mn_mdoc_session_establishment_parse(b, v->se.n, &ek, &ekn, &d, &dn), MN_OK);
	}
	/* untagged eReaderKey: a2 6a "eReaderKey" <bstr> 64 "data" 41 00 */
	memmove(b + tag, b + tag + 2, 2 + 75);
	memcpy(b + tag + 77,
	       "\x64"
	       "data"
	       "\x41\x00",
	       7);
	expect_se_refused("untagged eReaderKey", b, tag + 84);
	free(b);
}

static void test_malformed_cose_key(void **state)
{
	struct vec *v = vectors(state);
	const uint8_t *k = v->edev_key.p + 4; /* the bare 75-byte map */
	uint8_t b[160];
	EVP_PKEY *key = NULL;
	struct mn_mdoc_session *s = NULL;
	size_t i;
	struct {
		const char *what;
		size_t at;
		uint8_t val;
	} flips[] = {
	    {"kty 1", 2, 0x01},          {"kty 3", 2, 0x03},       {"crv 4", 4, 0x04},
	    {"crv 2 (length)", 4, 0x02}, {"x length 31", 7, 0x1f}, {"map of 5", 0, 0xa5},
	    {"map of 3", 0, 0xa3},       {"kty as nint", 2, 0x21}, {"label 4", 1, 0x04},
	    {"y as tstr", 41, 0x78},     {"off the curve", 74, 0},
	};

	assert_int_equal(v->edev_key.n, 79);
	assert_int_equal(mn_mdoc_cose_key_parse(k, 75, &key), MN_OK);
	EVP_PKEY_free(key);
	key = NULL;
	assert_int_equal(mn_mdoc_cose_key_parse(v->edev_key.p, v->edev_key.n, &key), MN_OK);
	EVP_PKEY_free(key);
	key = NULL;
	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(b, k, 75);
		b[flips[i].at] = flips[i].at == 74 ? (uint8_t)(b[74] ^ 1) : flips[i].val;
		if (mn_mdoc_cose_key_parse(b, 75, &key) >= 0)
			fail_msg("COSE_Key accepted: %s", flips[i].what);
		assert_null(key);
		if (mn_mdoc_session_new(v->reader, b, 75, v->st.p, v->st.n, &s) >= 0)
			fail_msg("session made with COSE_Key: %s", flips[i].what);
		assert_null(s);
	}
	/* trailing byte */
	memcpy(b, k, 75);
	b[75] = 0;
	assert_int_equal(mn_mdoc_cose_key_parse(b, 76, &key), MN_ERR_TRAILING);
	/* y as a bool (compressed point) */
	memcpy(b, k, 41);
	b[41] = 0xf5;
	assert_true(mn_mdoc_cose_key_parse(b, 42, &key) < 0);
	/* a private key in it: a5 ... 23 58 20 d */
	memcpy(b, k, 75);
	b[0] = 0xa5;
	memcpy(b + 75, "\x23\x58\x20", 3);
	memset(b + 78, 0x11, 32);
	assert_true(mn_mdoc_cose_key_parse(b, 110, &key) < 0);
	/* duplicate label: kty twice instead of crv */
	memcpy(b, k, 75);
	b[3] = 0x01, b[4] = 0x02;
	assert_true(mn_mdoc_cose_key_parse(b, 75, &key) < 0);
	/* kid and alg are allowed */
	memcpy(b, k, 75);
	b[0] = 0xa6;
	memcpy(b + 75, "\x02\x42\x01\x02\x03\x26", 6);
	assert_int_equal(mn_mdoc_cose_key_parse(b, 81, &key), MN_OK);
	EVP_PKEY_free(key);
	key = NULL;
	/* wrong tag around it */
	memcpy(b, v->edev_key.p, 79);
	b[1] = 0x19;
	assert_true(mn_mdoc_cose_key_parse(b, 79, &key) < 0);
	assert_null(key);
}

static void test_bad_session_args(void **state)
{
	struct vec *v = vectors(state);
	struct mn_mdoc_session *s = NULL;
	EVP_PKEY *p384 = EVP_EC_gen("secp384r1");

	assert_non_null(p384);
	/* SessionTranscript without its tag 24 */
	assert_true(mn_mdoc_session_new(v->reader, v->edev_key.p, v->edev_key.n, v->st.p + 5,
	                                v->st.n - 5, &s) < 0);
	assert_null(s);
	/* curves differ */
	assert_int_equal(
	    mn_mdoc_session_new(p384, v->edev_key.p, v->edev_key.n, v->st.p, v->st.n, &s),
	    MN_ERR_FORMAT);
	assert_null(s);
	assert_int_equal(
	    mn_mdoc_session_new(NULL, v->edev_key.p, v->edev_key.n, v->st.p, v->st.n, &s),
	    MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_session_new_role(7, v->reader, v->edev_key.p, v->edev_key.n,
	                                          v->st.p, v->st.n, &s),
	                 MN_ERR_INVALID_ARG);
	EVP_PKEY_free(p384);
}

/* P-384 and P-521 both ways, with a synthetic transcript. */
static void round_trip(const char *group)
{
	EVP_PKEY *rk = EVP_EC_gen(group), *dk = EVP_EC_gen(group);
	struct mn_mdoc_session *s = NULL, *m = NULL;
	uint8_t *rkb = NULL, *dkb = NULL, *ct = NULL, *pt = NULL;
	uint8_t k1[2][MN_MDOC_SK_LEN], k2[2][MN_MDOC_SK_LEN];
	const uint8_t st[] = {0xd8, 0x18, 0x43, 0x83, 0xf6, 0xf6};
	size_t rn, dn, n, n2;

	assert_non_null(rk);
	assert_non_null(dk);
	assert_int_equal(mn_mdoc_ereader_key_bytes(rk, &rkb, &rn), MN_OK);
	assert_int_equal(mn_mdoc_ereader_key_bytes(dk, &dkb, &dn), MN_OK);
	assert_int_equal(mn_mdoc_session_new(rk, dkb, dn, st, sizeof(st), &s), MN_OK);
	assert_int_equal(
	    mn_mdoc_session_new_role(MN_MDOC_ROLE_MDOC, dk, rkb, rn, st, sizeof(st), &m), MN_OK);
	assert_int_equal(mn_mdoc_session_get_keys(s, k1[0], k1[1]), MN_OK);
	assert_int_equal(mn_mdoc_session_get_keys(m, k2[0], k2[1]), MN_OK);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_memory_not_equal(k1[0], k1[1], MN_MDOC_SK_LEN);
	assert_int_equal(mn_mdoc_session_encrypt(m, (const uint8_t *)"hello", 5, &ct, &n), MN_OK);
	assert_int_equal(mn_mdoc_session_decrypt(s, ct, n, &pt, &n2), MN_OK);
	assert_int_equal(n2, 5);
	assert_memory_equal(pt, "hello", 5);
	free(ct);
	free(pt);
	free(rkb);
	free(dkb);
	mn_mdoc_session_free(&s);
	mn_mdoc_session_free(&m);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(dk);
}

static void test_other_curves(void **state)
{
	(void)state;
	round_trip("prime256v1");
	round_trip("secp384r1");
	round_trip("secp521r1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_session_keys),
	    cmocka_unit_test(test_ble_ident),
	    cmocka_unit_test(test_ereader_key_bytes),
	    cmocka_unit_test(test_decrypt_request),
	    cmocka_unit_test(test_decrypt_response),
	    cmocka_unit_test(test_encrypt_back),
	    cmocka_unit_test(test_tamper_ciphertext),
	    cmocka_unit_test(test_tamper_tag),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_wrong_direction),
	    cmocka_unit_test(test_termination),
	    cmocka_unit_test(test_malformed_session_data),
	    cmocka_unit_test(test_malformed_establishment),
	    cmocka_unit_test(test_malformed_cose_key),
	    cmocka_unit_test(test_bad_session_args),
	    cmocka_unit_test(test_other_curves),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
