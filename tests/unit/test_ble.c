/* Unit tests: the pure parts of the mdoc BLE transport (UUID text, chunking, reassembly). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mn_ble.h"
#include "mn_err.h"

static void test_uuid_str(void **state)
{
	static const uint8_t u1[16] = {0x00, 0x00, 0x00, 0x05, 0xa1, 0x23, 0x48, 0xce,
	                               0x89, 0x6b, 0x4c, 0x76, 0x97, 0x33, 0x73, 0xe6};
	static const uint8_t u2[16] = {0xDE, 0xAD, 0xBE, 0xEF, 0x01, 0x23, 0x45, 0x67,
	                               0x89, 0xAB, 0xCD, 0xEF, 0xF0, 0x0D, 0xCA, 0xFE};
	uint8_t z[16], f[16];
	char s[MN_BLE_UUID_STRLEN + 1];

	(void)state;
	memset(z, 0, sizeof(z));
	memset(f, 0xff, sizeof(f));
	memset(s, 'x', sizeof(s));
	mn_ble_uuid_str(u1, s);
	assert_string_equal(s, MN_BLE_UUID_STATE);
	mn_ble_uuid_str(u2, s);
	assert_string_equal(s, "deadbeef-0123-4567-89ab-cdeff00dcafe"); /* lower case */
	mn_ble_uuid_str(z, s);
	assert_string_equal(s, "00000000-0000-0000-0000-000000000000");
	mn_ble_uuid_str(f, s);
	assert_string_equal(s, "ffffffff-ffff-ffff-ffff-ffffffffffff");
	assert_int_equal(strlen(s), MN_BLE_UUID_STRLEN);
}

static void test_mtu(void **state)
{
	(void)state;
	assert_int_equal(mn_ble_mtu_clamp(0), 23);
	assert_int_equal(mn_ble_mtu_clamp(3), 23);
	assert_int_equal(mn_ble_mtu_clamp(22), 23);
	assert_int_equal(mn_ble_mtu_clamp(23), 23);
	assert_int_equal(mn_ble_mtu_clamp(185), 185);
	assert_int_equal(mn_ble_mtu_clamp(517), 517);
	assert_int_equal(mn_ble_mtu_clamp(518), 517);
	assert_int_equal(mn_ble_mtu_clamp(65535), 517);
	/* data per chunk: mtu - 3 (ATT) - 1 (header) */
	assert_int_equal(mn_ble_chunk_count(0, 23), 0);
	assert_int_equal(mn_ble_chunk_count(1, 23), 1);
	assert_int_equal(mn_ble_chunk_count(19, 23), 1);
	assert_int_equal(mn_ble_chunk_count(20, 23), 2);
	assert_int_equal(mn_ble_chunk_count(38, 23), 2);
	assert_int_equal(mn_ble_chunk_count(39, 23), 3);
	assert_int_equal(mn_ble_chunk_count(181, 185), 1);
	assert_int_equal(mn_ble_chunk_count(182, 185), 2);
	assert_int_equal(mn_ble_chunk_count(513, 517), 1);
	assert_int_equal(mn_ble_chunk_count(513, 1000), 1);
	assert_int_equal(mn_ble_chunk_count(19, 0), 1); /* no MTU given: 23 */
	assert_int_equal(mn_ble_chunk_count(MN_BLE_MAX_MSG, 23), (MN_BLE_MAX_MSG + 18) / 19);
}

/* chunk msg at mtu, check every chunk, reassemble, compare */
static void roundtrip(const uint8_t *msg, size_t len, unsigned mtu)
{
	uint8_t chunk[MN_BLE_MTU_MAX], *out = NULL;
	size_t off = 0, n = 0, count = 0, out_len = 0, want = mn_ble_chunk_count(len, mtu);
	struct mn_ble_rx *rx = NULL;
	int r = 0;

	assert_int_equal(mn_ble_rx_new(0, 0, &rx), MN_OK);
	while (off < len) {
		size_t before = off;

		assert_int_equal(mn_ble_chunk(msg, len, mtu, &off, chunk, sizeof(chunk), &n),
		                 MN_OK);
		count++;
		assert_true(n >= 2 && n <= mn_ble_mtu_clamp(mtu) - 3);
		assert_int_equal(off - before, n - 1);
		assert_memory_equal(chunk + 1, msg + before, n - 1);
		if (off < len) {
			assert_int_equal(chunk[0], MN_BLE_CHUNK_MORE);
			assert_int_equal(n, mn_ble_mtu_clamp(mtu) - 3); /* only the last is short */
		} else {
			assert_int_equal(chunk[0], MN_BLE_CHUNK_LAST);
		}
		assert_int_equal(r, 0);
		r = mn_ble_rx_add(rx, chunk, n, &out, &out_len);
		assert_true(r == 0 || r == 1);
		if (r == 0)
			assert_int_equal(mn_ble_rx_pending(rx), off);
	}
	assert_int_equal(count, want);
	assert_int_equal(r, 1);
	assert_int_equal(out_len, len);
	assert_memory_equal(out, msg, len);
	assert_int_equal(mn_ble_rx_pending(rx), 0);
	free(out);
	mn_ble_rx_free(&rx);
	assert_null(rx);
}

