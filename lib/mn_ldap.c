/* The enrollment store in an LDAP directory: the client (libldap, OpenLDAP 2.5). */
#include "config.h"

#include <ldap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "mn_err.h"
#include "mn_file.h"
#include "mn_ldap.h"

struct mn_ldap {
	LDAP *ld;
	char *uri;
	char *base;
	char attr[65];
	unsigned timeout;
};

/* Text from the network or the directory made safe for a log line: no control bytes. */
static void sanitize(const char *in, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;

	if (cap == 0)
		return;
	for (i = 0; in != NULL && i < len && o + 1 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		out[o++] = (c < 0x20 || c == 0x7F) ? '?' : (char)c;
	}
	out[o] = '\0';
}

static int valid_attr(const char *a)
{
	size_t i, n = strlen(a);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = a[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (i > 0 && ((c >= '0' && c <= '9') || c == '-'))))
			return 0;
	}
	return 1;
}

int mn_ldap_escape_filter(const char *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	if ((in == NULL && len > 0) || out == NULL || cap == 0)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 || c > 0x7E || c == '*' || c == '(' || c == ')' || c == '\\') {
			if (o + 3 >= cap)
				return MN_ERR_TOO_LARGE;
			out[o++] = '\\';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			if (o + 1 >= cap)
				return MN_ERR_TOO_LARGE;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return MN_OK;
}

int mn_ldap_filter(const char *attr, const char *user, char *out, size_t cap)
{
	char esc[3 * 64 + 1];
	int n, r;

	if (attr == NULL || out == NULL || cap == 0)
		return MN_ERR_INVALID_ARG;
	if (!valid_attr(attr))
		return MN_ERR_INVALID_ARG;
	if (user == NULL) {
		n = snprintf(out, cap, "(objectClass=%s)", MN_LDAP_OBJECTCLASS);
	} else {
		if (strlen(user) > 64)
			return MN_ERR_INVALID_ARG;
		if ((r = mn_ldap_escape_filter(user, strlen(user), esc, sizeof(esc))) != MN_OK)
			return r;
		n = snprintf(out, cap, "(&(objectClass=%s)(%s=%s))", MN_LDAP_OBJECTCLASS, attr,
		             esc);
	}
	if (n < 0 || (size_t)n >= cap)
		return MN_ERR_TOO_LARGE;
	return MN_OK;
}

int mn_ldap_check_value(const char *val, size_t len, const char **reason)
{
	const char *why = NULL;
	int r = MN_ERR_FORMAT;

	if (val == NULL || len == 0)
		why = "empty value";
	else if (len > MN_LDAP_VALUE_MAX) {
		why = "value longer than 32768 bytes";
		r = MN_ERR_TOO_LARGE;
	} else if (memchr(val, '\0', len) != NULL)
		why = "NUL byte in the value";
	else if (memchr(val, '\n', len) != NULL || memchr(val, '\r', len) != NULL)
		why = "a record is one line";
	if (why == NULL)
		return MN_OK;
	if (reason != NULL)
		*reason = why;
	return r;
}

/* "URI: what: LDAP error (code)[: diagnostic]" */
static void ld_err(const struct mn_ldap *l, int rc, const char *what, char *err, size_t errlen)
{
	char *diag = NULL, clean[200];

	clean[0] = '\0';
	if (l->ld != NULL &&
	    ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
	    diag != NULL)
		sanitize(diag, strlen(diag), clean, sizeof(clean));
	ldap_memfree(diag);
	mn_errf(err, errlen, "%s: %s: %s (%d)%s%s", l->uri, what, ldap_err2string(rc), rc,
	        clean[0] ? ": " : "", clean);
}

void mn_ldap_close(struct mn_ldap **l)
{
	if (l == NULL || *l == NULL)
		return;
	if ((*l)->ld != NULL)
		ldap_unbind_ext_s((*l)->ld, NULL, NULL);
	free((*l)->uri);
	free((*l)->base);
	free(*l);
	*l = NULL;
}

/* The bind password: the file's content without trailing CR/LF, wiped by the caller. */
static int read_password(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	char *pw = NULL;
	size_t len = 0;
	int r;

	if ((r = mn_file_read_private(path, MN_LDAP_PASSWORD_MAX, 077, &pw, &len, err, errlen)) !=
	    MN_OK)
		return r;
	while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
		pw[--len] = '\0';
	if (len == 0) {
		/* an empty password would be an unauthenticated bind (RFC 4513 5.1.2) */
		mn_errf(err, errlen, "%s: empty password", path);
		free(pw);
		return MN_ERR_FORMAT;
	}
	*ret = pw;
	*ret_len = len;
	return MN_OK;
}

