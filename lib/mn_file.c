#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_file.h"

int mn_file_read_private(const char *path, size_t max, mode_t forbidden, char **ret,
                         size_t *ret_len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL, eb[128];
	size_t len = 0;
	ssize_t n;
	int fd, r = MN_ERR_IO;

	if (path == NULL || ret == NULL || ret_len == NULL)
		return MN_ERR_INVALID_ARG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			snprintf(err, errlen, "%s: no such file", path);
			r = MN_ERR_NOT_FOUND;
		} else if (e == ELOOP) {
			snprintf(err, errlen, "%s: is a symbolic link (refused)", path);
		} else {
			snprintf(err, errlen, "%s: %s", path, strerror_r(e, eb, sizeof(eb)));
		}
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file (refused)", path);
		goto out;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %lu, neither root nor uid %lu (refused)",
		         path, (unsigned long)st.st_uid, (unsigned long)geteuid());
		goto out;
	}
	if (st.st_mode & forbidden) {
		snprintf(err, errlen, "%s: %s by group or others (mode %04o, refused)", path,
		         forbidden & 044 ? "accessible" : "writable",
		         (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size < 0 || (size_t)st.st_size > max) {
		snprintf(err, errlen, "%s: larger than %zu KiB", path, max / 1024);
		r = MN_ERR_TOO_LARGE;
		goto out;
	}
	/* read one byte more than fstat said: a file that changes under us is noticed */
	if ((buf = malloc((size_t)st.st_size + 2)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror_r(errno, eb, sizeof(eb)));
			goto out;
		}
		if (n == 0 || (len += (size_t)n) > (size_t)st.st_size)
			break;
	}
	if (len != (size_t)st.st_size) {
		snprintf(err, errlen, "%s: changed while being read", path);
		goto out;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	r = MN_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}
