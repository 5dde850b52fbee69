// SPDX-License-Identifier: MIT
/*
 * test_fdio.c - the TUN/TAP burst writer's answer to a full kernel queue:
 * "not now" (it stops and returns how many it consumed, counting nothing),
 * while a write refused for good is counted and the burst goes on.
 *
 * The fd is one end of a UNIX datagram socket pair, a stand-in for a TAP
 * fd with the same writev() and the same EAGAIN when the queue is full;
 * EMSGSIZE (a frame over the socket's send buffer) stands in for a write
 * refused for good.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_exit.h"
#include "dp/fdio.h"

#define FRAME_MAX 65536

static uint8_t store[4][DP_BUF_HEADROOM + FRAME_MAX];
static struct dp_buf bufs[4];
static struct dp_buf *v[4];

static void frame(unsigned int i, uint8_t tag, uint32_t len)
{
	bufs[i].head = store[i];
	bufs[i].cap = sizeof(store[i]);
	dp_buf_reset(&bufs[i]);
	memset(bufs[i].data, tag, len);
	bufs[i].len = len;
	v[i] = &bufs[i];
}

static struct dp_port *open_pair(int *peer)
{
	struct dp_port *p = NULL;
	int sv[2], small = 4096;

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
					     SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	assert_int_equal(dp_fdio_port_create(&p, sv[0], 0, 0, 1500, "pair"), 0);
	*peer = sv[1];
	return p;
}

static void fdio_full_queue_is_not_now(void **state)
{
	uint8_t got[64];
	unsigned int filler = 0;
	int peer;
	struct dp_port *p = open_pair(&peer);

	(void)state;
	while (send(p->fd, "x", 1, MSG_DONTWAIT) == 1)
		assert_true(++filler < 100000);
	assert_int_equal(errno, EAGAIN);

	frame(0, 0xa0, 60);
	frame(1, 0xa1, 60);
	frame(2, 0xa2, 60);
	assert_int_equal(p->ops->tx_burst(p, v, 3, 0), 0);
	assert_int_equal(p->stats.tx_dropped, 0);
	assert_int_equal(p->stats.tx_packets, 0);

	/* Room for one again: it goes, the next is "not now" once more. */
	assert_int_equal(recv(peer, got, sizeof(got), 0), 1);
	assert_int_equal(p->ops->tx_burst(p, v, 3, 0), 1);
	assert_int_equal(p->stats.tx_packets, 1);
	assert_int_equal(p->stats.tx_dropped, 0);

	dp_port_destroy(p);
	close(peer);
}

static void fdio_refused_for_good_is_counted_and_consumed(void **state)
{
	uint8_t got[128];
	int peer;
	struct dp_port *p = open_pair(&peer);

	(void)state;
	frame(0, 0xb0, 60);
	frame(1, 0xb1, FRAME_MAX);	/* over the send buffer: EMSGSIZE */
	frame(2, 0xb2, 60);
	assert_int_equal(p->ops->tx_burst(p, v, 3, 0), 3);
	assert_int_equal(p->stats.tx_dropped, 1);
	assert_int_equal(p->stats.tx_packets, 2);
	assert_int_equal(recv(peer, got, sizeof(got), 0), 60);
	assert_int_equal(got[0], 0xb0);
	assert_int_equal(recv(peer, got, sizeof(got), 0), 60);
	assert_int_equal(got[0], 0xb2);
	dp_port_destroy(p);
	close(peer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fdio_full_queue_is_not_now),
		cmocka_unit_test(fdio_refused_for_good_is_counted_and_consumed),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
