#!/bin/sh
# Token kinds: My Number card, Android and iPhone JPKI tokens, and the old 住基 card.
. "$(dirname "$0")/harness.sh"

echo msg >"$T/msg"
mn_conf_ours

mn_card_init android --profile android
mn_card_start android
check "Android token binds" pkcs15-tool -D
expect "labelled JPKI Android" 'PKCS#15 Card \[JPKI Android\]'
check "public objects before login" pkcs11-tool --module "$P11" --slot-index 0 -O
expect_not "the Android auth certificate is not readable before the PIN" 'label: *User Authentication Certificate'
check "objects after login" pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 -O
expect "the Android auth certificate is read after login" 'label: *User Authentication Certificate'
check "sign on the Android token" pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 \
	--sign --id 01 -m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
check "the Android signature verifies" \
	openssl dgst -sha256 -verify "$T/android/auth.pub.pem" -signature "$T/sig" "$T/msg"
check "the Android certificate read after login is the token's" \
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --read-object --type cert \
	--id 01 -o "$T/a.der"
check "and matches" sh -c "openssl x509 -inform DER -in '$T/a.der' -noout -pubkey | \
	cmp - '$T/android/auth.pub.pem'"
mn_card_stop

mn_card_init iphone --profile iphone
mn_card_start iphone
check "iPhone token binds" pkcs15-tool -D
expect "labelled JPKI iPhone" 'PKCS#15 Card \[JPKI iPhone\]'
check "sign on the iPhone token" pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 \
	--sign --id 01 -m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
check "the iPhone signature verifies" \
	openssl dgst -sha256 -verify "$T/iphone/auth.pub.pem" -signature "$T/sig" "$T/msg"
mn_card_stop

mn_card_init juki --profile juki
mn_card_start juki
printf 'app default {\n\tcard_drivers = mynumber;\n\tcard_driver mynumber {\n\t\tmodule = %s;\n\t}\n}\n' \
	"$DRIVER_SO" >"$T/only-ours.conf"
check_fails "our driver does not claim an old Juki card" \
	env OPENSC_CONF="$T/only-ours.conf" opensc-tool -n
check_fails "so no PKCS#15 token is made from it" \
	env OPENSC_CONF="$T/only-ours.conf" pkcs15-tool -D
mn_conf_builtin
check "(OpenSC's built-in jpki driver claims it)" opensc-tool -n
mn_card_stop

mn_done
