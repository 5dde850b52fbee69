// SPDX-License-Identifier: MIT
/*
 * portset.c - a worker's ports, their epoll tags and transmit queues.
 */
#include "dp/portset.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>

#include "core/assert.h"
#include "core/log.h"

/* Each queued copy gets the standard headroom on top of the largest frame
 * a worker buffer can hold, whatever headroom the original had left. */
#define DP_TXQ_SPAN	(2u * DP_BUF_HEADROOM + DP_BUF_DATA_MAX)

void dp_ports_init(struct dp_ports *ps, int ep)
{
	memset(ps, 0, sizeof(*ps));
	ps->ep = ep;
}

static uint64_t dp_slot_tag(const struct dp_slot *s, unsigned int idx)
{
	return dp_tag(s->kind, idx, s->gen, 0);
}

static unsigned int dp_slot_idx(const struct dp_ports *ps,
				const struct dp_slot *s)
{
	return (unsigned int)(s - ps->slot);
}

static int dp_slot_epoll(struct dp_ports *ps, struct dp_slot *s, int op,
			 bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out ? EPOLLOUT : 0),
		.data.u64 = dp_slot_tag(s, dp_slot_idx(ps, s)),
	};

	return epoll_ctl(ps->ep, op, s->port->fd, &ev) < 0 ? -errno : 0;
}

static int dp_txq_map(struct dp_txq *q)
{
	q->storage_len = (size_t)DP_TXQ_LEN * DP_TXQ_SPAN;
	q->storage = mmap(NULL, q->storage_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q->storage == MAP_FAILED) {
		q->storage = NULL;
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < DP_TXQ_LEN; i++) {
		q->bufs[i].head = q->storage + (size_t)i * DP_TXQ_SPAN;
		q->bufs[i].cap = DP_TXQ_SPAN;
		dp_buf_reset(&q->bufs[i]);
	}
	q->head = q->count = 0;
	return 0;
}

static void dp_txq_unmap(struct dp_txq *q)
{
	if (q->storage)
		munmap(q->storage, q->storage_len);
	q->storage = NULL;
	q->count = 0;
}

int dp_ports_add(struct dp_ports *ps, struct dp_port *p, enum dp_tag_kind kind,
		 bool owned, unsigned int *idx)
{
	struct dp_slot *s = NULL;
	int err;

	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		if (!ps->slot[i].port) {
			s = &ps->slot[i];
			break;
		}
	}
	if (!s)
		return -ENOSPC;
	err = dp_txq_map(&s->q);
	if (err)
		return err;
	s->port = p;
	s->kind = kind;
	s->owned = owned;
	s->armed = false;
	s->tx_queued = s->tx_queue_full = 0;
	err = dp_slot_epoll(ps, s, EPOLL_CTL_ADD, false);
	if (err) {
		dp_txq_unmap(&s->q);
		s->port = NULL;
		return err;
	}
	if (idx)
		*idx = dp_slot_idx(ps, s);
	return 0;
}

/* EPOLL_CTL_ADD or _MOD of an extra fd of the port in slot @idx. */
static int dp_ports_ctl_fd(struct dp_ports *ps, int op, unsigned int idx,
			   int fd, uint32_t sub, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	struct dp_slot *s;

	if (idx >= DP_PORTS_MAX || !ps->slot[idx].port || !sub)
		return -EINVAL;
	s = &ps->slot[idx];
	ev.data.u64 = dp_tag(s->kind, idx, s->gen, sub);
	return epoll_ctl(ps->ep, op, fd, &ev) < 0 ? -errno : 0;
}

int dp_ports_add_fd(struct dp_ports *ps, unsigned int idx, int fd,
		    uint32_t sub, uint32_t events)
{
	return dp_ports_ctl_fd(ps, EPOLL_CTL_ADD, idx, fd, sub, events);
}

int dp_ports_mod_fd(struct dp_ports *ps, unsigned int idx, int fd,
		    uint32_t sub, uint32_t events)
{
	return dp_ports_ctl_fd(ps, EPOLL_CTL_MOD, idx, fd, sub, events);
}

int dp_ports_del_fd(struct dp_ports *ps, int fd)
{
	return epoll_ctl(ps->ep, EPOLL_CTL_DEL, fd, NULL) < 0 ? -errno : 0;
}

void dp_ports_remove(struct dp_ports *ps, unsigned int idx)
{
	struct dp_slot *s;
	struct dp_port_stats st;

	if (idx >= DP_PORTS_MAX || !ps->slot[idx].port)
		return;
	s = &ps->slot[idx];
	/* Gone from the ready list; events already returned are stale by
	 * the generation bumped below. */
	if (epoll_ctl(ps->ep, EPOLL_CTL_DEL, s->port->fd, NULL) < 0)
		log_warn("%s: epoll_ctl: %s", s->port->name, strerror(errno));
	if (s->kind == DP_TAG_GUEST) {
		dp_ports_stats(s, &st);
		dp_ports_stats_add(&ps->gone, &st);
	}
	ps->gone_queued += s->q.count;
	dp_txq_unmap(&s->q);
	if (s->owned)
		dp_port_destroy(s->port);
	s->port = NULL;
	s->gen++;
}

