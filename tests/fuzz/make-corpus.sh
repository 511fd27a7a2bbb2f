#!/bin/sh
# Regenerate the seed corpora tests/fuzz/corpus/NAME and the fixtures tests/fuzz/fixtures of
# the fuzz targets (doc/fuzzing.md) with our own tools, from a normal build:
#   ./configure && make && tests/fuzz/make-corpus.sh [BUILDDIR]
# Everything comes from mynumber-sim (a card with its test JPKI PKI, CRLs, the phone wallet
# with its test IACA), tests/fuzz/gen-seeds (one in-process NFC session between the reader
# library and the simulated wallet, and the card's APDUs), openssl (OCSP responses for the
# simulated card's CA) and hand-written text below. Keys and certificates are made anew each
# time: regenerate corpora and fixtures together. Nothing is copied from elsewhere.
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BLD=${1:-$SRC}
F=$SRC/tests/fuzz
C=$F/corpus
FX=$F/fixtures
SIM=$BLD/tools/mynumber-sim
make -C "$BLD" tools/mynumber-sim tests/fuzz/gen-seeds tests/fuzz/gen-driver-seeds >/dev/null
GEN=$BLD/tests/fuzz/gen-seeds
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

mkdir -p "$FX"
for n in mdoc_verify cbor cose session engagement ble card opensc_driver cardinfo crl ocsp http conf store \
	ldapcache nssmap proto; do
	rm -rf "${C:?}/$n"
	mkdir -p "$C/$n" "$F/regressions/$n"
done
# seed NAME FILE...: the files concatenated as one seed
seed() {
	d=$1
	n=$2
	shift 2
	cat "$@" >"$C/$d/$n"
}
# a byte given in hex, into a file
byte() { printf "\\$(printf '%03o' "0x$1")"; }
# a 2-byte big-endian length of FILE
len16() { s=$(wc -c <"$1"); byte "$(printf '%02x' $((s >> 8)))"; byte "$(printf '%02x' $((s & 255)))"; }

# ---- a card (JPKI test PKI) and its CRLs
"$SIM" init "$W/card" >/dev/null
"$SIM" init "$W/card2" >/dev/null
"$SIM" crl --der "$W/card" "$W/crl-empty.der" >/dev/null
"$SIM" crl --der --revoke self --entries 5 --crl-number 2 "$W/card" "$W/crl-revoked.der" >/dev/null
"$SIM" crl "$W/card" "$W/crl.pem" >/dev/null
"$SIM" crl --der --ca sign --crl-number 3 "$W/card" "$W/crl-sign.der" >/dev/null
"$SIM" crl --der --signer-dir "$W/card2" "$W/card" "$W/crl-wrong.der" >/dev/null
"$SIM" crl --der --entries 1 --crl-number 9 "$W/card" "$W/crl-9.der" >/dev/null
cat "$W/card/auth-ca.pem" "$W/card/sign-ca.pem" >"$FX/crl-anchors.pem"
date +%s >"$FX/crl-time"
{ byte 00; cat "$W/crl.pem"; } >"$C/crl/full-pem"
{ byte 00; cat "$W/crl-revoked.der"; } >"$C/crl/full-revoked"
{ byte 00; cat "$W/crl-empty.der"; } >"$C/crl/full-empty"
{ byte 00; cat "$W/crl-sign.der"; } >"$C/crl/full-sign"
{ byte 00; cat "$W/crl-wrong.der"; } >"$C/crl/full-wrong"
{ byte 00; cat "$W/crl-9.der"; } >"$C/crl/full-9"
{ byte 02; len16 "$W/crl-empty.der"; cat "$W/crl-empty.der" "$W/crl-revoked.der"; } >"$C/crl/then-newer"
# index files as "mynumber crl import" writes them (mode bit 0: the input is an index)
mkdir -p "$W/idx"
printf 'trust_anchors = %s\n[revocation.crl]\ndir = %s\n' "$FX/crl-anchors.pem" "$W/idx" >"$W/mn.conf"
chmod 600 "$W/mn.conf"
"$BLD/tools/mynumber" --config "$W/mn.conf" crl import "$W/crl-revoked.der" "$W/crl-sign.der" \
	>/dev/null
