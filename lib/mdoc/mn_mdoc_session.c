#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "mn_err.h"
#include "mn_mdoc_session.h"

#define GCM_TAG_LEN   16
#define GCM_IV_LEN    12
#define MAX_COORD_LEN 66 /* P-521 */
#define CBOR_TAG_ENC  24 /* encoded CBOR data item */

struct mn_mdoc_session {
	uint8_t sk_reader[MN_MDOC_SK_LEN];
	uint8_t sk_device[MN_MDOC_SK_LEN];
	uint64_t tx_ctr; /* next counter to send with, 1..2^32-1 */
	uint64_t rx_ctr; /* next counter expected */
	enum mn_mdoc_role role;
	int broken; /* a decryption failed: keys wiped, nothing more is done */
};

/* ---------------------------------------------------------------- curves */

struct curve {
	int crv; /* COSE crv */
	const char *group;
	size_t clen; /* coordinate and shared secret length */
};

static const struct curve curves[] = {
    {1, "prime256v1", 32},
    {2, "secp384r1", 48},
    {3, "secp521r1", 66},
};

static const struct curve *curve_by_crv(uint64_t crv)
{
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if ((uint64_t)curves[i].crv == crv)
			return &curves[i];
	return NULL;
}

/* The curve of an EC key, or NULL when it is not one of ours. */
static const struct curve *curve_of_key(EVP_PKEY *key)
{
	char name[64];
	size_t i;

	if (key == NULL || !EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
	                                    NULL)) {
		ERR_clear_error();
		return NULL;
	}
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (strcmp(name, curves[i].group) == 0)
			return &curves[i];
	return NULL;
}

/* ---------------------------------------------------------------- strict CBOR reading */

enum { MT_UINT = 0, MT_NINT = 1, MT_BSTR = 2, MT_TSTR = 3, MT_ARRAY = 4, MT_MAP = 5, MT_TAG = 6 };

struct rd {
	const uint8_t *p;
	size_t len, off;
};

/* One item head: definite lengths only (no indefinite, no reserved additional info). */
static int rd_head(struct rd *r, int *major, uint64_t *arg)
{
	uint64_t v = 0;
	unsigned ai;
	size_t n, i;
	uint8_t ib;

	if (r->off >= r->len)
		return MN_ERR_TRUNCATED;
	ib = r->p[r->off++];
	ai = ib & 0x1f;
	if (ai < 24) {
		v = ai;
	} else if (ai <= 27) {
		n = (size_t)1 << (ai - 24);
		if (r->len - r->off < n)
			return MN_ERR_TRUNCATED;
		for (i = 0; i < n; i++)
			v = v << 8 | r->p[r->off++];
	} else {
		return MN_ERR_FORMAT;
	}
	*major = ib >> 5;
	*arg = v;
	return MN_OK;
}

static int rd_expect(struct rd *r, int major, uint64_t *arg)
{
	int m, e;

	if ((e = rd_head(r, &m, arg)) < 0)
		return e;
	return m == major ? MN_OK : MN_ERR_FORMAT;
}

/* A byte or text string of the given major type: a span inside the input. */
static int rd_string(struct rd *r, int major, const uint8_t **p, size_t *n)
{
	uint64_t len;
	int e;

	if ((e = rd_expect(r, major, &len)) < 0)
		return e;
	if (len > r->len - r->off)
		return MN_ERR_TRUNCATED;
	*p = r->p + r->off;
	*n = (size_t)len;
	r->off += (size_t)len;
	return MN_OK;
}

/* An integer in [-2^63, 2^63 - 1]. */
static int rd_int(struct rd *r, int64_t *v)
{
	uint64_t a;
	int m, e;

	if ((e = rd_head(r, &m, &a)) < 0)
		return e;
	if ((m != MT_UINT && m != MT_NINT) || a > INT64_MAX)
		return MN_ERR_FORMAT;
	*v = m == MT_UINT ? (int64_t)a : -1 - (int64_t)a;
	return MN_OK;
}

