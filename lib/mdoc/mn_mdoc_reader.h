/*
 * ISO/IEC 18013-5 presentation, reader side: NFC engagement (static or negotiated handover),
 * session establishment, one DeviceRequest for the smartphone My Number Card (docType
 * org.iso.23220.1.jp.mnc), the DeviceResponse through NFC data retrieval or (through the
 * ble_open callback) BLE, verification with mn_mdoc_verify, then session termination.
 *
 * The SessionTranscript is built from the exact bytes exchanged: the DeviceEngagement record
 * payload and the Handover Select / Request messages as read and written, and EReaderKeyBytes
 * as sent. The reader's ephemeral private key and the session keys live only during one run.
 */
#ifndef MN_MDOC_READER_H
#define MN_MDOC_READER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "mn_mdoc.h"
#include "mn_nfc.h"

#define MN_MDOC_JP_DOCTYPE           "org.iso.23220.1.jp.mnc"
#define MN_MDOC_JP_NAMESPACE         "org.iso.23220.1.jp"
#define MN_MDOC_JP_INDIVIDUAL_NUMBER "individual_number_unicode"
#define MN_MDOC_READER_MAX_ELEMENTS  64
#define MN_MDOC_READER_MAX_NAME      256 /* bytes in a namespace or element identifier */

/* Why an individual_number_unicode request is refused (for messages). */
#define MN_MDOC_READER_FORBIDDEN_MSG                                                               \
	"individual_number_unicode is never requested: the My Number Act forbids collecting "      \
	"the individual number for login"

/* The phone sent SessionData status 10/11/20 instead of a DeviceResponse. */
#define MN_MDOC_READER_ERR_TERMINATED MN_ERR_EOF
/*
 * With *failed = MN_MDOC_CHECK_DEVICE_AUTH: the phone authenticated with deviceMac and
 * allow_device_mac is off (no other device-auth failure returns this code).
 */
#define MN_MDOC_READER_ERR_MAC_REFUSED MN_ERR_INVALID_ARG

struct mn_mdoc_element {
	const char *ns;
	const char *id;
};

struct mn_mdoc_reader_opts {
	mn_apdu_transmit_fn transmit; /* required */
	void *transmit_ctx;
	const struct mn_nfc_opts *nfc;          /* NULL: short APDUs, default bounds */
	STACK_OF(X509) *iaca;                   /* required, borrowed */
	const struct mn_mdoc_element *elements; /* NULL: mn_mdoc_reader_default_elements */
	size_t n_elements;
	int allow_device_mac;    /* accept deviceMac (else only deviceSignature) */
	unsigned skew;           /* seconds */
	time_t at;               /* verification time; 0 = now */
	unsigned select_polls;   /* SELECT NDEF retries while the phone answers 6A82; 0 = 25 */
	uint32_t select_wait_us; /* between them; 0 = 200 ms */
	/*
	 * BLE data retrieval in mdoc central client mode (the phone is the central, we the GATT
	 * server), used when the phone offers no NFC data retrieval (Apple Wallet). NULL: no BLE
	 * carrier is offered. Called after a negotiated handover with the service UUID put in the
	 * Handover Request and EDeviceKeyBytes (#6.24 bstr) exactly as in the DeviceEngagement;
	 * on success *out is a connected transport that the reader closes (once). On failure a
	 * negative MN_ERR_* (returned by mn_mdoc_reader_run unchanged) and a message in why.
	 * mn_ble_reader_open (mn_ble.h) is one; this file does not depend on it.
	 */
	int (*ble_open)(void *ctx, const uint8_t uuid[16], const uint8_t *edevice_key_bytes,
	                size_t len, struct mn_mdoc_transport *out, char *why, size_t whylen);
	void *ble_ctx;
};

struct mn_mdoc_reader;

/* The elements requested by default (full name and birth date, namespace org.iso.23220.1.jp). */
const struct mn_mdoc_element *mn_mdoc_reader_default_elements(size_t *n);

/*
 * Check a request list: 1..MN_MDOC_READER_MAX_ELEMENTS elements, non-empty names of at most
 * MN_MDOC_READER_MAX_NAME bytes, no duplicate, and never individual_number_unicode (in any
 * namespace). MN_ERR_INVALID_ARG otherwise; why (may be NULL) gets the reason.
 */
int mn_mdoc_reader_check_elements(const struct mn_mdoc_element *e, size_t n, char *why,
                                  size_t whylen);

/* Copies opts (elements included; iaca stays borrowed). MN_ERR_INVALID_ARG as above. */
int mn_mdoc_reader_new(const struct mn_mdoc_reader_opts *opts, struct mn_mdoc_reader **ret);
void mn_mdoc_reader_free(struct mn_mdoc_reader **r);

/*
 * Run one presentation. The carrier: NFC data retrieval when the phone's Handover Select
 * offers it, else BLE when it offers BLE, ble_open is set and the handover was negotiated
 * (the service UUID is ours, from the Handover Request). On success *ret gets the verified
 * elements. On failure a negative MN_ERR_*: MN_MDOC_READER_ERR_TERMINATED when the phone ended
 * the session, MN_ERR_NO_TOKEN / MN_ERR_TOKEN_REMOVED from the transport, MN_ERR_UNSUPPORTED
 * when the phone offers no carrier we can use (no NFC data retrieval, and BLE is off, only
 * in a static handover, or only in peripheral server mode), ble_open's own error when it
 * fails; a failed verification returns mn_mdoc_verify's error with *failed set (else
 * *failed is MN_MDOC_CHECK_NONE), MN_MDOC_READER_ERR_MAC_REFUSED for a deviceMac that
 * allow_device_mac does not allow. why (may be NULL) gets a message.
 */
int mn_mdoc_reader_run(struct mn_mdoc_reader *r, struct mn_mdoc_result **ret,
                       enum mn_mdoc_check *failed, char *why, size_t whylen);

/* ---------------------------------------------------------------- builders (exposed for tests) */

/*
 * SessionTranscriptBytes = #6.24(bstr .cbor [#6.24(bstr DE), EReaderKeyBytes, Handover]) with
 * Handover = [bstr hs, bstr hr] or [bstr hs, null] when hr is NULL. ereader_key must already be
 * EReaderKeyBytes (tag 24 form, copied as is). *out is free()d by the caller.
 */
int mn_mdoc_session_transcript_build(const uint8_t *de, size_t de_len, const uint8_t *ereader_key,
                                     size_t ek_len, const uint8_t *hs, size_t hs_len,
                                     const uint8_t *hr, size_t hr_len, uint8_t **out,
                                     size_t *outlen);

/*
 * ItemsRequest = {"docType": doctype, "nameSpaces": {ns: {id: false}}}, namespaces in order of
 * first appearance. Elements checked as mn_mdoc_reader_check_elements.
 */
int mn_mdoc_items_request_build(const char *doctype, const struct mn_mdoc_element *e, size_t n,
                                uint8_t **out, size_t *outlen);

/* DeviceRequest = {"version": "1.0", "docRequests": [{"itemsRequest": #6.24(bstr items)}]}. */
int mn_mdoc_device_request_build(const uint8_t *items, size_t items_len, uint8_t **out,
                                 size_t *outlen);

#endif
