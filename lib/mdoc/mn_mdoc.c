#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_cose.h"
#include "mdoc/mn_mdoc.h"
#include "mdoc/mn_mdoc_session.h"

#define EKU_MDL_DS      "1.0.18013.5.1.2"
#define MAX_TEXT        1024u
#define MIN_RANDOM      16u
#define MAX_DOCUMENTS   16u
#define MAX_CHAIN_CERTS 8u
/* ISO 18013-5 Annex B: certificate lifetimes and serial numbers */
#define DS_MAX_DAYS       457L
#define IACA_MAX_DAYS     (20L * 365 + 5) /* 20 years, leap days included */
#define MAX_SERIAL_OCTETS 20

struct mn_mdoc_elem {
	char *doctype;
	char *ns;
	char *id;
	cbor_item_t *value;
};

struct mn_mdoc_result {
	struct mn_mdoc_elem *e;
	size_t n;
	size_t cap;
	X509 *ds;   /* the first verified document's DS certificate (owned) */
	X509 *iaca; /* the IACA that verified it (a reference taken) */
};

struct ctx {
	const uint8_t *st_bytes; /* SessionTranscriptBytes as given */
	size_t st_len;
	const uint8_t *st_inner; /* the SessionTranscript encoding inside */
	size_t st_inner_len;
	EVP_PKEY *reader;
	STACK_OF(X509) *iaca;
	int64_t at;
	int64_t skew;
	struct mn_mdoc_result *res;
	enum mn_mdoc_check check;
	char *why;
	size_t whylen;
};

static const char *const check_names[] = {
    "none",
    "arguments",
    "cbor",
    "structure",
    "status",
    "session-transcript",
    "x5chain",
    "certificate-chain",
    "certificate-validity",
    "certificate-profile",
    "issuer-signature",
    "mso",
    "doctype",
    "mso-validity",
    "digest",
    "device-auth",
    "key-authorization",
};

const char *mn_mdoc_check_name(enum mn_mdoc_check c)
{
	if ((size_t)c >= sizeof(check_names) / sizeof(check_names[0]))
		return "unknown";
	return check_names[c];
}

static int failf(struct ctx *c, enum mn_mdoc_check chk, int err, const char *fmt, ...)
{
	va_list ap;

	if (c->check == MN_MDOC_CHECK_NONE) {
		c->check = chk;
		if (c->why != NULL && c->whylen > 0) {
			va_start(ap, fmt);
			vsnprintf(c->why, c->whylen, fmt, ap);
			va_end(ap);
		}
	}
	return err;
}

static cbor_item_t *at(const cbor_item_t *arr, size_t i)
{
	return cbor_array_handle(arr)[i];
}

static int is_text(const cbor_item_t *it)
{
	return it != NULL && cbor_isa_string(it) && cbor_string_is_definite(it) &&
	       cbor_string_length(it) <= MAX_TEXT;
}

static int is_bytes(const cbor_item_t *it)
{
	return it != NULL && cbor_isa_bytestring(it) && cbor_bytestring_is_definite(it);
}

static int is_map(const cbor_item_t *it)
{
	return it != NULL && cbor_isa_map(it) && cbor_map_is_definite(it);
}

static int is_array(const cbor_item_t *it)
{
	return it != NULL && cbor_isa_array(it) && cbor_array_is_definite(it);
}

static char *text_dup(const cbor_item_t *t)
{
	size_t n = cbor_string_length(t);
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, cbor_string_handle(t), n);
	s[n] = '\0';
	return s;
}

/* The bstr inside a #6.24 item, or NULL. */
static cbor_item_t *tag24_bstr(const cbor_item_t *it)
{
	cbor_item_t *b;

	if (it == NULL || !cbor_isa_tag(it) || cbor_tag_value(it) != 24)
		return NULL;
	b = cbor_tag_item(it); /* increfs */
	cbor_decref(&b);       /* still owned by the tag */
	return is_bytes(b) ? b : NULL;
}

/* Encode #6.24(bstr) of data[0..n) as received (shortest heads are enforced on input). */
static int tag24_encode(const uint8_t *data, size_t n, uint8_t **out, size_t *out_len)
{
	uint8_t *b;
	size_t k;

	if ((b = malloc(n + 11)) == NULL)
		return MN_ERR_NOMEM;
	k = mn_cbor_head(b, 6, 24);
	k += mn_cbor_head(b + k, 2, n);
	memcpy(b + k, data, n);
	*out = b;
	*out_len = k + n;
	return MN_OK;
}

/* A validityInfo tdate (#6.0, "YYYY-MM-DDTHH:MM:SSZ": no fraction, UTC) into seconds. */
static int get_tdate(const cbor_item_t *it, int64_t *t)
{
	cbor_item_t *s;

	if (it == NULL || !cbor_isa_tag(it) || cbor_tag_value(it) != 0)
		return MN_ERR_FORMAT;
	s = cbor_tag_item(it);
	cbor_decref(&s);
	if (!is_text(s))
		return MN_ERR_FORMAT;
	return mn_cbor_parse_tdate_utc((const char *)cbor_string_handle(s), cbor_string_length(s),
	                               t);
}

/* ------------------------------------------------------------------ certificates */

static int has_ext(X509 *x, int nid)
{
	return X509_get_ext_by_NID(x, nid, -1) >= 0;
}

static int ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static int common_profile(struct ctx *c, X509 *x, const char *who)
{
	static const int forbidden[] = {NID_policy_mappings, NID_name_constraints,
	                                NID_policy_constraints, NID_inhibit_any_policy,
	                                NID_freshest_crl};
	size_t i;

	for (i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
		if (has_ext(x, forbidden[i]))
			return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
			             "%s certificate has a forbidden %s extension", who,
			             OBJ_nid2sn(forbidden[i]));
	if (X509_get0_subject_key_id(x) == NULL)
		return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		             "%s certificate has no subject key identifier", who);
	if (!has_ext(x, NID_issuer_alt_name))
		return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		             "%s certificate has no issuer alternative name", who);
	if (!has_ext(x, NID_crl_distribution_points))
		return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		             "%s certificate has no CRL distribution point", who);
	if (X509_NAME_get_index_by_NID(X509_get_subject_name(x), NID_countryName, -1) < 0)
		return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		             "%s certificate subject has no country", who);
	return MN_OK;
}

