/* Unit tests: NDEF, connection handover, TNEP, Type 4 tag and NFC data retrieval (fake card). */
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
#include "mdoc/mn_nfc.h"
#include "mn_err.h"

#include "vectors.h"

/* ---------------------------------------------------------------- handover vectors */

static void test_annexd_select(void **state)
{
	struct buf hs = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_SELECT");
	struct buf de = need(ANNEX_D, "ISO_18013_5_ANNEX_D_DEVICE_ENGAGEMENT_NFC");
	struct mn_handover *h = NULL;
	struct mn_carrier c;
	struct mn_ble_oob ble;
	const uint8_t *p;
	size_t n;

	assert_int_equal(mn_handover_parse_select(hs.p, hs.n, &h), MN_OK);
	p = mn_handover_engagement(h, &n);
	assert_int_equal(n, de.n);
	assert_memory_equal(p, de.p, de.n);
	p = mn_handover_bytes(h, &n);
	assert_int_equal(n, hs.n);
	assert_memory_equal(p, hs.p, hs.n);
	assert_int_equal(mn_handover_version(h), 0x15);
	assert_int_equal(mn_handover_carrier_count(h), 1);
	assert_int_equal(mn_handover_carrier(h, 0, &c), MN_OK);
	assert_int_equal(c.kind, MN_CARRIER_BLE);
	assert_int_equal(c.cps, 1);
	assert_int_equal(c.aux_count, 1);
	assert_int_equal(mn_ble_oob_parse(c.config, c.config_len, &ble), MN_OK);
	assert_true(ble.has_role);
	assert_int_equal(ble.le_role, 1);
	assert_true(ble.has_address);
	assert_false(ble.has_uuid);
	assert_int_equal(mn_handover_carrier(h, 1, &c), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_handover_find_carrier(h, MN_CARRIER_NFC, &c), MN_ERR_NOT_FOUND);
	mn_handover_free(&h);
	assert_null(h);
	mn_handover_free(&h); /* NULL is fine */
	/* it is not a request */
	assert_int_equal(mn_handover_parse_request(hs.p, hs.n, &h), MN_ERR_FORMAT);
	assert_null(h);
	free(hs.p);
	free(de.p);
}

static void test_annexd_request(void **state)
{
	struct buf hr = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_REQUEST");
	struct mn_handover *h = NULL;
	struct mn_carrier c;
	struct mn_ble_oob ble;
	struct mn_nfc_carrier nc;
	size_t n;

	assert_int_equal(mn_handover_parse_request(hr.p, hr.n, &h), MN_OK);
	assert_null(mn_handover_engagement(h, &n));
	assert_int_equal(mn_handover_carrier_count(h), 3);
	assert_int_equal(mn_handover_carrier(h, 0, &c), MN_OK);
	assert_int_equal(c.kind, MN_CARRIER_BLE);
	assert_int_equal(mn_ble_oob_parse(c.config, c.config_len, &ble), MN_OK);
	assert_true(ble.has_uuid);
	assert_int_equal(mn_handover_carrier(h, 1, &c), MN_OK);
	assert_int_equal(c.kind, MN_CARRIER_NFC);
	assert_int_equal(mn_nfc_carrier_parse(c.config, c.config_len, &nc), MN_OK);
	assert_int_equal(nc.version, 1);
	assert_int_equal(nc.max_cmd, 0);
	assert_int_equal(mn_handover_carrier(h, 2, &c), MN_OK);
	assert_int_equal(c.kind, MN_CARRIER_NAN);
	mn_handover_free(&h);
	/* a request is not a select */
	assert_int_equal(mn_handover_parse_select(hr.p, hr.n, &h), MN_ERR_FORMAT);
	free(hr.p);
}

static void test_apple_select(void **state)
{
	struct buf hs = need(APPLE, "isomdl_APPLE_WALLET_HANDOVER_SELECT_NDEF");
	struct mn_handover *h = NULL;
	struct mn_carrier c;
	struct mn_ble_oob ble;
	const uint8_t *de;
	size_t n;

	assert_int_equal(hs.n, 194);
	assert_int_equal(mn_handover_parse_select(hs.p, hs.n, &h), MN_OK);
	de = mn_handover_engagement(h, &n);
	assert_int_equal(n, 96);
	assert_int_equal(de[0], 0xa4); /* four keys: 0, 1, 5, 6 */
	assert_memory_equal(de + n - 6, "\x06\xa2\x03\xf5\x04\xf5", 6);
	assert_int_equal(mn_handover_carrier_count(h), 1);
	assert_int_equal(mn_handover_find_carrier(h, MN_CARRIER_BLE, &c), MN_OK);
	assert_int_equal(mn_ble_oob_parse(c.config, c.config_len, &ble), MN_OK);
	assert_true(ble.has_role);
	assert_int_equal(ble.le_role, 1); /* central only */
	assert_false(ble.has_uuid);
	/* every strict prefix is refused with an error, never accepted */
	for (n = 0; n < hs.n; n++) {
		struct mn_handover *x = NULL;
		int rc = mn_handover_parse_select(hs.p, n, &x);

		assert_true(rc < 0);
		assert_null(x);
	}
	mn_handover_free(&h);
	free(hs.p);
}

/* ---------------------------------------------------------------- NDEF bad inputs */

static int parse_hex(const char *hex)
{
	uint8_t b[512];
	size_t n = unhex(hex, b);
	struct mn_ndef_msg m;

	return mn_ndef_parse(b, n, &m);
}

