/* Unit tests: the mdoc reader flow (SessionTranscript, ItemsRequest, DeviceRequest, refusals). */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mdoc/mn_ndef.h"
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "mdoc/mn_nfc.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_mdoc_reader.h"
#include "mdoc/mn_mdoc_session.h"
#include "mn_err.h"

#include "vectors.h"

/* ---------------------------------------------------------------- handover vectors */
static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
}

/* EReaderKeyBytes exactly as in the Annex D SessionEstablishment */
static void annexd_ereader(struct buf *se, const uint8_t **ek, size_t *ek_len)
{
	const uint8_t *data;
	size_t dlen;

	*se = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_ESTABLISHMENT");
	assert_int_equal(
	    mn_mdoc_session_establishment_parse(se->p, se->n, ek, ek_len, &data, &dlen), MN_OK);
}

static void test_transcript_annexd(void **state)
{
	struct buf de = need(ANNEX_D, "ISO_18013_5_ANNEX_D_DEVICE_ENGAGEMENT_NFC");
	struct buf hs = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_SELECT");
	struct buf hr = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_REQUEST");
	struct buf want = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_TRANSCRIPT_BYTES");
	struct buf se;
	const uint8_t *ek;
	size_t ek_len, st_len = 0, mine_len = 0;
	uint8_t *st = NULL, *mine = NULL;
	EVP_PKEY *k = NULL;

	(void)state;
	annexd_ereader(&se, &ek, &ek_len);
	assert_int_equal(mn_mdoc_session_transcript_build(de.p, de.n, ek, ek_len, hs.p, hs.n, hr.p,
	                                                  hr.n, &st, &st_len),
	                 MN_OK);
	assert_int_equal(st_len, want.n);
	assert_memory_equal(st, want.p, want.n);

	/* the reader's own EReaderKeyBytes encoding of that key is the Annex D one */
	assert_int_equal(mn_mdoc_cose_key_parse(ek, ek_len, &k), MN_OK);
	assert_int_equal(mn_mdoc_ereader_key_bytes(k, &mine, &mine_len), MN_OK);
	assert_int_equal(mine_len, ek_len);
	assert_memory_equal(mine, ek, ek_len);

	/* refusals: EReaderKey not in tag-24 form, missing DE or Hs, hr length without bytes */
	assert_int_equal(mn_mdoc_session_transcript_build(de.p, de.n, ek + 2, ek_len - 2, hs.p,
	                                                  hs.n, NULL, 0, &st, &st_len),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_session_transcript_build(NULL, 0, ek, ek_len, hs.p, hs.n, NULL, 0,
	                                                  &st, &st_len),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_session_transcript_build(de.p, de.n, ek, ek_len, NULL, 0, NULL, 0,
	                                                  &st, &st_len),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_session_transcript_build(de.p, de.n, ek, ek_len, hs.p, hs.n, NULL,
	                                                  5, &st, &st_len),
	                 MN_ERR_INVALID_ARG);
	EVP_PKEY_free(k);
	free(mine);
	free(st);
	buf_free(&se);
	buf_free(&de);
	buf_free(&hs);
	buf_free(&hr);
	buf_free(&want);
}

/* Static handover: Handover = [Hs, null]; everything else as in the negotiated form. */
static void test_transcript_static(void **state)
{
	struct buf de = need(ANNEX_D, "ISO_18013_5_ANNEX_D_DEVICE_ENGAGEMENT_NFC");
	struct buf hs = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_SELECT");
	struct buf se;
	const uint8_t *ek;
	size_t ek_len, st_len = 0;
	uint8_t *st = NULL;
	cbor_item_t *outer = NULL, *in = NULL, *arr = NULL, *ho, *de_tag;

	(void)state;
	annexd_ereader(&se, &ek, &ek_len);
	assert_int_equal(mn_mdoc_session_transcript_build(de.p, de.n, ek, ek_len, hs.p, hs.n, NULL,
	                                                  0, &st, &st_len),
	                 MN_OK);
	assert_int_equal(mn_cbor_load_strict(st, st_len, &outer, NULL, 0), MN_OK);
	assert_true(cbor_isa_tag(outer));
	assert_int_equal(cbor_tag_value(outer), 24);
	in = cbor_tag_item(outer);
	assert_true(cbor_isa_bytestring(in));
	assert_int_equal(mn_cbor_load_strict(cbor_bytestring_handle(in), cbor_bytestring_length(in),
	                                     &arr, NULL, 0),
	                 MN_OK);
	assert_true(cbor_isa_array(arr));
	assert_int_equal(cbor_array_size(arr), 3);
	de_tag = cbor_array_handle(arr)[0];
	assert_true(cbor_isa_tag(de_tag));
	ho = cbor_array_handle(arr)[2];
	assert_true(cbor_isa_array(ho));
	assert_int_equal(cbor_array_size(ho), 2);
	assert_true(cbor_isa_bytestring(cbor_array_handle(ho)[0]));
	assert_int_equal(cbor_bytestring_length(cbor_array_handle(ho)[0]), hs.n);
	assert_memory_equal(cbor_bytestring_handle(cbor_array_handle(ho)[0]), hs.p, hs.n);
	assert_true(cbor_is_null(cbor_array_handle(ho)[1]));
	cbor_decref(&arr);
	cbor_decref(&in);
	cbor_decref(&outer);
	free(st);
	buf_free(&se);
	buf_free(&de);
	buf_free(&hs);
}