/* Whether the certificate's key is ECDSA on a curve Annex B allows. */
static int annex_b_curve(X509 *x)
{
	static const char *const ok[] = {"prime256v1",      "secp384r1",       "secp521r1",
	                                 "brainpoolP256r1", "brainpoolP320r1", "brainpoolP384r1",
	                                 "brainpoolP512r1"};
	EVP_PKEY *pk = X509_get0_pubkey(x);
	char name[64];
	size_t i;

	if (pk == NULL || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
	                                    NULL))
		return 0;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(name, ok[i]) == 0)
			return 1;
	return 0;
}

/* Annex B limits: lifetime at most max_days, a positive serial of at most 20 octets, curve. */
static int annex_b_limits(struct ctx *c, X509 *x, const char *who, long max_days)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *sb;
	int days = 0, secs = 0, n;

	if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x)) ||
	    days < 0 || secs < 0 || (long)days > max_days || ((long)days == max_days && secs > 0))
		return failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		             "%s certificate validity period is longer than %ld days (Annex B)",
		             who, max_days);
	n = sn != NULL ? ASN1_STRING_length(sn) : 0;
	sb = sn != NULL ? ASN1_STRING_get0_data(sn) : NULL;
	/* DER content octets: the magnitude, plus a 0x00 when its top bit is set */
	if (n <= 0 || sb == NULL || ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
	    (n == 1 && sb[0] == 0) || n + ((sb[0] & 0x80) ? 1 : 0) > MAX_SERIAL_OCTETS)
		return failf(
		    c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		    "%s certificate serial number is not positive or longer than %d octets "
		    "(Annex B)",
		    who, MAX_SERIAL_OCTETS);
	if (!annex_b_curve(x))
		return failf(
		    c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_UNSUPPORTED,
		    "%s certificate key is not ECDSA on P-256/384/521 or brainpool (Annex B)", who);
	return MN_OK;
}

static int country_eq(X509 *a, X509 *b)
{
	X509_NAME *na = X509_get_subject_name(a), *nb = X509_get_subject_name(b);
	int ia = X509_NAME_get_index_by_NID(na, NID_countryName, -1);
	int ib = X509_NAME_get_index_by_NID(nb, NID_countryName, -1);
	ASN1_STRING *sa, *sb;

	if (ia < 0 || ib < 0)
		return 0;
	sa = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(na, ia));
	sb = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nb, ib));
	return ASN1_STRING_length(sa) == ASN1_STRING_length(sb) &&
	       memcmp(ASN1_STRING_get0_data(sa), ASN1_STRING_get0_data(sb),
	              (size_t)ASN1_STRING_length(sa)) == 0;
}

static int check_profiles(struct ctx *c, X509 *ds, X509 *iaca)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	const ASN1_OCTET_STRING *aki, *ski;
	BASIC_CONSTRAINTS *bc = NULL;
	char oid[64];
	int r;

	X509_check_purpose(ds, -1, 0); /* caches the extension flags */
	X509_check_purpose(iaca, -1, 0);
	if ((r = common_profile(c, ds, "DS")) != MN_OK ||
	    (r = common_profile(c, iaca, "IACA")) != MN_OK ||
	    (r = annex_b_limits(c, ds, "DS", DS_MAX_DAYS)) != MN_OK ||
	    (r = annex_b_limits(c, iaca, "IACA", IACA_MAX_DAYS)) != MN_OK)
		return r;
	if (!(X509_get_extension_flags(ds) & EXFLAG_KUSAGE) ||
	    X509_get_key_usage(ds) != KU_DIGITAL_SIGNATURE || !ext_critical(ds, NID_key_usage)) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "DS key usage is not exactly digitalSignature (critical)");
		goto out;
	}
	eku = X509_get_ext_d2i(ds, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL || sk_ASN1_OBJECT_num(eku) != 1 || !ext_critical(ds, NID_ext_key_usage) ||
	    OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_OBJECT_value(eku, 0), 1) <= 0 ||
	    strcmp(oid, EKU_MDL_DS) != 0) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "DS extended key usage is not exactly " EKU_MDL_DS " (critical)");
		goto out;
	}
	if (X509_get_extension_flags(ds) & EXFLAG_CA) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT, "DS certificate is a CA");
		goto out;
	}
	aki = X509_get0_authority_key_id(ds);
	ski = X509_get0_subject_key_id(iaca);
	if (aki == NULL || ski == NULL || ASN1_OCTET_STRING_cmp(aki, ski) != 0) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "DS authority key identifier does not match the IACA's");
		goto out;
	}
	if (!country_eq(ds, iaca)) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "DS and IACA countries differ");
		goto out;
	}
	if (!(X509_get_extension_flags(iaca) & EXFLAG_KUSAGE) ||
	    X509_get_key_usage(iaca) != (KU_KEY_CERT_SIGN | KU_CRL_SIGN) ||
	    !ext_critical(iaca, NID_key_usage)) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "IACA key usage is not exactly keyCertSign+cRLSign (critical)");
		goto out;
	}
	bc = X509_get_ext_d2i(iaca, NID_basic_constraints, NULL, NULL);
	if (bc == NULL || !bc->ca || !ext_critical(iaca, NID_basic_constraints) ||
	    X509_get_pathlen(iaca) != 0) {
		r = failf(c, MN_MDOC_CHECK_CERT_PROFILE, MN_ERR_FORMAT,
		          "IACA basic constraints are not CA:TRUE, pathlen 0 (critical)");
		goto out;
	}
	r = MN_OK;