/* #6.24(bstr) filling all of buf: the embedded bytes. */
static int unwrap_tag24(const uint8_t *buf, size_t len, const uint8_t **inner, size_t *ilen)
{
	struct rd r = {buf, len, 0};
	uint64_t tag;
	int e;

	if ((e = rd_expect(&r, MT_TAG, &tag)) < 0)
		return e;
	if (tag != CBOR_TAG_ENC)
		return MN_ERR_FORMAT;
	if ((e = rd_string(&r, MT_BSTR, inner, ilen)) < 0)
		return e;
	return r.off == len ? MN_OK : MN_ERR_TRAILING;
}

static int str_is(const uint8_t *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* ---------------------------------------------------------------- strict CBOR writing */

struct wr {
	uint8_t *p;
	size_t off, cap;
};

static size_t head_len(uint64_t v)
{
	return v < 24 ? 1 : v <= 0xff ? 2 : v <= 0xffff ? 3 : v <= 0xffffffffu ? 5 : 9;
}

/* Preferred (shortest) serialization; the caller sized the buffer. */
static void wr_head(struct wr *w, int major, uint64_t v)
{
	size_t n = head_len(v), i;
	uint8_t ai = n == 1 ? (uint8_t)v : n == 2 ? 24 : n == 3 ? 25 : n == 5 ? 26 : 27;

	w->p[w->off++] = (uint8_t)(major << 5 | ai);
	for (i = n - 1; i > 0; i--)
		w->p[w->off++] = (uint8_t)(v >> (8 * (i - 1)));
}

static void wr_bytes(struct wr *w, const void *p, size_t n)
{
	if (n > 0)
		memcpy(w->p + w->off, p, n);
	w->off += n;
}

static void wr_tstr(struct wr *w, const char *s)
{
	wr_head(w, MT_TSTR, strlen(s));
	wr_bytes(w, s, strlen(s));
}

static size_t tstr_len(const char *s)
{
	return head_len(strlen(s)) + strlen(s);
}

/* ---------------------------------------------------------------- COSE_Key */

enum {
	CK_KTY = 1 << 0,
	CK_CRV = 1 << 1,
	CK_X = 1 << 2,
	CK_Y = 1 << 3,
	CK_KID = 1 << 4,
	CK_ALG = 1 << 5,
};

/* A bare COSE_Key EC2 public key map filling all of buf. */
static int cose_key_check(const uint8_t *buf, size_t len, const struct curve **cv,
                          const uint8_t **x, const uint8_t **y)
{
	struct rd r = {buf, len, 0};
	const struct curve *c = NULL;
	const uint8_t *px = NULL, *py = NULL, *p;
	size_t nx = 0, ny = 0, n;
	uint64_t count, i, v;
	unsigned seen = 0, bit;
	int64_t label;
	int e, m;

	if ((e = rd_expect(&r, MT_MAP, &count)) < 0)
		return e;
	if (count > 6)
		return MN_ERR_FORMAT;
	for (i = 0; i < count; i++) {
		if ((e = rd_int(&r, &label)) < 0)
			return e;
		switch (label) {
		case 1: /* kty: EC2 */
			bit = CK_KTY;
			if ((e = rd_expect(&r, MT_UINT, &v)) < 0)
				return e;
			if (v != 2)
				return MN_ERR_UNSUPPORTED;
			break;
		case -1: /* crv */
			bit = CK_CRV;
			if ((e = rd_expect(&r, MT_UINT, &v)) < 0)
				return e;
			if ((c = curve_by_crv(v)) == NULL)
				return MN_ERR_UNSUPPORTED;
			break;
		case -2:
			bit = CK_X;
			if ((e = rd_string(&r, MT_BSTR, &px, &nx)) < 0)
				return e;
			break;
		case -3: /* a bstr: the compressed form (bool) is refused */
			bit = CK_Y;
			if ((e = rd_string(&r, MT_BSTR, &py, &ny)) < 0)
				return e;
			break;
		case 2: /* kid */
			bit = CK_KID;
			if ((e = rd_string(&r, MT_BSTR, &p, &n)) < 0)
				return e;
			break;
		case 3: /* alg: int or tstr, ignored */
			bit = CK_ALG;
			if ((e = rd_head(&r, &m, &v)) < 0)
				return e;
			if (m == MT_TSTR) {
				if (v > r.len - r.off)
					return MN_ERR_TRUNCATED;
				r.off += (size_t)v;
			} else if (m != MT_UINT && m != MT_NINT) {
				return MN_ERR_FORMAT;
			}
			break;
		default: /* among others -4 (d): a private key has no business here */
			return MN_ERR_FORMAT;
		}
		if (seen & bit)
			return MN_ERR_FORMAT; /* duplicate label */
		seen |= bit;
	}
	if (r.off != len)
		return MN_ERR_TRAILING;
	if ((seen & (CK_KTY | CK_CRV | CK_X | CK_Y)) != (CK_KTY | CK_CRV | CK_X | CK_Y))
		return MN_ERR_FORMAT;
	if (nx != c->clen || ny != c->clen)
		return MN_ERR_FORMAT;
	*cv = c;
	*x = px;
	*y = py;
	return MN_OK;
}

/* Bare map or #6.24(bstr .cbor map). */
static int cose_key_any(const uint8_t *buf, size_t len, const struct curve **cv, const uint8_t **x,
                        const uint8_t **y)
{
	const uint8_t *inner;
	size_t ilen;
	int e;

	if (buf == NULL || len == 0)
		return MN_ERR_INVALID_ARG;
	if (len > MN_MDOC_SESSION_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	if (buf[0] >> 5 != MT_TAG)
		return cose_key_check(buf, len, cv, x, y);
	if ((e = unwrap_tag24(buf, len, &inner, &ilen)) < 0)
		return e;
	return cose_key_check(inner, ilen, cv, x, y);
}

static int import_ec_pub(const struct curve *c, const uint8_t *x, const uint8_t *y, EVP_PKEY **key)
{
	uint8_t pt[1 + 2 * MAX_COORD_LEN];
	char group[16];
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL, *chk = NULL;
	EVP_PKEY *k = NULL;
	int r = MN_ERR_CRYPTO;

	pt[0] = 0x04;
	memcpy(pt + 1, x, c->clen);
	memcpy(pt + 1 + c->clen, y, c->clen);
	snprintf(group, sizeof(group), "%s", c->group);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * c->clen);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = MN_ERR_FORMAT; /* not a point of the curve */
		goto out;
	}
	if ((chk = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (EVP_PKEY_public_check(chk) <= 0) {
		r = MN_ERR_FORMAT;
		goto out;
	}
	*key = k;
	k = NULL;
	r = MN_OK;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(chk);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	return r;
}

int mn_mdoc_cose_key_parse(const uint8_t *buf, size_t len, EVP_PKEY **key)
{
	const struct curve *c;
	const uint8_t *x, *y;
	int e;

	if (key == NULL)
		return MN_ERR_INVALID_ARG;
	if ((e = cose_key_any(buf, len, &c, &x, &y)) < 0)
		return e;
	return import_ec_pub(c, x, y, key);
}

int mn_mdoc_ereader_key_bytes(EVP_PKEY *key, uint8_t **out, size_t *outlen)
{
	const struct curve *c = curve_of_key(key);
	uint8_t x[MAX_COORD_LEN], y[MAX_COORD_LEN];
	BIGNUM *bx = NULL, *by = NULL;
	struct wr w = {NULL, 0, 0};
	size_t inner;
	int r = MN_ERR_CRYPTO;

	if (c == NULL || out == NULL || outlen == NULL)
		return MN_ERR_INVALID_ARG;
	if (!EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &bx) ||
	    !EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &by) ||
	    BN_bn2binpad(bx, x, (int)c->clen) < 0 || BN_bn2binpad(by, y, (int)c->clen) < 0)
		goto out;
	/* {1: 2, -1: crv, -2: x, -3: y} */
	inner = 1 + 2 + 2 + 2 * (head_len(c->clen) + 1 + c->clen);
	w.cap = 2 + head_len(inner) + inner;
	if ((w.p = malloc(w.cap)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	wr_head(&w, MT_TAG, CBOR_TAG_ENC);
	wr_head(&w, MT_BSTR, inner);
	wr_head(&w, MT_MAP, 4);
	wr_head(&w, MT_UINT, 1);
	wr_head(&w, MT_UINT, 2);
	wr_head(&w, MT_NINT, 0);
	wr_head(&w, MT_UINT, (uint64_t)c->crv);
	wr_head(&w, MT_NINT, 1);
	wr_head(&w, MT_BSTR, c->clen);
	wr_bytes(&w, x, c->clen);
	wr_head(&w, MT_NINT, 2);
	wr_head(&w, MT_BSTR, c->clen);
	wr_bytes(&w, y, c->clen);
	if (w.off != w.cap) {
		r = MN_ERR_INTERNAL;
		goto out;
	}
	*out = w.p;
	*outlen = w.off;
	w.p = NULL;
	r = MN_OK;
out:
	ERR_clear_error();
	free(w.p);
	BN_free(bx);
	BN_free(by);
	return r;
}

/* ---------------------------------------------------------------- key derivation */

static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, uint8_t *z, size_t zlen)
{
	EVP_PKEY_CTX *ctx = NULL;
	size_t n = 0;
	int r = MN_ERR_CRYPTO;

	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL)) == NULL)
		goto out;
	if (EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) <= 0 ||
	    EVP_PKEY_derive(ctx, NULL, &n) <= 0 || n != zlen || EVP_PKEY_derive(ctx, z, &n) <= 0 ||
	    n != zlen)
		goto out;
	r = MN_OK;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	return r;
}

