// SPDX-License-Identifier: MIT
/*
 * fuzz_pkt.c - libFuzzer harness for pkt_parse().
 *
 * Input: one byte of parse flags (bit 0: PKT_PARSE_L3, bit 1: skip the IPv4
 * header checksum so that the fuzzer reaches the layers above without having
 * to solve it), then the frame. Besides the sanitizers, it checks that an
 * accepted frame's metadata only points inside the frame, and that the
 * parse is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)            \
	do {                   \
		if (!(cond))   \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_meta m, m2;
	unsigned int flags;
	enum pkt_drop r;
	uint8_t *frame;

	if (size < 1)
		return 0;
	flags = data[0] & (PKT_PARSE_L3 | PKT_PARSE_NO_IP4_CSUM);
	size--;
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	frame = malloc(size ? size : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 1, size);

	r = pkt_parse(frame, size, flags, &m);
	CHECK((unsigned int)r < PKT_DROP__MAX);
	if (r == PKT_DROP_OK) {
		CHECK(m.len <= size);
		CHECK(m.l3_off <= m.len);
		if (m.l3 == PKT_L3_IPV4 || m.l3 == PKT_L3_IPV6)
			CHECK(m.l3_off + m.l3_len == m.len);
		if (m.flags & PKT_F_L4) {
			CHECK(!(m.flags & PKT_F_FRAG_LATER));
			CHECK(m.l4_off >= m.l3_off);
			CHECK(m.payload_off >= m.l4_off);
			CHECK(m.payload_off <= m.len);
			CHECK(m.l4_off + m.l4_len <= m.len);
		}
		if (m.flags & PKT_F_FRAG_LATER)
			CHECK(m.sport == 0 && m.dport == 0);
		if (m.flags & PKT_F_ICMP_ERROR) {
			CHECK(m.inner.l3_off >= m.payload_off);
			CHECK(m.inner.l3_off < m.len);
			if (m.inner.l4_off)
				CHECK(m.inner.l4_off + m.inner.l4_avail <= m.len);
		}
	}
	r = pkt_parse(frame, size, flags, &m2);
	CHECK(r != PKT_DROP_OK ||
	      (m.len == m2.len && m.flags == m2.flags && m.l4_off == m2.l4_off &&
	       m.payload_off == m2.payload_off && m.sport == m2.sport &&
	       m.dport == m2.dport && m.inner.l4_off == m2.inner.l4_off));
	free(frame);
	return 0;
}