out:
	BASIC_CONSTRAINTS_free(bc);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return r;
}

static int cert_time_ok(X509 *x, int64_t t, int64_t skew)
{
	time_t lo = (time_t)(t + skew), hi = (time_t)(t - skew);

	/* notBefore <= t + skew and notAfter >= t - skew */
	return X509_cmp_time(X509_get0_notBefore(x), &lo) < 0 &&
	       X509_cmp_time(X509_get0_notAfter(x), &hi) > 0;
}

/* Chain the DS certificate to a configured IACA; *iaca_out borrowed from the chain. */
static int verify_ds(struct ctx *c, X509 *ds, X509 **iaca_out)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *xc = NULL;
	STACK_OF(X509) *chain;
	X509 *iaca;
	int i, r = MN_ERR_NOMEM;

	if ((store = X509_STORE_new()) == NULL || (xc = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (i = 0; i < sk_X509_num(c->iaca); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(c->iaca, i)))
			goto out;
	if (!X509_STORE_CTX_init(xc, store, ds, NULL))
		goto out;
	/* time is checked below with the skew; only the configured IACAs are trusted */
	X509_STORE_CTX_set_flags(xc, X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_X509_STRICT);
	if (X509_verify_cert(xc) != 1) {
		r = failf(c, MN_MDOC_CHECK_CERT_CHAIN, MN_ERR_CRYPTO,
		          "DS certificate does not chain to a configured IACA: %s",
		          X509_verify_cert_error_string(X509_STORE_CTX_get_error(xc)));
		goto out;
	}
	chain = X509_STORE_CTX_get0_chain(xc);
	if (sk_X509_num(chain) != 2) {
		r = failf(c, MN_MDOC_CHECK_CERT_CHAIN, MN_ERR_CRYPTO,
		          "DS certificate is not issued directly by an IACA");
		goto out;
	}
	iaca = sk_X509_value(chain, 1);
	if (!cert_time_ok(ds, c->at, c->skew)) {
		r = failf(c, MN_MDOC_CHECK_CERT_VALIDITY, MN_ERR_CRYPTO,
		          "DS certificate not valid at the verification time");
		goto out;
	}
	if (!cert_time_ok(iaca, c->at, c->skew)) {
		r = failf(c, MN_MDOC_CHECK_CERT_VALIDITY, MN_ERR_CRYPTO,
		          "IACA certificate not valid at the verification time");
		goto out;
	}
	if ((r = check_profiles(c, ds, iaca)) != MN_OK)
		goto out;
	/* the IACA belongs to the caller's stack: find that pointer */
	for (i = 0; i < sk_X509_num(c->iaca); i++)
		if (X509_cmp(sk_X509_value(c->iaca, i), iaca) == 0)
			*iaca_out = sk_X509_value(c->iaca, i);
	r = MN_OK;
out:
	X509_STORE_CTX_free(xc);
	X509_STORE_free(store);
	return r;
}

static int ds_from_x5chain(struct ctx *c, const cbor_item_t *sign1, X509 **ret)
{
	cbor_item_t *x5, *first;
	const unsigned char *p;
	X509 *x;
	long n;

	x5 = mn_cbor_map_get_int(at(sign1, 1), MN_COSE_HDR_X5CHAIN);
	if (x5 == NULL)
		return failf(c, MN_MDOC_CHECK_X5CHAIN, MN_ERR_NOT_FOUND,
		             "IssuerAuth has no x5chain (label 33)");
	if (is_array(x5)) {
		if (cbor_array_size(x5) < 1 || cbor_array_size(x5) > MAX_CHAIN_CERTS)
			return failf(c, MN_MDOC_CHECK_X5CHAIN, MN_ERR_FORMAT,
			             "x5chain array is empty or too long");
		first = at(x5, 0);
	} else {
		first = x5;
	}
	if (!is_bytes(first) || cbor_bytestring_length(first) > 16384)
		return failf(c, MN_MDOC_CHECK_X5CHAIN, MN_ERR_FORMAT,
		             "x5chain does not hold a DER certificate");
	p = cbor_bytestring_handle(first);
	n = (long)cbor_bytestring_length(first);
	x = d2i_X509(NULL, &p, n);
	if (x == NULL || p != cbor_bytestring_handle(first) + n) {
		X509_free(x);
		return failf(c, MN_MDOC_CHECK_X5CHAIN, MN_ERR_FORMAT,
		             "x5chain certificate is not DER");
	}
	*ret = x;
	return MN_OK;
}

/* ------------------------------------------------------------------ MSO */

struct mso {
	cbor_item_t *root; /* the decoded MSO map (owned) */
	const EVP_MD *md;
	cbor_item_t *digests;  /* valueDigests (borrowed from root) */
	cbor_item_t *key_auth; /* keyAuthorizations or NULL */
	EVP_PKEY *dkey;
	int64_t signed_at;
};

static void mso_clear(struct mso *m)
{
	if (m->root != NULL)
		cbor_decref(&m->root);
	EVP_PKEY_free(m->dkey);
	memset(m, 0, sizeof(*m));
}

static int parse_mso(struct ctx *c, const cbor_item_t *payload, const cbor_item_t *doctype,
                     struct mso *m)
{
	cbor_item_t *outer = NULL, *b, *v, *dki, *vi;
	int64_t vf, vu, eu;
	struct cbor_pair *p;
	size_t i, j, dl;
	char sub[128];
	int r;