static int hkdf_sha256(const uint8_t *ikm, size_t ikmlen, const uint8_t *salt, size_t saltlen,
                       const char *info, uint8_t *out, size_t outlen)
{
	char digest[] = "SHA256";
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[5];
	size_t n = 0;
	int r = MN_ERR_CRYPTO;

	if ((kdf = EVP_KDF_fetch(NULL, "HKDF", NULL)) == NULL ||
	    (kctx = EVP_KDF_CTX_new(kdf)) == NULL)
		goto out;
	params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0);
	params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	/* an empty salt is no salt parameter: HKDF then uses HashLen zero bytes (RFC 5869) */
	if (saltlen > 0)
		params[n++] =
		    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	params[n++] =
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[n] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) <= 0)
		goto out;
	r = MN_OK;
out:
	ERR_clear_error();
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

int mn_mdoc_session_new_role(enum mn_mdoc_role role, EVP_PKEY *own_priv, const uint8_t *peer_key,
                             size_t len, const uint8_t *st_bytes, size_t st_len,
                             struct mn_mdoc_session **ret)
{
	const struct curve *c, *own;
	const uint8_t *x, *y, *inner;
	uint8_t z[MAX_COORD_LEN], salt[32];
	struct mn_mdoc_session *s = NULL;
	EVP_PKEY *peer = NULL;
	size_t ilen;
	int r;

