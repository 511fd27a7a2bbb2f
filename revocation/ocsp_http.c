/*
 * The "ocsp" backend's HTTP exchange: OpenSSL's own HTTP client (OSSL_HTTP_REQ_CTX) driven
 * non-blocking over a socket connected here, so that the name lookup, the connection, the
 * request and the response all end by one deadline in milliseconds. The response is read as
 * one DER SEQUENCE whose length (and any Content-Length) is checked against the bound before
 * its content is read.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/httperr.h>

#include "mn_err.h"
#include "ocsp.h"

int64_t ocsp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Bytes from the network may end up in err: keep it one line of printable ASCII. */
static void sanitize(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

int ocsp_parse_url(const char *url, struct ocsp_url *u, char *err, size_t errlen)
{
	char *user = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *frag = NULL;
	struct ocsp_url t;
	const char *c;
	int ssl = 0, port_num = 0, r = MN_ERR_INVALID_ARG, n;

	for (c = url; *c != '\0'; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			snprintf(err, errlen, "the URL has a space or a non-ASCII character");
			goto out;
		}
	}
	if (c - url >= OCSP_MAX_URL) {
		snprintf(err, errlen, "the URL is longer than %d bytes", OCSP_MAX_URL - 1);
		goto out;
	}
	if (strncasecmp(url, "https://", 8) == 0) {
		snprintf(err, errlen,
		         "https:// is not supported (the response is signed: use http://)");
		r = MN_ERR_UNSUPPORTED;
		goto out;
	}
	if (strncasecmp(url, "http://", 7) != 0 ||
	    !OSSL_HTTP_parse_url(url, &ssl, &user, &host, &port, &port_num, &path, &query, &frag) ||
	    ssl || host == NULL || host[0] == '\0' || port_num < 1 || port_num > 65535) {
		snprintf(err, errlen, "not an http://host[:port]/path URL");
		goto out;
	}
	if (user != NULL && user[0] != '\0') {
		snprintf(err, errlen, "user information in the URL is not supported");
		goto out;
	}
	n = (int)strlen(host);
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') { /* an IPv6 address */
		memmove(host, host + 1, (size_t)n - 2);
		host[n - 2] = '\0';
	}
	if (strlen(host) >= sizeof(t.host)) {
		snprintf(err, errlen, "the host name is too long");
		goto out;
	}
	snprintf(t.host, sizeof(t.host), "%s", host);
	snprintf(t.port, sizeof(t.port), "%d", port_num);
	snprintf(t.hostport, sizeof(t.hostport), strchr(host, ':') != NULL ? "[%s]" : "%s", host);
	if (port_num != 80) {
		n = (int)strlen(t.hostport);
		snprintf(t.hostport + n, sizeof(t.hostport) - (size_t)n, ":%d", port_num);
	}
	n = snprintf(t.path, sizeof(t.path), "%s%s%s%s", path != NULL && path[0] == '/' ? "" : "/",
	             path != NULL ? path : "", query != NULL && query[0] != '\0' ? "?" : "",
	             query != NULL ? query : "");
	if (n < 0 || (size_t)n >= sizeof(t.path)) {
		snprintf(err, errlen, "the URL path is too long");
		goto out;
	}
	*u = t;
	r = MN_OK;
out:
	OPENSSL_free(user);
	OPENSSL_free(host);
	OPENSSL_free(port);
	OPENSSL_free(path);
	OPENSSL_free(query);
	OPENSSL_free(frag);
	return r;
}

/* Wait until fd is ready for events, or the deadline. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int n;

	for (;;) {
		left = deadline - ocsp_now_ms();
		if (left <= 0)
			return MN_ERR_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return MN_OK;
		if (n < 0 && errno != EINTR)
			return MN_ERR_IO;
	}
}

/* One asynchronous lookup. glibc writes into it until the lookup ends, so a lookup still
 * running at the deadline that cannot be cancelled keeps its memory (a small leak, once per
 * such timeout) rather than let glibc write into freed memory. */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char host[256];
	char port[8];
};

