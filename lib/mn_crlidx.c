/* CRL index: import (verify a CRL, write sorted fixed-width records) and mmap lookup. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mn_crlidx.h"
#include "mn_err.h"

/* header offsets (doc/crl-index.md) */
#define H_MAGIC       0
#define H_VERSION     8
#define H_COUNT       12
#define H_THIS_UPDATE 16
#define H_NEXT_UPDATE 24
#define H_CRL_NUMBER  32 /* 1 length byte + 20 */
#define H_KEY_ID      53
#define H_NAME_HASH   73
#define H_RESERVED    105

/* record offsets */
#define R_SERIAL_LEN 20
#define R_REASON     21
#define R_DATE       22
#define R_PAD        30

#define FUTURE_SLACK  300 /* seconds a thisUpdate may lie ahead of our clock */
#define REASON_ABSENT 0xFF
#define NAME_HASH_LEN 32

/*
 * A login reads the header and the ~20 records a binary search probes with pread. The file
 * is mapped only to merge a delta CRL: on kernels that map whole large page-cache folios at
 * each fault, 20 probes of a mapped 30 MiB index made 8 MiB of it resident in the login
 * process; read, the login's memory does not depend on the CRL at all.
 */
struct mn_crlidx {
	int fd;
	unsigned char hdr[MN_CRLIDX_HEADER_SIZE];
	const unsigned char *base; /* the whole file, mapped read-only when merging; or NULL */
	size_t size;
	size_t count;
};

/* Map the whole index (for merging a delta); NULL on failure. */
static const unsigned char *map_all(struct mn_crlidx *x)
{
	void *m;

	if (x->base != NULL)
		return x->base;
	m = mmap(NULL, x->size, PROT_READ, MAP_PRIVATE, x->fd, 0);
	if (m == MAP_FAILED)
		return NULL;
	(void)madvise(m, x->size, MADV_SEQUENTIAL);
	x->base = m;
	return x->base;
}

/* What the import learnt about the CRL, before the records. */
struct crl_info {
	int64_t this_update, next_update;
	unsigned char number[MN_CRLIDX_MAX_SERIAL];
	size_t number_len; /* 0: no CRL number */
	unsigned char key_id[MN_KEY_ID_LEN];
	unsigned char name_hash[NAME_HASH_LEN];
	int delta; /* a delta CRL (RFC 5280 5.2.4): applies to the base CRL number below */
	unsigned char base[MN_CRLIDX_MAX_SERIAL];
	size_t base_len;
};

/* ---------------------------------------------------------------- small helpers */

/* "what: <OpenSSL's reason>", and clear OpenSSL's error queue. */
static void set_ssl_err(char *err, size_t len, const char *what)
{
	const char *reason = ERR_reason_error_string(ERR_peek_last_error());

	mn_errf(err, len, "%s: %s", what, reason != NULL ? reason : "no detail from OpenSSL");
	ERR_clear_error();
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void put_i64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	int i;

	for (i = 7; i >= 0; i--, u >>= 8)
		p[i] = (unsigned char)u;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get_i64(const unsigned char *p)
{
	uint64_t u = 0;
	int i;

	for (i = 0; i < 8; i++)
		u = u << 8 | p[i];
	return (int64_t)u;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0F];
	}
	out[2 * n] = '\0';
}

static void time_str(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "@%lld", (long long)t);
}

static int asn1_time_unix(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	time_t v;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return MN_ERR_FORMAT;
	v = timegm(&tm);
	if (v == (time_t)-1)
		return MN_ERR_FORMAT;
	*out = (int64_t)v;
	return MN_OK;
}

/* An RFC 2253 rendering of a name (UTF-8 kept), truncated to cap. */
static void name_str(const X509_NAME *name, char *out, size_t cap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;

	snprintf(out, cap, "?");
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_get_mem_data(bio, &data)) > 0)
		snprintf(out, cap, "%.*s", (int)(n < (long)cap ? n : (long)cap - 1), data);
	BIO_free(bio);
}

/* Strip leading zero octets (keeping one for zero): the significant octets of a magnitude. */
static const unsigned char *strip_zeros(const unsigned char *p, size_t *len)
{
	while (*len > 1 && p[0] == 0x00) {
		p++;
		(*len)--;
	}
	return p;
}

