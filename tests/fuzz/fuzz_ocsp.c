/*
 * Fuzz target "ocsp": the answer handling of the "ocsp" revocation backend
 * (revocation/ocsp.c evaluate(), ocsp_verify.c): the input is the body of the responder's
 * answer, parsed as an OCSPResponse, checked to be exact DER, its signer checked against the
 * test JPKI CA of tests/fuzz/fixtures (the issuer, a delegated responder, or the locally
 * trusted responder certificate), nonce, CertID match, dates and status, at a fixed time.
 * The first byte chooses the backend settings: nonce no/yes/optional (bits 0-1, a fixed nonce
 * in the request), responder_cert set (bit 2), SHA-256 CertID (bit 3, else SHA-1).
 * ocsp.c is compiled into this target to reach its static evaluate().
 */
#include "../../revocation/ocsp.c"

#include "fuzz.h"
#include "fuzz_fixture.h"

static X509 *issuer, *leaf; /* set once, read only afterwards */
static int64_t now;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	STACK_OF(X509) *sk = fuzz_fixture_certs("ocsp-issuer.pem");

	issuer = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	sk = fuzz_fixture_certs("ocsp-cert.pem");
	leaf = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	now = fuzz_fixture_time("crl-time", 1790000000);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char nonce[16] = "mynumber-fuzz-16";
	struct fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	struct ocsp_state s;
	struct mynumber_rev_query q;
	struct mynumber_rev_answer a;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id, *id2;
	char why[200];

	memset(&s, 0, sizeof(s));
	memset(&q, 0, sizeof(q));
	memset(&a, 0, sizeof(a));
	s.md = mode & 8 ? EVP_sha256() : EVP_sha1();
	s.nonce = (mode & 3) == 3 ? NONCE_NO : mode & 3;
	s.responder = mode & 4 ? issuer : NULL;
	s.max_response = MAX_RESPONSE;
	q.now = now;
	a.status = MYNUMBER_REV_UNAVAILABLE;
	a.reason = -1;
	if (req == NULL || (id = OCSP_cert_to_id(s.md, leaf, issuer)) == NULL)
		abort();
	if ((id2 = OCSP_CERTID_dup(id)) == NULL || OCSP_request_add0_id(req, id2) == NULL ||
	    (s.nonce != NONCE_NO &&
	     !OCSP_request_add1_nonce(req, (unsigned char *)nonce, sizeof(nonce))))
		abort();
	ERR_set_mark();
	evaluate(&s, &q, req, id, issuer, in.p, in.n, &a, why, sizeof(why));
	ERR_pop_to_mark();
	if (getenv("MN_FUZZ_DEBUG") != NULL) /* what the backend concluded, for the seeds */
		fprintf(stderr, "ocsp: status %d: %s\n", (int)a.status, why);
	if (a.status == MYNUMBER_REV_REVOKED && (a.reason < -1 || a.reason > 10))
		abort();
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	return 0;
}
