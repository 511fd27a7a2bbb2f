#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <openssl/sha.h>

#include "mn_apdu.h"
#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_file.h"
#include "mn_pcsc.h"

struct mn_pcsc {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	int connected;
	int in_txn;
	int lost; /* the card went away: nothing to reset */
};

static const unsigned char aid_jpki[] = MN_AID_JPKI;
static const unsigned char sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                0x01, 0x05, 0x00, 0x04, 0x20};

int mn_pcsc_insertion(const char *reader, struct mn_insertion *ret)
{
	SCARDCONTEXT ctx = 0;
	SCARD_READERSTATE st;
	char names[2048], *r;
	DWORD n = sizeof(names);
	int rc = MN_ERR_NO_READER;

	if (reader == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != SCARD_S_SUCCESS)
		return MN_ERR_NO_READER;
	if (SCardListReaders(ctx, NULL, names, &n) != SCARD_S_SUCCESS || n < 2 ||
	    names[n - 1] != '\0')
		goto out;
	rc = MN_ERR_NO_TOKEN;
	for (r = names; *r != '\0'; r += strlen(r) + 1) {
		if (reader[0] != '\0' && strcmp(r, reader) != 0)
			continue;
		memset(&st, 0, sizeof(st));
		st.szReader = r;
		st.dwCurrentState = SCARD_STATE_UNAWARE;
		if (SCardGetStatusChange(ctx, 0, &st, 1) != SCARD_S_SUCCESS)
			continue;
		if (!(st.dwEventState & SCARD_STATE_PRESENT) || st.cbAtr == 0 ||
		    st.cbAtr > MN_ATR_MAX || strlen(r) >= sizeof(ret->reader))
			continue;
		memset(ret, 0, sizeof(*ret));
		strcpy(ret->reader, r);
		ret->events = (unsigned)(st.dwEventState >> 16) & 0xFFFF;
		memcpy(ret->atr, st.rgbAtr, st.cbAtr);
		ret->atr_len = st.cbAtr;
		rc = MN_OK;
		break;
	}
out:
	SCardReleaseContext(ctx);
	return rc;
}

int mn_pcsc_open(const char *reader, struct mn_pcsc **ret)
{
	struct mn_pcsc *p;
	LONG e;

	if (reader == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MN_ERR_NOMEM;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx) != SCARD_S_SUCCESS) {
		free(p);
		return MN_ERR_NO_READER;
	}
	e = SCardConnect(p->ctx, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
	                 &p->card, &p->proto);
	if (e == SCARD_S_SUCCESS) {
		p->connected = 1;
		e = SCardBeginTransaction(p->card);
		p->in_txn = e == SCARD_S_SUCCESS;
	}
	if (e != SCARD_S_SUCCESS) {
		mn_pcsc_close(&p, 0);
		return e == SCARD_E_NO_SMARTCARD || e == SCARD_W_REMOVED_CARD ? MN_ERR_NO_TOKEN
		                                                              : MN_ERR_IO;
	}
	*ret = p;
	return MN_OK;
}

void mn_pcsc_close(struct mn_pcsc **pp, int reset)
{
	struct mn_pcsc *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	if (p->in_txn)
		SCardEndTransaction(p->card, SCARD_LEAVE_CARD);
	if (p->connected)
		SCardDisconnect(p->card, reset && !p->lost ? SCARD_RESET_CARD : SCARD_LEAVE_CARD);
	SCardReleaseContext(p->ctx);
	free(p);
	*pp = NULL;
}

