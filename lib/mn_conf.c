#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_conf.h"
#include "mn_err.h"
#include "mn_file.h"

#ifndef MN_DEFAULT_PKCS11_MODULE
#define MN_DEFAULT_PKCS11_MODULE "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"
#endif
#ifndef MN_DEFAULT_HELPER
#define MN_DEFAULT_HELPER "/usr/libexec/mynumber/mynumber-helper"
#endif
#ifndef MN_SYSCONFDIR
#define MN_SYSCONFDIR "/etc"
#endif
#ifndef MN_PLUGINDIR
#define MN_PLUGINDIR "/usr/lib/mynumber/revocation"
#endif
#ifndef MN_STATEDIR
#define MN_STATEDIR "/var/lib/mynumber"
#endif
#ifndef MN_LOCALEDIR
#define MN_LOCALEDIR "/usr/share/locale"
#endif

#define CONF_MAX_SIZE (64 * 1024)
#define CONF_MAX_LINE 1024
#define OID_MAX_ARC   39 /* decimal digits of one arc (128-bit UUID arcs need 39) */

enum conf_type {
	T_PATH,     /* absolute path */
	T_UINT,     /* decimal, min..max */
	T_BOOL,     /* yes/no/true/false/1/0 */
	T_ENUM,     /* one of choices */
	T_OIDS,     /* comma-separated dotted OIDs */
	T_BACKENDS, /* comma-separated from {crl, none}, none only alone */
	T_ELEMENTS, /* comma-separated NAMESPACE:IDENTIFIER, never individual_number_unicode */
	T_NAME,     /* a user or group name: [A-Za-z0-9_][A-Za-z0-9_.-]{0,31} */
	T_TEXT,     /* free text (a DN, a URI): no control characters */
};

struct conf_key {
	const char *section;
	const char *key;
	enum conf_type type;
	const char *def;
	unsigned min, max;          /* T_UINT */
	const char *const *choices; /* T_ENUM, NULL-terminated */
	int empty_ok;               /* the value may be empty */
};

static const char *const policy_choices[] = {"require", "soft", NULL};
static const char *const phone_choices[] = {"auto", "yes", "no", NULL};
static const char *const ble_choices[] = {"auto", "no", NULL};
static const char *const backend_choices[] = {"file", "ldap", NULL};

