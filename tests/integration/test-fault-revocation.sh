#!/bin/sh
# Revocation backends slow, down or answering garbage during a pam_mynumber login (pamtester):
# OCSP (openssl ocsp and a python fake on this test's private loopback) and the http backend
# (fake-revocation-server.py). Under policy require without a cached answer: PAM_AUTH_ERR,
# "revocation status ... not available", no PIN asked, no VERIFY sent, at the [revocation]
# timeout; a fresh cached GOOD carries the login; garbage is never taken for GOOD.
# Summary lines: "# outcome: CASE | expected | observed".
. "$(dirname "$0")/harness.sh"
. "$(dirname "$0")/pam-harness.sh"
. "$(dirname "$0")/fault-harness.sh"

SERVER=$MN_TOP_SRCDIR/tests/integration/fake-revocation-server.py
O=$T/ocsp
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed (run tools/install-deps)"
	exit 77
fi
mkdir -p "$O"
mn_card_init card
CA=$T/card/auth-ca.pem
CAKEY=$T/card/auth-ca.key

# a delegated OCSP responder and the index saying the card is good
printf 'extendedKeyUsage = OCSPSigning\nkeyUsage = critical, digitalSignature\n' >"$O/resp.ext"
openssl req -new -newkey rsa:2048 -nodes -keyout "$O/resp.key" -subj "/C=JP/O=JPKI-TEST/CN=R" \
	-out "$O/resp.csr" >/dev/null 2>&1
openssl x509 -req -in "$O/resp.csr" -CA "$CA" -CAkey "$CAKEY" -set_serial 0x1234 -days 30 \
	-extfile "$O/resp.ext" -out "$O/resp.pem" >/dev/null 2>&1
