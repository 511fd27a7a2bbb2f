/*
 * ISO/IEC 18013-5 BLE data retrieval, reader side, in "mdoc central client mode": the phone
 * (Apple Wallet) is the BLE central and GATT client, this host the peripheral and GATT server.
 * Talks to BlueZ (bluetoothd) over D-Bus with sd-bus: exports the mdoc GATT service (State,
 * Client2Server, Server2Client, Ident; no L2CAP) under /org/mynumber/mdoc, advertises its
 * 128-bit service UUID, and offers the message transport (struct mn_mdoc_transport) on top.
 *
 * Framing: every message is cut into chunks of at most MTU - 3 bytes; the first byte of a
 * chunk is 0x01 (more follows) or 0x00 (last), the rest is data. Reader -> phone chunks are
 * notifications on Server2Client, phone -> reader chunks are writes to Client2Server. The
 * phone writes State 0x01 to start and may write 0x02 to end; the reader notifies 0x02 when it
 * closes.
 *
 * Every wait is bounded (a deadline per wait), every length from the phone is checked. No
 * global state; no key material passes through here (messages are already encrypted).
 * The pure helpers (UUID text, chunking, reassembly) are exposed for the unit tests.
 * Design, D-Bus contract and how to try it on real hardware: doc/mdoc-ble.md.
 */
#ifndef MN_BLE_H
#define MN_BLE_H

#include <stddef.h>
#include <stdint.h>

#include "mn_err.h"
#include "mn_nfc.h"

#define MN_BLE_MAX_MSG     (1024u * 1024) /* bound on one message, either way */
#define MN_BLE_MAX_CHUNKS  65536u         /* bound on the chunks of one message */
#define MN_BLE_MTU_MIN     23u            /* ATT default, also when BlueZ names none */
#define MN_BLE_MTU_MAX     517u           /* ATT maximum */
#define MN_BLE_UUID_STRLEN 36             /* 8-4-4-4-12 */
#define MN_BLE_WAIT_MIN    1u
#define MN_BLE_WAIT_MAX    120u
#define MN_BLE_WAIT_DEF    20u

/* chunk headers */
#define MN_BLE_CHUNK_MORE 0x01
#define MN_BLE_CHUNK_LAST 0x00

/* State characteristic values */
#define MN_BLE_STATE_START 0x01
#define MN_BLE_STATE_END   0x02

/* the 18013-5 mdoc central client mode characteristics */
#define MN_BLE_UUID_STATE   "00000005-a123-48ce-896b-4c76973373e6"
#define MN_BLE_UUID_C2S     "00000006-a123-48ce-896b-4c76973373e6"
#define MN_BLE_UUID_S2C     "00000007-a123-48ce-896b-4c76973373e6"
#define MN_BLE_UUID_IDENT   "00000008-a123-48ce-896b-4c76973373e6"
#define MN_BLE_IDENT_LEN    16
#define MN_BLE_APP_PATH     "/org/mynumber/mdoc"
#define MN_BLE_SERVICE_PATH MN_BLE_APP_PATH "/service0"
#define MN_BLE_ADV_PATH     MN_BLE_APP_PATH "/adv0"

/*
 * Errors of mn_ble_open that the login tells apart (each comes with its own message in why).
 * Everything else: MN_ERR_IO (the bus), MN_ERR_UNSUPPORTED (BlueZ refused the application or
 * the advertisement), MN_ERR_TIMEOUT (the phone did not connect), MN_ERR_NOMEM.
 */
#define MN_BLE_ERR_NO_BLUEZ    MN_ERR_UNAVAILABLE /* bluetoothd is not running */
#define MN_BLE_ERR_NO_ADAPTER  MN_ERR_NO_READER   /* no adapter with GATT + LE advertising */
#define MN_BLE_ERR_ADAPTER_OFF MN_ERR_NOT_FOUND   /* no powered adapter */
/* during a session: the phone disconnected / ended the session */
#define MN_BLE_ERR_DISCONNECTED MN_ERR_TOKEN_REMOVED
#define MN_BLE_ERR_ENDED        MN_ERR_EOF

/* ---------------------------------------------------------------- pure helpers */

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case, big-endian byte order. */
void mn_ble_uuid_str(const uint8_t uuid[16], char out[MN_BLE_UUID_STRLEN + 1]);

/* The MTU as used: below MN_BLE_MTU_MIN (or 0: none given) is MN_BLE_MTU_MIN, above
 * MN_BLE_MTU_MAX is MN_BLE_MTU_MAX. */
unsigned mn_ble_mtu_clamp(unsigned mtu);

/* How many chunks a message of len bytes takes at this MTU (header included; 0 for len 0). */
size_t mn_ble_chunk_count(size_t len, unsigned mtu);

