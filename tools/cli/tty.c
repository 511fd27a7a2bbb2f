/* Terminal conversation for the mynumber command. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "mn_err.h"

static int tty_say(void *ctx, int is_error, const char *text)
{
	(void)ctx;
	fprintf(stderr, "%s%s\n", is_error ? "mynumber: " : "", text);
	return 0;
}

/* Read a line with echo off from /dev/tty, or from stdin when there is no terminal. */
static int tty_ask(void *ctx, const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd, own = 0, restore = 0;
	size_t n = 0;
	char ch;

	(void)ctx;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd >= 0) {
		own = 1;
		if (write(fd, prompt, strlen(prompt)) < 0)
			goto fail;
		if (tcgetattr(fd, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
		}
	} else {
		fd = STDIN_FILENO;
		fprintf(stderr, "%s", prompt);
	}
	while (read(fd, &ch, 1) == 1 && ch != '\n') {
		if (n + 1 >= cap) {
			n = cap; /* too long: refused below */
			continue;
		}
		buf[n++] = ch;
	}
	explicit_bzero(&ch, sizeof(ch)); /* the last character read (of the PIN at EOF) */
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &old);
		if (write(fd, "\n", 1) < 0)
			n = cap;
	} else if (!own) {
		fprintf(stderr, "\n");
	}
	if (own)
		close(fd);
	if (n >= cap) {
		explicit_bzero(buf, cap);
		return MN_ERR_TOO_LARGE;
	}
	buf[n] = '\0';
	return (int)n;
fail:
	if (own)
		close(fd);
	return MN_ERR_IO;
}

static void tty_debug(void *ctx, const char *text)
{
	const int *on = ctx;

	if (on != NULL && *on)
		fprintf(stderr, "debug: %s\n", text);
}

static void tty_warn(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "mynumber: warning: %s\n", text);
}

void cli_ui(struct cli *c, struct mn_ui *ui)
{
	ui->warn = tty_warn;
	ui->say = tty_say;
	ui->ask = tty_ask;
	ui->debug = tty_debug;
	ui->ctx = &c->debug;
}
