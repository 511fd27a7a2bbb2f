/*
 * OpenSC card driver for the My Number card (個人番号カード) JPKI AP and the smartphone JPKI
 * tokens (Android GP-SE, iPhone). doc/opensc-driver.md explains what it does differently from
 * OpenSC's built-in jpki driver, and why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "mn_driver.h"

#include "mn_jpki.h"
#include "mn_pin.h"
#include "mn_tlv.h"

static struct sc_card_operations mn_ops;
static const struct sc_card_operations *iso_ops;
static struct sc_card_driver mn_drv_info = {
    "My Number card (JPKI)", MN_DRIVER_SHORT_NAME, &mn_ops, NULL, 0, NULL};

static const u8 aid_jpki[] = MN_AID_JPKI;
static const u8 aid_cardinfo[] = MN_AID_CARDINFO;

/* ------------------------------------------------------------------ APDU helpers */

/*
 * Transmit, and tell a removed card from other transport failures. A contactless card or a
 * phone lifted off the reader shows up first as a failed transmit; pcscd notices the removal
 * on its next poll (within about half a second), so look a few times before deciding.
 */
static int mn_transmit(struct sc_card *card, struct sc_apdu *apdu)
{
	int r, i, p;

	r = sc_transmit_apdu(card, apdu);
	if (r == SC_SUCCESS || r == SC_ERROR_CARD_REMOVED)
		return r;
	if (r != SC_ERROR_TRANSMIT_FAILED && r != SC_ERROR_READER && r != SC_ERROR_CARD_RESET &&
	    r != SC_ERROR_CARD_UNRESPONSIVE)
		return r;
	for (i = 0; i < 8; i++) {
		p = sc_detect_card_presence(card->reader);
		if (p >= 0 && (!(p & SC_READER_CARD_PRESENT) || (p & SC_READER_CARD_CHANGED))) {
			sc_log(card->ctx, "the card was removed");
			return SC_ERROR_CARD_REMOVED;
		}
		usleep(100 * 1000);
	}
	return r;
}

/* Map a status word, naming JPKI's own meanings before falling back to ISO 7816. */
static int mn_check_sw(struct sc_card *card, unsigned sw1, unsigned sw2)
{
	if (sw1 == 0x69 && (sw2 == 0x84 || sw2 == 0x83))
		return SC_ERROR_AUTH_METHOD_BLOCKED;
	if (sw1 == 0x63 && sw2 == 0xC0)
		return SC_ERROR_AUTH_METHOD_BLOCKED;
	if (sw1 == 0x63 && (sw2 & 0xF0) == 0xC0)
		return SC_ERROR_PIN_CODE_INCORRECT;
	return sc_check_sw(card, sw1, sw2);
}

static int mn_send_select(struct sc_card *card, u8 p1, const u8 *data, size_t len)
{
	struct sc_apdu apdu;
	int r;

	sc_format_apdu(card, &apdu, SC_APDU_CASE_3_SHORT, 0xA4, p1, 0x0C);
	apdu.data = data;
	apdu.datalen = len;
	apdu.lc = len;
	r = mn_transmit(card, &apdu);
	LOG_TEST_RET(card->ctx, r, "SELECT transmit failed");
	return mn_check_sw(card, apdu.sw1, apdu.sw2);
}

static int mn_select_ap(struct sc_card *card, enum mn_ap ap)
{
	struct mn_drv *drv = MN_DRV(card);
	int r;

	if (ap == MN_AP_JPKI)
		r = mn_send_select(card, 0x04, aid_jpki, sizeof(aid_jpki) - 1);
	else if (ap == MN_AP_CARDINFO)
		r = mn_send_select(card, 0x04, aid_cardinfo, sizeof(aid_cardinfo) - 1);
	else
		r = SC_ERROR_INVALID_ARGUMENTS;
	/* Whatever the answer, the card's security status is gone now. */
	drv->verified = 0;
	drv->cur_fid = 0;
	drv->ap = r == SC_SUCCESS ? ap : MN_AP_NONE;
	drv->ap_confirmed = r == SC_SUCCESS;
	return r;
}

static int mn_fid_known(enum mn_ap ap, unsigned fid)
{
	static const unsigned jpki[] = {
	    MN_EF_SIGN_CERT, MN_EF_SIGN_CA,  MN_EF_TOKEN_INFO, MN_EF_CERT_AVAIL, MN_EF_AUTH_CERT,
	    MN_EF_AUTH_CA,   MN_EF_AUTH_KEY, MN_EF_AUTH_PIN,   MN_EF_SIGN_KEY,   MN_EF_SIGN_PIN};
	static const unsigned info[] = {MN_CI_EF_NUMBER, MN_CI_EF_ATTRS, MN_CI_EF_INTEGRITY,
	                                MN_CI_EF_PIN};
	const unsigned *t = ap == MN_AP_JPKI ? jpki : info;
	size_t i,
	    n = ap == MN_AP_JPKI ? sizeof(jpki) / sizeof(jpki[0]) : sizeof(info) / sizeof(info[0]);

	for (i = 0; i < n; i++)
		if (t[i] == fid)
			return 1;
	return 0;
}

/*
 * FIDs that other applications on the card also use (the card-info AP has 0001, 0002, 0006
 * and 0008; the card-face and common APs 0001 and 0002): selecting one of these in the wrong
 * application would not fail, so the AP is selected first in every new transaction.
 */
