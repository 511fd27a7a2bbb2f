#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mn_cert.h"
#include "mn_crlidx.h"
#include "mn_err.h"
#include "mn_file.h"
#include "mn_revoker.h"
#include "mynumber/revocation.h"

#define MAX_BACKENDS    8
#define CACHE_MAX_SIZE  (1024 * 1024)
#define CACHE_MAX_LINES 4096

struct loaded {
	void *dl;
	const struct mynumber_rev_backend *be;
	void *state;
};

struct mn_revoker {
	struct loaded b[MAX_BACKENDS];
	size_t n;
	int none;               /* backends = none */
	int soft;               /* policy = soft */
	unsigned max_staleness; /* seconds */
	unsigned timeout_ms;
	char cache[4096]; /* "" when there is no state directory */
};

/* One cached answer: "sha256 status this_update cache_until reason revoked_at" per line. */
struct cached {
	int found;
	enum mn_rev_status status;
	long long this_update, cache_until, revoked_at;
	int reason;
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int load_backend(struct loaded *l, const char *dir, const char *name,
                        const struct mn_conf *conf, char *err, size_t errlen)
{
	const struct mynumber_rev_backend *(*entry)(void) = NULL;
	struct mynumber_rev_setting set[32];
	const char *const *keys, *const *vals;
	char path[4096];
	size_t n, i;
	void *sym;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s.so", dir, name) >= sizeof(path))
		return MN_ERR_TOO_LARGE;
	if ((l->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "revocation backend '%s': cannot load %s", name, path);
		return MN_ERR_NOT_FOUND;
	}
	sym = dlsym(l->dl, "mynumber_revocation_backend");
	memcpy(&entry, &sym, sizeof(entry));
	if (entry == NULL || (l->be = entry()) == NULL ||
	    l->be->abi_version != MYNUMBER_REV_ABI_VERSION || l->be->open == NULL ||
	    l->be->check == NULL || l->be->close == NULL || strcmp(l->be->name, name) != 0) {
		snprintf(err, errlen, "%s: not a version %d revocation backend named '%s'", path,
		         MYNUMBER_REV_ABI_VERSION, name);
		return MN_ERR_FORMAT;
	}
	if ((r = mn_conf_backend_settings(conf, name, &keys, &vals, &n)) != MN_OK)
		return r;
	if (n > sizeof(set) / sizeof(set[0]))
		return MN_ERR_TOO_LARGE;
	for (i = 0; i < n; i++) {
		set[i].key = keys[i];
		set[i].value = vals[i];
	}
	if ((r = l->be->open(set, n, &l->state, err, errlen)) != 0) {
		l->be = NULL; /* nothing to close */
		return r < 0 ? r : MN_ERR_FORMAT;
	}
	return MN_OK;
}

int mn_revoker_open(const struct mn_conf *conf, struct mn_revoker **ret, char *err, size_t errlen)
{
	struct mn_revoker *r;
	const char *list, *p, *e, *pol, *state;
	char name[33], e2[256];
	unsigned timeout = 5;
	size_t len;
	int rc = MN_OK;

	if (conf == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	else
		err = e2, errlen = sizeof(e2);
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return MN_ERR_NOMEM;
	pol = mn_conf_get(conf, "revocation", "policy");
	r->soft = pol != NULL && strcmp(pol, "soft") == 0;
	r->max_staleness = 86400;
	mn_conf_get_uint(conf, "revocation", "max_staleness", &r->max_staleness);
	mn_conf_get_uint(conf, "revocation", "timeout", &timeout);
	r->timeout_ms = timeout * 1000;
	state = mn_conf_get(conf, "", "state_dir");
	if (state != NULL && state[0] != '\0' &&
	    (size_t)snprintf(r->cache, sizeof(r->cache), "%s/revocation-cache", state) >=
	        sizeof(r->cache))
		r->cache[0] = '\0';
	list = mn_conf_get(conf, "revocation", "backends");
	for (p = list; p != NULL && *p != '\0' && rc == MN_OK; p = *e ? e + 1 : e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0 || len >= sizeof(name)) {
			rc = MN_ERR_FORMAT;
			break;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (strcmp(name, "none") == 0) {
			r->none = 1;
			continue;
		}
		if (r->n == MAX_BACKENDS) {
			rc = MN_ERR_TOO_LARGE;
			break;
		}
		rc = load_backend(&r->b[r->n], mn_conf_get(conf, "revocation", "plugin_dir"), name,
		                  conf, err, errlen);
		r->n++;
	}
	if (rc == MN_OK && r->n == 0 && !r->none) {
		snprintf(err, errlen, "no revocation backend configured");
		rc = MN_ERR_INVALID_ARG;
	}
	if (rc != MN_OK) {
		mn_revoker_close(&r);
		return rc;
	}
	*ret = r;
	return MN_OK;
}

void mn_revoker_close(struct mn_revoker **rp)
{
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	for (i = 0; i < (*rp)->n; i++) {
		struct loaded *l = &(*rp)->b[i];
		if (l->be != NULL)
			l->be->close(l->state);
		if (l->dl != NULL)
			dlclose(l->dl);
	}
	free(*rp);
	*rp = NULL;
}

/* ------------------------------------------------------------------ the answer cache */

/* Read the cache file (root only, bounded); NULL when absent or unusable. */
static char *cache_read(const char *path, size_t *ret_len)
{
	char *buf = NULL;

	if (path[0] == '\0' ||
	    mn_file_read_private(path, CACHE_MAX_SIZE, 077, &buf, ret_len, NULL, 0) != MN_OK)
		return NULL;
	return buf;
}

static int parse_line(const char *line, char sha[65], struct cached *c)
{
	char s[65];
	int st;

	if (sscanf(line, "%64s %d %lld %lld %d %lld", s, &st, &c->this_update, &c->cache_until,
	           &c->reason, &c->revoked_at) != 6 ||
	    strlen(s) != 64 || (st != MN_REV_GOOD && st != MN_REV_REVOKED))
		return 0;
	memcpy(sha, s, 65);
	c->status = (enum mn_rev_status)st;
	c->found = 1;
	return 1;
}

static void cache_lookup(const char *path, const char *sha, struct cached *out)
{
	struct cached c;
	char *buf, *line, *save = NULL, s[65];
	size_t len = 0;

	memset(out, 0, sizeof(*out));
	if ((buf = cache_read(path, &len)) == NULL)
		return;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		memset(&c, 0, sizeof(c));
		if (parse_line(line, s, &c) && strcmp(s, sha) == 0)
			*out = c;
	}
	free(buf);
}

/* Record an answer, replacing this certificate's line and dropping long-expired GOODs. */
static void cache_store(const char *path, const char *sha, const struct cached *c, time_t now,
                        unsigned max_staleness)
{
	char *buf, *line, *save = NULL, s[65], *out = NULL;
	size_t len = 0, kept = 0, out_len = 0;
	struct cached o;
	FILE *f;
	int ok = 1;

	if (path[0] == '\0' || (f = open_memstream(&out, &out_len)) == NULL)
		return;
	buf = cache_read(path, &len);
	for (line = buf ? strtok_r(buf, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		memset(&o, 0, sizeof(o));
		if (!parse_line(line, s, &o) || strcmp(s, sha) == 0 || kept >= CACHE_MAX_LINES - 1)
			continue;
		if (o.status == MN_REV_GOOD && o.cache_until + (long long)max_staleness < now)
			continue;
		ok = ok && fprintf(f, "%s\n", line) > 0;
		kept++;
	}
	free(buf);
	ok = ok && fprintf(f, "%s %d %lld %lld %d %lld\n", sha, (int)c->status, c->this_update,
	                   c->cache_until, c->reason, c->revoked_at) > 0;
	ok = fclose(f) == 0 && ok;
	if (ok) /* best effort: without the cache the next login asks the backends again */
		(void)mn_file_write_atomic(path, out, out_len, 0600, NULL, 0);
	free(out);
}

/* ------------------------------------------------------------------ the decision */

static void fmt_time(long long t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, cap, "%lld", t);
}

int mn_revoker_check(struct mn_revoker *r, X509 *cert, X509 *issuer, time_t now,
                     struct mn_rev_result *ret)
{
	struct mn_rev_result res;
	struct mynumber_rev_query q;
	struct mynumber_rev_answer a;
	struct cached cached, store;
	unsigned char *der = NULL, *ider = NULL, kid[20], serial[64];
	char sha[65], when[32], last[200] = "no backend answered";
	long long deadline, left, stale_until = -1;
	BIGNUM *bn = NULL;
	int len, ilen, rc = MN_ERR_CRYPTO, unknown = 0;
	size_t i;

