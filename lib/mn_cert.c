#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mn_cert.h"
#include "mn_err.h"

#define MN_MAX_ANCHORS  64
#define MN_MAX_PEM_SIZE (1024 * 1024)

struct mn_anchors {
	STACK_OF(X509) *certs;
};

/* "a: b", or just a when b is NULL */
static void set_err(char *err, size_t len, const char *a, const char *b)
{
	if (err != NULL && len > 0)
		snprintf(err, len, "%s%s%s", a, b != NULL ? ": " : "", b != NULL ? b : "");
}

/* Append every certificate of one PEM file; each must be a CA. */
static int load_pem(struct mn_anchors *a, const char *path, char *err, size_t errlen)
{
	struct stat st;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r = MN_ERR_IO, n = 0;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		set_err(err, errlen, path, "cannot read trust anchor file");
		goto out;
	}
	if (st.st_size > MN_MAX_PEM_SIZE) {
		set_err(err, errlen, path, "trust anchor file too large");
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		set_err(err, errlen, path, "cannot open trust anchor file");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_check_ca(x) == 0) {
			set_err(err, errlen, path, "a certificate in it is not a CA");
			r = MN_ERR_FORMAT;
			goto out;
		}
		if (sk_X509_num(a->certs) >= MN_MAX_ANCHORS) {
			set_err(err, errlen, path, "too many trust anchors");
			r = MN_ERR_TOO_LARGE;
			goto out;
		}
		if (!sk_X509_push(a->certs, x)) {
			r = MN_ERR_NOMEM;
			goto out;
		}
		x = NULL;
		n++;
	}
	ERR_clear_error();
	if (n == 0) {
		set_err(err, errlen, path, "no PEM certificate in it");
		r = MN_ERR_FORMAT;
		goto out;
	}
	r = MN_OK;
out:
	X509_free(x);
	BIO_free(bio);
	return r;
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_dir(struct mn_anchors *a, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[MN_MAX_ANCHORS], path[4096];
	size_t n = 0, i;
	int r = MN_OK;

	if (d == NULL) {
		set_err(err, errlen, dir, "cannot open trust anchor directory");
		return MN_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' ||
		    !(has_suffix(e->d_name, ".pem") || has_suffix(e->d_name, ".crt")))
			continue;
		if (n >= MN_MAX_ANCHORS) {
			r = MN_ERR_TOO_LARGE;
			set_err(err, errlen, dir, "too many files");
			goto out;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			r = MN_ERR_NOMEM;
			goto out;
		}
		n++;
	}
	qsort(names, n, sizeof(names[0]), name_cmp);
	for (i = 0; i < n && r == MN_OK; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
			r = MN_ERR_TOO_LARGE;
		else
			r = load_pem(a, path, err, errlen);
	}
	if (r == MN_OK && n == 0) {
		set_err(err, errlen, dir, "no *.pem or *.crt trust anchors in it");
		r = MN_ERR_NOT_FOUND;
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	return r;
}