static int mn_fid_ambiguous(enum mn_ap ap, unsigned fid)
{
	if (ap != MN_AP_JPKI)
		return 1;
	return fid == MN_EF_SIGN_CERT || fid == MN_EF_SIGN_CA || fid == MN_EF_TOKEN_INFO ||
	       fid == MN_EF_CERT_AVAIL;
}

/*
 * Make sure ap is the card's current application before a command that must not land
 * anywhere else. Another process may have selected a different AP since our last transaction;
 * selecting the AP again clears the card's security status, so it is not done while one of
 * our PINs is verified (a lost AP then shows up as 6A82 or 6982 and is repaired there).
 */
static int mn_confirm_ap(struct sc_card *card, enum mn_ap ap)
{
	struct mn_drv *drv = MN_DRV(card);

	if (drv->ap == ap && (drv->ap_confirmed || drv->verified != 0))
		return SC_SUCCESS;
	return mn_select_ap(card, ap);
}

/*
 * Make ap current and select fid in it. The AP is not selected again for FIDs that exist
 * only in the JPKI AP: if another process left a different AP current, the card answers
 * 6A82, and then the AP is selected and the EF once more.
 */
static int mn_select_ef(struct sc_card *card, enum mn_ap ap, unsigned fid)
{
	struct mn_drv *drv = MN_DRV(card);
	u8 id[2] = {(u8)(fid >> 8), (u8)fid};
	int r, fresh;

	if (drv->ap != ap || mn_fid_ambiguous(ap, fid)) {
		r = mn_confirm_ap(card, ap);
		LOG_TEST_RET(card->ctx, r, "SELECT application failed");
	}
	fresh = drv->ap_confirmed;
	if (drv->cur_fid == fid && drv->cur_fid != 0)
		return SC_SUCCESS;
	r = mn_send_select(card, 0x02, id, sizeof(id));
	if (r == SC_ERROR_FILE_NOT_FOUND && !fresh) {
		sc_log(card->ctx, "EF %04X not found: another application is current, re-selecting",
		       fid);
		r = mn_select_ap(card, ap);
		LOG_TEST_RET(card->ctx, r, "SELECT application failed");
		r = mn_send_select(card, 0x02, id, sizeof(id));
	}
	drv->cur_fid = r == SC_SUCCESS ? fid : 0;
	LOG_TEST_RET(card->ctx, r, "SELECT EF failed");
	return SC_SUCCESS;
}

/* READ BINARY of up to 256 bytes at offset; returns the byte count. */
static int mn_read_chunk(struct sc_card *card, unsigned offset, u8 *buf, size_t count)
{
	struct sc_apdu apdu;
	int r;

	if (count == 0 || count > 256 || offset > MN_EF_MAX_SIZE)
		return SC_ERROR_INVALID_ARGUMENTS;
	sc_format_apdu(card, &apdu, SC_APDU_CASE_2_SHORT, 0xB0, (offset >> 8) & 0x7F,
	               offset & 0xFF);
	apdu.le = count;
	apdu.resp = buf;
	apdu.resplen = count;
	r = mn_transmit(card, &apdu);
	LOG_TEST_RET(card->ctx, r, "READ BINARY transmit failed");
	if (apdu.sw1 == 0x6B && apdu.sw2 == 0x00)
		return SC_ERROR_FILE_END_REACHED;
	r = mn_check_sw(card, apdu.sw1, apdu.sw2);
	LOG_TEST_RET(card->ctx, r, "READ BINARY failed");
	if (apdu.resplen > count)
		LOG_TEST_RET(card->ctx, SC_ERROR_WRONG_LENGTH, "card returned more than asked");
	return (int)apdu.resplen;
}

static void mn_ef_clear(struct mn_ef *ef)
{
	if (ef->data != NULL) {
		sc_mem_clear(ef->data, ef->len);
		free(ef->data);
	}
	memset(ef, 0, sizeof(*ef));
}

/* ------------------------------------------------------------------ matching and init */

/* Read EF 0006 of the JPKI AP (already selected) into ti. */
static int mn_read_tokeninfo(struct sc_card *card, struct mn_tokeninfo *ti)
{
	u8 buf[MN_TOKEN_INFO_LEN];
	static const u8 fid[2] = {0x00, 0x06};
	int r;

	r = mn_send_select(card, 0x02, fid, sizeof(fid));
	if (r != SC_SUCCESS)
		return r;
	r = mn_read_chunk(card, 0, buf, sizeof(buf));
	if (r < 0)
		return r;
	if ((size_t)r < sizeof(buf))
		return SC_ERROR_INVALID_DATA;
	if (mn_tokeninfo_parse(buf, sizeof(buf), ti) != 0)
		return SC_ERROR_INVALID_DATA;
	return SC_SUCCESS;
}

/*
 * Match by application, not by ATR (readers build contactless ATRs themselves): the JPKI AP
 * must select, and EF 0006 must name a token this driver supports. An old 住基カード
 * (JPKIAPICCTOKEN) also has a JPKI AP but is not claimed.
 */
