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
expect "enrollment reports a hash prefix" 'Enrolled taro \(id 1\): My Number Card \(phone\), hash [0-9a-f]{8}'
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
expect "the refusal is explained" 'The phone did not confirm your identity \(Face ID / Touch ID'
expect "PAM_AUTH_ERR" 'Authentication failure'
if locale -a 2>/dev/null | grep -qi '^ja_JP.utf8$'; then
	check_fails "biometric refused (Japanese)" sh -c "printf '\\n' | $(command -v env) \
		LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 LANG=ja_JP.UTF-8 \
		PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
		NSS_WRAPPER_GROUP='$ETC/group' pamtester -v mynumber-test taro authenticate"
	expect "the refusal in Japanese" 'スマートフォンで本人確認が行われませんでした'
else
	echo "# ja_JP.UTF-8 locale not installed: Japanese messages not checked"
fi
mn_card_stop

# --- the enrolled wallet answers with another document type (same issuer, same elements):
# only org.iso.23220.1.jp.mnc stands for the My Number Card
mn_card_start w --profile wallet --doctype org.iso.23220.1.jp.other
check_fails "another docType is refused" login_phone taro
expect_not "another docType: not authenticated" 'successfully authenticated'
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

# --- deviceMac (EMacKey from the device key and EReaderKey) instead of deviceSignature
mn_card_start w --profile wallet --device-auth mac
check_fails "deviceMac refused by default" login_phone taro
expect "says deviceMac is not accepted" 'authenticated with a MAC \(deviceMac\).*mdoc_allow_device_mac = no'
expect "PAM_AUTH_ERR" 'Authentication failure'
expect_not "not authenticated" 'successfully authenticated'
phone_conf "$T/w/iaca.pem" "mdoc_allow_device_mac = yes"
check "deviceMac accepted with mdoc_allow_device_mac = yes" login_phone taro
expect "authenticated with deviceMac" 'successfully authenticated'
mn_card_stop
mn_card_start w --profile wallet --device-auth mac --replay "$T/resp1.cbor"
check_fails "allowing deviceMac does not let a replayed DeviceResponse in" login_phone taro
expect "the replay fails device authentication" 'check: device-auth'
mn_card_stop
phone_conf "$T/w/iaca.pem"

# --- a CRL of the wallet's IACA (openssl ca) revoking its document signer
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 01 >"$T/ca/crlnumber"
printf '%s\n' '[ca]' 'default_ca = iaca' '[iaca]' "database = $T/ca/index.txt" \
	"crlnumber = $T/ca/crlnumber" "certificate = $T/w/iaca.pem" \
	"private_key = $T/w/iaca-key.pem" 'default_md = sha256' 'default_crl_days = 7' \
	'crl_extensions = crl_ext' '[crl_ext]' 'authorityKeyIdentifier = keyid:always' \
	>"$T/ca/ca.cnf"
check "openssl ca revokes the DS" openssl ca -config "$T/ca/ca.cnf" -revoke "$T/w/ds.pem" \
	-crl_reason keyCompromise
check "openssl ca -gencrl" openssl ca -config "$T/ca/ca.cnf" -gencrl -out "$T/ds-revoked.crl"
DS_SERIAL=$(openssl x509 -in "$T/w/ds.pem" -noout -serial | sed 's/^serial=//')
check "the CRL lists the DS serial" sh -c "openssl crl -in '$T/ds-revoked.crl' -noout -text |
	tr -d ' :' | grep -qix 'SerialNumber$DS_SERIAL'"
MN_REV_BACKENDS=crl phone_conf "$T/w/iaca.pem"
check "mynumber crl import accepts the IACA's CRL" "$MYNUMBER" --config "$CONF" crl import \
	"$T/ds-revoked.crl"
expect "imported" 'CRL imported'
rm -f "$T/state/revocation-cache"
mn_card_start w --profile wallet
check_fails "login with a revoked document signer" login_phone taro
expect "says revoked" 'document signer certificate of this phone has been revoked'
expect "PAM_AUTH_ERR" 'Authentication failure'
expect_not "not authenticated" 'successfully authenticated'
check_fails "enrollment with a revoked document signer" wrapped "$MYNUMBER" --config "$CONF" \
	enroll --phone jiro
expect "enrollment says revoked" 'has been revoked'
check "list after the refused enrollment" "$MYNUMBER" --config "$CONF" list
expect_not "no record for jiro" '^jiro '
mn_card_stop
phone_conf "$T/w/iaca.pem"

# --- taro with a card as well as the phone: each logs in, the card also after a phone probe
mn_card_start card
check "enroll taro's card" enroll taro 1234
check "taro has the card and the phone" "$MYNUMBER" --config "$CONF" list
expect "phone listed" '^taro +1 phone '
expect "card listed" '^taro +2 '
check "login with the card" login taro 1234
expect "PIN prompt" 'My Number card PIN'
expect "card: authenticated" 'successfully authenticated'
mn_card_stop
mn_card_start w --profile wallet
check "login with the phone (card enrolled too)" login_phone taro
expect "phone: authenticated" 'successfully authenticated'
expect_not "no PIN prompt for the phone" 'My Number card PIN'
mn_card_stop
mn_card_start card
check "login with the card again after the phone" login taro 1234
expect "card again: authenticated" 'successfully authenticated'
check "the phone probe and the card path ask to hold the token once" \
	test "$(grep -c 'Hold your My Number card or phone' "$T/out")" -eq 1
check "a second card login in the same card session" login taro 1234
expect "card: authenticated twice" 'successfully authenticated'
: >"$T/card.apdu"
check "a third card login" login taro 1234
expect "card: authenticated three times" 'successfully authenticated'
# the warm path's 6 APDUs plus the phone probe's one SELECT (the probe releases the card without
# a reset; vpcd does not count a reset as a new insertion, so this checks the APDUs only)
if [ "$(apdu_count card)" -eq 7 ]; then
	ok "a card login after the phone probe is still warm (7 APDUs)"
else
	not_ok "a card login after the phone probe took $(apdu_count card) APDUs, not 7"
	sed 's/^/#   /' "$T/card.apdu"
fi
check "remove taro's card" "$MYNUMBER" --config "$CONF" remove taro 2
mn_card_stop

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
