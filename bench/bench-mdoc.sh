#!/bin/sh
# Benchmark (not a test): ISO 18013-5 DeviceResponse verifications per second, ours
# (mn_mdoc_verify via bench/mdoc-verify-loop) against @auth0/mdl and @animo-id/mdoc
# (bench/mdoc-verify-js.mjs, versions pinned in tests/interop/package-lock.json), on the same
# bytes: the ISO/IEC 18013-5 Annex D response (deviceMac) and test My Number Card responses
# (org.iso.23220.1.jp.mnc, issued with @auth0/mdl and @animo-id/mdoc by tests/interop/make-mnc.mjs).
# Every run lasts about SECONDS (default 3) and is killed after 3*SECONDS+60.
#   bench/bench-mdoc.sh [SECONDS]    (after ./configure && make; npm ci --prefix tests/interop)
set -u
SECS=${1:-3}
MN_TOP_BUILDDIR=${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MN_TOP_SRCDIR=${MN_TOP_SRCDIR:-$MN_TOP_BUILDDIR}
VEC=${MN_MDOC_VECTORS:-$MN_TOP_SRCDIR/../shared/vectors/iso18013-5-annex-d}
IOP=$MN_TOP_SRCDIR/tests/interop
LOOP=$MN_TOP_BUILDDIR/bench/mdoc-verify-loop
JS=$MN_TOP_SRCDIR/bench/mdoc-verify-js.mjs
P=$VEC/ISO_18013_5_ANNEX_D_
LIMIT=$((SECS * 3 + 60))

case $SECS in '' | *[!0-9]* | 0) echo "usage: bench-mdoc.sh [SECONDS]" >&2; exit 2 ;; esac
for t in node xxd openssl faketime timeout; do
	command -v $t >/dev/null 2>&1 || { echo "bench: $t missing" >&2; exit 1; }
done
[ -d "$IOP/node_modules/@auth0/mdl" ] || { echo "bench: run npm ci --prefix tests/interop" >&2; exit 1; }
[ -f "${P}DEVICE_RESPONSE.hex" ] || { echo "bench: Annex D vectors not found in $VEC" >&2; exit 1; }
(cd "$MN_TOP_BUILDDIR" && make -s bench/mdoc-verify-loop >/dev/null) || exit 1

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# --- Annex D: IACA, response, SessionTranscriptBytes, reader key (as test-mdoc-cli.sh)
mkdir "$W/annexd"
hex() { tr -d ' \n' <"$1"; }
xxd -r -p "${P}IACA_CERT.hex" | openssl x509 -inform DER -out "$W/annexd/iaca.pem"
xxd -r -p "${P}DEVICE_RESPONSE.hex" >"$W/annexd/resp.cbor"
xxd -r -p "${P}SESSION_TRANSCRIPT_BYTES.hex" >"$W/annexd/st.cbor"
printf '%s' "307702010104 20$(hex "${P}EPHEMERAL_READER_KEY_D.hex") a00a06082a8648ce3d030107 \
a14403420004$(hex "${P}EPHEMERAL_READER_KEY_X.hex")$(hex "${P}EPHEMERAL_READER_KEY_Y.hex")" |
	tr -d ' ' | xxd -r -p | openssl ec -inform DER -out "$W/annexd/er.pem" 2>/dev/null
# --- My Number Card test responses
mkdir "$W/mnc"
{ sh "$IOP/make-certs.sh" "$W/mnc" &&
	timeout $LIMIT node "$IOP/make-mnc.mjs" "$W/mnc" "$W/mnc/ds.pem" "$W/mnc/ds-key.pem"; } \
	>"$W/gen.log" 2>&1 || { cat "$W/gen.log"; exit 1; }

per_s() { sed -n 's/.*per_s=\([0-9.]*\).*/\1/p' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f×", a / b; else print "-" }'; }

# bench NAME DIR RESPONSE READER(or -) AT_EPOCH FAKETIME(or -)
ROWS=
bench() {
	echo "bench: $1" >&2
	timeout $LIMIT "$LOOP" "$2/iaca.pem" "$2/st.cbor" "$4" "$5" "$SECS" "$2/$3" >"$W/c.out" ||
		{ cat "$W/c.out"; exit 1; }
	for impl in auth0 animo; do
		if [ "$6" = - ]; then
			timeout $LIMIT node "$JS" $impl "$2/iaca.pem" "$2/st.cbor" "$4" "$SECS" "$2/$3"
		else # the clock at AT for the JS verifiers, which check the current time only
			timeout $LIMIT faketime "$6" node "$JS" $impl "$2/iaca.pem" "$2/st.cbor" "$4" "$SECS" \
				"$2/$3"
		fi >"$W/$impl.out" 2>&1 || { echo "bench: $impl on $1: $(cat "$W/$impl.out")" >&2; exit 1; }
	done
	c=$(per_s "$W/c.out")
	a=$(per_s "$W/auth0.out")
	n=$(per_s "$W/animo.out")
	ROWS="$ROWS| $1 | $c | $a | $n | $(ratio "$c" "$a") | $(ratio "$c" "$n") |
"
}
NOW=$(date +%s)
bench "Annex D mDL, deviceMac" "$W/annexd" resp.cbor "$W/annexd/er.pem" 1609459200 "2021-01-01 00:00:00"
bench "jp.mnc by @auth0/mdl, deviceSignature" "$W/mnc" auth0-sig.cbor - "$NOW" -
bench "jp.mnc by @auth0/mdl, deviceMac" "$W/mnc" auth0-mac.cbor "$W/mnc/ereader.pem" "$NOW" -
bench "jp.mnc by @animo-id/mdoc, deviceSignature" "$W/mnc" animo-sig.cbor - "$NOW" -

ver() { sed -n 's/^  "version": "\(.*\)",$/\1/p' "$IOP/node_modules/$1/package.json" | head -n1; }
echo "| DeviceResponse (verifications/s, ${SECS} s each) | ours | @auth0/mdl $(ver @auth0/mdl) | @animo-id/mdoc $(ver @animo-id/mdoc) | ours / auth0 | ours / animo |"
echo "|---|---|---|---|---|---|"
printf '%s' "$ROWS"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -n1);" \
	"node $(node --version), $(openssl version | cut -d' ' -f1-2)," \
	"libcbor $(dpkg-query -W -f='${Version}' libcbor-dev 2>/dev/null || echo '?')"