/* {ns: {id: bool}} of an ItemsRequest: whether every (ns, id) of a is in b, and the docType */
static size_t items_count(const cbor_item_t *ir)
{
	const cbor_item_t *nss = mn_cbor_map_get(ir, "nameSpaces");
	size_t i, n = 0;

	assert_non_null(nss);
	for (i = 0; i < cbor_map_size(nss); i++)
		n += cbor_map_size(cbor_map_handle(nss)[i].value);
	return n;
}

static int items_has(const cbor_item_t *ir, const char *ns, size_t nsl, const char *id, size_t idl)
{
	const cbor_item_t *nss = mn_cbor_map_get(ir, "nameSpaces");
	struct cbor_pair *p, *q;
	size_t i, j;

	for (i = 0, p = cbor_map_handle(nss); i < cbor_map_size(nss); i++) {
		if (cbor_string_length(p[i].key) != nsl ||
		    memcmp(cbor_string_handle(p[i].key), ns, nsl) != 0)
			continue;
		for (j = 0, q = cbor_map_handle(p[i].value); j < cbor_map_size(p[i].value); j++)
			if (cbor_string_length(q[j].key) == idl &&
			    memcmp(cbor_string_handle(q[j].key), id, idl) == 0)
				return cbor_is_bool(q[j].value) ? 1 : -1;
	}
	return 0;
}

static void test_items_request_annexd(void **state)
{
	static const struct mn_mdoc_element el[] = {
	    {"org.iso.18013.5.1", "family_name"},        {"org.iso.18013.5.1", "document_number"},
	    {"org.iso.18013.5.1", "driving_privileges"}, {"org.iso.18013.5.1", "issue_date"},
	    {"org.iso.18013.5.1", "expiry_date"},        {"org.iso.18013.5.1", "portrait"},
	};
	struct buf want = need(ANNEX_D, "ISO_18013_5_ANNEX_D_ITEMS_REQUEST");
	cbor_item_t *a = NULL, *b = NULL, *nss, *ns;
	uint8_t *ir = NULL;
	size_t ir_len = 0, i;
	struct cbor_pair *p;

	(void)state;
	assert_int_equal(mn_mdoc_items_request_build("org.iso.18013.5.1.mDL", el, 6, &ir, &ir_len),
	                 MN_OK);
	assert_int_equal(mn_cbor_load_strict(want.p, want.n, &a, NULL, 0), MN_OK);
	assert_int_equal(mn_cbor_load_strict(ir, ir_len, &b, NULL, 0), MN_OK);
	assert_int_equal(cbor_map_size(b), 2);
	assert_true(mn_cbor_text_eq(mn_cbor_map_get(b, "docType"), "org.iso.18013.5.1.mDL"));
	assert_true(mn_cbor_text_eq(mn_cbor_map_get(a, "docType"), "org.iso.18013.5.1.mDL"));
	/* same elements both ways; ours never asks to retain */
	assert_int_equal(items_count(a), 6);
	assert_int_equal(items_count(b), 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(
		    items_has(a, el[i].ns, strlen(el[i].ns), el[i].id, strlen(el[i].id)), 1);
		assert_int_equal(
		    items_has(b, el[i].ns, strlen(el[i].ns), el[i].id, strlen(el[i].id)), 1);
	}
	nss = mn_cbor_map_get(b, "nameSpaces");
	ns = cbor_map_handle(nss)[0].value;
	for (i = 0, p = cbor_map_handle(ns); i < cbor_map_size(ns); i++)
		assert_false(cbor_get_bool(p[i].value));
	/* the Annex D encoding with every intentToRetain false is byte for byte ours (0xf5 can
	 * only be the simple value true here: all strings are ASCII) */
	for (i = 0; i < want.n; i++)
		if (want.p[i] == 0xf5)
			want.p[i] = 0xf4;
	assert_int_equal(ir_len, want.n);
	assert_memory_equal(ir, want.p, want.n);
	cbor_decref(&a);
	cbor_decref(&b);
	free(ir);
	buf_free(&want);
}