static void test_ndef_records(void **state)
{
	uint8_t b[64];
	struct mn_ndef_msg m;
	size_t n;

	/* short record, ID, then a long record */
	n = unhex("99 01 02 01 54 41 61 62"
	          "41 01 00 00 00 03 55 78 79 7a",
	          b);
	assert_int_equal(mn_ndef_parse(b, n, &m), MN_OK);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.rec[0].tnf, 1);
	assert_int_equal(m.rec[0].id_len, 1);
	assert_int_equal(m.rec[0].id[0], 'A');
	assert_int_equal(m.rec[0].payload_len, 2);
	assert_int_equal(m.rec[1].payload_len, 3);
	assert_memory_equal(m.rec[1].payload, "xyz", 3);
	assert_int_equal(m.rec[1].raw_len, 10);

	assert_int_equal(parse_hex(""), MN_ERR_TRUNCATED);
	assert_int_equal(parse_hex("d1"), MN_ERR_TRUNCATED);
	assert_int_equal(parse_hex("d1 01 05 54 61 62"), MN_ERR_TRUNCATED);    /* payload */
	assert_int_equal(parse_hex("d9 01 01 05 54 61"), MN_ERR_TRUNCATED);    /* id */
	assert_int_equal(parse_hex("c1 01 00 00 00"), MN_ERR_TRUNCATED);       /* long len */
	assert_int_equal(parse_hex("c1 01 ff ff ff ff 54"), MN_ERR_TOO_LARGE); /* 4 GiB */
	assert_int_equal(parse_hex("c1 01 00 01 00 00 54"), MN_ERR_TRUNCATED); /* 64 KiB */
	assert_int_equal(parse_hex("91 01 00 54"), MN_ERR_TRUNCATED);          /* no ME */
	assert_int_equal(parse_hex("d1 01 00 54 00"), MN_ERR_TRAILING);        /* after ME */
	assert_int_equal(parse_hex("91 01 00 54 d1 01 00 54"), MN_ERR_FORMAT); /* 2nd MB */
	assert_int_equal(parse_hex("51 01 00 54"), MN_ERR_FORMAT);             /* no MB */
	assert_int_equal(parse_hex("b1 01 01 54 61 56 00 01 62"), MN_ERR_UNSUPPORTED); /* CF */
	assert_int_equal(parse_hex("d6 00 00"), MN_ERR_FORMAT);                        /* TNF 6 */
	assert_int_equal(parse_hex("d7 00 00"), MN_ERR_FORMAT);                        /* TNF 7 */
	assert_int_equal(parse_hex("d1 00 00"), MN_ERR_FORMAT);                        /* no type */
	assert_int_equal(parse_hex("d0 01 00 54"), MN_ERR_FORMAT); /* empty+type */
	assert_int_equal(parse_hex("d5 01 00 54"), MN_ERR_FORMAT); /* unknown+type */
	assert_int_equal(parse_hex("d0 00 00"), MN_OK);
	assert_int_equal(mn_ndef_parse(NULL, 1, &m), MN_ERR_INVALID_ARG);

	/* too many records */
	{
		uint8_t many[3 * (MN_NDEF_MAX_RECORDS + 1)];
		size_t i;

		for (i = 0; i <= MN_NDEF_MAX_RECORDS; i++) {
			many[3 * i] = (uint8_t)(0x10 | (i == 0 ? 0x80 : 0) |
			                        (i == MN_NDEF_MAX_RECORDS ? 0x40 : 0));
			many[3 * i + 1] = 0;
			many[3 * i + 2] = 0;
		}
		assert_int_equal(mn_ndef_parse(many, sizeof(many), &m), MN_ERR_TOO_LARGE);
	}
}

static int hs_hex(const char *hex)
{
	uint8_t b[512];
	size_t n = unhex(hex, b);
	struct mn_handover *h = NULL;
	int rc = mn_handover_parse_select(b, n, &h);

	if (rc == MN_OK)
		mn_handover_free(&h);
	else
		assert_null(h);
	return rc;
}

/* ac -> "0"; config record id "0"; DE record id "mdoc" with payload a0 */
#define HS_AC "91 02 0a 48 73 15 d1 02 04 61 63 01 01 30 00"
#define DE_REC                                                                                     \
	"5c 1e 01 04 69736f2e6f72673a31383031333a646576696365656e676167656d656e74 6d646f63 a0"
#define CFG0                                                                                       \
	"1a 20 03 01 6170706c69636174696f6e2f766e642e626c7565746f6f74682e6c652e6f6f62 30 02 1c 01"

static void test_handover_bad(void **state)
{
	assert_int_equal(hs_hex(HS_AC CFG0 DE_REC), MN_OK);
	/* no DeviceEngagement */
	assert_int_equal(hs_hex(HS_AC "5a 20 03 01 6170706c69636174696f6e2f766e642e626c7565746f6f74"
	                              "682e6c652e6f6f62 30 02 1c 01"),
	                 MN_ERR_NOT_FOUND);
	/* dangling carrier reference ("1" is no record's id) */
	assert_int_equal(hs_hex("91 02 0a 48 73 15 d1 02 04 61 63 01 01 31 00" CFG0 DE_REC),
	                 MN_ERR_FORMAT);
	/* ac truncated: reference length past the payload */
	assert_int_equal(hs_hex("91 02 0a 48 73 15 d1 02 04 61 63 01 05 30 00" CFG0 DE_REC),
	                 MN_ERR_TRUNCATED);
	/* ac with an auxiliary reference count but no reference */
	assert_int_equal(hs_hex("91 02 0a 48 73 15 d1 02 04 61 63 01 01 30 01" CFG0 DE_REC),
	                 MN_ERR_TRUNCATED);
	/* ac with a trailing byte */
	assert_int_equal(hs_hex("91 02 0b 48 73 15 d1 02 05 61 63 01 01 30 00 00" CFG0 DE_REC),
	                 MN_ERR_TRAILING);
	/* embedded message length inconsistent with the Hs payload */
	assert_int_equal(hs_hex("91 02 0a 48 73 15 d1 02 05 61 63 01 01 30 00" CFG0 DE_REC),
	                 MN_ERR_TRUNCATED);
	/* version 2.0 */
	assert_int_equal(hs_hex("91 02 0a 48 73 20 d1 02 04 61 63 01 01 30 00" CFG0 DE_REC),
	                 MN_ERR_UNSUPPORTED);
	/* empty Hs payload */
	assert_int_equal(hs_hex("91 02 00 48 73" DE_REC), MN_ERR_TRUNCATED);
	/* not Hs first */
	assert_int_equal(hs_hex("91 02 01 48 78 15" DE_REC), MN_ERR_FORMAT);
	/* two DE records */
	assert_int_equal(
	    hs_hex("91 02 01 48 73 15"
	           "1c 1e 01 04 69736f2e6f72673a31383031333a646576696365656e676167656d656e74 "
	           "6d646f63 a0" DE_REC),
	    MN_ERR_FORMAT);
	/* carriers without a DE but chunked config record */
	assert_int_equal(hs_hex("91 02 01 48 73 15 3a 20 03 01 6170706c69636174696f6e2f766e642e626c"
	                        "7565746f6f74682e6c652e6f6f62 30 02 1c 01" DE_REC),
	                 MN_ERR_UNSUPPORTED);
}

