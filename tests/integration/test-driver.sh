#!/bin/sh
# OpenSC with our driver against the virtual card: binding, objects, serial, signatures.
. "$(dirname "$0")/harness.sh"

mn_card_init card
mn_conf_ours no yes
mn_card_start card
printf 'login challenge %s\n' "$$" >"$T/msg"

check "pkcs15-tool -D binds the card" pkcs15-tool -D
expect "the token is labelled as a My Number card" 'PKCS#15 Card \[My Number Card\]'
expect "it has a real serial number" 'Serial number *: *[0-9A-F]{16}'
expect_not "never OpenSC's placeholder serial" 'Serial number *: *00000000'
expect "the auth certificate is listed" 'User Authentication Certificate'
expect "the CA certificates are marked as authorities" 'Authority *: *yes'
expect "the auth PIN is 4 digits" 'Auth PIN'
cp "$T/out" "$T/dump"
expect "PIN flags true to the card (no PUK)" 'Flags *: \[0x1A\], local, unblock-disabled, initialized' "$T/dump"
expect "PINs are changeable objects" 'Object Flags *: \[0x03\], private, modifiable' "$T/dump"
expect "the sign password is alphanumeric, not numeric" 'Type *: UTF-8' "$T/dump"

check "opensc-tool names our driver" opensc-tool -n
expect "card name from our driver" 'My Number Card'

check "pkcs11-tool lists the slots" pkcs11-tool --module "$P11" -L
expect "auth slot label" 'My Number Card \(Auth PIN\)'
expect "sign slot label" 'My Number Card \(Sign PIN\)'
expect "PKCS#11 token serial is the card's" "serial num *: *$(sed -n 's/^[[:space:]]*Serial number[[:space:]]*:[[:space:]]*//p' "$T/dump")"

check "public objects readable without a PIN" pkcs11-tool --module "$P11" --slot-index 0 -O
expect "the auth public key is visible" 'Public Key Object; RSA 2048 bits'

check "pkcs15-tool reads the auth public key (from the certificate)" \
	pkcs15-tool --read-public-key 01
expect "a PEM public key" 'BEGIN PUBLIC KEY'
openssl pkey -pubin -in "$T/out" -out "$T/p15.pub.pem" 2>/dev/null
check "it is the certificate's key" cmp "$T/p15.pub.pem" "$T/card/auth.pub.pem"

check "sign with the auth key (SHA256-RSA-PKCS)" \
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
	-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
check "the signature verifies against the auth certificate" \
	openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig" "$T/msg"

check "sign with SHA512-RSA-PKCS too" \
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
	-m SHA512-RSA-PKCS -i "$T/msg" -o "$T/sig512"
check "the SHA-512 signature verifies" \
	openssl dgst -sha512 -verify "$T/card/auth.pub.pem" -signature "$T/sig512" "$T/msg"

openssl x509 -in "$T/card/sign.pem" -pubkey -noout >"$T/sign.pub.pem"
check "sign with the signature key and a lower-case password (upper-cased by the driver)" \
	pkcs11-tool --module "$P11" --slot-index 1 --login --pin signpass1 --sign --id 02 \
	-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig2"
check "the digital signature verifies against the sign certificate" \
	openssl dgst -sha256 -verify "$T/sign.pub.pem" -signature "$T/sig2" "$T/msg"

check "the sign certificate is readable after the sign password" \
	pkcs11-tool --module "$P11" --slot-index 1 --login --pin SIGNPASS1 --read-object \
	--type cert --id 02 -o "$T/sign.der"
check "and it is the card's sign certificate" \
	sh -c "openssl x509 -inform DER -in '$T/sign.der' -noout -fingerprint -sha256 >'$T/a' && \
	       openssl x509 -in '$T/card/sign.pem' -noout -fingerprint -sha256 >'$T/b' && cmp '$T/a' '$T/b'"

check_fails "the sign certificate is not readable without the password" \
	pkcs11-tool --module "$P11" --slot-index 1 --read-object --type cert --id 02 \
	-o "$T/nosign.der"

# the CA certificates only when asked for
mn_conf_ours
check "pkcs15-tool -D with the default ca_certificates = no" pkcs15-tool -D
expect_not "no CA certificates by default" 'Authentication CA|Signature CA'
mn_conf_ours no yes

# the card-info AP is hidden unless the driver's block enables it
expect_not "no card-info data objects by default" 'Individual Number|Basic Attributes' \
	"$T/dump"
mn_conf_ours yes
check "pkcs15-tool -D with card_info = yes" pkcs15-tool -D
expect "card-info data objects appear when enabled" 'Basic Attributes'
expect "the card-info PIN appears when enabled" 'Card Info PIN'
check "the basic attributes are readable behind the card-info PIN" \
	pkcs15-tool --read-data-object "Basic Attributes" --verify-pin --auth-id 03 --pin 5678 \
	-o "$T/attrs.bin"
check "the basic attributes decode" sh -c "head -c 2 '$T/attrs.bin' | od -An -tx1 | grep -q 'ff 20'"
check_fails "not without it" pkcs15-tool --read-data-object "Basic Attributes" -o "$T/x.bin"
mn_conf_ours

# a second card is a different token: no shared serial, no stale certificate
mn_card_stop
mn_card_init card2
mn_card_start card2
check "second card binds" pkcs15-tool -D
s2=$(sed -n 's/^[[:space:]]*Serial number[[:space:]]*:[[:space:]]*//p' "$T/out")
s1=$(sed -n 's/^[[:space:]]*Serial number[[:space:]]*:[[:space:]]*//p' "$T/dump")
if [ -n "$s1" ] && [ -n "$s2" ] && [ "$s1" != "$s2" ]; then
	ok "two cards have different serials ($s1, $s2)"
else
	not_ok "two cards have different serials ('$s1', '$s2')"
fi
check "sign with the second card" \
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
	-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig3"
check "verifies against the second card's certificate" \
	openssl dgst -sha256 -verify "$T/card2/auth.pub.pem" -signature "$T/sig3" "$T/msg"

mn_done
