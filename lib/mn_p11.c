#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#include "mn_err.h"
#include "mn_jpki.h"
#include "mn_p11.h"

struct mn_p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE session;
	CK_SLOT_ID session_slot;
	int have_session;
	int logged_in;
};

static const struct {
	const char *label; /* token label, before " (Auth PIN)" */
	enum mn_token_kind kind;
} mn_labels[] = {
    {"My Number Card", MN_TOKEN_CARD},
    {"JPKI Android", MN_TOKEN_ANDROID},
    {"JPKI iPhone", MN_TOKEN_IPHONE},
};

static void set_err(char *err, size_t len, const char *what, const char *detail)
{
	if (err != NULL && len > 0)
		snprintf(err, len, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* CK_RV to MN_ERR_* for the card-level failures a login must tell apart. */
static int map_rv(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return MN_OK;
	case CKR_PIN_INCORRECT:
		return MN_ERR_PIN_INCORRECT;
	case CKR_PIN_LOCKED:
		return MN_ERR_PIN_LOCKED;
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return MN_ERR_PIN_FORMAT;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SESSION_CLOSED:
	case CKR_SLOT_ID_INVALID:
		return MN_ERR_TOKEN_REMOVED;
	}
	return MN_ERR_PKCS11;
}

int mn_p11_open(const char *module, struct mn_p11 **ret, char *err, size_t errlen)
{
	struct mn_p11 *p = NULL;
	CK_C_GetFunctionList getfl = NULL;
	CK_C_INITIALIZE_ARGS args;
	void *sym;
	CK_RV rv;
	int r = MN_ERR_PKCS11;

	if (module == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return MN_ERR_NOMEM;
	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		set_err(err, errlen, "cannot load the PKCS#11 module", dlerror());
		goto out;
	}
	sym = dlsym(p->dl, "C_GetFunctionList");
	memcpy(&getfl, &sym, sizeof(getfl));
	if (getfl == NULL || getfl(&p->f) != CKR_OK || p->f == NULL) {
		set_err(err, errlen, "not a PKCS#11 module", module);
		goto out;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK) {
		set_err(err, errlen, "C_Initialize failed", NULL);
		p->f = NULL;
		goto out;
	}
	*ret = p;
	p = NULL;
	r = MN_OK;
out:
	mn_p11_close(&p);
	return r;
}

void mn_p11_close(struct mn_p11 **pp)
{
	struct mn_p11 *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	if (p->f != NULL) {
		if (p->have_session)
			p->f->C_CloseSession(p->session);
		p->f->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p);
	*pp = NULL;
}

static void copy_padded(char *dst, size_t cap, const CK_UTF8CHAR *src, size_t n)
{
	size_t end = n;

	while (end > 0 && (src[end - 1] == ' ' || src[end - 1] == '\0'))
		end--;
	if (end >= cap)
		end = cap - 1;
	memcpy(dst, src, end);
	dst[end] = '\0';
}

/* Is this token a My Number auth slot? Fills tok on success. */
static void flags_to_tries(CK_FLAGS flags, struct mn_p11_token *tok)
{
	/* OpenSC sets these from the card's answer to an empty VERIFY (3-try PIN). */
	if (flags & CKF_USER_PIN_LOCKED)
		tok->tries = 0;
	else if (flags & CKF_USER_PIN_FINAL_TRY)
		tok->tries = 1;
	else if (flags & CKF_USER_PIN_COUNT_LOW)
		tok->tries = tok->max_tries - 1;
	else
		tok->tries = tok->max_tries;
}

static int match_token(const CK_TOKEN_INFO *ti, CK_SLOT_ID slot, struct mn_p11_token *tok)
{
	char label[33];
	size_t i, l;

	copy_padded(label, sizeof(label), ti->label, sizeof(ti->label));
	for (i = 0; i < sizeof(mn_labels) / sizeof(mn_labels[0]); i++) {
		l = strlen(mn_labels[i].label);
		if (strncmp(label, mn_labels[i].label, l) != 0 ||
		    strcmp(label + l, " (Auth PIN)") != 0)
			continue;
		memset(tok, 0, sizeof(*tok));
		tok->slot = slot;
		tok->kind = mn_labels[i].kind;
		strcpy(tok->label, label);
		copy_padded(tok->serial, sizeof(tok->serial), ti->serialNumber,
		            sizeof(ti->serialNumber));
		tok->max_tries = MN_AUTH_PIN_TRIES;
		tok->tries = -1;
		return 1;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int mn_p11_wait_token(struct mn_p11 *p, int wait_ms, struct mn_p11_token *ret)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n, i;
	CK_TOKEN_INFO ti;
	struct mn_p11_token tok;
	long long deadline = now_ms() + (wait_ms < 0 ? 0 : wait_ms);
	int readers = 0;

	if (p == NULL || ret == NULL)
		return MN_ERR_INVALID_ARG;
	for (;;) {
		n = sizeof(slots) / sizeof(slots[0]);
		if (p->f->C_GetSlotList(CK_FALSE, slots, &n) == CKR_OK && n > 0)
			readers = 1;
		n = sizeof(slots) / sizeof(slots[0]);
		if (p->f->C_GetSlotList(CK_TRUE, slots, &n) == CKR_OK) {
			for (i = 0; i < n; i++) {
				if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
					continue;
				if (match_token(&ti, slots[i], &tok)) {
					CK_SLOT_INFO si;
					if (p->f->C_GetSlotInfo(slots[i], &si) == CKR_OK)
						copy_padded(tok.reader, sizeof(tok.reader),
						            si.slotDescription,
						            sizeof(si.slotDescription));
					/* the same C_GetTokenInfo read the tries */
					flags_to_tries(ti.flags, &tok);
					*ret = tok;
					return MN_OK;
				}
			}
		}
		if (now_ms() >= deadline)
			return readers ? MN_ERR_NO_TOKEN : MN_ERR_NO_READER;
		usleep(200 * 1000);
	}
}

int mn_p11_tries(struct mn_p11 *p, struct mn_p11_token *tok)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	if (p == NULL || tok == NULL)
		return MN_ERR_INVALID_ARG;
	rv = p->f->C_GetTokenInfo(tok->slot, &ti);
	if (rv != CKR_OK)
		return map_rv(rv) == MN_ERR_PKCS11 ? MN_ERR_TOKEN_REMOVED : map_rv(rv);
	flags_to_tries(ti.flags, tok);
	return MN_OK;
}

static int open_session(struct mn_p11 *p, CK_SLOT_ID slot)
{
	CK_RV rv;

	if (p->have_session && p->session_slot == slot)
		return MN_OK;
	if (p->have_session) {
		p->f->C_CloseSession(p->session);
		p->have_session = 0;
	}
	rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &p->session);
	if (rv != CKR_OK)
		return map_rv(rv) == MN_ERR_PKCS11 ? MN_ERR_TOKEN_REMOVED : map_rv(rv);
	p->have_session = 1;
	p->session_slot = slot;
	return MN_OK;
}