int dp_ports_find(const struct dp_ports *ps, const struct dp_port *p)
{
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++)
		if (ps->slot[i].port == p)
			return (int)i;
	return -ENOENT;
}

struct dp_slot *dp_ports_of_tag(struct dp_ports *ps, uint64_t tag)
{
	unsigned int idx = (unsigned int)(tag >> 4) & 0xfffu;
	struct dp_slot *s;

	if (idx >= DP_PORTS_MAX)
		return NULL;
	s = &ps->slot[idx];
	if (!s->port || s->gen != (uint16_t)(tag >> 16) ||
	    (unsigned int)s->kind != dp_tag_kind(tag))
		return NULL;
	return s;
}

/* EPOLLOUT on while frames wait, off once the queue is empty: a writable
 * fd is level-triggered and would wake the worker for nothing. */
static void dp_slot_arm(struct dp_ports *ps, struct dp_slot *s, bool on)
{
	int err;

	if (s->armed == on)
		return;
	if (s->port->flags & DP_PORT_KICK) {	/* fd_event() says DP_FD_TX */
		s->armed = on;
		return;
	}
	err = dp_slot_epoll(ps, s, EPOLL_CTL_MOD, on);
	if (err) {
		log_warn("%s: epoll_ctl: %s", s->port->name, strerror(-err));
		return;
	}
	s->armed = on;
}

/* Offer the queue to the port, oldest first. Return: true if it emptied. */
static bool dp_txq_flush(struct dp_slot *s, uint64_t now)
{
	struct dp_txq *q = &s->q;
	struct dp_buf *v[DP_TXQ_LEN];
	unsigned int n = q->count, took;

	for (unsigned int i = 0; i < n; i++)
		v[i] = &q->bufs[(q->head + i) % DP_TXQ_LEN];
	took = s->port->ops->tx_burst(s->port, v, n, now);
	ARC_ASSERT(took <= n);
	q->head = (q->head + took) % DP_TXQ_LEN;
	q->count -= took;
	return q->count == 0;
}

static void dp_txq_push(struct dp_slot *s, const struct dp_buf *b)
{
	struct dp_txq *q = &s->q;
	struct dp_buf *c;

	if (q->count == DP_TXQ_LEN) {
		s->tx_queue_full++;
		return;
	}
	c = &q->bufs[(q->head + q->count) % DP_TXQ_LEN];
	dp_buf_reset(c);
	ARC_ASSERT(b->len <= dp_buf_room(c));
	memcpy(c->data, b->data, b->len);
	c->len = b->len;
	c->flags = b->flags;
	c->vnet = b->vnet;
	c->flow = b->flow;
	q->count++;
	s->tx_queued++;
}

unsigned int dp_ports_tx(struct dp_ports *ps, struct dp_slot *s,
			 struct dp_buf **bufs, unsigned int n, uint64_t now)
{
	unsigned int took = 0;

	if (!n)
		return 0;
	if (!s->q.count || dp_txq_flush(s, now))
		took = s->port->ops->tx_burst(s->port, bufs, n, now);
	ARC_ASSERT(took <= n);
	for (unsigned int i = took; i < n; i++)
		dp_txq_push(s, bufs[i]);
	dp_slot_arm(ps, s, s->q.count != 0);
	return took;
}

void dp_ports_tx_fanout(struct dp_ports *ps, struct dp_buf **bufs,
			const uint64_t *masks, unsigned int n, uint64_t now)
{
	struct dp_buf *v[DP_BURST_MAX];
	uint64_t all = 0;

	static_assert(DP_PORTS_MAX <= 64, "a port mask has 64 bits");
	ARC_ASSERT(n <= DP_BURST_MAX);
	for (unsigned int i = 0; i < n; i++)
		all |= masks[i];
	while (all) {
		unsigned int idx = (unsigned int)__builtin_ctzll(all);
		uint64_t bit = (uint64_t)1 << idx;
		unsigned int k = 0;

		all &= ~bit;
		if (!ps->slot[idx].port)
			continue;
		for (unsigned int i = 0; i < n; i++)
			if (masks[i] & bit)
				v[k++] = bufs[i];
		dp_ports_tx(ps, &ps->slot[idx], v, k, now);
	}
}

