#!/bin/sh
# PINs and passwords never leave our components in the clear: a card with a distinctive PIN
# and sign password, an account with a distinctive password, then debug logins (right PIN,
# wrong PIN, the account password typed at the PIN prompt), `mynumber --debug enroll`,
# `status`, a renewal behind the account password; everything our programs print or write
# (pamtester's conversation, the module's syslog lines through pam_wrapper, the helper's debug
# frames, the CLI's stderr, the store, the state directory) is searched for the secrets in
# ASCII and in hex (as VERIFY carries them). The simulator's own APDU trace and card files,
# and the test's password database, are not ours and not searched.
# Also: the helper and `mynumber enroll` are not dumpable and have no core limit while they
# wait for the PIN (doc/secrets.md).
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

SECDIR=/lib/$MULTIARCH/security
[ -d "$SECDIR" ] || SECDIR=/usr/lib/$MULTIARCH/security
if [ -z "$PAM_MATRIX" ]; then
	echo "SKIP: pam_matrix.so (libpam-wrapper) not found"
	exit 77
fi

# PINs with a leading 0 are searched as whole words: no PID, port or counter starts with 0,
# and a random hex or base64 run does not make a word of 4 digits
PIN=0839
WRONG=0517
SIGNPW=QXZ7K2M9
PASSWORD=Vq3-rosemary-9Ze
PASS_AT_PIN=Tk8-juniper-5Ry # the account password typed at the PIN prompt by mistake
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
C=$T/collected
mkdir -p "$C"

# grab NAME: keep the last output ($T/out) for the search
grab() { cp "$T/out" "$C/$1"; }

# pam_syslog lines go to stderr through pam_wrapper (its TRACE level has LOG_DEBUG); the
# module's own debug lines and the helper's debug frames arrive this way
dwrapped()
{
	env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
		PAM_WRAPPER_DEBUGLEVEL=3 PAM_WRAPPER_SERVICE_DIR="$T/pam.d" \
		NSS_WRAPPER_PASSWD="$ETC/passwd" NSS_WRAPPER_GROUP="$ETC/group" "$@"
}
dlogin() { printf '%s\n' "$2" | dwrapped pamtester -v mynumber-debug "$1" authenticate acct_mgmt; }

mn_card_init old --auth-pin $PIN --sign-pin $SIGNPW
mn_card_init new --ca-from "$T/old" --auth-pin $PIN --sign-pin $SIGNPW
serial=$(sed -n 's/^token_serial=//p' "$T/old/card.conf")
sed -i "s/^token_serial=.*/token_serial=$serial/" "$T/new/card.conf"
mn_card_start old
mn_pam_setup old
printf 'taro:%s:mynumber-renew\n' "$PASSWORD" >"$ETC/passdb"
sed -e "s|^auth .*pam_unix.so|auth required $PAM_MATRIX passdb=$ETC/passdb|" \
	-e "s|^account .*pam_unix.so|account required $SECDIR/pam_permit.so|" \
	"$MN_TOP_SRCDIR/pam_mynumber/pam.d/mynumber-renew" >"$T/pam.d/mynumber-renew"
cat >"$T/pam.d/mynumber-debug" <<EOF
auth     required $PAM_SO config=$CONF debug
account  required $PAM_SO config=$CONF debug
EOF
check "CRL imported" import_crl old

check "mynumber --debug enroll with the PIN" sh -c "printf '%s\n' $PIN | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --debug --config '$CONF' enroll taro"
expect "enrolled" 'Enrolled taro'
expect "debug lines were printed" '^debug: '
grab enroll
check_fails "mynumber --debug enroll with a wrong PIN" sh -c "printf '%s\n' $WRONG | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --debug --config '$CONF' enroll jiro"
expect "wrong PIN told" 'Wrong PIN'
grab enroll-wrong

