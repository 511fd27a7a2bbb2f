#!/bin/sh
# The shipped PAM snippets (sudo, login, gdm-smartcard) under pam_wrapper with pamtester:
# the card when presented, the password (pam_matrix standing in for pam_unix) only when no
# card is presented or the user has none enrolled, never after a failed card attempt.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

SECDIR=/lib/$MULTIARCH/security
[ -d "$SECDIR" ] || SECDIR=/usr/lib/$MULTIARCH/security
if [ -z "$PAM_MATRIX" ]; then
	echo "SKIP: pam_matrix.so (libpam-wrapper) not found"
	exit 77
fi

mn_card_init card
mn_card_start card
mn_pam_setup card
printf 'taro:secret-password:sudo\ntaro:secret-password:login\njiro:jiro-password:sudo\n' \
	>"$ETC/passdb"
check "CRL imported" import_crl card
check "taro enrolled" enroll taro 1234

# the snippets as shipped, with absolute module paths and the @includes expanded
# (pam_wrapper resolves @include against the real /etc/pam.d)
for svc in sudo login gdm-smartcard; do
	sed -e "s|pam_mynumber.so|$PAM_SO config=$CONF|" \
		-e "s|\\([[:space:]]\\)\\(pam_[a-z_]*\\.so\\)|\\1$SECDIR/\\2|g" \
		-e "s|^@include common-auth|auth required $PAM_MATRIX passdb=$ETC/passdb|" \
		-e "s|^@include common-account|account required $SECDIR/pam_permit.so|" \
		-e "s|^@include common-session.*|session required $SECDIR/pam_permit.so|" \
		-e "s|^@include common-password|password required $SECDIR/pam_permit.so|" \
		"$MN_TOP_SRCDIR/pam_mynumber/pam.d/$svc" >"$T/pam.d/$svc"
done

# stack SERVICE USER INPUT-LINES: pamtester authenticate, input on stdin
stack()
{
	printf "$3" | wrapped pamtester -v "$1" "$2" authenticate
}

check "sudo: card and PIN" stack sudo taro '1234\n'
expect "sudo authenticated by the card" 'successfully authenticated'
expect_not "no password asked" '[Pp]assword'

check_fails "sudo: wrong PIN ends the attempt" stack sudo taro '1111\nsecret-password\n'
expect "the wrong PIN is reported" 'Wrong PIN'
expect_not "no fall-through to the password" '[Pp]assword:'

check "sudo: jiro has no card enrolled: password" stack sudo jiro 'jiro-password\n'
expect "jiro authenticated by password" 'successfully authenticated'

mn_card_stop
MN_CARD_WAIT=1 mn_pam_conf
check "sudo: no card presented: the password" stack sudo taro 'secret-password\n'
expect "password asked after the card wait" 'Password|password'
expect "sudo authenticated by password" 'successfully authenticated'
check_fails "sudo: no card and a wrong password" stack sudo taro 'wrong\n'
check "login: no card presented: the password" stack login taro 'secret-password\n'
check_fails "gdm-smartcard: no card, no password fallback" stack gdm-smartcard taro 'secret-password\n'
expect_not "gdm-smartcard never asks for a password" '[Pp]assword:'
mn_pam_conf
mn_card_start card
check "gdm-smartcard: card and PIN" stack gdm-smartcard taro '1234\n'
check "login: card and PIN" stack login taro '1234\n'

mn_done
