# The test-result helpers every integration test uses (TAP-like "ok - " / "not ok - " lines).
# Source after setting T (a private temporary directory): outputs go to $T/out.
PASS=0
FAIL=0

ok()
{
	PASS=$((PASS + 1))
	echo "ok - $*"
}

not_ok()
{
	FAIL=$((FAIL + 1))
	echo "not ok - $*"
}

# check DESC COMMAND...: the command must succeed; its output is in $T/out
check()
{
	_desc=$1
	shift
	if "$@" >"$T/out" 2>&1; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $?)"
		sed 's/^/#   /' "$T/out" | tail -n 20
	fi
}

# check_fails DESC COMMAND...: the command must fail cleanly (exit 1..125: no crash)
check_fails()
{
	_desc=$1
	shift
	"$@" >"$T/out" 2>&1
	_rc=$?
	if [ "$_rc" -ge 1 ] && [ "$_rc" -le 125 ]; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_rc)"
		sed 's/^/#   /' "$T/out" | tail -n 20
	fi
}

# expect DESC PATTERN [FILE]: an extended regex must match the file (default: last output)
expect()
{
	if grep -Eq -- "$2" "${3:-$T/out}"; then
		ok "$1"
	else
		not_ok "$1 (no /$2/)"
		sed 's/^/#   /' "${3:-$T/out}" | tail -n 20
	fi
}

expect_not()
{
	if grep -Eq -- "$2" "${3:-$T/out}"; then
		not_ok "$1 (found /$2/)"
		grep -E -- "$2" "${3:-$T/out}" | sed 's/^/#   /' | head -n 5
	else
		ok "$1"
	fi
}

mn_done()
{
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

# check_exit CODE DESC COMMAND...: the command must exit with exactly CODE
check_exit()
{
	_want=$1
	_desc=$2
	shift 2
	"$@" >"$T/out" 2>&1
	_rc=$?
	if [ "$_rc" -eq "$_want" ]; then
		ok "$_desc"
	else
		not_ok "$_desc (exit $_rc, wanted $_want)"
		sed 's/^/#   /' "$T/out" | tail -n 20
	fi
}
