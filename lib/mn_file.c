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

static int write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int mn_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t errlen)
{
	char *tmp = NULL, *dir = NULL, *slash, eb[128];
	int fd = -1, dfd = -1, created = 0, renamed = 0, r;
	size_t plen;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL || path[0] == '\0' || (data == NULL && len > 0))
		return MN_ERR_INVALID_ARG;
	plen = strlen(path);
	if ((tmp = malloc(plen + 8)) == NULL || (dir = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		r = MN_ERR_NOMEM;
		goto out;
	}
	snprintf(tmp, plen + 8, "%s.XXXXXX", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	r = MN_ERR_IO;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s", path,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	created = 1;
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "%s: cannot write %s: %s", path, tmp,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "%s: cannot write %s: %s", path, tmp,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot replace: %s", path,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	renamed = 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		snprintf(err, errlen, "%s: saved, but cannot sync the directory %s: %s", path, dir,
		         strerror_r(errno, eb, sizeof(eb)));
		goto out;
	}
	r = MN_OK;
out:
	if (fd >= 0)
		close(fd);
	if (created && !renamed)
		unlink(tmp);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	return r;
}
