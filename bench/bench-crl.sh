#!/bin/sh
# Benchmark (not a test): revocation at national scale. A 1,000,000-entry CRL from the
# virtual card's CA: import time and memory, index size, lookup latency, and a whole
# pam_mynumber login with that CRL against the same login with a small one; then pam_pkcs11
# with crl_offline and the same CRL. Medians of RUNS; peak RSS from GNU time (the largest of
# pamtester and its helper).
#   sudo bench/bench-crl.sh [RUNS] [ENTRIES]      (after ./configure && make)
RUNS=${1:-5}
ENTRIES=${2:-1000000}
MN_TOP_BUILDDIR=${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MN_TOP_SRCDIR=${MN_TOP_SRCDIR:-$MN_TOP_BUILDDIR}
export MN_TOP_BUILDDIR MN_TOP_SRCDIR
(cd "$MN_TOP_BUILDDIR" && make -s bench/crl-lookup) || exit 1
. "$MN_TOP_BUILDDIR/tests/integration/harness.sh"
. "$MN_TOP_BUILDDIR/tests/integration/pam-harness.sh"

GTIME=/usr/bin/time
PAM_PKCS11=$(ls /lib/"$MULTIARCH"/security/pam_pkcs11.so /usr/lib/"$MULTIARCH"/security/pam_pkcs11.so 2>/dev/null | head -n 1)
[ -x "$GTIME" ] || { echo "bench: GNU time missing (apt-get install time)" >&2; exit 1; }

median()
{
	sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

mn_card_init card
mn_card_start card
mn_pam_setup card
"$SIM" crl "$T/card" "$T/small.pem" --crl-number 1 >/dev/null
echo "bench: generating a $ENTRIES-entry CRL" >&2
"$GTIME" -f '%e %M' -o "$T/gen.time" "$SIM" crl --der --entries "$ENTRIES" --crl-number 2 \
	"$T/card" "$T/big.crl" >/dev/null || exit 1
crl_mb=$(awk -v s="$(stat -c %s "$T/big.crl")" 'BEGIN { printf "%.1f", s / 1048576 }')

# the same login against two CRL directories: a small CRL, and the big one
"$MYNUMBER" --config "$CONF" crl import "$T/small.pem" >/dev/null || exit 1
enroll taro 1234 >/dev/null 2>&1 || exit 1
mkdir -p "$T/crl-big"
echo "bench: importing it" >&2
"$GTIME" -f '%e %M' -o "$T/import.time" "$MYNUMBER" --config "$CONF" crl import "$T/big.crl" \
	>"$T/import.out" || { cat "$T/import.out"; exit 1; }
idx=$(sed -n 's/^CRL imported: //p' "$T/import.out")
mv "$idx" "$T/crl-big/"
idx=$T/crl-big/$(basename "$idx")
"$MYNUMBER" --config "$CONF" crl import "$T/small.pem" >/dev/null || exit 1
idx_mb=$(awk -v s="$(stat -c %s "$idx")" 'BEGIN { printf "%.1f", s / 1048576 }')
import_s=$(awk '{print $1}' "$T/import.time")
import_mb=$(awk '{ printf "%.0f", $2 / 1024 }' "$T/import.time")
"$MN_TOP_BUILDDIR/bench/crl-lookup" "$idx" 200000 >"$T/lookup.out"
lookup_us=$(sed -n 's/.*lookup_us=\([0-9.]*\).*/\1/p' "$T/lookup.out")
olc_us=$(sed -n 's/.*open_lookup_close_us=\([0-9.]*\).*/\1/p' "$T/lookup.out")

# make_services WARM: config files and PAM services for the small and the big CRL
make_services()
{
	MN_WARM=$1 mn_pam_conf
	sed "s|^dir = $T/crl\$|dir = $T/crl-big|" "$CONF" >"$ETC/big.conf"
	chmod 0600 "$ETC/big.conf"
	echo "auth required $PAM_SO config=$CONF" >"$T/pam.d/mn-small"
	echo "auth required $PAM_SO config=$ETC/big.conf" >"$T/pam.d/mn-big"
}

# one_login SERVICE NAME: one login; appends ms and peak RSS (MiB)
one_login()
{
	rm -f "$T/state/revocation-cache"
	t0=$(date +%s%3N)
	printf '1234\n' | wrapped "$GTIME" -f '%M' -o "$T/$2.one" pamtester "$1" taro \
		authenticate >"$T/$2.out" 2>&1
	t1=$(date +%s%3N)
	if ! grep -q 'successfully authenticated' "$T/$2.out"; then
		echo "bench: $2 login failed:" >&2
		cat "$T/$2.out" >&2
		exit 1
	fi
	echo $((t1 - t0)) >>"$T/$2.ms"
	awk '{ printf "%.1f\n", $1 / 1024 }' "$T/$2.one" >>"$T/$2.rss"
}

# interleaved: small, big, small, big ... so that drift hits both alike
run_pair()
{
	: >"$T/$1_small.ms"; : >"$T/$1_small.rss"; : >"$T/$1_big.ms"; : >"$T/$1_big.rss"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		one_login mn-small "$1_small"
		one_login mn-big "$1_big"
		i=$((i + 1))
	done
	for k in "$1_small" "$1_big"; do
		eval "${k}_ms=\$(median <\"\$T/$k.ms\")"
		eval "${k}_rss=\$(median <\"\$T/$k.rss\")"
	done
}

make_services no
run_pair cold
make_services yes
printf '1234\n' | wrapped pamtester mn-small taro authenticate >/dev/null 2>&1
run_pair warm
small_cold_ms=$cold_small_ms; small_cold_rss=$cold_small_rss
big_cold_ms=$cold_big_ms; big_cold_rss=$cold_big_rss
small_warm_ms=$warm_small_ms; small_warm_rss=$warm_small_rss
big_warm_ms=$warm_big_ms; big_warm_rss=$warm_big_rss

# run_logins NAME SERVICE: RUNS logins (the anchor)
run_logins()
{
	: >"$T/$1.ms"
	: >"$T/$1.rss"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		one_login "$2" "$1"
		i=$((i + 1))
	done
	eval "${1}_ms=\$(median <\"\$T/$1.ms\")"
	eval "${1}_rss=\$(median <\"\$T/$1.rss\")"
}

anchor_row="| pam_pkcs11 0.6.12 + crl_offline, the same CRL | not run (libpam-pkcs11 missing) | | |"
if [ -n "$PAM_PKCS11" ]; then
	mkdir -p "$T/p11/ca" "$T/p11/crl"
	cp "$T/card/auth-ca.pem" "$T/p11/ca/" && openssl rehash "$T/p11/ca" >/dev/null 2>&1
	openssl crl -inform DER -in "$T/big.crl" -out "$T/p11/crl/big.pem" || exit 1
	openssl rehash "$T/p11/crl" >/dev/null 2>&1
	cn=$(openssl x509 -in "$T/card/auth.pem" -noout -subject -nameopt sep_multiline | sed -n 's/^ *CN=//p')
	echo "$cn -> taro" >"$T/p11/cn_map"
	cat >"$T/p11/pam_pkcs11.conf" <<EOF2
pam_pkcs11 {
  nullok = false; debug = false; use_first_pass = false; try_first_pass = false;
  use_authtok = false; card_only = true; wait_for_card = false;
  use_pkcs11_module = opensc;
  pkcs11_module opensc {
    module = $P11; description = "OpenSC"; slot_description = "none";
    ca_dir = $T/p11/ca; crl_dir = $T/p11/crl; support_threads = false;
    cert_policy = ca,signature,crl_offline; token_type = "Smart card";
  }
  use_mappers = cn;
  mapper cn { debug = false; module = internal; ignorecase = true; mapfile = file://$T/p11/cn_map; }
}
EOF2
	echo "auth required $PAM_PKCS11 config_file=$T/p11/pam_pkcs11.conf" >"$T/pam.d/pkcs11-test"
	(
		unset OPENSC_CONF
		RUNS=$(( RUNS < 3 ? RUNS : 3 ))
		run_logins anchor pkcs11-test
		echo "$anchor_ms $anchor_rss $RUNS" >"$T/anchor.res"
	)
	read -r anchor_ms anchor_rss anchor_runs <"$T/anchor.res"
	anchor_row="| pam_pkcs11 0.6.12 + crl_offline, the same CRL (median of $anchor_runs) | $anchor_ms | $anchor_rss | $(awk -v a="$anchor_ms" -v b="$small_cold_ms" 'BEGIN { printf "%.2f", a / b }') vs our login without the CRL |"
fi
mn_card_stop

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

cat <<EOF2
| $ENTRIES-entry CRL | value |
|---|---|
| CRL file (DER) | $crl_mb MiB |
| mynumber crl import: time, peak RSS | $import_s s, $import_mb MiB |
| index size | $idx_mb MiB |
| lookup (binary search with pread), index open | $lookup_us µs |
| open + header + lookup + close (one login's share) | $olc_us µs |

| pam_mynumber login (right PIN, median of $RUNS) | wall (ms) | peak RSS (MiB) | with / without the 1M CRL |
|---|---|---|---|
| PKCS#11 path, small CRL | $small_cold_ms | $small_cold_rss | |
| PKCS#11 path, 1M-entry CRL | $big_cold_ms | $big_cold_rss | $(ratio "$big_cold_ms" "$small_cold_ms") |
| warm login, small CRL | $small_warm_ms | $small_warm_rss | |
| warm login, 1M-entry CRL | $big_warm_ms | $big_warm_rss | $(ratio "$big_warm_ms" "$small_warm_ms") |
$anchor_row

One run ($(date -u +%Y-%m-%d), $(nproc) cores); the virtual card answers in about 0.3 ms an APDU.
EOF2