static const struct conf_key schema[] = {
    {.section = "",
     .key = "trust_anchors",
     .type = T_PATH,
     .def = MN_SYSCONFDIR "/mynumber/trust-anchors"},
    {.section = "", .key = "store", .type = T_PATH, .def = MN_SYSCONFDIR "/mynumber/enrollments"},
    {.section = "", .key = "pkcs11_module", .type = T_PATH, .def = MN_DEFAULT_PKCS11_MODULE},
    {.section = "", .key = "opensc_conf", .type = T_PATH, .def = "", .empty_ok = 1},
    {.section = "", .key = "card_wait", .type = T_UINT, .def = "30", .min = 0, .max = 600},
    {.section = "", .key = "min_pin_tries", .type = T_UINT, .def = "2", .min = 1, .max = 3},
    {.section = "", .key = "timeout", .type = T_UINT, .def = "20", .min = 1, .max = 300},
    {.section = "", .key = "policy_oids", .type = T_OIDS, .def = "1.2.392.200149.8.5.1.3.30"},
    {.section = "", .key = "helper", .type = T_PATH, .def = MN_DEFAULT_HELPER},
    {.section = "", .key = "allow_phone", .type = T_BOOL, .def = "yes"},
    {.section = "", .key = "locale_dir", .type = T_PATH, .def = MN_LOCALEDIR},
    {.section = "", .key = "warm_login", .type = T_BOOL, .def = "yes"},
    {.section = "", .key = "state_dir", .type = T_PATH, .def = MN_STATEDIR},
    {.section = "revocation", .key = "backends", .type = T_BACKENDS, .def = "crl"},
    {.section = "revocation",
     .key = "policy",
     .type = T_ENUM,
     .def = "require",
     .choices = policy_choices},
    {.section = "revocation", .key = "plugin_dir", .type = T_PATH, .def = MN_PLUGINDIR},
    {.section = "revocation", .key = "rebind_renewed", .type = T_BOOL, .def = "no"},
    {.section = "revocation", .key = "timeout", .type = T_UINT, .def = "5", .min = 1, .max = 60},
    {.section = "revocation",
     .key = "max_staleness",
     .type = T_UINT,
     .def = "86400",
     .min = 0,
     .max = 31536000},
    {.section = "phone", .key = "phone", .type = T_ENUM, .def = "auto", .choices = phone_choices},
    {.section = "phone", .key = "mdoc_trust_anchors", .type = T_PATH, .def = "", .empty_ok = 1},
    {.section = "phone",
     .key = "mdoc_elements",
     .type = T_ELEMENTS,
     .def = "org.iso.23220.1.jp:full_name_unicode,org.iso.23220.1.jp:birth_date_unicode"},
    {.section = "phone", .key = "mdoc_allow_device_mac", .type = T_BOOL, .def = "no"},
    {.section = "phone", .key = "mdoc_skew", .type = T_UINT, .def = "300", .min = 0, .max = 3600},
    {.section = "phone", .key = "ble", .type = T_ENUM, .def = "auto", .choices = ble_choices},
    {.section = "phone", .key = "ble_bus", .type = T_TEXT, .def = "", .empty_ok = 1},
    {.section = "phone", .key = "ble_wait", .type = T_UINT, .def = "20", .min = 1, .max = 120},
    {.section = "",
     .key = "store_backend",
     .type = T_ENUM,
     .def = "file",
     .choices = backend_choices},
    {.section = "accounts",
     .key = "uid_min",
     .type = T_UINT,
     .def = "70000",
     .min = 1000,
     .max = 2147483647},
    {.section = "accounts",
     .key = "uid_max",
     .type = T_UINT,
     .def = "79999",
     .min = 1000,
     .max = 2147483647},
    {.section = "accounts", .key = "home", .type = T_PATH, .def = "/home/%u"},
    {.section = "accounts", .key = "shell", .type = T_PATH, .def = "/bin/bash"},
    {.section = "accounts", .key = "group", .type = T_NAME, .def = "", .empty_ok = 1},
    {.section = "accounts",
     .key = "group_gid",
     .type = T_UINT,
     .def = "0",
     .min = 0,
     .max = 2147483647},
    {.section = "accounts", .key = "nss_map", .type = T_PATH, .def = MN_STATEDIR "/nss.db"},
    {.section = "ldap", .key = "uri", .type = T_TEXT, .def = "", .empty_ok = 1},
    {.section = "ldap", .key = "base", .type = T_TEXT, .def = "", .empty_ok = 1},
    {.section = "ldap", .key = "bind_dn", .type = T_TEXT, .def = "", .empty_ok = 1},
    {.section = "ldap", .key = "bind_password_file", .type = T_PATH, .def = "", .empty_ok = 1},
    {.section = "ldap", .key = "user_attribute", .type = T_NAME, .def = "uid"},
    {.section = "ldap", .key = "starttls", .type = T_BOOL, .def = "no"},
    {.section = "ldap", .key = "tls_ca_file", .type = T_PATH, .def = "", .empty_ok = 1},
    {.section = "ldap", .key = "timeout", .type = T_UINT, .def = "3", .min = 1, .max = 60},
    {.section = "ldap",
     .key = "cache_max_age",
     .type = T_UINT,
     .def = "86400",
     .min = 0,
     .max = 31536000},
    {.section = "ldap", .key = "cache_dir", .type = T_PATH, .def = MN_STATEDIR "/ldap-cache"},
};

#define N_KEYS (sizeof(schema) / sizeof(schema[0]))

static const char *const sections[] = {"", "revocation", "phone", "accounts", "ldap"};

#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* [revocation.NAME]: a backend's own settings, checked by the backend when it is loaded */
#define MAX_BACKEND_SECTIONS 8
#define MAX_BACKEND_KEYS     32
struct backend_section {
	char name[33];
	char *keys[MAX_BACKEND_KEYS];
	char *vals[MAX_BACKEND_KEYS];
	size_t n;
};

struct mn_conf {
	char *val[N_KEYS]; /* NULL: not set, the default applies */
	struct backend_section be[MAX_BACKEND_SECTIONS];
	size_t nbe;
};

#define BACKEND_SECTION_BASE 1000 /* section index of be[0] while parsing */

static int find_key(const char *section, const char *key)
{
	size_t i;

	if (section == NULL || key == NULL)
		return -1;
	for (i = 0; i < N_KEYS; i++)
		if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0)
			return (int)i;
	return -1;
}