static int mn_match_card(struct sc_card *card)
{
	struct mn_tokeninfo ti;
	struct mn_drv *drv;

	if (mn_send_select(card, 0x04, aid_jpki, sizeof(aid_jpki) - 1) != SC_SUCCESS)
		return 0;
	if (mn_read_tokeninfo(card, &ti) != SC_SUCCESS) {
		sc_log(card->ctx, "JPKI AP present but EF 0006 unreadable: not a My Number token");
		return 0;
	}
	if (ti.kind == MN_TOKEN_JUKI) {
		sc_log(card->ctx, "old Juki card (JPKIAPICCTOKEN): not supported");
		return 0;
	}
	if (ti.kind == MN_TOKEN_UNKNOWN) {
		sc_log(card->ctx, "unknown JPKI token label '%s': not claimed", ti.label);
		return 0;
	}
	drv = calloc(1, sizeof(*drv));
	if (drv == NULL)
		return 0;
	drv->ti = ti;
	drv->ap = MN_AP_JPKI;
	drv->ap_confirmed = 1;
	drv->cur_fid = MN_EF_TOKEN_INFO;
	card->drv_data = drv;
	return 1;
}

/* A boolean from the "card_driver mynumber { ... }" block of opensc.conf. */
static int mn_conf_bool(struct sc_context *ctx, const char *key, int def)
{
	size_t i;
	int v = def;

	for (i = 0; ctx->conf_blocks[i] != NULL; i++) {
		scconf_block **blocks =
		    scconf_find_blocks(ctx->conf, ctx->conf_blocks[i], "card_driver", "mynumber");
		if (blocks == NULL)
			continue;
		if (blocks[0] != NULL)
			v = scconf_get_bool(blocks[0], key, v);
		free(blocks);
	}
	return v;
}

/* A stable serial: EF 0006's, else derived from the auth certificate. */
static int mn_derive_serial(struct sc_card *card)
{
	struct mn_drv *drv = MN_DRV(card);
	struct sc_path path;
	struct sc_file *file = NULL;
	u8 *der = NULL, md[SHA256_DIGEST_LENGTH];
	size_t i;
	int r, locked = 0;

	if (drv->ti.serial[0] != '\0')
		return SC_SUCCESS;
	sc_format_path("000A", &path);
	path.type = SC_PATH_TYPE_FILE_ID;
	if ((r = sc_lock(card)) != SC_SUCCESS)
		return r;
	locked = 1;
	r = sc_select_file(card, &path, &file);
	if (r != SC_SUCCESS)
		goto out;
	der = malloc(file->size);
	if (der == NULL) {
		r = SC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	r = sc_read_binary(card, 0, der, file->size, 0);
	if (r < 0)
		goto out;
	SHA256(der, (size_t)r, md);
	for (i = 0; i < 8; i++)
		snprintf(drv->ti.serial + 2 * i, 3, "%02X", md[i]);
	r = SC_SUCCESS;
out:
	if (locked)
		sc_unlock(card);
	free(der);
	sc_file_free(file);
	return r;
}

static int mn_init(struct sc_card *card)
{
	struct mn_drv *drv = MN_DRV(card);
	size_t n;
	int r;

	LOG_FUNC_CALLED(card->ctx);
	if (drv == NULL)
		LOG_FUNC_RETURN(card->ctx, SC_ERROR_INVALID_CARD);
	card->type = MN_CARD_TYPE;
	card->name = mn_token_kind_name(drv->ti.kind);
	card->max_send_size = 255;
	card->max_recv_size = 256;
	drv->cardinfo_enabled = mn_conf_bool(card->ctx, "card_info", 0);
	drv->ca_certs_enabled = mn_conf_bool(card->ctx, "ca_certificates", 0);
	/* The card pads PKCS#1 v1.5 itself over the DigestInfo the host builds. */
	_sc_card_add_rsa_alg(card, 2048, SC_ALGORITHM_RSA_PAD_PKCS1 | SC_ALGORITHM_RSA_HASH_NONE,
	                     0);

	r = mn_derive_serial(card);
	if (r != SC_SUCCESS)
		sc_log(card->ctx, "no token serial available (%s)", sc_strerror(r));
	n = strlen(drv->ti.serial);
	memcpy(card->serialnr.value, drv->ti.serial, n);
	card->serialnr.len = n;
	sc_log(card->ctx, "%s, serial '%s', card-info AP %s", card->name, drv->ti.serial,
	       drv->cardinfo_enabled ? "enabled" : "disabled");
	LOG_FUNC_RETURN(card->ctx, SC_SUCCESS);
}

static int mn_finish(struct sc_card *card)
{
	struct mn_drv *drv = MN_DRV(card);

	if (drv != NULL) {
		size_t i;
		for (i = 0; i < MN_EF_CACHE_SLOTS; i++)
			mn_ef_clear(&drv->cache[i]);
		mn_ef_clear(&drv->cur);
		sc_mem_clear(drv, sizeof(*drv));
		free(drv);
	}
	card->drv_data = NULL;
	return SC_SUCCESS;
}

/* ------------------------------------------------------------------ files */

static struct sc_file *mn_new_file(const struct sc_path *path, unsigned fid, size_t size, int type)
{
	struct sc_file *file = sc_file_new();

	if (file == NULL)
		return NULL;
	file->path = *path;
	file->id = (int)fid;
	file->type = type;
	file->ef_structure = SC_FILE_EF_TRANSPARENT;
	file->size = size;
	file->status = SC_FILE_STATUS_ACTIVATED;
	return file;
}

/* The EF's content if it is held in memory (cached certificate or the EF just read). */
static struct mn_ef *mn_ef_held(struct mn_drv *drv, enum mn_ap ap, unsigned fid)
{
	size_t i;

	for (i = 0; i < MN_EF_CACHE_SLOTS; i++)
		if (drv->cache[i].fid == fid && drv->cache[i].ap == ap && fid != 0)
			return &drv->cache[i];
	if (drv->cur.fid == fid && drv->cur.ap == ap && fid != 0)
		return &drv->cur;
	return NULL;
}

/*
 * Certificates the card gives to anyone, and that only the issuer can change, are kept for
 * the card's lifetime. Not the sign certificate (behind the sign password, and personal
 * data), not the Android auth certificate (behind the auth PIN), not card-info records.
 */
static struct mn_ef *mn_ef_slot(struct mn_drv *drv, enum mn_ap ap, unsigned fid)
{
	size_t i;

	if (ap != MN_AP_JPKI)
		return &drv->cur;
	if (fid == MN_EF_AUTH_CERT && drv->ti.kind == MN_TOKEN_ANDROID)
		return &drv->cur;
	if (fid != MN_EF_AUTH_CERT && fid != MN_EF_AUTH_CA && fid != MN_EF_SIGN_CA)
		return &drv->cur;
	for (i = 0; i < MN_EF_CACHE_SLOTS; i++)
		if (drv->cache[i].fid == 0)
			return &drv->cache[i];
	return &drv->cur;
}

/*
 * Read a TLV-structured EF (certificates, card-info records) whole, the size taken from its
 * TLV header. Bounded by what a 15-bit offset can address; the card must deliver every byte.
 */
static int mn_read_tlv_ef(struct sc_card *card, enum mn_ap ap, unsigned fid, size_t *size)
{
	struct mn_drv *drv = MN_DRV(card);
	struct mn_ef *slot;
	u8 first[256], *data = NULL;
	uint32_t tag;
	size_t hl, vl, total, off;
	int r;

	r = mn_read_chunk(card, 0, first, sizeof(first));
	if (r < 0)
		return r;
	if (mn_tlv_header(first, (size_t)r, &tag, &hl, &vl) != 0)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA, "EF does not start with a TLV");
	if (vl > MN_EF_MAX_SIZE - hl)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA, "EF length out of range");
	total = hl + vl;
	if ((size_t)r < sizeof(first) && (size_t)r < total)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA, "EF shorter than its TLV length");
	data = malloc(total);
	if (data == NULL)
		LOG_FUNC_RETURN(card->ctx, SC_ERROR_OUT_OF_MEMORY);
	off = (size_t)r < total ? (size_t)r : total;
	memcpy(data, first, off);
	while (off < total) {
		size_t want = total - off > 256 ? 256 : total - off;
		r = mn_read_chunk(card, (unsigned)off, data + off, want);
		if (r == 0 || r == SC_ERROR_FILE_END_REACHED)
			r = SC_ERROR_INVALID_DATA; /* EF ends before its TLV does */
		if (r < 0)
			goto err;
		off += (size_t)r;
	}
	sc_mem_clear(first, sizeof(first));
	mn_ef_clear(&drv->cur);
	slot = mn_ef_slot(drv, ap, fid);
	mn_ef_clear(slot);
	slot->ap = ap;
	slot->fid = fid;
	slot->data = data;
	slot->len = total;
	*size = total;
	return SC_SUCCESS;
