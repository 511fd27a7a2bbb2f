/* Fixed test-only P-256 keys of the fuzz targets (made with openssl genpkey for tests/fuzz only).
 */
#ifndef MN_FUZZ_KEYS_H
#define MN_FUZZ_KEYS_H

#include <openssl/evp.h>
#include <openssl/pem.h>

static const char fuzz_reader_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+CLHBrgf8O8/q/MV\n"
    "GWKxQB4c64f8FhRtyBbOMUDGf6qhRANCAARjmCMBJEFfRG+3k5HGGiDMsYsz1jvL\n"
    "fECfVDsgYXh+Jylv10qFW/XYWN40PeSPlYKi/ztbnbgkOHq088wwbAYC\n"
    "-----END PRIVATE KEY-----\n";

static const char fuzz_device_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgX4Ycdg4ulHLztah1\n"
    "ZLn2eo1IoEyMzSnQRy6ncmnfXEihRANCAATIhhZ1FebUwDjt6Awf1mqUEoDyt0HE\n"
    "XOstK7c1sblV2EFHROMmmc6WxISgo8UsYhqkP9+rhVMaG3dtSrNbxzQL\n"
    "-----END PRIVATE KEY-----\n";

static inline EVP_PKEY *fuzz_key(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return k;
}

#endif
