#!/bin/sh
# The clock skewed under a card login: the helper run under faketime (a wrapper named as
# `helper` in mynumber.conf, since the module gives the helper a clean environment), far ahead
# (the certificate has expired) and far behind (not valid yet): the documented message and PAM
# code, before any PIN. The phone's MSO against mdoc_skew is in test-fault-phone.sh.
# Summary lines: "# outcome: CASE | expected | observed".
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"
. "$(dirname "$0")/fault-harness.sh"

mn_card_init card
mn_card_start card
mn_pam_setup card
check "an empty CRL is imported" import_crl card
check "enroll taro" enroll taro 1234
NA=$(date -d "$(openssl x509 -in "$T/card/auth.pem" -noout -enddate | cut -d= -f2)" +%s)
NB=$(date -d "$(openssl x509 -in "$T/card/auth.pem" -noout -startdate | cut -d= -f2)" +%s)
NOW=$(date +%s)
AHEAD=$(((NA - NOW) / 86400 + 30))
BEHIND=$(((NOW - NB) / 86400 + 30))
echo "# the certificate: valid from $((NB - NOW)) s to $((NA - NOW)) s from now; skew +${AHEAD}d / -${BEHIND}d"
SUM0=$(store_sum)

# skewed OFFSET: the helper sees the clock shifted by OFFSET (faketime syntax)
skewed()
{
	printf '#!/bin/sh\nexec faketime -f "%s" %s "$@"\n' "$1" "$HELPER" >"$T/helper-skewed"
	chmod 0755 "$T/helper-skewed"
	mn_pam_conf
	sed -i "s|^helper = .*|helper = $T/helper-skewed|" "$CONF"
}

clock_case()
{
	_d=$1
	_code=$2
	_re=$3
	_v=$(verifies_sent card)
	blogin taro 1234
	no_crash "$_d"
	if [ "$LCODE" = "$_code" ] && grep -Eq "$_re" "$T/out"; then
		ok "$_d: $LCODE, '$(grep -Eo "$_re" "$T/out" | head -n 1)'"
	else
		not_ok "$_d: $LCODE"
		sed 's/^/#   /' "$T/out" | tail -n 5
	fi
	if grep -q 'My Number card PIN' "$T/out" || [ "$(verifies_sent card)" != "$_v" ]; then
		not_ok "$_d: the PIN was asked or sent"
		_p="PIN ASKED"
	else
		ok "$_d: no PIN asked"
		_p="no PIN"
	fi
	outcome "7 $_d" "$_code/'$_re', no PIN" "$LCODE/'$(grep -Eo "$_re" "$T/out" | head -n 1)', $_p"
}

for warm in no yes; do
	MN_WARM=$warm
	export MN_WARM
	mn_pam_conf
	check "a login with the right clock (warm_login = $warm)" login taro 1234
	skewed "+${AHEAD}d"
	clock_case "clock +${AHEAD}d, warm_login = $warm: expired" PAM_CRED_EXPIRED \
		'The certificate on this card has expired'
	skewed "-${BEHIND}d"
	clock_case "clock -${BEHIND}d, warm_login = $warm: not yet valid" PAM_AUTH_ERR \
		'The certificate on this card is not valid yet|not from a trusted JPKI authority'
done
# one hour ahead: still valid, but the CRL's thisUpdate and nextUpdate hold (fresh)
skewed "+1h"
blogin taro 1234
if [ "$LCODE" = PAM_SUCCESS ]; then ok "clock +1h: authenticated"; else not_ok "clock +1h: $LCODE"; fi
outcome "7 clock +1h" "PAM_SUCCESS" "$LCODE"
# 8 days ahead: certificate valid, the CRL (7 days) past its nextUpdate: require refuses
rm -f "$T/state/revocation-cache"
skewed "+8d"
clock_case "clock +8d: CRL stale, policy require" PAM_AUTH_ERR \
	'revocation status of this card.s certificate is not available'
mn_pam_conf
check "with the right clock again, a login" login taro 1234
check "tries intact" tries_raw
expect "63C3" '^63C3$'
check "the store is unchanged" test "$(store_sum)" = "$SUM0"

mn_done
