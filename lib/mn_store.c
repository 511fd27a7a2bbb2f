#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "mn_b64.h"
#include "mn_err.h"
#include "mn_file.h"
#include "mn_store.h"

#define STORE_MAX_SIZE (64L * 1024 * 1024)
#define N_FIELDS       11
#define LOCK_POLL_MS   50

struct mn_store {
	struct mn_binding *b;
	size_t n, cap;
	struct mn_phone_binding *p;
	size_t pn, pcap;
	struct mn_account *a;
	size_t an, acap;
};

#define N_PHONE_FIELDS   8
#define N_ACCOUNT_FIELDS 6

/* A growing output buffer. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void binding_clear(struct mn_binding *b)
{
	free(b->spki);
	free(b->cert);
	b->spki = NULL;
	b->cert = NULL;
}

static int sha256_hex(const unsigned char *d, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(d, n, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return MN_ERR_CRYPTO;
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0F];
	}
	out[64] = '\0';
	return MN_OK;
}

/* --------------------------------------------------------------- field checks */

int mn_store_user_valid_n(const char *u, size_t n)
{
	size_t i;

	if (u == NULL || n == 0 || n > 32)
		return 0;
	for (i = 0; i < n; i++) {
		char c = u[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || (i > 0 && (c == '.' || c == '-'))))
			return 0;
	}
	return 1;
}

int mn_store_user_valid(const char *u)
{
	return u != NULL && mn_store_user_valid_n(u, strnlen(u, 33));
}

/* n hex digits exactly, upper or lower case only as asked. */
static int valid_hex(const char *s, size_t n, int upper)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') ||
		      (upper ? (c >= 'A' && c <= 'F') : (c >= 'a' && c <= 'f'))))
			return 0;
	}
	return 1;
}

static int valid_token_serial(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= 16 || s[i] < 0x21 || s[i] > 0x7E)
			return 0;
	return strcmp(s, "-") != 0;
}

static unsigned digits(const char *s, size_t n)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	return v;
}

/* YYYYMMDDHHMMSSZ, a real calendar date. */
static int valid_time(const char *s)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d;
	size_t i;

	if (strlen(s) != 15 || s[14] != 'Z')
		return 0;
	for (i = 0; i < 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
		return 0;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return 0;
	return digits(s + 8, 2) <= 23 && digits(s + 10, 2) <= 59 && digits(s + 12, 2) <= 59;
}

static const char *kind_name(enum mn_token_kind k)
{
	switch (k) {
	case MN_TOKEN_CARD:
		return "card";
	case MN_TOKEN_ANDROID:
		return "android";
	case MN_TOKEN_IPHONE:
		return "iphone";
	default:
		return NULL;
	}
}

static int kind_parse(const char *s, enum mn_token_kind *out)
{
	static const enum mn_token_kind kinds[] = {MN_TOKEN_CARD, MN_TOKEN_ANDROID,
	                                           MN_TOKEN_IPHONE};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(s, kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return MN_OK;
		}
	}
	return MN_ERR_FORMAT;
}

/* Every rule of the format for b (its id aside); *reason says which failed. */
/* The stored public key must be the certificate's: the login verifies with it. */
static int spki_matches_cert(const struct mn_binding *b)
{
	const unsigned char *p = b->cert;
	unsigned char *der = NULL;
	X509 *x;
	int n, ok = 0;

	x = d2i_X509(NULL, &p, (long)b->cert_len);
	if (x != NULL && (size_t)(p - b->cert) == b->cert_len &&
	    (n = i2d_PUBKEY(X509_get0_pubkey(x), &der)) > 0)
		ok = (size_t)n == b->spki_len && memcmp(der, b->spki, (size_t)n) == 0;
	OPENSSL_free(der);
	X509_free(x);
	ERR_clear_error();
	return ok;
}

