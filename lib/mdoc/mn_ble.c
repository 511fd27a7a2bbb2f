#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "mn_ble.h"
#include "mn_err.h"
#include "mn_mdoc_session.h"

#define BLUEZ             "org.bluez"
#define IFACE_ADAPTER     "org.bluez.Adapter1"
#define IFACE_DEVICE      "org.bluez.Device1"
#define IFACE_GATT_MGR    "org.bluez.GattManager1"
#define IFACE_ADV_MGR     "org.bluez.LEAdvertisingManager1"
#define IFACE_SERVICE     "org.bluez.GattService1"
#define IFACE_CHAR        "org.bluez.GattCharacteristic1"
#define IFACE_ADV         "org.bluez.LEAdvertisement1"
#define IFACE_PROPS       "org.freedesktop.DBus.Properties"
#define IFACE_OM          "org.freedesktop.DBus.ObjectManager"
#define ERR_NOT_PERMITTED "org.bluez.Error.NotPermitted"
#define ERR_NOT_SUPPORTED "org.bluez.Error.NotSupported"
#define ERR_INVALID_LEN   "org.bluez.Error.InvalidValueLength"
#define ERR_INVALID_OFF   "org.bluez.Error.InvalidOffset"
#define ERR_FAILED        "org.bluez.Error.Failed"

#define USEC_PER_SEC   1000000ull
#define SETUP_TIMEOUT  (10 * USEC_PER_SEC) /* each BlueZ call while setting up */
#define CLOSE_TIMEOUT  (3 * USEC_PER_SEC)  /* unregistering at the end, all calls together */
#define MAX_PATH       256                 /* device and adapter object paths we keep */
#define WHY_LEN        256
#define MAX_BLUEZ_NAME 256

/* ---------------------------------------------------------------- pure helpers */

void mn_ble_uuid_str(const uint8_t uuid[16], char out[MN_BLE_UUID_STRLEN + 1])
{
	static const char x[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = x[uuid[i] >> 4];
		out[o++] = x[uuid[i] & 15];
	}
	out[o] = '\0';
}

unsigned mn_ble_mtu_clamp(unsigned mtu)
{
	if (mtu < MN_BLE_MTU_MIN)
		return MN_BLE_MTU_MIN;
	if (mtu > MN_BLE_MTU_MAX)
		return MN_BLE_MTU_MAX;
	return mtu;
}

/* data bytes per chunk: ATT notification/write payload (mtu - 3) less our header */
static size_t chunk_data(unsigned mtu)
{
	return (size_t)mn_ble_mtu_clamp(mtu) - 4;
}

size_t mn_ble_chunk_count(size_t len, unsigned mtu)
{
	size_t d = chunk_data(mtu);

	return len == 0 ? 0 : len / d + (len % d != 0);
}

int mn_ble_chunk(const uint8_t *msg, size_t len, unsigned mtu, size_t *off, uint8_t *out,
                 size_t cap, size_t *out_len)
{
	size_t n;

	if (msg == NULL || off == NULL || out == NULL || out_len == NULL || len == 0 || *off >= len)
		return MN_ERR_INVALID_ARG;
	if (len > MN_BLE_MAX_MSG)
		return MN_ERR_TOO_LARGE;
	n = chunk_data(mtu);
	if (n > len - *off)
		n = len - *off;
	if (cap < n + 1)
		return MN_ERR_TOO_LARGE;
	out[0] = *off + n < len ? MN_BLE_CHUNK_MORE : MN_BLE_CHUNK_LAST;
	memcpy(out + 1, msg + *off, n);
	*out_len = n + 1;
	*off += n;
	return MN_OK;
}

struct mn_ble_rx {
	uint8_t *buf;
	size_t len, cap, max_msg;
	unsigned chunks, max_chunks;
};

int mn_ble_rx_new(size_t max_msg, unsigned max_chunks, struct mn_ble_rx **ret)
{
	struct mn_ble_rx *rx;

	if (ret == NULL || max_msg > MN_BLE_MAX_MSG || max_chunks > MN_BLE_MAX_CHUNKS)
		return MN_ERR_INVALID_ARG;
	if ((rx = calloc(1, sizeof(*rx))) == NULL)
		return MN_ERR_NOMEM;
	rx->max_msg = max_msg != 0 ? max_msg : MN_BLE_MAX_MSG;
	rx->max_chunks = max_chunks != 0 ? max_chunks : MN_BLE_MAX_CHUNKS;
	*ret = rx;
	return MN_OK;
}

static void rx_reset(struct mn_ble_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->len = rx->cap = 0;
	rx->chunks = 0;
}

void mn_ble_rx_free(struct mn_ble_rx **prx)
{
	if (prx == NULL || *prx == NULL)
		return;
	rx_reset(*prx);
	free(*prx);
	*prx = NULL;
}

size_t mn_ble_rx_pending(const struct mn_ble_rx *rx)
{
	return rx != NULL ? rx->len : 0;
}