static void test_carrier_configs(void **state)
{
	uint8_t b[64];
	size_t n;
	struct mn_ble_oob ble;
	struct mn_nfc_carrier nc;

	n = unhex("01 01 ff 02 ff ff", b);
	assert_int_equal(mn_nfc_carrier_parse(b, n, &nc), MN_OK);
	assert_int_equal(nc.max_cmd, 255);
	assert_int_equal(nc.max_resp, 65535);
	n = unhex("01 01 ff 02 ff", b);
	assert_int_equal(mn_nfc_carrier_parse(b, n, &nc), MN_ERR_TRUNCATED);
	n = unhex("01 05 ff ff ff ff ff", b);
	assert_int_equal(mn_nfc_carrier_parse(b, n, &nc), MN_ERR_FORMAT);
	n = unhex("01 01 ff 01 ff 00", b);
	assert_int_equal(mn_nfc_carrier_parse(b, n, &nc), MN_ERR_TRAILING);
	assert_int_equal(mn_nfc_carrier_parse(b, 0, &nc), MN_ERR_TRUNCATED);

	n = unhex("02 1c 00 03 1c 00 00", b);
	assert_int_equal(mn_ble_oob_parse(b, n, &ble), MN_ERR_FORMAT);
	n = unhex("02 1c 00 05 19 00", b);
	assert_int_equal(mn_ble_oob_parse(b, n, &ble), MN_ERR_TRUNCATED);
	n = unhex("02 1c 00 00", b);
	assert_int_equal(mn_ble_oob_parse(b, n, &ble), MN_ERR_FORMAT);
}

/* ---------------------------------------------------------------- builders, TNEP */

static const uint8_t test_uuid[16] = {0x45, 0xef, 0xef, 0x74, 0x2b, 0x2c, 0x4a, 0x2a,
                                      0x9b, 0x2a, 0x40, 0x5c, 0xd2, 0x8a, 0x2d, 0x77};

static void hr_params(struct mn_hr_params *p)
{
	memset(p, 0, sizeof(*p));
	p->random = 0x1234;
	p->ble = 1;
	p->le_role = 0;
	memcpy(p->uuid, test_uuid, 16);
	p->nfc = 1;
	p->nfc_max_cmd = 255;
	p->nfc_max_resp = 0xffff;
}

static void test_build_request(void **state)
{
	struct mn_hr_params p;
	uint8_t *b = NULL;
	size_t n, el;
	struct mn_handover *h = NULL;
	struct mn_carrier c;
	struct mn_ble_oob ble;
	struct mn_nfc_carrier nc;
	const uint8_t *e;

	hr_params(&p);
	assert_int_equal(mn_handover_build_request(&p, &b, &n), MN_OK);
	assert_int_equal(mn_handover_parse_request(b, n, &h), MN_OK);
	e = mn_handover_engagement(h, &el);
	assert_int_equal(el, 6);
	assert_memory_equal(e,
	                    "\xa1\x00\x63"
	                    "1.0",
	                    6);
	assert_int_equal(mn_handover_carrier_count(h), 2);
	assert_int_equal(mn_handover_find_carrier(h, MN_CARRIER_BLE, &c), MN_OK);
	assert_int_equal(mn_ble_oob_parse(c.config, c.config_len, &ble), MN_OK);
	assert_true(ble.has_uuid);
	assert_memory_equal(ble.uuid, test_uuid, 16);
	assert_int_equal(ble.le_role, 0);
	assert_int_equal(mn_handover_find_carrier(h, MN_CARRIER_NFC, &c), MN_OK);
	assert_int_equal(c.config_len, 6);
	assert_int_equal(mn_nfc_carrier_parse(c.config, c.config_len, &nc), MN_OK);
	assert_int_equal(nc.max_resp, 0xffff);
	mn_handover_free(&h);
	free(b);
	/* cr only */
	p.ble = p.nfc = 0;
	assert_int_equal(mn_handover_build_request(&p, &b, &n), MN_OK);
	assert_int_equal(mn_handover_parse_request(b, n, &h), MN_OK);
	assert_int_equal(mn_handover_carrier_count(h), 0);
	mn_handover_free(&h);
	free(b);
}

static const char tp_hex[] =
    "d1 02 1a 54 70 10 13 75726e3a6e66633a736e3a68616e646f766572 00 14 0f ff ff";

static void test_tnep(void **state)
{
	uint8_t b[128], *ts = NULL;
	size_t n, tl;
	struct mn_tnep_param tp;
	uint8_t st = 0xaa;

	n = unhex(tp_hex, b);
	assert_int_equal(mn_tnep_find_service(b, n, MN_TNEP_HANDOVER_SERVICE, &tp), MN_OK);
	assert_int_equal(tp.version, 0x10);
	assert_int_equal(tp.wt, 0x14);
	assert_int_equal(tp.n_wait, 15);
	assert_int_equal(tp.max_ndef, 0xffff);
	assert_int_equal(mn_tnep_wait_us(0x14), 16000);
	assert_int_equal(mn_tnep_wait_us(0), 500);
	assert_int_equal(mn_tnep_wait_us(4), 1000);
	assert_int_equal(mn_tnep_find_service(b, n, "urn:nfc:sn:other", &tp), MN_ERR_NOT_FOUND);
	b[n - 1 - 4] = 0x01; /* mode: not single response */
	assert_int_equal(mn_tnep_find_service(b, n, MN_TNEP_HANDOVER_SERVICE, &tp),
	                 MN_ERR_UNSUPPORTED);
	assert_int_equal(mn_tnep_param_parse(b + 5, 25, &tp), MN_ERR_TRUNCATED);
	assert_int_equal(mn_tnep_param_parse(b + 5, 27, &tp), MN_ERR_TRAILING);

	assert_int_equal(mn_tnep_build_select(MN_TNEP_HANDOVER_SERVICE, &ts, &tl), MN_OK);
	n = unhex("d1 02 14 54 73 13 75726e3a6e66633a736e3a68616e646f766572", b);
	assert_int_equal(tl, n);
	assert_memory_equal(ts, b, n);
	free(ts);

	n = unhex("d1 02 01 54 65 00", b);
	assert_int_equal(mn_tnep_parse_status(b, n, &st), MN_OK);
	assert_int_equal(st, 0);
	n = unhex("d1 02 02 54 65 00 00", b);
	assert_int_equal(mn_tnep_parse_status(b, n, &st), MN_ERR_FORMAT);
	n = unhex("d1 02 01 54 78 00", b);
	assert_int_equal(mn_tnep_parse_status(b, n, &st), MN_ERR_NOT_FOUND);
}

