/*
 * An example revocation backend for the mynumber plugin ABI (doc/revocation-abi.md): a local
 * deny list. Each line of the file is
 *
 *     <issuer key id, 40 hex> <serial, hex> [<successor serial, hex>]
 *
 * and names a revoked certificate (and, optionally, the serial of the certificate that
 * replaced it). A deny list knows nothing about the certificates it does not list, so for
 * them it answers UNKNOWN and the next backend decides; list it before crl or ocsp. The
 * file is read at every check, so an edit takes effect at the next login.
 *
 *     [revocation]
 *     backends = denylist, crl
 *     [revocation.denylist]
 *     file = /etc/mynumber/denylist
 *
 * Built like the real backends: cc -shared -fPIC -I/usr/include -o denylist.so denylist.c
 * (the header is $(includedir)/mynumber/revocation.h), installed as
 * $(libdir)/mynumber/revocation/denylist.so.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mynumber/revocation.h"

struct denylist {
	char file[4096];
};

static int dl_open(const struct mynumber_rev_setting *settings, size_t n, void **state, char *err,
                   size_t errlen)
{
	struct denylist *d;
	const char *file = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(settings[i].key, "file") == 0 && settings[i].value[0] == '/') {
			file = settings[i].value;
		} else {
			/* unknown settings are refused: a typo must not disable the check */
			snprintf(err, errlen, "[revocation.denylist]: bad setting '%s'",
			         settings[i].key);
			return -1;
		}
	}
	if (file == NULL || strlen(file) >= sizeof(d->file)) {
		snprintf(err, errlen,
		         "[revocation.denylist]: 'file' (an absolute path) is required");
		return -1;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -1;
	strcpy(d->file, file);
	*state = d;
	return 0;
}

/* Hex text to bytes; 0 when it does not fit or is not hex. */
static size_t unhex(const char *s, unsigned char *out, size_t cap, int strip_zeros)
{
	size_t n = strlen(s), i, k = 0;

	if (n == 0 || n % 2 || n / 2 > cap)
		return 0;
	for (i = 0; i < n; i += 2) {
		unsigned v;
		if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
		    sscanf(s + i, "%2x", &v) != 1)
			return 0;
		out[k++] = (unsigned char)v;
	}
	/* a serial is compared without its leading zero bytes, as the query has it */
	while (strip_zeros && k > 1 && out[0] == 0)
		memmove(out, out + 1, --k);
	return k;
}

static int dl_check(void *state, const struct mynumber_rev_query *q, struct mynumber_rev_answer *a)
{
	struct denylist *d = state;
	char line[256], kid[41], serial[81], succ[81];
	unsigned char kbin[20], sbin[40];
	FILE *f;
	int fields;

	a->reason = -1;
	if ((f = fopen(d->file, "r")) == NULL) {
		a->status = MYNUMBER_REV_UNAVAILABLE; /* no list, no answer */
		snprintf(a->detail, sizeof(a->detail), "denylist: cannot read the list");
		return 0;
	}
	a->status = MYNUMBER_REV_UNKNOWN;
	snprintf(a->detail, sizeof(a->detail), "denylist: not listed");
	while (fgets(line, sizeof(line), f) != NULL) {
		fields = sscanf(line, "%40s %80s %80s", kid, serial, succ);
		if (fields < 2 || kid[0] == '#' || unhex(kid, kbin, sizeof(kbin), 0) != 20 ||
		    memcmp(kbin, q->issuer_key_id, 20) != 0 ||
		    unhex(serial, sbin, sizeof(sbin), 1) != q->serial_len ||
		    memcmp(sbin, q->serial, q->serial_len) != 0)
			continue;
		a->status = MYNUMBER_REV_REVOKED;
		snprintf(a->detail, sizeof(a->detail), "denylist: listed");
		if (fields == 3)
			a->successor_serial_len =
			    unhex(succ, a->successor_serial, sizeof(a->successor_serial), 1);
		break;
	}
	fclose(f);
	return 0;
}

static void dl_close(void *state)
{
	free(state);
}

static const struct mynumber_rev_backend denylist = {
    MYNUMBER_REV_ABI_VERSION, "denylist", dl_open, dl_check, dl_close,
};

const struct mynumber_rev_backend *mynumber_revocation_backend(void)
{
	return &denylist;
}
