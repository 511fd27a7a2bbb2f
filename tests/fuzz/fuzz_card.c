/*
 * Fuzz target "card": the card-format decoders under the OpenSC driver and the PC/SC login
 * (lib/mn_apdu.h, mn_tlv.h, mn_tokeninfo.h, mn_pin.h), each on the whole input: C-APDU parse
 * and rebuild (the simulator's side), R-APDU split and PIN-tries status words, BER-TLV,
 * EF 0006 token info (decode, encode, decode), PIN and sign-password format checks. The
 * driver itself, on top of these, is fuzz_opensc_driver.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_apdu.h"
#include "mn_err.h"
#include "mn_pin.h"
#include "mn_tlv.h"
#include "mn_tokeninfo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_capdu c;
	struct mn_tokeninfo ti, ti2;
	struct mn_tlv t;
	uint8_t out[300], enc[160];
	size_t dlen, olen;
	uint16_t sw;
	int tries;

	if (mn_capdu_parse(data, size, &c) == MN_OK) {
		if (c.lc > size || (c.lc > 0 && (c.data < data || c.data + c.lc > data + size)))
			abort();
		if (mn_capdu_build(c.cla, c.ins, c.p1, c.p2, c.data, c.lc, c.has_le ? c.le : 0, out,
		                   sizeof(out), &olen) == MN_OK &&
		    olen > size)
			abort();
	}
	if (mn_rapdu_split(data, size, &dlen, &sw) == MN_OK) {
		if (dlen + 2 != size)
			abort();
		(void)mn_sw_pin_tries(sw, &tries);
	}
	if (mn_tlv_parse(data, size, &t) == MN_OK && t.hdr_len + t.len > size)
		abort();
	(void)mn_tlv_find(data, size, 0x5f1f, &t);
	if (mn_tokeninfo_parse(data, size, &ti) == MN_OK) {
		(void)mn_token_kind_label(ti.kind);
		(void)mn_token_kind_name(ti.kind);
		if (mn_tokeninfo_encode(&ti, enc) == MN_OK &&
		    mn_tokeninfo_parse(enc, 160, &ti2) != MN_OK)
			abort();
	}
	(void)mn_pin_check_digits4(data, size);
	(void)mn_pin_check_new_sign(data, size);
	(void)mn_pin_normalize_sign(data, size, out, MN_SIGN_PW_MAX + 1);
	return 0;
}