static void test_device_request(void **state)
{
	struct buf items = need(ANNEX_D, "ISO_18013_5_ANNEX_D_ITEMS_REQUEST");
	struct buf annex = need(ANNEX_D, "ISO_18013_5_ANNEX_D_DEVICE_REQUEST");
	cbor_item_t *dr = NULL, *docs, *doc, *tag, *bs;
	uint8_t *req = NULL, wrap[16];
	size_t req_len = 0, hl;

	(void)state;
	assert_int_equal(mn_mdoc_device_request_build(items.p, items.n, &req, &req_len), MN_OK);
	assert_int_equal(mn_cbor_load_strict(req, req_len, &dr, NULL, 0), MN_OK);
	assert_int_equal(cbor_map_size(dr), 2);
	assert_true(mn_cbor_text_eq(mn_cbor_map_get(dr, "version"), "1.0"));
	docs = mn_cbor_map_get(dr, "docRequests");
	assert_non_null(docs);
	assert_int_equal(cbor_array_size(docs), 1);
	doc = cbor_array_handle(docs)[0];
	assert_int_equal(cbor_map_size(doc), 1);
	tag = mn_cbor_map_get(doc, "itemsRequest");
	assert_non_null(tag);
	assert_int_equal(cbor_tag_value(tag), 24);
	bs = cbor_tag_item(tag);
	assert_int_equal(cbor_bytestring_length(bs), items.n);
	assert_memory_equal(cbor_bytestring_handle(bs), items.p, items.n);
	cbor_decref(&bs);
	cbor_decref(&dr);
	/* the Annex D DeviceRequest starts the same way up to its readerAuth: version, then the
	 * itemsRequest bytes encoded identically */
	assert_true(annex.n > 30 && req_len > 30);
	assert_memory_equal(annex.p + 1, req + 1, 22); /* "version": "1.0", "docRequests" */
	wrap[0] = 0xd8;
	wrap[1] = 0x18;
	hl = mn_cbor_head(wrap + 2, 2, items.n);
	assert_non_null(memmem(annex.p, annex.n, wrap, 2 + hl));
	assert_non_null(memmem(req, req_len, wrap, 2 + hl));
	assert_int_equal(mn_mdoc_device_request_build(NULL, 0, &req, &req_len), MN_ERR_INVALID_ARG);
	free(req);
	buf_free(&items);
	buf_free(&annex);
}

static int dead_transmit(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t rcap,
                         size_t *rlen)
{
	(void)ctx;
	(void)capdu;
	(void)clen;
	(void)rapdu;
	(void)rcap;
	(void)rlen;
	return MN_ERR_TOKEN_REMOVED;
}

static void test_refuse_individual_number(void **state)
{
	static const struct mn_mdoc_element el[] = {
	    {MN_MDOC_JP_NAMESPACE, "full_name_unicode"},
	    {MN_MDOC_JP_NAMESPACE, "individual_number_unicode"},
	};
	static const struct mn_mdoc_element other_ns[] = {
	    {"org.iso.23220.1", "individual_number_unicode"},
	};
	struct mn_mdoc_reader_opts o;
	struct mn_mdoc_reader *r = NULL;
	STACK_OF(X509) *iaca = sk_X509_new_null();
	uint8_t *ir = NULL;
	size_t ir_len = 0;
	char why[256] = "";

	(void)state;
	assert_non_null(iaca);
	assert_int_equal(mn_mdoc_reader_check_elements(el, 2, why, sizeof(why)),
	                 MN_ERR_INVALID_ARG);
	assert_non_null(strstr(why, "My Number Act"));
	assert_int_equal(mn_mdoc_reader_check_elements(other_ns, 1, NULL, 0), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_items_request_build(MN_MDOC_JP_DOCTYPE, el, 2, &ir, &ir_len),
	                 MN_ERR_INVALID_ARG);
	assert_null(ir);
	memset(&o, 0, sizeof(o));
	o.transmit = dead_transmit;
	o.iaca = iaca;
	o.elements = el;
	o.n_elements = 2;
	assert_int_equal(mn_mdoc_reader_new(&o, &r), MN_ERR_INVALID_ARG);
	assert_null(r);
	o.elements = other_ns;
	o.n_elements = 1;
	assert_int_equal(mn_mdoc_reader_new(&o, &r), MN_ERR_INVALID_ARG);
	o.elements = NULL; /* the defaults are fine */
	o.n_elements = 0;
	assert_int_equal(mn_mdoc_reader_new(&o, &r), MN_OK);
	mn_mdoc_reader_free(&r);
	assert_null(r);
	sk_X509_free(iaca);
}

