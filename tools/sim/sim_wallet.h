/*
 * mynumber-sim "wallet" profile: a phone presenting the smartphone My Number Card as an
 * ISO/IEC 18013-5 mdoc over NFC (Type 4 tag engagement, static or TNEP negotiated handover,
 * then ENVELOPE / GET RESPONSE data retrieval).
 *
 * sim_wallet_init.c  "init --profile wallet": test IACA + DS, device key, wallet.conf
 * sim_wallet.c       the phone: NDEF tag, handover, session, DeviceResponse
 * sim_ble.c          BLE data retrieval: a fake org.bluez on a private D-Bus bus, the phone as
 *                    the BLE central (sim_ble.h)
 *
 * Threads: the vpcd loop and the BLE thread share one wallet; every function below that takes
 * a struct sim_wallet locks it.
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

/* the carriers of the Handover Select */
enum sim_carrier {
	SIM_CARRIER_NFC = 0, /* NFC data retrieval only (default) */
	SIM_CARRIER_BLE,     /* only BLE, LE Role central only, no UUID (like Apple Wallet) */
	SIM_CARRIER_BOTH,    /* NFC, then BLE */
};

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
	enum sim_carrier carrier;
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

/*
 * One engagement (DeviceEngagement, Hs, Hr) and the session run on it. The NFC side has its
 * own; when the wallet offers BLE and a Handover Request names a BLE UUID, a copy waits for the
 * BLE central (sim_wallet_ble_take).
 */
struct sim_wallet_eng;

void sim_wallet_eng_free(struct sim_wallet_eng **e);

/*
 * Take the engagement waiting for BLE if the reader's Handover Request named uuid (16 bytes,
 * big-endian) and it is at most max_age_s old (0: any age). MN_ERR_NOT_FOUND otherwise.
 */
int sim_wallet_ble_take(struct sim_wallet *w, const uint8_t uuid[16], long max_age_s,
                        struct sim_wallet_eng **ret);
/* The UUID of the engagement waiting for BLE; MN_ERR_NOT_FOUND when none waits. */
int sim_wallet_ble_pending_uuid(struct sim_wallet *w, uint8_t uuid[16]);
/* The Ident characteristic value of an engagement (mn_mdoc_ble_ident over EDeviceKeyBytes). */
int sim_wallet_eng_ident(const struct sim_wallet_eng *e, uint8_t ident[16]);

#define SIM_WALLET_MSG_END        1u /* the session is over after this answer */
#define SIM_WALLET_MSG_READER_END 2u /* the reader ended it (SessionData status 20) */

/*
 * The mdoc side of one message, shared by NFC (ENVELOPE) and BLE: a SessionEstablishment (no
 * session yet) or SessionData in, the SessionData answer out (*out free()d by the caller), with
 * the simulated user verification, status 10/11/20 answers and --record/--replay as for NFC.
 */
int sim_wallet_message(struct sim_wallet *w, struct sim_wallet_eng *e, const uint8_t *msg,
                       size_t len, uint8_t **out, size_t *out_len, unsigned *flags);

#endif
