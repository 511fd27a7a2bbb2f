#!/bin/sh
# The whole test suite (unit + integration) under AddressSanitizer + UndefinedBehaviorSanitizer
# (with LeakSanitizer), in an out-of-tree build: build-asan/ next to the source tree.
#
#   tests/sanitize/run-asan.sh            (as root, like CI: the integration tests need it)
#   MN_SAN_BUILD=DIR  build directory (default: TOP/build-asan)
#   MN_SAN_JOBS=N     make -jN (default 2)
#   MN_SAN_TESTS='…'  only these tests (make check TESTS=…), for a quick rerun
#   MN_ASAN_EXTRA=…   more ASAN_OPTIONS, e.g. fast_unwind_on_malloc=0 for full stacks through
#                     libraries built without frame pointers (libcrypto) when reading a leak
#
# Every report fails the run: ASan and UBSan halt at the first error (UBSan is compiled with
# -fno-sanitize-recover=undefined), the exit code of a reporting process is 199 (outside the
# 1..125 "clean failure" range the tests accept from check_fails), and every report is also
# written under BUILD/sanitize/logs, which must be empty at the end: a report from a process
# whose exit status no test looks at (a helper whose result was already read, a background
# simulator) still fails the run.
#
# What runs instrumented (tests/sanitize/README.md has the table):
#   - our programs (mynumber, mynumber-helper, mynumber-sim, unit tests, tests/* clients) are
#     ASan/UBSan executables, with leak detection;
#   - our shared objects loaded by third-party programs are instrumented too; those programs
#     get the ASan runtime preloaded through wrapper scripts put first in PATH: pamtester
#     (pam_mynumber.so; leak detection on: the module's leaks count), pkcs11-tool, pkcs15-tool,
#     opensc-tool (the OpenSC driver), getent (libnss_mynumber.so.2 under nss_wrapper),
#     ssh-pkcs11-helper through SSH_PKCS11_HELPER (the driver, in test-ssh);
#   - mynumber-helper is exec'ed by the module with an environment reduced to PATH and the
#     locale: `helper =` in the tests' mynumber.conf names a wrapper that sets the sanitizer
#     options and the log path (MN_WRAPPERS, read by tests/integration/harness.sh).
set -u
. "$(dirname "$0")/common.sh"

start=$(date +%s)
BUILD=${MN_SAN_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build-asan}
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
	"$SRC/configure" --enable-werror --enable-sanitizers >configure.out 2>&1 ||
		{ tail -n 30 configure.out; echo "FAIL: configure"; exit 1; }
fi
make -j"${MN_SAN_JOBS:-2}" >make.out 2>&1 || { tail -n 40 make.out; echo "FAIL: build"; exit 1; }
make -j"${MN_SAN_JOBS:-2}" check TESTS= >>make.out 2>&1 ||
	{ tail -n 40 make.out; echo "FAIL: build of the test programs"; exit 1; }

# --- sanitizer options
ASAN_SO=$(gcc -print-file-name=libasan.so)
UBSAN_SO=$(gcc -print-file-name=libubsan.so)
[ -f "$ASAN_SO" ] || { echo "FAIL: libasan.so not found ($ASAN_SO)"; exit 1; }
SUPP=$SRC/tests/sanitize/lsan.supp
COMMON=halt_on_error=1:exitcode=199:log_exe_name=1:handle_abort=1
ASAN_OPTIONS="$COMMON:detect_leaks=1:verify_asan_link_order=0:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_invalid_pointer_pairs=0:log_path=$LOGS/asan${MN_ASAN_EXTRA:+:$MN_ASAN_EXTRA}"
UBSAN_OPTIONS="$COMMON:print_stacktrace=1:log_path=$LOGS/ubsan"
LSAN_OPTIONS="suppressions=$SUPP:print_suppressions=0:exitcode=199"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
# verify_asan_link_order=0: the tests preload pam_wrapper and nss_wrapper (LD_PRELOAD) into our
# instrumented programs, ahead of the ASan runtime they link; that order is harmless here (the
# wrappers interpose PAM and NSS calls, not malloc) but ASan refuses it by default.
# *_DISABLE_DEEPBIND: the wrappers dlopen() libpam and the NSS modules with RTLD_DEEPBIND,
# which the sanitizer runtimes cannot work with (google/sanitizers#611). pam_wrapper 1.1.4
# (Debian 12) reads its switch under uid_wrapper's name, later versions under its own.
PAM_WRAPPER_DISABLE_DEEPBIND=1
UID_WRAPPER_DISABLE_DEEPBIND=1
NSS_WRAPPER_DISABLE_DEEPBIND=1
export PAM_WRAPPER_DISABLE_DEEPBIND UID_WRAPPER_DISABLE_DEEPBIND NSS_WRAPPER_DISABLE_DEEPBIND

