/*
 * Regression replay for the normal build: runs LLVMFuzzerTestOneInput on every file of the
 * directories given, or without arguments on tests/fuzz/corpus/NAME and
 * tests/fuzz/regressions/NAME of the source tree (MN_FUZZ_DIR, MN_FUZZ_NAME), so that every
 * input a fuzzer ever crashed on stays fixed. Exit 0 when every input ran, 1 otherwise (a
 * crash ends the program anyway).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (16u * 1024 * 1024)

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0;
	long sz;
	int r = -1;

	if (f == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || (size_t)sz > REPLAY_MAX_INPUT ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "replay: %s: cannot size it (or above %u bytes)\n", path,
		        REPLAY_MAX_INPUT);
		goto out;
	}
	/* an exact-size heap copy, so that ASan sees a read past the input */
	if ((buf = malloc(sz > 0 ? (size_t)sz : 1)) == NULL)
		goto out;
	n = fread(buf, 1, (size_t)sz, f);
	if (n != (size_t)sz) {
		fprintf(stderr, "replay: %s: short read\n", path);
		goto out;
	}
	LLVMFuzzerTestOneInput(buf, n);
	r = 0;
out:
	free(buf);
	fclose(f);
	return r;
}

/* Every regular file of dir (sorted); a missing dir is empty. -1 on an error. */
static int run_dir(const char *dir, unsigned *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, i;
	int r = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		char **nn;
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nn = realloc(names, cap * sizeof(*names))) == NULL) {
				r = -1;
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			r = -1;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n; i++) {
		struct stat st;
		if (r == 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) != 0)
				r = -1;
			else
				(*count)++;
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	char dirs[2][PATH_MAX];
	unsigned count = 0;
	int i, bad = 0;

	LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			struct stat st;
			if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
				bad |= run_dir(argv[i], &count) != 0;
			else if (run_file(argv[i]) != 0)
				bad = 1;
			else
				count++;
		}
	} else {
		snprintf(dirs[0], sizeof(dirs[0]), "%s/corpus/%s", MN_FUZZ_DIR, MN_FUZZ_NAME);
		snprintf(dirs[1], sizeof(dirs[1]), "%s/regressions/%s", MN_FUZZ_DIR, MN_FUZZ_NAME);
		for (i = 0; i < 2; i++)
			bad |= run_dir(dirs[i], &count) != 0;
	}
	printf("%s: %u inputs replayed%s\n", MN_FUZZ_NAME, count, bad ? ", with errors" : "");
	return bad ? 1 : 0;
}