	if ((role != MN_MDOC_ROLE_READER && role != MN_MDOC_ROLE_MDOC) || ret == NULL ||
	    st_bytes == NULL || st_len == 0)
		return MN_ERR_INVALID_ARG;
	if ((own = curve_of_key(own_priv)) == NULL)
		return MN_ERR_INVALID_ARG;
	/* SessionTranscriptBytes, tag 24 included: catches a bare SessionTranscript */
	if ((r = unwrap_tag24(st_bytes, st_len, &inner, &ilen)) < 0)
		return r;
	if ((r = cose_key_any(peer_key, len, &c, &x, &y)) < 0)
		return r;
	if (c != own)
		return MN_ERR_FORMAT; /* the peer's key is on another curve */
	if ((r = import_ec_pub(c, x, y, &peer)) < 0)
		return r;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	s->role = role;
	s->tx_ctr = 1;
	s->rx_ctr = 1;
	if ((r = ecdh(own_priv, peer, z, c->clen)) < 0)
		goto out;
	if (!EVP_Digest(st_bytes, st_len, salt, NULL, EVP_sha256(), NULL)) {
		r = MN_ERR_CRYPTO;
		goto out;
	}
	if ((r = hkdf_sha256(z, c->clen, salt, sizeof(salt), "SKReader", s->sk_reader,
	                     MN_MDOC_SK_LEN)) < 0 ||
	    (r = hkdf_sha256(z, c->clen, salt, sizeof(salt), "SKDevice", s->sk_device,
	                     MN_MDOC_SK_LEN)) < 0)
		goto out;
	*ret = s;
	s = NULL;
	r = MN_OK;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_free(peer);
	mn_mdoc_session_free(&s);
	return r;
}