static void test_chunk_roundtrip(void **state)
{
	static const unsigned mtus[] = {0, 23, 24, 100, 185, 247, 512, 517, 600};
	static const size_t lens[] = {1, 2, 18, 19, 20, 21, 38, 39, 181, 182, 1000, 4096, 65537};
	uint8_t *msg = malloc(65537);
	size_t i, j;

	(void)state;
	assert_non_null(msg);
	for (i = 0; i < 65537; i++)
		msg[i] = (uint8_t)(i * 7 + (i >> 8));
	for (i = 0; i < sizeof(mtus) / sizeof(mtus[0]); i++)
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++)
			roundtrip(msg, lens[j], mtus[i]);
	free(msg);
}

static void test_chunk_errors(void **state)
{
	uint8_t msg[40], chunk[MN_BLE_MTU_MAX], *big;
	size_t off = 0, n = 7;

	(void)state;
	memset(msg, 0xab, sizeof(msg));
	assert_int_equal(mn_ble_chunk(msg, 0, 23, &off, chunk, sizeof(chunk), &n),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_chunk(NULL, 1, 23, &off, chunk, sizeof(chunk), &n),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_chunk(msg, 1, 23, NULL, chunk, sizeof(chunk), &n),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_chunk(msg, 1, 23, &off, NULL, sizeof(chunk), &n),
	                 MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_chunk(msg, 1, 23, &off, chunk, sizeof(chunk), NULL),
	                 MN_ERR_INVALID_ARG);
	off = 40;
	assert_int_equal(mn_ble_chunk(msg, 40, 23, &off, chunk, sizeof(chunk), &n),
	                 MN_ERR_INVALID_ARG);
	/* the buffer must hold header + data */
	off = 0;
	assert_int_equal(mn_ble_chunk(msg, 40, 23, &off, chunk, 19, &n), MN_ERR_TOO_LARGE);
	assert_int_equal(off, 0);
	assert_int_equal(n, 7); /* untouched on failure */
	assert_int_equal(mn_ble_chunk(msg, 40, 23, &off, chunk, 20, &n), MN_OK);
	assert_int_equal(n, 20);
	/* a short last chunk fits a small buffer */
	off = 38;
	assert_int_equal(mn_ble_chunk(msg, 40, 23, &off, chunk, 3, &n), MN_OK);
	assert_int_equal(n, 3);
	assert_int_equal(chunk[0], MN_BLE_CHUNK_LAST);
	assert_int_equal(off, 40);
	/* over the message bound */
	big = calloc(1, MN_BLE_MAX_MSG + 1);
	assert_non_null(big);
	off = 0;
	assert_int_equal(mn_ble_chunk(big, MN_BLE_MAX_MSG + 1, 517, &off, chunk, sizeof(chunk), &n),
	                 MN_ERR_TOO_LARGE);
	assert_int_equal(mn_ble_chunk(big, MN_BLE_MAX_MSG, 517, &off, chunk, sizeof(chunk), &n),
	                 MN_OK);
	free(big);
}

static int add(struct mn_ble_rx *rx, const char *hex_chunk, uint8_t **msg, size_t *len)
{
	uint8_t b[64];
	size_t n = 0;
	unsigned v;

	while (*hex_chunk != '\0' && sscanf(hex_chunk, "%2x", &v) == 1) {
		b[n++] = (uint8_t)v;
		hex_chunk += 2;
	}
	return mn_ble_rx_add(rx, b, n, msg, len);
}

