/*
 * mynumber-sim wallet profile, BLE data retrieval without a radio: a fake BlueZ (org.bluez on a
 * private D-Bus bus) that also plays the air and the phone as BLE central, in the ISO/IEC
 * 18013-5 "mdoc central client mode" Apple Wallet uses (the reader is the GATT server).
 *
 * The fake serves /org/bluez/hci0 (Adapter1, GattManager1, LEAdvertisingManager1) under an
 * ObjectManager on "/". Once the reader's GATT application (service UUID = the UUID of its
 * Handover Request) and its advertisement are registered, the phone "connects": Device1 appears,
 * it reads Ident, subscribes to State and Server2Client, writes State 0x01, receives the
 * request chunks, answers through the wallet (sim_wallet_message) in Client2Server chunks, and
 * disconnects when the reader ends the session. doc/mynumber-sim.md has the details.
 *
 * The bus runs in its own thread; the wallet is shared with the vpcd loop (it locks itself).
 */
#ifndef MN_SIM_BLE_H
#define MN_SIM_BLE_H

#include <signal.h>

struct sim_wallet;

enum sim_ble_fault {
	SIM_BLE_FAULT_NONE = 0,
	SIM_BLE_FAULT_IDENT,       /* the phone expects another Ident: it disconnects */
	SIM_BLE_FAULT_DISCONNECT,  /* the first chunk of the answer only, then disconnect */
	SIM_BLE_FAULT_SILENT,      /* the phone never connects */
	SIM_BLE_FAULT_NO_ADAPTER,  /* no /org/bluez/hci0 */
	SIM_BLE_FAULT_POWERED_OFF, /* Adapter1.Powered false (rfkill: cannot be turned on) */
};

#define SIM_BLE_MTU_DEFAULT     185
#define SIM_BLE_MTU_MIN         23
#define SIM_BLE_MTU_MAX         517
#define SIM_BLE_TIMEOUT_DEFAULT 60

struct sim_ble_opts {
	const char *bus;          /* D-Bus address, e.g. unix:path=/tmp/x/bus */
	enum sim_ble_fault fault; /* --ble-fault */
	unsigned mtu;             /* the ATT MTU the phone uses (chunks <= mtu - 3) */
	long timeout;             /* s: an engagement waits, a connection lasts at most this */
	int verbose;
};

/* "none", "ident", ... -> fault; MN_ERR_INVALID_ARG for anything else */
int sim_ble_fault_parse(const char *s, enum sim_ble_fault *out);

struct sim_ble;

/*
 * Connect to the bus, own org.bluez, publish the objects and start the bus thread. The thread
 * runs until sim_ble_stop() or until *stop becomes non-zero.
 */
int sim_ble_start(struct sim_wallet *w, const struct sim_ble_opts *o, volatile sig_atomic_t *stop,
                  struct sim_ble **ret);

/* Stop the thread (a connected phone disconnects), release the name, free. */
void sim_ble_stop(struct sim_ble **b);

#endif