static void test_do53(void **state)
{
	static const size_t lens[] = {0, 1, 127, 128, 255, 256, 65535, 65536, 70000};
	static const size_t hdr[] = {2, 2, 2, 3, 3, 4, 4, 5, 5};
	uint8_t *m = calloc(1, 70000), *w = NULL, b[16];
	const uint8_t *v;
	size_t i, wl, vl, n;

	assert_non_null(m);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(m, (int)i, lens[i]);
		assert_int_equal(mn_nfc_do53_wrap(m, lens[i], &w, &wl), MN_OK);
		assert_int_equal(wl, lens[i] + hdr[i]);
		assert_int_equal(mn_nfc_do53_unwrap(w, wl, &v, &vl), MN_OK);
		assert_int_equal(vl, lens[i]);
		assert_memory_equal(v, m, lens[i]);
		assert_int_equal(mn_nfc_do53_unwrap(w, wl - 1, &v, &vl), MN_ERR_TRUNCATED);
		free(w);
	}
	free(m);
	n = unhex("54 01 00", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_FORMAT);
	n = unhex("53 80 00", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_FORMAT);
	n = unhex("53 84 00 00 00 01 00", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_FORMAT);
	n = unhex("53 82 01", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_TRUNCATED);
	n = unhex("53 01 00 00", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_TRAILING);
	n = unhex("53 83 ff ff ff 00", b);
	assert_int_equal(mn_nfc_do53_unwrap(b, n, &v, &vl), MN_ERR_TRUNCATED);
}

/* ---------------------------------------------------------------- scripted fake card */

struct step {
	uint8_t *cmd, *resp;
	size_t clen, rlen;
};

struct card {
	struct step *s;
	size_t n, cap, pos;
	int repeat_last; /* past the end: answer the last step again (command not checked) */
	unsigned sleeps;
};

static void card_add(struct card *c, const uint8_t *cmd, size_t clen, const uint8_t *resp,
                     size_t rlen)
{
	struct step *s;

	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->s = realloc(c->s, c->cap * sizeof(*c->s));
		assert_non_null(c->s);
	}
	s = &c->s[c->n++];
	s->cmd = malloc(clen);
	s->resp = malloc(rlen);
	assert_non_null(s->cmd);
	assert_non_null(s->resp);
	memcpy(s->cmd, cmd, clen);
	memcpy(s->resp, resp, rlen);
	s->clen = clen;
	s->rlen = rlen;
}

static void card_hex(struct card *c, const char *cmd, const char *resp)
{
	uint8_t cb[600], rb[600];
	size_t cl = unhex(cmd, cb), rl = unhex(resp, rb);

	card_add(c, cb, cl, rb, rl);
}

/* cmd as given; response = data || sw */
static void card_data(struct card *c, const uint8_t *cmd, size_t clen, const uint8_t *data,
                      size_t dlen, uint16_t sw)
{
	uint8_t *r = malloc(dlen + 2);

	assert_non_null(r);
	if (dlen)
		memcpy(r, data, dlen);
	r[dlen] = (uint8_t)(sw >> 8);
	r[dlen + 1] = (uint8_t)sw;
	card_add(c, cmd, clen, r, dlen + 2);
	free(r);
}

static void card_free(struct card *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->s[i].cmd);
		free(c->s[i].resp);
	}
	free(c->s);
	memset(c, 0, sizeof(*c));
}

static int card_transmit(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t rcap,
                         size_t *rlen)
{
	struct card *c = ctx;
	const struct step *s;

	if (c->pos >= c->n) {
		if (!c->repeat_last || c->n == 0) {
			fail_msg("unexpected APDU #%zu (script has %zu)", c->pos, c->n);
			return MN_ERR_IO;
		}
		s = &c->s[c->n - 1];
	} else {
		s = &c->s[c->pos];
		if (s->clen != clen || memcmp(s->cmd, capdu, clen) != 0) {
			size_t i;

			for (i = 0; i < clen && i < 16; i++)
				print_message("%02x ", capdu[i]);
			print_message("(len %zu, expected %zu)\n", clen, s->clen);
			fail_msg("APDU #%zu differs from the script", c->pos);
		}
	}
	c->pos++;
	assert_true(s->rlen <= rcap);
	memcpy(rapdu, s->resp, s->rlen);
	*rlen = s->rlen;
	return MN_OK;
}

static void card_sleep(void *ctx, uint32_t usec)
{
	struct card *c = ctx;

	assert_int_equal(usec, 16000);
	c->sleeps++;
}

static void card_done(const struct card *c)
{
	assert_int_equal(c->pos, c->n);
}

#define SEL_NDEF_APP "00 a4 04 00 07 d2 76 00 00 85 01 01 00"
#define SEL_CC       "00 a4 00 0c 02 e1 03"
#define READ_CC      "00 b0 00 00 0f"
#define SEL_NDEF     "00 a4 00 0c 02 e1 04"
#define READ_NLEN    "00 b0 00 00 02"
#define APPLE_CC     "00 0f 20 04 00 04 00 04 06 e1 04 08 02 00 00 90 00"

