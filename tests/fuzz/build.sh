#!/bin/sh
# Configure and build the libFuzzer targets (doc/fuzzing.md) with clang in an out-of-tree
# directory, by default build-fuzz/ at the top of the source tree:
#   tests/fuzz/build.sh [BUILDDIR]        then: make -C BUILDDIR fuzz FUZZ_SECONDS=60
# A source tree that is itself configured (an in-tree ./configure) cannot host VPATH builds;
# then the tracked and new source files are mirrored into BUILDDIR/src (file times kept, so
# rebuilds stay incremental) and that copy is configured out of tree instead.
# Extra configure arguments: MN_FUZZ_CONFIGURE="--with-opensc-source=DIR ...".
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
B=${1:-$SRC/build-fuzz}
mkdir -p "$B"
B=$(cd "$B" && pwd)
CC=${CC:-clang}
command -v "$CC" >/dev/null 2>&1 || {
	echo "build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
	exit 1
}

# the OpenSC source configure wants (third_party/ is not part of a mirrored copy)
opensc=""
for d in "$SRC"/third_party/opensc-*; do
	[ -f "$d/src/libopensc/internal.h" ] && opensc="--with-opensc-source=$d"
done

S=$SRC
if [ -f "$SRC/config.status" ]; then
	S=$B/src
	mkdir -p "$S"
	# the build directory itself (inside the tree by default) is not source
	rel=${B#"$SRC"/}
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard) |
		(cd "$SRC" && xargs -0 sh -c 'skip=$1; shift; for f; do
			case "$f" in "$skip"/*) continue ;; esac
			[ -f "$f" ] && printf "%s\0" "$f"; done' sh "$rel") |
		tar -C "$SRC" --null -T - -cf - | tar -C "$S" -xpf -
fi
if [ ! -x "$S/configure" ] || [ "$S/configure.ac" -nt "$S/configure" ] ||
	[ "$S/Makefile.am" -nt "$S/Makefile.in" ]; then
	(cd "$S" && autoreconf -i >/dev/null)
fi
O=$B/obj
mkdir -p "$O"
cd "$O"
args="$S CC=$CC --enable-fuzzing $opensc ${MN_FUZZ_CONFIGURE:-}"
if [ ! -f Makefile ] || [ "$S/configure" -nt config.status ] ||
	[ "$(cat .configure-args 2>/dev/null)" != "$args" ]; then
	# shellcheck disable=SC2086
	CC=$CC "$S/configure" --enable-fuzzing $opensc ${MN_FUZZ_CONFIGURE:-} \
		>configure.out 2>&1 || {
		tail -n 30 configure.out >&2
		exit 1
	}
	echo "$args" >.configure-args
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs" fuzz-build >make.out 2>&1 || {
	tail -n 60 make.out >&2
	exit 1
}
echo "$O"
