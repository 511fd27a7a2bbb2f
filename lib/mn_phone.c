#include "config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cbor.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mdoc/mn_ble.h"
#include "mdoc/mn_mdoc.h"
#include "mdoc/mn_mdoc_reader.h"
#include "mdoc/mn_pcsc_apdu.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_phone.h"
#include "mn_revoker.h"

#define MSG_BUF      512
#define ELEMENTS_BUF 4096
#define VALUES_MAX   (1024u * 1024u)

static void say(const struct mn_ui *ui, int is_error, const char *fmt, ...)
{
	char buf[MSG_BUF];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui->say(ui->ctx, is_error, buf);
}

static void debug(const struct mn_ui *ui, const char *fmt, ...)
{
	char buf[MSG_BUF];
	va_list ap;

	if (ui->debug == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ui->debug(ui->ctx, buf);
}

int mn_phone_enabled(const struct mn_conf *conf)
{
	const char *p = mn_conf_get(conf, "phone", "phone");
	const char *a = mn_conf_get(conf, "phone", "mdoc_trust_anchors");

	if (p == NULL || a == NULL || strcmp(p, "no") == 0)
		return 0;
	return a[0] != '\0';
}

static int add_pem_file(STACK_OF(X509) *sk, const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL)
		return MN_ERR_IO;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x))
			X509_free(x);
	fclose(f);
	return MN_OK;
}

/* A PEM file or a directory of *.pem files. */
static int load_iaca(const char *path, STACK_OF(X509) **ret)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct stat st;
	DIR *d = NULL;
	struct dirent *e;
	char p[4096];
	size_t n;
	int r = MN_ERR_IO;

	if (sk == NULL)
		return MN_ERR_NOMEM;
	if (stat(path, &st) != 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		if ((d = opendir(path)) == NULL)
			goto out;
		while ((e = readdir(d)) != NULL) {
			n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 4, ".pem") != 0 ||
			    (size_t)snprintf(p, sizeof(p), "%s/%s", path, e->d_name) >= sizeof(p))
				continue;
			add_pem_file(sk, p);
		}
	} else if (add_pem_file(sk, path) != MN_OK) {
		goto out;
	}
	if (sk_X509_num(sk) == 0)
		goto out;
	*ret = sk;
	sk = NULL;
	r = MN_OK;
out:
	if (d != NULL)
		closedir(d);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

/* [phone] mdoc_elements into el (names point into buf). */
static int parse_elements(const struct mn_conf *conf, char *buf, size_t cap,
                          struct mn_mdoc_element *el, size_t *n)
{
	const char *v = mn_conf_get(conf, "phone", "mdoc_elements");
	char *item, *save = NULL, *colon, *s, *e;
	size_t k = 0;

	if (v == NULL || strlen(v) >= cap)
		return MN_ERR_INVALID_ARG;
	memcpy(buf, v, strlen(v) + 1);
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		for (s = item; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		*e = '\0';
		if (k >= MN_MDOC_READER_MAX_ELEMENTS || (colon = strrchr(s, ':')) == NULL)
			return MN_ERR_INVALID_ARG;
		*colon = '\0';
		el[k].ns = s;
		el[k].id = colon + 1;
		k++;
	}
	if (mn_mdoc_reader_check_elements(el, k, NULL, 0) != MN_OK)
		return MN_ERR_INVALID_ARG;
	*n = k;
	return MN_OK;
}

void mn_phone_values_free(unsigned char **values, size_t len)
{
	if (values == NULL || *values == NULL)
		return;
	explicit_bzero(*values, len);
	free(*values);
	*values = NULL;
}

