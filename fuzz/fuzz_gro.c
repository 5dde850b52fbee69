// SPDX-License-Identifier: MIT
/*
 * fuzz_gro.c - libFuzzer harness for pkt_gro_candidate() and
 * pkt_gro_append().
 *
 * Input: records of a 2-byte big-endian length and that many bytes, each an
 * Ethernet frame. Each frame's IPv4 header checksum is not checked
 * (PKT_PARSE_NO_IP4_CSUM) and, when the first input byte is odd, its TCP
 * checksum is made right, so the fuzzer reaches the joining rules instead
 * of solving checksums. Frames are joined in order to the first one, as
 * the worker joins them. Checks: a super-frame stays within its buffer and
 * 65535 bytes of IP packet, it parses again to the lengths
 * pkt_gro_append() reported, and cut back (pkt_gso_cut) it gives exactly
 * the frames that were joined, byte for byte but for the IPv4 ID and
 * header checksum of DF segments.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/gro.h"
#include "pkt/gso.h"
#include "pkt/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)            \
	do {                   \
		if (!(cond))   \
			abort(); \
	} while (0)

#define FRAME_MAX	2048u
#define SUPER_CAP	(65535u + 18u)

static uint8_t frames[PKT_GSO_SEGS_MAX + 1][FRAME_MAX];
static uint32_t flens[PKT_GSO_SEGS_MAX + 1];
static uint8_t cut[PKT_GSO_SEGS_MAX * (FRAME_MAX + 64)];

/* Make the TCP checksum of a parsed IPv4 TCP frame right. */
static void fix_tcp_sum(uint8_t *f, const struct pkt_meta *m)
{
	uint32_t s, d;
	uint16_t c = 0;

	if (m->l3 != PKT_L3_IPV4 || m->l4_proto != IPPROTO_TCP ||
	    !(m->flags & PKT_F_L4) || (m->flags & PKT_F_FRAG))
		return;
	memcpy(&s, f + m->l3_off + 12, 4);
	memcpy(&d, f + m->l3_off + 16, 4);
	memcpy(f + m->l4_off + 16, &c, 2);
	c = csum_finish(csum_partial(f + m->l4_off, m->l4_len,
				     csum_pseudo_ip4(s, d, IPPROTO_TCP,
						     (uint16_t)m->l4_len)));
	memcpy(f + m->l4_off + 16, &c, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_vnet v = { 0 }, none = { 0 };
	struct pkt_meta ms, m;
	unsigned int n = 0, joined = 1;
	bool fix;
	uint8_t *super;

	if (size < 1)
		return 0;
	fix = data[0] & 1;
	data++;
	size--;
	while (size >= 2 && n < PKT_GSO_SEGS_MAX + 1) {
		uint32_t len = (uint32_t)data[0] << 8 | data[1];

		if (len > size - 2 || len > FRAME_MAX)
			break;
		memcpy(frames[n], data + 2, len);
		flens[n++] = len;
		data += 2 + len;
		size -= 2 + len;
	}
	if (n == 0)
		return 0;
	if (pkt_parse(frames[0], flens[0], PKT_PARSE_NO_IP4_CSUM, &ms) !=
	    PKT_DROP_OK)
		return 0;
	if (fix)
		fix_tcp_sum(frames[0], &ms);
	if (!pkt_gro_candidate(frames[0], &ms, &none))
		return 0;
	super = malloc(SUPER_CAP);
	if (!super)
		return 0;
	memcpy(super, frames[0], flens[0]);
	for (unsigned int i = 1; i < n; i++) {
		uint32_t before = ms.len;

		if (pkt_parse(frames[i], flens[i], PKT_PARSE_NO_IP4_CSUM, &m) !=
		    PKT_DROP_OK)
			break;
		if (fix)
			fix_tcp_sum(frames[i], &m);
		if (!pkt_gro_candidate(frames[i], &m, &none))
			break;
		if (!pkt_gro_append(super, SUPER_CAP, &ms, &v, frames[i], &m)) {
			CHECK(ms.len == before);
			break;
		}
		/* frames[joined] is the i-th: keep the joined ones in order */
		if (joined != i) {
			memmove(frames[joined], frames[i], flens[i]);
			flens[joined] = flens[i];
		}
		joined++;
		CHECK(ms.len <= SUPER_CAP && ms.l3_len <= 65535);
		CHECK(ms.len == before + pkt_payload_len(&m));
	}
	if (joined > 1) {
		uint32_t off[PKT_GSO_SEGS_MAX], flen[PKT_GSO_SEGS_MAX];
		struct pkt_meta again;
		bool df = super[ms.l3_off + 6] & 0x40;
		int k;

		CHECK(v.gso_type == VNET_GSO_TCPV4 && v.gso_size > 0);
		CHECK(pkt_parse(super, ms.len, PKT_PARSE_NO_IP4_CSUM, &again) ==
		      PKT_DROP_OK);
		CHECK(again.l3_len == ms.l3_len && again.l4_len == ms.l4_len);
		k = pkt_gso_cut(super, ms.len, &v, cut, sizeof(cut), off, flen);
		CHECK(k == (int)joined);
		for (unsigned int i = 0; i < joined; i++) {
			const uint8_t *a = cut + off[i], *b = frames[i];
			uint32_t l3 = ms.l3_off, l4 = ms.l4_off, sa, da;

			CHECK(flen[i] == flens[i]);
			/* all but the ID (DF), the IP and the TCP checksums */
			CHECK(memcmp(a, b, l3 + 4) == 0);
			CHECK(df || memcmp(a + l3 + 4, b + l3 + 4, 2) == 0);
			CHECK(memcmp(a + l3 + 6, b + l3 + 6, 4) == 0);
			CHECK(memcmp(a + l3 + 12, b + l3 + 12,
				     l4 + 16 - l3 - 12) == 0);
			CHECK(memcmp(a + l4 + 18, b + l4 + 18,
				     flens[i] - l4 - 18) == 0);
			/* and the sums the cut made verify */
			memcpy(&sa, a + l3 + 12, 4);
			memcpy(&da, a + l3 + 16, 4);
			CHECK(csum_ip4_header(a + l3, l4 - l3) == 0);
			CHECK(csum_finish(csum_partial(a + l4, flens[i] - l4,
					csum_pseudo_ip4(sa, da, IPPROTO_TCP,
							(uint16_t)(flens[i] - l4)))) == 0);
		}
	}
	free(super);
	return 0;
}
