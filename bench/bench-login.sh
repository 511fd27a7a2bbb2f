#!/bin/sh
# Benchmark (not a test): one PAM login (pamtester authenticate, PIN on stdin) against the
# same virtual card, pam_mynumber versus pam_pkcs11 (Debian's libpam-pkcs11, with OpenSC's
# built-in jpki driver as shipped: the system opensc.conf). Counts the APDUs the card
# answered and the wall time of each pamtester process; medians of RUNS.
#   sudo bench/bench-login.sh [RUNS]      (after ./configure && make)
RUNS=${1:-7}
MN_TOP_BUILDDIR=${MN_TOP_BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MN_TOP_SRCDIR=${MN_TOP_SRCDIR:-$MN_TOP_BUILDDIR}
export MN_TOP_BUILDDIR MN_TOP_SRCDIR
. "$MN_TOP_BUILDDIR/tests/integration/harness.sh"
. "$MN_TOP_BUILDDIR/tests/integration/pam-harness.sh"

PAM_PKCS11=$(ls /lib/"$MULTIARCH"/security/pam_pkcs11.so /usr/lib/"$MULTIARCH"/security/pam_pkcs11.so 2>/dev/null | head -n 1)
if [ -z "$PAM_PKCS11" ]; then
	echo "bench: pam_pkcs11 not installed (apt-get install libpam-pkcs11)" >&2
	exit 1
fi

mn_card_init card
mn_card_start card
mn_pam_setup card
import_crl card >/dev/null || exit 1
enroll taro 1234 >/dev/null 2>&1 || exit 1

# pam_pkcs11: CA directory, CN mapping to taro, signature check, card only
mkdir -p "$T/p11/ca" "$T/p11/crl"
cp "$T/card/auth-ca.pem" "$T/p11/ca/" && openssl rehash "$T/p11/ca" >/dev/null 2>&1
cn=$(openssl x509 -in "$T/card/auth.pem" -noout -subject -nameopt sep_multiline | sed -n 's/^ *CN=//p')
echo "$cn -> taro" >"$T/p11/cn_map"
cat >"$T/p11/pam_pkcs11.conf" <<EOF2
pam_pkcs11 {
  nullok = false; debug = false; use_first_pass = false; try_first_pass = false;
  use_authtok = false; card_only = true; wait_for_card = false;
  use_pkcs11_module = opensc;
  pkcs11_module opensc {
    module = $P11;
    description = "OpenSC";
    slot_description = "none";
    ca_dir = $T/p11/ca;
    crl_dir = $T/p11/crl;
    support_threads = false;
    cert_policy = ca,signature;
    token_type = "Smart card";
  }
  use_mappers = cn;
  mapper cn { debug = false; module = internal; ignorecase = true; mapfile = file://$T/p11/cn_map; }
}
EOF2
echo "auth required $PAM_PKCS11 config_file=$T/p11/pam_pkcs11.conf" >"$T/pam.d/pkcs11-test"

now_ms()
{
	date +%s%3N
}

median()
{
	sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}

# run_case NAME SERVICE: RUNS logins of taro
run_case()
{
	: >"$T/$1.ms"
	: >"$T/$1.apdus"
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		before=$(apdu_count card)
		t0=$(now_ms)
		if ! login taro 1234 "$2" >"$T/$1.out" 2>&1 ||
			! grep -q 'successfully authenticated' "$T/$1.out"; then
			echo "bench: $1 login failed:" >&2
			cat "$T/$1.out" >&2
			exit 1
		fi
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$T/$1.ms"
		echo $(($(apdu_count card) - before)) >>"$T/$1.apdus"
		i=$((i + 1))
	done
	eval "${1}_ms=\$(median <\"\$T/$1.ms\")"
	eval "${1}_apdus=\$(median <\"\$T/$1.apdus\")"
}

ratio()
{
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'
}

# pam_pkcs11 with OpenSC as shipped
unset OPENSC_CONF
run_case anchor pkcs11-test
# pam_mynumber, every login through PKCS#11 (warm path off)
MN_WARM=no mn_pam_conf
run_case cold mynumber-test
# pam_mynumber with the warm path: the card stays in the reader between logins
mn_pam_conf
login taro 1234 >/dev/null 2>&1
run_case warm mynumber-test
# pam_mynumber PKCS#11 path with the CA certificates shown on the token (ca_certificates = yes)
sed -i 's|ca_certificates = no;|ca_certificates = yes;|' "$ETC/opensc.conf"
MN_WARM=no mn_pam_conf
run_case lean mynumber-test
mn_card_stop

cat <<EOF2
| login (pamtester authenticate, right PIN) | APDUs | wall (ms) | APDUs vs pam_pkcs11 | time vs pam_pkcs11 |
|---|---|---|---|---|
| pam_pkcs11 0.6.12, OpenSC 0.23 built-in jpki, as shipped (anchor) | $anchor_apdus | $anchor_ms | 1.00 | 1.00 |
| pam_mynumber, PKCS#11 path (first login after the card is presented) | $cold_apdus | $cold_ms | $(ratio "$cold_apdus" "$anchor_apdus") | $(ratio "$cold_ms" "$anchor_ms") |
| pam_mynumber, PKCS#11 path, driver option ca_certificates = yes | $lean_apdus | $lean_ms | $(ratio "$lean_apdus" "$anchor_apdus") | $(ratio "$lean_ms" "$anchor_ms") |
| pam_mynumber, warm login (same card still in the reader) | $warm_apdus | $warm_ms | $(ratio "$warm_apdus" "$anchor_apdus") | $(ratio "$warm_ms" "$anchor_ms") |

Medians of $RUNS logins each, same virtual card and machine, one run ($(date -u +%Y-%m-%d), $(nproc) cores).
EOF2