int mn_key_id(X509 *cert, unsigned char out[20])
{
	const ASN1_BIT_STRING *pk;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (cert == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if ((pk = X509_get0_pubkey_bitstr(cert)) == NULL)
		return MN_ERR_FORMAT;
	if (!EVP_Digest(ASN1_STRING_get0_data(pk), (size_t)ASN1_STRING_length(pk), md, &n,
	                EVP_sha1(), NULL) ||
	    n != MN_KEY_ID_LEN) {
		ERR_clear_error();
		return MN_ERR_CRYPTO;
	}
	memcpy(out, md, MN_KEY_ID_LEN);
	return MN_OK;
}

int mn_name_sha256(const X509_NAME *name, unsigned char out[32])
{
	const unsigned char *der;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t len;

	if (name == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (!X509_NAME_get0_der(name, &der, &len) ||
	    !EVP_Digest(der, len, md, &n, EVP_sha256(), NULL) || n != NAME_HASH_LEN) {
		ERR_clear_error();
		return MN_ERR_CRYPTO;
	}
	memcpy(out, md, NAME_HASH_LEN);
	return MN_OK;
}

/* ---------------------------------------------------------------- import: the CRL */

/* Read a DER or PEM CRL from a regular file of at most MN_CRLIDX_MAX_CRL bytes. */
static int load_crl(const char *path, X509_CRL **ret, char *err, size_t errlen)
{
	struct stat st;
	unsigned char first;
	FILE *fp = NULL;
	BIO *bio = NULL;
	X509_CRL *crl = NULL;
	int fd, r = MN_ERR_IO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno == ENOENT ? MN_ERR_NOT_FOUND : MN_ERR_IO;
		mn_errf(err, errlen, "%s: cannot open the CRL: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		mn_errf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > MN_CRLIDX_MAX_CRL) {
		mn_errf(err, errlen, "%s: CRL larger than %ld MiB", path, MN_CRLIDX_MAX_CRL >> 20);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	if (pread(fd, &first, 1, 0) != 1) {
		mn_errf(err, errlen, "%s: empty or unreadable CRL file", path);
		r = MN_ERR_FORMAT;
		goto out;
	}
	if ((fp = fdopen(fd, "rb")) == NULL) {
		mn_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if ((bio = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	fp = NULL;
	/* DER starts with a SEQUENCE; anything else is read as PEM (text may precede it) */
	crl = first == 0x30 ? d2i_X509_CRL_bio(bio, NULL)
	                    : PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	if (crl == NULL) {
		set_ssl_err(err, errlen,
		            first == 0x30 ? "cannot parse the DER CRL"
		                          : "cannot parse the PEM CRL");
		r = MN_ERR_FORMAT;
		goto out;
	}
	*ret = crl;
	crl = NULL;
	r = MN_OK;
out:
	X509_CRL_free(crl);
	BIO_free(bio);
	if (fp != NULL)
		fclose(fp);
	if (fd >= 0)
		close(fd);
	return r;
}

/* A CA by basic constraints, with cRLSign when it has a key usage. */
static int may_sign_crls(X509 *ca)
{
	uint32_t flags = X509_get_extension_flags(ca);

	if ((flags & EXFLAG_INVALID) || !(flags & EXFLAG_CA))
		return 0;
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(ca) & KU_CRL_SIGN))
		return 0;
	return 1;
}

/*
 * The anchor with the CRL's issuer name whose key verifies the CRL signature. Every JPKI
 * generation of a CA has the same DN, so the name alone decides nothing.
 */
/* clang-format off */
static int find_issuer(X509_CRL *crl, STACK_OF(X509) *anchors, X509 **ret, char *err,
                       size_t errlen)
/* clang-format on */
{
	const X509_NAME *iname = X509_CRL_get_issuer(crl);
	char name[256];
	int i, named = 0, verified = 0;

	for (i = 0; i < sk_X509_num(anchors); i++) {
		X509 *ca = sk_X509_value(anchors, i);
		EVP_PKEY *pk = X509_get0_pubkey(ca);

		if (X509_NAME_cmp(X509_get_subject_name(ca), iname) != 0)
			continue;
		named++;
		if (pk == NULL || X509_CRL_verify(crl, pk) != 1) {
			ERR_clear_error();
			continue;
		}
		verified++;
		if (!may_sign_crls(ca))
			continue;
		*ret = ca;
		return MN_OK;
	}
	name_str(iname, name, sizeof(name));
	if (named == 0)
		mn_errf(err, errlen, "no trust anchor is named %s (the CRL issuer)", name);
	else if (verified == 0)
		mn_errf(err, errlen,
		        "the CRL signature does not verify with any of the %d trust anchor(s) "
		        "named %s: not signed by a trusted CA",
		        named, name);
	else
		mn_errf(err, errlen,
		        "the trust anchor %s that signed the CRL is not a CA allowed to sign CRLs "
		        "(basicConstraints cA and cRLSign key usage needed)",
		        name);
	return MN_ERR_NOT_FOUND;
}

/* The CRL's authorityKeyIdentifier, when it has a key id, must be the anchor's SKI. */
static int check_aki(X509_CRL *crl, X509 *ca, char *err, size_t errlen)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	AUTHORITY_KEYID *akid;
	int crit, r = MN_OK;

	akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL);
	if (akid == NULL) {
		if (crit == -1)
			return MN_OK;
		mn_errf(err, errlen, "malformed or repeated authorityKeyIdentifier in the CRL");
		ERR_clear_error();
		return MN_ERR_FORMAT;
	}
	if (akid->keyid != NULL && ski != NULL && ASN1_OCTET_STRING_cmp(akid->keyid, ski) != 0) {
		mn_errf(err, errlen,
		        "the CRL's authorityKeyIdentifier is not the subjectKeyIdentifier of the "
		        "CA whose key signed it");
		r = MN_ERR_FORMAT;
	}
	AUTHORITY_KEYID_free(akid);
	return r;
}

static int check_idp(X509_CRL *crl, char *err, size_t errlen)
{
	ISSUING_DIST_POINT *idp;
	int crit, r = MN_OK;

	idp = X509_CRL_get_ext_d2i(crl, NID_issuing_distribution_point, &crit, NULL);
	if (idp == NULL) {
		if (crit == -1)
			return MN_OK;
		mn_errf(err, errlen, "malformed or repeated issuingDistributionPoint in the CRL");
		ERR_clear_error();
		return MN_ERR_FORMAT;
	}
	if (idp->indirectCRL > 0) {
		mn_errf(err, errlen, "indirect CRLs are not supported");
		r = MN_ERR_UNSUPPORTED;
	} else if (idp->onlysomereasons != NULL || idp->onlyCA > 0 || idp->onlyattr > 0) {
		mn_errf(err, errlen,
		        "the CRL covers only some reasons or only CA or attribute certificates "
		        "(issuingDistributionPoint): not supported");
		r = MN_ERR_UNSUPPORTED;
	}
	ISSUING_DIST_POINT_free(idp);
	return r;
}

/* CRL number: non-negative, at most 20 octets (RFC 5280 5.2.3); stored minimal. */
static int get_number(X509_CRL *crl, struct crl_info *info, char *err, size_t errlen)
{
	ASN1_INTEGER *num;
	const unsigned char *p;
	size_t len;
	int crit, r = MN_ERR_FORMAT;

	info->number_len = 0;
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	if (num == NULL) {
		if (crit == -1)
			return MN_OK;
		mn_errf(err, errlen, "malformed or repeated CRL number");
		ERR_clear_error();
		return MN_ERR_FORMAT;
	}
	p = ASN1_STRING_get0_data(num);
	len = (size_t)ASN1_STRING_length(num);
	if (ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER) {
		mn_errf(err, errlen, "negative CRL number");
		goto out;
	}
	if (len == 0) {
		info->number[0] = 0;
		info->number_len = 1;
	} else {
		p = strip_zeros(p, &len);
		if (len > MN_CRLIDX_MAX_SERIAL) {
			mn_errf(err, errlen, "CRL number longer than 20 octets");
			goto out;
		}
		memcpy(info->number, p, len);
		info->number_len = len;
	}
	r = MN_OK;
out:
	ASN1_INTEGER_free(num);
	return r;
}

/* The BaseCRLNumber of a delta CRL. */
static int get_base(X509_CRL *crl, struct crl_info *info, char *err, size_t errlen)
{
	ASN1_INTEGER *num;
	const unsigned char *p;
	size_t len;
	int crit, r = MN_ERR_FORMAT;

	num = X509_CRL_get_ext_d2i(crl, NID_delta_crl, &crit, NULL);
	if (num == NULL || crit != 1 || ASN1_STRING_type(num) == V_ASN1_NEG_INTEGER) {
		mn_errf(err, errlen, "malformed deltaCRLIndicator (must be critical)");
		goto out;
	}
	p = ASN1_STRING_get0_data(num);
	len = (size_t)ASN1_STRING_length(num);
	p = strip_zeros(p, &len);
	if (len > MN_CRLIDX_MAX_SERIAL) {
		mn_errf(err, errlen, "BaseCRLNumber longer than 20 octets");
		goto out;
	}
	memcpy(info->base, p, len);
	info->base_len = len;
	info->delta = 1;
	r = MN_OK;
out:
	ERR_clear_error();
	ASN1_INTEGER_free(num);
	return r;
}

/* Critical extensions we do not process are refused. */
static int check_extensions(X509_CRL *crl, struct crl_info *info, char *err, size_t errlen)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_CRL_get0_extensions(crl);
	char oid[80];
	int i, r;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
		int nid = OBJ_obj2nid(obj);

		if (nid == NID_delta_crl) {
			if ((r = get_base(crl, info, err, errlen)) != MN_OK)
				return r;
			continue;
		}
		if (!X509_EXTENSION_get_critical(ext))
			continue;
		switch (nid) {
		case NID_crl_number:
		case NID_authority_key_identifier:
		case NID_issuing_distribution_point:
		case NID_issuer_alt_name:
			break;
		default:
			OBJ_obj2txt(oid, sizeof(oid), obj, 1);
			mn_errf(err, errlen, "unsupported critical CRL extension %s", oid);
			return MN_ERR_UNSUPPORTED;
		}
	}
	if ((r = check_idp(crl, err, errlen)) != MN_OK)
		return r;
	return MN_OK;
}

