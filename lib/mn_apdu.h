/* ISO 7816-4 command/response APDUs (short form only, as the card is driven). */
#ifndef MN_APDU_H
#define MN_APDU_H

#include <stddef.h>
#include <stdint.h>

struct mn_capdu {
	uint8_t cla, ins, p1, p2;
	const uint8_t *data; /* points into the parsed buffer, NULL when lc == 0 */
	size_t lc;
	size_t le; /* 1..256; 0 when absent */
	int has_le;
};

/*
 * Parse a short command APDU (cases 1, 2, 3, 4). Extended lengths are refused with
 * MN_ERR_UNSUPPORTED; any inconsistency between Lc and the buffer is MN_ERR_FORMAT.
 * *out is written only on success and points into buf.
 */
int mn_capdu_parse(const uint8_t *buf, size_t len, struct mn_capdu *out);

/*
 * Build a short command APDU into out (capacity cap). lc may be 0 (no data); le 0 means
 * no Le field, 1..256 an Le (256 encoded as 00). Returns the length written via *out_len.
 */
int mn_capdu_build(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data, size_t lc,
                   size_t le, uint8_t *out, size_t cap, size_t *out_len);

/* Split a response APDU into data and status word. */
int mn_rapdu_split(const uint8_t *buf, size_t len, size_t *data_len, uint16_t *sw);

/*
 * Interpret a VERIFY status word: 9000 -> *tries = -1 (verified, count unknown), 63Cx -> x,
 * 6984/6983 -> 0 (blocked). Other SWs return MN_ERR_FORMAT.
 */
int mn_sw_pin_tries(uint16_t sw, int *tries);

#endif