err:
	sc_mem_clear(first, sizeof(first));
	sc_mem_clear(data, total);
	free(data);
	sc_log(card->ctx, "reading EF %04X failed: %s", fid, sc_strerror(r));
	return r;
}

static int mn_file_size(struct sc_card *card, enum mn_ap ap, unsigned fid, size_t *size, int *type)
{
	*type = SC_FILE_TYPE_WORKING_EF;
	if (ap == MN_AP_JPKI) {
		switch (fid) {
		case MN_EF_TOKEN_INFO:
			*size = MN_TOKEN_INFO_LEN;
			return SC_SUCCESS;
		case MN_EF_CERT_AVAIL:
			*size = 3;
			return SC_SUCCESS;
		case MN_EF_AUTH_KEY:
		case MN_EF_SIGN_KEY:
		case MN_EF_AUTH_PIN:
		case MN_EF_SIGN_PIN:
			*type = SC_FILE_TYPE_INTERNAL_EF;
			*size = 0;
			return SC_SUCCESS;
		}
	} else if (fid == MN_CI_EF_PIN) {
		*type = SC_FILE_TYPE_INTERNAL_EF;
		*size = 0;
		return SC_SUCCESS;
	}
	return mn_read_tlv_ef(card, ap, fid, size);
}

static int mn_path_target(struct sc_card *card, const struct sc_path *path, enum mn_ap *ap,
                          unsigned *fid)
{
	const u8 *v = path->value;
	size_t len = path->len;

	*ap = MN_AP_JPKI;
	if (path->aid.len > 0) {
		if (path->aid.len == sizeof(aid_jpki) - 1 &&
		    memcmp(path->aid.value, aid_jpki, path->aid.len) == 0)
			*ap = MN_AP_JPKI;
		else if (path->aid.len == sizeof(aid_cardinfo) - 1 &&
		         memcmp(path->aid.value, aid_cardinfo, path->aid.len) == 0)
			*ap = MN_AP_CARDINFO;
		else
			return SC_ERROR_FILE_NOT_FOUND;
	}
	if (path->type == SC_PATH_TYPE_DF_NAME) {
		if (len == sizeof(aid_jpki) - 1 && memcmp(v, aid_jpki, len) == 0)
			*ap = MN_AP_JPKI;
		else if (len == sizeof(aid_cardinfo) - 1 && memcmp(v, aid_cardinfo, len) == 0)
			*ap = MN_AP_CARDINFO;
		else
			return SC_ERROR_FILE_NOT_FOUND;
		*fid = 0;
	} else if ((path->type == SC_PATH_TYPE_FILE_ID || path->type == SC_PATH_TYPE_PATH) &&
	           len == 2) {
		*fid = (unsigned)(v[0] << 8 | v[1]);
	} else {
		/* No MF, no paths: the card has only its applications. */
		return SC_ERROR_FILE_NOT_FOUND;
	}
	if (*ap == MN_AP_CARDINFO && !MN_DRV(card)->cardinfo_enabled)
		return SC_ERROR_FILE_NOT_FOUND;
	if (*fid != 0 && !mn_fid_known(*ap, *fid))
		return SC_ERROR_FILE_NOT_FOUND;
	return SC_SUCCESS;
}

