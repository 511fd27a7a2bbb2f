/*
 * Fuzz target "opensc_driver": our OpenSC card driver and PKCS#15 emulator (opensc-driver/)
 * inside a real OpenSC context (the installed libopensc, the driver's objects compiled into
 * this target), on a fake reader: every R-APDU the driver gets is the next piece of the input
 * (2-byte length, then the bytes: data and SW1 SW2), whatever the C-APDU; the first piece is
 * the ATR. One input runs what pkcs11-tool and the login do: card match and init (SELECT,
 * EF 0006, the serial), the PKCS#15 emulation with the card-info AP and CA certificates
 * enabled (opensc.conf in a temporary directory), reading every certificate, public key and
 * data object, the PIN status (tries left) of every PIN, a VERIFY, a signature, the serial
 * card_ctl and logout.
 *
 * tests/fuzz/gen-seeds --driver answers the same sequence from mynumber-sim's card (it
 * includes this file with FUZZ_DRIVER_NO_ENTRY and sets fuzz_respond) to record seeds.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "libopensc/asn1.h"
#include "libopensc/cardctl.h"
#include "mn_driver.h"

/* Answer one C-APDU into r (cap bytes, data + SW): 0, or an SC_ERROR_* */
typedef int (*fuzz_respond_fn)(void *ctx, const u8 *c, size_t clen, u8 *r, size_t cap,
                               size_t *rlen);

struct fake_card {
	fuzz_respond_fn respond;
	void *ctx;
	int presence; /* what the reader reports: SC_READER_CARD_PRESENT, ..._CHANGED, 0 */
};

static sc_context_t *fuzz_ctx; /* made once; its forced driver is ours */
static char fuzz_conf_dir[64];

static void fuzz_conf_cleanup(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/opensc.conf", fuzz_conf_dir);
	unlink(path);
	rmdir(fuzz_conf_dir);
}

/* The OpenSC context, with our driver forced and its options on. */
static void fuzz_opensc_init(void)
{
	static const char conf[] = "app default {\n"
	                           "\tdebug = 0;\n"
	                           "\tcard_driver mynumber {\n"
	                           "\t\tcard_info = yes;\n"
	                           "\t\tca_certificates = yes;\n"
	                           "\t}\n"
	                           "}\n";
	sc_context_param_t param;
	char path[128];
	FILE *f;

	snprintf(fuzz_conf_dir, sizeof(fuzz_conf_dir), "/tmp/mn-fuzz-opensc-XXXXXX");
	if (mkdtemp(fuzz_conf_dir) == NULL)
		abort();
	atexit(fuzz_conf_cleanup);
	snprintf(path, sizeof(path), "%s/opensc.conf", fuzz_conf_dir);
	if ((f = fopen(path, "w")) == NULL || fputs(conf, f) < 0 || fclose(f) != 0)
		abort();
	setenv("OPENSC_CONF", path, 1);
	memset(&param, 0, sizeof(param));
	param.ver = 0;
	param.app_name = "default";
	if (sc_context_create(&fuzz_ctx, &param) != SC_SUCCESS)
		abort();
	fuzz_ctx->forced_driver = mn_get_card_driver();
}

/* The C-APDU as bytes (short APDUs: all the driver sends). */
static size_t apdu_bytes(const sc_apdu_t *a, u8 *out, size_t cap)
{
	size_t n = 4;

	if (cap < 4 + 1 + 255 + 1)
		return 0;
	out[0] = a->cla;
	out[1] = a->ins;
	out[2] = a->p1;
	out[3] = a->p2;
	switch (a->cse & SC_APDU_SHORT_MASK) {
	case SC_APDU_CASE_2_SHORT:
		out[n++] = (u8)a->le;
		break;
	case SC_APDU_CASE_3_SHORT:
	case SC_APDU_CASE_4_SHORT:
		if (a->datalen > 255)
			return 0;
		out[n++] = (u8)a->datalen;
		memcpy(out + n, a->data, a->datalen);
		n += a->datalen;
		if ((a->cse & SC_APDU_SHORT_MASK) == SC_APDU_CASE_4_SHORT)
			out[n++] = (u8)a->le;
		break;
	default:
		break;
	}
	return n;
}