void dp_ports_writable(struct dp_ports *ps, struct dp_slot *s, uint64_t now)
{
	if (s->q.count)
		dp_txq_flush(s, now);
	dp_slot_arm(ps, s, s->q.count != 0);
}

void dp_ports_stats(const struct dp_slot *s, struct dp_port_stats *out)
{
	dp_port_get_stats(s->port, out);
	out->tx_queued = s->tx_queued;
	out->tx_queue_full = s->tx_queue_full;
}

void dp_ports_stats_add(struct dp_port_stats *sum,
			const struct dp_port_stats *s)
{
	sum->rx_packets += s->rx_packets;
	sum->rx_bytes += s->rx_bytes;
	sum->rx_errors += s->rx_errors;
	sum->rx_dropped += s->rx_dropped;
	sum->tx_packets += s->tx_packets;
	sum->tx_bytes += s->tx_bytes;
	sum->tx_dropped += s->tx_dropped;
	sum->tx_lost += s->tx_lost;
	sum->tx_queued += s->tx_queued;
	sum->tx_queue_full += s->tx_queue_full;
}

void dp_ports_side_stats(const struct dp_ports *ps, bool guests,
			 struct dp_port_stats *out)
{
	*out = guests ? ps->gone : (struct dp_port_stats){ 0 };
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		const struct dp_slot *s = &ps->slot[i];
		struct dp_port_stats st;

		if (!s->port || (s->kind == DP_TAG_GUEST) != guests)
			continue;
		dp_ports_stats(s, &st);
		dp_ports_stats_add(out, &st);
	}
}

static void dp_print_port(FILE *f, const char *side,
			  const struct dp_port_stats *s)
{
	fprintf(f, "stat %s.rx_packets %" PRIu64 "\n", side, s->rx_packets);
	fprintf(f, "stat %s.rx_bytes %" PRIu64 "\n", side, s->rx_bytes);
	fprintf(f, "stat %s.rx_errors %" PRIu64 "\n", side, s->rx_errors);
	fprintf(f, "stat %s.rx_dropped %" PRIu64 "\n", side, s->rx_dropped);
	fprintf(f, "stat %s.tx_packets %" PRIu64 "\n", side, s->tx_packets);
	fprintf(f, "stat %s.tx_bytes %" PRIu64 "\n", side, s->tx_bytes);
	fprintf(f, "stat %s.tx_dropped %" PRIu64 "\n", side, s->tx_dropped);
	fprintf(f, "stat %s.tx_lost %" PRIu64 "\n", side, s->tx_lost);
	fprintf(f, "stat %s.tx_queued %" PRIu64 "\n", side, s->tx_queued);
	fprintf(f, "stat %s.tx_queue_full %" PRIu64 "\n", side,
		s->tx_queue_full);
}

unsigned int dp_ports_count(const struct dp_ports *ps, enum dp_tag_kind kind)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < DP_PORTS_MAX; i++)
		if (ps->slot[i].port && ps->slot[i].kind == kind)
			n++;
	return n;
}

/*
 * inside.* is the guest segment, outside.* the uplink; with several guest
 * ports each also gets its own lines, under guestN (N its slot), named
 * once; a listener (DP_PORT_LISTENER: it carries no frames) is named as
 * one and gets no frame counters. A port's own lines (ops->print_stats) go
 * under its side's name, or its guestN.
 */
void dp_ports_print(const struct dp_ports *ps, FILE *f)
{
	unsigned int guests = dp_ports_count(ps, DP_TAG_GUEST);
	struct dp_port_stats st;
	char pfx[32];

	dp_ports_side_stats(ps, true, &st);
	dp_print_port(f, "inside", &st);
	dp_ports_side_stats(ps, false, &st);
	dp_print_port(f, "outside", &st);
	fprintf(f, "stat ports.guests %u\n", guests);
	fprintf(f, "stat ports.gone_queued %" PRIu64 "\n", ps->gone_queued);
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		const struct dp_slot *s = &ps->slot[i];

		if (!s->port)
			continue;
		snprintf(pfx, sizeof(pfx), "%s",
			 s->kind == DP_TAG_GUEST ? "inside" : "outside");
		if (s->kind == DP_TAG_GUEST && guests > 1) {
			bool listener = s->port->flags & DP_PORT_LISTENER;

			snprintf(pfx, sizeof(pfx), "guest%u", i);
			fprintf(f, "arcnat: port %s is %s%s\n", pfx, s->port->name,
				listener ? " (a listener: no frames)" : "");
			if (!listener) {
				dp_ports_stats(s, &st);
				dp_print_port(f, pfx, &st);
			}
		}
		if (s->port->ops->print_stats)
			s->port->ops->print_stats(s->port, f, pfx);
	}
}

void dp_ports_fini(struct dp_ports *ps)
{
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++)
		dp_ports_remove(ps, i);
}