/* The one object of this class with CKA_ID 01 (first match). */
static int find_id01(struct mn_p11 *p, CK_OBJECT_CLASS cls, CK_OBJECT_HANDLE *ret)
{
	CK_BYTE id = 0x01;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, &id, 1}};
	CK_OBJECT_HANDLE h;
	CK_ULONG found = 0;
	CK_RV rv;

	if ((rv = p->f->C_FindObjectsInit(p->session, tmpl, 2)) != CKR_OK)
		return map_rv(rv);
	rv = p->f->C_FindObjects(p->session, &h, 1, &found);
	p->f->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK)
		return map_rv(rv);
	if (found == 0)
		return MN_ERR_NOT_FOUND;
	*ret = h;
	return MN_OK;
}

int mn_p11_read_auth_cert(struct mn_p11 *p, const struct mn_p11_token *tok, unsigned char **ret,
                          size_t *ret_len)
{
	CK_OBJECT_HANDLE h;
	CK_ULONG category = 0;
	CK_ATTRIBUTE cat = {CKA_CERTIFICATE_CATEGORY, &category, sizeof(category)};
	CK_ATTRIBUTE val = {CKA_VALUE, NULL, 0};
	unsigned char *der = NULL;
	CK_RV rv;
	int r;

	if (p == NULL || tok == NULL || ret == NULL || ret_len == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = open_session(p, tok->slot)) != MN_OK ||
	    (r = find_id01(p, CKO_CERTIFICATE, &h)) != MN_OK)
		return r;
	/* never an authority certificate (2 = authority) */
	if (p->f->C_GetAttributeValue(p->session, h, &cat, 1) == CKR_OK && category == 2)
		return MN_ERR_NOT_FOUND;
	if ((rv = p->f->C_GetAttributeValue(p->session, h, &val, 1)) != CKR_OK)
		return map_rv(rv);
	if (val.ulValueLen == 0 || val.ulValueLen > 16384)
		return MN_ERR_TOO_LARGE;
	if ((der = malloc(val.ulValueLen)) == NULL)
		return MN_ERR_NOMEM;
	val.pValue = der;
	if ((rv = p->f->C_GetAttributeValue(p->session, h, &val, 1)) != CKR_OK) {
		free(der);
		return map_rv(rv);
	}
	*ret = der;
	*ret_len = val.ulValueLen;
	return MN_OK;
}