static int fake_transmit(sc_reader_t *reader, sc_apdu_t *apdu)
{
	struct fake_card *fc = reader->drv_data;
	u8 c[4 + 1 + 255 + 1], r[65536 + 2];
	size_t clen = apdu_bytes(apdu, c, sizeof(c)), rlen = 0, n;
	int rc;

	if ((rc = fc->respond(fc->ctx, c, clen, r, sizeof(r), &rlen)) != SC_SUCCESS)
		return rc;
	if (rlen < 2 || rlen > sizeof(r)) {
		/*
		 * A transmit failure: an empty answer is the card lifted off the reader, one byte a
		 * card that was reset. (A card still present and unchanged would make the driver
		 * poll for 0.8 s per failed APDU, by design: not something to fuzz at speed.)
		 */
		fc->presence = rlen == 0 ? 0 : SC_READER_CARD_PRESENT | SC_READER_CARD_CHANGED;
		return SC_ERROR_TRANSMIT_FAILED;
	}
	n = rlen - 2;
	if (n > apdu->resplen)
		n = apdu->resplen;
	if (n > 0 && apdu->resp != NULL)
		memcpy(apdu->resp, r, n);
	apdu->resplen = n;
	apdu->sw1 = r[rlen - 2];
	apdu->sw2 = r[rlen - 1];
	return SC_SUCCESS;
}

static int fake_ok(sc_reader_t *reader)
{
	return SC_SUCCESS;
}

static int fake_presence(sc_reader_t *reader)
{
	return ((struct fake_card *)reader->drv_data)->presence;
}

static struct sc_reader_operations fake_ops = {
    .detect_card_presence = fake_presence,
    .connect = fake_ok,
    .disconnect = fake_ok,
    .transmit = fake_transmit,
    .lock = fake_ok,
    .unlock = fake_ok,
};

static const struct sc_reader_driver fake_driver = {"fuzz reader", "fuzz", &fake_ops, NULL};

/* What pkcs11-tool -O / the login do with the card once bound. */
static void use_p15(struct sc_pkcs15_card *p15)
{
	struct sc_pkcs15_object *objs[16];
	int i, n;

	n = sc_pkcs15_get_objects(p15, SC_PKCS15_TYPE_CERT_X509, objs, 16);
	for (i = 0; i < n; i++) {
		struct sc_pkcs15_cert *cert = NULL;
		if (sc_pkcs15_read_certificate(p15, objs[i]->data,
		                               (objs[i]->flags & SC_PKCS15_CO_FLAG_PRIVATE) != 0,
		                               &cert) == SC_SUCCESS)
			sc_pkcs15_free_certificate(cert);
	}
	n = sc_pkcs15_get_objects(p15, SC_PKCS15_TYPE_PUBKEY, objs, 16);
	for (i = 0; i < n; i++) {
		struct sc_pkcs15_pubkey *pk = NULL;
		if (sc_pkcs15_read_pubkey(p15, objs[i], &pk) == SC_SUCCESS)
			sc_pkcs15_free_pubkey(pk);
	}
	n = sc_pkcs15_get_objects(p15, SC_PKCS15_TYPE_DATA_OBJECT, objs, 16);
	for (i = 0; i < n; i++) {
		struct sc_pkcs15_data *d = NULL;
		if (sc_pkcs15_read_data_object(p15, objs[i]->data, 0, &d) == SC_SUCCESS)
			sc_pkcs15_free_data_object(d);
	}
	n = sc_pkcs15_get_objects(p15, SC_PKCS15_TYPE_AUTH_PIN, objs, 16);
	for (i = 0; i < n; i++)
		(void)sc_pkcs15_get_pin_info(p15, objs[i]);
}

