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

/* The content of an EF read whole (TLV-structured EFs are read whole to learn their size). */
struct mn_ef {
	enum mn_ap ap;
	unsigned fid; /* 0: empty */
	unsigned char *data;
	size_t len;
};

#define MN_EF_CACHE_SLOTS 3

struct mn_drv {
	struct mn_tokeninfo ti;
	int cardinfo_enabled; /* opensc.conf: card_driver mynumber { card_info = yes; } */
	int ca_certs_enabled; /* opensc.conf: ca_certificates = no hides the CA certificates */
	enum mn_ap ap;        /* AP believed current on the card; MN_AP_NONE forces a SELECT */
	int ap_confirmed;     /* ap was selected in the current transaction */
	unsigned verified;    /* bit (1 << ref) for each PIN verified in the current AP */
	unsigned cur_fid;     /* EF current on the card, 0 when unknown */
	enum mn_ap sel_ap;    /* what OpenSC last selected; may be served from memory */
	unsigned sel_fid;
	/* public certificate EFs (free to read on the card) kept for the card's lifetime */
	struct mn_ef cache[MN_EF_CACHE_SLOTS];
	/* any other EF read whole: wiped at the next selection or transaction */
	struct mn_ef cur;
};

#define MN_DRV(card) ((struct mn_drv *)(card)->drv_data)

struct sc_card_driver *mn_get_card_driver(void);
int mn_pkcs15emu_init(struct sc_pkcs15_card *p15card, struct sc_aid *aid);

#endif