static void card_select_ndef(struct card *c, const char *cc)
{
	card_hex(c, SEL_NDEF_APP, "90 00");
	card_hex(c, SEL_CC, "90 00");
	card_hex(c, READ_CC, cc);
	card_hex(c, SEL_NDEF, "90 00");
}

/* the NDEF file reads of msg: NLEN, then chunks of at most chunk bytes */
static void card_ndef_file(struct card *c, const uint8_t *msg, size_t len, size_t chunk)
{
	uint8_t nlen[2] = {(uint8_t)(len >> 8), (uint8_t)len}, cmd[5];
	size_t off;

	card_data(c, (const uint8_t *)"\x00\xb0\x00\x00\x02", 5, nlen, 2, 0x9000);
	for (off = 0; off < len; off += chunk) {
		size_t l = len - off < chunk ? len - off : chunk;

		cmd[0] = 0x00;
		cmd[1] = 0xb0;
		cmd[2] = (uint8_t)((off + 2) >> 8);
		cmd[3] = (uint8_t)(off + 2);
		cmd[4] = (uint8_t)l;
		card_data(c, cmd, 5, msg + off, l, 0x9000);
	}
}

/* UPDATE BINARY of NLEN || msg in one APDU */
static void card_ndef_write(struct card *c, const uint8_t *msg, size_t len)
{
	uint8_t cmd[300];

	assert_true(len + 2 <= 255);
	memcpy(cmd, "\x00\xd6\x00\x00", 4);
	cmd[4] = (uint8_t)(len + 2);
	cmd[5] = (uint8_t)(len >> 8);
	cmd[6] = (uint8_t)len;
	memcpy(cmd + 7, msg, len);
	card_data(c, cmd, 7 + len, NULL, 0, 0x9000);
}

static void test_t4t_static(void **state)
{
	struct buf hs = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_SELECT");
	struct buf de = need(ANNEX_D, "ISO_18013_5_ANNEX_D_DEVICE_ENGAGEMENT_NFC");
	struct card c = {0};
	struct mn_nfc *n = NULL;
	struct mn_handover *h = NULL, *hr = NULL;
	const uint8_t *p;
	size_t l;

	/* MLe = 0x40: the 195-byte message comes in 4 reads */
	card_select_ndef(&c, "00 0f 20 00 40 00 40 04 06 e1 04 08 02 00 ff 90 00");
	card_ndef_file(&c, hs.p, hs.n, 0x40);
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	assert_int_equal(mn_nfc_engage(n, NULL, &h, &hr), MN_OK);
	assert_null(hr);
	card_done(&c);
	p = mn_handover_bytes(h, &l);
	assert_int_equal(l, hs.n);
	assert_memory_equal(p, hs.p, hs.n);
	p = mn_handover_engagement(h, &l);
	assert_int_equal(l, de.n);
	assert_memory_equal(p, de.p, de.n);
	assert_int_equal(mn_nfc_last_sw(n), 0x9000);
	/* read-only tag: no TNEP writes */
	assert_int_equal(mn_nfc_ndef_write(n, hs.p, 10), MN_ERR_UNSUPPORTED);
	mn_handover_free(&h);
	mn_nfc_free(&n);
	assert_null(n);
	mn_nfc_free(&n);
	card_free(&c);
	free(hs.p);
	free(de.p);
}

static void test_t4t_tnep(void **state)
{
	struct buf hs = need(ANNEX_D, "ISO_18013_5_ANNEX_D_NFC_HANDOVER_SELECT");
	struct card c = {0};
	struct mn_nfc_opts o = {0};
	struct mn_nfc *n = NULL;
	struct mn_handover *h = NULL, *hr = NULL;
	struct mn_hr_params p;
	uint8_t tp[64], *ts = NULL, *hrb = NULL, te[] = {0xd1, 0x02, 0x01, 'T', 'e', 0x00};
	size_t tpl = unhex(tp_hex, tp), tsl, hrl, l;
	const uint8_t *b;

	hr_params(&p);
	assert_int_equal(mn_tnep_build_select(MN_TNEP_HANDOVER_SERVICE, &ts, &tsl), MN_OK);
	assert_int_equal(mn_handover_build_request(&p, &hrb, &hrl), MN_OK);

	card_select_ndef(&c, APPLE_CC);
	card_ndef_file(&c, tp, tpl, 255);
	card_ndef_write(&c, ts, tsl);
	card_hex(&c, READ_NLEN, "00 00 90 00"); /* not ready yet */
	card_ndef_file(&c, te, sizeof(te), 255);
	card_ndef_write(&c, hrb, hrl);
	card_hex(&c, READ_NLEN, "00 00 90 00");
	card_hex(&c, READ_NLEN, "00 00 90 00");
	card_ndef_file(&c, hs.p, hs.n, 255);

	o.sleep = card_sleep;
	o.sleep_ctx = &c;
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	/* TNEP needs the request parameters */
	assert_int_equal(mn_nfc_engage(n, &p, &h, &hr), MN_OK);
	card_done(&c);
	assert_int_equal(c.sleeps, 5);
	b = mn_handover_bytes(h, &l);
	assert_int_equal(l, hs.n);
	assert_memory_equal(b, hs.p, hs.n);
	assert_non_null(hr);
	b = mn_handover_bytes(hr, &l);
	assert_int_equal(l, hrl);
	assert_memory_equal(b, hrb, hrl);
	mn_handover_free(&h);
	mn_handover_free(&hr);
	mn_nfc_free(&n);
	card_free(&c);

	/* Te with an error status */
	te[5] = 0x01;
	card_select_ndef(&c, APPLE_CC);
	card_ndef_file(&c, tp, tpl, 255);
	card_ndef_write(&c, ts, tsl);
	card_ndef_file(&c, te, sizeof(te), 255);
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	assert_int_equal(mn_nfc_engage(n, &p, &h, &hr), MN_ERR_IO);
	assert_null(h);
	card_done(&c);
	mn_nfc_free(&n);
	card_free(&c);

	/* the Handover Select never comes: bounded polling */
	te[5] = 0x00;
	o.max_polls = 3;
	card_select_ndef(&c, APPLE_CC);
	card_ndef_file(&c, tp, tpl, 255);
	card_ndef_write(&c, ts, tsl);
	card_ndef_file(&c, te, sizeof(te), 255);
	card_ndef_write(&c, hrb, hrl);
	card_hex(&c, READ_NLEN, "00 00 90 00");
	card_hex(&c, READ_NLEN, "00 00 90 00");
	card_hex(&c, READ_NLEN, "00 00 90 00");
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	assert_int_equal(mn_nfc_engage(n, &p, &h, &hr), MN_ERR_TIMEOUT);
	card_done(&c);
	mn_nfc_free(&n);
	card_free(&c);

	/* without request parameters a TNEP tag is refused */
	card_select_ndef(&c, APPLE_CC);
	card_ndef_file(&c, tp, tpl, 255);
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	assert_int_equal(mn_nfc_engage(n, NULL, &h, &hr), MN_ERR_INVALID_ARG);
	mn_nfc_free(&n);
	card_free(&c);

	free(ts);
	free(hrb);
	free(hs.p);
}

