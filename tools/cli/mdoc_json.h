/* Shared by verify-mdoc and read-mdoc: trust anchors from PEM, verified elements as JSON. */
#ifndef MN_CLI_MDOC_JSON_H
#define MN_CLI_MDOC_JSON_H

#include <stddef.h>

#include <openssl/x509.h>

#include "mdoc/mn_mdoc.h"

/* Every certificate of a PEM file; NULL when unreadable or empty. */
STACK_OF(X509) *mdoc_read_certs(const char *path);

/*
 * {namespace: {element: value}} of every verified element, newline-terminated, built in
 * memory (*out free()d by the caller). MN_ERR_FORMAT when an element identifier appears twice
 * in a namespace, MN_ERR_UNSUPPORTED when a value has no JSON form.
 */
int mdoc_json_result(const struct mn_mdoc_result *res, char **out, size_t *outlen);

/* A message for mdoc_json_result's errors. */
const char *mdoc_json_strerror(int r);

#endif
