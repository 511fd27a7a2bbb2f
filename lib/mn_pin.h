/*
 * PIN and password formats, checked before anything reaches the card so that a mistyped
 * value never costs one of its few tries.
 */
#ifndef MN_PIN_H
#define MN_PIN_H

#include <stddef.h>
#include <stdint.h>

#define MN_SIGN_PW_MIN 6
#define MN_SIGN_PW_MAX 16

/* Auth PIN / card-info PIN: exactly 4 ASCII digits. */
int mn_pin_check_digits4(const uint8_t *pin, size_t len);

/*
 * Sign password: 6–16 characters of A–Z and 0–9. Lower-case letters are upper-cased into
 * out (capacity >= len), since the card compares bytes and users type lower case.
 * Anything else is MN_ERR_PIN_FORMAT and out is left untouched.
 */
int mn_pin_normalize_sign(const uint8_t *pw, size_t len, uint8_t *out, size_t cap);

/*
 * A new sign password must also mix letters and digits (the municipalities' rule when
 * one is set). Checked on change only: existing passwords are verified as the card has them.
 */
int mn_pin_check_new_sign(const uint8_t *pw, size_t len);

/*
 * Keep a process that will hold a PIN or password out of core dumps: RLIMIT_CORE 0 and
 * PR_SET_DUMPABLE 0 (no core file; /proc/PID/mem and ptrace closed to same-uid processes
 * without CAP_SYS_PTRACE). Called first thing by mynumber-helper and by the mynumber commands
 * that read a PIN or password. MN_ERR_IO when either call failed (the caller goes on: the
 * buffers are wiped after use in any case). PIN buffers are not mlock()ed: doc/secrets.md.
 */
int mn_pin_protect_process(void);

#endif