int mn_anchors_load(const char *path, struct mn_anchors **ret, char *err, size_t errlen)
{
	struct mn_anchors *a = NULL;
	struct stat st;
	int r;

	if (path == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((a = calloc(1, sizeof(*a))) == NULL || (a->certs = sk_X509_new_null()) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (stat(path, &st) != 0) {
		set_err(err, errlen, path, "trust anchors not found");
		r = MN_ERR_NOT_FOUND;
		goto out;
	}
	r = S_ISDIR(st.st_mode) ? load_dir(a, path, err, errlen) : load_pem(a, path, err, errlen);
	if (r != MN_OK)
		goto out;
	*ret = a;
	a = NULL;
out:
	mn_anchors_free(&a);
	return r;
}

void mn_anchors_free(struct mn_anchors **a)
{
	if (a == NULL || *a == NULL)
		return;
	sk_X509_pop_free((*a)->certs, X509_free);
	free(*a);
	*a = NULL;
}

STACK_OF(X509) *mn_anchors_stack(const struct mn_anchors *a)
{
	return a == NULL ? NULL : a->certs;
}

/* The anchor named as the issuer whose key verifies the certificate's signature. */
static X509 *find_issuer(const struct mn_anchors *a, X509 *cert, int *named)
{
	int i;

	*named = 0;
	for (i = 0; i < sk_X509_num(a->certs); i++) {
		X509 *ca = sk_X509_value(a->certs, i);
		if (X509_NAME_cmp(X509_get_subject_name(ca), X509_get_issuer_name(cert)) != 0)
			continue;
		*named = 1;
		if (X509_verify(cert, X509_get0_pubkey(ca)) == 1) {
			ERR_clear_error();
			return ca;
		}
		ERR_clear_error();
	}
	return NULL;
}

static int add_policies(X509_VERIFY_PARAM *param, const char *oids)
{
	char buf[512], *tok, *save = NULL;
	int n = 0;

	if (oids == NULL || strlen(oids) >= sizeof(buf))
		return MN_ERR_INVALID_ARG;
	strcpy(buf, oids);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		ASN1_OBJECT *o = OBJ_txt2obj(tok, 1);
		if (o == NULL)
			return MN_ERR_FORMAT;
		if (!X509_VERIFY_PARAM_add0_policy(param, o)) {
			ASN1_OBJECT_free(o);
			return MN_ERR_NOMEM;
		}
		n++;
	}
	return n > 0 ? MN_OK : MN_ERR_INVALID_ARG;
}

static enum mn_cert_verdict map_verify_error(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return MN_CERT_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return MN_CERT_NOT_YET_VALID;
	case X509_V_ERR_NO_EXPLICIT_POLICY:
	case X509_V_ERR_INVALID_POLICY_EXTENSION:
		return MN_CERT_BAD_POLICY;
	case X509_V_ERR_INVALID_PURPOSE:
	case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
		return MN_CERT_BAD_USAGE;
	}
	return MN_CERT_UNTRUSTED;
}

int mn_cert_validate(const struct mn_anchors *a, X509 *cert, const char *policy_oids, time_t now,
                     enum mn_cert_verdict *ret_verdict, X509 **ret_issuer, char *detail,
                     size_t detlen)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	X509 *issuer;
	EVP_PKEY *pkey;
	enum mn_cert_verdict v = MN_CERT_UNTRUSTED;
	int r = MN_ERR_CRYPTO, named, e;

	if (a == NULL || cert == NULL || ret_verdict == NULL)
		return MN_ERR_INVALID_ARG;
	if (detail != NULL && detlen > 0)
		detail[0] = '\0';

	pkey = X509_get0_pubkey(cert);
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
	    EVP_PKEY_get_bits(pkey) < 2048) {
		v = MN_CERT_BAD_KEY;
		set_err(detail, detlen, "the certificate key is not RSA-2048 or larger", NULL);
		goto done;
	}
	if (X509_check_ca(cert) != 0) {
		v = MN_CERT_BAD_USAGE;
		set_err(detail, detlen, "a CA certificate is not a user certificate", NULL);
		goto done;
	}
	if (!(X509_get_extension_flags(cert) & EXFLAG_KUSAGE) ||
	    !(X509_get_key_usage(cert) & KU_DIGITAL_SIGNATURE)) {
		v = MN_CERT_BAD_USAGE;
		set_err(detail, detlen, "no digitalSignature key usage", NULL);
		goto done;
	}
	issuer = find_issuer(a, cert, &named);
	if (issuer == NULL) {
		v = MN_CERT_UNTRUSTED;
		set_err(detail, detlen,
		        named ? "not signed by any trust anchor with its issuer's name"
		              : "its issuer is not a configured trust anchor",
		        NULL);
		goto done;
	}
	if ((store = X509_STORE_new()) == NULL || !X509_STORE_add_cert(store, issuer) ||
	    (ctx = X509_STORE_CTX_new()) == NULL || !X509_STORE_CTX_init(ctx, store, cert, NULL))
		goto out;
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, now);
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_POLICY_CHECK |
	                                       X509_V_FLAG_EXPLICIT_POLICY);
	X509_VERIFY_PARAM_set_depth(param, 1);
	if ((r = add_policies(param, policy_oids)) != MN_OK)
		goto out;
	if (X509_verify_cert(ctx) == 1) {
		v = MN_CERT_OK;
	} else {
		e = X509_STORE_CTX_get_error(ctx);
		v = map_verify_error(e);
		set_err(detail, detlen, X509_verify_cert_error_string(e),
		        X509_STORE_CTX_get_error_depth(ctx) > 0 ? "CA certificate" : NULL);
	}
	ERR_clear_error();
	if (ret_issuer != NULL && X509_up_ref(issuer))
		*ret_issuer = issuer;
