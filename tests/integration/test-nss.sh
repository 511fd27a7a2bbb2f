#!/bin/sh
# libnss_mynumber.so.2 through nss_wrapper (getent, id) and driven directly (tests/nss/nss-drive:
# small buffers, initgroups_dyn, 8 threads while the map is republished). Maps are made by
# tests/nss/nssmap-tool from TSV. No root, no card, no pcscd: this test does not need
# harness.sh's namespace; it uses only the check/expect helpers of checks.sh.
set -u

TOP_SRC=${MN_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILD=${MN_TOP_BUILDDIR:-$TOP_SRC}
SO=$TOP_BUILD/nss-module/.libs/libnss_mynumber.so.2
TOOL=$TOP_BUILD/tests/nss/nssmap-tool
DRIVE=$TOP_BUILD/tests/nss/nss-drive
NWRAP=""
for d in /usr/lib/$(gcc -print-multiarch 2>/dev/null) /usr/lib64 /usr/lib /usr/local/lib; do
	[ -z "$NWRAP" ] && [ -f "$d/libnss_wrapper.so" ] && NWRAP=$d/libnss_wrapper.so
done
if [ -z "$NWRAP" ]; then
	echo "SKIP: libnss_wrapper.so not found (apt-get install libnss-wrapper)"
	exit 77
fi
for f in "$SO" "$TOOL" "$DRIVE"; do
	[ -e "$f" ] || { echo "Bail out! $f not built"; exit 99; }
done

T=$(mktemp -d /tmp/mn-nss.XXXXXX)
chmod 755 "$T"
trap 'if [ "$FAIL" -gt 0 ] || [ -n "${MN_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi' EXIT

. "$(dirname "$0")/checks.sh"

# nw COMMAND...: run under nss_wrapper with our module and files that lack the managed users
nw()
{
	LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group \
		NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber "$@"
}

drive() { "$DRIVE" "$SO" "$@"; }

printf 'root:x:0:0:root:/root:/bin/sh\nlocal1:x:1000:1000:Local:/home/local1:/bin/sh\n' >"$T/passwd"
printf 'root:x:0:\nlocal1:x:1000:\n' >"$T/group"

# --- the map: three people, a kiosk group, and "big" with 300 members
{
	printf 'u\ttaro\t5001\t5001\tYamada Taro,Room 1\t/home/taro\t/bin/bash\n'
	printf 'u\thanako\t5002\t5001\t\t/home/hanako\t/bin/sh\n'
	printf 'u\tjiro.s-2\t70000\t6000\tJiro\t/srv/jiro\t/usr/sbin/nologin\n'
	i=0
	mem=""
	while [ $i -lt 300 ]; do
		printf 'u\tmember%03d\t%d\t7000\tMember %d\t/home/member%03d\t/bin/sh\n' $i $((8000 + i)) $i $i
		mem="$mem${mem:+,}member$(printf %03d $i)"
		i=$((i + 1))
	done
	printf 'g\tkiosk\t5001\ttaro,hanako\n'
	printf 'g\tstaff\t6000\ttaro,jiro.s-2\n'
	printf 'g\tprinters\t6001\ttaro\n'
	printf 'g\tempty\t6002\t\n'
	printf 'g\tbig\t7000\t%s\n' "$mem"
} >"$T/map.tsv"
check "publish the map from TSV" "$TOOL" write "$T/nss.db" <"$T/map.tsv"
check "the published map checks" "$TOOL" check "$T/nss.db"
expect "checker counts users and groups" '^ok users=303 groups=5 expires=0$'
check "map is mode 0644" sh -c "[ \"\$(stat -c %a '$T/nss.db')\" = 644 ]"
MYNUMBER_NSS_DB=$T/nss.db
export MYNUMBER_NSS_DB

# --- getent / id through nss_wrapper
check "getent passwd taro" nw getent passwd taro
expect "passwd line of taro" '^taro:x:5001:5001:Yamada Taro,Room 1:/home/taro:/bin/bash$'
check "getent passwd 5002" nw getent passwd 5002
expect "passwd line of uid 5002 (empty gecos)" '^hanako:x:5002:5001::/home/hanako:/bin/sh$'
check "getent passwd jiro.s-2" nw getent passwd jiro.s-2
expect "name with . and -" '^jiro.s-2:x:70000:6000:Jiro:/srv/jiro:/usr/sbin/nologin$'
check "getent group kiosk" nw getent group kiosk
expect "group line of kiosk" '^kiosk:x:5001:taro,hanako$'
check "getent group 6000" nw getent group 6000
expect "group line of gid 6000" '^staff:x:6000:taro,jiro.s-2$'
check "getent group empty" nw getent group empty
expect "group without members" '^empty:x:6002:$'
check "getent group big" nw getent group big
expect "group with 300 members" '^big:x:7000:member000,.*,member299$'
check "id taro" nw id taro
expect "id: uid, primary and supplementary groups" \
	'^uid=5001\(taro\) gid=5001\(kiosk\) groups=5001\(kiosk\),6000\(staff\),6001\(printers\)$'
check "id member042" nw id member042
expect "id: member of big" 'groups=7000\(big\)$'
check "getent passwd (enumeration)" nw getent passwd
expect "enumeration has the files users" '^local1:x:1000:'
expect "enumeration has the managed users" '^taro:x:5001:'
expect "enumeration has all of them" '^member299:x:8299:'
cp "$T/out" "$T/enum.txt"
check "enumeration has 2 + 303 entries" sh -c "[ \$(grep -c . '$T/enum.txt') -eq 305 ]"
check "getent group (enumeration)" nw getent group
expect "group enumeration has kiosk" '^kiosk:x:5001:taro,hanako$'
check "files users still answer" nw getent passwd local1
check_exit 2 "unknown user: getent exits 2" nw getent passwd nosuchuser
check_exit 2 "unknown uid: exit 2" nw getent passwd 5003
check_exit 2 "invalid name: exit 2" nw getent passwd 'ta:ro'
check_exit 2 "unknown group: exit 2" nw getent group nosuchgroup

# --- direct calls: statuses, errno, uid 0, small buffers, initgroups
check "status of a hit" drive status taro
expect "SUCCESS" '^SUCCESS errno=0$'
check "status of a miss" drive status nosuchuser
expect "NOTFOUND/ENOENT" '^NOTFOUND errno=ENOENT$'
check "uid 0 is never served" drive status '#0'
expect "uid 0: NOTFOUND/ENOENT" '^NOTFOUND errno=ENOENT$'
check "invalid name: NOTFOUND" drive status '../etc'
expect "invalid name: NOTFOUND/ENOENT" '^NOTFOUND errno=ENOENT$'
check "small buffers: TRYAGAIN/ERANGE then the same entry" drive smallbuf taro big
expect "getpwnam_r grew from 1 byte" '^getpwnam_r taro: fits in [0-9]+ bytes$'
expect "getgrnam_r of 300 members grew" '^getgrnam_r big: fits in [0-9]{4,} bytes$'
expect "getpwent_r retried without skipping" '^getpwent_r: 303 entries'
expect "getgrent_r retried without skipping" '^getgrent_r: 5 entries'
check "initgroups_dyn" drive initgroups taro 5001 0
expect "initgroups: primary first, not repeated" '^SUCCESS 5001 6000 6001$'
check "initgroups_dyn with limit 2" drive initgroups taro 5001 2
expect "initgroups: stops at the limit" '^SUCCESS 5001 6000$'
check "initgroups_dyn of an unknown user" drive initgroups nosuch 100 0
expect "initgroups: NOTFOUND" '^NOTFOUND 100$'

# --- refused, corrupt, expired, missing maps: UNAVAIL, getent exits 2, no crash
cp "$T/nss.db" "$T/corrupt.db"
printf 'X' | dd of="$T/corrupt.db" bs=1 seek=0 conv=notrunc 2>/dev/null
check_exit 2 "corrupt header: getent exits 2" env MYNUMBER_NSS_DB="$T/corrupt.db" \
	sh -c "LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber getent passwd taro"
check "corrupt header: UNAVAIL" env MYNUMBER_NSS_DB="$T/corrupt.db" "$DRIVE" "$SO" status taro
expect "corrupt: UNAVAIL/ENOENT" '^UNAVAIL errno=ENOENT$'
check_exit 1 "corrupt header: the checker refuses" "$TOOL" check "$T/corrupt.db"
expect "checker says why (magic)" 'corrupt.db: not a mynumber NSS map \(bad magic\)'
cp "$T/nss.db" "$T/flip.db"
printf '\001' | dd of="$T/flip.db" bs=1 seek=$(($(stat -c %s "$T/nss.db") - 200)) conv=notrunc 2>/dev/null
check_exit 1 "a flipped data byte: the checker refuses" "$TOOL" check "$T/flip.db"
expect "checker says why (checksum)" 'checksum mismatch'
head -c 1000 "$T/nss.db" >"$T/short.db"
check_exit 2 "truncated map: getent exits 2" env MYNUMBER_NSS_DB="$T/short.db" \
	sh -c "LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber getent group kiosk"
check_exit 1 "truncated map: the checker refuses" "$TOOL" check "$T/short.db"
expect "checker says why (truncated)" 'truncated'

check "publish an expired map" "$TOOL" write "$T/expired.db" $(($(date +%s) - 60)) <"$T/map.tsv"
check "an expired map checks (expiry is reported)" "$TOOL" check "$T/expired.db"
expect "checker shows the expiry" 'expires=[1-9][0-9]+$'
check "expired: UNAVAIL" env MYNUMBER_NSS_DB="$T/expired.db" "$DRIVE" "$SO" status taro
expect "expired: UNAVAIL/ENOENT" '^UNAVAIL errno=ENOENT$'
check_exit 2 "expired: getent exits 2" env MYNUMBER_NSS_DB="$T/expired.db" \
	sh -c "LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber getent passwd taro"
check "publish a map expiring in an hour" "$TOOL" write "$T/later.db" $(($(date +%s) + 3600)) <"$T/map.tsv"
check "not yet expired: served" env MYNUMBER_NSS_DB="$T/later.db" "$DRIVE" "$SO" status taro
expect "not yet expired: SUCCESS" '^SUCCESS'

ln -s "$T/nss.db" "$T/link.db"
check "symlinked map: UNAVAIL" env MYNUMBER_NSS_DB="$T/link.db" "$DRIVE" "$SO" status taro
expect "symlink refused" '^UNAVAIL errno=ENOENT$'
check_exit 1 "symlinked map: the checker refuses" "$TOOL" check "$T/link.db"
expect "checker says why (symlink)" 'symbolic link'
cp "$T/nss.db" "$T/ww.db"
chmod 666 "$T/ww.db"
check "world-writable map: UNAVAIL" env MYNUMBER_NSS_DB="$T/ww.db" "$DRIVE" "$SO" status taro
expect "world-writable refused" '^UNAVAIL errno=ENOENT$'
check_exit 1 "world-writable map: the checker refuses" "$TOOL" check "$T/ww.db"
expect "checker says why (writable)" 'writable by group or others'
chmod 664 "$T/ww.db"
check "group-writable map: UNAVAIL" env MYNUMBER_NSS_DB="$T/ww.db" "$DRIVE" "$SO" status taro
expect "group-writable refused" '^UNAVAIL'
check "missing map: UNAVAIL" env MYNUMBER_NSS_DB="$T/none.db" "$DRIVE" "$SO" status taro
expect "missing: UNAVAIL/ENOENT" '^UNAVAIL errno=ENOENT$'
check_exit 2 "missing map: getent exits 2" env MYNUMBER_NSS_DB="$T/none.db" \
	sh -c "LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber getent passwd taro"
check "files users unaffected by a missing map" env MYNUMBER_NSS_DB="$T/none.db" \
	sh -c "LD_PRELOAD=$NWRAP NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group NSS_WRAPPER_MODULE_SO_PATH=$SO NSS_WRAPPER_MODULE_FN_PREFIX=mynumber getent passwd local1"

# --- 8 threads x 10000 lookups while the map is replaced every 2 ms
check "generate a 20000-user map" "$TOOL" gen 20000 "$T/gen.db"
check "8 threads x 10000 lookups, all correct, during republishing" \
	env MYNUMBER_NSS_DB="$T/gen.db" "$DRIVE" "$SO" threads "$T/gen.db" 20000
expect "thread totals" '^80000 lookups in 8 threads, 0 wrong, map republished [1-9][0-9]* times$'

mn_done
