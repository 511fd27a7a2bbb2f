/*
 * Fuzz target "ble": the pure parts of the mdoc BLE transport (lib/mdoc/mn_ble.h): chunk
 * reassembly of what the phone writes (mn_ble_rx_*), long reads (mn_ble_read_at), and
 * chunking: a message cut by mn_ble_chunk must reassemble to itself.
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "mn_ble.h"
#include "mn_err.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

static void roundtrip(const uint8_t *msg, size_t len, unsigned mtu)
{
	struct mn_ble_rx *rx = NULL;
	uint8_t chunk[MN_BLE_MTU_MAX], *out = NULL;
	size_t off = 0, n, outlen = 0, count = 0;
	int r = MN_OK;

	mtu = mn_ble_mtu_clamp(mtu);
	if (mn_ble_rx_new(len + 1, 0, &rx) != MN_OK)
		return;
	while (out == NULL) {
		if (mn_ble_chunk(msg, len, mtu, &off, chunk, sizeof(chunk), &n) != MN_OK)
			abort();
		if (n > mtu - 3)
			abort();
		count++;
		if ((r = mn_ble_rx_add(rx, chunk, n, &out, &outlen)) < 0 ||
		    (r == 1) != (out != NULL))
			abort();
		if (count > mn_ble_chunk_count(len, mtu))
			abort();
	}
	if (outlen != len || (len > 0 && memcmp(out, msg, len) != 0) ||
	    count != mn_ble_chunk_count(len, mtu))
		abort();
	free(out);
	mn_ble_rx_free(&rx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct mn_ble_rx *rx = NULL;
	const uint8_t *p, *part;
	uint8_t *msg;
	size_t n, len, part_len, max_msg;
	unsigned max_chunks;
	char uuid[MN_BLE_UUID_STRLEN + 1];

	max_msg = fuzz_u16(&in);
	max_chunks = fuzz_u8(&in);
	if (mn_ble_rx_new(max_msg, max_chunks, &rx) == MN_OK) {
		while (in.n > 0) {
			p = fuzz_piece(&in, &n);
			msg = NULL;
			if (mn_ble_rx_add(rx, p, n, &msg, &len) < 0) {
				if (msg != NULL)
					abort();
				continue; /* the state is reset: go on with the next chunks */
			}
			if (msg != NULL) {
				if (max_msg != 0 && len > max_msg)
					abort();
				free(msg);
			}
			(void)mn_ble_rx_pending(rx);
		}
		mn_ble_rx_free(&rx);
	}
	if (size >= 2 &&
	    mn_ble_read_at(data + 2, size - 2, (size_t)data[0] << 8 | data[1], &part, &part_len) ==
	        MN_OK &&
	    (part < data + 2 || part + part_len > data + size))
		abort();
	if (size >= 16)
		mn_ble_uuid_str(data, uuid);
	if (size > 2 && size <= 4096)
		roundtrip(data + 2, size - 2, (unsigned)data[0] << 8 | data[1]);
	return 0;
}
