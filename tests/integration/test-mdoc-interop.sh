#!/bin/sh
# mynumber verify-mdoc against DeviceResponses issued and presented by other implementations
# (@auth0/mdl, @animo-id/mdoc; tests/interop/) for the My Number Card docType
# org.iso.23220.1.jp.mnc, with deviceSignature and deviceMac. Needs node and
# tests/interop/node_modules (tools/install-deps); skipped without them unless
# MN_REQUIRE_INTEROP is set (tools/run-tests sets it).
set -u

TOP_SRC=${MN_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILD=${MN_TOP_BUILDDIR:-$TOP_SRC}
IOP=$TOP_SRC/tests/interop
MN=$TOP_BUILD/tools/mynumber
PASS=0
FAIL=0

missing=
command -v node >/dev/null 2>&1 || missing="node"
[ -d "$IOP/node_modules/@auth0/mdl" ] && [ -d "$IOP/node_modules/@animo-id/mdoc" ] ||
	missing="$missing tests/interop/node_modules (npm ci --prefix tests/interop)"
for t in xxd openssl dd timeout; do
	command -v $t >/dev/null 2>&1 || missing="$missing $t"
done
if [ -n "$missing" ]; then
	if [ -n "${MN_REQUIRE_INTEROP:-}" ]; then
		echo "not ok - MN_REQUIRE_INTEROP is set but missing:$missing"
		exit 1
	fi
	echo "SKIP: missing:$missing"
	exit 77
fi

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

# --- inputs: Annex B certificates (openssl), then mdocs and DeviceResponses (node)
if ! sh "$IOP/make-certs.sh" "$W" >"$W/log" 2>&1 ||
	! timeout 120 node "$IOP/make-mnc.mjs" "$W" "$W/ds.pem" "$W/ds-key.pem" >>"$W/log" 2>&1; then
	nok "generating the interop inputs: $(cat "$W/log")"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi

run() { # args...; sets RC
	timeout 30 "$MN" verify-mdoc "$@" >"$W/out" 2>"$W/err"
	RC=$?
}
verify() { # response [extra args]
	r=$1
	shift
	run --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" "$@" "$r"
}
expect_fail() { # name check response [extra args]
	n=$1
	c=$2
	shift 2
	verify "$@"
	if [ $RC -eq 1 ] && [ ! -s "$W/out" ] && grep -q "FAILED check $c:" "$W/err"; then
		ok "$n ($(cat "$W/err"))"
	else
		nok "$n: expected check $c, rc=$RC stderr=$(cat "$W/err")"
	fi
}
flip() { # src dst offset: xor one byte with 0x01
	cp "$1" "$2"
	b=$(xxd -s "$3" -l 1 -p "$1")
	printf "$(printf '\\%03o' $((0x$b ^ 1)))" | dd of="$2" bs=1 seek="$3" conv=notrunc 2>/dev/null
}
off() { node "$IOP/cbor-offset.mjs" "$@"; }
offset_of() { grep -obUa "$2" "$1" | head -n1 | cut -d: -f1; }
# every expected element value, as printed by verify-mdoc
EXPECT='"org.iso.23220.1.jp":{ "full_name_unicode":"番号　花子" "birth_date_unicode":"1971年9月1日"
"sex_unicode":"女" "resident_address_unicode":"東京都千代田区霞が関二丁目1番2号"
"local_gov_code_unicode":"13101" "portrait":"/9j/4AAQSkZJRgABAQAAAQABAAD/2Q=="
"org.iso.23220.1":{ "sex":2 "age_over_20":true'
has_all() {
	for e in $EXPECT; do grep -qF "$e" "$W/out" || return 1; done
	! grep -q individual_number "$W/out"
}

LATER=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)
for impl in auth0 animo; do
	S=$W/$impl-sig.cbor
	M=$W/$impl-mac.cbor
	# --- positive
	verify "$S"
	if [ $RC -eq 0 ] && has_all; then
		ok "$impl: deviceSignature response verifies with every element"
	else
		nok "$impl deviceSignature: rc=$RC $(cat "$W/err") $(cat "$W/out")"
	fi
	verify "$M" --reader-key "$W/ereader.pem"
	if [ $RC -eq 0 ] && has_all; then
		ok "$impl: deviceMac response verifies with every element"
	else
		nok "$impl deviceMac: rc=$RC $(cat "$W/err") $(cat "$W/out")"
	fi

	# --- negative
	xxd -p "$S" | tr -d '\n' | sed 's/3133313031/3133313032/' | xxd -r -p >"$W/val.cbor"
	if cmp -s "$S" "$W/val.cbor"; then nok "$impl: 13101 not found"; fi
	expect_fail "$impl: element value changed (13101 -> 13102)" digest "$W/val.cbor"
	o=$(offset_of "$S" valueDigests)
	flip "$S" "$W/dig.cbor" $((o + 40))
	expect_fail "$impl: MSO digest byte changed" issuer-signature "$W/dig.cbor"
	o=$(off "$S" documents 0 issuerSigned issuerAuth 3)
	flip "$S" "$W/isig.cbor" $((o + 10))
	expect_fail "$impl: IssuerAuth signature byte changed" issuer-signature "$W/isig.cbor"
	o=$(off "$S" documents 0 deviceSigned deviceAuth deviceSignature 3)
	flip "$S" "$W/dsig.cbor" $((o + 10))
	expect_fail "$impl: deviceSignature byte changed" device-auth "$W/dsig.cbor"
	o=$(off "$M" documents 0 deviceSigned deviceAuth deviceMac 3)
	flip "$M" "$W/mac.cbor" $((o + 10))
	expect_fail "$impl: deviceMac byte changed" device-auth "$W/mac.cbor" --reader-key "$W/ereader.pem"
	run --trust "$W/iaca.pem" --session-transcript "$W/st-other.cbor" "$S"
	if [ $RC -eq 1 ] && grep -q "FAILED check device-auth:" "$W/err"; then
		ok "$impl: deviceSignature with another session's transcript fails ($(cat "$W/err"))"
	else
		nok "$impl: other transcript (sig): rc=$RC $(cat "$W/err")"
	fi
	run --trust "$W/iaca.pem" --session-transcript "$W/st-other.cbor" --reader-key "$W/ereader.pem" "$M"
	if [ $RC -eq 1 ] && grep -q "FAILED check device-auth:" "$W/err"; then
		ok "$impl: deviceMac with another session's transcript fails ($(cat "$W/err"))"
	else
		nok "$impl: other transcript (mac): rc=$RC $(cat "$W/err")"
	fi
	run --trust "$W/other-iaca.pem" --session-transcript "$W/st.cbor" "$S"
	if [ $RC -eq 1 ] && grep -q "FAILED check certificate-chain:" "$W/err"; then
		ok "$impl: another IACA as trust anchor fails ($(cat "$W/err"))"
	else
		nok "$impl: wrong IACA: rc=$RC $(cat "$W/err")"
	fi
	expect_fail "$impl: after validUntil (--at $LATER)" mso-validity "$S" --at "$LATER"
	expect_fail "$impl: deviceMac without --reader-key" device-auth "$M"
done

# @animo-id/mdoc 0.5.2 by default writes map heads in long form (b9 0003), also inside the
# signed MSO, against ISO/IEC 18013-5 8.1; the strict decoder refuses them.
for v in sig mac; do
	expect_fail "animo: default (non-preferred CBOR) $v response is refused" cbor \
		"$W/animo-$v-raw.cbor" --reader-key "$W/ereader.pem"
done

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