static int mn_select_file(struct sc_card *card, const struct sc_path *path,
                          struct sc_file **file_out)
{
	struct mn_drv *drv = MN_DRV(card);
	struct sc_file *file;
	enum mn_ap ap;
	unsigned fid;
	size_t size = 0;
	int r, type;

	LOG_FUNC_CALLED(card->ctx);
	r = mn_path_target(card, path, &ap, &fid);
	if (r != SC_SUCCESS) {
		sc_log(card->ctx, "no such file on this card: %s", sc_print_path(path));
		LOG_FUNC_RETURN(card->ctx, r);
	}
	if (fid == 0) {
		r = mn_confirm_ap(card, ap);
		LOG_TEST_RET(card->ctx, r, "SELECT application failed");
		type = SC_FILE_TYPE_DF;
	} else {
		struct mn_ef *held;

		if (drv->cur.fid != fid || drv->cur.ap != ap)
			mn_ef_clear(&drv->cur);
		drv->sel_ap = ap;
		drv->sel_fid = 0;
		held = mn_ef_held(drv, ap, fid);
		if (held != NULL) {
			/* already read whole in this session: no APDU */
			size = held->len;
			type = SC_FILE_TYPE_WORKING_EF;
		} else {
			r = mn_select_ef(card, ap, fid);
			LOG_TEST_RET(card->ctx, r, "SELECT EF failed");
			if (file_out != NULL) {
				r = mn_file_size(card, ap, fid, &size, &type);
				LOG_TEST_RET(card->ctx, r, "cannot learn the EF size");
			}
		}
		drv->sel_fid = fid;
	}
	if (file_out != NULL) {
		file = mn_new_file(path, fid, size, type);
		if (file == NULL)
			LOG_FUNC_RETURN(card->ctx, SC_ERROR_OUT_OF_MEMORY);
		*file_out = file;
	}
	LOG_FUNC_RETURN(card->ctx, SC_SUCCESS);
}

static int mn_read_binary(struct sc_card *card, unsigned int idx, u8 *buf, size_t count,
                          unsigned long flags)
{
	struct mn_drv *drv = MN_DRV(card);
	struct mn_ef *held;
	int r;

	(void)flags;
	if (drv->sel_fid == 0)
		return SC_ERROR_INCORRECT_PARAMETERS;
	held = mn_ef_held(drv, drv->sel_ap, drv->sel_fid);
	if (held != NULL) {
		size_t n;
		if (idx >= held->len)
			return 0;
		n = held->len - idx < count ? held->len - idx : count;
		memcpy(buf, held->data + idx, n);
		return (int)n;
	}
	r = mn_select_ef(card, drv->sel_ap, drv->sel_fid);
	if (r < 0)
		return r;
	if (count > card->max_recv_size)
		count = card->max_recv_size;
	r = mn_read_chunk(card, idx, buf, count);
	/* OpenSC's convention: end of file is a zero-length read. */
	return r == SC_ERROR_FILE_END_REACHED ? 0 : r;
}

/* ------------------------------------------------------------------ PINs */

struct mn_pin_def {
	enum mn_ap ap;
	unsigned fid;
	int max_tries;
};

static int mn_pin_def(struct sc_card *card, int ref, struct mn_pin_def *def)
{
	switch (ref) {
	case MN_PIN_AUTH:
		*def = (struct mn_pin_def){MN_AP_JPKI, MN_EF_AUTH_PIN, MN_AUTH_PIN_TRIES};
		return SC_SUCCESS;
	case MN_PIN_SIGN:
		*def = (struct mn_pin_def){MN_AP_JPKI, MN_EF_SIGN_PIN, MN_SIGN_PIN_TRIES};
		return SC_SUCCESS;
	case MN_PIN_CARDINFO:
		if (!MN_DRV(card)->cardinfo_enabled)
			break;
		*def = (struct mn_pin_def){MN_AP_CARDINFO, MN_CI_EF_PIN, MN_CI_PIN_TRIES};
		return SC_SUCCESS;
	}
	return SC_ERROR_INVALID_PIN_REFERENCE;
}

/*
 * Check a PIN's format before it can reach the card (a wrong format must never cost a try)
 * and put the bytes to send into out: the sign password is upper-cased, as the card stores it.
 */
