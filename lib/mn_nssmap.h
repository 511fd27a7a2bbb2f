/*
 * The managed-account map: the world-readable file libnss_mynumber.so.2 answers passwd and
 * group lookups from. Published by `mynumber` from the root-only enrollment store through
 * mn_nssmap_write(); read by the NSS module and by mn_nssmap_check() (libc only).
 *
 * File format (version 1). All integers are unsigned little-endian; nothing is aligned
 * (readers decode bytes). The file is owned by root (or the writer's euid), mode 0644, a
 * regular file (never a symlink), at most MN_NSSMAP_MAX_SIZE bytes, replaced atomically.
 *
 * Header, 64 bytes at offset 0:
 *
 *   off size field
 *    0   8   magic        "MNNSSMAP"
 *    8   4   version      1
 *   12   4   flags        0 (any other bit: the map is refused)
 *   16   8   expires      0 = never; else unix time after which the map is not served
 *   24   8   checksum     64-bit FNV-1a over the whole file with these 8 bytes read as 0
 *   32   4   total_size   the file size
 *   36   4   n_users
 *   40   4   n_groups
 *   44   4   users_off    n_users user records (32 bytes), sorted by name (bytewise, strictly)
 *   48   4   uids_off     n_users u32 user record indices, sorted by uid (strictly)
 *   52   4   groups_off   n_groups group records (16 bytes), sorted by name (strictly)
 *   56   4   gids_off     n_groups u32 group record indices, sorted by gid (strictly)
 *   60   4   data_off     the data area: [data_off, total_size)
 *
 *   64 <= each table, every table ends at or before data_off, no two tables overlap,
 *   data_off <= total_size.
 *
 * User record, 32 bytes:
 *    0 name  4 uid  8 gid  12 gecos  16 home  20 shell  24 groups  28 reserved (0)
 * Group record, 16 bytes:
 *    0 name  4 gid  8 members  12 reserved (0)
 *
 * name, gecos, home, shell: offsets into the data area of NUL-terminated strings that end
 * inside it. groups, members: offsets into the data area of a list: a u32 count and then
 * count u32 values. A user's groups list holds the gids of every group naming the user as a
 * member, ascending, without duplicates (the writer computes it; initgroups reads it). A
 * group's members list holds data-area offsets of member names, each equal to the name
 * offset of a user record, without duplicates, in the order the publisher gave them.
 *
 * Values: names match [A-Za-z0-9_][A-Za-z0-9_.-]{0,31}; uid and gid are 1..4294967294 and
 * never 65534 (so never root and never nobody); gecos is 0..MN_NSSMAP_GECOS_MAX bytes
 * without ':' and without control characters (bytes < 0x20 and 0x7F); home and shell are
 * absolute paths of 1..MN_NSSMAP_PATH_MAX bytes with the same excluded bytes.
 *
 * The NSS module checks the header and table bounds when it maps the file, and then every
 * offset, count, string and value it touches in a lookup; the checksum and the full
 * structure (sortedness, uniqueness, references, every value) are checked by
 * mn_nssmap_verify() / mn_nssmap_check(), which the publisher runs.
 */
#ifndef MN_NSSMAP_H
#define MN_NSSMAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#ifdef MN_STATEDIR
#define MN_NSSMAP_DEFAULT_PATH MN_STATEDIR "/nss.db"
#else
#define MN_NSSMAP_DEFAULT_PATH "/var/lib/mynumber/nss.db"
#endif
#define MN_NSSMAP_ENV        "MYNUMBER_NSS_DB"
#define MN_NSSMAP_MAGIC      "MNNSSMAP"
#define MN_NSSMAP_VERSION    1u
#define MN_NSSMAP_HDR_SIZE   64u
#define MN_NSSMAP_USER_SIZE  32u
#define MN_NSSMAP_GROUP_SIZE 16u
#define MN_NSSMAP_MAX_SIZE   (256u * 1024 * 1024)
#define MN_NSSMAP_NAME_MAX   32
#define MN_NSSMAP_GECOS_MAX  1023
#define MN_NSSMAP_PATH_MAX   4095

struct mn_nss_user {
	const char *name;  /* [A-Za-z0-9_][A-Za-z0-9_.-]{0,31} (same rule as the store's user) */
	uint32_t uid, gid; /* 1..4294967294, never 0, never 65534 */
	const char *gecos; /* may be ""; no ':', no control characters */
	const char *home;  /* absolute path, no ':' or control characters */
	const char *shell; /* absolute path, no ':' or control characters */
};

struct mn_nss_group {
	const char *name; /* same rule as user names */
	uint32_t gid;
	const char *const *members; /* user names (must be users in the map) */
	size_t n_members;
};

/*
 * Write the map to PATH atomically, mode 0644. expires: 0 = never, else unix time after which
 * the module answers NSS_STATUS_UNAVAIL (used for maps built from an LDAP directory).
 * MN_ERR_FORMAT with a reason in err for an invalid or duplicate name/uid/gid or an unknown
 * or repeated member, MN_ERR_INVALID_ARG for NULL arguments, MN_ERR_TOO_LARGE when the map
 * would exceed MN_NSSMAP_MAX_SIZE, MN_ERR_NOMEM, MN_ERR_IO for I/O.
 */
