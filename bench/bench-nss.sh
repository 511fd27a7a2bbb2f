#!/bin/sh
# Benchmark (not a test): getpwnam_r latency with USERS managed accounts in our map versus
# glibc's files backend on an /etc/passwd of the same USERS users. Both go through the same
# glibc NSS dispatch: in a private mount namespace /etc/passwd (USERS lines plus root) and
# /etc/nsswitch.conf are bind-mounted, once with "passwd: files" and once with
# "passwd: mynumber" (glibc dlopens libnss_mynumber.so.2 from the build tree through
# LD_LIBRARY_PATH). bench/nss-bench does LOOKUPS random getpwnam_r calls (one in ten a miss)
# after one warm-up call, timing each with CLOCK_MONOTONIC; median and p99 per backend, and
# the ratio files / mynumber (above 1: the module is faster).
#   sudo bench/bench-nss.sh [USERS] [LOOKUPS]      (after ./configure && make)
USERS=${1:-100000}
LOOKUPS=${2:-20000}
SEED=42
B=${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (a private mount namespace over /etc/passwd)" >&2
	exit 1
fi
if [ "${MN_IN_NS:-}" != 1 ]; then
	(cd "$B" && make -s bench/nss-bench tools/mynumber nss-module/libnss_mynumber.la) ||
		echo "bench: make failed; using what is built" >&2
	for f in bench/nss-bench tools/mynumber nss-module/.libs/libnss_mynumber.so.2; do
		[ -x "$B/$f" ] || [ -f "$B/$f" ] || { echo "bench: $f missing" >&2; exit 1; }
	done
	MN_IN_NS=1 exec unshare --mount --propagation private /bin/sh "$0" "$@"
fi

W=$(mktemp -d /tmp/mn-bench-nss.XXXXXX)
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
echo "bench: generating $USERS managed accounts in a store, and the same users as passwd" >&2
# the real path: an enrollment store with USERS account records, published by
# "mynumber accounts publish" into the map the module reads
mkdir -m 700 "$W/etc"
awk -v n="$USERS" 'BEGIN {
	print "# mynumber enrollment store v3"
	for (i = 0; i < n; i++)
		printf "mn%06d\t%d\taccount\t%d\t20261123000000Z\tManaged User %d\n", i, i + 1, 200000 + i, i
}' >"$W/etc/enrollments"
awk -v n="$USERS" 'BEGIN {
	print "root:x:0:0:root:/root:/bin/sh"
	for (i = 0; i < n; i++)
		printf "mn%06d:x:%d:%d:Managed User %d:/home/mn%06d:/bin/bash\n", i, 200000 + i, 200000 + i, i, i
}' >"$W/passwd"
chmod 600 "$W/etc/enrollments"
cat >"$W/etc/mynumber.conf" <<EOF
store = $W/etc/enrollments
[accounts]
uid_min = 200000
uid_max = $((200000 + USERS - 1))
home = /home/%u
shell = /bin/bash
nss_map = $W/nss.db
EOF
chmod 600 "$W/etc/mynumber.conf"
t0=$(date +%s.%N)
"$B/tools/mynumber" --config "$W/etc/mynumber.conf" accounts publish >&2 || exit 1
t1=$(date +%s.%N)
PUBLISH=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
grep -v '^passwd:' /etc/nsswitch.conf >"$W/nsswitch.base"
mount --bind "$W/passwd" /etc/passwd || exit 1
# nscd would answer instead of the backends
[ -d /var/run/nscd ] && mount -t tmpfs tmpfs /var/run/nscd

run()
{
	{ echo "passwd: $1"; cat "$W/nsswitch.base"; } >"$W/nsswitch.$1"
	mount --bind "$W/nsswitch.$1" /etc/nsswitch.conf || exit 1
	LD_LIBRARY_PATH=$B/nss-module/.libs MYNUMBER_NSS_DB=$W/nss.db \
		"$B/bench/nss-bench" "$USERS" "$LOOKUPS" "$SEED" || exit 1
	umount /etc/nsswitch.conf
}

FILES=$(run files) || exit 1
OURS=$(run mynumber) || exit 1
echo "users=$USERS lookups=$LOOKUPS (10% misses), latency in ns, $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m)"
printf '%-10s %12s %12s %12s %12s %12s %12s\n' backend hit_median hit_p99 miss_median miss_p99 \
	all_median all_p99
printf '%-10s %12s %12s %12s %12s %12s %12s\n' files $FILES
printf '%-10s %12s %12s %12s %12s %12s %12s\n' mynumber $OURS
echo "$FILES $OURS" | awk '{ printf "ratio files/mynumber: median %.0fx, p99 %.0fx (hits %.0fx, misses %.0fx)\n",
	$5 / $11, $6 / $12, $1 / $7, $3 / $9 }'
printf 'map %s bytes, passwd %s bytes; mynumber accounts publish of %s accounts: %s s\n' \
	"$(stat -c %s "$W/nss.db")" "$(stat -c %s "$W/passwd")" "$USERS" "$PUBLISH"