check "debug login with the right PIN" dlogin taro $PIN
expect "authenticated" 'successfully authenticated'
expect "the module's debug lines are captured" 'auth for taro: Success'
grab login
check_fails "debug login with a wrong PIN" dlogin taro $WRONG
expect "wrong PIN" 'Wrong PIN'
grab login-wrong
check_fails "debug login with the account password at the PIN prompt" dlogin taro $PASS_AT_PIN
expect "refused before the card" 'The PIN is 4 digits'
grab login-password
check "debug login again (warm path)" dlogin taro $PIN
grab login-warm
check "mynumber --debug status" dwrapped "$MYNUMBER" --debug --config "$CONF" status
grab status

# renewal: the PIN, then the account password through PAM (mynumber-renew)
mn_card_stop
mn_card_start new
check_fails "debug login with the renewed card" dlogin taro $PIN
grab login-renewed
check_fails "renew with a wrong account password" sh -c "printf '%s\n%s\n' $PIN wrong-$PASSWORD | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --debug --config '$CONF' enroll --renew taro"
grab renew-wrong
check "mynumber --debug enroll --renew with the account password" sh -c "printf '%s\n%s\n' $PIN $PASSWORD | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --debug --config '$CONF' enroll --renew taro"
expect "renewed" 'Replaced 1 older enrollment'
grab renew
check "debug login with the renewed card" dlogin taro $PIN
grab login-new

# ---------------------------------------------------------------- not dumpable while waiting
# A process that is not dumpable cannot have its /proc/PID/mem opened by a same-uid process
# without CAP_SYS_PTRACE (ptrace(2), "ptrace access mode checking"); a dumpable one can (the
# control). Targets and checker all run without CAP_SYS_PTRACE in their bounding set, with
# otherwise equal capabilities (commoncap refuses a checker with fewer capabilities than its
# target, dumpable or not).
NOPTRACE="setpriv --bounding-set=-sys_ptrace --inh-caps=-sys_ptrace"
mem_opens() { $NOPTRACE sh -c "exec 3</proc/$1/mem" 2>/dev/null; }
prompt_seen() { grep -q 'My Number card PIN' "$1"; }
# helper_under PID: the mynumber-helper process among PID's descendants
helper_under()
{
	_todo=$1
	while [ -n "$_todo" ]; do
		_next=""
		for _p in $_todo; do
			if tr '\0' ' ' <"/proc/$_p/cmdline" 2>/dev/null | grep -q 'mynumber-helper'; then
				echo "$_p"
				return 0
			fi
			_next="$_next $(ps -o pid= --ppid "$_p" 2>/dev/null)"
		done
		_todo=$(echo $_next)
	done
	return 1
}
check_core_limit()
{
	if grep -Eq '^Max core file size +0 +0 ' "/proc/$2/limits"; then
		ok "$1: core file size limit 0 (soft and hard)"
	else
		not_ok "$1: core limit not 0: $(grep -i 'core' "/proc/$2/limits")"
	fi
}

if ! command -v setpriv >/dev/null 2>&1 || ! command -v ps >/dev/null 2>&1; then
	echo "# setpriv or ps missing: dumpability not checked"
