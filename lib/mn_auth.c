#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "mn_auth.h"
#include "mn_cert.h"
#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_msg.h"
#include "mn_pcsc.h"
#include "mn_phone.h"
#include "mdoc/mn_pcsc_apdu.h"
#include "mn_pin.h"
#include "mn_revoker.h"

#define PIN_BUF  64
#define SIG_MAX  512
#define MSG_BUF  512
#define CHAL_LEN 32
#define CHAL_CTX "mynumber login challenge v1"
#define NOT_WARM (-1) /* the warm path does not apply: take the PKCS#11 path */

struct flow {
	const struct mn_conf *conf;
	const struct mn_store *store;
	const char *user;
	enum mn_auth_mode mode;
	const struct mn_ui *ui;
	time_t now;
	struct mn_anchors *anchors;
	struct mn_p11 *p11;
	struct mn_pcsc *pc; /* the warm path's card connection, when it is taken */
	struct mn_p11_token tok;
	X509 *cert;
	X509 *issuer;
	const struct mn_binding *binding;
	const struct mn_binding *renewed_from; /* rebinding a renewed certificate */
	char sha256[65];
	int asked; /* the "hold your card or phone" prompt was shown */
};

static void say(const struct flow *f, int is_error, const char *fmt, ...)
{
	char buf[MSG_BUF];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	f->ui->say(f->ui->ctx, is_error, buf);
}

