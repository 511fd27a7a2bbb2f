/*
 * Private state shared by the My Number card driver and its PKCS#15 emulator.
 * Built against the internal headers of the installed OpenSC (see configure.ac).
 */
#ifndef MN_DRIVER_H
#define MN_DRIVER_H

#include "libopensc/internal.h"
#include "libopensc/opensc.h"
#include "libopensc/pkcs15.h"

#include "mn_tokeninfo.h"

/* A private card type: OpenSC's built-in jpki emulator never claims it. */
#define MN_CARD_TYPE 0x4D4E0001

#define MN_DRIVER_SHORT_NAME "mynumber"

enum mn_ap { MN_AP_NONE = 0, MN_AP_JPKI, MN_AP_CARDINFO };

/* PIN references used between the emulator and the driver. */
enum { MN_PIN_AUTH = 1, MN_PIN_SIGN = 2, MN_PIN_CARDINFO = 3 };

struct mn_drv {
	struct mn_tokeninfo ti;
	int cardinfo_enabled; /* opensc.conf: card_driver mynumber { card_info = yes; } */
	enum mn_ap ap;        /* AP believed current; MN_AP_NONE forces a SELECT */
	unsigned verified;    /* bit (1 << ref) for each PIN verified in the current AP */
	unsigned cur_fid;     /* EF selected in the current AP, 0 when unknown */
	/* first chunk of the current EF, read to learn its size and served again */
	unsigned char chunk[256];
	size_t chunk_len;
	unsigned chunk_fid;
};

#define MN_DRV(card) ((struct mn_drv *)(card)->drv_data)

struct sc_card_driver *mn_get_card_driver(void);
int mn_pkcs15emu_init(struct sc_pkcs15_card *p15card, struct sc_aid *aid);

#endif
