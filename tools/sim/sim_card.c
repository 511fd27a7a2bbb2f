/* The card model: APDU dispatch, SELECT, READ BINARY, VERIFY, CHANGE REFERENCE DATA. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mn_apdu.h"
#include "mn_err.h"
#include "mn_jpki.h"
#include "sim.h"
#include "sim_wallet.h"

#define SW_OK             0x9000
#define SW_WRONG_LENGTH   0x6700
#define SW_MEMORY_FAILURE 0x6581
#define SW_INCOMPATIBLE   0x6981
#define SW_SECURITY       0x6982
#define SW_BLOCKED        0x6984
#define SW_NO_CURRENT_EF  0x6986
#define SW_WRONG_DATA     0x6A80
#define SW_NOT_FOUND      0x6A82
#define SW_WRONG_P1P2     0x6A86
#define SW_REF_NOT_FOUND  0x6A88
#define SW_WRONG_OFFSET   0x6B00
#define SW_INS_UNKNOWN    0x6D00
#define SW_CLA_UNKNOWN    0x6E00

/* ATRs without their TCK: every one announces T=1, so a TCK follows. */
static const struct {
	uint8_t bytes[24];
	size_t len;
} atrs[] = {
    [SIM_PROFILE_CARD] = {{0x3B, 0xDA, 0x13, 0xFF, 0x81, 0x31, 0xFB, 0x46, 0x80, 0x12, 0x39, 0x2F,
                           0x31, 0xC1, 0x73, 0xC6, 0x01, 0xC0},
                          18},
    [SIM_PROFILE_ANDROID] = {{0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77, 0x81, 0x81,
                              0x00},
                             12},
    [SIM_PROFILE_IPHONE] = {{0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77, 0x81, 0x91,
                             0x00},
                            12},
    [SIM_PROFILE_JUKI] = {{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45}, 8},
};

static void build_atr(struct sim_card *card)
{
	size_t n = atrs[card->profile].len, i;
	uint8_t tck = 0;

	memcpy(card->atr, atrs[card->profile].bytes, n);
	for (i = 1; i < n; i++)
		tck ^= card->atr[i];
	card->atr[n] = tck;
	card->atr_len = n + 1;
}

int sim_app_add_ef(struct sim_app *app, uint16_t fid, enum sim_ef_kind kind, int pin, uint8_t *data,
                   size_t size, EVP_PKEY *key)
{
	struct sim_ef *ef;

	if (app->n_efs >= SIM_MAX_EFS || size > MN_EF_MAX_SIZE)
		return MN_ERR_INTERNAL;
	ef = &app->efs[app->n_efs++];
	ef->fid = fid;
	ef->kind = kind;
	ef->pin = pin;
	ef->data = data;
	ef->size = size;
	ef->key = key;
	app->present = 1;
	return MN_OK;
}

struct sim_ef *sim_card_find_ef(struct sim_card *card, uint16_t fid)
{
	struct sim_app *app = &card->apps[card->cur_ap];
	size_t i;

	if (card->cur_ap == SIM_AP_NONE)
		return NULL;
	for (i = 0; i < app->n_efs; i++)
		if (app->efs[i].fid == fid)
			return &app->efs[i];
	return NULL;
}

static void clear_security(struct sim_card *card)
{
	int i;

	for (i = 0; i < SIM_PIN_COUNT; i++)
		card->pins[i].verified = 0;
}

void sim_card_reset(struct sim_card *card)
{
	card->cur_ap = SIM_AP_NONE;
	card->cur_ef = NULL;
	clear_security(card);
	sim_wallet_reset(card->wallet);
}

void sim_card_free(struct sim_card **cardp)
{
	struct sim_card *card;
	size_t a, i;

	if (cardp == NULL || *cardp == NULL)
		return;
	card = *cardp;
	for (a = 0; a < SIM_AP_COUNT; a++) {
		for (i = 0; i < card->apps[a].n_efs; i++) {
			free(card->apps[a].efs[i].data);
			EVP_PKEY_free(card->apps[a].efs[i].key);
		}
	}
	explicit_bzero(card->pins, sizeof(card->pins));
	sim_wallet_free(&card->wallet);
	free(card);
	*cardp = NULL;
}

