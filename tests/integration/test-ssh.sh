#!/bin/sh
# A real sshd (127.0.0.1, in this test's own network namespace) whose AuthorizedKeysCommand is
# `mynumber authorized-keys`, and a real ssh client signing with the virtual card through
# OpenSC's PKCS#11 module and our driver, the PIN given by SSH_ASKPASS. Login works while the
# enrolled certificate is good, and stops once a CRL revokes it.
. "$(dirname "$0")/harness.sh"

for need in sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client \
	ssh-keyscan:openssh-client; do
	prog=${need%%:*}
	if ! command -v "$prog" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$prog" ]; then
		echo "SKIP: $prog is not installed (apt-get install ${need#*:})"
		exit 77
	fi
done
SSHD=$(command -v sshd 2>/dev/null || echo /usr/sbin/sshd)

. "$(dirname "$0")/pam-harness.sh"

PORT=2222
SSHD_CONF=$T/sshd_config
SSHD_LOG=$T/sshd.log
KEYS_DIR=/run/mynumber-ssh # root-owned 0755 all the way up: sshd checks AuthorizedKeysCommand

mn_card_init card
mn_card_start card
mn_pam_setup card
check "an empty CRL is imported" import_crl card

# root logs in over SSH: give nss_wrapper a root entry so `enroll` finds the user
printf 'root:x:0:0:root:/root:/bin/sh\n' >>"$ETC/passwd"
printf 'root:x:0:\n' >>"$ETC/group"
check "enroll root with the card and its PIN" enroll root 1234
expect "enrollment names the certificate" 'Enrolled root \(id [0-9]+\)'
id=$(sed -n 's/.*Enrolled root (id \([0-9]*\)).*/\1/p' "$T/out" | head -n 1)

# --- mynumber authorized-keys, directly
check "authorized-keys for root" "$MYNUMBER" --config "$CONF" authorized-keys root
lines=$(grep -c . "$T/out")
if [ "$lines" = 1 ]; then ok "exactly one line"; else not_ok "$lines lines instead of 1"; fi
expect "an ssh-rsa key commented mynumber:root:ID" "^ssh-rsa AAAA[A-Za-z0-9+/=]+ mynumber:root:${id:-[0-9]+}\$"
cp "$T/out" "$T/authorized-keys.root"
# the key is the card's: compare with the certificate's public key
ssh-keygen -i -m PKCS8 -f "$T/card/auth.pub.pem" >"$T/card.ssh.pub" 2>/dev/null
if [ -s "$T/card.ssh.pub" ] &&
	[ "$(cut -d' ' -f2 "$T/card.ssh.pub")" = "$(cut -d' ' -f2 "$T/authorized-keys.root")" ]; then
	ok "the key is the card certificate's public key"
else
	not_ok "the key is not the card certificate's public key"
fi
check "authorized-keys for taro (not enrolled)" "$MYNUMBER" --config "$CONF" authorized-keys taro
expect_not "prints no key for taro" .

# --- sshd
mkdir -p /run/sshd "$KEYS_DIR"
chmod 0755 /run/sshd "$KEYS_DIR"
cp "$MYNUMBER" "$KEYS_DIR/mynumber"
cp "$CONF" "$KEYS_DIR/mynumber.conf"
chown root:root "$KEYS_DIR/mynumber" "$KEYS_DIR/mynumber.conf"
chmod 0755 "$KEYS_DIR/mynumber"
chmod 0600 "$KEYS_DIR/mynumber.conf"
ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_ed25519_key" >/dev/null
cat >"$SSHD_CONF" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/ssh_host_ed25519_key
PidFile $T/sshd.pid
AuthorizedKeysFile none
AuthorizedKeysCommand $KEYS_DIR/mynumber --config $KEYS_DIR/mynumber.conf authorized-keys %u
AuthorizedKeysCommandUser root
PubkeyAuthentication yes
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel DEBUG3
EOF
check "sshd accepts its configuration" "$SSHD" -t -f "$SSHD_CONF"
"$SSHD" -D -f "$SSHD_CONF" -E "$SSHD_LOG" &
PIDS="$PIDS $!"
if ! wait_until 15 ssh-keyscan -T 2 -t ed25519 -p "$PORT" 127.0.0.1; then
	echo "Bail out! sshd did not start"
	tail -n 30 "$SSHD_LOG"
	exit 99
