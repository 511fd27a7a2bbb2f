#!/bin/sh
# Every return path of pam_sm_authenticate, pam_sm_acct_mgmt and pam_sm_setcred, with its exact
# PAM code (doc/pam-return-codes.md): module arguments, configuration, user lookup,
# conversation failures, the helper not starting, crashing, hanging or speaking garbage, each
# helper result, and the real helper with the virtual card. tests/pam/pam-code prints the
# code of each step ("auth: PAM_AUTH_ERR (7)"); no path may give PAM_IGNORE, and PAM_SUCCESS
# only the helper's verified result (and setcred, which establishes nothing).
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

PC=$MN_TOP_BUILDDIR/tests/pam/pam-code
FAKE=$T/fake
mkdir -p "$FAKE"

# code EXPECTED DESC [pam-code options] SERVICE STEP...: each printed "STEP: CODE" in order
# must be the EXPECTED list (space-separated, one per step)
code()
{
	_want=$1
	_desc=$2
	shift 2
	wrapped "$PC" "$@" >"$T/out" 2>&1
	_got=$(sed -n 's/^\(auth\|acct\|setcred\): \(PAM_[A-Z_()a-z]*\) .*/\2/p' "$T/out" | tr '\n' ' ')
	_got=${_got% }
	if [ "$_got" = "$_want" ]; then
		ok "$_desc: $_want"
	else
		not_ok "$_desc: got '$_got', wanted '$_want'"
		sed 's/^/#   /' "$T/out" | tail -n 15
	fi
	if grep -q 'PAM_IGNORE' "$T/out"; then
		not_ok "$_desc: PAM_IGNORE returned"
	fi
}

# fake NAME SH-BODY: a helper script (standard input and output are the module's socket).
# Frames: type byte, 2-byte big-endian length, payload (doc/helper-protocol.md).
fake()
{
	printf '#!/bin/sh\n%s\n' "$2" >"$FAKE/$1"
	chmod 0755 "$FAKE/$1"
}

# use_helper PATH [extra conf lines]: mynumber.conf with another helper
use_helper()
{
	mn_pam_conf "${2:-}"
	sed -i "s|^helper = .*|helper = $1|" "$CONF"
}

mn_card_init card
mn_card_start card
mn_pam_setup card
# a user the password database knows but the helper refuses (names must not start with '.')
printf '.dot:x:1002:1002:Dot:%s:/bin/sh\n' "$T/home/taro" >>"$ETC/passwd"
check "an empty CRL is imported" import_crl card
check "enroll taro" enroll taro 1234

SVC=mynumber-test

# ---------------------------------------------------------------- the real helper, the card
code "PAM_SUCCESS PAM_SUCCESS PAM_SUCCESS" "right PIN: auth, then acct with the certificate used, setcred" \
	--answer 1234 $SVC auth acct setcred
code "PAM_AUTH_ERR" "wrong PIN" --answer 1111 $SVC auth
expect "wrong PIN told" 'Wrong PIN. 2 tries left'
reset_pin
code "PAM_AUTH_ERR" "a PIN that is not 4 digits (no try spent)" --answer 12ab $SVC auth
code "PAM_AUTH_ERR" "the conversation fails at the PIN prompt" --conv noprompt $SVC auth
expect "the PIN was asked" 'prompt: My Number card PIN'
code "PAM_AUTH_ERR" "the conversation gives no answer (NULL response)" --conv null $SVC auth
code "PAM_AUTH_ERR" "every conversation call fails (messages too)" --conv fail $SVC auth
check "no try was spent by the conversation failures" tries_raw
expect "63C3" '^63C3$'
code "PAM_CRED_INSUFFICIENT" "jiro has no enrollment" --user jiro $SVC auth
code "PAM_USER_UNKNOWN" "account: jiro has no enrollment" --user jiro $SVC acct
code "PAM_SUCCESS" "account without a login through the module: any valid enrollment" $SVC acct
code "PAM_USER_UNKNOWN PAM_USER_UNKNOWN" "a user not in the password database" --user nosuchuser \
	$SVC auth acct
code "PAM_USER_UNKNOWN PAM_USER_UNKNOWN" "an empty user name" --user "" $SVC auth acct
code "PAM_USER_UNKNOWN PAM_USER_UNKNOWN" "a name the helper refuses (.dot)" --user .dot $SVC auth acct
code "PAM_CONV_ERR PAM_CONV_ERR" "no user name and the conversation fails" --no-user --conv fail \
	$SVC auth acct
