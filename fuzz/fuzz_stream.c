// SPDX-License-Identifier: MIT
/*
 * fuzz_stream.c - libFuzzer harness for the stream port's framing
 * (src/guest/stream): a byte stream, written to a real UNIX stream socket
 * in pieces the input cuts, read by the port's rx_burst in bursts the
 * input sizes.
 *
 * Input: records of ctl, then the data of a piece (the input ends where
 * the socket's buffer is full).
 *   ctl  bits 0-5 the piece's length (0..63); bits 6-7 the burst size
 *        for the rx_burst that follows it (1, 2, 8, DP_BURST_MAX)
 *
 * Checks: every frame handed over has a length in STREAM_FRAME_MIN..MAX
 * and equals, byte for byte, the next frame of the stream as the input
 * framed it; once rx_burst fails (a bad length, the end), it keeps failing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guest/stream.h"

#define NB	DP_BURST_MAX

static uint8_t store[NB][DP_BUF_HEADROOM + DP_BUF_DATA_MAX];
static struct dp_buf bufs[NB];
static struct dp_buf *vec[NB];
static uint8_t sent[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int burst[4] = { 1, 2, 8, NB };
	struct dp_port *p;
	size_t nsent = 0, checked = 0;
	int sv[2];
	bool failed = false;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		abort();
	if (stream_conn_open(&p, sv[0], 1500, "fuzz"))
		abort();
	for (size_t i = 0; i < size && nsent < sizeof(sent);) {
		uint8_t ctl = data[i++];
		size_t len = ctl & 63u;
		ssize_t w;
		int r;

		if (len > size - i)
			len = size - i;
		if (len > sizeof(sent) - nsent)
			len = sizeof(sent) - nsent;
		w = len ? write(sv[1], data + i, len) : 0;
		/* Many small writes fill the socket's buffer (each costs a
		 * whole skb): what did not fit is not part of the stream. */
		if (w < 0)
			w = 0;
		memcpy(sent + nsent, data + i, (size_t)w);
		nsent += (size_t)w;
		i = (size_t)w < len ? size : i + len;
		for (unsigned int k = 0; k < NB; k++) {
			bufs[k].head = store[k];
			bufs[k].cap = sizeof(store[k]);
			dp_buf_reset(&bufs[k]);
			vec[k] = &bufs[k];
		}
		r = p->ops->rx_burst(p, vec, burst[ctl >> 6], 0);
		if (r < 0) {
			failed = true;
			continue;
		}
		if (failed && r > 0)
			abort();	/* a broken framing stays broken */
		for (int k = 0; k < r; k++) {
			uint32_t flen;

			if (checked + 4 + bufs[k].len > nsent)
				abort();
			flen = (uint32_t)sent[checked] << 24 |
			       (uint32_t)sent[checked + 1] << 16 |
			       (uint32_t)sent[checked + 2] << 8 | sent[checked + 3];
			if (flen != bufs[k].len || flen < STREAM_FRAME_MIN ||
			    flen > STREAM_FRAME_MAX ||
			    memcmp(bufs[k].data, sent + checked + 4, flen) != 0)
				abort();
			checked += 4 + flen;
		}
	}
	dp_port_destroy(p);
	close(sv[1]);
	return 0;
}
