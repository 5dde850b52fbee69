/* SPDX-License-Identifier: MIT */
/*
 * portbufs.h - the buffers a guest port's unit test (test_stream.c,
 * test_dgram.c) hands to the port's rx_burst and tx_burst: NB buffers of
 * the worker's size (headroom and DP_BUF_DATA_MAX), in bufs[], with vec[]
 * the burst's vector over them.
 *
 * empty_bufs() readies all of them for a receive; frame() fills one with a
 * frame of @len bytes of @tag for a send, tcp_super_frame() with a TCP
 * super-frame (a GSO one, as the AF_PACKET uplink's GRO makes); tx_runts_refused() is the check
 * both ports pass on what the pipeline hands over out of bounds. A test may
 * set NB before including this header; include cmocka.h first.
 * Everything is static: each test program gets its own copy.
 */
#ifndef ARCNAT_TESTS_PORTBUFS_H
#define ARCNAT_TESTS_PORTBUFS_H

#include <stdint.h>
#include <string.h>

#include "dp/port.h"

#ifndef NB
#define NB 8
#endif

static uint8_t store[NB][DP_BUF_HEADROOM + DP_BUF_DATA_MAX];
static struct dp_buf bufs[NB];
static struct dp_buf *vec[NB];

/* Every buffer empty, with the standard headroom, in vec[] in order. */
static inline void empty_bufs(void)
{
	for (unsigned int i = 0; i < NB; i++) {
		bufs[i].head = store[i];
		bufs[i].cap = sizeof(store[i]);
		dp_buf_reset(&bufs[i]);
		vec[i] = &bufs[i];
	}
}

/* Buffer @i holds @len bytes of @tag; vec[@i] points at it. */
static inline void frame(unsigned int i, uint8_t tag, uint32_t len)
{
	bufs[i].head = store[i];
	bufs[i].cap = sizeof(store[i]);
	dp_buf_reset(&bufs[i]);
	memset(bufs[i].data, tag, len);
	bufs[i].len = len;
	vec[i] = &bufs[i];
}

/*
 * Buffer @i holds a TCP super-frame: Ethernet, IPv4 and TCP headers of 54
 * bytes (only the fields segmentation reads) and @payload bytes of zero,
 * checksum pending, to be cut into segments of @gso_size.
 */
static inline void tcp_super_frame(unsigned int i, uint32_t payload,
				   uint16_t gso_size)
{
	uint8_t *f;

	frame(i, 0, 54 + payload);
	f = bufs[i].data;
	f[12] = 0x08;		/* IPv4 */
	f[14] = 0x45;		/* version 4, 20-byte header */
	f[14 + 9] = 6;		/* TCP */
	f[34 + 12] = 5 << 4;	/* 20-byte TCP header */
	bufs[i].flags = DP_BUF_VNET;
	bufs[i].vnet = (struct pkt_vnet){ .flags = VNET_F_NEEDS_CSUM,
					  .gso_type = VNET_GSO_TCPV4,
					  .gso_size = gso_size,
					  .csum_start = 34,
					  .csum_offset = 16 };
}

/*
 * Offer @p a burst of a runt (13 bytes: no whole Ethernet header), a
 * 60-byte frame of 0x02 and another runt, on a port that has sent and
 * refused nothing yet: it consumes all three, refuses both runts (counted
 * in tx_dropped) and sends the frame. The test checks what reached its
 * peer.
 */
static inline void tx_runts_refused(struct dp_port *p)
{
	frame(0, 0x01, 13);
	frame(1, 0x02, 60);
	frame(2, 0x03, 13);
	assert_int_equal(p->ops->tx_burst(p, vec, 3, 0), 3);
	assert_int_equal(p->stats.tx_dropped, 2);
	assert_int_equal(p->stats.tx_packets, 1);
}

#endif /* ARCNAT_TESTS_PORTBUFS_H */