static void debug(const struct flow *f, const char *fmt, ...)
{
	char buf[MSG_BUF];
	va_list ap;

	if (f->ui->debug == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	f->ui->debug(f->ui->ctx, buf);
}

static const char *conf_str(const struct flow *f, const char *section, const char *key)
{
	const char *v = mn_conf_get(f->conf, section, key);

	return v != NULL ? v : "";
}

static unsigned conf_uint(const struct flow *f, const char *section, const char *key, unsigned def)
{
	unsigned v;

	return mn_conf_get_uint(f->conf, section, key, &v) == 0 ? v : def;
}

static int user_has_binding(const struct flow *f)
{
	size_t i, n = mn_store_count(f->store);

	for (i = 0; i < n; i++)
		if (strcmp(mn_store_at(f->store, i)->user, f->user) == 0)
			return 1;
	return 0;
}

/* The prompt to present a token, once per login (the phone probe may come first). */
static void ask_for_token(struct flow *f)
{
	if (!f->asked)
		say(f, 0, _("Hold your My Number card or phone over the reader."));
	f->asked = 1;
}

/* Waiting for a card or phone ended without one: say why (r from the wait). */
static enum mn_result no_token(struct flow *f, int r)
{
	if (r == MN_ERR_NO_READER)
		say(f, 1,
		    _("No card reader found. Check that a reader is connected and pcscd is "
		      "running."));
	else if (r == MN_ERR_NO_TOKEN)
		say(f, 1, _("No My Number card or phone was presented in time."));
	else
		say(f, 1,
		    _("The card could not be read. Hold it still over the reader and try "
		      "again."));
	return MN_RES_UNAVAIL;
}

static int user_has_phone(const struct flow *f)
{
	size_t i, n = mn_store_phone_count(f->store);

	for (i = 0; i < n; i++)
		if (strcmp(mn_store_phone_at(f->store, i)->user, f->user) == 0)
			return 1;
	return 0;
}

/*
 * A user with a phone enrollment: wait for a token on PC/SC; one that answers SELECT of the
 * JPKI application is a card (NOT_WARM: the card path runs), anything else is read as a
 * phone (ISO 18013-5 NFC engagement).
 */
static int run_phone(struct flow *f)
{
	struct mn_pcsc_apdu *card = NULL;
	unsigned wait = conf_uint(f, "", "card_wait", 30);
	int r, res;

	if (f->mode != MN_AUTH_LOGIN || !mn_phone_enabled(f->conf) || !user_has_phone(f))
		return NOT_WARM;
	ask_for_token(f);
	r = mn_pcsc_apdu_open(NULL, wait * 1000u, &card);
	if (r != MN_OK)
		return no_token(f, r);
	if (mn_phone_is_jpki_card(card)) {
		mn_pcsc_apdu_release(&card); /* left as it is for the card path */
		return NOT_WARM;
	}
	debug(f, "token: a phone (mdoc) on %s", mn_pcsc_apdu_reader(card));
	res = (int)mn_phone_login(f->conf, f->store, f->user, card, f->ui, f->now, f->sha256);
	mn_pcsc_apdu_free(&card);
	return res;
}

/* The user's binding for a certificate hash, or for a token serial when sha256 is NULL. */
static const struct mn_binding *find_binding(const struct flow *f, const char *sha256,
                                             const char *token_serial)
{
	size_t i, n = mn_store_count(f->store);

	for (i = 0; i < n; i++) {
		const struct mn_binding *b = mn_store_at(f->store, i);
		if (strcmp(b->user, f->user) != 0)
			continue;
		if (sha256 != NULL && strcmp(b->sha256, sha256) == 0)
			return b;
		if (sha256 == NULL && token_serial[0] != '\0' &&
		    strcmp(b->token_serial, token_serial) == 0)
			return b;
	}
	return NULL;
}

static enum mn_result wait_token(struct flow *f)
{
	unsigned wait = conf_uint(f, "", "card_wait", 30);
	int allow_phone = 1, r;

	mn_conf_get_bool(f->conf, "", "allow_phone", &allow_phone);
	ask_for_token(f);
	r = mn_p11_wait_token(f->p11, (int)wait * 1000, &f->tok);
	if (r != MN_OK)
		return no_token(f, r);
	debug(f, "token: %s, serial %s, %d tries left", f->tok.label, f->tok.serial, f->tok.tries);
	if (!allow_phone && f->tok.kind != MN_TOKEN_CARD) {
		say(f, 1,
		    _("Smartphone certificates are not accepted on this computer. Use your "
		      "My Number card."));
		return MN_RES_AUTH_ERR;
	}
	return MN_RES_OK;
}

/* Read the token's auth certificate (or, for Android before the PIN, use the enrolled one). */
static enum mn_result get_cert(struct flow *f)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	r = mn_p11_read_auth_cert(f->p11, &f->tok, &der, &len);
	if (r == MN_ERR_NOT_FOUND && f->tok.kind == MN_TOKEN_ANDROID && f->mode == MN_AUTH_LOGIN) {
		/* the Android token shows its certificate only after the PIN: check the enrolled
		 * one now, and that the token really holds it after the PIN */
		f->binding = find_binding(f, NULL, f->tok.serial);
		if (f->binding == NULL) {
			say(f, 1, _("This phone is not enrolled for %s."), f->user);
			return MN_RES_AUTH_ERR;
		}
		r = mn_cert_from_der(f->binding->cert, f->binding->cert_len, &f->cert);
		if (r != MN_OK)
			return MN_RES_SYSTEM_ERR;
		memcpy(f->sha256, f->binding->sha256, sizeof(f->sha256));
		return MN_RES_OK;
	}
	if (r == MN_ERR_NOT_FOUND && f->tok.kind == MN_TOKEN_ANDROID)
		return MN_RES_OK; /* enrollment reads it after the PIN */
	if (r != MN_OK) {
		debug(f, "reading the auth certificate: %s", mn_strerror(r));
		if (r == MN_ERR_TOKEN_REMOVED) /* not a bad certificate: the card went away */
			say(f, 1,
			    _("The card was removed. Hold it over the reader until the login "
			      "completes."));
		else
			say(f, 1, _("The card's certificate could not be read."));
		return MN_RES_AUTH_ERR;
	}
	r = mn_cert_from_der(der, len, &f->cert);
	free(der);
	if (r != MN_OK || mn_cert_sha256_hex(f->cert, f->sha256) != MN_OK) {
		say(f, 1, _("The card's certificate could not be read."));
		return MN_RES_AUTH_ERR;
	}
	return MN_RES_OK;
}

/*
 * A renewed card: the user's binding for this token holds the old certificate. With
 * [revocation] rebind_renewed = yes, a revocation backend that answers "revoked, succeeded
 * by <serial>" for the old certificate, naming the serial of the one on the card, lets the
 * new certificate in (after all the usual checks and the PIN) and the caller rebinds it.
 */