static void test_elements_bad(void **state)
{
	static const struct mn_mdoc_element dup[] = {
	    {MN_MDOC_JP_NAMESPACE, "full_name_unicode"},
	    {MN_MDOC_JP_NAMESPACE, "full_name_unicode"},
	};
	static const struct mn_mdoc_element empty[] = {{MN_MDOC_JP_NAMESPACE, ""}};
	static const struct mn_mdoc_element nul[] = {{NULL, "x"}};
	struct mn_mdoc_element many[MN_MDOC_READER_MAX_ELEMENTS + 1];
	char names[MN_MDOC_READER_MAX_ELEMENTS + 1][8], longname[MN_MDOC_READER_MAX_NAME + 2];
	const struct mn_mdoc_element *d;
	uint8_t *ir = NULL;
	size_t n = 0, i, ir_len = 0;
	cbor_item_t *item = NULL;

	(void)state;
	assert_int_equal(mn_mdoc_reader_check_elements(dup, 2, NULL, 0), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_reader_check_elements(empty, 1, NULL, 0), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_reader_check_elements(nul, 1, NULL, 0), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_mdoc_reader_check_elements(dup, 0, NULL, 0), MN_ERR_INVALID_ARG);
	for (i = 0; i <= MN_MDOC_READER_MAX_ELEMENTS; i++) {
		snprintf(names[i], sizeof(names[i]), "e%zu", i);
		many[i].ns = "ns";
		many[i].id = names[i];
	}
	assert_int_equal(mn_mdoc_reader_check_elements(many, MN_MDOC_READER_MAX_ELEMENTS, NULL, 0),
	                 MN_OK);
	assert_int_equal(
	    mn_mdoc_reader_check_elements(many, MN_MDOC_READER_MAX_ELEMENTS + 1, NULL, 0),
	    MN_ERR_INVALID_ARG);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	many[0].id = longname;
	assert_int_equal(mn_mdoc_reader_check_elements(many, 1, NULL, 0), MN_ERR_INVALID_ARG);

	/* the defaults: allowed, all in the JP namespace, and two namespaces group correctly */
	d = mn_mdoc_reader_default_elements(&n);
	assert_true(n >= 2);
	assert_int_equal(mn_mdoc_reader_check_elements(d, n, NULL, 0), MN_OK);
	for (i = 0; i < n; i++)
		assert_string_equal(d[i].ns, MN_MDOC_JP_NAMESPACE);
	many[0].ns = "a";
	many[0].id = "x";
	many[1].ns = "b";
	many[1].id = "y";
	many[2].ns = "a";
	many[2].id = "z";
	assert_int_equal(mn_mdoc_items_request_build(MN_MDOC_JP_DOCTYPE, many, 3, &ir, &ir_len),
	                 MN_OK);
	assert_int_equal(mn_cbor_load_strict(ir, ir_len, &item, NULL, 0), MN_OK);
	assert_int_equal(cbor_map_size(mn_cbor_map_get(item, "nameSpaces")), 2);
	assert_int_equal(items_count(item), 3);
	assert_int_equal(items_has(item, "a", 1, "z", 1), 1);
	assert_int_equal(items_has(item, "b", 1, "y", 1), 1);
	cbor_decref(&item);
	free(ir);
}

/* ---------------------------------------------------------------- a scripted fake phone */

enum phone_mode { PHONE_TERMINATE, PHONE_GARBAGE, PHONE_BLE_ONLY, PHONE_TNEP };