	if ((r = mn_cbor_load_strict(cbor_bytestring_handle(payload),
	                             cbor_bytestring_length(payload), &outer, sub, sizeof(sub))) !=
	    MN_OK)
		return failf(c, MN_MDOC_CHECK_CBOR, r, "MobileSecurityObjectBytes: %s", sub);
	if ((b = tag24_bstr(outer)) == NULL) {
		r = failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		          "IssuerAuth payload is not #6.24(bstr)");
		goto out;
	}
	if ((r = mn_cbor_load_strict(cbor_bytestring_handle(b), cbor_bytestring_length(b), &m->root,
	                             sub, sizeof(sub))) != MN_OK) {
		r = failf(c, MN_MDOC_CHECK_CBOR, r, "MobileSecurityObject: %s", sub);
		goto out;
	}
	r = MN_ERR_FORMAT;
	if (!is_map(m->root)) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO is not a map");
		goto out;
	}
	if (!mn_cbor_text_eq(mn_cbor_map_get(m->root, "version"), "1.0")) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO version is not \"1.0\"");
		goto out;
	}
	v = mn_cbor_map_get(m->root, "digestAlgorithm");
	if (mn_cbor_text_eq(v, "SHA-256"))
		m->md = EVP_sha256();
	else if (mn_cbor_text_eq(v, "SHA-384"))
		m->md = EVP_sha384();
	else if (mn_cbor_text_eq(v, "SHA-512"))
		m->md = EVP_sha512();
	else {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO digestAlgorithm missing or not allowed");
		goto out;
	}
	dl = (size_t)EVP_MD_get_size(m->md);
	m->digests = mn_cbor_map_get(m->root, "valueDigests");
	if (!is_map(m->digests)) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO valueDigests missing");
		goto out;
	}
	p = cbor_map_handle(m->digests);
	for (i = 0; i < cbor_map_size(m->digests); i++) {
		struct cbor_pair *q;

		if (!is_text(p[i].key) || !is_map(p[i].value)) {
			failf(c, MN_MDOC_CHECK_MSO, r, "MSO valueDigests malformed");
			goto out;
		}
		q = cbor_map_handle(p[i].value);
		for (j = 0; j < cbor_map_size(p[i].value); j++)
			if (!cbor_isa_uint(q[j].key) || !is_bytes(q[j].value) ||
			    cbor_bytestring_length(q[j].value) != dl) {
				failf(c, MN_MDOC_CHECK_MSO, r,
				      "MSO valueDigests entry malformed or of the wrong size");
				goto out;
			}
	}
	if (!is_text(doctype) || !mn_cbor_map_get(m->root, "docType") ||
	    !is_text(mn_cbor_map_get(m->root, "docType")) ||
	    cbor_string_length(mn_cbor_map_get(m->root, "docType")) !=
	        cbor_string_length(doctype) ||
	    memcmp(cbor_string_handle(mn_cbor_map_get(m->root, "docType")),
	           cbor_string_handle(doctype), cbor_string_length(doctype)) != 0) {
		failf(c, MN_MDOC_CHECK_DOCTYPE, r, "MSO docType differs from the document's");
		goto out;
	}
	dki = mn_cbor_map_get(m->root, "deviceKeyInfo");
	if (!is_map(dki)) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO deviceKeyInfo missing");
		goto out;
	}
	if ((r = mn_cose_key_to_pkey(mn_cbor_map_get(dki, "deviceKey"), &m->dkey)) != MN_OK) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO deviceKey is not a supported EC2 COSE_Key");
		goto out;
	}
	r = MN_ERR_FORMAT;
	m->key_auth = mn_cbor_map_get(dki, "keyAuthorizations");
	if (m->key_auth != NULL && !is_map(m->key_auth)) {
		failf(c, MN_MDOC_CHECK_MSO, r, "MSO keyAuthorizations malformed");
		goto out;
	}
	vi = mn_cbor_map_get(m->root, "validityInfo");
	if (!is_map(vi) || get_tdate(mn_cbor_map_get(vi, "signed"), &m->signed_at) != MN_OK ||
	    get_tdate(mn_cbor_map_get(vi, "validFrom"), &vf) != MN_OK ||
	    get_tdate(mn_cbor_map_get(vi, "validUntil"), &vu) != MN_OK ||
	    (mn_cbor_map_get(vi, "expectedUpdate") != NULL &&
	     get_tdate(mn_cbor_map_get(vi, "expectedUpdate"), &eu) != MN_OK)) {
		failf(c, MN_MDOC_CHECK_MSO, r,
		      "MSO validityInfo malformed (tdate #6.0 \"YYYY-MM-DDTHH:MM:SSZ\" required: "
		      "no fractional seconds, UTC)");
		goto out;
	}
	if (vf < m->signed_at || vu <= vf) {
		failf(c, MN_MDOC_CHECK_MSO_VALIDITY, r,
		      "MSO validityInfo inconsistent (validFrom < signed or validUntil <= "
		      "validFrom)");
		goto out;
	}
	if (c->at + c->skew < vf) {
		failf(c, MN_MDOC_CHECK_MSO_VALIDITY, MN_ERR_CRYPTO,
		      "MSO not yet valid (validFrom)");
		r = MN_ERR_CRYPTO;
		goto out;
	}
	if (c->at - c->skew > vu) {
		failf(c, MN_MDOC_CHECK_MSO_VALIDITY, MN_ERR_CRYPTO, "MSO expired (validUntil)");
		r = MN_ERR_CRYPTO;
		goto out;
	}
	r = MN_OK;
out:
	if (outer != NULL)
		cbor_decref(&outer);
	return r;
}

/* ------------------------------------------------------------------ items */

static int text_eq_item(const cbor_item_t *a, const cbor_item_t *b)
{
	return is_text(a) && is_text(b) && cbor_string_length(a) == cbor_string_length(b) &&
	       memcmp(cbor_string_handle(a), cbor_string_handle(b), cbor_string_length(a)) == 0;
}

/* The value of text key `key` (a text item) in map, or NULL. */
static cbor_item_t *map_get_text(const cbor_item_t *map, const cbor_item_t *key)
{
	struct cbor_pair *p;
	size_t i;

	if (!is_map(map))
		return NULL;
	p = cbor_map_handle(map);
	for (i = 0; i < cbor_map_size(map); i++)
		if (text_eq_item(p[i].key, key))
			return p[i].value;
	return NULL;
}

