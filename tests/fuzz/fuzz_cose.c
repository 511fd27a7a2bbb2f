/*
 * Fuzz target "cose": the COSE parsers and checks of lib/mdoc/mn_cose.h. Input: a 2-byte
 * length, that much CBOR (COSE_Sign1, COSE_Mac0 or COSE_Key), then the detached payload.
 * The CBOR goes through the strict loader, then mn_cose_sign1_verify with a fixed P-256 key,
 * mn_cose_mac0_verify with a fixed HMAC key, mn_cose_key_to_pkey; the payload also through
 * mn_cose_ecdsa_raw_to_der for the three curve sizes.
 */
#include "config.h"

#include <cbor.h>
#include <openssl/crypto.h>
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_keys.h"
#include "mn_cbor.h"
#include "mn_cose.h"
#include "mn_err.h"

static EVP_PKEY *device_key; /* set once, read only afterwards */
static const uint8_t mac_key[32] = "mynumber fuzz EMacKey 32 bytes!";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if ((device_key = fuzz_key(fuzz_device_pem)) == NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	const uint8_t *c, *payload;
	size_t clen, plen, dlen;
	cbor_item_t *it = NULL;
	EVP_PKEY *k = NULL;
	uint8_t *der = NULL;
	char why[256];
	static const size_t flens[] = {32, 48, 66};
	size_t i;

	c = fuzz_piece(&in, &clen);
	payload = in.p;
	plen = in.n;
	if (mn_cbor_load_strict(c, clen, &it, why, sizeof(why)) == MN_OK) {
		(void)mn_cose_sign1_verify(it, payload, plen, device_key, why, sizeof(why));
		(void)mn_cose_sign1_verify(it, NULL, 0, device_key, why, sizeof(why));
		(void)mn_cose_mac0_verify(it, payload, plen, mac_key, sizeof(mac_key), why,
		                          sizeof(why));
		if (mn_cose_key_to_pkey(it, &k) == MN_OK)
			EVP_PKEY_free(k);
		cbor_decref(&it);
	}
	for (i = 0; i < sizeof(flens) / sizeof(flens[0]); i++) {
		if (mn_cose_ecdsa_raw_to_der(payload, plen, flens[i], &der, &dlen) == MN_OK) {
			OPENSSL_free(der);
			der = NULL;
		}
	}
	return 0;
}
