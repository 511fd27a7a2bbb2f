/*
 * Seed generator of tests/fuzz/make-corpus.sh (not a test): one ISO 18013-5 session between
 * the reader library and mynumber-sim's wallet profile, in one process (the wallet's APDU
 * handler as the transmit callback, no pcscd), writing into OUTDIR:
 *   apdus.bin        0x01, then every R-APDU the wallet answered (2-byte length + bytes):
 *                    a script for fuzz_engagement's fake phone
 *   hs.ndef          the Handover Select (NDEF message)
 *   de.cbor          the DeviceEngagement
 *   transcript.cbor  the SessionTranscriptBytes of the session
 *   establish.cbor   the SessionEstablishment sent
 *   sessiondata.cbor the SessionData answered
 *   response.cbor    the DeviceResponse (plaintext), verifiable with the wallet's iaca.pem
 *                    and transcript.cbor
 *   reader-key.cbor  EReaderKeyBytes (COSE_Key)
 * usage: gen-seeds WALLETDIR OUTDIR [tnep]   (WALLETDIR from "mynumber-sim init --profile wallet";
 *        tnep: negotiated handover; then only apdus.bin is of interest)
 *
 * gen-seeds --card CARDDIR OUTDIR: the APDUs the OpenSC driver and the login send to a card
 * made by "mynumber-sim init" (select, token info, certificates, PIN status, the card-info
 * attributes after the info PIN), into OUTDIR:
 *   card-apdus.bin   every R-APDU answered (2-byte length + bytes)
 *   capdu-N.bin      the C-APDUs sent
 *   tokeninfo.bin    EF 0006, attrs.bin the card-info EF 0002, auth-cert.bin EF 000A
 */
#include "config.h"

#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/sim/sim.h"
#include "../../tools/sim/sim_wallet.h"
#include "fuzz_keys.h"
#include "mn_cbor.h"
#include "mn_err.h"
#include "mn_mdoc_reader.h"
#include "mn_mdoc_session.h"
#include "mn_nfc.h"

struct rec {
	struct sim_card *card;
	FILE *apdus;
};

static int transmit(void *ctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap, size_t *rlen)
{
	struct rec *t = ctx;
	uint8_t out[65536 + 2];
	size_t n = sizeof(out);
	int rc;

	if ((rc = sim_wallet_apdu(t->card->wallet, c, clen, out, &n)) != MN_OK)
		return rc;
	if (n > rcap)
		return MN_ERR_TOO_LARGE;
	memcpy(r, out, n);
	*rlen = n;
	fputc((int)(n >> 8), t->apdus);
	fputc((int)(n & 0xff), t->apdus);
	fwrite(out, 1, n, t->apdus);
	return MN_OK;
}