static int check_binding(const struct mn_binding *b, const char **reason)
{
	char sha[65];
	size_t n;

	if (strnlen(b->user, sizeof(b->user)) == sizeof(b->user) || !mn_store_user_valid(b->user)) {
		*reason = "bad user name";
		return MN_ERR_FORMAT;
	}
	if (kind_name(b->kind) == NULL) {
		*reason = "bad token kind";
		return MN_ERR_FORMAT;
	}
	if (strnlen(b->token_serial, sizeof(b->token_serial)) == sizeof(b->token_serial) ||
	    !valid_token_serial(b->token_serial)) {
		*reason = "bad token serial";
		return MN_ERR_FORMAT;
	}
	if (strnlen(b->not_after, sizeof(b->not_after)) == sizeof(b->not_after) ||
	    !valid_time(b->not_after)) {
		*reason = "bad not_after time";
		return MN_ERR_FORMAT;
	}
	n = strnlen(b->serial, sizeof(b->serial));
	if (n == 0 || n == sizeof(b->serial) || !valid_hex(b->serial, n, 1)) {
		*reason = "bad certificate serial";
		return MN_ERR_FORMAT;
	}
	n = strnlen(b->issuer, sizeof(b->issuer));
	if (n == 0 || n == sizeof(b->issuer)) {
		*reason = "bad issuer";
		return MN_ERR_FORMAT;
	}
	if (strnlen(b->label, sizeof(b->label)) == sizeof(b->label)) {
		*reason = "label too long";
		return MN_ERR_FORMAT;
	}
	if (b->spki == NULL || b->spki_len == 0 || b->spki_len > MN_STORE_SPKI_MAX) {
		*reason = "bad spki length";
		return MN_ERR_FORMAT;
	}
	if (b->cert == NULL || b->cert_len == 0 || b->cert_len > MN_STORE_CERT_MAX) {
		*reason = "bad certificate length";
		return MN_ERR_FORMAT;
	}
	if (strnlen(b->sha256, sizeof(b->sha256)) != 64 || !valid_hex(b->sha256, 64, 0)) {
		*reason = "bad sha256";
		return MN_ERR_FORMAT;
	}
	if (sha256_hex(b->cert, b->cert_len, sha) != MN_OK) {
		*reason = "SHA-256 failed";
		return MN_ERR_CRYPTO;
	}
	if (strcmp(sha, b->sha256) != 0) {
		*reason = "sha256 does not match the certificate";
		return MN_ERR_FORMAT;
	}
	if (!spki_matches_cert(b)) {
		*reason = "the public key does not match the certificate";
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

/* --------------------------------------------------------------- the store in memory */

int mn_store_new(struct mn_store **ret)
{
	struct mn_store *s;

	if (ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return MN_ERR_NOMEM;
	*ret = s;
	return MN_OK;
}

void mn_store_free(struct mn_store **s)
{
	size_t i;

	if (s == NULL || *s == NULL)
		return;
	for (i = 0; i < (*s)->n; i++)
		binding_clear(&(*s)->b[i]);
	free((*s)->b);
	free((*s)->p);
	free((*s)->a);
	free(*s);
	*s = NULL;
}

size_t mn_store_count(const struct mn_store *s)
{
	return s != NULL ? s->n : 0;
}

const struct mn_binding *mn_store_at(const struct mn_store *s, size_t i)
{
	if (s == NULL || i >= s->n)
		return NULL;
	return &s->b[i];
}

/* One more than the highest id over all record kinds (1 for an empty store). */
static int next_id(const struct mn_store *s, unsigned *out)
{
	unsigned max = 0;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->b[i].id > max)
			max = s->b[i].id;
	for (i = 0; i < s->pn; i++)
		if (s->p[i].id > max)
			max = s->p[i].id;
	for (i = 0; i < s->an; i++)
		if (s->a[i].id > max)
			max = s->a[i].id;
	if (max >= MN_STORE_MAX_ID)
		return MN_ERR_TOO_LARGE;
	*out = max + 1;
	return MN_OK;
}

/* Append *b, taking ownership of its buffers (cleared in *b) on success. */
/*
 * Room for one more element in arr (n elements of size elem, capacity *cap): arr itself, or
 * a reallocated copy of twice the capacity (first when empty), or NULL with arr untouched.
 */
static void *grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	void *np;
	size_t c;

	if (n < *cap)
		return arr;
	c = *cap == 0 ? first : *cap * 2;
	if (c < *cap || c > (size_t)-1 / elem || (np = realloc(arr, c * elem)) == NULL)
		return NULL;
	*cap = c;
	return np;
}

static int push(struct mn_store *s, struct mn_binding *b)
{
	struct mn_binding *nb = grow(s->b, &s->cap, s->n, sizeof(*nb), 8);

	if (nb == NULL)
		return MN_ERR_NOMEM;
	s->b = nb;
	s->b[s->n++] = *b;
	b->spki = NULL;
	b->cert = NULL;
	return MN_OK;
}

/* The index of a binding of user to the certificate with this digest, or -1. */
static long find_dup(const struct mn_store *s, const char *user, const char *sha256)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->b[i].user, user) == 0 && strcmp(s->b[i].sha256, sha256) == 0)
			return (long)i;
	return -1;
}

int mn_store_add(struct mn_store *s, const struct mn_binding *b, unsigned *ret_id)
{
	struct mn_binding nb;
	const char *reason = NULL;
	int r;

	if (s == NULL || b == NULL)
		return MN_ERR_INVALID_ARG;
	/* checked while nb still points to the caller's buffers */
	nb = *b;
	nb.id = 0;
	if (nb.sha256[0] == '\0' && nb.cert != NULL && nb.cert_len > 0 &&
	    nb.cert_len <= MN_STORE_CERT_MAX &&
	    (r = sha256_hex(nb.cert, nb.cert_len, nb.sha256)) != MN_OK)
		return r;
	if ((r = check_binding(&nb, &reason)) != MN_OK)
		return r;
	if (find_dup(s, nb.user, nb.sha256) >= 0)
		return MN_ERR_INVALID_ARG;
	if ((r = next_id(s, &nb.id)) != MN_OK)
		return r;
	nb.spki = malloc(b->spki_len);
	nb.cert = malloc(b->cert_len);
	if (nb.spki == NULL || nb.cert == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	memcpy(nb.spki, b->spki, b->spki_len);
	memcpy(nb.cert, b->cert, b->cert_len);
	if ((r = push(s, &nb)) != MN_OK)
		goto out;
	if (ret_id != NULL)
		*ret_id = s->b[s->n - 1].id;
	r = MN_OK;
out:
	binding_clear(&nb);
	return r;
}

int mn_store_remove(struct mn_store *s, const char *user, unsigned id, size_t *ret_removed)
{
	size_t i, j = 0, removed = 0;

	if (s == NULL || user == NULL)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->b[i].user, user) == 0 && (id == 0 || s->b[i].id == id)) {
			binding_clear(&s->b[i]);
			removed++;
			continue;
		}
		if (j != i)
			s->b[j] = s->b[i];
		j++;
	}
	s->n = j;
	for (i = 0, j = 0; i < s->pn; i++) {
		if (strcmp(s->p[i].user, user) == 0 && (id == 0 || s->p[i].id == id)) {
			removed++;
			continue;
		}
		if (j != i)
			s->p[j] = s->p[i];
		j++;
	}
	s->pn = j;
	for (i = 0, j = 0; i < s->an; i++) {
		if (strcmp(s->a[i].user, user) == 0 && (id == 0 || s->a[i].id == id)) {
			removed++;
			continue;
		}
		if (j != i)
			s->a[j] = s->a[i];
		j++;
	}
	s->an = j;
	if (removed == 0)
		return MN_ERR_NOT_FOUND;
	if (ret_removed != NULL)
		*ret_removed = removed;
	return MN_OK;
}

/* --------------------------------------------------------------- phone records */