static void test_rx_bad(void **state)
{
	struct mn_ble_rx *rx = NULL;
	uint8_t *msg = (uint8_t *)"untouched", *keep = msg, c;
	size_t len = 99;

	(void)state;
	assert_int_equal(mn_ble_rx_new(MN_BLE_MAX_MSG + 1, 0, &rx), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_rx_new(0, MN_BLE_MAX_CHUNKS + 1, &rx), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_rx_new(0, 0, NULL), MN_ERR_INVALID_ARG);
	assert_null(rx);
	assert_int_equal(mn_ble_rx_new(0, 0, &rx), MN_OK);
	assert_int_equal(mn_ble_rx_add(NULL, &c, 1, &msg, &len), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_rx_add(rx, NULL, 1, &msg, &len), MN_ERR_INVALID_ARG);
	/* an empty chunk (no header) */
	assert_int_equal(mn_ble_rx_add(rx, NULL, 0, &msg, &len), MN_ERR_FORMAT);
	/* bad headers, also after a good chunk: the partial message is dropped */
	assert_int_equal(add(rx, "02a0", &msg, &len), MN_ERR_FORMAT);
	assert_int_equal(add(rx, "ffa0", &msg, &len), MN_ERR_FORMAT);
	assert_int_equal(add(rx, "80a0", &msg, &len), MN_ERR_FORMAT);
	assert_int_equal(add(rx, "01a1", &msg, &len), 0);
	assert_int_equal(mn_ble_rx_pending(rx), 1);
	assert_int_equal(add(rx, "03a2", &msg, &len), MN_ERR_FORMAT);
	assert_int_equal(mn_ble_rx_pending(rx), 0);
	/* a message of no bytes: a lone last header */
	assert_int_equal(add(rx, "00", &msg, &len), MN_ERR_FORMAT);
	assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "00", &msg, &len), MN_ERR_FORMAT);
	assert_ptr_equal(msg, keep);
	assert_int_equal(len, 99);
	/* header-only chunks around data are harmless */
	assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "01a1", &msg, &len), 0);
	assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "00", &msg, &len), 1);
	assert_int_equal(len, 1);
	assert_int_equal(msg[0], 0xa1);
	free(msg);
	/* after errors and a message, the next one starts clean */
	assert_int_equal(add(rx, "00a0b1", &msg, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(msg, "\xa0\xb1", 2);
	free(msg);
	mn_ble_rx_free(&rx);
	mn_ble_rx_free(&rx);
	mn_ble_rx_free(NULL);
}

static void test_rx_bounds(void **state)
{
	struct mn_ble_rx *rx = NULL;
	uint8_t chunk[513], *msg = NULL;
	size_t len = 0, i;
	int r = 0;

	(void)state;
	/* max_msg 10: exactly 10 passes, 11 fails (also split across chunks) */
	assert_int_equal(mn_ble_rx_new(10, 0, &rx), MN_OK);
	assert_int_equal(add(rx, "01000102030405", &msg, &len), 0);
	assert_int_equal(add(rx, "0006070809", &msg, &len), 1);
	assert_int_equal(len, 10);
	free(msg);
	assert_int_equal(add(rx, "01000102030405", &msg, &len), 0);
	assert_int_equal(add(rx, "00060708090a", &msg, &len), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_ble_rx_pending(rx), 0);
	assert_int_equal(add(rx, "000102030405060708090a0b", &msg, &len), MN_ERR_TOO_LARGE);
	mn_ble_rx_free(&rx);
	/* max_chunks 3 */
	assert_int_equal(mn_ble_rx_new(0, 3, &rx), MN_OK);
	assert_int_equal(add(rx, "01aa", &msg, &len), 0);
	assert_int_equal(add(rx, "01bb", &msg, &len), 0);
	assert_int_equal(add(rx, "00cc", &msg, &len), 1);
	free(msg);
	assert_int_equal(add(rx, "01aa", &msg, &len), 0);
	assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "00cc", &msg, &len), MN_ERR_TOO_LARGE);
	mn_ble_rx_free(&rx);
	/* the default bound: 1 MiB in 512-byte chunks passes, one byte more does not */
	assert_int_equal(mn_ble_rx_new(0, 0, &rx), MN_OK);
	memset(chunk, 0x5a, sizeof(chunk));
	for (i = 0; i < MN_BLE_MAX_MSG / 512; i++) {
		chunk[0] = i + 1 < MN_BLE_MAX_MSG / 512 ? MN_BLE_CHUNK_MORE : MN_BLE_CHUNK_LAST;
		r = mn_ble_rx_add(rx, chunk, sizeof(chunk), &msg, &len);
		assert_int_equal(r, chunk[0] == MN_BLE_CHUNK_LAST ? 1 : 0);
	}
	assert_int_equal(len, MN_BLE_MAX_MSG);
	assert_int_equal(msg[MN_BLE_MAX_MSG - 1], 0x5a);
	free(msg);
	for (i = 0; i < MN_BLE_MAX_MSG / 512; i++) {
		chunk[0] = MN_BLE_CHUNK_MORE;
		assert_int_equal(mn_ble_rx_add(rx, chunk, sizeof(chunk), &msg, &len), 0);
	}
	assert_int_equal(add(rx, "0001", &msg, &len), MN_ERR_TOO_LARGE);
	/* the chunk count bound holds even for header-only chunks */
	for (i = 0; i < MN_BLE_MAX_CHUNKS; i++)
		assert_int_equal(add(rx, "01", &msg, &len), 0);
	assert_int_equal(add(rx, "00aa", &msg, &len), MN_ERR_TOO_LARGE);
	assert_int_equal(mn_ble_rx_pending(rx), 0);
	mn_ble_rx_free(&rx);
}