/* one NDEF selection against a given CC, then optionally reads */
static int select_with_cc(const char *cc)
{
	struct card c = {0};
	struct mn_nfc *n = NULL;
	int rc;

	card_hex(&c, SEL_NDEF_APP, "90 00");
	card_hex(&c, SEL_CC, "90 00");
	card_hex(&c, READ_CC, cc);
	card_hex(&c, SEL_NDEF, "90 00");
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	rc = mn_nfc_ndef_select(n);
	mn_nfc_free(&n);
	card_free(&c);
	return rc;
}

static int read_with(const char *cc, const char *nlen_resp, const char *extra_cmd,
                     const char *extra_resp)
{
	struct card c = {0};
	struct mn_nfc *n = NULL;
	uint8_t *m = NULL;
	size_t l = 0;
	int rc;

	card_select_ndef(&c, cc);
	card_hex(&c, READ_NLEN, nlen_resp);
	if (extra_cmd != NULL)
		card_hex(&c, extra_cmd, extra_resp);
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
	rc = mn_nfc_ndef_read(n, &m, &l);
	if (rc != MN_OK)
		assert_null(m);
	free(m);
	mn_nfc_free(&n);
	card_free(&c);
	return rc;
}

static int removed_transmit(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                            size_t rcap, size_t *rlen)
{
	return MN_ERR_TOKEN_REMOVED;
}

static void test_t4t_bad(void **state)
{
	struct card c = {0};
	struct mn_nfc *n = NULL;

	assert_int_equal(select_with_cc(APPLE_CC), MN_OK);
	/* mapping version 1.0 */
	assert_int_equal(select_with_cc("00 0f 10 04 00 04 00 04 06 e1 04 08 02 00 00 90 00"),
	                 MN_ERR_UNSUPPORTED);
	/* CCLEN too small, MLe too small, bad TLV, reserved file id, read access denied */
	assert_int_equal(select_with_cc("00 0e 20 04 00 04 00 04 06 e1 04 08 02 00 00 90 00"),
	                 MN_ERR_FORMAT);
	assert_int_equal(select_with_cc("00 0f 20 00 0e 04 00 04 06 e1 04 08 02 00 00 90 00"),
	                 MN_ERR_FORMAT);
	assert_int_equal(select_with_cc("00 0f 20 04 00 04 00 05 06 e1 04 08 02 00 00 90 00"),
	                 MN_ERR_FORMAT);
	assert_int_equal(select_with_cc("00 0f 20 04 00 04 00 04 06 e1 03 08 02 00 00 90 00"),
	                 MN_ERR_FORMAT);
	assert_int_equal(select_with_cc("00 0f 20 04 00 04 00 04 06 e1 04 08 02 ff 00 90 00"),
	                 MN_ERR_UNSUPPORTED);
	/* READ BINARY answers more than asked */
	assert_int_equal(select_with_cc("00 0f 20 04 00 04 00 04 06 e1 04 08 02 00 00 00 90 00"),
	                 MN_ERR_FORMAT);
	/* a response APDU without a status word */
	{
		card_hex(&c, SEL_NDEF_APP, "90");
		assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
		assert_int_equal(mn_nfc_ndef_select(n), MN_ERR_TRUNCATED);
		mn_nfc_free(&n);
		card_free(&c);
	}
	/* locked Android: 6A82 on the NDEF application */
	card_hex(&c, SEL_NDEF_APP, "6a 82");
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_nfc_last_sw(n), 0x6a82);
	/* reading before a successful selection */
	{
		uint8_t *m;
		size_t l;

		assert_int_equal(mn_nfc_ndef_read(n, &m, &l), MN_ERR_INVALID_ARG);
	}
	mn_nfc_free(&n);
	card_free(&c);
	/* other SW on SELECT CC */
	card_hex(&c, SEL_NDEF_APP, "90 00");
	card_hex(&c, SEL_CC, "69 82");
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_ERR_IO);
	mn_nfc_free(&n);
	card_free(&c);

	/* NLEN beyond the file (max 0x0802 - 2) */
	assert_int_equal(read_with(APPLE_CC, "08 01 90 00", NULL, NULL), MN_ERR_FORMAT);
	/* READ BINARY returns nothing */
	assert_int_equal(read_with(APPLE_CC, "00 05 90 00", "00 b0 00 02 05", "90 00"),
	                 MN_ERR_TRUNCATED);
	/* SW error while reading the message */
	assert_int_equal(read_with(APPLE_CC, "00 05 90 00", "00 b0 00 02 05", "6b 00"), MN_ERR_IO);
	/* NLEN read answers 3 bytes */
	assert_int_equal(read_with(APPLE_CC, "00 05 00 90 00", NULL, NULL), MN_ERR_FORMAT);
	/* the message read is not NDEF */
	{
		struct mn_handover *h = NULL, *hr = NULL;

		card_select_ndef(&c, APPLE_CC);
		card_hex(&c, READ_NLEN, "00 04 90 00");
		card_hex(&c, "00 b0 00 02 04", "d1 01 05 54 90 00");
		assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
		assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
		assert_int_equal(mn_nfc_engage(n, NULL, &h, &hr), MN_ERR_TRUNCATED);
		assert_null(h);
		mn_nfc_free(&n);
		card_free(&c);
		/* empty NDEF file */
		card_select_ndef(&c, APPLE_CC);
		card_hex(&c, READ_NLEN, "00 00 90 00");
		assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
		assert_int_equal(mn_nfc_ndef_select(n), MN_OK);
		assert_int_equal(mn_nfc_engage(n, NULL, &h, &hr), MN_ERR_NOT_FOUND);
		mn_nfc_free(&n);
		card_free(&c);
	}
	/* a transmit failure (phone taken away) comes back as it is */
	assert_int_equal(mn_nfc_new(removed_transmit, NULL, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_ndef_select(n), MN_ERR_TOKEN_REMOVED);
	assert_int_equal(mn_nfc_mdoc_select(n), MN_ERR_TOKEN_REMOVED);
	mn_nfc_free(&n);
}

