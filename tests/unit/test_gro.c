// SPDX-License-Identifier: MIT
/*
 * test_gro.c - TCP segments joined into a super-frame: what is joined cuts
 * back (pkt/gso) into exactly the segments that came in, byte for byte and
 * with checksums that verify; each rule that forbids joining does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "test_exit.h"
#include "pkt/build.h"
#include "pkt/csum.h"
#include "pkt/gro.h"
#include "pkt/gso.h"
#include "pkt/parse.h"
#include "prot/tcp.h"

#define SEG	1448u
#define NSEG	8u

static uint8_t seg[NSEG][2048];
static uint32_t seglen[NSEG];
static uint8_t super[70000];
static uint8_t cut[PKT_GSO_SEGS_MAX * 2048];
static uint8_t data[NSEG * SEG];

static struct pkt_spec base(unsigned int i, size_t pay)
{
	struct pkt_spec s = {
		.eth_dst = { 0x02, 0xab, 0xcd, 0, 0, 1 },
		.eth_src = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 },
		.src4 = htonl(0x0a000202),
		.dst4 = htonl(0xc6336401),
		.ttl = 64,
		.ip_id = (uint16_t)(100 + i),
		.ip4_frag = 0x4000,	/* DF */
		.proto = IPPROTO_TCP,
		.sport = htons(40000),
		.dport = htons(5201),
		.seq = 1000 + i * SEG,
		.ack = 77,
		.tcp_flags = TCP_ACK,
		.window = 502,
		.has_ts = true,
		.tsval = 5,
		.tsecr = 6,
		.payload = data + (size_t)i * SEG,
		.payload_len = pay,
	};
	return s;
}

static void make(unsigned int i, const struct pkt_spec *s)
{
	int n = pkt_build(s, seg[i], sizeof(seg[i]));

	assert_true(n > 0);
	seglen[i] = (uint32_t)n;
}

/* The TCP checksum of segment @i made right after an edit. */
static void fix_tcp_sum(unsigned int i)
{
	uint8_t *ip = seg[i] + 14, *tcp = ip + 20;
	uint32_t s, d, l4 = seglen[i] - 34;
	uint16_t c = 0;

	memcpy(&s, ip + 12, 4);
	memcpy(&d, ip + 16, 4);
	memcpy(tcp + 16, &c, 2);
	c = csum_finish(csum_partial(tcp, l4, csum_pseudo_ip4(s, d, IPPROTO_TCP,
								(uint16_t)l4)));
	memcpy(tcp + 16, &c, 2);
}

static void parse(const uint8_t *f, uint32_t len, struct pkt_meta *m)
{
	assert_int_equal(pkt_parse(f, len, 0, m), PKT_DROP_OK);
}

/* Join segments 0..n-1 into super[]; Return: how many were joined. */
static unsigned int join(unsigned int n, struct pkt_meta *m,
			 struct pkt_vnet *v)
{
	struct pkt_vnet none = { 0 };
	unsigned int k = 1;

	memcpy(super, seg[0], seglen[0]);
	parse(super, seglen[0], m);
	*v = none;
	assert_true(pkt_gro_candidate(super, m, v));
	for (unsigned int i = 1; i < n; i++) {
		struct pkt_meta mb;

		parse(seg[i], seglen[i], &mb);
		if (!pkt_gro_candidate(seg[i], &mb, &none) ||
		    !pkt_gro_append(super, sizeof(super), m, v, seg[i], &mb))
			break;
		k++;
	}
	return k;
}

static void fill(void)
{
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
}

static void gro_joins_and_cuts_back_exactly(void **state)
{
	uint32_t off[PKT_GSO_SEGS_MAX], flen[PKT_GSO_SEGS_MAX];
	struct pkt_meta m;
	struct pkt_vnet v;
	int k;

	(void)state;
	fill();
	for (unsigned int i = 0; i < NSEG; i++) {
		struct pkt_spec s = base(i, i == NSEG - 1 ? 100 : SEG);

		if (i == NSEG - 1)
			s.tcp_flags |= TCP_PSH;
		make(i, &s);
	}
	assert_int_equal(join(NSEG, &m, &v), NSEG);
	assert_int_equal(v.gso_type, VNET_GSO_TCPV4);
	assert_int_equal(v.gso_size, SEG);
	assert_true(v.flags & VNET_F_NEEDS_CSUM);
	assert_int_equal(m.len, 14 + 20 + 32 + (NSEG - 1) * SEG + 100);
	assert_true(m.tcp_flags & TCP_PSH);
	/* the super-frame parses as what it claims to be */
	{
		struct pkt_meta again;

		parse(super, m.len, &again);
		assert_int_equal(again.l3_len, m.l3_len);
		assert_int_equal(again.l4_len, m.l4_len);
	}
	/* cut back: the very segments that came in, IDs aside (DF) */
	k = pkt_gso_cut(super, m.len, &v, cut, sizeof(cut), off, flen);
	assert_int_equal(k, NSEG);
	for (unsigned int i = 0; i < NSEG; i++) {
		assert_int_equal(flen[i], seglen[i]);
		/* all but the IP ID (4 bytes at 18) and the IP checksum (24) */
		assert_memory_equal(cut + off[i], seg[i], 18);
		assert_memory_equal(cut + off[i] + 20, seg[i] + 20, 4);
		assert_memory_equal(cut + off[i] + 26, seg[i] + 26,
				    seglen[i] - 26);
	}
}

