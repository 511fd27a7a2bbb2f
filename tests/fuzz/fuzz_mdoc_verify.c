/*
 * Fuzz target "mdoc_verify": full reader-side verification of a DeviceResponse
 * (lib/mdoc/mn_mdoc.h mn_mdoc_verify: strict CBOR, structure, IACA chain and Annex B
 * profiles, MSO and digests, validity, device signature or MAC) with the test IACA of
 * tests/fuzz/fixtures (mynumber-sim's wallet), a fixed time and the fixed reader key. The
 * first byte chooses: bit 0 clear, the rest is the DeviceResponse and the transcript is the
 * fixture's; set, the rest is a 2-byte length, the SessionTranscriptBytes, then the
 * DeviceResponse. Bit 1 passes the reader's private key (needed for deviceMac).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_fixture.h"
#include "fuzz_keys.h"
#include "mn_err.h"
#include "mn_mdoc.h"

static STACK_OF(X509) *iaca; /* set once, read only afterwards */
static EVP_PKEY *reader_key;
static unsigned char *transcript;
static size_t transcript_len;
static time_t at;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	iaca = fuzz_fixture_certs("mdoc-iaca.pem");
	if ((reader_key = fuzz_key(fuzz_reader_pem)) == NULL)
		abort();
	if ((transcript = fuzz_fixture("mdoc-transcript.cbor", &transcript_len)) == NULL) {
		fprintf(stderr, "fuzz: fixture mdoc-transcript.cbor missing\n");
		exit(2);
	}
	at = (time_t)fuzz_fixture_time("mdoc-time", 1790000000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct mn_mdoc_result *res = NULL;
	enum mn_mdoc_check failed = MN_MDOC_CHECK_NONE;
	const uint8_t *st = transcript;
	size_t st_len = transcript_len, i, n;
	uint8_t mode = fuzz_u8(&in);
	const char *doctype, *ns, *id;
	const cbor_item_t *value;
	X509 *ds, *anchor;
	char why[512];
	int r;

	if (mode & 1)
		st = fuzz_piece(&in, &st_len);
	r = mn_mdoc_verify(in.p, in.n, st, st_len, mode & 2 ? reader_key : NULL, iaca, at,
	                   MN_MDOC_DEFAULT_SKEW, &res, &failed, why, sizeof(why));
	if (getenv("MN_FUZZ_DEBUG") != NULL) /* the verdict, for the seeds */
		fprintf(stderr, "mdoc_verify: %d %s: %s\n", r, mn_mdoc_check_name(failed),
		        r == MN_OK ? "ok" : why);
	(void)mn_mdoc_check_name(failed);
	if (r != MN_OK) {
		if (res != NULL || r >= 0)
			abort();
		return 0;
	}
	n = mn_mdoc_result_count(res);
	for (i = 0; i <= n; i++) {
		if (mn_mdoc_result_get(res, i, &doctype, &ns, &id, &value) != MN_OK) {
			if (i < n)
				abort();
		} else if (doctype == NULL || ns == NULL || id == NULL || value == NULL) {
			abort();
		}
	}
	(void)mn_mdoc_result_signer(res, &ds, &anchor);
	mn_mdoc_result_free(&res);
	return 0;
}