int mn_ldap_open(const struct mn_conf *conf, struct mn_ldap **ret, char *err, size_t errlen)
{
	struct mn_ldap *l = NULL;
	const char *uri, *base, *attr, *bind_dn, *pwfile, *ca;
	struct timeval tv;
	char *pw = NULL;
	size_t pwlen = 0;
	unsigned timeout = 3;
	int starttls = 0, ldaps, v3 = LDAP_VERSION3, rc, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (conf == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	uri = mn_conf_get(conf, "ldap", "uri");
	base = mn_conf_get(conf, "ldap", "base");
	attr = mn_conf_get(conf, "ldap", "user_attribute");
	bind_dn = mn_conf_get(conf, "ldap", "bind_dn");
	pwfile = mn_conf_get(conf, "ldap", "bind_password_file");
	ca = mn_conf_get(conf, "ldap", "tls_ca_file");
	if (uri == NULL || base == NULL || attr == NULL || bind_dn == NULL || pwfile == NULL ||
	    ca == NULL || mn_conf_get_bool(conf, "ldap", "starttls", &starttls) != MN_OK ||
	    mn_conf_get_uint(conf, "ldap", "timeout", &timeout) != MN_OK) {
		mn_errf(err, errlen, "[ldap] settings missing");
		return MN_ERR_INVALID_ARG;
	}
	ldaps = strncmp(uri, "ldaps://", 8) == 0;
	if (!ldaps && strncmp(uri, "ldap://", 7) != 0 && strncmp(uri, "ldapi://", 8) != 0) {
		mn_errf(err, errlen, "[ldap] uri must start with ldap://, ldaps:// or ldapi://");
		return MN_ERR_INVALID_ARG;
	}
	if (base[0] == '\0') {
		mn_errf(err, errlen, "[ldap] base is not set");
		return MN_ERR_INVALID_ARG;
	}
	if (starttls && ldaps) {
		mn_errf(err, errlen, "[ldap] starttls = yes needs an ldap:// uri, not ldaps://");
		return MN_ERR_INVALID_ARG;
	}
	if (!valid_attr(attr)) {
		mn_errf(err, errlen, "[ldap] user_attribute is not an attribute name");
		return MN_ERR_INVALID_ARG;
	}
	if (bind_dn[0] != '\0' && pwfile[0] == '\0') {
		mn_errf(err, errlen, "[ldap] bind_dn needs bind_password_file");
		return MN_ERR_INVALID_ARG;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL || (l->uri = strdup(uri)) == NULL ||
	    (l->base = strdup(base)) == NULL) {
		r = MN_ERR_NOMEM;
		mn_errf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(l->attr, sizeof(l->attr), "%s", attr);
	l->timeout = timeout;
	if ((rc = ldap_initialize(&l->ld, uri)) != LDAP_SUCCESS) {
		l->ld = NULL;
		ld_err(l, rc, "cannot use this uri", err, errlen);
		r = MN_ERR_INVALID_ARG;
		goto out;
	}
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = 0;
	if (ldap_set_option(l->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(l->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS) {
		mn_errf(err, errlen, "%s: cannot set the connection options", uri);
		r = MN_ERR_INTERNAL;
		goto out;
	}
	if (ldaps || starttls) {
		int demand = LDAP_OPT_X_TLS_DEMAND, is_server = 0;

		if (ldap_set_option(l->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) !=
		        LDAP_OPT_SUCCESS ||
		    (ca[0] != '\0' &&
		     ldap_set_option(l->ld, LDAP_OPT_X_TLS_CACERTFILE, ca) != LDAP_OPT_SUCCESS) ||
		    ldap_set_option(l->ld, LDAP_OPT_X_TLS_NEWCTX, &is_server) != LDAP_OPT_SUCCESS) {
			mn_errf(err, errlen, "%s: cannot set up TLS (tls_ca_file %s)", uri,
			        ca[0] ? ca : "not set");
			r = MN_ERR_INVALID_ARG;
			goto out;
		}
	}
	if (starttls && (rc = ldap_start_tls_s(l->ld, NULL, NULL)) != LDAP_SUCCESS) {
		ld_err(l, rc, "StartTLS failed", err, errlen);
		r = MN_ERR_UNAVAILABLE;
		goto out;
	}
	if (bind_dn[0] != '\0') {
		struct berval cred;

		if ((r = read_password(pwfile, &pw, &pwlen, err, errlen)) != MN_OK)
			goto out;
		cred.bv_val = pw;
		cred.bv_len = pwlen;
		rc = ldap_sasl_bind_s(l->ld, bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		explicit_bzero(pw, pwlen);
		if (rc != LDAP_SUCCESS) {
			char what[300], dn[256];

			sanitize(bind_dn, strlen(bind_dn), dn, sizeof(dn));
			snprintf(what, sizeof(what), "bind as %s failed", dn);
			ld_err(l, rc, what, err, errlen);
			r = MN_ERR_UNAVAILABLE;
			goto out;
		}
	} else if ((rc = ldap_connect(l->ld)) != LDAP_SUCCESS) {
		ld_err(l, rc, "cannot connect", err, errlen);
		r = MN_ERR_UNAVAILABLE;
		goto out;
	}
	*ret = l;
	l = NULL;
	r = MN_OK;
out:
	if (pw != NULL) {
		explicit_bzero(pw, pwlen);
		free(pw);
	}
	mn_ldap_close(&l);
	return r;
}

struct fetch {
	struct mn_ldap *l;
	const char *user; /* NULL: everyone */
	struct mn_store *store;
	size_t skipped;
	mn_ldap_note_fn note;
	void *ctx;
};

static void note(struct fetch *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct fetch *f, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	f->skipped++;
	if (f->note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	f->note(f->ctx, text);
}

/* One entry: its user and each of its records. Only MN_ERR_NOMEM stops the fetch. */
static int take_entry(struct fetch *f, LDAPMessage *e)
{
	struct berval **uv = NULL, **rv = NULL;
	char *rawdn = ldap_get_dn(f->l->ld, e), dn[256], user[33], *val = NULL, why[300];
	const char *reason = NULL;
	int i, nu, nr, r = MN_OK;

	sanitize(rawdn, rawdn != NULL ? strlen(rawdn) : 0, dn, sizeof(dn));
	uv = ldap_get_values_len(f->l->ld, e, f->l->attr);
	nu = uv != NULL ? ldap_count_values_len(uv) : 0;
	if (nu != 1) {
		note(f, "%s: %d values of %s (exactly one needed): entry skipped", dn, nu,
		     f->l->attr);
		goto out;
	}
	if (!mn_store_user_valid_n(uv[0]->bv_val, uv[0]->bv_len)) {
		note(f, "%s: %s is not a valid user name: entry skipped", dn, f->l->attr);
		goto out;
	}
	memcpy(user, uv[0]->bv_val, uv[0]->bv_len);
	user[uv[0]->bv_len] = '\0';
	if (f->user != NULL && strcmp(user, f->user) != 0) {
		/* the directory matched without regard to case: the name must be exact */
		note(f, "%s: %s is %s, not %s: entry skipped", dn, f->l->attr, user, f->user);
		goto out;
	}
	rv = ldap_get_values_len(f->l->ld, e, MN_LDAP_ATTRIBUTE);
	nr = rv != NULL ? ldap_count_values_len(rv) : 0;
	if (nr > MN_LDAP_VALUES_MAX) {
		note(f, "%s: %d values of %s (at most %d): entry skipped", dn, nr,
		     MN_LDAP_ATTRIBUTE, MN_LDAP_VALUES_MAX);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		if (mn_ldap_check_value(rv[i]->bv_val, rv[i]->bv_len, &reason) != MN_OK) {
			note(f, "%s: %s value %d: %s: value skipped", dn, MN_LDAP_ATTRIBUTE, i + 1,
			     reason);
			continue;
		}
		if ((val = malloc(rv[i]->bv_len + 1)) == NULL) {
			r = MN_ERR_NOMEM;
			goto out;
		}
		memcpy(val, rv[i]->bv_val, rv[i]->bv_len);
		val[rv[i]->bv_len] = '\0';
		r = mn_store_add_record(f->store, user, val, why, sizeof(why));
		free(val);
		val = NULL;
		if (r == MN_ERR_NOMEM)
			goto out;
		if (r != MN_OK)
			note(f, "%s: %s value %d: %s: value skipped", dn, MN_LDAP_ATTRIBUTE, i + 1,
			     why);
		r = MN_OK;
	}
out:
	ldap_value_free_len(uv);
	ldap_value_free_len(rv);
	ldap_memfree(rawdn);
	return r;
}

int mn_ldap_fetch(struct mn_ldap *l, const char *user, struct mn_store **ret, size_t *ret_skipped,
                  mn_ldap_note_fn note_fn, void *ctx, char *err, size_t errlen)
{
	struct fetch f = {l, user, NULL, 0, note_fn, ctx};
	struct berval cookie = {0, NULL};
	LDAPMessage *res = NULL, *e;
	char filter[512];
	char *attrs[3];
	size_t entries = 0;
	int rc, r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (l == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if (user != NULL && !mn_store_user_valid_n(user, strlen(user))) {
		mn_errf(err, errlen, "not a valid user name");
		return MN_ERR_INVALID_ARG;
	}
	if ((r = mn_ldap_filter(l->attr, user, filter, sizeof(filter))) != MN_OK) {
		mn_errf(err, errlen, "cannot build the search filter");
		return r;
	}
	attrs[0] = l->attr;
	attrs[1] = (char *)MN_LDAP_ATTRIBUTE;
	attrs[2] = NULL;
	if ((r = mn_store_new(&f.store)) != MN_OK)
		goto out;
	for (;;) {
		LDAPControl *page = NULL, *ctrls[2] = {NULL, NULL}, **sctrls = NULL, *pr;
		struct timeval tv = {(time_t)l->timeout, 0};
		int code = LDAP_SUCCESS;

		if (user == NULL) {
			rc = ldap_create_page_control(l->ld, MN_LDAP_PAGE_SIZE,
			                              cookie.bv_val != NULL ? &cookie : NULL, 0,
			                              &page);
			if (rc != LDAP_SUCCESS) {
				ld_err(l, rc, "cannot build the paged results control", err,
				       errlen);
				r = MN_ERR_INTERNAL;
				goto out;
			}
			ctrls[0] = page;
		}
		rc = ldap_search_ext_s(l->ld, l->base, LDAP_SCOPE_SUBTREE, filter, attrs, 0,
		                       user == NULL ? ctrls : NULL, NULL, &tv, LDAP_NO_LIMIT, &res);
		ldap_control_free(page);
		if (rc == LDAP_SUCCESS)
			rc = ldap_parse_result(l->ld, res, &code, NULL, NULL, NULL, &sctrls, 0);
		if (rc == LDAP_SUCCESS)
			rc = code;
		if (rc != LDAP_SUCCESS) {
			ldap_controls_free(sctrls);
			ld_err(l, rc, "search failed", err, errlen);
			r = MN_ERR_UNAVAILABLE;
			goto out;
		}
		for (e = ldap_first_entry(l->ld, res); e != NULL; e = ldap_next_entry(l->ld, e)) {
			if (++entries > MN_LDAP_ENTRIES_MAX) {
				ldap_controls_free(sctrls);
				mn_errf(err, errlen, "%s: more than %d entries", l->uri,
				        MN_LDAP_ENTRIES_MAX);
				r = MN_ERR_TOO_LARGE;
				goto out;
			}
			if ((r = take_entry(&f, e)) != MN_OK) {
				ldap_controls_free(sctrls);
				mn_errf(err, errlen, "out of memory");
				goto out;
			}
		}
		ldap_msgfree(res);
		res = NULL;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (user != NULL)
			break;
		/* no control in the answer: the server does not page, everything came at once */
		pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, sctrls, NULL);
		if (pr != NULL) {
			ber_int_t estimate = 0;

			rc = ldap_parse_pageresponse_control(l->ld, pr, &estimate, &cookie);
			if (rc != LDAP_SUCCESS) {
				ldap_controls_free(sctrls);
				ld_err(l, rc, "bad paged results control", err, errlen);
				r = MN_ERR_UNAVAILABLE;
				goto out;
			}
		}
		ldap_controls_free(sctrls);
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
	if (ret_skipped != NULL)
		*ret_skipped = f.skipped;
	*ret = f.store;
	f.store = NULL;
	r = MN_OK;
out:
	ber_memfree(cookie.bv_val);
	ldap_msgfree(res);
	mn_store_free(&f.store);
	return r;
}
