#!/bin/sh
# Test IACA + Document Signer certificates with the ISO/IEC 18013-5 Annex B profiles (P-256).
# usage: make-certs.sh OUTDIR [DAYS]  ->  iaca.pem iaca-key.pem ds.pem ds-key.pem
#        other-iaca.pem (a second, unrelated IACA for the wrong-trust-anchor case)
set -eu
out=$1
days=${2:-400}
cd "$out"
iaca() { # name cn
	openssl ecparam -name prime256v1 -genkey -noout -out "$1-key.pem"
	cat >"$1.ext" <<EOC
[req]
distinguished_name = dn
[dn]
[v3]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
issuerAltName = URI:https://iaca.example.jp/
crlDistributionPoints = URI:https://iaca.example.jp/crl/$1.crl
EOC
	openssl req -new -x509 -key "$1-key.pem" -sha256 -days "$days" -set_serial "0x$(openssl rand -hex 8)" \
		-subj "/C=JP/O=mynumber interop test/CN=$2" -config "$1.ext" -extensions v3 -out "$1.pem"
}
printf '[req]\ndistinguished_name = dn\n[dn]\n' >req.cnf
iaca iaca "Test IACA"
iaca other-iaca "Other IACA"
openssl ecparam -name prime256v1 -genkey -noout -out ds-key.pem
openssl req -new -key ds-key.pem -subj "/C=JP/O=mynumber interop test/CN=Test DS" \
	-config req.cnf -out ds.csr
cat >ds.ext <<EOC
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, 1.0.18013.5.1.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
issuerAltName = URI:https://iaca.example.jp/
crlDistributionPoints = URI:https://iaca.example.jp/crl/iaca.crl
EOC
openssl x509 -req -in ds.csr -CA iaca.pem -CAkey iaca-key.pem -set_serial "0x$(openssl rand -hex 8)" \
	-sha256 -days "$days" -extfile ds.ext -out ds.pem 2>/dev/null
rm -f ds.csr ds.ext iaca.ext other-iaca.ext req.cnf
