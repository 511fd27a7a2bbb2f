/*
 * The wallet profile at run time: an NFC Forum Type 4 tag (NDEF app D2760000850101, CC E103,
 * NDEF E104) holding a Handover Select (static) or a TNEP service (negotiated handover), and
 * ISO 18013-5 NFC data retrieval on AID A0000002480400 (ENVELOPE / GET RESPONSE, DO'53').
 *
 * The MSO is built and signed at load time (one random per item, digests over the tag-24
 * IssuerSignedItemBytes); each session answers only the requested elements, after the
 * simulated user verification, signed with the device key (deviceSignature), or with
 * --device-auth mac authenticated by a COSE_Mac0 under EMacKey (deviceMac).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "mn_ble.h"
#include "mn_cose.h"
#include "mn_err.h"
#include "mn_mdoc_session.h"
#include "mn_ndef.h"
#include "mn_nfc.h"
#include "sim.h"
#include "sim_wallet.h"

#define CONF_MAX      65536
#define PORTRAIT_MAX  (512u * 1024)
#define NDEF_FILE_MAX 2048
#define IN_MAX        (1024u * 1024)
#define NDEF_MLE      0x00ff
#define NDEF_MLC      0x00ff
#define ITEM_RANDOM   16

enum val_type { V_TEXT, V_UINT, V_BOOL, V_DATE, V_PORTRAIT };

static const struct elem_def {
	const char *ns, *id;
	enum val_type type;
} elem_defs[] = {
    {SIM_WALLET_NS_JP, "full_name_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "resident_address_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "local_gov_code_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "individual_number_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "sex_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "birth_date_unicode", V_TEXT},
    {SIM_WALLET_NS_JP, "portrait", V_PORTRAIT},
    {SIM_WALLET_NS_ISO, "sex", V_UINT},
    {SIM_WALLET_NS_ISO, "birth_date", V_DATE},
    {SIM_WALLET_NS_ISO, "age_in_years", V_UINT},
    {SIM_WALLET_NS_ISO, "age_over_18", V_BOOL},
    {SIM_WALLET_NS_ISO, "age_over_20", V_BOOL},
    {SIM_WALLET_NS_ISO, "age_over_21", V_BOOL},
};
#define N_ELEMS (sizeof(elem_defs) / sizeof(elem_defs[0]))

enum app { APP_NONE, APP_NDEF, APP_MDOC };
enum file { FILE_NONE, FILE_CC, FILE_NDEF };
enum tnep { TNEP_SERVICE, TNEP_SELECTED, TNEP_DONE };

/*
 * One engagement (DeviceEngagement, Handover Select/Request) and the session run on it. The NFC
 * side owns w->eng (renewed at every power cycle); a BLE session runs on a copy taken when the
 * reader's Handover Request named a BLE UUID (sim_wallet_ble_take), so that the reader leaving
 * the NFC field (a reset: a new engagement) does not change the one the BLE session uses.
 */
struct sim_wallet_eng {
	EVP_PKEY *edev;
	uint8_t *de, *hs, *hr, *edk; /* edk: EDeviceKeyBytes exactly as they stand in de */
	size_t de_len, hs_len, hr_len, edk_len;
	int has_uuid;
	uint8_t uuid[16]; /* the BLE service UUID of the reader's Handover Request */
	struct timespec taken;
	/* data retrieval */
	struct mn_mdoc_session *sess;
	EVP_PKEY *ereader; /* EReaderKey (public) of this session, for deviceMac */
	uint8_t *st;
	size_t st_len;
	int ended;
};

struct sim_wallet {
	struct sim_wallet_run_opts o;
	pthread_mutex_t lock; /* the NFC (vpcd) and BLE threads share the wallet */
	EVP_PKEY *ds_key, *dev_key;
	cbor_item_t *items[N_ELEMS]; /* tag-24 IssuerSignedItemBytes */
	cbor_item_t *issuer_auth;    /* COSE_Sign1 array */
	/* one engagement (power cycle) */
	struct sim_wallet_eng eng;
	struct sim_wallet_eng *ble_pending; /* offered to the BLE central, not yet taken */
	enum app app;
	enum file file;
	enum tnep tnep;
	int hs_polls; /* NLEN = 0 answers before the negotiated Hs is ready */
	uint8_t ndef[NDEF_FILE_MAX];
	size_t ndef_size; /* NLEN + message currently readable */
	/* NFC data retrieval */
	uint8_t *in, *out;
	size_t in_len, out_len, out_off;
	long apdus;
	int gone;
};

static const uint8_t aid_ndef[] = {0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01};
static const uint8_t aid_mdoc[] = {0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00};
static const uint8_t wallet_atr[] = {0x3B, 0x80, 0x80, 0x01, 0x01};

/* ---------------------------------------------------------------- helpers */

/* the document type this wallet presents (another one with --doctype, for tests) */
static const char *doctype(const struct sim_wallet *w)
{
	return w->o.doctype != NULL ? w->o.doctype : SIM_WALLET_DOCTYPE;
}

static int serialize(const cbor_item_t *item, uint8_t **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0, n = cbor_serialize_alloc(item, &buf, &cap);

	if (n == 0) {
		free(buf);
		return MN_ERR_NOMEM;
	}
	*out = buf;
	*len = n;
	return MN_OK;
}

/* an unsigned integer in its shortest form (libcbor encodes an item at its own width) */
static cbor_item_t *build_uint(uint64_t v)
{
	if (v <= 0xff)
		return cbor_build_uint8((uint8_t)v);
	if (v <= 0xffff)
		return cbor_build_uint16((uint16_t)v);
	if (v <= 0xffffffffu)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

/* #6.24(bstr .cbor item) */
static cbor_item_t *tag24(const cbor_item_t *item)
{
	uint8_t *b = NULL;
	size_t n;
	cbor_item_t *bs, *t;

	if (serialize(item, &b, &n) != MN_OK)
		return NULL;
	bs = cbor_build_bytestring(b, n);
	free(b);
	if (bs == NULL)
		return NULL;
	t = cbor_build_tag(24, bs);
	cbor_decref(&bs);
	return t;
}

/* decode the bstr inside a tag-24 item */
static cbor_item_t *untag24(const cbor_item_t *t)
{
	struct cbor_load_result res;
	cbor_item_t *bs;

	if (t == NULL || !cbor_isa_tag(t) || cbor_tag_value(t) != 24)
		return NULL;
	bs = cbor_move(cbor_tag_item(t));
	if (!cbor_isa_bytestring(bs) || !cbor_bytestring_is_definite(bs))
		return NULL;
	return cbor_load(cbor_bytestring_handle(bs), cbor_bytestring_length(bs), &res);
}

static cbor_item_t *load(const uint8_t *b, size_t n)
{
	struct cbor_load_result res;
	cbor_item_t *it = cbor_load(b, n, &res);

	if (it != NULL && res.read != n)
		cbor_decref(&it);
	return it;
}

static int map_add(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
	int ok =
	    k != NULL && v != NULL && cbor_map_add(map, (struct cbor_pair){.key = k, .value = v});

	if (k != NULL)
		cbor_decref(&k);
	if (v != NULL)
		cbor_decref(&v);
	return ok ? MN_OK : MN_ERR_NOMEM;
}

static int map_add_s(cbor_item_t *map, const char *k, cbor_item_t *v)
{
	return map_add(map, cbor_build_string(k), v);
}

static int arr_add(cbor_item_t *arr, cbor_item_t *v)
{
	int ok = v != NULL && cbor_array_push(arr, v);

	if (v != NULL)
		cbor_decref(&v);
	return ok ? MN_OK : MN_ERR_NOMEM;
}

static cbor_item_t *map_get(const cbor_item_t *map, const char *key)
{
	size_t i, n = strlen(key);
	struct cbor_pair *p;

	if (map == NULL || !cbor_isa_map(map))
		return NULL;
	p = cbor_map_handle(map);
	for (i = 0; i < cbor_map_size(map); i++) {
		if (cbor_isa_string(p[i].key) && cbor_string_is_definite(p[i].key) &&
		    cbor_string_length(p[i].key) == n &&
		    memcmp(cbor_string_handle(p[i].key), key, n) == 0)
			return p[i].value;
	}
	return NULL;
}

static int text_eq(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);

	return it != NULL && cbor_isa_string(it) && cbor_string_is_definite(it) &&
	       cbor_string_length(it) == n && memcmp(cbor_string_handle(it), s, n) == 0;
}

