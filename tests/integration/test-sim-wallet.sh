#!/bin/sh
# The wallet profile of the simulator: a phone presenting the smartphone My Number Card as an
# ISO/IEC 18013-5 mdoc over NFC (vpcd), read by tests/wallet-client through PC/SC with the
# library's NFC engagement, session encryption and mn_mdoc_verify().
. "$(dirname "$0")/harness.sh"

WCLIENT=$MN_TOP_BUILDDIR/tests/wallet-client
MN=$MN_TOP_BUILDDIR/tools/mynumber
JP=org.iso.23220.1.jp
ISO=org.iso.23220.1
REQ="$JP:full_name_unicode $JP:birth_date_unicode $JP:portrait $ISO:age_over_20"

# wallet_init NAME [init options]
wallet_init()
{
	_name=$1
	shift
	if ! "$SIM" init --profile wallet "$@" "$T/$_name" >"$T/$_name.init.log" 2>&1; then
		echo "Bail out! mynumber-sim init --profile wallet failed"
		cat "$T/$_name.init.log"
		exit 99
	fi
}

# read_cli NAME OUT [read-mdoc options]: the product's reader, mynumber read-mdoc
read_cli()
{
	_name=$1
	_out=$2
	shift 2
	timeout 30 "$MN" read-mdoc --trust "$T/$_name/iaca.pem" --wait 10 "$@" >"$_out" \
		2>"$_out.err"
}

# read_wallet NAME OUT [client options/args]: one reader session, bounded by timeout
read_wallet()
{
	_name=$1
	_out=$2
	shift 2
	timeout 30 "$WCLIENT" "$@" >"$_out" 2>>"$T/client.log"
}

wallet_init w
check "init writes iaca.pem" test -s "$T/w/iaca.pem"
check "init writes wallet.conf" test -s "$T/w/wallet.conf"
check "IACA is a CA with pathlen 0" sh -c "openssl x509 -in '$T/w/iaca.pem' -noout -text | grep -q 'CA:TRUE, pathlen:0'"
check "DS has the mdoc DS EKU" sh -c "openssl x509 -in '$T/w/ds.pem' -noout -text | grep -q '1.0.18013.5.1.2'"

# static handover
mn_card_start w --profile wallet
if read_wallet w "$T/static.out" "$T/w/iaca.pem" $REQ; then
	ok "static handover: session completes"
else
	not_ok "static handover: session completes"
fi
expect "static handover engagement" "engagement static" "$T/static.out"
expect "static: 4 elements verified" "^verified 4$" "$T/static.out"
expect "static: full_name_unicode" "$JP full_name_unicode" "$T/static.out"
expect "static: portrait" "$JP portrait" "$T/static.out"
expect "static: age_over_20" "$ISO age_over_20" "$T/static.out"
expect_not "static: the individual number is never sent" "individual_number" "$T/static.out"
expect_not "static: unrequested sex_unicode not sent" "sex_unicode" "$T/static.out"

# a second reading: new engagement, new session
if read_wallet w "$T/static2.out" --short "$T/w/iaca.pem" "$JP:resident_address_unicode"; then
	ok "second session (short APDUs) completes"
else
	not_ok "second session (short APDUs) completes"
fi
expect "second session: 1 element" "^verified 1$" "$T/static2.out"
expect "second session: address" "$JP resident_address_unicode" "$T/static2.out"

# a wrong trust anchor
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other-key.pem" 2>/dev/null
openssl req -new -x509 -key "$T/other-key.pem" -subj "/C=JP/CN=Other IACA" -days 30 \
	-out "$T/other-iaca.pem" 2>/dev/null
if read_wallet w "$T/other.out" "$T/other-iaca.pem" $REQ; then
	ok "wrong IACA: session completes"
else
	not_ok "wrong IACA: session completes"
fi
expect "wrong IACA: verification fails" "verify-failed" "$T/other.out"
expect_not "wrong IACA: nothing verified" "^verified" "$T/other.out"

# mynumber read-mdoc: default elements (name and birth date), JSON on stdout
check "read-mdoc: verified" read_cli w "$T/cli.json"
expect "read-mdoc: full_name_unicode" '"full_name_unicode"' "$T/cli.json"
expect "read-mdoc: birth_date_unicode" '"birth_date_unicode"' "$T/cli.json"
expect_not "read-mdoc: nothing unrequested" "individual_number|resident_address|portrait" "$T/cli.json"
check "read-mdoc: chosen element" read_cli w "$T/cli2.json" --element "$ISO:age_over_20"
expect "read-mdoc: age_over_20 true" '"age_over_20": *true' "$T/cli2.json"
check "read-mdoc: asking for the individual number is a usage error (2)" \
	sh -c "timeout 30 '$MN' read-mdoc --trust '$T/w/iaca.pem' --element $JP:individual_number_unicode \
		>'$T/cli3.json' 2>'$T/cli3.err'; test \$? -eq 2"
