#!/bin/sh
# BLE data retrieval without a radio: ISO 18013-5 "mdoc central client mode", the way Apple
# Wallet answers a negotiated handover (its Handover Select offers only a BLE carrier, LE role
# central, no UUID). The phone is mynumber-sim's wallet profile: NFC engagement on vpcd as
# always, and with --ble-bus it owns org.bluez on a private D-Bus bus (a fake BlueZ that also
# plays the air and the phone as BLE central). The reader (mynumber read-mdoc --ble-bus, and
# pam_mynumber with [phone] ble_bus) is the GATT server. Successes, every way it must fail,
# and the existing NFC path with a phone that offers both carriers.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

if ! command -v dbus-daemon >/dev/null 2>&1; then
	echo "SKIP: dbus-daemon is not installed (run tools/install-deps)"
	exit 77
fi

JP=org.iso.23220.1.jp
NAME='番号　花子'
BUS=unix:path=$T/bus
RUN=0

# the private bus: listens on $T/bus only (tests/integration/ble-bus.conf)
sed "s|@SOCKET@|$T/bus|" "$MN_TOP_SRCDIR/tests/integration/ble-bus.conf" >"$T/ble-bus.conf"
if ! dbus-daemon --config-file="$T/ble-bus.conf" --fork --print-pid >"$T/dbus.pid" \
	2>"$T/dbus.log" || ! wait_until 10 test -S "$T/bus"; then
	echo "Bail out! the private D-Bus bus did not start"
	cat "$T/dbus.log"
	exit 99
fi
DBUS_PID=$(head -n 1 "$T/dbus.pid")
PIDS="$PIDS $DBUS_PID"

if ! "$SIM" init --profile wallet "$T/w" >"$T/wallet-init.log" 2>&1; then
	echo "Bail out! mynumber-sim init --profile wallet failed"
	cat "$T/wallet-init.log"
	exit 99
fi

# phone_start LABEL [mynumber-sim run options]: the phone with a fresh log ($T/w.sim.log,
# kept as $T/sim-LABEL.log by phone_stop)
phone_start()
{
	LABEL=$1
	shift
	RUN=$((RUN + 1))
	: >"$T/w.sim.log"
	mn_card_start w --profile wallet --handover tnep "$@"
	case " $* " in
	*" --ble-bus "*)
		if ! wait_until 10 grep -q 'ble: org.bluez on' "$T/w.sim.log"; then
			not_ok "$LABEL: the fake BlueZ owns org.bluez"
			tail -n 5 "$T/w.sim.log" | sed 's/^/#   /'
		fi
		;;
	esac
}

phone_stop()
{
	mn_card_stop
	cp "$T/w.sim.log" "$T/sim-$RUN-$LABEL.log"
}

# sim_log DESC PATTERN / sim_log_not DESC PATTERN: the phone's log of this run
sim_log()
{
	expect "$1" "$2" "$T/w.sim.log"
}

sim_log_not()
{
	expect_not "$1" "$2" "$T/w.sim.log"
}

# read_cli OUT [read-mdoc options]
read_cli()
{
	_out=$1
	shift
	timeout 60 "$MYNUMBER" read-mdoc --trust "$T/w/iaca.pem" --wait 10 "$@" >"$_out" \
		2>"$_out.err"
}

# phone_conf [extra [phone] lines]: mynumber.conf trusting the wallet's IACA
phone_conf()
{
	MN_REV_BACKENDS=none mn_pam_conf
	printf '\n[phone]\nmdoc_trust_anchors = %s\n' "$T/w/iaca.pem" >>"$CONF"
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$CONF"
	done
}

login_phone()
{
	printf '\n' | wrapped timeout 90 pamtester -v mynumber-test "$1" authenticate
}

