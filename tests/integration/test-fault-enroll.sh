#!/bin/sh
# The disk full or read-only under the files the login stack writes: the enrollment store
# (mynumber enroll, remove), the NSS map (mynumber accounts publish, enroll --create-account),
# and during a login the warm-login record and the revocation answer cache. Every case: a clear
# message, the old file byte-identical, no temporary file left behind, no corruption.
# Summary lines: "# outcome: CASE | expected | observed".
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"
. "$(dirname "$0")/fault-harness.sh"

NSS_SO=$MN_TOP_BUILDDIR/nss-module/.libs/libnss_mynumber.so.2
MOUNTS=""
# unmount what this test mounted (in its private mount namespace) before the harness cleans up
fault_cleanup()
{
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null
	done
	mn_cleanup
}
trap fault_cleanup EXIT

# tiny_fs DIR SIZE: DIR (its files kept) on a tmpfs of SIZE
tiny_fs()
{
	cp -a "$1" "$1.copy"
	mount -t tmpfs -o "size=$2,mode=0700" tmpfs "$1" || return 1
	MOUNTS="$1 $MOUNTS"
	cp -a "$1.copy/." "$1/"
	rm -rf "$1.copy"
}
# fill DIR: no space left on DIR's file system
fill()
{
	dd if=/dev/zero of="$1/zz-filler" bs=1k count=100000 >/dev/null 2>&1
	sync
	[ "$(df -k --output=avail "$1" | tail -n 1 | tr -d ' ')" -eq 0 ]
}
# read_only DIR: DIR becomes a read-only bind mount of itself
read_only()
{
	mount --bind "$1" "$1" && MOUNTS="$1 $MOUNTS" && mount -o remount,bind,ro "$1"
}
writable()
{
	umount "$1"
	MOUNTS=$(echo "$MOUNTS" | sed "s|$1 ||")
}
# tmp_left DIR: temporary files of an atomic write left in DIR (NAME.XXXXXX)
tmp_left()
{
	ls -A "$1" | grep -E '\.[A-Za-z0-9]{6}$'
}

mn_card_init card
mn_card_start card
mn_pam_setup card
cat >>"$CONF" <<EOF2

[accounts]
uid_min = 70000
uid_max = 70009
home = $T/home/%u
shell = /bin/sh
group = mynumber-users
group_gid = 69999
nss_map = $T/map/nss.db
EOF2
mkdir -p "$T/map"
mn()
{
	env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" NSS_WRAPPER_PASSWD="$ETC/passwd" \
		NSS_WRAPPER_GROUP="$ETC/group" NSS_WRAPPER_MODULE_SO_PATH="$NSS_SO" \
		NSS_WRAPPER_MODULE_FN_PREFIX=mynumber MYNUMBER_NSS_DB="$T/map/nss.db" \
		"$MYNUMBER" --config "$CONF" "$@"
}
check "an empty CRL is imported" import_crl card
check "enroll taro" enroll taro 1234
check "a managed account (store and map)" sh -c "printf '1234\n' | $(command -v env) \
	LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' NSS_WRAPPER_PASSWD='$ETC/passwd' \
	NSS_WRAPPER_GROUP='$ETC/group' '$MYNUMBER' --config '$CONF' enroll --create-account kiosk1"
check "the map exists" test -s "$T/map/nss.db"
STORE=$ETC/enrollments
cp "$STORE" "$T/store.ref"
cp "$T/map/nss.db" "$T/map.ref"

# same_files DESC [store-changes]: the store (unless "store-changes") and the map
# byte-identical to the references, no temp file; the summary in $SAME
same_files()
{
	_o=""
	if [ "${2:-}" = store-changes ]; then
		cp "$STORE" "$T/store.now"
	else
		cp "$T/store.ref" "$T/store.now"
	fi
	if [ "${2:-}" = store-changes ]; then _o="store changed (expected)"; elif cmp -s "$STORE" "$T/store.ref"; then _o="store same"; else
		not_ok "$1: the store changed"
		_o="store CHANGED"
	fi
	if cmp -s "$T/map/nss.db" "$T/map.ref"; then _o="$_o, map same"; else
		not_ok "$1: the map changed"
		_o="$_o, map CHANGED"
	fi
	if [ -n "$(tmp_left "$ETC")$(tmp_left "$T/map")$(tmp_left "$T/state")" ]; then
		not_ok "$1: temporary files left: $(tmp_left "$ETC") $(tmp_left "$T/map") $(tmp_left "$T/state")"
		_o="$_o, TEMP FILES LEFT"
	else
		_o="$_o, no temp files"
	fi
	case "$_o" in *CHANGED* | *LEFT*) ;; *) ok "$1: $_o" ;; esac
	SAME=$_o
}

# cmd_fails CASE REGEX COMMAND...: the command fails cleanly, says REGEX, nothing changed
# (with STORE_CHANGES=yes: the store may change, the map not)
STORE_CHANGES=no
cmd_fails()
{
	_c=$1
	_re=$2
	shift 2
	"$@" >"$T/out" 2>&1
	_rc=$?
	if [ "$_rc" -ge 1 ] && [ "$_rc" -le 2 ]; then ok "$_c: exit $_rc"; else not_ok "$_c: exit $_rc"; fi
	if grep -Eq -- "$_re" "$T/out"; then
		ok "$_c: says why"
		_m=$(grep -Eo -- "$_re" "$T/out" | head -n 1)
	else
		not_ok "$_c: no /$_re/"
		sed 's/^/#   /' "$T/out" | tail -n 5
		_m="?"
	fi
	grep 'mynumber:' "$T/out" | head -n 2 | sed 's/^/#   said: /'
	if [ "$STORE_CHANGES" = yes ]; then
		same_files "$_c" store-changes
		outcome "6 $_c" "exit 1, 'enrollment saved, map not', map unchanged, no temp file" "exit $_rc, '$_m', $SAME"
	else
		same_files "$_c"
		outcome "6 $_c" "exit 1, clear message, files unchanged, no temp file" "exit $_rc, '$_m', $SAME"
	fi
}

