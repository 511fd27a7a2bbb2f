/*
 * Fuzz target "ldapcache": the local cache of the LDAP store source (lib/mn_storesrc.h):
 * mn_store_cache_parse for one user and for all, and mn_store_cache_parse_marker.
 */
#include "config.h"

#include <time.h>

#include "fuzz.h"
#include "mn_err.h"
#include "mn_storesrc.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_store *s = NULL;
	time_t fetched = 0;
	char err[256];

	(void)mn_store_cache_parse_marker((const char *)data, size, &fetched);
	if (mn_store_cache_parse("cache", (const char *)data, size, "alice", &s, &fetched, err,
	                         sizeof(err)) == MN_OK)
		mn_store_free(&s);
	if (mn_store_cache_parse("cache", (const char *)data, size, NULL, &s, &fetched, err,
	                         sizeof(err)) == MN_OK)
		mn_store_free(&s);
	return 0;
}
