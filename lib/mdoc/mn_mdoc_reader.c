#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mn_cbor.h"
#include "mn_err.h"
#include "mn_mdoc_reader.h"
#include "mn_mdoc_session.h"

#define DEFAULT_SELECT_POLLS 25
#define DEFAULT_SELECT_WAIT  200000u
#define MAX_SELECT_POLLS     600
#define MAX_BUILD            (1024u * 1024)

struct mn_mdoc_reader {
	struct mn_mdoc_reader_opts o;
	struct mn_nfc_opts nfc;
	int has_nfc;
	struct mn_mdoc_element *el;
	char *names; /* storage of el's strings */
};

static const struct mn_mdoc_element default_elements[] = {
    {MN_MDOC_JP_NAMESPACE, "full_name_unicode"},
    {MN_MDOC_JP_NAMESPACE, "birth_date_unicode"},
};

const struct mn_mdoc_element *mn_mdoc_reader_default_elements(size_t *n)
{
	if (n != NULL)
		*n = sizeof(default_elements) / sizeof(default_elements[0]);
	return default_elements;
}

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t whylen, const char *fmt,
                                                      ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int name_ok(const char *s)
{
	size_t n;

	return s != NULL && (n = strnlen(s, MN_MDOC_READER_MAX_NAME + 1)) > 0 &&
	       n <= MN_MDOC_READER_MAX_NAME;
}

int mn_mdoc_reader_check_elements(const struct mn_mdoc_element *e, size_t n, char *why,
                                  size_t whylen)
{
	size_t i, j;
	int rc = MN_ERR_INVALID_ARG;

	if (e == NULL || n == 0 || n > MN_MDOC_READER_MAX_ELEMENTS) {
		say(why, whylen, "between 1 and %u elements must be requested",
		    MN_MDOC_READER_MAX_ELEMENTS);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!name_ok(e[i].ns) || !name_ok(e[i].id)) {
			say(why, whylen, "element %zu: empty or over-long namespace or identifier",
			    i);
			goto out;
		}
		if (strcmp(e[i].id, MN_MDOC_JP_INDIVIDUAL_NUMBER) == 0) {
			say(why, whylen, "%s", MN_MDOC_READER_FORBIDDEN_MSG);
			goto out;
		}
		for (j = 0; j < i; j++)
			if (strcmp(e[i].ns, e[j].ns) == 0 && strcmp(e[i].id, e[j].id) == 0) {
				say(why, whylen, "element %s:%s requested twice", e[i].ns, e[i].id);
				goto out;
			}
	}
	rc = MN_OK;
out:
	return rc;
}

/* ---------------------------------------------------------------- CBOR writer */

struct wbuf {
	uint8_t *p;
	size_t n, cap;
	int err;
};

