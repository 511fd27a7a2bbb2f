#!/bin/sh
# Managed accounts end to end: enroll --create-account, the published map, libnss_mynumber's
# answers through nss_wrapper, a login as the new account, removal, corrupt store and map.
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"

NSS_SO=$MN_TOP_BUILDDIR/nss-module/.libs/libnss_mynumber.so.2
MAP=$T/state/nss.db
if [ ! -f "$NSS_SO" ]; then
	echo "FAIL: $NSS_SO was not built"
	exit 1
fi

# everything runs with the module behind nss_wrapper's files backend
wrapped()
{
	env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam.d" NSS_WRAPPER_PASSWD="$ETC/passwd" \
		NSS_WRAPPER_GROUP="$ETC/group" NSS_WRAPPER_MODULE_SO_PATH="$NSS_SO" \
		NSS_WRAPPER_MODULE_FN_PREFIX=mynumber MYNUMBER_NSS_DB="$MAP" "$@"
}
mn()
{
	wrapped "$MYNUMBER" --config "$CONF" "$@"
}
accounts_conf()
{
	cat >>"$CONF" <<EOF2

[accounts]
uid_min = 70000
uid_max = ${1:-70009}
home = $T/home/%u
shell = /bin/sh
group = mynumber-users
group_gid = 69999
nss_map = $MAP
EOF2
}

mn_card_init kiosk
mn_card_start kiosk
mn_pam_setup kiosk
accounts_conf
check "CRL imported" import_crl kiosk

check_fails "enroll an unknown user without --create-account" enroll kiosk1 1234
expect "says how to make a managed account" 'no such user \(--create-account'
if locale -a 2>/dev/null | grep -qi '^ja_JP.utf8$'; then
	check_fails "the same in Japanese" env LANG=ja_JP.UTF-8 LC_ALL=ja_JP.UTF-8 \
		"$MYNUMBER" --config "$CONF" enroll kiosk1
	expect "in Japanese" 'そのユーザーはいません（--create-account で管理アカウントを作成できます）'
fi
check_fails "no map yet" test -e "$MAP"
check "enroll --create-account" enroll kiosk1 1234 --create-account
expect "the account was created with the first free uid" \
	'Created the managed account kiosk1 \(uid 70000\)'
check "the map is world-readable" sh -c "[ \"\$(stat -c %a '$MAP')\" = 644 ]"
check "accounts list" mn accounts list
expect "kiosk1 with uid, home and shell" "^kiosk1	70000	$T/home/kiosk1	/bin/sh	[0-9]{14}Z$"
check "accounts check" mn accounts check
expect "one account, its group and the shared group" '1 accounts, 2 groups'

check "getent passwd by name" wrapped getent passwd kiosk1
expect "the passwd line" "^kiosk1:x:70000:70000::$T/home/kiosk1:/bin/sh$"
check "getent passwd by uid" wrapped getent passwd 70000
expect "the same line" "^kiosk1:x:70000:70000:"
check "getent group by name" wrapped getent group kiosk1
expect "the private group" '^kiosk1:x:70000:$'
check "getent group of all managed accounts" wrapped getent group mynumber-users
expect "with kiosk1 as a member" '^mynumber-users:x:69999:kiosk1$'
check "id" wrapped id kiosk1
expect "uid, gid and the shared group" 'uid=70000\(kiosk1\) gid=70000\(kiosk1\) groups=70000\(kiosk1\),69999\(mynumber-users\)'
check "local users still come from files" wrapped getent passwd taro
expect "taro" '^taro:x:1000:'

check "login as the managed account" login kiosk1 1234
expect "authenticated" 'successfully authenticated'
check "authorized-keys for the managed account" mn authorized-keys kiosk1
expect "its key" '^ssh-rsa AAAA[A-Za-z0-9+/=]+ mynumber:kiosk1:1$'

check "enroll --create-account again only says it is enrolled" \
	enroll kiosk1 1234 --create-account
expect "already enrolled" 'already enrolled'
mn accounts list >"$T/list" 2>&1
check "still one account" test "$(grep -c '^kiosk1' "$T/list")" -eq 1
check_fails "--create-account for a local user" enroll taro 1234 --create-account
expect "says it already exists" 'taro: already an account on this system'
check_fails "--create-account with --ldif is a usage error" enroll x 1234 --create-account --ldif
check_fails "--ldif without a directory" enroll taro 1234 --ldif
expect "explains" '--ldif is for store_backend = ldap'

# the uid range is full
mn_pam_conf
accounts_conf 70000
check_fails "no free uid" enroll kiosk2 1234 --create-account
expect "says so" 'no free uid left'
check_fails "kiosk2 was not created" wrapped getent passwd kiosk2
check "kiosk1 untouched" wrapped getent passwd kiosk1
mn_pam_conf
accounts_conf

# a corrupt store: a clear error, the published map stays as it was
cp "$ETC/enrollments" "$T/enrollments.good"
printf 'kiosk9\t9\taccount\t70009\tyesterday\t-\n' >>"$ETC/enrollments"
check_fails "publish from a corrupt store" mn accounts publish
expect "names the line" "enrollments:4: bad creation time"
check "the map still answers" wrapped getent passwd kiosk1
cp "$T/enrollments.good" "$ETC/enrollments"

# a corrupt map: lookups find nothing (no crash), check says why, publish repairs it
cp "$MAP" "$T/map.good"
printf 'garbage' | dd of="$MAP" bs=1 seek=100 conv=notrunc 2>/dev/null
check_fails "accounts check finds a flipped byte" mn accounts check
expect "says how to repair" "run 'mynumber accounts publish'"
truncate -s 60 "$MAP"
check_exit 2 "getent on a truncated map: not found (exit 2), no crash" \
	wrapped getent passwd kiosk1
check_fails "accounts check on a truncated map" mn accounts check
check "publish" mn accounts publish
expect "one account published" 'Published 1 managed account'
check "the map answers again" wrapped getent passwd kiosk1

# removal takes the account out of the map
check "remove kiosk1" mn remove kiosk1
expect "binding and account" 'Removed 2 enrollment'
check_fails "kiosk1 is gone from NSS" wrapped getent passwd kiosk1
check "accounts check after removal" mn accounts check
expect "no accounts, the shared group" '0 accounts, 1 groups'
check_fails "login after removal" login kiosk1 1234

mn_done
