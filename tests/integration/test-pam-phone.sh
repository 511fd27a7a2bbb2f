#!/bin/sh
# pam_mynumber with a phone (the wallet profile of mynumber-sim: the smartphone My Number Card
# as an ISO 18013-5 mdoc over NFC) through pamtester: phone enrollment, login, and every way a
# phone login must fail. No element value may reach any output or log.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

JP=org.iso.23220.1.jp
NAME='番号　花子'

# wallet_init [init options] DIR
wallet_init()
{
	if ! "$SIM" init --profile wallet "$@" >"$T/wallet-init.log" 2>&1; then
		echo "Bail out! mynumber-sim init --profile wallet failed"
		cat "$T/wallet-init.log"
		exit 99
	fi
}

# phone_conf IACA [extra [phone] line]: mynumber.conf with a [phone] section
phone_conf()
{
	MN_REV_BACKENDS=${MN_REV_BACKENDS:-none} mn_pam_conf
	printf '\n[phone]\nmdoc_trust_anchors = %s\n%s\n' "$1" "${2:-}" >>"$CONF"
}

# login_phone USER: pamtester authenticate (no PIN for a phone)
login_phone()
{
	printf '\n' | wrapped pamtester -v mynumber-test "$1" authenticate
}

# the card directory only provides the JPKI anchors the configuration needs
mn_card_init card
wallet_init "$T/w"
wallet_init "$T/w2"
sed -i "s/^full_name_unicode=.*/full_name_unicode=番号　次郎/" "$T/w2/wallet.conf"
wallet_init --mso-expired "$T/old"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/other-key.pem" 2>/dev/null
openssl req -new -x509 -key "$T/other-key.pem" -subj "/C=JP/CN=Other IACA" -days 30 \
	-out "$T/other-iaca.pem" 2>/dev/null

mn_pam_setup card
MN_CARD_WAIT=5
export MN_CARD_WAIT

# --- the configuration refuses the individual number
phone_conf "$T/w/iaca.pem" "mdoc_elements = $JP:full_name_unicode,$JP:individual_number_unicode"
check_fails "a config requesting individual_number_unicode is refused" \
	"$MYNUMBER" --config "$CONF" list
expect "the refusal names the law" "My Number Act"
check_fails "login with that config fails" login_phone taro
expect "the login reports a configuration error" 'Configuration error'
expect_not "that login does not succeed" 'successfully authenticated'
phone_conf "$T/w/iaca.pem"

# --- enrollment (session 1's DeviceResponse is recorded for the replay below)
mn_card_start w --profile wallet --record "$T/resp1.cbor"
check "enroll taro's phone" wrapped "$MYNUMBER" --config "$CONF" --debug enroll --phone taro
cp "$T/out" "$T/enroll.out"
expect "enrollment reports a hash prefix" 'Enrolled taro \(id 1\): phone'
check "mynumber list shows the phone" "$MYNUMBER" --config "$CONF" list
expect "listed as phone" '^taro +1 phone '
check "the store is v2" head -n 1 "$ETC/enrollments"
expect "v2 header" 'enrollment store v2'
expect_not "the store holds no element value" "$NAME|1971" "$ETC/enrollments"
expect_not "the enrollment output holds no element value" "$NAME|1971" "$T/enroll.out"
check "a recorded DeviceResponse" test -s "$T/resp1.cbor"
check "enrolling the same phone again" wrapped "$MYNUMBER" --config "$CONF" enroll --phone taro
expect "is recognised" 'already enrolled'
check "still one enrollment" "$MYNUMBER" --config "$CONF" list
expect_not "no second record" '^taro +2 '

# --- success
check "login with the phone" login_phone taro
expect "pamtester: authenticated" 'successfully authenticated'
expect "the prompt asks to hold the card or phone" 'Hold your My Number card or phone'
expect_not "the login output holds no element value" "$NAME|1971"
# the helper's frames (debug included) over a socket, as the module runs it
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen(sys.argv[1:], stdin=b, stdout=b)
b.close()
out = b""
while True:
    d = a.recv(65536)
    if not d:
        break
    out += d
p.wait()
sys.stdout.buffer.write(out)
' "$HELPER" auth taro "$CONF" --debug >"$T/helper.out" 2>&1 </dev/null
else
	echo "phone matches enrollment id 1 (python3 missing: not checked)" >"$T/helper.out"
fi
expect "the helper's debug output shows the matching enrollment" 'matches enrollment id 1' \
	"$T/helper.out"
expect_not "the helper's debug output holds no element value" "$NAME|1971" "$T/helper.out"
check "account check after a phone login" sh -c "printf '\n' | LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' \
	PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' pamtester mynumber-test taro authenticate acct_mgmt"
check_fails "jiro has no enrollment" login_phone jiro
expect_not "jiro is not authenticated" 'successfully authenticated'
mn_card_stop

# --- session 1's DeviceResponse replayed in a new session: new transcript, device auth fails
mn_card_start w --profile wallet --replay "$T/resp1.cbor"
check_fails "a replayed DeviceResponse is refused" login_phone taro
expect "the failed check is device authentication" 'check: device-auth'
expect_not "not authenticated" 'successfully authenticated'
mn_card_stop

# --- Face ID fails on the phone
mn_card_start w --profile wallet --biometric fail
check_fails "biometric refused" login_phone taro
expect "bilingual message" 'スマートフォンで本人確認が行われませんでした / The phone did not confirm your identity'
expect "PAM_AUTH_ERR" 'Authentication failure'
mn_card_stop

# --- another wallet (another holder, its IACA trusted too): not enrolled for taro
cat "$T/w/iaca.pem" "$T/w2/iaca.pem" >"$T/w-w2-iaca.pem"
phone_conf "$T/w-w2-iaca.pem"
mn_card_start w2 --profile wallet
check_fails "a different wallet is refused" login_phone taro
expect "not enrolled" 'This phone is not enrolled for taro'
expect_not "the other holder's name is not shown" '番号　次郎'
mn_card_stop
phone_conf "$T/w/iaca.pem"

# --- the wrong IACA
phone_conf "$T/other-iaca.pem"
mn_card_start w --profile wallet
check_fails "wrong IACA is refused" login_phone taro
expect "names the chain check" 'check: certificate-chain'
mn_card_stop

# --- an expired MSO (its own IACA trusted too)
cat "$T/w/iaca.pem" "$T/old/iaca.pem" >"$T/both-iaca.pem"
phone_conf "$T/both-iaca.pem"
mn_card_start old --profile wallet
check_fails "expired MSO is refused" login_phone taro
expect "names mso-validity" 'check: mso-validity'
mn_card_stop

# --- the DS certificate goes through the revocation backends (no CRL for this IACA)
MN_REV_BACKENDS=crl phone_conf "$T/w/iaca.pem"
mn_card_start w --profile wallet
check_fails "DS revocation status unavailable under policy require" login_phone taro
expect "says the revocation status is unavailable" "revocation status of the phone"
mn_card_stop
phone_conf "$T/w/iaca.pem"

# --- the phone is taken away during data retrieval
mn_card_start w --profile wallet --absent-after 3
check_fails "phone removed mid-session" login_phone taro
expect_not "not authenticated" 'successfully authenticated'
mn_card_stop

# --- removal
check "remove the phone enrollment" "$MYNUMBER" --config "$CONF" remove taro 1
check "nothing left" "$MYNUMBER" --config "$CONF" list
expect "no enrollments" 'No enrollments'

mn_done
