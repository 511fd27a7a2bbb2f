/* "mynumber-sim crl": a test CRL issued by the auth or sign CA of a card directory. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "sim.h"

#define RAND_CHUNK 4096 /* random serials drawn per RAND_bytes call */

static const char *const ca_files[2][2] = {{"auth-ca.key", "auth-ca.pem"},
                                           {"sign-ca.key", "sign-ca.pem"}};
static const char *const leaf_files[2] = {"auth.pem", "sign.pem"};

static int read_cert(const char *dir, const char *name, X509 **out)
{
	char *path = sim_path(dir, name);
	BIO *bio = NULL;
	X509 *x = NULL;
	int r = MN_ERR_NOMEM;

	if (path == NULL)
		goto out;
	r = MN_ERR_FORMAT;
	if ((bio = BIO_new_file(path, "r")) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "mynumber-sim: cannot read the certificate %s\n", path);
		goto out;
	}
	*out = x;
	r = MN_OK;
out:
	BIO_free(bio);
	free(path);
	return r;
}

/* The CA certificate and key of dir (which: 0 auth, 1 sign). */
static int load_signer(const char *dir, int which, X509 **cert_out, EVP_PKEY **key_out)
{
	char *key_path = sim_path(dir, ca_files[which][0]);
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int r = MN_ERR_NOMEM;

	if (key_path == NULL)
		goto out;
	if ((r = read_cert(dir, ca_files[which][1], &x)) != MN_OK ||
	    (r = sim_load_key(key_path, &key)) != MN_OK)
		goto out;
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		fprintf(stderr, "mynumber-sim: %s does not match %s/%s\n", key_path, dir,
		        ca_files[which][1]);
		r = MN_ERR_FORMAT;
		goto out;
	}
	*cert_out = x;
	*key_out = key;
	x = NULL;
	key = NULL;
	r = MN_OK;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	free(key_path);
	return r;
}

/* One entry: serial (copied), revocation date (copied), reason keyCompromise. */
static int add_entry(X509_CRL *crl, const ASN1_INTEGER *serial, const ASN1_TIME *date,
                     const ASN1_ENUMERATED *reason)
{
	X509_REVOKED *rev = X509_REVOKED_new();

	if (rev == NULL || !X509_REVOKED_set_serialNumber(rev, (ASN1_INTEGER *)serial) ||
	    !X509_REVOKED_set_revocationDate(rev, (ASN1_TIME *)date) ||
	    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, (void *)reason, 0, 0) != 1 ||
	    !X509_CRL_add0_revoked(crl, rev)) {
		X509_REVOKED_free(rev);
		return MN_ERR_CRYPTO;
	}
	return MN_OK;
}

/* "self" (the serial of DIR's leaf of the same CA) or hex digits. */
static int add_named(X509_CRL *crl, const char *dir, int which, const char *what,
                     const ASN1_TIME *date, const ASN1_ENUMERATED *reason)
{
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	X509 *leaf = NULL;
	int r = MN_ERR_CRYPTO;

	if (strcmp(what, "self") == 0) {
		if ((r = read_cert(dir, leaf_files[which], &leaf)) != MN_OK)
			goto out;
		r = add_entry(crl, X509_get0_serialNumber(leaf), date, reason);
		goto out;
	}
	if (BN_hex2bn(&bn, what) == 0 || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		goto out;
	r = add_entry(crl, ai, date, reason);
out:
	X509_free(leaf);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return r;
}

/* n random positive 8-byte serials (63 bits, top byte 0x40-0x7F as in "init"). */
static int add_random(X509_CRL *crl, long n, const ASN1_TIME *date, const ASN1_ENUMERATED *reason)
{
	unsigned char buf[RAND_CHUNK * 8], *b;
	ASN1_INTEGER *ai = ASN1_INTEGER_new();
	long i;
	int r = MN_ERR_CRYPTO;

	if (ai == NULL)
		return MN_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (i % RAND_CHUNK == 0 && RAND_bytes(buf, sizeof(buf)) != 1)
			goto out;
		b = buf + (i % RAND_CHUNK) * 8;
		b[0] = (unsigned char)((b[0] & 0x7F) | 0x40);
		if (!ASN1_STRING_set(ai, b, 8) || (r = add_entry(crl, ai, date, reason)) != MN_OK)
			goto out;
	}
	r = MN_OK;
out:
	ASN1_INTEGER_free(ai);
	return r;
}

