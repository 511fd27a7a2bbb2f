#!/bin/sh
# Run libFuzzer targets for SECONDS each on a copy of their corpus (tests/fuzz/corpus/NAME
# and tests/fuzz/regressions/NAME), print a table and exit 1 when any found a crash, leak,
# timeout or out-of-memory. Called by "make fuzz" in the fuzzing build:
#   run-fuzz.sh SECONDS FUZZDIR TARGET...
# Work files and artifacts: fuzz-out/NAME/ in the current (build) directory.
set -u

secs=$1
fdir=$2
shift 2
bad=0
table=""
for t in "$@"; do
	name=$(basename "$t" | sed 's/^fuzz_//')
	out=fuzz-out/$name
	rm -rf "$out"
	mkdir -p "$out/corpus" "$out/artifacts"
	for d in "$fdir/corpus/$name" "$fdir/regressions/$name"; do
		[ -d "$d" ] && find "$d" -maxdepth 1 -type f -exec cp {} "$out/corpus/" \;
	done
	start=$(date +%s)
	"./$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$out/artifacts/" "$out/corpus" \
		>"$out/log" 2>&1
	rc=$?
	end=$(date +%s)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" | tail -n 1)
	size=$(find "$out/corpus" -type f | wc -l)
	found=$(find "$out/artifacts" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		bad=1
		[ "$found" -eq 0 ] && found="rc=$rc"
		echo "== $name: see $out/log" >&2
		grep -E 'ERROR|SUMMARY|runtime error' "$out/log" | head -n 5 >&2
	fi
	table="$table$(printf '%-14s %12s %8s %12s %8s' "$name" "${execs:-?}" \
		$((end - start)) "$size" "$found")
"
done
printf '%-14s %12s %8s %12s %8s\n' target executions seconds corpus crashes
printf '%s' "$table"
exit $bad
