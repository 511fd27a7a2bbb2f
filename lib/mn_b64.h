/*
 * Strict base64 (RFC 4648 §4: standard alphabet, '=' padding, no line breaks). The decoder
 * accepts only the canonical encoding: length a multiple of 4, padding only at the end,
 * unused bits of the last symbol zero, no whitespace. So each byte string has exactly one
 * accepted text form.
 */
#ifndef MN_B64_H
#define MN_B64_H

#include <stddef.h>
#include <stdint.h>

/* Characters needed to encode n bytes, without the terminating NUL; 0 if that overflows. */
size_t mn_b64_encoded_len(size_t n);

/*
 * Encode in[0..len) into out (capacity cap, room for the NUL included) and NUL-terminate.
 * *out_len (may be NULL) receives the length without the NUL. MN_ERR_TOO_LARGE when cap is
 * too small; out is left untouched on failure.
 */
int mn_b64_encode(const uint8_t *in, size_t len, char *out, size_t cap, size_t *out_len);

/*
 * Decode the len characters at in into out (capacity cap). Anything but the canonical
 * encoding is MN_ERR_FORMAT; MN_ERR_TOO_LARGE when the result does not fit. *out_len
 * receives the decoded size. On failure out may have been partly written.
 */
int mn_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

#endif
