/*
 * Fuzz target "conf": /etc/mynumber/mynumber.conf, parsed by mn_conf_parse (the parser of
 * mn_conf_load, read by the PAM module, the helper and the tools), then every accessor the
 * readers use.
 */
#include "config.h"

#include "fuzz.h"
#include "mn_conf.h"
#include "mn_err.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_conf *c = NULL;
	const char *const *keys, *const *vals;
	char err[512];
	unsigned u;
	size_t n, i;
	int b;
	static const char *const backends[] = {"crl", "ocsp", "http", "denylist"};

	if (mn_conf_parse("fuzz.conf", (const char *)data, size, &c, err, sizeof(err)) != MN_OK)
		return 0;
	(void)mn_conf_get(c, "", "store_backend");
	(void)mn_conf_get(c, "ldap", "uri");
	(void)mn_conf_get_uint(c, "accounts", "uid_min", &u);
	(void)mn_conf_get_bool(c, "", "debug", &b);
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (mn_conf_backend_settings(c, backends[i], &keys, &vals, &n) == MN_OK && n > 0)
			(void)mn_conf_backend_get(c, backends[i], keys[n - 1]);
	}
	mn_conf_free(&c);
	return 0;
}
