/* Facts about the My Number card's applications (doc/card.md has the sources). */
#ifndef MN_JPKI_H
#define MN_JPKI_H

/* 公的個人認証AP (JPKI) */
#define MN_AID_JPKI     "\xD3\x92\xF0\x00\x26\x01\x00\x00\x00\x01"
#define MN_AID_JPKI_LEN 10
/* 券面事項入力補助AP (card-info input assist) */
#define MN_AID_CARDINFO     "\xD3\x92\x10\x00\x31\x00\x01\x01\x04\x08"
#define MN_AID_CARDINFO_LEN 10

/* JPKI AP elementary files */
#define MN_EF_SIGN_CERT  0x0001 /* readable only after the sign password */
#define MN_EF_SIGN_CA    0x0002
#define MN_EF_TOKEN_INFO 0x0006 /* 160 bytes, CK_TOKEN_INFO layout */
#define MN_EF_CERT_AVAIL 0x0008 /* 3 bytes: sign, auth, 00 */
#define MN_EF_AUTH_CERT  0x000A /* behind the auth PIN on Android tokens */
#define MN_EF_AUTH_CA    0x000B
#define MN_EF_AUTH_KEY   0x0017
#define MN_EF_AUTH_PIN   0x0018
#define MN_EF_SIGN_KEY   0x001A
#define MN_EF_SIGN_PIN   0x001B

/* card-info AP elementary files */
#define MN_CI_EF_NUMBER    0x0001 /* the individual number: never on a login path */
#define MN_CI_EF_ATTRS     0x0002 /* name, address, birth date, sex */
#define MN_CI_EF_INTEGRITY 0x0003
#define MN_CI_EF_PIN       0x0011

#define MN_AUTH_PIN_TRIES 3
#define MN_SIGN_PIN_TRIES 5
#define MN_CI_PIN_TRIES   3

#define MN_TOKEN_INFO_LEN 160
#define MN_SIGN_INPUT_MAX 245 /* RSA-2048 PKCS#1 v1.5: k - 11 */
#define MN_RSA_SIG_LEN    256
#define MN_EF_MAX_SIZE    0x7FFF /* 15-bit READ BINARY offsets */

#endif
