#include <string.h>

#include "mn_apdu.h"
#include "mn_err.h"

int mn_capdu_parse(const uint8_t *buf, size_t len, struct mn_capdu *out)
{
	struct mn_capdu c;
	size_t body;

	if (buf == NULL || out == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < 4)
		return MN_ERR_FORMAT;
	memset(&c, 0, sizeof(c));
	c.cla = buf[0];
	c.ins = buf[1];
	c.p1 = buf[2];
	c.p2 = buf[3];
	body = len - 4;
	if (body == 0) {
		/* case 1 */
	} else if (body == 1) {
		/* case 2: Le */
		c.has_le = 1;
		c.le = buf[4] == 0 ? 256 : buf[4];
	} else if (buf[4] == 0) {
		/* extended length (or a malformed short case) */
		return MN_ERR_UNSUPPORTED;
	} else {
		c.lc = buf[4];
		if (body == 1 + c.lc) {
			/* case 3 */
		} else if (body == 2 + c.lc) {
			c.has_le = 1;
			c.le = buf[5 + c.lc] == 0 ? 256 : buf[5 + c.lc];
		} else {
			return MN_ERR_FORMAT;
		}
		c.data = buf + 5;
	}
	*out = c;
	return MN_OK;
}

int mn_capdu_build(uint8_t cla, uint8_t ins, uint8_t p1, uint8_t p2, const uint8_t *data, size_t lc,
                   size_t le, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = 4;

	if (out == NULL || out_len == NULL || lc > 255 || le > 256 || (lc > 0 && data == NULL))
		return MN_ERR_INVALID_ARG;
	if (cap < 4 + (lc ? 1 + lc : 0) + (le ? 1 : 0))
		return MN_ERR_TOO_LARGE;
	out[0] = cla;
	out[1] = ins;
	out[2] = p1;
	out[3] = p2;
	if (lc > 0) {
		out[n++] = (uint8_t)lc;
		memcpy(out + n, data, lc);
		n += lc;
	}
	if (le > 0)
		out[n++] = (uint8_t)(le == 256 ? 0 : le);
	*out_len = n;
	return MN_OK;
}

int mn_rapdu_split(const uint8_t *buf, size_t len, size_t *data_len, uint16_t *sw)
{
	if (buf == NULL || data_len == NULL || sw == NULL)
		return MN_ERR_INVALID_ARG;
	if (len < 2)
		return MN_ERR_TRUNCATED;
	*data_len = len - 2;
	*sw = (uint16_t)(buf[len - 2] << 8 | buf[len - 1]);
	return MN_OK;
}

int mn_sw_pin_tries(uint16_t sw, int *tries)
{
	if (tries == NULL)
		return MN_ERR_INVALID_ARG;
	if (sw == 0x9000) {
		*tries = -1;
	} else if ((sw & 0xFFF0) == 0x63C0) {
		*tries = sw & 0x0F;
	} else if (sw == 0x6984 || sw == 0x6983) {
		*tries = 0;
	} else {
		return MN_ERR_FORMAT;
	}
	return MN_OK;
}