int mn_ble_rx_add(struct mn_ble_rx *rx, const uint8_t *chunk, size_t n, uint8_t **msg, size_t *len)
{
	size_t d, cap;
	uint8_t *p;
	int rc;

	if (rx == NULL || (chunk == NULL && n != 0) || msg == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	rc = MN_ERR_FORMAT;
	if (n == 0 || (chunk[0] != MN_BLE_CHUNK_MORE && chunk[0] != MN_BLE_CHUNK_LAST))
		goto fail;
	d = n - 1;
	rc = MN_ERR_TOO_LARGE;
	if (rx->chunks >= rx->max_chunks || d > rx->max_msg - rx->len)
		goto fail;
	rx->chunks++;
	if (d > rx->cap - rx->len) {
		cap = rx->cap != 0 ? rx->cap : 512;
		while (cap < rx->len + d)
			cap = cap > rx->max_msg / 2 ? rx->max_msg : cap * 2;
		rc = MN_ERR_NOMEM;
		if ((p = realloc(rx->buf, cap)) == NULL)
			goto fail;
		rx->buf = p;
		rx->cap = cap;
	}
	if (d > 0)
		memcpy(rx->buf + rx->len, chunk + 1, d);
	rx->len += d;
	if (chunk[0] == MN_BLE_CHUNK_MORE)
		return 0;
	rc = MN_ERR_FORMAT;
	if (rx->len == 0)
		goto fail;
	*msg = rx->buf;
	*len = rx->len;
	rx->buf = NULL;
	rx_reset(rx);
	return 1;
fail:
	rx_reset(rx);
	return rc;
}

int mn_ble_read_at(const uint8_t *val, size_t len, size_t offset, const uint8_t **part,
                   size_t *part_len)
{
	if ((val == NULL && len != 0) || part == NULL || part_len == NULL || offset > len)
		return MN_ERR_INVALID_ARG;
	*part = val != NULL ? val + offset : val;
	*part_len = len - offset;
	return MN_OK;
}

/* ---------------------------------------------------------------- the BlueZ transport */

enum chr_kind { CHR_STATE = 0, CHR_C2S, CHR_S2C, CHR_IDENT, N_CHR };

struct chr {
	struct mn_ble *b;
	enum chr_kind kind;
	char path[64];
};

/* an asynchronous BlueZ call in flight */
struct pending {
	struct mn_ble *b;
	sd_bus_slot *slot;
	int active, done, failed;
	char err[WHY_LEN];
};

struct mn_ble {
	sd_bus *bus;
	sd_bus_slot *s_om, *s_svc, *s_chr[N_CHR], *s_adv, *s_props, *s_removed, *s_owner;
	struct chr chr[N_CHR];
	struct pending reg_app, reg_adv, unreg_app, unreg_adv;
	char bluez[MAX_BLUEZ_NAME]; /* BlueZ's unique bus name: the only peer we listen to */
	char adapter[MAX_PATH];
	char device[MAX_PATH];    /* the phone, bound when it writes State 0x01 */
	char ident_dev[MAX_PATH]; /* the last device that read Ident before the start */
	char uuid[MN_BLE_UUID_STRLEN + 1];
	uint8_t ident[MN_BLE_IDENT_LEN];
	unsigned mtu; /* smallest seen, 0 = none yet */
	unsigned wait;
	int app_registered, adv_registered;
	int started, ended, disconnected, closing;
	int state_notify, s2c_notify;
	struct mn_ble_rx *rx;
	uint8_t *msg; /* one complete message from the phone, not yet received */
	size_t msg_len;
	int err; /* sticky: the first failure */
	char why[WHY_LEN];
};

__attribute__((format(printf, 3, 4))) static void fail(struct mn_ble *b, int rc, const char *fmt,
                                                       ...)
{
	va_list ap;

	if (b->err != MN_OK)
		return;
	b->err = rc;
	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* the message comes from BlueZ (the name that answered GetManagedObjects) */
static int from_bluez(const struct mn_ble *b, sd_bus_message *m)
{
	const char *s = sd_bus_message_get_sender(m);

	return s != NULL && strcmp(s, b->bluez) == 0;
}

/*
 * Process the bus until done(b) holds, b->err is set (unless ignore_err), or the deadline
 * passes (MN_ERR_TIMEOUT). done is checked first: a message that arrived before a failure is
 * still delivered.
 */
static int pump(struct mn_ble *b, uint64_t deadline, int (*done)(const struct mn_ble *),
                int ignore_err)
{
	uint64_t now;
	int r;

	for (;;) {
		if (done(b))
			return MN_OK;
		if (b->err != MN_OK && !ignore_err)
			return b->err;
		r = sd_bus_process(b->bus, NULL);
		if (r < 0) {
			fail(b, MN_ERR_IO, "the D-Bus connection was lost: %s", strerror(-r));
			return b->err;
		}
		if (r > 0)
			continue;
		now = now_usec();
		if (now >= deadline)
			return MN_ERR_TIMEOUT;
		r = sd_bus_wait(b->bus, deadline - now);
		if (r < 0 && r != -EINTR) {
			fail(b, MN_ERR_IO, "the D-Bus connection failed: %s", strerror(-r));
			return b->err;
		}
	}
}

/* ---------------------------------------------------------------- options of Read/WriteValue */

struct gatt_opts {
	char device[MAX_PATH];
	int has_mtu, has_offset;
	uint16_t mtu, offset;
};

/* a{sv}: "device" (o), "mtu" (q), "offset" (q); anything else skipped */
static int read_opts(sd_bus_message *m, struct gatt_opts *o)
{
	const char *key, *contents, *s;
	char type;
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0 ||
		    (r = sd_bus_message_peek_type(m, &type, &contents)) < 0)
			return r;
		if (strcmp(key, "device") == 0 && strcmp(contents, "o") == 0) {
			if ((r = sd_bus_message_read(m, "v", "o", &s)) < 0)
				return r;
			if (strlen(s) < sizeof(o->device))
				memcpy(o->device, s, strlen(s) + 1);
		} else if (strcmp(key, "mtu") == 0 && strcmp(contents, "q") == 0) {
			if ((r = sd_bus_message_read(m, "v", "q", &o->mtu)) < 0)
				return r;
			o->has_mtu = 1;
		} else if (strcmp(key, "offset") == 0 && strcmp(contents, "q") == 0) {
			if ((r = sd_bus_message_read(m, "v", "q", &o->offset)) < 0)
				return r;
			o->has_offset = 1;
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static void note_mtu(struct mn_ble *b, const struct gatt_opts *o)
{
	unsigned m = o->has_mtu ? mn_ble_mtu_clamp(o->mtu) : MN_BLE_MTU_MIN;

	if (b->mtu == 0 || m < b->mtu)
		b->mtu = m;
}

/* the call comes from the phone that wrote State 0x01 */
static int same_device(struct mn_ble *b, const struct gatt_opts *o)
{
	if (!b->started)
		return 0;
	return strcmp(b->device, o->device) == 0;
}

/* ---------------------------------------------------------------- exported objects */

static int prop_uuid(sd_bus *bus, const char *path, const char *iface, const char *prop,
                     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const struct chr *c = userdata;
	static const char *const uuids[N_CHR] = {MN_BLE_UUID_STATE, MN_BLE_UUID_C2S,
	                                         MN_BLE_UUID_S2C, MN_BLE_UUID_IDENT};

	return sd_bus_message_append(reply, "s", uuids[c->kind]);
}

static int prop_service(sd_bus *bus, const char *path, const char *iface, const char *prop,
                        sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append(reply, "o", MN_BLE_SERVICE_PATH);
}

static int prop_flags(sd_bus *bus, const char *path, const char *iface, const char *prop,
                      sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const struct chr *c = userdata;

	switch (c->kind) {
	case CHR_STATE:
		return sd_bus_message_append(reply, "as", 2, "write-without-response", "notify");
	case CHR_C2S:
		return sd_bus_message_append(reply, "as", 1, "write-without-response");
	case CHR_S2C:
		return sd_bus_message_append(reply, "as", 1, "notify");
	default:
		return sd_bus_message_append(reply, "as", 1, "read");
	}
}

static int prop_svc_uuid(sd_bus *bus, const char *path, const char *iface, const char *prop,
                         sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const struct mn_ble *b = userdata;

	return sd_bus_message_append(reply, "s", b->uuid);
}

static int prop_true(sd_bus *bus, const char *path, const char *iface, const char *prop,
                     sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append(reply, "b", 1);
}

static int prop_adv_type(sd_bus *bus, const char *path, const char *iface, const char *prop,
                         sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	return sd_bus_message_append(reply, "s", "peripheral");
}

static int prop_adv_uuids(sd_bus *bus, const char *path, const char *iface, const char *prop,
                          sd_bus_message *reply, void *userdata, sd_bus_error *e)
{
	const struct mn_ble *b = userdata;

	return sd_bus_message_append(reply, "as", 1, b->uuid);
}

static int m_read_value(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct chr *c = userdata;
	struct mn_ble *b = c->b;
	sd_bus_message *reply = NULL;
	struct gatt_opts o;
	const uint8_t *part;
	size_t n;
	int r;

	if (!from_bluez(b, m))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "only BlueZ may call this");
	if (c->kind != CHR_IDENT)
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "not readable");
	if ((r = read_opts(m, &o)) < 0)
		return r;
	note_mtu(b, &o);
	if (!b->started && o.device[0] != '\0')
		memcpy(b->ident_dev, o.device, sizeof(b->ident_dev));
	if (mn_ble_read_at(b->ident, sizeof(b->ident), o.has_offset ? o.offset : 0, &part, &n) !=
	    MN_OK)
		return sd_bus_error_set(e, ERR_INVALID_OFF, "offset past the value");
	if ((r = sd_bus_message_new_method_return(m, &reply)) >= 0 &&
	    (r = sd_bus_message_append_array(reply, 'y', part, n)) >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	sd_bus_message_unref(reply);
	return r;
}

static void c2s_chunk(struct mn_ble *b, const uint8_t *v, size_t n)
{
	uint8_t *msg = NULL;
	size_t len = 0;
	int r;

	r = mn_ble_rx_add(b->rx, v, n, &msg, &len);
	if (r == MN_ERR_TOO_LARGE) {
		fail(b, r, "the phone sent a message over the size or chunk bound");
	} else if (r < 0) {
		fail(b, r, "the phone sent a malformed message chunk: %s", mn_strerror(r));
	} else if (r == 1 && b->msg != NULL) {
		free(msg);
		fail(b, MN_ERR_FORMAT, "the phone sent a second message before an answer");
	} else if (r == 1) {
		b->msg = msg;
		b->msg_len = len;
	}
}

static int m_write_value(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct chr *c = userdata;
	struct mn_ble *b = c->b;
	struct gatt_opts o;
	const void *v = NULL;
	size_t n = 0;
	int r;

	if (!from_bluez(b, m))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "only BlueZ may call this");
	if (c->kind != CHR_STATE && c->kind != CHR_C2S)
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "not writable");
	if ((r = sd_bus_message_read_array(m, 'y', &v, &n)) < 0 || (r = read_opts(m, &o)) < 0)
		return r;
	if (c->kind == CHR_STATE) {
		if (n != 1)
			return sd_bus_error_set(e, ERR_INVALID_LEN, "State is one byte");
		if (b->started && !same_device(b, &o))
			return sd_bus_error_set(e, ERR_NOT_PERMITTED,
			                        "another device is connected");
		note_mtu(b, &o);
		if (((const uint8_t *)v)[0] == MN_BLE_STATE_START) {
			if (!b->started)
				memcpy(b->device, o.device, sizeof(b->device));
			b->started = 1;
		} else if (((const uint8_t *)v)[0] == MN_BLE_STATE_END) {
			b->ended = 1;
			fail(b, MN_BLE_ERR_ENDED, "the phone ended the session");
		} else {
			return sd_bus_error_set(e, ERR_NOT_SUPPORTED, "unknown State value");
		}
		return sd_bus_reply_method_return(m, "");
	}
	/* Client2Server: only from the phone that started the session */
	if (!same_device(b, &o))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "no session with this device");
	note_mtu(b, &o);
	c2s_chunk(b, v, n);
	if (b->err != MN_OK && b->msg == NULL && !b->ended && !b->disconnected)
		return sd_bus_error_set(e, ERR_FAILED, b->why);
	return sd_bus_reply_method_return(m, "");
}

