/*
 * The warm path of a login: when the card that made the last verified login is still in the
 * same reader, untouched since (pcsc-lite counts insertions and removals per reader), the
 * login needs no PKCS#11 enumeration: six APDUs in one PC/SC transaction (select AP, select
 * PIN EF, tries, VERIFY, select key EF, sign), then a card reset clears its security status.
 */
#ifndef MN_PCSC_H
#define MN_PCSC_H

#include <stddef.h>
#include <stdint.h>

#define MN_ATR_MAX 33

/* What identifies one insertion of a card in a reader. */
struct mn_insertion {
	char reader[128];
	unsigned events; /* pcsc-lite's event counter of the reader */
	unsigned char atr[MN_ATR_MAX];
	size_t atr_len;
};

/*
 * The current insertion in reader (or, when reader is "", in the first reader holding a
 * card). MN_ERR_NO_READER without pcscd/readers, MN_ERR_NO_TOKEN when no card is present.
 */
int mn_pcsc_insertion(const char *reader, struct mn_insertion *ret);

struct mn_pcsc;

/* Connect (shared) and begin a transaction: nobody else talks to the card until close. */
int mn_pcsc_open(const char *reader, struct mn_pcsc **ret);
/* End the transaction and disconnect; reset != 0 resets the card (clears its PIN status). */
void mn_pcsc_close(struct mn_pcsc **p, int reset);

/* The JPKI user-authentication operations, each a fixed APDU sequence. */
int mn_pcsc_select_auth(struct mn_pcsc *p);                         /* SELECT AP, SELECT 0018 */
int mn_pcsc_tries(struct mn_pcsc *p, int *ret_tries);               /* empty VERIFY */
int mn_pcsc_verify(struct mn_pcsc *p, const char *pin, size_t len); /* VERIFY */
/* SELECT 0017 and COMPUTE SIGNATURE over SHA-256 DigestInfo(data). */
int mn_pcsc_sign_sha256(struct mn_pcsc *p, const unsigned char *data, size_t len,
                        unsigned char *sig, size_t *siglen);

/* The warm-login record: the last verified login's insertion and certificate. */
struct mn_warm {
	struct mn_insertion ins;
	char sha256[65];
};
int mn_warm_load(const char *path, struct mn_warm *ret);
int mn_warm_save(const char *path, const struct mn_warm *w);

#endif