/* getaddrinfo_a: a resolver that does not answer cannot hold us past the deadline. */
static int resolve(const struct ocsp_url *u, int64_t deadline, struct addrinfo **res, char *err,
                   size_t errlen)
{
	struct lookup *l = calloc(1, sizeof(*l));
	struct gaicb *list[1];
	const struct gaicb *wait[1];
	struct timespec ts;
	int64_t left;
	int e;

	if (l == NULL)
		return MN_ERR_NOMEM;
	memcpy(l->host, u->host, sizeof(l->host));
	memcpy(l->port, u->port, sizeof(l->port));
	l->hints.ai_socktype = SOCK_STREAM;
	l->hints.ai_flags = AI_NUMERICSERV;
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	list[0] = &l->cb;
	wait[0] = &l->cb;
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0) {
		free(l);
		snprintf(err, errlen, "cannot start the name lookup");
		return MN_ERR_IO;
	}
	while ((e = gai_error(&l->cb)) == EAI_INPROGRESS && (left = deadline - ocsp_now_ms()) > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		gai_suspend(wait, 1, &ts);
	}
	if (e == EAI_INPROGRESS) {
		snprintf(err, errlen, "timed out looking up %.100s", u->host);
		if (gai_cancel(&l->cb) == EAI_NOTCANCELED)
			return MN_ERR_TIMEOUT; /* l stays with glibc */
		if ((e = gai_error(&l->cb)) != 0) {
			freeaddrinfo(e == EAI_CANCELED ? NULL : l->cb.ar_result);
			free(l);
			return MN_ERR_TIMEOUT;
		}
	}
	if (e != 0) {
		snprintf(err, errlen, "cannot resolve %.100s: %s", u->host, gai_strerror(e));
		free(l);
		return MN_ERR_IO;
	}
	*res = l->cb.ar_result;
	free(l);
	return MN_OK;
}

/* Connect to the first address that accepts; each attempt bounded by the deadline. */
static int connect_any(const struct ocsp_url *u, const struct addrinfo *ai, int64_t deadline,
                       int *ret_fd, char *err, size_t errlen)
{
	socklen_t sl;
	int fd = -1, e = ECONNREFUSED, r = MN_ERR_IO;

	for (; ai != NULL && r != MN_OK; ai = ai->ai_next) {
		if (fd >= 0)
			close(fd);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		            ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			r = MN_OK;
			break;
		}
		if ((e = errno) != EINPROGRESS)
			continue;
		if (wait_fd(fd, POLLOUT, deadline) != MN_OK) {
			e = ETIMEDOUT;
			break;
		}
		sl = sizeof(e);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == 0 && e == 0)
			r = MN_OK;
	}
	if (r == MN_OK) {
		*ret_fd = fd;
		return MN_OK;
	}
	if (fd >= 0)
		close(fd);
	if (e == ETIMEDOUT)
		snprintf(err, errlen, "timed out connecting to %.100s", u->hostport);
	else
		snprintf(err, errlen, "cannot connect to %.100s: %s", u->hostport, strerror(e));
	return e == ETIMEDOUT ? MN_ERR_TIMEOUT : MN_ERR_IO;
}

/* What OpenSSL's HTTP client said, as one line. */
static int http_error(size_t max_resp, char *err, size_t errlen)
{
	const char *data = NULL, *reason;
	int flags = 0;
	unsigned long e = ERR_peek_last_error_data(&data, &flags);

	if (e == 0) {
		snprintf(err, errlen, "HTTP exchange failed");
		return MN_ERR_IO;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_HTTP && ERR_GET_REASON(e) == HTTP_R_MAX_RESP_LEN_EXCEEDED) {
		snprintf(err, errlen, "the response is larger than max_response (%zu bytes)",
		         max_resp);
		return MN_ERR_TOO_LARGE;
	}
	reason = ERR_reason_error_string(e);
	if ((flags & ERR_TXT_STRING) == 0 || data == NULL)
		data = "";
	snprintf(err, errlen, "HTTP: %s%s%.120s%s", reason != NULL ? reason : "error",
	         data[0] != '\0' ? " (" : "", data, data[0] != '\0' ? ")" : "");
	sanitize(err);
	return MN_ERR_FORMAT;
}

