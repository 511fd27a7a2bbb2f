#!/bin/sh
# Faults: the card removed mid-signature or mid-bind, error status words, a slow card.
. "$(dirname "$0")/harness.sh"

echo msg >"$T/msg"
mn_conf_ours
mn_card_init card

sign()
{
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
		-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
}

# learn where the signature falls in the APDU sequence
mn_card_start card
check "a reference signature" sign
n=$(grep '^>' "$T/card.apdu" | grep -n '^> 80 \?2A' | head -n 1 | cut -d: -f1)
mn_card_stop
if [ -z "$n" ]; then
	not_ok "found the COMPUTE SIGNATURE APDU in the log"
	mn_done
fi
: >"$T/card.apdu"

mn_card_start card --drop-after $((n - 1))
check_fails "card removed just before the signature: clean failure" sign
expect "PKCS#11 reports the removal" 'CKR_(DEVICE_REMOVED|TOKEN_NOT_PRESENT)'
expect_not "no crash" 'Segmentation|Aborted|core dumped'
mn_card_stop
mn_card_start card
check "the card still works after reinsertion" sign
check "and the PIN was not spent" sh -c "\"$APDU\" -t 00A4040C0AD392F000260100000001 00A4020C020018 00200080 | grep -q 63C3"
mn_card_stop

mn_card_start card --drop-after 2
check_fails "card removed while binding: clean failure" pkcs15-tool -D
mn_card_stop

mn_card_start card --fault 2A=6F00
check_fails "the card fails the signature (6F00): clean failure" sign
expect "an error is reported" 'error|CKR_'
mn_card_stop

mn_card_start card --fault B0=6A82
check_fails "certificates unreadable: no certificate, no crash" \
	pkcs11-tool --module "$P11" --slot-index 0 --read-object --type cert --id 01 -o "$T/c.der"
mn_card_stop

mn_card_start card --delay-ms 150
check "a slow card (150 ms per APDU) still signs" sign
check "the signature verifies" \
	openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig" "$T/msg"
mn_card_stop

mn_done