static int mn_pin_prepare(struct sc_card *card, int ref, const u8 *pin, size_t len, u8 *out,
                          size_t cap, int is_new)
{
	size_t i;

	if (pin == NULL || len == 0)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_PIN_LENGTH, "empty PIN not sent");
	if (ref == MN_PIN_SIGN) {
		if (len < MN_SIGN_PW_MIN || len > MN_SIGN_PW_MAX)
			LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_PIN_LENGTH,
			             "sign password must be 6-16 characters; not sent");
		if (mn_pin_normalize_sign(pin, len, out, cap) != 0)
			LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA,
			             "sign password may contain only A-Z and 0-9; not sent");
		if (is_new && mn_pin_check_new_sign(out, len) != 0)
			LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA,
			             "a new sign password must mix letters and digits");
		return SC_SUCCESS;
	}
	if (len != 4)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_PIN_LENGTH,
		             "PIN must be 4 digits; not sent");
	if (mn_pin_check_digits4(pin, len) != 0 || cap < len)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_DATA, "PIN must be 4 digits; not sent");
	for (i = 0; i < len; i++)
		out[i] = pin[i];
	return SC_SUCCESS;
}

/* VERIFY 00 20 00 80 with the PIN EF current; an empty one only reports the tries left. */
static int mn_verify(struct sc_card *card, const u8 *pin, size_t len, int *sw_tries)
{
	struct sc_apdu apdu;
	int r;

	sc_format_apdu(card, &apdu, len ? SC_APDU_CASE_3_SHORT : SC_APDU_CASE_1, 0x20, 0x00, 0x80);
	apdu.data = pin;
	apdu.datalen = len;
	apdu.lc = len;
	apdu.flags |= SC_APDU_FLAGS_NO_RETRY_WL;
	if (len)
		apdu.flags |= SC_APDU_FLAGS_NO_SM;
	r = mn_transmit(card, &apdu);
	LOG_TEST_RET(card->ctx, r, "VERIFY transmit failed");
	*sw_tries = -1;
	if (apdu.sw1 == 0x63 && (apdu.sw2 & 0xF0) == 0xC0)
		*sw_tries = apdu.sw2 & 0x0F;
	else if (apdu.sw1 == 0x69 && (apdu.sw2 == 0x84 || apdu.sw2 == 0x83))
		*sw_tries = 0;
	return mn_check_sw(card, apdu.sw1, apdu.sw2);
}

static int mn_change(struct sc_card *card, const u8 *pin, size_t len)
{
	struct sc_apdu apdu;
	int r;

	sc_format_apdu(card, &apdu, SC_APDU_CASE_3_SHORT, 0x24, 0x01, 0x80);
	apdu.data = pin;
	apdu.datalen = len;
	apdu.lc = len;
	r = mn_transmit(card, &apdu);
	LOG_TEST_RET(card->ctx, r, "CHANGE REFERENCE DATA transmit failed");
	return mn_check_sw(card, apdu.sw1, apdu.sw2);
}

static void mn_pin_report(struct sc_pin_cmd_data *data, int max, int tries, int logged_in,
                          int *tries_left)
{
	data->pin1.max_tries = max;
	data->pin1.tries_left = tries;
	data->pin1.logged_in = logged_in ? SC_PIN_STATE_LOGGED_IN : SC_PIN_STATE_LOGGED_OUT;
	if (tries_left != NULL)
		*tries_left = tries;
}

static int mn_pin_cmd(struct sc_card *card, struct sc_pin_cmd_data *data, int *tries_left)
{
	struct mn_drv *drv = MN_DRV(card);
	struct mn_pin_def def;
	u8 pin[MN_SIGN_PW_MAX], newpin[MN_SIGN_PW_MAX];
	size_t len = 0, newlen = 0;
	int r, t = -1, ref = data->pin_reference;

	LOG_FUNC_CALLED(card->ctx);
	if (tries_left != NULL)
		*tries_left = -1;
	r = mn_pin_def(card, ref, &def);
	LOG_TEST_RET(card->ctx, r, "unknown PIN reference");
	if (data->flags & SC_PIN_CMD_USE_PINPAD)
		LOG_TEST_RET(card->ctx, SC_ERROR_NOT_SUPPORTED,
		             "PIN pad readers are not supported");

	switch (data->cmd) {
	case SC_PIN_CMD_GET_INFO:
		r = mn_select_ef(card, def.ap, def.fid);
		LOG_TEST_RET(card->ctx, r, "SELECT PIN EF failed");
		r = mn_verify(card, NULL, 0, &t);
		if (r == SC_SUCCESS) {
			/* some cards answer 9000 when the PIN is already verified */
			drv->verified |= 1u << ref;
			mn_pin_report(data, def.max_tries, t < 0 ? def.max_tries : t, 1,
			              tries_left);
		} else if (r == SC_ERROR_PIN_CODE_INCORRECT || r == SC_ERROR_AUTH_METHOD_BLOCKED) {
			mn_pin_report(data, def.max_tries, t, (drv->verified >> ref) & 1,
			              tries_left);
			r = SC_SUCCESS;
		}
		LOG_FUNC_RETURN(card->ctx, r);

	case SC_PIN_CMD_VERIFY:
		r = mn_pin_prepare(card, ref, data->pin1.data, (size_t)data->pin1.len, pin,
		                   sizeof(pin), 0);
		if (r != SC_SUCCESS)
			goto out;
		len = (size_t)data->pin1.len;
		/* a PIN goes only to the PIN EF of the right application */
		if ((r = mn_confirm_ap(card, def.ap)) != SC_SUCCESS ||
		    (r = mn_select_ef(card, def.ap, def.fid)) != SC_SUCCESS)
			goto out;
		r = mn_verify(card, pin, len, &t);
		break;

	case SC_PIN_CMD_CHANGE:
		r = mn_pin_prepare(card, ref, data->pin1.data, (size_t)data->pin1.len, pin,
		                   sizeof(pin), 0);
		if (r != SC_SUCCESS)
			goto out;
		len = (size_t)data->pin1.len;
		r = mn_pin_prepare(card, ref, data->pin2.data, (size_t)data->pin2.len, newpin,
		                   sizeof(newpin), 1);
		if (r != SC_SUCCESS)
			goto out;
		newlen = (size_t)data->pin2.len;
		if ((r = mn_confirm_ap(card, def.ap)) != SC_SUCCESS ||
		    (r = mn_select_ef(card, def.ap, def.fid)) != SC_SUCCESS)
			goto out;
		r = mn_verify(card, pin, len, &t);
		if (r == SC_SUCCESS)
			r = mn_change(card, newpin, newlen);
		break;

	case SC_PIN_CMD_UNBLOCK:
		sc_log(card->ctx, "the card has no PUK: a blocked PIN is reset at the municipal "
		                  "office or a convenience-store kiosk");
		r = SC_ERROR_NOT_SUPPORTED;
		goto out;

	default:
		r = SC_ERROR_NOT_SUPPORTED;
		goto out;
	}

	if (r == SC_SUCCESS) {
		drv->verified |= 1u << ref;
		mn_pin_report(data, def.max_tries, def.max_tries, 1, tries_left);
	} else if (r == SC_ERROR_PIN_CODE_INCORRECT || r == SC_ERROR_AUTH_METHOD_BLOCKED) {
		drv->verified &= ~(1u << ref);
		mn_pin_report(data, def.max_tries, t, 0, tries_left);
		sc_log(card->ctx, "PIN %d: %s, %d tries left", ref, sc_strerror(r), t);
	}
out:
	sc_mem_clear(pin, sizeof(pin));
	sc_mem_clear(newpin, sizeof(newpin));
	LOG_FUNC_RETURN(card->ctx, r);
}

