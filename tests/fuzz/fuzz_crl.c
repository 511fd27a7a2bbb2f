/*
 * Fuzz target "crl": CRL import and the CRL index (lib/mn_crlidx.h), as "mynumber crl import"
 * and the crl revocation backend use them, in a fresh temporary directory per input. The
 * first byte chooses:
 *  bit 0 clear: the rest is a CRL (DER or PEM) imported with mn_crl_import against the test
 *        JPKI CA of tests/fuzz/fixtures at a fixed time; with bit 1 set the rest is a 2-byte
 *        length, a full CRL, then a delta CRL imported after it; the index made is then
 *        opened and looked up;
 *  bit 0 set: the rest is an index file, opened with mn_crlidx_open and looked up (the
 *        login's side: records are checked when a lookup reaches them).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "fuzz_fixture.h"
#include "mn_crlidx.h"
#include "mn_err.h"

static STACK_OF(X509) *anchors; /* set once, read only afterwards */
static time_t now;
static char base[64];

static void cleanup(void)
{
	rmdir(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	anchors = fuzz_fixture_certs("crl-anchors.pem");
	now = (time_t)fuzz_fixture_time("crl-time", 1790000000);
	snprintf(base, sizeof(base), "%s/mn-fuzz-crl-XXXXXX",
	         tmp != NULL && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(base) == NULL)
		abort();
	atexit(cleanup);
	return 0;
}

static int put(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t w;

	if (fd < 0)
		return -1;
	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			close(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	close(fd);
	return 0;
}

static void lookups(const char *path, const uint8_t *serials, size_t n)
{
	struct mn_crlidx *idx = NULL;
	char err[256];
	int revoked, reason;
	int64_t date;
	size_t i, len;

	if (mn_crlidx_open(path, &idx, err, sizeof(err)) != MN_OK)
		return;
	(void)mn_crlidx_this_update(idx);
	(void)mn_crlidx_next_update(idx);
	(void)mn_crlidx_issuer_key_id(idx);
	(void)mn_crlidx_issuer_name_sha256(idx);
	(void)mn_crlidx_crl_number(idx, &len);
	(void)mn_crlidx_count(idx);
	/* serials: pieces of the input (1..20 bytes) */
	for (i = 0; i + 1 < n && i < 64 * 21; i += len + 1) {
		len = serials[i] % 21;
		if (len == 0 || len > n - i - 1)
			break;
		(void)mn_crlidx_lookup(idx, serials + i + 1, len, &revoked, &reason, &date);
	}
	(void)mn_crlidx_lookup(idx, (const unsigned char *)"\x01", 1, &revoked, &reason, &date);
	mn_crlidx_close(&idx);
}

/* Remove what one input left in dir, then dir. */
static void rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[512];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t mode = fuzz_u8(&in);
	char dir[128], crl[160], idx[512], err[512];
	const uint8_t *full;
	size_t full_len;
	int r;

	snprintf(dir, sizeof(dir), "%s/run-XXXXXX", base);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(crl, sizeof(crl), "%s/input.crl", dir);
	if (mode & 1) {
		snprintf(idx, sizeof(idx), "%s/index", dir);
		if (put(idx, in.p, in.n) == 0)
			lookups(idx, data, size);
	} else {
		if (mode & 2) {
			full = fuzz_piece(&in, &full_len);
			if (put(crl, full, full_len) == 0)
				(void)mn_crl_import(crl, anchors, now, dir, NULL, 0, err,
				                    sizeof(err));
		}
		r = put(crl, in.p, in.n) == 0
		        ? mn_crl_import(crl, anchors, now, dir, idx, sizeof(idx), err, sizeof(err))
		        : MN_ERR_IO;
		if (getenv("MN_FUZZ_DEBUG") != NULL) /* the verdict, for the seeds */
			fprintf(stderr, "crl: %d %s\n", r, r == MN_OK ? "imported" : err);
		if (r == MN_OK)
			lookups(idx, in.p, in.n > 256 ? 256 : in.n);
	}
	rm_dir(dir);
	return 0;
}