static void test_read_at(void **state)
{
	uint8_t v[16];
	const uint8_t *p = NULL;
	size_t n = 99;

	(void)state;
	memset(v, 7, sizeof(v));
	assert_int_equal(mn_ble_read_at(v, 16, 0, &p, &n), MN_OK);
	assert_ptr_equal(p, v);
	assert_int_equal(n, 16);
	assert_int_equal(mn_ble_read_at(v, 16, 5, &p, &n), MN_OK);
	assert_ptr_equal(p, v + 5);
	assert_int_equal(n, 11);
	assert_int_equal(mn_ble_read_at(v, 16, 16, &p, &n), MN_OK);
	assert_int_equal(n, 0);
	assert_int_equal(mn_ble_read_at(v, 16, 17, &p, &n), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_read_at(v, 16, 65535, &p, &n), MN_ERR_INVALID_ARG);
	assert_int_equal(n, 0); /* untouched */
	assert_int_equal(mn_ble_read_at(NULL, 16, 0, &p, &n), MN_ERR_INVALID_ARG);
}

/* argument checks and a bus that is not there: no BlueZ needed */
static void test_open_errors(void **state)
{
	static const uint8_t uuid[16] = {1}, ident[16] = {2};
	struct mn_ble_opts o;
	struct mn_ble *b = NULL;
	struct mn_mdoc_transport t = {NULL, NULL};
	char why[256];

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(mn_ble_open(NULL, uuid, ident, &b, why, sizeof(why)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_open(&o, NULL, ident, &b, why, sizeof(why)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_open(&o, uuid, NULL, &b, why, sizeof(why)), MN_ERR_INVALID_ARG);
	assert_int_equal(mn_ble_open(&o, uuid, ident, NULL, why, sizeof(why)), MN_ERR_INVALID_ARG);
	o.wait = MN_BLE_WAIT_MAX + 1;
	assert_int_equal(mn_ble_open(&o, uuid, ident, &b, why, sizeof(why)), MN_ERR_INVALID_ARG);
	o.wait = 1;
	o.max_msg = MN_BLE_MAX_MSG + 1;
	assert_int_equal(mn_ble_open(&o, uuid, ident, &b, why, sizeof(why)), MN_ERR_INVALID_ARG);
	o.max_msg = 0;
	o.bus_address = "unix:path=/nonexistent/mynumber-test-bus";
	assert_int_equal(mn_ble_open(&o, uuid, ident, &b, why, sizeof(why)), MN_ERR_IO);
	assert_non_null(strstr(why, "cannot connect to the D-Bus"));
	assert_null(b);
	/* the reader's opener: bad EDeviceKeyBytes never reach the bus */
	assert_int_equal(mn_ble_reader_open(&o, uuid, NULL, 0, &t, why, sizeof(why)),
	                 MN_ERR_INVALID_ARG);
	assert_null(t.ops);
	mn_ble_free(&b);
	mn_ble_free(NULL);
	assert_string_equal(mn_ble_why(NULL), "");
	assert_int_equal(mn_ble_mtu(NULL), MN_BLE_MTU_MIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uuid_str),        cmocka_unit_test(test_mtu),
	    cmocka_unit_test(test_chunk_roundtrip), cmocka_unit_test(test_chunk_errors),
	    cmocka_unit_test(test_rx_bad),          cmocka_unit_test(test_rx_bounds),
	    cmocka_unit_test(test_read_at),         cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