static int result_add(struct ctx *c, const cbor_item_t *doctype, const cbor_item_t *ns,
                      const cbor_item_t *id, cbor_item_t *value)
{
	struct mn_mdoc_result *res = c->res;
	struct mn_mdoc_elem *e;

	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 16;

		if ((e = realloc(res->e, cap * sizeof(*e))) == NULL)
			return MN_ERR_NOMEM;
		res->e = e;
		res->cap = cap;
	}
	e = &res->e[res->n];
	e->doctype = text_dup(doctype);
	e->ns = text_dup(ns);
	e->id = text_dup(id);
	if (e->doctype == NULL || e->ns == NULL || e->id == NULL) {
		free(e->doctype);
		free(e->ns);
		free(e->id);
		return MN_ERR_NOMEM;
	}
	e->value = cbor_incref(value);
	res->n++;
	return MN_OK;
}

static int check_item(struct ctx *c, const struct mso *m, const cbor_item_t *doctype,
                      const cbor_item_t *ns, const cbor_item_t *ns_digests, const cbor_item_t *isib,
                      int64_t *seen_ids, cbor_item_t **seen_names, size_t k)
{
	uint8_t *enc = NULL, md[EVP_MAX_MD_SIZE];
	cbor_item_t *b, *item = NULL, *did, *rnd, *eid, *ev, *want;
	unsigned int mdlen = 0;
	size_t enc_len = 0, j;
	char sub[128];
	int64_t id;
	int r;

	if ((b = tag24_bstr(isib)) == NULL)
		return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		             "IssuerSignedItemBytes is not #6.24(bstr)");
	/* the digest input: the tag-24 item exactly as received */
	if ((r = tag24_encode(cbor_bytestring_handle(b), cbor_bytestring_length(b), &enc,
	                      &enc_len)) != MN_OK)
		goto out;
	if (EVP_Digest(enc, enc_len, md, &mdlen, m->md, NULL) != 1) {
		r = failf(c, MN_MDOC_CHECK_DIGEST, MN_ERR_CRYPTO, "digest computation failed");
		goto out;
	}
	if ((r = mn_cbor_load_strict(cbor_bytestring_handle(b), cbor_bytestring_length(b), &item,
	                             sub, sizeof(sub))) != MN_OK) {
		r = failf(c, MN_MDOC_CHECK_CBOR, r, "IssuerSignedItem: %s", sub);
		goto out;
	}
	r = MN_ERR_FORMAT;
	did = mn_cbor_map_get(item, "digestID");
	rnd = mn_cbor_map_get(item, "random");
	eid = mn_cbor_map_get(item, "elementIdentifier");
	ev = mn_cbor_map_get(item, "elementValue");
	if (!is_map(item) || cbor_map_size(item) != 4 || did == NULL || !cbor_isa_uint(did) ||
	    !is_bytes(rnd) || cbor_bytestring_length(rnd) < MIN_RANDOM || !is_text(eid) ||
	    ev == NULL) {
		failf(c, MN_MDOC_CHECK_STRUCTURE, r, "IssuerSignedItem malformed");
		goto out;
	}
	if (mn_cbor_get_int(did, &id) != MN_OK) {
		failf(c, MN_MDOC_CHECK_STRUCTURE, r, "IssuerSignedItem digestID out of range");
		goto out;
	}
	for (j = 0; j < k; j++) {
		if (seen_ids[j] == id) {
			failf(c, MN_MDOC_CHECK_DIGEST, r, "digestID %lld disclosed twice",
			      (long long)id);
			goto out;
		}
		if (cbor_string_length(seen_names[j]) == cbor_string_length(eid) &&
		    memcmp(cbor_string_handle(seen_names[j]), cbor_string_handle(eid),
		           cbor_string_length(eid)) == 0) {
			failf(c, MN_MDOC_CHECK_STRUCTURE, r, "element disclosed twice");
			goto out;
		}
	}
	want = ns_digests != NULL ? mn_cbor_map_get_int(ns_digests, id) : NULL;
	if (want == NULL) {
		failf(c, MN_MDOC_CHECK_DIGEST, MN_ERR_NOT_FOUND,
		      "digestID %lld has no digest in the MSO for its namespace", (long long)id);
		r = MN_ERR_NOT_FOUND;
		goto out;
	}
	if (cbor_bytestring_length(want) != mdlen ||
	    CRYPTO_memcmp(cbor_bytestring_handle(want), md, mdlen) != 0) {
		failf(c, MN_MDOC_CHECK_DIGEST, MN_ERR_CRYPTO, "digest mismatch for digestID %lld",
		      (long long)id);
		r = MN_ERR_CRYPTO;
		goto out;
	}
	if ((r = result_add(c, doctype, ns, eid, ev)) != MN_OK)
		goto out;
	/*
	 * keep eid alive for the duplicate check (the caller decrefs seen_names[]); recorded only
	 * with its reference taken, so a failure above cannot leave a borrowed pointer behind
	 */
	seen_ids[k] = id;
	seen_names[k] = cbor_incref(eid);
	r = MN_OK;
out:
	free(enc);
	if (item != NULL)
		cbor_decref(&item);
	return r;
}