int sim_card_load(const char *dir, const char *state_dir, int profile, struct sim_card **out)
{
	struct sim_card *card = NULL;
	struct sim_conf conf;
	char *conf_path = NULL;
	int i, r;

	memset(&conf, 0, sizeof(conf));
	if ((card = calloc(1, sizeof(*card))) == NULL ||
	    (conf_path = sim_path(dir, "card.conf")) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = sim_conf_load(conf_path, &conf)) != MN_OK)
		goto out;
	card->profile = profile >= 0 ? (enum sim_profile)profile : conf.profile;
	card->state_dir = state_dir;
	build_atr(card);
	if ((r = sim_mkdir(state_dir, 0700)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot create the state directory %s\n", state_dir);
		goto out;
	}
	for (i = 0; i < SIM_PIN_COUNT; i++) {
		r = sim_pin_state_load(state_dir, (enum sim_pin_id)i, conf.pins[i], &card->pins[i]);
		if (r != MN_OK)
			goto out;
	}
	if ((r = sim_jpki_build(card, dir, &conf)) != MN_OK)
		goto out;
	/* Only the card has the card-info AP: phone tokens and 住基カード carry JPKI alone. */
	if (card->profile == SIM_PROFILE_CARD && (r = sim_cardinfo_build(card, dir, &conf)) != 0)
		goto out;
	sim_card_reset(card);
	*out = card;
	card = NULL;
	r = MN_OK;
out:
	sim_conf_wipe(&conf);
	free(conf_path);
	sim_card_free(&card);
	return r;
}

/* ---------------------------------------------------------------- commands */

static uint16_t cmd_select(struct sim_card *card, const struct mn_capdu *c)
{
	static const struct {
		enum sim_ap ap;
		const char *aid;
		size_t len;
	} aids[] = {
	    {SIM_AP_JPKI, MN_AID_JPKI, MN_AID_JPKI_LEN},
	    {SIM_AP_CARDINFO, MN_AID_CARDINFO, MN_AID_CARDINFO_LEN},
	};
	struct sim_ef *ef;
	size_t i;

	if (c->p1 == 0x04 && c->p2 == 0x0C) {
		if (c->lc == 0)
			return SW_WRONG_LENGTH;
		for (i = 0; i < sizeof(aids) / sizeof(aids[0]); i++) {
			if (c->lc == aids[i].len && memcmp(c->data, aids[i].aid, c->lc) == 0 &&
			    card->apps[aids[i].ap].present) {
				card->cur_ap = aids[i].ap;
				card->cur_ef = NULL;
				clear_security(card);
				return SW_OK;
			}
		}
		return SW_NOT_FOUND;
	}
	if (c->p1 == 0x02 && c->p2 == 0x0C) {
		if (c->lc != 2)
			return SW_WRONG_LENGTH;
		ef = sim_card_find_ef(card, (uint16_t)(c->data[0] << 8 | c->data[1]));
		if (ef == NULL)
			return SW_NOT_FOUND;
		card->cur_ef = ef;
		return SW_OK;
	}
	return SW_WRONG_P1P2;
}

static uint16_t cmd_read_binary(struct sim_card *card, const struct mn_capdu *c, uint8_t *data,
                                size_t *data_len)
{
	struct sim_ef *ef = card->cur_ef;
	size_t offset, n;

	if (c->lc != 0 || !c->has_le)
		return SW_WRONG_LENGTH;
	if (c->p1 & 0x80) {
		/* short EF identifier: P1 = 100xxxxx, P2 = 8-bit offset */
		if ((c->p1 & 0x60) != 0 || (c->p1 & 0x1F) == 0)
			return SW_WRONG_P1P2;
		if ((ef = sim_card_find_ef(card, c->p1 & 0x1F)) == NULL)
			return SW_NOT_FOUND;
		card->cur_ef = ef;
		offset = c->p2;
	} else {
		offset = (size_t)c->p1 << 8 | c->p2;
	}
	if (ef == NULL)
		return SW_NO_CURRENT_EF;
	if (ef->kind != SIM_EF_BINARY)
		return SW_INCOMPATIBLE;
	if (ef->pin != SIM_PIN_NONE && !card->pins[ef->pin].verified)
		return SW_SECURITY;
	if (offset >= ef->size)
		return SW_WRONG_OFFSET;
	n = ef->size - offset < c->le ? ef->size - offset : c->le;
	memcpy(data, ef->data + offset, n);
	*data_len = n;
	return SW_OK;
}

/* The PIN EF a VERIFY / CHANGE addresses: P2 = 80 (current EF) or 80|SFI. */
static uint16_t pin_ef(struct sim_card *card, uint8_t p2, struct sim_ef **out)
{
	struct sim_ef *ef;

	if ((p2 & 0xE0) != 0x80)
		return SW_WRONG_P1P2;
	if (p2 == 0x80) {
		if ((ef = card->cur_ef) == NULL)
			return SW_NO_CURRENT_EF;
	} else if ((ef = sim_card_find_ef(card, p2 & 0x1F)) == NULL) {
		return SW_REF_NOT_FOUND;
	}
	if (ef->kind != SIM_EF_PIN)
		return SW_REF_NOT_FOUND;
	*out = ef;
	return SW_OK;
}

/* Write the PIN's state before the card answers; a failure is a memory failure. */
static int persist(struct sim_card *card, enum sim_pin_id id)
{
	int r = sim_pin_state_save(card->state_dir, id, &card->pins[id]);

	if (r != MN_OK)
		fprintf(stderr, "mynumber-sim: cannot save the %s state in %s: %s\n",
		        sim_pin_info(id)->name, card->state_dir, mn_strerror(r));
	return r;
}