int mn_mdoc_emac_key(EVP_PKEY *own_priv, EVP_PKEY *peer, const uint8_t *st_bytes, size_t st_len,
                     uint8_t key[MN_MDOC_SK_LEN])
{
	const struct curve *own, *other;
	uint8_t z[MAX_COORD_LEN], salt[32];
	int r;

	if (own_priv == NULL || peer == NULL || st_bytes == NULL || st_len == 0 || key == NULL)
		return MN_ERR_INVALID_ARG;
	if ((own = curve_of_key(own_priv)) == NULL || (other = curve_of_key(peer)) == NULL ||
	    own != other)
		return MN_ERR_FORMAT;
	if ((r = ecdh(own_priv, peer, z, own->clen)) < 0)
		goto out;
	if (!EVP_Digest(st_bytes, st_len, salt, NULL, EVP_sha256(), NULL)) {
		r = MN_ERR_CRYPTO;
		goto out;
	}
	r = hkdf_sha256(z, own->clen, salt, sizeof(salt), "EMacKey", key, MN_MDOC_SK_LEN);
out:
	OPENSSL_cleanse(z, sizeof(z));
	return r;
}

int mn_mdoc_session_new(EVP_PKEY *reader_priv, const uint8_t *edevice_key, size_t len,
                        const uint8_t *st_bytes, size_t st_len, struct mn_mdoc_session **ret)
{
	return mn_mdoc_session_new_role(MN_MDOC_ROLE_READER, reader_priv, edevice_key, len,
	                                st_bytes, st_len, ret);
}

void mn_mdoc_session_free(struct mn_mdoc_session **s)
{
	if (s == NULL || *s == NULL)
		return;
	OPENSSL_cleanse(*s, sizeof(**s));
	free(*s);
	*s = NULL;
}

int mn_mdoc_session_get_keys(const struct mn_mdoc_session *s, uint8_t sk_reader[MN_MDOC_SK_LEN],
                             uint8_t sk_device[MN_MDOC_SK_LEN])
{
	if (s == NULL || sk_reader == NULL || sk_device == NULL)
		return MN_ERR_INVALID_ARG;
	if (s->broken)
		return MN_ERR_CRYPTO;
	memcpy(sk_reader, s->sk_reader, MN_MDOC_SK_LEN);
	memcpy(sk_device, s->sk_device, MN_MDOC_SK_LEN);
	return MN_OK;
}

/* ---------------------------------------------------------------- AES-256-GCM */