static void w_mem(struct wbuf *w, const void *s, size_t n)
{
	uint8_t *p;
	size_t cap;

	if (w->err != MN_OK || n == 0)
		return;
	if (n > MAX_BUILD - w->n) {
		w->err = MN_ERR_TOO_LARGE;
		return;
	}
	if (w->n + n > w->cap) {
		cap = w->cap ? w->cap : 256;
		while (cap < w->n + n)
			cap *= 2;
		if ((p = realloc(w->p, cap)) == NULL) {
			w->err = MN_ERR_NOMEM;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->n, s, n);
	w->n += n;
}

static void w_head(struct wbuf *w, unsigned major, uint64_t arg)
{
	uint8_t h[9];

	w_mem(w, h, mn_cbor_head(h, major, arg));
}

static void w_tstr(struct wbuf *w, const char *s)
{
	size_t n = strlen(s);

	w_head(w, 3, n);
	w_mem(w, s, n);
}

static void w_bstr(struct wbuf *w, const uint8_t *b, size_t n)
{
	w_head(w, 2, n);
	w_mem(w, b, n);
}

/* #6.24(bstr b) */
static void w_tag24(struct wbuf *w, const uint8_t *b, size_t n)
{
	w_head(w, 6, 24);
	w_bstr(w, b, n);
}

static int w_finish(struct wbuf *w, uint8_t **out, size_t *outlen)
{
	int rc = w->err;

	if (rc == MN_OK && w->n == 0)
		rc = MN_ERR_INTERNAL;
	if (rc != MN_OK) {
		free(w->p);
		w->p = NULL;
		return rc;
	}
	*out = w->p;
	*outlen = w->n;
	w->p = NULL;
	return MN_OK;
}

int mn_mdoc_session_transcript_build(const uint8_t *de, size_t de_len, const uint8_t *ereader_key,
                                     size_t ek_len, const uint8_t *hs, size_t hs_len,
                                     const uint8_t *hr, size_t hr_len, uint8_t **out,
                                     size_t *outlen)
{
	struct wbuf st = {NULL, 0, 0, MN_OK}, w = {NULL, 0, 0, MN_OK};
	int rc = MN_ERR_INVALID_ARG;

	if (de == NULL || de_len == 0 || ereader_key == NULL || ek_len < 3 || hs == NULL ||
	    hs_len == 0 || (hr == NULL && hr_len != 0) || (hr != NULL && hr_len == 0) ||
	    out == NULL || outlen == NULL)
		goto out;
	/* EReaderKeyBytes must be a tag-24 byte string: D8 18 then a bstr head */
	if (ereader_key[0] != 0xD8 || ereader_key[1] != 0x18 || (ereader_key[2] >> 5) != 2)
		goto out;
	w_head(&st, 4, 3);
	w_tag24(&st, de, de_len);
	w_mem(&st, ereader_key, ek_len);
	w_head(&st, 4, 2);
	w_bstr(&st, hs, hs_len);
	if (hr != NULL)
		w_bstr(&st, hr, hr_len);
	else
		w_head(&st, 7, 22); /* null */
	if ((rc = st.err) != MN_OK)
		goto out;
	w_tag24(&w, st.p, st.n);
	rc = w_finish(&w, out, outlen);
out:
	free(st.p);
	free(w.p);
	return rc;
}

int mn_mdoc_items_request_build(const char *doctype, const struct mn_mdoc_element *e, size_t n,
                                uint8_t **out, size_t *outlen)
{
	struct wbuf w = {NULL, 0, 0, MN_OK};
	size_t i, j, k, nns = 0, cnt;
	int rc = MN_ERR_INVALID_ARG;

	if (!name_ok(doctype) || out == NULL || outlen == NULL)
		goto out;
	if ((rc = mn_mdoc_reader_check_elements(e, n, NULL, 0)) != MN_OK)
		goto out;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(e[i].ns, e[j].ns) != 0; j++)
			;
		nns += j == i;
	}
	w_head(&w, 5, 2);
	w_tstr(&w, "docType");
	w_tstr(&w, doctype);
	w_tstr(&w, "nameSpaces");
	w_head(&w, 5, nns);
	for (i = 0; i < n; i++) {
		for (j = 0; j < i && strcmp(e[i].ns, e[j].ns) != 0; j++)
			;
		if (j < i)
			continue; /* namespace already written */
		for (cnt = 0, k = i; k < n; k++)
			cnt += strcmp(e[k].ns, e[i].ns) == 0;
		w_tstr(&w, e[i].ns);
		w_head(&w, 5, cnt);
		for (k = i; k < n; k++) {
			if (strcmp(e[k].ns, e[i].ns) != 0)
				continue;
			w_tstr(&w, e[k].id);
			w_head(&w, 7, 20); /* intentToRetain: false */
		}
	}
	rc = w_finish(&w, out, outlen);
out:
	free(w.p);
	return rc;
}

int mn_mdoc_device_request_build(const uint8_t *items, size_t items_len, uint8_t **out,
                                 size_t *outlen)
{
	struct wbuf w = {NULL, 0, 0, MN_OK};
	int rc = MN_ERR_INVALID_ARG;

	if (items == NULL || items_len == 0 || out == NULL || outlen == NULL)
		goto out;
	w_head(&w, 5, 2);
	w_tstr(&w, "version");
	w_tstr(&w, "1.0");
	w_tstr(&w, "docRequests");
	w_head(&w, 4, 1);
	w_head(&w, 5, 1);
	w_tstr(&w, "itemsRequest");
	w_tag24(&w, items, items_len);
	rc = w_finish(&w, out, outlen);
out:
	free(w.p);
	return rc;
}