/* One APDU; the status word in *sw, response data (if any) in resp. */
static int xfer(struct mn_pcsc *p, const unsigned char *cmd, size_t len, unsigned char *resp,
                size_t cap, size_t *rlen, uint16_t *sw)
{
	unsigned char buf[258];
	DWORD n = sizeof(buf);
	size_t dl;
	LONG e;

	e = SCardTransmit(p->card, p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, cmd,
	                  len, NULL, buf, &n);
	if (e != SCARD_S_SUCCESS) {
		p->lost = 1;
		/* a transaction lost mid-way is the card leaving the reader (or the field);
		 * which code pcscd gives depends on whether its poll saw the removal first */
		return e == SCARD_W_REMOVED_CARD || e == SCARD_E_NO_SMARTCARD ||
		               e == SCARD_E_NOT_TRANSACTED || e == SCARD_W_RESET_CARD ||
		               e == SCARD_W_UNRESPONSIVE_CARD || e == SCARD_F_COMM_ERROR ||
		               e == SCARD_E_COMM_DATA_LOST || e == SCARD_E_READER_UNAVAILABLE
		           ? MN_ERR_TOKEN_REMOVED
		           : MN_ERR_IO;
	}
	if (mn_rapdu_split(buf, n, &dl, sw) != MN_OK)
		return MN_ERR_FORMAT;
	if (dl > cap)
		return MN_ERR_TOO_LARGE;
	if (dl > 0)
		memcpy(resp, buf, dl);
	if (rlen != NULL)
		*rlen = dl;
	return MN_OK;
}

static int simple(struct mn_pcsc *p, uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2,
                  const unsigned char *data, size_t lc, uint16_t *sw)
{
	unsigned char cmd[261];
	size_t n;
	int r;

	if ((r = mn_capdu_build(cla, ins, p1, p2, data, lc, 0, cmd, sizeof(cmd), &n)) != MN_OK)
		return r;
	r = xfer(p, cmd, n, NULL, 0, NULL, sw);
	explicit_bzero(cmd, sizeof(cmd)); /* VERIFY carries the PIN */
	return r;
}

static int select_ef(struct mn_pcsc *p, unsigned fid)
{
	unsigned char id[2] = {(unsigned char)(fid >> 8), (unsigned char)fid};
	uint16_t sw;
	int r;

	if ((r = simple(p, 0x00, 0xA4, 0x02, 0x0C, id, 2, &sw)) != MN_OK)
		return r;
	return sw == 0x9000 ? MN_OK : MN_ERR_NOT_FOUND;
}

int mn_pcsc_select_auth(struct mn_pcsc *p)
{
	uint16_t sw;
	int r;

	if (p == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = simple(p, 0x00, 0xA4, 0x04, 0x0C, aid_jpki, sizeof(aid_jpki) - 1, &sw)) != MN_OK)
		return r;
	if (sw != 0x9000)
		return MN_ERR_NOT_FOUND;
	return select_ef(p, MN_EF_AUTH_PIN);
}

int mn_pcsc_tries(struct mn_pcsc *p, int *ret_tries)
{
	uint16_t sw;
	int r, t;

	if (p == NULL || ret_tries == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = simple(p, 0x00, 0x20, 0x00, 0x80, NULL, 0, &sw)) != MN_OK)
		return r;
	if (mn_sw_pin_tries(sw, &t) != MN_OK)
		return MN_ERR_FORMAT;
	*ret_tries = t < 0 ? MN_AUTH_PIN_TRIES : t;
	return MN_OK;
}

int mn_pcsc_verify(struct mn_pcsc *p, const char *pin, size_t len)
{
	uint16_t sw;
	int r, t;

	if (p == NULL || pin == NULL || len == 0 || len > 16)
		return MN_ERR_INVALID_ARG;
	r = simple(p, 0x00, 0x20, 0x00, 0x80, (const unsigned char *)pin, len, &sw);
	if (r != MN_OK)
		return r;
	if (sw == 0x9000)
		return MN_OK;
	if (mn_sw_pin_tries(sw, &t) == MN_OK)
		return t == 0 ? MN_ERR_PIN_LOCKED : MN_ERR_PIN_INCORRECT;
	return MN_ERR_FORMAT;
}

