/*
 * PKCS#15 emulation for the My Number card driver: the JPKI certificates, keys and PINs as
 * PKCS#15 objects, and, only when opensc.conf enables it, the card-info AP as private data
 * objects. Objects carry the AID of their application in their path so the driver selects it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mn_driver.h"

#include "mn_jpki.h"
#include "mn_pin.h"

static const u8 aid_jpki[] = MN_AID_JPKI;
static const u8 aid_cardinfo[] = MN_AID_CARDINFO;

static void mn_path(struct sc_path *path, enum mn_ap ap, unsigned fid)
{
	const u8 *aid = ap == MN_AP_CARDINFO ? aid_cardinfo : aid_jpki;

	memset(path, 0, sizeof(*path));
	path->value[0] = (u8)(fid >> 8);
	path->value[1] = (u8)fid;
	path->len = 2;
	path->type = SC_PATH_TYPE_FILE_ID;
	path->index = 0;
	path->count = -1;
	memcpy(path->aid.value, aid, MN_AID_JPKI_LEN);
	path->aid.len = MN_AID_JPKI_LEN;
}

static void mn_label(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= SC_PKCS15_MAX_LABEL_SIZE)
		n = SC_PKCS15_MAX_LABEL_SIZE - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Replace a malloc'ed string owned by OpenSC (set_string is not exported by libopensc). */
static int mn_set_string(char **dst, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return SC_ERROR_OUT_OF_MEMORY;
	free(*dst);
	*dst = copy;
	return SC_SUCCESS;
}

static void mn_id(struct sc_pkcs15_id *id, int v)
{
	id->value[0] = (u8)v;
	id->len = 1;
}

static int mn_add_pin(struct sc_pkcs15_card *p15card, int ref, const char *label, int type,
                      size_t min, size_t max, int tries)
{
	struct sc_pkcs15_auth_info info;
	struct sc_pkcs15_object obj;

	memset(&info, 0, sizeof(info));
	memset(&obj, 0, sizeof(obj));
	mn_id(&info.auth_id, ref);
	info.auth_type = SC_PKCS15_PIN_AUTH_TYPE_PIN;
	info.attrs.pin.reference = ref;
	/* no PUK: a blocked PIN is reset at the municipal office */
	info.attrs.pin.flags = SC_PKCS15_PIN_FLAG_INITIALIZED | SC_PKCS15_PIN_FLAG_LOCAL |
	                       SC_PKCS15_PIN_FLAG_UNBLOCK_DISABLED;
	info.attrs.pin.type = (unsigned)type;
	info.attrs.pin.min_length = min;
	info.attrs.pin.max_length = max;
	info.attrs.pin.stored_length = 0;
	info.attrs.pin.pad_char = 0;
	info.max_tries = tries;
	info.tries_left = -1; /* asked for on demand, without spending a try */
	info.logged_in = SC_PIN_STATE_UNKNOWN;
	mn_label(obj.label, label);
	/* PINs can be changed (object flags, not PIN flags) */
	obj.flags = SC_PKCS15_CO_FLAG_PRIVATE | SC_PKCS15_CO_FLAG_MODIFIABLE;
	return sc_pkcs15emu_add_pin_obj(p15card, &obj, &info);
}

static int mn_add_cert(struct sc_pkcs15_card *p15card, int id, const char *label, unsigned fid,
                       int authority, int auth_id)
{
	struct sc_pkcs15_cert_info info;
	struct sc_pkcs15_object obj;

	memset(&info, 0, sizeof(info));
	memset(&obj, 0, sizeof(obj));
	mn_id(&info.id, id);
	mn_path(&info.path, MN_AP_JPKI, fid);
	info.authority = authority;
	mn_label(obj.label, label);
	if (auth_id) {
		obj.flags = SC_PKCS15_CO_FLAG_PRIVATE;
		mn_id(&obj.auth_id, auth_id);
	}
	return sc_pkcs15emu_add_x509_cert(p15card, &obj, &info);
}

static int mn_add_keys(struct sc_pkcs15_card *p15card, int id, const char *label,
                       const char *publabel, unsigned cert_fid, unsigned usage, int user_consent,
                       int pub_private)
{
	struct sc_pkcs15_prkey_info pr;
	struct sc_pkcs15_pubkey_info pu;
	struct sc_pkcs15_object probj, puobj;
	int r;

	memset(&pr, 0, sizeof(pr));
	memset(&probj, 0, sizeof(probj));
	mn_id(&pr.id, id);
	pr.usage = usage;
	pr.native = 1;
	pr.key_reference = id;
	pr.modulus_length = 2048;
	mn_label(probj.label, label);
	mn_id(&probj.auth_id, id);
	probj.user_consent = user_consent;
	probj.flags = SC_PKCS15_CO_FLAG_PRIVATE;
	r = sc_pkcs15emu_add_rsa_prkey(p15card, &probj, &pr);
	if (r < 0)
		return r;

	memset(&pu, 0, sizeof(pu));
	memset(&puobj, 0, sizeof(puobj));
	mn_id(&pu.id, id);
	pu.usage = SC_PKCS15_PRKEY_USAGE_VERIFY;
	pu.native = 1;
	pu.key_reference = id;
	pu.modulus_length = 2048;
	/* read through the driver's read_public_key from the certificate EF */
	mn_path(&pu.path, MN_AP_JPKI, cert_fid);
	mn_label(puobj.label, publabel);
	if (pub_private) {
		puobj.flags = SC_PKCS15_CO_FLAG_PRIVATE;
		mn_id(&puobj.auth_id, id);
	}
	return sc_pkcs15emu_add_rsa_pubkey(p15card, &puobj, &pu);
}