static int check_namespaces(struct ctx *c, const struct mso *m, const cbor_item_t *doctype,
                            const cbor_item_t *nss)
{
	struct cbor_pair *p;
	size_t i, j, n;
	int r = MN_OK;

	if (nss == NULL)
		return MN_OK;
	if (!is_map(nss))
		return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		             "issuerSigned nameSpaces is not a map");
	p = cbor_map_handle(nss);
	for (i = 0; i < cbor_map_size(nss); i++) {
		cbor_item_t **names = NULL;
		int64_t *ids = NULL;

		if (!is_text(p[i].key) || !is_array(p[i].value) ||
		    (n = cbor_array_size(p[i].value)) == 0)
			return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
			             "issuerSigned nameSpaces entry malformed");
		ids = calloc(n, sizeof(*ids));
		names = calloc(n, sizeof(*names));
		if (ids == NULL || names == NULL) {
			r = MN_ERR_NOMEM;
		} else {
			for (j = 0; j < n && r == MN_OK; j++)
				r = check_item(c, m, doctype, p[i].key,
				               map_get_text(m->digests, p[i].key),
				               at(p[i].value, j), ids, names, j);
			for (j = 0; j < n && names[j] != NULL; j++)
				cbor_decref(&names[j]);
		}
		free(ids);
		free(names);
		if (r != MN_OK)
			return r;
	}
	return MN_OK;
}

/* ------------------------------------------------------------------ device authentication */

/* Whether every device-signed element is covered by keyAuthorizations. */
static int check_key_auth(struct ctx *c, const struct mso *m, const cbor_item_t *dns)
{
	cbor_item_t *auth_ns = NULL, *auth_de = NULL, *ids;
	struct cbor_pair *p, *q;
	size_t i, j, k;
	int ok;

	if (m->key_auth != NULL) {
		auth_ns = mn_cbor_map_get(m->key_auth, "nameSpaces");
		auth_de = mn_cbor_map_get(m->key_auth, "dataElements");
	}
	p = cbor_map_handle(dns);
	for (i = 0; i < cbor_map_size(dns); i++) {
		if (!is_text(p[i].key) || !is_map(p[i].value))
			return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
			             "DeviceNameSpaces malformed");
		ok = 0;
		for (k = 0; is_array(auth_ns) && k < cbor_array_size(auth_ns); k++)
			if (text_eq_item(at(auth_ns, k), p[i].key))
				ok = 1;
		if (ok)
			continue;
		ids = map_get_text(auth_de, p[i].key);
		q = cbor_map_handle(p[i].value);
		for (j = 0; j < cbor_map_size(p[i].value); j++) {
			ok = 0;
			for (k = 0; is_array(ids) && k < cbor_array_size(ids); k++)
				if (text_eq_item(at(ids, k), q[j].key))
					ok = 1;
			if (!ok)
				return failf(c, MN_MDOC_CHECK_KEY_AUTHORIZATION, MN_ERR_CRYPTO,
				             "device-signed element not authorized by the MSO");
		}
	}
	return MN_OK;
}

/* DeviceAuthenticationBytes = #6.24(bstr .cbor ["DeviceAuthentication", ST, DocType, DNSB]) */
static int build_device_auth(struct ctx *c, const cbor_item_t *doctype, const cbor_item_t *dnsb,
                             uint8_t **out, size_t *out_len)
{
	static const char label[] = "DeviceAuthentication";
	size_t llen = sizeof(label) - 1, dlen = cbor_string_length(doctype);
	size_t blen = cbor_bytestring_length(dnsb), cap, n = 0;
	uint8_t *b;
	int r;

	cap = 1 + 9 + llen + c->st_inner_len + 9 + dlen + 11 + blen;
	if ((b = malloc(cap)) == NULL)
		return MN_ERR_NOMEM;
	n += mn_cbor_head(b + n, 4, 4);
	n += mn_cbor_head(b + n, 3, llen);
	memcpy(b + n, label, llen);
	n += llen;
	memcpy(b + n, c->st_inner, c->st_inner_len);
	n += c->st_inner_len;
	n += mn_cbor_head(b + n, 3, dlen);
	memcpy(b + n, cbor_string_handle(doctype), dlen);
	n += dlen;
	n += mn_cbor_head(b + n, 6, 24);
	n += mn_cbor_head(b + n, 2, blen);
	memcpy(b + n, cbor_bytestring_handle(dnsb), blen);
	n += blen;
	r = tag24_encode(b, n, out, out_len);
	free(b);
	return r;
}

static int emac_key(struct ctx *c, EVP_PKEY *dkey, uint8_t key[32])
{
	int r = mn_mdoc_emac_key(c->reader, dkey, c->st_bytes, c->st_len, key);

	if (r != MN_OK)
		return failf(c, MN_MDOC_CHECK_DEVICE_AUTH, r,
		             "EMacKey derivation from the reader key and the MSO deviceKey failed "
		             "(curve mismatch?)");
	return MN_OK;
}

static int check_device(struct ctx *c, const struct mso *m, const cbor_item_t *doctype,
                        const cbor_item_t *dsigned)
{
	cbor_item_t *dnsb_tag, *dnsb, *dns = NULL, *da, *sig, *mac;
	uint8_t *dab = NULL, key[32];
	size_t dab_len = 0;
	char sub[160];
	int r;

	if (!is_map(dsigned))
		return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT, "deviceSigned missing");
	dnsb_tag = mn_cbor_map_get(dsigned, "nameSpaces");
	if ((dnsb = tag24_bstr(dnsb_tag)) == NULL)
		return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		             "DeviceNameSpacesBytes is not #6.24(bstr)");
	if ((r = mn_cbor_load_strict(cbor_bytestring_handle(dnsb), cbor_bytestring_length(dnsb),
	                             &dns, sub, sizeof(sub))) != MN_OK)
		return failf(c, MN_MDOC_CHECK_CBOR, r, "DeviceNameSpaces: %s", sub);
	if (!is_map(dns)) {
		r = failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		          "DeviceNameSpaces is not a map");
		goto out;
	}
	if ((r = check_key_auth(c, m, dns)) != MN_OK)
		goto out;
	da = mn_cbor_map_get(dsigned, "deviceAuth");
	sig = mn_cbor_map_get(da, "deviceSignature");
	mac = mn_cbor_map_get(da, "deviceMac");
	if (!is_map(da) || cbor_map_size(da) != 1 || (sig == NULL) == (mac == NULL)) {
		r = failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		          "deviceAuth must hold exactly one of deviceSignature, deviceMac");
		goto out;
	}
	if ((r = build_device_auth(c, doctype, dnsb, &dab, &dab_len)) != MN_OK)
		goto out;
	sub[0] = '\0';
	if (sig != NULL) {
		if ((r = mn_cose_sign1_verify(sig, dab, dab_len, m->dkey, sub, sizeof(sub))) !=
		    MN_OK)
			r = failf(c, MN_MDOC_CHECK_DEVICE_AUTH, r, "deviceSignature: %s", sub);
		goto out;
	}
	if (c->reader == NULL) {
		r = failf(c, MN_MDOC_CHECK_DEVICE_AUTH, MN_ERR_INVALID_ARG,
		          "deviceMac cannot be verified without the reader's ephemeral key");
		goto out;
	}
	if ((r = emac_key(c, m->dkey, key)) != MN_OK)
		goto out;
	if ((r = mn_cose_mac0_verify(mac, dab, dab_len, key, sizeof(key), sub, sizeof(sub))) !=
	    MN_OK)
		r = failf(c, MN_MDOC_CHECK_DEVICE_AUTH, r, "deviceMac: %s", sub);
