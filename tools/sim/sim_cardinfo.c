/* 券面事項入力補助AP: EF 0001 (個人番号), 0002 (4 attributes), 0003 (integrity), PIN 0011. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mn_cardinfo.h"
#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_tlv.h"
#include "sim.h"

#define NUMBER_EF_LEN    17
#define INTEGRITY_EF_LEN 336
#define ATTRS_EF_MAX     1200

/* FF 10 0C <12 digits> FF FF */
static int build_number(const struct sim_conf *conf, uint8_t *ef)
{
	size_t n;
	int r;

	r = mn_tlv_put(ef, NUMBER_EF_LEN - 2, 0xFF10, (const uint8_t *)conf->my_number, 12, &n);
	if (r != MN_OK || n != NUMBER_EF_LEN - 2)
		return r != MN_OK ? r : MN_ERR_INTERNAL;
	ef[15] = 0xFF;
	ef[16] = 0xFF;
	return MN_OK;
}

/* EF 0002's outer value after the DF21 offset table: DF22 .. DF25. */
static int attrs_items(const uint8_t *ef, size_t len, const uint8_t **items, size_t *items_len)
{
	struct mn_tlv outer, offsets;
	int r;

	if ((r = mn_tlv_parse(ef, len, &outer)) != MN_OK ||
	    (r = mn_tlv_parse(outer.value, outer.len, &offsets)) != MN_OK)
		return r;
	*items = outer.value + offsets.hdr_len + offsets.len;
	*items_len = outer.len - offsets.hdr_len - offsets.len;
	return MN_OK;
}

static int sha256(const uint8_t *in, size_t len, uint8_t out[32])
{
	unsigned int n = 0;

	if (EVP_Digest(in, len, out, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return MN_ERR_CRYPTO;
	return MN_OK;
}

static int sign_sha256(EVP_PKEY *key, const uint8_t *in, size_t len, uint8_t *sig)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t n = MN_RSA_SIG_LEN;
	int r = MN_ERR_CRYPTO;

	if (md == NULL)
		return MN_ERR_NOMEM;
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &n, in, len) == 1 && n == MN_RSA_SIG_LEN)
		r = MN_OK;
	EVP_MD_CTX_free(md);
	return r;
}

/* FF30 { DF31 SHA-256(EF 0001), DF32 SHA-256(DF22..DF25), DF33 signature over DF31‖DF32 } */
static int build_integrity(const uint8_t *number, const uint8_t *attrs, size_t attrs_len,
                           EVP_PKEY *key, uint8_t *ef)
{
	uint8_t body[INTEGRITY_EF_LEN], hash[32], sig[MN_RSA_SIG_LEN];
	const uint8_t *items;
	size_t items_len, n = 0, w, total;
	int r;

	if ((r = sha256(number, NUMBER_EF_LEN, hash)) != MN_OK ||
	    (r = mn_tlv_put(body, sizeof(body), 0xDF31, hash, 32, &w)) != MN_OK)
		return r;
	n += w;
	if ((r = attrs_items(attrs, attrs_len, &items, &items_len)) != MN_OK ||
	    (r = sha256(items, items_len, hash)) != MN_OK ||
	    (r = mn_tlv_put(body + n, sizeof(body) - n, 0xDF32, hash, 32, &w)) != MN_OK)
		return r;
	n += w;
	if ((r = sign_sha256(key, body, n, sig)) != MN_OK ||
	    (r = mn_tlv_put(body + n, sizeof(body) - n, 0xDF33, sig, sizeof(sig), &w)) != 0)
		return r;
	n += w;
	if ((r = mn_tlv_put(ef, INTEGRITY_EF_LEN, 0xFF30, body, n, &total)) != MN_OK)
		return r;
	return total == INTEGRITY_EF_LEN ? MN_OK : MN_ERR_INTERNAL;
}

int sim_cardinfo_build(struct sim_card *card, const char *dir, const struct sim_conf *conf)
{
	struct sim_app *app = &card->apps[SIM_AP_CARDINFO];
	uint8_t *number = NULL, *attrs = NULL, *integrity = NULL;
	size_t attrs_len = 0;
	EVP_PKEY *key = NULL;
	char *key_path;
	int r;

	if ((key_path = sim_path(dir, "info.key")) == NULL)
		return MN_ERR_NOMEM;
	if ((r = sim_load_key(key_path, &key)) != MN_OK)
		goto out;
	if ((number = malloc(NUMBER_EF_LEN)) == NULL || (attrs = malloc(ATTRS_EF_MAX)) == NULL ||
	    (integrity = malloc(INTEGRITY_EF_LEN)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	if ((r = build_number(conf, number)) != MN_OK ||
	    (r = mn_attrs_encode(&conf->attrs, attrs, ATTRS_EF_MAX, &attrs_len)) != MN_OK ||
	    (r = build_integrity(number, attrs, attrs_len, key, integrity)) != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot build the card-info files: %s\n",
		        mn_strerror(r));
		goto out;
	}
	r = sim_app_add_ef(app, MN_CI_EF_NUMBER, SIM_EF_BINARY, SIM_PIN_INFO, number, NUMBER_EF_LEN,
	                   NULL);
	if (r != MN_OK)
		goto out;
	number = NULL;
	r = sim_app_add_ef(app, MN_CI_EF_ATTRS, SIM_EF_BINARY, SIM_PIN_INFO, attrs, attrs_len,
	                   NULL);
	if (r != MN_OK)
		goto out;
	attrs = NULL;
	r = sim_app_add_ef(app, MN_CI_EF_INTEGRITY, SIM_EF_BINARY, SIM_PIN_INFO, integrity,
	                   INTEGRITY_EF_LEN, NULL);
	if (r != MN_OK)
		goto out;
	integrity = NULL;
	r = sim_app_add_ef(app, MN_CI_EF_PIN, SIM_EF_PIN, SIM_PIN_INFO, NULL, 0, NULL);
out:
	if (number != NULL)
		explicit_bzero(number, NUMBER_EF_LEN);
	if (attrs != NULL)
		explicit_bzero(attrs, ATTRS_EF_MAX);
	free(number);
	free(attrs);
	free(integrity);
	EVP_PKEY_free(key);
	free(key_path);
	return r;
}
