/*
 * Fuzz target "cbor": the strict CBOR loader every mdoc message goes through
 * (lib/mdoc/mn_cbor.h: canonical, definite lengths, bounded depth and size), the map and
 * integer accessors, and the date parsers (tdate, full-date) on the input as text.
 */
#include "config.h"

#include <cbor.h>
#include <stdlib.h>

#include "fuzz.h"
#include "mn_cbor.h"
#include "mn_err.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void walk(const cbor_item_t *it, unsigned depth)
{
	size_t i, n;
	int64_t v;

	if (depth > MN_CBOR_MAX_DEPTH + 1)
		abort(); /* the loader bounds the depth */
	(void)mn_cbor_get_int(it, &v);
	(void)mn_cbor_text_eq(it, "docType");
	if (cbor_isa_array(it) && cbor_array_is_definite(it)) {
		n = cbor_array_size(it);
		for (i = 0; i < n; i++) {
			cbor_item_t *c = cbor_array_get(it, i);
			walk(c, depth + 1);
			cbor_decref(&c);
		}
	} else if (cbor_isa_map(it) && cbor_map_is_definite(it)) {
		struct cbor_pair *p = cbor_map_handle(it);
		n = cbor_map_size(it);
		(void)mn_cbor_map_get(it, "docType");
		(void)mn_cbor_map_get_int(it, 1);
		(void)mn_cbor_map_get_int(it, -1);
		for (i = 0; i < n; i++) {
			walk(p[i].key, depth + 1);
			walk(p[i].value, depth + 1);
		}
	} else if (cbor_isa_tag(it)) {
		cbor_item_t *c = cbor_tag_item(it);
		walk(c, depth + 1);
		cbor_decref(&c);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cbor_item_t *it = NULL;
	char why[256];
	int64_t t;

	if (mn_cbor_load_strict(data, size, &it, why, sizeof(why)) == MN_OK) {
		if (it == NULL)
			abort();
		walk(it, 0);
		cbor_decref(&it);
	}
	(void)mn_cbor_parse_rfc3339((const char *)data, size, &t);
	(void)mn_cbor_parse_tdate_utc((const char *)data, size, &t);
	(void)mn_cbor_is_full_date((const char *)data, size);
	return 0;
}
