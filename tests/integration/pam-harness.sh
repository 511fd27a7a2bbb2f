# PAM test environment, sourced after harness.sh: pam_wrapper + nss_wrapper with pamtester,
# a private mynumber.conf, trust anchors, enrollment store and CRL directory under $T.

PAM_SO=$MN_TOP_BUILDDIR/pam_mynumber/.libs/pam_mynumber.so
HELPER=$MN_TOP_BUILDDIR/pam_mynumber/mynumber-helper
MYNUMBER=$MN_TOP_BUILDDIR/tools/mynumber
[ -x "${MN_WRAPPERS:-/nonexistent}/mynumber-helper" ] && HELPER=$MN_WRAPPERS/mynumber-helper
[ -x "${MN_WRAPPERS:-/nonexistent}/mynumber" ] && MYNUMBER=$MN_WRAPPERS/mynumber
MULTIARCH=$(gcc -print-multiarch 2>/dev/null)
PAM_MATRIX=$(ls /usr/lib/"$MULTIARCH"/pam_wrapper/pam_matrix.so 2>/dev/null | head -n 1)
ETC=$T/etc
CONF=$ETC/mynumber.conf

for need in pamtester faketime; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "SKIP: $need is not installed (run tools/install-deps)"
		exit 77
	fi
done

# mn_pam_setup CARD [extra main-section lines]: trust the CARD's CAs, empty store
mn_pam_setup()
{
	mkdir -p "$ETC/anchors" "$T/crl" "$T/pam.d" "$T/home/taro" "$T/home/jiro" "$T/state"
	chmod 0700 "$T/state"
	chmod 0700 "$ETC"
	cp "$T/$1/auth-ca.pem" "$ETC/anchors/$1-auth-ca.pem"
	sed -e "s|@MODULE@|$DRIVER_SO|g" "$MN_TOP_SRCDIR/opensc-driver/mynumber-opensc.conf.in" \
		>"$ETC/opensc.conf"
	mn_pam_conf "${2:-}"
	printf 'taro:x:1000:1000:Taro:%s:/bin/sh\njiro:x:1001:1001:Jiro:%s:/bin/sh\n' \
		"$T/home/taro" "$T/home/jiro" >"$ETC/passwd"
	printf 'taro:x:1000:\njiro:x:1001:\n' >"$ETC/group"
	printf 'taro:secret-password:mynumber-test\ntaro:secret-password:sudo\n' >"$ETC/passdb"
	cat >"$T/pam.d/mynumber-test" <<EOF
auth     required $PAM_SO config=$CONF
account  required $PAM_SO config=$CONF
EOF
	: >"$T/pam.d/other"
}

# mn_pam_conf [extra main-section lines]: (re)write mynumber.conf
mn_pam_conf()
{
	cat >"$CONF" <<EOF
trust_anchors = $ETC/anchors
store = $ETC/enrollments
pkcs11_module = $P11
opensc_conf = $ETC/opensc.conf
helper = $HELPER
locale_dir = $MN_TOP_BUILDDIR/locale
card_wait = ${MN_CARD_WAIT:-$((10 * ${MN_WAIT_SCALE:-1}))}
state_dir = $T/state
warm_login = ${MN_WARM:-yes}
min_pin_tries = 2
${1:-}

[revocation]
backends = ${MN_REV_BACKENDS:-crl}
policy = ${MN_REV_POLICY:-require}
max_staleness = ${MN_REV_STALENESS:-86400}
plugin_dir = $MN_TOP_BUILDDIR/revocation/.libs
timeout = ${MN_REV_TIMEOUT:-5}

[revocation.crl]
dir = $T/crl
${MN_REV_EXTRA:-}
EOF
	chmod 0600 "$CONF"
}

# wrapped COMMAND...: run under pam_wrapper + nss_wrapper
wrapped()
{
	env LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
		PAM_WRAPPER_SERVICE_DIR="$T/pam.d" NSS_WRAPPER_PASSWD="$ETC/passwd" \
		NSS_WRAPPER_GROUP="$ETC/group" "$@"
}

# login USER PIN [SERVICE]: pamtester authenticate with PIN on stdin; output in $T/out
login()
{
	printf '%s\n' "$2" | wrapped pamtester -v "${3:-mynumber-test}" "$1" authenticate
}

# enroll USER PIN [options]
enroll()
{
	_u=$1
	_p=$2
	shift 2
	printf '%s\n' "$_p" | wrapped "$MYNUMBER" --config "$CONF" enroll "$@" "$_u"
}

# import_crl CARD [mynumber-sim crl options]
import_crl()
{
	_c=$1
	shift
	"$SIM" crl "$@" "$T/$_c" "$T/$_c.crl" >/dev/null 2>&1 &&
		"$MYNUMBER" --config "$CONF" crl import "$T/$_c.crl"
}

# tries_raw: the card's own answer to an empty VERIFY of the auth PIN
tries_raw()
{
	"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 00200080 | tail -n 1
}

# verifies_sent CARD: VERIFY commands with a PIN the card received so far
verifies_sent()
{
	_c=$(grep -c '^> 0020008004' "$T/$1.apdu" 2>/dev/null)
	echo "${_c:-0}"
}

# reset_pin: the right PIN through bare PC/SC resets the counter
reset_pin()
{
	"$APDU" -t 00A4040C0AD392F000260100000001 00A4020C020018 \
		0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') >/dev/null
}
