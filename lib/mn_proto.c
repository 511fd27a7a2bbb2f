#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_proto.h"

static int known_type(int t)
{
	switch (t) {
	case MN_FR_INFO:
	case MN_FR_ERROR:
	case MN_FR_PROMPT:
	case MN_FR_DEBUG:
	case MN_FR_WARN:
	case MN_FR_RESULT:
	case MN_FR_ANSWER:
	case MN_FR_NOANSWER:
		return 1;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		/* MSG_NOSIGNAL: a dead peer must not SIGPIPE the PAM application */
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EPIPE ? MN_ERR_EOF : MN_ERR_IO;
		p += w;
		n -= (size_t)w;
	}
	return MN_OK;
}

int mn_proto_send(int fd, enum mn_frame type, const void *data, size_t len)
{
	unsigned char frame[3 + MN_PROTO_MAX];
	int r;

	if (!known_type((int)type) || len > MN_PROTO_MAX || (len > 0 && data == NULL))
		return MN_ERR_INVALID_ARG;
	frame[0] = (unsigned char)type;
	frame[1] = (unsigned char)(len >> 8);
	frame[2] = (unsigned char)len;
	if (len > 0)
		memcpy(frame + 3, data, len);
	r = write_all(fd, frame, 3 + len);
	explicit_bzero(frame, sizeof(frame)); /* answers carry PINs */
	return r;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read exactly n bytes before the deadline (-1: none). */
static int read_full(int fd, unsigned char *p, size_t n, long long deadline)
{
	while (n > 0) {
		struct pollfd pfd = {fd, POLLIN, 0};
		int t = -1, r;
		ssize_t got;

		if (deadline >= 0) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return MN_ERR_TIMEOUT;
			t = left > 0x7FFFFFFF ? 0x7FFFFFFF : (int)left;
		}
		r = poll(&pfd, 1, t);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return MN_ERR_IO;
		if (r == 0)
			return MN_ERR_TIMEOUT;
		got = read(fd, p, n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return MN_ERR_IO;
		if (got == 0)
			return MN_ERR_EOF;
		p += got;
		n -= (size_t)got;
	}
	return MN_OK;
}

int mn_proto_recv(int fd, int timeout_ms, enum mn_frame *ret_type, char *buf, size_t cap,
                  size_t *ret_len)
{
	unsigned char hdr[3];
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t len;
	int r;

	if (ret_type == NULL || buf == NULL || ret_len == NULL || cap < MN_PROTO_MAX + 1)
		return MN_ERR_INVALID_ARG;
	if ((r = read_full(fd, hdr, sizeof(hdr), deadline)) != MN_OK)
		return r;
	len = (size_t)hdr[1] << 8 | hdr[2];
	if (!known_type(hdr[0]) || len > MN_PROTO_MAX)
		return MN_ERR_FORMAT;
	if ((r = read_full(fd, (unsigned char *)buf, len, deadline)) != MN_OK)
		return r;
	buf[len] = '\0';
	*ret_type = (enum mn_frame)hdr[0];
	*ret_len = len;
	return MN_OK;
}
