/*
 * Fuzz target "store": the enrollment store parser mn_store_parse (the file read at every
 * login), its re-serialisation (must parse again to the same text), and mn_store_add_record
 * (directory attribute values): the input's first line is the store, each further line one
 * record for a user.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_err.h"
#include "mn_store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_store *s = NULL, *s2 = NULL;
	char err[256], *text = NULL, *text2 = NULL, *rec;
	size_t len = 0, len2 = 0, i;
	const uint8_t *sep = memchr(data, 0, size);
	size_t store_len = sep != NULL ? (size_t)(sep - data) : size;

	/* store text up to the first NUL, then NUL-separated records */
	if (mn_store_parse("fuzz", (const char *)data, store_len, &s, err, sizeof(err)) == MN_OK) {
		if (mn_store_format(s, &text, &len) == MN_OK) {
			if (mn_store_parse("again", text, len, &s2, err, sizeof(err)) != MN_OK)
				abort(); /* what we write we must read */
			if (mn_store_format(s2, &text2, &len2) != MN_OK || len2 != len ||
			    memcmp(text, text2, len) != 0)
				abort(); /* and it must be stable */
		}
		for (i = 0; i < mn_store_count(s); i++)
			(void)mn_store_at(s, i);
	} else if (mn_store_new(&s) != MN_OK) {
		return 0;
	}
	while (sep != NULL) {
		const uint8_t *start = sep + 1, *end;
		size_t n;

		end = memchr(start, 0, size - (size_t)(start - data));
		n = end != NULL ? (size_t)(end - start) : size - (size_t)(start - data);
		if ((rec = malloc(n + 1)) == NULL)
			break;
		memcpy(rec, start, n);
		rec[n] = '\0';
		(void)mn_store_add_record(s, "fuzzuser", rec, err, sizeof(err));
		free(rec);
		sep = end;
	}
	mn_store_free(&s);
	mn_store_free(&s2);
	free(text);
	free(text2);
	return 0;
}