out:
	OPENSSL_cleanse(key, sizeof(key)); /* EMacKey, also after a failed derivation */
	free(dab);
	if (dns != NULL)
		cbor_decref(&dns);
	return r;
}

/* ------------------------------------------------------------------ document */

static int check_document(struct ctx *c, const cbor_item_t *doc)
{
	cbor_item_t *doctype, *is, *ia;
	struct mso m;
	X509 *ds = NULL, *iaca = NULL;
	char sub[160];
	int r;

	memset(&m, 0, sizeof(m));
	doctype = mn_cbor_map_get(doc, "docType");
	is = mn_cbor_map_get(doc, "issuerSigned");
	ia = mn_cbor_map_get(is, "issuerAuth");
	if (!is_map(doc) || !is_text(doctype) || !is_map(is) || !is_array(ia) ||
	    cbor_array_size(ia) != 4 || !is_map(at(ia, 1)))
		return failf(c, MN_MDOC_CHECK_STRUCTURE, MN_ERR_FORMAT,
		             "Document lacks docType, issuerSigned or a COSE_Sign1 issuerAuth");
	if ((r = ds_from_x5chain(c, ia, &ds)) != MN_OK)
		goto out;
	if ((r = verify_ds(c, ds, &iaca)) != MN_OK)
		goto out;
	sub[0] = '\0';
	if ((r = mn_cose_sign1_verify(ia, NULL, 0, X509_get0_pubkey(ds), sub, sizeof(sub))) !=
	    MN_OK) {
		r = failf(c, MN_MDOC_CHECK_ISSUER_SIGNATURE, r, "IssuerAuth: %s", sub);
		goto out;
	}
	if ((r = parse_mso(c, at(ia, 2), doctype, &m)) != MN_OK)
		goto out;
	{
		time_t st = (time_t)m.signed_at;

		/* X509_cmp_time: -1 earlier or equal, 1 later, 0 error (which must not pass) */
		if (X509_cmp_time(X509_get0_notBefore(ds), &st) != -1 ||
		    X509_cmp_time(X509_get0_notAfter(ds), &st) != 1) {
			r = failf(c, MN_MDOC_CHECK_MSO_VALIDITY, MN_ERR_CRYPTO,
			          "MSO signed outside the DS certificate's validity");
			goto out;
		}
	}
	if ((r = check_namespaces(c, &m, doctype, mn_cbor_map_get(is, "nameSpaces"))) != MN_OK)
		goto out;
	r = check_device(c, &m, doctype, mn_cbor_map_get(doc, "deviceSigned"));
	if (r == MN_OK && c->res->ds == NULL && iaca != NULL && X509_up_ref(iaca) == 1) {
		c->res->ds = ds;
		c->res->iaca = iaca;
		ds = NULL;
	}
out:
	mso_clear(&m);
	X509_free(ds);
	return r;
}

/* Parse SessionTranscriptBytes; check EReaderKey against the reader key when given. */
static int check_transcript(struct ctx *c, cbor_item_t **st_out)
{
	cbor_item_t *outer = NULL, *b, *st = NULL, *ek, *ekb, *key = NULL;
	EVP_PKEY *pk = NULL;
	char sub[128];
	int r;

	if ((r = mn_cbor_load_strict(c->st_bytes, c->st_len, &outer, sub, sizeof(sub))) != MN_OK)
		return failf(c, MN_MDOC_CHECK_TRANSCRIPT, r, "SessionTranscriptBytes: %s", sub);
	if ((b = tag24_bstr(outer)) == NULL) {
		r = failf(c, MN_MDOC_CHECK_TRANSCRIPT, MN_ERR_FORMAT,
		          "SessionTranscriptBytes is not #6.24(bstr)");
		goto out;
	}
	/* the inner bytes are a suffix of the input: keep them as received */
	c->st_inner_len = cbor_bytestring_length(b);
	c->st_inner = c->st_bytes + (c->st_len - c->st_inner_len);
	if ((r = mn_cbor_load_strict(c->st_inner, c->st_inner_len, &st, sub, sizeof(sub))) !=
	    MN_OK) {
		r = failf(c, MN_MDOC_CHECK_TRANSCRIPT, r, "SessionTranscript: %s", sub);
		goto out;
	}
	r = MN_ERR_FORMAT;
	if (!is_array(st) || cbor_array_size(st) != 3 || tag24_bstr(at(st, 0)) == NULL ||
	    (ek = tag24_bstr(at(st, 1))) == NULL) {
		failf(
		    c, MN_MDOC_CHECK_TRANSCRIPT, r,
		    "SessionTranscript is not [DeviceEngagementBytes, EReaderKeyBytes, Handover]");
		goto out;
	}
	if (c->reader != NULL) {
		ekb = ek;
		if (mn_cbor_load_strict(cbor_bytestring_handle(ekb), cbor_bytestring_length(ekb),
		                        &key, sub, sizeof(sub)) != MN_OK ||
		    mn_cose_key_to_pkey(key, &pk) != MN_OK) {
			failf(c, MN_MDOC_CHECK_TRANSCRIPT, r, "EReaderKey is not an EC2 COSE_Key");
			goto out;
		}
		if (EVP_PKEY_eq(pk, c->reader) != 1) {
			failf(c, MN_MDOC_CHECK_TRANSCRIPT, MN_ERR_CRYPTO,
			      "the reader key is not the transcript's EReaderKey");
			r = MN_ERR_CRYPTO;
			goto out;
		}
	}
	*st_out = st;
	st = NULL;
	r = MN_OK;
out:
	EVP_PKEY_free(pk);
	if (key != NULL)
		cbor_decref(&key);
	if (st != NULL)
		cbor_decref(&st);
	cbor_decref(&outer);
	return r;
}

