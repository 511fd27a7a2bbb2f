/*
 * Shared by verify-mdoc and read-mdoc: IACA certificates from a PEM file, and the verified
 * elements of an mdoc as JSON (namespace -> element -> value).
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mn_b64.h"
#include "mn_err.h"
#include "mdoc/mn_cbor.h"
#include "mdoc/mn_mdoc.h"

#include "mdoc_json.h"

#define MAX_DEPTH 32

STACK_OF(X509) *mdoc_read_certs(const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	FILE *f = fopen(path, "r");
	X509 *x;

	if (f == NULL || sk == NULL) {
		if (f != NULL)
			fclose(f);
		sk_X509_free(sk);
		return NULL;
	}
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x))
			X509_free(x);
	fclose(f);
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

/*
 * The JSON document is built in memory and written only once it is complete: a value that
 * cannot be shown leaves stdout empty (exit 1), never half an object.
 */
struct out {
	char *p;
	size_t n, cap;
	int err;
};

#define OUT_MAX (8u * MN_CBOR_MAX_INPUT) /* base64 and escapes of a 1 MiB response fit */

static void out_mem(struct out *o, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (o->err != MN_OK)
		return;
	if (n > OUT_MAX - o->n) {
		o->err = MN_ERR_TOO_LARGE;
		return;
	}
	if (o->n + n > o->cap) {
		cap = o->cap ? o->cap : 4096;
		while (cap < o->n + n)
			cap *= 2;
		if ((p = realloc(o->p, cap)) == NULL) {
			o->err = MN_ERR_NOMEM;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void out_s(struct out *o, const char *s)
{
	out_mem(o, s, strlen(s));
}

static void out_c(struct out *o, char ch)
{
	out_mem(o, &ch, 1);
}

static void json_str(struct out *o, const uint8_t *s, size_t n)
{
	char esc[8];
	size_t i;

	out_c(o, '"');
	for (i = 0; i < n; i++) {
		uint8_t ch = s[i];

		if (ch == '"' || ch == '\\') {
			out_c(o, '\\');
			out_c(o, (char)ch);
		} else if (ch == '\n') {
			out_s(o, "\\n");
		} else if (ch == '\r') {
			out_s(o, "\\r");
		} else if (ch == '\t') {
			out_s(o, "\\t");
		} else if (ch < 0x20 || ch == 0x7F) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			out_s(o, esc);
		} else {
			out_c(o, (char)ch);
		}
	}
	out_c(o, '"');
}

static int json_b64(struct out *o, const uint8_t *b, size_t n)
{
	size_t cap = mn_b64_encoded_len(n) + 1;
	char *s;
	int r;

	if (cap == 1 && n != 0)
		return MN_ERR_TOO_LARGE;
	if ((s = malloc(cap)) == NULL)
		return MN_ERR_NOMEM;
	if ((r = mn_b64_encode(b, n, s, cap, NULL)) == MN_OK) {
		out_c(o, '"');
		out_s(o, s);
		out_c(o, '"');
	}
	free(s);
	return r;
}

/* A number as JSON, whatever LC_NUMERIC says (main() calls setlocale). */
static void json_double(struct out *o, double d)
{
	char num[64], *p;
	const char *dp = localeconv()->decimal_point;
	size_t dpl = dp != NULL ? strlen(dp) : 0;

	snprintf(num, sizeof(num), "%.17g", d);
	if (dpl > 0 && !(dpl == 1 && dp[0] == '.') && (p = strstr(num, dp)) != NULL) {
		*p = '.';
		memmove(p + 1, p + dpl, strlen(p + dpl) + 1);
	}
	out_s(o, num);
}

static int json_value(struct out *o, const cbor_item_t *v, int depth);

static int json_key(struct out *o, const cbor_item_t *k)
{
	char num[32];
	int64_t i;

	if (cbor_isa_string(k) && cbor_string_is_definite(k)) {
		json_str(o, cbor_string_handle(k), cbor_string_length(k));
		return MN_OK;
	}
	if (mn_cbor_get_int(k, &i) == MN_OK) {
		snprintf(num, sizeof(num), "\"%lld\"", (long long)i);
		out_s(o, num);
		return MN_OK;
	}
	return MN_ERR_UNSUPPORTED;
}

static int json_value(struct out *o, const cbor_item_t *v, int depth)
{
	struct cbor_pair *p;
	cbor_item_t *in;
	char num[32];
	int64_t i;
	size_t k;
	int r = MN_OK;

	if (depth > MAX_DEPTH)
		return MN_ERR_TOO_LARGE;
	switch (cbor_typeof(v)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		if (mn_cbor_get_int(v, &i) != MN_OK)
			return MN_ERR_UNSUPPORTED;
		snprintf(num, sizeof(num), "%lld", (long long)i);
		out_s(o, num);
		return MN_OK;
	case CBOR_TYPE_BYTESTRING:
		if (!cbor_bytestring_is_definite(v))
			return MN_ERR_FORMAT;
		return json_b64(o, cbor_bytestring_handle(v), cbor_bytestring_length(v));
	case CBOR_TYPE_STRING:
		if (!cbor_string_is_definite(v))
			return MN_ERR_FORMAT;
		json_str(o, cbor_string_handle(v), cbor_string_length(v));
		return MN_OK;
	case CBOR_TYPE_ARRAY:
		out_c(o, '[');
		for (k = 0; k < cbor_array_size(v) && r == MN_OK; k++) {
			if (k)
				out_c(o, ',');
			r = json_value(o, cbor_array_handle(v)[k], depth + 1);
		}
		out_c(o, ']');
		return r;
	case CBOR_TYPE_MAP:
		out_c(o, '{');
		p = cbor_map_handle(v);
		for (k = 0; k < cbor_map_size(v) && r == MN_OK; k++) {
			if (k)
				out_c(o, ',');
			if ((r = json_key(o, p[k].key)) == MN_OK) {
				out_c(o, ':');
				r = json_value(o, p[k].value, depth + 1);
			}
		}
		out_c(o, '}');
		return r;
	case CBOR_TYPE_TAG:
		/* full-date (1004), tdate (0) and others: the tagged content */
		in = cbor_tag_item(v);
		r = json_value(o, in, depth + 1);
		cbor_decref(&in);
		return r;
	case CBOR_TYPE_FLOAT_CTRL:
		if (cbor_float_ctrl_is_ctrl(v)) {
			if (cbor_is_bool(v))
				out_s(o, cbor_get_bool(v) ? "true" : "false");
			else
				out_s(o, "null");
		} else {
			double d = cbor_float_get_float(v);

			if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
				out_s(o, "null");
			else
				json_double(o, d);
		}
		return MN_OK;
	default:
		return MN_ERR_UNSUPPORTED;
	}
}

/*
 * {namespace: {element: value}} of every verified element, into o. An element identifier
 * seen twice in one namespace (two documents sharing it) would be a duplicate JSON key:
 * MN_ERR_FORMAT.
 */
static int print_result(struct out *o, const struct mn_mdoc_result *res)
{
	size_t n = mn_mdoc_result_count(res), i, j, k, first_ns = 1, first;
	const char *ns, *ns2, *id, *id2, *ns3;
	const cbor_item_t *v;
	int r;

	out_c(o, '{');
	for (i = 0; i < n; i++) {
		mn_mdoc_result_get(res, i, NULL, &ns, NULL, NULL);
		for (j = 0; j < i; j++) {
			mn_mdoc_result_get(res, j, NULL, &ns2, NULL, NULL);
			if (strcmp(ns, ns2) == 0)
				break;
		}
		if (j < i)
			continue; /* namespace already printed */
		if (!first_ns)
			out_c(o, ',');
		first_ns = 0;
		json_str(o, (const uint8_t *)ns, strlen(ns));
		out_s(o, ":{");
		first = 1;
		for (j = i; j < n; j++) {
			mn_mdoc_result_get(res, j, NULL, &ns2, &id, &v);
			if (strcmp(ns, ns2) != 0)
				continue;
			for (k = i; k < j; k++) {
				mn_mdoc_result_get(res, k, NULL, &ns3, &id2, NULL);
				if (strcmp(ns, ns3) == 0 && strcmp(id, id2) == 0)
					return MN_ERR_FORMAT;
			}
			if (!first)
				out_c(o, ',');
			first = 0;
			json_str(o, (const uint8_t *)id, strlen(id));
			out_c(o, ':');
			if ((r = json_value(o, v, 0)) != MN_OK)
				return r;
		}
		out_c(o, '}');
	}
	out_s(o, "}\n");
	return o->err;
}

int mdoc_json_result(const struct mn_mdoc_result *res, char **out, size_t *outlen)
{
	struct out o = {NULL, 0, 0, MN_OK};
	int r;

	if ((r = print_result(&o, res)) != MN_OK) {
		free(o.p);
		return r;
	}
	*out = o.p;
	*outlen = o.n;
	return MN_OK;
}

const char *mdoc_json_strerror(int r)
{
	return r == MN_ERR_FORMAT        ? "an element appears twice in a namespace"
	       : r == MN_ERR_UNSUPPORTED ? "a value has no JSON form"
	                                 : mn_strerror(r);
}