# the helper, exec'ed by pam_mynumber.so with a scrubbed environment: options baked in
mn_san_wrapper "$WRAP" mynumber-helper "ASAN_OPTIONS='$ASAN_OPTIONS' UBSAN_OPTIONS='$UBSAN_OPTIONS' LSAN_OPTIONS='$LSAN_OPTIONS' exec '$OBJ/pam_mynumber/mynumber-helper' \"\$@\""

# third-party programs that load our shared objects: the ASan runtime first
# (ASan insists on being the first DSO; an uninstrumented program dlopen()ing an instrumented
# module aborts with "ASan runtime does not come first in initial library list")
preload_wrapper()
{
	_name=$1
	_leaks=$2
	_real=$(PATH=$(echo "$PATH" | sed "s|$WRAP:||") command -v "$_name" 2>/dev/null)
	[ -n "$_real" ] || _real=$3
	[ -n "$_real" ] && [ -x "$_real" ] || return 0
	mn_san_wrapper "$WRAP" "$_name" "LD_PRELOAD=\"$ASAN_SO\${LD_PRELOAD:+ \$LD_PRELOAD}\" ASAN_OPTIONS=\"\${ASAN_OPTIONS:-$ASAN_OPTIONS}:detect_leaks=$_leaks\" exec '$_real' \"\$@\""
}
preload_wrapper pamtester 1
preload_wrapper pkcs11-tool 0
preload_wrapper pkcs15-tool 0
preload_wrapper opensc-tool 0
preload_wrapper getent 1
preload_wrapper ssh-pkcs11-helper 0 /usr/lib/openssh/ssh-pkcs11-helper
SSH_PKCS11_HELPER=$WRAP/ssh-pkcs11-helper
PATH=$WRAP:$PATH
MN_WRAPPERS=$WRAP
export SSH_PKCS11_HELPER PATH MN_WRAPPERS

# --- the suite
echo "# ASan/UBSan: make check in $OBJ"
tstart=$(date +%s)
status=0
find tests -name '*.trs' -delete 2>/dev/null # no verdicts left from an earlier selection
if [ -z "${MN_SAN_TESTS:-}" ]; then
	# every test but test-fault-concurrency.sh: its 8 simultaneous pamtester processes, each
	# slowed by ASan, race in pam_wrapper's per-process copy of the service directory ("no
	# modules loaded for `mynumber-test' service", seen once in CI); it runs natively in the
	# main suite
	MN_SAN_TESTS=$(make -s -f Makefile -f - print-tests <<'EOF' | tr ' ' '\n' | grep -Ev 'test-fault-concurrency\.sh$' | tr '\n' ' '
print-tests:
	@echo $(TESTS)
EOF
)
fi
make -j"${MN_SAN_JOBS:-2}" check TESTS="$MN_SAN_TESTS" >check.out 2>&1 || status=1
tend=$(date +%s)
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP|XFAIL):' check.out
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR)' check.out
if [ "$status" != 0 ]; then
	for f in $(grep -lE '^:test-result: (FAIL|ERROR|XPASS)' $(find . -name '*.trs') 2>/dev/null); do
		echo "=================== ${f%.trs}.log"
		grep -E 'not ok|Bail out|ERROR|Sanitizer|runtime error' "${f%.trs}.log" | head -n 40
	done
fi

# --- reports written by any process
reports=$(find "$LOGS" -type f -size +0 2>/dev/null)
if [ -n "$reports" ]; then
	status=1
	echo "# sanitizer reports:"
	for f in $reports; do
		echo "=================== $f"
		head -n 60 "$f"
	done
fi
end=$(date +%s)
echo "# ASan/UBSan run: build+suite $((end - start)) s, suite $((tend - tstart)) s, status $status"
exit $status
