/*
 * Seed generator of tests/fuzz/make-corpus.sh for fuzz_opensc_driver (not a test): runs the
 * target's session (the same code, included below) against a card made by "mynumber-sim
 * init" in this process, and writes OUT: the ATR then every R-APDU, each as a 2-byte length
 * and the bytes, which is the target's input format.
 *   gen-driver-seeds CARDDIR STATEDIR OUT
 */
#define FUZZ_DRIVER_NO_ENTRY 1
#include "fuzz_opensc_driver.c"

#include "../../tools/sim/sim.h"
#include "mn_err.h"

struct sim_rec {
	struct sim_card *card;
	FILE *out;
};

static void put16(FILE *f, size_t n)
{
	fputc((int)(n >> 8 & 0xff), f);
	fputc((int)(n & 0xff), f);
}

static int sim_respond(void *ctx, const u8 *c, size_t clen, u8 *r, size_t cap, size_t *rlen)
{
	struct sim_rec *s = ctx;
	uint8_t out[SIM_RAPDU_BUF];
	size_t n = sizeof(out);

	if (sim_card_apdu(s->card, c, clen, out, &n) != MN_OK || n > cap)
		return SC_ERROR_TRANSMIT_FAILED;
	memcpy(r, out, n);
	*rlen = n;
	put16(s->out, n);
	fwrite(out, 1, n, s->out);
	return SC_SUCCESS;
}

int main(int argc, char **argv)
{
	struct sim_rec s;

	if (argc != 4) {
		fputs("usage: gen-driver-seeds CARDDIR STATEDIR OUT\n", stderr);
		return 2;
	}
	if (sim_card_load(argv[1], argv[2], -1, &s.card) != MN_OK ||
	    (s.out = fopen(argv[3], "wb")) == NULL) {
		fprintf(stderr, "gen-driver-seeds: cannot load %s or write %s\n", argv[1], argv[3]);
		return 1;
	}
	put16(s.out, s.card->atr_len);
	fwrite(s.card->atr, 1, s.card->atr_len, s.out);
	fuzz_opensc_init();
	fuzz_driver_session(sim_respond, &s, s.card->atr, s.card->atr_len);
	sc_release_context(fuzz_ctx);
	sim_card_free(&s.card);
	return fclose(s.out) == 0 ? 0 : 1;
}
