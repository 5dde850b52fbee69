// SPDX-License-Identifier: MIT
/*
 * test_gso.c - offloads finished in software: a TCP super-frame cut into
 * MSS-sized frames (lengths, IPv4 IDs, sequence numbers, flags, checksums
 * that verify), a pending UDP checksum over IPv6 finished, and frames the
 * cutter must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "test_exit.h"
#include "pkt/csum.h"
#include "pkt/gso.h"

static uint8_t frame[14 + 20 + 20 + 3000];
static uint8_t out[2048];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet + IPv4 + TCP (seq 1000, PSH|FIN|CWR|ACK) + @pay bytes. */
static size_t tcp4(size_t pay)
{
	uint8_t *ip = frame + 14, *tcp = frame + 34;

	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + 20 + pay) >> 8);
	ip[3] = (uint8_t)(20 + 20 + pay);
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[8] = 64;
	ip[9] = 6;
	ip[12] = 10;
	ip[15] = 100;
	ip[16] = 198;
	ip[17] = 51;
	ip[18] = 100;
	ip[19] = 1;
	tcp[0] = 0x1f;
	tcp[1] = 0x90;
	tcp[7] = 0xe8;
	tcp[6] = 0x03;	/* seq 1000 */
	tcp[12] = 5 << 4;
	tcp[13] = 0x80 | 0x10 | 0x08 | 0x01;
	for (size_t i = 0; i < pay; i++)
		frame[54 + i] = (uint8_t)i;
	return 54 + pay;
}

static void gso_tcp4_cut_into_mss_frames(void **state)
{
	const struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1000, .csum_start = 34,
		.csum_offset = 16,
	};
	struct pkt_gso g;
	size_t len = tcp4(2500);

	(void)state;
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), 0);
	for (unsigned int k = 0; k < 3; k++) {
		size_t pay = k < 2 ? 1000 : 500;
		uint8_t *ip = out + 14, *tcp = out + 34;
		uint32_t s, d;
		int r = pkt_gso_next(&g, out, sizeof(out));

		assert_int_equal(r, 54 + pay);
		assert_int_equal(be16(ip + 2), 40 + pay);
		assert_int_equal(be16(ip + 4), 0x1234 + k);
		assert_int_equal(csum_ip4_header(ip, 20), 0);
		assert_int_equal(be32(tcp + 4), 1000 + 1000 * k);
		assert_int_equal(tcp[13] & 0x09, k == 2 ? 0x09 : 0);	/* FIN PSH */
		assert_int_equal(tcp[13] & 0x80, k == 0 ? 0x80 : 0);	/* CWR */
		assert_int_equal(tcp[13] & 0x10, 0x10);
		assert_int_equal(out[54], (uint8_t)(1000 * k));
		memcpy(&s, ip + 12, 4);
		memcpy(&d, ip + 16, 4);
		assert_int_equal(csum_finish(csum_partial(tcp, 20 + pay,
			csum_pseudo_ip4(s, d, 6, (uint16_t)(20 + pay)))), 0);
	}
	assert_int_equal(pkt_gso_next(&g, out, sizeof(out)), 0);
}

/* pkt_gso_cut(): the frames pkt_gso_next() writes, back to back; too
 * little room is an error, not a short count. */
static void gso_cut_whole_super_frame(void **state)
{
	const struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1000, .csum_start = 34,
		.csum_offset = 16,
	};
	static uint8_t all[2 * 4000];
	uint32_t off[PKT_GSO_SEGS_MAX], flen[PKT_GSO_SEGS_MAX];
	struct pkt_gso g;
	size_t len = tcp4(2500);

	(void)state;
	assert_int_equal(pkt_gso_cut(frame, len, &v, all, sizeof(all), off,
				     flen), 3);
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), 0);
	for (unsigned int k = 0; k < 3; k++) {
		int r = pkt_gso_next(&g, out, sizeof(out));

		assert_int_equal(flen[k], r);
		assert_int_equal(off[k], k ? off[k - 1] + flen[k - 1] : 0);
		assert_memory_equal(all + off[k], out, (size_t)r);
	}
	assert_int_equal(pkt_gso_cut(frame, len, &v, all, 54 + 1000 + 54,
				     off, flen), -ENOSPC);
}

/*
 * The most pkt_gso_cut() writes: a short super-frame with the longest
 * headers (IPv4 and TCP options, 134 bytes) and a gso_size of 1 becomes
 * PKT_GSO_SEGS_MAX frames, each with all its headers: far more than twice
 * its length, within PKT_GSO_CUT_MAX().
 */
