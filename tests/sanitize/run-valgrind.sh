#!/bin/sh
# The test suite with our programs under valgrind memcheck, in an out-of-tree build
# (build-valgrind/ next to the source tree, a normal -g -O2 build).
#
#   tests/sanitize/run-valgrind.sh        (as root, like CI)
#   MN_SAN_BUILD=DIR   build directory (default: TOP/build-valgrind)
#   MN_SAN_JOBS=N      make -jN (default 2)
#   MN_SAN_TESTS='…'   these tests instead of the default selection (make check TESTS=…)
#   MN_VG_SIM=0        run mynumber-sim natively (default 1: `run` under memcheck too)
#   MN_VG_FAULTS=1     include the fault suite (test-fault-*.sh; see below why it is not)
#
# What runs under memcheck:
#   - the unit tests, through automake's LOG_COMPILER (make check LOG_COMPILER=valgrind…);
#   - in the integration tests, through wrapper scripts (MN_WRAPPERS, read by harness.sh and
#     pam-harness.sh, MN_VALGRIND=1 multiplies their waits): mynumber-helper (named by
#     `helper =` in the tests' mynumber.conf; it loads opensc-pkcs11.so, our OpenSC driver
#     and the revocation plugins), mynumber ($MYNUMBER), mynumber-sim ($SIM), and pamtester
#     (first in PATH), which loads pam_mynumber.so.
# Not under memcheck: the fuzz replay targets (run over their corpora, a long run under
# memcheck; ASan covers them, see run-asan.sh), test-transactions.sh (see below), `mynumber-sim
# init` and `crl`, programs the tests start by their build path rather than through the
# harness variables, third-party programs other than pamtester.
#
# A memcheck error makes the program exit 99 (--error-exitcode=99), and every report is also
# written under BUILD/sanitize/logs; any "ERROR SUMMARY" other than 0 there fails the run, so a
# report from a process whose exit status no test checks (or that a test expected to fail,
# with 1..125) still counts.
set -u
. "$(dirname "$0")/common.sh"

start=$(date +%s)
BUILD=${MN_SAN_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build-valgrind}
command -v valgrind >/dev/null 2>&1 || { echo "SKIP: valgrind is not installed"; exit 77; }
mn_san_prepare "$BUILD" || exit 1
OBJ=$BUILD/obj
WRAP=$BUILD/sanitize/wrappers
LOGS=$BUILD/sanitize/logs
mkdir -p "$OBJ" "$WRAP"
rm -rf "$LOGS"
mkdir -p "$LOGS"

# --- build
cd "$OBJ" || exit 1
if [ ! -f Makefile ] || [ "$SRC/configure" -nt config.status ]; then
	"$SRC/configure" --enable-werror >configure.out 2>&1 ||
		{ tail -n 30 configure.out; echo "FAIL: configure"; exit 1; }
fi
make -j"${MN_SAN_JOBS:-2}" >make.out 2>&1 || { tail -n 40 make.out; echo "FAIL: build"; exit 1; }
make -j"${MN_SAN_JOBS:-2}" check TESTS= >>make.out 2>&1 ||
	{ tail -n 40 make.out; echo "FAIL: build of the test programs"; exit 1; }

# --- memcheck
SUPP=$SRC/tests/sanitize/valgrind.supp
VG="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite --track-fds=no --num-callers=40 --suppressions=$SUPP --gen-suppressions=all --log-file=$LOGS/vg.%p"

# wrapper NAME TARGET: WRAP/NAME runs TARGET under memcheck (the environment is the
# caller's, except for the helper, which the module starts with PATH and the locale only:
# nothing the wrapper needs comes from the environment)
wrapper()
{
	mn_san_wrapper "$WRAP" "$1" "exec $VG '$2' \"\$@\""
}
wrapper mynumber-helper "$OBJ/pam_mynumber/mynumber-helper"
wrapper mynumber "$OBJ/tools/mynumber"
# the simulator: `run` (the card and wallet the tests talk to) under memcheck; `init` and `crl`
# (RSA key generation, CRLs of up to a million entries: minutes under memcheck) natively
[ "${MN_VG_SIM:-1}" = 1 ] && mn_san_wrapper "$WRAP" mynumber-sim "case \${1:-} in
run) exec $VG '$OBJ/tools/mynumber-sim' \"\$@\" ;;
*) exec '$OBJ/tools/mynumber-sim' \"\$@\" ;;
esac"
wrapper pamtester "$(command -v pamtester)"
PATH=$WRAP:$PATH
MN_WRAPPERS=$WRAP
MN_VALGRIND=1
export PATH MN_WRAPPERS MN_VALGRIND

# --- the selection: every unit test and every integration test (not the fuzz replays)
if [ -n "${MN_SAN_TESTS:-}" ]; then
	tests=$MN_SAN_TESTS
else
	# test-transactions.sh is left out: of our programs it runs only the simulator (its
	# clients are tests/p11-client and OpenSC's tools), and its check of the APDU order around
	# another process's SELECT reads the simulator's APDU log at moments that assume a fast
	# simulator; the simulator's card emulation runs under memcheck in every other test
	# The fault suite (test-fault-*.sh) is left out unless MN_VG_FAULTS=1: its checks bound the
	# time of each failure path (revocation timeouts + a margin) for native speed, which the
	# helper under memcheck does not meet, and it would take the run past 30 minutes on two
	# cores; it runs in the ASan run.
	skip='test-transactions\.sh$'
	[ "${MN_VG_FAULTS:-0}" = 1 ] || skip="$skip|test-fault-[a-z-]*\.sh$"
	tests=$(make -s -f Makefile -f - print-tests <<'EOF' | tr ' ' '\n' | grep -Ev "$skip" | tr '\n' ' '
print-tests:
	@echo $(UNIT_TESTS) $(INTEGRATION_TESTS)
EOF
)
fi
echo "# valgrind: make check in $OBJ"
tstart=$(date +%s)
status=0
find tests -name '*.trs' -delete 2>/dev/null # no verdicts left from an earlier selection
make -j"${MN_SAN_JOBS:-2}" check TESTS="$tests" LOG_COMPILER="$VG" >check.out 2>&1 || status=1
tend=$(date +%s)
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' check.out
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)' check.out
if [ "$status" != 0 ]; then
	for f in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find . -name '*.trs') 2>/dev/null); do
		echo "=================== ${f%.trs}.log"
		grep -E 'not ok|Bail out|ERROR' "${f%.trs}.log" | head -n 40
	done
fi

# --- every memcheck log: no error, no definite leak
# (a process killed with SIGKILL, as a helper at its deadline, writes no summary: its log
# counts only if it holds an error report)
bad=$(grep -lE 'ERROR SUMMARY: [1-9]|== (Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function)' \
	"$LOGS"/vg.* 2>/dev/null)
nosummary=$(grep -L 'ERROR SUMMARY' "$LOGS"/vg.* 2>/dev/null | wc -l)
if [ -n "$bad" ]; then
	status=1
	echo "# memcheck reports:"
	for f in $bad; do
		echo "=================== $f"
		grep -m1 'Command:' "$f"
		grep -v '^==[0-9]*== *$' "$f" | sed -n '/Command:/,$p' | grep -E '==[0-9]+== ' | head -n 60
	done
fi
echo "# memcheck logs: $(ls "$LOGS" | wc -l) processes ($nosummary killed before their summary)"
end=$(date +%s)
echo "# valgrind run: build+suite $((end - start)) s, suite $((tend - tstart)) s, status $status"
exit $status