	if (r == NULL || cert == NULL || issuer == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	memset(&res, 0, sizeof(res));
	res.reason = -1;
	if (r->none) {
		res.status = MN_REV_GOOD;
		snprintf(res.detail, sizeof(res.detail), "revocation checking disabled");
		goto done;
	}
	/* the caller chose issuer by signature; a mismatch must never read another CA's data */
	if (X509_check_issued(issuer, cert) != X509_V_OK ||
	    X509_verify(cert, X509_get0_pubkey(issuer)) != 1) {
		ERR_clear_error();
		res.status = MN_REV_UNKNOWN;
		snprintf(res.detail, sizeof(res.detail),
		         "the certificate was not issued by this CA");
		goto done;
	}
	if (mn_cert_sha256_hex(cert, sha) != MN_OK || (len = i2d_X509(cert, &der)) <= 0 ||
	    (ilen = i2d_X509(issuer, &ider)) <= 0 || mn_key_id(issuer, kid) != MN_OK ||
	    (bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL)) == NULL ||
	    BN_is_negative(bn) || BN_num_bytes(bn) > (int)sizeof(serial))
		goto out;

	memset(&q, 0, sizeof(q));
	q.cert = der;
	q.cert_len = (size_t)len;
	q.issuer = ider;
	q.issuer_len = (size_t)ilen;
	q.issuer_key_id = kid;
	q.serial = serial;
	q.serial_len = (size_t)BN_bn2bin(bn, serial);
	q.now = (int64_t)now;
	deadline = mono_ms() + r->timeout_ms;
	for (i = 0; i < r->n; i++) {
		const struct loaded *l = &r->b[i];

		left = deadline - mono_ms();
		if (left <= 0) {
			snprintf(last, sizeof(last), "deadline reached before backend '%s'",
			         l->be->name);
			break;
		}
		q.timeout_ms = (int)left;
		memset(&a, 0, sizeof(a));
		if (l->be->check(l->state, &q, &a) != 0 || a.status > MYNUMBER_REV_UNAVAILABLE)
			a.status = MYNUMBER_REV_UNAVAILABLE;
		a.detail[sizeof(a.detail) - 1] = '\0';
		if (a.status == MYNUMBER_REV_REVOKED) {
			res.status = MN_REV_REVOKED;
			res.reason = a.reason;
			res.revoked_at = a.revoked_at;
			if (a.successor_serial_len <= sizeof(res.successor)) {
				memcpy(res.successor, a.successor_serial, a.successor_serial_len);
				res.successor_len = a.successor_serial_len;
			}
			snprintf(res.detail, sizeof(res.detail), "%s", a.detail);
			memset(&store, 0, sizeof(store));
			store.status = MN_REV_REVOKED;
			store.reason = a.reason;
			store.revoked_at = a.revoked_at;
			store.this_update = a.this_update;
			cache_store(r->cache, sha, &store, now, r->max_staleness);
			goto done;
		}
		if (a.status == MYNUMBER_REV_GOOD && (a.cache_until == 0 || now <= a.cache_until)) {
			res.status = MN_REV_GOOD;
			snprintf(res.detail, sizeof(res.detail), "%s", a.detail);
			if (a.cache_until > now) {
				memset(&store, 0, sizeof(store));
				store.status = MN_REV_GOOD;
				store.this_update = a.this_update;
				store.cache_until = a.cache_until;
				store.reason = -1;
				cache_store(r->cache, sha, &store, now, r->max_staleness);
			}
			goto done;
		}
		if (a.status == MYNUMBER_REV_GOOD && a.cache_until > stale_until) {
			/* stale: a candidate for the soft policy */
			stale_until = a.cache_until;
		}
		if (a.status == MYNUMBER_REV_UNKNOWN)
			unknown = 1;
		snprintf(last, sizeof(last), "%s: %.180s", l->be->name,
		         a.detail[0] ? a.detail : "no answer");
	}
	/* no definite answer now: what the backends said before (offline use) */
	cache_lookup(r->cache, sha, &cached);
	if (cached.found && cached.status == MN_REV_REVOKED) {
		res.status = MN_REV_REVOKED;
		res.reason = cached.reason;
		res.revoked_at = cached.revoked_at;
		snprintf(res.detail, sizeof(res.detail), "revoked (cached answer; now: %.150s)",
		         last);
		goto done;
	}
	if (cached.found && now <= cached.cache_until) {
		fmt_time(cached.cache_until, when, sizeof(when));
		res.status = MN_REV_GOOD;
		snprintf(res.detail, sizeof(res.detail),
		         "good (cached answer, fresh until %s; now: %.120s)", when, last);
		goto done;
	}
	if (cached.found && cached.status == MN_REV_GOOD && cached.cache_until > stale_until)
		stale_until = cached.cache_until;
	res.status = unknown && stale_until < 0 ? MN_REV_UNKNOWN : MN_REV_UNAVAILABLE;
	if (stale_until >= 0 && now <= stale_until + (long long)r->max_staleness && r->soft) {
		fmt_time(stale_until, when, sizeof(when));
		res.soft_accepted = 1;
		snprintf(res.detail, sizeof(res.detail),
		         "soft policy: accepted a GOOD answer stale since %s (%.150s)", when, last);
	} else if (stale_until >= 0) {
		fmt_time(stale_until, when, sizeof(when));
		snprintf(res.detail, sizeof(res.detail),
		         "only a GOOD answer stale since %s (%.150s)", when, last);
	} else {
		snprintf(res.detail, sizeof(res.detail), "%s", last);
	}
done:
	*ret = res;
	rc = MN_OK;
out:
	BN_free(bn);
	OPENSSL_free(der);
	OPENSSL_free(ider);
	return rc;
}