/* Decimal digits only, no sign, at most max; *out written on success. */
static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return MN_ERR_FORMAT;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return MN_ERR_FORMAT;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return MN_ERR_FORMAT;
	}
	*out = (unsigned)v;
	return MN_OK;
}

static int parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0) {
		*out = 1;
		return MN_OK;
	}
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return MN_OK;
	}
	return MN_ERR_FORMAT;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next item of a comma-separated list at *p, blanks trimmed; 0 when none is left. */
static int next_item(const char **p, const char **item, size_t *n)
{
	const char *s = *p, *e;

	if (s == NULL)
		return 0;
	e = strchr(s, ',');
	if (e == NULL) {
		*p = NULL;
		e = s + strlen(s);
	} else {
		*p = e + 1;
	}
	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	*item = s;
	*n = (size_t)(e - s);
	return 1;
}

/* A dotted OID: two or more arcs, first 0..2, second <= 39 under 0 and 1, no leading zeros. */
static int oid_valid(const char *s, size_t n)
{
	size_t i = 0, start, arcs = 0;
	unsigned first = 0, second;

	while (i <= n) {
		start = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > OID_MAX_ARC || (s[start] == '0' && i - start > 1))
			return 0;
		if (i < n && s[i] != '.')
			return 0;
		if (arcs == 0) {
			if (i - start > 1 || s[start] > '2')
				return 0;
			first = (unsigned)(s[start] - '0');
		} else if (arcs == 1 && first < 2) {
			if (i - start > 2)
				return 0;
			second = 0;
			for (; start < i; start++)
				second = second * 10 + (unsigned)(s[start] - '0');
			if (second > 39)
				return 0;
		}
		arcs++;
		i++; /* skip the dot (or step past the end) */
	}
	return arcs >= 2;
}

/* Check value against k; on failure reason[] says why. */
#define ELEMENTS_MAX     64
#define ELEMENT_NAME_MAX 256
#define FORBIDDEN_ID     "individual_number_unicode"

