/*
 * Fuzz target "http": the JSON answer of the "http" revocation backend's REST service
 * (revocation/http_json.c: http_parse_answer, http_parse_time). The HTTP exchange itself is
 * libcurl's.
 */
#include "config.h"

#include "fuzz.h"
#include "http_internal.h"
#include "mn_err.h"

#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_fields f;
	const char *why = NULL;
	int64_t t;

	memset(&f, 0, sizeof(f));
	if (http_parse_answer((const char *)data, size, &f, &why) == MN_OK) {
		if (f.successor_len > sizeof(f.successor) ||
		    (f.reason != -1 && (f.reason < 0 || f.reason > 10)))
			abort();
	} else if (why == NULL) {
		abort(); /* a refusal always says why */
	}
	(void)http_parse_time((const char *)data, size, &t);
	return 0;
}