static int check_times(X509_CRL *crl, time_t now, struct crl_info *info, char *err, size_t errlen)
{
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	char a[32], b[32];

	if (asn1_time_unix(X509_CRL_get0_lastUpdate(crl), &info->this_update) != MN_OK) {
		mn_errf(err, errlen, "malformed thisUpdate in the CRL");
		return MN_ERR_FORMAT;
	}
	if (next == NULL) {
		mn_errf(err, errlen, "the CRL has no nextUpdate");
		return MN_ERR_FORMAT;
	}
	if (asn1_time_unix(next, &info->next_update) != MN_OK) {
		mn_errf(err, errlen, "malformed nextUpdate in the CRL");
		return MN_ERR_FORMAT;
	}
	time_str(info->this_update, a);
	time_str(info->next_update, b);
	if (info->this_update > (int64_t)now + FUTURE_SLACK) {
		mn_errf(err, errlen, "CRL thisUpdate %s is in the future", a);
		return MN_ERR_FORMAT;
	}
	if (info->next_update <= info->this_update) {
		mn_errf(err, errlen, "CRL nextUpdate %s is not after thisUpdate %s", b, a);
		return MN_ERR_FORMAT;
	}
	if (info->next_update < (int64_t)now) {
		mn_errf(err, errlen, "CRL expired at %s", b);
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

/* ---------------------------------------------------------------- import: the records */

static int entry_extensions(X509_REVOKED *rev, int delta, int *reason, char *what, char *err,
                            size_t errlen)
{
	const STACK_OF(X509_EXTENSION) *exts = X509_REVOKED_get0_extensions(rev);
	ASN1_ENUMERATED *e;
	char oid[80];
	long v;
	int i, crit;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));

		if (!X509_EXTENSION_get_critical(ext) || nid == NID_crl_reason ||
		    nid == NID_invalidity_date)
			continue;
		OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);
		mn_errf(err, errlen, "CRL entry %s has an unsupported critical extension %s%s",
		        what, oid, nid == NID_certificate_issuer ? " (indirect CRL)" : "");
		return MN_ERR_UNSUPPORTED;
	}
	*reason = REASON_ABSENT;
	e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL);
	if (e == NULL) {
		if (crit == -1)
			return MN_OK;
		ERR_clear_error();
		mn_errf(err, errlen, "CRL entry %s has a malformed or repeated reasonCode", what);
		return MN_ERR_FORMAT;
	}
	v = ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	if (v < 0 || v > 10 || v == 7) {
		mn_errf(err, errlen, "CRL entry %s has an invalid reasonCode %ld", what, v);
		return MN_ERR_FORMAT;
	}
	if (v == 8 && !delta) {
		mn_errf(err, errlen,
		        "CRL entry %s has reason removeFromCRL, which only delta CRLs "
		        "may carry",
		        what);
		return MN_ERR_FORMAT;
	}
	*reason = (int)v;
	return MN_OK;
}