static int check_phone(const struct mn_phone_binding *p, const char **reason)
{
	if (!mn_store_user_valid(p->user)) {
		*reason = "bad user name";
		return MN_ERR_FORMAT;
	}
	if (strlen(p->salt) != 32 || !valid_hex(p->salt, 32, 0)) {
		*reason = "bad salt";
		return MN_ERR_FORMAT;
	}
	if (strlen(p->hmac) != 64 || !valid_hex(p->hmac, 64, 0)) {
		*reason = "bad hmac";
		return MN_ERR_FORMAT;
	}
	if (strlen(p->iaca) != 64 || !valid_hex(p->iaca, 64, 0)) {
		*reason = "bad IACA fingerprint";
		return MN_ERR_FORMAT;
	}
	if (!valid_time(p->created)) {
		*reason = "bad creation time";
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

size_t mn_store_phone_count(const struct mn_store *s)
{
	return s != NULL ? s->pn : 0;
}

const struct mn_phone_binding *mn_store_phone_at(const struct mn_store *s, size_t i)
{
	if (s == NULL || i >= s->pn)
		return NULL;
	return &s->p[i];
}

static int phone_push(struct mn_store *s, const struct mn_phone_binding *p)
{
	struct mn_phone_binding *np = grow(s->p, &s->pcap, s->pn, sizeof(*np), 4);

	if (np == NULL)
		return MN_ERR_NOMEM;
	s->p = np;
	s->p[s->pn++] = *p;
	return MN_OK;
}

static int phone_dup(const struct mn_store *s, const char *user, const char *hmac)
{
	size_t i;

	for (i = 0; i < s->pn; i++)
		if (strcmp(s->p[i].user, user) == 0 && strcmp(s->p[i].hmac, hmac) == 0)
			return 1;
	return 0;
}

int mn_store_phone_add(struct mn_store *s, const struct mn_phone_binding *p, unsigned *ret_id)
{
	struct mn_phone_binding np;
	const char *reason = NULL;
	int r;

	if (s == NULL || p == NULL)
		return MN_ERR_INVALID_ARG;
	np = *p;
	np.user[sizeof(np.user) - 1] = np.salt[sizeof(np.salt) - 1] = '\0';
	np.hmac[sizeof(np.hmac) - 1] = np.iaca[sizeof(np.iaca) - 1] = '\0';
	np.created[sizeof(np.created) - 1] = np.label[sizeof(np.label) - 1] = '\0';
	if ((r = check_phone(&np, &reason)) != MN_OK)
		return r;
	if (phone_dup(s, np.user, np.hmac))
		return MN_ERR_INVALID_ARG;
	if ((r = next_id(s, &np.id)) != MN_OK)
		return r;
	if ((r = phone_push(s, &np)) != MN_OK)
		return r;
	if (ret_id != NULL)
		*ret_id = np.id;
	return MN_OK;
}

/* --------------------------------------------------------------- managed accounts */

static int valid_gecos(const char *g)
{
	for (; *g != '\0'; g++)
		if ((unsigned char)*g < 0x20 || *g == 0x7F || *g == ':' || *g == ',')
			return 0;
	return 1;
}

static int check_account(const struct mn_account *a, const char **reason)
{
	if (!mn_store_user_valid(a->user)) {
		*reason = "bad user name";
		return MN_ERR_FORMAT;
	}
	if (a->uid == 0 || a->uid == 65534 || a->uid == 4294967295u) {
		*reason = "bad uid";
		return MN_ERR_FORMAT;
	}
	if (!valid_time(a->created)) {
		*reason = "bad creation time";
		return MN_ERR_FORMAT;
	}
	if (!valid_gecos(a->gecos)) {
		*reason = "bad gecos";
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

size_t mn_store_account_count(const struct mn_store *s)
{
	return s != NULL ? s->an : 0;
}

const struct mn_account *mn_store_account_at(const struct mn_store *s, size_t i)
{
	if (s == NULL || i >= s->an)
		return NULL;
	return &s->a[i];
}

const struct mn_account *mn_store_account_find(const struct mn_store *s, const char *user)
{
	size_t i;

	if (s == NULL || user == NULL)
		return NULL;
	for (i = 0; i < s->an; i++)
		if (strcmp(s->a[i].user, user) == 0)
			return &s->a[i];
	return NULL;
}

static int account_push(struct mn_store *s, const struct mn_account *a)
{
	struct mn_account *na = grow(s->a, &s->acap, s->an, sizeof(*na), 8);

	if (na == NULL)
		return MN_ERR_NOMEM;
	s->a = na;
	s->a[s->an++] = *a;
	return MN_OK;
}

int mn_store_account_add(struct mn_store *s, const struct mn_account *a, unsigned *ret_id)
{
	struct mn_account na;
	const char *reason = NULL;
	size_t i;
	int r;

	if (s == NULL || a == NULL)
		return MN_ERR_INVALID_ARG;
	na = *a;
	na.user[sizeof(na.user) - 1] = na.created[sizeof(na.created) - 1] = '\0';
	na.gecos[sizeof(na.gecos) - 1] = '\0';
	if ((r = check_account(&na, &reason)) != MN_OK)
		return r;
	for (i = 0; i < s->an; i++)
		if (strcmp(s->a[i].user, na.user) == 0 || s->a[i].uid == na.uid)
			return MN_ERR_INVALID_ARG;
	if ((r = next_id(s, &na.id)) != MN_OK)
		return r;
	if ((r = account_push(s, &na)) != MN_OK)
		return r;
	if (ret_id != NULL)
		*ret_id = na.id;
	return MN_OK;
}

/* --------------------------------------------------------------- encoding */

static int sbuf_reserve(struct sbuf *sb, size_t n)
{
	size_t cap;
	char *p;

	if (n <= sb->cap - sb->len)
		return MN_OK;
	if (n > (size_t)-1 / 2 - sb->len)
		return MN_ERR_NOMEM;
	cap = sb->cap == 0 ? 4096 : sb->cap;
	while (cap - sb->len < n)
		cap *= 2;
	if ((p = realloc(sb->p, cap)) == NULL)
		return MN_ERR_NOMEM;
	sb->p = p;
	sb->cap = cap;
	return MN_OK;
}

static int sbuf_add(struct sbuf *sb, const char *s, size_t n)
{
	int r;

	if ((r = sbuf_reserve(sb, n)) != MN_OK)
		return r;
	memcpy(sb->p + sb->len, s, n);
	sb->len += n;
	return MN_OK;
}

static int sbuf_str(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

static int put_pct(struct sbuf *sb, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3];
	int r;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%' || c < 0x20 || c == 0x7F) {
			esc[0] = '%';
			esc[1] = hex[c >> 4];
			esc[2] = hex[c & 0x0F];
			r = sbuf_add(sb, esc, 3);
		} else {
			r = sbuf_add(sb, s, 1);
		}
		if (r != MN_OK)
			return r;
	}
	return MN_OK;
}

static int put_b64(struct sbuf *sb, const unsigned char *d, size_t n)
{
	size_t need = mn_b64_encoded_len(n), w;
	int r;

	if (need == 0 || (r = sbuf_reserve(sb, need + 1)) != MN_OK)
		return MN_ERR_NOMEM;
	if ((r = mn_b64_encode(d, n, sb->p + sb->len, sb->cap - sb->len, &w)) != MN_OK)
		return r;
	sb->len += w;
	return MN_OK;
}

/* A free-text field: "-" when empty, a text that is "-" itself as %2D, else percent-encoded. */
static int put_opt_text(struct sbuf *sb, const char *s)
{
	if (s[0] == '\0')
		return sbuf_str(sb, "-");
	if (strcmp(s, "-") == 0)
		return sbuf_str(sb, "%2D");
	return put_pct(sb, s);
}

static int put_binding(struct sbuf *sb, const struct mn_binding *b)
{
	char id[16];
	int r;

	snprintf(id, sizeof(id), "%u", b->id);
	if ((r = sbuf_str(sb, b->user)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, id)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, b->sha256)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, kind_name(b->kind))) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, b->token_serial[0] != '\0' ? b->token_serial : "-")) != MN_OK ||
	    (r = sbuf_str(sb, "\t")) != MN_OK || (r = sbuf_str(sb, b->not_after)) != MN_OK ||
	    (r = sbuf_str(sb, "\t")) != MN_OK || (r = sbuf_str(sb, b->serial)) != MN_OK ||
	    (r = sbuf_str(sb, "\t")) != MN_OK || (r = put_pct(sb, b->issuer)) != MN_OK ||
	    (r = sbuf_str(sb, "\t")) != MN_OK)
		return r;
	r = put_opt_text(sb, b->label);
	if (r != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = put_b64(sb, b->spki, b->spki_len)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = put_b64(sb, b->cert, b->cert_len)) != MN_OK || (r = sbuf_str(sb, "\n")) != MN_OK)
		return r;
	return MN_OK;
}