else
	$NOPTRACE sleep 60 &
	ctl=$!
	PIDS="$PIDS $ctl"
	# (setpriv must have dropped the capability and become sleep first)
	wait_until 5 grep -qx sleep "/proc/$ctl/comm"
	if mem_opens $ctl; then
		ok "control: a dumpable process's memory can be opened"
		control=1
	else
		echo "# this system refuses the control too: dumpability not checked this way"
		control=0
	fi
	kill $ctl 2>/dev/null

	# the helper, started by the module, waiting for the PIN
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	$NOPTRACE env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam.d" NSS_WRAPPER_PASSWD="$ETC/passwd" \
		NSS_WRAPPER_GROUP="$ETC/group" pamtester -v mynumber-debug taro authenticate \
		<"$T/fifo" >"$T/dump-login.out" 2>&1 &
	pt=$!
	PIDS="$PIDS $pt"
	exec 9>"$T/fifo"
	if wait_until 60 prompt_seen "$T/dump-login.out"; then
		if hp=$(helper_under "$pt"); then
			check_core_limit "helper" "$hp"
			if [ "$control" = 1 ]; then
				if mem_opens "$hp"; then
					not_ok "helper: dumpable while it waits for the PIN"
				else
					ok "helper: not dumpable while it waits for the PIN"
				fi
			fi
		else
			not_ok "no helper process under pamtester ($pt)"
		fi
	else
		not_ok "the helper did not ask for the PIN"
		sed 's/^/#   /' "$T/dump-login.out" | tail -n 10
	fi
	printf '%s\n' $PIN >&9
	exec 9>&-
	wait $pt
	cp "$T/dump-login.out" "$C/dump-login"

	# mynumber enroll waiting for the PIN (no terminal: setsid; the PIN from the FIFO)
	rm -f "$T/fifo"
	mkfifo "$T/fifo"
	$NOPTRACE setsid sh -c "echo \$\$ >'$T/enroll.pid'; exec env \
		LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
		NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --config '$CONF' enroll jiro" \
		<"$T/fifo" >"$T/dump-enroll.out" 2>&1 &
	ep=$!
	PIDS="$PIDS $ep"
	exec 9>"$T/fifo"
	if wait_until 60 prompt_seen "$T/dump-enroll.out"; then
		mp=$(cat "$T/enroll.pid")
		check_core_limit "mynumber enroll" "$mp"
		if [ "$control" = 1 ]; then
			if mem_opens "$mp"; then
				not_ok "mynumber enroll: dumpable while it waits for the PIN"
			else
				ok "mynumber enroll: not dumpable while it waits for the PIN"
			fi
		fi
	else
		not_ok "mynumber enroll did not ask for the PIN"
		sed 's/^/#   /' "$T/dump-enroll.out" | tail -n 10
	fi
	printf '%s\n' $PIN >&9
	exec 9>&-
	wait $ep
	cp "$T/dump-enroll.out" "$C/dump-enroll"
fi

# ---------------------------------------------------------------- the search
# everything under $T that our programs wrote, plus the collected outputs; not the simulator's
# card directories, APDU traces and logs, not the password database, not pcscd's log
find "$T" -type f ! -path "$T/old/*" ! -path "$T/new/*" ! -name '*.apdu' ! -name '*.sim.log' \
	! -name '*.init.log' ! -name passdb ! -name pcscd.log ! -name fifo ! -path "$T/pam.d/*" \
	! -name searched ! -name enroll.pid \
	>"$T/searched"
n=$(wc -l <"$T/searched")
if [ "$n" -ge 10 ]; then ok "searching $n files"; else not_ok "only $n files to search"; fi
if grep -q 'debug: ' "$C/enroll" && grep -Eq 'DEBUG|debug' "$C/login"; then
	ok "the collected output includes debug lines"
else
	not_ok "no debug lines collected"
fi
# leak MODE STRING: MODE word (grep -w) or sub (substring); case-insensitive
leak()
{
	_hits=$(xargs -d '\n' grep -ail $([ "$1" = word ] && echo -w) -F -e "$2" <"$T/searched" 2>/dev/null)
	if [ -z "$_hits" ]; then
		ok "'$2' appears nowhere"
	else
		not_ok "'$2' found in: $(echo $_hits)"
		xargs -d '\n' grep -aih $([ "$1" = word ] && echo -w) -F -e "$2" <"$T/searched" | head -n 3 | sed 's/^/#   /'
	fi
}
leak word "$PIN"
leak word "$WRONG"
for s in "$SIGNPW" "$PASSWORD" "$PASS_AT_PIN"; do
	leak sub "$s"
done
# as the bytes travel (VERIFY data, frames): hex, packed and spaced
for s in "$PIN" "$WRONG" "$SIGNPW" "$PASSWORD" "$PASS_AT_PIN"; do
	leak sub "$(hex "$s")"
	leak sub "$(hex "$s" | sed 's/../& /g; s/ $//')"
done
mn_done
