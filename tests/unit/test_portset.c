// SPDX-License-Identifier: MIT
/*
 * test_portset.c - the worker's port table: epoll tags with generations,
 * the transmit queue of a port that says "not now", in order, bounded and
 * counted, and EPOLLOUT armed exactly while frames wait; a port's extra
 * fds under its slot's tag with their own sub-index.
 *
 * The port is a test double whose tx takes @room frames and then says
 * "not now" (returns early); its fd is an eventfd, always writable, so
 * that epoll reports EPOLLOUT whenever the table has armed it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "dp/portset.h"

#define SENT_MAX 256

struct fport {
	struct dp_port port;
	unsigned int room;		/* frames it takes before "not now" */
	uint8_t sent[SENT_MAX];		/* first byte of each frame taken */
	unsigned int n_sent;
	bool destroyed;
};

static unsigned int fp_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	struct fport *f = container_of(p, struct fport, port);
	unsigned int i;

	(void)now;
	for (i = 0; i < n && f->room; i++, f->room--) {
		dp_buf_check(bufs[i], DP_BUF_HEADROOM);
		assert_true(f->n_sent < SENT_MAX);
		f->sent[f->n_sent++] = bufs[i]->data[0];
		p->stats.tx_packets++;
	}
	return i;
}

static int fp_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	(void)p;
	(void)bufs;
	(void)n;
	(void)now;
	return 0;
}

static void fp_destroy(struct dp_port *p)
{
	container_of(p, struct fport, port)->destroyed = true;
}

static const struct dp_port_ops fp_ops = {
	.rx_burst = fp_rx,
	.tx_burst = fp_tx,
	.destroy = fp_destroy,
};

/* The port's tx reads it through the table: a call, not an assignment
 * a static checker takes for dead. */
static void fp_set_room(struct fport *f, unsigned int room)
{
	f->room = room;
}

static void fp_init(struct fport *f)
{
	memset(f, 0, sizeof(*f));
	f->port.ops = &fp_ops;
	f->port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(f->port.fd >= 0);
}

/* Frames whose first byte is @first, @first + 1, ... in worker-like
 * buffers (storage with the standard headroom). */
struct frames {
	uint8_t store[DP_TXQ_LEN + 8][DP_BUF_HEADROOM + 64];
	struct dp_buf b[DP_TXQ_LEN + 8];
	struct dp_buf *v[DP_TXQ_LEN + 8];
};

static void frames_make(struct frames *fr, unsigned int n, uint8_t first)
{
	assert_true(n <= DP_TXQ_LEN + 8);
	for (unsigned int i = 0; i < n; i++) {
		fr->b[i].head = fr->store[i];
		fr->b[i].cap = sizeof(fr->store[i]);
		dp_buf_reset(&fr->b[i]);
		memset(fr->b[i].data, (uint8_t)(first + i), 60);
		fr->b[i].len = 60;
		fr->v[i] = &fr->b[i];
	}
}

/* The EPOLLOUT state of the port as epoll reports it now. */
static bool out_armed(int ep)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, 0);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		if (ev[i].events & EPOLLOUT)
			return true;
	return false;
}

static void portset_tags_of_removed_ports_are_stale(void **state)
{
	struct dp_ports ps;
	struct fport a, b;
	unsigned int ia, ib;
	uint64_t tag_a;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)state;
	assert_true(ep >= 0);
	fp_init(&a);
	fp_init(&b);
	dp_ports_init(&ps, ep);
	assert_int_equal(dp_ports_add(&ps, &a.port, DP_TAG_GUEST, true, &ia), 0);
	tag_a = dp_tag(DP_TAG_GUEST, ia, ps.slot[ia].gen, 0);
	assert_ptr_equal(dp_ports_of_tag(&ps, tag_a), &ps.slot[ia]);
	/* The kind is part of the name. */
	assert_null(dp_ports_of_tag(&ps, dp_tag(DP_TAG_UPLINK, ia,
						ps.slot[ia].gen, 0)));
	assert_int_equal(dp_ports_find(&ps, &a.port), (int)ia);

	dp_ports_remove(&ps, ia);
	assert_true(a.destroyed);
	assert_null(dp_ports_of_tag(&ps, tag_a));
	assert_int_equal(dp_ports_find(&ps, &a.port), -ENOENT);
	/* The slot is reused: the old tag still names nothing. */
	assert_int_equal(dp_ports_add(&ps, &b.port, DP_TAG_GUEST, false, &ib), 0);
	assert_int_equal(ib, ia);
	assert_null(dp_ports_of_tag(&ps, tag_a));
	assert_ptr_equal(dp_ports_of_tag(&ps, dp_tag(DP_TAG_GUEST, ib,
						     ps.slot[ib].gen, 0)),
			 &ps.slot[ib]);
	dp_ports_fini(&ps);
	assert_false(b.destroyed);	/* borrowed */
	close(a.port.fd);
	close(b.port.fd);
	close(ep);
}

