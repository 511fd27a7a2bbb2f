#!/bin/sh
# PINs through OpenSC with our driver: tries left without spending one, lockout that
# survives a restart, formats checked before sending, sign password rules, PIN change.
. "$(dirname "$0")/harness.sh"

SEL_AUTH_PIN="00A4040C0AD392F000260100000001 00A4020C020018 00200080"

# tries_left NAME: the card's own answer to an empty VERIFY, through bare PC/SC
tries()
{
	"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 00200080 | tail -n 1
}

login_sign()
{
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin "$1" --sign --id 01 \
		-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
}

verifies_with_data()
{
	grep -c '^> 00 ?20 ?00 ?80 ?0[0-9A-F]' "$T/card.apdu" 2>/dev/null || echo 0
}

mn_card_init card
mn_conf_ours
mn_card_start card
echo msg >"$T/msg"

check "fresh card: 3 tries" tries
expect "63C3 from an empty VERIFY" '^63C3$'
check "reading the tries again spends none" tries
expect "still 63C3" '^63C3$'

# formats are checked before anything is sent
before=$(verifies_with_data)
check_fails "a PIN with a letter is refused" login_sign 12a4
check_fails "a 5-digit PIN is refused" login_sign 12345
check_fails "a 3-digit PIN is refused" login_sign 123
after=$(verifies_with_data)
if [ "$before" = "$after" ]; then ok "malformed PINs never reached the card"; else not_ok "malformed PINs reached the card ($before -> $after VERIFYs)"; fi
check "no try spent by malformed PINs" tries
expect "63C3 after malformed PINs" '^63C3$'

check_fails "wrong PIN 1" login_sign 1111
expect "CKR_PIN_INCORRECT" 'CKR_PIN_INCORRECT'
check "tries after one wrong PIN" tries
expect "63C2" '^63C2$'
check "token flags" pkcs11-tool --module "$P11" -L
expect "PKCS#11 says count low" 'user PIN count low'

check_fails "wrong PIN 2" login_sign 2222
check "token flags" pkcs11-tool --module "$P11" -L
expect "PKCS#11 says final try" 'final user PIN try'

check "a right PIN resets the counter" login_sign 1234
check "tries after success" tries
expect "63C3 again" '^63C3$'

check_fails "wrong PIN 1 of 3" login_sign 1111
check_fails "wrong PIN 2 of 3" login_sign 1111
check_fails "wrong PIN 3 of 3" login_sign 1111
expect "the try that exhausts the counter says CKR_PIN_LOCKED" 'CKR_PIN_LOCKED'
check_fails "right PIN on a blocked card" login_sign 1234
expect "CKR_PIN_LOCKED, not a general error" 'CKR_PIN_LOCKED'
check "token flags when blocked" pkcs11-tool --module "$P11" -L
expect "PKCS#11 says locked" 'user PIN locked'
check "the card reports 0 tries" tries
expect "63C0" '^63C0$'

mn_card_stop
mn_card_start card
check "after a restart of the card" tries
expect "still blocked (63C0)" '^63C0$'
check_fails "login after the restart" login_sign 1234
expect "still CKR_PIN_LOCKED after a restart" 'CKR_PIN_LOCKED'

# sign password: 6-16 of A-Z 0-9, 5 tries; format errors never sent
mn_card_stop
mn_card_init card3
mn_card_start card3
sign_with()
{
	pkcs11-tool --module "$P11" --slot-index 1 --login --pin "$1" --sign --id 02 \
		-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
}
sign_tries()
{
	"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C02001B 00200080 | tail -n 1
}
check_fails "a sign password with a symbol is refused" sign_with 'abc-123'
check_fails "a 5-character sign password is refused" sign_with 'ABC12'
check "no try spent" sign_tries
expect "63C5" '^63C5$'
check_fails "wrong sign password" sign_with WRONGPASS9
check "one try spent" sign_tries
expect "63C4" '^63C4$'
check "right sign password, typed in lower case" sign_with signpass1
check "counter reset" sign_tries
expect "63C5 again" '^63C5$'

# PIN change
check "change the auth PIN" pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 \
	--change-pin --new-pin 4321
check "the new PIN signs" login_sign 4321
check_fails "the old PIN no longer does" login_sign 1234
check "the new PIN again (counter reset)" login_sign 4321
check_fails "a new auth PIN must be 4 digits" pkcs11-tool --module "$P11" --slot-index 0 \
	--login --pin 4321 --change-pin --new-pin 12345
check "the PIN was not changed" login_sign 4321
check_fails "a new sign password must mix letters and digits" pkcs11-tool --module "$P11" \
	--slot-index 1 --login --pin SIGNPASS1 --change-pin --new-pin ABCDEFGH
check "sign password unchanged" sign_with SIGNPASS1

mn_done
