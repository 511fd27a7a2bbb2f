#!/bin/sh
# CI smoke of the fuzz targets (doc/fuzzing.md): build them with clang (tests/fuzz/build.sh,
# into build-fuzz/ or $MN_FUZZ_BUILDDIR), run each for SECONDS (default 20) on a copy of its
# corpus, print the table; exit non-zero on any crash, leak, timeout or out-of-memory (the
# logs and artifacts stay in BUILDDIR/obj/fuzz-out/NAME/). Needs clang and libclang-rt-14-dev
# besides what tools/install-deps installs.
#   tests/fuzz/run-smoke.sh [SECONDS]
set -eu

secs=${1:-20}
case $secs in
'' | *[!0-9]*)
	echo "usage: run-smoke.sh [SECONDS]" >&2
	exit 2
	;;
esac
SRC=$(cd "$(dirname "$0")/../.." && pwd)
obj=$("$SRC/tests/fuzz/build.sh" ${MN_FUZZ_BUILDDIR:+"$MN_FUZZ_BUILDDIR"} | tail -n 1)
make -C "$obj" --no-print-directory fuzz FUZZ_SECONDS="$secs"
