/*
 * pam_mynumber: log in with a My Number card or a smartphone JPKI token.
 *
 * The module is thin: it starts mynumber-helper, relays its messages and prompts through the
 * PAM conversation, and turns its decision into a PAM code. Card, crypto and revocation work
 * never runs inside the PAM application. PAM_SUCCESS comes only from a helper that verified a
 * signature; every error path returns an error code, never PAM_SUCCESS or PAM_IGNORE.
 *
 *   auth     required pam_mynumber.so [config=/etc/mynumber/mynumber.conf] [debug]
 *   account  required pam_mynumber.so [config=...] [debug]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "mn_conf.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_proto.h"

#ifndef MN_SYSCONFDIR
#define MN_SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG MN_SYSCONFDIR "/mynumber/mynumber.conf"
#define DATA_CERT      "pam_mynumber_cert"

struct args {
	const char *config;
	int debug;
};

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	int i;

	a->config = DEFAULT_CONFIG;
	a->debug = 0;
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] != '\0') {
			a->config = argv[i] + 7;
		} else if (strcmp(argv[i], "debug") == 0) {
			a->debug = 1;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
			return PAM_SERVICE_ERR;
		}
	}
	return PAM_SUCCESS;
}

static int to_pam(enum mn_result res)
{
	switch (res) {
	case MN_RES_OK:
		return PAM_SUCCESS;
	case MN_RES_UNAVAIL:
		return PAM_AUTHINFO_UNAVAIL;
	case MN_RES_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case MN_RES_MAXTRIES:
		return PAM_MAXTRIES;
	case MN_RES_ACCT_EXPIRED:
		return PAM_ACCT_EXPIRED;
	case MN_RES_PERM_DENIED:
		return PAM_PERM_DENIED;
	case MN_RES_SYSTEM_ERR:
		return PAM_SYSTEM_ERR;
	case MN_RES_CRED_INSUFFICIENT:
		return PAM_CRED_INSUFFICIENT;
	case MN_RES_CRED_EXPIRED:
		return PAM_CRED_EXPIRED;
	case MN_RES_AUTH_ERR:
		break;
	}
	return PAM_AUTH_ERR;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The environment the helper gets: a fixed PATH and the user's language, nothing else. */
static void helper_env(pam_handle_t *pamh, char **env, size_t cap)
{
	static const char *const pass[] = {"LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES",
	                                   "PCSCLITE_CSOCK_NAME"};
	static char path[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	size_t i, n = 0;

	env[n++] = path;
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]) && n + 1 < cap; i++) {
		const char *v = pam_getenv(pamh, pass[i]);
		char *kv;
		if (v == NULL)
			v = getenv(pass[i]);
		if (v == NULL || strlen(v) > 256)
			continue;
		if ((kv = malloc(strlen(pass[i]) + strlen(v) + 2)) == NULL)
			continue;
		sprintf(kv, "%s=%s", pass[i], v);
		env[n++] = kv;
	}
	env[n] = NULL;
}

static void free_env(char **env)
{
	size_t i;

	for (i = 1; env[i] != NULL; i++)
		free(env[i]);
}

static pid_t spawn(pam_handle_t *pamh, const char *helper, char *const argv[], int *ret_fd)
{
	char *env[8];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	helper_env(pamh, env, sizeof(env) / sizeof(env[0]));
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int devnull = open("/dev/null", O_RDWR);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0 ||
		    devnull < 0 || dup2(devnull, STDERR_FILENO) < 0)
			_exit(127);
		closefrom(STDERR_FILENO + 1);
		execve(helper, argv, env);
		_exit(127);
	}
	free_env(env);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	*ret_fd = sv[0];
	return pid;
}

/* Reap the helper; kill it when it does not exit within two seconds. */
static void reap(pid_t pid, int kill_now)
{
	int i, status;

	if (kill_now)
		kill(pid, SIGKILL);
	for (i = 0; i < 200; i++) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid || (w < 0 && errno != EINTR))
			return;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