static int put_phone(struct sbuf *sb, const struct mn_phone_binding *p)
{
	char id[16];
	int r;

	snprintf(id, sizeof(id), "%u", p->id);
	if ((r = sbuf_str(sb, p->user)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, id)) != MN_OK || (r = sbuf_str(sb, "\tphone\t")) != MN_OK ||
	    (r = sbuf_str(sb, p->salt)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, p->hmac)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, p->iaca)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, p->created)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK)
		return r;
	r = put_opt_text(sb, p->label);
	if (r != MN_OK || (r = sbuf_str(sb, "\n")) != MN_OK)
		return r;
	return MN_OK;
}

static int put_account(struct sbuf *sb, const struct mn_account *a)
{
	char num[40];
	int r;

	snprintf(num, sizeof(num), "%u\taccount\t%u\t", a->id, a->uid);
	if ((r = sbuf_str(sb, a->user)) != MN_OK || (r = sbuf_str(sb, "\t")) != MN_OK ||
	    (r = sbuf_str(sb, num)) != MN_OK || (r = sbuf_str(sb, a->created)) != MN_OK ||
	    (r = sbuf_str(sb, "\t")) != MN_OK)
		return r;
	r = put_opt_text(sb, a->gecos);
	if (r != MN_OK || (r = sbuf_str(sb, "\n")) != MN_OK)
		return r;
	return MN_OK;
}

/* --------------------------------------------------------------- decoding */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Percent-decode the NUL-terminated in into out (capacity cap, NUL included). */
static int get_pct(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	int hi, lo;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;
		if (c < 0x20 || c == 0x7F)
			return MN_ERR_FORMAT;
		if (c == '%') {
			if ((hi = hexval(in[1])) < 0 || (lo = hexval(in[2])) < 0)
				return MN_ERR_FORMAT;
			c = (unsigned char)(hi << 4 | lo);
			if (c == 0)
				return MN_ERR_FORMAT;
			in += 2;
		}
		if (o + 1 >= cap)
			return MN_ERR_TOO_LARGE;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return MN_OK;
}

/* Decode a base64 field of at most max bytes into a new buffer. */
static int get_b64(const char *in, size_t max, unsigned char **ret, size_t *ret_len)
{
	size_t n = strlen(in), len = 0;
	unsigned char *p;
	int r;

	if (n == 0 || n > mn_b64_encoded_len(max))
		return MN_ERR_TOO_LARGE;
	if ((p = malloc(n / 4 * 3)) == NULL)
		return MN_ERR_NOMEM;
	if ((r = mn_b64_decode(in, n, p, n / 4 * 3, &len)) != MN_OK || len == 0 || len > max) {
		free(p);
		return r != MN_OK ? r : MN_ERR_TOO_LARGE;
	}
	*ret = p;
	*ret_len = len;
	return MN_OK;
}

