/* Test vectors from shared/vectors (hex files) for the mdoc unit tests. */
#ifndef MN_TEST_VECTORS_H
#define MN_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define ANNEX_D "iso18013-5-annex-d"
#define APPLE   "apple-wallet-nfc"

struct buf {
	uint8_t *p;
	size_t n;
};

/* Hex digits (spaces between bytes allowed) to bytes; out needs strlen(s) / 2 bytes. */
size_t unhex(const char *s, uint8_t *out);
/* DIR/NAME.hex under $MN_VECTORS_DIR (or the build's default); p is NULL when missing. */
struct buf load_hex(const char *dir, const char *name);
/* As load_hex, but a missing vector skips the calling cmocka test. */
struct buf need(const char *dir, const char *name);

#endif
