/*
 * NDEF messages and the NFC Forum connection handover used by ISO/IEC 18013-5 NFC engagement.
 *
 * Pure functions over byte buffers: nothing here talks to a reader. Parsed records point into
 * the caller's buffer; the handover objects keep their own copy of the message so that the
 * exact bytes (needed for the SessionTranscript's Handover, hashed as received) stay available.
 *
 * Strictness: MB only on the first record, ME only on the last, nothing after ME, chunked
 * records (CF) refused, TNF 6/7 refused, type/ID/payload lengths checked against the buffer
 * before use, at most MN_NDEF_MAX_RECORDS records and MN_NDEF_MAX_MSG bytes.
 */
#ifndef MN_NDEF_H
#define MN_NDEF_H

#include <stddef.h>
#include <stdint.h>

#define MN_NDEF_MAX_RECORDS 32
#define MN_NDEF_MAX_MSG     (1024u * 1024) /* bound on one NDEF message */

/* record header flags */
#define MN_NDEF_MB 0x80
#define MN_NDEF_ME 0x40
#define MN_NDEF_CF 0x20
#define MN_NDEF_SR 0x10
#define MN_NDEF_IL 0x08

enum mn_ndef_tnf {
	MN_NDEF_TNF_EMPTY = 0,
	MN_NDEF_TNF_WELL_KNOWN = 1,
	MN_NDEF_TNF_MIME = 2,
	MN_NDEF_TNF_URI = 3,
	MN_NDEF_TNF_EXTERNAL = 4,
	MN_NDEF_TNF_UNKNOWN = 5,
};

struct mn_ndef_record {
	uint8_t tnf;
	uint8_t flags; /* MB/ME/SR/IL as received */
	const uint8_t *type, *id, *payload;
	size_t type_len, id_len, payload_len;
	const uint8_t *raw; /* the whole record, header included */
	size_t raw_len;
};

struct mn_ndef_msg {
	size_t n;
	struct mn_ndef_record rec[MN_NDEF_MAX_RECORDS];
};

/*
 * Parse one complete NDEF message. Errors: MN_ERR_TRUNCATED (ends inside a record or before a
 * record with ME), MN_ERR_TRAILING (bytes after ME), MN_ERR_UNSUPPORTED (chunked record),
 * MN_ERR_FORMAT (MB/ME misplaced, bad TNF or type length), MN_ERR_TOO_LARGE (too many records
 * or too many bytes). *out is written only on success; its records point into buf.
 */
int mn_ndef_parse(const uint8_t *buf, size_t len, struct mn_ndef_msg *out);

/* 1 when rec has the given TNF and type (exact bytes), else 0. */
int mn_ndef_record_is(const struct mn_ndef_record *rec, uint8_t tnf, const char *type);

/* ---------------------------------------------------------------- connection handover */

#define MN_NDEF_TYPE_HS  "Hs"
#define MN_NDEF_TYPE_HR  "Hr"
#define MN_NDEF_TYPE_AC  "ac"
#define MN_NDEF_TYPE_CR  "cr"
#define MN_NDEF_TYPE_DE  "iso.org:18013:deviceengagement"
#define MN_NDEF_TYPE_RE  "iso.org:18013:readerengagement"
#define MN_NDEF_TYPE_NFC "iso.org:18013:nfc"
#define MN_NDEF_MIME_BLE "application/vnd.bluetooth.le.oob"
#define MN_NDEF_MIME_NAN "application/vnd.wfa.nan"

#define MN_NDEF_MAX_CARRIERS 8

enum mn_carrier_kind {
	MN_CARRIER_OTHER = 0,
	MN_CARRIER_BLE = 1, /* application/vnd.bluetooth.le.oob */
	MN_CARRIER_NFC = 2, /* iso.org:18013:nfc */
	MN_CARRIER_NAN = 3, /* application/vnd.wfa.nan */
};

/* One alternative carrier with its configuration record (pointers into the handover's copy). */
struct mn_carrier {
	enum mn_carrier_kind kind;
	uint8_t cps;           /* carrier power state, 0..3 */
	const uint8_t *config; /* configuration record payload */
	size_t config_len;
	const uint8_t *id; /* carrier data reference = the configuration record's ID */
	size_t id_len;
	size_t aux_count; /* auxiliary data references in the ac record */
};

/* What a BLE OOB configuration says that 18013-5 uses (absent fields: has_* = 0). */
struct mn_ble_oob {
	int has_role;
	uint8_t le_role; /* 0 peripheral only, 1 central only, 2/3 both */
	int has_uuid;
	uint8_t uuid[16]; /* big-endian, as written in a UUID string */
	int has_address;
	uint8_t address[7]; /* LE device address (6, little-endian) + address type */
};