static int renewal_confirmed(struct flow *f, const struct mn_binding *old)
{
	struct mn_revoker *rv = NULL;
	struct mn_rev_result rev;
	unsigned char serial[20];
	X509 *oc = NULL, *issuer = NULL;
	enum mn_cert_verdict v;
	BIGNUM *bn = NULL;
	int on = 0, n, ok = 0;

	if (mn_conf_get_bool(f->conf, "revocation", "rebind_renewed", &on) != MN_OK || !on)
		return 0;
	if (mn_cert_from_der(old->cert, old->cert_len, &oc) != MN_OK ||
	    mn_cert_validate(f->anchors, oc, conf_str(f, "", "policy_oids"), f->now, &v, &issuer,
	                     NULL, 0) != MN_OK ||
	    issuer == NULL || mn_revoker_open(f->conf, &rv, NULL, 0) != MN_OK ||
	    mn_revoker_check(rv, oc, issuer, f->now, &rev) != MN_OK ||
	    rev.status != MN_REV_REVOKED || rev.successor_len == 0)
		goto out;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(f->cert), NULL);
	if (bn == NULL || BN_is_negative(bn) || BN_num_bytes(bn) > (int)sizeof(serial))
		goto out;
	n = BN_bn2bin(bn, serial);
	ok = (size_t)n == rev.successor_len && memcmp(serial, rev.successor, (size_t)n) == 0;
	debug(f, "renewal: the old certificate is %s, successor %s", ok ? "revoked" : "not",
	      ok ? "is this card's" : "unknown or another");
out:
	BN_free(bn);
	X509_free(oc);
	X509_free(issuer);
	mn_revoker_close(&rv);
	return ok;
}

static enum mn_result check_enrolled(struct flow *f)
{
	const struct mn_binding *old;

	if (f->mode != MN_AUTH_LOGIN || f->binding != NULL)
		return MN_RES_OK;
	f->binding = find_binding(f, f->sha256, NULL);
	if (f->binding != NULL)
		return MN_RES_OK;
	if ((old = find_binding(f, NULL, f->tok.serial)) != NULL) {
		if (renewal_confirmed(f, old)) {
			/* prove() verifies with the card certificate's own key */
			f->renewed_from = old;
			return MN_RES_OK;
		}
		say(f, 1,
		    _("The certificate on this card has changed (it was renewed). Re-enroll it "
		      "with: mynumber enroll --renew %s"),
		    f->user);
		return MN_RES_AUTH_ERR;
	}
	say(f, 1, _("This card is not enrolled for %s."), f->user);
	return MN_RES_AUTH_ERR;
}

/* Trust anchors, validity, usage, policy, then revocation: all before any PIN. */
static enum mn_result check_cert(struct flow *f)
{
	enum mn_cert_verdict v;
	struct mn_rev_result rev;
	struct mn_revoker *rv = NULL;
	char detail[256], err[256] = "";
	int r;

	r = mn_cert_validate(f->anchors, f->cert, conf_str(f, "", "policy_oids"), f->now, &v,
	                     &f->issuer, detail, sizeof(detail));
	if (r != MN_OK) {
		debug(f, "certificate validation failed to run: %s", mn_strerror(r));
		say(f, 1, _("Internal error while checking the certificate."));
		return MN_RES_SYSTEM_ERR;
	}
	if (v != MN_CERT_OK)
		debug(f, "certificate rejected: %s", detail);
	switch (v) {
	case MN_CERT_OK:
		break;
	case MN_CERT_EXPIRED:
		say(f, 1,
		    _("The certificate on this card has expired. Renew it at your municipal "
		      "office, then enroll it again."));
		return MN_RES_CRED_EXPIRED;
	case MN_CERT_NOT_YET_VALID:
		say(f, 1, _("The certificate on this card is not valid yet."));
		return MN_RES_AUTH_ERR;
	case MN_CERT_UNTRUSTED:
		say(f, 1, _("The certificate on this card is not from a trusted JPKI authority."));
		return MN_RES_AUTH_ERR;
	default:
		say(f, 1, _("The certificate on this card cannot be used for login."));
		return MN_RES_AUTH_ERR;
	}
	r = mn_revoker_open(f->conf, &rv, err, sizeof(err));
	if (r == MN_OK)
		r = mn_revoker_check(rv, f->cert, f->issuer, f->now, &rev);
	mn_revoker_close(&rv);
	if (r != MN_OK) {
		debug(f, "revocation check: %s (%s)", err, mn_strerror(r));
		say(f, 1, _("Configuration error: the revocation check cannot run."));
		return MN_RES_SYSTEM_ERR;
	}
	debug(f, "revocation: %s", rev.detail);
	if (rev.status == MN_REV_REVOKED) {
		say(f, 1, _("The certificate on this card has been revoked."));
		return MN_RES_AUTH_ERR;
	}
	if (rev.soft_accepted && f->ui->warn != NULL)
		f->ui->warn(f->ui->ctx, rev.detail);
	if (rev.status != MN_REV_GOOD && !rev.soft_accepted) {
		say(f, 1,
		    _("The revocation status of this card's certificate is not available, "
		      "so it cannot be used now. Ask your administrator."));
		return MN_RES_AUTH_ERR;
	}
	return MN_RES_OK;
}

