/*
 * A fake BlueZ 5.66 for BLE data retrieval tests (sim_ble.h): org.bluez on a private bus,
 * plus the air and the phone as the BLE central of ISO/IEC 18013-5 mdoc central client mode.
 *
 * One thread owns the sd-bus connection. Everything is asynchronous: the registrations read the
 * caller's objects before replying (as BlueZ does; a reader that blocks in RegisterApplication
 * gets org.bluez.Error.Failed after CALL_TIMEOUT_US), and the central has at most one method
 * call to the reader's application outstanding (ReadValue, StartNotify, WriteValue in order).
 * Each step is logged to stderr ("mynumber-sim: ble: ...") for the tests.
 *
 * The phone connects once (1) the reader's GATT application is registered with a primary
 * service whose UUID is the one of the reader's Handover Request and the four mdoc
 * characteristics, (2) an advertisement naming that UUID is registered, (3) the adapter is
 * powered, and (4) the wallet has an engagement waiting for BLE with that UUID.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "mn_ble.h"
#include "mn_err.h"
#include "mn_mdoc_session.h"
#include "sim_ble.h"
#include "sim_wallet.h"

#define BLUEZ_NAME      "org.bluez"
#define HCI_PATH        "/org/bluez/hci0"
#define DEV_PATH        "/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"
#define DEV_ADDRESS     "AA:BB:CC:DD:EE:FF"
#define HCI_ADDRESS     "00:00:5E:00:53:01"
#define IF_ADAPTER      "org.bluez.Adapter1"
#define IF_DEVICE       "org.bluez.Device1"
#define IF_GATT_MGR     "org.bluez.GattManager1"
#define IF_ADV_MGR      "org.bluez.LEAdvertisingManager1"
#define IF_ADV          "org.bluez.LEAdvertisement1"
#define IF_SERVICE      "org.bluez.GattService1"
#define IF_CHR          "org.bluez.GattCharacteristic1"
#define IF_PROPS        "org.freedesktop.DBus.Properties"
#define IF_OBJMGR       "org.freedesktop.DBus.ObjectManager"
#define ERR_FAILED      "org.bluez.Error.Failed"
#define ERR_INVALID     "org.bluez.Error.InvalidArguments"
#define ERR_EXISTS      "org.bluez.Error.AlreadyExists"
#define ERR_NOT_EXIST   "org.bluez.Error.DoesNotExist"
#define ERR_PROGRESS    "org.bluez.Error.InProgress"
#define CALL_TIMEOUT_US (5ULL * 1000 * 1000)
#define LOOP_WAIT_US    (100ULL * 1000)
#define LINGER_MS       1000
#define RX_MAX          (1024u * 1024) /* one message from the reader */
#define MAX_OBJECTS     64
#define MAX_ADV_UUIDS   8
#define SUPPORTED_ADVS  4

enum chr { CHR_STATE, CHR_C2S, CHR_S2C, CHR_IDENT, CHR_COUNT };

enum { FL_READ = 1, FL_WRITE_NR = 2, FL_NOTIFY = 4 };

/* mdoc central client mode characteristics (ISO/IEC 18013-5 8.3.3.1.1) */
static const struct chr_def {
	const char *name, *uuid, *flag_names;
	unsigned flags;
} chr_defs[CHR_COUNT] = {
    {"State", "00000005-a123-48ce-896b-4c76973373e6", "write-without-response, notify",
     FL_WRITE_NR | FL_NOTIFY},
    {"Client2Server", "00000006-a123-48ce-896b-4c76973373e6", "write-without-response",
     FL_WRITE_NR},
    {"Server2Client", "00000007-a123-48ce-896b-4c76973373e6", "notify", FL_NOTIFY},
    {"Ident", "00000008-a123-48ce-896b-4c76973373e6", "read", FL_READ},
};

/* the central's progress through one connection */
enum cstate {
	C_IDLE,         /* not connected */
	C_IDENT,        /* ReadValue(Ident) sent */
	C_NOTIFY_STATE, /* StartNotify(State) sent */
	C_NOTIFY_S2C,   /* StartNotify(Server2Client) sent */
	C_START,        /* WriteValue(State, 01) sent */
	C_RECV,         /* waiting for the reader's message */
	C_SEND,         /* writing the answer to Client2Server */
	C_LINGER,       /* the session is over: wait a little for the reader, then disconnect */
};

struct registration {
	int active;
	char *owner, *path;
	sd_bus_track *track;
};

struct app {
	struct registration reg;
	uint8_t uuid[16];
	char *chr[CHR_COUNT];
};

struct adv {
	struct registration reg;
	int connectable;
	uint8_t uuids[MAX_ADV_UUIDS][16];
	size_t n_uuids;
};

struct sim_ble {
	struct sim_wallet *w;
	struct sim_ble_opts o;
	volatile sig_atomic_t *stop;
	atomic_int quit;
	pthread_t thread;
	int running;
	sd_bus *bus;
	sd_bus_slot *objm, *vt_adapter, *vt_gatt, *vt_adv, *vt_dev;
	int powered;
	/* registrations being checked: the request, the call reading the caller's objects */
	sd_bus_message *app_req, *adv_req;
	sd_bus_slot *app_call, *adv_call;
	char *app_req_path, *adv_req_path;
	struct app app;
	struct adv adv;
	/* the phone */
	enum cstate st;
	int connected; /* Device1.Connected */
	struct sim_wallet_eng *eng;
	struct timespec since, linger_since;
	sd_bus_slot *call;     /* the central's one outstanding call */
	sd_bus_slot *match[2]; /* PropertiesChanged on State and Server2Client */
	int notifying[2];
	uint8_t *rx;
	size_t rx_len;
	uint8_t *tx;
	size_t tx_len, tx_off, tx_chunks;
	int end_after_tx;
	const char *disconnect_req; /* asked from a handler: done in the loop */
	int told_wait;              /* "waiting because ..." logged for this reason */
};

/* ---------------------------------------------------------------- helpers */