static int m_start_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct chr *c = userdata;
	struct mn_ble *b = c->b;

	if (!from_bluez(b, m))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "only BlueZ may call this");
	if (c->kind == CHR_STATE)
		b->state_notify = 1;
	else if (c->kind == CHR_S2C)
		b->s2c_notify = 1;
	else
		return sd_bus_error_set(e, ERR_NOT_SUPPORTED, "no notifications");
	return sd_bus_reply_method_return(m, "");
}

static int m_stop_notify(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct chr *c = userdata;
	struct mn_ble *b = c->b;

	if (!from_bluez(b, m))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "only BlueZ may call this");
	if (c->kind == CHR_STATE) {
		b->state_notify = 0;
	} else if (c->kind == CHR_S2C) {
		b->s2c_notify = 0;
		if (b->started && !b->closing) {
			b->disconnected = 1;
			fail(b, MN_BLE_ERR_DISCONNECTED, "the phone disconnected");
		}
	} else {
		return sd_bus_error_set(e, ERR_NOT_SUPPORTED, "no notifications");
	}
	return sd_bus_reply_method_return(m, "");
}

static int m_release(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct mn_ble *b = userdata;

	if (!from_bluez(b, m))
		return sd_bus_error_set(e, ERR_NOT_PERMITTED, "only BlueZ may call this");
	b->adv_registered = 0; /* BlueZ dropped the advertisement itself */
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable service_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", prop_svc_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Primary", "b", prop_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable chr_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", prop_uuid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "o", prop_service, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Flags", "as", prop_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("ReadValue", "a{sv}", "ay", m_read_value, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("WriteValue", "aya{sv}", "", m_write_value, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartNotify", "", "", m_start_notify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopNotify", "", "", m_stop_notify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

static const sd_bus_vtable adv_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Type", "s", prop_adv_type, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("ServiceUUIDs", "as", prop_adv_uuids, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Discoverable", "b", prop_true, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("Release", "", "", m_release, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

/* ---------------------------------------------------------------- signals from BlueZ */

static void device_gone(struct mn_ble *b)
{
	if (b->closing)
		return;
	b->disconnected = 1;
	fail(b, MN_BLE_ERR_DISCONNECTED, "the phone disconnected");
}

/*
 * A device that read our Ident and left before writing State 0x01: only the phone that got
 * this session's UUID over NFC looks for our service, so it did not accept the Ident (or lost
 * the link); fail now instead of waiting out ble_wait.
 */
static void ident_reader_gone(struct mn_ble *b, const char *path)
{
	if (b->closing || b->started || b->ident_dev[0] == '\0' || strcmp(path, b->ident_dev) != 0)
		return;
	b->disconnected = 1;
	fail(b, MN_BLE_ERR_DISCONNECTED,
	     "the phone read this reader's Ident and disconnected before starting (it did not "
	     "recognise this reader)");
}

/* PropertiesChanged("org.bluez.Device1", {"Connected": false}, ...) on the phone's path */
static int on_props_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct mn_ble *b = userdata;
	const char *iface, *key, *contents, *path = sd_bus_message_get_path(m);
	char type;
	int connected = 1, r;

	if (!from_bluez(b, m) || path == NULL)
		return 0;
	if (b->started ? b->device[0] == '\0' || strcmp(path, b->device) != 0
	               : b->ident_dev[0] == '\0' || strcmp(path, b->ident_dev) != 0)
		return 0;
	if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, IFACE_DEVICE) != 0 ||
	    sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (sd_bus_message_read(m, "s", &key) < 0 ||
		    sd_bus_message_peek_type(m, &type, &contents) < 0)
			return 0;
		if (strcmp(key, "Connected") == 0 && strcmp(contents, "b") == 0) {
			if (sd_bus_message_read(m, "v", "b", &connected) < 0)
				return 0;
		} else if (sd_bus_message_skip(m, "v") < 0) {
			return 0;
		}
		if (sd_bus_message_exit_container(m) < 0)
			return 0;
	}
	if (!connected) {
		if (b->started)
			device_gone(b);
		else
			ident_reader_gone(b, path);
	}
	return 0;
}

/* InterfacesRemoved(o path, as) of the phone, or of the adapter */
static int on_ifaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct mn_ble *b = userdata;
	const char *path;

	if (!from_bluez(b, m) || sd_bus_message_read(m, "o", &path) < 0)
		return 0;
	if (b->started && b->device[0] != '\0' && strcmp(path, b->device) == 0)
		device_gone(b);
	else if (!b->started)
		ident_reader_gone(b, path);
	if (b->err != MN_OK)
		return 0;
	if (strcmp(path, b->adapter) == 0 && !b->closing)
		fail(b, MN_BLE_ERR_NO_ADAPTER, "the Bluetooth adapter went away");
	return 0;
}

