#!/bin/sh
# One PKCS#11 process across several operations while another process uses the card:
# the JPKI AP is selected again before a PIN is sent, a lost login is reported, and
# logout clears the card's security status.
. "$(dirname "$0")/harness.sh"

P11C=$MN_TOP_BUILDDIR/tests/p11-client
CARDINFO_AP=00A4040C0AD3921000310001010408
echo msg >"$T/msg"
mn_card_init card
mn_conf_ours
mn_card_start card

# 1. another process selects the card-info AP between our bind and our login
"$P11C" "$P11" 0 wait "$T/go1" login 1234 sign 01 "$T/msg" "$T/sig1" >"$T/c1" 2>&1 &
pid=$!
wait_until 10 sh -c "grep -q '00200080$' '$T/card.apdu'" # bound: GET_INFO seen
: >"$T/mark"
check "another process selects the card-info AP" "$APDU" $CARDINFO_AP 00A4020C020002
n_before=$(apdu_count card)
touch "$T/go1"
wait "$pid"
cat "$T/c1" >"$T/out"
expect "login after the foreign SELECT succeeds" '^login: CKR_OK'
expect "and the signature is made" '^sign: CKR_OK'
check "the signature verifies" \
	openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig1" "$T/msg"
tail -n +$((n_before * 2 + 1)) "$T/card.apdu" | grep '^>' >"$T/after"
first_verify=$(grep -n '^> 0020008004' "$T/after" | head -n 1 | cut -d: -f1)
first_select=$(grep -n '^> 00A4040C0AD392F000260100000001' "$T/after" | head -n 1 | cut -d: -f1)
if [ -n "$first_select" ] && [ -n "$first_verify" ] && [ "$first_select" -lt "$first_verify" ]; then
	ok "the JPKI AP was selected again before the PIN was sent"
else
	not_ok "the JPKI AP was selected again before the PIN was sent"
	sed 's/^/#   /' "$T/after"
fi

# 2. logged in; another process selects another AP (the card forgets our login)
"$P11C" "$P11" 0 login 1234 sign 01 "$T/msg" "$T/sig2" touch "$T/ready2" wait "$T/go2" \
	sign 01 "$T/msg" "$T/sig3" >"$T/c2" 2>&1 &
pid=$!
wait_until 20 test -f "$T/ready2"
check "another process selects the card-info AP while we are logged in" "$APDU" $CARDINFO_AP
touch "$T/go2"
wait "$pid"
cat "$T/c2" >"$T/out"
expect "the first signature is made" '^sign: CKR_OK'
if [ "$(grep -c '^sign: CKR_OK' "$T/out")" = 2 ]; then
	check "after the card lost our login, OpenSC logged in again and signed" \
		openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig3" "$T/msg"
else
	expect "or the lost login is reported as such" 'sign: CKR_USER_NOT_LOGGED_IN'
fi

# 3. logout
"$P11C" "$P11" 0 login 1234 sign 01 "$T/msg" "$T/sig4" logout sign 01 "$T/msg" "$T/sig5" \
	>"$T/out" 2>&1
expect "sign while logged in" '^sign: CKR_OK'
expect "logout" '^logout: CKR_OK'
expect "no signature after logout (the private key is not even visible)" '^sign: CKR_(USER_NOT_LOGGED_IN|KEY_HANDLE_INVALID)$'
tail -n 6 "$T/card.apdu" | grep '^>' >"$T/tail"
expect "logout selected the AP again on the card (its security status is gone)" \
	'^> 00A4040C0AD392F000260100000001' "$T/tail"
check "and the card itself no longer signs" sh -c "\"$APDU\" -t 00A4020C020017 \
	802A008033$(printf '3031300d060960864801650304020105000420%064d' 0)00 | tail -n 1 | grep -q '^6982'"

mn_done