int mn_mdoc_verify(const uint8_t *resp, size_t len, const uint8_t *st_bytes, size_t st_len,
                   EVP_PKEY *reader_priv, STACK_OF(X509) *iaca, time_t when, unsigned skew,
                   struct mn_mdoc_result **ret, enum mn_mdoc_check *failed, char *why,
                   size_t whylen)
{
	struct ctx c;
	cbor_item_t *top = NULL, *st = NULL, *docs, *status;
	struct mn_mdoc_result *res = NULL;
	char sub[128];
	int64_t sv;
	size_t i;
	int r;

	memset(&c, 0, sizeof(c));
	c.why = why;
	c.whylen = whylen;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (resp == NULL || st_bytes == NULL || iaca == NULL || sk_X509_num(iaca) < 1 ||
	    ret == NULL) {
		r = failf(&c, MN_MDOC_CHECK_ARGS, MN_ERR_INVALID_ARG, "missing argument");
		goto out;
	}
	c.st_bytes = st_bytes;
	c.st_len = st_len;
	c.reader = reader_priv;
	c.iaca = iaca;
	c.at = (int64_t)when;
	c.skew = skew;
	if ((res = calloc(1, sizeof(*res))) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	c.res = res;
	if ((r = mn_cbor_load_strict(resp, len, &top, sub, sizeof(sub))) != MN_OK) {
		r = failf(&c, MN_MDOC_CHECK_CBOR, r, "DeviceResponse: %s", sub);
		goto out;
	}
	if ((r = check_transcript(&c, &st)) != MN_OK)
		goto out;
	r = MN_ERR_FORMAT;
	if (!is_map(top) || !mn_cbor_text_eq(mn_cbor_map_get(top, "version"), "1.0")) {
		failf(&c, MN_MDOC_CHECK_STRUCTURE, r, "DeviceResponse is not a map of version 1.0");
		goto out;
	}
	status = mn_cbor_map_get(top, "status");
	if (status == NULL || mn_cbor_get_int(status, &sv) != MN_OK) {
		failf(&c, MN_MDOC_CHECK_STRUCTURE, r, "DeviceResponse has no status");
		goto out;
	}
	docs = mn_cbor_map_get(top, "documents");
	if (sv != 0 || mn_cbor_map_get(top, "documentErrors") != NULL || !is_array(docs) ||
	    cbor_array_size(docs) == 0 || cbor_array_size(docs) > MAX_DOCUMENTS) {
		failf(&c, MN_MDOC_CHECK_STATUS, r,
		      "DeviceResponse status %lld, documentErrors, or no documents", (long long)sv);
		goto out;
	}
	for (i = 0; i < cbor_array_size(docs); i++)
		if ((r = check_document(&c, at(docs, i))) != MN_OK)
			goto out;
	*ret = res;
	res = NULL;
	r = MN_OK;
out:
	if (r != MN_OK && c.check == MN_MDOC_CHECK_NONE)
		failf(&c, MN_MDOC_CHECK_ARGS, r, "%s", mn_strerror(r));
	if (failed != NULL)
		*failed = c.check;
	mn_mdoc_result_free(&res);
	if (st != NULL)
		cbor_decref(&st);
	if (top != NULL)
		cbor_decref(&top);
	return r;
}

size_t mn_mdoc_result_count(const struct mn_mdoc_result *r)
{
	return r != NULL ? r->n : 0;
}

int mn_mdoc_result_get(const struct mn_mdoc_result *r, size_t i, const char **doctype,
                       const char **ns, const char **id, const cbor_item_t **value)
{
	if (r == NULL)
		return MN_ERR_INVALID_ARG;
	if (i >= r->n)
		return MN_ERR_NOT_FOUND;
	if (doctype != NULL)
		*doctype = r->e[i].doctype;
	if (ns != NULL)
		*ns = r->e[i].ns;
	if (id != NULL)
		*id = r->e[i].id;
	if (value != NULL)
		*value = r->e[i].value;
	return MN_OK;
}

void mn_mdoc_result_free(struct mn_mdoc_result **r)
{
	size_t i;

	if (r == NULL || *r == NULL)
		return;
	for (i = 0; i < (*r)->n; i++) {
		free((*r)->e[i].doctype);
		free((*r)->e[i].ns);
		free((*r)->e[i].id);
		cbor_decref(&(*r)->e[i].value);
	}
	free((*r)->e);
	X509_free((*r)->ds);
	X509_free((*r)->iaca);
	free(*r);
	*r = NULL;
}

int mn_mdoc_result_signer(const struct mn_mdoc_result *r, X509 **ds, X509 **iaca)
{
	if (r == NULL || ds == NULL || iaca == NULL)
		return MN_ERR_INVALID_ARG;
	if (r->ds == NULL || r->iaca == NULL)
		return MN_ERR_NOT_FOUND;
	*ds = r->ds;
	*iaca = r->iaca;
	return MN_OK;
}