V0=$(verifies_sent card)
# --- the store's directory full
tiny_fs "$ETC" 256k
check "the store's directory is full" fill "$ETC"
cmd_fails "enroll jiro, store directory full" 'No space left on device|cannot record|cannot save|cannot write' \
	enroll jiro 1234
cmd_fails "remove taro, store directory full" 'No space left on device|cannot write|cannot save' \
	"$MYNUMBER" --config "$CONF" remove taro
rm -f "$ETC/zz-filler"
check "with space again, enroll jiro" enroll jiro 1234
check "jiro is listed" "$MYNUMBER" --config "$CONF" list jiro
check "and remove jiro again" "$MYNUMBER" --config "$CONF" remove jiro
check "the store is as before" cmp "$STORE" "$T/store.ref"

# --- the store's directory read-only
read_only "$ETC"
cmd_fails "enroll jiro, store directory read-only" 'Read-only file system|cannot record|cannot save|cannot write' \
	enroll jiro 1234
cmd_fails "remove taro, store directory read-only" 'Read-only file system|cannot write|cannot save' \
	"$MYNUMBER" --config "$CONF" remove taro
# a login only reads the store: it still works
blogin taro 1234
if [ "$LCODE" = PAM_SUCCESS ]; then ok "login with a read-only store directory"; else not_ok "login with a read-only store: $LCODE"; fi
outcome "6 login, store directory read-only" "PAM_SUCCESS (the store is only read)" "$LCODE"
writable "$ETC"

# --- the map's directory full, read-only
tiny_fs "$T/map" 64k
check "the map's directory is full" fill "$T/map"
cmd_fails "accounts publish, map directory full" 'No space left on device|cannot write|cannot publish' \
	mn accounts publish
rm -f "$T/map/zz-filler"
read_only "$T/map"
cmd_fails "accounts publish, map directory read-only" 'Read-only file system|cannot write|cannot publish' \
	mn accounts publish
# documented (tools/cli/cmd_enroll.c): the enrollment is kept, the map is not, and it says so
STORE_CHANGES=yes
cmd_fails "enroll --create-account kiosk2, map directory read-only" \
	'the enrollment is saved, but the account map is not' \
	sh -c "printf '1234\n' | $(command -v env) LD_PRELOAD='libpam_wrapper.so libnss_wrapper.so' \
	NSS_WRAPPER_PASSWD='$ETC/passwd' NSS_WRAPPER_GROUP='$ETC/group' \
	'$MYNUMBER' --config '$CONF' enroll --create-account kiosk2"
STORE_CHANGES=no
expect "and names the cause" 'Read-only file system'
check "the store holds kiosk2 and still loads" "$MYNUMBER" --config "$CONF" list kiosk2
writable "$T/map"
check "accounts publish catches up" mn accounts publish
check "remove kiosk2" mn remove kiosk2
cp "$STORE" "$T/store.ref"
cp "$T/map/nss.db" "$T/map.ref"
check "accounts check: the map is valid" mn accounts check

# --- during a login: the state directory (warm record, revocation cache) full or read-only
check "a login writes the warm record and the cache" login taro 1234
cp "$T/state/warm" "$T/warm.ref" 2>/dev/null
cp "$T/state/revocation-cache" "$T/cache.ref" 2>/dev/null
mn_card_stop
mn_card_start card # a new insertion: the next login is cold and records it again
tiny_fs "$T/state" 64k
check "the state directory is full" fill "$T/state"
blogin taro 1234
no_crash "login, state directory full"
if [ "$LCODE" = PAM_SUCCESS ]; then ok "login, state directory full: authenticated"; else
	not_ok "login, state directory full: $LCODE"
	sed 's/^/#   /' "$T/out" | tail -n 5
fi
_o=$LCODE
cmp -s "$T/state/warm" "$T/warm.ref" && cmp -s "$T/state/revocation-cache" "$T/cache.ref" &&
	_o="$_o, warm+cache unchanged" || _o="$_o, warm/cache CHANGED"
[ -z "$(tmp_left "$T/state")" ] && _o="$_o, no temp files" || { not_ok "temp files in the state directory"; _o="$_o, TEMP FILES LEFT"; }
check "the cache still parses (a second login)" login taro 1234
outcome "6 login, state_dir full (warm record, revocation cache)" "PAM_SUCCESS, old files intact, no temp file" "$_o"
rm -f "$T/state/zz-filler"
read_only "$T/state"
mn_card_stop
mn_card_start card
blogin taro 1234
no_crash "login, state directory read-only"
if [ "$LCODE" = PAM_SUCCESS ]; then ok "login, state directory read-only: authenticated"; else
	not_ok "login, state directory read-only: $LCODE"
	sed 's/^/#   /' "$T/out" | tail -n 5
fi
outcome "6 login, state_dir read-only" "PAM_SUCCESS, old files intact" "$LCODE, $(cmp -s "$T/state/warm" "$T/warm.ref" && echo 'warm unchanged' || echo 'warm CHANGED')"
writable "$T/state"
check "no PIN try was spent by any of it" tries_raw
expect "63C3" '^63C3$'
check "the store is byte-identical at the end" cmp "$STORE" "$T/store.ref"
check "the store loads" "$MYNUMBER" --config "$CONF" list
mn_card_stop

mn_done
