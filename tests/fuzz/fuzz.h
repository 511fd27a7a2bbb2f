/*
 * The libFuzzer entry points of every tests/fuzz/fuzz_NAME.c (doc/fuzzing.md), and small
 * helpers shared by the targets. The same target is linked with libFuzzer in the clang build
 * (--enable-fuzzing) and with replay.c in the normal build ("make check" replays the corpus
 * and the regressions).
 */
#ifndef MN_FUZZ_H
#define MN_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A cursor over the fuzz input, to cut it into several inputs. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* The next 1 byte (0 at the end). */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = in->p[0];
		in->p++;
		in->n--;
	}
	return v;
}

/* The next 2 bytes, big-endian (missing bytes are 0). */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);

	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* The next piece: a 2-byte big-endian length, then that many bytes (fewer at the end). */
static inline const uint8_t *fuzz_piece(struct fuzz_in *in, size_t *len)
{
	size_t n = fuzz_u16(in);
	const uint8_t *p = in->p;

	if (n > in->n)
		n = in->n;
	in->p += n;
	in->n -= n;
	*len = n;
	return p;
}

#endif