static void use_card(struct sc_card *card)
{
	static const u8 digest_info[51] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
	                                   0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
	                                   0x01, 0x05, 0x00, 0x04, 0x20};
	struct sc_pin_cmd_data pd;
	struct sc_security_env env;
	struct sc_serial_number serial;
	u8 sig[256];
	int tries;

	memset(&pd, 0, sizeof(pd));
	pd.cmd = SC_PIN_CMD_VERIFY;
	pd.pin_type = SC_AC_CHV;
	pd.pin_reference = MN_PIN_AUTH;
	pd.pin1.data = (const u8 *)"1234";
	pd.pin1.len = 4;
	(void)sc_pin_cmd(card, &pd, &tries);
	memset(&env, 0, sizeof(env));
	env.operation = SC_SEC_OPERATION_SIGN;
	env.algorithm = SC_ALGORITHM_RSA;
	env.algorithm_flags = SC_ALGORITHM_RSA_PAD_PKCS1 | SC_ALGORITHM_RSA_HASH_NONE;
	env.flags = SC_SEC_ENV_KEY_REF_PRESENT | SC_SEC_ENV_ALG_PRESENT;
	env.key_ref[0] = MN_PIN_AUTH;
	env.key_ref_len = 1;
	if (sc_lock(card) == SC_SUCCESS) {
		if (sc_set_security_env(card, &env, 0) == SC_SUCCESS)
			(void)sc_compute_signature(card, digest_info, sizeof(digest_info), sig,
			                           sizeof(sig));
		sc_unlock(card);
	}
	memset(&pd, 0, sizeof(pd));
	pd.cmd = SC_PIN_CMD_GET_INFO;
	pd.pin_type = SC_AC_CHV;
	pd.pin_reference = MN_PIN_SIGN;
	(void)sc_pin_cmd(card, &pd, &tries);
	(void)sc_card_ctl(card, SC_CARDCTL_GET_SERIALNR, &serial);
	(void)sc_logout(card);
}

/* One session against the fake card. */
static void fuzz_driver_session(fuzz_respond_fn respond, void *rctx, const u8 *atr, size_t atr_len)
{
	struct fake_card fc = {respond, rctx, SC_READER_CARD_PRESENT};
	sc_reader_t *reader = calloc(1, sizeof(*reader));
	struct sc_card *card = NULL;
	struct sc_pkcs15_card *p15;

	if (reader == NULL)
		return;
	reader->ctx = fuzz_ctx;
	reader->driver = &fake_driver;
	reader->ops = &fake_ops;
	reader->drv_data = &fc;
	reader->name = (char *)"fuzz reader";
	reader->flags = SC_READER_CARD_PRESENT;
	reader->active_protocol = SC_PROTO_T1;
	if (atr_len > SC_MAX_ATR_SIZE)
		atr_len = SC_MAX_ATR_SIZE;
	memcpy(reader->atr.value, atr, atr_len);
	reader->atr.len = atr_len;
	if (sc_connect_card(reader, &card) != SC_SUCCESS)
		goto out;
	if ((p15 = sc_pkcs15_card_new()) != NULL) {
		p15->card = card;
		p15->opts.use_file_cache = SC_PKCS15_OPTS_CACHE_NO_FILES;
		p15->opts.use_pin_cache = 0;
		if (mn_pkcs15emu_init(p15, NULL) == SC_SUCCESS)
			use_p15(p15);
		sc_pkcs15_card_free(p15);
	}
	use_card(card);
	sc_disconnect_card(card);
out:
	free(reader);
}

#ifndef FUZZ_DRIVER_NO_ENTRY
/* The fake card of the fuzzer: the next piece of the input, whatever was asked. */
static int scripted(void *ctx, const u8 *c, size_t clen, u8 *r, size_t cap, size_t *rlen)
{
	struct fuzz_in *in = ctx;
	const uint8_t *p;
	size_t n;

	if (in->n == 0)
		return SC_ERROR_CARD_REMOVED;
	p = fuzz_piece(in, &n);
	if (n > cap)
		n = cap;
	memcpy(r, p, n);
	*rlen = n;
	return SC_SUCCESS;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_opensc_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	const uint8_t *atr;
	size_t atr_len;

	atr = fuzz_piece(&in, &atr_len);
	fuzz_driver_session(scripted, &in, atr, atr_len);
	return 0;
}
#endif