/* A decimal id 1..MN_STORE_MAX_ID without leading zeros. */
static int get_id(const char *s, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return MN_ERR_FORMAT;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MN_ERR_FORMAT;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > MN_STORE_MAX_ID)
			return MN_ERR_FORMAT;
	}
	*out = (unsigned)v;
	return MN_OK;
}

/* Copy a plain field of at most cap - 1 bytes. */
static int get_str(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in);

	if (n >= cap)
		return MN_ERR_FORMAT;
	memcpy(out, in, n + 1);
	return MN_OK;
}

/*
 * Split line (modified in place) at TABs into exactly n fields f[0..n). *reason names the
 * record kind's field count otherwise.
 */
static int split_fields(char *line, char **f, size_t n, const char *more, const char *fewer,
                        const char **reason)
{
	size_t nf = 0;
	char *p;

	for (p = line;; p++) {
		if (nf == n) {
			*reason = more;
			return MN_ERR_FORMAT;
		}
		f[nf++] = p;
		if ((p = strchr(p, '\t')) == NULL)
			break;
		*p = '\0';
	}
	if (nf != n) {
		*reason = fewer;
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

/* An optional free-text field: "-" is empty, else a non-empty percent-encoded text. */
static int get_opt_text(const char *in, char *out, size_t cap)
{
	if (strcmp(in, "-") == 0) {
		out[0] = '\0';
		return MN_OK;
	}
	if (get_pct(in, out, cap) != MN_OK || out[0] == '\0')
		return MN_ERR_FORMAT;
	return MN_OK;
}

/*
 * Parse one binding line (NUL-terminated, modified in place) into *out, which owns its
 * buffers on success. *reason says what is wrong on failure.
 */
static int parse_binding(char *line, struct mn_binding *out, const char **reason)
{
	struct mn_binding b;
	char *f[N_FIELDS];
	int r;

	memset(&b, 0, sizeof(b));
	if ((r = split_fields(line, f, N_FIELDS, "more than 11 fields", "fewer than 11 fields",
	                      reason)) != MN_OK)
		goto out;
	r = MN_ERR_FORMAT;
	if (get_str(f[0], b.user, sizeof(b.user)) != MN_OK || !mn_store_user_valid(b.user)) {
		*reason = "bad user name";
		goto out;
	}
	if (get_id(f[1], &b.id) != MN_OK) {
		*reason = "bad id";
		goto out;
	}
	if (strlen(f[2]) != 64 || !valid_hex(f[2], 64, 0)) {
		*reason = "bad sha256";
		goto out;
	}
	memcpy(b.sha256, f[2], 65);
	if (kind_parse(f[3], &b.kind) != MN_OK) {
		*reason = "bad token kind";
		goto out;
	}
	if (strcmp(f[4], "-") != 0 &&
	    (get_str(f[4], b.token_serial, sizeof(b.token_serial)) != MN_OK ||
	     !valid_token_serial(b.token_serial) || b.token_serial[0] == '\0')) {
		*reason = "bad token serial";
		goto out;
	}
	if (get_str(f[5], b.not_after, sizeof(b.not_after)) != MN_OK || !valid_time(b.not_after)) {
		*reason = "bad not_after time";
		goto out;
	}
	if (get_str(f[6], b.serial, sizeof(b.serial)) != MN_OK || b.serial[0] == '\0' ||
	    !valid_hex(b.serial, strlen(b.serial), 1)) {
		*reason = "bad certificate serial";
		goto out;
	}
	if (get_pct(f[7], b.issuer, sizeof(b.issuer)) != MN_OK || b.issuer[0] == '\0') {
		*reason = "bad issuer";
		goto out;
	}
	if (get_opt_text(f[8], b.label, sizeof(b.label)) != MN_OK) {
		*reason = "bad label";
		goto out;
	}
	if ((r = get_b64(f[9], MN_STORE_SPKI_MAX, &b.spki, &b.spki_len)) != MN_OK) {
		*reason = r == MN_ERR_NOMEM ? "out of memory" : "bad spki (base64)";
		goto out;
	}
	if ((r = get_b64(f[10], MN_STORE_CERT_MAX, &b.cert, &b.cert_len)) != MN_OK) {
		*reason = r == MN_ERR_NOMEM ? "out of memory" : "bad certificate (base64)";
		goto out;
	}
	if ((r = check_binding(&b, reason)) != MN_OK)
		goto out;
	*out = b;
	memset(&b, 0, sizeof(b));
	r = MN_OK;
out:
	if (r != MN_OK && r != MN_ERR_NOMEM && r != MN_ERR_CRYPTO)
		r = MN_ERR_FORMAT;
	binding_clear(&b);
	return r;
}

/* Parse a phone record line (8 fields, the third "phone") into *out. */
static int parse_phone(char *line, struct mn_phone_binding *out, const char **reason)
{
	struct mn_phone_binding p;
	char *f[N_PHONE_FIELDS];

	memset(&p, 0, sizeof(p));
	if (split_fields(line, f, N_PHONE_FIELDS, "more than 8 fields in a phone record",
	                 "fewer than 8 fields in a phone record", reason) != MN_OK)
		return MN_ERR_FORMAT;
	if (get_str(f[0], p.user, sizeof(p.user)) != MN_OK ||
	    get_str(f[3], p.salt, sizeof(p.salt)) != MN_OK ||
	    get_str(f[4], p.hmac, sizeof(p.hmac)) != MN_OK ||
	    get_str(f[5], p.iaca, sizeof(p.iaca)) != MN_OK ||
	    get_str(f[6], p.created, sizeof(p.created)) != MN_OK) {
		*reason = "bad phone record field";
		return MN_ERR_FORMAT;
	}
	if (get_id(f[1], &p.id) != MN_OK) {
		*reason = "bad id";
		return MN_ERR_FORMAT;
	}
	if (get_opt_text(f[7], p.label, sizeof(p.label)) != MN_OK) {
		*reason = "bad label";
		return MN_ERR_FORMAT;
	}
	if (check_phone(&p, reason) != MN_OK)
		return MN_ERR_FORMAT;
	*out = p;
	return MN_OK;
}

/* A decimal uid 1..4294967294 without leading zeros. */
static int get_uid(const char *s, unsigned *out)
{
	unsigned long long v = 0;
	size_t i;

	if (s[0] < '1' || s[0] > '9')
		return MN_ERR_FORMAT;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return MN_ERR_FORMAT;
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v >= 4294967295ull)
			return MN_ERR_FORMAT;
	}
	*out = (unsigned)v;
	return MN_OK;
}

