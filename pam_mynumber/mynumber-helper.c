/*
 * mynumber-helper: the card, crypto and revocation work of pam_mynumber.so, in its own
 * process (as SSSD's p11_child and OpenSSH's ssh-pkcs11-helper), so that OpenSC and OpenSSL
 * state never lives inside sudo, sshd or gdm, and a hang can be killed at a deadline.
 *
 *   mynumber-helper auth USER CONFIG [--debug]
 *   mynumber-helper account USER CONFIG [--debug] [--cert SHA256]
 *
 * Standard input and output are the module's socket (doc/helper-protocol.md).
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mn_account.h"
#include "mn_auth.h"
#include "mn_conf.h"
#include "mn_enroll.h"
#include "mn_err.h"
#include "mn_msg.h"
#include "mn_pin.h"
#include "mn_proto.h"
#include "mn_store.h"
#include "mn_storesrc.h"

struct io {
	int fd;
	int debug;
};

static int io_say(void *ctx, int is_error, const char *text)
{
	struct io *io = ctx;

	return mn_proto_send(io->fd, is_error ? MN_FR_ERROR : MN_FR_INFO, text, strlen(text));
}

static int io_ask(void *ctx, const char *prompt, char *buf, size_t cap)
{
	struct io *io = ctx;
	char frame[MN_PROTO_MAX + 1];
	enum mn_frame type;
	size_t len;
	int r;

	if ((r = mn_proto_send(io->fd, MN_FR_PROMPT, prompt, strlen(prompt))) != MN_OK)
		return r;
	/* no deadline here: the module bounds the whole exchange */
	r = mn_proto_recv(io->fd, -1, &type, frame, sizeof(frame), &len);
	if (r == MN_OK && type == MN_FR_ANSWER && len < cap) {
		memcpy(buf, frame, len + 1);
		r = (int)len;
	} else if (r == MN_OK) {
		r = MN_ERR_EOF;
	}
	explicit_bzero(frame, sizeof(frame));
	return r;
}

static void io_debug(void *ctx, const char *text)
{
	struct io *io = ctx;

	if (io->debug)
		mn_proto_send(io->fd, MN_FR_DEBUG, text, strlen(text));
}

static void io_warn(void *ctx, const char *text)
{
	struct io *io = ctx;

	mn_proto_send(io->fd, MN_FR_WARN, text, strlen(text));
}

static int result(struct io *io, enum mn_result res, const char *sha256)
{
	char buf[1 + 65];
	size_t n = 1;

	buf[0] = (char)res;
	if (sha256 != NULL && sha256[0] != '\0') {
		memcpy(buf + 1, sha256, 64);
		n += 64;
	}
	return mn_proto_send(io->fd, MN_FR_RESULT, buf, n) == MN_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct io io = {STDOUT_FILENO, 0};
	struct mn_ui ui = {io_say, io_ask, io_debug, io_warn, &io};
	struct mn_conf *conf = NULL;
	struct mn_store *store = NULL;
	struct mn_auth_out out;
	const char *mode, *user, *confpath, *cert = NULL, *v;
	enum mn_store_origin origin = MN_STORE_FROM_FILE;
	char err[1024];
	int i, rc, r;

	/* the PIN passes through this process: no core file, not dumpable, before anything */
	mn_pin_protect_process();
	umask(077);
	setlocale(LC_ALL, "");
	if (argc < 4) {
		fprintf(stderr, "usage: mynumber-helper auth|account USER CONFIG [--debug] "
		                "[--cert SHA256]\n");
		return 2;
	}
	mode = argv[1];
	user = argv[2];
	confpath = argv[3];
	for (i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--debug") == 0)
			io.debug = 1;
		else if (strcmp(argv[i], "--cert") == 0 && i + 1 < argc)
			cert = argv[++i];
		else
			return 2;
	}
	if (strcmp(mode, "auth") != 0 && strcmp(mode, "account") != 0)
		return 2;
	if (!mn_store_user_valid(user))
		return result(&io, MN_RES_USER_UNKNOWN, NULL);

	if (mn_conf_load(confpath, &conf, err, sizeof(err)) != MN_OK) {
		io_debug(&io, err);
		io_say(&io, 1, _("Configuration error in the My Number login settings."));
		return result(&io, MN_RES_SYSTEM_ERR, NULL);
	}
	if ((v = mn_conf_get(conf, "", "locale_dir")) != NULL && v[0] != '\0')
		bindtextdomain(MN_TEXTDOMAIN, v);
	if ((v = mn_conf_get(conf, "", "opensc_conf")) != NULL && v[0] != '\0')
		setenv("OPENSC_CONF", v, 1);
	r = mn_store_source_load(conf, user, time(NULL), &store, &origin, err, sizeof(err));
	if (r == MN_ERR_UNAVAILABLE) {
		io_debug(&io, err);
		io_say(&io, 1,
		       _("The enrollment directory cannot be reached; try again later or ask your "
		         "administrator."));
		rc = result(&io, MN_RES_UNAVAIL, NULL);
		goto out;
	}
	if (r != MN_OK) {
		io_debug(&io, err);
		io_say(&io, 1, _("The enrollment store cannot be read; ask your administrator."));
		rc = result(&io, MN_RES_SYSTEM_ERR, NULL);
		goto out;
	}
	if (origin == MN_STORE_FROM_CACHE)
		io_warn(&io, err); /* the directory's reason and the cache's age: no secrets */
	else if (err[0] != '\0')
		io_debug(&io, err);
	if (strcmp(mode, "account") == 0) {
		enum mn_result res;
		if (mn_account_check(conf, store, user, cert, time(NULL), &ui, &res) != MN_OK)
			res = MN_RES_SYSTEM_ERR;
		rc = result(&io, res, NULL);
		goto out;
	}
	if (mn_auth_run(conf, store, user, MN_AUTH_LOGIN, &ui, time(NULL), &out) != MN_OK) {
		rc = result(&io, MN_RES_SYSTEM_ERR, NULL);
		goto out;
	}
	if (out.result == MN_RES_OK && out.rebind_old_id != 0 && out.cert != NULL &&
	    origin != MN_STORE_FROM_FILE) {
		/* the bindings live in the directory: an administrator updates them there */
		io_warn(&io,
		        "renewed certificate proved; store_backend = ldap: not rebound (update "
		        "the directory)");
	} else if (out.result == MN_RES_OK && out.rebind_old_id != 0 && out.cert != NULL) {
		unsigned id = 0;
		if (mn_store_rebind(mn_conf_get(conf, "", "store"), user, out.rebind_old_id,
		                    out.cert, &id, err, sizeof(err)) == MN_OK) {
			io_say(&io, 0, _("Your renewed My Number certificate is now enrolled."));
			io_warn(&io, "renewed certificate bound in place of the old one");
		} else {
			io_debug(&io, err);
			io_warn(&io, "renewed certificate proved but could not be recorded");
		}
	}
	rc = result(&io, out.result, out.sha256);
	mn_auth_out_clear(&out);
out:
	mn_store_free(&store);
	mn_conf_free(&conf);
	return rc;
}
