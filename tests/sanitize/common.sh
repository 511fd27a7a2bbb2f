# Shared by tests/sanitize/run-asan.sh and run-valgrind.sh (sourced, not run).
#
# mn_san_prepare BUILD: sets SRC, the source tree the out-of-tree build in BUILD configures.
# Automake refuses a VPATH build from a source tree that is itself configured in place
# ("source directory already configured"), which the developers' tree /work/main usually is.
# Then a pristine copy of the tree (git's tracked and untracked-not-ignored files, plus the
# ignored inputs the build needs: third_party/ OpenSC source, tests/interop/node_modules) is
# made in BUILD/src and the build is still out of tree (BUILD/obj). BUILD/shared points at
# the tree's ../shared (the test vectors the unit tests read through $(abs_top_srcdir)/..).
mn_san_prepare()
{
	_b=$1
	TOP=$(cd "$(dirname "$0")/../.." && pwd)
	mkdir -p "$_b"
	if [ ! -f "$TOP/config.status" ] && [ -z "${MN_SAN_COPY:-}" ]; then
		SRC=$TOP
		return 0
	fi
	SRC=$_b/src
	echo "# $TOP is configured in place: building from a copy in $SRC"
	# files keep their times: a rerun recompiles only what changed in the tree
	mkdir -p "$SRC"
	(cd "$TOP" && git ls-files -co --exclude-standard -z |
		grep -zv -E '^build-[^/]*/' |
		xargs -0 tar cf - 2>/dev/null) | (cd "$SRC" && tar xf -) || return 1
	for d in "$TOP"/third_party/opensc-*; do
		[ -d "$d" ] && mkdir -p "$SRC/third_party" && ln -sfn "$d" "$SRC/third_party/$(basename "$d")"
	done
	if [ -d "$TOP/tests/interop/node_modules" ]; then
		ln -sfn "$TOP/tests/interop/node_modules" "$SRC/tests/interop/node_modules"
	fi
	[ -d "$TOP/../shared" ] && ln -sfn "$(cd "$TOP/../shared" && pwd)" "$_b/shared"
	if [ -n "${MN_SAN_NO_FUZZ:-}" ]; then
		# while tests/fuzz is being written its Makefile.am block may name missing files:
		# MN_SAN_NO_FUZZ=1 leaves the fuzzing section out of the copy (never of the tree)
		awk '/^# -+ fuzzing/ {skip = 1; next} skip && /^# -+ / {skip = 0} !skip' \
			"$SRC/Makefile.am" >"$SRC/Makefile.am.new"
		touch -r "$SRC/Makefile.am" "$SRC/Makefile.am.new"
		mv "$SRC/Makefile.am.new" "$SRC/Makefile.am"
	fi
	if [ ! -f "$SRC/configure" ] || [ "$SRC/configure.ac" -nt "$SRC/configure" ] ||
		[ "$SRC/Makefile.am" -nt "$SRC/Makefile.in" ]; then
		(cd "$SRC" && autoreconf -i >/dev/null 2>&1) || { echo "autoreconf failed"; return 1; }
	fi
}

# mn_san_wrapper DIR NAME BODY: write DIR/NAME, a shell script that runs BODY
mn_san_wrapper()
{
	printf '#!/bin/sh\n%s\n' "$3" >"$1/$2"
	chmod 0755 "$1/$2"
}
