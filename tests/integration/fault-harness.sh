# Helpers for the fault suites (test-fault-*.sh), sourced after harness.sh and pam-harness.sh:
# the PAM result of a pamtester run, a bounded login, "# outcome:" summary lines.

# pam_code [FILE]: the PAM result pamtester printed (pam_strerror's text, mapped back)
pam_code()
{
	_f=${1:-$T/out}
	if grep -q 'successfully authenticated' "$_f"; then
		echo PAM_SUCCESS
	elif grep -q '^pamtester: Authentication failure' "$_f"; then
		echo PAM_AUTH_ERR
	elif grep -q '^pamtester: Authentication service cannot retrieve authentication info' "$_f"; then
		echo PAM_AUTHINFO_UNAVAIL
	elif grep -q '^pamtester: System error' "$_f"; then
		echo PAM_SYSTEM_ERR
	elif grep -q '^pamtester: User credentials expired' "$_f"; then
		echo PAM_CRED_EXPIRED
	elif grep -q '^pamtester: Have exhausted maximum number of retries' "$_f"; then
		echo PAM_MAXTRIES
	elif grep -q '^pamtester: Insufficient credentials' "$_f"; then
		echo PAM_CRED_INSUFFICIENT
	elif grep -q '^pamtester: Error in service module' "$_f"; then
		echo PAM_SERVICE_ERR
	else
		echo UNKNOWN
	fi
}

# outcome CASE EXPECTED OBSERVED: one line of the summary table
outcome()
{
	echo "# outcome: $1 | $2 | $3"
}

# now_ms: wall clock in milliseconds
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# blogin USER PIN [LIMIT]: a login bounded by LIMIT seconds (default 40); output in $T/out,
# exit status in $LRC (124: the time limit), duration in $LMS, PAM result in $LCODE
blogin()
{
	_t0=$(now_ms)
	printf '%s\n' "$2" | timeout -k 2 "${3:-40}" env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" NSS_WRAPPER_PASSWD="$ETC/passwd" \
		NSS_WRAPPER_GROUP="$ETC/group" pamtester -v mynumber-test "$1" authenticate \
		>"$T/out" 2>&1
	LRC=$?
	LMS=$(($(now_ms) - _t0))
	LCODE=$(pam_code)
}

# no_crash DESC: the last login ended by itself (no signal, no time limit), no crash reported
no_crash()
{
	if [ "$LRC" -ge 124 ]; then
		not_ok "$1: pamtester ended with status $LRC (signal or time limit)"
	elif grep -Eq 'Segmentation|Aborted|core dumped|Internal error' "$T/out"; then
		not_ok "$1: a crash or internal error"
		sed 's/^/#   /' "$T/out" | tail -n 10
	else
		ok "$1: no crash, no hang (${LMS} ms)"
	fi
}

# store_sum: checksum of the enrollment store (or "none")
store_sum()
{
	if [ -f "$ETC/enrollments" ]; then
		sha256sum <"$ETC/enrollments" | cut -d' ' -f1
	else
		echo none
	fi
}

# mn_helpers_here: PIDs of mynumber-helper processes in this test's mount namespace (the PID
# namespace is shared with other tests: never touch theirs)
mn_helpers_here()
{
	_ns=$(readlink /proc/$$/ns/mnt)
	for _p in $(pgrep -x mynumber-helper 2>/dev/null); do
		[ "$(readlink "/proc/$_p/ns/mnt" 2>/dev/null)" = "$_ns" ] && echo "$_p"
	done
}

# card_start NAME [run options]: mn_card_start, but when vpcd does not present the card within
# 6 s, restart pcscd first (vpcd stays wedged after a reset sent to a card whose sim dropped
# the connection: a vpcd quirk, not something a real reader does)
PCSCD_RESTARTS=0
card_start()
{
	_cn=$1
	shift
	"$SIM" run --connect-timeout 25 --apdu-log "$T/$_cn.apdu" "$@" "$T/$_cn" \
		>>"$T/$_cn.sim.log" 2>&1 &
	SIM_PID=$!
	wait_until 6 reader_has_card && return 0
	kill "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=""
	PCSCD_RESTARTS=$((PCSCD_RESTARTS + 1))
	echo "# vpcd did not present the card: pcscd restarted"
	mn_pcscd_stop
	mn_pcscd_start
	mn_card_start "$_cn" "$@"
}