struct phone {
	enum phone_mode mode;
	EVP_PKEY *dev;   /* EDeviceKey */
	uint8_t de[200]; /* DeviceEngagement */
	size_t de_len;
	uint8_t ndef[512]; /* NLEN || Handover Select */
	size_t ndef_len;
	const uint8_t *file; /* selected file */
	size_t file_len;
	uint8_t hs[512]; /* the Handover Select (NLEN || message) */
	size_t hs_len;
	int tnep_stage;   /* 0 Tp in the file, 1 Te (after Ts), 2 Hs (after Hr) */
	uint8_t wr[1024]; /* UPDATE BINARY target */
	uint8_t hr[1024]; /* the Handover Request as written */
	size_t hr_len;
	uint8_t in[4096]; /* ENVELOPE data so far */
	size_t in_len;
	uint8_t *out; /* DO'53' answer still to send */
	size_t out_len, out_off;
	struct mn_mdoc_session *sess;
	int got_request, got_termination, locked_polls;
};

static const uint8_t phone_cc[15] = {0x00, 0x0f, 0x20, 0x00, 0xff, 0x00, 0xff, 0x04,
                                     0x06, 0xe1, 0x04, 0x04, 0x00, 0x00, 0x00};

static size_t put_rec(uint8_t *b, size_t p, uint8_t hdr, const char *type, const char *id,
                      const uint8_t *pl, size_t pl_len)
{
	size_t tl = strlen(type), il = id != NULL ? strlen(id) : 0;

	assert_true(pl_len < 256);
	b[p++] = hdr | MN_NDEF_SR | (id != NULL ? MN_NDEF_IL : 0);
	b[p++] = (uint8_t)tl;
	b[p++] = (uint8_t)pl_len;
	if (id != NULL)
		b[p++] = (uint8_t)il;
	memcpy(b + p, type, tl);
	p += tl;
	if (il) {
		memcpy(b + p, id, il);
		p += il;
	}
	memcpy(b + p, pl, pl_len);
	return p + pl_len;
}

static void phone_init(struct phone *ph, enum phone_mode mode)
{
	static const uint8_t nfc_cfg[] = {0x01, 0x01, 0xff, 0x02, 0x01, 0x00};
	static const uint8_t ble_cfg[] = {0x02, 0x1c, 0x01};
	uint8_t *ek = NULL, hs[100], msg[400];
	size_t ek_len = 0, hl, ml;

	memset(ph, 0, sizeof(*ph));
	ph->mode = mode;
	ph->locked_polls = 2;
	assert_non_null(ph->dev = EVP_EC_gen("P-256"));
	assert_int_equal(mn_mdoc_ereader_key_bytes(ph->dev, &ek, &ek_len), MN_OK);
	memcpy(ph->de,
	       "\xa2\x00\x63"
	       "1.0"
	       "\x01\x82\x01",
	       9);
	assert_true(9 + ek_len <= sizeof(ph->de));
	memcpy(ph->de + 9, ek, ek_len);
	ph->de_len = 9 + ek_len;
	free(ek);
	/* Hs 1.5 { ac(active, ref "c", 0 aux) } then the carrier record "c" and the DE "mdoc" */
	hs[0] = 0x15;
	hl = put_rec(hs, 1, MN_NDEF_MB | MN_NDEF_ME | MN_NDEF_TNF_WELL_KNOWN, "ac", NULL,
	             (const uint8_t *)"\x01\x01"
	                              "c"
	                              "\x00",
	             4);
	ml = put_rec(msg, 0, MN_NDEF_MB | MN_NDEF_TNF_WELL_KNOWN, "Hs", NULL, hs, hl);
	if (mode == PHONE_BLE_ONLY)
		ml = put_rec(msg, ml, MN_NDEF_TNF_MIME, MN_NDEF_MIME_BLE, "c", ble_cfg,
		             sizeof(ble_cfg));
	else
		ml = put_rec(msg, ml, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_NFC, "c", nfc_cfg,
		             sizeof(nfc_cfg));
	ml = put_rec(msg, ml, MN_NDEF_ME | MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_DE, "mdoc", ph->de,
	             ph->de_len);
	ph->hs[0] = (uint8_t)(ml >> 8);
	ph->hs[1] = (uint8_t)ml;
	memcpy(ph->hs + 2, msg, ml);
	ph->hs_len = ml + 2;
	if (mode == PHONE_TNEP) {
		/* Tp for urn:nfc:sn:handover first (as Apple Wallet) */
		ph->ndef_len =
		    unhex("00 1f d1 02 1a 54 70 10 13 75726e3a6e66633a736e3a68616e646f766572 "
		          "00 14 0f ff ff",
		          ph->ndef);
		assert_int_equal(ph->ndef_len, 33);
	} else {
		memcpy(ph->ndef, ph->hs, ph->hs_len);
		ph->ndef_len = ph->hs_len;
	}
}

