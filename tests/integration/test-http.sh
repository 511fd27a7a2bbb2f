#!/bin/sh
# The "http" revocation backend (revocation/http.so, doc/revocation-http.md) asked through
# tests/rev-query, against a fake REST service (fake-revocation-server.py) on 127.0.0.1 in this
# test's private network namespace: answers, broken answers, limits, timeouts, HTTPS pinning.
. "$(dirname "$0")/harness.sh"

REVQ=$MN_TOP_BUILDDIR/tests/rev-query
HTTP_SO=$MN_TOP_BUILDDIR/revocation/.libs/http.so
SERVER=$MN_TOP_SRCDIR/tests/integration/fake-revocation-server.py

if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 is not installed (run tools/install-deps)"
	exit 77
fi
if [ ! -x "$REVQ" ] || [ ! -f "$HTTP_SO" ]; then
	echo "Bail out! build tests/rev-query and revocation/http.la first"
	exit 99
fi

mn_card_init card
CERT=$T/card/auth.pem
ISSUER=$T/card/auth-ca.pem
SERIAL=$(openssl x509 -in "$CERT" -noout -serial | sed 's/^serial=//')
SHA=$(openssl x509 -in "$CERT" -outform DER | sha256sum | cut -d' ' -f1)
KID=$(openssl x509 -in "$ISSUER" -noout -ext subjectKeyIdentifier | tail -n 1 | tr -d ' :' |
	tr 'A-F' 'a-f')

# start_server NAME [server options]: its port in $PORT, its requests in $T/NAME.req
start_server()
{
	_n=$1
	shift
	: >"$T/$_n.req"
	python3 "$SERVER" --port-file "$T/$_n.port" --log "$T/$_n.req" --lifetime 300 "$@" \
		>"$T/$_n.log" 2>&1 &
	PIDS="$PIDS $!"
	if ! wait_until 10 test -s "$T/$_n.port"; then
		FAIL=$((FAIL + 1))
		echo "Bail out! the fake revocation server did not start"
		cat "$T/$_n.log"
		exit 99
	fi
	PORT=$(cat "$T/$_n.port")
}

# rq CASE [rev-query options and settings]: ask about the card's certificate at /CASE/{serial}
rq()
{
	_case=$1
	shift
	"$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" --timeout-ms 3000 \
		"url=http://127.0.0.1:$PORT/$_case/{serial}" "$@"
}

now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

start_server plain
URL=http://127.0.0.1:$PORT

# ---- answers
check "good" rq good
expect "good: status and times" \
	'^status=good reason=-1 revoked_at=0 this_update=1714521600 cache_until=1893456000$'
expect "good: detail names the server" "^http: $URL answered good"

check "revoked" rq revoked
expect "revoked: reason keyCompromise, date with offset" \
	"^status=revoked reason=1 revoked_at=$(date -u -d 2024-03-03T20:06:07Z +%s) "
check "revoked, numeric reason, null date" rq revoked-int
expect "revoked: reason 4, no date" '^status=revoked reason=4 revoked_at=0 '

check "unknown" rq unknown
expect "unknown, fractional time with offset" \
	"^status=unknown .* this_update=$(date -u -d 2024-05-01T00:00:00Z +%s) cache_until=0$"

check "no next_update, no max_age" rq nocache --now 1700000000
expect "not cached" '^status=good .*cache_until=0$'
check "no next_update, max_age" rq nocache --now 1700000000 max_age=600
expect "cached for max_age" '^status=good .*cache_until=1700000600$'
check "stale next_update" rq stale
expect "stale good passed on for the core to judge" '^status=good .*cache_until=1577836800$'

# ---- what is sent
check "placeholders" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" \
	"url=$URL/echo/{serial}/{issuer_key_id}?sha={sha256}"
expect "GET with serial, issuer key id, sha256" \
	"^GET /echo/$SERIAL/$KID\\?sha=$SHA\$" "$T/plain.req"