/* Selecting the AP again clears the card's security status: that is JPKI's logout. */
static int mn_logout(struct sc_card *card)
{
	int r;

	LOG_FUNC_CALLED(card->ctx);
	r = mn_select_ap(card, MN_AP_JPKI);
	LOG_FUNC_RETURN(card->ctx, r);
}

/* ------------------------------------------------------------------ signatures */

static int mn_set_security_env(struct sc_card *card, const struct sc_security_env *env, int se_num)
{
	unsigned fid;
	int r;

	(void)se_num;
	LOG_FUNC_CALLED(card->ctx);
	if (env->operation != SC_SEC_OPERATION_SIGN || env->algorithm != SC_ALGORITHM_RSA)
		LOG_TEST_RET(card->ctx, SC_ERROR_NOT_SUPPORTED, "the card only signs with RSA");
	if (!(env->flags & SC_SEC_ENV_KEY_REF_PRESENT) || env->key_ref_len != 1)
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_ARGUMENTS, "no key reference");
	if (env->key_ref[0] == MN_PIN_AUTH)
		fid = MN_EF_AUTH_KEY;
	else if (env->key_ref[0] == MN_PIN_SIGN)
		fid = MN_EF_SIGN_KEY;
	else
		LOG_TEST_RET(card->ctx, SC_ERROR_INVALID_ARGUMENTS, "unknown key reference");
	r = mn_select_ef(card, MN_AP_JPKI, fid);
	LOG_FUNC_RETURN(card->ctx, r);
}

static int mn_compute_signature(struct sc_card *card, const u8 *data, size_t datalen, u8 *out,
                                size_t outlen)
{
	struct mn_drv *drv = MN_DRV(card);
	struct sc_apdu apdu;
	u8 resp[MN_RSA_SIG_LEN];
	int r;

	LOG_FUNC_CALLED(card->ctx);
	if (datalen == 0 || datalen > MN_SIGN_INPUT_MAX)
		LOG_TEST_RET(card->ctx, SC_ERROR_WRONG_LENGTH, "the card signs 1-245 bytes");
	if (drv->cur_fid != MN_EF_AUTH_KEY && drv->cur_fid != MN_EF_SIGN_KEY)
		LOG_TEST_RET(card->ctx, SC_ERROR_INCORRECT_PARAMETERS, "no key selected");
	if (outlen < sizeof(resp))
		LOG_TEST_RET(card->ctx, SC_ERROR_BUFFER_TOO_SMALL, "signature buffer too small");
	sc_format_apdu(card, &apdu, SC_APDU_CASE_4_SHORT, 0x2A, 0x00, 0x80);
	apdu.cla = 0x80;
	apdu.data = data;
	apdu.datalen = datalen;
	apdu.lc = datalen;
	apdu.resp = resp;
	apdu.resplen = sizeof(resp);
	apdu.le = 256;
	r = mn_transmit(card, &apdu);
	LOG_TEST_RET(card->ctx, r, "COMPUTE SIGNATURE transmit failed");
	r = mn_check_sw(card, apdu.sw1, apdu.sw2);
	if (r == SC_ERROR_SECURITY_STATUS_NOT_SATISFIED) {
		/* the PIN state was lost (reset or another process): re-select next time */
		drv->verified = 0;
		drv->ap = MN_AP_NONE;
	}
	LOG_TEST_RET(card->ctx, r, "COMPUTE SIGNATURE failed");
	if (apdu.resplen != sizeof(resp))
		LOG_TEST_RET(card->ctx, SC_ERROR_WRONG_LENGTH, "signature is not 256 bytes");
	memcpy(out, resp, sizeof(resp));
	LOG_FUNC_RETURN(card->ctx, (int)sizeof(resp));
}