/* ES256 over the Sig_structure; COSE_Sign1 = [prot, unprot, payload|null, r||s] */
static cbor_item_t *sign1(EVP_PKEY *key, cbor_item_t *unprot, const uint8_t *payload, size_t plen,
                          int detached)
{
	static const uint8_t prot[] = {0xA1, 0x01, 0x26}; /* {1: -7} */
	uint8_t *tbs = NULL, *der = NULL, raw[64];
	const uint8_t *p;
	size_t tlen = 0, dlen = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig = NULL;
	cbor_item_t *arr = NULL, *ret = NULL;

	if (md == NULL ||
	    mn_cose_tbs("Signature1", prot, sizeof(prot), payload, plen, &tbs, &tlen) != MN_OK)
		goto out;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &dlen, tbs, tlen) != 1 || (der = malloc(dlen)) == NULL ||
	    EVP_DigestSign(md, der, &dlen, tbs, tlen) != 1)
		goto out;
	p = der;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen)) == NULL ||
	    BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) != 32)
		goto out;
	if ((arr = cbor_new_definite_array(4)) == NULL ||
	    arr_add(arr, cbor_build_bytestring(prot, sizeof(prot))) != MN_OK)
		goto out;
	cbor_incref(unprot);
	if (arr_add(arr, unprot) != MN_OK ||
	    arr_add(arr, detached ? cbor_new_null() : cbor_build_bytestring(payload, plen)) !=
	        MN_OK ||
	    arr_add(arr, cbor_build_bytestring(raw, sizeof(raw))) != MN_OK)
		goto out;
	ret = arr;
	arr = NULL;
out:
	if (arr != NULL)
		cbor_decref(&arr);
	ECDSA_SIG_free(sig);
	free(der);
	free(tbs);
	EVP_MD_CTX_free(md);
	return ret;
}

/*
 * EMacKey = HKDF-SHA256(IKM = ECDH(SDeviceKey.priv, EReaderKey.pub),
 *                       salt = SHA-256(SessionTranscriptBytes), info = "EMacKey", L = 32)
 */
static int emac_key(struct sim_wallet *w, struct sim_wallet_eng *e, uint8_t key[32])
{
	if (e->ereader == NULL || e->st == NULL)
		return MN_ERR_INVALID_ARG;
	return mn_mdoc_emac_key(w->dev_key, e->ereader, e->st, e->st_len, key);
}

/* HMAC 256/256 under EMacKey over the MAC_structure; COSE_Mac0 = [prot, {}, null, tag] */
static cbor_item_t *mac0(struct sim_wallet *w, struct sim_wallet_eng *e, const uint8_t *payload,
                         size_t plen)
{
	static const uint8_t prot[] = {0xA1, 0x01, 0x05}; /* {1: 5} */
	uint8_t *tbs = NULL, key[32], tag[EVP_MAX_MD_SIZE];
	size_t tlen = 0, taglen = 0;
	cbor_item_t *arr = NULL, *ret = NULL;

	if (emac_key(w, e, key) != MN_OK ||
	    mn_cose_tbs("MAC0", prot, sizeof(prot), payload, plen, &tbs, &tlen) != MN_OK)
		goto out;
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof(key), tbs, tlen, tag,
	              sizeof(tag), &taglen) == NULL ||
	    taglen != 32)
		goto out;
	if ((arr = cbor_new_definite_array(4)) == NULL ||
	    arr_add(arr, cbor_build_bytestring(prot, sizeof(prot))) != MN_OK ||
	    arr_add(arr, cbor_new_definite_map(0)) != MN_OK ||
	    arr_add(arr, cbor_new_null()) != MN_OK ||
	    arr_add(arr, cbor_build_bytestring(tag, taglen)) != MN_OK)
		goto out;
	ret = arr;
	arr = NULL;
out:
	if (arr != NULL)
		cbor_decref(&arr);
	explicit_bzero(key, sizeof(key));
	explicit_bzero(tag, sizeof(tag));
	free(tbs);
	return ret;
}

/* ---------------------------------------------------------------- load: items and MSO */

/* a P-256 private key in PEM */
static int load_ec_key(const char *path, EVP_PKEY **out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (f == NULL) {
		fprintf(stderr, "mynumber-sim: cannot open %s\n", path);
		return MN_ERR_IO;
	}
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL || !EVP_PKEY_is_a(k, "EC")) {
		fprintf(stderr, "mynumber-sim: %s: not an EC private key in PEM\n", path);
		EVP_PKEY_free(k);
		return MN_ERR_FORMAT;
	}
	*out = k;
	return MN_OK;
}

struct conf_vals {
	char *v[N_ELEMS];
	long long valid_from, valid_until;
};