: >"$T/plain.req"
check "POST" rq good method=POST
expect "POST body" \
	"^\\{\"serial\":\"$SERIAL\",\"issuer_key_id\":\"$KID\",\"sha256\":\"$SHA\"\\}\$" \
	"$T/plain.req"
expect "POST is JSON" '^Content-Type: application/json' "$T/plain.req"
: >"$T/plain.req"
check "extra header" rq good "header=Authorization: Bearer s3cret-t0ken"
expect "header sent" '^Authorization: Bearer s3cret-t0ken$' "$T/plain.req"
expect_not "header not in the answer" 's3cret'
check_fails "invalid header refused" rq good "header=Authorization s3cret-t0ken"
expect_not "invalid header not echoed" 's3cret'
check_fails "header redefining the framing refused" rq good "header=Content-Length: 5"

# ---- unusable answers: UNAVAILABLE, check() still answers (exit 0)
for c in garbage trailing types badstatus nostatus array dup single badtime reason7 badreason \
	backwards; do
	check "$c" rq $c
	expect "$c: unavailable" '^status=unavailable reason=-1 revoked_at=0 this_update=0 cache_until=0$'
done
check "trailing data" rq trailing
expect "trailing data: said" 'unusable answer: not one JSON object'
check "duplicate member" rq dup
expect "duplicate member: said" 'unusable answer: duplicate members'
check "oversized (Content-Length)" rq big
expect "oversized: unavailable" '^status=unavailable'
expect "oversized: said" 'larger than 16384 bytes'
check "oversized (no Content-Length)" rq bigstream
expect "oversized stream: unavailable" '^status=unavailable'
expect "oversized stream: said" 'larger than 16384 bytes'
check "max_response" rq good max_response=20
expect "small max_response: unavailable" 'larger than 20 bytes'
check "HTTP 500" rq http500
expect "500: unavailable" '^status=unavailable'
expect "500: said" 'HTTP status 500'
check "HTTP 404" rq http404
expect "404: unavailable" '^status=unavailable.*'
: >"$T/plain.req"
check "redirect" rq redirect
expect "redirect not followed" 'HTTP status 302'
expect_not "nothing asked after the redirect" '^GET /good/' "$T/plain.req"

# ---- time
t0=$(now_ms)
check "slow server" rq slow --timeout-ms 1000
t1=$(now_ms)
expect "slow: unavailable" '^status=unavailable'
expect "slow: timed out" '[Tt]imeout was reached'
if [ $((t1 - t0)) -lt 1500 ]; then
	ok "slow: answered in $((t1 - t0)) ms (timeout 1000 ms)"
else
	not_ok "slow: answered in $((t1 - t0)) ms (timeout 1000 ms)"
fi
t0=$(now_ms)
check "server down" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" --timeout-ms 1000 \
	"url=http://127.0.0.1:1/good/{serial}"
t1=$(now_ms)
expect "down: unavailable" '^status=unavailable'
if [ $((t1 - t0)) -lt 1500 ]; then
	ok "down: answered in $((t1 - t0)) ms"
else
	not_ok "down: answered in $((t1 - t0)) ms"
fi

