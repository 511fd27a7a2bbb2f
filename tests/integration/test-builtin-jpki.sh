#!/bin/sh
# The same virtual card through OpenSC's built-in jpki driver: it must work there too
# (the simulator is realistic), and it shows the built-in driver's limits ours fixes.
. "$(dirname "$0")/harness.sh"

echo msg >"$T/msg"
mn_card_init card
mn_conf_builtin
mn_card_start card

check "the built-in jpki driver binds the virtual card" pkcs15-tool -D
expect "as JPKI" 'PKCS#15 Card \[JPKI\]'
expect "with its placeholder serial (a limitation of the built-in driver)" 'Serial number *: *00000000'
check "the built-in driver signs with the auth key" \
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
	-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
check "and the signature verifies" \
	openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig" "$T/msg"

for i in 1 2 3; do
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 9999 --sign --id 01 \
		-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig" >"$T/out" 2>&1
done
pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
	-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig" >"$T/out" 2>&1
echo "# built-in driver on a blocked PIN says: $(grep -o 'CKR_[A-Z_]*' "$T/out" | head -n 1)"
expect "the card itself is blocked (the simulator's lock holds for any driver)" 'CKR_'

mn_done