static int add_extensions(X509_CRL *crl, X509 *ca, long number, long delta_base)
{
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	int r = MN_ERR_CRYPTO;

	if (num == NULL || !ASN1_INTEGER_set_int64(num, number) ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1)
		goto out;
	if (delta_base >= 0 && (!ASN1_INTEGER_set_int64(num, delta_base) ||
	                        X509_CRL_add1_ext_i2d(crl, NID_delta_crl, num, 1, 0) != 1))
		goto out;
	X509V3_set_ctx(&ctx, ca, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
	                                "keyid:always")) == NULL ||
	    !X509_CRL_add_ext(crl, ext, -1))
		goto out;
	r = MN_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	return r;
}

static int build(const char *dir, const struct sim_crl_opts *o, X509 *ca, X509_CRL *crl)
{
	time_t now = time(NULL);
	ASN1_TIME *tu = X509_time_adj_ex(NULL, (int)o->this_update_days, 0, &now);
	ASN1_TIME *nu = X509_time_adj_ex(NULL, (int)o->next_update_days, 0, &now);
	ASN1_TIME *date = ASN1_TIME_set(NULL, now - 3600);
	ASN1_ENUMERATED *reason = ASN1_ENUMERATED_new(), *remove = ASN1_ENUMERATED_new();
	size_t i;
	int r = MN_ERR_CRYPTO;

	if (tu == NULL || nu == NULL || date == NULL || reason == NULL || remove == NULL ||
	    !ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE) ||
	    !ASN1_ENUMERATED_set(remove, CRL_REASON_REMOVE_FROM_CRL))
		goto out;
	if (!X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca)) ||
	    !X509_CRL_set1_lastUpdate(crl, tu) || !X509_CRL_set1_nextUpdate(crl, nu))
		goto out;
	for (i = 0; i < o->n_revoke; i++) {
		if ((r = add_named(crl, dir, o->ca, o->revoke[i], date, reason)) != MN_OK) {
			fprintf(stderr, "mynumber-sim: cannot revoke %s\n", o->revoke[i]);
			goto out;
		}
	}
	for (i = 0; i < o->n_remove; i++) {
		if ((r = add_named(crl, dir, o->ca, o->remove[i], date, remove)) != MN_OK) {
			fprintf(stderr, "mynumber-sim: cannot add removeFromCRL %s\n",
			        o->remove[i]);
			goto out;
		}
	}
	if ((r = add_random(crl, o->entries, date, reason)) != MN_OK ||
	    (r = add_extensions(crl, ca, o->crl_number, o->delta_base)) != MN_OK)
		goto out;
	r = X509_CRL_sort(crl) ? MN_OK : MN_ERR_CRYPTO;
out:
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(date);
	ASN1_ENUMERATED_free(reason);
	ASN1_ENUMERATED_free(remove);
	return r;
}

int sim_crl(const char *dir, const char *out_path, const struct sim_crl_opts *o)
{
	X509_CRL *crl = X509_CRL_new();
	EVP_PKEY *key = NULL;
	X509 *ca = NULL;
	BIO *mem = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r = MN_ERR_NOMEM;

	if (crl == NULL || mem == NULL)
		goto out;
	if ((r = load_signer(o->signer_dir != NULL ? o->signer_dir : dir, o->ca, &ca, &key)))
		goto out;
	if ((r = build(dir, o, ca, crl)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot build the CRL: %s\n", mn_strerror(r));
		ERR_print_errors_fp(stderr);
		goto out;
	}
	r = MN_ERR_CRYPTO;
	if (!X509_CRL_sign(crl, key, EVP_sha256()) ||
	    !(o->der ? i2d_X509_CRL_bio(mem, crl) : PEM_write_bio_X509_CRL(mem, crl)) ||
	    (len = BIO_get_mem_data(mem, &data)) <= 0) {
		fprintf(stderr, "mynumber-sim: cannot sign the CRL\n");
		ERR_print_errors_fp(stderr);
		goto out;
	}
	if ((r = sim_write_file_atomic(out_path, data, (size_t)len, 0644)) != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot write %s\n", out_path);
out:
	BIO_free(mem);
	X509_CRL_free(crl);
	EVP_PKEY_free(key);
	X509_free(ca);
	return r;
}