/* A complete NDEF message written by the reader (TNEP): Ts, then the Handover Request. */
static void phone_written(struct phone *ph, const uint8_t *m, size_t len)
{
	static const uint8_t te[] = {0x00, 0x06, 0xd1, 0x02, 0x01, 'T', 'e', 0x00};
	struct mn_handover *hr = NULL;
	struct mn_carrier car;

	if (ph->tnep_stage == 0) {
		assert_true(len > 5 && m[3] == 'T' && m[4] == 's');
		memcpy(ph->ndef, te, sizeof(te));
		ph->ndef_len = sizeof(te);
		ph->tnep_stage = 1;
		return;
	}
	assert_int_equal(ph->tnep_stage, 1);
	assert_int_equal(mn_handover_parse_request(m, len, &hr), MN_OK);
	/* the reader offers NFC data retrieval */
	assert_int_equal(mn_handover_find_carrier(hr, MN_CARRIER_NFC, &car), MN_OK);
	mn_handover_free(&hr);
	assert_true(len <= sizeof(ph->hr));
	memcpy(ph->hr, m, len);
	ph->hr_len = len;
	memcpy(ph->ndef, ph->hs, ph->hs_len);
	ph->ndef_len = ph->hs_len;
	ph->tnep_stage = 2;
}

static void phone_free(struct phone *ph)
{
	EVP_PKEY_free(ph->dev);
	mn_mdoc_session_free(&ph->sess);
	free(ph->out);
}

static size_t sw(uint8_t *r, size_t n, uint16_t s)
{
	r[n] = (uint8_t)(s >> 8);
	r[n + 1] = (uint8_t)s;
	return n + 2;
}

/* One complete message from the reader; the answer (bare) into *ans. */
static void phone_message(struct phone *ph, const uint8_t *m, size_t len, uint8_t **ans,
                          size_t *ans_len)
{
	const uint8_t *ek, *data, *hsb;
	size_t ek_len, dlen, st_len = 0, pt_len = 0, ct_len = 0, hs_len;
	uint8_t *st = NULL, *pt = NULL, *ct = NULL;
	int status;

	if (ph->sess == NULL) {
		struct mn_handover *hs = NULL;

		assert_int_equal(
		    mn_mdoc_session_establishment_parse(m, len, &ek, &ek_len, &data, &dlen),
		    MN_OK); /* the phone's own transcript, from its own bytes: [Hs, null] static,
		               [Hs, Hr] TNEP */
		assert_int_equal(mn_handover_parse_select(ph->hs + 2, ph->hs_len - 2, &hs), MN_OK);
		hsb = mn_handover_bytes(hs, &hs_len);
		assert_int_equal(mn_mdoc_session_transcript_build(
		                     ph->de, ph->de_len, ek, ek_len, hsb, hs_len,
		                     ph->mode == PHONE_TNEP ? ph->hr : NULL,
		                     ph->mode == PHONE_TNEP ? ph->hr_len : 0, &st, &st_len),
		                 MN_OK);
		mn_handover_free(&hs);
		assert_int_equal(mn_mdoc_session_new_role(MN_MDOC_ROLE_MDOC, ph->dev, ek, ek_len,
		                                          st, st_len, &ph->sess),
		                 MN_OK);
		assert_int_equal(mn_mdoc_session_decrypt(ph->sess, data, dlen, &pt, &pt_len),
		                 MN_OK);
		assert_non_null(memmem(pt, pt_len, MN_MDOC_JP_DOCTYPE, strlen(MN_MDOC_JP_DOCTYPE)));
		assert_non_null(memmem(pt, pt_len, "full_name_unicode", 17));
		assert_null(memmem(pt, pt_len, "individual_number", 17));
		ph->got_request = 1;
		if (ph->mode != PHONE_GARBAGE) {
			assert_int_equal(mn_mdoc_session_data_build(
			                     NULL, 0, MN_MDOC_STATUS_TERMINATION, ans, ans_len),
			                 MN_OK);
		} else {
			/* an empty map: not a DeviceResponse */
			assert_int_equal(mn_mdoc_session_encrypt(ph->sess, (const uint8_t *)"\xa0",
			                                         1, &ct, &ct_len),
			                 MN_OK);
			assert_int_equal(mn_mdoc_session_data_build(ct, ct_len, MN_MDOC_STATUS_NONE,
			                                            ans, ans_len),
			                 MN_OK);
		}
	} else {
		assert_int_equal(mn_mdoc_session_data_parse(m, len, &data, &dlen, &status), MN_OK);
		assert_null(data);
		assert_int_equal(status, MN_MDOC_STATUS_TERMINATION);
		ph->got_termination = 1;
		*ans = calloc(1, 1);
		*ans_len = 0;
	}
	free(st);
	free(pt);
	free(ct);
}