/* ---------------------------------------------------------------- reader */

int mn_mdoc_reader_new(const struct mn_mdoc_reader_opts *opts, struct mn_mdoc_reader **ret)
{
	struct mn_mdoc_reader *r = NULL;
	const struct mn_mdoc_element *e;
	size_t n, i, total = 0, a, b;
	char *q;
	int rc = MN_ERR_INVALID_ARG;

	if (opts == NULL || ret == NULL || opts->transmit == NULL || opts->iaca == NULL ||
	    opts->select_polls > MAX_SELECT_POLLS || opts->select_wait_us > 5000000u)
		goto out;
	e = opts->elements;
	n = opts->n_elements;
	if (e == NULL)
		e = mn_mdoc_reader_default_elements(&n);
	if ((rc = mn_mdoc_reader_check_elements(e, n, NULL, 0)) != MN_OK)
		goto out;
	for (i = 0; i < n; i++)
		total += strlen(e[i].ns) + strlen(e[i].id) + 2;
	rc = MN_ERR_NOMEM;
	if ((r = calloc(1, sizeof(*r))) == NULL || (r->el = calloc(n, sizeof(*r->el))) == NULL ||
	    (r->names = malloc(total)) == NULL)
		goto out;
	for (q = r->names, i = 0; i < n; i++) {
		a = strlen(e[i].ns) + 1;
		b = strlen(e[i].id) + 1;
		memcpy(q, e[i].ns, a);
		r->el[i].ns = q;
		q += a;
		memcpy(q, e[i].id, b);
		r->el[i].id = q;
		q += b;
	}
	r->o = *opts;
	r->o.elements = r->el;
	r->o.n_elements = n;
	if (opts->nfc != NULL) {
		r->nfc = *opts->nfc;
		r->has_nfc = 1;
	}
	r->o.nfc = NULL;
	if (r->o.select_polls == 0)
		r->o.select_polls = DEFAULT_SELECT_POLLS;
	if (r->o.select_wait_us == 0)
		r->o.select_wait_us = DEFAULT_SELECT_WAIT;
	*ret = r;
	r = NULL;
	rc = MN_OK;
out:
	mn_mdoc_reader_free(&r);
	return rc;
}

void mn_mdoc_reader_free(struct mn_mdoc_reader **pr)
{
	struct mn_mdoc_reader *r;

	if (pr == NULL || (r = *pr) == NULL)
		return;
	free(r->el);
	free(r->names);
	free(r);
	*pr = NULL;
}

static void wait_us(const struct mn_mdoc_reader *r)
{
	struct timespec ts;
	uint32_t us = r->o.select_wait_us;

	if (r->has_nfc && r->nfc.sleep != NULL) {
		r->nfc.sleep(r->nfc.sleep_ctx, us);
		return;
	}
	ts.tv_sec = (time_t)(us / 1000000u);
	ts.tv_nsec = (long)(us % 1000000u) * 1000L;
	nanosleep(&ts, NULL);
}

/*
 * DeviceEngagement = {0: version, 1: [cipherSuite 1, EDeviceKeyBytes], ...}: *key points at
 * the COSE_Key inside the tag-24 bstr (borrowed from *item, which the caller cbor_decref()s).
 */