int mn_pcsc_sign_sha256(struct mn_pcsc *p, const unsigned char *data, size_t len,
                        unsigned char *sig, size_t *siglen)
{
	unsigned char di[sizeof(sha256_prefix) + SHA256_DIGEST_LENGTH], cmd[261];
	size_t n, rlen = 0;
	uint16_t sw;
	int r;

	if (p == NULL || data == NULL || sig == NULL || siglen == NULL || *siglen < MN_RSA_SIG_LEN)
		return MN_ERR_INVALID_ARG;
	if ((r = select_ef(p, MN_EF_AUTH_KEY)) != MN_OK)
		return r;
	memcpy(di, sha256_prefix, sizeof(sha256_prefix));
	SHA256(data, len, di + sizeof(sha256_prefix));
	if ((r = mn_capdu_build(0x80, 0x2A, 0x00, 0x80, di, sizeof(di), 256, cmd, sizeof(cmd),
	                        &n)) != MN_OK)
		return r;
	if ((r = xfer(p, cmd, n, sig, *siglen, &rlen, &sw)) != MN_OK)
		return r;
	if (sw != 0x9000 || rlen != MN_RSA_SIG_LEN)
		return MN_ERR_CRYPTO;
	*siglen = rlen;
	return MN_OK;
}

/* ------------------------------------------------------------------ the warm record */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* reader TAB events TAB atr-hex TAB sha256 LF, root-owned 0600 */
int mn_warm_load(const char *path, struct mn_warm *ret)
{
	struct mn_warm w;
	struct stat st;
	char line[512], *f[4], *save = NULL, *tok;
	unsigned long ev;
	size_t i, n = 0;
	FILE *fp = NULL;
	int fd, r = MN_ERR_FORMAT;

	if (path == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? MN_ERR_NOT_FOUND : MN_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		close(fd);
		return MN_ERR_IO;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		close(fd);
		return MN_ERR_IO;
	}
	if (fgets(line, sizeof(line), fp) == NULL || strchr(line, '\n') == NULL)
		goto out;
	*strchr(line, '\n') = '\0';
	for (tok = strtok_r(line, "\t", &save); tok != NULL && n < 4;
	     tok = strtok_r(NULL, "\t", &save))
		f[n++] = tok;
	if (n != 4 || tok != NULL)
		goto out;
	memset(&w, 0, sizeof(w));
	if (strlen(f[0]) >= sizeof(w.ins.reader) || strlen(f[2]) % 2 ||
	    strlen(f[2]) / 2 > MN_ATR_MAX || strlen(f[2]) == 0 || strlen(f[3]) != 64)
		goto out;
	strcpy(w.ins.reader, f[0]);
	errno = 0;
	ev = strtoul(f[1], &tok, 10);
	if (errno != 0 || *tok != '\0' || ev > 0xFFFF)
		goto out;
	w.ins.events = (unsigned)ev;
	for (i = 0; f[2][2 * i] != '\0'; i++) {
		int hi = hexval(f[2][2 * i]), lo = hexval(f[2][2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto out;
		w.ins.atr[i] = (unsigned char)(hi << 4 | lo);
	}
	w.ins.atr_len = i;
	for (i = 0; i < 64; i++)
		if (hexval(f[3][i]) < 0)
			goto out;
	memcpy(w.sha256, f[3], 65);
	*ret = w;
	r = MN_OK;
out:
	fclose(fp);
	return r;
}

int mn_warm_save(const char *path, const struct mn_warm *w)
{
	char line[4096], atr[2 * MN_ATR_MAX + 1];
	size_t i;
	int n;

	if (path == NULL || w == NULL || strchr(w->ins.reader, '\t') != NULL ||
	    strchr(w->ins.reader, '\n') != NULL || w->ins.atr_len > MN_ATR_MAX)
		return MN_ERR_INVALID_ARG;
	for (i = 0; i < w->ins.atr_len; i++)
		snprintf(atr + 2 * i, 3, "%02x", w->ins.atr[i]);
	atr[2 * w->ins.atr_len] = '\0';
	n = snprintf(line, sizeof(line), "%s\t%u\t%s\t%s\n", w->ins.reader, w->ins.events, atr,
	             w->sha256);
	if (n < 0 || (size_t)n >= sizeof(line))
		return MN_ERR_TOO_LARGE;
	return mn_file_write_atomic(path, line, (size_t)n, 0600, NULL, 0);
}
