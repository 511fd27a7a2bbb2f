/* "init --profile wallet": a test IACA (C=JP) + Document Signer (Annex B), device key, data. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "sim.h"
#include "sim_wallet.h"

#define DAY 86400L

/* the holder: synthetic values only */
static const char wallet_conf_fmt[] =
    "# mynumber-sim wallet (smartphone My Number Card as an mdoc); test data only\n"
    "full_name_unicode=番号　花子\n"
    "resident_address_unicode=東京都千代田区永田町一丁目1番1号\n"
    "local_gov_code_unicode=13101\n"
    "individual_number_unicode=123456789018\n"
    "sex_unicode=女\n"
    "birth_date_unicode=1971年9月1日\n"
    "sex=2\n"
    "birth_date=1971-09-01\n"
    "age_in_years=55\n"
    "age_over_18=true\n"
    "age_over_20=true\n"
    "age_over_21=true\n"
    "mso_valid_from=%lld\n"
    "mso_valid_until=%lld\n";

/* a tiny stand-in JPEG (SOI, APP0 JFIF header, EOI) */
static const uint8_t portrait_jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',
                                       'I',  'F',  0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
                                       0x00, 0x01, 0x00, 0x00, 0xFF, 0xD9};

static EVP_PKEY *new_p256(void)
{
	return EVP_EC_gen("P-256");
}

static int write_pem(const char *dir, const char *name, EVP_PKEY *key, X509 *cert)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *path = NULL, *data;
	long n;
	int r = MN_ERR_CRYPTO;

	if (b == NULL)
		return MN_ERR_NOMEM;
	if (key != NULL && !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	if (cert != NULL && !PEM_write_bio_X509(b, cert))
		goto out;
	if ((n = BIO_get_mem_data(b, &data)) <= 0)
		goto out;
	if ((path = sim_path(dir, name)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	r = sim_write_file_atomic(path, data, (size_t)n, key != NULL ? 0600 : 0644);
out:
	/* wipe the private key text before the BIO goes */
	if (key != NULL && (n = BIO_get_mem_data(b, &data)) > 0)
		explicit_bzero(data, (size_t)n);
	BIO_free(b);
	free(path);
	return r;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return MN_ERR_CRYPTO;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? MN_OK : MN_ERR_CRYPTO;
}

static int make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long from,
                     long days, X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	uint8_t serial[8];
	BIGNUM *bn = NULL;
	int r = MN_ERR_CRYPTO, ca = issuer == NULL;

	if (x == NULL || name == NULL)
		goto out;
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		goto out;
	serial[0] &= 0x7f;
	serial[0] |= 0x01;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (!X509_set_version(x, 2) ||
	    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_ASC, (const unsigned char *)"JP", -1,
	                                -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	                                (const unsigned char *)"mynumber-sim test", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
	                                0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, ca ? name : X509_get_subject_name(issuer)) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), from) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), from + days * DAY) == NULL ||
	    !X509_set_pubkey(x, key))
		goto out;
	if (ca) {
		if ((r = add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) ||
		    (r = add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign")) ||
		    (r = add_ext(x, NULL, NID_subject_key_identifier, "hash")))
			goto out;
	} else {
		if ((r = add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE")) ||
		    (r = add_ext(x, issuer, NID_key_usage, "critical,digitalSignature")) ||
		    (r = add_ext(x, issuer, NID_ext_key_usage, "critical,1.0.18013.5.1.2")) ||
		    (r = add_ext(x, issuer, NID_subject_key_identifier, "hash")) ||
		    (r = add_ext(x, issuer, NID_authority_key_identifier, "keyid:always")))
			goto out;
	}
	if ((r = add_ext(x, issuer, NID_issuer_alt_name, "URI:https://iaca.sim.example.jp/")) ||
	    (r = add_ext(x, issuer, NID_crl_distribution_points,
	                 "URI:https://iaca.sim.example.jp/iaca.crl")))
		goto out;
	r = MN_ERR_CRYPTO;
	if (!X509_sign(x, ca ? key : issuer_key, EVP_sha256()))
		goto out;
	*out = x;
	x = NULL;
	r = MN_OK;
out:
	BN_free(bn);
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

int sim_wallet_init(const char *dir, const struct sim_wallet_init_opts *opts)
{
	EVP_PKEY *iaca_key = NULL, *ds_key = NULL, *dev_key = NULL;
	X509 *iaca = NULL, *ds = NULL;
	char conf[2048], *path = NULL;
	long long now = (long long)time(NULL), from, until;
	int n, r;

	if (dir == NULL || opts == NULL)
		return MN_ERR_INVALID_ARG;
	if (opts->expired) {
		from = now - 30 * DAY;
		until = now - DAY;
	} else {
		from = now - 3600;
		until = now + (long long)opts->valid_days * DAY;
	}
	if ((r = sim_mkdir(dir, 0700)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot create %s\n", dir);
		goto out;
	}
	r = MN_ERR_CRYPTO;
	if ((iaca_key = new_p256()) == NULL || (ds_key = new_p256()) == NULL ||
	    (dev_key = new_p256()) == NULL)
		goto out;
	/* IACA from -60 days for 10 years; DS from -60 days for 400 days (<= 457) */
	if ((r = make_cert(iaca_key, "mynumber-sim Test IACA", NULL, NULL, -60 * DAY, 3650,
	                   &iaca)) != MN_OK ||
	    (r = make_cert(ds_key, "mynumber-sim Test DS", iaca, iaca_key, -60 * DAY, 400, &ds)) !=
	        MN_OK)
		goto out;
	if ((r = write_pem(dir, "iaca.pem", NULL, iaca)) != MN_OK ||
	    (r = write_pem(dir, "iaca-key.pem", iaca_key, NULL)) != MN_OK ||
	    (r = write_pem(dir, "ds.pem", NULL, ds)) != MN_OK ||
	    (r = write_pem(dir, "ds-key.pem", ds_key, NULL)) != MN_OK ||
	    (r = write_pem(dir, "device-key.pem", dev_key, NULL)) != MN_OK)
		goto out;
	n = snprintf(conf, sizeof(conf), wallet_conf_fmt, (long long)from, (long long)until);
	if (n < 0 || (size_t)n >= sizeof(conf)) {
		r = MN_ERR_INTERNAL;
		goto out;
	}
	if ((path = sim_path(dir, "wallet.conf")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = sim_write_file_atomic(path, conf, (size_t)n, 0600)) != MN_OK)
		goto out;
	free(path);
	if ((path = sim_path(dir, "portrait.jpg")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	r = sim_write_file_atomic(path, portrait_jpg, sizeof(portrait_jpg), 0644);
out:
	if (r != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot make the wallet in %s\n", dir);
	free(path);
	X509_free(iaca);
	X509_free(ds);
	EVP_PKEY_free(iaca_key);
	EVP_PKEY_free(ds_key);
	EVP_PKEY_free(dev_key);
	return r;
}