/* NameOwnerChanged("org.bluez", old, "") */
static int on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct mn_ble *b = userdata;
	const char *name, *old, *new;

	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || strcmp(name, BLUEZ) != 0 ||
	    strcmp(old, b->bluez) != 0)
		return 0;
	if (!b->closing)
		fail(b, MN_BLE_ERR_NO_BLUEZ, "Bluetooth (bluetoothd) stopped");
	b->app_registered = b->adv_registered = 0; /* nothing left to unregister */
	return 0;
}

/* ---------------------------------------------------------------- setup */

static int connect_bus(struct mn_ble *b, const char *address)
{
	int r;

	if (address == NULL || address[0] == '\0') {
		if ((r = sd_bus_open_system(&b->bus)) < 0) {
			fail(b, MN_ERR_IO, "cannot connect to the system D-Bus: %s", strerror(-r));
			return b->err;
		}
		return MN_OK;
	}
	if ((r = sd_bus_new(&b->bus)) < 0 || (r = sd_bus_set_address(b->bus, address)) < 0 ||
	    (r = sd_bus_set_bus_client(b->bus, 1)) < 0 || (r = sd_bus_start(b->bus)) < 0) {
		fail(b, MN_ERR_IO, "cannot connect to the D-Bus at %s: %s", address, strerror(-r));
		return b->err;
	}
	return MN_OK;
}

