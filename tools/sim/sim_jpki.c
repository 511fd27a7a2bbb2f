/* JPKI AP (公的個人認証AP): its files, COMPUTE SIGNATURE and the iPhone's 80 FC. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mn_apdu.h"
#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_tokeninfo.h"
#include "sim.h"

#define CERT_EF_SIZE 2048

char *sim_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int load_x509(const char *path, X509 **out)
{
	BIO *bio = BIO_new_file(path, "r");
	X509 *x;

	if (bio == NULL) {
		fprintf(stderr, "mynumber-sim: cannot open %s\n", path);
		return MN_ERR_IO;
	}
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		fprintf(stderr, "mynumber-sim: %s: not a PEM certificate\n", path);
		return MN_ERR_FORMAT;
	}
	*out = x;
	return MN_OK;
}

int sim_load_key(const char *path, EVP_PKEY **out)
{
	BIO *bio = BIO_new_file(path, "r");
	EVP_PKEY *key;

	if (bio == NULL) {
		fprintf(stderr, "mynumber-sim: cannot open %s\n", path);
		return MN_ERR_IO;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (key == NULL || !EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_get_bits(key) != 2048) {
		fprintf(stderr, "mynumber-sim: %s: not an RSA-2048 private key in PEM\n", path);
		EVP_PKEY_free(key);
		return MN_ERR_FORMAT;
	}
	*out = key;
	return MN_OK;
}

static int x509_der(X509 *x, uint8_t **der, size_t *der_len)
{
	unsigned char *buf = NULL;
	int n = i2d_X509(x, &buf);

	if (n <= 0)
		return MN_ERR_CRYPTO;
	*der = buf;
	*der_len = (size_t)n;
	return MN_OK;
}

int sim_load_cert_der(const char *path, uint8_t **der, size_t *der_len)
{
	X509 *x = NULL;
	int r;

	if ((r = load_x509(path, &x)) == MN_OK)
		r = x509_der(x, der, der_len);
	X509_free(x);
	return r;
}

/* A certificate EF: the DER padded with 00 to CERT_EF_SIZE. */
static int add_cert_ef(struct sim_app *app, uint16_t fid, int pin, const uint8_t *der,
                       size_t der_len, const char *name)
{
	uint8_t *ef;
	int r;

	if (der_len > CERT_EF_SIZE) {
		fprintf(stderr, "mynumber-sim: %s is %zu bytes, more than the %d-byte EF\n", name,
		        der_len, CERT_EF_SIZE);
		return MN_ERR_TOO_LARGE;
	}
	if ((ef = calloc(1, CERT_EF_SIZE)) == NULL)
		return MN_ERR_NOMEM;
	memcpy(ef, der, der_len);
	if ((r = sim_app_add_ef(app, fid, SIM_EF_BINARY, pin, ef, CERT_EF_SIZE, NULL)) != 0)
		free(ef);
	return r;
}

/* A certificate file as an EF; with a key file, the key EF too (checked to match). */
static int add_cert(struct sim_app *app, const char *dir, const char *cert_name, uint16_t fid,
                    int read_pin, const char *key_name, uint16_t key_fid, int key_pin)
{
	char *cert_path = NULL, *key_path = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *der = NULL;
	size_t der_len = 0;
	X509 *x = NULL;
	int r;

	if ((cert_path = sim_path(dir, cert_name)) == NULL ||
	    (key_name != NULL && (key_path = sim_path(dir, key_name)) == NULL)) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = load_x509(cert_path, &x)) != MN_OK || (r = x509_der(x, &der, &der_len)) != 0)
		goto out;
	if ((r = add_cert_ef(app, fid, read_pin, der, der_len, cert_path)) != MN_OK)
		goto out;
	if (key_path == NULL)
		goto out;
	if ((r = sim_load_key(key_path, &key)) != MN_OK)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		fprintf(stderr, "mynumber-sim: %s does not match %s\n", key_path, cert_path);
		r = MN_ERR_FORMAT;
		goto out;
	}
	if ((r = sim_app_add_ef(app, key_fid, SIM_EF_KEY, key_pin, NULL, 0, key)) == MN_OK)
		key = NULL;
out:
	EVP_PKEY_free(key);
	OPENSSL_free(der);
	X509_free(x);
	free(cert_path);
	free(key_path);
	return r;
}

static enum mn_token_kind token_kind(enum sim_profile p)
{
	switch (p) {
	case SIM_PROFILE_ANDROID:
		return MN_TOKEN_ANDROID;
	case SIM_PROFILE_IPHONE:
		return MN_TOKEN_IPHONE;
	case SIM_PROFILE_JUKI:
		return MN_TOKEN_JUKI;
	case SIM_PROFILE_CARD:
		break;
	}
	return MN_TOKEN_CARD;
}