/* Parse an account line (6 fields, the third "account") into *out. */
static int parse_account(char *line, struct mn_account *out, const char **reason)
{
	struct mn_account a;
	char *f[N_ACCOUNT_FIELDS];

	memset(&a, 0, sizeof(a));
	if (split_fields(line, f, N_ACCOUNT_FIELDS, "more than 6 fields in an account record",
	                 "fewer than 6 fields in an account record", reason) != MN_OK)
		return MN_ERR_FORMAT;
	if (get_str(f[0], a.user, sizeof(a.user)) != MN_OK ||
	    get_str(f[4], a.created, sizeof(a.created)) != MN_OK) {
		*reason = "bad account record field";
		return MN_ERR_FORMAT;
	}
	if (get_id(f[1], &a.id) != MN_OK) {
		*reason = "bad id";
		return MN_ERR_FORMAT;
	}
	if (get_uid(f[3], &a.uid) != MN_OK) {
		*reason = "bad uid";
		return MN_ERR_FORMAT;
	}
	if (get_opt_text(f[5], a.gecos, sizeof(a.gecos)) != MN_OK) {
		*reason = "bad gecos";
		return MN_ERR_FORMAT;
	}
	if (check_account(&a, reason) != MN_OK)
		return MN_ERR_FORMAT;
	*out = a;
	return MN_OK;
}

enum rec_kind { REC_BINDING, REC_PHONE, REC_ACCOUNT };

/* The record kind from the third field: "phone", "account", else a binding. */
static enum rec_kind line_kind(const char *line)
{
	const char *t1 = strchr(line, '\t'), *t2;

	if (t1 == NULL || (t2 = strchr(t1 + 1, '\t')) == NULL)
		return REC_BINDING;
	if (strncmp(t2 + 1, "phone\t", 6) == 0)
		return REC_PHONE;
	if (strncmp(t2 + 1, "account\t", 8) == 0)
		return REC_ACCOUNT;
	return REC_BINDING;
}

/*
 * Uniqueness over a whole loaded store, by sorting (a large store is checked in
 * O(n log n), not O(n^2)): each key with the line it came from.
 */
struct seen {
	const char *a, *b; /* string keys (b may be NULL) */
	unsigned long long num;
	unsigned line;
};

static int seen_cmp(const void *x, const void *y)
{
	const struct seen *p = x, *q = y;
	int c;

	if (p->num != q->num)
		return p->num < q->num ? -1 : 1;
	if ((c = strcmp(p->a != NULL ? p->a : "", q->a != NULL ? q->a : "")) != 0)
		return c;
	if ((c = strcmp(p->b != NULL ? p->b : "", q->b != NULL ? q->b : "")) != 0)
		return c;
	return p->line < q->line ? -1 : p->line > q->line;
}

/* The first line (in file order) that repeats a key of v[0..n), or 0. Sorts v. */
static unsigned first_repeat(struct seen *v, size_t n)
{
	unsigned first = 0;
	size_t i;

	qsort(v, n, sizeof(*v), seen_cmp);
	for (i = 1; i < n; i++)
		if (v[i].num == v[i - 1].num &&
		    strcmp(v[i].a != NULL ? v[i].a : "", v[i - 1].a != NULL ? v[i - 1].a : "") ==
		        0 &&
		    strcmp(v[i].b != NULL ? v[i].b : "", v[i - 1].b != NULL ? v[i - 1].b : "") ==
		        0 &&
		    (first == 0 || v[i].line < first))
			first = v[i].line;
	return first;
}

/* Sort v[0..n) and keep (*best, *why) the earliest repeat so far. */
static void note_repeat(struct seen *v, size_t n, const char *what, unsigned *best,
                        const char **why)
{
	unsigned at = first_repeat(v, n);

	if (at != 0 && (*best == 0 || at < *best)) {
		*best = at;
		*why = what;
	}
}

/*
 * Check the uniqueness rules of a parsed store whose records came from the lines in bl, pl
 * and al. On a violation *line and *reason say where and what (the earliest line wins).
 */
static int check_unique(const struct mn_store *s, const unsigned *bl, const unsigned *pl,
                        const unsigned *al, unsigned *line, const char **reason)
{
	struct seen *v;
	size_t total = s->n + s->pn + s->an, k = 0, i;
	unsigned best = 0;
	const char *why = NULL;

	if (total == 0)
		return MN_OK;
	if ((v = calloc(total, sizeof(*v))) == NULL) {
		*reason = "out of memory";
		return MN_ERR_NOMEM;
	}
	for (i = 0; i < s->n; i++)
		v[k++] = (struct seen){NULL, NULL, s->b[i].id, bl[i]};
	for (i = 0; i < s->pn; i++)
		v[k++] = (struct seen){NULL, NULL, s->p[i].id, pl[i]};
	for (i = 0; i < s->an; i++)
		v[k++] = (struct seen){NULL, NULL, s->a[i].id, al[i]};
	note_repeat(v, k, "id used twice", &best, &why);
	for (i = 0, k = 0; i < s->n; i++)
		v[k++] = (struct seen){s->b[i].user, s->b[i].sha256, 0, bl[i]};
	note_repeat(v, k, "user bound twice to the same certificate", &best, &why);
	for (i = 0, k = 0; i < s->pn; i++)
		v[k++] = (struct seen){s->p[i].user, s->p[i].hmac, 0, pl[i]};
	note_repeat(v, k, "user enrolled twice with the same phone", &best, &why);
	for (i = 0, k = 0; i < s->an; i++)
		v[k++] = (struct seen){s->a[i].user, NULL, 0, al[i]};
	note_repeat(v, k, "user has two accounts", &best, &why);
	for (i = 0, k = 0; i < s->an; i++)
		v[k++] = (struct seen){NULL, NULL, s->a[i].uid, al[i]};
	note_repeat(v, k, "uid used twice", &best, &why);
	free(v);
	if (best == 0)
		return MN_OK;
	*line = best;
	*reason = why;
	return MN_ERR_FORMAT;
}

