/* Test vectors from shared/vectors (hex files) for the mdoc unit tests. */
#include "config.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "vectors.h"

#ifndef MN_VECTORS_DIR
#define MN_VECTORS_DIR "../shared/vectors"
#endif

static const char *vectors_dir(void)
{
	const char *d = getenv("MN_VECTORS_DIR");

	return d != NULL && *d != '\0' ? d : MN_VECTORS_DIR;
}

static int hexval(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[0]) && isxdigit((unsigned char)s[1])) {
		out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s += 2;
		while (*s == ' ')
			s++;
	}
	return n;
}

struct buf load_hex(const char *dir, const char *name)
{
	char path[1024];
	struct buf b = {NULL, 0};
	FILE *f;
	long sz;
	char *txt;

	snprintf(path, sizeof(path), "%s/%s/%s.hex", vectors_dir(), dir, name);
	if ((f = fopen(path, "r")) == NULL)
		return b;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	txt = calloc(1, (size_t)sz + 1);
	b.p = malloc((size_t)sz / 2 + 1);
	assert_non_null(txt);
	assert_non_null(b.p);
	assert_int_equal(fread(txt, 1, (size_t)sz, f), (size_t)sz);
	fclose(f);
	b.n = unhex(txt, b.p);
	free(txt);
	return b;
}

struct buf need(const char *dir, const char *name)
{
	struct buf b = load_hex(dir, name);

	if (b.p == NULL) {
		print_message("vector %s/%s missing, skipped\n", dir, name);
		skip();
	}
	return b;
}