static int phone_transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap,
                          size_t *rlen)
{
	struct phone *ph = ctx;
	static const uint8_t ndef_app[] = {0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01};
	static const uint8_t mdoc_app[] = {0xa0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00};
	uint8_t *ans = NULL;
	size_t ans_len = 0, off, n, lc;

	assert_true(clen >= 4 && rcap >= 258);
	if (c[1] == 0xa4 && c[2] == 0x04) { /* SELECT by AID */
		assert_true(clen >= 12 && c[4] == 7);
		if (memcmp(c + 5, ndef_app, 7) == 0) {
			if (ph->locked_polls > 0) {
				ph->locked_polls--;
				*rlen = sw(r, 0, 0x6a82);
				return MN_OK;
			}
			*rlen = sw(r, 0, 0x9000);
		} else if (memcmp(c + 5, mdoc_app, 7) == 0) {
			*rlen = sw(r, 0, 0x9000);
		} else {
			*rlen = sw(r, 0, 0x6a82);
		}
		return MN_OK;
	}
	if (c[1] == 0xa4 && c[2] == 0x00) { /* SELECT FILE */
		assert_true(clen >= 7 && c[4] == 2);
		if (c[5] == 0xe1 && c[6] == 0x03) {
			ph->file = phone_cc;
			ph->file_len = sizeof(phone_cc);
		} else if (c[5] == 0xe1 && c[6] == 0x04) {
			ph->file = ph->ndef;
			ph->file_len = 0; /* the NDEF file changes: read ndef_len */
		} else {
			*rlen = sw(r, 0, 0x6a82);
			return MN_OK;
		}
		*rlen = sw(r, 0, 0x9000);
		return MN_OK;
	}
	if (c[1] == 0xb0) { /* READ BINARY */
		size_t fl;

		assert_non_null(ph->file);
		assert_int_equal(clen, 5);
		fl = ph->file == ph->ndef ? ph->ndef_len : ph->file_len;
		off = (size_t)c[2] << 8 | c[3];
		n = c[4] ? c[4] : 256;
		assert_true(off <= fl);
		if (n > fl - off)
			n = fl - off;
		memcpy(r, ph->file + off, n);
		*rlen = sw(r, n, 0x9000);
		return MN_OK;
	}
	if (c[1] == 0xd6) { /* UPDATE BINARY of the NDEF file */
		assert_true(ph->file == ph->ndef && clen >= 5 && clen == 5u + c[4]);
		off = (size_t)c[2] << 8 | c[3];
		assert_true(off + c[4] <= sizeof(ph->wr));
		memcpy(ph->wr + off, c + 5, c[4]);
		lc = (size_t)ph->wr[0] << 8 | ph->wr[1];
		if (off == 0 && c[4] >= 2 && lc != 0) {
			assert_true(lc + 2 <= sizeof(ph->wr));
			phone_written(ph, ph->wr + 2, lc);
		}
		*rlen = sw(r, 0, 0x9000);
		return MN_OK;
	}
	if (c[1] == 0xc3) { /* ENVELOPE (short) */
		lc = c[4];
		assert_true(clen == 5 + lc || clen == 6 + lc);
		assert_true(ph->in_len + lc <= sizeof(ph->in));
		memcpy(ph->in + ph->in_len, c + 5, lc);
		ph->in_len += lc;
		if (c[0] == 0x10) {
			*rlen = sw(r, 0, 0x9000);
			return MN_OK;
		}
		{
			const uint8_t *v;
			size_t vl;

			assert_int_equal(mn_nfc_do53_unwrap(ph->in, ph->in_len, &v, &vl), MN_OK);
			phone_message(ph, v, vl, &ans, &ans_len);
		}
		ph->in_len = 0;
		free(ph->out);
		assert_int_equal(mn_nfc_do53_wrap(ans, ans_len, &ph->out, &ph->out_len), MN_OK);
		free(ans);
		ph->out_off = 0;
	} else if (c[1] != 0xc0) {
		*rlen = sw(r, 0, 0x6d00);
		return MN_OK;
	}
	/* the answer, 256 bytes at a time (ENVELOPE's own response, then GET RESPONSE) */
	n = ph->out_len - ph->out_off < 256 ? ph->out_len - ph->out_off : 256;
	memcpy(r, ph->out + ph->out_off, n);
	ph->out_off += n;
	off = ph->out_len - ph->out_off;
	*rlen = sw(r, n, off == 0 ? 0x9000 : (uint16_t)(0x6100 | (off >= 256 ? 0 : off)));
	return MN_OK;
}

