#!/bin/sh
# store_backend = ldap against a real slapd (127.0.0.1 in this test's own network namespace,
# cn=config built from a temporary slapd.conf, our schema loaded with ldapadd -Y EXTERNAL):
# logins and authorized-keys from the directory, mynumber sync (paged, over slapd's size
# limit) and the managed-account map, revocation by deleting a value, the local cache while
# slapd is down, its expiry (PAM_AUTHINFO_UNAVAIL), a wrong bind password, a corrupt cache.
. "$(dirname "$0")/harness.sh"

for need in slapd slaptest slapadd; do
	if ! command -v "$need" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$need" ]; then
		echo "SKIP: $need is not installed (apt-get install slapd)"
		exit 77
	fi
done
for need in ldapadd ldapmodify ldapsearch ldapdelete; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "SKIP: $need is not installed (apt-get install ldap-utils)"
		exit 77
	fi
done
SLAPD=$(command -v slapd 2>/dev/null || echo /usr/sbin/slapd)
SLAPTEST=$(command -v slaptest 2>/dev/null || echo /usr/sbin/slaptest)
SLAPADD=$(command -v slapadd 2>/dev/null || echo /usr/sbin/slapadd)

. "$(dirname "$0")/pam-harness.sh"

PORT=3890
URI=ldap://127.0.0.1:$PORT
SOCK=$T/slapd/ldapi
LDAPI=ldapi://$(printf '%s' "$SOCK" | sed 's|/|%2F|g')
BASE=dc=example,dc=org
ADMIN=cn=admin,$BASE
HOSTDN=cn=host,$BASE
CACHE=$T/state/ldap-cache
MAP=$T/state/nss.db
MAX_AGE=10
NSS_SO=$MN_TOP_BUILDDIR/nss-module/.libs/libnss_mynumber.so.2

# --- slapd: a cn=config made with slapadd -n0 (no schema of ours); ours comes over ldapi
mkdir -p "$T/slapd/db" "$T/slapd/slapd.d"
cat >"$T/slapd/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $T/slapd/slapd.pid

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif
include: file:///etc/ldap/schema/cosine.ldif
include: file:///etc/ldap/schema/nis.ldif
include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE
olcRootDN: $ADMIN
olcRootPW: admin-secret
olcDbDirectory: $T/slapd/db
olcDbMaxSize: 104857600
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by * read
EOF
check "slapadd builds cn=config" "$SLAPADD" -n0 -F "$T/slapd/slapd.d" -l "$T/slapd/config.ldif"
# the slapd.conf form of the schema
cat >"$T/slapd/schema-check.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
include $MN_TOP_SRCDIR/doc/ldap/mynumber.schema
EOF
mkdir -p "$T/slapd/check.d"
check "doc/ldap/mynumber.schema loads (slapd.conf format)" \
	"$SLAPTEST" -u -f "$T/slapd/schema-check.conf" -F "$T/slapd/check.d"

slapd_start()
{
	"$SLAPD" -d 0 -F "$T/slapd/slapd.d" -h "$URI/ $LDAPI" >>"$T/slapd.log" 2>&1 &
	SLAPD_PID=$!
	PIDS="$PIDS $SLAPD_PID"
	if ! wait_until 15 ldapsearch -x -H "$URI" -b '' -s base -LLL namingContexts; then
		echo "Bail out! slapd did not start"
		tail -n 30 "$T/slapd.log"
		exit 99
	fi
}

slapd_stop()
{
	kill "$SLAPD_PID" 2>/dev/null
	wait "$SLAPD_PID" 2>/dev/null
	! ldapsearch -x -H "$URI" -b '' -s base -LLL namingContexts >/dev/null 2>&1
}

slapd_start
check "doc/ldap/mynumber.ldif loads over ldapi (cn=config)" \
	ldapadd -Y EXTERNAL -H "$LDAPI" -f "$MN_TOP_SRCDIR/doc/ldap/mynumber.ldif"

