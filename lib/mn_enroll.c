#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "mn_cert.h"
#include "mn_enroll.h"
#include "mn_err.h"

int mn_binding_from_cert(const char *user, X509 *cert, enum mn_token_kind kind,
                         const char *token_serial, const char *label, struct mn_binding *b)
{
	unsigned char *spki = NULL, *der = NULL;
	int n, m, r = MN_ERR_FORMAT;

	if (user == NULL || cert == NULL || b == NULL)
		return MN_ERR_INVALID_ARG;
	memset(b, 0, sizeof(*b));
	snprintf(b->user, sizeof(b->user), "%s", user);
	b->kind = kind;
	snprintf(b->token_serial, sizeof(b->token_serial), "%s", token_serial ? token_serial : "");
	snprintf(b->label, sizeof(b->label), "%s", label ? label : "");
	if (mn_cert_sha256_hex(cert, b->sha256) != MN_OK ||
	    mn_cert_not_after(cert, b->not_after) != MN_OK ||
	    mn_cert_serial_hex(cert, b->serial, sizeof(b->serial)) != MN_OK ||
	    mn_cert_issuer_str(cert, b->issuer, sizeof(b->issuer)) != MN_OK)
		goto out;
	if ((n = i2d_PUBKEY(X509_get0_pubkey(cert), &spki)) <= 0 || (m = i2d_X509(cert, &der)) <= 0)
		goto out;
	b->spki = spki;
	b->spki_len = (size_t)n;
	b->cert = der;
	b->cert_len = (size_t)m;
	spki = der = NULL;
	r = MN_OK;
out:
	OPENSSL_free(spki);
	OPENSSL_free(der);
	return r;
}

void mn_binding_release(struct mn_binding *b)
{
	if (b == NULL)
		return;
	OPENSSL_free(b->spki);
	OPENSSL_free(b->cert);
	b->spki = b->cert = NULL;
}

int mn_store_rebind(const char *path, const char *user, unsigned old_id, X509 *cert,
                    unsigned *ret_new_id, char *err, size_t errlen)
{
	struct mn_store *store = NULL;
	const struct mn_binding *old = NULL;
	struct mn_binding b;
	size_t i, n, removed = 0;
	unsigned id = 0;
	int lock = -1, r;

	memset(&b, 0, sizeof(b));
	if ((r = mn_store_lock(path, &lock, err, errlen)) != MN_OK)
		return r;
	if ((r = mn_store_load(path, &store, err, errlen)) != MN_OK)
		goto out;
	n = mn_store_count(store);
	for (i = 0; i < n; i++) {
		const struct mn_binding *x = mn_store_at(store, i);
		if (x->id == old_id && strcmp(x->user, user) == 0)
			old = x;
	}
	if (old == NULL) {
		snprintf(err, errlen, "binding %u of %s is gone", old_id, user);
		r = MN_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = mn_binding_from_cert(user, cert, old->kind, old->token_serial, old->label, &b)) !=
	        MN_OK ||
	    (r = mn_store_add(store, &b, &id)) != MN_OK ||
	    (r = mn_store_remove(store, user, old_id, &removed)) != MN_OK ||
	    (r = mn_store_save(store, path, err, errlen)) != MN_OK)
		goto out;
	if (ret_new_id != NULL)
		*ret_new_id = id;
out:
	mn_binding_release(&b);
	mn_store_free(&store);
	mn_store_unlock(&lock);
	return r;
}
