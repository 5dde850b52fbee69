// SPDX-License-Identifier: MIT
/*
 * Naive RFC 1071 checksum: one big-endian word at a time, carry folded back
 * at every step so that no accumulator width or length limit is involved.
 * Deliberately shares no code or trick with src/pkt/csum.c.
 */
#include "ref/csum_ref.h"

#include <string.h>

uint16_t csum_ref_sum(const void *data, size_t len, uint16_t sum)
{
	const uint8_t *p = data;
	uint32_t s = sum;
	size_t i;

	for (i = 0; i < len; i += 2) {
		uint32_t word = (uint32_t)p[i] << 8;

		if (i + 1 < len)
			word |= p[i + 1];
		s += word;
		if (s > 0xffff)
			s = (s & 0xffff) + 1;
	}
	return (uint16_t)s;
}

uint16_t csum_ref_wire(uint16_t v)
{
	const uint8_t bytes[2] = { (uint8_t)(v >> 8), (uint8_t)(v & 0xff) };
	uint16_t r;

	memcpy(&r, bytes, sizeof(r));
	return r;
}

uint16_t csum_ref(const void *data, size_t len)
{
	return csum_ref_wire((uint16_t)~csum_ref_sum(data, len, 0));
}
