// SPDX-License-Identifier: MIT
/*
 * fuzz_gso.c - libFuzzer harness for the software offloads (src/pkt/gso):
 * a frame with hostile offload metadata, cut into frames.
 *
 * Input: 9 bytes of metadata (flags, gso_type, gso_size, csum_start,
 * csum_offset, the 16-bit ones big-endian), then the frame.
 *
 * Checks: at most PKT_GSO_SEGS_MAX frames, each within the room given and
 * no longer than the headers plus gso_size; the payloads put together are
 * the frame's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/gso.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 256];
	struct pkt_vnet v;
	struct pkt_gso g;
	size_t pay = 0;
	unsigned int n = 0;
	int r;

	if (size < 9)
		return 0;
	v = (struct pkt_vnet){
		.flags = data[0],
		.gso_type = data[1],
		.gso_size = (uint16_t)(data[2] << 8 | data[3]),
		.csum_start = (uint16_t)(data[4] << 8 | data[5]),
		.csum_offset = (uint16_t)(data[6] << 8 | data[7]),
	};
	(void)data[8];
	data += 9;
	size -= 9;
	if (pkt_gso_init(&g, data, size, &v))
		return 0;
	while ((r = pkt_gso_next(&g, out, sizeof(out))) > 0) {
		size_t seg = (size_t)r - g.hdr;

		if (++n > PKT_GSO_SEGS_MAX || (size_t)r > sizeof(out) ||
		    (g.gso && seg > v.gso_size) ||
		    memcmp(out + g.hdr, data + g.hdr + pay, seg) != 0)
			abort();
		pay += seg;
	}
	if (r < 0 || pay != g.len - g.hdr)
		abort();
	return 0;
}