# (one step per handle: after PAM_INCOMPLETE libpam expects the same call again)
code "PAM_INCOMPLETE" "auth: no user name and the conversation asks to be called again" \
	--no-user --conv again $SVC auth
code "PAM_INCOMPLETE" "acct: no user name and the conversation asks to be called again" \
	--no-user --conv again $SVC acct
code "PAM_SUCCESS" "setcred alone (nothing to establish)" $SVC setcred

# PIN guard, blocked PIN
"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 0020008004$(printf 9999 | od -An -tx1 | tr -d ' \n') >/dev/null
"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 0020008004$(printf 9999 | od -An -tx1 | tr -d ' \n') >/dev/null
code "PAM_MAXTRIES" "1 try left, kept (min_pin_tries = 2)" --answer 1234 $SVC auth
"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 0020008004$(printf 9999 | od -An -tx1 | tr -d ' \n') >/dev/null
code "PAM_MAXTRIES" "blocked PIN" --answer 1234 $SVC auth
mn_card_stop
rm -rf "$T/card/state"

# store unreadable (not 0600): the helper refuses it
chmod 0644 "$ETC/enrollments"
code "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" "an unsafe enrollment store" $SVC auth acct
chmod 0600 "$ETC/enrollments"

# no card within card_wait
MN_CARD_WAIT=1 mn_pam_conf
code "PAM_AUTHINFO_UNAVAIL" "no card within card_wait" --answer 1234 $SVC auth
mn_pam_conf

# ---------------------------------------------------------------- module arguments, configuration
cat >"$T/pam.d/badarg" <<EOF
auth     required $PAM_SO config=$CONF bogus
account  required $PAM_SO config=$CONF bogus
EOF
code "PAM_SERVICE_ERR PAM_SERVICE_ERR" "an unknown module argument" badarg auth acct
cat >"$T/pam.d/emptyconf" <<EOF
auth     required $PAM_SO config=
account  required $PAM_SO config=
EOF
code "PAM_SERVICE_ERR PAM_SERVICE_ERR" "an empty config= argument" emptyconf auth acct
cat >"$T/pam.d/noconf" <<EOF
auth     required $PAM_SO config=$T/no-such.conf
account  required $PAM_SO config=$T/no-such.conf
EOF
code "PAM_SERVICE_ERR PAM_SERVICE_ERR" "a missing configuration file" noconf auth acct
chmod 0666 "$CONF"
code "PAM_SERVICE_ERR PAM_SERVICE_ERR" "a world-writable configuration file" $SVC auth acct
chmod 0600 "$CONF"
mn_pam_conf "no_such_key = 1"
code "PAM_SERVICE_ERR PAM_SERVICE_ERR" "an invalid configuration file" $SVC auth acct
mn_pam_conf

# ---------------------------------------------------------------- the helper does not run
use_helper "$T/no-such-helper"
code "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" "the helper does not exist" $SVC auth acct
fake notexec 'exit 0'
chmod 0644 "$FAKE/notexec"
use_helper "$FAKE/notexec"
code "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" "the helper is not executable" $SVC auth acct
use_helper "$FAKE"
code "PAM_SYSTEM_ERR" "the helper is a directory" $SVC auth

# ---------------------------------------------------------------- the helper ends without a decision
fake exit0 'exit 0'
use_helper "$FAKE/exit0"
code "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" "helper exits 0 without a result" $SVC auth acct
fake exit3 'exit 3'
use_helper "$FAKE/exit3"
code "PAM_SYSTEM_ERR" "helper exits 3 without a result" $SVC auth
fake kill9 'kill -9 $$'
use_helper "$FAKE/kill9"
code "PAM_SYSTEM_ERR PAM_SYSTEM_ERR" "helper killed (SIGKILL)" $SVC auth acct
fake segv 'printf "I\000\005hello"; kill -SEGV $$'
use_helper "$FAKE/segv"
code "PAM_SYSTEM_ERR" "helper crashes (SIGSEGV) after a message" $SVC auth
fake prompt_exit 'printf "P\000\004PIN:"; exit 0'
use_helper "$FAKE/prompt_exit"
code "PAM_SYSTEM_ERR" "helper asks for the PIN, then exits" --answer 1234 $SVC auth