int mn_p11_login(struct mn_p11 *p, const struct mn_p11_token *tok, const char *pin, size_t len)
{
	CK_RV rv;
	int r;

	if (p == NULL || tok == NULL || pin == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = open_session(p, tok->slot)) != MN_OK)
		return r;
	rv = p->f->C_Login(p->session, CKU_USER, (CK_UTF8CHAR_PTR)pin, len);
	if (rv == CKR_USER_ALREADY_LOGGED_IN)
		rv = CKR_OK;
	if (rv == CKR_OK)
		p->logged_in = 1;
	return map_rv(rv);
}

int mn_p11_sign(struct mn_p11 *p, const struct mn_p11_token *tok, const unsigned char *data,
                size_t len, unsigned char *sig, size_t *siglen)
{
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_OBJECT_HANDLE key;
	CK_ULONG n;
	CK_RV rv;
	int r;

	if (p == NULL || tok == NULL || data == NULL || sig == NULL || siglen == NULL)
		return MN_ERR_INVALID_ARG;
	if ((r = open_session(p, tok->slot)) != MN_OK ||
	    (r = find_id01(p, CKO_PRIVATE_KEY, &key)) != MN_OK)
		return r;
	if ((rv = p->f->C_SignInit(p->session, &mech, key)) != CKR_OK)
		return map_rv(rv);
	n = *siglen;
	if ((rv = p->f->C_Sign(p->session, (CK_BYTE_PTR)data, len, sig, &n)) != CKR_OK)
		return map_rv(rv);
	*siglen = n;
	return MN_OK;
}

const char *mn_p11_sign_pin_state(struct mn_p11 *p, const struct mn_p11_token *tok)
{
	CK_SLOT_ID slots[16];
	CK_ULONG n = sizeof(slots) / sizeof(slots[0]), i;
	CK_TOKEN_INFO ti;
	char label[33], serial[17], want[33];
	size_t l;

	if (p == NULL || tok == NULL)
		return "unknown";
	l = strlen(tok->label);
	if (l < 11 || l - 11 + sizeof(" (Sign PIN)") > sizeof(want))
		return "unknown";
	snprintf(want, sizeof(want), "%.*s (Sign PIN)", (int)(l - 11), tok->label);
	if (p->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		return "unknown";
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		copy_padded(label, sizeof(label), ti.label, sizeof(ti.label));
		copy_padded(serial, sizeof(serial), ti.serialNumber, sizeof(ti.serialNumber));
		if (strcmp(label, want) != 0 || strcmp(serial, tok->serial) != 0)
			continue;
		if (ti.flags & CKF_USER_PIN_LOCKED)
			return "locked";
		if (ti.flags & CKF_USER_PIN_FINAL_TRY)
			return "final try";
		if (ti.flags & CKF_USER_PIN_COUNT_LOW)
			return "count low";
		return "ok";
	}
	return "unknown";
}

void mn_p11_logout(struct mn_p11 *p)
{
	if (p != NULL && p->have_session && p->logged_in) {
		p->f->C_Logout(p->session);
		p->logged_in = 0;
	}
}