/* Per configured element, in order: 4-byte length and the value's CBOR encoding. */
static int encode_values(const struct mn_mdoc_result *res, const struct mn_mdoc_element *el,
                         size_t n, unsigned char **ret, size_t *ret_len)
{
	unsigned char *out = NULL, *enc = NULL, *grown;
	size_t len = 0, i, j, cnt = mn_mdoc_result_count(res), elen = 0, ecap = 0;
	const char *dt, *ns, *id;
	const cbor_item_t *v;
	int r = MN_ERR_NOT_FOUND, found;

	for (i = 0; i < n; i++) {
		found = 0;
		for (j = 0; j < cnt && !found; j++) {
			/* only the My Number Card document: another docType from a trusted
			 * issuer never stands in for it */
			if (mn_mdoc_result_get(res, j, &dt, &ns, &id, &v) != MN_OK ||
			    strcmp(dt, MN_MDOC_JP_DOCTYPE) != 0 || strcmp(ns, el[i].ns) != 0 ||
			    strcmp(id, el[i].id) != 0)
				continue;
			found = 1;
			elen = cbor_serialize_alloc(v, &enc, &ecap);
			if (elen == 0 || elen > VALUES_MAX || len + 4 + elen > VALUES_MAX) {
				r = elen == 0 ? MN_ERR_NOMEM : MN_ERR_TOO_LARGE;
				goto out;
			}
			if ((grown = realloc(out, len + 4 + elen)) == NULL) {
				r = MN_ERR_NOMEM;
				goto out;
			}
			out = grown;
			out[len] = (unsigned char)(elen >> 24);
			out[len + 1] = (unsigned char)(elen >> 16);
			out[len + 2] = (unsigned char)(elen >> 8);
			out[len + 3] = (unsigned char)elen;
			memcpy(out + len + 4, enc, elen);
			len += 4 + elen;
			explicit_bzero(enc, ecap);
			free(enc);
			enc = NULL;
		}
		if (!found) {
			r = MN_ERR_NOT_FOUND;
			goto out;
		}
	}
	*ret = out;
	*ret_len = len;
	out = NULL;
	r = MN_OK;
out:
	if (enc != NULL) {
		explicit_bzero(enc, ecap);
		free(enc);
	}
	mn_phone_values_free(&out, len);
	return r;
}

static enum mn_result check_ds(const struct mn_conf *conf, const struct mn_ui *ui,
                               const struct mn_mdoc_result *res, time_t now)
{
	struct mn_revoker *rv = NULL;
	struct mn_rev_result rev;
	X509 *ds = NULL, *iaca = NULL;
	char err[256] = "";
	int r;

	if (mn_mdoc_result_signer(res, &ds, &iaca) != MN_OK)
		return MN_RES_AUTH_ERR;
	r = mn_revoker_open(conf, &rv, err, sizeof(err));
	if (r == MN_OK)
		r = mn_revoker_check(rv, ds, iaca, now, &rev);
	mn_revoker_close(&rv);
	if (r != MN_OK) {
		debug(ui, "revocation check: %s (%s)", err, mn_strerror(r));
		say(ui, 1, _("Configuration error: the revocation check cannot run."));
		return MN_RES_SYSTEM_ERR;
	}
	debug(ui, "document signer revocation: %s", rev.detail);
	if (rev.status == MN_REV_REVOKED) {
		say(ui, 1, _("The document signer certificate of this phone has been revoked."));
		return MN_RES_AUTH_ERR;
	}
	if (rev.soft_accepted && ui->warn != NULL)
		ui->warn(ui->ctx, rev.detail);
	if (rev.status != MN_REV_GOOD && !rev.soft_accepted) {
		say(ui, 1,
		    _("The revocation status of the phone's document signer is not available, so "
		      "it cannot be used now. Ask your administrator."));
		return MN_RES_AUTH_ERR;
	}
	return MN_RES_OK;
}

/* BLE data retrieval for the reader: [phone] ble, ble_bus, ble_wait, and what happened */
struct phone_ble {
	struct mn_ble_opts opts;
	const struct mn_ui *ui;
	int tried;   /* the phone offered only BLE and we opened it */
	int open_rc; /* mn_ble_reader_open's result */
};

