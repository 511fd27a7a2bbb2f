/*
 * ISO/IEC 18013-5 over NFC, reader side: NFC Forum Type 4 tag engagement (static handover and
 * TNEP negotiated handover) and NFC data retrieval (ENVELOPE / GET RESPONSE).
 *
 * Nothing here knows PC/SC: APDUs go through a caller-supplied transmit callback, so the same
 * code runs against a reader, a simulator or a scripted fake card. Every loop is bounded (poll
 * counts, chunk counts, message size) and every length from the phone is checked before use.
 *
 * struct mn_mdoc_transport is the message-level interface the session layer uses: send one
 * SessionEstablishment / SessionData, receive the answer, close. mn_nfc_transport() provides it
 * over NFC data retrieval; a BLE implementation can provide the same ops later.
 */
#ifndef MN_NFC_H
#define MN_NFC_H

#include <stddef.h>
#include <stdint.h>

#include "mn_ndef.h"

/* ---------------------------------------------------------------- message transport */

struct mn_mdoc_transport_ops {
	/* Send one complete message (SessionEstablishment or SessionData). */
	int (*send)(void *ctx, const uint8_t *msg, size_t len);
	/* Receive the next complete message; *msg is free()d by the caller. */
	int (*receive)(void *ctx, uint8_t **msg, size_t *len);
	/* End the session at transport level (ctx stays owned by whoever made it). */
	void (*close)(void *ctx);
};

struct mn_mdoc_transport {
	const struct mn_mdoc_transport_ops *ops;
	void *ctx;
};

int mn_mdoc_transport_send(const struct mn_mdoc_transport *t, const uint8_t *msg, size_t len);
int mn_mdoc_transport_receive(const struct mn_mdoc_transport *t, uint8_t **msg, size_t *len);
void mn_mdoc_transport_close(const struct mn_mdoc_transport *t);

/* ---------------------------------------------------------------- APDU level */

/*
 * Send one command APDU and receive the response (data + SW1 SW2) into rapdu (capacity rcap);
 * return 0 and set *rlen, or a negative MN_ERR_* (e.g. MN_ERR_TOKEN_REMOVED).
 */
typedef int (*mn_apdu_transmit_fn)(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu,
                                   size_t rcap, size_t *rlen);

/* Sleep for the TNEP waiting time; NULL in the options means nanosleep(). */
typedef void (*mn_sleep_fn)(void *ctx, uint32_t usec);

#define MN_NFC_MAX_MSG      (1024u * 1024) /* bound on one data retrieval message */
#define MN_NFC_MAX_CHUNKS   8192           /* ENVELOPE / GET RESPONSE exchanges per message */
#define MN_NFC_MAX_POLLS    64             /* TNEP reads while the tag answers NLEN = 0 */
#define MN_NFC_RAPDU_MAX    (65536 + 2)
#define MN_NFC_SW_OK        0x9000
#define MN_NFC_SW_NOT_FOUND 0x6a82

struct mn_nfc_opts {
	int extended;        /* extended-length APDUs for data retrieval (else short) */
	size_t max_cmd_data; /* ENVELOPE data per APDU (short <= 255, extended <= 65535); 0 = max */
	size_t max_msg;      /* 0 = MN_NFC_MAX_MSG */
	unsigned max_chunks; /* 0 = MN_NFC_MAX_CHUNKS */
	unsigned max_polls;  /* 0 = MN_NFC_MAX_POLLS */
	mn_sleep_fn sleep;   /* NULL = nanosleep */
	void *sleep_ctx;
};

struct mn_nfc;

/* opts may be NULL (short APDUs, default bounds). */
int mn_nfc_new(mn_apdu_transmit_fn transmit, void *ctx, const struct mn_nfc_opts *opts,
               struct mn_nfc **ret);
void mn_nfc_free(struct mn_nfc **n);

/* The status word of the last response (0 before any). */
uint16_t mn_nfc_last_sw(const struct mn_nfc *n);

/*
 * Type 4 tag: SELECT the NDEF application (D2760000850101), SELECT the CC file E103, READ it and
 * check it (mapping version 2.x/3.x, MLe >= 15, MLc >= 1, NDEF file control TLV 04, file id
 * not reserved, read access 00), then SELECT the NDEF file it names. SW 6A82 (a locked Android
 * answers it) is MN_ERR_NOT_FOUND: the caller may poll again.
 */
int mn_nfc_ndef_select(struct mn_nfc *n);

/*
 * READ BINARY NLEN, then the message in chunks <= min(MLe, 255). NLEN = 0 gives *msg = NULL,
 * *len = 0. NLEN beyond the file's maximum size: MN_ERR_FORMAT.
 */
int mn_nfc_ndef_read(struct mn_nfc *n, uint8_t **msg, size_t *len);

/*
 * UPDATE BINARY of a whole NDEF message: one APDU (NLEN || msg) when it fits MLc, else
 * NLEN = 0, the message in chunks <= MLc, then NLEN. MN_ERR_UNSUPPORTED when write access is
 * not granted, MN_ERR_TOO_LARGE when the message exceeds the file.
 */
int mn_nfc_ndef_write(struct mn_nfc *n, const uint8_t *msg, size_t len);

/*
 * Engagement. Reads the NDEF file: a Handover Select is a static handover (*hr = NULL); a TNEP
 * Service Parameter for urn:nfc:sn:handover starts a negotiated handover: write Ts, read Te
 * (status 0), write the Handover Request built from hr_params (required then), poll (bounded)
 * until the Handover Select arrives. *hs is the parsed Handover Select; *hr (mn_handover too)
 * the request exactly as sent. Needs mn_nfc_ndef_select() first.
 */
int mn_nfc_engage(struct mn_nfc *n, const struct mn_hr_params *hr_params, struct mn_handover **hs,
                  struct mn_handover **hr);

/* NFC data retrieval: SELECT AID A0000002480400. */
int mn_nfc_mdoc_select(struct mn_nfc *n);

/*
 * One request/response: msg is wrapped in DO'53', sent with ENVELOPE (CLA 10 for all but the
 * last APDU); the answer is collected through GET RESPONSE while SW = 61xx and its DO'53' is
 * unwrapped. *resp is free()d by the caller. MN_ERR_TOO_LARGE past max_msg or max_chunks.
 */
int mn_nfc_mdoc_exchange(struct mn_nfc *n, const uint8_t *msg, size_t len, uint8_t **resp,
                         size_t *resp_len);

/* The message transport over data retrieval: send = exchange, receive = its answer. */
void mn_nfc_transport(struct mn_nfc *n, struct mn_mdoc_transport *out);

/* BER-TLV DO'53' framing (exposed for tests): wrap adds 53 + length (short, 81, 82, 83). */
int mn_nfc_do53_wrap(const uint8_t *msg, size_t len, uint8_t **out, size_t *out_len);
/* unwrap checks the tag, the length form and that the length covers exactly the input. */
int mn_nfc_do53_unwrap(const uint8_t *buf, size_t len, const uint8_t **val, size_t *val_len);

#endif
