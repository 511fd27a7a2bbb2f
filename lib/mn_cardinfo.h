/*
 * 券面事項入力補助AP EF 0002: the four basic attributes (name, address, birth date, sex).
 * Personal data: decoded only for the tools that are asked for it, never on a login path.
 */
#ifndef MN_CARDINFO_H
#define MN_CARDINFO_H

#include <stddef.h>
#include <stdint.h>

struct mn_attrs {
	char name[256];    /* UTF-8, family and given name separated by U+3000 */
	char address[768]; /* UTF-8 */
	char birth[9];     /* YYYYMMDD */
	char sex;          /* '1' male, '2' female, '9' not applicable, '0' unknown */
};

/*
 * Decode FF20 { DF21 offsets, DF22 name, DF23 address, DF24 birth, DF25 sex }. The DF21
 * offset table must agree with the TLVs; strings must be valid UTF-8 without NUL; only
 * 00/FF filler may follow the outer TLV. *out written on success.
 */
int mn_attrs_decode(const uint8_t *buf, size_t len, struct mn_attrs *out);

/* Encode (for the simulator). *out_len receives the size. */
int mn_attrs_encode(const struct mn_attrs *in, uint8_t *out, size_t cap, size_t *out_len);

/* 1 when s[0..n) is well-formed UTF-8 without NUL or C0 controls, else 0. */
int mn_utf8_valid(const uint8_t *s, size_t n);

#endif