static void portset_table_is_bounded(void **state)
{
	static struct fport f[DP_PORTS_MAX + 1];
	struct dp_ports ps;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)state;
	assert_true(ep >= 0);
	dp_ports_init(&ps, ep);
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		fp_init(&f[i]);
		assert_int_equal(dp_ports_add(&ps, &f[i].port, DP_TAG_GUEST,
					      false, NULL), 0);
	}
	fp_init(&f[DP_PORTS_MAX]);
	assert_int_equal(dp_ports_add(&ps, &f[DP_PORTS_MAX].port, DP_TAG_GUEST,
				      false, NULL), -ENOSPC);
	dp_ports_fini(&ps);
	for (unsigned int i = 0; i <= DP_PORTS_MAX; i++)
		close(f[i].port.fd);
	close(ep);
}

/*
 * 5 frames to a port with room for 2: 2 go, 3 wait and EPOLLOUT is armed.
 * Then 2 more with room again: the 3 waiting go first, in order, then the
 * new ones, and EPOLLOUT is off.
 */
static void portset_not_now_is_queued_and_flushed_in_order(void **state)
{
	static struct frames fr;
	struct dp_port_stats st;
	struct dp_ports ps;
	struct fport a;
	unsigned int ia;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)state;
	assert_true(ep >= 0);
	fp_init(&a);
	dp_ports_init(&ps, ep);
	assert_int_equal(dp_ports_add(&ps, &a.port, DP_TAG_GUEST, false, &ia), 0);
	assert_false(out_armed(ep));

	fp_set_room(&a, 2);
	frames_make(&fr, 5, 10);
	assert_int_equal(dp_ports_tx(&ps, &ps.slot[ia], fr.v, 5, 0), 2);
	/* The caller's buffers are reused at once: the queue has copies. */
	frames_make(&fr, 5, 99);
	assert_true(out_armed(ep));
	dp_ports_stats(&ps.slot[ia], &st);
	assert_int_equal(st.tx_queued, 3);
	assert_int_equal(st.tx_packets, 2);

	/* Writable, but still room for one only: one goes, two wait. */
	fp_set_room(&a, 1);
	dp_ports_writable(&ps, &ps.slot[ia], 0);
	assert_int_equal(a.n_sent, 3);
	assert_true(out_armed(ep));

	fp_set_room(&a, 100);
	frames_make(&fr, 2, 20);
	assert_int_equal(dp_ports_tx(&ps, &ps.slot[ia], fr.v, 2, 0), 2);
	assert_int_equal(a.n_sent, 7);
	assert_memory_equal(a.sent, ((const uint8_t[]){ 10, 11, 12, 13, 14, 20,
							 21 }), 7);
	assert_false(out_armed(ep));
	dp_ports_stats(&ps.slot[ia], &st);
	assert_int_equal(st.tx_queued, 3);
	assert_int_equal(st.tx_queue_full, 0);
	assert_int_equal(ps.gone_queued, 0);
	dp_ports_fini(&ps);
	close(a.port.fd);
	close(ep);
}

/*
 * A port that takes nothing: DP_TXQ_LEN frames wait, the 5 beyond are
 * dropped and counted; removing the port drops (and counts) the waiting
 * ones.
 */
static void portset_full_queue_drops_and_counts(void **state)
{
	static struct frames fr;
	struct dp_port_stats st;
	struct dp_ports ps;
	struct fport a;
	unsigned int ia;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	(void)state;
	assert_true(ep >= 0);
	fp_init(&a);
	dp_ports_init(&ps, ep);
	assert_int_equal(dp_ports_add(&ps, &a.port, DP_TAG_GUEST, true, &ia), 0);
	frames_make(&fr, DP_TXQ_LEN + 5, 0);
	assert_int_equal(dp_ports_tx(&ps, &ps.slot[ia], fr.v, DP_TXQ_LEN + 5, 0),
			 0);
	dp_ports_stats(&ps.slot[ia], &st);
	assert_int_equal(st.tx_queued, DP_TXQ_LEN);
	assert_int_equal(st.tx_queue_full, 5);
	assert_int_equal(st.tx_dropped, 0);	/* the port refused nothing */

	/* Writable at last: the oldest frames, the first DP_TXQ_LEN. */
	fp_set_room(&a, 3);
	dp_ports_writable(&ps, &ps.slot[ia], 0);
	assert_memory_equal(a.sent, ((const uint8_t[]){ 0, 1, 2 }), 3);

	dp_ports_remove(&ps, ia);
	assert_true(a.destroyed);
	assert_int_equal(ps.gone_queued, DP_TXQ_LEN - 3);
	assert_int_equal(ps.gone.tx_queue_full, 5);
	assert_int_equal(ps.gone.tx_queued, DP_TXQ_LEN);
	dp_ports_fini(&ps);
	close(a.port.fd);
	close(ep);
}