static void put(const char *dir, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void die(const char *what, int r)
{
	fprintf(stderr, "gen-seeds: %s: %d\n", what, r);
	exit(1);
}

/* One C-APDU to the card: its data in out (cap bytes), the SW returned. */
static unsigned card_apdu(struct rec *t, const char *dir, const uint8_t *c, size_t clen,
                          uint8_t *out, size_t cap, size_t *dlen)
{
	static unsigned seq;
	uint8_t r[SIM_RAPDU_BUF];
	size_t n = sizeof(r);
	char name[32];

	snprintf(name, sizeof(name), "capdu-%02u.bin", seq++);
	put(dir, name, c, clen);
	if (sim_card_apdu(t->card, c, clen, r, &n) != MN_OK || n < 2)
		die("card APDU", 0);
	fputc((int)(n >> 8), t->apdus);
	fputc((int)(n & 0xff), t->apdus);
	fwrite(r, 1, n, t->apdus);
	*dlen = n - 2 < cap ? n - 2 : cap;
	memcpy(out, r, *dlen);
	return (unsigned)r[n - 2] << 8 | r[n - 1];
}

static size_t read_ef(struct rec *t, const char *dir, uint16_t fid, uint8_t *out, size_t cap)
{
	uint8_t sel[] = {0x00, 0xa4, 0x02, 0x0c, 0x02, (uint8_t)(fid >> 8), (uint8_t)fid};
	uint8_t rb[5] = {0x00, 0xb0, 0, 0, 0};
	size_t have = 0, n;

	if (card_apdu(t, dir, sel, sizeof(sel), out, 0, &n) != 0x9000)
		return 0;
	while (have < cap) {
		rb[2] = (uint8_t)(have >> 8);
		rb[3] = (uint8_t)have;
		if (card_apdu(t, dir, rb, sizeof(rb), out + have, cap - have, &n) != 0x9000 ||
		    n == 0)
			break;
		have += n;
	}
	return have;
}

static int card_main(const char *carddir, const char *dir)
{
	static const uint8_t jpki[] = {0x00, 0xa4, 0x04, 0x0c, 0x0a, 0xd3, 0x92, 0xf0,
	                               0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t info[] = {0x00, 0xa4, 0x04, 0x0c, 0x0a, 0xd3, 0x92, 0x10,
	                               0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08};
	static const uint8_t sel_pin[] = {0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x18};
	static const uint8_t pin_status[] = {0x00, 0x20, 0x00, 0x80};
	uint8_t buf[4096], verify[9] = {0x00, 0x20, 0x00, 0x80, 0x04};
	struct sim_conf conf;
	struct rec t;
	char path[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/card-apdus.bin", dir);
	if ((t.apdus = fopen(path, "wb")) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/card.conf", carddir);
	if (sim_conf_load(path, &conf) != MN_OK ||
	    sim_card_load(carddir, dir, -1, &t.card) != MN_OK)
		die("card", 0);
	card_apdu(&t, dir, jpki, sizeof(jpki), buf, 0, &n);
	put(dir, "tokeninfo.bin", buf, read_ef(&t, dir, 0x0006, buf, 160));
	put(dir, "auth-cert.bin", buf, read_ef(&t, dir, 0x000a, buf, 2048));
	card_apdu(&t, dir, sel_pin, sizeof(sel_pin), buf, 0, &n);
	card_apdu(&t, dir, pin_status, sizeof(pin_status), buf, 0, &n);
	card_apdu(&t, dir, info, sizeof(info), buf, 0, &n);
	buf[0] = 0;
	{
		uint8_t sel[] = {0x00, 0xa4, 0x02, 0x0c, 0x02, 0x00, 0x11};
		card_apdu(&t, dir, sel, sizeof(sel), buf, 0, &n);
	}
	memcpy(verify + 5, conf.pins[SIM_PIN_INFO], 4);
	verify[3] = 0x80;
	card_apdu(&t, dir, verify, sizeof(verify), buf, 0, &n);
	put(dir, "attrs.bin", buf, read_ef(&t, dir, 0x0002, buf, sizeof(buf)));
	fclose(t.apdus);
	sim_card_free(&t.card);
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_wallet_run_opts wo;
	struct rec t;
	struct mn_nfc *nfc = NULL;
	struct mn_handover *hs = NULL, *hr = NULL;
	struct mn_hr_params hp;
	struct mn_mdoc_session *s = NULL;
	const struct mn_mdoc_element *el;
	EVP_PKEY *rk;
	cbor_item_t *de_item = NULL, *sec, *edk;
	const uint8_t *de, *hsb, *d;
	uint8_t *rkb, *st, *items, *dreq, *ct, *est, *resp, *pt, *edkb = NULL;
	size_t de_len, hs_len, rkb_len, st_len, items_len, dreq_len, ct_len, est_len, resp_len,
	    pt_len, dlen, n_el, edkb_len, edkb_cap = 0;
	char why[256], path[4096];
	int r, status;

	if (argc == 4 && strcmp(argv[1], "--card") == 0)
		return card_main(argv[2], argv[3]);
	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "tnep") == 0)) {
		fputs("usage: gen-seeds WALLETDIR OUTDIR [tnep] | --card CARDDIR OUTDIR\n", stderr);
		return 2;
	}
	memset(&wo, 0, sizeof(wo));
	wo.biometric_ok = 1;
	wo.tnep = argc == 4;
	snprintf(path, sizeof(path), "%s/apdus.bin", argv[2]);
	if ((t.apdus = fopen(path, "wb")) == NULL)
		return 1;
	fputc(0x01, t.apdus);
	if ((r = sim_wallet_card_load(argv[1], &wo, &t.card)) != MN_OK)
		die("sim_wallet_card_load", r);
	if ((rk = fuzz_key(fuzz_reader_pem)) == NULL)
		die("reader key", 0);
	memset(&hp, 0, sizeof(hp));
	hp.nfc = 1;
	hp.random = 0x4242;
	hp.nfc_max_cmd = 255;
	hp.nfc_max_resp = 256;
	if ((r = mn_nfc_new(transmit, &t, NULL, &nfc)) != MN_OK ||
	    (r = mn_nfc_ndef_select(nfc)) != MN_OK ||
	    (r = mn_nfc_engage(nfc, &hp, &hs, &hr)) != MN_OK)
		die("engagement", r);
	hsb = mn_handover_bytes(hs, &hs_len);
	de = mn_handover_engagement(hs, &de_len);
	put(argv[2], "hs.ndef", hsb, hs_len);
	put(argv[2], "de.cbor", de, de_len);
	if (wo.tnep) { /* the negotiated handover's APDUs are all that is wanted */
		fclose(t.apdus);
		mn_handover_free(&hs);
		mn_handover_free(&hr);
		mn_nfc_free(&nfc);
		sim_card_free(&t.card);
		EVP_PKEY_free(rk);
		return 0;
	}
	/* EDeviceKeyBytes: DeviceEngagement {1: [1, #6.24(bstr)]} */
	if ((r = mn_cbor_load_strict(de, de_len, &de_item, why, sizeof(why))) != MN_OK ||
	    (sec = mn_cbor_map_get_int(de_item, 1)) == NULL || !cbor_isa_array(sec) ||
	    cbor_array_size(sec) < 2 || (edk = cbor_array_handle(sec)[1]) == NULL ||
	    (edkb_len = cbor_serialize_alloc(edk, &edkb, &edkb_cap)) == 0)
		die("EDeviceKeyBytes", r);
	if ((r = mn_mdoc_ereader_key_bytes(rk, &rkb, &rkb_len)) != MN_OK ||
	    (r = mn_mdoc_session_transcript_build(de, de_len, rkb, rkb_len, hsb, hs_len, NULL, 0,
	                                          &st, &st_len)) != MN_OK ||
	    (r = mn_mdoc_session_new(rk, edkb, edkb_len, st, st_len, &s)) != MN_OK)
		die("session", r);
	put(argv[2], "transcript.cbor", st, st_len);
	put(argv[2], "reader-key.cbor", rkb, rkb_len);
	el = mn_mdoc_reader_default_elements(&n_el);
	if ((r = mn_mdoc_items_request_build(MN_MDOC_JP_DOCTYPE, el, n_el, &items, &items_len)) !=
	        MN_OK ||
	    (r = mn_mdoc_device_request_build(items, items_len, &dreq, &dreq_len)) != MN_OK ||
	    (r = mn_mdoc_session_encrypt(s, dreq, dreq_len, &ct, &ct_len)) != MN_OK ||
	    (r = mn_mdoc_session_establishment_build(rkb, rkb_len, ct, ct_len, &est, &est_len)) !=
	        MN_OK)
		die("request", r);
	put(argv[2], "establish.cbor", est, est_len);
	if ((r = mn_nfc_mdoc_select(nfc)) != MN_OK ||
	    (r = mn_nfc_mdoc_exchange(nfc, est, est_len, &resp, &resp_len)) != MN_OK)
		die("exchange", r);
	put(argv[2], "sessiondata.cbor", resp, resp_len);
	if ((r = mn_mdoc_session_data_parse(resp, resp_len, &d, &dlen, &status)) != MN_OK ||
	    d == NULL || (r = mn_mdoc_session_decrypt(s, d, dlen, &pt, &pt_len)) != MN_OK)
		die("response", r);
	put(argv[2], "response.cbor", pt, pt_len);
	fclose(t.apdus);
	free(pt);
	free(resp);
	free(est);
	free(ct);
	free(dreq);
	free(items);
	free(st);
	free(rkb);
	free(edkb);
	cbor_decref(&de_item);
	mn_mdoc_session_free(&s);
	mn_handover_free(&hs);
	mn_handover_free(&hr);
	mn_nfc_free(&nfc);
	sim_card_free(&t.card);
	EVP_PKEY_free(rk);
	return 0;
}
