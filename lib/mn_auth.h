/*
 * The proof of possession of a My Number token, shared by the login (mynumber-helper) and
 * enrollment (mynumber enroll): wait for the token, pick its user-authentication certificate,
 * check it (enrollment, trust anchors, validity, usage, policy, revocation) BEFORE any PIN,
 * read the tries left without spending one, ask for the PIN, have the token sign a fresh
 * challenge and verify the signature.
 */
#ifndef MN_AUTH_H
#define MN_AUTH_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "mn_conf.h"
#include "mn_p11.h"
#include "mn_proto.h"
#include "mn_store.h"

/* How the flow talks to the person in front of the reader. */
struct mn_ui {
	/* a line of information (is_error 0) or an error (1) */
	int (*say)(void *ctx, int is_error, const char *text);
	/* ask with echo off; writes a NUL-terminated answer; returns its length or < 0 */
	int (*ask)(void *ctx, const char *prompt, char *buf, size_t cap);
	/* a debug line (never secrets); may be NULL */
	void (*debug)(void *ctx, const char *text);
	/* a warning for the system log, whatever the debug setting (soft revocation
	 * acceptances); may be NULL */
	void (*warn)(void *ctx, const char *text);
	void *ctx;
};

enum mn_auth_mode {
	MN_AUTH_LOGIN,  /* the token must match one of the user's bindings in the store */
	MN_AUTH_ENROLL, /* any valid token; the caller stores the binding */
};

struct mn_auth_out {
	enum mn_result result;
	char sha256[65];           /* certificate used (on success) */
	X509 *cert;                /* on MN_AUTH_ENROLL success: the verified certificate */
	struct mn_p11_token token; /* the token that answered */
	/* LOGIN with [revocation] rebind_renewed = yes: the card carried the renewed
	 * successor of this binding (old_id), proved it, and the caller must bind cert (set)
	 * in its place */
	unsigned rebind_old_id;
};

/*
 * Run the flow. Returns 0 when it ran to a decision (out->result), negative only when it
 * could not run (invalid arguments, out of memory). store: the enrollment store (LOGIN).
 */
int mn_auth_run(const struct mn_conf *conf, const struct mn_store *store, const char *user,
                enum mn_auth_mode mode, const struct mn_ui *ui, time_t now,
                struct mn_auth_out *out);

/* Free what mn_auth_run put in out (the certificate). */
void mn_auth_out_clear(struct mn_auth_out *out);

/* Verify an RSA PKCS#1 v1.5 SHA-256 signature with a DER SubjectPublicKeyInfo. */
int mn_verify_spki(const unsigned char *spki, size_t spki_len, const unsigned char *data,
                   size_t len, const unsigned char *sig, size_t siglen);

#endif