/* One 32-byte record from a CRL entry. */
static int make_record(X509_REVOKED *rev, int delta, size_t i, unsigned char *rec, char *err,
                       size_t errlen)
{
	static const unsigned char zero = 0;
	const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(rev);
	const unsigned char *p = ASN1_STRING_get0_data(sn);
	size_t len = (size_t)ASN1_STRING_length(sn);
	char what[2 * MN_CRLIDX_MAX_SERIAL + 32];
	int64_t date;
	int reason, r;

	snprintf(what, sizeof(what), "#%zu", i + 1);
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER) {
		mn_errf(err, errlen, "CRL entry %s has a negative serial number", what);
		return MN_ERR_FORMAT;
	}
	if (len == 0) { /* zero */
		p = &zero;
		len = 1;
	}
	p = strip_zeros(p, &len);
	if (len > MN_CRLIDX_MAX_SERIAL) {
		mn_errf(err, errlen, "CRL entry %s has a serial number longer than 20 octets",
		        what);
		return MN_ERR_FORMAT;
	}
	snprintf(what, sizeof(what), "#%zu (serial ", i + 1);
	hex(p, len, what + strlen(what));
	strcat(what, ")");
	if (asn1_time_unix(X509_REVOKED_get0_revocationDate(rev), &date) != MN_OK) {
		mn_errf(err, errlen, "CRL entry %s has a malformed revocationDate", what);
		return MN_ERR_FORMAT;
	}
	if ((r = entry_extensions(rev, delta, &reason, what, err, errlen)) != MN_OK)
		return r;
	memset(rec, 0, MN_CRLIDX_RECORD_SIZE);
	memcpy(rec + MN_CRLIDX_MAX_SERIAL - len, p, len);
	rec[R_SERIAL_LEN] = (unsigned char)len;
	rec[R_REASON] = (unsigned char)reason;
	put_i64(rec + R_DATE, date);
	return MN_OK;
}

/* By serial, then by revocation date: after sorting the first of equal serials is kept. */
static int rec_cmp(const void *a, const void *b)
{
	const unsigned char *x = a, *y = b;
	int64_t dx, dy;
	int c = memcmp(x, y, MN_CRLIDX_MAX_SERIAL);

	if (c != 0)
		return c;
	dx = get_i64(x + R_DATE);
	dy = get_i64(y + R_DATE);
	return dx < dy ? -1 : dx > dy;
}

