/* card.conf and the persistent PIN state of the simulator. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mn_err.h"
#include "mn_pin.h"
#include "sim.h"

#define CONF_MAX  16384
#define STATE_MAX 256

static const char *const profile_names[] = {"card", "android", "iphone", "juki"};

static const struct sim_pin_info pin_infos[SIM_PIN_COUNT] = {
    {"auth_pin", SIM_PIN_FMT_DIGITS4, 3},
    {"sign_pin", SIM_PIN_FMT_SIGN, 5},
    {"info_pin", SIM_PIN_FMT_DIGITS4, 3},
};

int sim_profile_parse(const char *s, enum sim_profile *out)
{
	size_t i;

	for (i = 0; i < sizeof(profile_names) / sizeof(profile_names[0]); i++) {
		if (strcmp(s, profile_names[i]) == 0) {
			*out = (enum sim_profile)i;
			return MN_OK;
		}
	}
	return MN_ERR_INVALID_ARG;
}

const char *sim_profile_name(enum sim_profile p)
{
	if ((size_t)p >= sizeof(profile_names) / sizeof(profile_names[0]))
		return "?";
	return profile_names[p];
}

const struct sim_pin_info *sim_pin_info(enum sim_pin_id id)
{
	return &pin_infos[id];
}

int sim_pin_check(enum sim_pin_fmt fmt, const uint8_t *pin, size_t len)
{
	uint8_t up[SIM_PIN_MAX];
	int r;

	if (fmt == SIM_PIN_FMT_DIGITS4)
		return mn_pin_check_digits4(pin, len);
	/* the card compares bytes: lower case is not of the format */
	if (len > sizeof(up))
		return MN_ERR_PIN_FORMAT;
	r = mn_pin_normalize_sign(pin, len, up, sizeof(up));
	if (r == MN_OK && memcmp(up, pin, len) != 0)
		r = MN_ERR_PIN_FORMAT;
	explicit_bzero(up, sizeof(up));
	return r == MN_OK ? MN_OK : MN_ERR_PIN_FORMAT;
}

int sim_mynumber_check_digit(const char digits[11], char *out)
{
	int sum = 0, n, p, rem;

	for (n = 1; n <= 11; n++) {
		p = digits[11 - n] - '0';
		if (p < 0 || p > 9)
			return MN_ERR_FORMAT;
		sum += p * (n <= 6 ? n + 1 : n - 5);
	}
	rem = sum % 11;
	*out = (char)('0' + (rem <= 1 ? 0 : 11 - rem));
	return MN_OK;
}

/* ---------------------------------------------------------------- files */

static int read_small_file(const char *path, char *buf, size_t cap, size_t *out_len)
{
	size_t n = 0;
	ssize_t k;
	int fd, r = MN_ERR_IO;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? MN_ERR_NOT_FOUND : MN_ERR_IO;
	for (;;) {
		if (n == cap) {
			r = MN_ERR_TOO_LARGE;
			goto out;
		}
		k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			goto out;
		if (k == 0)
			break;
		n += (size_t)k;
	}
	*out_len = n;
	r = MN_OK;
out:
	close(fd);
	return r;
}

int sim_mkdir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return MN_OK;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return MN_OK;
	return MN_ERR_IO;
}

static int fsync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd, r;

	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return MN_ERR_TOO_LARGE;
		memcpy(dir, path, n);
		dir[n] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return MN_ERR_IO;
	r = fsync(fd) == 0 ? MN_OK : MN_ERR_IO;
	close(fd);
	return r;
}

