#!/bin/sh
# The virtual card at the APDU level, through bare PC/SC (no OpenSC): the card behaviour the
# driver relies on, as documented for the real card.
. "$(dirname "$0")/harness.sh"

AP=00A4040C0AD392F000260100000001
mn_card_init card
mn_card_start card

# apdus EXPECTED-LAST-LINE APDU...: run in one transaction, compare the last answer
apdus()
{
	_want=$1
	shift
	_got=$("$APDU" -t "$@" | tail -n 1)
	if [ "$_got" = "$_want" ]; then
		ok "$* -> $_want"
	else
		not_ok "$* -> '$_got', want '$_want'"
	fi
}
# sw_of EXPECTED-SW APDU...: compare only the status word of the last answer
sw_of()
{
	_want=$1
	shift
	_got=$("$APDU" -t "$@" | tail -n 1 | cut -c1-4)
	if [ "$_got" = "$_want" ]; then
		ok "$* -> $_want"
	else
		not_ok "$* -> '$_got', want '$_want'"
	fi
}

sw_of 9000 $AP
sw_of 6A82 00A4040C0AD392F000260100000099
sw_of 6A82 $AP 00A4020C023F00
sw_of 6A82 $AP 00A4020C020099
sw_of 6A86 00A40000
sw_of 6D00 $AP 00CB000000
sw_of 6E00 $AP B0B0000010
sw_of 6986 $AP 00B0000004

# EF 0006: 160 bytes, label first
check "EF 0006 is 160 bytes with the card label" sh -c \
	"\"$APDU\" -t $AP 00A4020C020006 00B0000000 | tail -n 1 | grep -q '^9000 4A504B494150494343544F4B454E32'"
sw_of 6B00 $AP 00A4020C020006 00B000A001
apdus "9000 202020" $AP 00A4020C020006 00B0009D03
apdus "9000 8F8F00" $AP 00A4020C020008 00B0000003

# certificates: DER in a larger EF; short read at the end of the EF, 6B00 past it
check "auth certificate starts with a SEQUENCE" sh -c \
	"\"$APDU\" -t $AP 00A4020C02000A 00B0000004 | tail -n 1 | grep -q '^9000 3082'"
apdus "9000 00000000" $AP 00A4020C02000A 00B007FC04
check "short read at the end of the EF" sh -c \
	"\"$APDU\" -t $AP 00A4020C02000A 00B007F010 | tail -n 1 | grep -Eq '^9000 [0-9A-F]{32}$'"
sw_of 6B00 $AP 00A4020C02000A 00B0080001
sw_of 6982 $AP 00A4020C020001 00B0000004
sw_of 6981 $AP 00A4020C020017 00B0000004

# PIN: empty VERIFY reports without spending
apdus 63C3 $AP 00A4020C020018 00200080
apdus 63C3 $AP 00A4020C020018 00200080
apdus 63C5 $AP 00A4020C02001B 00200080
# signing needs the PIN, and the card pads PKCS#1 v1.5 itself over 1..245 bytes
DI=3031300D060960864801650304020105000420$(printf '%064d' 0)
sw_of 6982 $AP 00A4020C020017 802A008033${DI}00
check "sign after the PIN" sh -c \
	"\"$APDU\" -t $AP 00A4020C020018 0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') \
	 00A4020C020017 802A008033${DI}00 | tail -n 1 | grep -Eq '^9000 [0-9A-F]{512}$'"
sw_of 6700 $AP 00A4020C020018 0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') \
	00A4020C020017 802A0080F6$(printf '%0492d' 0)00
sw_of 6982 $AP 00A4020C020018 0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') \
	$AP 00A4020C020017 802A008033${DI}00
# the sign password gates EF 0001; the card compares bytes (no case folding)
sw_of 63C4 $AP 00A4020C02001B 0020008009$(printf signpass1 | od -An -tx1 | tr -d ' \n')
apdus 9000 $AP 00A4020C02001B 0020008009$(printf SIGNPASS1 | od -An -tx1 | tr -d ' \n')
check "EF 0001 readable after the sign password" sh -c \
	"\"$APDU\" -t $AP 00A4020C02001B 0020008009$(printf SIGNPASS1 | od -An -tx1 | tr -d ' \n') \
	 00A4020C020001 00B0000004 | tail -n 1 | grep -q '^9000 3082'"

# the sign that verified: the signature checks out against the auth certificate
printf 'abc' >"$T/m"
openssl dgst -sha256 -binary "$T/m" >"$T/h"
DI=3031300D060960864801650304020105000420$(od -An -tx1 "$T/h" | tr -d ' \n')
"$APDU" -t $AP 00A4020C020018 0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n') \
	00A4020C020017 802A008033${DI}00 | tail -n 1 | cut -c6- | xxd -r -p >"$T/sig"
check "the card's signature verifies" \
	openssl dgst -sha256 -verify "$T/card/auth.pub.pem" -signature "$T/sig" "$T/m"

# lock: 63C2, 63C1, 63C0, then 6984; it survives a restart
PIN_BAD=0020008004$(printf 9999 | od -An -tx1 | tr -d ' \n')
apdus 63C2 $AP 00A4020C020018 $PIN_BAD
apdus 63C1 $AP 00A4020C020018 $PIN_BAD
apdus 63C0 $AP 00A4020C020018 $PIN_BAD
apdus 6984 $AP 00A4020C020018 $PIN_BAD
apdus 6984 $AP 00A4020C020018 0020008004$(printf 1234 | od -An -tx1 | tr -d ' \n')
apdus 63C0 $AP 00A4020C020018 00200080
mn_card_stop
mn_card_start card
apdus 63C0 $AP 00A4020C020018 00200080
check "the PINs are kept in the state directory, not logged" sh -c \
	"! grep -q 1234 '$T/card.apdu' && ! grep -qi 5349474E50415353 '$T/card.apdu'"

# card-info AP: its own PIN, the attributes behind it
CI=00A4040C0AD3921000310001010408
sw_of 6982 $CI 00A4020C020002 00B0000004
check "card-info attributes after its PIN" sh -c \
	"\"$APDU\" -t $CI 00A4020C020011 0020008004$(printf 5678 | od -An -tx1 | tr -d ' \n') \
	 00A4020C020002 00B0000003 | tail -n 1 | grep -q '^9000 FF20'"

mn_done