static void no_sleep(void *ctx, uint32_t usec)
{
	(void)ctx;
	(void)usec;
}

static int run_with(struct phone *ph, enum mn_mdoc_check *chk, char *why, size_t whylen)
{
	struct mn_mdoc_reader_opts o;
	struct mn_nfc_opts nfc;
	struct mn_mdoc_reader *r = NULL;
	struct mn_mdoc_result *res = NULL;
	STACK_OF(X509) *iaca = sk_X509_new_null();
	int rc;

	assert_non_null(iaca);
	memset(&nfc, 0, sizeof(nfc));
	nfc.sleep = no_sleep;
	memset(&o, 0, sizeof(o));
	o.transmit = phone_transmit;
	o.transmit_ctx = ph;
	o.nfc = &nfc;
	o.iaca = iaca;
	o.select_polls = 5;
	assert_int_equal(mn_mdoc_reader_new(&o, &r), MN_OK);
	rc = mn_mdoc_reader_run(r, &res, chk, why, whylen);
	assert_null(res);
	mn_mdoc_reader_free(&r);
	sk_X509_free(iaca);
	return rc;
}

static void test_phone_terminates(void **state)
{
	struct phone ph;
	enum mn_mdoc_check chk;
	char why[256];

	(void)state;
	phone_init(&ph, PHONE_TERMINATE);
	assert_int_equal(run_with(&ph, &chk, why, sizeof(why)), MN_MDOC_READER_ERR_TERMINATED);
	assert_int_equal(chk, MN_MDOC_CHECK_NONE);
	assert_non_null(strstr(why, "the phone ended the session"));
	assert_true(ph.got_request);
	assert_false(ph.got_termination); /* it ended the session itself */
	phone_free(&ph);
}

static void test_phone_bad_response(void **state)
{
	struct phone ph;
	enum mn_mdoc_check chk;
	char why[256];

	(void)state;
	phone_init(&ph, PHONE_GARBAGE);
	assert_true(run_with(&ph, &chk, why, sizeof(why)) < 0);
	assert_int_not_equal(chk, MN_MDOC_CHECK_NONE);
	assert_true(ph.got_request);
	assert_true(ph.got_termination); /* the reader ended the session */
	phone_free(&ph);
}

static void test_phone_tnep(void **state)
{
	struct phone ph;
	enum mn_mdoc_check chk;
	char why[256];

	(void)state;
	phone_init(&ph, PHONE_TNEP);
	/* the phone decrypts the request only if both transcripts, [Hs, Hr], agree */
	assert_int_equal(run_with(&ph, &chk, why, sizeof(why)), MN_MDOC_READER_ERR_TERMINATED);
	assert_int_equal(ph.tnep_stage, 2);
	assert_true(ph.got_request);
	phone_free(&ph);
}

static void test_phone_ble_only(void **state)
{
	struct phone ph;
	enum mn_mdoc_check chk;
	char why[256];

	(void)state;
	phone_init(&ph, PHONE_BLE_ONLY);
	assert_int_equal(run_with(&ph, &chk, why, sizeof(why)), MN_ERR_UNSUPPORTED);
	assert_non_null(strstr(why, "no NFC data retrieval"));
	assert_false(ph.got_request);
	phone_free(&ph);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transcript_annexd),
	    cmocka_unit_test(test_transcript_static),
	    cmocka_unit_test(test_items_request_annexd),
	    cmocka_unit_test(test_device_request),
	    cmocka_unit_test(test_refuse_individual_number),
	    cmocka_unit_test(test_elements_bad),
	    cmocka_unit_test(test_phone_terminates),
	    cmocka_unit_test(test_phone_bad_response),
	    cmocka_unit_test(test_phone_tnep),
	    cmocka_unit_test(test_phone_ble_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
