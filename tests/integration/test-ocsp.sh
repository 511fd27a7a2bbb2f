#!/bin/sh
# The ocsp revocation backend (revocation/ocsp.so), asked through tests/rev-query: openssl ocsp
# responders (good, revoked, unknown; delegated, issuer-signed, unauthorized signers) and small
# fake responders (tryLater, slow, garbage, oversized, nonces) on this test's private loopback.
# Then, through pam_mynumber: a login that the OCSP answer allows or refuses before the PIN.
. "$(dirname "$0")/harness.sh"

RQ=$MN_TOP_BUILDDIR/tests/rev-query
OCSP_SO=$MN_TOP_BUILDDIR/revocation/.libs/ocsp.so
O=$T/ocsp
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed (run tools/install-deps)"
	exit 77
fi
if [ ! -x "$RQ" ] || [ ! -f "$OCSP_SO" ]; then
	echo "Bail out! build tests/rev-query and revocation/ocsp.la first (make check does)"
	exit 99
fi

# rq [CERT] [rev-query options and settings]: ask about the card's auth certificate
rq()
{
	_c=$T/card/auth.pem
	case "${1:-}" in /*.pem)
		_c=$1
		shift
		;;
	esac
	"$RQ" "$OCSP_SO" "$_c" "$T/card/auth-ca.pem" "$@"
}

ms_now()
{
	echo $(($(date +%s%N) / 1000000))
}

# --- the card, a responder certificate its auth CA delegated, and impostors
mn_card_init card
mn_card_init other # another card: another CA key under the very same CA name
mkdir -p "$O"
CA=$T/card/auth-ca.pem
CAKEY=$T/card/auth-ca.key
# cert NAME SUBJECT EXTENSIONS [CA CAKEY]: a key and a certificate (self-signed without a CA)
cert()
{
	printf '%b\n' "$3" >"$O/$1.ext"
	openssl req -new -newkey rsa:2048 -nodes -keyout "$O/$1.key" -subj "$2" \
		-out "$O/$1.csr" >/dev/null 2>&1 || return 1
	if [ -n "${4:-}" ]; then
		openssl x509 -req -in "$O/$1.csr" -CA "$4" -CAkey "$5" -set_serial "0x$(od -An -N8 \
			-tx1 /dev/urandom | tr -d ' \n')" -days 30 -extfile "$O/$1.ext" \
			-out "$O/$1.pem" >/dev/null 2>&1
	else
		openssl x509 -req -in "$O/$1.csr" -signkey "$O/$1.key" -days 30 \
			-extfile "$O/$1.ext" -out "$O/$1.pem" >/dev/null 2>&1
	fi
}
EKU='extendedKeyUsage = OCSPSigning\nkeyUsage = critical, digitalSignature'
check "a delegated responder certificate (OCSPSigning)" \
	cert resp "/C=JP/O=JPKI-TEST/CN=Test OCSP Responder" "$EKU" "$CA" "$CAKEY"
check "a responder certificate without OCSPSigning" \
	cert noeku "/C=JP/O=JPKI-TEST/CN=Test OCSP Responder 2" \
	'keyUsage = critical, digitalSignature' "$CA" "$CAKEY"
check "a self-signed responder certificate" cert self "/C=JP/O=Elsewhere/CN=Self OCSP" "$EKU"
check "a second leaf of the card's CA, in no index" \
	cert stranger "/C=JP/CN=STRANGER0000001" 'keyUsage = critical, digitalSignature' \
	"$CA" "$CAKEY"

SERIAL=$(openssl x509 -in "$T/card/auth.pem" -noout -serial | cut -d= -f2)
SUBJECT=$(openssl x509 -in "$T/card/auth.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
NOT_AFTER=$(date -u -d "$(openssl x509 -in "$T/card/auth.pem" -noout -enddate | cut -d= -f2)" \
	+%y%m%d%H%M%SZ)
REVOKED_AT=$(($(date +%s) - 86400))
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$NOT_AFTER" "$SERIAL" "$SUBJECT" >"$O/index-good.txt"
printf 'R\t%s\t%s,keyCompromise\t%s\tunknown\t%s\n' "$NOT_AFTER" \
	"$(date -u -d "@$REVOKED_AT" +%y%m%d%H%M%SZ)" "$SERIAL" "$SUBJECT" >"$O/index-revoked.txt"

# responder NAME PORT INDEX SIGNER SIGNERKEY [openssl ocsp options]: openssl ocsp in the
# background (it binds every address, and there is only this namespace's loopback)
responder()
{
	_n=$1
	_port=$2
	_idx=$3
	_rs=$4
	_rk=$5
	shift 5
	openssl ocsp -index "$O/$_idx" -port "$_port" -rsigner "$_rs" -rkey "$_rk" -CA "$CA" \
		-ignore_err "$@" >"$O/$_n.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_until 10 grep -q 'waiting for OCSP client connections' "$O/$_n.log"; then
		echo "Bail out! openssl ocsp ($_n) did not start"
		cat "$O/$_n.log"
		exit 99
	fi
}

# fake NAME PORT BODYFILE [delay=S] [status=N] [type=T] [nolength]: python3 serving BODYFILE
# to every POST
cat >"$O/fake.py" <<'EOF'
import http.server, socketserver, sys, time
port, body = int(sys.argv[1]), open(sys.argv[2], 'rb').read()
opt = dict(a.split('=', 1) if '=' in a else (a, '1') for a in sys.argv[3:])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        if 0 < n <= 65536:
            self.rfile.read(n)
        time.sleep(float(opt.get('delay', '0')))
        self.send_response(int(opt.get('status', '200')))
        self.send_header('Content-Type', opt.get('type', 'application/ocsp-response'))
        if 'nolength' not in opt:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
s = S(('127.0.0.1', port), H)
print('ready', flush=True)
s.serve_forever()
EOF
fake()
{
	_n=$1
	shift
	python3 "$O/fake.py" "$@" >"$O/$_n.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_until 10 grep -q '^ready' "$O/$_n.log"; then
		echo "Bail out! fake responder $_n did not start"
		cat "$O/$_n.log"
		exit 99
	fi
}

URL=url=http://127.0.0.1

# --- openssl ocsp: the delegated responder
responder good 18001 index-good.txt "$O/resp.pem" "$O/resp.key" -ndays 1
responder revoked 18002 index-revoked.txt "$O/resp.pem" "$O/resp.key" -ndays 1
check "good: asked" rq "$URL:18001/"
expect "good: status and a nextUpdate to cache until" \
	'^status=good reason=-1 revoked_at=0 this_update=[1-9][0-9]* cache_until=[1-9]'
expect "good: the detail names the URL and the dates" \
	'ocsp: http://127.0.0.1:18001/: good \(thisUpdate 20.*, nextUpdate 20'
_tu=$(sed -n 's/.*this_update=\([0-9]*\) .*/\1/p' "$T/out")
_cu=$(sed -n 's/.*cache_until=\([0-9]*\).*/\1/p' "$T/out")
check "good: nextUpdate is one day after thisUpdate" test $((_cu - _tu)) -eq 86400
check "good with a SHA-1 CertID" rq "$URL:18001/" digest=sha1
expect "sha1: good" '^status=good'
check "good by host name, with a path" rq url=http://localhost:18001/ocsp/path
expect "localhost: good" '^status=good'
check "good over IPv6 loopback" rq 'url=http://[::1]:18001/'
expect "[::1]: good" '^status=good'
check "good without a nonce" rq "$URL:18001/" nonce=no
expect "nonce = no: good" '^status=good'

check "revoked: asked" rq "$URL:18002/"
expect "revoked: keyCompromise (1) and the revocation date" \
	"^status=revoked reason=1 revoked_at=$REVOKED_AT this_update=[1-9][0-9]* cache_until=[1-9]"
expect "revoked: the detail says so" 'revoked at 20[0-9-]*T[0-9:]*Z \(keyCompromise\)'

check "unknown: a certificate of the CA in no index" rq "$O/stranger.pem" "$URL:18001/"
expect "unknown: status" '^status=unknown'
expect "unknown: detail" 'the responder does not know this certificate'

check "the response is too old for a later clock" \
	rq "$URL:18001/" --now $(($(date +%s) + 3 * 86400))
expect "stale: UNAVAILABLE" '^status=unavailable reason=-1 revoked_at=0 this_update=0 cache_until=0'
expect "stale: said so" 'stale OCSP response \(nextUpdate'
check "the responder certificate has expired for a much later clock" \
	rq "$URL:18001/" --now $(($(date +%s) + 40 * 86400))
expect "expired responder: UNAVAILABLE" '^status=unavailable'
expect "expired responder: said so" 'the responder certificate is not valid now'
check "max_response below the response size" rq "$URL:18001/" max_response=1024
expect "too large: UNAVAILABLE" '^status=unavailable'
expect "too large: said so" 'larger than max_response \(1024 bytes\)'

# --- who may sign
responder byissuer 18003 index-good.txt "$CA" "$CAKEY" # no -ndays: no nextUpdate
check "signed by the issuer itself" rq "$URL:18003/"
expect "issuer-signed: good, no nextUpdate: do not cache" '^status=good .* cache_until=0$'
expect "issuer-signed: detail" 'nextUpdate none'
check "a response from the future" rq "$URL:18003/" --now $(($(date +%s) - 3600))
expect "future: UNAVAILABLE" '^status=unavailable'
expect "future: said so" 'the response is from the future'

responder self 18004 index-good.txt "$O/self.pem" "$O/self.key" -ndays 1
check "signed by a self-signed responder" rq "$URL:18004/"
expect "self-signed: UNAVAILABLE" '^status=unavailable'
expect "self-signed: not issued by the CA" \
	'response rejected: the responder certificate is not issued by the certificate.s CA'
check "the same, with that responder as responder_cert" rq "$URL:18004/" \
	responder_cert="$O/self.pem"
expect "trusted directly: good" '^status=good'

responder impostor 18005 index-good.txt "$T/other/auth-ca.pem" "$T/other/auth-ca.key" -ndays 1
check "signed by another CA key under the issuer's name" rq "$URL:18005/"
expect "impostor: UNAVAILABLE" '^status=unavailable'
expect "impostor: rejected" 'response rejected: the responder certificate is not issued'

responder noeku 18006 index-good.txt "$O/noeku.pem" "$O/noeku.key" -ndays 1
check "signed by a CA certificate without OCSPSigning" rq "$URL:18006/"
expect "no EKU: UNAVAILABLE" '^status=unavailable'
expect "no EKU: said so" 'lacks the OCSPSigning extended key usage'

responder bykey 18007 index-good.txt "$O/resp.pem" "$O/resp.key" -ndays 1 -resp_key_id \
	-resp_no_certs
check "responder by key id, its certificate not in the response" rq "$URL:18007/"
expect "no certificate: UNAVAILABLE" '^status=unavailable'
expect "no certificate: said so" 'signed by an unknown responder'
check "the same with responder_cert" rq "$URL:18007/" responder_cert="$O/resp.pem"
expect "by key id and responder_cert: good" '^status=good'

# --- fake responders
openssl ocsp -issuer "$CA" -sha256 -cert "$T/card/auth.pem" -no_nonce -reqout "$O/req-nn.der" \
	>/dev/null 2>&1
openssl ocsp -issuer "$CA" -sha256 -cert "$T/card/auth.pem" -reqout "$O/req-n.der" \
	>/dev/null 2>&1
for n in nn n; do
	openssl ocsp -index "$O/index-good.txt" -rsigner "$O/resp.pem" -rkey "$O/resp.key" \
		-CA "$CA" -reqin "$O/req-$n.der" -respout "$O/resp-$n.der" -ndays 1 >/dev/null 2>&1
done
check "canned responses made" test -s "$O/resp-nn.der" -a -s "$O/resp-n.der"
printf '\060\003\012\001\003' >"$O/trylater.der"
printf 'this is not an OCSP response\n' >"$O/garbage.der"
{
	printf '\060\203\001\206\240'
	head -c 100000 /dev/zero
} >"$O/huge.der"
cat "$O/resp-nn.der" >"$O/trailing.der"
printf 'X' >>"$O/trailing.der"

fake trylater 18101 "$O/trylater.der"
check "tryLater" rq "$URL:18101/"
expect "tryLater: UNAVAILABLE, named" '^ocsp: .*: the responder answered tryLater$'
expect "tryLater: status" '^status=unavailable'

fake nononce 18102 "$O/resp-nn.der"
check "a response without our nonce" rq "$URL:18102/"
expect "missing nonce: UNAVAILABLE" '^status=unavailable'
expect "missing nonce: said so" 'the response has no nonce'
check "the same with nonce = optional" rq "$URL:18102/" nonce=optional
expect "nonce = optional: good" '^status=good'
fake othernonce 18103 "$O/resp-n.der"
check "a response with another nonce" rq "$URL:18103/" nonce=optional
expect "nonce mismatch: UNAVAILABLE" '^status=unavailable'
expect "nonce mismatch: said so" 'the response nonce does not match'

fake garbage 18104 "$O/garbage.der"
check "a garbage body" rq "$URL:18104/"
expect "garbage: UNAVAILABLE" '^status=unavailable'
fake huge 18105 "$O/huge.der"
check "a 100 kB body" rq "$URL:18105/"
expect "oversized: UNAVAILABLE" '^status=unavailable'
expect "oversized: said so" 'larger than max_response \(65536 bytes\)'
fake trailing 18106 "$O/trailing.der" nolength
check "a response followed by a byte" rq "$URL:18106/" nonce=no
expect "trailing data: UNAVAILABLE" '^status=unavailable'
expect "trailing data: said so" 'data after the DER response'
fake html 18107 "$O/resp-nn.der" type=text/html
check "the wrong content type" rq "$URL:18107/" nonce=no
expect "content type: UNAVAILABLE" '^status=unavailable'
expect "content type: said so" 'unexpected content type'
fake http500 18108 "$O/resp-nn.der" status=500
check "HTTP 500" rq "$URL:18108/" nonce=no
expect "HTTP 500: UNAVAILABLE" '^status=unavailable'
expect "HTTP 500: said so" 'code=500'

fake slow 18109 "$O/resp-nn.der" delay=5
_t0=$(ms_now)
check "a responder that takes 5 s, with 1000 ms to answer" rq "$URL:18109/" --timeout-ms 1000
_ms=$(($(ms_now) - _t0))
expect "slow: UNAVAILABLE" '^status=unavailable'
expect "slow: timed out" 'timed out waiting for 127.0.0.1:18109'
if [ "$_ms" -ge 950 ] && [ "$_ms" -le 1500 ]; then
	ok "slow: answered at the deadline (${_ms} ms)"
else
	not_ok "slow: answered after ${_ms} ms, not about 1000"
fi

_t0=$(ms_now)
check "nothing listening" rq "$URL:18199/"
_ms=$(($(ms_now) - _t0))
expect "down: UNAVAILABLE" '^status=unavailable'
expect "down: connection refused" 'cannot connect to 127.0.0.1:18199: Connection refused'
if [ "$_ms" -le 500 ]; then
	ok "down: answered at once (${_ms} ms)"
else
	not_ok "down: answered after ${_ms} ms"
fi

# a name server that never answers (this test's mount namespace has its own resolv.conf)
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:2\n' >"$O/resolv.conf"
if mount --bind "$O/resolv.conf" /etc/resolv.conf 2>/dev/null; then
	python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
time.sleep(120)' >"$O/dns.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_until 10 grep -q '^ready' "$O/dns.log"
	_t0=$(ms_now)
	check "a name server that never answers" \
		rq url=http://ocsp.jpki.invalid:18001/ --timeout-ms 1000
	_ms=$(($(ms_now) - _t0))
	umount /etc/resolv.conf
	expect "DNS: UNAVAILABLE" '^status=unavailable'
	expect "DNS: timed out" 'timed out looking up ocsp.jpki.invalid'
	if [ "$_ms" -ge 950 ] && [ "$_ms" -le 1500 ]; then
		ok "DNS: answered at the deadline (${_ms} ms)"
	else
		not_ok "DNS: answered after ${_ms} ms, not about 1000"
	fi
else
	ok "# SKIP no /etc/resolv.conf to replace"
fi

# --- settings
check "no url and no AIA in the certificate" rq
expect "no URL: UNAVAILABLE" '^status=unavailable'
expect "no URL: said so" 'no url setting and no http:// OCSP URL'
check_fails "an unknown setting is refused" rq "$URL:18001/" colour=blue
expect "unknown setting named" "unknown or invalid setting 'colour'"
check_fails "https is refused" rq url=https://127.0.0.1:18001/
expect "https: said so" 'https:// is not supported'
check_fails "digest = md5 is refused" rq "$URL:18001/" digest=md5
check_fails "nonce = maybe is refused" rq "$URL:18001/" nonce=maybe
check_fails "max_response = 10 is refused" rq "$URL:18001/" max_response=10
check_fails "a missing responder_cert is refused" rq "$URL:18001/" responder_cert="$O/none.pem"
check_fails "a URL with a space is refused" rq "url=http://127.0.0.1:18001/a b"

# --- through the login (the core asks the plugins before the PIN)
. "$(dirname "$0")/pam-harness.sh"
mn_card_start card
MN_REV_BACKENDS=none
export MN_REV_BACKENDS
mn_pam_setup card
check "enroll taro (no revocation check)" enroll taro 1234
MN_REV_BACKENDS=ocsp
pam_ocsp()
{
	MN_REV_POLICY=$2
	MN_REV_EXTRA="[revocation.ocsp]
url = http://127.0.0.1:$1/"
	export MN_REV_POLICY MN_REV_EXTRA
	mn_pam_conf
}
pam_ocsp 18199 require
check_fails "login: responder down, policy require, nothing cached" login taro 1234
expect "down: the status is not available" 'revocation status .* is not available'
expect_not "down: no PIN prompt" 'My Number card PIN'
pam_ocsp 18002 require
check_fails "login: revoked" login taro 1234
expect "revoked: said so" 'has been revoked'
expect_not "revoked: no PIN prompt" 'My Number card PIN'
rm -f "$T/state/revocation-cache" # the core keeps REVOKED for offline use
pam_ocsp 18001 require
check "login: good" login taro 1234
expect "good: authenticated" 'successfully authenticated'
expect "good: the PIN was asked" 'My Number card PIN'
pam_ocsp 18199 soft
check "login: responder down, policy soft, GOOD cached until nextUpdate" login taro 1234
expect "cached: authenticated" 'successfully authenticated'

mn_done