/* The ISO 18013-5 NFC carrier configuration: version and maximum data field lengths. */
struct mn_nfc_carrier {
	uint8_t version;
	uint32_t max_cmd; /* 0 when not given */
	uint32_t max_resp;
};

struct mn_handover;

/*
 * Parse a Handover Select message ("Hs", major version 1) carrying an mdoc DeviceEngagement
 * record (external type iso.org:18013:deviceengagement). Each ac record's carrier data
 * reference must name exactly one record of the message. Errors as mn_ndef_parse, plus
 * MN_ERR_FORMAT (not Hs, bad ac record, dangling reference, two DE records), MN_ERR_UNSUPPORTED
 * (major version not 1), MN_ERR_NOT_FOUND (no DeviceEngagement record).
 */
int mn_handover_parse_select(const uint8_t *buf, size_t len, struct mn_handover **ret);

/* The same for a Handover Request ("Hr"); the ReaderEngagement record is optional. */
int mn_handover_parse_request(const uint8_t *buf, size_t len, struct mn_handover **ret);

void mn_handover_free(struct mn_handover **h);

/* The whole message, exactly as parsed (for the SessionTranscript). */
const uint8_t *mn_handover_bytes(const struct mn_handover *h, size_t *len);

/* Hs: the exact DeviceEngagement bytes; Hr: the ReaderEngagement bytes or NULL. */
const uint8_t *mn_handover_engagement(const struct mn_handover *h, size_t *len);

/* Version byte (0x15 for 1.5). */
uint8_t mn_handover_version(const struct mn_handover *h);

size_t mn_handover_carrier_count(const struct mn_handover *h);

/* The i-th alternative carrier; MN_ERR_NOT_FOUND past the end. */
int mn_handover_carrier(const struct mn_handover *h, size_t i, struct mn_carrier *out);

/* The first carrier of a kind; MN_ERR_NOT_FOUND when there is none. */
int mn_handover_find_carrier(const struct mn_handover *h, enum mn_carrier_kind kind,
                             struct mn_carrier *out);

/* Decode a BLE OOB configuration (length/type/value list); MN_ERR_FORMAT/TRUNCATED if bad. */
int mn_ble_oob_parse(const uint8_t *cfg, size_t len, struct mn_ble_oob *out);

/* Decode an iso.org:18013:nfc configuration (version, then optional length-prefixed maxima). */
int mn_nfc_carrier_parse(const uint8_t *cfg, size_t len, struct mn_nfc_carrier *out);

/* What goes into a reader's Handover Request (18013-5 negotiated handover). */
struct mn_hr_params {
	uint16_t random; /* collision resolution number */
	int ble;         /* include a BLE OOB carrier */
	uint8_t le_role; /* normally 0: the reader is the peripheral, the mdoc the central */
	uint8_t uuid[16];
	int nfc; /* include the NFC data retrieval carrier */
	uint16_t nfc_max_cmd, nfc_max_resp;
	const uint8_t *reader_engagement; /* NULL: {0: "1.0"} */
	size_t reader_engagement_len;
};

/* Build a Handover Request (v1.5) message; *out is free()d by the caller. */
int mn_handover_build_request(const struct mn_hr_params *p, uint8_t **out, size_t *len);

/* ---------------------------------------------------------------- TNEP (NFC Forum TNEP 1.0) */

#define MN_TNEP_HANDOVER_SERVICE "urn:nfc:sn:handover"

/* A Service Parameter record ("Tp"). uri points into the parsed buffer. */
struct mn_tnep_param {
	uint8_t version; /* 0x10 */
	const uint8_t *uri;
	size_t uri_len;
	uint8_t mode;      /* 0: single response */
	uint8_t wt;        /* minimum waiting time, encoded */
	uint8_t n_wait;    /* maximum number of waiting time extensions */
	uint16_t max_ndef; /* maximum NDEF message size */
};

/* Parse one Tp record payload (exact length, nothing trailing). */
int mn_tnep_param_parse(const uint8_t *payload, size_t len, struct mn_tnep_param *out);

/*
 * Find the Tp record announcing service uri in an NDEF message: MN_ERR_NOT_FOUND when the
 * message has no such record (e.g. it is a static Handover Select).
 */
int mn_tnep_find_service(const uint8_t *msg, size_t len, const char *uri,
                         struct mn_tnep_param *out);

/* The waiting time the tag asks for, in microseconds: 2^(wt/4 - 1) ms. */
uint32_t mn_tnep_wait_us(uint8_t wt);

/* Build a one-record Service Select ("Ts") message for uri; *out is free()d by the caller. */
int mn_tnep_build_select(const char *uri, uint8_t **out, size_t *len);

/* Read the Status record ("Te") of a message: *status is its status byte (0 = success). */
int mn_tnep_parse_status(const uint8_t *msg, size_t len, uint8_t *status);

#endif