# the ACLs of doc/ldap.md: the records are read by the hosts' bind DN only, written by admins
cat >"$T/acl.ldif" <<EOF
dn: olcDatabase={1}mdb,cn=config
changetype: modify
replace: olcAccess
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to attrs=mynumberRecord by dn.exact="$HOSTDN" read by * none
olcAccess: {2}to * by * read
-
replace: olcLimits
olcLimits: dn.exact="$HOSTDN" size.soft=500 size.hard=500 size.prtotal=unlimited
EOF
check "the ACLs are set over ldapi" ldapmodify -Y EXTERNAL -H "$LDAPI" -f "$T/acl.ldif"

adm() { "$@" -x -H "$URI" -D "$ADMIN" -w admin-secret; }

cat >"$T/base.ldif" <<EOF
dn: $BASE
objectClass: dcObject
objectClass: organization
o: example
dc: example

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: $HOSTDN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: host
userPassword: host-secret
EOF
check "the base entries are added" adm ldapadd -f "$T/base.ldif"

# person USER UIDNUMBER: an ordinary account entry with our auxiliary class
person()
{
	printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nobjectClass: mynumberUser\nuid: %s\ncn: %s\nsn: %s\nuidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/%s\n\n' \
		"$1" "$BASE" "$1" "$1" "$1" "$2" "$2" "$1"
}

# add_record USER VALUE / del_record USER VALUE (the value goes base64 in the LDIF: TABs)
add_record()
{
	printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nadd: mynumberRecord\nmynumberRecord:: %s\n' \
		"$1" "$BASE" "$(printf '%s' "$2" | base64 -w0)" | adm ldapmodify
}
del_record()
{
	printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\ndelete: mynumberRecord\nmynumberRecord:: %s\n' \
		"$1" "$BASE" "$(printf '%s' "$2" | base64 -w0)" | adm ldapmodify
}

{
	person taro 1000
	person jiro 1001
	person hanako 1002
} >"$T/people.ldif"
check "taro, jiro and hanako are added" adm ldapadd -f "$T/people.ldif"

# --- a binding: enroll into a temporary store file, take the record from the third field on
mn_card_init card
mn_card_start card
mn_pam_setup card
check "an empty CRL is imported" import_crl card
check "enroll taro into a store file" enroll taro 1234
REC=$(sed -n '2p' "$ETC/enrollments" | cut -f3-)
if [ "$(printf '%s' "$REC" | awk -F'\t' '{print NF}')" = 9 ]; then
	ok "the binding record has 9 fields"
else
	not_ok "the binding record: '$REC'"
fi
mv "$ETC/enrollments" "$T/enrollments.file"
ACC_HANAKO="account	70010	20250101000000Z	Hanako"
check "taro's binding goes into the directory" add_record taro "$REC"
check "hanako's managed account goes into the directory" add_record hanako "$ACC_HANAKO"
check "a bad value for jiro is accepted by the directory" add_record jiro "garbage	x"
check "anonymous search" ldapsearch -x -H "$URI" -b "$BASE" -LLL "(uid=taro)" mynumberRecord
expect "anonymous users see taro's entry" '^dn: uid=taro,'
expect_not "but not its records" '^mynumberRecord'

printf 'host-secret\n' >"$ETC/ldap.pw"
chmod 0600 "$ETC/ldap.pw"

# ldap_conf [bind password file]: store_backend = ldap
ldap_conf()
{
	MN_REV_EXTRA="
[ldap]
uri = $URI
base = ou=people,$BASE
bind_dn = $HOSTDN
bind_password_file = ${1:-$ETC/ldap.pw}
timeout = 2
cache_max_age = $MAX_AGE
cache_dir = $CACHE

[accounts]
nss_map = $MAP" mn_pam_conf "store_backend = ldap"
}
ldap_conf
keys() { "$MYNUMBER" --config "$CONF" authorized-keys "$1"; }

# --- from the directory
check "mynumber list taro (from the directory)" "$MYNUMBER" --config "$CONF" list taro
expect "taro's card is listed" '^taro +1 card '
check "login with the card, the binding in the directory" login taro 1234
expect "pamtester: authenticated" 'successfully authenticated'
check "authorized-keys taro" keys taro
expect "an ssh-rsa key for taro" '^ssh-rsa AAAA[A-Za-z0-9+/=]+ mynumber:taro:1$'
cp "$T/out" "$T/keys.taro"
ssh-keygen -i -m PKCS8 -f "$T/card/auth.pub.pem" >"$T/card.ssh.pub" 2>/dev/null
if [ -s "$T/card.ssh.pub" ] && [ "$(cut -d' ' -f2 "$T/card.ssh.pub")" = "$(cut -d' ' -f2 "$T/keys.taro")" ]; then
	ok "the key is the card certificate's"
