/*
 * pam-code: run PAM steps and print each exact return code, for tests/integration/
 * test-pam-codes.sh (doc/pam-return-codes.md). Run under pam_wrapper + nss_wrapper.
 *
 *   pam-code [--user NAME | --no-user] [--conv MODE] [--answer TEXT]... SERVICE STEP...
 *
 * STEP: auth, acct or setcred; every step runs (no stop at the first failure) and prints
 * "STEP: PAM_NAME (N)". The conversation MODE:
 *   answers   (default) echo-off prompts get the --answer values in order (then fail);
 *             info and error messages are printed as "info: …" / "error: …"
 *   fail      every call returns PAM_CONV_ERR
 *   again     every call returns PAM_CONV_AGAIN
 *   null      prompts "succeed" with a NULL response; messages are printed
 *   noprompt  messages are printed, prompts return PAM_CONV_ERR
 * Exit status: 0 when every step ran, 2 on a usage error, 1 when pam_start failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#define MAX_ANSWERS 8

enum mode { M_ANSWERS, M_FAIL, M_AGAIN, M_NULL, M_NOPROMPT };

struct conv_state {
	enum mode mode;
	const char *answers[MAX_ANSWERS];
	int n, next;
};

static const char *pam_name(int r)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
	    {PAM_SUCCESS, "PAM_SUCCESS"},
	    {PAM_OPEN_ERR, "PAM_OPEN_ERR"},
	    {PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR"},
	    {PAM_SERVICE_ERR, "PAM_SERVICE_ERR"},
	    {PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR"},
	    {PAM_BUF_ERR, "PAM_BUF_ERR"},
	    {PAM_PERM_DENIED, "PAM_PERM_DENIED"},
	    {PAM_AUTH_ERR, "PAM_AUTH_ERR"},
	    {PAM_CRED_INSUFFICIENT, "PAM_CRED_INSUFFICIENT"},
	    {PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL"},
	    {PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN"},
	    {PAM_MAXTRIES, "PAM_MAXTRIES"},
	    {PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD"},
	    {PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED"},
	    {PAM_SESSION_ERR, "PAM_SESSION_ERR"},
	    {PAM_CRED_UNAVAIL, "PAM_CRED_UNAVAIL"},
	    {PAM_CRED_EXPIRED, "PAM_CRED_EXPIRED"},
	    {PAM_CRED_ERR, "PAM_CRED_ERR"},
	    {PAM_NO_MODULE_DATA, "PAM_NO_MODULE_DATA"},
	    {PAM_CONV_ERR, "PAM_CONV_ERR"},
	    {PAM_AUTHTOK_ERR, "PAM_AUTHTOK_ERR"},
	    {PAM_ABORT, "PAM_ABORT"},
	    {PAM_IGNORE, "PAM_IGNORE"},
	    {PAM_CONV_AGAIN, "PAM_CONV_AGAIN"},
	    {PAM_INCOMPLETE, "PAM_INCOMPLETE"},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == r)
			return names[i].name;
	return "PAM_(unknown)";
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct conv_state *st = data;
	struct pam_response *r;
	int i;

	if (st->mode == M_FAIL)
		return PAM_CONV_ERR;
	if (st->mode == M_AGAIN)
		return PAM_CONV_AGAIN;
	if (n <= 0 || (r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_TEXT_INFO:
			printf("info: %s\n", msg[i]->msg);
			break;
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			printf("prompt: %s\n", msg[i]->msg);
			if (st->mode == M_NULL)
				break;
			if (st->mode == M_NOPROMPT || st->next >= st->n)
				goto fail;
			if ((r[i].resp = strdup(st->answers[st->next++])) == NULL)
				goto fail;
			break;
		default:
			goto fail;
		}
	}
	fflush(stdout);
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	fflush(stdout);
	return PAM_CONV_ERR;
}

static int usage(void)
{
	fprintf(stderr, "usage: pam-code [--user NAME | --no-user] [--conv answers|fail|again|null|"
	                "noprompt] [--answer TEXT]... SERVICE auth|acct|setcred...\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct conv_state st = {M_ANSWERS, {NULL}, 0, 0};
	struct pam_conv pc = {conv, &st};
	const char *user = "taro", *service;
	pam_handle_t *pamh = NULL;
	int i = 1, r, last = PAM_SUCCESS;

	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		if (strcmp(argv[i], "--no-user") == 0) {
			user = NULL;
			i++;
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--answer") == 0 && i + 1 < argc && st.n < MAX_ANSWERS) {
			st.answers[st.n++] = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "--conv") == 0 && i + 1 < argc) {
			const char *m = argv[i + 1];
			if (strcmp(m, "answers") == 0)
				st.mode = M_ANSWERS;
			else if (strcmp(m, "fail") == 0)
				st.mode = M_FAIL;
			else if (strcmp(m, "again") == 0)
				st.mode = M_AGAIN;
			else if (strcmp(m, "null") == 0)
				st.mode = M_NULL;
			else if (strcmp(m, "noprompt") == 0)
				st.mode = M_NOPROMPT;
			else
				return usage();
			i += 2;
		} else {
			return usage();
		}
	}
	if (argc - i < 2)
		return usage();
	service = argv[i++];
	if ((r = pam_start(service, user, &pc, &pamh)) != PAM_SUCCESS) {
		fprintf(stderr, "pam-code: pam_start: %s\n", pam_name(r));
		return 1;
	}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "auth") == 0)
			r = pam_authenticate(pamh, 0);
		else if (strcmp(argv[i], "acct") == 0)
			r = pam_acct_mgmt(pamh, 0);
		else if (strcmp(argv[i], "setcred") == 0)
			r = pam_setcred(pamh, PAM_ESTABLISH_CRED);
		else {
			pam_end(pamh, PAM_SUCCESS);
			return usage();
		}
		printf("%s: %s (%d)\n", argv[i], pam_name(r), r);
		fflush(stdout);
		last = r;
	}
	pam_end(pamh, last);
	return 0;
}
