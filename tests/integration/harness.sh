# Integration test harness, sourced by tests/integration/test-*.sh.
#
# Each test script runs in its own mount + network namespace: a private /run (so its pcscd
# never meets the system's) and a private loopback (so vpcd's port, which vpcd binds on every
# address, is reachable from nowhere else). Inside: pcscd with only the vpcd reader, the
# virtual card (tools/mynumber-sim) and OpenSC pointed at our driver through OPENSC_CONF.
# Every wait is bounded; every process started here is killed on exit.

set -u

: "${MN_TOP_BUILDDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MN_TOP_SRCDIR:=$MN_TOP_BUILDDIR}"
: "${MN_PKCS11_MODULE:=/usr/lib/$(gcc -print-multiarch 2>/dev/null)/opensc-pkcs11.so}"
VPCD_LIB=${MN_VPCD_LIB:-/usr/lib/pcsc/drivers/serial/libifdvpcd.so}

if [ "${MN_IN_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: integration tests need root (a private mount and network namespace for pcscd)"
		exit 77
	fi
	for need in pcscd unshare pkcs11-tool pkcs15-tool openssl ip; do
		if ! command -v "$need" >/dev/null 2>&1; then
			echo "SKIP: $need is not installed (run tools/install-deps)"
			exit 77
		fi
	done
	if [ ! -f "$VPCD_LIB" ]; then
		echo "SKIP: vpcd driver $VPCD_LIB missing (apt-get install vsmartcard-vpcd)"
		exit 77
	fi
	MN_IN_NS=1 exec unshare --mount --net --propagation private /bin/sh "$0" "$@"
fi

SIM=$MN_TOP_BUILDDIR/tools/mynumber-sim
# tests/sanitize/run-*.sh: MN_WRAPPERS is a directory of wrapper scripts (valgrind, sanitizer
# options) standing in for our programs; MN_VALGRIND=1 makes every wait longer
[ -x "${MN_WRAPPERS:-/nonexistent}/mynumber-sim" ] && SIM=$MN_WRAPPERS/mynumber-sim
MN_WAIT_SCALE=1
[ "${MN_VALGRIND:-}" = 1 ] && MN_WAIT_SCALE=${MN_VALGRIND_WAIT_SCALE:-6}
APDU=$MN_TOP_BUILDDIR/tests/pcsc-apdu
DRIVER_SO=$MN_TOP_BUILDDIR/opensc-driver/.libs/mynumber_opensc.so
P11=$MN_PKCS11_MODULE

ip link set lo up
mount -t tmpfs -o mode=0755 tmpfs /run

T=$(mktemp -d /tmp/mn-it.XXXXXX)
# (benches source this file too: find checks.sh from the source tree, not from $0)
. "${MN_TOP_SRCDIR:-${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}}/tests/integration/checks.sh"
export HOME=$T # OpenSC's file cache and anything else per-user stays in here
PIDS=""
SIM_PID=""

mn_cleanup()
{
	for p in $SIM_PID $PIDS; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$FAIL" -gt 0 ] || [ -n "${MN_KEEP:-}" ]; then
		echo "# logs kept in $T"
	else
		rm -rf "$T"
	fi
}
trap mn_cleanup EXIT
trap 'exit 130' INT TERM


# wait_until SECONDS COMMAND...: poll every 0.1 s
wait_until()
{
	_wu_n=$(($1 * 10 * MN_WAIT_SCALE))
	shift
	while [ "$_wu_n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		_wu_n=$((_wu_n - 1))
	done
	return 1
}

# mn_pcscd_stop: stop this test's pcscd (never another test's: they share the PID namespace)
mn_pcscd_stop()
{
	kill "$PCSCD_PID" 2>/dev/null
	wait "$PCSCD_PID" 2>/dev/null
	rm -f /run/pcscd/pcscd.comm /run/pcscd/pcscd.pid
}

mn_pcscd_start()
{
	mkdir -p "$T/pcsc"
	cat >"$T/pcsc/vpcd" <<EOF
FRIENDLYNAME "Virtual PCD"
DEVICENAME /dev/null:0x8C7B
LIBPATH $VPCD_LIB
CHANNELID 0x8C7B
EOF
	pcscd --foreground ${MN_PCSCD_DEBUG:+--debug} --config "$T/pcsc" >"$T/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	PIDS="$PIDS $!"
	if ! wait_until 10 test -S /run/pcscd/pcscd.comm; then
		FAIL=$((FAIL + 1))
		echo "Bail out! pcscd did not start"
		cat "$T/pcscd.log"
		exit 99
	fi
}

reader_has_card()
{
	opensc-tool -l 2>/dev/null | grep -Eq '^[0-9]+ +Yes +Virtual PCD'
}

reader_is_empty()
{
	opensc-tool -l 2>/dev/null | grep -Eq '^[0-9]+ +No +Virtual PCD 00 00'
}

# mn_card_init NAME [mynumber-sim init options]
mn_card_init()
{
	_name=$1
	shift
	if ! "$SIM" init "$@" "$T/$_name" >"$T/$_name.init.log" 2>&1; then
		echo "Bail out! mynumber-sim init failed"
		cat "$T/$_name.init.log"
		exit 99
	fi
	openssl x509 -in "$T/$_name/auth.pem" -pubkey -noout >"$T/$_name/auth.pub.pem"
}

# mn_card_start NAME [mynumber-sim run options]: insert the card (the APDUs go to NAME.apdu)
mn_card_start()
{
	_name=$1
	shift
	"$SIM" run --connect-timeout $((25 * MN_WAIT_SCALE)) ${MN_SIM_OPTS:-} --apdu-log "$T/$_name.apdu" "$@" "$T/$_name" >>"$T/$_name.sim.log" 2>&1 &
	SIM_PID=$!
	if ! wait_until 30 reader_has_card; then
		FAIL=$((FAIL + 1))
		echo "Bail out! the virtual card did not appear in the reader"
		kill -0 "$PCSCD_PID" 2>/dev/null || echo "# pcscd is not running any more"
		tail -n 20 "$T/$_name.sim.log" "$T/pcscd.log"
		exit 99
	fi
}

# mn_card_stop: remove the card
mn_card_stop()
{
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=""
	fi
	wait_until 10 reader_is_empty
}

# mn_conf_ours [card_info=yes|no] [ca_certificates=yes|no]: OpenSC with our driver, from the
# shipped snippet
mn_conf_ours()
{
	sed -e "s|@MODULE@|$DRIVER_SO|g" -e "s|card_info = no;|card_info = ${1:-no};|" \
		-e "s|ca_certificates = no;|ca_certificates = ${2:-no};|" \
		"$MN_TOP_SRCDIR/opensc-driver/mynumber-opensc.conf.in" >"$T/opensc.conf"
	OPENSC_CONF=$T/opensc.conf
	export OPENSC_CONF
}

# mn_conf_builtin: OpenSC with only its own jpki driver
mn_conf_builtin()
{
	printf 'app default {\n\tcard_drivers = jpki;\n}\n' >"$T/opensc-jpki.conf"
	OPENSC_CONF=$T/opensc-jpki.conf
	export OPENSC_CONF
}

# apdu_count NAME: APDUs the card has answered so far
apdu_count()
{
	_c=$(grep -c '^>' "$T/$1.apdu" 2>/dev/null)
	echo "${_c:-0}"
}

mn_pcscd_start