/* ---------------------------------------------------------------- data retrieval */

#define SEL_MDOC "00 a4 04 00 07 a0 00 00 02 48 04 00 00"

/* ENVELOPE commands for msg with chunk size cs (short unless ext), the last answered by resp */
static void card_envelope(struct card *c, const uint8_t *msg, size_t len, size_t cs, int ext,
                          const uint8_t *resp, size_t rlen, uint16_t sw)
{
	uint8_t *w = NULL, *cmd = malloc(cs + 10);
	size_t wl, off, p;

	assert_non_null(cmd);
	assert_int_equal(mn_nfc_do53_wrap(msg, len, &w, &wl), MN_OK);
	for (off = 0; off < wl; off += cs) {
		size_t l = wl - off < cs ? wl - off : cs;
		int last = off + l == wl;

		p = 0;
		cmd[p++] = last ? 0x00 : 0x10;
		cmd[p++] = 0xc3;
		cmd[p++] = 0;
		cmd[p++] = 0;
		if (ext) {
			cmd[p++] = 0;
			cmd[p++] = (uint8_t)(l >> 8);
		}
		cmd[p++] = (uint8_t)l;
		memcpy(cmd + p, w + off, l);
		p += l;
		if (last) {
			cmd[p++] = 0;
			if (ext)
				cmd[p++] = 0;
			card_data(c, cmd, p, resp, rlen, sw);
		} else {
			card_data(c, cmd, p, NULL, 0, 0x9000);
		}
	}
	free(w);
	free(cmd);
}

/* the answer resp (unwrapped) in pieces of 256 through 61xx / GET RESPONSE */
static void card_answer_short(struct card *c, const uint8_t *req, size_t req_len,
                              const uint8_t *resp, size_t resp_len)
{
	uint8_t *w = NULL, gr[5] = {0x00, 0xc0, 0x00, 0x00, 0x00};
	size_t wl, off, l;

	assert_int_equal(mn_nfc_do53_wrap(resp, resp_len, &w, &wl), MN_OK);
	l = wl < 256 ? wl : 256;
	for (off = 0;; off += l) {
		size_t rest, next;
		uint16_t sw;

		l = wl - off < 256 ? wl - off : 256;
		rest = wl - off - l;
		next = rest < 256 ? rest : 256;
		sw = rest == 0 ? 0x9000 : (uint16_t)(0x6100 | (next & 0xff));
		if (off == 0)
			card_envelope(c, req, req_len, 255, 0, w, l, sw);
		else
			card_data(c, gr, 5, w + off, l, sw);
		if (rest == 0)
			break;
		gr[4] = (uint8_t)next;
	}
	free(w);
}

static void test_retrieval_short(void **state)
{
	struct buf se = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_ESTABLISHMENT");
	struct buf sd = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_DATA");
	struct card c = {0};
	struct mn_nfc *n = NULL;
	struct mn_mdoc_transport t;
	uint8_t *r = NULL;
	size_t rl = 0;

	card_hex(&c, SEL_MDOC, "90 00");
	card_answer_short(&c, se.p, se.n, sd.p, sd.n);     /* 838 bytes out, 3591 back */
	card_answer_short(&c, sd.p, 100, sd.p + 100, 300); /* a second exchange */
	assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
	assert_int_equal(mn_nfc_mdoc_select(n), MN_OK);
	mn_nfc_transport(n, &t);
	assert_int_equal(mn_mdoc_transport_receive(&t, &r, &rl), MN_ERR_NOT_FOUND);
	assert_int_equal(mn_mdoc_transport_send(&t, se.p, se.n), MN_OK);
	assert_int_equal(mn_mdoc_transport_receive(&t, &r, &rl), MN_OK);
	assert_int_equal(rl, sd.n);
	assert_memory_equal(r, sd.p, sd.n);
	free(r);
	assert_int_equal(mn_nfc_mdoc_exchange(n, sd.p, 100, &r, &rl), MN_OK);
	assert_int_equal(rl, 300);
	assert_memory_equal(r, sd.p + 100, 300);
	free(r);
	card_done(&c);
	mn_mdoc_transport_close(&t);
	mn_nfc_free(&n);
	card_free(&c);
	free(se.p);
	free(sd.p);
}

static void test_retrieval_extended(void **state)
{
	struct buf se = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_ESTABLISHMENT");
	struct buf sd = need(ANNEX_D, "ISO_18013_5_ANNEX_D_SESSION_DATA");
	struct card c = {0};
	struct mn_nfc_opts o = {0};
	struct mn_nfc *n = NULL;
	uint8_t *w = NULL, *r = NULL;
	size_t wl, rl;

	o.extended = 1;
	assert_int_equal(mn_nfc_do53_wrap(sd.p, sd.n, &w, &wl), MN_OK);
	/* one ENVELOPE with the whole request; the answer in 2000 + rest via 61 00 */
	card_envelope(&c, se.p, se.n, 65535, 1, w, 2000, 0x6100);
	card_data(&c, (const uint8_t *)"\x00\xc0\x00\x00\x00\x00\x00", 7, w + 2000, wl - 2000,
	          0x9000);
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_mdoc_exchange(n, se.p, se.n, &r, &rl), MN_OK);
	assert_int_equal(rl, sd.n);
	assert_memory_equal(r, sd.p, sd.n);
	free(r);
	card_done(&c);
	mn_nfc_free(&n);
	card_free(&c);

	/* extended with a smaller command limit: 838 bytes in 300-byte chained pieces */
	o.max_cmd_data = 300;
	card_envelope(&c, se.p, se.n, 300, 1, w, wl, 0x9000);
	assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
	assert_int_equal(mn_nfc_mdoc_exchange(n, se.p, se.n, &r, &rl), MN_OK);
	assert_int_equal(rl, sd.n);
	free(r);
	card_done(&c);
	mn_nfc_free(&n);
	card_free(&c);
	free(w);
	free(se.p);
	free(sd.p);
}

