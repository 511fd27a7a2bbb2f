/*
 * mynumber-sim "wallet" profile: a phone presenting the smartphone My Number Card as an
 * ISO/IEC 18013-5 mdoc over NFC (Type 4 tag engagement, static or TNEP negotiated handover,
 * then ENVELOPE / GET RESPONSE data retrieval).
 *
 * sim_wallet_init.c  "init --profile wallet": test IACA + DS, device key, wallet.conf
 * sim_wallet.c       the phone: NDEF tag, handover, session, DeviceResponse
 */
#ifndef MN_SIM_WALLET_H
#define MN_SIM_WALLET_H

#include <stddef.h>
#include <stdint.h>

#define SIM_WALLET_DOCTYPE   "org.iso.23220.1.jp.mnc"
#define SIM_WALLET_NS_JP     "org.iso.23220.1.jp"
#define SIM_WALLET_NS_ISO    "org.iso.23220.1"
#define SIM_WALLET_CHUNK     4096 /* R-APDU data per ENVELOPE / GET RESPONSE answer */
#define SIM_WALLET_RAPDU_MAX (SIM_WALLET_CHUNK + 2)

struct sim_card;

struct sim_wallet_init_opts {
	long valid_days; /* MSO validity from now (default 30) */
	int expired;     /* MSO valid from -30 days until -1 day */
};

struct sim_wallet_run_opts {
	int tnep;            /* negotiated handover instead of static */
	int biometric_ok;    /* the simulated user verification succeeds */
	long absent_after;   /* > 0: the phone leaves after this many data retrieval APDUs */
	int device_mac;      /* deviceMac (COSE_Mac0 under EMacKey) instead of deviceSignature */
	const char *record;  /* write each DeviceResponse sent (plaintext) to this file */
	const char *replay;  /* send this file's DeviceResponse instead of a fresh one */
	const char *doctype; /* NULL: SIM_WALLET_DOCTYPE; else answer with this document type */
};

int sim_wallet_init(const char *dir, const struct sim_wallet_init_opts *opts);

struct sim_wallet;

/* A sim_card carrying a wallet (card->wallet), loaded from DIR. */
int sim_wallet_card_load(const char *dir, const struct sim_wallet_run_opts *opts,
                         struct sim_card **out);
void sim_wallet_free(struct sim_wallet **w);
/* Power on/off/reset: a new engagement (fresh EDeviceKey), no session. */
void sim_wallet_reset(struct sim_wallet *w);
/*
 * One C-APDU (short or extended); out needs SIM_WALLET_RAPDU_MAX bytes. Returns
 * MN_ERR_TOKEN_REMOVED when the simulated phone has left the field.
 */
int sim_wallet_apdu(struct sim_wallet *w, const uint8_t *in, size_t in_len, uint8_t *out,
                    size_t *out_len);

#endif
