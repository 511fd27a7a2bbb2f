/*
 * wallet-client: a minimal ISO 18013-5 NFC reader over PC/SC for tests/integration/
 * test-sim-wallet.sh. Engagement (static or negotiated handover), session establishment, one
 * DeviceRequest, then mn_mdoc_verify() of the DeviceResponse against an IACA.
 *
 * usage: wallet-client [--short] IACA.pem NS:ID...
 * Prints "status N" when the wallet answers with a SessionData status, "verify-failed CHECK"
 * when verification fails, else one "NS ID" line per verified element. Exit 0 when the exchange
 * completed (whatever the outcome printed), 1 on transport or usage errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>
#include <cbor.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mn_err.h"
#include "mn_mdoc.h"
#include "mn_mdoc_session.h"
#include "mn_ndef.h"
#include "mn_nfc.h"

#define DOCTYPE     "org.iso.23220.1.jp.mnc"
#define MAX_REQ     16
#define CONNECT_TRY 50 /* x 100 ms */

struct pcsc {
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
};

static int transmit(void *vctx, const uint8_t *c, size_t clen, uint8_t *r, size_t rcap,
                    size_t *rlen)
{
	struct pcsc *p = vctx;
	DWORD n = (DWORD)rcap;
	LONG e = SCardTransmit(p->h, p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, c,
	                       (DWORD)clen, NULL, r, &n);

	if (e == SCARD_W_REMOVED_CARD || e == SCARD_E_NO_SMARTCARD || e == SCARD_W_RESET_CARD)
		return MN_ERR_TOKEN_REMOVED;
	if (e != SCARD_S_SUCCESS) {
		fprintf(stderr, "wallet-client: SCardTransmit: %s\n", pcsc_stringify_error(e));
		return MN_ERR_IO;
	}
	*rlen = n;
	return MN_OK;
}

static int pcsc_connect(struct pcsc *p)
{
	char readers[1024];
	DWORD len;
	int i;

	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx) != SCARD_S_SUCCESS)
		return MN_ERR_NO_READER;
	for (i = 0; i < CONNECT_TRY; i++) {
		len = sizeof(readers);
		if (SCardListReaders(p->ctx, NULL, readers, &len) == SCARD_S_SUCCESS &&
		    SCardConnect(p->ctx, readers, SCARD_SHARE_SHARED,
		                 SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &p->h,
		                 &p->proto) == SCARD_S_SUCCESS)
			return MN_OK;
		usleep(100000);
	}
	return MN_ERR_NO_TOKEN;
}

/* {"version":"1.0","docRequests":[{"itemsRequest": 24(<<ItemsRequest>>)}]} */
static int device_request(char **req, int n, uint8_t **out, size_t *olen)
{
	cbor_item_t *ir = cbor_new_definite_map(2), *nss = cbor_new_definite_map(2), *dr = NULL;
	cbor_item_t *nsm[2] = {NULL, NULL}, *drq = NULL, *arr = NULL, *t = NULL, *bs = NULL;
	const char *names[2] = {NULL, NULL};
	unsigned char *b = NULL;
	size_t cap = 0, bl;
	int i, k, r = MN_ERR_NOMEM;

	for (i = 0; i < n; i++) {
		char *colon = strrchr(req[i], ':');

		if (colon == NULL)
			goto out;
		*colon = '\0';
		for (k = 0; k < 2 && names[k] != NULL && strcmp(names[k], req[i]) != 0; k++)
			;
		if (k == 2)
			goto out;
		if (names[k] == NULL) {
			names[k] = req[i];
			nsm[k] = cbor_new_indefinite_map();
		}
		cbor_map_add(nsm[k],
		             (struct cbor_pair){.key = cbor_move(cbor_build_string(colon + 1)),
		                                .value = cbor_move(cbor_build_bool(false))});
	}
	for (k = 0; k < 2 && names[k] != NULL; k++) {
		/* a definite copy */
		cbor_item_t *d = cbor_new_definite_map(cbor_map_size(nsm[k]));
		struct cbor_pair *p = cbor_map_handle(nsm[k]);
		size_t j;

		for (j = 0; j < cbor_map_size(nsm[k]); j++)
			cbor_map_add(d, p[j]);
		cbor_map_add(nss, (struct cbor_pair){.key = cbor_move(cbor_build_string(names[k])),
		                                     .value = cbor_move(d)});
	}
	cbor_map_add(ir, (struct cbor_pair){.key = cbor_move(cbor_build_string("docType")),
	                                    .value = cbor_move(cbor_build_string(DOCTYPE))});
	cbor_map_add(ir, (struct cbor_pair){.key = cbor_move(cbor_build_string("nameSpaces")),
	                                    .value = nss});
	if ((bl = cbor_serialize_alloc(ir, &b, &cap)) == 0)
		goto out;
	bs = cbor_build_bytestring(b, bl);
	free(b);
	b = NULL;
	t = cbor_build_tag(24, bs);
	drq = cbor_new_definite_map(1);
	cbor_map_add(drq, (struct cbor_pair){.key = cbor_move(cbor_build_string("itemsRequest")),
	                                     .value = t});
	arr = cbor_new_definite_array(1);
	cbor_array_push(arr, drq);
	dr = cbor_new_definite_map(2);
	cbor_map_add(dr, (struct cbor_pair){.key = cbor_move(cbor_build_string("version")),
	                                    .value = cbor_move(cbor_build_string("1.0"))});
	cbor_map_add(dr, (struct cbor_pair){.key = cbor_move(cbor_build_string("docRequests")),
	                                    .value = arr});
	cap = 0;
	if ((bl = cbor_serialize_alloc(dr, &b, &cap)) == 0)
		goto out;
	*out = b;
	*olen = bl;
	b = NULL;
	r = MN_OK;
out:
	free(b);
	for (k = 0; k < 2; k++)
		if (nsm[k] != NULL)
			cbor_decref(&nsm[k]);
	cbor_item_t **all[] = {&ir, &nss, &dr, &drq, &arr, &t, &bs};
	for (k = 0; k < 7; k++)
		if (*all[k] != NULL)
			cbor_decref(all[k]);
	return r;
}