else
	not_ok "the key is not the card certificate's"
fi
check "jiro (only a bad value) has no keys" keys jiro
expect_not "nothing printed for jiro" .
check_fails "jiro cannot log in" login jiro 1234
expect "PAM_CRED_INSUFFICIENT for jiro" 'Insufficient credentials'

# --- the cache
check "taro's cache file is private" sh -c "[ \"\$(stat -c %a '$CACHE/u/taro')\" = 600 ] && [ \"\$(stat -c %a '$CACHE')\" = 700 ]"
expect "it starts with the cache header" '^# mynumber ldap cache v1 fetched=[0-9]+$' "$CACHE/u/taro"
if [ -e "$CACHE/u/jiro" ]; then not_ok "jiro has a cache file"; else ok "no cache file for jiro"; fi

# --- mynumber sync: everyone, the managed-account map
check "mynumber sync" "$MYNUMBER" --config "$CONF" sync
expect "counts: 1 binding, 1 account, 2 users" 'Fetched 1 certificate, 0 phone and 1 account record\(s\) of 2 user\(s\)'
expect "the bad value is reported with its DN" 'uid=jiro,ou=people,dc=example,dc=org: mynumberRecord value 1: .*skipped'
expect "one managed account published" "Published 1 managed account\(s\) to $MAP"
check "the full-sync marker is written" test -f "$CACHE/full"
check "hanako's cache file" test -f "$CACHE/u/hanako"

nw() { env LD_PRELOAD=libnss_wrapper.so NSS_WRAPPER_PASSWD="$ETC/passwd" NSS_WRAPPER_GROUP="$ETC/group" \
	NSS_WRAPPER_MODULE_SO_PATH="$NSS_SO" NSS_WRAPPER_MODULE_FN_PREFIX=mynumber MYNUMBER_NSS_DB="$MAP" "$@"; }
if [ -f "$NSS_SO" ]; then
	check "getent passwd hanako answers from libnss_mynumber" nw getent passwd hanako
	expect "hanako has uid 70010" '^hanako:x:70010:70010:Hanako:'
else
	echo "# $NSS_SO not built: the NSS lookups are not checked"
fi

# --- paged results: more entries than slapd's default size limit (500)
i=1
: >"$T/many.ldif"
while [ $i -le 1200 ]; do
	printf 'dn: uid=u%s,ou=people,%s\nobjectClass: account\nobjectClass: mynumberUser\nuid: u%s\nmynumberRecord: account\t%s\t20250101000000Z\t-\n\n' \
		"$i" "$BASE" "$i" "$((71000 + i))" >>"$T/many.ldif"
	i=$((i + 1))
done
check "1200 more users are added" adm ldapadd -f "$T/many.ldif"
check_fails "the host's search without paging stops at slapd's size limit" \
	ldapsearch -x -H "$URI" -D "$HOSTDN" -w host-secret -b "$BASE" -LLL "(objectClass=mynumberUser)" uid
expect "Size limit exceeded" 'Size limit exceeded'
check "mynumber sync over 1202 users (paged)" "$MYNUMBER" --config "$CONF" sync
expect "all of them fetched" 'Fetched 1 certificate, 0 phone and 1201 account record\(s\) of 1202 user\(s\)'
expect "1201 managed accounts published" 'Published 1201 managed account\(s\)'
n=$(ls "$CACHE/u" | wc -l)
if [ "$n" = 1202 ]; then ok "1202 cache files"; else not_ok "$n cache files, not 1202"; fi
if [ -f "$NSS_SO" ]; then
	check "getent passwd u1200" nw getent passwd u1200
	expect "u1200 has uid 72200" '^u1200:x:72200:'
fi
check "mynumber list (everyone, from the directory)" "$MYNUMBER" --config "$CONF" list
expect "lists taro" '^taro +[0-9]+ card '

