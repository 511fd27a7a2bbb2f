/* "mynumber-sim init": a test PKI shaped like JPKI, and the card.conf of a test card. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "sim.h"

#define CA_BACKDATE_DAYS 401 /* covers the validity of an --expired leaf */
#define CA_DAYS          3650
#define LEAF_DAYS        1825

#define OID_POLICY_AUTH "1.2.392.200149.8.5.1.3.30"
#define OID_POLICY_SIGN "1.2.392.200149.8.5.1.1.20"
#define OID_SAN_BASE    "1.2.392.200149.8.5.5."

#define DEFAULT_NAME    "試験　太郎"
#define DEFAULT_ADDRESS "東京都千代田区霞が関２－１－２"
#define DEFAULT_BIRTH   "19800217"
#define DEFAULT_SEX     '1'

static const char *const ca_ou[] = {"JPKI for user authentication", "JPKI for digital signature"};

/* ---------------------------------------------------------------- small helpers */

static int random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char b[32];
	size_t i;

	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1)
		return MN_ERR_CRYPTO;
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0F];
	}
	out[2 * nbytes] = '\0';
	return MN_OK;
}

static int random_digits(char *out, size_t n)
{
	unsigned char b;
	size_t i = 0;
	int guard = 0;

	while (i < n) {
		if (RAND_bytes(&b, 1) != 1 || ++guard > 10000)
			return MN_ERR_CRYPTO;
		if (b < 250)
			out[i++] = (char)('0' + b % 10);
	}
	out[n] = '\0';
	return MN_OK;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* 1.2.392.200149.8.5.5.4: era digit (1 明治 .. 5 令和, 0 unknown) + YYYYMMDD */
static char birth_era(const char *birth)
{
	static const struct {
		const char *from;
		char era;
	} eras[] = {
	    {"20190501", '5'}, {"19890108", '4'}, {"19261225", '3'},
	    {"19120730", '2'}, {"18680125", '1'},
	};
	size_t i;

	for (i = 0; i < sizeof(eras) / sizeof(eras[0]); i++)
		if (strcmp(birth, eras[i].from) >= 0)
			return eras[i].era;
	return '0';
}

static int write_pem(const char *dir, const char *name, mode_t mode, EVP_PKEY *priv, EVP_PKEY *pub,
                     X509 *cert)
{
	BIO *mem = BIO_new(BIO_s_secmem());
	char *path = sim_path(dir, name), *data = NULL;
	long len;
	int r = MN_ERR_CRYPTO;

	if (mem == NULL || path == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((priv != NULL && !PEM_write_bio_PrivateKey(mem, priv, NULL, NULL, 0, NULL, NULL)) ||
	    (pub != NULL && !PEM_write_bio_PUBKEY(mem, pub)) ||
	    (cert != NULL && !PEM_write_bio_X509(mem, cert)))
		goto out;
	if ((len = BIO_get_mem_data(mem, &data)) <= 0)
		goto out;
	if ((r = sim_write_file_atomic(path, data, (size_t)len, mode)) != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot write %s\n", path);
out:
	BIO_free(mem);
	free(path);
	return r;
}

/* ---------------------------------------------------------------- certificates */

static X509_NAME *make_name(const char *const *fields)
{
	X509_NAME *n = X509_NAME_new();
	size_t i;

	if (n == NULL)
		return NULL;
	for (i = 0; fields[i] != NULL; i += 2) {
		if (!X509_NAME_add_entry_by_txt(n, fields[i], MBSTRING_UTF8,
		                                (const unsigned char *)fields[i + 1], -1, -1, 0)) {
			X509_NAME_free(n);
			return NULL;
		}
	}
	return n;
}

static int set_serial(X509 *x, const char *hex)
{
	unsigned char b[8];
	BIGNUM *bn = NULL;
	int r = MN_ERR_CRYPTO;

	if (hex != NULL) {
		if (BN_hex2bn(&bn, hex) == 0)
			goto out;
	} else {
		if (RAND_bytes(b, sizeof(b)) != 1)
			goto out;
		b[0] = (unsigned char)((b[0] & 0x7F) | 0x40); /* positive, full 8 bytes */
		if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
			goto out;
	}
	if (BN_is_zero(bn) || BN_is_negative(bn))
		goto out;
	if (BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		r = MN_OK;
out:
	BN_free(bn);
	return r;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value)) == NULL)
		return MN_ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? MN_OK : MN_ERR_CRYPTO;
}

/*
 * A v3 certificate for key with subject (consumed) issued by issuer/issuer_key (NULL:
 * self-signed), valid from now+nb_days to now+na_days.
 */
static int new_cert(EVP_PKEY *key, X509_NAME *subject, X509 *issuer, const char *serial_hex,
                    long nb_days, long na_days, X509 **out)
{
	X509 *x = X509_new();
	int r = MN_ERR_CRYPTO;

	if (x == NULL || subject == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (!X509_set_version(x, 2) || (r = set_serial(x, serial_hex)) != MN_OK)
		goto out;
	r = MN_ERR_CRYPTO;
	if (!X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : subject) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), (int)nb_days, 0, NULL) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)na_days, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, key))
		goto out;
	*out = x;
	x = NULL;
	r = MN_OK;