static void gro_ids_must_increment_without_df(void **state)
{
	struct pkt_meta m;
	struct pkt_vnet v;
	uint32_t off[PKT_GSO_SEGS_MAX], flen[PKT_GSO_SEGS_MAX];

	(void)state;
	fill();
	for (unsigned int i = 0; i < 4; i++) {
		struct pkt_spec s = base(i, SEG);

		s.ip4_frag = 0;
		if (i == 3)
			s.ip_id = 999;	/* not 103 */
		make(i, &s);
	}
	assert_int_equal(join(4, &m, &v), 3);
	/* what was joined cuts back byte for byte, IDs included */
	assert_int_equal(pkt_gso_cut(super, m.len, &v, cut, sizeof(cut), off,
				     flen), 3);
	for (unsigned int i = 0; i < 3; i++)
		assert_memory_equal(cut + off[i], seg[i], seglen[i]);
}

/* Each variation of segment 1 keeps it apart from segment 0. */
static void gro_refuses_what_differs(void **state)
{
	enum { GAP, ACKNO, WINDOW, TS, FIN, SYN, RST, URG, PSH0, TTL, TOS,
	       PORT, LONGER, EMPTY, BADSUM, FRAG, URGPTR, N_CASES };
	struct pkt_meta m;
	struct pkt_vnet v;

	(void)state;
	fill();
	for (int c = 0; c < N_CASES; c++) {
		struct pkt_spec s0 = base(0, SEG), s1 = base(1, SEG);

		switch (c) {
		case GAP: s1.seq += 1; break;
		case ACKNO: s1.ack += 1; break;
		case WINDOW: s1.window += 1; break;
		case TS: s1.tsval += 1; break;
		case FIN: s1.tcp_flags |= TCP_FIN; break;
		case SYN: s1.tcp_flags |= TCP_SYN; break;
		case RST: s1.tcp_flags |= TCP_RST; break;
		case URG: s1.tcp_flags |= TCP_URG; break;
		case PSH0: s0.tcp_flags |= TCP_PSH; break;
		case TTL: s1.ttl = 63; break;
		case TOS: s1.tos = 0x10; break;
		case PORT: s1.sport = htons(40001); break;
		case LONGER: s1.payload_len = SEG + 1; break;
		case EMPTY: s1.payload_len = 0; break;
		case FRAG: s1.ip4_frag = 0x2000; break;
		default: break;
		}
		make(0, &s0);
		make(1, &s1);
		if (c == BADSUM)
			seg[1][seglen[1] - 1] ^= 0x55;	/* payload changed */
		if (c == URGPTR) {	/* URG clear, the pointer set anyway */
			seg[1][14 + 20 + 19] = 1;
			fix_tcp_sum(1);
		}
		assert_int_equal(join(2, &m, &v), 1);
		assert_int_equal(v.gso_type, VNET_GSO_NONE);
		assert_int_equal(m.len, seglen[0]);	/* untouched */
	}
}

/* A short segment ends the super-frame: nothing may follow it. */
static void gro_short_segment_is_last(void **state)
{
	struct pkt_meta m;
	struct pkt_vnet v;

	(void)state;
	fill();
	make(0, &(struct pkt_spec){ 0 });	/* replaced below */
	{
		struct pkt_spec s0 = base(0, SEG), s1 = base(1, 500),
				s2 = base(2, 500);

		s2.seq = s1.seq + 500;
		make(0, &s0);
		make(1, &s1);
		make(2, &s2);
	}
	assert_int_equal(join(3, &m, &v), 2);
}

/* Bounded: never more than 65535 bytes of IP packet. */
static void gro_stops_at_64k(void **state)
{
	static uint8_t big[64 * 1024];
	struct pkt_meta m;
	struct pkt_vnet v, none = { 0 };
	unsigned int joined = 1;

	(void)state;
	memset(big, 0x5a, sizeof(big));
	{
		struct pkt_spec s = base(0, SEG);

		s.payload = big;
		make(0, &s);
	}
	memcpy(super, seg[0], seglen[0]);
	parse(super, seglen[0], &m);
	v = none;
	for (unsigned int i = 1; i < 100; i++) {
		struct pkt_spec s = base(0, SEG);
		struct pkt_meta mb;

		s.seq = 1000 + i * SEG;
		s.payload = big;
		make(1, &s);
		parse(seg[1], seglen[1], &mb);
		assert_true(pkt_gro_candidate(seg[1], &mb, &none));
		if (!pkt_gro_append(super, sizeof(super), &m, &v, seg[1], &mb))
			break;
		joined++;
	}
	assert_int_equal(joined, (65535 - 20 - 32) / SEG);
	assert_true(m.l3_len <= 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gro_joins_and_cuts_back_exactly),
		cmocka_unit_test(gro_ids_must_increment_without_df),
		cmocka_unit_test(gro_refuses_what_differs),
		cmocka_unit_test(gro_short_segment_is_last),
		cmocka_unit_test(gro_stops_at_64k),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
