/*
 * mynumber-sim: a virtual My Number card (JPKI AP + card-info AP) for pcscd's vpcd driver.
 *
 * sim_main.c      command line
 * sim_init.c      "init": a test PKI shaped like JPKI and card.conf
 * sim_state.c     card.conf and the persistent PIN state (atomic files)
 * sim_card.c      the card model: APDU dispatch, SELECT, READ BINARY, VERIFY, CHANGE
 * sim_jpki.c      JPKI AP files and COMPUTE SIGNATURE
 * sim_cardinfo.c  券面事項入力補助AP files
 * sim_vpcd.c      the vpcd TCP protocol, fault injection, APDU log
 * sim_crl.c       "crl": test CRLs issued by a card directory's CA
 */
#ifndef MN_SIM_H
#define MN_SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "mn_cardinfo.h"

#define SIM_DEFAULT_PORT 35963

enum sim_profile {
	SIM_PROFILE_CARD = 0,
	SIM_PROFILE_ANDROID,
	SIM_PROFILE_IPHONE,
	SIM_PROFILE_JUKI,
};

enum sim_pin_id {
	SIM_PIN_AUTH = 0, /* JPKI 0018 */
	SIM_PIN_SIGN,     /* JPKI 001B */
	SIM_PIN_INFO,     /* card-info 0011 */
	SIM_PIN_COUNT,
};

#define SIM_PIN_NONE (-1)
#define SIM_PIN_MAX  16

enum sim_pin_fmt {
	SIM_PIN_FMT_DIGITS4, /* exactly 4 ASCII digits */
	SIM_PIN_FMT_SIGN,    /* 6-16 characters A-Z 0-9 */
};

/* Constant facts about one PIN. */
struct sim_pin_info {
	const char *name; /* card.conf key and state file name */
	enum sim_pin_fmt fmt;
	int max_tries;
};

/* card.conf */
struct sim_conf {
	enum sim_profile profile;
	char pins[SIM_PIN_COUNT][SIM_PIN_MAX + 1];
	char token_serial[17];
	char my_number[13];
	struct mn_attrs attrs; /* name, address, birth, sex */
};

/* One PIN of the card: persistent value and counter, volatile security status. */
struct sim_pin {
	uint8_t value[SIM_PIN_MAX];
	size_t len;
	int tries;
	int changed;  /* value differs from card.conf: kept in the state file */
	int verified; /* security status of this session */
};

/* ---------------------------------------------------------------- sim_state.c */
int sim_profile_parse(const char *s, enum sim_profile *out);
const char *sim_profile_name(enum sim_profile p);
const struct sim_pin_info *sim_pin_info(enum sim_pin_id id);
/* 0 when pin[0..len) has the format, else MN_ERR_PIN_FORMAT. */
int sim_pin_check(enum sim_pin_fmt fmt, const uint8_t *pin, size_t len);
/* The My Number check digit ('0'..'9') of 11 digits. */
int sim_mynumber_check_digit(const char digits[11], char *out);

/* Parse card.conf strictly; errors are printed to stderr naming the line (never a value). */
int sim_conf_load(const char *path, struct sim_conf *out);
int sim_conf_write(const char *path, const struct sim_conf *conf);
void sim_conf_wipe(struct sim_conf *conf);

/* Write a file atomically: temp file, fsync, rename, fsync of the directory. */
int sim_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -m mode unless it exists as a directory. */
int sim_mkdir(const char *path, mode_t mode);

/*
 * The state file of one PIN in state_dir: "tries=N" and, once changed, "value=...".
 * Load: a missing file is a fresh card (value from card.conf, full counter) and is created.
 */
int sim_pin_state_load(const char *state_dir, enum sim_pin_id id, const char *conf_value,
                       struct sim_pin *out);
int sim_pin_state_save(const char *state_dir, enum sim_pin_id id, const struct sim_pin *pin);

/* ---------------------------------------------------------------- sim_card.c */
enum sim_ap {
	SIM_AP_NONE = 0,
	SIM_AP_JPKI,
	SIM_AP_CARDINFO,
	SIM_AP_COUNT,
};

enum sim_ef_kind {
	SIM_EF_BINARY,
	SIM_EF_KEY, /* private key: COMPUTE SIGNATURE after its PIN */
	SIM_EF_PIN, /* internal EF of a PIN: VERIFY, CHANGE REFERENCE DATA */
};

struct sim_ef {
	uint16_t fid;
	enum sim_ef_kind kind;
	int pin; /* BINARY: PIN needed to read (SIM_PIN_NONE: free); KEY/PIN: its PIN */
	uint8_t *data;
	size_t size;
	EVP_PKEY *key;
};

#define SIM_MAX_EFS 12

struct sim_app {
	int present;
	struct sim_ef efs[SIM_MAX_EFS];
	size_t n_efs;
};