/* Sorted, duplicate-free records of every entry; *ret NULL when there are none. */
static int make_records(X509_CRL *crl, int delta, unsigned char **ret, size_t *ret_n, char *err,
                        size_t errlen)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	unsigned char *recs = NULL;
	size_t n = (size_t)sk_X509_REVOKED_num(revs), i, k;
	int r;

	if (revs == NULL)
		n = 0;
	if (n > UINT32_MAX) {
		mn_errf(err, errlen, "too many CRL entries");
		return MN_ERR_TOO_LARGE;
	}
	if (n > 0 && (recs = malloc(n * MN_CRLIDX_RECORD_SIZE)) == NULL) {
		mn_errf(err, errlen, "out of memory for %zu CRL entries", n);
		return MN_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		r = make_record(sk_X509_REVOKED_value(revs, (int)i), delta, i,
		                recs + i * MN_CRLIDX_RECORD_SIZE, err, errlen);
		if (r != MN_OK)
			goto out;
	}
	if (n > 1)
		qsort(recs, n, MN_CRLIDX_RECORD_SIZE, rec_cmp);
	for (i = k = 0; i < n; i++) {
		unsigned char *cur = recs + i * MN_CRLIDX_RECORD_SIZE;
		if (k > 0 &&
		    memcmp(recs + (k - 1) * MN_CRLIDX_RECORD_SIZE, cur, MN_CRLIDX_MAX_SERIAL) == 0)
			continue;
		if (k != i)
			memcpy(recs + k * MN_CRLIDX_RECORD_SIZE, cur, MN_CRLIDX_RECORD_SIZE);
		k++;
	}
	*ret = recs;
	*ret_n = k;
	recs = NULL;
	r = MN_OK;
out:
	free(recs);
	return r;
}

/* ---------------------------------------------------------------- import: the file */

static int num_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	a = strip_zeros(a, &alen);
	b = strip_zeros(b, &blen);
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

/* The new CRL must not be older than the index it replaces. */
static int check_rollback(const struct mn_crlidx *old, const struct crl_info *info, char *err,
                          size_t errlen)
{
	char a[2 * MN_CRLIDX_MAX_SERIAL + 1], b[2 * MN_CRLIDX_MAX_SERIAL + 1], ta[32], tb[32];
	const unsigned char *onum;
	size_t olen;
	int c;

	onum = mn_crlidx_crl_number(old, &olen);
	hex(onum, olen, a);
	hex(info->number, info->number_len, b);
	if (olen > 0 && info->number_len == 0) {
		mn_errf(err, errlen,
		        "the CRL has no CRL number but the current index has number 0x%s: refused",
		        a);
		return MN_ERR_FORMAT;
	}
	if (olen > 0) {
		c = num_cmp(info->number, info->number_len, onum, olen);
		if (c < 0) {
			mn_errf(err, errlen,
			        "CRL number 0x%s is lower than 0x%s of the current index: rollback "
			        "refused",
			        b, a);
			return MN_ERR_FORMAT;
		}
		if (c > 0)
			return MN_OK;
	}
	if (info->this_update < mn_crlidx_this_update(old)) {
		time_str(info->this_update, ta);
		time_str(mn_crlidx_this_update(old), tb);
		mn_errf(err, errlen,
		        "CRL thisUpdate %s is older than %s of the current index: rollback refused",
		        ta, tb);
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t k;

	while (len > 0) {
		k = write(fd, p, len > (1u << 30) ? (1u << 30) : len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return MN_ERR_IO;
		p += k;
		len -= (size_t)k;
	}
	return MN_OK;
}

/* temp file in the directory, 0644, write, fsync, rename, fsync of the directory */
static int write_index(int dirfd, const char *dir, const char *path, const unsigned char *hdr,
                       const unsigned char *recs, size_t n, char *err, size_t errlen)
{
	char tmp[4096];
	const char *base = strrchr(path, '/') + 1;
	int fd = -1, r = MN_ERR_IO;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp)) {
		mn_errf(err, errlen, "%s: path too long", dir);
		return MN_ERR_TOO_LARGE;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		mn_errf(err, errlen, "%s: cannot create a temporary file: %s", dir,
		        strerror(errno));
		return MN_ERR_IO;
	}
	if (fchmod(fd, 0644) != 0 || write_all(fd, hdr, MN_CRLIDX_HEADER_SIZE) != MN_OK ||
	    (n > 0 && write_all(fd, recs, n * MN_CRLIDX_RECORD_SIZE) != MN_OK) || fsync(fd) != 0) {
		mn_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		mn_errf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		mn_errf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if (fsync(dirfd) != 0) {
		mn_errf(err, errlen, "%s: fsync: %s", dir, strerror(errno));
		goto out;
	}
	r = MN_OK;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] != '\0')
		unlink(tmp);
	return r;
}

/*
 * A delta CRL applies to the current index: it needs one for this issuer whose CRL number is
 * at least the delta's BaseCRLNumber, and lower than the delta's own number. The result is
 * the index's entries plus the delta's, less those the delta marks removeFromCRL (a released
 * certificateHold). *recs (the delta's, sorted) is replaced by the merged records.
 */
