/*
 * Fuzz target "engagement": mdoc NFC engagement (lib/mdoc/mn_ndef.h, mn_nfc.h). The first
 * byte chooses:
 *  even: the rest through the pure parsers: NDEF message, Handover Select and Request (and
 *        every carrier, BLE OOB and NFC carrier configuration, the DeviceEngagement), TNEP
 *        service parameter and status, the DO'53' unwrap;
 *  odd:  a scripted fake phone: every R-APDU the reader gets is the next piece of the input
 *        (2-byte length, then the bytes) whatever the C-APDU, for mn_nfc_engage (static or
 *        negotiated handover, as the answers lead it) then SELECT of the mdoc application and
 *        one data retrieval exchange (ENVELOPE / GET RESPONSE chains).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_err.h"
#include "mn_ndef.h"
#include "mn_nfc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void handover(const struct mn_handover *h)
{
	struct mn_carrier c;
	struct mn_ble_oob ble;
	struct mn_nfc_carrier nfc;
	size_t i, n, len;

	(void)mn_handover_bytes(h, &len);
	(void)mn_handover_engagement(h, &len);
	(void)mn_handover_version(h);
	n = mn_handover_carrier_count(h);
	for (i = 0; i < n + 1; i++) {
		if (mn_handover_carrier(h, i, &c) != MN_OK)
			continue;
		if (c.kind == MN_CARRIER_BLE)
			(void)mn_ble_oob_parse(c.config, c.config_len, &ble);
		else if (c.kind == MN_CARRIER_NFC)
			(void)mn_nfc_carrier_parse(c.config, c.config_len, &nfc);
	}
	(void)mn_handover_find_carrier(h, MN_CARRIER_BLE, &c);
	(void)mn_handover_find_carrier(h, MN_CARRIER_NFC, &c);
}

static void parsers(const uint8_t *p, size_t n)
{
	struct mn_ndef_msg *msg = malloc(sizeof(*msg));
	struct mn_handover *h = NULL;
	struct mn_tnep_param tp;
	struct mn_ble_oob ble;
	struct mn_nfc_carrier nfc;
	const uint8_t *v;
	size_t vl, i;
	uint8_t status;

	if (msg != NULL && mn_ndef_parse(p, n, msg) == MN_OK) {
		if (msg->n > MN_NDEF_MAX_RECORDS)
			abort();
		for (i = 0; i < msg->n; i++) {
			(void)mn_ndef_record_is(&msg->rec[i], MN_NDEF_TNF_WELL_KNOWN, "Hs");
			(void)mn_tnep_param_parse(msg->rec[i].payload, msg->rec[i].payload_len,
			                          &tp);
		}
	}
	free(msg);
	if (mn_handover_parse_select(p, n, &h) == MN_OK) {
		handover(h);
		mn_handover_free(&h);
	}
	if (mn_handover_parse_request(p, n, &h) == MN_OK) {
		handover(h);
		mn_handover_free(&h);
	}
	(void)mn_tnep_find_service(p, n, MN_TNEP_HANDOVER_SERVICE, &tp);
	(void)mn_tnep_parse_status(p, n, &status);
	(void)mn_ble_oob_parse(p, n, &ble);
	(void)mn_nfc_carrier_parse(p, n, &nfc);
	if (mn_nfc_do53_unwrap(p, n, &v, &vl) == MN_OK && (v < p || v + vl > p + n))
		abort();
	if (n > 0)
		(void)mn_tnep_wait_us(p[0]);
}

/* The fake phone: the next piece of the input, whatever was asked. */
static int scripted(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t rcap,
                    size_t *rlen)
{
	struct fuzz_in *in = ctx;
	const uint8_t *p;
	size_t n;

	if (in->n == 0)
		return MN_ERR_TOKEN_REMOVED; /* the phone left */
	p = fuzz_piece(in, &n);
	if (n > rcap)
		n = rcap;
	memcpy(rapdu, p, n);
	*rlen = n;
	return MN_OK;
}

static void no_sleep(void *ctx, uint32_t usec)
{
}

static void flow(const uint8_t *p, size_t n, uint8_t flags)
{
	struct fuzz_in in = {p, n};
	struct mn_nfc_opts o;
	struct mn_hr_params hp;
	struct mn_nfc *nfc = NULL;
	struct mn_handover *hs = NULL, *hr = NULL;
	uint8_t *resp = NULL;
	size_t resp_len;
	static const uint8_t req[] = {0xa1, 0x64, 'd', 'a', 't', 'a', 0x41, 0x00};

	memset(&o, 0, sizeof(o));
	o.extended = flags & 1;
	o.max_cmd_data = flags & 2 ? 16 : 0;
	o.max_msg = 64 * 1024;
	o.max_chunks = 64;
	o.max_polls = 4;
	o.sleep = no_sleep;
	memset(&hp, 0, sizeof(hp));
	hp.random = 0x1234;
	hp.ble = (flags & 4) != 0;
	hp.nfc = 1;
	hp.nfc_max_cmd = 255;
	hp.nfc_max_resp = 256;
	if (mn_nfc_new(scripted, &in, &o, &nfc) != MN_OK)
		return;
	if (mn_nfc_ndef_select(nfc) == MN_OK && mn_nfc_engage(nfc, &hp, &hs, &hr) == MN_OK) {
		handover(hs);
		if (hr != NULL)
			handover(hr);
		if (mn_nfc_mdoc_select(nfc) == MN_OK &&
		    mn_nfc_mdoc_exchange(nfc, req, sizeof(req), &resp, &resp_len) == MN_OK)
			free(resp);
	}
	(void)mn_nfc_last_sw(nfc);
	mn_handover_free(&hs);
	mn_handover_free(&hr);
	mn_nfc_free(&nfc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0)
		parsers(data + 1, size - 1);
	else
		flow(data + 1, size - 1, data[0] >> 1);
	return 0;
}