done:
	*ret_verdict = v;
	r = MN_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int mn_cert_sha256_hex(X509 *cert, char out[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	int i;

	if (cert == NULL || out == NULL || !X509_digest(cert, EVP_sha256(), md, &n) || n != 32)
		return MN_ERR_CRYPTO;
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return MN_OK;
}

static size_t put_string(unsigned char *p, const unsigned char *s, size_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	memcpy(p + 4, s, n);
	return 4 + n;
}

/* An SSH mpint: big-endian, a leading zero byte when the top bit is set. */
static size_t put_mpint(unsigned char *p, const BIGNUM *bn)
{
	unsigned char buf[1024 + 1];
	int n = BN_num_bytes(bn);

	buf[0] = 0;
	BN_bn2bin(bn, buf + 1);
	if (n > 0 && (buf[1] & 0x80))
		return put_string(p, buf, (size_t)n + 1);
	return put_string(p, buf + 1, (size_t)n);
}

int mn_cert_ssh_pubkey(X509 *cert, const char *comment, char *out, size_t cap)
{
	unsigned char blob[4 + 7 + 4 + 1025 + 4 + 1025];
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pkey;
	size_t len = 0, need;
	int r = MN_ERR_CRYPTO, b64;

	if (cert == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	pkey = X509_get0_pubkey(cert);
	if (pkey == NULL || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e))
		goto out;
	if (BN_num_bytes(n) > 1024 || BN_num_bytes(e) > 1024) {
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	len += put_string(blob + len, (const unsigned char *)"ssh-rsa", 7);
	len += put_mpint(blob + len, e);
	len += put_mpint(blob + len, n);
	need = 8 + 4 * ((len + 2) / 3) + 1 + (comment ? strlen(comment) + 1 : 0);
	if (cap < need) {
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(out, "ssh-rsa ", 8);
	b64 = EVP_EncodeBlock((unsigned char *)out + 8, blob, (int)len);
	if (b64 < 0)
		goto out;
	out[8 + b64] = '\0';
	if (comment != NULL && comment[0] != '\0') {
		strcat(out, " ");
		strcat(out, comment);
	}
	r = MN_OK;
out:
	BN_free(n);
	BN_free(e);
	return r;
}

int mn_cert_from_der(const unsigned char *der, size_t len, X509 **ret)
{
	const unsigned char *p = der;
	X509 *x;

	if (der == NULL || ret == NULL || len == 0 || len > 65536)
		return MN_ERR_INVALID_ARG;
	x = d2i_X509(NULL, &p, (long)len);
	if (x == NULL) {
		ERR_clear_error();
		return MN_ERR_FORMAT;
	}
	if ((size_t)(p - der) != len) {
		X509_free(x);
		return MN_ERR_TRAILING;
	}
	*ret = x;
	return MN_OK;
}

int mn_cert_not_after(X509 *cert, char out[16])
{
	struct tm tm;

	if (cert == NULL || out == NULL || !ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm))
		return MN_ERR_FORMAT;
	if (strftime(out, 16, "%Y%m%d%H%M%SZ", &tm) != 15)
		return MN_ERR_FORMAT;
	return MN_OK;
}

int mn_cert_serial_hex(X509 *cert, char *out, size_t cap)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r = MN_ERR_FORMAT;

	if (cert == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if (strlen(hex) + 1 > cap) {
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	strcpy(out, hex);
	r = MN_OK;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int mn_cert_issuer_str(X509 *cert, char *out, size_t cap)
{
	BIO *b = NULL;
	long n;
	char *p;
	int r = MN_ERR_FORMAT;

	if (cert == NULL || out == NULL || cap == 0)
		return MN_ERR_INVALID_ARG;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_issuer_name(cert), 0, XN_FLAG_RFC2253) < 0)
		goto out;
	n = BIO_get_mem_data(b, &p);
	if (n < 0 || (size_t)n + 1 > cap) {
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	memcpy(out, p, (size_t)n);
	out[n] = '\0';
	r = MN_OK;
out:
	BIO_free(b);
	return r;
}