# --- removed from the directory: gone after the next lookup / sync
check "the u* users are deleted" sh -c "i=1; while [ \$i -le 1200 ]; do echo uid=u\$i,ou=people,$BASE; i=\$((i+1)); done | ldapdelete -x -H '$URI' -D '$ADMIN' -w admin-secret"
check "hanako's account is deleted from the directory" del_record hanako "$ACC_HANAKO"
check "mynumber sync" "$MYNUMBER" --config "$CONF" sync
expect "counts: 1 binding, 0 accounts, 1 user" 'Fetched 1 certificate, 0 phone and 0 account record\(s\) of 1 user\(s\)'
n=$(ls "$CACHE/u" | wc -l)
if [ "$n" = 1 ]; then ok "only taro's cache file is left"; else not_ok "$n cache files, not 1"; fi
if [ -f "$NSS_SO" ]; then
	check_fails "getent passwd hanako fails now" nw getent passwd hanako
fi
check "taro's binding is deleted from the directory" del_record taro "$REC"
check "authorized-keys taro" keys taro
expect_not "no key once the binding is gone" .
if [ -e "$CACHE/u/taro" ]; then not_ok "taro's cache file is still there"; else ok "taro's cache file is removed"; fi
check_fails "login refused once the binding is gone" login taro 1234
expect "PAM_CRED_INSUFFICIENT" 'Insufficient credentials'
check "taro's binding is back" add_record taro "$REC"

# --- slapd down: the cache answers within cache_max_age, then "unavailable"
check "authorized-keys taro (refreshes the cache)" keys taro
expect "the key" '^ssh-rsa '
check "slapd is stopped" slapd_stop
check "authorized-keys taro from the cache" keys taro
expect "the key from the cache" '^ssh-rsa AAAA[A-Za-z0-9+/=]+ mynumber:taro:1$'
check "login from the cache" login taro 1234
expect "pamtester: authenticated" 'successfully authenticated'
check "the cache is too old after cache_max_age" wait_until $((MAX_AGE + 5)) sh -c "! '$MYNUMBER' --config '$CONF' authorized-keys taro"
check_fails "authorized-keys taro with a stale cache" keys taro
expect "says the directory cannot be reached" 'cannot be reached'
"$MYNUMBER" --config "$CONF" authorized-keys taro 2>/dev/null >"$T/out"
expect_not "no key printed" .
check_fails "login with a stale cache" login taro 1234
expect "PAM_AUTHINFO_UNAVAIL" 'Authentication service cannot retrieve authentication info'
expect "the user is told the directory is unreachable" 'enrollment directory cannot be reached'
expect_not "no PIN asked" 'My Number card PIN'

# --- a corrupt cache: a clear error, never a login
printf '# mynumber ldap cache v1 fetched=%s\ngarbage\n' "$(date +%s)" >"$CACHE/u/taro"
chmod 0600 "$CACHE/u/taro"
check_fails "authorized-keys with a corrupt cache" keys taro
expect "names the corrupt cache" 'corrupt cache'
check_fails "login with a corrupt cache" login taro 1234
expect "PAM_SYSTEM_ERR" 'System error'
expect_not "not authenticated" 'successfully authenticated'

# --- a wrong bind password: a clear error (and no stale answer)
slapd_start
printf 'wrong\n' >"$T/wrong.pw"
chmod 0600 "$T/wrong.pw"
ldap_conf "$T/wrong.pw"
check_fails "mynumber sync with a wrong bind password" "$MYNUMBER" --config "$CONF" sync
expect "Invalid credentials" "bind as $HOSTDN failed: Invalid credentials"
check_fails "authorized-keys with a wrong bind password (corrupt cache)" keys taro
expect "Invalid credentials" 'Invalid credentials'
rm -f "$CACHE/u/taro"
check_fails "login with a wrong bind password and no cache" login taro 1234
expect "PAM_AUTHINFO_UNAVAIL" 'Authentication service cannot retrieve authentication info'
printf 'host-secret\n' >"$T/open.pw"
chmod 0644 "$T/open.pw"
ldap_conf "$T/open.pw"
check_fails "a bind password file others can read is refused" "$MYNUMBER" --config "$CONF" sync
ldap_conf
check "the right password works again" login taro 1234
expect "pamtester: authenticated" 'successfully authenticated'

mn_done