static int exchange_with(struct card *c, const struct mn_nfc_opts *o)
{
	struct mn_nfc *n = NULL;
	uint8_t *r = NULL;
	size_t rl = 0;
	int rc;

	assert_int_equal(mn_nfc_new(card_transmit, c, o, &n), MN_OK);
	rc = mn_nfc_mdoc_exchange(n, (const uint8_t *)"hello", 5, &r, &rl);
	if (rc != MN_OK)
		assert_null(r);
	free(r);
	mn_nfc_free(&n);
	card_free(c);
	return rc;
}

static void test_retrieval_bad(void **state)
{
	struct card c = {0};
	struct mn_nfc_opts o = {0};
	uint8_t big[600], gr[5] = {0x00, 0xc0, 0x00, 0x00, 0x01};

	memset(big, 0xaa, sizeof(big));
	/* SELECT of the data retrieval AID refused */
	{
		struct mn_nfc *n = NULL;

		card_hex(&c, SEL_MDOC, "6a 82");
		assert_int_equal(mn_nfc_new(card_transmit, &c, NULL, &n), MN_OK);
		assert_int_equal(mn_nfc_mdoc_select(n), MN_ERR_NOT_FOUND);
		mn_nfc_free(&n);
		card_free(&c);
	}
	/* SW error on the last ENVELOPE */
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, NULL, 0, 0x6a80);
	assert_int_equal(exchange_with(&c, NULL), MN_ERR_IO);
	/* SW error on a chained (non-last) ENVELOPE */
	o.max_cmd_data = 3;
	card_data(&c, (const uint8_t *)"\x10\xc3\x00\x00\x03\x53\x05h", 8, NULL, 0, 0x6700);
	assert_int_equal(exchange_with(&c, &o), MN_ERR_IO);
	/* data on a chained ENVELOPE */
	card_data(&c, (const uint8_t *)"\x10\xc3\x00\x00\x03\x53\x05h", 8, big, 1, 0x9000);
	assert_int_equal(exchange_with(&c, &o), MN_ERR_FORMAT);
	/* too many command chunks for the bound */
	o.max_chunks = 2;
	card_data(&c, (const uint8_t *)"\x10\xc3\x00\x00\x03\x53\x05h", 8, NULL, 0, 0x9000);
	card_data(&c, (const uint8_t *)"\x10\xc3\x00\x00\x03\x65\x6c\x6c", 8, NULL, 0, 0x9000);
	assert_int_equal(exchange_with(&c, &o), MN_ERR_TOO_LARGE);
	memset(&o, 0, sizeof(o));
	/* GET RESPONSE forever: bounded */
	o.max_chunks = 10;
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, big, 1, 0x6101);
	card_data(&c, gr, 5, big, 1, 0x6101);
	c.repeat_last = 1;
	assert_int_equal(exchange_with(&c, &o), MN_ERR_TOO_LARGE);
	/* answer beyond max_msg */
	o.max_chunks = 0;
	o.max_msg = 300;
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, big, 256, 0x6100);
	gr[4] = 0x00;
	card_data(&c, gr, 5, big, 256, 0x9000);
	assert_int_equal(exchange_with(&c, &o), MN_ERR_TOO_LARGE);
	/* request beyond max_msg */
	{
		struct mn_nfc *n = NULL;
		uint8_t *r = NULL;
		size_t rl;

		assert_int_equal(mn_nfc_new(card_transmit, &c, &o, &n), MN_OK);
		assert_int_equal(mn_nfc_mdoc_exchange(n, big, 301, &r, &rl), MN_ERR_TOO_LARGE);
		mn_nfc_free(&n);
	}
	memset(&o, 0, sizeof(o));
	/* answer not in DO'53' */
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, (const uint8_t *)"\x54\x01\x00", 3,
	              0x9000);
	assert_int_equal(exchange_with(&c, NULL), MN_ERR_FORMAT);
	/* DO'53' length beyond the data */
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, (const uint8_t *)"\x53\x82\x10\x00",
	              4, 0x9000);
	assert_int_equal(exchange_with(&c, NULL), MN_ERR_TRUNCATED);
	/* empty answer */
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, NULL, 0, 0x9000);
	assert_int_equal(exchange_with(&c, NULL), MN_ERR_TRUNCATED);
	/* SW error during GET RESPONSE */
	card_envelope(&c, (const uint8_t *)"hello", 5, 255, 0, big, 1, 0x6101);
	gr[4] = 0x01;
	card_data(&c, gr, 5, NULL, 0, 0x6f00);
	assert_int_equal(exchange_with(&c, NULL), MN_ERR_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_annexd_select),
	    cmocka_unit_test(test_annexd_request),
	    cmocka_unit_test(test_apple_select),
	    cmocka_unit_test(test_ndef_records),
	    cmocka_unit_test(test_handover_bad),
	    cmocka_unit_test(test_carrier_configs),
	    cmocka_unit_test(test_build_request),
	    cmocka_unit_test(test_tnep),
	    cmocka_unit_test(test_do53),
	    cmocka_unit_test(test_t4t_static),
	    cmocka_unit_test(test_t4t_tnep),
	    cmocka_unit_test(test_t4t_bad),
	    cmocka_unit_test(test_retrieval_short),
	    cmocka_unit_test(test_retrieval_extended),
	    cmocka_unit_test(test_retrieval_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