/* ------------------------------------------------------------------ public keys */

/*
 * The card holds no bare public key: take it from the certificate in the EF the object
 * points at, as a PKCS#1 RSAPublicKey (what sc_pkcs15_decode_pubkey expects).
 */
static int mn_read_public_key(struct sc_card *card, unsigned algorithm, struct sc_path *path,
                              unsigned key_ref, unsigned modulus_length, u8 **out, size_t *out_len)
{
	struct sc_file *file = NULL;
	u8 *der = NULL, *pub = NULL, *p;
	const u8 *q;
	X509 *x = NULL;
	EVP_PKEY *pkey;
	int r, n, locked = 0;

	(void)key_ref;
	(void)modulus_length;
	LOG_FUNC_CALLED(card->ctx);
	if (algorithm != SC_ALGORITHM_RSA)
		LOG_TEST_RET(card->ctx, SC_ERROR_NOT_SUPPORTED, "RSA keys only");
	/* select and read in one transaction, or another process may move the card */
	r = sc_lock(card);
	LOG_TEST_RET(card->ctx, r, "sc_lock failed");
	locked = 1;
	r = sc_select_file(card, path, &file);
	if (r != SC_SUCCESS)
		goto out;
	if (file->size == 0) {
		r = SC_ERROR_INVALID_DATA;
		goto out;
	}
	der = malloc(file->size);
	if (der == NULL) {
		r = SC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	r = sc_read_binary(card, 0, der, file->size, 0);
	if (r < 0)
		goto out;
	q = der;
	x = d2i_X509(NULL, &q, r);
	if (x == NULL || (pkey = X509_get0_pubkey(x)) == NULL ||
	    EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
		r = SC_ERROR_INVALID_DATA;
		goto out;
	}
	n = i2d_PublicKey(pkey, NULL);
	if (n <= 0 || (pub = malloc((size_t)n)) == NULL) {
		r = n <= 0 ? SC_ERROR_INVALID_DATA : SC_ERROR_OUT_OF_MEMORY;
		goto out;
	}
	p = pub;
	if (i2d_PublicKey(pkey, &p) != n) {
		r = SC_ERROR_INTERNAL;
		goto out;
	}
	*out = pub;
	*out_len = (size_t)n;
	pub = NULL;
	r = SC_SUCCESS;
out:
	if (locked)
		sc_unlock(card);
	X509_free(x);
	free(pub);
	free(der);
	sc_file_free(file);
	LOG_FUNC_RETURN(card->ctx, r);
}

/* ------------------------------------------------------------------ transactions */

/*
 * Called when this process obtains the reader lock: another process may have used the card
 * since our last transaction, so nothing is assumed about the current EF, and the AP counts
 * as unconfirmed until selected again (see mn_confirm_ap). A reset also loses the PINs.
 */
static int mn_card_reader_lock_obtained(struct sc_card *card, int was_reset)
{
	struct mn_drv *drv = MN_DRV(card);

	if (drv == NULL)
		return SC_SUCCESS;
	if (was_reset > 0) {
		size_t i;
		drv->verified = 0;
		drv->ap = MN_AP_NONE;
		for (i = 0; i < MN_EF_CACHE_SLOTS; i++)
			mn_ef_clear(&drv->cache[i]);
	}
	drv->ap_confirmed = 0;
	drv->cur_fid = 0;
	mn_ef_clear(&drv->cur);
	return SC_SUCCESS;
}

static int mn_card_ctl(struct sc_card *card, unsigned long cmd, void *ptr)
{
	struct sc_serial_number *serial = ptr;

	switch (cmd) {
	case SC_CARDCTL_GET_SERIALNR:
		if (card->serialnr.len == 0)
			return SC_ERROR_NOT_SUPPORTED;
		*serial = card->serialnr;
		return SC_SUCCESS;
	}
	return SC_ERROR_NOT_SUPPORTED;
}

struct sc_card_driver *mn_get_card_driver(void)
{
	iso_ops = sc_get_iso7816_driver()->ops;
	mn_ops = *iso_ops;
	mn_ops.match_card = mn_match_card;
	mn_ops.init = mn_init;
	mn_ops.finish = mn_finish;
	mn_ops.select_file = mn_select_file;
	mn_ops.read_binary = mn_read_binary;
	mn_ops.pin_cmd = mn_pin_cmd;
	mn_ops.logout = mn_logout;
	mn_ops.set_security_env = mn_set_security_env;
	mn_ops.compute_signature = mn_compute_signature;
	mn_ops.read_public_key = mn_read_public_key;
	mn_ops.card_reader_lock_obtained = mn_card_reader_lock_obtained;
	mn_ops.card_ctl = mn_card_ctl;
	/* nothing the card does not do */
	mn_ops.write_binary = NULL;
	mn_ops.update_binary = NULL;
	mn_ops.erase_binary = NULL;
	mn_ops.read_record = NULL;
	mn_ops.create_file = NULL;
	mn_ops.delete_file = NULL;
	mn_ops.list_files = NULL;
	mn_ops.decipher = NULL;
	mn_ops.get_challenge = NULL;
	mn_ops.restore_security_env = NULL;
	return &mn_drv_info;
}