# login_fails DESC MESSAGE [auth|unavail]: the login fails with MESSAGE and PAM_AUTH_ERR
# (auth), PAM_AUTHINFO_UNAVAIL (unavail), or either; never success
login_fails()
{
	check_fails "$1: login fails" login_phone taro
	expect "$1: the reason is given" "$2"
	case "${3:-}" in
	auth) expect "$1: PAM_AUTH_ERR" 'pamtester: Authentication failure' ;;
	unavail) expect "$1: PAM_AUTHINFO_UNAVAIL" \
		'pamtester: Authentication service cannot retrieve authentication info' ;;
	*) expect "$1: PAM_AUTH_ERR or PAM_AUTHINFO_UNAVAIL" \
		'pamtester: (Authentication failure|Authentication service cannot retrieve authentication info)' ;;
	esac
	expect_not "$1: not authenticated" 'successfully authenticated'
	expect_not "$1: no element value in the output" "$NAME|1971"
}

# --- mynumber read-mdoc: the phone offers only BLE, so the elements can only come over BLE
phone_start cli-ble --carrier ble --ble-bus "$BUS"
check "read-mdoc --ble-bus: verified over BLE" read_cli "$T/cli.json" --ble-bus "$BUS"
expect "read-mdoc over BLE: full_name_unicode" '"full_name_unicode"' "$T/cli.json"
expect "read-mdoc over BLE: the name" "$NAME" "$T/cli.json"
expect "read-mdoc over BLE: birth_date_unicode" '"birth_date_unicode"' "$T/cli.json"
sim_log "the Handover Request carried the reader's BLE UUID" 'Handover Request: BLE UUID [0-9a-f-]{36}'
sim_log "the reader registered its GATT application" 'RegisterApplication ok: service'
sim_log "the reader advertised its service" 'RegisterAdvertisement ok: Type peripheral'
sim_log "the phone connected" 'the phone connects as AA:BB:CC:DD:EE:FF'
sim_log "the reader's Ident matched" 'Ident matches'
sim_log "the phone wrote the answer in chunks" 'answer written: [0-9]+ bytes in [0-9]+ chunks'
sim_log "the reader ended the session" 'the phone disconnects: the reader ended the session'
sim_log "the reader unregistered its application" 'UnregisterApplication'
phone_stop

# small MTU: 23 bytes (20 per chunk), many chunks each way
phone_start cli-mtu23 --carrier ble --ble-bus "$BUS" --ble-mtu 23
check "read-mdoc over BLE with MTU 23" read_cli "$T/cli23.json" --ble-bus "$BUS"
expect "MTU 23: full_name_unicode" '"full_name_unicode"' "$T/cli23.json"
sim_log "MTU 23: more than 50 chunks" 'answer written: [0-9]+ bytes in ([5-9][0-9]|[1-9][0-9]{2,}) chunks'
phone_stop

# --- PAM: enroll the phone over NFC, then log in over BLE
mn_card_init card # only for the JPKI anchors the configuration needs
mn_pam_setup card
MN_CARD_WAIT=5
export MN_CARD_WAIT
phone_conf "ble_bus = $BUS" "ble_wait = 10"
phone_start enroll-nfc
check "enroll taro's phone (NFC data retrieval)" wrapped "$MYNUMBER" --config "$CONF" enroll --phone taro
expect "enrolled" 'Enrolled taro \(id 1\): My Number Card \(phone\)'
phone_stop

phone_start login-ble --carrier ble --ble-bus "$BUS"
check "login with a BLE-only phone" login_phone taro
expect "BLE login: authenticated" 'successfully authenticated'
expect_not "BLE login: no element value in the output" "$NAME|1971"
sim_log "BLE login: data retrieval went over BLE" 'answer written: [0-9]+ bytes'
phone_stop

# both carriers offered: the reader keeps to NFC, BLE is not touched
phone_start login-both --carrier both --ble-bus "$BUS"
check "login with a phone offering NFC and BLE" login_phone taro
expect "NFC+BLE login: authenticated" 'successfully authenticated'
sim_log "NFC+BLE: the Handover Request still carried a BLE UUID" 'Handover Request: BLE UUID'
sim_log_not "NFC+BLE: the fake BlueZ saw no RegisterApplication (NFC was used)" 'RegisterApplication'
sim_log_not "NFC+BLE: the phone never connected over BLE" 'the phone connects'
phone_stop