/* Append line to the growing array *v (count n, capacity *cap). */
static int push_line(unsigned **v, size_t n, size_t *cap, unsigned line)
{
	unsigned *nv = grow(*v, cap, n, sizeof(*nv), 16);

	if (nv == NULL)
		return MN_ERR_NOMEM;
	*v = nv;
	(*v)[n] = line;
	return MN_OK;
}

/*
 * Open and read the store file. *ret = NULL with MN_OK when it does not exist. The file
 * must be a regular file owned by root or the euid with no group/other permission.
 */
static int read_store_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	int r = mn_file_read_private(path, STORE_MAX_SIZE, 077, ret, ret_len, err, errlen);

	if (r == MN_ERR_NOT_FOUND) { /* a store that does not exist yet is empty */
		*ret = NULL;
		*ret_len = 0;
		return MN_OK;
	}
	return r;
}

/* Parse the whole file buf[0..len) (modified in place) into the empty store s. */
static int parse_store(struct mn_store *s, const char *path, char *buf, size_t len, char *err,
                       size_t errlen)
{
	static const char version_prefix[] = "# mynumber enrollment store v";
	struct mn_binding b;
	const char *reason = "missing header";
	char *line, *nl;
	unsigned *bl = NULL, *pl = NULL, *al = NULL;
	size_t blc = 0, plc = 0, alc = 0;
	size_t pos = 0, n, i;
	unsigned lineno = 1, version = 0;
	int r = MN_ERR_FORMAT;

	memset(&b, 0, sizeof(b));
	if (len == 0)
		goto out;
	for (lineno = 1; pos < len; lineno++) {
		enum rec_kind kind;

		r = MN_ERR_FORMAT;
		line = buf + pos;
		if ((nl = memchr(line, '\n', len - pos)) == NULL) {
			reason = "last line not terminated by a newline";
			goto out;
		}
		n = (size_t)(nl - line);
		*nl = '\0';
		pos += n + 1;
		if (memchr(line, '\0', n) != NULL) {
			reason = "NUL byte";
			goto out;
		}
		if (lineno == 1) {
			if (strcmp(line, MN_STORE_HEADER) == 0)
				version = 1;
			else if (strcmp(line, MN_STORE_HEADER_V2) == 0)
				version = 2;
			else if (strcmp(line, MN_STORE_HEADER_V3) == 0)
				version = 3;
			if (version != 0)
				continue;
			i = sizeof(version_prefix) - 1;
			if (strncmp(line, version_prefix, i) == 0 && line[i] != '\0' &&
			    strspn(line + i, "0123456789") == strlen(line + i))
				reason = "unsupported store version";
			goto out;
		}
		if (n == 0) {
			reason = "empty line";
			goto out;
		}
		kind = line_kind(line);
		if (kind == REC_PHONE && version >= 2) {
			struct mn_phone_binding ph;

			if ((r = parse_phone(line, &ph, &reason)) != MN_OK)
				goto out;
			if ((r = push_line(&pl, s->pn, &plc, lineno)) != MN_OK ||
			    (r = phone_push(s, &ph)) != MN_OK) {
				reason = "out of memory";
				goto out;
			}
			continue;
		}
		if (kind == REC_ACCOUNT && version >= 3) {
			struct mn_account ac;

			if ((r = parse_account(line, &ac, &reason)) != MN_OK)
				goto out;
			if ((r = push_line(&al, s->an, &alc, lineno)) != MN_OK ||
			    (r = account_push(s, &ac)) != MN_OK) {
				reason = "out of memory";
				goto out;
			}
			continue;
		}
		if ((r = parse_binding(line, &b, &reason)) != MN_OK)
			goto out;
		if ((r = push_line(&bl, s->n, &blc, lineno)) != MN_OK ||
		    (r = push(s, &b)) != MN_OK) {
			reason = "out of memory";
			goto out;
		}
	}
	if ((r = check_unique(s, bl, pl, al, &lineno, &reason)) != MN_OK)
		goto out;
	r = MN_OK;
out:
	if (r != MN_OK)
		mn_errf(err, errlen, "%s:%u: %s", path, lineno, reason);
	binding_clear(&b);
	free(bl);
	free(pl);
	free(al);
	return r;
}

int mn_store_parse(const char *name, const char *buf, size_t len, struct mn_store **ret, char *err,
                   size_t errlen)
{
	struct mn_store *s = NULL;
	char *copy = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL || (buf == NULL && len > 0) || ret == NULL) {
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	if (len > STORE_MAX_SIZE) {
		mn_errf(err, errlen, "%s: larger than %ld bytes", name, STORE_MAX_SIZE);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	if ((copy = malloc(len + 1)) == NULL || (r = mn_store_new(&s)) != MN_OK) {
		mn_errf(err, errlen, "%s: out of memory", name);
		r = MN_ERR_NOMEM;
		goto out;
	}
	if (len > 0)
		memcpy(copy, buf, len);
	copy[len] = '\0';
	if ((r = parse_store(s, name, copy, len, err, errlen)) != MN_OK)
		goto out;
	*ret = s;
	s = NULL;
out:
	mn_store_free(&s);
	free(copy);
	return r;
}

int mn_store_load(const char *path, struct mn_store **ret, char *err, size_t errlen)
{
	struct mn_store *s = NULL;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || ret == NULL) {
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = read_store_file(path, &buf, &len, err, errlen)) != MN_OK)
		goto out;
	if ((r = mn_store_new(&s)) != MN_OK) {
		mn_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	/* no file (buf == NULL): an empty store */
	if (buf != NULL && (r = parse_store(s, path, buf, len, err, errlen)) != MN_OK)
		goto out;
	*ret = s;
	s = NULL;
	r = MN_OK;
out:
	mn_store_free(&s);
	free(buf);
	return r;
}

