/*
 * The vpcd protocol, card side: connect to pcscd's vpcd driver (it listens), then answer
 * frames of 2-byte big-endian length + payload. 1-byte payloads are control (00 power off,
 * 01 power on, 02 reset: no reply; 04: reply the ATR); anything else is a C-APDU.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mn_err.h"
#include "sim.h"
#include "sim_wallet.h"

#define FRAME_MAX  0xFFFF
#define POLL_MS    200
#define RETRY_MS   100
#define CTRL_OFF   0x00
#define CTRL_ON    0x01
#define CTRL_RESET 0x02
#define CTRL_ATR   0x04

struct conn {
	int fd;
	int ended; /* vpcd closed the connection, or a stop was asked */
	const struct sim_run_opts *opts;
	volatile sig_atomic_t *stop;
};

int sim_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms milliseconds in short slices, returning early when a stop is asked. */
static void sleep_ms(long ms, volatile sig_atomic_t *stop)
{
	struct timespec ts;
	long slice;

	while (ms > 0 && !*stop) {
		slice = ms < RETRY_MS ? ms : RETRY_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = slice * 1000000L;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

static int make_addr(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return MN_OK;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return MN_OK;
	}
	return MN_ERR_INVALID_ARG;
}

/* Retry every 100 ms until connect_timeout; *fd stays -1 when a stop was asked. */
static int connect_vpcd(const struct sim_run_opts *o, volatile sig_atomic_t *stop, int *fd_out)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	long deadline = now_ms() + o->connect_timeout * 1000;
	int fd, err, one = 1;

	if (make_addr(o->host, o->port, &ss, &sslen) != MN_OK)
		return MN_ERR_INVALID_ARG;
	for (;;) {
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fprintf(stderr, "mynumber-sim: socket: %s\n", strerror(errno));
			return MN_ERR_IO;
		}
		if (connect(fd, (struct sockaddr *)&ss, sslen) == 0)
			break;
		err = errno;
		close(fd);
		if (*stop)
			return MN_OK;
		if (now_ms() >= deadline) {
			fprintf(stderr,
			        "mynumber-sim: cannot connect to vpcd at %s port %d within %ld s: "
			        "%s (is pcscd running with the vpcd reader?)\n",
			        o->host, o->port, o->connect_timeout, strerror(err));
			return MN_ERR_IO;
		}
		sleep_ms(RETRY_MS, stop);
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
		fprintf(stderr, "mynumber-sim: TCP_NODELAY: %s\n", strerror(errno));
		close(fd);
		return MN_ERR_IO;
	}
	*fd_out = fd;
	return MN_OK;
}

/* Receive exactly n bytes. Orderly close, reset or a stop set c->ended. */
static int recv_all(struct conn *c, uint8_t *buf, size_t n)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	size_t got = 0;
	ssize_t k;
	int one = 1, pr;

	while (got < n) {
		if (*c->stop) {
			c->ended = 1;
			return MN_OK;
		}
		pr = poll(&pfd, 1, POLL_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return MN_ERR_IO;
		if (pr == 0)
			continue;
		k = recv(c->fd, buf + got, n - got, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0 || (k < 0 && errno == ECONNRESET)) {
			c->ended = 1;
			return MN_OK;
		}
		if (k < 0) {
			fprintf(stderr, "mynumber-sim: recv: %s\n", strerror(errno));
			return MN_ERR_IO;
		}
		/* Linux clears quick-ack mode by itself: set it again after every receive */
		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		got += (size_t)k;
	}
	return MN_OK;
}

/* Length + payload in one send() so that Nagle and delayed ACKs never split a reply. */
static int send_frame(struct conn *c, const uint8_t *payload, size_t len)
{
	uint8_t buf[2 + SIM_RAPDU_BUF + 64];
	size_t done = 0, total = len + 2;
	ssize_t k;

	if (len > sizeof(buf) - 2)
		return MN_ERR_INTERNAL;
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, payload, len);
	while (done < total) {
		k = send(c->fd, buf + done, total - done, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			c->ended = 1;
			return MN_OK;
		}
		if (k < 0) {
			fprintf(stderr, "mynumber-sim: send: %s\n", strerror(errno));
			return MN_ERR_IO;
		}
		done += (size_t)k;
	}
	return MN_OK;
}

static void log_hex(FILE *f, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02X", b[i]);
}

/* "> <C-APDU>"; VERIFY and CHANGE REFERENCE DATA keep only the header and Lc. */
static void log_capdu(FILE *f, const uint8_t *apdu, size_t len)
{
	int secret = len >= 2 && (apdu[1] == 0x20 || apdu[1] == 0x24);

	fputs("> ", f);
	if (secret && len > 5) {
		log_hex(f, apdu, 5);
		fputs(" <redacted>", f);
	} else {
		log_hex(f, apdu, len);
	}
	fputc('\n', f);
	fflush(f);
}