__attribute__((format(printf, 1, 2))) static void logf_(const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr); /* one line, not mixed with the vpcd thread's */
	fputs("mynumber-sim: ble: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	funlockfile(stderr);
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* "0000fff0-0000-1000-8000-00805f9b34fb" (any case) -> 16 bytes big-endian */
static int uuid_parse(const char *s, uint8_t out[16])
{
	size_t i, n = 0;
	int hi = -1;

	if (s == NULL || strlen(s) != 36)
		return MN_ERR_FORMAT;
	for (i = 0; i < 36; i++) {
		char c = s[i];
		int d;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return MN_ERR_FORMAT;
			continue;
		}
		d = c >= '0' && c <= '9'   ? c - '0'
		    : c >= 'a' && c <= 'f' ? c - 'a' + 10
		    : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                           : -1;
		if (d < 0)
			return MN_ERR_FORMAT;
		if (hi < 0) {
			hi = d;
		} else {
			out[n++] = (uint8_t)(hi << 4 | d);
			hi = -1;
		}
	}
	return MN_OK;
}

static void registration_clear(struct registration *r)
{
	r->track = sd_bus_track_unref(r->track);
	free(r->owner);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

static void app_clear(struct app *a)
{
	size_t i;

	registration_clear(&a->reg);
	for (i = 0; i < CHR_COUNT; i++)
		free(a->chr[i]);
	memset(a, 0, sizeof(*a));
}

static void adv_clear(struct adv *a)
{
	registration_clear(&a->reg);
	memset(a, 0, sizeof(*a));
}

/*
 * Walk an a{sv}: fn(m, key, signature, ud) is called inside each variant; it reads the value
 * and returns 1, or returns 0 to have it skipped, or a negative errno.
 */
typedef int (*prop_fn)(sd_bus_message *m, const char *key, const char *sig, void *ud);

static int read_props(sd_bus_message *m, prop_fn fn, void *ud)
{
	const char *key, *sig;
	char type;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0 ||
		    (r = sd_bus_message_peek_type(m, &type, &sig)) < 0)
			return r;
		if (type != 'v' || sig == NULL)
			return -EBADMSG;
		if ((r = sd_bus_message_enter_container(m, 'v', sig)) < 0)
			return r;
		if ((r = fn(m, key, sig, ud)) < 0)
			return r;
		if (r == 0 && (r = sd_bus_message_skip(m, sig)) < 0)
			return r;
		if ((r = sd_bus_message_exit_container(m)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* ---------------------------------------------------------------- the central (the phone) */

static int call_chr(struct sim_ble *b, enum chr c, const char *method, sd_bus_message_handler_t cb,
                    const uint8_t *val, size_t len);

static void stop_notify(struct sim_ble *b)
{
	static const enum chr which[2] = {CHR_STATE, CHR_S2C};
	size_t i;

	for (i = 0; i < 2; i++) {
		b->match[i] = sd_bus_slot_unref(b->match[i]);
		if (!b->notifying[i] || !b->app.reg.active)
			continue;
		b->notifying[i] = 0;
		/* no reply wanted: BlueZ does not wait either */
		if (sd_bus_call_method_async(b->bus, NULL, b->app.reg.owner, b->app.chr[which[i]],
		                             IF_CHR, "StopNotify", NULL, NULL, "") < 0)
			logf_("StopNotify(%s) could not be sent", chr_defs[which[i]].name);
		else
			logf_("StopNotify(%s)", chr_defs[which[i]].name);
	}
}

/* step 6: Connected false, StopNotify, InterfacesRemoved */
static void disconnect(struct sim_ble *b, const char *why)
{
	if (b->st == C_IDLE)
		return;
	logf_("the phone disconnects: %s", why);
	b->call = sd_bus_slot_unref(b->call);
	b->connected = 0;
	if (sd_bus_emit_properties_changed(b->bus, DEV_PATH, IF_DEVICE, "Connected", NULL) < 0)
		logf_("cannot emit Connected = false");
	stop_notify(b);
	if (sd_bus_emit_interfaces_removed(b->bus, DEV_PATH, IF_DEVICE, NULL) < 0)
		logf_("cannot emit InterfacesRemoved");
	b->vt_dev = sd_bus_slot_unref(b->vt_dev);
	free(b->rx);
	free(b->tx);
	b->rx = b->tx = NULL;
	b->rx_len = b->tx_len = b->tx_off = b->tx_chunks = 0;
	b->end_after_tx = 0;
	sim_wallet_eng_free(&b->eng);
	b->st = C_IDLE;
	b->told_wait = 0;
	logf_("disconnected");
}

/* an error reply of the central's call: log it and disconnect */
static int call_failed(struct sim_ble *b, sd_bus_message *m, const char *what)
{
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (e == NULL)
		return 0;
	logf_("%s failed: %s: %s", what, e->name != NULL ? e->name : "?",
	      e->message != NULL ? e->message : "");
	disconnect(b, "the reader's GATT server failed");
	return 1;
}

static void send_next(struct sim_ble *b);

static int on_tx(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	b->call = sd_bus_slot_unref(b->call);
	if (call_failed(b, m, "WriteValue(Client2Server)"))
		return 0;
	if (b->o.fault == SIM_BLE_FAULT_DISCONNECT) {
		disconnect(b, "fault disconnect: after the first chunk of the answer");
		return 0;
	}
	if (b->tx_off < b->tx_len) {
		send_next(b);
		return 0;
	}
	logf_("answer written: %zu bytes in %zu chunks", b->tx_len, b->tx_chunks);
	free(b->tx);
	b->tx = NULL;
	b->tx_len = b->tx_off = b->tx_chunks = 0;
	if (b->end_after_tx) {
		b->st = C_LINGER;
		clock_gettime(CLOCK_MONOTONIC, &b->linger_since);
	} else {
		b->st = C_RECV;
	}
	return 0;
}

/* the next Client2Server chunk: 1 header byte (01 more, 00 last) + at most MTU - 4 bytes */
static void send_next(struct sim_ble *b)
{
	uint8_t chunk[SIM_BLE_MTU_MAX];
	size_t room = b->o.mtu - 4, rest = b->tx_len - b->tx_off, k = rest < room ? rest : room;
	int more = rest > k || b->o.fault == SIM_BLE_FAULT_DISCONNECT;

	chunk[0] = more ? 0x01 : 0x00;
	memcpy(chunk + 1, b->tx + b->tx_off, k);
	b->tx_off += k;
	b->tx_chunks++;
	b->st = C_SEND;
	if (call_chr(b, CHR_C2S, "WriteValue", on_tx, chunk, k + 1) < 0)
		disconnect(b, "cannot write Client2Server");
}

/* a complete message from the reader */
static void on_rx_message(struct sim_ble *b)
{
	uint8_t *out = NULL;
	size_t out_len = 0;
	unsigned flags = 0;
	int r;

	logf_("message from the reader: %zu bytes", b->rx_len);
	r = sim_wallet_message(b->w, b->eng, b->rx, b->rx_len, &out, &out_len, &flags);
	b->rx_len = 0;
	if (r != MN_OK) {
		logf_("the reader's message is not understood (%d)", r);
		disconnect(b, "bad message");
		goto out;
	}
	if (flags & SIM_WALLET_MSG_READER_END) {
		disconnect(b, "the reader ended the session (SessionData status 20)");
		goto out;
	}
	if (b->tx != NULL || b->st != C_RECV) {
		disconnect(b, "a message from the reader before the answer to its last one");
		goto out;
	}
	b->tx = out;
	b->tx_len = out_len;
	b->tx_off = 0;
	b->tx_chunks = 0;
	b->end_after_tx = (flags & SIM_WALLET_MSG_END) != 0;
	out = NULL;
	logf_("answer: %zu bytes%s", b->tx_len, b->end_after_tx ? " (the session ends)" : "");
	send_next(b);
out:
	free(out);
}

/* one Server2Client notification */
static void on_s2c_chunk(struct sim_ble *b, const uint8_t *v, size_t n)
{
	uint8_t *t;

	if (n < 1 || n > b->o.mtu - 3) {
		logf_("TEST FAILURE: a Server2Client chunk of %zu bytes (allowed 1..%u = MTU - 3)",
		      n, b->o.mtu - 3);
		disconnect(b, "bad chunk size");
		return;
	}
	if (v[0] != 0x00 && v[0] != 0x01) {
		logf_("TEST FAILURE: a Server2Client chunk starts with %02x, not 00/01", v[0]);
		disconnect(b, "bad chunk header");
		return;
	}
	if (n - 1 > RX_MAX - b->rx_len) {
		disconnect(b, "the reader's message is too large");
		return;
	}
	if (n > 1) {
		if ((t = realloc(b->rx, b->rx_len + n - 1)) == NULL) {
			disconnect(b, "out of memory");
			return;
		}
		b->rx = t;
		memcpy(b->rx + b->rx_len, v + 1, n - 1);
		b->rx_len += n - 1;
	}
	if (v[0] == 0x00)
		on_rx_message(b);
}

struct value_ud {
	const void *v;
	size_t n;
	int found;
};

static int prop_value(sd_bus_message *m, const char *key, const char *sig, void *ud)
{
	struct value_ud *u = ud;
	int r;

	if (strcmp(key, "Value") != 0 || strcmp(sig, "ay") != 0)
		return 0;
	if ((r = sd_bus_message_read_array(m, 'y', &u->v, &u->n)) < 0)
		return r;
	u->found = 1;
	return 1;
}

/* PropertiesChanged of State or Server2Client from the reader's application */
static int on_props_changed(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	struct value_ud u = {0};
	const char *iface, *path = sd_bus_message_get_path(m);
	int r;

	if (b->st == C_IDLE || path == NULL)
		return 0;
	if ((r = sd_bus_message_read(m, "s", &iface)) < 0 || strcmp(iface, IF_CHR) != 0)
		return 0;
	if ((r = read_props(m, prop_value, &u)) < 0) {
		logf_("a malformed PropertiesChanged from the reader: %s", strerror(-r));
		disconnect(b, "bad notification");
		return 0;
	}
	if (!u.found)
		return 0;
	if (strcmp(path, b->app.chr[CHR_STATE]) == 0) {
		if (b->st == C_IDENT || b->st == C_NOTIFY_STATE || b->st == C_NOTIFY_S2C) {
			logf_("State notification before the start ignored");
			return 0;
		}
		if (u.n == 1 && ((const uint8_t *)u.v)[0] == 0x02)
			disconnect(b, "the reader ended the session (State 02)");
		else
			logf_("State notification of %zu bytes ignored", u.n);
		return 0;
	}
	if (strcmp(path, b->app.chr[CHR_S2C]) != 0)
		return 0;
	if (b->st == C_IDENT || b->st == C_NOTIFY_STATE || b->st == C_NOTIFY_S2C) {
		logf_("TEST FAILURE: a Server2Client notification before State was written");
		disconnect(b, "data before the start");
		return 0;
	}
	on_s2c_chunk(b, u.v, u.n);
	return 0;
}

static int on_started(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	b->call = sd_bus_slot_unref(b->call);
	if (call_failed(b, m, "WriteValue(State, 01)"))
		return 0;
	if (b->st == C_START)
		b->st = C_RECV;
	return 0;
}

static int on_notify(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	static const uint8_t start = 0x01;

	b->call = sd_bus_slot_unref(b->call);
	if (b->st == C_NOTIFY_STATE) {
		if (call_failed(b, m, "StartNotify(State)"))
			return 0;
		b->notifying[0] = 1;
		b->st = C_NOTIFY_S2C;
		if (call_chr(b, CHR_S2C, "StartNotify", on_notify, NULL, 0) < 0)
			disconnect(b, "cannot call StartNotify");
		return 0;
	}
	if (call_failed(b, m, "StartNotify(Server2Client)"))
		return 0;
	b->notifying[1] = 1;
	b->st = C_START;
	logf_("WriteValue(State, 01): start");
	if (call_chr(b, CHR_STATE, "WriteValue", on_started, &start, 1) < 0)
		disconnect(b, "cannot write State");
	return 0;
}

static int on_ident(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	uint8_t want[MN_MDOC_BLE_IDENT_LEN];
	const void *v;
	size_t n = 0, i;
	int r;

	b->call = sd_bus_slot_unref(b->call);
	if (call_failed(b, m, "ReadValue(Ident)"))
		return 0;
	if (sd_bus_message_read_array(m, 'y', &v, &n) < 0) {
		disconnect(b, "ReadValue(Ident) answered something else than ay");
		return 0;
	}
	if (sim_wallet_eng_ident(b->eng, want) != MN_OK) {
		disconnect(b, "cannot compute the Ident value");
		return 0;
	}
	if (b->o.fault == SIM_BLE_FAULT_IDENT) {
		logf_("fault ident: the phone expects another Ident value");
		want[0] ^= 0xff;
	}
	if (n != sizeof(want) || memcmp(v, want, n) != 0) {
		char hex[2 * 64 + 1];

		for (i = 0; i < n && i < 64; i++)
			snprintf(hex + 2 * i, 3, "%02x", ((const uint8_t *)v)[i]);
		hex[2 * i] = '\0';
		logf_("Ident mismatch: the reader's Ident is %s (%zu bytes)", hex, n);
		disconnect(b, "Ident mismatch: not the reader of this engagement");
		return 0;
	}
	logf_("Ident matches");
	for (i = 0; i < 2; i++) {
		enum chr c = i == 0 ? CHR_STATE : CHR_S2C;

		r = sd_bus_match_signal_async(b->bus, &b->match[i], b->app.reg.owner, b->app.chr[c],
		                              IF_PROPS, "PropertiesChanged", on_props_changed, NULL,
		                              b);
		if (r < 0) {
			disconnect(b, "cannot subscribe to PropertiesChanged");
			return 0;
		}
	}
	b->st = C_NOTIFY_STATE;
	if (call_chr(b, CHR_STATE, "StartNotify", on_notify, NULL, 0) < 0)
		disconnect(b, "cannot call StartNotify");
	return 0;
}

/*
 * One method call to a characteristic of the reader's application: ReadValue(options),
 * WriteValue(value, options) (a command: write without response), StartNotify().
 */
static int call_chr(struct sim_ble *b, enum chr c, const char *method, sd_bus_message_handler_t cb,
                    const uint8_t *val, size_t len)
{
	sd_bus_message *m = NULL;
	int r;

	b->call = sd_bus_slot_unref(b->call);
	r = sd_bus_message_new_method_call(b->bus, &m, b->app.reg.owner, b->app.chr[c], IF_CHR,
	                                   method);
	if (r < 0)
		goto out;
	if (strcmp(method, "ReadValue") == 0) {
		r = sd_bus_message_append(m, "a{sv}", 3, "device", "o", DEV_PATH, "mtu", "q",
		                          (uint16_t)b->o.mtu, "offset", "q", (uint16_t)0);
	} else if (strcmp(method, "WriteValue") == 0) {
		if ((r = sd_bus_message_append_array(m, 'y', val, len)) >= 0)
			r = sd_bus_message_append(m, "a{sv}", 3, "device", "o", DEV_PATH, "mtu",
			                          "q", (uint16_t)b->o.mtu, "type", "s", "command");
	}
	if (r < 0)
		goto out;
	r = sd_bus_call_async(b->bus, &b->call, m, cb, b, CALL_TIMEOUT_US);
out:
	if (r < 0)
		logf_("%s(%s): %s", method, chr_defs[c].name, strerror(-r));
	sd_bus_message_unref(m);
	return r;
}

static int dev_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	if (strcmp(prop, "Address") == 0)
		return sd_bus_message_append(reply, "s", DEV_ADDRESS);
	if (strcmp(prop, "AddressType") == 0)
		return sd_bus_message_append(reply, "s", "random");
	if (strcmp(prop, "Name") == 0 || strcmp(prop, "Alias") == 0)
		return sd_bus_message_append(reply, "s", "iPhone");
	if (strcmp(prop, "Adapter") == 0)
		return sd_bus_message_append(reply, "o", HCI_PATH);
	if (strcmp(prop, "Connected") == 0)
		return sd_bus_message_append(reply, "b", b->connected);
	return sd_bus_message_append(reply, "b", 0); /* Paired */
}

static int dev_disconnect(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	b->disconnect_req = "the reader called Device1.Disconnect";
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable device_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Address", "s", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("AddressType", "s", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Alias", "s", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Adapter", "o", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Paired", "b", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Connected", "b", dev_prop, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("Disconnect", "", "", dev_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* step 1: the device appears connected; step 2: read Ident */
static void connect_phone(struct sim_ble *b)
{
	int r;

	if ((r = sd_bus_add_object_vtable(b->bus, &b->vt_dev, DEV_PATH, IF_DEVICE, device_vtable,
	                                  b)) < 0) {
		logf_("cannot add %s: %s", DEV_PATH, strerror(-r));
		sim_wallet_eng_free(&b->eng);
		return;
	}
	b->connected = 1;
	b->st = C_IDENT;
	b->notifying[0] = b->notifying[1] = 0;
	clock_gettime(CLOCK_MONOTONIC, &b->since);
	if ((r = sd_bus_emit_interfaces_added(b->bus, DEV_PATH, IF_DEVICE, NULL)) < 0)
		logf_("cannot emit InterfacesAdded: %s", strerror(-r));
	logf_("the phone connects as %s (MTU %u)", DEV_ADDRESS, b->o.mtu);
	if (call_chr(b, CHR_IDENT, "ReadValue", on_ident, NULL, 0) < 0)
		disconnect(b, "cannot read Ident");
}

static void tell_wait(struct sim_ble *b, int why, const char *msg)
{
	if (b->told_wait == why)
		return;
	b->told_wait = why;
	logf_("the phone does not connect: %s", msg);
}

/* C_IDLE: connect when everything is there */
static void try_connect(struct sim_ble *b)
{
	uint8_t pending[16];
	char us[MN_BLE_UUID_STRLEN + 1], ps[MN_BLE_UUID_STRLEN + 1];
	size_t i;

	if (!b->app.reg.active || !b->adv.reg.active || !b->powered)
		return;
	for (i = 0; i < b->adv.n_uuids; i++)
		if (memcmp(b->adv.uuids[i], b->app.uuid, 16) == 0)
			break;
	if (i == b->adv.n_uuids) {
		tell_wait(b, 1, "the advertisement does not name the application's service UUID");
		return;
	}
	if (!b->adv.connectable) {
		tell_wait(b, 2, "the advertisement is not connectable (Type broadcast)");
		return;
	}
	if (sim_wallet_ble_pending_uuid(b->w, pending) != MN_OK) {
		tell_wait(b, 3, "no NFC engagement with a BLE UUID yet");
		return;
	}
	if (memcmp(pending, b->app.uuid, 16) != 0) {
		mn_ble_uuid_str(b->app.uuid, us);
		mn_ble_uuid_str(pending, ps);
		if (b->told_wait != 4)
			logf_("the reader advertises %s, its Handover Request said %s", us, ps);
		tell_wait(b, 4, "it never sees the UUID of the Handover Request");
		return;
	}
	if (b->o.fault == SIM_BLE_FAULT_SILENT) {
		tell_wait(b, 5, "fault silent");
		return;
	}
	if (sim_wallet_ble_take(b->w, b->app.uuid, b->o.timeout, &b->eng) != MN_OK)
		return;
	connect_phone(b);
}

static void central_step(struct sim_ble *b)
{
	if (b->disconnect_req != NULL) {
		disconnect(b, b->disconnect_req);
		b->disconnect_req = NULL;
	}
	if (b->st == C_IDLE) {
		try_connect(b);
		return;
	}
	if (b->st == C_LINGER && ms_since(&b->linger_since) >= LINGER_MS) {
		disconnect(b, "the session is over");
		return;
	}
	if (ms_since(&b->since) >= b->o.timeout * 1000L)
		disconnect(b, "giving up: the connection lasted too long");
}

/* ---------------------------------------------------------------- GattManager1 */

struct objinfo {
	char *path, *service;
	int is_service, is_chr, primary, has_uuid;
	uint8_t uuid[16];
	unsigned flags;
};

struct objparse {
	struct objinfo o[MAX_OBJECTS];
	size_t n;
};

static int prop_obj(sd_bus_message *m, const char *key, const char *sig, void *ud)
{
	struct objinfo *o = ud;
	const char *s;
	char **strv = NULL, **p;
	int r, v;

	if (strcmp(key, "UUID") == 0 && strcmp(sig, "s") == 0) {
		if ((r = sd_bus_message_read(m, "s", &s)) < 0)
			return r;
		o->has_uuid = uuid_parse(s, o->uuid) == MN_OK;
		return 1;
	}
	if (strcmp(key, "Primary") == 0 && strcmp(sig, "b") == 0) {
		if ((r = sd_bus_message_read(m, "b", &v)) < 0)
			return r;
		o->primary = v;
		return 1;
	}
	if (strcmp(key, "Service") == 0 && strcmp(sig, "o") == 0) {
		if ((r = sd_bus_message_read(m, "o", &s)) < 0)
			return r;
		free(o->service);
		return (o->service = strdup(s)) != NULL ? 1 : -ENOMEM;
	}
	if (strcmp(key, "Flags") == 0 && strcmp(sig, "as") == 0) {
		if ((r = sd_bus_message_read_strv(m, &strv)) < 0)
			return r;
		for (p = strv; *p != NULL; p++) {
			if (strcmp(*p, "read") == 0)
				o->flags |= FL_READ;
			else if (strcmp(*p, "write-without-response") == 0)
				o->flags |= FL_WRITE_NR;
			else if (strcmp(*p, "notify") == 0)
				o->flags |= FL_NOTIFY;
			free(*p);
		}
		free(strv);
		return 1;
	}
	return 0;
}

/* a{oa{sa{sv}}} -> the services and characteristics */
static int parse_objects(sd_bus_message *m, struct objparse *op)
{
	const char *path, *iface;
	int r;

	if ((r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
		struct objinfo *o;

		if ((r = sd_bus_message_read(m, "o", &path)) < 0)
			return r;
		if (op->n == MAX_OBJECTS)
			return -E2BIG;
		o = &op->o[op->n++];
		if ((o->path = strdup(path)) == NULL)
			return -ENOMEM;
		if ((r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
			return r;
		while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
			if ((r = sd_bus_message_read(m, "s", &iface)) < 0)
				return r;
			if (strcmp(iface, IF_SERVICE) == 0 || strcmp(iface, IF_CHR) == 0) {
				o->is_service |= strcmp(iface, IF_SERVICE) == 0;
				o->is_chr |= strcmp(iface, IF_CHR) == 0;
				r = read_props(m, prop_obj, o);
			} else {
				r = sd_bus_message_skip(m, "a{sv}");
			}
			if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
				return r;
		}
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
		    (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static void objparse_free(struct objparse *op)
{
	size_t i;

	for (i = 0; i < op->n; i++) {
		free(op->o[i].path);
		free(op->o[i].service);
	}
}

/* a characteristic of service s: its Service property and its path under s */
static int chr_of(const struct objinfo *c, const struct objinfo *s)
{
	size_t n = strlen(s->path);

	return c->is_chr && c->service != NULL && strcmp(c->service, s->path) == 0 &&
	       strncmp(c->path, s->path, n) == 0 && c->path[n] == '/';
}

/* the mdoc service of the application into a, or a reason in why */
static int check_app(const struct objparse *op, struct app *a, char *why, size_t why_len)
{
	const struct objinfo *s = NULL;
	uint8_t want[16];
	size_t i, j, k;

	snprintf(why, why_len, "no primary %s with a 128-bit UUID", IF_SERVICE);
	for (i = 0; i < op->n; i++) {
		const struct objinfo *found[CHR_COUNT] = {NULL};

		if (!op->o[i].is_service || !op->o[i].primary || !op->o[i].has_uuid)
			continue;
		s = &op->o[i];
		for (k = 0; k < CHR_COUNT; k++) {
			uuid_parse(chr_defs[k].uuid, want);
			for (j = 0; j < op->n; j++) {
				const struct objinfo *c = &op->o[j];

				if (chr_of(c, s) && c->has_uuid && memcmp(c->uuid, want, 16) == 0 &&
				    (c->flags & chr_defs[k].flags) == chr_defs[k].flags)
					found[k] = c;
			}
			if (found[k] == NULL) {
				snprintf(why, why_len,
				         "service %s has no %s characteristic (%s) with flags %s",
				         s->path, chr_defs[k].name, chr_defs[k].uuid,
				         chr_defs[k].flag_names);
				break;
			}
		}
		if (k < CHR_COUNT)
			continue;
		memcpy(a->uuid, s->uuid, 16);
		for (k = 0; k < CHR_COUNT; k++)
			if ((a->chr[k] = strdup(found[k]->path)) == NULL)
				return MN_ERR_NOMEM;
		return MN_OK;
	}
	return MN_ERR_FORMAT;
}

static int on_app_gone(sd_bus_track *t, void *ud)
{
	struct sim_ble *b = ud;

	logf_("the application's owner left the bus: unregistered");
	disconnect(b, "the reader left the bus");
	app_clear(&b->app);
	return 0;
}

static int on_adv_gone(sd_bus_track *t, void *ud)
{
	struct sim_ble *b = ud;

	logf_("the advertisement's owner left the bus: unregistered");
	adv_clear(&b->adv);
	return 0;
}

static int registration_set(struct sim_ble *b, struct registration *reg, sd_bus_message *req,
                            char **path, sd_bus_track_handler_t gone)
{
	int r;

	if ((reg->owner = strdup(sd_bus_message_get_sender(req))) == NULL)
		return -ENOMEM;
	reg->path = *path;
	*path = NULL;
	if ((r = sd_bus_track_new(b->bus, &reg->track, gone, b)) < 0 ||
	    (r = sd_bus_track_add_name(reg->track, reg->owner)) < 0)
		return r;
	reg->active = 1;
	return 0;
}

/* GetManagedObjects of the application answered (or timed out): now answer RegisterApplication */
static int on_app_objects(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	sd_bus_message *req = b->app_req;
	struct objparse *op = calloc(1, sizeof(*op));
	const sd_bus_error *e = sd_bus_message_get_error(m);
	char why[256], us[MN_BLE_UUID_STRLEN + 1];
	int r;

	b->app_req = NULL;
	b->app_call = sd_bus_slot_unref(b->app_call);
	if (e != NULL) {
		logf_("GetManagedObjects on the application failed: %s: %s", e->name,
		      e->message != NULL ? e->message : "");
		r = sd_bus_reply_method_errorf(
		    req, ERR_FAILED, "Failed to read the application's objects (%s)", e->name);
		goto out;
	}
	if (op == NULL) {
		r = sd_bus_reply_method_errorf(req, ERR_FAILED, "Out of memory");
		goto out;
	}
	if ((r = parse_objects(m, op)) < 0) {
		logf_("RegisterApplication: bad GetManagedObjects answer: %s", strerror(-r));
		r = sd_bus_reply_method_errorf(req, ERR_INVALID, "Invalid objects: %s",
		                               strerror(-r));
		goto out;
	}
	app_clear(&b->app);
	if (check_app(op, &b->app, why, sizeof(why)) != MN_OK) {
		app_clear(&b->app);
		logf_("RegisterApplication refused: %s", why);
		r = sd_bus_reply_method_errorf(req, ERR_INVALID, "%s", why);
		goto out;
	}
	if ((r = registration_set(b, &b->app.reg, req, &b->app_req_path, on_app_gone)) < 0) {
		app_clear(&b->app);
		r = sd_bus_reply_method_errorf(req, ERR_FAILED, "%s", strerror(-r));
		goto out;
	}
	mn_ble_uuid_str(b->app.uuid, us);
	logf_("RegisterApplication ok: service %s", us);
	b->told_wait = 0;
	r = sd_bus_reply_method_return(req, "");
out:
	if (op != NULL) {
		objparse_free(op);
		free(op);
	}
	free(b->app_req_path);
	b->app_req_path = NULL;
	sd_bus_message_unref(req);
	return r < 0 ? r : 0;
}

static int gatt_register(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	sd_bus_message *call = NULL;
	const char *path, *sender = sd_bus_message_get_sender(m);
	int r;

	if ((r = sd_bus_message_read(m, "o", &path)) < 0 ||
	    (r = sd_bus_message_skip(m, "a{sv}")) < 0)
		return r;
	logf_("RegisterApplication(%s) from %s", path, sender != NULL ? sender : "?");
	if (sender == NULL)
		return sd_bus_error_set(ret_error, ERR_INVALID, "No sender");
	if (b->app_req != NULL)
		return sd_bus_error_set(ret_error, ERR_PROGRESS, "In Progress");
	if (b->app.reg.active) {
		if (strcmp(b->app.reg.owner, sender) == 0 && strcmp(b->app.reg.path, path) == 0)
			return sd_bus_error_set(ret_error, ERR_EXISTS, "Already Exists");
		if (b->st != C_IDLE)
			return sd_bus_error_set(ret_error, ERR_FAILED,
			                        "The fake adapter serves one application at a "
			                        "time and it is connected");
		logf_("the application of %s is replaced", b->app.reg.owner);
		app_clear(&b->app);
	}
	/* like BlueZ: read the application's objects before answering */
	if ((b->app_req_path = strdup(path)) == NULL)
		return -ENOMEM;
	if ((r = sd_bus_message_new_method_call(b->bus, &call, sender, path, IF_OBJMGR,
	                                        "GetManagedObjects")) < 0 ||
	    (r = sd_bus_call_async(b->bus, &b->app_call, call, on_app_objects, b,
	                           CALL_TIMEOUT_US)) < 0) {
		sd_bus_message_unref(call);
		free(b->app_req_path);
		b->app_req_path = NULL;
		return r;
	}
	sd_bus_message_unref(call);
	b->app_req = sd_bus_message_ref(m);
	return 1;
}

static int gatt_unregister(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	const char *path, *sender = sd_bus_message_get_sender(m);
	int r;

	if ((r = sd_bus_message_read(m, "o", &path)) < 0)
		return r;
	logf_("UnregisterApplication(%s)", path);
	if (!b->app.reg.active || sender == NULL || strcmp(b->app.reg.owner, sender) != 0 ||
	    strcmp(b->app.reg.path, path) != 0)
		return sd_bus_error_set(ret_error, ERR_NOT_EXIST, "Does Not Exist");
	if (b->st != C_IDLE) {
		/* the disconnect needs the application's paths: do it now */
		disconnect(b, "the reader unregistered its application");
	}
	app_clear(&b->app);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable gatt_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RegisterApplication", "oa{sv}", "", gatt_register, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("UnregisterApplication", "o", "", gatt_unregister, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- LEAdvertisingManager1 */

struct advparse {
	struct adv *a;
	int has_type;
	char type[32];
};

static int prop_adv(sd_bus_message *m, const char *key, const char *sig, void *ud)
{
	struct advparse *p = ud;
	const char *s;
	char **strv = NULL, **q;
	int r;

	if (strcmp(key, "Type") == 0 && strcmp(sig, "s") == 0) {
		if ((r = sd_bus_message_read(m, "s", &s)) < 0)
			return r;
		p->has_type = 1;
		snprintf(p->type, sizeof(p->type), "%s", s);
		return 1;
	}
	if (strcmp(key, "ServiceUUIDs") == 0 && strcmp(sig, "as") == 0) {
		if ((r = sd_bus_message_read_strv(m, &strv)) < 0)
			return r;
		for (q = strv; *q != NULL; q++) {
			if (p->a->n_uuids < MAX_ADV_UUIDS &&
			    uuid_parse(*q, p->a->uuids[p->a->n_uuids]) == MN_OK)
				p->a->n_uuids++;
			free(*q);
		}
		free(strv);
		return 1;
	}
	return 0;
}

static int on_adv_props(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	sd_bus_message *req = b->adv_req;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	struct advparse p = {.a = &b->adv};
	char us[MN_BLE_UUID_STRLEN + 1];
	size_t i;
	int r;

	b->adv_req = NULL;
	b->adv_call = sd_bus_slot_unref(b->adv_call);
	adv_clear(&b->adv);
	if (e != NULL) {
		logf_("reading the advertisement failed: %s: %s", e->name,
		      e->message != NULL ? e->message : "");
		r = sd_bus_reply_method_errorf(req, ERR_FAILED,
		                               "Failed to read the advertisement (%s)", e->name);
		goto out;
	}
	if ((r = read_props(m, prop_adv, &p)) < 0 || !p.has_type ||
	    (strcmp(p.type, "peripheral") != 0 && strcmp(p.type, "broadcast") != 0)) {
		adv_clear(&b->adv);
		logf_("RegisterAdvertisement refused: no valid Type");
		r = sd_bus_reply_method_errorf(req, ERR_INVALID, "Failed to parse advertisement");
		goto out;
	}
	b->adv.connectable = strcmp(p.type, "peripheral") == 0;
	if ((r = registration_set(b, &b->adv.reg, req, &b->adv_req_path, on_adv_gone)) < 0) {
		adv_clear(&b->adv);
		r = sd_bus_reply_method_errorf(req, ERR_FAILED, "%s", strerror(-r));
		goto out;
	}
	logf_("RegisterAdvertisement ok: Type %s, %zu service UUIDs", p.type, b->adv.n_uuids);
	for (i = 0; i < b->adv.n_uuids; i++) {
		mn_ble_uuid_str(b->adv.uuids[i], us);
		logf_("  advertising %s", us);
	}
	b->told_wait = 0;
	r = sd_bus_reply_method_return(req, "");
out:
	free(b->adv_req_path);
	b->adv_req_path = NULL;
	sd_bus_message_unref(req);
	return r < 0 ? r : 0;
}

static int adv_register(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	sd_bus_message *call = NULL;
	const char *path, *sender = sd_bus_message_get_sender(m);
	int r;

	if ((r = sd_bus_message_read(m, "o", &path)) < 0 ||
	    (r = sd_bus_message_skip(m, "a{sv}")) < 0)
		return r;
	logf_("RegisterAdvertisement(%s) from %s", path, sender != NULL ? sender : "?");
	if (sender == NULL)
		return sd_bus_error_set(ret_error, ERR_INVALID, "No sender");
	if (b->adv_req != NULL)
		return sd_bus_error_set(ret_error, ERR_PROGRESS, "In Progress");
	if (b->adv.reg.active) {
		if (strcmp(b->adv.reg.owner, sender) == 0 && strcmp(b->adv.reg.path, path) == 0)
			return sd_bus_error_set(ret_error, ERR_EXISTS, "Already Exists");
		logf_("the advertisement of %s is replaced", b->adv.reg.owner);
		adv_clear(&b->adv);
	}
	if ((b->adv_req_path = strdup(path)) == NULL)
		return -ENOMEM;
	if ((r = sd_bus_message_new_method_call(b->bus, &call, sender, path, IF_PROPS, "GetAll")) <
	        0 ||
	    (r = sd_bus_message_append(call, "s", IF_ADV)) < 0 ||
	    (r = sd_bus_call_async(b->bus, &b->adv_call, call, on_adv_props, b, CALL_TIMEOUT_US)) <
	        0) {
		sd_bus_message_unref(call);
		free(b->adv_req_path);
		b->adv_req_path = NULL;
		return r;
	}
	sd_bus_message_unref(call);
	b->adv_req = sd_bus_message_ref(m);
	return 1;
}

static int adv_unregister(sd_bus_message *m, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	const char *path, *sender = sd_bus_message_get_sender(m);
	int r;

	if ((r = sd_bus_message_read(m, "o", &path)) < 0)
		return r;
	logf_("UnregisterAdvertisement(%s)", path);
	if (!b->adv.reg.active || sender == NULL || strcmp(b->adv.reg.owner, sender) != 0 ||
	    strcmp(b->adv.reg.path, path) != 0)
		return sd_bus_error_set(ret_error, ERR_NOT_EXIST, "Does Not Exist");
	adv_clear(&b->adv);
	return sd_bus_reply_method_return(m, "");
}

static int adv_mgr_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	if (strcmp(prop, "ActiveInstances") == 0)
		return sd_bus_message_append(reply, "y", (uint8_t)(b->adv.reg.active ? 1 : 0));
	return sd_bus_message_append(reply, "y", (uint8_t)SUPPORTED_ADVS);
}

static const sd_bus_vtable adv_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("RegisterAdvertisement", "oa{sv}", "", adv_register, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("UnregisterAdvertisement", "o", "", adv_unregister, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_PROPERTY("ActiveInstances", "y", adv_mgr_prop, 0, 0),
    SD_BUS_PROPERTY("SupportedInstances", "y", adv_mgr_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- Adapter1 */

static int adapter_prop(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;

	if (strcmp(prop, "Address") == 0)
		return sd_bus_message_append(reply, "s", HCI_ADDRESS);
	if (strcmp(prop, "AddressType") == 0)
		return sd_bus_message_append(reply, "s", "public");
	if (strcmp(prop, "Name") == 0 || strcmp(prop, "Alias") == 0)
		return sd_bus_message_append(reply, "s", "mynumber-sim");
	return sd_bus_message_append(reply, "b", b->powered);
}

static int adapter_set_powered(sd_bus *bus, const char *path, const char *iface, const char *prop,
                               sd_bus_message *value, void *ud, sd_bus_error *ret_error)
{
	struct sim_ble *b = ud;
	int v, r;

	if ((r = sd_bus_message_read(value, "b", &v)) < 0)
		return r;
	logf_("Powered = %s requested", v ? "true" : "false");
	if (v && b->o.fault == SIM_BLE_FAULT_POWERED_OFF)
		return sd_bus_error_set(ret_error, "org.bluez.Error.Blocked",
		                        "Blocked through rfkill");
	if (b->powered != !!v) {
		b->powered = !!v;
		sd_bus_emit_properties_changed(bus, HCI_PATH, IF_ADAPTER, "Powered", NULL);
	}
	return 0;
}

static const sd_bus_vtable adapter_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Address", "s", adapter_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("AddressType", "s", adapter_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", adapter_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Alias", "s", adapter_prop, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_WRITABLE_PROPERTY("Powered", "b", adapter_prop, adapter_set_powered, 0,
                             SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- thread, start, stop */

static void *ble_thread(void *arg)
{
	struct sim_ble *b = arg;
	int r;

	while (!atomic_load(&b->quit) && !*b->stop) {
		while ((r = sd_bus_process(b->bus, NULL)) > 0)
			if (atomic_load(&b->quit))
				break;
		if (r < 0) {
			logf_("the bus connection failed: %s", strerror(-r));
			break;
		}
		central_step(b);
		r = sd_bus_wait(b->bus, LOOP_WAIT_US);
		if (r < 0 && r != -EINTR) {
			logf_("waiting on the bus failed: %s", strerror(-r));
			break;
		}
	}
	disconnect(b, "the simulator stops");
	sd_bus_flush(b->bus);
	return NULL;
}

int sim_ble_fault_parse(const char *s, enum sim_ble_fault *out)
{
	static const char *const names[] = {"none",   "ident",      "disconnect",
	                                    "silent", "no-adapter", "powered-off"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum sim_ble_fault)i;
			return MN_OK;
		}
	}
	return MN_ERR_INVALID_ARG;
}

static void ble_free(struct sim_ble *b)
{
	if (b == NULL)
		return;
	sd_bus_message_unref(b->app_req);
	sd_bus_message_unref(b->adv_req);
	sd_bus_slot_unref(b->app_call);
	sd_bus_slot_unref(b->adv_call);
	sd_bus_slot_unref(b->call);
	sd_bus_slot_unref(b->match[0]);
	sd_bus_slot_unref(b->match[1]);
	free(b->app_req_path);
	free(b->adv_req_path);
	app_clear(&b->app);
	adv_clear(&b->adv);
	sd_bus_slot_unref(b->vt_dev);
	sd_bus_slot_unref(b->vt_adapter);
	sd_bus_slot_unref(b->vt_gatt);
	sd_bus_slot_unref(b->vt_adv);
	sd_bus_slot_unref(b->objm);
	free(b->rx);
	free(b->tx);
	sim_wallet_eng_free(&b->eng);
	sd_bus_flush_close_unref(b->bus);
	free(b);
}

int sim_ble_start(struct sim_wallet *w, const struct sim_ble_opts *o, volatile sig_atomic_t *stop,
                  struct sim_ble **ret)
{
	struct sim_ble *b = NULL;
	sigset_t block, old;
	int r, rc = MN_ERR_IO, reported = 1;

	if (w == NULL || o == NULL || o->bus == NULL || stop == NULL || ret == NULL ||
	    o->mtu < SIM_BLE_MTU_MIN || o->mtu > SIM_BLE_MTU_MAX)
		return MN_ERR_INVALID_ARG;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return MN_ERR_NOMEM;
	b->w = w;
	b->o = *o;
	b->stop = stop;
	atomic_init(&b->quit, 0);
	b->powered = o->fault != SIM_BLE_FAULT_POWERED_OFF;
	if ((r = sd_bus_new(&b->bus)) < 0 || (r = sd_bus_set_address(b->bus, o->bus)) < 0 ||
	    (r = sd_bus_set_bus_client(b->bus, 1)) < 0 || (r = sd_bus_start(b->bus)) < 0) {
		fprintf(stderr, "mynumber-sim: cannot connect to the D-Bus bus %s: %s\n", o->bus,
		        strerror(-r));
		goto out;
	}
	if ((r = sd_bus_request_name(b->bus, BLUEZ_NAME, 0)) < 0) {
		fprintf(stderr, "mynumber-sim: cannot own %s on %s: %s\n", BLUEZ_NAME, o->bus,
		        strerror(-r));
		goto out;
	}
	reported = 0;
	if ((r = sd_bus_add_object_manager(b->bus, &b->objm, "/")) < 0)
		goto out;
	if (o->fault != SIM_BLE_FAULT_NO_ADAPTER &&
	    ((r = sd_bus_add_object_vtable(b->bus, &b->vt_adapter, HCI_PATH, IF_ADAPTER,
	                                   adapter_vtable, b)) < 0 ||
	     (r = sd_bus_add_object_vtable(b->bus, &b->vt_gatt, HCI_PATH, IF_GATT_MGR, gatt_vtable,
	                                   b)) < 0 ||
	     (r = sd_bus_add_object_vtable(b->bus, &b->vt_adv, HCI_PATH, IF_ADV_MGR, adv_vtable,
	                                   b)) < 0))
		goto out;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old); /* the vpcd thread takes the signals */
	r = pthread_create(&b->thread, NULL, ble_thread, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = -r;
		goto out;
	}
	b->running = 1;
	logf_("%s on %s: adapter %s%s, MTU %u, fault %d", BLUEZ_NAME, o->bus,
	      o->fault == SIM_BLE_FAULT_NO_ADAPTER ? "none" : HCI_PATH,
	      o->fault == SIM_BLE_FAULT_POWERED_OFF ? " (powered off)" : "", o->mtu, (int)o->fault);
	*ret = b;
	b = NULL;
	rc = MN_OK;
out:
	if (rc != MN_OK && !reported)
		logf_("cannot start: %s", strerror(-r));
	ble_free(b);
	return rc;
}

void sim_ble_stop(struct sim_ble **bp)
{
	struct sim_ble *b;

	if (bp == NULL || *bp == NULL)
		return;
	b = *bp;
	if (b->running) {
		atomic_store(&b->quit, 1);
		pthread_join(b->thread, NULL);
	}
	ble_free(b);
	*bp = NULL;
}