int sim_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[4096];
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t k;
	int fd, r = MN_ERR_IO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return MN_ERR_TOO_LARGE;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return MN_ERR_IO;
	if (fchmod(fd, mode) != 0)
		goto out;
	while (done < len) {
		k = write(fd, p + done, len - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto out;
		done += (size_t)k;
	}
	if (fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	r = fsync_parent(path);
out:
	if (fd >= 0)
		close(fd);
	if (r != MN_OK)
		unlink(tmp);
	return r;
}

/* ---------------------------------------------------------------- card.conf */

enum conf_key {
	K_PROFILE,
	K_AUTH_PIN,
	K_SIGN_PIN,
	K_INFO_PIN,
	K_TOKEN_SERIAL,
	K_MY_NUMBER,
	K_NAME,
	K_ADDRESS,
	K_BIRTH,
	K_SEX,
	K_COUNT
};

static const char *const conf_keys[K_COUNT] = {
    "profile",   "auth_pin", "sign_pin", "info_pin", "token_serial",
    "my_number", "name",     "address",  "birth",    "sex",
};

static int all_digits(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int valid_birth(const char *s)
{
	int m, d;

	if (!all_digits(s, 8))
		return 0;
	m = (s[4] - '0') * 10 + (s[5] - '0');
	d = (s[6] - '0') * 10 + (s[7] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int valid_serial(const char *s)
{
	size_t i;

	if (strlen(s) != 16)
		return 0;
	for (i = 0; i < 16; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			return 0;
	return 1;
}

static int valid_text(const char *s, size_t cap)
{
	size_t n = strlen(s);

	return n > 0 && n < cap && mn_utf8_valid((const uint8_t *)s, n);
}

static int valid_mynumber(const char *s)
{
	char c;

	return all_digits(s, 12) && sim_mynumber_check_digit(s, &c) == MN_OK && c == s[11];
}

/* Validate and store one value; returns a description of the expected format on error. */
static const char *conf_set(struct sim_conf *c, enum conf_key k, const char *v)
{
	size_t n = strlen(v);

	switch (k) {
	case K_PROFILE:
		return sim_profile_parse(v, &c->profile) == MN_OK ? NULL
		                                                  : "card, android, iphone or juki";
	case K_AUTH_PIN:
	case K_SIGN_PIN:
	case K_INFO_PIN: {
		enum sim_pin_id id = (enum sim_pin_id)(k - K_AUTH_PIN);
		if (sim_pin_check(pin_infos[id].fmt, (const uint8_t *)v, n) != MN_OK)
			return pin_infos[id].fmt == SIM_PIN_FMT_DIGITS4 ? "4 digits"
			                                                : "6-16 characters A-Z 0-9";
		memcpy(c->pins[id], v, n + 1);
		return NULL;
	}
	case K_TOKEN_SERIAL:
		if (!valid_serial(v))
			return "16 printable ASCII characters";
		memcpy(c->token_serial, v, n + 1);
		return NULL;
	case K_MY_NUMBER:
		if (!valid_mynumber(v))
			return "12 digits with a valid check digit";
		memcpy(c->my_number, v, n + 1);
		return NULL;
	case K_NAME:
		if (!valid_text(v, sizeof(c->attrs.name)))
			return "non-empty UTF-8, under 256 bytes";
		memcpy(c->attrs.name, v, n + 1);
		return NULL;
	case K_ADDRESS:
		if (!valid_text(v, sizeof(c->attrs.address)))
			return "non-empty UTF-8, under 768 bytes";
		memcpy(c->attrs.address, v, n + 1);
		return NULL;
	case K_BIRTH:
		if (!valid_birth(v))
			return "YYYYMMDD";
		memcpy(c->attrs.birth, v, 9);
		return NULL;
	case K_SEX:
		if (n != 1 || strchr("0129", v[0]) == NULL)
			return "0, 1, 2 or 9";
		c->attrs.sex = v[0];
		return NULL;
	case K_COUNT:
		break;
	}
	return "?";
}

static int conf_line(struct sim_conf *c, int seen[K_COUNT], const char *path, int lineno,
                     char *line)
{
	char *eq = strchr(line, '=');
	const char *why;
	int k;

	if (eq == NULL) {
		fprintf(stderr, "mynumber-sim: %s:%d: expected key=value\n", path, lineno);
		return MN_ERR_FORMAT;
	}
	*eq = '\0';
	for (k = 0; k < K_COUNT; k++)
		if (strcmp(line, conf_keys[k]) == 0)
			break;
	if (k == K_COUNT) {
		/* name the key only when it cannot be a mistyped secret */
		if (strlen(line) <= 32 &&
		    strspn(line, "abcdefghijklmnopqrstuvwxyz_") == strlen(line))
			fprintf(stderr, "mynumber-sim: %s:%d: unknown key '%s'\n", path, lineno,
			        line);
		else
			fprintf(stderr, "mynumber-sim: %s:%d: unknown key\n", path, lineno);
		return MN_ERR_FORMAT;
	}
	if (seen[k]) {
		fprintf(stderr, "mynumber-sim: %s:%d: duplicate key '%s'\n", path, lineno, line);
		return MN_ERR_FORMAT;
	}
	seen[k] = 1;
	if ((why = conf_set(c, (enum conf_key)k, eq + 1)) != NULL) {
		fprintf(stderr, "mynumber-sim: %s:%d: bad value for '%s' (expected %s)\n", path,
		        lineno, line, why);
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}

int sim_conf_load(const char *path, struct sim_conf *out)
{
	struct sim_conf c;
	int seen[K_COUNT] = {0}, lineno = 0, k, r;
	size_t len = 0;
	char *buf, *line, *nl;

	memset(&c, 0, sizeof(c));
	if ((buf = malloc(CONF_MAX + 1)) == NULL)
		return MN_ERR_NOMEM;
	r = read_small_file(path, buf, CONF_MAX, &len);
	if (r != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot read %s: %s\n", path,
		        r == MN_ERR_NOT_FOUND ? "no such file (run 'mynumber-sim init' first)"
		                              : mn_strerror(r));
		goto out;
	}
	buf[len] = '\0';
	r = MN_ERR_FORMAT;
	if (memchr(buf, '\0', len) != NULL) {
		fprintf(stderr, "mynumber-sim: %s: contains a NUL byte\n", path);
		goto out;
	}
	for (line = buf; *line != '\0'; line = nl + 1) {
		lineno++;
		nl = strchr(line, '\n');
		if (nl == NULL) {
			fprintf(stderr, "mynumber-sim: %s:%d: missing newline\n", path, lineno);
			goto out;
		}
		*nl = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (conf_line(&c, seen, path, lineno, line) != MN_OK)
			goto out;
	}
	for (k = 0; k < K_COUNT; k++) {
		if (!seen[k]) {
			fprintf(stderr, "mynumber-sim: %s: missing key '%s'\n", path, conf_keys[k]);
			goto out;
		}
	}
	*out = c;
	r = MN_OK;
out:
	explicit_bzero(buf, CONF_MAX + 1);
	free(buf);
	explicit_bzero(&c, sizeof(c));
	return r;
}

int sim_conf_write(const char *path, const struct sim_conf *c)
{
	char buf[CONF_MAX];
	int n, r;

	n = snprintf(buf, sizeof(buf),
	             "# mynumber-sim test card (test data only)\n"
	             "profile=%s\nauth_pin=%s\nsign_pin=%s\ninfo_pin=%s\ntoken_serial=%s\n"
	             "my_number=%s\nname=%s\naddress=%s\nbirth=%s\nsex=%c\n",
	             sim_profile_name(c->profile), c->pins[SIM_PIN_AUTH], c->pins[SIM_PIN_SIGN],
	             c->pins[SIM_PIN_INFO], c->token_serial, c->my_number, c->attrs.name,
	             c->attrs.address, c->attrs.birth, c->attrs.sex);
	if (n < 0 || (size_t)n >= sizeof(buf))
		r = MN_ERR_TOO_LARGE;
	else
		r = sim_write_file_atomic(path, buf, (size_t)n, 0600);
	explicit_bzero(buf, sizeof(buf));
	return r;
}

void sim_conf_wipe(struct sim_conf *conf)
{
	explicit_bzero(conf, sizeof(*conf));
}

/* ---------------------------------------------------------------- PIN state */

static int state_parse(char *buf, enum sim_pin_id id, struct sim_pin *p)
{
	char *line, *nl, *end;
	int have_tries = 0;
	long t;
	size_t n;

	for (line = buf; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL)
			return MN_ERR_FORMAT;
		*nl = '\0';
		if (strncmp(line, "tries=", 6) == 0 && !have_tries) {
			errno = 0;
			t = strtol(line + 6, &end, 10);
			if (errno != 0 || end == line + 6 || *end != '\0' || t < 0 ||
			    t > pin_infos[id].max_tries)
				return MN_ERR_FORMAT;
			p->tries = (int)t;
			have_tries = 1;
		} else if (strncmp(line, "value=", 6) == 0 && !p->changed) {
			n = strlen(line + 6);
			if (sim_pin_check(pin_infos[id].fmt, (uint8_t *)line + 6, n) != MN_OK)
				return MN_ERR_FORMAT;
			memcpy(p->value, line + 6, n);
			p->len = n;
			p->changed = 1;
		} else {
			return MN_ERR_FORMAT;
		}
	}
	return have_tries ? MN_OK : MN_ERR_FORMAT;
}

static char *state_path(const char *dir, enum sim_pin_id id)
{
	return sim_path(dir, pin_infos[id].name);
}

int sim_pin_state_load(const char *state_dir, enum sim_pin_id id, const char *conf_value,
                       struct sim_pin *out)
{
	char buf[STATE_MAX + 1];
	struct sim_pin p;
	char *path;
	size_t len;
	int r;

	memset(&p, 0, sizeof(p));
	p.len = strlen(conf_value);
	if (p.len > sizeof(p.value))
		return MN_ERR_INTERNAL;
	memcpy(p.value, conf_value, p.len);
	p.tries = pin_infos[id].max_tries;
	if ((path = state_path(state_dir, id)) == NULL)
		return MN_ERR_NOMEM;
	r = read_small_file(path, buf, STATE_MAX, &len);
	if (r == MN_ERR_NOT_FOUND) {
		r = sim_pin_state_save(state_dir, id, &p);
		if (r != MN_OK)
			fprintf(stderr, "mynumber-sim: cannot write %s: %s\n", path,
			        mn_strerror(r));
	} else if (r != MN_OK) {
		fprintf(stderr, "mynumber-sim: cannot read %s: %s\n", path, mn_strerror(r));
	} else {
		buf[len] = '\0';
		if (memchr(buf, '\0', len) != NULL || state_parse(buf, id, &p) != MN_OK) {
			fprintf(stderr,
			        "mynumber-sim: %s: malformed (expected 'tries=N' and optionally "
			        "'value=...' lines)\n",
			        path);
			r = MN_ERR_FORMAT;
		}
	}
	if (r == MN_OK)
		*out = p;
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(&p, sizeof(p));
	free(path);
	return r;
}

int sim_pin_state_save(const char *state_dir, enum sim_pin_id id, const struct sim_pin *pin)
{
	char buf[STATE_MAX];
	char *path;
	int n, r;

	if (pin->changed)
		n = snprintf(buf, sizeof(buf), "tries=%d\nvalue=%.*s\n", pin->tries, (int)pin->len,
		             (const char *)pin->value);
	else
		n = snprintf(buf, sizeof(buf), "tries=%d\n", pin->tries);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		r = MN_ERR_INTERNAL;
		goto out;
	}
	if ((path = state_path(state_dir, id)) == NULL) {
		r = MN_ERR_NOMEM;
		goto out;
	}
	r = sim_write_file_atomic(path, buf, (size_t)n, 0600);
	free(path);
out:
	explicit_bzero(buf, sizeof(buf));
	return r;
}