SERIAL=$(openssl x509 -in "$T/card/auth.pem" -noout -serial | cut -d= -f2)
SUBJECT=$(openssl x509 -in "$T/card/auth.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
NOT_AFTER=$(date -u -d "$(openssl x509 -in "$T/card/auth.pem" -noout -enddate | cut -d= -f2)" \
	+%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t%s\n' "$NOT_AFTER" "$SERIAL" "$SUBJECT" >"$O/index-good.txt"
openssl ocsp -index "$O/index-good.txt" -port 18301 -rsigner "$O/resp.pem" -rkey "$O/resp.key" \
	-CA "$CA" -ignore_err -ndays 1 >"$O/good.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 10 grep -q 'waiting for OCSP client connections' "$O/good.log" ||
	{ echo "Bail out! openssl ocsp did not start"; exit 99; }

# fake OCSP responders: a body to every POST, after a delay
cat >"$O/fake.py" <<'PY'
import http.server, socketserver, sys, time
port, body, delay = int(sys.argv[1]), open(sys.argv[2], 'rb').read(), float(sys.argv[3])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.0'
    def do_POST(self):
        n = int(self.headers.get('Content-Length', '0'))
        if 0 < n <= 65536:
            self.rfile.read(n)
        time.sleep(delay)
        try:
            self.send_response(200)
            self.send_header('Content-Type', 'application/ocsp-response')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
    def log_message(self, *args):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
s = S(('127.0.0.1', port), H)
print('ready', flush=True)
s.serve_forever()
PY
fake_ocsp()
{
	python3 "$O/fake.py" "$2" "$3" "$4" >"$O/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_until 10 grep -q '^ready' "$O/$1.log" || { echo "Bail out! fake $1"; exit 99; }
}
printf 'this is not an OCSP response\n' >"$O/garbage.der"
openssl ocsp -issuer "$CA" -sha256 -cert "$T/card/auth.pem" -no_nonce -reqout "$O/req.der" \
	>/dev/null 2>&1
openssl ocsp -index "$O/index-good.txt" -rsigner "$O/resp.pem" -rkey "$O/resp.key" -CA "$CA" \
	-reqin "$O/req.der" -respout "$O/good-nononce.der" -ndays 1 >/dev/null 2>&1
fake_ocsp slow 18302 "$O/good-nononce.der" 8   # a good answer, 8 s late
fake_ocsp garbage 18303 "$O/garbage.der" 0
fake_ocsp nononce 18304 "$O/good-nononce.der" 0 # good, but without our nonce: refused

# the http backend's fake service
python3 "$SERVER" --port-file "$T/http.port" --log "$T/http.req" --lifetime 280 >"$T/http.log" 2>&1 &
PIDS="$PIDS $!"
wait_until 10 test -s "$T/http.port" || { echo "Bail out! the fake revocation server"; exit 99; }
HPORT=$(cat "$T/http.port")

mn_card_start card
MN_REV_BACKENDS=none
export MN_REV_BACKENDS
mn_pam_setup card
check "enroll taro (no revocation check)" enroll taro 1234

# rev BACKEND POLICY URL: the login's revocation settings
rev()
{
	MN_REV_BACKENDS=$1
	MN_REV_POLICY=$2
	MN_REV_TIMEOUT=2
	if [ "$1" = ocsp ]; then
		MN_REV_EXTRA="[revocation.ocsp]
url = $3"
	else
		MN_REV_EXTRA="[revocation.http]
url = $3"
	fi
	export MN_REV_BACKENDS MN_REV_POLICY MN_REV_TIMEOUT MN_REV_EXTRA
	mn_pam_conf
}

# refused CASE: the login under these settings must be refused before the PIN
refused()
{
	_v=$(verifies_sent card)
	blogin taro 1234
	no_crash "$1"
	_obs=$LCODE
	if [ "$LCODE" = PAM_AUTH_ERR ] && grep -q "revocation status of this card.s certificate is not available" "$T/out"; then
		ok "$1: refused, status not available"
		_obs="$_obs/status not available"
	else
		not_ok "$1: $LCODE"
		sed 's/^/#   /' "$T/out" | tail -n 5
	fi
	if grep -q 'My Number card PIN' "$T/out" || [ "$(verifies_sent card)" != "$_v" ]; then
		not_ok "$1: the PIN was asked or sent"
		_obs="$_obs, PIN ASKED"
	else
		ok "$1: no PIN asked, no VERIFY"
		_obs="$_obs, no VERIFY"
	fi
	if [ "$LMS" -le 5500 ]; then
		ok "$1: decided within the 2 s timeout (+ margin): ${LMS} ms"
	else
		not_ok "$1: took ${LMS} ms"
	fi
	outcome "5 $1" "PAM_AUTH_ERR/status not available, no VERIFY, <= timeout" "$_obs, ${LMS} ms"
}

# accepted CASE: the login must succeed (a fresh cached GOOD)
accepted()
{
	blogin taro 1234
	no_crash "$1"
	if [ "$LCODE" = PAM_SUCCESS ]; then ok "$1: authenticated"; else
		not_ok "$1: $LCODE"
		sed 's/^/#   /' "$T/out" | tail -n 5
	fi
	outcome "5 $1" "PAM_SUCCESS" "$LCODE, ${LMS} ms"
}

CACHE=$T/state/revocation-cache
# --- no cached answer: policy require and soft both refuse (never answered GOOD)
for pol in require soft; do
	rm -f "$CACHE"
	rev ocsp $pol http://127.0.0.1:18399/
	refused "ocsp down, $pol, no cache"
	rev ocsp $pol http://127.0.0.1:18302/
	refused "ocsp slow (8 s > timeout 2 s), $pol, no cache"
	rev ocsp $pol http://127.0.0.1:18303/
	refused "ocsp garbage body, $pol, no cache"
	rev ocsp $pol http://127.0.0.1:18304/
	refused "ocsp good answer without our nonce, $pol, no cache"
	for c in slow garbage dup trailing badstatus http500 redirect bigstream; do
		rev http $pol "http://127.0.0.1:$HPORT/$c/{serial}"
		refused "http $c, $pol, no cache"
	done
	rev http $pol "http://127.0.0.1:18398/good/{serial}"
	refused "http down, $pol, no cache"
	check "nothing was cached from a fault ($pol)" test ! -s "$CACHE"
done

# --- a fresh GOOD (OCSP, nextUpdate in a day) in the cache: the faults no longer matter
rm -f "$CACHE"
rev ocsp require http://127.0.0.1:18301/
accepted "ocsp good (fills the cache)"
check "a GOOD answer is cached" test -s "$CACHE"
for pol in soft require; do
	rev ocsp $pol http://127.0.0.1:18399/
	accepted "ocsp down, $pol, fresh cached GOOD"
	rev ocsp $pol http://127.0.0.1:18302/
	accepted "ocsp slow, $pol, fresh cached GOOD"
	rev ocsp $pol http://127.0.0.1:18303/
	accepted "ocsp garbage, $pol, fresh cached GOOD"
	rev http $pol "http://127.0.0.1:$HPORT/garbage/{serial}"
	accepted "http garbage, $pol, fresh cached GOOD"
	rev http $pol "http://127.0.0.1:$HPORT/slow/{serial}"
	accepted "http slow, $pol, fresh cached GOOD"
done
# a REVOKED answer is a definite answer: it wins over the cached GOOD
V_REVOKED=$(verifies_sent card)
rev http soft "http://127.0.0.1:$HPORT/revoked/{serial}"
blogin taro 1234
if [ "$LCODE" = PAM_AUTH_ERR ] && grep -q 'has been revoked' "$T/out"; then
	ok "http revoked beats the cached GOOD"
else
	not_ok "http revoked with a cached GOOD: $LCODE"
fi
outcome "5 http revoked, soft, fresh cached GOOD" "PAM_AUTH_ERR/revoked" "$LCODE/$(grep -o 'has been revoked' "$T/out")"
# ... and is then cached: garbage afterwards must not turn it back
rev http soft "http://127.0.0.1:$HPORT/garbage/{serial}"
blogin taro 1234
if [ "$LCODE" != PAM_SUCCESS ] && grep -q 'has been revoked' "$T/out"; then
	ok "garbage after REVOKED: the cached REVOKED stands"
else
	not_ok "garbage after REVOKED: $LCODE"
	sed 's/^/#   /' "$T/out" | tail -n 5
fi
outcome "5 http garbage after a cached REVOKED, soft" "PAM_AUTH_ERR/revoked (cache)" "$LCODE/$(grep -o 'has been revoked' "$T/out")"
check "no PIN was sent while revoked" test "$(verifies_sent card)" -eq "$V_REVOKED"

mn_done