static void gso_cut_bound_is_headers_per_frame(void **state)
{
	const size_t hdr = PKT_GSO_HDR_MAX, pay = PKT_GSO_SEGS_MAX;
	const struct pkt_vnet v = {
		.flags = VNET_F_NEEDS_CSUM, .gso_type = VNET_GSO_TCPV4,
		.hdr_len = (uint16_t)hdr, .gso_size = 1, .csum_start = 74,
		.csum_offset = 16,
	};
	static uint8_t all[PKT_GSO_CUT_MAX(PKT_GSO_HDR_MAX + PKT_GSO_SEGS_MAX)];
	uint32_t off[PKT_GSO_SEGS_MAX], flen[PKT_GSO_SEGS_MAX];
	size_t len = hdr + pay;

	(void)state;
	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;
	frame[14] = 0x4f;			/* IPv4, 60-byte header */
	frame[14 + 2] = (uint8_t)((len - 14) >> 8);
	frame[14 + 3] = (uint8_t)(len - 14);
	frame[14 + 9] = 6;
	frame[74 + 12] = 15 << 4;		/* TCP, 60-byte header */
	assert_int_equal(pkt_gso_cut(frame, len, &v, all, 2 * len, off, flen),
			 -ENOSPC);
	assert_int_equal(pkt_gso_cut(frame, len, &v, all, sizeof(all), off,
				     flen),
			 PKT_GSO_SEGS_MAX);
	assert_int_equal(flen[PKT_GSO_SEGS_MAX - 1], hdr + 1);
	assert_int_equal(off[PKT_GSO_SEGS_MAX - 1] + flen[PKT_GSO_SEGS_MAX - 1],
			 PKT_GSO_SEGS_MAX * (hdr + 1));
}

static void gso_udp6_checksum_finished(void **state)
{
	static uint8_t f[14 + 40 + 8 + 100 + 6];	/* with padding */
	const struct pkt_vnet v = { .flags = VNET_F_NEEDS_CSUM,
				    .csum_start = 54, .csum_offset = 6 };
	uint8_t *ip = f + 14, *udp = f + 54;
	struct pkt_gso g;

	(void)state;
	f[12] = 0x86;
	f[13] = 0xdd;
	ip[0] = 0x60;
	ip[5] = 108;
	ip[6] = 17;
	ip[7] = 64;
	ip[23] = 1;
	ip[39] = 2;
	udp[1] = 53;
	udp[3] = 54;
	udp[5] = 108;
	memset(udp + 8, 0xab, 100);
	assert_int_equal(pkt_gso_init(&g, f, sizeof(f), &v), 0);
	assert_int_equal(pkt_gso_next(&g, out, sizeof(out)), 14 + 40 + 108);
	assert_int_not_equal(be16(out + 54 + 6), 0);
	assert_int_equal(csum_finish(csum_partial(out + 54, 108,
		csum_pseudo_ip6(out + 22, out + 38, 17, 108))), 0);
	assert_int_equal(pkt_gso_next(&g, out, sizeof(out)), 0);
}

static void gso_refuses_what_it_cannot_follow(void **state)
{
	struct pkt_vnet v = { .flags = VNET_F_NEEDS_CSUM,
			      .gso_type = VNET_GSO_TCPV4, .gso_size = 0,
			      .csum_start = 34, .csum_offset = 16 };
	struct pkt_gso g;
	size_t len = tcp4(2500);

	(void)state;
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), -EINVAL);
	v.gso_size = 10;	/* 250 frames */
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), -E2BIG);
	v.gso_size = 1000;
	v.gso_type = VNET_GSO_TCPV6;
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), -EINVAL);
	v.gso_type = VNET_GSO_UDP;
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), -EOPNOTSUPP);
	v.gso_type = VNET_GSO_TCPV4;
	v.csum_start = 30;
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), -EINVAL);
	v.csum_start = 34;
	assert_int_equal(pkt_gso_init(&g, frame, 40, &v), -EINVAL);
	frame[34 + 12] = 0xf0;	/* a TCP header beyond the frame */
	assert_int_equal(pkt_gso_init(&g, frame, 60, &v), -EINVAL);
	/* a frame too big for the caller's room */
	len = tcp4(2500);
	assert_int_equal(pkt_gso_init(&g, frame, len, &v), 0);
	assert_int_equal(pkt_gso_next(&g, out, 100), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gso_tcp4_cut_into_mss_frames),
		cmocka_unit_test(gso_cut_whole_super_frame),
		cmocka_unit_test(gso_cut_bound_is_headers_per_frame),
		cmocka_unit_test(gso_udp6_checksum_finished),
		cmocka_unit_test(gso_refuses_what_it_cannot_follow),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
