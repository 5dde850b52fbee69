/* SPDX-License-Identifier: MIT */
/*
 * portbufs.h - the buffers a guest port's unit test (test_stream.c,
 * test_dgram.c) hands to the port's rx_burst and tx_burst: NB buffers of
 * the worker's size (headroom and DP_BUF_DATA_MAX), in bufs[], with vec[]
 * the burst's vector over them.
 *
 * empty_bufs() readies all of them for a receive; frame() fills one with a
 * frame of @len bytes of @tag for a send. A test may set NB before
 * including this header. Everything is static: each test program gets its
 * own copy.
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

#endif /* ARCNAT_TESTS_PORTBUFS_H */