out:
	X509_NAME_free(subject);
	X509_free(x);
	return r;
}

static int make_ca(int which, EVP_PKEY **key_out, X509 **cert_out)
{
	const char *fields[] = {
	    "C",  "JP",         "O",  "JPKI-TEST",
	    "OU", ca_ou[which], "OU", "Japan Agency for Local Authority Information Systems",
	    NULL};
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = NULL;
	int r = MN_ERR_CRYPTO;

	if (key == NULL)
		goto out;
	if ((r = new_cert(key, make_name(fields), NULL, NULL, -CA_BACKDATE_DAYS,
	                  CA_DAYS - CA_BACKDATE_DAYS, &x)) != MN_OK)
		goto out;
	if ((r = add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE")) != MN_OK ||
	    (r = add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign")) != MN_OK ||
	    (r = add_ext(x, NULL, NID_subject_key_identifier, "hash")) != MN_OK)
		goto out;
	r = MN_ERR_CRYPTO;
	if (!X509_sign(x, key, EVP_sha256()))
		goto out;
	*key_out = key;
	*cert_out = x;
	key = NULL;
	x = NULL;
	r = MN_OK;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

static int load_ca(const char *from, int which, EVP_PKEY **key_out, X509 **cert_out)
{
	static const char *const names[2][2] = {{"auth-ca.key", "auth-ca.pem"},
	                                        {"sign-ca.key", "sign-ca.pem"}};
	char *key_path = sim_path(from, names[which][0]);
	char *cert_path = sim_path(from, names[which][1]);
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *bio = NULL;
	int r = MN_ERR_NOMEM;

	if (key_path == NULL || cert_path == NULL)
		goto out;
	if ((r = sim_load_key(key_path, &key)) != MN_OK)
		goto out;
	r = MN_ERR_FORMAT;
	if ((bio = BIO_new_file(cert_path, "r")) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "mynumber-sim: cannot read the certificate %s\n", cert_path);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		fprintf(stderr, "mynumber-sim: %s does not match %s\n", key_path, cert_path);
		goto out;
	}
	*key_out = key;
	*cert_out = x;
	key = NULL;
	x = NULL;
	r = MN_OK;
out:
	BIO_free(bio);
	EVP_PKEY_free(key);
	X509_free(x);
	free(key_path);
	free(cert_path);
	return r;
}

static int add_policy(X509 *x, const char *oid)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	int r = MN_ERR_CRYPTO;

	if (pols == NULL || pi == NULL)
		goto out;
	ASN1_OBJECT_free(pi->policyid);
	if ((pi->policyid = OBJ_txt2obj(oid, 1)) == NULL || !sk_POLICYINFO_push(pols, pi))
		goto out;
	pi = NULL;
	if (X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT) == 1)
		r = MN_OK;
out:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return r;
}

