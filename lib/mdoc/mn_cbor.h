/*
 * Strict CBOR for mdoc: a bounded pre-walk over the raw bytes rejects everything ISO 18013-5
 * readers must not accept (indefinite lengths, non-shortest heads, duplicate map keys, excess
 * nesting or element counts, malformed well-known tags, trailing bytes), then libcbor decodes.
 * Because heads are shortest-form, the encoding of a tag-24 item rebuilt from its bstr content
 * equals the bytes received.
 */
#ifndef MN_CBOR_H
#define MN_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#define MN_CBOR_MAX_INPUT (1024u * 1024u) /* bytes in one top-level item */
#define MN_CBOR_MAX_ITEMS 4096u           /* entries in one array or map */
#define MN_CBOR_MAX_DEPTH 24u

/*
 * Validate buf[0..len) as exactly one strict CBOR item and decode it into *ret (caller
 * cbor_decref()s). MN_ERR_FORMAT for anything malformed or non-strict, MN_ERR_TRAILING for
 * bytes after the item, MN_ERR_TOO_LARGE over a bound. why (may be NULL) gets a reason.
 */
int mn_cbor_load_strict(const uint8_t *buf, size_t len, cbor_item_t **ret, char *why,
                        size_t whylen);

/* The value of the text-string key `key` in a definite map, or NULL. */
cbor_item_t *mn_cbor_map_get(const cbor_item_t *map, const char *key);

/* The value of the integer key `key` in a definite map, or NULL. */
cbor_item_t *mn_cbor_map_get_int(const cbor_item_t *map, int64_t key);

/* Whether item is a text string equal to s. */
int mn_cbor_text_eq(const cbor_item_t *item, const char *s);

/* Read an integer item (uint or negint) into *v; MN_ERR_FORMAT if not an int or out of range. */
int mn_cbor_get_int(const cbor_item_t *item, int64_t *v);

/*
 * Encode a CBOR head (major type 0..7, shortest form) into out[0..9); returns its length.
 */
size_t mn_cbor_head(uint8_t *out, unsigned major, uint64_t arg);

/*
 * Parse an RFC 3339 date-time ("YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)") into *t;
 * MN_ERR_FORMAT otherwise.
 */
int mn_cbor_parse_rfc3339(const char *s, size_t len, int64_t *t);

/*
 * The ISO 18013-5 form of a tdate in the MSO validityInfo: "YYYY-MM-DDTHH:MM:SSZ" exactly, no
 * fractional seconds and UTC ("Z") only; MN_ERR_FORMAT otherwise.
 */
int mn_cbor_parse_tdate_utc(const char *s, size_t len, int64_t *t);

/* Whether s[0..len) is a full-date "YYYY-MM-DD" with a valid day. */
int mn_cbor_is_full_date(const char *s, size_t len);

#endif