fi

# --- ssh with the card
printf '#!/bin/sh\necho 1234\n' >"$T/askpass"
chmod 0755 "$T/askpass"

# card_ssh [ssh options]: log in as root with the card's key and run `echo mynumber-ssh-ok`
card_ssh()
{
	env -u SSH_AUTH_SOCK OPENSC_CONF="$ETC/opensc.conf" SSH_ASKPASS="$T/askpass" \
		SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
		timeout 60 ssh -F /dev/null -o BatchMode=no -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile="$T/known_hosts" -o PKCS11Provider="$P11" -o IdentityFile=none \
		-o PasswordAuthentication=no -o KbdInteractiveAuthentication=no \
		-o ConnectTimeout=10 "$@" -p "$PORT" root@127.0.0.1 echo mynumber-ssh-ok </dev/null
}

# card_ssh_denied: like card_ssh, but for a login that must be refused. ssh exits 255 when
# authentication fails: map it to 1 for check_fails; a timeout (124) or success count as wrong.
card_ssh_denied()
{
	card_ssh "$@"
	case $? in
	255) return 1 ;;
	0) return 0 ;;
	*) return 200 ;;
	esac
}

fp=$(ssh-keygen -l -E sha256 -f "$T/card.ssh.pub" | cut -d' ' -f2 | sed 's/[+.]/\\&/g')
lines_before=$(wc -l <"$SSHD_LOG")
before=$(verifies_sent card)
check "ssh login as root with the card" card_ssh
expect "the remote command ran" '^mynumber-ssh-ok$'
tail -n +"$((lines_before + 1))" "$SSHD_LOG" >"$T/sshd.login.log"
expect "sshd ran mynumber authorized-keys for root" \
	"AuthorizedKeysCommand command \"$KEYS_DIR/mynumber --config $KEYS_DIR/mynumber.conf authorized-keys root\"" \
	"$T/sshd.login.log"
expect "sshd found the card's key in its output" "Accepted key RSA $fp found at $KEYS_DIR/mynumber" \
	"$T/sshd.login.log"
expect "sshd accepted the login" 'Accepted publickey for root from 127\.0\.0\.1' "$T/sshd.login.log"
if [ "$(verifies_sent card)" -gt "$before" ]; then ok "the PIN reached the card"; else not_ok "no VERIFY reached the card"; fi

# --- revoked
check "a CRL revoking the card is imported" import_crl card --revoke self --crl-number 2
check "authorized-keys after revocation" "$MYNUMBER" --config "$CONF" authorized-keys root
expect_not "prints no key once revoked" .
check "the sshd copy of the command agrees" "$KEYS_DIR/mynumber" --config "$KEYS_DIR/mynumber.conf" \
	authorized-keys root
expect_not "no key through the sshd copy either" .
lines_before=$(wc -l <"$SSHD_LOG")
before=$(verifies_sent card)
check_fails "ssh login with the revoked card fails" card_ssh_denied
expect_not "the remote command did not run" 'mynumber-ssh-ok'
expect "ssh says permission denied" 'Permission denied \(publickey\)'
tail -n +"$((lines_before + 1))" "$SSHD_LOG" >"$T/sshd.revoked.log"
expect "sshd ran the command and got no key" \
	"$KEYS_DIR/mynumber --config $KEYS_DIR/mynumber.conf authorized-keys %u: processed 0/0 lines" \
	"$T/sshd.revoked.log"
expect_not "sshd accepted no key after revocation" 'Accepted (key|publickey)' "$T/sshd.revoked.log"
if [ "$(verifies_sent card)" = "$before" ]; then ok "no PIN was sent to the card"; else not_ok "a VERIFY was sent"; fi

mn_done
