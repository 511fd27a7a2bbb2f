/* Bindings made from a verified certificate (enrollment, renewal). */
#ifndef MN_ENROLL_H
#define MN_ENROLL_H

#include <openssl/x509.h>

#include "mn_store.h"

/*
 * Fill b for user from cert: SHA-256, token kind and serial, notAfter, serial, issuer,
 * label, public key and certificate DER (allocated: release with mn_binding_release).
 */
int mn_binding_from_cert(const char *user, X509 *cert, enum mn_token_kind kind,
                         const char *token_serial, const char *label, struct mn_binding *b);
void mn_binding_release(struct mn_binding *b);

/*
 * Replace binding old_id of user by one for cert, under the store's lock, atomically:
 * what a renewed card does once its successor certificate is proved.
 */
int mn_store_rebind(const char *path, const char *user, unsigned old_id, X509 *cert,
                    unsigned *ret_new_id, char *err, size_t errlen);

#endif
