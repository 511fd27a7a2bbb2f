/*
 * pcsc-apdu: send raw APDUs to the first reader with a card through PC/SC alone (no OpenSC),
 * for the integration tests and the benchmark baseline. Prints "SW [data-hex]" per APDU.
 *   pcsc-apdu [-t] HEX [HEX...]     -t: one transaction around all APDUs
 * Exit 0 when every APDU was exchanged (whatever its SW), 1 on PC/SC errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/winscard.h>

#include "mn_err.h"

static int parse_hex(const char *s, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;
		if (*s == ' ' || *s == ':')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			return MN_ERR_FORMAT;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return MN_ERR_TOO_LARGE;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0 || n < 4)
		return MN_ERR_FORMAT;
	*len = n;
	return MN_OK;
}

int main(int argc, char **argv)
{
	SCARDCONTEXT ctx = 0;
	SCARDHANDLE h = 0;
	DWORD proto = 0, readers_len = 0, rlen;
	char *readers = NULL, *r;
	unsigned char cmd[261], resp[258];
	size_t clen, i;
	int a = 1, txn = 0, rc = 1, connected = 0;
	LONG e;

	if (argc > 1 && strcmp(argv[1], "-t") == 0)
		txn = 1, a = 2;
	if (a >= argc) {
		fprintf(stderr, "usage: pcsc-apdu [-t] HEX [HEX...]\n");
		return 2;
	}
	if ((e = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) != SCARD_S_SUCCESS ||
	    (e = SCardListReaders(ctx, NULL, NULL, &readers_len)) != SCARD_S_SUCCESS)
		goto out;
	if ((readers = malloc(readers_len)) == NULL ||
	    (e = SCardListReaders(ctx, NULL, readers, &readers_len)) != SCARD_S_SUCCESS)
		goto out;
	for (r = readers; *r && !connected; r += strlen(r) + 1)
		if (SCardConnect(ctx, r, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
		                 &h, &proto) == SCARD_S_SUCCESS)
			connected = 1;
	if (!connected) {
		fprintf(stderr, "pcsc-apdu: no card in any reader\n");
		goto out;
	}
	if (txn && (e = SCardBeginTransaction(h)) != SCARD_S_SUCCESS)
		goto out;
	for (; a < argc; a++) {
		if (parse_hex(argv[a], cmd, sizeof(cmd), &clen) != MN_OK) {
			fprintf(stderr, "pcsc-apdu: bad APDU '%s'\n", argv[a]);
			goto out;
		}
		rlen = sizeof(resp);
		e = SCardTransmit(h, proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1, cmd,
		                  clen, NULL, resp, &rlen);
		if (e != SCARD_S_SUCCESS)
			goto out;
		if (rlen < 2) {
			fprintf(stderr, "pcsc-apdu: response shorter than a status word\n");
			goto out;
		}
		printf("%02X%02X", resp[rlen - 2], resp[rlen - 1]);
		if (rlen > 2)
			printf(" ");
		for (i = 0; i + 2 < rlen; i++)
			printf("%02X", resp[i]);
		printf("\n");
	}
	if (txn)
		SCardEndTransaction(h, SCARD_LEAVE_CARD);
	rc = 0;
out:
	if (rc != 0 && e != SCARD_S_SUCCESS)
		fprintf(stderr, "pcsc-apdu: %s\n", pcsc_stringify_error(e));
	if (connected)
		SCardDisconnect(h, SCARD_LEAVE_CARD);
	if (ctx)
		SCardReleaseContext(ctx);
	free(readers);
	return rc;
}