/*
 * Extra fds: each registered under its port's slot with a sub-index, so
 * an event names slot, generation and sub-index; once the port is removed
 * (its fd unregistered by the port, the generation bumped) the tag of an
 * event already returned is stale. A DP_PORT_KICK port never gets EPOLLOUT
 * armed on its own fd (always writable here): its queue waits for a kick.
 */
static void portset_extra_fds_carry_sub_index_and_generation(void **state)
{
	static struct frames fr;
	struct dp_ports ps;
	struct epoll_event ev[4];
	struct fport a;
	unsigned int ia;
	uint64_t one = 1, tag;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	(void)state;
	assert_true(ep >= 0 && kick >= 0);
	fp_init(&a);
	a.port.flags = DP_PORT_KICK;
	dp_ports_init(&ps, ep);
	assert_int_equal(dp_ports_add(&ps, &a.port, DP_TAG_GUEST, false, &ia), 0);
	assert_int_equal(dp_ports_add_fd(&ps, ia, kick, 0, EPOLLIN), -EINVAL);
	assert_int_equal(dp_ports_add_fd(&ps, ia + 1, kick, 7, EPOLLIN),
			 -EINVAL);
	assert_int_equal(dp_ports_add_fd(&ps, ia, kick, 7, EPOLLOUT), 0);
	assert_int_equal(dp_ports_add_fd(&ps, ia, kick, 8, EPOLLIN), -EEXIST);
	/* Watched for EPOLLOUT (an eventfd is always writable) under 7. */
	assert_int_equal(epoll_wait(ep, ev, 4, 0), 1);
	assert_true(ev[0].events & EPOLLOUT);
	assert_int_equal(dp_tag_sub(ev[0].data.u64), 7);
	/* Then for EPOLLIN only: quiet until written. */
	assert_int_equal(dp_ports_mod_fd(&ps, ia, kick, 7, EPOLLIN), 0);
	assert_int_equal(epoll_wait(ep, ev, 4, 0), 0);
	assert_int_equal(dp_ports_mod_fd(&ps, ia, kick, 0, EPOLLIN), -EINVAL);

	/* Not now: queued, and no EPOLLOUT on the port's own fd. */
	frames_make(&fr, 2, 1);
	assert_int_equal(dp_ports_tx(&ps, &ps.slot[ia], fr.v, 2, 0), 0);
	assert_false(out_armed(ep));
	assert_true(ps.slot[ia].armed);

	assert_int_equal(write(kick, &one, sizeof(one)), sizeof(one));
	assert_int_equal(epoll_wait(ep, ev, 4, 0), 1);
	tag = ev[0].data.u64;
	assert_int_equal(dp_tag_sub(tag), 7);
	assert_int_equal(dp_tag_kind(tag), DP_TAG_GUEST);
	assert_ptr_equal(dp_ports_of_tag(&ps, tag), &ps.slot[ia]);

	/* The kick said there is room: the queue goes, in order. */
	fp_set_room(&a, 10);
	dp_ports_writable(&ps, &ps.slot[ia], 0);
	assert_int_equal(a.n_sent, 2);
	assert_false(ps.slot[ia].armed);

	assert_int_equal(dp_ports_del_fd(&ps, kick), 0);
	assert_int_equal(dp_ports_del_fd(&ps, kick), -ENOENT);
	assert_int_equal(dp_ports_mod_fd(&ps, ia, kick, 7, EPOLLIN), -ENOENT);
	assert_int_equal(epoll_wait(ep, ev, 4, 0), 0);
	dp_ports_remove(&ps, ia);
	assert_null(dp_ports_of_tag(&ps, tag));
	dp_ports_fini(&ps);
	close(kick);
	close(a.port.fd);
	close(ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(portset_tags_of_removed_ports_are_stale),
		cmocka_unit_test(portset_table_is_bounded),
		cmocka_unit_test(portset_not_now_is_queued_and_flushed_in_order),
		cmocka_unit_test(portset_full_queue_drops_and_counts),
		cmocka_unit_test(portset_extra_fds_carry_sub_index_and_generation),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