for f in "$W"/idx/*.idx; do
	{ byte 01; cat "$f"; } >"$C/crl/index-$(basename "$f" | cut -c1-8)"
done

# ---- OCSP: responses of the card's auth CA about its auth certificate
O=$W/ocsp
mkdir -p "$O"
cp "$W/card/auth-ca.pem" "$FX/ocsp-issuer.pem"
cp "$W/card/auth.pem" "$FX/ocsp-cert.pem"
serial=$(openssl x509 -in "$W/card/auth.pem" -noout -serial | sed 's/serial=//')
exp=$(date -u -d '+1 year' +%y%m%d%H%M%SZ)
revd=$(date -u -d '-1 day' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t/CN=x\n' "$exp" "$serial" >"$O/good.txt"
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=x\n' "$exp" "$revd" "$serial" >"$O/revoked.txt"
: >"$O/unknown.txt"
for st in good revoked unknown; do
	for md in sha1 sha256; do
		openssl ocsp -issuer "$W/card/auth-ca.pem" -"$md" -cert "$W/card/auth.pem" -no_nonce \
			-reqout "$O/req-$md.der" >/dev/null 2>&1
		openssl ocsp -index "$O/$st.txt" -CA "$W/card/auth-ca.pem" -rsigner "$W/card/auth-ca.pem" \
			-rkey "$W/card/auth-ca.key" -reqin "$O/req-$md.der" -ndays 7 \
			-respout "$O/resp-$st-$md.der" >/dev/null 2>&1
		m=03
		[ "$md" = sha256 ] && m=0b
		{ byte $m; cat "$O/resp-$st-$md.der"; } >"$C/ocsp/$st-$md"
	done
done
{ byte 07; cat "$O/resp-good-sha1.der"; } >"$C/ocsp/good-trusted"
{ byte 01; cat "$O/resp-good-sha1.der"; } >"$C/ocsp/good-nonce-required"

# ---- the phone wallet and one NFC session with it
"$SIM" init --profile wallet "$W/wallet" >/dev/null
mkdir -p "$W/s" "$W/tnep" "$W/apdu"
"$GEN" "$W/wallet" "$W/s"
"$GEN" "$W/wallet" "$W/tnep" tnep 2>/dev/null
"$GEN" --card "$W/card" "$W/apdu"
cp "$W/wallet/iaca.pem" "$FX/mdoc-iaca.pem"
cp "$W/s/transcript.cbor" "$FX/mdoc-transcript.cbor"
date +%s >"$FX/mdoc-time"
S=$W/s
{ byte 00; cat "$S/response.cbor"; } >"$C/mdoc_verify/response"
{ byte 02; cat "$S/response.cbor"; } >"$C/mdoc_verify/response-reader-key"
{ byte 01; len16 "$S/transcript.cbor"; cat "$S/transcript.cbor" "$S/response.cbor"; } \
	>"$C/mdoc_verify/response-with-transcript"
# the regression of finding 1 (doc/fuzzing.md): the fresh DeviceResponse with a float in
# the payload slot of its detached deviceSignature (it aborted the verifier in libcbor's
# cbor_is_null); made here because it must carry a document signed under the new IACA
python3 - "$C/mdoc_verify/response" "$F/regressions/mdoc_verify/device-signature-float-payload" <<'PY'
import sys
r = open(sys.argv[1], "rb").read()
i = r.index(b"deviceSignature") + len(b"deviceSignature")
assert r[i] == 0x84  # [protected, unprotected, payload, signature]
i += 1
ai = r[i] & 31
i += 1 + ai if ai < 24 else 2 + r[i + 1]  # the protected bstr
assert r[i] == 0xa0 and r[i + 1] == 0xf6  # {} then null
open(sys.argv[2], "wb").write(r[:i + 1] + bytes([0xf9, 0x3c, 0x00]) + r[i + 2:])
PY
for f in response transcript de establish sessiondata reader-key; do
	cp "$S/$f.cbor" "$C/cbor/$f"
done
printf '2026-11-23T18:04:05Z' >"$C/cbor/tdate"
printf '2026-11-23T18:04:05.123+09:00' >"$C/cbor/rfc3339"
printf '2026-11-23' >"$C/cbor/full-date"
{ byte 00; cat "$S/establish.cbor"; } >"$C/session/establishment"
{ byte 01; cat "$S/sessiondata.cbor"; } >"$C/session/sessiondata"
{ byte 01; printf '\241\146status\024'; } >"$C/session/termination"
{ byte 02; cat "$S/reader-key.cbor"; } >"$C/session/cose-key"
{ byte 03; printf '\000\020\001{"hello": "mdoc"}'; } >"$C/session/tamper"
{ byte 00; cat "$S/hs.ndef"; } >"$C/engagement/handover-select"
{ byte 00; cat "$W/tnep/hs.ndef"; } >"$C/engagement/handover-select-tnep"
cp "$S/apdus.bin" "$C/engagement/static-handover"
cp "$W/tnep/apdus.bin" "$C/engagement/negotiated-handover"
{ byte 03; tail -c +2 "$S/apdus.bin"; } >"$C/engagement/static-handover-extended"
# COSE: IssuerAuth (COSE_Sign1) and deviceSignature of the DeviceResponse, EReaderKey, as
# [2-byte length][CBOR][detached payload]
python3 - "$S/response.cbor" "$S/reader-key.cbor" "$C/cose" <<'PY'
import sys, struct
def head(b, i):
    ib = b[i]; mt, ai = ib >> 5, ib & 31; i += 1
    if ai < 24: return mt, ai, i
    n = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
    return mt, int.from_bytes(b[i:i + n], "big"), i + n
def skip(b, i):
    mt, v, j = head(b, i)
    if mt in (2, 3): return j + v
    if mt == 4:
        for _ in range(v): j = skip(b, j)
        return j
    if mt == 5:
        for _ in range(2 * v): j = skip(b, j)
        return j
    if mt == 6: return skip(b, j)
    return j
def find_key(b, i, key):
    """value span of text key in the map at i"""
    mt, n, j = head(b, i)
    assert mt == 5
    for _ in range(n):
        k0 = j; j = skip(b, j); v0 = j; j = skip(b, j)
        kmt, kl, kd = head(b, k0)
        if kmt == 3 and b[kd:kd + kl] == key.encode(): return v0, j
    raise KeyError(key)
r = open(sys.argv[1], "rb").read()
out = sys.argv[3]
docs, _ = find_key(r, 0, "documents")
doc = head(r, docs)[2]
isig, _ = find_key(r, doc, "issuerSigned")
ia0, ia1 = find_key(r, isig, "issuerAuth")
dsig, _ = find_key(r, doc, "deviceSigned")
da, _ = find_key(r, dsig, "deviceAuth")
ds0, ds1 = find_key(r, da, "deviceSignature")
def put(name, cb, payload=b""):
    open(out + "/" + name, "wb").write(struct.pack(">H", len(cb)) + cb + payload)
put("issuer-auth", r[ia0:ia1])
put("device-signature", r[ds0:ds1], b"detached payload")
k = open(sys.argv[2], "rb").read()
put("cose-key-tagged", k)
mt, l, j = head(k, 2)  # d8 18 then the bstr
put("cose-key", k[j:j + l])
put("mac0", bytes([0x84, 0x43, 0xa1, 0x01, 0x05, 0xa0, 0xf6, 0x58, 0x20]) + bytes(32), b"x")
PY
# ---- BLE: [max_msg][max_chunks] then chunks as [2-byte length][header + data]
{ byte 00; byte 00; byte 00; byte 00; byte 06; byte 01; printf 'hello'; byte 00; byte 07; byte 00
	printf ' world'; } >"$C/ble/two-chunks"
{ byte 00; byte 20; byte 02; byte 00; byte 03; byte 01; printf 'ab'; byte 00; byte 03; byte 00
	printf 'cd'; byte 00; byte 01; byte 05; } >"$C/ble/bounded"
{ byte 00; byte 17; cat "$S/establish.cbor"; } >"$C/ble/chunk-roundtrip"
# ---- card formats: the APDUs of one card session (select, token info, certificate, PIN
# status, card-info attributes)
for f in "$W"/apdu/capdu-*.bin; do cp "$f" "$C/card/$(basename "$f" .bin)"; done
cp "$W/apdu/tokeninfo.bin" "$C/card/tokeninfo"
printf '\220\000' >"$C/card/sw-9000"
printf '\143\303' >"$C/card/sw-63c3"
printf 'ABC123' >"$C/card/sign-password"
printf '1234' >"$C/card/pin"
cp "$W/apdu/attrs.bin" "$C/cardinfo/attrs"
head -c 64 "$W/apdu/auth-cert.bin" >"$C/cardinfo/cert-head"
# ---- the OpenSC driver: one session (match, init, PKCS#15, certificates, PIN status, VERIFY,
# signature, logout) against each card profile of the simulator, recorded
for p in card android iphone juki; do
	[ "$p" = card ] && d=$W/card || { d=$W/card-$p; "$SIM" init --profile "$p" "$d" >/dev/null; }
	mkdir -p "$W/state-$p"
	"$BLD/tests/fuzz/gen-driver-seeds" "$d" "$W/state-$p" "$C/opensc_driver/$p" 2>/dev/null
done
# ---- revocation http backend answers
printf '{"status":"good","this_update":"2026-11-23T00:00:00Z","next_update":"2026-11-24T00:00:00Z"}' \
	>"$C/http/good"
printf '{"status":"revoked","reason":"keyCompromise","revoked_at":"2026-11-20T10:00:00Z","this_update":"2026-11-23T00:00:00Z","successor":"0A1B2C3D"}' \
	>"$C/http/revoked"
printf '{"status":"unknown"}' >"$C/http/unknown"
# ---- configuration
cp "$SRC/pam_mynumber/mynumber.conf" "$C/conf/shipped"
cat >"$C/conf/full" <<'CONF'
# hand-written: every section
store_backend = ldap
[ldap]
uri = ldaps://ldap.example.org
base = ou=people,dc=example,dc=org
[accounts]
uid_min = 70000
uid_max = 79999
group = mynumber
group_gid = 69999
[revocation.crl]
index_dir = /var/lib/mynumber/crl
[revocation.http]
url = https://rev.example.org/v1/{serial}
CONF
# ---- stores (v1..v3) and records, LDAP cache, NSS map: made by our code where it writes them
python3 - "$C" <<'PY'
import sys
c = sys.argv[1]
h = "0" * 64
b = f"{h}\tcard\t0123456789ABCDEF\t20301231235959Z\t0A1B\tCN=JPKI auth CA\tmy card\t\t"
open(c + "/store/v1", "w").write("# mynumber enrollment store v1\nalice\t1\t" + b + "\n")
open(c + "/store/v3", "w").write("# mynumber enrollment store v3\nalice\t1\t" + b + "\n"
    "bob\t2\tphone\t" + "1" * 32 + "\t" + h + "\t" + h + "\t20260101000000Z\tphone\n"
    "carol\t3\taccount\t70001\t20260101000000Z\tCarol\n")
open(c + "/store/records", "w").write("# mynumber enrollment store v3\n\0" + b + "\0phone\t"
    + "1" * 32 + "\t" + h + "\t" + h + "\t20260101000000Z\tp\0account\t70002\t20260101000000Z\tX")
open(c + "/ldapcache/v1", "w").write("# mynumber ldap cache v1 fetched=1790000000\n"
    "alice\t1\t" + b + "\n")
open(c + "/ldapcache/full", "w").write("# mynumber ldap cache v1 full fetched=1790000000\n"
    "alice\t1\t" + b + "\ncarol\t3\taccount\t70001\t20260101000000Z\tCarol\n")
PY
make -C "$BLD" tests/nss/nssmap-tool >/dev/null
printf 'u\talice\t70001\t70001\tAlice\t/home/alice\t/bin/sh\nu\tbob\t70002\t69999\t\t/home/bob\t/bin/bash\ng\tmynumber\t69999\talice,bob\ng\tempty\t69998\t\n' |
	"$BLD/tests/nss/nssmap-tool" write "$C/nssmap/two-users" 4102444800
"$BLD/tests/nss/nssmap-tool" gen 5 "$C/nssmap/gen-5"
printf '' | "$BLD/tests/nss/nssmap-tool" write "$C/nssmap/empty" 0
# ---- the helper <-> module protocol: frames [type][2-byte length][text]
{ printf 'I'; byte 00; byte 05; printf 'hello'; printf 'P'; byte 00; byte 04; printf 'PIN:'
	printf 'R'; byte 00; byte 01; byte 00; } >"$C/proto/login"
{ printf 'A'; byte 00; byte 04; printf '1234'; printf 'X'; byte 00; byte 00; } >"$C/proto/answer"
echo "corpora in $C, fixtures in $FX"
