#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mn_err.h"
#include "mn_nfc.h"

#define CAPDU_MAX      (7 + 65535 + 2) /* extended header + data + Le */
#define SHORT_MAX_DATA 255
#define EXT_MAX_DATA   65535
#define CC_LEN         15
#define CC_FILE_ID     0xe103
#define MAX_OFFSET     0x7fff /* READ/UPDATE BINARY P1-P2 offset (b8 of P1 clear) */
#define DO53_HDR_MAX   5

#define INS_SELECT        0xa4
#define INS_READ_BINARY   0xb0
#define INS_UPDATE_BINARY 0xd6
#define INS_ENVELOPE      0xc3
#define INS_GET_RESPONSE  0xc0
#define CLA_CHAIN         0x10

static const uint8_t aid_ndef[] = {0xd2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x01};
static const uint8_t aid_mdoc[] = {0xa0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00};

struct mn_nfc {
	mn_apdu_transmit_fn transmit;
	void *ctx;
	struct mn_nfc_opts o;
	uint8_t *cbuf; /* CAPDU_MAX */
	uint8_t *rbuf; /* MN_NFC_RAPDU_MAX */
	uint16_t last_sw;
	/* from the CC file, valid once ndef_selected */
	int ndef_selected;
	uint16_t mle, mlc, max_size;
	uint8_t write_access;
	/* transport: the answer to the last send */
	uint8_t *pending;
	size_t pending_len;
};

/* ---------------------------------------------------------------- transport */

int mn_mdoc_transport_send(const struct mn_mdoc_transport *t, const uint8_t *msg, size_t len)
{
	if (t == NULL || t->ops == NULL || t->ops->send == NULL)
		return MN_ERR_INVALID_ARG;
	return t->ops->send(t->ctx, msg, len);
}

int mn_mdoc_transport_receive(const struct mn_mdoc_transport *t, uint8_t **msg, size_t *len)
{
	if (t == NULL || t->ops == NULL || t->ops->receive == NULL)
		return MN_ERR_INVALID_ARG;
	return t->ops->receive(t->ctx, msg, len);
}

void mn_mdoc_transport_close(const struct mn_mdoc_transport *t)
{
	if (t != NULL && t->ops != NULL && t->ops->close != NULL)
		t->ops->close(t->ctx);
}

/* ---------------------------------------------------------------- object */

int mn_nfc_new(mn_apdu_transmit_fn transmit, void *ctx, const struct mn_nfc_opts *opts,
               struct mn_nfc **ret)
{
	struct mn_nfc *n = NULL;
	size_t lim;
	int rc;