static int engagement_key(const uint8_t *de, size_t len, cbor_item_t **item, const uint8_t **key,
                          size_t *key_len, char *why, size_t whylen)
{
	cbor_item_t *root = NULL, *sec, *cs, *ek, *in = NULL;
	int64_t suite;
	int rc;

	if ((rc = mn_cbor_load_strict(de, len, &root, why, whylen)) != MN_OK)
		goto out;
	rc = MN_ERR_FORMAT;
	if (!cbor_isa_map(root) || (sec = mn_cbor_map_get_int(root, 1)) == NULL ||
	    !cbor_isa_array(sec) || cbor_array_size(sec) < 2) {
		say(why, whylen, "DeviceEngagement has no Security array");
		goto out;
	}
	cs = cbor_array_handle(sec)[0];
	ek = cbor_array_handle(sec)[1];
	if (mn_cbor_get_int(cs, &suite) != MN_OK || suite != 1) {
		say(why, whylen, "DeviceEngagement: unsupported cipher suite");
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if (!cbor_isa_tag(ek) || cbor_tag_value(ek) != 24 || (in = cbor_tag_item(ek)) == NULL ||
	    !cbor_isa_bytestring(in) || !cbor_bytestring_is_definite(in) ||
	    cbor_bytestring_length(in) == 0) {
		say(why, whylen, "DeviceEngagement: EDeviceKeyBytes is not #6.24(bstr)");
		goto out;
	}
	*key = cbor_bytestring_handle(in);
	*key_len = cbor_bytestring_length(in);
	*item = root;
	root = NULL;
	rc = MN_OK;
out:
	if (in != NULL)
		cbor_decref(&in); /* the tag still holds it */
	if (root != NULL)
		cbor_decref(&root);
	return rc;
}

/* A fresh key on the curve of peer. */
static int same_curve_key(const uint8_t *cose_key, size_t len, EVP_PKEY **ret)
{
	EVP_PKEY *peer = NULL, *k = NULL;
	char group[64];
	size_t gl = 0;
	int rc;

	if ((rc = mn_mdoc_cose_key_parse(cose_key, len, &peer)) != MN_OK)
		goto out;
	rc = MN_ERR_CRYPTO;
	if (!EVP_PKEY_get_utf8_string_param(peer, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                    &gl) ||
	    gl == 0 || gl >= sizeof(group))
		goto out;
	if ((k = EVP_EC_gen(group)) == NULL)
		goto out;
	*ret = k;
	rc = MN_OK;
out:
	EVP_PKEY_free(peer);
	return rc;
}

static int engage(struct mn_mdoc_reader *r, struct mn_nfc *nfc, const uint8_t ble_uuid[16],
                  struct mn_handover **hs, struct mn_handover **hr, char *why, size_t whylen)
{
	struct mn_hr_params p;
	unsigned i;
	int rc;

	for (i = 0;; i++) {
		rc = mn_nfc_ndef_select(nfc);
		if (rc != MN_ERR_NOT_FOUND || i + 1 >= r->o.select_polls)
			break;
		wait_us(r); /* a locked Android answers 6A82 */
	}
	if (rc != MN_OK) {
		say(why, whylen, "the phone offers no NFC engagement (NDEF tag): %s%s",
		    mn_strerror(rc),
		    rc == MN_ERR_NOT_FOUND ? " (phone locked or wallet not open?)" : "");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	if (RAND_bytes((unsigned char *)&p.random, sizeof(p.random)) != 1) {
		rc = MN_ERR_CRYPTO;
		goto out;
	}
	if (r->o.ble_open != NULL) {
		/* BLE OOB: we are the peripheral (mdoc central client mode), our service UUID */
		p.ble = 1;
		p.le_role = 0x00;
		memcpy(p.uuid, ble_uuid, sizeof(p.uuid));
	}
	p.nfc = 1;
	p.nfc_max_cmd = r->has_nfc && r->nfc.extended ? 0xFFFF : 0xFF;
	p.nfc_max_resp = r->has_nfc && r->nfc.extended ? 0xFFFF : 0x100;
	if ((rc = mn_nfc_engage(nfc, &p, hs, hr)) != MN_OK)
		say(why, whylen, "NFC engagement failed: %s", mn_strerror(rc));
out:
	return rc;
}

enum carrier_choice { USE_NFC, USE_BLE };

/*
 * NFC data retrieval when the phone offers it; else BLE in mdoc central client mode when it
 * offers BLE, we offered BLE (ble_open) and the handover was negotiated (the UUID is ours).
 */
static int choose_carrier(const struct mn_mdoc_reader *r, const struct mn_handover *hs,
                          const struct mn_handover *hr, enum carrier_choice *use, char *why,
                          size_t whylen)
{
	struct mn_carrier car;
	struct mn_ble_oob oob;

	if (mn_handover_find_carrier(hs, MN_CARRIER_NFC, &car) == MN_OK) {
		*use = USE_NFC;
		return MN_OK;
	}
	if (mn_handover_find_carrier(hs, MN_CARRIER_BLE, &car) != MN_OK) {
		say(why, whylen,
		    "the phone offers no NFC data retrieval and no BLE (only Wi-Fi Aware?): not "
		    "supported");
		return MN_ERR_UNSUPPORTED;
	}
	if (r->o.ble_open == NULL) {
		say(why, whylen,
		    "the phone offers no NFC data retrieval, only BLE (e.g. Apple Wallet), and BLE "
		    "is off here");
		return MN_ERR_UNSUPPORTED;
	}
	if (hr == NULL) {
		say(why, whylen,
		    "the phone offers no NFC data retrieval, only BLE in a static handover (no "
		    "negotiated service UUID): not supported");
		return MN_ERR_UNSUPPORTED;
	}
	/* LE role 0x00: the phone can only be the peripheral (mdoc peripheral server mode) */
	if (mn_ble_oob_parse(car.config, car.config_len, &oob) == MN_OK && oob.has_role &&
	    oob.le_role == 0x00) {
		say(why, whylen,
		    "the phone offers no NFC data retrieval, only BLE as a peripheral (mdoc "
		    "peripheral server mode): not supported");
		return MN_ERR_UNSUPPORTED;
	}
	/* a UUID in the phone's configuration is not used: in central client mode after a
	 * negotiated handover the service UUID is the one of our Handover Request */
	*use = USE_BLE;
	return MN_OK;
}

/* EDeviceKeyBytes (#6.24(bstr)) as it stands in de: shortest heads make the rebuilt bytes
 * the received ones; checked against de all the same */
static int edevice_key_bytes(const uint8_t *de, size_t de_len, const uint8_t *key, size_t key_len,
                             uint8_t **out, size_t *outlen)
{
	struct wbuf w = {NULL, 0, 0, MN_OK};
	int rc;

	w_tag24(&w, key, key_len);
	if ((rc = w.err) != MN_OK)
		goto out;
	rc = MN_ERR_FORMAT;
	if (memmem(de, de_len, w.p, w.n) == NULL)
		goto out;
	rc = w_finish(&w, out, outlen);
out:
	free(w.p);
	return rc;
}

/* every verified element belongs to a document of type doctype */
static int only_doctype(const struct mn_mdoc_result *res, const char *doctype)
{
	size_t i, n = mn_mdoc_result_count(res);
	const char *dt, *ns, *id;
	const cbor_item_t *v;

	for (i = 0; i < n; i++)
		if (mn_mdoc_result_get(res, i, &dt, &ns, &id, &v) != MN_OK ||
		    strcmp(dt, doctype) != 0)
			return 0;
	return 1;
}

int mn_mdoc_reader_run(struct mn_mdoc_reader *r, struct mn_mdoc_result **ret,
                       enum mn_mdoc_check *failed, char *why, size_t whylen)
{
	struct mn_mdoc_result *res = NULL;
	struct mn_nfc *nfc = NULL;
	struct mn_handover *hs = NULL, *hr = NULL;
	enum carrier_choice use = USE_NFC;
	struct mn_mdoc_transport tr = {NULL, NULL};
	struct mn_mdoc_session *sess = NULL;
	cbor_item_t *de_item = NULL;
	EVP_PKEY *rkey = NULL;
	const uint8_t *de, *hsb, *hrb = NULL, *edk = NULL, *data = NULL;
	size_t de_len = 0, hs_len = 0, hr_len = 0, edk_len = 0, dlen = 0;
	uint8_t *ek = NULL, *st = NULL, *items = NULL, *req = NULL, *ct = NULL, *msg = NULL,
	        *ans = NULL, *resp = NULL, *term = NULL, *tans = NULL, *edkb = NULL;
	size_t ek_len = 0, st_len = 0, items_len = 0, req_len = 0, ct_len = 0, msg_len = 0,
	       ans_len = 0, resp_len = 0, term_len = 0, tans_len = 0, edkb_len = 0;
	uint8_t ble_uuid[16];
	enum mn_mdoc_check chk = MN_MDOC_CHECK_NONE;
	int status = MN_MDOC_STATUS_NONE, sent = 0, rc = MN_ERR_INVALID_ARG;

	say(why, whylen, "%s", "");
	if (r == NULL || ret == NULL)
		goto out;
	if ((rc = mn_nfc_new(r->o.transmit, r->o.transmit_ctx, r->has_nfc ? &r->nfc : NULL,
	                     &nfc)) != MN_OK)
		goto out;
	/* a fresh random (version 4) service UUID per session, offered in the Handover Request */
	if (RAND_bytes(ble_uuid, sizeof(ble_uuid)) != 1) {
		rc = MN_ERR_CRYPTO;
		goto out;
	}
	ble_uuid[6] = (uint8_t)((ble_uuid[6] & 0x0f) | 0x40);
	ble_uuid[8] = (uint8_t)((ble_uuid[8] & 0x3f) | 0x80);
	if ((rc = engage(r, nfc, ble_uuid, &hs, &hr, why, whylen)) != MN_OK)
		goto out;
	if ((rc = choose_carrier(r, hs, hr, &use, why, whylen)) != MN_OK)
		goto out;
	hsb = mn_handover_bytes(hs, &hs_len);
	if (hr != NULL)
		hrb = mn_handover_bytes(hr, &hr_len);
	if ((de = mn_handover_engagement(hs, &de_len)) == NULL || de_len == 0) {
		rc = MN_ERR_FORMAT;
		say(why, whylen, "Handover Select without DeviceEngagement");
		goto out;
	}
	if ((rc = engagement_key(de, de_len, &de_item, &edk, &edk_len, why, whylen)) != MN_OK)
		goto out;
	if ((rc = same_curve_key(edk, edk_len, &rkey)) != MN_OK) {
		say(why, whylen, "EDeviceKey unusable: %s", mn_strerror(rc));
		goto out;
	}
	if ((rc = mn_mdoc_ereader_key_bytes(rkey, &ek, &ek_len)) != MN_OK ||
	    (rc = mn_mdoc_session_transcript_build(de, de_len, ek, ek_len, hsb, hs_len, hrb, hr_len,
	                                           &st, &st_len)) != MN_OK ||
	    (rc = mn_mdoc_session_new(rkey, edk, edk_len, st, st_len, &sess)) != MN_OK ||
	    (rc = mn_mdoc_items_request_build(MN_MDOC_JP_DOCTYPE, r->o.elements, r->o.n_elements,
	                                      &items, &items_len)) != MN_OK ||
	    (rc = mn_mdoc_device_request_build(items, items_len, &req, &req_len)) != MN_OK ||
	    (rc = mn_mdoc_session_encrypt(sess, req, req_len, &ct, &ct_len)) != MN_OK ||
	    (rc = mn_mdoc_session_establishment_build(ek, ek_len, ct, ct_len, &msg, &msg_len)) !=
	        MN_OK) {
		say(why, whylen, "session establishment: %s", mn_strerror(rc));
		goto out;
	}
	if (use == USE_BLE) {
		if ((rc = edevice_key_bytes(de, de_len, edk, edk_len, &edkb, &edkb_len)) != MN_OK) {
			say(why, whylen, "EDeviceKeyBytes not found in the DeviceEngagement");
			goto out;
		}
		if ((rc = r->o.ble_open(r->o.ble_ctx, ble_uuid, edkb, edkb_len, &tr, why,
		                        whylen)) != MN_OK) {
			tr.ops = NULL;
			if (why != NULL && whylen > 0 && why[0] == '\0')
				say(why, whylen, "BLE: %s", mn_strerror(rc));
			goto out;
		}
	} else {
		if ((rc = mn_nfc_mdoc_select(nfc)) != MN_OK) {
			say(why, whylen, "SELECT of the mdoc data retrieval application failed: %s",
			    mn_strerror(rc));
			goto out;
		}
		mn_nfc_transport(nfc, &tr);
	}
	if ((rc = mn_mdoc_transport_send(&tr, msg, msg_len)) != MN_OK ||
	    (rc = mn_mdoc_transport_receive(&tr, &ans, &ans_len)) != MN_OK) {
		if (use == USE_BLE)
			say(why, whylen, "BLE data retrieval: %s",
			    rc == MN_ERR_TOKEN_REMOVED ? "the phone disconnected"
			    : rc == MN_ERR_EOF         ? "the phone ended the session"
			    : rc == MN_ERR_TIMEOUT     ? "the phone did not answer in time"
			                               : mn_strerror(rc));
		else
			say(why, whylen, "data retrieval: %s", mn_strerror(rc));
		goto out;
	}
	sent = 1;
	if ((rc = mn_mdoc_session_data_parse(ans, ans_len, &data, &dlen, &status)) != MN_OK) {
		say(why, whylen, "the phone's SessionData is malformed");
		goto out;
	}
	if (data == NULL) {
		rc = MN_MDOC_READER_ERR_TERMINATED;
		say(why, whylen,
		    "the phone ended the session (user verification refused?) (status %d%s)",
		    status,
		    status == MN_MDOC_STATUS_ENCRYPTION ? ": session encryption error"
		    : status == MN_MDOC_STATUS_CBOR     ? ": CBOR decoding error"
		                                        : ": session termination");
		goto out;
	}
	if ((rc = mn_mdoc_session_decrypt(sess, data, dlen, &resp, &resp_len)) != MN_OK) {
		say(why, whylen, "cannot decrypt the DeviceResponse: %s", mn_strerror(rc));
		goto out;
	}
	rc = mn_mdoc_verify(resp, resp_len, st, st_len, r->o.allow_device_mac ? rkey : NULL,
	                    r->o.iaca, r->o.at != 0 ? r->o.at : time(NULL), r->o.skew, &res, &chk,
	                    why, whylen);
	/* only the document type we asked for: a verified document of another type is not a
	 * My Number Card, whoever signed it */
	if (rc == MN_OK && !only_doctype(res, MN_MDOC_JP_DOCTYPE)) {
		rc = MN_ERR_FORMAT;
		chk = MN_MDOC_CHECK_DOCTYPE;
		say(why, whylen, "the phone answered with a document other than the requested %s",
		    MN_MDOC_JP_DOCTYPE);
	}
	if (rc == MN_OK) {
		*ret = res;
		res = NULL;
	}
	/* without the reader key, only a deviceMac fails device auth with MN_ERR_INVALID_ARG */
	if (rc == MN_ERR_INVALID_ARG && chk == MN_MDOC_CHECK_DEVICE_AUTH &&
	    !r->o.allow_device_mac) {
		rc = MN_MDOC_READER_ERR_MAC_REFUSED;
		if (why != NULL && whylen > 0) {
			size_t l = strnlen(why, whylen);

			if (l < whylen)
				snprintf(why + l, whylen - l,
				         " (deviceMac is refused unless allowed)");
		}
	}
out:
	mn_mdoc_result_free(&res);
	if (sent && status != MN_MDOC_STATUS_TERMINATION &&
	    mn_mdoc_session_data_build(NULL, 0, MN_MDOC_STATUS_TERMINATION, &term, &term_len) ==
	        MN_OK) {
		/* best effort; over BLE a notification without an answer */
		if (use == USE_BLE)
			(void)mn_mdoc_transport_send(&tr, term, term_len);
		else
			(void)mn_nfc_mdoc_exchange(nfc, term, term_len, &tans, &tans_len);
	}
	if (use == USE_BLE && tr.ops != NULL)
		mn_mdoc_transport_close(&tr); /* State 0x02, unregister, free */
	if (failed != NULL)
		*failed = chk;
	if (resp != NULL)
		explicit_bzero(resp, resp_len);
	if (req != NULL)
		explicit_bzero(req, req_len);
	free(resp);
	free(req);
	free(term);
	free(tans);
	free(edkb);
	free(ans);
	free(msg);
	free(ct);
	free(items);
	free(st);
	free(ek);
	mn_mdoc_session_free(&sess); /* wipes SKReader / SKDevice */
	EVP_PKEY_free(rkey);         /* OpenSSL clears the private scalar */
	if (de_item != NULL)
		cbor_decref(&de_item);
	mn_handover_free(&hs);
	mn_handover_free(&hr);
	mn_nfc_free(&nfc);
	return rc;
}