static void make_iv(uint8_t iv[GCM_IV_LEN], int from_mdoc, uint32_t ctr)
{
	memset(iv, 0, GCM_IV_LEN);
	iv[7] = from_mdoc ? 1 : 0;
	iv[8] = (uint8_t)(ctr >> 24);
	iv[9] = (uint8_t)(ctr >> 16);
	iv[10] = (uint8_t)(ctr >> 8);
	iv[11] = (uint8_t)ctr;
}

/* enc: out = ciphertext, tag written; !enc: out = plaintext, tag checked. */
static int gcm(int enc, const uint8_t *key, const uint8_t iv[GCM_IV_LEN], const uint8_t *in,
               size_t len, uint8_t *out, uint8_t tag[GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, f = 0, r = MN_ERR_CRYPTO;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, iv, enc) != 1)
		goto out;
	if (len > 0 && EVP_CipherUpdate(ctx, out, &n, in, (int)len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, GCM_TAG_LEN, tag) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, out + n, &f) != 1 || (size_t)n + (size_t)f != len)
		goto out;
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, GCM_TAG_LEN, tag) != 1)
		goto out;
	r = MN_OK;
out:
	ERR_clear_error();
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

static void session_break(struct mn_mdoc_session *s)
{
	OPENSSL_cleanse(s->sk_reader, sizeof(s->sk_reader));
	OPENSSL_cleanse(s->sk_device, sizeof(s->sk_device));
	s->broken = 1;
}

int mn_mdoc_session_encrypt(struct mn_mdoc_session *s, const uint8_t *pt, size_t len, uint8_t **ct,
                            size_t *ctlen)
{
	int mdoc = s != NULL && s->role == MN_MDOC_ROLE_MDOC;
	uint8_t iv[GCM_IV_LEN], *buf = NULL;
	uint32_t ctr;
	int r;

	if (s == NULL || (pt == NULL && len > 0) || ct == NULL || ctlen == NULL)
		return MN_ERR_INVALID_ARG;
	if (s->broken || s->tx_ctr > UINT32_MAX)
		return MN_ERR_CRYPTO; /* unusable, or the counter would wrap */
	if (len > MN_MDOC_SESSION_MAX_MSG - GCM_TAG_LEN)
		return MN_ERR_TOO_LARGE;
	/* a counter is used once, even if this attempt fails */
	ctr = (uint32_t)s->tx_ctr++;
	make_iv(iv, mdoc, ctr);
	if ((buf = malloc(len + GCM_TAG_LEN)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = gcm(1, mdoc ? s->sk_device : s->sk_reader, iv, pt, len, buf, buf + len)) < 0)
		goto out;
	*ct = buf;
	*ctlen = len + GCM_TAG_LEN;
	buf = NULL;
	r = MN_OK;
out:
	free(buf);
	return r;
}