# ---------------------------------------------------------------- garbled frames
fake badtype 'printf "Z\000\001x"'
use_helper "$FAKE/badtype"
code "PAM_SYSTEM_ERR" "an unknown frame type" $SVC auth
fake oversize 'printf "I\010\001"'
use_helper "$FAKE/oversize"
code "PAM_SYSTEM_ERR" "a frame longer than MN_PROTO_MAX (2049 bytes)" $SVC auth
fake truncated 'printf "I\000\020short"; exit 0'
use_helper "$FAKE/truncated"
code "PAM_SYSTEM_ERR" "a truncated frame" $SVC auth
fake shorthdr 'printf "R\000"; exit 0'
use_helper "$FAKE/shorthdr"
code "PAM_SYSTEM_ERR" "a truncated header" $SVC auth
fake emptyresult 'printf "R\000\000"'
use_helper "$FAKE/emptyresult"
code "PAM_SYSTEM_ERR" "a result frame without a result byte" $SVC auth
fake answer 'printf "A\000\0041234"'
use_helper "$FAKE/answer"
code "PAM_SYSTEM_ERR" "a module-to-helper frame (ANSWER) from the helper" $SVC auth
fake noanswer 'printf "X\000\000"'
use_helper "$FAKE/noanswer"
code "PAM_SYSTEM_ERR" "a module-to-helper frame (NOANSWER) from the helper" $SVC auth
fake okbare 'printf "R\000\001\000"'
use_helper "$FAKE/okbare"
code "PAM_SYSTEM_ERR PAM_SUCCESS" "OK without the certificate hash: refused by auth (acct needs none)" \
	$SVC auth acct
fake okshort 'printf "R\000\005\000abcd"'
use_helper "$FAKE/okshort"
code "PAM_SYSTEM_ERR" "OK with a short certificate hash" $SVC auth

# ---------------------------------------------------------------- a hung helper: killed at card_wait + timeout
fake hang 'echo $$ >"'"$T"'/hang.pid"; exec sleep 60'
MN_CARD_WAIT=1 use_helper "$FAKE/hang" "timeout = 1"
t0=$(date +%s)
code "PAM_AUTHINFO_UNAVAIL" "a helper that never answers" $SVC auth
t1=$(date +%s)
if [ $((t1 - t0)) -le 6 ]; then ok "killed at the deadline ($((t1 - t0)) s)"; else not_ok "took $((t1 - t0)) s"; fi
if [ -f "$T/hang.pid" ] && ! kill -0 "$(cat "$T/hang.pid")" 2>/dev/null; then
	ok "the hung helper is gone"
else
	not_ok "the hung helper is still running"
fi
fake hang_after_info 'printf "I\000\002hi"; exec sleep 60'
MN_CARD_WAIT=1 use_helper "$FAKE/hang_after_info" "timeout = 1"
code "PAM_AUTHINFO_UNAVAIL" "a helper that stops after a message" $SVC auth
# a prompt, the answer read (A, length 4, 1234: 7 bytes), then a result
fake afterprompt 'printf "P\000\004PIN:"; head -c 7 >/dev/null; printf "R\000\001\001"'
use_helper "$FAKE/afterprompt"
code "PAM_AUTH_ERR" "a result after the prompt was answered" --answer 1234 $SVC auth

# ---------------------------------------------------------------- each helper result
hash=$(printf '%064d' 0 | tr 0 a)
for res in "0 PAM_SUCCESS" "1 PAM_AUTH_ERR" "2 PAM_AUTHINFO_UNAVAIL" "3 PAM_USER_UNKNOWN" \
	"4 PAM_MAXTRIES" "5 PAM_ACCT_EXPIRED" "6 PAM_PERM_DENIED" "7 PAM_SYSTEM_ERR" \
	"8 PAM_CRED_INSUFFICIENT" "9 PAM_CRED_EXPIRED" "10 PAM_AUTH_ERR" "99 PAM_AUTH_ERR" \
	"255 PAM_AUTH_ERR"; do
	n=${res% *}
	want=${res#* }
	oct=$(printf '%03o' "$n")
	fake "res$n" "printf 'R\\000\\101\\$oct$hash'"
	use_helper "$FAKE/res$n"
	code "$want" "auth: helper result $n" $SVC auth
	fake "acct$n" "printf 'R\\000\\001\\$oct'"
	use_helper "$FAKE/acct$n"
	code "$want" "acct: helper result $n" $SVC acct
done

# ---------------------------------------------------------------- setcred never fails, never ignores
code "PAM_SUCCESS" "setcred with an unknown module argument" badarg setcred
code "PAM_SUCCESS" "setcred with a missing configuration" noconf setcred

mn_done
