/* Reading the files only root (or the service's own user) may write: config, store, state. */
#ifndef MN_FILE_H
#define MN_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read a whole file that must be a regular file (no symlink), owned by root or the effective
 * uid, with none of the mode bits in forbidden (022: not writable by others; 077: private),
 * at most max bytes. *ret is NUL-terminated (allocated; the caller frees it). A missing file
 * is MN_ERR_NOT_FOUND ("no such file"); refusals are MN_ERR_IO or MN_ERR_TOO_LARGE with a
 * reason naming the path in err.
 */
int mn_file_read_private(const char *path, size_t max, mode_t forbidden, char **ret,
                         size_t *ret_len, char *err, size_t errlen);

/*
 * Replace PATH with len bytes of data atomically: a temporary file PATH.XXXXXX in the same
 * directory (mode), written and fsynced, renamed over PATH, then the directory fsynced.
 * On failure PATH is unchanged (or already replaced when only the directory sync failed),
 * no temporary file is left, and err names the path and the reason. MN_ERR_IO / _NOMEM.
 */
int mn_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err,
                         size_t errlen);

#endif
