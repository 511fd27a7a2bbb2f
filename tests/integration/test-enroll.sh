#!/bin/sh
# Enrollment over a card's life: renewal (new certificate, same card) behind the account
# password, status, removal, and a corrupt store.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

SECDIR=/lib/$MULTIARCH/security
[ -d "$SECDIR" ] || SECDIR=/usr/lib/$MULTIARCH/security
if [ -z "$PAM_MATRIX" ]; then
	echo "SKIP: pam_matrix.so (libpam-wrapper) not found"
	exit 77
fi

mn_card_init old
mn_card_init new --ca-from "$T/old"
# the renewed card: the same token, a new key and certificate
serial=$(sed -n 's/^token_serial=//p' "$T/old/card.conf")
sed -i "s/^token_serial=.*/token_serial=$serial/" "$T/new/card.conf"
mn_card_start old
mn_pam_setup old
printf 'taro:secret-password:mynumber-renew\n' >"$ETC/passdb"
# the shipped service with pam_matrix standing in for pam_unix
sed -e "s|^auth .*pam_unix.so|auth required $PAM_MATRIX passdb=$ETC/passdb|" \
	-e "s|^account .*pam_unix.so|account required $SECDIR/pam_permit.so|" \
	"$MN_TOP_SRCDIR/pam_mynumber/pam.d/mynumber-renew" >"$T/pam.d/mynumber-renew"
check "CRL imported" import_crl old
check "enroll the old card" enroll taro 1234
check "enrolling it again is harmless" enroll taro 1234
expect "says it is already enrolled" 'already enrolled'

check "status of the card" wrapped "$MYNUMBER" --config "$CONF" status
expect "the reader" 'reader: +Virtual PCD 00 00'
expect "token kind and serial" "token: +My Number Card \\(Auth PIN\\), serial $serial"
expect "auth PIN tries" 'auth PIN: +3 of 3 tries left'
expect "sign password state" 'sign password: +ok'
expect "certificate valid" '^ +valid'
expect "revocation good" 'revocation: +good'
expect "enrolled for taro" 'enrolled: +taro \(id 1\)'

mn_card_stop
mn_card_start new
check_fails "login with the renewed card" login taro 1234
expect "says the certificate was renewed and how to re-enroll" 'renewed.*mynumber enroll --renew taro'
expect_not "no PIN prompt" 'My Number card PIN'
check_fails "plain enroll of the renewed card is refused" enroll taro 1234
expect "asks for --renew" 'use --renew'
check_fails "renew with a wrong account password" sh -c "printf '1234\nnot-the-password\n' | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --config '$CONF' enroll --renew taro"
check "the store still has only the old binding" "$MYNUMBER" --config "$CONF" list taro
expect "one binding, id 1" '^taro +1 card'
check "renew with the account password" sh -c "printf '1234\nsecret-password\n' | \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' PAM_WRAPPER=1 \
	PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --config '$CONF' enroll --renew taro"
expect "the old binding was replaced" 'Replaced 1 older enrollment'
check "login with the renewed card" login taro 1234
check "list after renewal" "$MYNUMBER" --config "$CONF" list
expect_not "the old binding is gone" '^taro +1 '
expect "the new binding is there" '^taro +2 card'

# authorized-keys follows the store
check "authorized-keys for taro" "$MYNUMBER" --config "$CONF" authorized-keys taro
expect "one ssh-rsa key named after the binding" '^ssh-rsa AAAA[A-Za-z0-9+/=]+ mynumber:taro:2$'
check "authorized-keys for a user without cards prints nothing" \
	sh -c "[ -z \"\$('$MYNUMBER' --config '$CONF' authorized-keys jiro)\" ]"

# removal
check "remove taro's binding" "$MYNUMBER" --config "$CONF" remove taro 2
check "list after removal" "$MYNUMBER" --config "$CONF" list
expect "no enrollments" 'No enrollments'
check_fails "login after removal" login taro 1234
expect "not enrolled any more" 'No My Number card is enrolled for taro'
check_fails "removing it again fails" "$MYNUMBER" --config "$CONF" remove taro 2

# a corrupt store: a clear error naming the line, and no login
check "enroll again" enroll taro 1234
printf 'taro\tgarbage\n' >>"$ETC/enrollments"
check_fails "list a corrupt store" "$MYNUMBER" --config "$CONF" list
expect "the error names the line" 'enrollments:3:'
check_fails "login with a corrupt store" login taro 1234
expect "the user is told to ask the administrator" 'enrollment store cannot be read'
expect "PAM_SYSTEM_ERR" 'System error'

mn_done