/* The three card operations, through PKCS#11 (cold) or the warm PC/SC path. */
static int tok_tries(struct flow *f)
{
	int t, r;

	if (f->pc == NULL)
		return mn_p11_tries(f->p11, &f->tok);
	if ((r = mn_pcsc_tries(f->pc, &t)) == MN_OK)
		f->tok.tries = t;
	return r;
}

static int tok_login(struct flow *f, const char *pin, size_t len)
{
	return f->pc != NULL ? mn_pcsc_verify(f->pc, pin, len)
	                     : mn_p11_login(f->p11, &f->tok, pin, len);
}

static int tok_sign(struct flow *f, const unsigned char *data, size_t len, unsigned char *sig,
                    size_t *siglen)
{
	return f->pc != NULL ? mn_pcsc_sign_sha256(f->pc, data, len, sig, siglen)
	                     : mn_p11_sign(f->p11, &f->tok, data, len, sig, siglen);
}

/* The tries left, read without spending one (token flags, or an empty VERIFY). */
static enum mn_result check_tries(struct flow *f)
{
	unsigned min = conf_uint(f, "", "min_pin_tries", 2);
	int t;

	t = f->tok.tries;
	if (t == 0) {
		say(f, 1,
		    _("The PIN of this card is blocked. Reset it at your municipal office, or "
		      "at a convenience-store kiosk with the JPKI PIN reset service."));
		return MN_RES_MAXTRIES;
	}
	if (t > 0 && (unsigned)t < min) {
		say(f, 1,
		    dngettext(
		        MN_TEXTDOMAIN,
		        "Only %d PIN try is left. To keep the card usable, login does not use "
		        "it: reset the PIN at your municipal office or a convenience-store "
		        "kiosk.",
		        "Only %d PIN tries are left. To keep the card usable, login does not "
		        "use them: reset the PIN at your municipal office or a "
		        "convenience-store kiosk.",
		        (unsigned long)t),
		    t);
		return MN_RES_MAXTRIES;
	}
	return MN_RES_OK;
}

/*
 * The PIN guard (check_tries) must see the counter the VERIFY will meet. Concurrent logins on
 * this host each run their own helper: they are serialised from reading the tries left to
 * the VERIFY by an exclusive lock on the state directory (best effort: without one, no lock).
 * The cold path reads the tries again under the lock; the warm path holds it around its one
 * PC/SC transaction (taken before the transaction begins, so the order is always lock, card).
 */