static uint16_t cmd_verify(struct sim_card *card, const struct mn_capdu *c)
{
	struct sim_ef *ef = NULL;
	struct sim_pin *pin;
	enum sim_pin_id id;
	int max, ok;
	uint16_t sw;

	if (c->p1 != 0x00)
		return SW_WRONG_P1P2;
	if ((sw = pin_ef(card, c->p2, &ef)) != SW_OK)
		return sw;
	id = (enum sim_pin_id)ef->pin;
	pin = &card->pins[id];
	max = sim_pin_info(id)->max_tries;
	if (c->lc == 0) {
		if (c->has_le)
			return SW_WRONG_LENGTH;
		return pin->verified ? SW_OK : (uint16_t)(0x63C0 | pin->tries);
	}
	if (c->lc > SIM_PIN_MAX)
		return SW_WRONG_LENGTH;
	if (pin->tries == 0)
		return SW_BLOCKED;
	ok = c->lc == pin->len && CRYPTO_memcmp(c->data, pin->value, c->lc) == 0;
	if (ok) {
		pin->verified = 1;
		if (pin->tries != max) {
			pin->tries = max;
			if (persist(card, id) != MN_OK)
				return SW_MEMORY_FAILURE;
		}
		if (card->verbose)
			fprintf(stderr, "mynumber-sim: %s verified\n", sim_pin_info(id)->name);
		return SW_OK;
	}
	pin->verified = 0;
	pin->tries--;
	if (persist(card, id) != MN_OK)
		return SW_MEMORY_FAILURE;
	if (card->verbose)
		fprintf(stderr, "mynumber-sim: %s wrong, %d tries left\n", sim_pin_info(id)->name,
		        pin->tries);
	return (uint16_t)(0x63C0 | pin->tries);
}

static uint16_t cmd_change(struct sim_card *card, const struct mn_capdu *c)
{
	struct sim_ef *ef = NULL;
	struct sim_pin *pin, old;
	enum sim_pin_id id;
	uint16_t sw;

	if (c->p1 != 0x01)
		return SW_WRONG_P1P2;
	if ((sw = pin_ef(card, c->p2, &ef)) != SW_OK)
		return sw;
	if (c->lc == 0)
		return SW_WRONG_LENGTH;
	id = (enum sim_pin_id)ef->pin;
	pin = &card->pins[id];
	if (!pin->verified)
		return SW_SECURITY;
	if (sim_pin_check(sim_pin_info(id)->fmt, c->data, c->lc) != MN_OK)
		return SW_WRONG_DATA;
	old = *pin;
	memset(pin->value, 0, sizeof(pin->value));
	memcpy(pin->value, c->data, c->lc);
	pin->len = c->lc;
	pin->changed = 1;
	sw = SW_OK;
	if (persist(card, id) != MN_OK) {
		*pin = old;
		sw = SW_MEMORY_FAILURE;
	} else if (card->verbose) {
		fprintf(stderr, "mynumber-sim: %s changed\n", sim_pin_info(id)->name);
	}
	explicit_bzero(&old, sizeof(old));
	return sw;
}

static uint16_t dispatch(struct sim_card *card, const struct mn_capdu *c, uint8_t *data,
                         size_t *data_len)
{
	uint8_t cla;

	switch (c->ins) {
	case 0xA4:
	case 0xB0:
	case 0x20:
	case 0x24:
		cla = 0x00;
		break;
	case 0x2A:
	case 0xFC:
		cla = 0x80;
		break;
	default:
		return SW_INS_UNKNOWN;
	}
	if (c->cla != cla)
		return SW_CLA_UNKNOWN;
	switch (c->ins) {
	case 0xA4:
		return cmd_select(card, c);
	case 0xB0:
		return cmd_read_binary(card, c, data, data_len);
	case 0x20:
		return cmd_verify(card, c);
	case 0x24:
		return cmd_change(card, c);
	case 0x2A:
		return sim_jpki_compute_signature(card, c, data, data_len);
	default:
		return sim_jpki_last_command(card, c);
	}
}

int sim_card_apdu(struct sim_card *card, const uint8_t *in, size_t in_len, uint8_t *out,
                  size_t *out_len)
{
	struct mn_capdu c;
	size_t n = 0;
	uint16_t sw;

	if (card == NULL || in == NULL || out == NULL || out_len == NULL)
		return MN_ERR_INVALID_ARG;
	if (mn_capdu_parse(in, in_len, &c) != MN_OK)
		sw = SW_WRONG_LENGTH;
	else if (c.cla != 0x00 && c.cla != 0x80)
		sw = SW_CLA_UNKNOWN;
	else
		sw = dispatch(card, &c, out, &n);
	if (sw != SW_OK)
		n = 0;
	out[n] = (uint8_t)(sw >> 8);
	out[n + 1] = (uint8_t)sw;
	*out_len = n + 2;
	return MN_OK;
}