static int apply_delta(struct mn_crlidx *old, const struct crl_info *info, unsigned char **recs,
                       size_t *n, char *err, size_t errlen)
{
	const unsigned char *onum, *o;
	unsigned char *out = NULL, *d = *recs;
	size_t olen, i = 0, j = 0, k = 0, on;
	char a[2 * MN_CRLIDX_MAX_SERIAL + 1], b[2 * MN_CRLIDX_MAX_SERIAL + 1];

	if (old == NULL || memcmp(mn_crlidx_issuer_key_id(old), info->key_id, MN_KEY_ID_LEN) != 0 ||
	    memcmp(mn_crlidx_issuer_name_sha256(old), info->name_hash, NAME_HASH_LEN) != 0) {
		mn_errf(err, errlen, "a delta CRL needs the base CRL imported first");
		return MN_ERR_NOT_FOUND;
	}
	onum = mn_crlidx_crl_number(old, &olen);
	hex(onum, olen, a);
	hex(info->base, info->base_len, b);
	if (olen == 0 || num_cmp(onum, olen, info->base, info->base_len) < 0) {
		mn_errf(err, errlen,
		        "the delta CRL is based on CRL 0x%s, the index has 0x%s: "
		        "import that base CRL first",
		        b, olen ? a : "(none)");
		return MN_ERR_NOT_FOUND;
	}
	if (info->number_len == 0 || num_cmp(info->number, info->number_len, onum, olen) <= 0) {
		mn_errf(err, errlen, "the delta CRL is not newer than the index (0x%s)", a);
		return MN_ERR_FORMAT;
	}
	on = old->count;
	if (on + *n > UINT32_MAX || (out = malloc((on + *n) * MN_CRLIDX_RECORD_SIZE + 1)) == NULL) {
		mn_errf(err, errlen, "out of memory merging the delta CRL");
		return MN_ERR_NOMEM;
	}
	if ((o = map_all(old)) == NULL) {
		free(out);
		mn_errf(err, errlen, "cannot map the current index");
		return MN_ERR_IO;
	}
	o += MN_CRLIDX_HEADER_SIZE;
	while (i < on || j < *n) {
		const unsigned char *x = i < on ? o + i * MN_CRLIDX_RECORD_SIZE : NULL;
		const unsigned char *y = j < *n ? d + j * MN_CRLIDX_RECORD_SIZE : NULL;
		int c = x == NULL ? 1 : y == NULL ? -1 : memcmp(x, y, MN_CRLIDX_MAX_SERIAL);

		if (c < 0) {
			memcpy(out + k++ * MN_CRLIDX_RECORD_SIZE, x, MN_CRLIDX_RECORD_SIZE);
			i++;
			continue;
		}
		if (c == 0)
			i++; /* the delta's entry replaces (or removes) the base's */
		if (y[R_REASON] != 8)
			memcpy(out + k++ * MN_CRLIDX_RECORD_SIZE, y, MN_CRLIDX_RECORD_SIZE);
		j++;
	}
	free(*recs);
	*recs = out;
	*n = k;
	return MN_OK;
}

static void make_header(const struct crl_info *info, size_t n, unsigned char *h)
{
	memset(h, 0, MN_CRLIDX_HEADER_SIZE);
	memcpy(h + H_MAGIC, MN_CRLIDX_MAGIC, 8);
	put_u32(h + H_VERSION, MN_CRLIDX_VERSION);
	put_u32(h + H_COUNT, (uint32_t)n);
	put_i64(h + H_THIS_UPDATE, info->this_update);
	put_i64(h + H_NEXT_UPDATE, info->next_update);
	h[H_CRL_NUMBER] = (unsigned char)info->number_len;
	memcpy(h + H_CRL_NUMBER + 1, info->number, info->number_len);
	memcpy(h + H_KEY_ID, info->key_id, MN_KEY_ID_LEN);
	memcpy(h + H_NAME_HASH, info->name_hash, NAME_HASH_LEN);
}

/* Everything about the CRL except its entries: issuer, extensions, times, number, hashes. */
/* clang-format off */
static int check_crl(X509_CRL *crl, STACK_OF(X509) *anchors, time_t now, struct crl_info *info,
                     char *err, size_t errlen)
/* clang-format on */
{
	X509 *ca = NULL;
	int r;

	if ((r = find_issuer(crl, anchors, &ca, err, errlen)) != MN_OK ||
	    (r = check_aki(crl, ca, err, errlen)) != MN_OK ||
	    (r = check_extensions(crl, info, err, errlen)) != MN_OK ||
	    (r = check_times(crl, now, info, err, errlen)) != MN_OK ||
	    (r = get_number(crl, info, err, errlen)) != MN_OK)
		return r;
	if (mn_key_id(ca, info->key_id) != MN_OK ||
	    mn_name_sha256(X509_CRL_get_issuer(crl), info->name_hash) != MN_OK) {
		mn_errf(err, errlen, "cannot hash the issuer's key or name");
		return MN_ERR_CRYPTO;
	}
	return MN_OK;
}

