#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mn_err.h"
#include "mn_ndef.h"

#define TNF_MASK 0x07

/* ---------------------------------------------------------------- NDEF records */

/* One record at buf[*off..len); advances *off. */
static int parse_record(const uint8_t *buf, size_t len, size_t *off, struct mn_ndef_record *r)
{
	size_t p = *off, type_len, id_len = 0, pl_len, rest;
	uint8_t hdr;

	if (len - p < 2)
		return MN_ERR_TRUNCATED;
	hdr = buf[p++];
	if (hdr & MN_NDEF_CF)
		return MN_ERR_UNSUPPORTED;
	type_len = buf[p++];
	if (hdr & MN_NDEF_SR) {
		if (len - p < 1)
			return MN_ERR_TRUNCATED;
		pl_len = buf[p++];
	} else {
		if (len - p < 4)
			return MN_ERR_TRUNCATED;
		pl_len = (size_t)buf[p] << 24 | (size_t)buf[p + 1] << 16 | (size_t)buf[p + 2] << 8 |
		         buf[p + 3];
		p += 4;
	}
	if (hdr & MN_NDEF_IL) {
		if (len - p < 1)
			return MN_ERR_TRUNCATED;
		id_len = buf[p++];
	}
	if (pl_len > MN_NDEF_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	rest = len - p;
	if (type_len > rest || id_len > rest - type_len || pl_len > rest - type_len - id_len)
		return MN_ERR_TRUNCATED;

	switch (hdr & TNF_MASK) {
	case MN_NDEF_TNF_EMPTY:
		if (type_len != 0 || id_len != 0 || pl_len != 0)
			return MN_ERR_FORMAT;
		break;
	case MN_NDEF_TNF_WELL_KNOWN:
	case MN_NDEF_TNF_MIME:
	case MN_NDEF_TNF_URI:
	case MN_NDEF_TNF_EXTERNAL:
		if (type_len == 0)
			return MN_ERR_FORMAT;
		break;
	case MN_NDEF_TNF_UNKNOWN:
		if (type_len != 0)
			return MN_ERR_FORMAT;
		break;
	default: /* 6 unchanged (only in chunks), 7 reserved */
		return MN_ERR_FORMAT;
	}

	r->tnf = hdr & TNF_MASK;
	r->flags = hdr & (MN_NDEF_MB | MN_NDEF_ME | MN_NDEF_SR | MN_NDEF_IL);
	r->type = buf + p;
	r->type_len = type_len;
	r->id = buf + p + type_len;
	r->id_len = id_len;
	r->payload = buf + p + type_len + id_len;
	r->payload_len = pl_len;
	r->raw = buf + *off;
	r->raw_len = p + type_len + id_len + pl_len - *off;
	*off = p + type_len + id_len + pl_len;
	return MN_OK;
}

int mn_ndef_parse(const uint8_t *buf, size_t len, struct mn_ndef_msg *out)
{
	struct mn_ndef_msg *m = NULL;
	size_t off = 0;
	int rc;

	if (buf == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len == 0)
		return MN_ERR_TRUNCATED;
	if (len > MN_NDEF_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return MN_ERR_NOMEM;
	for (;;) {
		struct mn_ndef_record r;

		if (off == len) {
			rc = MN_ERR_TRUNCATED; /* no record with ME */
			goto out;
		}
		if (m->n == MN_NDEF_MAX_RECORDS) {
			rc = MN_ERR_TOO_LARGE;
			goto out;
		}
		if ((rc = parse_record(buf, len, &off, &r)) != MN_OK)
			goto out;
		if (!!(r.flags & MN_NDEF_MB) != (m->n == 0)) {
			rc = MN_ERR_FORMAT;
			goto out;
		}
		m->rec[m->n++] = r;
		if (r.flags & MN_NDEF_ME)
			break;
	}
	if (off != len) {
		rc = MN_ERR_TRAILING;
		goto out;
	}
	memcpy(out, m, sizeof(*m));
	rc = MN_OK;
out:
	free(m);
	return rc;
}

int mn_ndef_record_is(const struct mn_ndef_record *rec, uint8_t tnf, const char *type)
{
	size_t n = strlen(type);

	return rec->tnf == tnf && rec->type_len == n && memcmp(rec->type, type, n) == 0;
}

/* ---------------------------------------------------------------- handover */

struct mn_handover {
	uint8_t *bytes;
	size_t len;
	uint8_t version;
	int is_select;
	const uint8_t *eng; /* into bytes */
	size_t eng_len;
	size_t ncar;
	struct mn_carrier car[MN_NDEF_MAX_CARRIERS];
};

void mn_handover_free(struct mn_handover **h)
{
	if (h == NULL || *h == NULL)
		return;
	free((*h)->bytes);
	free(*h);
	*h = NULL;
}

static enum mn_carrier_kind carrier_kind(const struct mn_ndef_record *r)
{
	if (mn_ndef_record_is(r, MN_NDEF_TNF_MIME, MN_NDEF_MIME_BLE))
		return MN_CARRIER_BLE;
	if (mn_ndef_record_is(r, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_NFC))
		return MN_CARRIER_NFC;
	if (mn_ndef_record_is(r, MN_NDEF_TNF_MIME, MN_NDEF_MIME_NAN))
		return MN_CARRIER_NAN;
	return MN_CARRIER_OTHER;
}

/*
 * An ac record: CPS (1), carrier data reference (len + bytes, non-empty), auxiliary data
 * reference count, then each reference (len + bytes); nothing more.
 */
static int parse_ac(const struct mn_ndef_record *ac, const struct mn_ndef_msg *outer,
                    struct mn_carrier *c)
{
	const uint8_t *p = ac->payload;
	size_t n = ac->payload_len, off = 0, ref_len, naux, i, j;
	const struct mn_ndef_record *cfg = NULL;

	if (n < 2)
		return MN_ERR_TRUNCATED;
	if (p[0] & 0xfc)
		return MN_ERR_FORMAT;
	ref_len = p[1];
	off = 2;
	if (ref_len == 0)
		return MN_ERR_FORMAT;
	if (ref_len > n - off || n - off - ref_len < 1)
		return MN_ERR_TRUNCATED;
	off += ref_len;
	naux = p[off++];
	for (i = 0; i < naux; i++) {
		size_t l;

		if (n - off < 1)
			return MN_ERR_TRUNCATED;
		l = p[off++];
		if (l > n - off)
			return MN_ERR_TRUNCATED;
		off += l;
	}
	if (off != n)
		return MN_ERR_TRAILING;
	/* the reference names exactly one record of the outer message (not the first) */
	for (j = 1; j < outer->n; j++) {
		const struct mn_ndef_record *r = &outer->rec[j];

		if (r->id_len == ref_len && memcmp(r->id, p + 2, ref_len) == 0) {
			if (cfg != NULL)
				return MN_ERR_FORMAT;
			cfg = r;
		}
	}
	if (cfg == NULL)
		return MN_ERR_FORMAT;
	c->kind = carrier_kind(cfg);
	c->cps = p[0];
	c->config = cfg->payload;
	c->config_len = cfg->payload_len;
	c->id = cfg->id;
	c->id_len = cfg->id_len;
	c->aux_count = naux;
	return MN_OK;
}

static int handover_parse(const uint8_t *buf, size_t len, int select, struct mn_handover **ret)
{
	struct mn_handover *h = NULL;
	struct mn_ndef_msg *outer = NULL, *inner = NULL;
	const char *eng_type = select ? MN_NDEF_TYPE_DE : MN_NDEF_TYPE_RE;
	size_t i;
	int rc;

	if (buf == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((h = calloc(1, sizeof(*h))) == NULL || (outer = malloc(sizeof(*outer))) == NULL ||
	    (inner = malloc(sizeof(*inner))) == NULL ||
	    (h->bytes = malloc(len ? len : 1)) == NULL) {
		rc = MN_ERR_NOMEM;
		goto out;
	}
	memcpy(h->bytes, buf, len);
	h->len = len;
	h->is_select = select;
	/* parse our copy: every pointer kept refers to h->bytes */
	if ((rc = mn_ndef_parse(h->bytes, len, outer)) != MN_OK)
		goto out;
	if (!mn_ndef_record_is(&outer->rec[0], MN_NDEF_TNF_WELL_KNOWN,
	                       select ? MN_NDEF_TYPE_HS : MN_NDEF_TYPE_HR)) {
		rc = MN_ERR_FORMAT;
		goto out;
	}
	if (outer->rec[0].payload_len < 1) {
		rc = MN_ERR_TRUNCATED;
		goto out;
	}
	h->version = outer->rec[0].payload[0];
	if (h->version >> 4 != 1) {
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	/* the embedded message: ac records (and cr in Hr, err in Hs); Hs may have none */
	if (outer->rec[0].payload_len > 1) {
		if ((rc = mn_ndef_parse(outer->rec[0].payload + 1, outer->rec[0].payload_len - 1,
		                        inner)) != MN_OK)
			goto out;
		for (i = 0; i < inner->n; i++) {
			const struct mn_ndef_record *r = &inner->rec[i];

			if (!mn_ndef_record_is(r, MN_NDEF_TNF_WELL_KNOWN, MN_NDEF_TYPE_AC))
				continue;
			if (h->ncar == MN_NDEF_MAX_CARRIERS) {
				rc = MN_ERR_TOO_LARGE;
				goto out;
			}
			if ((rc = parse_ac(r, outer, &h->car[h->ncar])) != MN_OK)
				goto out;
			h->ncar++;
		}
	} else if (!select) {
		rc = MN_ERR_FORMAT; /* a request must at least hold cr */
		goto out;
	}
	for (i = 1; i < outer->n; i++) {
		const struct mn_ndef_record *r = &outer->rec[i];

		if (!mn_ndef_record_is(r, MN_NDEF_TNF_EXTERNAL, eng_type))
			continue;
		if (h->eng != NULL) {
			rc = MN_ERR_FORMAT;
			goto out;
		}
		if (r->payload_len == 0) {
			rc = MN_ERR_FORMAT;
			goto out;
		}
		h->eng = r->payload;
		h->eng_len = r->payload_len;
	}
	if (select && h->eng == NULL) {
		rc = MN_ERR_NOT_FOUND;
		goto out;
	}
	*ret = h;
	h = NULL;
	rc = MN_OK;
out:
	mn_handover_free(&h);
	free(outer);
	free(inner);
	return rc;
}

int mn_handover_parse_select(const uint8_t *buf, size_t len, struct mn_handover **ret)
{
	return handover_parse(buf, len, 1, ret);
}

int mn_handover_parse_request(const uint8_t *buf, size_t len, struct mn_handover **ret)
{
	return handover_parse(buf, len, 0, ret);
}

const uint8_t *mn_handover_bytes(const struct mn_handover *h, size_t *len)
{
	*len = h->len;
	return h->bytes;
}

const uint8_t *mn_handover_engagement(const struct mn_handover *h, size_t *len)
{
	*len = h->eng_len;
	return h->eng;
}

uint8_t mn_handover_version(const struct mn_handover *h)
{
	return h->version;
}

size_t mn_handover_carrier_count(const struct mn_handover *h)
{
	return h->ncar;
}

int mn_handover_carrier(const struct mn_handover *h, size_t i, struct mn_carrier *out)
{
	if (h == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (i >= h->ncar)
		return MN_ERR_NOT_FOUND;
	*out = h->car[i];
	return MN_OK;
}

int mn_handover_find_carrier(const struct mn_handover *h, enum mn_carrier_kind kind,
                             struct mn_carrier *out)
{
	size_t i;

	if (h == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < h->ncar; i++)
		if (h->car[i].kind == kind) {
			*out = h->car[i];
			return MN_OK;
		}
	return MN_ERR_NOT_FOUND;
}

#define BLE_AD_UUID128_ALL 0x07
#define BLE_AD_LE_ADDRESS  0x1b
#define BLE_AD_LE_ROLE     0x1c

int mn_ble_oob_parse(const uint8_t *cfg, size_t len, struct mn_ble_oob *out)
{
	struct mn_ble_oob b;
	size_t off = 0, i;

	if (cfg == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	memset(&b, 0, sizeof(b));
	while (off < len) {
		size_t l = cfg[off];
		const uint8_t *v;

		if (l == 0)
			return MN_ERR_FORMAT;
		if (l > len - off - 1)
			return MN_ERR_TRUNCATED;
		v = cfg + off + 2;
		switch (cfg[off + 1]) {
		case BLE_AD_LE_ROLE:
			if (l != 2)
				return MN_ERR_FORMAT;
			b.has_role = 1;
			b.le_role = v[0];
			break;
		case BLE_AD_UUID128_ALL:
			if (l != 17)
				return MN_ERR_FORMAT; /* one UUID: all 18013-5 uses */
			b.has_uuid = 1;
			for (i = 0; i < 16; i++) /* little-endian on air */
				b.uuid[i] = v[15 - i];
			break;
		case BLE_AD_LE_ADDRESS:
			if (l != 8)
				return MN_ERR_FORMAT;
			b.has_address = 1;
			memcpy(b.address, v, 7);
			break;
		default:
			break;
		}
		off += l + 1;
	}
	*out = b;
	return MN_OK;
}

/* a big-endian length field of 1..4 bytes: n, then n bytes */
static int read_max(const uint8_t *p, size_t len, size_t *off, uint32_t *v)
{
	size_t n, i;
	uint32_t x = 0;

	if (*off == len) {
		*v = 0;
		return MN_OK;
	}
	n = p[(*off)++];
	if (n == 0 || n > 4)
		return MN_ERR_FORMAT;
	if (n > len - *off)
		return MN_ERR_TRUNCATED;
	for (i = 0; i < n; i++)
		x = x << 8 | p[*off + i];
	*off += n;
	*v = x;
	return MN_OK;
}

int mn_nfc_carrier_parse(const uint8_t *cfg, size_t len, struct mn_nfc_carrier *out)
{
	struct mn_nfc_carrier c;
	size_t off = 1;
	int rc;

	if (cfg == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < 1)
		return MN_ERR_TRUNCATED;
	memset(&c, 0, sizeof(c));
	c.version = cfg[0];
	if ((rc = read_max(cfg, len, &off, &c.max_cmd)) != MN_OK ||
	    (rc = read_max(cfg, len, &off, &c.max_resp)) != MN_OK)
		return rc;
	if (off != len)
		return MN_ERR_TRAILING;
	*out = c;
	return MN_OK;
}

/* ---------------------------------------------------------------- builders */

/* Append one short record (payload < 256) to buf at *off; buf is large enough. */
static void put_record(uint8_t *buf, size_t *off, uint8_t flags, uint8_t tnf, const char *type,
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
	if (il)
		memcpy(buf + p, id, il);
	p += il;
	if (pl_len)
		memcpy(buf + p, pl, pl_len);
	*off = p + pl_len;
}

static void put_ac(uint8_t *buf, size_t *off, uint8_t flags, const char *ref)
{
	uint8_t pl[16];
	size_t n = strlen(ref);

	pl[0] = 0x01; /* active */
	pl[1] = (uint8_t)n;
	memcpy(pl + 2, ref, n);
	pl[2 + n] = 0; /* no auxiliary data */
	put_record(buf, off, flags, MN_NDEF_TNF_WELL_KNOWN, MN_NDEF_TYPE_AC, NULL, pl, n + 3);
}

static const uint8_t default_re[] = {0xa1, 0x00, 0x63, '1', '.', '0'}; /* {0: "1.0"} */

int mn_handover_build_request(const struct mn_hr_params *p, uint8_t **out, size_t *len)
{
	uint8_t inner[64], ble[32], nfc[6], hr[80];
	const uint8_t *re = default_re;
	size_t ni = 0, nb = 0, nh = 0, re_len = sizeof(default_re), cap, off = 0, i;
	uint8_t *buf = NULL;
	int rc;

	if (p == NULL || out == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	if (p->reader_engagement != NULL) {
		re = p->reader_engagement;
		re_len = p->reader_engagement_len;
	}
	if (re_len == 0 || re_len > 255)
		return MN_ERR_INVALID_ARG;
	/* embedded message: cr, then one ac per carrier */
	{
		uint8_t cr[2] = {(uint8_t)(p->random >> 8), (uint8_t)p->random};
		int last_cr = !p->ble && !p->nfc;

		put_record(inner, &ni, MN_NDEF_MB | (last_cr ? MN_NDEF_ME : 0),
		           MN_NDEF_TNF_WELL_KNOWN, MN_NDEF_TYPE_CR, NULL, cr, 2);
		if (p->ble)
			put_ac(inner, &ni, p->nfc ? 0 : MN_NDEF_ME, "0");
		if (p->nfc)
			put_ac(inner, &ni, MN_NDEF_ME, "nfc");
	}
	hr[nh++] = 0x15;
	memcpy(hr + nh, inner, ni);
	nh += ni;
	if (p->ble) {
		ble[nb++] = 2;
		ble[nb++] = BLE_AD_LE_ROLE;
		ble[nb++] = p->le_role;
		ble[nb++] = 17;
		ble[nb++] = BLE_AD_UUID128_ALL;
		for (i = 0; i < 16; i++)
			ble[nb++] = p->uuid[15 - i];
	}
	/* always the 6-byte form: some wallets read all six bytes */
	nfc[0] = 0x01;
	nfc[1] = 0x01;
	nfc[2] = (uint8_t)(p->nfc_max_cmd > 255 ? 255 : p->nfc_max_cmd);
	nfc[3] = 0x02;
	nfc[4] = (uint8_t)(p->nfc_max_resp >> 8);
	nfc[5] = (uint8_t)p->nfc_max_resp;

	cap = 256 + re_len; /* Hr < 48, BLE < 64, NFC < 32, RE header < 48 */
	if ((buf = malloc(cap)) == NULL) {
		rc = MN_ERR_NOMEM;
		goto out;
	}
	put_record(buf, &off, MN_NDEF_MB, MN_NDEF_TNF_WELL_KNOWN, MN_NDEF_TYPE_HR, NULL, hr, nh);
	if (p->ble)
		put_record(buf, &off, 0, MN_NDEF_TNF_MIME, MN_NDEF_MIME_BLE, "0", ble, nb);
	if (p->nfc)
		put_record(buf, &off, 0, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_NFC, "nfc", nfc, 6);
	put_record(buf, &off, MN_NDEF_ME, MN_NDEF_TNF_EXTERNAL, MN_NDEF_TYPE_RE, "mdocreader", re,
	           re_len);
	*out = buf;
	*len = off;
	buf = NULL;
	rc = MN_OK;
out:
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- TNEP */

#define TNEP_TYPE_TP "Tp"
#define TNEP_TYPE_TS "Ts"
#define TNEP_TYPE_TE "Te"

int mn_tnep_param_parse(const uint8_t *pl, size_t len, struct mn_tnep_param *out)
{
	struct mn_tnep_param t;
	size_t ul;

	if (pl == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < 2)
		return MN_ERR_TRUNCATED;
	ul = pl[1];
	if (ul == 0)
		return MN_ERR_FORMAT;
	if (len - 2 < ul + 5)
		return MN_ERR_TRUNCATED;
	if (len - 2 != ul + 5)
		return MN_ERR_TRAILING;
	t.version = pl[0];
	if (t.version >> 4 != 1)
		return MN_ERR_UNSUPPORTED;
	t.uri = pl + 2;
	t.uri_len = ul;
	t.mode = pl[2 + ul];
	t.wt = pl[3 + ul];
	t.n_wait = pl[4 + ul];
	t.max_ndef = (uint16_t)(pl[5 + ul] << 8 | pl[6 + ul]);
	if (t.wt > 63 || t.n_wait > 15)
		return MN_ERR_FORMAT;
	*out = t;
	return MN_OK;
}

int mn_tnep_find_service(const uint8_t *msg, size_t len, const char *uri, struct mn_tnep_param *out)
{
	struct mn_ndef_msg *m = NULL;
	size_t i, ul;
	int rc;

	if (msg == NULL || uri == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	ul = strlen(uri);
	if ((m = malloc(sizeof(*m))) == NULL)
		return MN_ERR_NOMEM;
	if ((rc = mn_ndef_parse(msg, len, m)) != MN_OK)
		goto out;
	rc = MN_ERR_NOT_FOUND;
	for (i = 0; i < m->n; i++) {
		struct mn_tnep_param t;
		int r;

		if (!mn_ndef_record_is(&m->rec[i], MN_NDEF_TNF_WELL_KNOWN, TNEP_TYPE_TP))
			continue;
		if ((r = mn_tnep_param_parse(m->rec[i].payload, m->rec[i].payload_len, &t)) !=
		    MN_OK) {
			rc = r;
			goto out;
		}
		if (t.uri_len == ul && memcmp(t.uri, uri, ul) == 0) {
			if (t.mode != 0) {
				rc = MN_ERR_UNSUPPORTED;
				goto out;
			}
			*out = t;
			rc = MN_OK;
			goto out;
		}
	}
out:
	free(m);
	return rc;
}

uint32_t mn_tnep_wait_us(uint8_t wt)
{
	/* 2^(wt/4 - 1) ms = 500 us * 2^(wt >> 2) * 2^((wt & 3) / 4) */
	static const uint32_t frac[4] = {10000, 11892, 14142, 16818};

	if (wt > 63)
		wt = 63;
	return (uint32_t)((500ull << (wt >> 2)) * frac[wt & 3] / 10000);
}

int mn_tnep_build_select(const char *uri, uint8_t **out, size_t *len)
{
	uint8_t pl[256], *buf;
	size_t ul, off = 0;

	if (uri == NULL || out == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	ul = strlen(uri);
	if (ul == 0 || ul > 254)
		return MN_ERR_INVALID_ARG;
	pl[0] = (uint8_t)ul;
	memcpy(pl + 1, uri, ul);
	if ((buf = malloc(3 + 2 + ul + 1)) == NULL)
		return MN_ERR_NOMEM;
	put_record(buf, &off, MN_NDEF_MB | MN_NDEF_ME, MN_NDEF_TNF_WELL_KNOWN, TNEP_TYPE_TS, NULL,
	           pl, ul + 1);
	*out = buf;
	*len = off;
	return MN_OK;
}

int mn_tnep_parse_status(const uint8_t *msg, size_t len, uint8_t *status)
{
	struct mn_ndef_msg *m = NULL;
	size_t i;
	int rc;

	if (msg == NULL || status == NULL)
		return MN_ERR_INVALID_ARG;
	if ((m = malloc(sizeof(*m))) == NULL)
		return MN_ERR_NOMEM;
	if ((rc = mn_ndef_parse(msg, len, m)) != MN_OK)
		goto out;
	rc = MN_ERR_NOT_FOUND;
	for (i = 0; i < m->n; i++) {
		if (!mn_ndef_record_is(&m->rec[i], MN_NDEF_TNF_WELL_KNOWN, TNEP_TYPE_TE))
			continue;
		if (m->rec[i].payload_len != 1) {
			rc = MN_ERR_FORMAT;
			goto out;
		}
		*status = m->rec[i].payload[0];
		rc = MN_OK;
		goto out;
	}
out:
	free(m);
	return rc;
}