int mn_nssmap_write(const char *path, const struct mn_nss_user *users, size_t n_users,
                    const struct mn_nss_group *groups, size_t n_groups, time_t expires, char *err,
                    size_t errlen);

/*
 * Build the map in memory (what mn_nssmap_write() writes): *ret is allocated (caller frees).
 * Same errors as mn_nssmap_write() except MN_ERR_IO.
 */
int mn_nssmap_build(const struct mn_nss_user *users, size_t n_users,
                    const struct mn_nss_group *groups, size_t n_groups, time_t expires,
                    unsigned char **ret, size_t *ret_len, char *err, size_t errlen);

/*
 * Open+validate a map (used by `mynumber` to report a clear error for a corrupt map): the
 * file checks of mn_nssmap_map_file() and all of mn_nssmap_verify(). Expiry is reported in
 * *ret_expires, not treated as an error. Any ret_ may be NULL.
 */
int mn_nssmap_check(const char *path, size_t *ret_users, size_t *ret_groups, time_t *ret_expires,
                    char *err, size_t errlen);

/* ---------------------------------------------------------------- reader (libc only) */

/* A map in memory: a bounds-checked view of the header. */
struct mn_nssmap {
	const unsigned char *base;
	size_t size;
	uint64_t expires;
	uint32_t n_users, n_groups;
	uint32_t users_off, uids_off, groups_off, gids_off, data_off;
};

/* A user as the map holds it: the strings point into the map. */
struct mn_nssmap_pw {
	const char *name, *gecos, *home, *shell;
	size_t name_len, gecos_len, home_len, shell_len;
	uint32_t uid, gid;
	uint32_t groups; /* data-area offset of the supplementary gid list */
	uint32_t n_groups;
};

struct mn_nssmap_gr {
	const char *name;
	size_t name_len;
	uint32_t gid;
	uint32_t members; /* data-area offset of the member list */
	uint32_t n_members;
};

/*
 * Check the header and the table bounds of size bytes at base (O(1)): MN_ERR_TRUNCATED,
 * MN_ERR_FORMAT (bad magic, flags, offsets, counts), MN_ERR_UNSUPPORTED (version).
 */
int mn_nssmap_open_mem(struct mn_nssmap *m, const void *base, size_t size, char *err,
                       size_t errlen);

/* The whole map: checksum, sortedness, uniqueness, every record, string and list. */
int mn_nssmap_verify(const struct mn_nssmap *m, char *err, size_t errlen);

/* 1 when the map has an expiry time and now is after it. */
int mn_nssmap_expired(const struct mn_nssmap *m, time_t now);

/*
 * Open PATH (O_NOFOLLOW, O_CLOEXEC), require a regular file owned by root or the euid, not
 * writable by group or others, at most MN_NSSMAP_MAX_SIZE, map it read-only and check its
 * header (mn_nssmap_open_mem). *st is the file's fstat. MN_ERR_NOT_FOUND when missing,
 * MN_ERR_IO for a refusal or an I/O error (with errno in *ret_errno when not NULL), or an
 * error of mn_nssmap_open_mem(). mn_nssmap_unmap() releases it.
 */
int mn_nssmap_map_file(const char *path, struct mn_nssmap *m, struct stat *st, int *ret_errno,
                       char *err, size_t errlen);
void mn_nssmap_unmap(struct mn_nssmap *m);

/* The checksum of a map image: FNV-1a 64 with bytes 24..31 (the checksum field) read as 0. */
uint64_t mn_nssmap_checksum(const unsigned char *p, size_t n);

/* 1 when s is a valid user or group name. */
int mn_nssmap_name_ok(const char *s);

/*
 * Lookups: 0 and *pw filled, MN_ERR_NOT_FOUND, or MN_ERR_FORMAT when anything touched is
 * corrupt. *_at take the position in uid (gid) order, for enumeration.
 */
int mn_nssmap_user_by_name(const struct mn_nssmap *m, const char *name, struct mn_nssmap_pw *pw);
int mn_nssmap_user_by_uid(const struct mn_nssmap *m, uint32_t uid, struct mn_nssmap_pw *pw);
int mn_nssmap_user_at(const struct mn_nssmap *m, uint32_t pos, struct mn_nssmap_pw *pw);
int mn_nssmap_group_by_name(const struct mn_nssmap *m, const char *name, struct mn_nssmap_gr *gr);
int mn_nssmap_group_by_gid(const struct mn_nssmap *m, uint32_t gid, struct mn_nssmap_gr *gr);
int mn_nssmap_group_at(const struct mn_nssmap *m, uint32_t pos, struct mn_nssmap_gr *gr);
/* Member i (< gr->n_members) of a group: its name and length. 0 or MN_ERR_FORMAT. */
int mn_nssmap_group_member(const struct mn_nssmap *m, const struct mn_nssmap_gr *gr, uint32_t i,
                           const char **name, size_t *len);
/* Supplementary gid i (< pw->n_groups) of a user. 0 or MN_ERR_FORMAT. */
int mn_nssmap_user_group(const struct mn_nssmap *m, const struct mn_nssmap_pw *pw, uint32_t i,
                         uint32_t *gid);

#endif