expect "read-mdoc: individual number refusal names the law" "My Number Act" "$T/cli3.err"
check "read-mdoc: wrong IACA exits 1" sh -c "timeout 30 '$MN' read-mdoc --trust '$T/other-iaca.pem' \
	--wait 10 >'$T/cli4.json' 2>'$T/cli4.err'; test \$? -eq 1"
expect "read-mdoc: wrong IACA names the check" "certificate-chain" "$T/cli4.err"
check "read-mdoc: wrong IACA prints no elements" test ! -s "$T/cli4.json"
mn_card_stop

# a wallet answering a My Number Card request with another (validly signed) document type
mn_card_start w --profile wallet --doctype org.iso.23220.1.jp.other
check "read-mdoc: another docType exits 1" sh -c "timeout 30 '$MN' read-mdoc --trust '$T/w/iaca.pem' \
	--wait 10 >'$T/cli-dt.json' 2>'$T/cli-dt.err'; test \$? -eq 1"
expect "read-mdoc: another docType is named" "other than the requested org.iso.23220.1.jp.mnc" "$T/cli-dt.err"
check "read-mdoc: another docType prints no elements" test ! -s "$T/cli-dt.json"
mn_card_stop

# negotiated handover (TNEP)
mn_card_start w --profile wallet --handover tnep
if read_wallet w "$T/tnep.out" "$T/w/iaca.pem" $REQ; then
	ok "negotiated handover: session completes"
else
	not_ok "negotiated handover: session completes"
fi
expect "negotiated handover engagement" "engagement negotiated" "$T/tnep.out"
expect "negotiated: 4 elements verified" "^verified 4$" "$T/tnep.out"
check "read-mdoc over negotiated handover" read_cli w "$T/cli-tnep.json"
expect "read-mdoc tnep: full_name_unicode" '"full_name_unicode"' "$T/cli-tnep.json"
mn_card_stop

# the user fails Face ID: session termination, no DeviceResponse
mn_card_start w --profile wallet --biometric fail
if read_wallet w "$T/bio.out" "$T/w/iaca.pem" $REQ; then
	ok "biometric fail: session ends cleanly"
else
	not_ok "biometric fail: session ends cleanly"
fi
expect "biometric fail: status 20" "status 20" "$T/bio.out"
expect_not "biometric fail: no element" "^verified" "$T/bio.out"
check "read-mdoc: biometric fail exits 1" sh -c "timeout 30 '$MN' read-mdoc --trust '$T/w/iaca.pem' \
	--wait 10 >'$T/cli-bio.json' 2>'$T/cli-bio.err'; test \$? -eq 1"
expect "read-mdoc: biometric fail says the phone ended the session" "ended the session" "$T/cli-bio.err"
check "read-mdoc: biometric fail prints no elements" test ! -s "$T/cli-bio.json"
mn_card_stop

# deviceMac instead of deviceSignature: refused unless --allow-mac
check_fails "run: --device-auth takes signature or mac" "$SIM" run --profile wallet \
	--device-auth hmac "$T/w"
expect "names the option" 'device-auth'
mn_card_start w --profile wallet --device-auth mac
check "read-mdoc: deviceMac without --allow-mac exits 1" sh -c "timeout 30 '$MN' read-mdoc \
	--trust '$T/w/iaca.pem' --wait 10 >'$T/cli-mac.json' 2>'$T/cli-mac.err'; test \$? -eq 1"
expect "read-mdoc: deviceMac refused unless allowed" "deviceMac is refused unless allowed" \
	"$T/cli-mac.err"
check "read-mdoc: refused deviceMac prints no elements" test ! -s "$T/cli-mac.json"
check "read-mdoc --allow-mac: deviceMac verified" read_cli w "$T/cli-mac2.json" --allow-mac
expect "read-mdoc --allow-mac: full_name_unicode" '"full_name_unicode"' "$T/cli-mac2.json"
mn_card_stop

# an expired MSO
wallet_init old --mso-expired
mn_card_start old --profile wallet
if read_wallet old "$T/old.out" "$T/old/iaca.pem" $REQ; then
	ok "expired MSO: session completes"
else
	not_ok "expired MSO: session completes"
fi
expect "expired MSO: mso-validity fails" "verify-failed mso-validity" "$T/old.out"
check "read-mdoc: expired MSO exits 1" sh -c "timeout 30 '$MN' read-mdoc --trust '$T/old/iaca.pem' \
	--wait 10 >'$T/cli-old.json' 2>'$T/cli-old.err'; test \$? -eq 1"
expect "read-mdoc: expired MSO names mso-validity" "mso-validity" "$T/cli-old.err"
mn_card_stop

# the phone is taken away during data retrieval
mn_card_start w --profile wallet --absent-after 1
if read_wallet w "$T/gone.out" "$T/w/iaca.pem" $REQ; then
	not_ok "phone removed: the reader reports an error"
else
	ok "phone removed: the reader reports an error"
fi
expect_not "phone removed: nothing verified" "^verified" "$T/gone.out"
mn_card_stop

mn_done
