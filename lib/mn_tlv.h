/*
 * BER-TLV as the card uses it: one- to three-byte tags (private class FF xx / DF xx on the
 * card-info AP, universal 30 on certificates), definite lengths up to 3 length octets.
 * Indefinite lengths are refused. Every length is checked against the buffer.
 */
#ifndef MN_TLV_H
#define MN_TLV_H

#include <stddef.h>
#include <stdint.h>

struct mn_tlv {
	uint32_t tag;
	size_t hdr_len;       /* tag + length octets */
	size_t len;           /* value length */
	const uint8_t *value; /* points into the parsed buffer */
};

/*
 * Parse only the header of the TLV at buf. The value need not be present: this is how the
 * size of an EF is learnt from its first chunk. *tag, *hdr_len, *val_len written on success.
 */
int mn_tlv_header(const uint8_t *buf, size_t buflen, uint32_t *tag, size_t *hdr_len,
                  size_t *val_len);

/* Parse one complete TLV at buf; the value must fit in buflen. */
int mn_tlv_parse(const uint8_t *buf, size_t buflen, struct mn_tlv *out);

/*
 * Find the first TLV with this tag among the siblings in buf[0..len). Every sibling
 * before it must be well formed. MN_ERR_NOT_FOUND when absent.
 */
int mn_tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct mn_tlv *out);

/*
 * Encode a TLV into out (capacity cap); *out_len receives the encoded size.
 * Tags are written big-endian without leading zero bytes.
 */
int mn_tlv_put(uint8_t *out, size_t cap, uint32_t tag, const uint8_t *value, size_t len,
               size_t *out_len);

#endif