int mn_mdoc_session_decrypt(struct mn_mdoc_session *s, const uint8_t *ct, size_t len, uint8_t **pt,
                            size_t *ptlen)
{
	int from_mdoc = s != NULL && s->role == MN_MDOC_ROLE_READER;
	uint8_t iv[GCM_IV_LEN], tag[GCM_TAG_LEN], *buf = NULL;
	size_t n = 0;
	int r = MN_ERR_CRYPTO;

	if (s == NULL || (ct == NULL && len > 0) || pt == NULL || ptlen == NULL)
		return MN_ERR_INVALID_ARG;
	if (s->broken)
		return MN_ERR_CRYPTO;
	/* from here on every failure ends the session */
	if (s->rx_ctr > UINT32_MAX)
		goto out;
	if (len < GCM_TAG_LEN || len > MN_MDOC_SESSION_MAX_MSG) {
		r = len < GCM_TAG_LEN ? MN_ERR_TRUNCATED : MN_ERR_TOO_LARGE;
		goto out;
	}
	n = len - GCM_TAG_LEN;
	make_iv(iv, from_mdoc, (uint32_t)s->rx_ctr);
	memcpy(tag, ct + n, GCM_TAG_LEN);
	if ((buf = malloc(n > 0 ? n : 1)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = gcm(0, from_mdoc ? s->sk_device : s->sk_reader, iv, ct, n, buf, tag)) < 0)
		goto out;
	s->rx_ctr++;
	*pt = buf;
	*ptlen = n;
	buf = NULL;
	r = MN_OK;
out:
	if (r < 0) {
		session_break(s);
		if (buf != NULL)
			OPENSSL_cleanse(buf, n);
	}
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- session messages */

int mn_mdoc_session_establishment_parse(const uint8_t *buf, size_t len, const uint8_t **ereader_key,
                                        size_t *eklen, const uint8_t **data, size_t *dlen)
{
	struct rd r = {buf, len, 0};
	const uint8_t *k, *ek = NULL, *d = NULL;
	const struct curve *c;
	const uint8_t *x, *y, *inner;
	size_t kn, ekn = 0, dn = 0, start, ilen;
	uint64_t count, i, tag;
	int e;

	if (buf == NULL || ereader_key == NULL || eklen == NULL || data == NULL || dlen == NULL)
		return MN_ERR_INVALID_ARG;
	if (len > MN_MDOC_SESSION_MAX_MSG + 1024)
		return MN_ERR_TOO_LARGE;
	if ((e = rd_expect(&r, MT_MAP, &count)) < 0)
		return e;
	if (count != 2)
		return MN_ERR_FORMAT;
	for (i = 0; i < count; i++) {
		if ((e = rd_string(&r, MT_TSTR, &k, &kn)) < 0)
			return e;
		if (str_is(k, kn, "eReaderKey") && ek == NULL) {
			start = r.off;
			if ((e = rd_expect(&r, MT_TAG, &tag)) < 0)
				return e;
			if (tag != CBOR_TAG_ENC)
				return MN_ERR_FORMAT;
			if ((e = rd_string(&r, MT_BSTR, &inner, &ilen)) < 0)
				return e;
			if ((e = cose_key_check(inner, ilen, &c, &x, &y)) < 0)
				return e;
			ek = buf + start;
			ekn = r.off - start;
		} else if (str_is(k, kn, "data") && d == NULL) {
			if ((e = rd_string(&r, MT_BSTR, &d, &dn)) < 0)
				return e;
		} else {
			return MN_ERR_FORMAT; /* unknown or duplicate key */
		}
	}
	if (r.off != len)
		return MN_ERR_TRAILING;
	*ereader_key = ek;
	*eklen = ekn;
	*data = d;
	*dlen = dn;
	return MN_OK;
}

int mn_mdoc_session_establishment_build(const uint8_t *ereader_key, size_t eklen,
                                        const uint8_t *data, size_t dlen, uint8_t **out,
                                        size_t *outlen)
{
	const struct curve *c;
	const uint8_t *x, *y, *inner;
	struct wr w = {NULL, 0, 0};
	size_t ilen;
	int e;

	if (ereader_key == NULL || (data == NULL && dlen > 0) || out == NULL || outlen == NULL)
		return MN_ERR_INVALID_ARG;
	if (dlen > MN_MDOC_SESSION_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	if ((e = unwrap_tag24(ereader_key, eklen, &inner, &ilen)) < 0 ||
	    (e = cose_key_check(inner, ilen, &c, &x, &y)) < 0)
		return e;
	w.cap = 1 + tstr_len("eReaderKey") + eklen + tstr_len("data") + head_len(dlen) + dlen;
	if ((w.p = malloc(w.cap)) == NULL)
		return MN_ERR_NOMEM;
	wr_head(&w, MT_MAP, 2);
	wr_tstr(&w, "eReaderKey");
	wr_bytes(&w, ereader_key, eklen);
	wr_tstr(&w, "data");
	wr_head(&w, MT_BSTR, dlen);
	wr_bytes(&w, data, dlen);
	*out = w.p;
	*outlen = w.off;
	return MN_OK;
}

static int status_ok(uint64_t v)
{
	return v == MN_MDOC_STATUS_ENCRYPTION || v == MN_MDOC_STATUS_CBOR ||
	       v == MN_MDOC_STATUS_TERMINATION;
}

int mn_mdoc_session_data_parse(const uint8_t *buf, size_t len, const uint8_t **data, size_t *dlen,
                               int *status)
{
	struct rd r = {buf, len, 0};
	const uint8_t *k, *d = NULL;
	size_t kn, dn = 0;
	uint64_t count, i, v;
	int st = MN_MDOC_STATUS_NONE, seen_status = 0, e;

	if (buf == NULL || data == NULL || dlen == NULL || status == NULL)
		return MN_ERR_INVALID_ARG;
	if (len > MN_MDOC_SESSION_MAX_MSG + 1024)
		return MN_ERR_TOO_LARGE;
	if ((e = rd_expect(&r, MT_MAP, &count)) < 0)
		return e;
	if (count < 1 || count > 2)
		return MN_ERR_FORMAT;
	for (i = 0; i < count; i++) {
		if ((e = rd_string(&r, MT_TSTR, &k, &kn)) < 0)
			return e;
		if (str_is(k, kn, "data") && d == NULL) {
			if ((e = rd_string(&r, MT_BSTR, &d, &dn)) < 0)
				return e;
		} else if (str_is(k, kn, "status") && !seen_status) {
			if ((e = rd_expect(&r, MT_UINT, &v)) < 0)
				return e;
			if (!status_ok(v))
				return MN_ERR_FORMAT;
			st = (int)v;
			seen_status = 1;
		} else {
			return MN_ERR_FORMAT; /* unknown or duplicate key */
		}
	}
	if (r.off != len)
		return MN_ERR_TRAILING;
	*data = d;
	*dlen = dn;
	*status = st;
	return MN_OK;
}

int mn_mdoc_session_data_build(const uint8_t *data, size_t dlen, int status, uint8_t **out,
                               size_t *outlen)
{
	struct wr w = {NULL, 0, 0};
	int has_status = status != MN_MDOC_STATUS_NONE;

	if ((data == NULL && dlen > 0) || out == NULL || outlen == NULL)
		return MN_ERR_INVALID_ARG;
	if ((data == NULL && !has_status) || (has_status && !status_ok((uint64_t)status)))
		return MN_ERR_INVALID_ARG;
	if (dlen > MN_MDOC_SESSION_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	w.cap = 1;
	if (data != NULL)
		w.cap += tstr_len("data") + head_len(dlen) + dlen;
	if (has_status)
		w.cap += tstr_len("status") + head_len((uint64_t)status);
	if ((w.p = malloc(w.cap)) == NULL)
		return MN_ERR_NOMEM;
	wr_head(&w, MT_MAP, (uint64_t)(data != NULL) + (uint64_t)has_status);
	if (data != NULL) {
		wr_tstr(&w, "data");
		wr_head(&w, MT_BSTR, dlen);
		wr_bytes(&w, data, dlen);
	}
	if (has_status) {
		wr_tstr(&w, "status");
		wr_head(&w, MT_UINT, (uint64_t)status);
	}
	*out = w.p;
	*outlen = w.off;
	return MN_OK;
}

int mn_mdoc_ble_ident(const uint8_t *edevice_key_bytes, size_t len,
                      uint8_t out[MN_MDOC_BLE_IDENT_LEN])
{
	uint8_t id[MN_MDOC_BLE_IDENT_LEN];
	int r;

	if (edevice_key_bytes == NULL || len == 0 || out == NULL)
		return MN_ERR_INVALID_ARG;
	/* the bytes as they stand in the DeviceEngagement, never a re-encoding */
	if ((r = hkdf_sha256(edevice_key_bytes, len, NULL, 0, "BLEIdent", id, sizeof(id))) != MN_OK)
		return r;
	memcpy(out, id, sizeof(id));
	return MN_OK;
}