/* the EDeviceKeyBytes (tag 24) of a DeviceEngagement, re-serialized (shortest form) */
static int edevice_key(const uint8_t *de, size_t len, uint8_t **out, size_t *olen)
{
	struct cbor_load_result res;
	cbor_item_t *m = cbor_load(de, len, &res), *sec = NULL, *k = NULL;
	struct cbor_pair *p;
	unsigned char *b = NULL;
	size_t cap = 0, i;
	int r = MN_ERR_FORMAT;

	if (m == NULL || !cbor_isa_map(m))
		goto out;
	p = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) == 1)
			sec = p[i].value;
	if (sec == NULL || !cbor_isa_array(sec) || cbor_array_size(sec) != 2)
		goto out;
	k = cbor_array_get(sec, 1);
	if ((*olen = cbor_serialize_alloc(k, &b, &cap)) == 0)
		goto out;
	*out = b;
	r = MN_OK;
out:
	if (k != NULL)
		cbor_decref(&k);
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

/* #6.24(<< [24(<<DE>>), EReaderKeyBytes, [Hs, Hr|null]] >>) */
static int transcript(const struct mn_handover *hs, const struct mn_handover *hr, const uint8_t *ek,
                      size_t eklen, uint8_t **out, size_t *olen)
{
	struct cbor_load_result res;
	const uint8_t *de, *hsb, *hrb;
	size_t del, hsl, hrl, cap = 0, bl;
	cbor_item_t *st = cbor_new_definite_array(3), *ho = cbor_new_definite_array(2), *t;
	unsigned char *b = NULL;
	int r = MN_ERR_NOMEM;

	de = mn_handover_engagement(hs, &del);
	hsb = mn_handover_bytes(hs, &hsl);
	cbor_array_push(st,
	                cbor_move(cbor_build_tag(24, cbor_move(cbor_build_bytestring(de, del)))));
	cbor_array_push(st, cbor_move(cbor_load(ek, eklen, &res)));
	cbor_array_push(ho, cbor_move(cbor_build_bytestring(hsb, hsl)));
	if (hr != NULL) {
		hrb = mn_handover_bytes(hr, &hrl);
		cbor_array_push(ho, cbor_move(cbor_build_bytestring(hrb, hrl)));
	} else {
		cbor_array_push(ho, cbor_move(cbor_new_null()));
	}
	cbor_array_push(st, ho);
	if ((bl = cbor_serialize_alloc(st, &b, &cap)) == 0)
		goto out;
	t = cbor_build_tag(24, cbor_move(cbor_build_bytestring(b, bl)));
	free(b);
	b = NULL;
	cap = 0;
	bl = cbor_serialize_alloc(t, &b, &cap);
	cbor_decref(&t);
	if (bl == 0)
		goto out;
	*out = b;
	*olen = bl;
	r = MN_OK;
out:
	cbor_decref(&ho);
	cbor_decref(&st);
	return r;
}

