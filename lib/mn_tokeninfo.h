/* EF 0006 of the JPKI AP: a 160-byte CK_TOKEN_INFO with 32-bit big-endian integers. */
#ifndef MN_TOKENINFO_H
#define MN_TOKENINFO_H

#include <stddef.h>
#include <stdint.h>

enum mn_token_kind {
	MN_TOKEN_UNKNOWN = 0,
	MN_TOKEN_CARD,    /* JPKIAPICCTOKEN2: My Number card */
	MN_TOKEN_ANDROID, /* JPKIAPGPSETOKEN: Android smartphone certificate (GP-SE) */
	MN_TOKEN_IPHONE,  /* JPKIAPIOSTOKEN: iPhone smartphone certificate */
	MN_TOKEN_JUKI,    /* JPKIAPICCTOKEN: old 住基カード, not supported */
};

struct mn_tokeninfo {
	enum mn_token_kind kind;
	char label[33];        /* trailing blanks removed */
	char manufacturer[33]; /* trailing blanks removed */
	char model[17];
	char serial[17]; /* printable ASCII; empty when absent, blank or all zeros */
};

/* Parse EF 0006. Fewer than 160 bytes is MN_ERR_TRUNCATED; *out written on success. */
int mn_tokeninfo_parse(const uint8_t *buf, size_t len, struct mn_tokeninfo *out);

/* Encode (for the simulator): label/manufacturer/model/serial blank padded. */
int mn_tokeninfo_encode(const struct mn_tokeninfo *ti, uint8_t out[160]);

/* The EF 0006 label of a kind ("" for MN_TOKEN_UNKNOWN). */
const char *mn_token_kind_label(enum mn_token_kind kind);

/* A short user-facing name: "My Number Card", "JPKI Android", ... */
const char *mn_token_kind_name(enum mn_token_kind kind);

#endif