static int add_othername(GENERAL_NAMES *gens, int arc, const char *utf8)
{
	char oid[64];
	ASN1_OBJECT *obj = NULL;
	ASN1_UTF8STRING *s = NULL;
	ASN1_TYPE *val = NULL;
	GENERAL_NAME *gen = NULL;
	int r = MN_ERR_CRYPTO;

	snprintf(oid, sizeof(oid), "%s%d", OID_SAN_BASE, arc);
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL || (s = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, utf8, -1) || (val = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
	s = NULL;
	if ((gen = GENERAL_NAME_new()) == NULL || !GENERAL_NAME_set0_othername(gen, obj, val))
		goto out;
	obj = NULL;
	val = NULL;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto out;
	gen = NULL;
	r = MN_OK;
out:
	ASN1_OBJECT_free(obj);
	ASN1_UTF8STRING_free(s);
	ASN1_TYPE_free(val);
	GENERAL_NAME_free(gen);
	return r;
}

/* The sign certificate's subjectAltName: 6 otherNames with the card's 4 attributes. */
static int add_sign_san(X509 *x, const struct mn_attrs *a)
{
	char name_flags[256], addr_flags[768], birth[10], sex[2];
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t n;
	int r = MN_ERR_NOMEM;

	if (gens == NULL)
		return r;
	n = utf8_chars(a->name);
	memset(name_flags, '0', n);
	name_flags[n] = '\0';
	n = utf8_chars(a->address);
	memset(addr_flags, '0', n);
	addr_flags[n] = '\0';
	birth[0] = birth_era(a->birth);
	memcpy(birth + 1, a->birth, 9);
	sex[0] = a->sex == '1' || a->sex == '2' ? a->sex : '3';
	sex[1] = '\0';
	if ((r = add_othername(gens, 1, a->name)) != MN_OK ||
	    (r = add_othername(gens, 2, name_flags)) != MN_OK ||
	    (r = add_othername(gens, 3, sex)) != MN_OK ||
	    (r = add_othername(gens, 4, birth)) != MN_OK ||
	    (r = add_othername(gens, 5, a->address)) != MN_OK ||
	    (r = add_othername(gens, 6, addr_flags)) != MN_OK)
		goto out;
	r = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1
	        ? MN_OK
	        : MN_ERR_CRYPTO;
out:
	GENERAL_NAMES_free(gens);
	return r;
}

struct leaf {
	int which; /* 0 auth, 1 sign */
	const char *const *subject;
	const struct sim_init_opts *opts;
	const struct mn_attrs *attrs;
	EVP_PKEY *ca_key;
	X509 *ca;
};

static int make_leaf(const struct leaf *l, EVP_PKEY **key_out, X509 **cert_out)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	long nb = l->opts->expired ? -400 : -1, na = l->opts->expired ? -1 : LEAF_DAYS;
	X509 *x = NULL;
	int r = MN_ERR_CRYPTO;

	if (key == NULL)
		goto out;
	if ((r = new_cert(key, make_name(l->subject), l->ca, l->opts->serial_hex, nb, na, &x)))
		goto out;
	if (l->which == 0)
		r = add_ext(x, l->ca, NID_key_usage, "critical,digitalSignature");
	else
		r = add_ext(x, l->ca, NID_key_usage, "critical,digitalSignature,nonRepudiation");
	if (r != MN_OK || (r = add_policy(x, l->which == 0 ? OID_POLICY_AUTH : OID_POLICY_SIGN)) ||
	    (r = add_ext(x, l->ca, NID_authority_key_identifier, "keyid:always")) != MN_OK ||
	    (r = add_ext(x, l->ca, NID_subject_key_identifier, "hash")) != MN_OK)
		goto out;
	if (l->which == 1 && (r = add_sign_san(x, l->attrs)) != MN_OK)
		goto out;
	r = MN_ERR_CRYPTO;
	if (!X509_sign(x, l->ca_key, EVP_sha256()))
		goto out;
	*key_out = key;
	*cert_out = x;
	key = NULL;
	x = NULL;
	r = MN_OK;
out:
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

/* ---------------------------------------------------------------- the card */

static int make_conf(const struct sim_init_opts *o, struct sim_conf *c)
{
	int i, r;

	memset(c, 0, sizeof(*c));
	c->profile = o->profile;
	for (i = 0; i < SIM_PIN_COUNT; i++)
		snprintf(c->pins[i], sizeof(c->pins[i]), "%s", o->pins[i]);
	if ((r = random_hex(c->token_serial, 8)) != MN_OK ||
	    (r = random_digits(c->my_number, 11)) != MN_OK ||
	    (r = sim_mynumber_check_digit(c->my_number, &c->my_number[11])) != MN_OK)
		return r;
	c->my_number[12] = '\0';
	snprintf(c->attrs.name, sizeof(c->attrs.name), "%s", DEFAULT_NAME);
	snprintf(c->attrs.address, sizeof(c->attrs.address), "%s", DEFAULT_ADDRESS);
	snprintf(c->attrs.birth, sizeof(c->attrs.birth), "%s", DEFAULT_BIRTH);
	c->attrs.sex = DEFAULT_SEX;
	return MN_OK;
}

/* CN of the sign certificate: request time YYYYMMDDhhmmss, 5-digit sequence, office code. */
static int sign_cn(char *out, size_t cap)
{
	char seq[6];
	time_t t = time(NULL);
	struct tm tm;
	int r;

	if (gmtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y%m%d%H%M%S", &tm) != 14)
		return MN_ERR_INTERNAL;
	if ((r = random_digits(seq, 5)) != MN_OK)
		return r;
	snprintf(out + 14, cap - 14, "%sTESTOFFIC", seq);
	return MN_OK;
}

struct pki {
	EVP_PKEY *ca_key[2], *key[2], *info;
	X509 *ca[2], *cert[2];
};

static void pki_free(struct pki *p)
{
	int i;

	for (i = 0; i < 2; i++) {
		EVP_PKEY_free(p->ca_key[i]);
		EVP_PKEY_free(p->key[i]);
		X509_free(p->ca[i]);
		X509_free(p->cert[i]);
	}
	EVP_PKEY_free(p->info);
}

static int make_pki(const struct sim_init_opts *o, const struct sim_conf *conf, struct pki *p)
{
	char auth_cn[65], cn[40];
	const char *auth_subj[] = {"C", "JP", "CN", auth_cn, NULL};
	const char *sign_subj[] = {"C", "JP", "L", "Tokyo-to", "L", "Chiyoda-ku", "CN", cn, NULL};
	struct leaf l = {.opts = o, .attrs = &conf->attrs};
	int i, r;

	for (i = 0; i < 2; i++) {
		r = o->ca_from != NULL ? load_ca(o->ca_from, i, &p->ca_key[i], &p->ca[i])
		                       : make_ca(i, &p->ca_key[i], &p->ca[i]);
		if (r != MN_OK)
			return r;
	}
	if (o->cn != NULL)
		snprintf(auth_cn, sizeof(auth_cn), "%s", o->cn);
	else if ((r = random_hex(auth_cn, 8)) != MN_OK)
		return r;
	if ((r = sign_cn(cn, sizeof(cn))) != MN_OK)
		return r;
	for (i = 0; i < 2; i++) {
		l.which = i;
		l.subject = i == 0 ? auth_subj : sign_subj;
		l.ca_key = p->ca_key[i];
		l.ca = p->ca[i];
		if ((r = make_leaf(&l, &p->key[i], &p->cert[i])) != MN_OK)
			return r;
	}
	if ((p->info = EVP_RSA_gen(2048)) == NULL)
		return MN_ERR_CRYPTO;
	return MN_OK;
}

static int write_pki(const char *dir, const struct pki *p)
{
	static const char *const names[2][4] = {
	    {"auth-ca.key", "auth-ca.pem", "auth.key", "auth.pem"},
	    {"sign-ca.key", "sign-ca.pem", "sign.key", "sign.pem"},
	};
	int i, r;

	for (i = 0; i < 2; i++) {
		if ((r = write_pem(dir, names[i][0], 0600, p->ca_key[i], NULL, NULL)) != 0 ||
		    (r = write_pem(dir, names[i][1], 0644, NULL, NULL, p->ca[i])) != MN_OK ||
		    (r = write_pem(dir, names[i][2], 0600, p->key[i], NULL, NULL)) != MN_OK ||
		    (r = write_pem(dir, names[i][3], 0644, NULL, NULL, p->cert[i])) != MN_OK)
			return r;
	}
	if ((r = write_pem(dir, "info.key", 0600, p->info, NULL, NULL)) != MN_OK ||
	    (r = write_pem(dir, "info.pub.pem", 0644, NULL, p->info, NULL)) != MN_OK)
		return r;
	return MN_OK;
}

int sim_init(const char *dir, const struct sim_init_opts *opts)
{
	struct pki pki;
	struct sim_conf conf;
	char *conf_path = NULL;
	int r;

	memset(&pki, 0, sizeof(pki));
	memset(&conf, 0, sizeof(conf));
	if ((conf_path = sim_path(dir, "card.conf")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (access(conf_path, F_OK) == 0) {
		fprintf(stderr, "mynumber-sim: %s already exists: not overwriting a card\n",
		        conf_path);
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = sim_mkdir(dir, 0700)) != MN_OK || chmod(dir, 0700) != 0) {
		fprintf(stderr, "mynumber-sim: cannot create the directory %s\n", dir);
		r = MN_ERR_IO;
		goto out;
	}
	if ((r = make_conf(opts, &conf)) != MN_OK || (r = make_pki(opts, &conf, &pki)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot make the test PKI: %s\n", mn_strerror(r));
		ERR_print_errors_fp(stderr);
		goto out;
	}
	if ((r = write_pki(dir, &pki)) != MN_OK)
		goto out;
	/* card.conf last: its presence marks a complete card directory */
	if ((r = sim_conf_write(conf_path, &conf)) != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot write %s\n", conf_path);
out:
	sim_conf_wipe(&conf);
	pki_free(&pki);
	free(conf_path);
	return r;
}