# --- failures
phone_start biometric --carrier ble --ble-bus "$BUS" --biometric fail
login_fails "biometric refused over BLE" 'The phone did not confirm your identity' auth
sim_log "biometric: the phone ended the session over BLE" 'user verification failed'
phone_stop

# Ident mismatch: the phone reads Ident, disconnects; the reader fails at once, not after
# ble_wait (20 s here)
phone_conf "ble_bus = $BUS" "ble_wait = 20"
phone_start ident --carrier ble --ble-bus "$BUS" --ble-fault ident
t0=$(date +%s)
login_fails "Ident mismatch" 'disconnected from Bluetooth before the login started' unavail
check "Ident mismatch noticed at once (well under ble_wait)" test $(($(date +%s) - t0)) -lt 12
sim_log "Ident mismatch: the phone disconnected after reading Ident" 'the phone disconnects: Ident mismatch'
sim_log_not "Ident mismatch: the phone never wrote State" 'WriteValue\(State, 01\)'
phone_stop
phone_conf "ble_bus = $BUS" "ble_wait = 3"

phone_start disconnect --carrier ble --ble-bus "$BUS" --ble-fault disconnect
login_fails "the phone disconnects mid-transfer" 'disconnected' auth
sim_log "disconnect: after the first chunk" 'fault disconnect: after the first chunk'
phone_stop

phone_start silent --carrier ble --ble-bus "$BUS" --ble-fault silent
login_fails "the phone never connects (ble_wait 3 s)" 'did not connect over Bluetooth in time' unavail
sim_log "silent: the phone saw the reader's registration" 'RegisterApplication ok'
sim_log_not "silent: the phone did not connect" 'the phone connects'
phone_stop

phone_start no-adapter --carrier ble --ble-bus "$BUS" --ble-fault no-adapter
login_fails "no Bluetooth adapter" 'no Bluetooth adapter' unavail
phone_stop

phone_start powered-off --carrier ble --ble-bus "$BUS" --ble-fault powered-off
login_fails "the Bluetooth adapter is off" 'adapter is off' unavail
if locale -a 2>/dev/null | grep -qi '^ja_JP.utf8$'; then
	check_fails "the Bluetooth adapter is off (Japanese)" \
		sh -c "printf '\\n' | LANG=ja_JP.UTF-8 LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
		NSS_WRAPPER_GROUP='$ETC/group' timeout 90 pamtester -v mynumber-test taro authenticate"
	expect "in Japanese" 'Bluetooth アダプターがオフです'
fi
sim_log_not "adapter off: the phone did not connect" 'the phone connects'
phone_stop

# the phone offers only BLE, but nobody owns org.bluez on the bus
phone_start no-bluez --carrier ble
login_fails "BlueZ is not running" 'not running' unavail
phone_stop

# BLE turned off for login: a BLE-only phone cannot be read
phone_conf "ble = no" "ble_bus = $BUS"
phone_start ble-no --carrier ble --ble-bus "$BUS"
login_fails "[phone] ble = no with a BLE-only phone" 'only over Bluetooth' auth
sim_log_not "ble = no: the fake BlueZ saw no RegisterApplication" 'RegisterApplication'
phone_stop

# --- usage: BLE needs the negotiated handover (the UUID comes from the Handover Request)
check_fails "--carrier ble with --handover static is a usage error" "$SIM" run --profile wallet \
	--handover static --carrier ble "$T/w"
expect "the usage error names --handover tnep" 'needs --handover tnep'

# no chunk of the reader was ever larger than MTU - 3, nothing malformed
cat "$T"/sim-*.log >"$T/sim-all.log"
expect_not "no BLE protocol violation in any run" 'TEST FAILURE' "$T/sim-all.log"

mn_done
