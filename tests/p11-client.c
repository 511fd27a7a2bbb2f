/*
 * p11-client: drive a PKCS#11 module through a scripted sequence of operations in ONE
 * process, for tests that need state across operations (another process changing the card
 * in between, logout). Each operation prints "<op>: <CKR name>".
 *
 *   p11-client MODULE SLOT-INDEX OP...
 *     login PIN | logout | sign ID-HEX IN OUT | wait FILE | touch FILE | tries
 *
 * "wait FILE" waits (at most 20 s) for FILE to exist; "touch FILE" creates it. Exit 0 when
 * every operation ran (whatever its result), 2 on usage errors, 1 when the module fails.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pkcs11/pkcs11.h"

static const char *rv_name(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return "CKR_OK";
	case CKR_PIN_INCORRECT:
		return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED:
		return "CKR_PIN_LOCKED";
	case CKR_PIN_LEN_RANGE:
		return "CKR_PIN_LEN_RANGE";
	case CKR_USER_NOT_LOGGED_IN:
		return "CKR_USER_NOT_LOGGED_IN";
	case CKR_USER_ALREADY_LOGGED_IN:
		return "CKR_USER_ALREADY_LOGGED_IN";
	case CKR_DEVICE_REMOVED:
		return "CKR_DEVICE_REMOVED";
	case CKR_TOKEN_NOT_PRESENT:
		return "CKR_TOKEN_NOT_PRESENT";
	case CKR_DATA_INVALID:
		return "CKR_DATA_INVALID";
	case CKR_GENERAL_ERROR:
		return "CKR_GENERAL_ERROR";
	case CKR_KEY_HANDLE_INVALID:
		return "CKR_KEY_HANDLE_INVALID";
	}
	return "CKR_other";
}

static int read_file(const char *path, unsigned char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, cap, f);
	fclose(f);
	*len = n;
	return 0;
}

static int hex_id(const char *s, unsigned char *id, size_t *len)
{
	size_t n = strlen(s), i;

	if (n == 0 || n % 2 || n / 2 > 16)
		return -1;
	for (i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

static CK_RV do_sign(CK_FUNCTION_LIST_PTR p11, CK_SESSION_HANDLE s, const char *idhex,
                     const char *in, const char *out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	unsigned char id[16], msg[4096], sig[512];
	size_t idlen, msglen;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, id, 0}};
	CK_OBJECT_HANDLE key;
	CK_ULONG found = 0, siglen = sizeof(sig);
	CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
	CK_RV rv;
	FILE *f;

	if (hex_id(idhex, id, &idlen) != 0 || read_file(in, msg, sizeof(msg), &msglen) != 0)
		return CKR_ARGUMENTS_BAD;
	tmpl[1].ulValueLen = idlen;
	if ((rv = p11->C_FindObjectsInit(s, tmpl, 2)) != CKR_OK)
		return rv;
	rv = p11->C_FindObjects(s, &key, 1, &found);
	p11->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return rv;
	if (found == 0)
		return CKR_KEY_HANDLE_INVALID;
	if ((rv = p11->C_SignInit(s, &mech, key)) != CKR_OK)
		return rv;
	if ((rv = p11->C_Sign(s, msg, msglen, sig, &siglen)) != CKR_OK)
		return rv;
	if ((f = fopen(out, "wb")) == NULL)
		return CKR_ARGUMENTS_BAD;
	fwrite(sig, 1, siglen, f);
	fclose(f);
	return CKR_OK;
}

int main(int argc, char **argv)
{
	CK_FUNCTION_LIST_PTR p11 = NULL;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID slots[16];
	CK_ULONG nslots = 16;
	CK_SESSION_HANDLE s = 0;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	void *h;
	int i, idx, rc = 1;

	if (argc < 4) {
		fprintf(stderr, "usage: p11-client MODULE SLOT-INDEX OP...\n");
		return 2;
	}
	if ((h = dlopen(argv[1], RTLD_NOW)) == NULL) {
		fprintf(stderr, "p11-client: %s\n", dlerror());
		return 1;
	}
	*(void **)&getfl = dlsym(h, "C_GetFunctionList");
	if (getfl == NULL || getfl(&p11) != CKR_OK || p11->C_Initialize(NULL) != CKR_OK)
		goto out;
	idx = atoi(argv[2]);
	if (p11->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK || idx < 0 ||
	    (CK_ULONG)idx >= nslots) {
		fprintf(stderr, "p11-client: no token at slot index %d\n", idx);
		goto fin;
	}
	if (p11->C_OpenSession(slots[idx], CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK)
		goto fin;
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "login") == 0 && i + 1 < argc) {
			const char *pin = argv[++i];
			rv = p11->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
			printf("login: %s\n", rv_name(rv));
		} else if (strcmp(argv[i], "logout") == 0) {
			printf("logout: %s\n", rv_name(p11->C_Logout(s)));
		} else if (strcmp(argv[i], "sign") == 0 && i + 3 < argc) {
			rv = do_sign(p11, s, argv[i + 1], argv[i + 2], argv[i + 3]);
			printf("sign: %s\n", rv_name(rv));
			i += 3;
		} else if (strcmp(argv[i], "wait") == 0 && i + 1 < argc) {
			int n;
			for (n = 0; n < 200 && access(argv[i + 1], F_OK) != 0; n++)
				usleep(100 * 1000);
			printf("wait: %s\n", n < 200 ? "done" : "timeout");
			i++;
		} else if (strcmp(argv[i], "touch") == 0 && i + 1 < argc) {
			FILE *f = fopen(argv[++i], "w");
			if (f != NULL)
				fclose(f);
			printf("touch: done\n");
		} else if (strcmp(argv[i], "tries") == 0) {
			rv = p11->C_GetTokenInfo(slots[idx], &ti);
			printf("tries: %s%s%s%s\n", rv_name(rv),
			       ti.flags & CKF_USER_PIN_COUNT_LOW ? " count-low" : "",
			       ti.flags & CKF_USER_PIN_FINAL_TRY ? " final-try" : "",
			       ti.flags & CKF_USER_PIN_LOCKED ? " locked" : "");
		} else {
			fprintf(stderr, "p11-client: bad operation '%s'\n", argv[i]);
			rc = 2;
			goto close;
		}
		fflush(stdout);
	}
	rc = 0;
close:
	p11->C_CloseSession(s);
fin:
	p11->C_Finalize(NULL);
out:
	dlclose(h);
	return rc;
}