static STACK_OF(X509) *load_iaca(const char *path)
{
	FILE *f = fopen(path, "r");
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *x;

	if (f == NULL || sk == NULL) {
		if (f != NULL)
			fclose(f);
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	fclose(f);
	return sk;
}

int main(int argc, char **argv)
{
	struct pcsc p = {0};
	struct mn_nfc_opts no = {.extended = 1, .max_cmd_data = 255};
	struct mn_nfc *n = NULL;
	struct mn_hr_params hrp = {
	    .random = 0x1234, .nfc = 1, .nfc_max_cmd = 255, .nfc_max_resp = 0xffff};
	struct mn_handover *hs = NULL, *hr = NULL;
	struct mn_mdoc_session *s = NULL;
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check failed = MN_MDOC_CHECK_NONE;
	STACK_OF(X509) *iaca = NULL;
	EVP_PKEY *reader = NULL;
	uint8_t *ek = NULL, *edk = NULL, *st = NULL, *req = NULL, *ct = NULL, *se = NULL,
	        *resp = NULL, *pt = NULL;
	size_t ekl = 0, edkl = 0, stl = 0, reql = 0, ctl = 0, sel = 0, respl = 0, ptl = 0, i;
	const uint8_t *data;
	size_t dlen;
	char why[256] = "";
	int status, rc = 1, r, a = 1;

	if (a < argc && strcmp(argv[a], "--short") == 0) {
		no.extended = 0;
		a++;
	}
	if (argc - a < 2 || argc - a - 1 > MAX_REQ) {
		fputs("usage: wallet-client [--short] IACA.pem NS:ID...\n", stderr);
		return 1;
	}
	if ((iaca = load_iaca(argv[a])) == NULL || sk_X509_num(iaca) == 0) {
		fprintf(stderr, "wallet-client: no IACA in %s\n", argv[a]);
		goto out;
	}
	if ((r = device_request(argv + a + 1, argc - a - 1, &req, &reql)) != MN_OK) {
		fputs("wallet-client: bad NS:ID list\n", stderr);
		goto out;
	}
	if ((r = pcsc_connect(&p)) != MN_OK) {
		fprintf(stderr, "wallet-client: no card: %s\n", mn_strerror(r));
		goto out;
	}
	if ((r = mn_nfc_new(transmit, &p, &no, &n)) != MN_OK ||
	    (r = mn_nfc_ndef_select(n)) != MN_OK ||
	    (r = mn_nfc_engage(n, &hrp, &hs, &hr)) != MN_OK) {
		fprintf(stderr, "wallet-client: engagement: %s\n", mn_strerror(r));
		goto out;
	}
	printf("engagement %s\n", hr != NULL ? "negotiated" : "static");
	if ((r = mn_nfc_mdoc_select(n)) != MN_OK) {
		fprintf(stderr, "wallet-client: select mdoc: %s\n", mn_strerror(r));
		goto out;
	}
	{
		const uint8_t *de;
		size_t del;

		de = mn_handover_engagement(hs, &del);
		if ((reader = EVP_EC_gen("P-256")) == NULL ||
		    (r = mn_mdoc_ereader_key_bytes(reader, &ek, &ekl)) != MN_OK ||
		    (r = edevice_key(de, del, &edk, &edkl)) != MN_OK ||
		    (r = transcript(hs, hr, ek, ekl, &st, &stl)) != MN_OK ||
		    (r = mn_mdoc_session_new(reader, edk, edkl, st, stl, &s)) != MN_OK ||
		    (r = mn_mdoc_session_encrypt(s, req, reql, &ct, &ctl)) != MN_OK ||
		    (r = mn_mdoc_session_establishment_build(ek, ekl, ct, ctl, &se, &sel)) !=
		        MN_OK) {
			fprintf(stderr, "wallet-client: session: %s\n", mn_strerror(r));
			goto out;
		}
	}
	if ((r = mn_nfc_mdoc_exchange(n, se, sel, &resp, &respl)) != MN_OK) {
		fprintf(stderr, "wallet-client: exchange: %s\n", mn_strerror(r));
		printf("transport-error %s\n", mn_strerror(r));
		goto out;
	}
	if ((r = mn_mdoc_session_data_parse(resp, respl, &data, &dlen, &status)) != MN_OK) {
		fprintf(stderr, "wallet-client: SessionData: %s\n", mn_strerror(r));
		goto out;
	}
	if (data == NULL) {
		printf("status %d\n", status);
		rc = 0;
		goto out;
	}
	if ((r = mn_mdoc_session_decrypt(s, data, dlen, &pt, &ptl)) != MN_OK) {
		fprintf(stderr, "wallet-client: decrypt: %s\n", mn_strerror(r));
		goto out;
	}
	r = mn_mdoc_verify(pt, ptl, st, stl, reader, iaca, time(NULL), MN_MDOC_DEFAULT_SKEW, &res,
	                   &failed, why, sizeof(why));
	if (r != MN_OK) {
		printf("verify-failed %s\n", mn_mdoc_check_name(failed));
		fprintf(stderr, "wallet-client: %s\n", why);
		rc = 0;
		goto out;
	}
	printf("verified %zu\n", mn_mdoc_result_count(res));
	for (i = 0; i < mn_mdoc_result_count(res); i++) {
		const char *dt, *ns, *id;
		const cbor_item_t *v;

		if (mn_mdoc_result_get(res, i, &dt, &ns, &id, &v) == MN_OK)
			printf("%s %s %s\n", dt, ns, id);
	}
	rc = 0;
out:
	mn_mdoc_result_free(&res);
	mn_mdoc_session_free(&s);
	mn_handover_free(&hs);
	mn_handover_free(&hr);
	mn_nfc_free(&n);
	EVP_PKEY_free(reader);
	sk_X509_pop_free(iaca, X509_free);
	free(ek);
	free(edk);
	free(st);
	free(req);
	free(ct);
	free(se);
	free(resp);
	if (pt != NULL)
		explicit_bzero(pt, ptl);
	free(pt);
	if (p.h)
		SCardDisconnect(p.h, SCARD_RESET_CARD);
	if (p.ctx)
		SCardReleaseContext(p.ctx);
	return rc;
}