static int connect_and_bound(struct mn_ble *b, const char *address)
{
	int r;

	if (connect_bus(b, address) != MN_OK)
		return b->err;
	/* every synchronous call (GetManagedObjects, AddMatch) and the async ones are bounded */
	if ((r = sd_bus_set_method_call_timeout(b->bus, SETUP_TIMEOUT)) < 0) {
		fail(b, MN_ERR_IO, "D-Bus: %s", strerror(-r));
		return b->err;
	}
	return MN_OK;
}

static int no_bluez_error(const sd_bus_error *e)
{
	return sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.ServiceUnknown") ||
	       sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.NameHasNoOwner") ||
	       sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.NoReply") ||
	       sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.TimedOut") ||
	       sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.Timeout") ||
	       (e->name != NULL && strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0);
}

/* skip one a{sv}; for Adapter1 read Powered */
static int read_iface_props(sd_bus_message *m, int is_adapter, int *powered)
{
	const char *key, *contents;
	char type;
	int r, v;

	if (!is_adapter)
		return sd_bus_message_skip(m, "a{sv}");
	if ((r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0 ||
		    (r = sd_bus_message_peek_type(m, &type, &contents)) < 0)
			return r;
		if (strcmp(key, "Powered") == 0 && strcmp(contents, "b") == 0) {
			if ((r = sd_bus_message_read(m, "v", "b", &v)) < 0)
				return r;
			*powered = v != 0;
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/*
 * GetManagedObjects on org.bluez "/": the first object with GattManager1 and
 * LEAdvertisingManager1 that is powered (else the first one, reported as off).
 */
static int find_adapter(struct mn_ble *b)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path, *iface, *sender;
	char off_path[MAX_PATH] = "";
	int r, gatt, adv, adapter, powered, rc = MN_ERR_IO;

	r = sd_bus_call_method(b->bus, BLUEZ, "/", IFACE_OM, "GetManagedObjects", &e, &reply, "");
	if (r < 0) {
		if (no_bluez_error(&e))
			fail(b, MN_BLE_ERR_NO_BLUEZ, "Bluetooth (bluetoothd) is not running (%s)",
			     e.name != NULL ? e.name : strerror(-r));
		else
			fail(b, MN_ERR_IO, "BlueZ does not answer: %s: %s",
			     e.name != NULL ? e.name : "error",
			     e.message != NULL ? e.message : strerror(-r));
		rc = b->err;
		goto out;
	}
	sender = sd_bus_message_get_sender(reply);
	if (sender == NULL || strlen(sender) >= sizeof(b->bluez)) {
		fail(b, MN_ERR_IO, "BlueZ's reply has no sender");
		rc = b->err;
		goto out;
	}
	memcpy(b->bluez, sender, strlen(sender) + 1);
	if ((r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}")) < 0)
		goto bad;
	while (b->adapter[0] == '\0' &&
	       (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		gatt = adv = adapter = powered = 0;
		if ((r = sd_bus_message_read(reply, "o", &path)) < 0 ||
		    (r = sd_bus_message_enter_container(reply, 'a', "{sa{sv}}")) < 0)
			goto bad;
		while ((r = sd_bus_message_enter_container(reply, 'e', "sa{sv}")) > 0) {
			if ((r = sd_bus_message_read(reply, "s", &iface)) < 0)
				goto bad;
			gatt |= strcmp(iface, IFACE_GATT_MGR) == 0;
			adv |= strcmp(iface, IFACE_ADV_MGR) == 0;
			adapter |= strcmp(iface, IFACE_ADAPTER) == 0;
			if ((r = read_iface_props(reply, strcmp(iface, IFACE_ADAPTER) == 0,
			                          &powered)) < 0 ||
			    (r = sd_bus_message_exit_container(reply)) < 0)
				goto bad;
		}
		if (r < 0 || (r = sd_bus_message_exit_container(reply)) < 0 ||
		    (r = sd_bus_message_exit_container(reply)) < 0)
			goto bad;
		if (!gatt || !adv || !adapter || strlen(path) >= MAX_PATH)
			continue;
		if (powered)
			memcpy(b->adapter, path, strlen(path) + 1);
		else if (off_path[0] == '\0')
			memcpy(off_path, path, strlen(path) + 1);
	}
	if (r < 0)
		goto bad;
	if (b->adapter[0] == '\0') {
		if (off_path[0] != '\0')
			fail(b, MN_BLE_ERR_ADAPTER_OFF, "the Bluetooth adapter is off (%s)",
			     off_path);
		else
			fail(b, MN_BLE_ERR_NO_ADAPTER,
			     "no Bluetooth adapter (none with GATT server and LE advertising)");
		rc = b->err;
		goto out;
	}
	rc = MN_OK;
	goto out;
bad:
	fail(b, MN_ERR_IO, "BlueZ's object list is malformed: %s", strerror(-r));
	rc = b->err;
out:
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return rc;
}

static int export_objects(struct mn_ble *b)
{
	size_t i;
	int r;

	if ((r = sd_bus_add_object_manager(b->bus, &b->s_om, MN_BLE_APP_PATH)) < 0 ||
	    (r = sd_bus_add_object_vtable(b->bus, &b->s_svc, MN_BLE_SERVICE_PATH, IFACE_SERVICE,
	                                  service_vtable, b)) < 0)
		goto bad;
	for (i = 0; i < N_CHR; i++) {
		b->chr[i].b = b;
		b->chr[i].kind = (enum chr_kind)i;
		snprintf(b->chr[i].path, sizeof(b->chr[i].path), "%s/char%zu", MN_BLE_SERVICE_PATH,
		         i);
		if ((r = sd_bus_add_object_vtable(b->bus, &b->s_chr[i], b->chr[i].path, IFACE_CHAR,
		                                  chr_vtable, &b->chr[i])) < 0)
			goto bad;
	}
	if ((r = sd_bus_add_object_vtable(b->bus, &b->s_adv, MN_BLE_ADV_PATH, IFACE_ADV, adv_vtable,
	                                  b)) < 0)
		goto bad;
	/* disconnects and BlueZ going away, from BlueZ only */
	if ((r = sd_bus_match_signal(b->bus, &b->s_props, b->bluez, NULL, IFACE_PROPS,
	                             "PropertiesChanged", on_props_changed, b)) < 0 ||
	    (r = sd_bus_match_signal(b->bus, &b->s_removed, b->bluez, NULL, IFACE_OM,
	                             "InterfacesRemoved", on_ifaces_removed, b)) < 0 ||
	    (r = sd_bus_match_signal(b->bus, &b->s_owner, "org.freedesktop.DBus",
	                             "/org/freedesktop/DBus", "org.freedesktop.DBus",
	                             "NameOwnerChanged", on_owner_changed, b)) < 0)
		goto bad;
	return MN_OK;
bad:
	fail(b, MN_ERR_IO, "cannot export the GATT application on D-Bus: %s", strerror(-r));
	return b->err;
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	struct pending *p = userdata;
	const sd_bus_error *err;

	p->done = 1;
	p->slot = sd_bus_slot_unref(p->slot);
	if (sd_bus_message_is_method_error(m, NULL)) {
		err = sd_bus_message_get_error(m);
		p->failed = 1;
		snprintf(p->err, sizeof(p->err), "%s: %s",
		         err != NULL && err->name != NULL ? err->name : "error",
		         err != NULL && err->message != NULL ? err->message : "");
	}
	return 0;
}

static int call_async(struct mn_ble *b, struct pending *p, const char *iface, const char *member,
                      const char *obj)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->b = b;
	if (strcmp(member, "UnregisterApplication") == 0 ||
	    strcmp(member, "UnregisterAdvertisement") == 0)
		r = sd_bus_call_method_async(b->bus, &p->slot, BLUEZ, b->adapter, iface, member,
		                             on_reply, p, "o", obj);
	else
		r = sd_bus_call_method_async(b->bus, &p->slot, BLUEZ, b->adapter, iface, member,
		                             on_reply, p, "oa{sv}", obj, 0);
	if (r < 0) {
		p->done = p->failed = 1;
		snprintf(p->err, sizeof(p->err), "%s", strerror(-r));
		return r;
	}
	p->active = 1;
	return 0;
}

static int reg_done(const struct mn_ble *b)
{
	return b->reg_app.done && b->reg_adv.done;
}

static int unreg_done(const struct mn_ble *b)
{
	return (!b->unreg_app.active || b->unreg_app.done) &&
	       (!b->unreg_adv.active || b->unreg_adv.done);
}

static int connected(const struct mn_ble *b)
{
	return b->started && b->s2c_notify;
}

static int have_msg(const struct mn_ble *b)
{
	return b->msg != NULL;
}

/* RegisterApplication and RegisterAdvertisement, both in flight while we serve BlueZ's calls */
static int register_all(struct mn_ble *b)
{
	int rc;

	if (call_async(b, &b->reg_app, IFACE_GATT_MGR, "RegisterApplication", MN_BLE_APP_PATH) <
	        0 ||
	    call_async(b, &b->reg_adv, IFACE_ADV_MGR, "RegisterAdvertisement", MN_BLE_ADV_PATH) <
	        0) {
		fail(b, MN_ERR_IO, "cannot call BlueZ: %s",
		     b->reg_app.failed ? b->reg_app.err : b->reg_adv.err);
		return b->err;
	}
	rc = pump(b, now_usec() + SETUP_TIMEOUT, reg_done, 0);
	/* registered is what BlueZ confirmed, even when the other call failed */
	b->app_registered = b->reg_app.done && !b->reg_app.failed;
	b->adv_registered = b->reg_adv.done && !b->reg_adv.failed;
	if (rc == MN_ERR_TIMEOUT) {
		fail(b, MN_ERR_IO, "BlueZ did not answer the registration in time");
		/* a late confirmation cannot be seen: try to unregister both */
		b->app_registered = b->adv_registered = 1;
		return b->err;
	}
	if (rc != MN_OK)
		return rc;
	if (b->reg_app.failed) {
		fail(b, MN_ERR_UNSUPPORTED, "BlueZ refused the GATT application (%s)",
		     b->reg_app.err);
		return b->err;
	}
	if (b->reg_adv.failed) {
		fail(b, MN_ERR_UNSUPPORTED, "BlueZ refused the LE advertisement (%s)",
		     b->reg_adv.err);
		return b->err;
	}
	return MN_OK;
}

static void say(char *why, size_t whylen, const char *s)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", s);
}

int mn_ble_open(const struct mn_ble_opts *opts, const uint8_t uuid[16],
                const uint8_t ident[MN_BLE_IDENT_LEN], struct mn_ble **ret, char *why,
                size_t whylen)
{
	struct mn_ble *b = NULL;
	int rc = MN_ERR_INVALID_ARG;

	say(why, whylen, "");
	if (opts == NULL || uuid == NULL || ident == NULL || ret == NULL ||
	    opts->wait > MN_BLE_WAIT_MAX || opts->max_msg > MN_BLE_MAX_MSG ||
	    opts->max_chunks > MN_BLE_MAX_CHUNKS) {
		say(why, whylen, "invalid BLE options");
		goto out;
	}
	rc = MN_ERR_NOMEM;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    mn_ble_rx_new(opts->max_msg, opts->max_chunks, &b->rx) != MN_OK) {
		say(why, whylen, "out of memory");
		goto out;
	}
	b->wait = opts->wait != 0 ? opts->wait : MN_BLE_WAIT_DEF;
	mn_ble_uuid_str(uuid, b->uuid);
	memcpy(b->ident, ident, sizeof(b->ident));
	if ((rc = connect_and_bound(b, opts->bus_address)) != MN_OK ||
	    (rc = find_adapter(b)) != MN_OK || (rc = export_objects(b)) != MN_OK ||
	    (rc = register_all(b)) != MN_OK)
		goto bad;
	rc = pump(b, now_usec() + (uint64_t)b->wait * USEC_PER_SEC, connected, 0);
	if (rc == MN_ERR_TIMEOUT)
		fail(b, MN_ERR_TIMEOUT, "the phone did not connect over Bluetooth in time (%u s)",
		     b->wait);
	if (rc != MN_OK)
		goto bad;
	*ret = b;
	b = NULL;
	rc = MN_OK;
	goto out;
bad:
	say(why, whylen, b->why[0] != '\0' ? b->why : mn_strerror(rc));
out:
	mn_ble_free(&b);
	return rc;
}

/* PropertiesChanged(GattCharacteristic1, {"Value": ay}, []): BlueZ turns it into a notification */
static int notify(struct mn_ble *b, enum chr_kind k, const uint8_t *v, size_t n)
{
	sd_bus_message *m = NULL;
	int r;

	if ((r = sd_bus_message_new_signal(b->bus, &m, b->chr[k].path, IFACE_PROPS,
	                                   "PropertiesChanged")) >= 0 &&
	    (r = sd_bus_message_append(m, "s", IFACE_CHAR)) >= 0 &&
	    (r = sd_bus_message_open_container(m, 'a', "{sv}")) >= 0 &&
	    (r = sd_bus_message_open_container(m, 'e', "sv")) >= 0 &&
	    (r = sd_bus_message_append(m, "s", "Value")) >= 0 &&
	    (r = sd_bus_message_open_container(m, 'v', "ay")) >= 0 &&
	    (r = sd_bus_message_append_array(m, 'y', v, n)) >= 0 &&
	    (r = sd_bus_message_close_container(m)) >= 0 &&
	    (r = sd_bus_message_close_container(m)) >= 0 &&
	    (r = sd_bus_message_close_container(m)) >= 0 &&
	    (r = sd_bus_message_append(m, "as", 0)) >= 0)
		r = sd_bus_send(b->bus, m, NULL);
	sd_bus_message_unref(m);
	return r;
}

void mn_ble_free(struct mn_ble **pb)
{
	static const uint8_t end = MN_BLE_STATE_END;
	struct mn_ble *b;
	size_t i;

	if (pb == NULL || (b = *pb) == NULL)
		return;
	if (b->bus != NULL) {
		b->closing = 1;
		if (b->started && !b->ended && !b->disconnected && b->state_notify)
			(void)notify(b, CHR_STATE, &end, 1);
		if (b->adv_registered)
			(void)call_async(b, &b->unreg_adv, IFACE_ADV_MGR, "UnregisterAdvertisement",
			                 MN_BLE_ADV_PATH);
		if (b->app_registered)
			(void)call_async(b, &b->unreg_app, IFACE_GATT_MGR, "UnregisterApplication",
			                 MN_BLE_APP_PATH);
		(void)pump(b, now_usec() + CLOSE_TIMEOUT, unreg_done, 1);
		b->reg_app.slot = sd_bus_slot_unref(b->reg_app.slot);
		b->reg_adv.slot = sd_bus_slot_unref(b->reg_adv.slot);
		b->unreg_app.slot = sd_bus_slot_unref(b->unreg_app.slot);
		b->unreg_adv.slot = sd_bus_slot_unref(b->unreg_adv.slot);
		sd_bus_slot_unref(b->s_owner);
		sd_bus_slot_unref(b->s_removed);
		sd_bus_slot_unref(b->s_props);
		sd_bus_slot_unref(b->s_adv);
		for (i = 0; i < N_CHR; i++)
			sd_bus_slot_unref(b->s_chr[i]);
		sd_bus_slot_unref(b->s_svc);
		sd_bus_slot_unref(b->s_om);
		sd_bus_flush_close_unref(b->bus);
	}
	mn_ble_rx_free(&b->rx);
	free(b->msg);
	free(b);
	*pb = NULL;
}

const char *mn_ble_why(const struct mn_ble *b)
{
	return b != NULL ? b->why : "";
}

unsigned mn_ble_mtu(const struct mn_ble *b)
{
	return b != NULL && b->mtu != 0 ? b->mtu : MN_BLE_MTU_MIN;
}

/* ---------------------------------------------------------------- transport ops */

static int ble_send(void *ctx, const uint8_t *msg, size_t len)
{
	struct mn_ble *b = ctx;
	uint8_t chunk[MN_BLE_MTU_MAX];
	size_t off = 0, n = 0;
	unsigned mtu;
	int r;

	if (b == NULL || msg == NULL || len == 0)
		return MN_ERR_INVALID_ARG;
	if (b->err != MN_OK)
		return b->err;
	mtu = mn_ble_mtu(b);
	if (len > MN_BLE_MAX_MSG || mn_ble_chunk_count(len, mtu) > MN_BLE_MAX_CHUNKS) {
		fail(b, MN_ERR_TOO_LARGE, "message too large for BLE");
		return b->err;
	}
	if (!b->s2c_notify) {
		fail(b, MN_BLE_ERR_DISCONNECTED, "the phone is not subscribed to Server2Client");
		return b->err;
	}
	while (off < len) {
		if ((r = mn_ble_chunk(msg, len, mtu, &off, chunk, sizeof(chunk), &n)) != MN_OK)
			return r;
		if ((r = notify(b, CHR_S2C, chunk, n)) < 0) {
			fail(b, MN_ERR_IO, "cannot send a notification: %s", strerror(-r));
			return b->err;
		}
	}
	return MN_OK;
}

static int ble_receive(void *ctx, uint8_t **msg, size_t *len)
{
	struct mn_ble *b = ctx;
	int rc;

	if (b == NULL || msg == NULL || len == NULL)
		return MN_ERR_INVALID_ARG;
	rc = pump(b, now_usec() + (uint64_t)b->wait * USEC_PER_SEC, have_msg, 0);
	if (rc == MN_ERR_TIMEOUT) {
		fail(b, MN_ERR_TIMEOUT, "the phone did not answer over Bluetooth in time (%u s)",
		     b->wait);
		return b->err;
	}
	if (rc != MN_OK)
		return rc;
	*msg = b->msg;
	*len = b->msg_len;
	b->msg = NULL;
	b->msg_len = 0;
	return MN_OK;
}

static void ble_close(void *ctx)
{
	struct mn_ble *b = ctx;

	mn_ble_free(&b);
}

static const struct mn_mdoc_transport_ops ble_ops = {
    .send = ble_send,
    .receive = ble_receive,
    .close = ble_close,
};

void mn_ble_transport(struct mn_ble *b, struct mn_mdoc_transport *out)
{
	out->ops = &ble_ops;
	out->ctx = b;
}

int mn_ble_reader_open(void *ctx, const uint8_t uuid[16], const uint8_t *edevice_key_bytes,
                       size_t len, struct mn_mdoc_transport *out, char *why, size_t whylen)
{
	const struct mn_ble_opts *o = ctx;
	uint8_t ident[MN_BLE_IDENT_LEN];
	struct mn_ble *b = NULL;
	int rc;

	if (o == NULL || out == NULL || edevice_key_bytes == NULL || len == 0)
		return MN_ERR_INVALID_ARG;
	if ((rc = mn_mdoc_ble_ident(edevice_key_bytes, len, ident)) != MN_OK) {
		say(why, whylen, "cannot derive the BLE Ident");
		return rc;
	}
	if ((rc = mn_ble_open(o, uuid, ident, &b, why, whylen)) != MN_OK)
		return rc;
	mn_ble_transport(b, out);
	return MN_OK;
}
