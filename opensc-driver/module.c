/* The entry points OpenSC looks up in an external card driver / PKCS#15 emulator module. */
#include "config.h"

#include "mn_driver.h"

/* OpenSC refuses a module whose version does not start with its own PACKAGE_VERSION. */
const char *sc_driver_version(void);
void *sc_module_init(const char *name);
int sc_pkcs15_init_func_ex(struct sc_pkcs15_card *p15card, struct sc_aid *aid);

const char *sc_driver_version(void)
{
	return MN_OPENSC_VERSION;
}

void *sc_module_init(const char *name)
{
	(void)name;
	return (void *)mn_get_card_driver;
}

int sc_pkcs15_init_func_ex(struct sc_pkcs15_card *p15card, struct sc_aid *aid)
{
	return mn_pkcs15emu_init(p15card, aid);
}
