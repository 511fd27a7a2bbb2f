#!/bin/sh
# mynumber verify-mdoc against the ISO/IEC 18013-5 Annex D vectors (no root, no card, no config).
set -u

TOP_SRC=${MN_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_BUILD=${MN_TOP_BUILDDIR:-$TOP_SRC}
VEC=${MN_MDOC_VECTORS:-$TOP_SRC/../shared/vectors/iso18013-5-annex-d}
MN=$TOP_BUILD/tools/mynumber
P=$VEC/ISO_18013_5_ANNEX_D_
PASS=0
FAIL=0

if [ ! -f "${P}DEVICE_RESPONSE.hex" ]; then
	echo "SKIP: Annex D vectors not found in $VEC"
	exit 77
fi
for t in xxd openssl dd; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: $t missing"; exit 77; }
done

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

ok() { PASS=$((PASS + 1)); echo "ok - $1"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; }

# --- inputs built from the vectors
xxd -r -p "${P}IACA_CERT.hex" | openssl x509 -inform DER -out "$W/iaca.pem"
xxd -r -p "${P}DEVICE_RESPONSE.hex" >"$W/resp.cbor"
# SessionTranscriptBytes = #6.24(bstr .cbor [DeviceEngagementBytes, EReaderKeyBytes, Handover])
# built from its parts; it must equal the vector.
hex() { tr -d ' \n' <"$1"; }
DE=$(hex "${P}DEVICE_ENGAGEMENT_NFC.hex")
EDK=$(hex "${P}E_DEVICE_KEY_BYTES.hex")
HS=$(hex "${P}NFC_HANDOVER_SELECT.hex")
HR=$(hex "${P}NFC_HANDOVER_REQUEST.hex")
# EReaderKeyBytes: the reader's COSE_Key from its coordinates {1:2, -1:1, -2:x, -3:y}
RX=$(hex "${P}EPHEMERAL_READER_KEY_X.hex")
RY=$(hex "${P}EPHEMERAL_READER_KEY_Y.hex")
RD=$(hex "${P}EPHEMERAL_READER_KEY_D.hex")
bstr() { # hex -> CBOR bstr head + hex (lengths < 65536)
	n=$((${#1} / 2))
	if [ $n -lt 24 ]; then printf '%02x%s' $((0x40 + n)) "$1"
	elif [ $n -lt 256 ]; then printf '58%02x%s' $n "$1"
	else printf '59%04x%s' $n "$1"; fi
}
COSEKEY="a40102200121$(bstr "$RX")22$(bstr "$RY")"
ST_IN="83d818$(bstr "$DE")d818$(bstr "$COSEKEY")82$(bstr "$HS")$(bstr "$HR")"
printf '%s' "d818$(bstr "$ST_IN")" | xxd -r -p >"$W/st.cbor"
if cmp -s "$W/st.cbor" "$(xxd -r -p "${P}SESSION_TRANSCRIPT_BYTES.hex" >"$W/st-vec.cbor"; echo "$W/st-vec.cbor")"; then
	ok "SessionTranscriptBytes rebuilt from DE, EReaderKey and handover equals the vector"
else
	nok "SessionTranscriptBytes rebuilt from its parts differs from the vector"
	cp "$W/st-vec.cbor" "$W/st.cbor"
fi
# the engagement carries the device's ephemeral key
case $DE in *"$EDK"*) ok "DeviceEngagement carries EDeviceKeyBytes" ;; *) nok "EDeviceKey not in DE" ;; esac
# EREADER.pem: a DER ECPrivateKey (RFC 5915) from d, x, y on P-256
printf '%s' "307702010104 20${RD} a00a06082a8648ce3d030107 a14403420004${RX}${RY}" | tr -d ' ' |
	xxd -r -p | openssl ec -inform DER -out "$W/er.pem" 2>/dev/null

AT=2021-01-01T00:00:00Z
run() { # args...; sets RC, OUT, ERR
	"$MN" verify-mdoc "$@" >"$W/out" 2>"$W/err"
	RC=$?
}
expect_fail() { # name file [check] [st]
	run --trust "$W/iaca.pem" --session-transcript "${4:-$W/st.cbor}" --reader-key "$W/er.pem" \
		--at $AT "$2"
	if [ $RC -eq 1 ] && [ ! -s "$W/out" ] && { [ -z "${3:-}" ] || grep -q "check $3" "$W/err"; }; then
		ok "$1 ($(cat "$W/err"))"
	else
		nok "$1: rc=$RC stderr=$(cat "$W/err")"
	fi
}
flip() { # src dst offset: xor one byte with 0x01
	cp "$1" "$2"
	b=$(xxd -s "$3" -l 1 -p "$1")
	printf "$(printf '\\%03o' $((0x$b ^ 1)))" | dd of="$2" bs=1 seek="$3" conv=notrunc 2>/dev/null
}
offset_of() { # file text -> byte offset of the first occurrence
	grep -obUa "$2" "$1" | head -n1 | cut -d: -f1
}

# --- positive
run --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" --reader-key "$W/er.pem" --at $AT \
	"$W/resp.cbor"
if [ $RC -eq 0 ] && grep -q '"org.iso.18013.5.1":{' "$W/out" && grep -q '"family_name":"Doe"' "$W/out" &&
	grep -q '"issue_date":"2019-10-20"' "$W/out" && grep -q '"document_number":"123456789"' "$W/out" &&
	grep -q '"portrait":"/9j/' "$W/out" && grep -q '"vehicle_category_code":"A"' "$W/out"; then
	ok "Annex D verifies at $AT with the expected elements"
else
	nok "Annex D at $AT: rc=$RC $(cat "$W/err")"
fi

# --- negative
run --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" --reader-key "$W/er.pem" "$W/resp.cbor"
if [ $RC -eq 1 ] && grep -q "check certificate-validity\|check mso-validity" "$W/err"; then
	ok "fails today (expired): $(cat "$W/err")"
else
	nok "today: rc=$RC $(cat "$W/err")"
fi
run --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" --at $AT "$W/resp.cbor"
if [ $RC -eq 1 ] && grep -q "check device-auth" "$W/err"; then
	ok "deviceMac without --reader-key fails"
else
	nok "without reader key: rc=$RC $(cat "$W/err")"
fi

hex "${P}DEVICE_RESPONSE.hex" | sed 's/63446f65/63466f65/' | xxd -r -p >"$W/foe.cbor"
expect_fail "element value changed (Doe -> Foe)" "$W/foe.cbor" digest
o=$(offset_of "$W/resp.cbor" valueDigests)
flip "$W/resp.cbor" "$W/dig.cbor" $((o + 40))
expect_fail "MSO digest byte changed" "$W/dig.cbor" issuer-signature
o=$(offset_of "$W/resp.cbor" deviceSigned)
flip "$W/resp.cbor" "$W/sig.cbor" $((o - 10))
expect_fail "IssuerAuth signature byte changed" "$W/sig.cbor" issuer-signature
o=$(grep -obUa status "$W/resp.cbor" | tail -n1 | cut -d: -f1) # the MAC tag precedes "status"
flip "$W/resp.cbor" "$W/mac.cbor" $((o - 10))
expect_fail "deviceMac byte changed" "$W/mac.cbor" device-auth
stlen=$(wc -c <"$W/st.cbor")
flip "$W/st.cbor" "$W/st2.cbor" $((stlen - 10))
expect_fail "transcript (handover) byte changed" "$W/resp.cbor" device-auth "$W/st2.cbor"
flip "$W/st.cbor" "$W/st3.cbor" 120
expect_fail "transcript byte changed (reader key area)" "$W/resp.cbor" "" "$W/st3.cbor"
cp "$W/resp.cbor" "$W/trail.cbor"
printf '\000' >>"$W/trail.cbor"
expect_fail "trailing garbage appended" "$W/trail.cbor" cbor
hex "${P}DEVICE_RESPONSE.hex" | sed 's/^a3/bf/; s/$/ff/' | xxd -r -p >"$W/indef.cbor"
expect_fail "indefinite-length top-level map" "$W/indef.cbor" cbor
# a wrong trust anchor
xxd -r -p "${P}READER_ROOT_CERT.hex" | openssl x509 -inform DER -out "$W/other.pem"
run --trust "$W/other.pem" --session-transcript "$W/st.cbor" --reader-key "$W/er.pem" --at $AT \
	"$W/resp.cbor"
if [ $RC -eq 1 ] && grep -q "check certificate-chain" "$W/err"; then ok "untrusted IACA fails"; else nok "untrusted IACA: rc=$RC"; fi

# --- generated fixtures (tests/unit/test_mdoc --write): deviceSignature, JSON output rules
GEN=$TOP_BUILD/tests/unit/test_mdoc
if [ -x "$GEN" ] && "$GEN" --write "$W" >/dev/null 2>&1; then
	run_gen() { # NAME: $W/NAME.cbor, NAME-st.cbor, NAME-iaca.pem -> RC, out, err
		"$MN" verify-mdoc --trust "$W/$1-iaca.pem" --session-transcript "$W/$1-st.cbor" \
			--at $AT "$W/$1.cbor" >"$W/out" 2>"$W/err"
		RC=$?
	}
	cp "$W/gen-iaca.pem" "$W/gen-ok-iaca.pem"
	cp "$W/gen-st.cbor" "$W/gen-ok-st.cbor"
	run_gen gen-ok
	if [ $RC -eq 0 ] && grep -q '^{"org.test":{"name":"Taro","value":"A"}}$' "$W/out"; then
		ok "generated mdoc with deviceSignature verifies"
	else
		nok "generated mdoc: rc=$RC out=$(cat "$W/out") err=$(cat "$W/err")"
	fi
	run_gen gen-nojson
	if [ $RC -eq 1 ] && [ ! -s "$W/out" ] && grep -q "cannot be shown as JSON" "$W/err"; then
		ok "a value without a JSON form: exit 1, nothing on stdout"
	else
		nok "no-JSON value: rc=$RC out=$(head -c 200 "$W/out") err=$(cat "$W/err")"
	fi
	run_gen gen-twodocs
	if [ $RC -eq 1 ] && [ ! -s "$W/out" ] && grep -q "twice" "$W/err"; then
		ok "the same element in two documents: exit 1, nothing on stdout (no duplicate JSON key)"
	else
		nok "two documents: rc=$RC out=$(head -c 200 "$W/out") err=$(cat "$W/err")"
	fi
	L=$(locale -a 2>/dev/null | grep -i -m1 -E '^(de_DE|fr_FR|ru_RU)\.utf-?8$' || true)
	if [ -n "$L" ]; then
		LC_ALL=$L "$MN" verify-mdoc --trust "$W/gen-float-iaca.pem" \
			--session-transcript "$W/gen-float-st.cbor" --at $AT "$W/gen-float.cbor" \
			>"$W/out" 2>"$W/err"
		RC=$?
		if [ $RC -eq 0 ] && grep -q '"value":1.5}' "$W/out"; then
			ok "numbers are JSON in the $L locale"
		else
			nok "float in $L: rc=$RC out=$(cat "$W/out")"
		fi
	else
		echo "ok - SKIP numbers in a comma-decimal locale (none installed)"
	fi
else
	nok "tests/unit/test_mdoc --write did not produce the generated fixtures"
fi

# 22 nested tags around a 4096-element array: walked once (was 2^22 walks, minutes of CPU)
{
	i=0
	while [ $i -lt 22 ]; do printf '\330\144'; i=$((i + 1)); done
	printf '\231\020\000'
	head -c 4096 /dev/zero
} >"$W/nested.cbor"
if command -v timeout >/dev/null 2>&1; then
	timeout 20 "$MN" verify-mdoc --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" \
		--reader-key "$W/er.pem" --at $AT "$W/nested.cbor" >"$W/out" 2>"$W/err"
	RC=$?
	if [ $RC -eq 1 ] && grep -q "check structure" "$W/err"; then
		ok "deeply tagged input rejected at once ($(cat "$W/err"))"
	else
		nok "nested tags: rc=$RC (124 = timed out) $(cat "$W/err")"
	fi
fi

# an encrypted reader key is refused, never prompted for
openssl ec -in "$W/er.pem" -aes128 -passout pass:secret -out "$W/er-enc.pem" 2>/dev/null
if command -v timeout >/dev/null 2>&1 && [ -s "$W/er-enc.pem" ]; then
	timeout 20 "$MN" verify-mdoc --trust "$W/iaca.pem" --session-transcript "$W/st.cbor" \
		--reader-key "$W/er-enc.pem" --at $AT "$W/resp.cbor" >"$W/out" 2>"$W/err" </dev/null
	RC=$?
	if [ $RC -eq 1 ] && [ ! -s "$W/out" ] && grep -q "cannot read the reader private key" "$W/err"; then
		ok "encrypted reader key refused without a prompt"
	else
		nok "encrypted reader key: rc=$RC (124 = waited for a passphrase) $(cat "$W/err")"
	fi
fi

# --- usage errors: exit 2, no configuration needed
for args in "" "--trust $W/iaca.pem $W/resp.cbor" "--session-transcript $W/st.cbor $W/resp.cbor" \
	"--trust $W/iaca.pem --session-transcript $W/st.cbor" \
	"--trust $W/iaca.pem --session-transcript $W/st.cbor --at yesterday $W/resp.cbor" \
	"--trust $W/iaca.pem --session-transcript $W/st.cbor --bogus x $W/resp.cbor" \
	"--trust $W/iaca.pem --session-transcript $W/st.cbor $W/resp.cbor extra"; do
	# shellcheck disable=SC2086
	run $args
	if [ $RC -eq 2 ]; then ok "usage error exits 2: [$args]"; else nok "usage [$args]: rc=$RC"; fi
done

echo "$PASS passed, $FAIL failed"
[ $FAIL -eq 0 ]