int mn_store_add_record(struct mn_store *s, const char *user, const char *record, char *err,
                        size_t errlen)
{
	struct mn_store *one = NULL;
	char *text = NULL;
	size_t n;
	const char *header;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || user == NULL || record == NULL)
		return MN_ERR_INVALID_ARG;
	if (!mn_store_user_valid(user)) {
		mn_errf(err, errlen, "bad user name");
		return MN_ERR_FORMAT;
	}
	if (strchr(record, '\n') != NULL || strlen(record) > STORE_MAX_SIZE / 2) {
		mn_errf(err, errlen, "a record is one line");
		return MN_ERR_FORMAT;
	}
	/* the record as line 2 of a one-record v3 store, with id 1 */
	header = MN_STORE_HEADER_V3;
	n = strlen(header) + strlen(user) + strlen(record) + 8;
	if ((text = malloc(n)) == NULL)
		return MN_ERR_NOMEM;
	snprintf(text, n, "%s\n%s\t1\t%s\n", header, user, record);
	if ((r = mn_store_parse("record", text, strlen(text), &one, err, errlen)) != MN_OK)
		goto out;
	if (one->n == 1)
		r = mn_store_add(s, &one->b[0], NULL);
	else if (one->pn == 1)
		r = mn_store_phone_add(s, &one->p[0], NULL);
	else
		r = mn_store_account_add(s, &one->a[0], NULL);
	if (r == MN_ERR_INVALID_ARG)
		mn_errf(err, errlen, "duplicate record for %s", user);
	else if (r != MN_OK)
		mn_errf(err, errlen, "cannot add the record for %s: %s", user, mn_strerror(r));
out:
	mn_store_free(&one);
	free(text);
	return r;
}

/* --------------------------------------------------------------- saving */

int mn_store_format(const struct mn_store *s, char **ret, size_t *ret_len)
{
	struct sbuf sb = {NULL, 0, 0};
	const char *header;
	size_t i;
	int r;

	if (s == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	/* the lowest version that holds the records: older readers keep working */
	header = s->an > 0   ? MN_STORE_HEADER_V3 "\n"
	         : s->pn > 0 ? MN_STORE_HEADER_V2 "\n"
	                     : MN_STORE_HEADER "\n";
	if ((r = sbuf_str(&sb, header)) != MN_OK)
		goto out;
	for (i = 0; i < s->n; i++)
		if ((r = put_binding(&sb, &s->b[i])) != MN_OK)
			goto out;
	for (i = 0; i < s->pn; i++)
		if ((r = put_phone(&sb, &s->p[i])) != MN_OK)
			goto out;
	for (i = 0; i < s->an; i++)
		if ((r = put_account(&sb, &s->a[i])) != MN_OK)
			goto out;
	if ((r = sbuf_add(&sb, "", 1)) != MN_OK) /* NUL, not counted */
		goto out;
	*ret = sb.p;
	if (ret_len != NULL)
		*ret_len = sb.len - 1;
	sb.p = NULL;
out:
	free(sb.p);
	return r;
}

int mn_store_save(const struct mn_store *s, const char *path, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || path == NULL || path[0] == '\0') {
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	if ((r = mn_store_format(s, &text, &len)) != MN_OK) {
		mn_errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	r = mn_file_write_atomic(path, text, len, 0600, err, errlen);
out:
	free(text);
	return r;
}

/* --------------------------------------------------------------- locking */

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int mn_store_lock_wait(const char *path, unsigned wait_ms, int *ret_fd, char *err, size_t errlen)
{
	const struct timespec nap = {0, LOCK_POLL_MS * 1000000L};
	struct timespec start;
	struct stat st;
	char *lp = NULL, eb[128];
	size_t n;
	int fd = -1, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || ret_fd == NULL) {
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	n = strlen(path) + 6;
	if ((lp = malloc(n)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	snprintf(lp, n, "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0) {
		mn_errf(err, errlen, "%s: %s", lp, strerror_r(errno, eb, sizeof(eb)));
		r = MN_ERR_IO;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		mn_errf(err, errlen, "%s: not a regular file (refused)", lp);
		r = MN_ERR_IO;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			mn_errf(err, errlen, "%s: %s", lp, strerror_r(errno, eb, sizeof(eb)));
			r = MN_ERR_IO;
			goto out;
		}
		if (elapsed_ms(&start) >= (long)wait_ms) {
			mn_errf(err, errlen, "%s: held by another process (waited %u ms)", lp,
			        wait_ms);
			r = MN_ERR_TIMEOUT;
			goto out;
		}
		nanosleep(&nap, NULL);
	}
	*ret_fd = fd;
	fd = -1;
	r = MN_OK;
out:
	if (fd >= 0)
		close(fd);
	free(lp);
	return r;
}

int mn_store_lock(const char *path, int *ret_fd, char *err, size_t errlen)
{
	return mn_store_lock_wait(path, MN_STORE_LOCK_WAIT_MS, ret_fd, err, errlen);
}

void mn_store_unlock(int *fd)
{
	if (fd == NULL || *fd < 0)
		return;
	flock(*fd, LOCK_UN);
	close(*fd);
	*fd = -1;
}
