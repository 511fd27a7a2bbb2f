#!/bin/sh
# Benchmark (not a test): "enumerate the token + sign with the auth key" through PKCS#11,
# with our driver and with OpenSC's built-in jpki driver, on the same virtual card in one
# run. Counts the APDUs the card answered and the wall time of each whole process.
#   sudo bench/bench-driver.sh [RUNS]      (after ./configure && make)
# Prints a Markdown table (medians) for doc/performance.md.
RUNS=${1:-7}
MN_TOP_BUILDDIR=${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
export MN_TOP_BUILDDIR
. "$MN_TOP_BUILDDIR/tests/integration/harness.sh"

echo "bench: $RUNS runs each" >&2
echo msg >"$T/msg"
mn_card_init card

now_ms()
{
	date +%s%3N
}

median()
{
	sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

# run_case NAME COMMAND...: RUNS times; per run the APDUs (from the card's log) and ms
run_case()
{
	name=$1
	shift
	: >"$T/$name.ms"
	: >"$T/$name.apdus"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		before=$(apdu_count card)
		t0=$(now_ms)
		if ! "$@" >"$T/$name.out" 2>&1; then
			echo "bench: $name failed:" >&2
			cat "$T/$name.out" >&2
			exit 1
		fi
		t1=$(now_ms)
		after=$(apdu_count card)
		echo $((t1 - t0)) >>"$T/$name.ms"
		echo $((after - before)) >>"$T/$name.apdus"
		i=$((i + 1))
	done
	eval "${name}_ms=\$(median <\"\$T/$name.ms\")"
	eval "${name}_apdus=\$(median <\"\$T/$name.apdus\")"
}

sign()
{
	pkcs11-tool --module "$P11" --slot-index 0 --login --pin 1234 --sign --id 01 \
		-m SHA256-RSA-PKCS -i "$T/msg" -o "$T/sig"
}

mn_card_start card
mn_conf_ours
run_case ours sign
mn_conf_ours no yes
run_case ours_ca sign
mn_conf_builtin
run_case builtin sign
# the built-in driver as OpenSC ships it: the system opensc.conf, every internal driver
unset OPENSC_CONF
run_case stock sign
# the floor: the six APDUs a login needs, through bare PC/SC in one transaction
floor()
{
	"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 00200080 \
		0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') 00A4020C020017 \
		802A008033$(printf '3031300d060960864801650304020105000420%064d' 0)00
}
run_case floor floor
mn_card_stop

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

cat <<EOF2
| path (enumerate token + auth-key signature) | APDUs | wall (ms) | APDUs vs built-in | time vs built-in |
|---|---|---|---|---|
| OpenSC built-in jpki driver (anchor; card_drivers = jpki) | $builtin_apdus | $builtin_ms | 1.00 | 1.00 |
| OpenSC as shipped (system opensc.conf, all internal drivers probe first) | $stock_apdus | $stock_ms | $(ratio "$stock_apdus" "$builtin_apdus") | $(ratio "$stock_ms" "$builtin_ms") |
| mynumber driver, ca_certificates = yes (the same objects as the built-in) | $ours_ca_apdus | $ours_ca_ms | $(ratio "$ours_ca_apdus" "$builtin_apdus") | $(ratio "$ours_ca_ms" "$builtin_ms") |
| mynumber driver, default (no CA certificates on the token) | $ours_apdus | $ours_ms | $(ratio "$ours_apdus" "$builtin_apdus") | $(ratio "$ours_ms" "$builtin_ms") |
| bare PC/SC, the 6 APDUs of a login (floor) | $floor_apdus | $floor_ms | $(ratio "$floor_apdus" "$builtin_apdus") | $(ratio "$floor_ms" "$builtin_ms") |

Medians of $RUNS runs each, same virtual card, one run ($(date -u +%Y-%m-%d), $(nproc) cores).
EOF2
FAIL=0