static int relay_prompt(pam_handle_t *pamh, int fd, const char *text)
{
	char *resp = NULL;
	int r, pr;

	pr = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", text);
	if (pr == PAM_SUCCESS && resp != NULL && strlen(resp) <= MN_PROTO_MAX)
		r = mn_proto_send(fd, MN_FR_ANSWER, resp, strlen(resp));
	else
		r = mn_proto_send(fd, MN_FR_NOANSWER, NULL, 0);
	if (resp != NULL) {
		explicit_bzero(resp, strlen(resp));
		free(resp);
	}
	return r;
}

/*
 * Run the helper and relay until it decides. The deadline counts the helper's own time
 * only, not the time the user spends typing.
 */
static int run_helper(pam_handle_t *pamh, const struct args *a, const char *mode, const char *user,
                      const char *cert, char sha256[65])
{
	struct mn_conf *conf = NULL;
	char err[512], buf[MN_PROTO_MAX + 1];
	const char *argv[9];
	enum mn_frame type;
	unsigned wait = 30, extra = 20;
	long long budget, t0;
	size_t len, n = 0;
	struct sigaction dfl, old;
	pid_t pid = -1;
	int fd = -1, r, pam = PAM_SYSTEM_ERR, killed = 0;

	if (mn_conf_load(a->config, &conf, err, sizeof(err)) != MN_OK) {
		pam_syslog(pamh, LOG_ERR, "%s", err);
		pam_error(pamh, "%s", _("Configuration error in the My Number login settings."));
		return PAM_SERVICE_ERR;
	}
	mn_conf_get_uint(conf, "", "card_wait", &wait);
	mn_conf_get_uint(conf, "", "timeout", &extra);
	bindtextdomain(MN_TEXTDOMAIN, mn_conf_get(conf, "", "locale_dir"));
	budget = ((long long)wait + extra) * 1000;

	argv[n++] = "mynumber-helper";
	argv[n++] = mode;
	argv[n++] = user;
	argv[n++] = a->config;
	if (a->debug)
		argv[n++] = "--debug";
	if (cert != NULL) {
		argv[n++] = "--cert";
		argv[n++] = cert;
	}
	argv[n] = NULL;

	/* the application may ignore SIGCHLD; we must be able to reap our helper */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &dfl, &old);
	pid = spawn(pamh, mn_conf_get(conf, "", "helper"), (char *const *)argv, &fd);
	if (pid < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot start %s: %m", mn_conf_get(conf, "", "helper"));
		goto out;
	}
	for (;;) {
		t0 = now_ms();
		r = mn_proto_recv(fd, (int)(budget > 0 ? budget : 0), &type, buf, sizeof(buf),
		                  &len);
		budget -= now_ms() - t0;
		if (r == MN_ERR_TIMEOUT) {
			pam_syslog(pamh, LOG_ERR, "helper did not finish in time: killed");
			pam_error(pamh, "%s", _("The card did not answer in time."));
			killed = 1;
			pam = PAM_AUTHINFO_UNAVAIL;
			break;
		}
		if (r != MN_OK) {
			pam_syslog(pamh, LOG_ERR, "helper ended without a decision (%s)",
			           mn_strerror(r));
			pam_error(pamh, "%s", _("Internal error in the My Number login."));
			killed = 1;
			pam = PAM_SYSTEM_ERR;
			break;
		}
		if (type == MN_FR_INFO) {
			pam_info(pamh, "%s", buf);
		} else if (type == MN_FR_ERROR) {
			pam_error(pamh, "%s", buf);
		} else if (type == MN_FR_WARN) {
			pam_syslog(pamh, LOG_WARNING, "%s", buf);
		} else if (type == MN_FR_DEBUG) {
			if (a->debug)
				pam_syslog(pamh, LOG_DEBUG, "%s", buf);
		} else if (type == MN_FR_PROMPT) {
			if (relay_prompt(pamh, fd, buf) != MN_OK) {
				/* the helper went away while the user answered its prompt */
				pam_syslog(pamh, LOG_ERR,
				           "helper ended without a decision (at its prompt)");
				pam_error(pamh, "%s", _("Internal error in the My Number login."));
				killed = 1;
				pam = PAM_SYSTEM_ERR;
				break;
			}
		} else if (type == MN_FR_RESULT && len >= 1) {
			pam = to_pam((enum mn_result)(unsigned char)buf[0]);
			if (pam == PAM_SUCCESS && sha256 != NULL) {
				if (len != 65) {
					pam =
					    PAM_SYSTEM_ERR; /* success must name the certificate */
				} else {
					memcpy(sha256, buf + 1, 64);
					sha256[64] = '\0';
				}
			}
			break;
		} else {
			pam_syslog(pamh, LOG_ERR, "unexpected frame from the helper");
			killed = 1;
			pam = PAM_SYSTEM_ERR;
			break;
		}
	}