struct sim_card {
	enum sim_profile profile;
	uint8_t atr[33];
	size_t atr_len;
	struct sim_app apps[SIM_AP_COUNT];
	struct sim_pin pins[SIM_PIN_COUNT];
	const char *state_dir; /* owned by the caller */
	int verbose;
	/* volatile: cleared by power off/on, reset and SELECT of an AP */
	enum sim_ap cur_ap;
	struct sim_ef *cur_ef;
	struct sim_wallet *wallet; /* the wallet profile (sim_wallet.h), else NULL */
};

/* Largest R-APDU the card produces: 256 data bytes + SW. */
#define SIM_RAPDU_MAX 258
/* Largest R-APDU of any profile (the wallet answers up to 4 KiB per APDU) */
#define SIM_RAPDU_BUF (4096 + 2)

/* Load DIR (card.conf, certificates, keys) and the state; profile < 0: the one in card.conf. */
int sim_card_load(const char *dir, const char *state_dir, int profile, struct sim_card **out);
void sim_card_free(struct sim_card **card);
/* Power off/on or reset: clear the volatile state (not the PIN counters). */
void sim_card_reset(struct sim_card *card);
/* Process one C-APDU; out needs SIM_RAPDU_MAX bytes. Always produces an R-APDU on success. */
int sim_card_apdu(struct sim_card *card, const uint8_t *in, size_t in_len, uint8_t *out,
                  size_t *out_len);
/* Add an EF to an AP (takes ownership of data and key on success). */
int sim_app_add_ef(struct sim_app *app, uint16_t fid, enum sim_ef_kind kind, int pin, uint8_t *data,
                   size_t size, EVP_PKEY *key);
/* The EF with this FID in the current AP, or NULL. */
struct sim_ef *sim_card_find_ef(struct sim_card *card, uint16_t fid);

/* ---------------------------------------------------------------- sim_jpki.c */
struct mn_capdu;

int sim_jpki_build(struct sim_card *card, const char *dir, const struct sim_conf *conf);
/*
 * Command handlers return the status word; response data (up to 256 bytes) goes to data
 * with its length in *data_len.
 */
uint16_t sim_jpki_compute_signature(struct sim_card *card, const struct mn_capdu *c, uint8_t *data,
                                    size_t *data_len);
/* 80 FC 00 00: the iPhone token's "last command" indicator. */
uint16_t sim_jpki_last_command(struct sim_card *card, const struct mn_capdu *c);
/* Read a PEM certificate / private key file. */
int sim_load_cert_der(const char *path, uint8_t **der, size_t *der_len);
int sim_load_key(const char *path, EVP_PKEY **out);
/* "DIR/name" into a fresh allocation. */
char *sim_path(const char *dir, const char *name);

/* ---------------------------------------------------------------- sim_cardinfo.c */
int sim_cardinfo_build(struct sim_card *card, const char *dir, const struct sim_conf *conf);

/* ---------------------------------------------------------------- sim_init.c */
struct sim_init_opts {
	enum sim_profile profile;
	const char *pins[SIM_PIN_COUNT];
	const char *ca_from; /* NULL: new CAs */
	int expired;
	const char *serial_hex; /* NULL: random */
	const char *cn;         /* NULL: random */
};

int sim_init(const char *dir, const struct sim_init_opts *opts);

/* ---------------------------------------------------------------- sim_crl.c */
#define SIM_CRL_MAX_REVOKE  64
#define SIM_CRL_MAX_ENTRIES 10000000L

struct sim_crl_opts {
	const char *revoke[SIM_CRL_MAX_REVOKE]; /* hex serials, or "self": DIR's leaf of the CA */
	size_t n_revoke;
	long entries; /* random 8-byte serials added */
	long crl_number;
	long this_update_days; /* relative to now */
	long next_update_days;
	int ca;                 /* 0 auth, 1 sign */
	const char *signer_dir; /* sign with this directory's CA (NULL: DIR's) */
	int der;                /* DER instead of PEM */
	long delta_base;        /* >= 0: a delta CRL (critical deltaCRLIndicator) on this base */
	const char *remove[SIM_CRL_MAX_REVOKE]; /* delta entries with reason removeFromCRL */
	size_t n_remove;
};

/* Write a v2 CRL (sha256WithRSA, CRL number, AKI, reason keyCompromise, date now-1h) to out. */
int sim_crl(const char *dir, const char *out, const struct sim_crl_opts *opts);

/* ---------------------------------------------------------------- sim_vpcd.c */
#define SIM_MAX_FAULTS 16

struct sim_fault {
	uint8_t ins;
	uint16_t sw;
};

struct sim_run_opts {
	const char *host;
	int port;
	long drop_after; /* 0: never */
	long delay_ms;
	long connect_timeout; /* seconds */
	int verbose;
	FILE *apdu_log; /* NULL: none */
	struct sim_fault faults[SIM_MAX_FAULTS];
	size_t n_faults;
};

/* Run until vpcd closes (0), *stop is set (0) or an error (negative, message printed). */
int sim_vpcd_run(struct sim_card *card, const struct sim_run_opts *opts,
                 volatile sig_atomic_t *stop);
/* 1 when host is a numeric loopback address (127.0.0.0/8 or ::1). */
int sim_host_is_loopback(const char *host);

#endif
