/*
 * Fuzz target "cardinfo": the card-info AP's attribute record (EF 0002: name, address, birth,
 * sex in BER-TLV, lib/mn_cardinfo.h) and the TLV walker under it. A decoded record must
 * encode and decode back to the same attributes.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_cardinfo.h"
#include "mn_err.h"
#include "mn_tlv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_attrs a, b;
	struct mn_tlv t;
	uint8_t *enc;
	size_t n, off = 0;
	uint32_t tag;
	size_t hl, vl;

	(void)mn_utf8_valid(data, size);
	while (off < size && mn_tlv_header(data + off, size - off, &tag, &hl, &vl) == MN_OK) {
		if (hl > size - off || vl > size - off - hl)
			break; /* the header only: the value need not be there */
		off += hl + vl;
	}
	(void)mn_tlv_find(data, size, 0xdf22, &t);
	if (mn_attrs_decode(data, size, &a) != MN_OK)
		return 0;
	if ((enc = malloc(4096)) == NULL)
		return 0;
	if (mn_attrs_encode(&a, enc, 4096, &n) == MN_OK) {
		if (mn_attrs_decode(enc, n, &b) != MN_OK || strcmp(a.name, b.name) != 0 ||
		    strcmp(a.address, b.address) != 0 || strcmp(a.birth, b.birth) != 0 ||
		    a.sex != b.sex)
			abort();
	}
	free(enc);
	return 0;
}