static int phone_ble_open(void *ctx, const uint8_t uuid[16], const uint8_t *edevice_key_bytes,
                          size_t len, struct mn_mdoc_transport *out, char *why, size_t whylen)
{
	struct phone_ble *pb = ctx;

	pb->tried = 1;
	say(pb->ui, 0, _("The phone answers over Bluetooth: keep it near this computer."));
	pb->open_rc = mn_ble_reader_open(&pb->opts, uuid, edevice_key_bytes, len, out, why, whylen);
	if (pb->open_rc != MN_OK)
		debug(pb->ui, "BLE: %s (%s)", why != NULL ? why : "", mn_strerror(pb->open_rc));
	return pb->open_rc;
}

/* The message for a failed BLE setup (the reader returned open_rc). */
static void say_ble_failed(const struct mn_ui *ui, int rc)
{
	switch (rc) {
	case MN_BLE_ERR_NO_BLUEZ:
		say(ui, 1,
		    _("Bluetooth (bluetoothd) is not running, and this phone answers only over "
		      "Bluetooth. Ask your administrator."));
		break;
	case MN_BLE_ERR_NO_ADAPTER:
		say(ui, 1,
		    _("This computer has no Bluetooth adapter, and this phone answers only over "
		      "Bluetooth."));
		break;
	case MN_BLE_ERR_ADAPTER_OFF:
		say(ui, 1, _("The Bluetooth adapter is off. Turn Bluetooth on and try again."));
		break;
	case MN_ERR_TIMEOUT:
		say(ui, 1,
		    _("The phone did not connect over Bluetooth in time. Keep it near this "
		      "computer, with Bluetooth on, and try again."));
		break;
	case MN_BLE_ERR_DISCONNECTED:
		say(ui, 1,
		    _("The phone disconnected from Bluetooth before the login started: it did not "
		      "recognise this computer as the reader it was held over. Hold the phone "
		      "over the reader again."));
		break;
	default:
		say(ui, 1,
		    _("Bluetooth could not be used to read the phone. Ask your administrator."));
		break;
	}
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = x[d[i] >> 4];
		out[2 * i + 1] = x[d[i] & 15];
	}
	out[2 * n] = '\0';
}