/*
 * The chunk of msg starting at *off: header (MN_BLE_CHUNK_MORE / MN_BLE_CHUNK_LAST) and up to
 * mtu - 4 data bytes (mtu clamped) into out (cap >= that chunk's size), *out_len its size; *off
 * advances past the data. MN_ERR_INVALID_ARG for an empty message or *off >= len,
 * MN_ERR_TOO_LARGE for a message over MN_BLE_MAX_MSG or a cap too small.
 */
int mn_ble_chunk(const uint8_t *msg, size_t len, unsigned mtu, size_t *off, uint8_t *out,
                 size_t cap, size_t *out_len);

/* Reassembly of phone -> reader chunks. */
struct mn_ble_rx;

/* max_msg 0 = MN_BLE_MAX_MSG, max_chunks 0 = MN_BLE_MAX_CHUNKS (neither beyond those). */
int mn_ble_rx_new(size_t max_msg, unsigned max_chunks, struct mn_ble_rx **ret);
void mn_ble_rx_free(struct mn_ble_rx **rx);

/*
 * Add one chunk. Returns 0 when more chunks are expected, 1 when the chunk completed a
 * message (*msg, free()d by the caller, and *len set; the state is reset for the next one),
 * or a negative error after which the state is reset: MN_ERR_FORMAT (an empty chunk, a header
 * other than 0x00/0x01, a complete message of 0 bytes), MN_ERR_TOO_LARGE (past max_msg or
 * max_chunks), MN_ERR_NOMEM.
 */
int mn_ble_rx_add(struct mn_ble_rx *rx, const uint8_t *chunk, size_t n, uint8_t **msg, size_t *len);

/* Bytes buffered of a message not yet complete. */
size_t mn_ble_rx_pending(const struct mn_ble_rx *rx);

/*
 * A GATT ReadValue with an "offset" option: *part and *part_len the bytes of val from offset.
 * MN_ERR_INVALID_ARG when offset > len (BlueZ: org.bluez.Error.InvalidOffset).
 */
int mn_ble_read_at(const uint8_t *val, size_t len, size_t offset, const uint8_t **part,
                   size_t *part_len);

/* ---------------------------------------------------------------- the BlueZ transport */

struct mn_ble_opts {
	const char *bus_address; /* NULL or "": the system bus; else a D-Bus address */
	unsigned wait;           /* seconds for the phone to connect and per message; 0 = 20 */
	size_t max_msg;          /* 0 = MN_BLE_MAX_MSG */
	unsigned max_chunks;     /* 0 = MN_BLE_MAX_CHUNKS */
};

struct mn_ble;

/*
 * Find the adapter, export the GATT application and the advertisement for service uuid with
 * this Ident value, register both with BlueZ, then wait (at most opts->wait seconds) until the
 * phone has subscribed to Server2Client and written State 0x01. On success *ret is ready for
 * mn_ble_transport(). Errors: MN_BLE_ERR_NO_BLUEZ, MN_BLE_ERR_NO_ADAPTER,
 * MN_BLE_ERR_ADAPTER_OFF, MN_ERR_UNSUPPORTED (registration refused), MN_ERR_TIMEOUT (no
 * connection), MN_ERR_IO; why (may be NULL) gets an English message. Everything registered is
 * unregistered again on failure.
 */
int mn_ble_open(const struct mn_ble_opts *opts, const uint8_t uuid[16],
                const uint8_t ident[MN_BLE_IDENT_LEN], struct mn_ble **ret, char *why,
                size_t whylen);

/*
 * Notify State 0x02 (when the phone is still connected), unregister the advertisement and the
 * application (bounded waits), close the bus connection, free. Accepts NULL and *b == NULL.
 */
void mn_ble_free(struct mn_ble **b);

/*
 * The message transport: send = chunk + notify on Server2Client; receive = process the bus
 * until a whole message arrived (deadline opts->wait seconds; MN_ERR_TIMEOUT), MN_ERR_EOF when
 * the phone wrote State 0x02, MN_ERR_TOKEN_REMOVED when it disconnected; close = mn_ble_free
 * (the transport owns b: call close exactly once, and nothing else on b afterwards).
 */
void mn_ble_transport(struct mn_ble *b, struct mn_mdoc_transport *out);

/* The last error message of b (never NULL). */
const char *mn_ble_why(const struct mn_ble *b);

/* The smallest ATT MTU the phone reported (MN_BLE_MTU_MIN when it named none). */
unsigned mn_ble_mtu(const struct mn_ble *b);

/*
 * A ready-made opener for struct mn_mdoc_reader_opts.ble_open: ctx is a struct mn_ble_opts;
 * derives the Ident from EDeviceKeyBytes (mn_mdoc_ble_ident) and calls mn_ble_open.
 */
int mn_ble_reader_open(void *ctx, const uint8_t uuid[16], const uint8_t *edevice_key_bytes,
                       size_t len, struct mn_mdoc_transport *out, char *why, size_t whylen);

#endif
