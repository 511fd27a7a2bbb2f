#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <PCSC/winscard.h>

#include "mn_err.h"
#include "mn_pcsc_apdu.h"

#define POLL_MS     200
#define NAMES_MAX   8192
#define READER_NAME 256

struct mn_pcsc_apdu {
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	int connected;
	char reader[READER_NAME];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/*
 * One look at the readers: MN_OK and name in out when a card is present, MN_ERR_NO_TOKEN
 * when a matching reader exists without one, MN_ERR_NO_READER when none matches.
 */
static int find_card(SCARDCONTEXT ctx, const char *want, char *out, size_t cap)
{
	char *names = NULL, *r;
	DWORD n = NAMES_MAX;
	SCARD_READERSTATE st;
	int rc = MN_ERR_NO_READER;

	if ((names = malloc(NAMES_MAX)) == NULL)
		return MN_ERR_NOMEM;
	if (SCardListReaders(ctx, NULL, names, &n) != SCARD_S_SUCCESS || n < 2 || n > NAMES_MAX ||
	    names[n - 1] != '\0')
		goto out;
	for (r = names; r < names + n && *r != '\0'; r += strlen(r) + 1) {
		if (want != NULL && want[0] != '\0' && strcmp(r, want) != 0)
			continue;
		if (strlen(r) >= cap)
			continue;
		rc = MN_ERR_NO_TOKEN;
		memset(&st, 0, sizeof(st));
		st.szReader = r;
		st.dwCurrentState = SCARD_STATE_UNAWARE;
		if (SCardGetStatusChange(ctx, 0, &st, 1) != SCARD_S_SUCCESS)
			continue;
		if ((st.dwEventState & SCARD_STATE_PRESENT) &&
		    !(st.dwEventState & SCARD_STATE_MUTE)) {
			memcpy(out, r, strlen(r) + 1);
			rc = MN_OK;
			goto out;
		}
	}
out:
	free(names);
	return rc;
}

int mn_pcsc_apdu_open(const char *reader, unsigned wait_ms, struct mn_pcsc_apdu **ret)
{
	struct mn_pcsc_apdu *p = NULL;
	uint64_t deadline;
	LONG e;
	int rc = MN_ERR_INVALID_ARG;

	if (ret == NULL || wait_ms > MN_PCSC_APDU_MAX_WAIT_MS ||
	    (reader != NULL && strlen(reader) >= READER_NAME))
		goto out;
	rc = MN_ERR_NOMEM;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto out;
	rc = MN_ERR_NO_READER;
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &p->ctx) != SCARD_S_SUCCESS) {
		free(p);
		p = NULL;
		goto out;
	}
	deadline = now_ms() + wait_ms;
	for (;;) {
		rc = find_card(p->ctx, reader, p->reader, sizeof(p->reader));
		if (rc == MN_OK || rc == MN_ERR_NOMEM || now_ms() >= deadline)
			break;
		sleep_ms(POLL_MS);
	}
	if (rc != MN_OK)
		goto out;
	e = SCardConnect(p->ctx, p->reader, SCARD_SHARE_EXCLUSIVE,
	                 SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &p->card, &p->proto);
	if (e != SCARD_S_SUCCESS) {
		rc = e == SCARD_W_REMOVED_CARD || e == SCARD_E_NO_SMARTCARD ? MN_ERR_TOKEN_REMOVED
		                                                            : MN_ERR_IO;
		goto out;
	}
	p->connected = 1;
	*ret = p;
	p = NULL;
	rc = MN_OK;
out:
	mn_pcsc_apdu_free(&p);
	return rc;
}

static void pcsc_apdu_close(struct mn_pcsc_apdu **pp, DWORD disposition)
{
	struct mn_pcsc_apdu *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	if (p->connected)
		SCardDisconnect(p->card, disposition);
	SCardReleaseContext(p->ctx);
	free(p);
	*pp = NULL;
}

void mn_pcsc_apdu_free(struct mn_pcsc_apdu **pp)
{
	/* an ended mdoc session cannot be resumed: resetting the field makes the phone
	 * offer a fresh engagement (new EDeviceKey) to the next reader session */
	pcsc_apdu_close(pp, SCARD_RESET_CARD);
}

void mn_pcsc_apdu_release(struct mn_pcsc_apdu **pp)
{
	pcsc_apdu_close(pp, SCARD_LEAVE_CARD);
}

const char *mn_pcsc_apdu_reader(const struct mn_pcsc_apdu *p)
{
	return p != NULL ? p->reader : "";
}

int mn_pcsc_apdu_transmit(void *ctx, const uint8_t *capdu, size_t clen, uint8_t *rapdu, size_t rcap,
                          size_t *rlen)
{
	struct mn_pcsc_apdu *p = ctx;
	DWORD n;
	LONG e;
	int rc = MN_ERR_INVALID_ARG;

	if (p == NULL || !p->connected || capdu == NULL || clen < 4 || rapdu == NULL ||
	    rlen == NULL || rcap < 2)
		goto out;
	rc = MN_ERR_TOO_LARGE;
	if (clen > MN_PCSC_APDU_MAX_CMD)
		goto out;
	n = rcap > 65538 ? 65538 : (DWORD)rcap;
	e = SCardTransmit(p->card, p->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1,
	                  capdu, (DWORD)clen, NULL, rapdu, &n);
	if (e != SCARD_S_SUCCESS) {
		rc = e == SCARD_W_REMOVED_CARD || e == SCARD_E_NO_SMARTCARD ||
		             e == SCARD_W_RESET_CARD || e == SCARD_W_UNRESPONSIVE_CARD ||
		             e == SCARD_E_NOT_TRANSACTED || e == SCARD_F_COMM_ERROR ||
		             e == SCARD_E_COMM_DATA_LOST || e == SCARD_E_READER_UNAVAILABLE
		         ? MN_ERR_TOKEN_REMOVED
		     : e == SCARD_E_INSUFFICIENT_BUFFER ? MN_ERR_TOO_LARGE
		                                        : MN_ERR_IO;
		if (rc == MN_ERR_TOKEN_REMOVED) {
			SCardDisconnect(p->card, SCARD_LEAVE_CARD);
			p->connected = 0;
		}
		goto out;
	}
	/* no bytes at all, not even a status word: the phone left the field (vpcd and some
	 * contactless readers answer an absent target this way) */
	rc = n == 0 ? MN_ERR_TOKEN_REMOVED : MN_ERR_FORMAT;
	if (n < 2 || n > rcap)
		goto out;
	*rlen = n;
	rc = MN_OK;
out:
	return rc;
}