static int exchange(BIO *bio, int fd, const struct ocsp_url *u, OCSP_REQUEST *req, size_t max_resp,
                    int64_t deadline, unsigned char **resp, size_t *resp_len, char *err,
                    size_t errlen)
{
	OSSL_HTTP_REQ_CTX *rctx = OSSL_HTTP_REQ_CTX_new(bio, bio, 0);
	const unsigned char *p = NULL;
	unsigned char *copy;
	long n;
	int r = MN_ERR_NOMEM, rv;

	if (rctx == NULL || !OSSL_HTTP_REQ_CTX_set_request_line(rctx, 1, NULL, NULL, u->path) ||
	    !OSSL_HTTP_REQ_CTX_add1_header(rctx, "Host", u->hostport) ||
	    !OSSL_HTTP_REQ_CTX_set_expected(rctx, "application/ocsp-response", 1, 0, 0) ||
	    !OSSL_HTTP_REQ_CTX_set1_req(rctx, "application/ocsp-request",
	                                ASN1_ITEM_rptr(OCSP_REQUEST), (const ASN1_VALUE *)req))
		goto out;
	OSSL_HTTP_REQ_CTX_set_max_response_length(rctx, (unsigned long)max_resp);
	while ((rv = OSSL_HTTP_REQ_CTX_nbio(rctx)) == -1) {
		r = wait_fd(fd, BIO_should_write(bio) ? POLLOUT : POLLIN, deadline);
		if (r != MN_OK) {
			snprintf(err, errlen, "%s waiting for %.100s",
			         r == MN_ERR_TIMEOUT ? "timed out" : "poll failed", u->hostport);
			goto out;
		}
	}
	if (rv != 1) {
		r = http_error(max_resp, err, errlen);
		goto out;
	}
	n = BIO_get_mem_data(OSSL_HTTP_REQ_CTX_get0_mem_bio(rctx), &p);
	if (n <= 0 || p == NULL || (size_t)n != OSSL_HTTP_REQ_CTX_get_resp_len(rctx) ||
	    (size_t)n > max_resp) {
		snprintf(err, errlen, "data after the DER response");
		r = MN_ERR_FORMAT;
		goto out;
	}
	if ((copy = OPENSSL_memdup(p, (size_t)n)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	*resp = copy;
	*resp_len = (size_t)n;
	r = MN_OK;
out:
	OSSL_HTTP_REQ_CTX_free(rctx);
	return r;
}

int ocsp_http_post(const struct ocsp_url *u, OCSP_REQUEST *req, size_t max_resp,
                   int64_t deadline_ms, unsigned char **resp, size_t *resp_len, char *err,
                   size_t errlen)
{
	static const struct timespec zero = {0, 0};
	struct addrinfo *ai = NULL;
	sigset_t pipe, old, pending;
	BIO *bio = NULL;
	int fd = -1, r;

	if ((r = resolve(u, deadline_ms, &ai, err, errlen)) != MN_OK ||
	    (r = connect_any(u, ai, deadline_ms, &fd, err, errlen)) != MN_OK)
		goto out;
	if ((bio = BIO_new_socket(fd, BIO_CLOSE)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	fd = -1;
	/* OpenSSL writes to the socket with write(): a responder that closes early must not
	 * kill the login with SIGPIPE. Block it for this thread, and drop one it raised. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, &old);
	r = exchange(bio, BIO_get_fd(bio, NULL), u, req, max_resp, deadline_ms, resp, resp_len, err,
	             errlen);
	if (!sigismember(&old, SIGPIPE) && sigpending(&pending) == 0 &&
	    sigismember(&pending, SIGPIPE))
		sigtimedwait(&pipe, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
	BIO_free(bio);
	if (fd >= 0)
		close(fd);
	if (ai != NULL)
		freeaddrinfo(ai);
	return r;
}