static int pin_lock(const struct flow *f)
{
	const char *dir = conf_str(f, "", "state_dir");
	int fd;

	if (dir[0] == '\0' || (mkdir(dir, 0700) != 0 && errno != EEXIST))
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void pin_unlock(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static enum mn_result pin_login(struct flow *f)
{
	char pin[PIN_BUF], prompt[MSG_BUF];
	enum mn_result res = MN_RES_AUTH_ERR;
	int n, r, lock = -1;

	snprintf(prompt, sizeof(prompt),
	         dngettext(MN_TEXTDOMAIN, "My Number card PIN (%d try left): ",
	                   "My Number card PIN (%d tries left): ", (unsigned long)f->tok.tries),
	         f->tok.tries);
	n = f->ui->ask(f->ui->ctx, prompt, pin, sizeof(pin));
	if (n < 0) {
		res = MN_RES_AUTH_ERR;
		goto out;
	}
	if (mn_pin_check_digits4((const unsigned char *)pin, (size_t)n) != MN_OK) {
		say(f, 1, _("The PIN is 4 digits. Nothing was sent to the card."));
		goto out;
	}
	if (f->pc == NULL) {
		/* another login may have spent tries since they were read: read them again */
		lock = pin_lock(f);
		if (tok_tries(f) == MN_OK && (res = check_tries(f)) != MN_RES_OK)
			goto out;
		res = MN_RES_AUTH_ERR;
	}
	r = tok_login(f, pin, (size_t)n);
	pin_unlock(&lock);
	explicit_bzero(pin, sizeof(pin));
	if (r == MN_OK) {
		res = MN_RES_OK;
		goto out;
	}
	if (r == MN_ERR_PIN_LOCKED) {
		say(f, 1,
		    _("Wrong PIN. The PIN is now blocked: reset it at your municipal office "
		      "or a convenience-store kiosk."));
		res = MN_RES_MAXTRIES;
	} else if (r == MN_ERR_PIN_INCORRECT) {
		if (tok_tries(f) == MN_OK && f->tok.tries >= 0)
			say(f, 1,
			    dngettext(MN_TEXTDOMAIN, "Wrong PIN. %d try left.",
			              "Wrong PIN. %d tries left.", (unsigned long)f->tok.tries),
			    f->tok.tries);
		else
			say(f, 1, _("Wrong PIN."));
	} else if (r == MN_ERR_TOKEN_REMOVED) {
		say(f, 1,
		    _("The card was removed. Hold it over the reader until the login "
		      "completes."));
	} else {
		debug(f, "login: %s", mn_strerror(r));
		say(f, 1, _("The card did not accept the login."));
	}
out:
	pin_unlock(&lock);
	explicit_bzero(pin, sizeof(pin));
	return res;
}

/* Android: after the PIN the token shows its certificate; it must be the one checked. */
static enum mn_result confirm_cert_after_pin(struct flow *f)
{
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	char h[65];
	enum mn_result res = MN_RES_AUTH_ERR;

	if (mn_p11_read_auth_cert(f->p11, &f->tok, &der, &len) != MN_OK ||
	    mn_cert_from_der(der, len, &x) != MN_OK || mn_cert_sha256_hex(x, h) != MN_OK) {
		say(f, 1, _("The card's certificate could not be read."));
		goto out;
	}
	if (f->cert == NULL) {
		/* enrollment of an Android token: check it now, after the PIN */
		f->cert = x;
		x = NULL;
		memcpy(f->sha256, h, sizeof(h));
		res = check_cert(f);
		goto out;
	}
	if (strcmp(h, f->sha256) != 0) {
		say(f, 1, _("The certificate on this phone has changed. Enroll it again."));
		goto out;
	}
	res = MN_RES_OK;
out:
	X509_free(x);
	free(der);
	return res;
}

int mn_verify_spki(const unsigned char *spki, size_t spki_len, const unsigned char *data,
                   size_t len, const unsigned char *sig, size_t siglen)
{
	const unsigned char *p = spki;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	int r = MN_ERR_CRYPTO;

	if (spki == NULL || data == NULL || sig == NULL)
		return MN_ERR_INVALID_ARG;
	pkey = d2i_PUBKEY(NULL, &p, (long)spki_len);
	if (pkey == NULL || (size_t)(p - spki) != spki_len ||
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
		goto out;
	r = EVP_DigestVerify(md, sig, siglen, data, len) == 1 ? MN_OK : MN_ERR_CRYPTO;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return r;
}

/* The token signs a fresh challenge; the signature must verify with the enrolled key. */
static enum mn_result prove(struct flow *f)
{
	unsigned char chal[sizeof(CHAL_CTX) + 64 + CHAL_LEN], sig[SIG_MAX], *spki = NULL;
	const unsigned char *key;
	size_t n = 0, siglen = sizeof(sig), key_len;
	int len, r;
	enum mn_result res = MN_RES_AUTH_ERR;

	memcpy(chal, CHAL_CTX, sizeof(CHAL_CTX));
	n = sizeof(CHAL_CTX);
	len = snprintf((char *)chal + n, 64, "%s", f->user);
	n += (size_t)(len < 63 ? len : 63) + 1;
	if (RAND_bytes(chal + n, CHAL_LEN) != 1)
		return MN_RES_SYSTEM_ERR;
	n += CHAL_LEN;
	r = tok_sign(f, chal, n, sig, &siglen);
	if (r != MN_OK) {
		debug(f, "sign: %s", mn_strerror(r));
		say(f, 1,
		    r == MN_ERR_TOKEN_REMOVED
		        ? _("The card was removed. Hold it over the reader until the login "
		            "completes.")
		        : _("The card did not sign the login challenge."));
		return MN_RES_AUTH_ERR;
	}
	if (f->binding != NULL) {
		key = f->binding->spki;
		key_len = f->binding->spki_len;
	} else {
		/* enrollment: the certificate's own key */
		len = i2d_PUBKEY(X509_get0_pubkey(f->cert), &spki);
		if (len <= 0)
			return MN_RES_SYSTEM_ERR;
		key = spki;
		key_len = (size_t)len;
	}
	if (mn_verify_spki(key, key_len, chal, n, sig, siglen) == MN_OK) {
		res = MN_RES_OK;
	} else {
		say(f, 1, _("The card's signature did not verify."));
		debug(f, "signature verification failed");
	}
	OPENSSL_free(spki);
	return res;
}

static int warm_path(const struct flow *f, char *path, size_t cap)
{
	const char *dir = conf_str(f, "", "state_dir");
	int on = 1;

	if (mn_conf_get_bool(f->conf, "", "warm_login", &on) != MN_OK || !on || dir[0] == '\0')
		return 0;
	return (size_t)snprintf(path, cap, "%s/warm", dir) < cap;
}

/*
 * The warm path: the card of the last verified login is still inserted, untouched, in the
 * same reader, and is enrolled for this user: skip the PKCS#11 enumeration and do the six
 * APDUs of a login in one PC/SC transaction. Every certificate check still runs first.
 */
static int run_warm(struct flow *f)
{
	struct mn_warm w;
	struct mn_insertion now;
	char path[4096];
	enum mn_result res;
	int r, allow_phone = 1, lock = -1;

	if (f->mode != MN_AUTH_LOGIN || !warm_path(f, path, sizeof(path)) ||
	    mn_warm_load(path, &w) != MN_OK || mn_pcsc_insertion(w.ins.reader, &now) != MN_OK ||
	    now.events != w.ins.events || now.atr_len != w.ins.atr_len ||
	    memcmp(now.atr, w.ins.atr, now.atr_len) != 0)
		return NOT_WARM;
	f->binding = find_binding(f, w.sha256, NULL);
	mn_conf_get_bool(f->conf, "", "allow_phone", &allow_phone);
	if (f->binding == NULL || (!allow_phone && f->binding->kind != MN_TOKEN_CARD) ||
	    mn_cert_from_der(f->binding->cert, f->binding->cert_len, &f->cert) != MN_OK)
		return NOT_WARM;
	memcpy(f->sha256, w.sha256, sizeof(f->sha256));
	debug(f, "warm login: same card in %s since the last login", now.reader);
	ask_for_token(f);
	if ((res = check_cert(f)) != MN_RES_OK)
		return (int)res;
	lock = pin_lock(f);
	if (mn_pcsc_open(now.reader, &f->pc) != MN_OK) {
		pin_unlock(&lock);
		return NOT_WARM;
	}
	r = mn_pcsc_select_auth(f->pc);
	if (r == MN_OK) {
		memset(&f->tok, 0, sizeof(f->tok));
		f->tok.kind = f->binding->kind;
		snprintf(f->tok.serial, sizeof(f->tok.serial), "%s", f->binding->token_serial);
		snprintf(f->tok.reader, sizeof(f->tok.reader), "%s", now.reader);
		f->tok.max_tries = MN_AUTH_PIN_TRIES;
		r = tok_tries(f);
	}
	if (r != MN_OK) {
		mn_pcsc_close(&f->pc, 0);
		pin_unlock(&lock);
		return NOT_WARM;
	}
	if ((res = check_tries(f)) == MN_RES_OK && (res = pin_login(f)) == MN_RES_OK)
		res = prove(f);
	/* the reset clears the card's security status: the warm path's logout */
	mn_pcsc_close(&f->pc, 1);
	pin_unlock(&lock);
	return (int)res;
}

/* After a verified login: remember the insertion for the next login's warm path. */
static void remember(struct flow *f)
{
	struct mn_warm w;
	char path[4096];

	if (!warm_path(f, path, sizeof(path)) || f->tok.reader[0] == '\0')
		return;
	/* the state directory is made on first use, for root only */
	if (mkdir(conf_str(f, "", "state_dir"), 0700) != 0 && errno != EEXIST)
		return;
	memset(&w, 0, sizeof(w));
	if (mn_pcsc_insertion(f->tok.reader, &w.ins) != MN_OK)
		return;
	memcpy(w.sha256, f->sha256, sizeof(w.sha256));
	if (mn_warm_save(path, &w) != MN_OK)
		debug(f, "cannot record the warm-login state in %s", path);
}

static enum mn_result run_cold(struct flow *f)
{
	char err[256];
	enum mn_result res;
	int r;

	r = mn_p11_open(conf_str(f, "", "pkcs11_module"), &f->p11, err, sizeof(err));
	if (r != MN_OK) {
		debug(f, "PKCS#11: %s", err);
		say(f, 1, _("Configuration error: the PKCS#11 module cannot be loaded."));
		return MN_RES_SYSTEM_ERR;
	}
	if ((res = wait_token(f)) != MN_RES_OK || (res = get_cert(f)) != MN_RES_OK ||
	    (res = check_enrolled(f)) != MN_RES_OK)
		return res;
	if (f->cert != NULL && (res = check_cert(f)) != MN_RES_OK)
		return res;
	if ((res = check_tries(f)) != MN_RES_OK || (res = pin_login(f)) != MN_RES_OK)
		return res;
	if (f->tok.kind == MN_TOKEN_ANDROID && (res = confirm_cert_after_pin(f)) != MN_RES_OK)
		return res;
	return prove(f);
}

static enum mn_result run(struct flow *f)
{
	char err[256];
	enum mn_result res;
	int r;

	if (f->mode == MN_AUTH_LOGIN && (r = run_phone(f)) != NOT_WARM)
		return (enum mn_result)r;
	if (f->mode == MN_AUTH_LOGIN && !user_has_binding(f)) {
		say(f, 1,
		    _("No My Number card is enrolled for %s. An administrator can enroll one with: "
		      "mynumber enroll %s"),
		    f->user, f->user);
		return MN_RES_CRED_INSUFFICIENT;
	}
	r = mn_anchors_load(conf_str(f, "", "trust_anchors"), &f->anchors, err, sizeof(err));
	if (r != MN_OK) {
		debug(f, "trust anchors: %s", err);
		say(f, 1, _("Configuration error: the JPKI trust anchors cannot be loaded."));
		return MN_RES_SYSTEM_ERR;
	}
	r = run_warm(f);
	if (r == NOT_WARM) {
		X509_free(f->cert);
		X509_free(f->issuer);
		f->cert = f->issuer = NULL;
		f->binding = NULL;
		res = run_cold(f);
		mn_p11_logout(f->p11);
		mn_p11_close(&f->p11);
	} else {
		res = (enum mn_result)r;
	}
	if (res == MN_RES_OK && f->mode == MN_AUTH_LOGIN)
		remember(f);
	return res;
}

int mn_auth_run(const struct mn_conf *conf, const struct mn_store *store, const char *user,
                enum mn_auth_mode mode, const struct mn_ui *ui, time_t now, struct mn_auth_out *out)
{
	struct flow f;

	if (conf == NULL || user == NULL || ui == NULL || out == NULL ||
	    (mode == MN_AUTH_LOGIN && store == NULL))
		return MN_ERR_INVALID_ARG;
	memset(&f, 0, sizeof(f));
	memset(out, 0, sizeof(*out));
	f.conf = conf;
	f.store = store;
	f.user = user;
	f.mode = mode;
	f.ui = ui;
	f.now = now;
	out->result = run(&f);
	out->token = f.tok;
	if (out->result == MN_RES_OK) {
		memcpy(out->sha256, f.sha256, sizeof(out->sha256));
		if (mode == MN_AUTH_ENROLL || f.renewed_from != NULL) {
			out->rebind_old_id = f.renewed_from != NULL ? f.renewed_from->id : 0;
			out->cert = f.cert;
			f.cert = NULL;
		}
	}
	mn_p11_logout(f.p11);
	mn_p11_close(&f.p11);
	mn_pcsc_close(&f.pc, 1);
	X509_free(f.cert);
	X509_free(f.issuer);
	mn_anchors_free(&f.anchors);
	return MN_OK;
}

void mn_auth_out_clear(struct mn_auth_out *out)
{
	if (out == NULL)
		return;
	X509_free(out->cert);
	memset(out, 0, sizeof(*out));
}