static int read_file(const char *path, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n;
	int r = MN_ERR_IO;

	if (f == NULL)
		return MN_ERR_NOT_FOUND;
	if ((b = malloc(max + 1)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	n = fread(b, 1, max + 1, f);
	if (ferror(f))
		goto out;
	if (n > max) {
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	b[n] = 0;
	*out = b;
	*len = n;
	b = NULL;
	r = MN_OK;
out:
	free(b);
	fclose(f);
	return r;
}

static int parse_conf(char *text, struct conf_vals *c)
{
	char *line, *save = NULL, *eq, *end;
	size_t i;

	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((eq = strchr(line, '=')) == NULL)
			return MN_ERR_FORMAT;
		*eq++ = '\0';
		if (strcmp(line, "mso_valid_from") == 0 || strcmp(line, "mso_valid_until") == 0) {
			long long v;

			errno = 0;
			v = strtoll(eq, &end, 10);
			if (errno != 0 || end == eq || *end != '\0')
				return MN_ERR_FORMAT;
			*(line[10] == 'f' ? &c->valid_from : &c->valid_until) = v;
			continue;
		}
		for (i = 0; i < N_ELEMS; i++)
			if (strcmp(line, elem_defs[i].id) == 0)
				break;
		if (i == N_ELEMS || elem_defs[i].type == V_PORTRAIT || c->v[i] != NULL)
			return MN_ERR_FORMAT;
		c->v[i] = eq;
	}
	return MN_OK;
}

static cbor_item_t *elem_value(size_t i, const char *s, const uint8_t *portrait, size_t plen)
{
	char *end;
	unsigned long long v;
	cbor_item_t *t, *d;

	switch (elem_defs[i].type) {
	case V_TEXT:
		return cbor_build_string(s);
	case V_UINT:
		errno = 0;
		v = strtoull(s, &end, 10);
		return errno == 0 && end != s && *end == '\0' ? build_uint(v) : NULL;
	case V_BOOL:
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return NULL;
		return cbor_build_bool(strcmp(s, "true") == 0);
	case V_DATE: /* full-date = #6.1004(tstr) */
		if ((d = cbor_build_string(s)) == NULL)
			return NULL;
		t = cbor_build_tag(1004, d);
		cbor_decref(&d);
		return t;
	case V_PORTRAIT:
		return cbor_build_bytestring(portrait, plen);
	}
	return NULL;
}

static cbor_item_t *tdate(long long t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	cbor_item_t *s, *tag;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return NULL;
	if ((s = cbor_build_string(buf)) == NULL)
		return NULL;
	tag = cbor_build_tag(0, s);
	cbor_decref(&s);
	return tag;
}

static int build_mso(struct sim_wallet *w, const struct conf_vals *c, const uint8_t *portrait,
                     size_t plen, uint8_t **ds_der, size_t ds_len)
{
	cbor_item_t *mso = NULL, *vd = NULL, *ns_jp = NULL, *ns_iso = NULL, *dki = NULL, *vi = NULL,
	            *devkey = NULL, *devkey_t = NULL, *msob = NULL, *unprot = NULL;
	uint8_t *b = NULL, *kb = NULL, dg[32];
	size_t n, kl, i;
	int r = MN_ERR_NOMEM;

	if ((vd = cbor_new_definite_map(2)) == NULL || (ns_jp = cbor_new_definite_map(7)) == NULL ||
	    (ns_iso = cbor_new_definite_map(6)) == NULL)
		goto out;
	for (i = 0; i < N_ELEMS; i++) {
		cbor_item_t *item = cbor_new_definite_map(4), *val;
		uint8_t rnd[ITEM_RANDOM];

		if (item == NULL)
			goto out;
		if (elem_defs[i].type != V_PORTRAIT && c->v[i] == NULL) {
			fprintf(stderr, "mynumber-sim: wallet.conf has no %s\n", elem_defs[i].id);
			cbor_decref(&item);
			r = MN_ERR_FORMAT;
			goto out;
		}
		val = elem_value(i, c->v[i], portrait, plen);
		if (val == NULL || RAND_bytes(rnd, sizeof(rnd)) != 1 ||
		    map_add_s(item, "digestID", build_uint(i)) != MN_OK ||
		    map_add_s(item, "random", cbor_build_bytestring(rnd, sizeof(rnd))) != MN_OK ||
		    map_add_s(item, "elementIdentifier", cbor_build_string(elem_defs[i].id)) !=
		        MN_OK ||
		    map_add_s(item, "elementValue", val) != MN_OK) {
			cbor_decref(&item);
			r = MN_ERR_FORMAT;
			goto out;
		}
		w->items[i] = tag24(item);
		cbor_decref(&item);
		if (w->items[i] == NULL || serialize(w->items[i], &b, &n) != MN_OK)
			goto out;
		SHA256(b, n, dg);
		free(b);
		b = NULL;
		if (map_add(strcmp(elem_defs[i].ns, SIM_WALLET_NS_JP) == 0 ? ns_jp : ns_iso,
		            build_uint(i), cbor_build_bytestring(dg, sizeof(dg))) != MN_OK)
			goto out;
	}
	cbor_incref(ns_jp);
	cbor_incref(ns_iso);
	if (map_add_s(vd, SIM_WALLET_NS_JP, ns_jp) != MN_OK ||
	    map_add_s(vd, SIM_WALLET_NS_ISO, ns_iso) != MN_OK)
		goto out;
	/* deviceKey: the COSE_Key inside EReaderKeyBytes-style encoding of the device key */
	if (mn_mdoc_ereader_key_bytes(w->dev_key, &kb, &kl) != MN_OK ||
	    (devkey_t = load(kb, kl)) == NULL || (devkey = untag24(devkey_t)) == NULL)
		goto out;
	if ((dki = cbor_new_definite_map(1)) == NULL || (vi = cbor_new_definite_map(3)) == NULL ||
	    (mso = cbor_new_definite_map(6)) == NULL)
		goto out;
	cbor_incref(devkey);
	if (map_add_s(dki, "deviceKey", devkey) != MN_OK ||
	    map_add_s(vi, "signed", tdate(c->valid_from)) != MN_OK ||
	    map_add_s(vi, "validFrom", tdate(c->valid_from)) != MN_OK ||
	    map_add_s(vi, "validUntil", tdate(c->valid_until)) != MN_OK)
		goto out;
	cbor_incref(vd);
	cbor_incref(dki);
	cbor_incref(vi);
	if (map_add_s(mso, "version", cbor_build_string("1.0")) != MN_OK ||
	    map_add_s(mso, "digestAlgorithm", cbor_build_string("SHA-256")) != MN_OK ||
	    map_add_s(mso, "valueDigests", vd) != MN_OK ||
	    map_add_s(mso, "deviceKeyInfo", dki) != MN_OK ||
	    map_add_s(mso, "docType", cbor_build_string(doctype(w))) != MN_OK ||
	    map_add_s(mso, "validityInfo", vi) != MN_OK)
		goto out;
	/* payload = MobileSecurityObjectBytes */
	if ((msob = tag24(mso)) == NULL || serialize(msob, &b, &n) != MN_OK)
		goto out;
	if ((unprot = cbor_new_definite_map(1)) == NULL ||
	    map_add(unprot, cbor_build_uint8(MN_COSE_HDR_X5CHAIN),
	            cbor_build_bytestring(*ds_der, ds_len)) != MN_OK)
		goto out;
	if ((w->issuer_auth = sign1(w->ds_key, unprot, b, n, 0)) == NULL) {
		r = MN_ERR_CRYPTO;
		goto out;
	}
	r = MN_OK;
out:
	free(b);
	free(kb);
	for (i = 0; i < 10; i++) {
		cbor_item_t **p[] = {&mso, &vd,     &ns_jp,    &ns_iso, &dki,
		                     &vi,  &devkey, &devkey_t, &msob,   &unprot};
		if (*p[i] != NULL)
			cbor_decref(p[i]);
	}
	return r;
}

/* ---------------------------------------------------------------- engagements */

/* the session run on an engagement */
static void eng_end_session(struct sim_wallet_eng *e)
{
	mn_mdoc_session_free(&e->sess);
	EVP_PKEY_free(e->ereader);
	e->ereader = NULL;
	free(e->st);
	e->st = NULL;
	e->st_len = 0;
	e->ended = 0;
}

static void eng_clear(struct sim_wallet_eng *e)
{
	eng_end_session(e);
	EVP_PKEY_free(e->edev);
	free(e->de);
	free(e->hs);
	free(e->hr);
	free(e->edk);
	memset(e, 0, sizeof(*e));
}

void sim_wallet_eng_free(struct sim_wallet_eng **e)
{
	if (e == NULL || *e == NULL)
		return;
	eng_clear(*e);
	free(*e);
	*e = NULL;
}

static int dup_bytes(const uint8_t *src, size_t len, uint8_t **dst)
{
	*dst = NULL;
	if (src == NULL)
		return MN_OK;
	if ((*dst = malloc(len > 0 ? len : 1)) == NULL)
		return MN_ERR_NOMEM;
	memcpy(*dst, src, len);
	return MN_OK;
}

/* a copy of the engagement of src (no session) */
static int eng_copy(const struct sim_wallet_eng *src, struct sim_wallet_eng **ret)
{
	struct sim_wallet_eng *e = calloc(1, sizeof(*e));
	int r = MN_ERR_NOMEM;

	if (e == NULL)
		return MN_ERR_NOMEM;
	if (src->edev == NULL || EVP_PKEY_up_ref(src->edev) != 1) {
		r = MN_ERR_INTERNAL;
		goto out;
	}
	e->edev = src->edev;
	if (dup_bytes(src->de, src->de_len, &e->de) != MN_OK ||
	    dup_bytes(src->hs, src->hs_len, &e->hs) != MN_OK ||
	    dup_bytes(src->hr, src->hr_len, &e->hr) != MN_OK ||
	    dup_bytes(src->edk, src->edk_len, &e->edk) != MN_OK)
		goto out;
	e->de_len = src->de_len;
	e->hs_len = src->hs_len;
	e->hr_len = src->hr_len;
	e->edk_len = src->edk_len;
	e->has_uuid = src->has_uuid;
	memcpy(e->uuid, src->uuid, sizeof(e->uuid));
	clock_gettime(CLOCK_MONOTONIC, &e->taken);
	*ret = e;
	e = NULL;
	r = MN_OK;
out:
	sim_wallet_eng_free(&e);
	return r;
}

void sim_wallet_free(struct sim_wallet **wp)
{
	struct sim_wallet *w;
	size_t i;

	if (wp == NULL || *wp == NULL)
		return;
	w = *wp;
	for (i = 0; i < N_ELEMS; i++)
		if (w->items[i] != NULL)
			cbor_decref(&w->items[i]);
	if (w->issuer_auth != NULL)
		cbor_decref(&w->issuer_auth);
	eng_clear(&w->eng);
	sim_wallet_eng_free(&w->ble_pending);
	EVP_PKEY_free(w->ds_key);
	EVP_PKEY_free(w->dev_key);
	pthread_mutex_destroy(&w->lock);
	free(w->in);
	free(w->out);
	free(w);
	*wp = NULL;
}

int sim_wallet_card_load(const char *dir, const struct sim_wallet_run_opts *opts,
                         struct sim_card **out)
{
	struct sim_card *card = NULL;
	struct sim_wallet *w = NULL;
	struct conf_vals cv;
	char *path = NULL;
	uint8_t *text = NULL, *portrait = NULL, *ds_der = NULL;
	size_t tlen = 0, plen = 0, ds_len = 0;
	int r = MN_ERR_NOMEM;

	memset(&cv, 0, sizeof(cv));
	if ((card = calloc(1, sizeof(*card))) == NULL || (w = calloc(1, sizeof(*w))) == NULL)
		goto out;
	if (pthread_mutex_init(&w->lock, NULL) != 0) {
		free(w);
		w = NULL;
		r = MN_ERR_INTERNAL;
		goto out;
	}
	w->o = *opts;
	free(path);
	if ((path = sim_path(dir, "wallet.conf")) == NULL)
		goto out;
	if ((r = read_file(path, CONF_MAX, &text, &tlen)) != MN_OK ||
	    (r = parse_conf((char *)text, &cv)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot read %s\n", path);
		goto out;
	}
	free(path);
	if ((path = sim_path(dir, "portrait.jpg")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = read_file(path, PORTRAIT_MAX, &portrait, &plen)) != MN_OK)
		goto out;
	free(path);
	if ((path = sim_path(dir, "ds-key.pem")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = load_ec_key(path, &w->ds_key)) != MN_OK)
		goto out;
	free(path);
	if ((path = sim_path(dir, "device-key.pem")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = load_ec_key(path, &w->dev_key)) != MN_OK)
		goto out;
	free(path);
	if ((path = sim_path(dir, "ds.pem")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = sim_load_cert_der(path, &ds_der, &ds_len)) != MN_OK)
		goto out;
	if ((r = build_mso(w, &cv, portrait, plen, &ds_der, ds_len)) != MN_OK)
		goto out;
	memcpy(card->atr, wallet_atr, sizeof(wallet_atr));
	card->atr_len = sizeof(wallet_atr);
	card->wallet = w;
	w = NULL;
	sim_card_reset(card);
	*out = card;
	card = NULL;
	r = MN_OK;
out:
	if (text != NULL)
		explicit_bzero(text, tlen);
	free(text);
	free(portrait);
	OPENSSL_free(ds_der);
	free(path);
	sim_wallet_free(&w);
	free(card);
	return r;
}

/* ---------------------------------------------------------------- engagement */

/* one short NDEF record (type, id < 256, payload < 256) */
static void put_rec(uint8_t *buf, size_t *off, uint8_t flags, uint8_t tnf, const char *type,
                    const char *id, const uint8_t *pl, size_t pl_len)
{
	size_t tl = strlen(type), il = id != NULL ? strlen(id) : 0, p = *off;

	buf[p++] = (uint8_t)(flags | MN_NDEF_SR | (id != NULL ? MN_NDEF_IL : 0) | tnf);
	buf[p++] = (uint8_t)tl;
	buf[p++] = (uint8_t)pl_len;
	if (id != NULL)
		buf[p++] = (uint8_t)il;
	memcpy(buf + p, type, tl);
	p += tl;
	if (il > 0) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(buf + p, id, il);
	p += il;
	if (pl_len > 0)
		memcpy(buf + p, pl, pl_len);
	*off = p + pl_len;
}

/*
 * DeviceEngagement {0: "1.0", 1: [1, EDeviceKeyBytes]} with a fresh key; e->edk are the
 * EDeviceKeyBytes as serialized inside it (the BLE Ident is computed over those bytes).
 */
static int new_engagement(struct sim_wallet_eng *e)
{
	cbor_item_t *de = NULL, *sec = NULL, *ek = NULL;
	uint8_t *kb = NULL;
	size_t kl;
	int r = MN_ERR_CRYPTO;

	if ((e->edev = EVP_EC_gen("P-256")) == NULL ||
	    mn_mdoc_ereader_key_bytes(e->edev, &kb, &kl) != MN_OK || (ek = load(kb, kl)) == NULL)
		goto out;
	r = MN_ERR_NOMEM;
	if ((de = cbor_new_definite_map(2)) == NULL || (sec = cbor_new_definite_array(2)) == NULL ||
	    arr_add(sec, cbor_build_uint8(1)) != MN_OK)
		goto out;
	cbor_incref(ek);
	cbor_incref(sec);
	if (arr_add(sec, ek) != MN_OK ||
	    map_add(de, cbor_build_uint8(0), cbor_build_string("1.0")) != MN_OK ||
	    map_add(de, cbor_build_uint8(1), sec) != MN_OK)
		goto out;
	if ((r = serialize(de, &e->de, &e->de_len)) != MN_OK ||
	    (r = serialize(ek, &e->edk, &e->edk_len)) != MN_OK)
		goto out;
	r = MN_ERR_INTERNAL;
	if (e->edk_len > e->de_len || memmem(e->de, e->de_len, e->edk, e->edk_len) == NULL)
		goto out;
	r = e->de_len < 256 ? MN_OK : MN_ERR_TOO_LARGE;
out:
	free(kb);
	if (de != NULL)
		cbor_decref(&de);
	if (sec != NULL)
		cbor_decref(&sec);
	if (ek != NULL)
		cbor_decref(&ek);
	return r;
}

/*
 * Hs 1.5 with the carriers of --carrier, then the DeviceEngagement record (id "mdoc"):
 * nfc  - ac -> "nfc": iso.org:18013:nfc, 01 01 FF 02 FF FF
 * ble  - ac -> "0" (auxiliary reference "mdoc"): application/vnd.bluetooth.le.oob with only
 *        LE Role 01 (central only) and no UUID, as Apple Wallet answers a negotiated handover
 * both - the two, NFC first
 */
static int build_hs(struct sim_wallet *w)
{
	static const uint8_t ac_nfc[] = {0x01, 3, 'n', 'f', 'c', 0};
	static const uint8_t ac_ble[] = {0x01, 1, '0', 1, 4, 'm', 'd', 'o', 'c'};
	/* version 1, max command 255 (1 byte), max response 65535 (2 bytes) */
	static const uint8_t nfc[] = {0x01, 0x01, 0xFF, 0x02, 0xFF, 0xFF};
	static const uint8_t ble[] = {0x02, 0x1C, 0x01}; /* LE Role: central only */
	int has_nfc = w->o.carrier != SIM_CARRIER_BLE, has_ble = w->o.carrier != SIM_CARRIER_NFC;
	uint8_t inner[64], hs[80];
	size_t ni = 0, nh = 0, off = 0;
	uint8_t *buf;

	if (has_nfc)
		put_rec(inner, &ni, MN_NDEF_MB | (has_ble ? 0 : MN_NDEF_ME), MN_NDEF_TNF_WELL_KNOWN,
		        MN_NDEF_TYPE_AC, NULL, ac_nfc, sizeof(ac_nfc));
	if (has_ble)
		put_rec(inner, &ni, (has_nfc ? 0 : MN_NDEF_MB) | MN_NDEF_ME, MN_NDEF_TNF_WELL_KNOWN,
		        MN_NDEF_TYPE_AC, NULL, ac_ble, sizeof(ac_ble));
	hs[nh++] = 0x15;
	memcpy(hs + nh, inner, ni);
	nh += ni;
	if ((buf = malloc(64 + 64 + 64 + 64 + w->eng.de_len)) == NULL)
		return MN_ERR_NOMEM;
	put_rec(buf, &off, MN_NDEF_MB, MN_NDEF_TNF_WELL_KNOWN, MN_NDEF_TYPE_HS, NULL, hs, nh);
	if (has_nfc)
		put_rec(buf, &off, 0, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_NFC, "nfc", nfc,
		        sizeof(nfc));
	if (has_ble)
		put_rec(buf, &off, 0, MN_NDEF_TNF_MIME, MN_NDEF_MIME_BLE, "0", ble, sizeof(ble));
	put_rec(buf, &off, MN_NDEF_ME, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_DE, "mdoc", w->eng.de,
	        w->eng.de_len);
	free(w->eng.hs);
	w->eng.hs = buf;
	w->eng.hs_len = off;
	return MN_OK;
}

static void set_ndef(struct sim_wallet *w, const uint8_t *msg, size_t len)
{
	w->ndef[0] = (uint8_t)(len >> 8);
	w->ndef[1] = (uint8_t)len;
	memcpy(w->ndef + 2, msg, len);
	w->ndef_size = len + 2;
}

/* the TNEP service parameter for urn:nfc:sn:handover (version 1.0, single response) */
static void set_tnep_service(struct sim_wallet *w)
{
	uint8_t pl[64], msg[96];
	size_t ul = strlen(MN_TNEP_HANDOVER_SERVICE), n = 0;

	pl[0] = 0x10;
	pl[1] = (uint8_t)ul;
	memcpy(pl + 2, MN_TNEP_HANDOVER_SERVICE, ul);
	pl[2 + ul] = 0x00; /* mode: single response */
	pl[3 + ul] = 0x08; /* WT: 2 ms */
	pl[4 + ul] = 0x0f; /* N_wait */
	pl[5 + ul] = (uint8_t)(NDEF_FILE_MAX >> 8);
	pl[6 + ul] = (uint8_t)NDEF_FILE_MAX;
	put_rec(msg, &n, MN_NDEF_MB | MN_NDEF_ME, MN_NDEF_TNF_WELL_KNOWN, "Tp", NULL, pl, ul + 7);
	set_ndef(w, msg, n);
}

static void wallet_reset(struct sim_wallet *w)
{
	w->app = APP_NONE;
	w->file = FILE_NONE;
	eng_clear(&w->eng);
	free(w->in);
	free(w->out);
	w->in = w->out = NULL;
	w->in_len = w->out_len = w->out_off = 0;
	w->hs_polls = 0;
	w->ndef_size = 0;
	if (new_engagement(&w->eng) != MN_OK || build_hs(w) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot make a device engagement\n");
		return;
	}
	if (w->o.tnep) {
		w->tnep = TNEP_SERVICE;
		set_tnep_service(w);
	} else {
		set_ndef(w, w->eng.hs, w->eng.hs_len);
	}
}

void sim_wallet_reset(struct sim_wallet *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	wallet_reset(w);
	pthread_mutex_unlock(&w->lock);
}

/*
 * The reader's Handover Request: note the BLE UUID it asks the central to look for and, when
 * this wallet offers BLE, keep a copy of the engagement for the BLE central (sim_ble.c).
 */
static void on_handover_request(struct sim_wallet *w, const struct mn_handover *hr)
{
	struct mn_carrier c;
	struct mn_ble_oob oob;
	char us[MN_BLE_UUID_STRLEN + 1];

	w->eng.has_uuid = 0;
	if (mn_handover_find_carrier(hr, MN_CARRIER_BLE, &c) != MN_OK) {
		fprintf(stderr, "mynumber-sim: the Handover Request offers no BLE carrier\n");
		return;
	}
	if (mn_ble_oob_parse(c.config, c.config_len, &oob) != MN_OK || !oob.has_uuid) {
		fprintf(stderr, "mynumber-sim: the Handover Request's BLE carrier has no UUID\n");
		return;
	}
	w->eng.has_uuid = 1;
	memcpy(w->eng.uuid, oob.uuid, sizeof(oob.uuid));
	mn_ble_uuid_str(oob.uuid, us);
	fprintf(stderr, "mynumber-sim: Handover Request: BLE UUID %s, LE role %d\n", us,
	        oob.has_role ? oob.le_role : -1);
	if (w->o.carrier == SIM_CARRIER_NFC)
		return;
	sim_wallet_eng_free(&w->ble_pending);
	if (eng_copy(&w->eng, &w->ble_pending) != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot keep the engagement for BLE\n");
}

/* a complete NDEF message written by the reader (TNEP) */
static void on_ndef_written(struct sim_wallet *w)
{
	size_t len = (size_t)w->ndef[0] << 8 | w->ndef[1];
	struct mn_ndef_msg *m = malloc(sizeof(*m));
	struct mn_handover *hr = NULL;
	static const uint8_t te_ok = 0x00;
	uint8_t te[16];
	size_t n = 0;

	if (m == NULL || len == 0 || len + 2 > NDEF_FILE_MAX)
		goto out;
	if (mn_ndef_parse(w->ndef + 2, len, m) != MN_OK)
		goto out;
	if (w->tnep == TNEP_SERVICE &&
	    mn_ndef_record_is(&m->rec[0], MN_NDEF_TNF_WELL_KNOWN, "Ts")) {
		put_rec(te, &n, MN_NDEF_MB | MN_NDEF_ME, MN_NDEF_TNF_WELL_KNOWN, "Te", NULL, &te_ok,
		        1);
		set_ndef(w, te, n);
		w->tnep = TNEP_SELECTED;
	} else if (w->tnep == TNEP_SELECTED &&
	           mn_handover_parse_request(w->ndef + 2, len, &hr) == MN_OK) {
		free(w->eng.hr);
		w->eng.hr_len = 0;
		if ((w->eng.hr = malloc(len)) == NULL)
			goto out;
		memcpy(w->eng.hr, w->ndef + 2, len);
		w->eng.hr_len = len;
		on_handover_request(w, hr);
		set_ndef(w, w->eng.hs, w->eng.hs_len);
		w->hs_polls = 1; /* like Apple Wallet: NLEN = 0 once before the answer */
		w->tnep = TNEP_DONE;
	}
out:
	mn_handover_free(&hr);
	free(m);
}

int sim_wallet_ble_take(struct sim_wallet *w, const uint8_t uuid[16], long max_age_s,
                        struct sim_wallet_eng **ret)
{
	struct timespec now;
	int r = MN_ERR_NOT_FOUND;

	if (w == NULL || uuid == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	pthread_mutex_lock(&w->lock);
	if (w->ble_pending == NULL)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (max_age_s > 0 && now.tv_sec - w->ble_pending->taken.tv_sec > max_age_s) {
		fprintf(stderr, "mynumber-sim: ble: the engagement is older than %ld s: dropped\n",
		        max_age_s);
		sim_wallet_eng_free(&w->ble_pending);
		goto out;
	}
	if (memcmp(w->ble_pending->uuid, uuid, 16) != 0)
		goto out;
	*ret = w->ble_pending;
	w->ble_pending = NULL;
	r = MN_OK;
out:
	pthread_mutex_unlock(&w->lock);
	return r;
}

int sim_wallet_ble_pending_uuid(struct sim_wallet *w, uint8_t uuid[16])
{
	int r = MN_ERR_NOT_FOUND;

	if (w == NULL || uuid == NULL)
		return MN_ERR_INVALID_ARG;
	pthread_mutex_lock(&w->lock);
	if (w->ble_pending != NULL) {
		memcpy(uuid, w->ble_pending->uuid, 16);
		r = MN_OK;
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

int sim_wallet_eng_ident(const struct sim_wallet_eng *e, uint8_t ident[16])
{
	if (e == NULL || e->edk == NULL)
		return MN_ERR_INVALID_ARG;
	return mn_mdoc_ble_ident(e->edk, e->edk_len, ident);
}

/* ---------------------------------------------------------------- data retrieval */

static cbor_item_t *session_transcript(const struct sim_wallet_eng *e, const uint8_t *ek,
                                       size_t eklen)
{
	cbor_item_t *st = NULL, *ho = NULL, *de = NULL, *ret = NULL, *dbs;

	if ((st = cbor_new_definite_array(3)) == NULL || (ho = cbor_new_definite_array(2)) == NULL)
		goto out;
	if ((dbs = cbor_build_bytestring(e->de, e->de_len)) == NULL)
		goto out;
	de = cbor_build_tag(24, dbs);
	cbor_decref(&dbs);
	if (arr_add(st, de) != MN_OK)
		goto out;
	de = NULL;
	if (arr_add(st, load(ek, eklen)) != MN_OK)
		goto out;
	if (arr_add(ho, cbor_build_bytestring(e->hs, e->hs_len)) != MN_OK ||
	    arr_add(ho, e->hr != NULL ? cbor_build_bytestring(e->hr, e->hr_len)
	                              : cbor_new_null()) != MN_OK)
		goto out;
	cbor_incref(ho);
	if (arr_add(st, ho) != MN_OK)
		goto out;
	ret = st;
	st = NULL;
out:
	if (st != NULL)
		cbor_decref(&st);
	if (ho != NULL)
		cbor_decref(&ho);
	return ret;
}

static int find_elem(const char *ns, size_t nsl, const char *id, size_t idl)
{
	size_t i;

	for (i = 0; i < N_ELEMS; i++)
		if (strlen(elem_defs[i].ns) == nsl && memcmp(elem_defs[i].ns, ns, nsl) == 0 &&
		    strlen(elem_defs[i].id) == idl && memcmp(elem_defs[i].id, id, idl) == 0)
			return (int)i;
	return -1;
}

/* Test hooks: record the DeviceResponse of a session, or replay a recorded one. */
#define REPLAY_MAX (1024 * 1024)

static int replay_load(const char *path, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n;
	int r = MN_ERR_IO;

	if (f == NULL)
		return MN_ERR_IO;
	if ((b = malloc(REPLAY_MAX)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	n = fread(b, 1, REPLAY_MAX, f);
	if (n == 0 || n == REPLAY_MAX)
		goto out;
	fprintf(stderr, "mynumber-sim: replaying a recorded DeviceResponse (%zu bytes)\n", n);
	*ret = b;
	*ret_len = n;
	b = NULL;
	r = MN_OK;
out:
	free(b);
	fclose(f);
	return r;
}

static void record_save(const char *path, const uint8_t *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return;
	if (fwrite(d, 1, n, f) != n)
		fprintf(stderr, "mynumber-sim: cannot record the DeviceResponse\n");
	fclose(f);
}

/* DeviceResponse with only the requested elements of our docType */
static int device_response(struct sim_wallet *w, struct sim_wallet_eng *e, const uint8_t *req,
                           size_t rlen, uint8_t **out, size_t *olen)
{
	cbor_item_t *dr = NULL, *docs = NULL, *items_req = NULL, *ns_out = NULL, *st = NULL;
	cbor_item_t *da = NULL, *dab = NULL, *dns = NULL, *empty = NULL, *sig = NULL;
	cbor_item_t *doc = NULL, *is = NULL, *ds = NULL, *dauth = NULL, *reqs;
	uint8_t *b = NULL;
	size_t n, i, j, k;
	int r = MN_ERR_FORMAT;

	if ((dr = load(req, rlen)) == NULL || !cbor_isa_map(dr))
		goto out;
	reqs = map_get(dr, "docRequests");
	if (reqs == NULL || !cbor_isa_array(reqs) || cbor_array_size(reqs) == 0)
		goto out;
	r = MN_ERR_NOMEM;
	if ((docs = cbor_new_definite_array(1)) == NULL)
		goto out;
	for (i = 0; i < cbor_array_size(reqs) && cbor_array_size(docs) == 0; i++) {
		cbor_item_t *dreq = cbor_move(cbor_array_get(reqs, i)), *nss;
		struct cbor_pair *np;

		if (items_req != NULL)
			cbor_decref(&items_req);
		if ((items_req = untag24(map_get(dreq, "itemsRequest"))) == NULL) {
			r = MN_ERR_FORMAT;
			goto out;
		}
		if (!text_eq(map_get(items_req, "docType"), SIM_WALLET_DOCTYPE))
			continue;
		nss = map_get(items_req, "nameSpaces");
		if (nss == NULL || !cbor_isa_map(nss)) {
			r = MN_ERR_FORMAT;
			goto out;
		}
		if ((ns_out = cbor_new_indefinite_map()) == NULL)
			goto out;
		np = cbor_map_handle(nss);
		for (j = 0; j < cbor_map_size(nss); j++) {
			cbor_item_t *arr, *els = np[j].value;
			struct cbor_pair *ep;

			if (!cbor_isa_string(np[j].key) || !cbor_isa_map(els))
				continue;
			if ((arr = cbor_new_indefinite_array()) == NULL)
				goto out;
			ep = cbor_map_handle(els);
			for (k = 0; k < cbor_map_size(els); k++) {
				int ei;

				if (!cbor_isa_string(ep[k].key))
					continue;
				ei = find_elem((const char *)cbor_string_handle(np[j].key),
				               cbor_string_length(np[j].key),
				               (const char *)cbor_string_handle(ep[k].key),
				               cbor_string_length(ep[k].key));
				if (ei < 0)
					continue;
				cbor_incref(w->items[ei]);
				if (arr_add(arr, w->items[ei]) != MN_OK) {
					cbor_decref(&arr);
					goto out;
				}
			}
			if (cbor_array_size(arr) == 0) {
				cbor_decref(&arr);
				continue;
			}
			cbor_incref(np[j].key);
			if (map_add(ns_out, np[j].key, arr) != MN_OK)
				goto out;
		}
		/* definite-length copies: the verifier accepts definite lengths only */
		{
			cbor_item_t *def = cbor_new_definite_map(cbor_map_size(ns_out));
			struct cbor_pair *op = cbor_map_handle(ns_out);

			if (def == NULL)
				goto out;
			for (j = 0; j < cbor_map_size(ns_out); j++) {
				cbor_item_t *src = op[j].value,
				            *da2 = cbor_new_definite_array(cbor_array_size(src));

				if (da2 == NULL) {
					cbor_decref(&def);
					goto out;
				}
				for (k = 0; k < cbor_array_size(src); k++)
					if (arr_add(da2, cbor_array_get(src, k)) != MN_OK) {
						cbor_decref(&da2);
						cbor_decref(&def);
						goto out;
					}
				cbor_incref(op[j].key);
				if (map_add(def, op[j].key, da2) != MN_OK) {
					cbor_decref(&def);
					goto out;
				}
			}
			cbor_decref(&ns_out);
			ns_out = def;
		}
		/* DeviceAuthentication = ["DeviceAuthentication", ST, DocType, DNSBytes] */
		{
			cbor_item_t *stt = load(e->st, e->st_len);

			st = untag24(stt);
			if (stt != NULL)
				cbor_decref(&stt);
			if (st == NULL)
				goto out;
		}
		if ((empty = cbor_new_definite_map(0)) == NULL || (dns = tag24(empty)) == NULL ||
		    (da = cbor_new_definite_array(4)) == NULL ||
		    arr_add(da, cbor_build_string("DeviceAuthentication")) != MN_OK)
			goto out;
		cbor_incref(st);
		cbor_incref(dns);
		if (arr_add(da, st) != MN_OK ||
		    arr_add(da, cbor_build_string(doctype(w))) != MN_OK ||
		    arr_add(da, dns) != MN_OK || (dab = tag24(da)) == NULL ||
		    serialize(dab, &b, &n) != MN_OK)
			goto out;
		if (w->o.device_mac) {
			if ((sig = mac0(w, e, b, n)) == NULL) {
				r = MN_ERR_CRYPTO;
				goto out;
			}
		} else {
			cbor_item_t *unprot = cbor_new_definite_map(0);

			if (unprot == NULL)
				goto out;
			sig = sign1(w->dev_key, unprot, b, n, 1);
			cbor_decref(&unprot);
			if (sig == NULL) {
				r = MN_ERR_CRYPTO;
				goto out;
			}
		}
		if ((doc = cbor_new_definite_map(3)) == NULL ||
		    (is = cbor_new_definite_map(2)) == NULL ||
		    (ds = cbor_new_definite_map(2)) == NULL ||
		    (dauth = cbor_new_definite_map(1)) == NULL)
			goto out;
		cbor_incref(ns_out);
		cbor_incref(w->issuer_auth);
		cbor_incref(sig);
		cbor_incref(dns);
		cbor_incref(dauth);
		cbor_incref(is);
		cbor_incref(ds);
		if (map_add_s(is, "nameSpaces", ns_out) != MN_OK ||
		    map_add_s(is, "issuerAuth", w->issuer_auth) != MN_OK ||
		    map_add_s(dauth, w->o.device_mac ? "deviceMac" : "deviceSignature", sig) !=
		        MN_OK ||
		    map_add_s(ds, "nameSpaces", dns) != MN_OK ||
		    map_add_s(ds, "deviceAuth", dauth) != MN_OK ||
		    map_add_s(doc, "docType", cbor_build_string(doctype(w))) != MN_OK ||
		    map_add_s(doc, "issuerSigned", is) != MN_OK ||
		    map_add_s(doc, "deviceSigned", ds) != MN_OK)
			goto out;
		cbor_incref(doc);
		if (arr_add(docs, doc) != MN_OK)
			goto out;
	}
	cbor_decref(&dr);
	if ((dr = cbor_new_definite_map(3)) == NULL ||
	    map_add_s(dr, "version", cbor_build_string("1.0")) != MN_OK)
		goto out;
	if (cbor_array_size(docs) > 0) {
		cbor_incref(docs);
		if (map_add_s(dr, "documents", docs) != MN_OK)
			goto out;
	}
	if (map_add_s(dr, "status", cbor_build_uint8(0)) != MN_OK)
		goto out;
	r = serialize(dr, out, olen);
out:
	free(b);
	{
		cbor_item_t **p[] = {&dr,  &docs,  &items_req, &ns_out, &st, &da, &dab,
		                     &dns, &empty, &sig,       &doc,    &is, &ds, &dauth};
		for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
			if (*p[i] != NULL)
				cbor_decref(p[i]);
	}
	return r;
}

/* SessionData {status} or {data: encrypt(pt)} */
static int reply(struct sim_wallet_eng *e, const uint8_t *pt, size_t ptlen, int status,
                 uint8_t **out, size_t *out_len)
{
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	int r;

	if (pt != NULL && (r = mn_mdoc_session_encrypt(e->sess, pt, ptlen, &ct, &ctlen)) != MN_OK)
		goto out;
	r = mn_mdoc_session_data_build(ct, ctlen, pt != NULL ? MN_MDOC_STATUS_NONE : status, out,
	                               out_len);
out:
	free(ct);
	return r;
}

/* one SessionEstablishment / SessionData in, one SessionData out (the wallet locked) */
static int on_message(struct sim_wallet *w, struct sim_wallet_eng *e, const uint8_t *msg,
                      size_t len, uint8_t **out, size_t *out_len, unsigned *flags)
{
	const uint8_t *ek, *data;
	size_t eklen, dlen, ptlen = 0, rlen = 0;
	uint8_t *pt = NULL, *resp = NULL;
	cbor_item_t *st = NULL, *stb = NULL;
	int status, r;

	*flags = 0;
	if (e->ended || e->edev == NULL)
		return MN_ERR_FORMAT;
	if (e->sess == NULL) {
		if ((r = mn_mdoc_session_establishment_parse(msg, len, &ek, &eklen, &data,
		                                             &dlen)) != MN_OK)
			goto out;
		r = MN_ERR_NOMEM;
		if ((st = session_transcript(e, ek, eklen)) == NULL || (stb = tag24(st)) == NULL ||
		    serialize(stb, &e->st, &e->st_len) != MN_OK)
			goto out;
		if ((r = mn_mdoc_session_new_role(MN_MDOC_ROLE_MDOC, e->edev, ek, eklen, e->st,
		                                  e->st_len, &e->sess)) != MN_OK)
			goto out;
		if (w->o.device_mac &&
		    (r = mn_mdoc_cose_key_parse(ek, eklen, &e->ereader)) != MN_OK)
			goto out;
	} else {
		if ((r = mn_mdoc_session_data_parse(msg, len, &data, &dlen, &status)) != MN_OK)
			goto out;
		if (data == NULL) { /* the reader ends the session */
			e->ended = 1;
			*flags = SIM_WALLET_MSG_END | SIM_WALLET_MSG_READER_END;
			r = reply(e, NULL, 0, MN_MDOC_STATUS_TERMINATION, out, out_len);
			goto out;
		}
	}
	if (mn_mdoc_session_decrypt(e->sess, data, dlen, &pt, &ptlen) != MN_OK) {
		e->ended = 1;
		*flags = SIM_WALLET_MSG_END;
		r = reply(e, NULL, 0, MN_MDOC_STATUS_ENCRYPTION, out, out_len);
		goto out;
	}
	if (!w->o.biometric_ok) { /* the user did not pass Face ID: nothing is released */
		fprintf(stderr, "mynumber-sim: user verification failed, ending the session\n");
		e->ended = 1;
		*flags = SIM_WALLET_MSG_END;
		r = reply(e, NULL, 0, MN_MDOC_STATUS_TERMINATION, out, out_len);
		goto out;
	}
	if (w->o.replay != NULL ? replay_load(w->o.replay, &resp, &rlen) != MN_OK
	                        : device_response(w, e, pt, ptlen, &resp, &rlen) != MN_OK) {
		e->ended = 1;
		*flags = SIM_WALLET_MSG_END;
		r = reply(e, NULL, 0, MN_MDOC_STATUS_CBOR, out, out_len);
		goto out;
	}
	if (w->o.record != NULL)
		record_save(w->o.record, resp, rlen);
	r = reply(e, resp, rlen, 0, out, out_len);
out:
	if (st != NULL)
		cbor_decref(&st);
	if (stb != NULL)
		cbor_decref(&stb);
	if (pt != NULL)
		explicit_bzero(pt, ptlen);
	free(pt);
	free(resp);
	return r;
}

int sim_wallet_message(struct sim_wallet *w, struct sim_wallet_eng *e, const uint8_t *msg,
                       size_t len, uint8_t **out, size_t *out_len, unsigned *flags)
{
	int r;

	if (w == NULL || e == NULL || msg == NULL || out == NULL || out_len == NULL ||
	    flags == NULL)
		return MN_ERR_INVALID_ARG;
	pthread_mutex_lock(&w->lock);
	r = on_message(w, e, msg, len, out, out_len, flags);
	pthread_mutex_unlock(&w->lock);
	return r;
}

/* the NFC side: one message from ENVELOPE, its answer DO'53'-wrapped into w->out */
static int on_nfc_message(struct sim_wallet *w, const uint8_t *msg, size_t len)
{
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	unsigned flags;
	int r;

	if ((r = on_message(w, &w->eng, msg, len, &sd, &sdlen, &flags)) != MN_OK)
		goto out;
	free(w->out);
	w->out = NULL;
	w->out_off = 0;
	r = mn_nfc_do53_wrap(sd, sdlen, &w->out, &w->out_len);
out:
	free(sd);
	return r;
}

/* ---------------------------------------------------------------- APDUs */

struct capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data;
	size_t lc, le; /* le: 0 absent */
};

/* short or extended C-APDU */
static int parse_capdu(const uint8_t *b, size_t n, struct capdu *c)
{
	memset(c, 0, sizeof(*c));
	if (n < 4)
		return MN_ERR_FORMAT;
	c->cla = b[0];
	c->ins = b[1];
	c->p1 = b[2];
	c->p2 = b[3];
	if (n == 4)
		return MN_OK;
	if (n == 5) {
		c->le = b[4] ? b[4] : 256;
		return MN_OK;
	}
	if (b[4] != 0) {
		c->lc = b[4];
		c->data = b + 5;
		if (n == 5 + c->lc)
			return MN_OK;
		if (n == 6 + c->lc) {
			c->le = b[n - 1] ? b[n - 1] : 256;
			return MN_OK;
		}
		return MN_ERR_FORMAT;
	}
	if (n == 7) {
		c->le = (size_t)b[5] << 8 | b[6];
		c->le = c->le ? c->le : 65536;
		return MN_OK;
	}
	c->lc = (size_t)b[5] << 8 | b[6];
	c->data = b + 7;
	if (c->lc == 0)
		return MN_ERR_FORMAT;
	if (n == 7 + c->lc)
		return MN_OK;
	if (n == 9 + c->lc) {
		c->le = (size_t)b[n - 2] << 8 | b[n - 1];
		c->le = c->le ? c->le : 65536;
		return MN_OK;
	}
	return MN_ERR_FORMAT;
}

/* next piece of w->out: SW 9000 when it is the last, else 61xx */
static uint16_t send_out(struct sim_wallet *w, size_t le, uint8_t *out, size_t *n)
{
	size_t rest = w->out_len - w->out_off, k = rest;

	if (le == 0)
		le = 256;
	if (k > le)
		k = le;
	if (k > SIM_WALLET_CHUNK)
		k = SIM_WALLET_CHUNK;
	memcpy(out, w->out + w->out_off, k);
	w->out_off += k;
	*n = k;
	rest -= k;
	if (rest == 0)
		return 0x9000;
	return (uint16_t)(0x6100 | (rest > 255 ? 0 : rest));
}

static uint16_t dispatch(struct sim_wallet *w, const struct capdu *c, uint8_t *out, size_t *n)
{
	uint8_t cc[15] = {0x00,
	                  0x0F,
	                  0x20,
	                  NDEF_MLE >> 8,
	                  NDEF_MLE & 0xff,
	                  NDEF_MLC >> 8,
	                  NDEF_MLC & 0xff,
	                  0x04,
	                  0x06,
	                  0xE1,
	                  0x04,
	                  NDEF_FILE_MAX >> 8,
	                  NDEF_FILE_MAX & 0xff,
	                  0x00,
	                  0xFF};
	const uint8_t *file;
	size_t size, off, k;

	cc[14] = w->o.tnep ? 0x00 : 0xFF;
	if ((c->cla & ~0x10) != 0x00)
		return 0x6E00;
	if (c->ins == 0xA4 && c->p1 == 0x04) {
		w->file = FILE_NONE;
		if (c->lc == sizeof(aid_ndef) && memcmp(c->data, aid_ndef, c->lc) == 0)
			w->app = APP_NDEF;
		else if (c->lc == sizeof(aid_mdoc) && memcmp(c->data, aid_mdoc, c->lc) == 0)
			w->app = APP_MDOC;
		else
			return 0x6A82;
		return 0x9000;
	}
	if (c->ins == 0xA4 && c->p1 == 0x00) {
		if (w->app != APP_NDEF || c->lc != 2)
			return 0x6A82;
		if (c->data[0] == 0xE1 && c->data[1] == 0x03)
			w->file = FILE_CC;
		else if (c->data[0] == 0xE1 && c->data[1] == 0x04)
			w->file = FILE_NDEF;
		else
			return 0x6A82;
		return 0x9000;
	}
	if (c->ins == 0xB0) {
		if (w->file == FILE_NONE)
			return 0x6986;
		off = (size_t)c->p1 << 8 | c->p2;
		if (w->file == FILE_CC) {
			file = cc;
			size = sizeof(cc);
		} else {
			file = w->ndef;
			size = w->ndef_size;
			if (w->hs_polls > 0 && off == 0) { /* Hs not ready yet: NLEN = 0 */
				w->hs_polls--;
				k = c->le < 2 ? c->le : 2;
				memset(out, 0, k);
				*n = k;
				return 0x9000;
			}
		}
		if (off > size)
			return 0x6B00;
		k = size - off;
		if (k > c->le)
			k = c->le;
		if (k > NDEF_MLE)
			k = NDEF_MLE;
		memcpy(out, file + off, k);
		*n = k;
		return 0x9000;
	}
	if (c->ins == 0xD6) {
		if (w->file != FILE_NDEF || !w->o.tnep)
			return 0x6982;
		off = (size_t)c->p1 << 8 | c->p2;
		if (c->lc == 0 || off > NDEF_FILE_MAX || c->lc > NDEF_FILE_MAX - off)
			return 0x6700;
		memcpy(w->ndef + off, c->data, c->lc);
		if (off + c->lc > w->ndef_size)
			w->ndef_size = off + c->lc;
		if (off == 0 && c->lc >= 2 && (w->ndef[0] | w->ndef[1]) != 0)
			on_ndef_written(w);
		return 0x9000;
	}
	if (c->ins == 0xC3) {
		const uint8_t *val;
		size_t vlen;

		if (w->app != APP_MDOC)
			return 0x6985;
		if (c->lc > IN_MAX - w->in_len)
			return 0x6700;
		if (w->in_len + c->lc > 0) {
			uint8_t *t = realloc(w->in, w->in_len + c->lc);

			if (t == NULL)
				return 0x6F00;
			w->in = t;
		}
		if (c->lc)
			memcpy(w->in + w->in_len, c->data, c->lc);
		w->in_len += c->lc;
		if (c->cla & 0x10)
			return 0x9000;
		k = w->in_len;
		w->in_len = 0;
		if (mn_nfc_do53_unwrap(w->in, k, &val, &vlen) != MN_OK)
			return 0x6A80;
		if (on_nfc_message(w, val, vlen) != MN_OK)
			return 0x6F00;
		return send_out(w, c->le, out, n);
	}
	if (c->ins == 0xC0) {
		if (w->app != APP_MDOC || w->out == NULL || w->out_off >= w->out_len)
			return 0x6985;
		return send_out(w, c->le, out, n);
	}
	return 0x6D00;
}

static int wallet_apdu(struct sim_wallet *w, const uint8_t *in, size_t in_len, uint8_t *out,
                       size_t *out_len)
{
	struct capdu c;
	size_t n = 0;
	uint16_t sw;

	if (w->gone)
		return MN_ERR_TOKEN_REMOVED;
	if (w->app == APP_MDOC && w->o.absent_after > 0 && ++w->apdus > w->o.absent_after) {
		fprintf(stderr, "mynumber-sim: the phone leaves the field\n");
		w->gone = 1;
		return MN_ERR_TOKEN_REMOVED;
	}
	if (parse_capdu(in, in_len, &c) != MN_OK)
		sw = 0x6700;
	else
		sw = dispatch(w, &c, out, &n);
	if (sw != 0x9000 && sw >> 8 != 0x61)
		n = 0;
	out[n] = (uint8_t)(sw >> 8);
	out[n + 1] = (uint8_t)sw;
	*out_len = n + 2;
	return MN_OK;
}

int sim_wallet_apdu(struct sim_wallet *w, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len)
{
	int r;

	if (w == NULL || in == NULL || out == NULL || out_len == NULL)
		return MN_ERR_INVALID_ARG;
	pthread_mutex_lock(&w->lock);
	r = wallet_apdu(w, in, in_len, out, out_len);
	pthread_mutex_unlock(&w->lock);
	return r;
}