# ---- settings
check_fails "url required" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" method=GET
expect "url required: said" 'url is required'
check_fails "unknown setting" rq good colour=blue
expect "unknown setting: named" "unknown setting 'colour'"
check_fails "unknown placeholder" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$URL/{name}"
check_fails "stray brace" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$URL/{serial"
check_fails "other scheme" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=ftp://127.0.0.1/{serial}"
check_fails "credentials in the url" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" \
	"url=http://user:pw@127.0.0.1:$PORT/good/"
check_fails "method PUT" rq good method=PUT
check_fails "max_response 0" rq good max_response=0
check_fails "max_age negative" rq good max_age=-1
check_fails "set twice" rq good max_age=1 max_age=2
check_fails "ca_file with http" rq good "ca_file=$ISSUER"

# ---- HTTPS: the server's certificate from a test CA, pinned by ca_file
(
	cd "$T" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=test-revocation-ca -keyout ca.key -out ca.pem &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=other-ca -keyout other.key -out other.pem &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj /CN=127.0.0.1 -keyout server.key -out server.csr &&
		printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.pem
) >"$T/tls.log" 2>&1 || {
	FAIL=$((FAIL + 1))
	echo "Bail out! cannot make the test certificates"
	cat "$T/tls.log"
	exit 99
}
PIN=$(openssl x509 -in "$T/server.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
	sha256sum | cut -d' ' -f1)
start_server tls --cert "$T/server.pem" --key "$T/server.key"
HTTPS=https://127.0.0.1:$PORT

check "https, pinned CA" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$HTTPS/good/{serial}" \
	"ca_file=$T/ca.pem"
expect "https: good" '^status=good '
check "https, another CA" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$HTTPS/good/{serial}" \
	"ca_file=$T/other.pem"
expect "https, another CA: unavailable" '^status=unavailable'
check "https, system CAs not used" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" \
	"url=$HTTPS/good/{serial}" "ca_file=/etc/ssl/certs/ca-certificates.crt"
expect "https, system CAs: unavailable" '^status=unavailable'
check_fails "https without ca_file refused" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" \
	"url=$HTTPS/good/{serial}"
check "https, right key pin" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$HTTPS/good/{serial}" \
	"ca_file=$T/ca.pem" "pin_sha256=$PIN"
expect "https, right pin: good" '^status=good '
check "https, wrong key pin" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" "url=$HTTPS/good/{serial}" \
	"ca_file=$T/ca.pem" "pin_sha256=$SHA"
expect "https, wrong pin: unavailable" '^status=unavailable'
check_fails "malformed pin refused" "$REVQ" "$HTTP_SO" "$CERT" "$ISSUER" \
	"url=$HTTPS/good/{serial}" "ca_file=$T/ca.pem" "pin_sha256=abc"
check "plain http to the https server" rq good
expect "http to https: unavailable" '^status=unavailable'

# ---- the login (pam_mynumber) with [revocation] backends = http, before the PIN
. "$(dirname "$0")/pam-harness.sh"
PORT=$(cat "$T/plain.port")
# pam_conf CASE: the http backend alone, asking /CASE/{serial}; no cached answer
pam_conf()
{
	MN_REV_BACKENDS=http MN_REV_EXTRA="[revocation.http]
url = http://127.0.0.1:$PORT/$1/{serial}" mn_pam_conf
	rm -f "$T/state/revocation-cache"
}
mn_card_start card
MN_REV_BACKENDS=none mn_pam_setup card
check "enroll taro (no revocation check)" enroll taro 1234

pam_conf nocache
: >"$T/plain.req"
check "login: the service says good" login taro 1234
expect "authenticated" 'successfully authenticated'
expect "the service was asked for this card" "^GET /nocache/$SERIAL\$" "$T/plain.req"

pam_conf garbage
before=$(verifies_sent card)
check_fails "login: the service answers garbage" login taro 1234
expect_not "garbage: not authenticated" 'successfully authenticated'
if [ "$(verifies_sent card)" = "$before" ]; then ok "garbage: no VERIFY sent"; else not_ok "garbage: a VERIFY was sent"; fi

MN_REV_TIMEOUT=1
pam_conf slow
t0=$(now_ms)
check_fails "login: the service is too slow" login taro 1234
t1=$(now_ms)
if [ $((t1 - t0)) -lt $((4000 * ${MN_WAIT_SCALE:-1})) ]; then
	ok "slow service: refused in $((t1 - t0)) ms"
else
	not_ok "slow service: refused in $((t1 - t0)) ms"
fi
unset MN_REV_TIMEOUT

pam_conf revoked
before=$(verifies_sent card)
check_fails "login: the service says revoked" login taro 1234
expect "revoked: said" 'has been revoked'
expect_not "revoked: no PIN prompt" 'My Number card PIN'
if [ "$(verifies_sent card)" = "$before" ]; then ok "revoked: no VERIFY sent"; else not_ok "revoked: a VERIFY was sent"; fi

mn_done