static void log_rapdu(FILE *f, const uint8_t *rapdu, size_t len)
{
	fprintf(f, "< %02X%02X %zu bytes\n", rapdu[len - 2], rapdu[len - 1], len - 2);
	fflush(f);
}

static int find_fault(const struct sim_run_opts *o, const uint8_t *apdu, size_t len, uint16_t *sw)
{
	size_t i;

	if (len < 2)
		return 0;
	for (i = 0; i < o->n_faults; i++) {
		if (o->faults[i].ins == apdu[1]) {
			*sw = o->faults[i].sw;
			return 1;
		}
	}
	return 0;
}

static int on_apdu(struct conn *c, struct sim_card *card, const uint8_t *apdu, size_t len)
{
	const struct sim_run_opts *o = c->opts;
	uint8_t out[SIM_RAPDU_BUF];
	size_t out_len = 0;
	uint16_t sw;
	int r;

	if (o->apdu_log != NULL)
		log_capdu(o->apdu_log, apdu, len);
	if (find_fault(o, apdu, len, &sw)) {
		out[0] = (uint8_t)(sw >> 8);
		out[1] = (uint8_t)sw;
		out_len = 2;
	} else if (card->wallet != NULL) {
		r = sim_wallet_apdu(card->wallet, apdu, len, out, &out_len);
		if (r == MN_ERR_TOKEN_REMOVED) { /* the phone left: vpcd sees the card go */
			c->ended = 1;
			return MN_OK;
		}
		if (r != MN_OK)
			return r;
	} else if ((r = sim_card_apdu(card, apdu, len, out, &out_len)) != MN_OK) {
		return r;
	}
	if (o->delay_ms > 0)
		sleep_ms(o->delay_ms, c->stop);
	if ((r = send_frame(c, out, out_len)) != MN_OK)
		return r;
	if (o->apdu_log != NULL)
		log_rapdu(o->apdu_log, out, out_len);
	if (o->verbose)
		fprintf(stderr, "mynumber-sim: APDU INS %02X -> %02X%02X, %zu bytes\n",
		        len >= 2 ? apdu[1] : 0, out[out_len - 2], out[out_len - 1], out_len - 2);
	return MN_OK;
}

static int on_control(struct conn *c, struct sim_card *card, uint8_t ctrl)
{
	static const char *const names[] = {"power off", "power on", "reset"};

	if (ctrl == CTRL_ATR) {
		if (c->opts->verbose)
			fprintf(stderr, "mynumber-sim: ATR requested\n");
		return send_frame(c, card->atr, card->atr_len);
	}
	if (ctrl == CTRL_OFF || ctrl == CTRL_ON || ctrl == CTRL_RESET) {
		sim_card_reset(card);
		if (c->opts->verbose)
			fprintf(stderr, "mynumber-sim: %s\n", names[ctrl]);
	} else if (c->opts->verbose) {
		fprintf(stderr, "mynumber-sim: ignoring unknown control byte %02X\n", ctrl);
	}
	return MN_OK;
}

int sim_vpcd_run(struct sim_card *card, const struct sim_run_opts *opts,
                 volatile sig_atomic_t *stop)
{
	static const char *const why[] = {"vpcd closed the connection", "stopping"};
	uint8_t hdr[2], buf[FRAME_MAX];
	struct conn c = {.fd = -1, .opts = opts, .stop = stop};
	long answered = 0;
	size_t len;
	int r;

	if ((r = connect_vpcd(opts, stop, &c.fd)) != MN_OK || c.fd < 0)
		return r;
	if (opts->verbose)
		fprintf(stderr, "mynumber-sim: connected to vpcd at %s port %d (profile %s)\n",
		        opts->host, opts->port, sim_profile_name(card->profile));
	sim_card_reset(card);
	for (;;) {
		if ((r = recv_all(&c, hdr, 2)) != MN_OK || c.ended)
			break;
		len = (size_t)hdr[0] << 8 | hdr[1];
		if ((r = recv_all(&c, buf, len)) != MN_OK || c.ended)
			break;
		if (len == 1)
			r = on_control(&c, card, buf[0]);
		else if (len > 1)
			r = on_apdu(&c, card, buf, len);
		if (r != MN_OK || c.ended)
			break;
		if (len > 1 && opts->drop_after > 0 && ++answered >= opts->drop_after) {
			if (opts->verbose)
				fprintf(stderr,
				        "mynumber-sim: dropping the connection after %ld "
				        "APDUs\n",
				        answered);
			break;
		}
	}
	if (opts->verbose && c.ended)
		fprintf(stderr, "mynumber-sim: %s\n", why[*stop ? 1 : 0]);
	close(c.fd);
	return r;
}
