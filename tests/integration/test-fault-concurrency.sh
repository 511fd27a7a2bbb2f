#!/bin/sh
# 8 logins at once on one reader (pamtester against the same virtual card), half with the
# right PIN and half with a wrong one, on the PKCS#11 path and on the warm path: PC/SC
# transactions serialise them; no wrong PIN gets in; every right PIN succeeds or fails with a
# clear message; the card's counter matches the wrong VERIFYs it answered and never blocks
# (min_pin_tries = 2 keeps the last try); nothing crashes or hangs.
# Summary lines: "# outcome: CASE | expected | observed".
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"
. "$(dirname "$0")/fault-harness.sh"

MN_CARD_WAIT=10
export MN_CARD_WAIT
mn_card_init card
mn_card_start card
mn_pam_setup card
check "an empty CRL is imported" import_crl card
check "enroll taro" enroll taro 1234
SUM0=$(store_sum)

# verify_answers: the card's answers to VERIFY with a PIN, in order (from the APDU log)
verify_answers()
{
	awk '/^> 0020008004/ { want = 1; next } want && /^< / { print $2; want = 0 }' "$T/card.apdu"
}

# reset_pin_hard: a fresh counter (the right PIN; a blocked PIN: a fresh card state, and for
# the warm path one login to record the new insertion)
reset_pin_hard()
{
	case "$(tries_raw)" in
	63C3) ;;
	63C1 | 63C2) reset_pin ;;
	*)
		mn_card_stop
		rm -rf "$T/card/state"
		mn_card_start card
		[ "${MN_WARM:-yes}" = yes ] && login taro 1234 >/dev/null 2>&1
		;;
	esac
}

# round NAME: 8 concurrent logins, checked
round()
{
	_r=$1
	reset_pin_hard
	: >"$T/card.apdu"
	_pids=""
	_i=1
	while [ "$_i" -le 8 ]; do
		if [ $((_i % 2)) -eq 1 ]; then _pin=1234; else _pin=$((9990 + _i)); fi
		echo "$_pin" >"$T/c$_i.pin"
		(
			printf '%s\n' "$_pin" | timeout -k 2 60 env \
				LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
				PAM_WRAPPER_SERVICE_DIR="$T/pam.d" NSS_WRAPPER_PASSWD="$ETC/passwd" \
				NSS_WRAPPER_GROUP="$ETC/group" pamtester -v mynumber-test taro authenticate \
				>"$T/c$_i.out" 2>&1
			echo $? >"$T/c$_i.rc"
		) &
		_pids="$_pids $!"
		_i=$((_i + 1))
	done
	_t0=$(now_ms)
	for _p in $_pids; do
		wait "$_p"
	done
	_ms=$(($(now_ms) - _t0))
	_ok_right=0
	_clear_right=0
	_ok_wrong=0
	_bad=0
	_i=1
	while [ "$_i" -le 8 ]; do
		_rc=$(cat "$T/c$_i.rc" 2>/dev/null || echo 255)
		_code=$(pam_code "$T/c$_i.out")
		if [ "$_rc" -ge 124 ]; then
			not_ok "$_r: login $_i ended with status $_rc (signal or time limit)"
			_bad=$((_bad + 1))
		fi
		if grep -Eq 'Segmentation|Aborted|core dumped|Internal error' "$T/c$_i.out"; then
			not_ok "$_r: login $_i: crash or internal error"
			_bad=$((_bad + 1))
		fi
		if [ "$(cat "$T/c$_i.pin")" = 1234 ]; then
			if [ "$_code" = PAM_SUCCESS ]; then
				_ok_right=$((_ok_right + 1))
			elif grep -Eq 'The card was removed|did not accept the login|could not be read|No My Number card or phone was presented in time|Only 1 PIN try is left' "$T/c$_i.out"; then
				_clear_right=$((_clear_right + 1))
				echo "# $_r: right PIN $_i: $_code: $(grep -Eo 'The card was removed|did not accept the login|could not be read|presented in time|Only 1 PIN try is left' "$T/c$_i.out" | head -n 1)"
			else
				not_ok "$_r: right PIN $_i: $_code without a clear message"
				sed 's/^/#   /' "$T/c$_i.out" | tail -n 4
				_bad=$((_bad + 1))
			fi
		else
			if [ "$_code" = PAM_SUCCESS ]; then
				not_ok "$_r: wrong PIN $_i authenticated"
				_ok_wrong=$((_ok_wrong + 1))
			elif ! grep -Eq 'Wrong PIN|Only 1 PIN try is left|The card was removed|did not accept the login|could not be read|presented in time' "$T/c$_i.out"; then
				not_ok "$_r: wrong PIN $_i: $_code without a clear message"
				sed 's/^/#   /' "$T/c$_i.out" | tail -n 4
				_bad=$((_bad + 1))
			fi
		fi
		_i=$((_i + 1))
	done
	[ "$_ok_wrong" -eq 0 ] && ok "$_r: no wrong PIN authenticated"
	[ "$_bad" -eq 0 ] && ok "$_r: every login ended clearly, within ${_ms} ms"
	if [ "$_ms" -gt 60000 ]; then not_ok "$_r: took ${_ms} ms"; fi
	cp "$T/card.apdu" "$T/round-$(echo "$_r" | tr ' ' '-').apdu"
	verify_answers >"$T/answers"
	_wrong=$(grep -c '^63C' "$T/answers")
	_good=$(grep -c '^9000' "$T/answers")
	_last=$(tail -n 1 "$T/answers")
	case "$_last" in
	9000) _expect_tries=63C3 ;;
	63C?) _expect_tries=$_last ;;
	"") _expect_tries=63C3 ;;
	*) _expect_tries=$_last ;;
	esac
	_now=$(tries_raw)
	if [ "$_now" = "$_expect_tries" ]; then
		ok "$_r: the counter ($_now) matches the last VERIFY answer ($_wrong wrong, $_good right VERIFYs answered)"
	else
		not_ok "$_r: the counter is $_now, the last VERIFY answer says $_expect_tries"
		tr '\n' ' ' <"$T/answers" | sed 's/^/#   answers: /'
		echo
	fi
	if grep -Eq '^(6983|63C0)' "$T/answers" || [ "$_now" = 63C0 ] || [ "$_now" = 6983 ]; then
		not_ok "$_r: the PIN got blocked (min_pin_tries = 2 must keep the last try)"
		_blk=BLOCKED
	else
		ok "$_r: the PIN never got blocked"
		_blk="not blocked"
	fi
	if [ "$(store_sum)" != "$SUM0" ]; then
		not_ok "$_r: the store changed"
	fi
	outcome "8 $_r: 8 logins at once (4 right, 4 wrong PINs)" \
		"no wrong PIN in; right PINs succeed or clear error; counter = last VERIFY answer; never blocked; <= 60 s" \
		"$_ok_right right OK, $_clear_right right refused clearly, $_ok_wrong wrong OK, $_wrong wrong + $_good right VERIFYs, counter $_now, $_blk, ${_ms} ms"
}

MN_WARM=no
export MN_WARM
mn_pam_conf
round "cold round 1"
round "cold round 2"
MN_WARM=yes
mn_pam_conf
reset_pin_hard
check "a login records the insertion for the warm path" login taro 1234
round "warm round 1"
round "warm round 2"
reset_pin_hard
check "after all rounds a login succeeds" login taro 1234
check "the store is unchanged" test "$(store_sum)" = "$SUM0"

mn_done