/* clang-format off */
int mn_crl_import(const char *crl_path, STACK_OF(X509) *anchors, time_t now, const char *index_dir,
                  char *ret_index_path, size_t pathlen, char *err, size_t errlen)
/* clang-format on */
{
	struct crl_info info;
	struct mn_crlidx *old = NULL;
	X509_CRL *crl = NULL;
	unsigned char hdr[MN_CRLIDX_HEADER_SIZE], *recs = NULL;
	char path[4096], kid[2 * MN_KEY_ID_LEN + 1];
	size_t n = 0;
	int dirfd = -1, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (crl_path == NULL || anchors == NULL || index_dir == NULL ||
	    (ret_index_path != NULL && pathlen == 0))
		return MN_ERR_INVALID_ARG;
	memset(&info, 0, sizeof(info));
	if ((r = load_crl(crl_path, &crl, err, errlen)) != MN_OK ||
	    (r = check_crl(crl, anchors, now, &info, err, errlen)) != MN_OK)
		goto out;
	hex(info.key_id, MN_KEY_ID_LEN, kid);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.idx", index_dir, kid) >= sizeof(path)) {
		mn_errf(err, errlen, "%s: index path too long", index_dir);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	if (ret_index_path != NULL && strlen(path) >= pathlen) {
		mn_errf(err, errlen, "the buffer for the index path is too small");
		r = MN_ERR_TOO_LARGE;
		goto out;
	}

	if ((dirfd = open(index_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		mn_errf(err, errlen, "%s: cannot open the index directory: %s", index_dir,
		        strerror(errno));
		r = MN_ERR_IO;
		goto out;
	}
	if (flock(dirfd, LOCK_EX) != 0) {
		mn_errf(err, errlen, "%s: cannot lock: %s", index_dir, strerror(errno));
		r = MN_ERR_IO;
		goto out;
	}
	/* an unreadable or corrupt current index is replaced; a valid one must be older */
	if (mn_crlidx_open(path, &old, NULL, 0) == MN_OK &&
	    memcmp(mn_crlidx_issuer_key_id(old), info.key_id, MN_KEY_ID_LEN) == 0 &&
	    (r = check_rollback(old, &info, err, errlen)) != MN_OK)
		goto out;
	if ((r = make_records(crl, info.delta, &recs, &n, err, errlen)) != MN_OK)
		goto out;
	if (info.delta && (r = apply_delta(old, &info, &recs, &n, err, errlen)) != MN_OK)
		goto out;
	X509_CRL_free(crl); /* the big allocation goes before the write */
	crl = NULL;
	make_header(&info, n, hdr);
	if ((r = write_index(dirfd, index_dir, path, hdr, recs, n, err, errlen)) != MN_OK)
		goto out;
	if (ret_index_path != NULL)
		snprintf(ret_index_path, pathlen, "%s", path);
	r = MN_OK;
out:
	mn_crlidx_close(&old);
	if (dirfd >= 0)
		close(dirfd); /* releases the lock */
	free(recs);
	X509_CRL_free(crl);
	ERR_clear_error();
	return r;
}

/* ---------------------------------------------------------------- the index */

static int check_header(const unsigned char *h, size_t size, char *err, size_t errlen,
                        const char *path)
{
	uint32_t version = get_u32(h + H_VERSION);
	uint64_t count = get_u32(h + H_COUNT);
	uint64_t want = MN_CRLIDX_HEADER_SIZE + MN_CRLIDX_RECORD_SIZE * count;
	size_t i, nlen = h[H_CRL_NUMBER];

	if (memcmp(h + H_MAGIC, MN_CRLIDX_MAGIC, 8) != 0) {
		mn_errf(err, errlen, "%s: not a CRL index (bad magic)", path);
		return MN_ERR_FORMAT;
	}
	if (version != MN_CRLIDX_VERSION) {
		mn_errf(err, errlen, "%s: unsupported CRL index version %u", path, version);
		return MN_ERR_UNSUPPORTED;
	}
	if ((uint64_t)size != want) {
		mn_errf(err, errlen, "%s: size %zu does not match %llu records", path, size,
		        (unsigned long long)count);
		return (uint64_t)size < want ? MN_ERR_TRUNCATED : MN_ERR_TRAILING;
	}
	if (get_i64(h + H_NEXT_UPDATE) <= get_i64(h + H_THIS_UPDATE) || nlen > 20) {
		mn_errf(err, errlen, "%s: corrupt CRL index header", path);
		return MN_ERR_FORMAT;
	}
	for (i = H_CRL_NUMBER + 1 + nlen; i < MN_CRLIDX_HEADER_SIZE; i++) {
		if (h[i] != 0 && (i < H_KEY_ID || i >= H_RESERVED)) {
			mn_errf(err, errlen, "%s: non-zero padding in the CRL index header", path);
			return MN_ERR_FORMAT;
		}
	}
	return MN_OK;
}

int mn_crlidx_open(const char *path, struct mn_crlidx **ret, char *err, size_t errlen)
{
	struct mn_crlidx *x = NULL;
	struct stat st;
	unsigned char hdr[MN_CRLIDX_HEADER_SIZE];
	size_t size = 0;
	int fd, r = MN_ERR_IO;

	if (path == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno == ENOENT ? MN_ERR_NOT_FOUND : MN_ERR_IO;
		mn_errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		mn_errf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		mn_errf(err, errlen, "%s: writable by group or others", path);
		goto out;
	}
	if (st.st_size < MN_CRLIDX_HEADER_SIZE) {
		mn_errf(err, errlen, "%s: truncated CRL index", path);
		r = MN_ERR_TRUNCATED;
		goto out;
	}
	if ((uint64_t)st.st_size >
	        MN_CRLIDX_HEADER_SIZE + (uint64_t)MN_CRLIDX_RECORD_SIZE * UINT32_MAX ||
	    (uint64_t)st.st_size > SIZE_MAX) {
		mn_errf(err, errlen, "%s: too large for a CRL index", path);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	size = (size_t)st.st_size;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
		mn_errf(err, errlen, "%s: cannot read the header", path);
		goto out;
	}
	if ((r = check_header(hdr, size, err, errlen, path)) != MN_OK)
		goto out;
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	memcpy(x->hdr, hdr, sizeof(hdr));
	x->fd = fd;
	x->size = size;
	x->count = get_u32(x->hdr + H_COUNT);
	*ret = x;
	x = NULL;
	fd = -1;
	r = MN_OK;
out:
	free(x);
	if (fd >= 0)
		close(fd);
	return r;
}

void mn_crlidx_close(struct mn_crlidx **idx)
{
	if (idx == NULL || *idx == NULL)
		return;
	if ((*idx)->base != NULL)
		munmap((void *)(*idx)->base, (*idx)->size);
	close((*idx)->fd);
	free(*idx);
	*idx = NULL;
}

int mn_crlidx_lookup(const struct mn_crlidx *idx, const unsigned char *serial, size_t serial_len,
                     int *ret_revoked, int *ret_reason, int64_t *ret_date)
{
	unsigned char key[MN_CRLIDX_MAX_SERIAL], buf[MN_CRLIDX_RECORD_SIZE];
	const unsigned char *rec = NULL;
	size_t lo = 0, hi, mid;
	int c;

	if (idx == NULL || serial == NULL || ret_revoked == NULL)
		return MN_ERR_INVALID_ARG;
	if (serial_len == 0)
		return MN_ERR_FORMAT;
	serial = strip_zeros(serial, &serial_len);
	if (serial_len > MN_CRLIDX_MAX_SERIAL)
		return MN_ERR_TOO_LARGE;
	memset(key, 0, sizeof(key));
	memcpy(key + sizeof(key) - serial_len, serial, serial_len);
	hi = idx->count;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (pread(idx->fd, buf, sizeof(buf),
		          (off_t)(MN_CRLIDX_HEADER_SIZE + mid * MN_CRLIDX_RECORD_SIZE)) !=
		    (ssize_t)sizeof(buf))
			return MN_ERR_IO;
		c = memcmp(key, buf, MN_CRLIDX_MAX_SERIAL);
		if (c == 0) {
			rec = buf;
			break;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (rec == NULL) {
		*ret_revoked = 0;
		if (ret_reason != NULL)
			*ret_reason = MN_CRL_REASON_NONE;
		if (ret_date != NULL)
			*ret_date = 0;
		return MN_OK;
	}
	if (rec[R_SERIAL_LEN] != serial_len || rec[R_PAD] != 0 || rec[R_PAD + 1] != 0 ||
	    (rec[R_REASON] > 10 && rec[R_REASON] != REASON_ABSENT))
		return MN_ERR_FORMAT;
	*ret_revoked = 1;
	if (ret_reason != NULL)
		*ret_reason = rec[R_REASON] == REASON_ABSENT ? MN_CRL_REASON_NONE : rec[R_REASON];
	if (ret_date != NULL)
		*ret_date = get_i64(rec + R_DATE);
	return MN_OK;
}

int64_t mn_crlidx_this_update(const struct mn_crlidx *idx)
{
	return get_i64(idx->hdr + H_THIS_UPDATE);
}

int64_t mn_crlidx_next_update(const struct mn_crlidx *idx)
{
	return get_i64(idx->hdr + H_NEXT_UPDATE);
}

const unsigned char *mn_crlidx_issuer_key_id(const struct mn_crlidx *idx)
{
	return idx->hdr + H_KEY_ID;
}

const unsigned char *mn_crlidx_issuer_name_sha256(const struct mn_crlidx *idx)
{
	return idx->hdr + H_NAME_HASH;
}

const unsigned char *mn_crlidx_crl_number(const struct mn_crlidx *idx, size_t *len)
{
	*len = idx->hdr[H_CRL_NUMBER];
	return idx->hdr + H_CRL_NUMBER + 1;
}

size_t mn_crlidx_count(const struct mn_crlidx *idx)
{
	return idx->count;
}
