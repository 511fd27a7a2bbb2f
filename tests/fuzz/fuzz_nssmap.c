/*
 * Fuzz target "nssmap": the managed-account map read by libnss_mynumber. The NSS module maps
 * the file, checks it with mn_nssmap_open_mem only, and looks names up: every lookup must be
 * safe on anything open_mem accepts. Then the same bytes with a correct checksum go through
 * mn_nssmap_verify (the full check of "mynumber accounts check").
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_nssmap.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void lookups(const struct mn_nssmap *m)
{
	struct mn_nssmap_pw pw;
	struct mn_nssmap_gr gr;
	const char *name;
	size_t len;
	uint32_t i, j, gid;
	static const char *const names[] = {"alice", "bob", "kiosk", "a", "zzz"};

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		(void)mn_nssmap_user_by_name(m, names[i], &pw);
		(void)mn_nssmap_group_by_name(m, names[i], &gr);
	}
	(void)mn_nssmap_user_by_uid(m, 1000, &pw);
	(void)mn_nssmap_user_by_uid(m, 70000, &pw);
	(void)mn_nssmap_group_by_gid(m, 1000, &gr);
	(void)mn_nssmap_group_by_gid(m, 70000, &gr);
	for (i = 0; i < m->n_users && i < 64; i++) {
		if (mn_nssmap_user_at(m, i, &pw) != 0)
			continue;
		(void)mn_nssmap_user_by_name(m, "alice", &pw);
		if (mn_nssmap_user_at(m, i, &pw) != 0)
			continue;
		for (j = 0; j < pw.n_groups && j < 64; j++)
			(void)mn_nssmap_user_group(m, &pw, j, &gid);
	}
	for (i = 0; i < m->n_groups && i < 64; i++) {
		if (mn_nssmap_group_at(m, i, &gr) != 0)
			continue;
		for (j = 0; j < gr.n_members && j < 64; j++)
			(void)mn_nssmap_group_member(m, &gr, j, &name, &len);
	}
	(void)mn_nssmap_expired(m, 1700000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_nssmap m;
	unsigned char *copy;
	uint64_t sum;
	char err[256];
	int i;

	if ((copy = malloc(size > 0 ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	if (mn_nssmap_open_mem(&m, copy, size, err, sizeof(err)) == 0)
		lookups(&m);
	if (size >= 32) {
		sum = mn_nssmap_checksum(copy, size);
		for (i = 0; i < 8; i++)
			copy[24 + i] = (unsigned char)(sum >> (8 * i));
		if (mn_nssmap_open_mem(&m, copy, size, err, sizeof(err)) == 0 &&
		    mn_nssmap_verify(&m, err, sizeof(err)) == 0)
			lookups(&m);
	}
	free(copy);
	return 0;
}