out:
	explicit_bzero(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (pid > 0)
		reap(pid, killed);
	sigaction(SIGCHLD, &old, NULL);
	mn_conf_free(&conf);
	return pam;
}

static int get_user(pam_handle_t *pamh, const char **user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	r = pam_get_user(pamh, user, NULL);
	if (r == PAM_CONV_AGAIN)
		return PAM_INCOMPLETE;
	if (r != PAM_SUCCESS) {
		/* the name could not be obtained (PAM_CONV_ERR, PAM_BUF_ERR, PAM_SYSTEM_ERR, ...):
		 * that error, not PAM_USER_UNKNOWN, which sshd's account stack ignores */
		pam_syslog(pamh, LOG_ERR, "cannot get the user name: %s", pam_strerror(pamh, r));
		return r == PAM_IGNORE ? PAM_SERVICE_ERR : r;
	}
	if (*user == NULL || **user == '\0')
		return PAM_USER_UNKNOWN;
	if (getpwnam_r(*user, &pw, buf, sizeof(buf), &res) != 0 || res == NULL) {
		pam_syslog(pamh, LOG_NOTICE, "unknown user");
		return PAM_USER_UNKNOWN;
	}
	return PAM_SUCCESS;
}

static void free_data(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh;
	(void)status;
	free(data);
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	const char *user = NULL;
	char sha256[65] = "";
	char *keep;
	int r;

	(void)flags;
	if ((r = parse_args(pamh, argc, argv, &a)) != PAM_SUCCESS)
		return r;
	if ((r = get_user(pamh, &user)) != PAM_SUCCESS)
		return r;
	r = run_helper(pamh, &a, "auth", user, NULL, sha256);
	if (a.debug)
		pam_syslog(pamh, LOG_DEBUG, "auth for %s: %s", user, pam_strerror(pamh, r));
	if (r == PAM_SUCCESS) {
		/* the account step checks this certificate; without it, no success */
		if ((keep = strdup(sha256)) == NULL)
			return PAM_BUF_ERR;
		if (pam_set_data(pamh, DATA_CERT, keep, free_data) != PAM_SUCCESS) {
			free(keep);
			return PAM_BUF_ERR;
		}
	}
	return r;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	/* no credentials to establish beyond the proof made in authenticate */
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct args a;
	const char *user = NULL;
	const void *cert = NULL;
	int r;

	(void)flags;
	if ((r = parse_args(pamh, argc, argv, &a)) != PAM_SUCCESS)
		return r;
	if ((r = get_user(pamh, &user)) != PAM_SUCCESS)
		return r;
	if (pam_get_data(pamh, DATA_CERT, &cert) != PAM_SUCCESS)
		cert = NULL;
	r = run_helper(pamh, &a, "account", user, cert, NULL);
	if (a.debug)
		pam_syslog(pamh, LOG_DEBUG, "account for %s: %s", user, pam_strerror(pamh, r));
	return r;
}
