#!/bin/sh
# The revocation plugin ABI end to end: the example backend of doc/revocation-abi.md asked
# directly and through pam_mynumber in front of the crl backend; misconfigured backends stop
# logins instead of silently checking nothing.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

RQ=$MN_TOP_BUILDDIR/tests/rev-query
DL=$MN_TOP_BUILDDIR/revocation/example/.libs/denylist.so
mn_card_init card
mn_card_start card
mn_pam_setup card
kid=$(openssl x509 -in "$T/card/auth-ca.pem" -noout -pubkey | openssl pkey -pubin -outform DER |
	openssl asn1parse -inform DER -strparse 19 -noout -out "$T/spk.bin" >/dev/null 2>&1;
	openssl dgst -sha1 -binary "$T/spk.bin" | od -An -tx1 | tr -d ' \n')
serial=$(openssl x509 -in "$T/card/auth.pem" -noout -serial | sed 's/serial=//')

echo "# comment" >"$T/deny"
check "unlisted: the deny list does not know" "$RQ" "$DL" "$T/card/auth.pem" "$T/card/auth-ca.pem" file="$T/deny"
expect "unknown" '^status=unknown'
echo "$kid $serial 0A0B0C" >>"$T/deny"
check "listed: revoked, with the successor's serial" "$RQ" "$DL" "$T/card/auth.pem" "$T/card/auth-ca.pem" file="$T/deny"
expect "revoked" '^status=revoked'
check_fails "a backend refuses a setting it does not know" "$RQ" "$DL" "$T/card/auth.pem" "$T/card/auth-ca.pem" fiel="$T/deny"
expect "names it" "bad setting 'fiel'"
check "no list: unavailable" "$RQ" "$DL" "$T/card/auth.pem" "$T/card/auth-ca.pem" file="$T/nothing"
expect "unavailable" '^status=unavailable'

# through the login: denylist first, then the CRL
mkdir -p "$T/plugins"
ln -s "$DL" "$T/plugins/denylist.so"
ln -s "$MN_TOP_BUILDDIR/revocation/.libs/crl.so" "$T/plugins/crl.so"
check "CRL imported" import_crl card
check "enroll" enroll taro 1234
echo "# nobody" >"$T/deny"
conf_with()
{
	MN_REV_BACKENDS=$1 MN_REV_EXTRA="[revocation.denylist]
file = $T/deny" mn_pam_conf
	sed -i "s|^plugin_dir = .*|plugin_dir = $T/plugins|" "$CONF"
}
conf_with "denylist, crl"
check "unlisted: the CRL decides, login" login taro 1234
echo "$kid $serial" >>"$T/deny"
rm -f "$T/state/revocation-cache"
check_fails "listed: revoked before the CRL is even asked" login taro 1234
expect "revoked" 'has been revoked'
expect_not "no PIN prompt" 'My Number card PIN'

conf_with "crl, nosuchbackend"
check_fails "a backend that is not installed stops logins" login taro 1234
expect "configuration error" 'revocation check cannot run'
expect "PAM_SYSTEM_ERR" 'System error'
expect_not "no PIN prompt (missing backend)" 'My Number card PIN'
MN_REV_BACKENDS="denylist" MN_REV_EXTRA="[revocation.denylist]
typo = x" mn_pam_conf
sed -i "s|^plugin_dir = .*|plugin_dir = $T/plugins|" "$CONF"
check_fails "a backend refusing its settings stops logins" login taro 1234
expect "configuration error (settings)" 'revocation check cannot run'

# renewal: the backend says the old certificate was succeeded by the one on the new card
mn_card_stop
mn_card_init new --ca-from "$T/card"
tserial=$(sed -n 's/^token_serial=//p' "$T/card/card.conf")
sed -i "s/^token_serial=.*/token_serial=$tserial/" "$T/new/card.conf"
nserial=$(openssl x509 -in "$T/new/auth.pem" -noout -serial | sed 's/serial=//')
echo "$kid $serial $nserial" >"$T/deny"
rm -f "$T/state/revocation-cache" "$T/state/warm"
conf_with "denylist, crl"
mn_card_start new
check_fails "without rebind_renewed: the renewed card is refused" login taro 1234
expect "and told to re-enroll" 'renewed.*mynumber enroll --renew taro'
expect_not "no PIN prompt (renewed)" 'My Number card PIN'
sed -i 's/^\[revocation\]$/[revocation]\nrebind_renewed = yes/' "$CONF"
check "with rebind_renewed: the successor logs in" login taro 1234
expect "and is enrolled in place of the old one" 'renewed My Number certificate is now enrolled'
check "the store holds the new certificate" "$MYNUMBER" --config "$CONF" list taro
expect "one binding, the new certificate's" "$(openssl x509 -in "$T/new/auth.pem" -outform DER | sha256sum | cut -c1-16)"
check "and the next login is an ordinary one" login taro 1234
expect_not "no second rebinding" 'now enrolled'
echo "$kid $nserial 0F0F0F" >"$T/deny"
mn_card_stop
mn_card_init other2 --ca-from "$T/card"
sed -i "s/^token_serial=.*/token_serial=$tserial/" "$T/other2/card.conf"
mn_card_start other2
check_fails "a successor serial that is not the card's: refused" login taro 1234

mn_done
