/*
 * The pipe protocol between pam_mynumber.so and mynumber-helper (doc/helper-protocol.md).
 * Frames: type (1 byte), payload length (2 bytes, big-endian, at most MN_PROTO_MAX), payload.
 */
#ifndef MN_PROTO_H
#define MN_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define MN_PROTO_MAX 2048

enum mn_frame {
	/* helper -> module */
	MN_FR_INFO = 'I',   /* text for PAM_TEXT_INFO */
	MN_FR_ERROR = 'E',  /* text for PAM_ERROR_MSG */
	MN_FR_PROMPT = 'P', /* text for PAM_PROMPT_ECHO_OFF; the module answers A or X */
	MN_FR_DEBUG = 'D',  /* a debug line for syslog, only sent when debug is on */
	MN_FR_WARN = 'W',   /* a warning for syslog, always (soft revocation acceptances) */
	MN_FR_RESULT = 'R', /* 1 byte enum mn_result, then text (the certificate SHA-256) */
	/* module -> helper */
	MN_FR_ANSWER = 'A',   /* the user's answer (a secret: wiped after use) */
	MN_FR_NOANSWER = 'X', /* the conversation failed or was cancelled */
};

/* What the helper decided; the module turns it into a PAM code (pam_mynumber.c). */
enum mn_result {
	MN_RES_OK = 0,                /* PAM_SUCCESS: a verified proof, nothing else */
	MN_RES_AUTH_ERR = 1,          /* PAM_AUTH_ERR */
	MN_RES_UNAVAIL = 2,           /* PAM_AUTHINFO_UNAVAIL: no reader, no card in time */
	MN_RES_USER_UNKNOWN = 3,      /* PAM_USER_UNKNOWN */
	MN_RES_MAXTRIES = 4,          /* PAM_MAXTRIES: PIN blocked, or the last tries are kept */
	MN_RES_ACCT_EXPIRED = 5,      /* PAM_ACCT_EXPIRED: enrolled certificate expired */
	MN_RES_PERM_DENIED = 6,       /* PAM_PERM_DENIED: revoked */
	MN_RES_SYSTEM_ERR = 7,        /* PAM_SYSTEM_ERR: configuration, store, helper failure */
	MN_RES_CRED_INSUFFICIENT = 8, /* PAM_CRED_INSUFFICIENT: not enrolled */
	MN_RES_CRED_EXPIRED = 9,      /* PAM_CRED_EXPIRED: the certificate expired */
};

/* Send one frame (all of it, retrying on EINTR). */
int mn_proto_send(int fd, enum mn_frame type, const void *data, size_t len);

/*
 * Receive one frame, waiting at most timeout_ms (-1: no limit). Payload into buf (cap >=
 * MN_PROTO_MAX + 1; it is NUL-terminated for text frames). MN_ERR_TIMEOUT, MN_ERR_EOF, or
 * MN_ERR_FORMAT for an unknown type or oversize length. ret_type and ret_len are written
 * on success only.
 */
int mn_proto_recv(int fd, int timeout_ms, enum mn_frame *ret_type, char *buf, size_t cap,
                  size_t *ret_len);

#endif