static int mn_add_data(struct sc_pkcs15_card *p15card, int id, const char *label, unsigned fid)
{
	struct sc_pkcs15_data_info info;
	struct sc_pkcs15_object obj;

	memset(&info, 0, sizeof(info));
	memset(&obj, 0, sizeof(obj));
	mn_id(&info.id, id);
	mn_label(info.app_label, "My Number card-info AP");
	mn_path(&info.path, MN_AP_CARDINFO, fid);
	mn_label(obj.label, label);
	obj.flags = SC_PKCS15_CO_FLAG_PRIVATE;
	mn_id(&obj.auth_id, MN_PIN_CARDINFO);
	return sc_pkcs15emu_add_data_object(p15card, &obj, &info);
}

static int mn_add_objects(struct sc_pkcs15_card *p15card, const struct mn_drv *drv)
{
	/* On Android the auth certificate (and so its public key) is behind the auth PIN. */
	int auth_private = drv->ti.kind == MN_TOKEN_ANDROID ? MN_PIN_AUTH : 0;
	int r;

	if ((r = mn_add_pin(p15card, MN_PIN_AUTH, "Auth PIN", SC_PKCS15_PIN_TYPE_ASCII_NUMERIC, 4,
	                    4, MN_AUTH_PIN_TRIES)) < 0 ||
	    (r = mn_add_pin(p15card, MN_PIN_SIGN, "Sign PIN", SC_PKCS15_PIN_TYPE_UTF8,
	                    MN_SIGN_PW_MIN, MN_SIGN_PW_MAX, MN_SIGN_PIN_TRIES)) < 0)
		return r;
	if ((r = mn_add_cert(p15card, 1, "User Authentication Certificate", MN_EF_AUTH_CERT, 0,
	                     auth_private)) < 0 ||
	    (r = mn_add_cert(p15card, 2, "Digital Signature Certificate", MN_EF_SIGN_CERT, 0,
	                     MN_PIN_SIGN)) < 0)
		return r;
	/* CA certificates only on request: login takes its anchors from the host, and as
	 * PKCS#11 objects they become key candidates (ssh offers them, SSSD lists them) */
	if (drv->ca_certs_enabled &&
	    ((r = mn_add_cert(p15card, 3, "User Authentication CA", MN_EF_AUTH_CA, 1, 0)) < 0 ||
	     (r = mn_add_cert(p15card, 4, "Digital Signature CA", MN_EF_SIGN_CA, 1, 0)) < 0))
		return r;
	if ((r = mn_add_keys(p15card, MN_PIN_AUTH, "User Authentication Key",
	                     "User Authentication Public Key", MN_EF_AUTH_CERT,
	                     SC_PKCS15_PRKEY_USAGE_SIGN, 0, auth_private != 0)) < 0 ||
	    (r = mn_add_keys(p15card, MN_PIN_SIGN, "Digital Signature Key",
	                     "Digital Signature Public Key", MN_EF_SIGN_CERT,
	                     SC_PKCS15_PRKEY_USAGE_SIGN | SC_PKCS15_PRKEY_USAGE_NONREPUDIATION, 1,
	                     1)) < 0)
		return r;
	if (!drv->cardinfo_enabled)
		return SC_SUCCESS;
	if ((r = mn_add_pin(p15card, MN_PIN_CARDINFO, "Card Info PIN",
	                    SC_PKCS15_PIN_TYPE_ASCII_NUMERIC, 4, 4, MN_CI_PIN_TRIES)) < 0 ||
	    (r = mn_add_data(p15card, 1, "Individual Number", MN_CI_EF_NUMBER)) < 0 ||
	    (r = mn_add_data(p15card, 2, "Basic Attributes", MN_CI_EF_ATTRS)) < 0 ||
	    (r = mn_add_data(p15card, 3, "Card Info Integrity", MN_CI_EF_INTEGRITY)) < 0)
		return r;
	return SC_SUCCESS;
}

int mn_pkcs15emu_init(struct sc_pkcs15_card *p15card, struct sc_aid *aid)
{
	struct sc_card *card = p15card->card;
	const struct mn_drv *drv;
	int r;

	(void)aid;
	if (card->type != MN_CARD_TYPE || card->drv_data == NULL)
		return SC_ERROR_WRONG_CARD;
	LOG_FUNC_CALLED(card->ctx);
	drv = MN_DRV(card);
	r = mn_set_string(&p15card->tokeninfo->label, mn_token_kind_name(drv->ti.kind));
	if (r == SC_SUCCESS)
		r = mn_set_string(&p15card->tokeninfo->manufacturer_id,
		                  drv->ti.manufacturer[0] ? drv->ti.manufacturer : "J-LIS");
	if (r == SC_SUCCESS && drv->ti.serial[0] != '\0')
		r = mn_set_string(&p15card->tokeninfo->serial_number, drv->ti.serial);
	p15card->tokeninfo->flags = SC_PKCS15_TOKEN_READONLY;
	if (r == SC_SUCCESS)
		r = mn_add_objects(p15card, drv);
	if (r < 0) {
		sc_pkcs15_card_clear(p15card);
		LOG_TEST_RET(card->ctx, r, "adding the PKCS#15 objects failed");
	}
	LOG_FUNC_RETURN(card->ctx, SC_SUCCESS);
}
