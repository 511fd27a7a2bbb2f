#!/bin/sh
# Faults during a phone login (the wallet profile of mynumber-sim, the smartphone My Number
# Card as an ISO 18013-5 mdoc over NFC) through pam_mynumber: the phone leaves the field after
# every APDU of a login (the whole sequence: --drop-after; the mdoc application: --absent-after),
# and the MSO validity against the reader's clock beyond and within [phone] mdoc_skew.
# Summary lines: "# outcome: CASE | expected | observed".
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"
. "$(dirname "$0")/fault-harness.sh"

wallet_init()
{
	if ! "$SIM" init --profile wallet "$@" >"$T/wallet-init.log" 2>&1; then
		echo "Bail out! mynumber-sim init --profile wallet failed"
		cat "$T/wallet-init.log"
		exit 99
	fi
}

# phone_conf [extra [phone] line]: mynumber.conf with a [phone] section trusting w's IACA
phone_conf()
{
	MN_REV_BACKENDS=none mn_pam_conf
	printf '\n[phone]\nmdoc_trust_anchors = %s\n%s\n' "$T/w/iaca.pem" "${1:-}" >>"$CONF"
}

mn_card_init card
wallet_init "$T/w"
mn_pam_setup card
MN_CARD_WAIT=3
export MN_CARD_WAIT
phone_conf
card_start w --profile wallet
check "enroll taro's phone" wrapped "$MYNUMBER" --config "$CONF" enroll --phone taro
: >"$T/w.apdu"
blogin taro ""
if [ "$LCODE" = PAM_SUCCESS ]; then ok "reference phone login"; else not_ok "reference phone login: $LCODE"; fi
mn_card_stop
grep '^>' "$T/w.apdu" >"$T/phone.seq"
TOTAL=$(grep -c . "$T/phone.seq")
# the mdoc application's APDUs: from its SELECT (A0000002480400) on
first_mdoc=$(grep -n '^> 00A4040007A0000002480400' "$T/phone.seq" | head -n 1 | cut -d: -f1)
# --absent-after counts the APDUs after that SELECT; the last APDU of a login is the reader's
# session termination (SessionData status 20): the DeviceResponse is complete before it
MDOC=$((TOTAL - ${first_mdoc:-$TOTAL}))
echo "# phone login: $TOTAL APDUs, after the mdoc application's SELECT (#$first_mdoc): $MDOC"
if tail -n 1 "$T/phone.seq" | grep -Eq '^> [01]0C3'; then
	ok "the last APDU is the session termination (ENVELOPE)"
else
	not_ok "the last APDU is the session termination (ENVELOPE)"
fi
if [ -z "$first_mdoc" ] || [ "$TOTAL" -gt 200 ] || [ "$TOTAL" -lt 4 ]; then
	not_ok "the reference phone login has the expected shape"
	sed 's/^/#   /' "$T/phone.seq" | cut -c1-60
	mn_done
fi
ok "the reference phone login has the expected shape"
SUM0=$(store_sum)

# phone_gone HOW K: a phone login where the phone leaves after K APDUs (HOW: drop = the vpcd
# connection closes after K APDUs of the whole sequence; absent = after K APDUs of the mdoc
# application the phone stops answering)
phone_gone()
{
	if [ "$1" = drop ]; then
		card_start w --profile wallet --drop-after "$2"
		_n=$TOTAL
	else
		card_start w --profile wallet --absent-after "$2"
		_n=$MDOC
	fi
	blogin taro ""
	mn_card_stop
	_d="phone gone ($1) after APDU $2/$_n"
	no_crash "$_d"
	_m=$(grep -Eo 'The phone was taken away|The phone could not be read|No My Number card or phone was presented in time' "$T/out" | head -n 1)
	case "$_m" in
	"The phone was taken away") _want=PAM_AUTH_ERR ;;
	"The phone could not be read") _want=PAM_AUTH_ERR ;;
	"No My Number card or phone was presented in time") _want=PAM_AUTHINFO_UNAVAIL ;;
	*) _want=none ;;
	esac
	_exp="PAM_AUTH_ERR/taken away or could not be read (PAM_AUTHINFO_UNAVAIL/not presented before the engagement)"
	[ "$2" -ge $((_n - 1)) ] && _exp="PAM_SUCCESS (DeviceResponse complete) or PAM_AUTH_ERR/taken away"
	if [ "$LCODE" = PAM_SUCCESS ] && [ "$2" -lt $((_n - 1)) ]; then
		not_ok "$_d: authenticated before the DeviceResponse was complete"
	elif [ "$LCODE" = PAM_SUCCESS ]; then
		ok "$_d: the DeviceResponse was complete: authenticated"
	elif [ "$_want" = none ]; then
		not_ok "$_d: no clear message ($LCODE)"
		sed 's/^/#   /' "$T/out" | tail -n 6
	elif [ "$LCODE" != "$_want" ]; then
		not_ok "$_d: '$_m' with $LCODE, documented $_want"
	else
		ok "$_d: '$_m', $LCODE"
	fi
	_s=same
	[ "$(store_sum)" = "$SUM0" ] || { _s=CHANGED; not_ok "$_d: the store changed"; }
	outcome "2 phone $1 k=$2/$_n" "$_exp" \
		"$LCODE/${_m:-?}, store $_s"
}