	if (transmit == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((n = calloc(1, sizeof(*n))) == NULL || (n->cbuf = malloc(CAPDU_MAX)) == NULL ||
	    (n->rbuf = malloc(MN_NFC_RAPDU_MAX)) == NULL) {
		rc = MN_ERR_NOMEM;
		goto out;
	}
	n->transmit = transmit;
	n->ctx = ctx;
	if (opts != NULL)
		n->o = *opts;
	lim = n->o.extended ? EXT_MAX_DATA : SHORT_MAX_DATA;
	if (n->o.max_cmd_data == 0 || n->o.max_cmd_data > lim)
		n->o.max_cmd_data = lim;
	if (n->o.max_msg == 0 || n->o.max_msg > MN_NFC_MAX_MSG)
		n->o.max_msg = MN_NFC_MAX_MSG;
	if (n->o.max_chunks == 0)
		n->o.max_chunks = MN_NFC_MAX_CHUNKS;
	if (n->o.max_polls == 0)
		n->o.max_polls = MN_NFC_MAX_POLLS;
	*ret = n;
	n = NULL;
	rc = MN_OK;
out:
	mn_nfc_free(&n);
	return rc;
}

void mn_nfc_free(struct mn_nfc **n)
{
	if (n == NULL || *n == NULL)
		return;
	free((*n)->cbuf);
	free((*n)->rbuf);
	free((*n)->pending);
	free(*n);
	*n = NULL;
}

uint16_t mn_nfc_last_sw(const struct mn_nfc *n)
{
	return n != NULL ? n->last_sw : 0;
}

/* ---------------------------------------------------------------- APDUs */

/* Transmit cbuf[0..clen); *data points into rbuf. */
static int xfer(struct mn_nfc *n, size_t clen, const uint8_t **data, size_t *dlen, uint16_t *sw)
{
	size_t rlen = 0;
	int rc;

	if ((rc = n->transmit(n->ctx, n->cbuf, clen, n->rbuf, MN_NFC_RAPDU_MAX, &rlen)) != MN_OK)
		return rc < 0 ? rc : MN_ERR_IO;
	if (rlen < 2)
		return MN_ERR_TRUNCATED;
	if (rlen > MN_NFC_RAPDU_MAX)
		return MN_ERR_TOO_LARGE;
	*sw = (uint16_t)(n->rbuf[rlen - 2] << 8 | n->rbuf[rlen - 1]);
	n->last_sw = *sw;
	*data = n->rbuf;
	*dlen = rlen - 2;
	return MN_OK;
}

static int sw_err(uint16_t sw)
{
	return sw == MN_NFC_SW_NOT_FOUND ? MN_ERR_NOT_FOUND : MN_ERR_IO;
}

/* A command without response data expected: SW must be 9000. */
static int xfer_ok(struct mn_nfc *n, size_t clen)
{
	const uint8_t *d;
	size_t dl;
	uint16_t sw;
	int rc;

	if ((rc = xfer(n, clen, &d, &dl, &sw)) != MN_OK)
		return rc;
	return sw == MN_NFC_SW_OK ? MN_OK : sw_err(sw);
}

static int select_aid(struct mn_nfc *n, const uint8_t *aid, size_t aid_len)
{
	uint8_t *c = n->cbuf;

	c[0] = 0x00;
	c[1] = INS_SELECT;
	c[2] = 0x04;
	c[3] = 0x00;
	c[4] = (uint8_t)aid_len;
	memcpy(c + 5, aid, aid_len);
	c[5 + aid_len] = 0x00;
	return xfer_ok(n, 6 + aid_len);
}

static int select_file(struct mn_nfc *n, uint16_t fid)
{
	uint8_t *c = n->cbuf;

	c[0] = 0x00;
	c[1] = INS_SELECT;
	c[2] = 0x00;
	c[3] = 0x0c; /* first or only, no response data */
	c[4] = 2;
	c[5] = (uint8_t)(fid >> 8);
	c[6] = (uint8_t)fid;
	return xfer_ok(n, 7);
}

/* READ BINARY le (1..255) bytes at off into dst; the card may return fewer, never none. */
static int read_binary(struct mn_nfc *n, size_t off, size_t le, uint8_t *dst, size_t *got)
{
	uint8_t *c = n->cbuf;
	const uint8_t *d;
	size_t dl;
	uint16_t sw;
	int rc;

	if (off > MAX_OFFSET || le == 0 || le > SHORT_MAX_DATA)
		return MN_ERR_INTERNAL;
	c[0] = 0x00;
	c[1] = INS_READ_BINARY;
	c[2] = (uint8_t)(off >> 8);
	c[3] = (uint8_t)off;
	c[4] = (uint8_t)le;
	if ((rc = xfer(n, 5, &d, &dl, &sw)) != MN_OK)
		return rc;
	if (sw != MN_NFC_SW_OK)
		return sw_err(sw);
	if (dl == 0)
		return MN_ERR_TRUNCATED;
	if (dl > le)
		return MN_ERR_FORMAT;
	memcpy(dst, d, dl);
	*got = dl;
	return MN_OK;
}

static int update_binary(struct mn_nfc *n, size_t off, const uint8_t *data, size_t len)
{
	uint8_t *c = n->cbuf;

	if (off > MAX_OFFSET || len == 0 || len > SHORT_MAX_DATA)
		return MN_ERR_INTERNAL;
	c[0] = 0x00;
	c[1] = INS_UPDATE_BINARY;
	c[2] = (uint8_t)(off >> 8);
	c[3] = (uint8_t)off;
	c[4] = (uint8_t)len;
	memcpy(c + 5, data, len);
	return xfer_ok(n, 5 + len);
}

/* ---------------------------------------------------------------- Type 4 tag */

int mn_nfc_ndef_select(struct mn_nfc *n)
{
	uint8_t cc[CC_LEN];
	size_t got = 0, have = 0;
	uint16_t cclen, fid, mle, mlc, max_size;
	int rc;

	if (n == NULL)
		return MN_ERR_INVALID_ARG;
	n->ndef_selected = 0;
	if ((rc = select_aid(n, aid_ndef, sizeof(aid_ndef))) != MN_OK ||
	    (rc = select_file(n, CC_FILE_ID)) != MN_OK)
		goto out;
	while (have < CC_LEN) { /* at most CC_LEN reads: each returns >= 1 byte */
		if ((rc = read_binary(n, have, CC_LEN - have, cc + have, &got)) != MN_OK)
			goto out;
		have += got;
	}
	cclen = (uint16_t)(cc[0] << 8 | cc[1]);
	mle = (uint16_t)(cc[3] << 8 | cc[4]);
	mlc = (uint16_t)(cc[5] << 8 | cc[6]);
	fid = (uint16_t)(cc[9] << 8 | cc[10]);
	max_size = (uint16_t)(cc[11] << 8 | cc[12]);
	rc = MN_ERR_FORMAT;
	if (cclen < CC_LEN)
		goto out;
	if (cc[2] >> 4 != 2 && cc[2] >> 4 != 3) {
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if (mle < 0x000f || mlc < 0x0001)
		goto out;
	if (cc[7] == 0x06) { /* extended NDEF file control TLV: files beyond 64 KiB */
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if (cc[7] != 0x04 || cc[8] != 0x06)
		goto out;
	if (fid == 0x0000 || fid == 0xe102 || fid == 0xe103 || fid == 0x3f00 || fid == 0x3fff ||
	    fid == 0xffff)
		goto out;
	if (max_size < 3 || max_size == 0xffff)
		goto out;
	if (cc[13] != 0x00) { /* read access not granted */
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if ((rc = select_file(n, fid)) != MN_OK)
		goto out;
	n->mle = mle;
	n->mlc = mlc;
	n->max_size = max_size;
	n->write_access = cc[14];
	n->ndef_selected = 1;
	rc = MN_OK;
out:
	return rc;
}

int mn_nfc_ndef_read(struct mn_nfc *n, uint8_t **msg, size_t *len)
{
	uint8_t nlen_b[2], *buf = NULL;
	size_t got, have = 0, nlen, chunk;
	unsigned reads = 0;
	int rc;

	if (n == NULL || msg == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	if (!n->ndef_selected)
		return MN_ERR_INVALID_ARG;
	while (have < 2) {
		if ((rc = read_binary(n, have, 2 - have, nlen_b + have, &got)) != MN_OK)
			goto out;
		have += got;
	}
	nlen = (size_t)nlen_b[0] << 8 | nlen_b[1];
	if (nlen > (size_t)n->max_size - 2) {
		rc = MN_ERR_FORMAT;
		goto out;
	}
	if (nlen > n->o.max_msg) {
		rc = MN_ERR_TOO_LARGE;
		goto out;
	}
	if (nlen == 0) {
		*msg = NULL;
		*len = 0;
		rc = MN_OK;
		goto out;
	}
	if (2 + nlen - 1 > MAX_OFFSET) {
		rc = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if ((buf = malloc(nlen)) == NULL) {
		rc = MN_ERR_NOMEM;
		goto out;
	}
	chunk = n->mle < SHORT_MAX_DATA ? n->mle : SHORT_MAX_DATA;
	have = 0;
	while (have < nlen) {
		size_t want = nlen - have < chunk ? nlen - have : chunk;

		if (++reads > n->o.max_chunks) {
			rc = MN_ERR_TOO_LARGE;
			goto out;
		}
		if ((rc = read_binary(n, 2 + have, want, buf + have, &got)) != MN_OK)
			goto out;
		have += got;
	}
	*msg = buf;
	*len = nlen;
	buf = NULL;
	rc = MN_OK;
out:
	free(buf);
	return rc;
}

int mn_nfc_ndef_write(struct mn_nfc *n, const uint8_t *msg, size_t len)
{
	uint8_t tmp[SHORT_MAX_DATA];
	size_t chunk, off;
	int rc;

	if (n == NULL || msg == NULL || len == 0)
		return MN_ERR_INVALID_ARG;
	if (!n->ndef_selected)
		return MN_ERR_INVALID_ARG;
	if (n->write_access != 0x00)
		return MN_ERR_UNSUPPORTED;
	if (len > (size_t)n->max_size - 2)
		return MN_ERR_TOO_LARGE;
	if (2 + len - 1 > MAX_OFFSET)
		return MN_ERR_UNSUPPORTED;
	chunk = n->mlc < SHORT_MAX_DATA ? n->mlc : SHORT_MAX_DATA;
	if (2 + len <= chunk) { /* one APDU: NLEN || message */
		tmp[0] = (uint8_t)(len >> 8);
		tmp[1] = (uint8_t)len;
		memcpy(tmp + 2, msg, len);
		return update_binary(n, 0, tmp, 2 + len);
	}
	if (chunk < 2)
		return MN_ERR_UNSUPPORTED;
	tmp[0] = tmp[1] = 0;
	if ((rc = update_binary(n, 0, tmp, 2)) != MN_OK)
		return rc;
	for (off = 0; off < len; off += chunk) {
		size_t l = len - off < chunk ? len - off : chunk;

		if ((rc = update_binary(n, 2 + off, msg + off, l)) != MN_OK)
			return rc;
	}
	tmp[0] = (uint8_t)(len >> 8);
	tmp[1] = (uint8_t)len;
	return update_binary(n, 0, tmp, 2);
}

static void do_sleep(struct mn_nfc *n, uint32_t usec)
{
	struct timespec ts;

	if (n->o.sleep != NULL) {
		n->o.sleep(n->o.sleep_ctx, usec);
		return;
	}
	ts.tv_sec = usec / 1000000;
	ts.tv_nsec = (long)(usec % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* Read until the tag has a message (NLEN > 0), waiting wait_us before each read. */
static int poll_read(struct mn_nfc *n, uint32_t wait_us, uint8_t **msg, size_t *len)
{
	unsigned i;
	int rc;

	for (i = 0; i < n->o.max_polls; i++) {
		uint8_t *m = NULL;
		size_t l = 0;

		do_sleep(n, wait_us);
		if ((rc = mn_nfc_ndef_read(n, &m, &l)) != MN_OK)
			return rc;
		if (l > 0) {
			*msg = m;
			*len = l;
			return MN_OK;
		}
	}
	return MN_ERR_TIMEOUT;
}

static int negotiate(struct mn_nfc *n, const struct mn_tnep_param *tp,
                     const struct mn_hr_params *hrp, struct mn_handover **hs_out,
                     struct mn_handover **hr_out)
{
	uint8_t *ts = NULL, *te = NULL, *hrb = NULL, *hsb = NULL, status;
	size_t ts_len, te_len, hr_len, hs_len;
	struct mn_handover *hr = NULL, *hs = NULL;
	uint32_t wait = mn_tnep_wait_us(tp->wt);
	int rc;

	if (hrp == NULL) {
		rc = MN_ERR_INVALID_ARG;
		goto out;
	}
	if ((rc = mn_tnep_build_select(MN_TNEP_HANDOVER_SERVICE, &ts, &ts_len)) != MN_OK ||
	    (rc = mn_nfc_ndef_write(n, ts, ts_len)) != MN_OK ||
	    (rc = poll_read(n, wait, &te, &te_len)) != MN_OK ||
	    (rc = mn_tnep_parse_status(te, te_len, &status)) != MN_OK)
		goto out;
	if (status != 0) {
		rc = MN_ERR_IO;
		goto out;
	}
	if ((rc = mn_handover_build_request(hrp, &hrb, &hr_len)) != MN_OK ||
	    (rc = mn_handover_parse_request(hrb, hr_len, &hr)) != MN_OK)
		goto out;
	if (tp->max_ndef != 0 && hr_len > tp->max_ndef) {
		rc = MN_ERR_TOO_LARGE;
		goto out;
	}
	if ((rc = mn_nfc_ndef_write(n, hrb, hr_len)) != MN_OK ||
	    (rc = poll_read(n, wait, &hsb, &hs_len)) != MN_OK ||
	    (rc = mn_handover_parse_select(hsb, hs_len, &hs)) != MN_OK)
		goto out;
	*hs_out = hs;
	*hr_out = hr;
	hs = hr = NULL;
	rc = MN_OK;
out:
	free(ts);
	free(te);
	free(hrb);
	free(hsb);
	mn_handover_free(&hr);
	mn_handover_free(&hs);
	return rc;
}

int mn_nfc_engage(struct mn_nfc *n, const struct mn_hr_params *hr_params, struct mn_handover **hs,
                  struct mn_handover **hr)
{
	uint8_t *msg = NULL;
	size_t len = 0;
	struct mn_tnep_param tp;
	struct mn_handover *h = NULL;
	int rc;

	if (n == NULL || hs == NULL || hr == NULL)
		return MN_ERR_INVALID_ARG;
	if ((rc = mn_nfc_ndef_read(n, &msg, &len)) != MN_OK)
		goto out;
	if (len == 0) {
		rc = MN_ERR_NOT_FOUND; /* empty NDEF file: nothing to engage with */
		goto out;
	}
	rc = mn_tnep_find_service(msg, len, MN_TNEP_HANDOVER_SERVICE, &tp);
	if (rc == MN_OK) {
		rc = negotiate(n, &tp, hr_params, hs, hr);
		goto out;
	}
	if (rc != MN_ERR_NOT_FOUND)
		goto out;
	if ((rc = mn_handover_parse_select(msg, len, &h)) != MN_OK)
		goto out;
	*hs = h;
	*hr = NULL;
	rc = MN_OK;
out:
	free(msg);
	return rc;
}

/* ---------------------------------------------------------------- data retrieval */

int mn_nfc_mdoc_select(struct mn_nfc *n)
{
	if (n == NULL)
		return MN_ERR_INVALID_ARG;
	n->ndef_selected = 0;
	return select_aid(n, aid_mdoc, sizeof(aid_mdoc));
}

int mn_nfc_do53_wrap(const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len)
{
	uint8_t hdr[DO53_HDR_MAX], *buf;
	size_t h = 0;

	if ((msg == NULL && len > 0) || out == NULL || out_len == NULL)
		return MN_ERR_INVALID_ARG;
	hdr[h++] = 0x53;
	if (len < 0x80) {
		hdr[h++] = (uint8_t)len;
	} else if (len <= 0xff) {
		hdr[h++] = 0x81;
		hdr[h++] = (uint8_t)len;
	} else if (len <= 0xffff) {
		hdr[h++] = 0x82;
		hdr[h++] = (uint8_t)(len >> 8);
		hdr[h++] = (uint8_t)len;
	} else if (len <= 0xffffff) {
		hdr[h++] = 0x83;
		hdr[h++] = (uint8_t)(len >> 16);
		hdr[h++] = (uint8_t)(len >> 8);
		hdr[h++] = (uint8_t)len;
	} else {
		return MN_ERR_TOO_LARGE;
	}
	if ((buf = malloc(h + len + 1)) == NULL)
		return MN_ERR_NOMEM;
	memcpy(buf, hdr, h);
	if (len > 0)
		memcpy(buf + h, msg, len);
	*out = buf;
	*out_len = h + len;
	return MN_OK;
}

int mn_nfc_do53_unwrap(const uint8_t *buf, size_t len, const uint8_t **val, size_t *val_len)
{
	size_t h, l, i, nb;

	if (buf == NULL || val == NULL || val_len == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < 2)
		return MN_ERR_TRUNCATED;
	if (buf[0] != 0x53)
		return MN_ERR_FORMAT;
	if (buf[1] < 0x80) {
		l = buf[1];
		h = 2;
	} else {
		nb = buf[1] & 0x7f;
		if (nb == 0 || nb > 3)
			return MN_ERR_FORMAT;
		if (len - 2 < nb)
			return MN_ERR_TRUNCATED;
		for (l = 0, i = 0; i < nb; i++)
			l = l << 8 | buf[2 + i];
		h = 2 + nb;
	}
	if (l > len - h)
		return MN_ERR_TRUNCATED;
	if (l < len - h)
		return MN_ERR_TRAILING;
	*val = buf + h;
	*val_len = l;
	return MN_OK;
}

/* ENVELOPE with data; last: CLA 00 and Le "max" */
static size_t build_envelope(struct mn_nfc *n, int last, const uint8_t *d, size_t l)
{
	uint8_t *c = n->cbuf;
	size_t p = 0;

	c[p++] = last ? 0x00 : CLA_CHAIN;
	c[p++] = INS_ENVELOPE;
	c[p++] = 0x00;
	c[p++] = 0x00;
	if (n->o.extended) {
		c[p++] = 0x00;
		c[p++] = (uint8_t)(l >> 8);
		c[p++] = (uint8_t)l;
	} else {
		c[p++] = (uint8_t)l;
	}
	memcpy(c + p, d, l);
	p += l;
	if (last) {
		c[p++] = 0x00;
		if (n->o.extended)
			c[p++] = 0x00;
	}
	return p;
}

static size_t build_get_response(struct mn_nfc *n, uint8_t sw2)
{
	uint8_t *c = n->cbuf;
	size_t p = 0;

	c[p++] = 0x00;
	c[p++] = INS_GET_RESPONSE;
	c[p++] = 0x00;
	c[p++] = 0x00;
	if (sw2 == 0 && n->o.extended) { /* "more than 255": ask for up to 65536 */
		c[p++] = 0x00;
		c[p++] = 0x00;
		c[p++] = 0x00;
	} else {
		c[p++] = sw2; /* 00 = 256 */
	}
	return p;
}

int mn_nfc_mdoc_exchange(struct mn_nfc *n, const uint8_t *msg, size_t len, uint8_t **resp,
                         size_t *resp_len)
{
	uint8_t *w = NULL, *acc = NULL, *out = NULL;
	size_t wlen = 0, off, clen, dlen, acc_len = 0, acc_cap = 0, limit, vlen;
	const uint8_t *d, *val;
	unsigned steps = 0;
	uint16_t sw;
	int rc;

	if (n == NULL || msg == NULL || resp == NULL || resp_len == NULL)
		return MN_ERR_INVALID_ARG;
	if (len > n->o.max_msg)
		return MN_ERR_TOO_LARGE;
	if ((rc = mn_nfc_do53_wrap(msg, len, &w, &wlen)) != MN_OK)
		goto out;
	/* command: ENVELOPE chunks, CLA 10 until the last */
	for (off = 0;;) {
		size_t l = wlen - off < n->o.max_cmd_data ? wlen - off : n->o.max_cmd_data;
		int last = off + l == wlen;

		if (++steps > n->o.max_chunks) {
			rc = MN_ERR_TOO_LARGE;
			goto out;
		}
		clen = build_envelope(n, last, w + off, l);
		if ((rc = xfer(n, clen, &d, &dlen, &sw)) != MN_OK)
			goto out;
		off += l;
		if (last)
			break;
		if (sw != MN_NFC_SW_OK) {
			rc = sw_err(sw);
			goto out;
		}
		if (dlen != 0) {
			rc = MN_ERR_FORMAT;
			goto out;
		}
	}
	/* response: data of the last ENVELOPE, then GET RESPONSE while 61xx */
	limit = n->o.max_msg + DO53_HDR_MAX;
	steps = 0;
	for (;;) {
		if (dlen > limit - acc_len) {
			rc = MN_ERR_TOO_LARGE;
			goto out;
		}
		if (acc_len + dlen > acc_cap) {
			size_t cap = acc_cap ? acc_cap : 4096;
			uint8_t *t;

			while (cap < acc_len + dlen)
				cap *= 2;
			if (cap > limit)
				cap = limit;
			if ((t = realloc(acc, cap)) == NULL) {
				rc = MN_ERR_NOMEM;
				goto out;
			}
			acc = t;
			acc_cap = cap;
		}
		if (dlen > 0)
			memcpy(acc + acc_len, d, dlen);
		acc_len += dlen;
		if (sw == MN_NFC_SW_OK)
			break;
		if (sw >> 8 != 0x61) {
			rc = sw_err(sw);
			goto out;
		}
		if (++steps > n->o.max_chunks) {
			rc = MN_ERR_TOO_LARGE;
			goto out;
		}
		clen = build_get_response(n, (uint8_t)sw);
		if ((rc = xfer(n, clen, &d, &dlen, &sw)) != MN_OK)
			goto out;
	}
	if (acc == NULL) {
		rc = MN_ERR_TRUNCATED;
		goto out;
	}
	if ((rc = mn_nfc_do53_unwrap(acc, acc_len, &val, &vlen)) != MN_OK)
		goto out;
	if (vlen > n->o.max_msg) {
		rc = MN_ERR_TOO_LARGE;
		goto out;
	}
	if ((out = malloc(vlen ? vlen : 1)) == NULL) {
		rc = MN_ERR_NOMEM;
		goto out;
	}
	if (vlen > 0)
		memcpy(out, val, vlen);
	*resp = out;
	*resp_len = vlen;
	rc = MN_OK;
out:
	free(w);
	free(acc);
	return rc;
}

/* ---------------------------------------------------------------- transport over NFC */

static int nfc_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct mn_nfc *n = ctx;
	uint8_t *r = NULL;
	size_t rl = 0;
	int rc;

	if ((rc = mn_nfc_mdoc_exchange(n, msg, len, &r, &rl)) != MN_OK)
		return rc;
	free(n->pending);
	n->pending = r;
	n->pending_len = rl;
	return MN_OK;
}

static int nfc_receive(void *ctx, uint8_t **msg, size_t *len)
{
	struct mn_nfc *n = ctx;

	if (msg == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	if (n->pending == NULL)
		return MN_ERR_NOT_FOUND; /* NFC answers only what was sent */
	*msg = n->pending;
	*len = n->pending_len;
	n->pending = NULL;
	n->pending_len = 0;
	return MN_OK;
}

static void nfc_close(void *ctx)
{
	struct mn_nfc *n = ctx;

	free(n->pending);
	n->pending = NULL;
	n->pending_len = 0;
}

static const struct mn_mdoc_transport_ops nfc_ops = {
    .send = nfc_send,
    .receive = nfc_receive,
    .close = nfc_close,
};

void mn_nfc_transport(struct mn_nfc *n, struct mn_mdoc_transport *out)
{
	out->ops = &nfc_ops;
	out->ctx = n;
}
