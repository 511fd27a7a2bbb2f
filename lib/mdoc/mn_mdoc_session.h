/*
 * ISO/IEC 18013-5 session establishment and session encryption (§9.1.1).
 *
 * Session keys: Z = ECDH(own ephemeral private key, peer ephemeral public key), salt =
 * SHA-256(SessionTranscriptBytes) (the exact bytes, tag 24 included), SKReader / SKDevice =
 * HKDF-SHA-256(Z, salt, "SKReader" / "SKDevice", 32 bytes). Messages are AES-256-GCM with an
 * empty AAD and the 16-byte tag appended; IV = identifier (8 bytes, 00..00 reader -> mdoc,
 * 00..01 mdoc -> reader) || counter (4 bytes big-endian, from 1, one per message and direction).
 *
 * A session refuses to go on after any failed decryption (its keys are wiped) and before a
 * counter would wrap. CBOR input is parsed strictly: definite lengths only, no duplicate or
 * unknown map keys, no trailing bytes, the expected tags and nothing else.
 */
#ifndef MN_MDOC_SESSION_H
#define MN_MDOC_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define MN_MDOC_SK_LEN          32
#define MN_MDOC_SESSION_MAX_MSG (16u * 1024 * 1024) /* bound on one message, either way */

/* SessionData status values */
enum {
	MN_MDOC_STATUS_NONE = -1,       /* no "status" in the message */
	MN_MDOC_STATUS_ENCRYPTION = 10, /* error: session encryption */
	MN_MDOC_STATUS_CBOR = 11,       /* error: CBOR decoding */
	MN_MDOC_STATUS_TERMINATION = 20,
};

/* Which end of the session we are: it selects the keys used to send and to receive. */
enum mn_mdoc_role {
	MN_MDOC_ROLE_READER = 0, /* sends with SKReader, receives with SKDevice */
	MN_MDOC_ROLE_MDOC = 1,   /* sends with SKDevice, receives with SKReader */
};

struct mn_mdoc_session;

/*
 * A reader's session: reader_priv is the reader's ephemeral EC private key (P-256, P-384 or
 * P-521), edevice_key the device's EDeviceKey as a COSE_Key EC2 map, bare or as EDeviceKeyBytes
 * (#6.24(bstr .cbor COSE_Key)); its curve must be reader_priv's. st_bytes are the exact
 * SessionTranscriptBytes. reader_priv is not kept.
 */
int mn_mdoc_session_new(EVP_PKEY *reader_priv, const uint8_t *edevice_key, size_t len,
                        const uint8_t *st_bytes, size_t st_len, struct mn_mdoc_session **ret);

/* The same for either role: own_priv is our ephemeral private key, peer_key the other's. */
int mn_mdoc_session_new_role(enum mn_mdoc_role role, EVP_PKEY *own_priv, const uint8_t *peer_key,
                             size_t len, const uint8_t *st_bytes, size_t st_len,
                             struct mn_mdoc_session **ret);

void mn_mdoc_session_free(struct mn_mdoc_session **s);

#define MN_MDOC_BLE_IDENT_LEN 16

/*
 * The BLE Ident characteristic value (ISO/IEC 18013-5 8.3.3.1.1.4):
 * HKDF-SHA256(IKM = EDeviceKeyBytes, salt = empty, info = "BLEIdent", L = 16).
 * edevice_key_bytes is the tag-24 EDeviceKeyBytes exactly as it stands in the
 * DeviceEngagement.
 */
int mn_mdoc_ble_ident(const uint8_t *edevice_key_bytes, size_t len,
                      uint8_t out[MN_MDOC_BLE_IDENT_LEN]);

/* Encrypt the next outgoing message; *ct (free()) is len + 16 bytes. */
int mn_mdoc_session_encrypt(struct mn_mdoc_session *s, const uint8_t *pt, size_t len, uint8_t **ct,
                            size_t *ctlen);

/*
 * Decrypt the next incoming message; *pt (free()) is len - 16 bytes. Any failure leaves the
 * session unusable: every later call returns MN_ERR_CRYPTO.
 */
int mn_mdoc_session_decrypt(struct mn_mdoc_session *s, const uint8_t *ct, size_t len, uint8_t **pt,
                            size_t *ptlen);

/* Copy out SKReader and SKDevice (for tests and key-derivation checks). */
/*
 * EMacKey (ISO/IEC 18013-5 §9.1.3.5), for either side of a deviceMac:
 * HKDF-SHA256(IKM = ECDH(own_priv, peer), salt = SHA-256(SessionTranscriptBytes),
 * info = "EMacKey", L = 32). Both keys on the same supported curve, else MN_ERR_FORMAT.
 */
int mn_mdoc_emac_key(EVP_PKEY *own_priv, EVP_PKEY *peer, const uint8_t *st_bytes, size_t st_len,
                     uint8_t key[MN_MDOC_SK_LEN]);
int mn_mdoc_session_get_keys(const struct mn_mdoc_session *s, uint8_t sk_reader[MN_MDOC_SK_LEN],
                             uint8_t sk_device[MN_MDOC_SK_LEN]);

/*
 * EReaderKeyBytes = #6.24(bstr .cbor {1: 2, -1: crv, -2: x, -3: y}) for the public part of an
 * EC key (P-256, P-384, P-521). *out is free()d by the caller.
 */
int mn_mdoc_ereader_key_bytes(EVP_PKEY *key, uint8_t **out, size_t *outlen);

/*
 * Check a COSE_Key EC2 public key (bare, or tag-24 wrapped) and import it: kty 2, crv 1/2/3,
 * x and y bstrs of the curve's length, optional kid (bstr) and alg (int or tstr), nothing else;
 * the point must be on the curve. *key is EVP_PKEY_free()d by the caller.
 */
int mn_mdoc_cose_key_parse(const uint8_t *buf, size_t len, EVP_PKEY **key);

/*
 * SessionEstablishment = {"eReaderKey": #6.24(bstr .cbor COSE_Key), "data": bstr}.
 * On success *ereader_key points at the exact EReaderKeyBytes (tag included) and *data at the
 * ciphertext, both inside buf.
 */
int mn_mdoc_session_establishment_parse(const uint8_t *buf, size_t len, const uint8_t **ereader_key,
                                        size_t *eklen, const uint8_t **data, size_t *dlen);
/* ereader_key is EReaderKeyBytes (checked, copied as is). *out is free()d by the caller. */
int mn_mdoc_session_establishment_build(const uint8_t *ereader_key, size_t eklen,
                                        const uint8_t *data, size_t dlen, uint8_t **out,
                                        size_t *outlen);

/*
 * SessionData = {? "data": bstr, ? "status": uint}, at least one present, status 10, 11 or 20.
 * On success *data is NULL (and *dlen 0) when absent, otherwise points inside buf; *status is
 * MN_MDOC_STATUS_NONE when absent.
 */
int mn_mdoc_session_data_parse(const uint8_t *buf, size_t len, const uint8_t **data, size_t *dlen,
                               int *status);
/* data may be NULL (no "data"), status MN_MDOC_STATUS_NONE (no "status"), not both. */
int mn_mdoc_session_data_build(const uint8_t *data, size_t dlen, int status, uint8_t **out,
                               size_t *outlen);

#endif