/* NAMESPACE:IDENTIFIER items (split at the last colon), no duplicate, never the number. */
static int check_elements(const struct conf_key *k, const char *v, char *reason, size_t rlen)
{
	const char *p = v, *item, *q, *it2, *colon;
	size_t n, n2, count = 0, j;
	int dup;

	while (next_item(&p, &item, &n)) {
		colon = NULL;
		for (j = 0; j < n; j++)
			if (item[j] == ':')
				colon = item + j;
		if (++count > ELEMENTS_MAX) {
			snprintf(reason, rlen, "'%s': at most %d elements", k->key, ELEMENTS_MAX);
			return MN_ERR_FORMAT;
		}
		if (colon == NULL || colon == item || (size_t)(colon - item) + 1 == n ||
		    (size_t)(colon - item) > ELEMENT_NAME_MAX ||
		    n - (size_t)(colon - item) - 1 > ELEMENT_NAME_MAX) {
			snprintf(reason, rlen, "'%s': '%.*s' is not NAMESPACE:IDENTIFIER", k->key,
			         (int)(n > 64 ? 64 : n), item);
			return MN_ERR_FORMAT;
		}
		if (n - (size_t)(colon - item) - 1 == sizeof(FORBIDDEN_ID) - 1 &&
		    memcmp(colon + 1, FORBIDDEN_ID, sizeof(FORBIDDEN_ID) - 1) == 0) {
			snprintf(
			    reason, rlen,
			    "'%s': individual_number_unicode is never requested: the My Number "
			    "Act forbids collecting the individual number for login",
			    k->key);
			return MN_ERR_FORMAT;
		}
		q = v;
		dup = 0;
		while (next_item(&q, &it2, &n2) && it2 < item)
			if (n2 == n && memcmp(it2, item, n) == 0)
				dup = 1;
		if (dup) {
			snprintf(reason, rlen, "'%s': '%.*s' listed twice", k->key,
			         (int)(n > 64 ? 64 : n), item);
			return MN_ERR_FORMAT;
		}
	}
	if (count == 0) {
		snprintf(reason, rlen, "'%s' names no element", k->key);
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

static int check_value(const struct conf_key *k, const char *v, char *reason, size_t rlen)
{
	const char *p = v, *item;
	size_t n, count = 0;
	unsigned u;
	int b, dup = 0, none = 0;

	if (strchr(v, '#') != NULL || strchr(v, ';') != NULL) {
		/* comments go on their own lines: "path # note" must not become the path */
		snprintf(reason, rlen, "'%s': comments are not allowed after a value", k->key);
		return MN_ERR_FORMAT;
	}
	if (*v == '\0') {
		if (k->empty_ok)
			return MN_OK;
		snprintf(reason, rlen, "'%s' must not be empty", k->key);
		return MN_ERR_FORMAT;
	}
	switch (k->type) {
	case T_PATH:
		if (v[0] != '/') {
			snprintf(reason, rlen, "'%s' must be an absolute path", k->key);
			return MN_ERR_FORMAT;
		}
		return MN_OK;
	case T_UINT:
		if (parse_uint(v, k->max, &u) != MN_OK || u < k->min) {
			snprintf(reason, rlen, "'%s' must be an integer from %u to %u", k->key,
			         k->min, k->max);
			return MN_ERR_FORMAT;
		}
		return MN_OK;
	case T_BOOL:
		if (parse_bool(v, &b) != MN_OK) {
			snprintf(reason, rlen, "'%s' must be yes, no, true, false, 1 or 0", k->key);
			return MN_ERR_FORMAT;
		}
		return MN_OK;
	case T_ENUM:
		for (n = 0; k->choices[n] != NULL; n++)
			if (strcmp(v, k->choices[n]) == 0)
				return MN_OK;
		count = (size_t)snprintf(reason, rlen, "'%s' must be one of:", k->key);
		for (n = 0; k->choices[n] != NULL && count < rlen; n++)
			count += (size_t)snprintf(reason + count, rlen - count, "%s %s",
			                          n > 0 ? "," : "", k->choices[n]);
		return MN_ERR_FORMAT;
	case T_OIDS:
		while (next_item(&p, &item, &n)) {
			if (!oid_valid(item, n)) {
				snprintf(reason, rlen, "'%s': '%.*s' is not a dotted OID", k->key,
				         (int)(n > 64 ? 64 : n), item);
				return MN_ERR_FORMAT;
			}
		}
		return MN_OK;
	case T_BACKENDS:
		/* backend names: the plugins (crl, ocsp, http, ...) are checked when loaded */
		while (next_item(&p, &item, &n)) {
			const char *q = v;
			const char *it2;
			size_t n2, j;
			count++;
			if (n == 4 && memcmp(item, "none", 4) == 0)
				none = 1;
			for (j = 0; j < n; j++)
				if (!((item[j] >= 'a' && item[j] <= 'z') ||
				      (item[j] >= '0' && item[j] <= '9') || item[j] == '_'))
					break;
			if (n == 0 || n > 32 || j < n) {
				snprintf(reason, rlen, "'%s': bad backend name '%.*s'", k->key,
				         (int)(n > 64 ? 64 : n), item);
				return MN_ERR_FORMAT;
			}
			/* listed twice? (count earlier occurrences) */
			dup = 0;
			while (next_item(&q, &it2, &n2) && it2 < item)
				if (n2 == n && memcmp(it2, item, n) == 0)
					dup = 1;
			if (dup) {
				snprintf(reason, rlen, "'%s': backend '%.*s' listed twice", k->key,
				         (int)n, item);
				return MN_ERR_FORMAT;
			}
		}
		if (none && count > 1) {
			snprintf(reason, rlen, "'%s': 'none' must be the only backend", k->key);
			return MN_ERR_FORMAT;
		}
		return MN_OK;
	case T_ELEMENTS:
		return check_elements(k, v, reason, rlen);
	case T_NAME:
		for (n = 0; v[n] != '\0'; n++)
			if (n >= 32 ||
			    !((v[n] >= 'A' && v[n] <= 'Z') || (v[n] >= 'a' && v[n] <= 'z') ||
			      (v[n] >= '0' && v[n] <= '9') || v[n] == '_' ||
			      (n > 0 && (v[n] == '.' || v[n] == '-')))) {
				snprintf(reason, rlen,
				         "'%s' must be a name of 1 to 32 of A-Z a-z 0-9 _ . -",
				         k->key);
				return MN_ERR_FORMAT;
			}
		return MN_OK;
	case T_TEXT:
		return MN_OK; /* control characters are refused for every line */
	}
	snprintf(reason, rlen, "'%s': internal error", k->key);
	return MN_ERR_INTERNAL;
}

/* Open PATH safely and read it whole (at most CONF_MAX_SIZE bytes). */
static int read_conf_file(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	return mn_file_read_private(path, CONF_MAX_SIZE, S_IWGRP | S_IWOTH, ret, ret_len, err,
	                            errlen);
}

/*
 * One line (NUL-terminated, no newline). *section is the index of the current section;
 * first_line[] the line each key was set on. On failure reason[] says why.
 */
/* [revocation.NAME]: NAME is a backend name; its keys are the backend's to check. */
static int open_backend_section(struct mn_conf *c, const char *name, size_t *section, char *reason,
                                size_t rlen)
{
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_'))
			break;
	if (n == 0 || n > 32 || i < n) {
		snprintf(reason, rlen, "bad backend section [revocation.%.64s]", name);
		return MN_ERR_FORMAT;
	}
	for (i = 0; i < c->nbe; i++)
		if (strcmp(c->be[i].name, name) == 0) {
			snprintf(reason, rlen, "section [revocation.%s] appears twice", name);
			return MN_ERR_FORMAT;
		}
	if (c->nbe == MAX_BACKEND_SECTIONS) {
		snprintf(reason, rlen, "too many backend sections");
		return MN_ERR_TOO_LARGE;
	}
	strcpy(c->be[c->nbe].name, name);
	*section = BACKEND_SECTION_BASE + c->nbe++;
	return MN_OK;
}

static int backend_setting(struct backend_section *b, const char *key, const char *val,
                           char *reason, size_t rlen)
{
	size_t i;

	for (i = 0; key[i] != '\0'; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
		      key[i] == '_'))
			break;
	if (i == 0 || key[i] != '\0' || i > 64) {
		snprintf(reason, rlen, "bad key '%.64s' in [revocation.%s]", key, b->name);
		return MN_ERR_FORMAT;
	}
	if (strchr(val, '#') != NULL || strchr(val, ';') != NULL) {
		snprintf(reason, rlen, "'%.64s': comments are not allowed after a value", key);
		return MN_ERR_FORMAT;
	}
	for (i = 0; i < b->n; i++)
		if (strcmp(b->keys[i], key) == 0) {
			snprintf(reason, rlen, "'%.64s' set twice in [revocation.%s]", key,
			         b->name);
			return MN_ERR_FORMAT;
		}
	if (b->n == MAX_BACKEND_KEYS) {
		snprintf(reason, rlen, "too many settings in [revocation.%s]", b->name);
		return MN_ERR_TOO_LARGE;
	}
	if ((b->keys[b->n] = strdup(key)) == NULL || (b->vals[b->n] = strdup(val)) == NULL) {
		free(b->keys[b->n]);
		snprintf(reason, rlen, "out of memory");
		return MN_ERR_NOMEM;
	}
	b->n++;
	return MN_OK;
}

static int parse_line(struct mn_conf *c, char *line, unsigned lineno, size_t *section,
                      int *seen_section, unsigned *first_line, char *reason, size_t rlen)
{
	char *s = line, *e, *eq, *key, *val;
	size_t i;
	int k, r;

	for (e = s; *e != '\0'; e++) {
		unsigned char ch = (unsigned char)*e;
		if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7F) {
			snprintf(reason, rlen, "control character 0x%02X", ch);
			return MN_ERR_FORMAT;
		}
	}
	while (is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	if (strchr(s, '\r') != NULL) {
		snprintf(reason, rlen, "control character 0x0D");
		return MN_ERR_FORMAT;
	}
	if (*s == '\0' || *s == '#' || *s == ';')
		return MN_OK;

	if (*s == '[') {
		if (e[-1] != ']') {
			snprintf(reason, rlen, "section header without closing ']'");
			return MN_ERR_FORMAT;
		}
		*--e = '\0';
		s++;
		while (is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			*--e = '\0';
		if (strncmp(s, "revocation.", 11) == 0)
			return open_backend_section(c, s + 11, section, reason, rlen);
		for (i = 1; i < N_SECTIONS; i++) /* the main section has no header */
			if (strcmp(sections[i], s) == 0)
				break;
		if (i == N_SECTIONS) {
			snprintf(reason, rlen, "unknown section [%.64s]", s);
			return MN_ERR_FORMAT;
		}
		if (seen_section[i]) {
			snprintf(reason, rlen, "section [%s] appears twice", s);
			return MN_ERR_FORMAT;
		}
		seen_section[i] = 1;
		*section = i;
		return MN_OK;
	}

	if ((eq = strchr(s, '=')) == NULL) {
		snprintf(reason, rlen, "expected 'key = value', '[section]' or a comment");
		return MN_ERR_FORMAT;
	}
	key = s;
	val = eq + 1;
	for (e = eq; e > key && is_blank(e[-1]); e--)
		;
	*e = '\0';
	while (is_blank(*val))
		val++;
	if (*key == '\0') {
		snprintf(reason, rlen, "missing key before '='");
		return MN_ERR_FORMAT;
	}
	if (*section >= BACKEND_SECTION_BASE)
		return backend_setting(&c->be[*section - BACKEND_SECTION_BASE], key, val, reason,
		                       rlen);
	if ((k = find_key(sections[*section], key)) < 0) {
		if (*section == 0)
			snprintf(reason, rlen, "unknown key '%.64s' in the main section", key);
		else
			snprintf(reason, rlen, "unknown key '%.64s' in section [%s]", key,
			         sections[*section]);
		return MN_ERR_FORMAT;
	}
	if (c->val[k] != NULL) {
		snprintf(reason, rlen, "'%s' set twice (first on line %u)", schema[k].key,
		         first_line[k]);
		return MN_ERR_FORMAT;
	}
	if ((r = check_value(&schema[k], val, reason, rlen)) != MN_OK)
		return r;
	if ((c->val[k] = strdup(val)) == NULL) {
		snprintf(reason, rlen, "out of memory");
		return MN_ERR_NOMEM;
	}
	first_line[k] = lineno;
	return MN_OK;
}

static int parse_conf(struct mn_conf *c, const char *path, const char *buf, size_t len, char *err,
                      size_t errlen)
{
	char line[CONF_MAX_LINE + 1], reason[256];
	unsigned first_line[N_KEYS], lineno = 0;
	int seen_section[N_SECTIONS];
	size_t pos = 0, n, section = 0;
	const char *nl;
	int r = MN_OK;

	memset(first_line, 0, sizeof(first_line));
	memset(seen_section, 0, sizeof(seen_section));
	while (pos < len) {
		lineno++;
		nl = memchr(buf + pos, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - (buf + pos)) : len - pos;
		if (n > CONF_MAX_LINE) {
			mn_errf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
			        CONF_MAX_LINE);
			r = MN_ERR_FORMAT;
			goto out;
		}
		if (memchr(buf + pos, '\0', n) != NULL) {
			mn_errf(err, errlen, "%s:%u: NUL byte", path, lineno);
			r = MN_ERR_FORMAT;
			goto out;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL);
		r = parse_line(c, line, lineno, &section, seen_section, first_line, reason,
		               sizeof(reason));
		if (r != MN_OK) {
			mn_errf(err, errlen, "%s:%u: %s", path, lineno, reason);
			goto out;
		}
	}
out:
	return r;
}

int mn_conf_new(struct mn_conf **ret)
{
	struct mn_conf *c;

	if (ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return MN_ERR_NOMEM;
	*ret = c;
	return MN_OK;
}

void mn_conf_free(struct mn_conf **c)
{
	size_t i;

	if (c == NULL || *c == NULL)
		return;
	for (i = 0; i < N_KEYS; i++)
		free((*c)->val[i]);
	for (i = 0; i < (*c)->nbe; i++) {
		size_t j;
		for (j = 0; j < (*c)->be[i].n; j++) {
			free((*c)->be[i].keys[j]);
			free((*c)->be[i].vals[j]);
		}
	}
	free(*c);
	*c = NULL;
}

/* Rules between keys. */
static int check_together(const struct mn_conf *c, const char *path, char *err, size_t errlen)
{
	unsigned lo = 0, hi = 0, gid = 0;
	const char *group = mn_conf_get(c, "accounts", "group");

	if (mn_conf_get_uint(c, "accounts", "uid_min", &lo) != MN_OK ||
	    mn_conf_get_uint(c, "accounts", "uid_max", &hi) != MN_OK ||
	    mn_conf_get_uint(c, "accounts", "group_gid", &gid) != MN_OK)
		return MN_ERR_INTERNAL;
	if (lo > hi) {
		mn_errf(err, errlen, "%s: [accounts] uid_min is above uid_max", path);
		return MN_ERR_FORMAT;
	}
	if ((group[0] != '\0') != (gid != 0)) {
		mn_errf(err, errlen, "%s: [accounts] group and group_gid go together", path);
		return MN_ERR_FORMAT;
	}
	if (gid != 0 && gid >= lo && gid <= hi) {
		mn_errf(err, errlen, "%s: [accounts] group_gid is inside the uid range", path);
		return MN_ERR_FORMAT;
	}
	if (strcmp(mn_conf_get(c, "", "store_backend"), "ldap") == 0 &&
	    (mn_conf_get(c, "ldap", "uri")[0] == '\0' ||
	     mn_conf_get(c, "ldap", "base")[0] == '\0')) {
		mn_errf(err, errlen, "%s: store_backend = ldap needs [ldap] uri and base", path);
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

int mn_conf_parse(const char *name, const char *buf, size_t len, struct mn_conf **ret, char *err,
                  size_t errlen)
{
	struct mn_conf *c = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (name == NULL || (buf == NULL && len > 0) || ret == NULL) {
		mn_errf(err, errlen, "invalid argument");
		return MN_ERR_INVALID_ARG;
	}
	if (len > CONF_MAX_SIZE) {
		mn_errf(err, errlen, "%s: larger than %d bytes", name, CONF_MAX_SIZE);
		return MN_ERR_TOO_LARGE;
	}
	if ((r = mn_conf_new(&c)) != MN_OK)
		goto out;
	if ((r = parse_conf(c, name, buf, len, err, errlen)) != MN_OK)
		goto out;
	if ((r = check_together(c, name, err, errlen)) != MN_OK)
		goto out;
	*ret = c;
	c = NULL;
out:
	if (r == MN_ERR_NOMEM)
		mn_errf(err, errlen, "%s: out of memory", name);
	mn_conf_free(&c);
	return r;
}

int mn_conf_load(const char *path, struct mn_conf **ret, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || ret == NULL) {
		mn_errf(err, errlen, "invalid argument");
		return MN_ERR_INVALID_ARG;
	}
	if ((r = read_conf_file(path, &buf, &len, err, errlen)) != MN_OK) {
		if (r == MN_ERR_NOMEM)
			mn_errf(err, errlen, "%s: out of memory", path);
		return r;
	}
	r = mn_conf_parse(path, buf, len, ret, err, errlen);
	free(buf);
	return r;
}

const char *mn_conf_get(const struct mn_conf *c, const char *section, const char *key)
{
	int k;

	if (c == NULL || (k = find_key(section, key)) < 0)
		return NULL;
	return c->val[k] != NULL ? c->val[k] : schema[k].def;
}

int mn_conf_get_uint(const struct mn_conf *c, const char *section, const char *key, unsigned *out)
{
	unsigned v;
	int k;

	if (c == NULL || out == NULL || (k = find_key(section, key)) < 0 ||
	    schema[k].type != T_UINT)
		return MN_ERR_INVALID_ARG;
	if (parse_uint(mn_conf_get(c, section, key), schema[k].max, &v) != MN_OK)
		return MN_ERR_INTERNAL;
	*out = v;
	return MN_OK;
}

int mn_conf_get_bool(const struct mn_conf *c, const char *section, const char *key, int *out)
{
	int k, v;

	if (c == NULL || out == NULL || (k = find_key(section, key)) < 0 ||
	    schema[k].type != T_BOOL)
		return MN_ERR_INVALID_ARG;
	if (parse_bool(mn_conf_get(c, section, key), &v) != MN_OK)
		return MN_ERR_INTERNAL;
	*out = v;
	return MN_OK;
}

int mn_conf_backend_settings(const struct mn_conf *c, const char *backend,
                             const char *const **ret_keys, const char *const **ret_vals,
                             size_t *ret_n)
{
	static const char *const none[1] = {NULL};
	size_t i;

	if (c == NULL || backend == NULL || ret_keys == NULL || ret_vals == NULL || ret_n == NULL)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < c->nbe; i++)
		if (strcmp(c->be[i].name, backend) == 0) {
			*ret_keys = (const char *const *)c->be[i].keys;
			*ret_vals = (const char *const *)c->be[i].vals;
			*ret_n = c->be[i].n;
			return MN_OK;
		}
	*ret_keys = none;
	*ret_vals = none;
	*ret_n = 0;
	return MN_OK;
}

const char *mn_conf_backend_get(const struct mn_conf *c, const char *backend, const char *key)
{
	const char *const *k, *const *v;
	size_t n, i;

	if (mn_conf_backend_settings(c, backend, &k, &v, &n) != MN_OK)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(k[i], key) == 0)
			return v[i];
	return NULL;
}