static int add_small_efs(struct sim_app *app, const struct sim_card *card,
                         const struct sim_conf *conf)
{
	struct mn_tokeninfo ti;
	uint8_t *ef0006 = NULL, *ef0008 = NULL;
	int r;

	memset(&ti, 0, sizeof(ti));
	ti.kind = token_kind(card->profile);
	snprintf(ti.label, sizeof(ti.label), "%s", mn_token_kind_label(ti.kind));
	snprintf(ti.manufacturer, sizeof(ti.manufacturer), "mynumber-sim");
	snprintf(ti.model, sizeof(ti.model), "virtual");
	snprintf(ti.serial, sizeof(ti.serial), "%s", conf->token_serial);
	if ((ef0006 = malloc(MN_TOKEN_INFO_LEN)) == NULL || (ef0008 = malloc(3)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = mn_tokeninfo_encode(&ti, ef0006)) != MN_OK)
		goto out;
	ef0008[0] = 0x8F, ef0008[1] = 0x8F, ef0008[2] = 0x00;
	r = sim_app_add_ef(app, MN_EF_TOKEN_INFO, SIM_EF_BINARY, SIM_PIN_NONE, ef0006,
	                   MN_TOKEN_INFO_LEN, NULL);
	if (r != MN_OK)
		goto out;
	ef0006 = NULL;
	r = sim_app_add_ef(app, MN_EF_CERT_AVAIL, SIM_EF_BINARY, SIM_PIN_NONE, ef0008, 3, NULL);
	if (r == MN_OK)
		ef0008 = NULL;
out:
	free(ef0006);
	free(ef0008);
	return r;
}

int sim_jpki_build(struct sim_card *card, const char *dir, const struct sim_conf *conf)
{
	struct sim_app *app = &card->apps[SIM_AP_JPKI];
	int auth_read = card->profile == SIM_PROFILE_ANDROID ? SIM_PIN_AUTH : SIM_PIN_NONE;
	int r;

	if ((r = add_cert(app, dir, "sign.pem", MN_EF_SIGN_CERT, SIM_PIN_SIGN, "sign.key",
	                  MN_EF_SIGN_KEY, SIM_PIN_SIGN)) != MN_OK ||
	    (r = add_cert(app, dir, "sign-ca.pem", MN_EF_SIGN_CA, SIM_PIN_NONE, NULL, 0, 0)) != 0 ||
	    (r = add_cert(app, dir, "auth.pem", MN_EF_AUTH_CERT, auth_read, "auth.key",
	                  MN_EF_AUTH_KEY, SIM_PIN_AUTH)) != MN_OK ||
	    (r = add_cert(app, dir, "auth-ca.pem", MN_EF_AUTH_CA, SIM_PIN_NONE, NULL, 0, 0)) != 0)
		return r;
	if ((r = add_small_efs(app, card, conf)) != MN_OK)
		return r;
	if ((r = sim_app_add_ef(app, MN_EF_AUTH_PIN, SIM_EF_PIN, SIM_PIN_AUTH, NULL, 0, NULL)) ||
	    (r = sim_app_add_ef(app, MN_EF_SIGN_PIN, SIM_EF_PIN, SIM_PIN_SIGN, NULL, 0, NULL)))
		return r;
	return MN_OK;
}

/* RSA-2048 with PKCS#1 v1.5 type-1 padding over the data as given (no DigestInfo added). */
static int rsa_sign_raw(EVP_PKEY *key, const uint8_t *in, size_t len, uint8_t *sig, size_t *sig_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	size_t n = MN_RSA_SIG_LEN;
	int r = MN_ERR_CRYPTO;

	if (ctx == NULL)
		return MN_ERR_NOMEM;
	if (EVP_PKEY_sign_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_sign(ctx, sig, &n, in, len) <= 0 || n != MN_RSA_SIG_LEN)
		goto out;
	*sig_len = n;
	r = MN_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	return r;
}

uint16_t sim_jpki_compute_signature(struct sim_card *card, const struct mn_capdu *c, uint8_t *data,
                                    size_t *data_len)
{
	struct sim_ef *ef = card->cur_ef;

	if (c->p1 != 0x00 || (c->p2 & 0xE0) != 0x80)
		return 0x6A86;
	if (c->lc == 0 || c->lc > MN_SIGN_INPUT_MAX)
		return 0x6700;
	/* P2 = 80: the current EF; 80|SFI names the key EF (0x97, 0x9A) */
	if (c->p2 != 0x80)
		ef = sim_card_find_ef(card, c->p2 & 0x1F);
	if (ef == NULL || ef->kind != SIM_EF_KEY)
		return 0x6985;
	if (!card->pins[ef->pin].verified)
		return 0x6982;
	if (rsa_sign_raw(ef->key, c->data, c->lc, data, data_len) != MN_OK) {
		fprintf(stderr, "mynumber-sim: RSA signature failed\n");
		return 0x6F00;
	}
	return 0x9000;
}

uint16_t sim_jpki_last_command(struct sim_card *card, const struct mn_capdu *c)
{
	if (card->profile != SIM_PROFILE_IPHONE)
		return 0x6700;
	if (c->p1 != 0x00 || c->p2 != 0x00)
		return 0x6A86;
	return 0x9000;
}