# --- 2. every position of the whole sequence (bounded: at most 60), every mdoc APDU
t0=$(date +%s)
k=1
step=$(((TOTAL + 59) / 60))
while [ "$k" -le "$TOTAL" ]; do
	phone_gone drop $k
	k=$((k + step))
done
k=1
while [ "$k" -le "$MDOC" ] && [ "$k" -le 60 ]; do
	phone_gone absent $k
	k=$((k + 1))
done
echo "# case 2 took $(($(date +%s) - t0)) s"

# --- 7c. the MSO validity against the reader's clock and [phone] mdoc_skew (300 s)
# mso_at FROM UNTIL: the wallet signs its MSO with this validity (seconds from now)
mso_at()
{
	_now=$(date +%s)
	sed -i -e "s/^mso_valid_from=.*/mso_valid_from=$((_now + $1))/" \
		-e "s/^mso_valid_until=.*/mso_valid_until=$((_now + $2))/" "$T/w/wallet.conf"
}
cp "$T/w/wallet.conf" "$T/wallet.conf.orig"
mso_case()
{
	_d=$1
	_exp=$2
	shift 2
	mso_at "$@"
	card_start w --profile wallet
	blogin taro ""
	mn_card_stop
	no_crash "$_d"
	if [ "$_exp" = PAM_SUCCESS ]; then
		if [ "$LCODE" = PAM_SUCCESS ]; then ok "$_d: accepted"; else
			not_ok "$_d: $LCODE"
			sed 's/^/#   /' "$T/out" | tail -n 4
		fi
		outcome "7c $_d" "PAM_SUCCESS (within mdoc_skew)" "$LCODE"
	else
		if [ "$LCODE" = PAM_AUTH_ERR ] && grep -q 'check: mso-validity' "$T/out"; then
			ok "$_d: refused, check: mso-validity"
		else
			not_ok "$_d: $LCODE"
			sed 's/^/#   /' "$T/out" | tail -n 4
		fi
		outcome "7c $_d" "PAM_AUTH_ERR/check: mso-validity" \
			"$LCODE/$(grep -Eo 'check: [a-z-]+' "$T/out" | head -n 1)"
	fi
}
mso_case "MSO valid from now+600 s (beyond the 300 s skew)" PAM_AUTH_ERR 600 86400
mso_case "MSO valid from now+200 s (within the skew)" PAM_SUCCESS 200 86400
mso_case "MSO valid until now-600 s (beyond the skew)" PAM_AUTH_ERR -86400 -600
mso_case "MSO valid until now-200 s (within the skew)" PAM_SUCCESS -86400 -200
phone_conf "mdoc_skew = 0"
mso_case "MSO valid from now+200 s with mdoc_skew = 0" PAM_AUTH_ERR 200 86400
phone_conf
cp "$T/wallet.conf.orig" "$T/w/wallet.conf"

# the reader's clock itself far off (the helper under faketime): MSO (30 days) expired, and
# not yet valid
printf '#!/bin/sh\nexec faketime -f "%s" %s "$@"\n' +40d "$HELPER" >"$T/helper-ahead"
printf '#!/bin/sh\nexec faketime -f "%s" %s "$@"\n' -1d "$HELPER" >"$T/helper-behind"
chmod 0755 "$T/helper-ahead" "$T/helper-behind"
for dir in ahead behind; do
	sed -i "s|^helper = .*|helper = $T/helper-$dir|" "$CONF"
	card_start w --profile wallet
	blogin taro ""
	mn_card_stop
	no_crash "7c: reader clock $dir"
	if [ "$LCODE" = PAM_AUTH_ERR ] && grep -q 'check: mso-validity\|check: certificate' "$T/out"; then
		ok "7c: reader clock $dir: refused ($(grep -Eo 'check: [a-z-]+' "$T/out" | head -n 1))"
	else
		not_ok "7c: reader clock $dir: $LCODE"
		sed 's/^/#   /' "$T/out" | tail -n 4
	fi
	outcome "7c reader clock $dir (faketime on the helper)" "PAM_AUTH_ERR/check: mso-validity or certificate" \
		"$LCODE/$(grep -Eo 'check: [a-z-]+' "$T/out" | head -n 1)"
done
phone_conf
check "the store is unchanged" test "$(store_sum)" = "$SUM0"

mn_done
