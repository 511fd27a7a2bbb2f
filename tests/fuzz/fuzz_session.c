/*
 * Fuzz target "session": ISO 18013-5 session encryption (lib/mdoc/mn_mdoc_session.h) with
 * fixed ephemeral keys. The first byte chooses:
 *  0: SessionEstablishment parse; its eReaderKey as a COSE_Key; its data decrypted by the mdoc
 *     side;
 *  1: SessionData parse; its data decrypted by the reader side;
 *  2: COSE_Key parse; a session with it as EDeviceKey, encrypt/decrypt round trip;
 *  3: a tampered ciphertext: the rest is encrypted by the mdoc side, one bit chosen by the
 *     input flipped, and the reader side must refuse it (and accept the untampered one).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_keys.h"
#include "mn_err.h"
#include "mn_mdoc_session.h"

static EVP_PKEY *reader_key, *device_key; /* set once, read only afterwards */
static uint8_t *reader_key_bytes, *device_key_bytes;
static size_t reader_key_len, device_key_len;
/* #6.24(bstr .cbor [null, null, null]): any fixed SessionTranscriptBytes will do */
static const uint8_t st[] = {0xd8, 0x18, 0x44, 0x83, 0xf6, 0xf6, 0xf6};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((reader_key = fuzz_key(fuzz_reader_pem)) == NULL ||
	    (device_key = fuzz_key(fuzz_device_pem)) == NULL ||
	    mn_mdoc_ereader_key_bytes(reader_key, &reader_key_bytes, &reader_key_len) != MN_OK ||
	    mn_mdoc_ereader_key_bytes(device_key, &device_key_bytes, &device_key_len) != MN_OK)
		abort();
	return 0;
}

static struct mn_mdoc_session *side(enum mn_mdoc_role role)
{
	struct mn_mdoc_session *s = NULL;

	if (role == MN_MDOC_ROLE_READER) {
		if (mn_mdoc_session_new_role(role, reader_key, device_key_bytes, device_key_len, st,
		                             sizeof(st), &s) != MN_OK)
			abort();
	} else if (mn_mdoc_session_new_role(role, device_key, reader_key_bytes, reader_key_len, st,
	                                    sizeof(st), &s) != MN_OK) {
		abort();
	}
	return s;
}

static void decrypt_as(enum mn_mdoc_role role, const uint8_t *ct, size_t len)
{
	struct mn_mdoc_session *s = side(role);
	uint8_t *pt = NULL;
	size_t ptlen;

	if (mn_mdoc_session_decrypt(s, ct, len, &pt, &ptlen) == MN_OK)
		free(pt);
	mn_mdoc_session_free(&s);
}

static void tamper(const uint8_t *pt, size_t len, size_t pos, uint8_t mask)
{
	struct mn_mdoc_session *m = side(MN_MDOC_ROLE_MDOC), *r = side(MN_MDOC_ROLE_READER);
	struct mn_mdoc_session *r2 = side(MN_MDOC_ROLE_READER);
	uint8_t *ct = NULL, *out = NULL;
	size_t ctlen = 0, outlen = 0;

	if (mn_mdoc_session_encrypt(m, pt, len, &ct, &ctlen) != MN_OK)
		goto out;
	if (mn_mdoc_session_decrypt(r, ct, ctlen, &out, &outlen) != MN_OK || outlen != len ||
	    (len > 0 && memcmp(out, pt, len) != 0))
		abort(); /* the untampered message decrypts to itself */
	free(out);
	out = NULL;
	if (ctlen > 0) {
		ct[pos % ctlen] ^= mask | 1;
		if (mn_mdoc_session_decrypt(r2, ct, ctlen, &out, &outlen) == MN_OK)
			abort(); /* a changed ciphertext must be refused */
	}
out:
	free(ct);
	free(out);
	mn_mdoc_session_free(&m);
	mn_mdoc_session_free(&r);
	mn_mdoc_session_free(&r2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	const uint8_t *ek, *d;
	size_t eklen, dlen, pos;
	uint8_t mode = fuzz_u8(&in), mask, *ct = NULL, *pt = NULL;
	size_t ctlen, ptlen;
	struct mn_mdoc_session *s = NULL;
	EVP_PKEY *k = NULL;
	int status;

	switch (mode % 4) {
	case 0:
		if (mn_mdoc_session_establishment_parse(in.p, in.n, &ek, &eklen, &d, &dlen) !=
		    MN_OK)
			break;
		if (mn_mdoc_cose_key_parse(ek, eklen, &k) == MN_OK)
			EVP_PKEY_free(k);
		decrypt_as(MN_MDOC_ROLE_MDOC, d, dlen);
		break;
	case 1:
		if (mn_mdoc_session_data_parse(in.p, in.n, &d, &dlen, &status) != MN_OK)
			break;
		if (d != NULL)
			decrypt_as(MN_MDOC_ROLE_READER, d, dlen);
		break;
	case 2:
		if (mn_mdoc_cose_key_parse(in.p, in.n, &k) != MN_OK)
			break;
		EVP_PKEY_free(k);
		if (mn_mdoc_session_new(reader_key, in.p, in.n, st, sizeof(st), &s) != MN_OK)
			break;
		if (mn_mdoc_session_encrypt(s, data, size, &ct, &ctlen) == MN_OK &&
		    mn_mdoc_session_decrypt(s, ct, ctlen, &pt, &ptlen) == MN_OK)
			free(pt); /* SKReader vs SKDevice: this need not succeed */
		free(ct);
		mn_mdoc_session_free(&s);
		break;
	default:
		pos = fuzz_u16(&in);
		mask = fuzz_u8(&in);
		tamper(in.p, in.n, pos, mask);
		break;
	}
	return 0;
}
