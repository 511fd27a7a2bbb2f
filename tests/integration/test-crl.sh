#!/bin/sh
# The crl revocation backend end to end: "mynumber crl import" and "crl refresh" with
# generated CRLs (good, revoked, expired, wrong signer, rollback, delta), and what each does to
# a pam_mynumber login; a revoked card never reaches the PIN prompt.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

mn_card_init card
mn_card_init other
mn_card_start card
mn_pam_setup card
crl()
{
	_out=$1
	shift
	"$SIM" crl "$@" "$T/card" "$T/$_out" >/dev/null
}
import()
{
	"$MYNUMBER" --config "$CONF" crl import "$@"
}
no_cache()
{
	rm -f "$T/state/revocation-cache"
}

check "a CRL with number 10" crl base10.pem --crl-number 10
check "imported" import "$T/base10.pem"
check "enroll taro" enroll taro 1234
check "login: not on the CRL" login taro 1234

# refused CRLs leave the index as it was
check "an expired CRL" crl expired.pem --crl-number 11 --this-update-days -9 --next-update-days -2
check_fails "is refused" import "$T/expired.pem"
expect "says expired" 'expired'
check "a CRL signed by another CA" crl alien.pem --crl-number 12 --signer-dir "$T/other" --revoke self
check_fails "is refused" import "$T/alien.pem"
expect "names the signature problem" 'signature|trust anchor|issuer'
check "an older CRL number" crl old.pem --crl-number 9 --revoke self
check_fails "is refused (rollback)" import "$T/old.pem"
expect "says rollback" 'rollback'
check "login still works after the refused imports" login taro 1234

# delta CRLs
check "a delta before its base" sh -c "'$SIM' crl --crl-number 31 --delta 30 '$T/card' '$T/d31.pem' >/dev/null"
check_fails "is refused" import "$T/d31.pem"
expect "asks for the base" 'base CRL'
check "a delta on base 10 revoking the card" crl d11.pem --crl-number 11 --delta 10 --revoke self
check "is imported" import "$T/d11.pem"
before=$(verifies_sent card)
check_fails "login with the card revoked by the delta" login taro 1234
expect "revoked" 'has been revoked'
expect_not "no PIN prompt" 'My Number card PIN'
if [ "$(verifies_sent card)" = "$before" ]; then ok "no VERIFY was sent"; else not_ok "a VERIFY was sent"; fi
check "a delta releasing it (removeFromCRL)" crl d12.pem --crl-number 12 --delta 10 --remove self
check "is imported" import "$T/d12.pem"
check "login again after the release" login taro 1234
check_fails "the same delta again is refused" import "$T/d11.pem"

# refresh from an operator's directory: a delta named before its base still goes in
mkdir -p "$T/drop"
crl drop/b20.pem --crl-number 20
crl drop/a21-delta.pem --crl-number 21 --delta 20 --revoke self
sed -i "s|^dir = $T/crl|dir = $T/crl\nsource = $T/drop|" "$CONF"
check "crl refresh from a directory" "$MYNUMBER" --config "$CONF" crl refresh
expect "both imported" 'CRL imported'
check_fails "login: revoked by the refreshed delta" login taro 1234
expect "revoked after refresh" 'has been revoked'

# refresh from a URL
mkdir -p "$T/www"
crl www/auth.crl --crl-number 40
python3 -m http.server 38080 --bind 127.0.0.1 --directory "$T/www" >"$T/www.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 10 sh -c 'exec 3<>/dev/tcp/127.0.0.1/38080' 2>/dev/null || true
sed -i "s|^source = .*|source = http://127.0.0.1:38080/auth.crl|" "$CONF"
check "crl refresh from a URL" "$MYNUMBER" --config "$CONF" crl refresh
check "login: the fetched CRL no longer lists the card" login taro 1234
sed -i "s|^source = .*|source = http://127.0.0.1:38081/none.crl|" "$CONF"
check_fails "crl refresh from a URL that is down fails cleanly" "$MYNUMBER" --config "$CONF" crl refresh
check "and logins go on with the index there is" login taro 1234

# staleness: an index past its nextUpdate; require refuses, soft accepts within max_staleness
crl stale.pem --crl-number 50 --this-update-days -5 --next-update-days -2
check "a CRL imported while it was current (3 days ago)" \
	faketime -f '-3d' "$MYNUMBER" --config "$CONF" crl import "$T/stale.pem"
no_cache
check_fails "require: a stale CRL does not let anyone in" login taro 1234
expect "unavailable" 'revocation status'
MN_REV_POLICY=soft MN_REV_STALENESS=259200 mn_pam_conf
no_cache
check "soft, stale by 2 days, max_staleness 3 days: accepted" \
	sh -c "printf '1234\n' | PAM_WRAPPER_DEBUGLEVEL=3 LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' \
	PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR='$T/pam.d' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' pamtester mynumber-test taro authenticate"
expect "the acceptance is logged as a warning, with the reason" 'SYSLOG\(4\).*soft policy: accepted a GOOD answer stale since'
check "status says why" wrapped "$MYNUMBER" --config "$CONF" status
expect "accepted by the soft policy, with the reason" 'accepted by the soft policy.*stale since'
MN_REV_POLICY=soft MN_REV_STALENESS=86400 mn_pam_conf
no_cache
check_fails "soft, stale by 2 days, max_staleness 1 day: refused" login taro 1234
crl revoked-stale.pem --crl-number 51 --this-update-days -5 --next-update-days -2 --revoke self
check "a stale CRL revoking the card" \
	faketime -f '-3d' "$MYNUMBER" --config "$CONF" crl import "$T/revoked-stale.pem"
MN_REV_POLICY=soft MN_REV_STALENESS=259200 mn_pam_conf
check_fails "soft never accepts a revocation, stale or not" login taro 1234
expect "revoked" 'has been revoked'

mn_done