enum mn_result mn_phone_present(const struct mn_conf *conf, struct mn_pcsc_apdu *card,
                                const struct mn_ui *ui, time_t now, unsigned char **values,
                                size_t *values_len, char iaca_hex[65])
{
	struct mn_mdoc_element el[MN_MDOC_READER_MAX_ELEMENTS];
	char ebuf[ELEMENTS_BUF], why[512] = "";
	STACK_OF(X509) *iaca = NULL;
	struct mn_mdoc_reader_opts o;
	struct phone_ble pb;
	struct mn_mdoc_reader *rd = NULL;
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check chk = MN_MDOC_CHECK_NONE;
	enum mn_result out = MN_RES_SYSTEM_ERR;
	unsigned char md[32], *vals = NULL;
	unsigned int mdlen = 0;
	X509 *ds = NULL, *ia = NULL;
	size_t nel = 0, vlen = 0;
	unsigned skew = MN_MDOC_DEFAULT_SKEW;
	int mac = 0, r;

	if (conf == NULL || card == NULL || ui == NULL || values == NULL || values_len == NULL ||
	    iaca_hex == NULL)
		return MN_RES_SYSTEM_ERR;
	if (parse_elements(conf, ebuf, sizeof(ebuf), el, &nel) != MN_OK) {
		say(ui, 1, _("Configuration error in the My Number login settings."));
		goto out;
	}
	if (load_iaca(mn_conf_get(conf, "phone", "mdoc_trust_anchors"), &iaca) != MN_OK) {
		say(ui, 1,
		    _("Configuration error: the phone trust anchors (IACA) cannot be loaded."));
		goto out;
	}
	mn_conf_get_bool(conf, "phone", "mdoc_allow_device_mac", &mac);
	mn_conf_get_uint(conf, "phone", "mdoc_skew", &skew);
	memset(&pb, 0, sizeof(pb));
	pb.ui = ui;
	pb.opts.bus_address = mn_conf_get(conf, "phone", "ble_bus");
	pb.opts.wait = MN_BLE_WAIT_DEF;
	mn_conf_get_uint(conf, "phone", "ble_wait", &pb.opts.wait);
	memset(&o, 0, sizeof(o));
	/* ble = auto: BLE when the phone offers no NFC data retrieval (Apple Wallet) */
	if (strcmp(mn_conf_get(conf, "phone", "ble"), "no") != 0) {
		o.ble_open = phone_ble_open;
		o.ble_ctx = &pb;
	}
	o.transmit = mn_pcsc_apdu_transmit;
	o.transmit_ctx = card;
	o.iaca = iaca;
	o.elements = el;
	o.n_elements = nel;
	o.allow_device_mac = mac;
	o.skew = skew;
	o.at = now;
	/* a new reader: fresh ephemeral keys, so a replayed response fails device auth */
	if (mn_mdoc_reader_new(&o, &rd) != MN_OK)
		goto out;
	r = mn_mdoc_reader_run(rd, &res, &chk, why, sizeof(why));
	if (pb.tried && pb.open_rc != MN_OK) {
		debug(ui, "phone over BLE: %s", why);
		say_ble_failed(ui, pb.open_rc);
		/* as a missing card reader: the stack may fall back (authinfo_unavail) */
		out = MN_RES_UNAVAIL;
		goto out;
	}
	if (r == MN_ERR_UNSUPPORTED) {
		debug(ui, "phone presentation: %s", why);
		say(ui, 1,
		    o.ble_open == NULL && strstr(why, "BLE") != NULL
		        ? _("This phone answers only over Bluetooth, which is turned off for login "
		            "([phone] ble = no).")
		        : _("This phone offers no way of reading it that this computer supports."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (r == MN_MDOC_READER_ERR_TERMINATED) {
		debug(ui, "phone ended the session: %s", why);
		say(ui, 1,
		    _("The phone did not confirm your identity (Face ID / Touch ID was refused or "
		      "cancelled). Unlock the wallet on the phone and try again."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (pb.tried && (r == MN_ERR_TOKEN_REMOVED || r == MN_ERR_TIMEOUT)) {
		debug(ui, "phone over BLE: %s", why);
		say(ui, 1,
		    r == MN_ERR_TIMEOUT
		        ? _("The phone did not answer over Bluetooth in time. Confirm on the phone "
		            "and keep it near this computer.")
		        : _("The phone disconnected from Bluetooth. Keep it near this computer "
		            "until the login completes."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (r == MN_ERR_TOKEN_REMOVED || r == MN_ERR_NO_TOKEN) {
		say(ui, 1,
		    _("The phone was taken away. Hold it over the reader until the login "
		      "completes."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (r == MN_MDOC_READER_ERR_MAC_REFUSED && chk == MN_MDOC_CHECK_DEVICE_AUTH && !mac) {
		debug(ui, "phone verification failed: %s", why);
		say(ui, 1,
		    _("The phone authenticated with a MAC (deviceMac) instead of a signature, "
		      "which this system does not accept (mdoc_allow_device_mac = no)."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (r != MN_OK && chk != MN_MDOC_CHECK_NONE) {
		debug(ui, "phone verification failed: %s", mn_mdoc_check_name(chk));
		say(ui, 1, _("The phone's My Number data did not verify (check: %s)."),
		    mn_mdoc_check_name(chk));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if (r != MN_OK) {
		debug(ui, "phone presentation: %s", mn_strerror(r));
		say(ui, 1,
		    _("The phone could not be read. Hold it still over the reader and try "
		      "again."));
		out = MN_RES_AUTH_ERR;
		goto out;
	}
	if ((out = check_ds(conf, ui, res, now)) != MN_RES_OK)
		goto out;
	out = MN_RES_AUTH_ERR;
	if (encode_values(res, el, nel, &vals, &vlen) != MN_OK) {
		say(ui, 1, _("The phone did not present the data this computer needs for login."));
		goto out;
	}
	if (mn_mdoc_result_signer(res, &ds, &ia) != MN_OK ||
	    X509_digest(ia, EVP_sha256(), md, &mdlen) != 1 || mdlen != sizeof(md))
		goto out;
	hex(md, sizeof(md), iaca_hex);
	*values = vals;
	*values_len = vlen;
	vals = NULL;
	out = MN_RES_OK;
out:
	mn_phone_values_free(&vals, vlen);
	mn_mdoc_result_free(&res);
	mn_mdoc_reader_free(&rd);
	sk_X509_pop_free(iaca, X509_free);
	return out;
}

int mn_phone_hmac_hex(const unsigned char *salt, size_t salt_len, const unsigned char *values,
                      size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (salt == NULL || values == NULL || out == NULL || salt_len == 0 || salt_len > 64)
		return MN_ERR_INVALID_ARG;
	if (HMAC(EVP_sha256(), salt, (int)salt_len, values, len, md, &mdlen) == NULL ||
	    mdlen != sizeof(md))
		return MN_ERR_CRYPTO;
	hex(md, sizeof(md), out);
	explicit_bzero(md, sizeof(md));
	return MN_OK;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned hi, lo;

	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%1x%1x", &hi, &lo) != 2)
			return MN_ERR_FORMAT;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return MN_OK;
}

enum mn_result mn_phone_login(const struct mn_conf *conf, const struct mn_store *store,
                              const char *user, struct mn_pcsc_apdu *card, const struct mn_ui *ui,
                              time_t now, char matched[65])
{
	unsigned char *vals = NULL, salt[MN_PHONE_SALT_LEN];
	size_t vlen = 0, i, n = mn_store_phone_count(store);
	char iaca[65], h[65], id[65] = "";
	enum mn_result res;
	int match = 0;

	if (conf == NULL || store == NULL || user == NULL || matched == NULL)
		return MN_RES_SYSTEM_ERR;
	res = mn_phone_present(conf, card, ui, now, &vals, &vlen, iaca);
	if (res != MN_RES_OK)
		goto out;
	for (i = 0; i < n; i++) {
		const struct mn_phone_binding *p = mn_store_phone_at(store, i);

		if (strcmp(p->user, user) != 0 || strcmp(p->iaca, iaca) != 0 ||
		    unhex(p->salt, salt, sizeof(salt)) != MN_OK ||
		    mn_phone_hmac_hex(salt, sizeof(salt), vals, vlen, h) != MN_OK)
			continue;
		if (CRYPTO_memcmp(h, p->hmac, 64) == 0) {
			match = 1;
			memcpy(id, p->hmac, sizeof(id));
			debug(ui, "phone matches enrollment id %u (hash %.8s)", p->id, p->hmac);
		}
	}
	if (!match) {
		say(ui, 1, _("This phone is not enrolled for %s."), user);
		res = MN_RES_AUTH_ERR;
		goto out;
	}
	memcpy(matched, id, sizeof(id));
out:
	explicit_bzero(salt, sizeof(salt));
	mn_phone_values_free(&vals, vlen);
	return res;
}

int mn_phone_is_jpki_card(struct mn_pcsc_apdu *card)
{
	static const uint8_t sel[] = {0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0,
	                              0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
	uint8_t rapdu[258];
	size_t rlen = 0;

	if (mn_pcsc_apdu_transmit(card, sel, sizeof(sel), rapdu, sizeof(rapdu), &rlen) != MN_OK ||
	    rlen < 2)
		return 0;
	return rapdu[rlen - 2] == 0x90 && rapdu[rlen - 1] == 0x00;
}
