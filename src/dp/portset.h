/* SPDX-License-Identifier: MIT */
/*
 * portset.h - a worker's ports: a bounded table of slots, the epoll tag of
 * each, and each port's transmit queue (back-pressure, dp/port.h).
 *
 * Theory of operation: a port lives in a slot for as long as it is
 * attached. Its fd is registered with the worker's epoll under a 64-bit
 * tag that names the slot: the slot's kind, its index, its generation
 * (bumped when the slot is emptied, so that an event already returned by
 * epoll_wait() for a port removed in the same wakeup, or for a slot reused
 * since, is recognised as stale and ignored) and a sub-index, 0 for the
 * port's own fd. A port that owns more fds registers each under its slot
 * with a sub-index of its own choosing (dp_ports_add_fd(): a vhost-user
 * port's kick eventfds, later an uplink's socket per flow; see
 * docs/architecture.md, "Ports"): the generation tells a removed port's
 * events apart, the port itself a sub-index it has retired. A port with
 * DP_PORT_KICK learns that it can take frames again from such an fd, so
 * EPOLLOUT is never armed on its own fd.
 *
 * Each slot has a queue of DP_TXQ_LEN frames, mapped when the port is
 * added (pages are touched only when used) so that the packet path never
 * allocates. dp_ports_tx() offers frames to the port; what the port cannot
 * take now is copied into the queue (the caller's buffers are reused after
 * the burst) and EPOLLOUT is armed on the port's fd; dp_ports_writable()
 * offers the queue again, oldest first, and disarms EPOLLOUT once it is
 * empty. While the queue holds frames, newer frames go behind them, so a
 * port sees its frames in order. Only a full queue drops, counted.
 *
 * Only the worker's thread touches a dp_ports.
 */
#ifndef ARCNAT_DP_PORTSET_H
#define ARCNAT_DP_PORTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/port.h"

#define DP_PORTS_MAX	64u	/* ports of one worker, the uplink included */
#define DP_TXQ_LEN	64u	/* frames one port's queue holds: one burst */

/* What an epoll tag names: bits 0-3 of the tag. */
enum dp_tag_kind {
	DP_TAG_TIMER = 1,
	DP_TAG_CTL,
	DP_TAG_GUEST,		/* a guest port's slot */
	DP_TAG_UPLINK,		/* an uplink's slot */
};

/**
 * dp_tag() - an epoll tag.
 * @kind: enum dp_tag_kind
 * @idx:  slot index (below 4096)
 * @gen:  the slot's generation
 * @sub:  which of the port's fds: 0 for dp_port.fd
 *
 * Return: kind in bits 0-3, index in 4-15, generation in 16-31, sub-index
 * in 32-63.
 */
static inline uint64_t dp_tag(enum dp_tag_kind kind, unsigned int idx,
			      uint16_t gen, uint32_t sub)
{
	return (uint64_t)kind | (uint64_t)(idx & 0xfffu) << 4 |
	       (uint64_t)gen << 16 | (uint64_t)sub << 32;
}

/** dp_tag_kind() - kind of @tag. @tag: tag. Return: enum dp_tag_kind. */
static inline unsigned int dp_tag_kind(uint64_t tag)
{
	return (unsigned int)(tag & 0xfu);
}

/** dp_tag_sub() - sub-index of @tag. @tag: tag. Return: it. */
static inline uint32_t dp_tag_sub(uint64_t tag)
{
	return (uint32_t)(tag >> 32);
}

/**
 * struct dp_txq - a port's transmit queue: a ring of copies.
 * @bufs:        DP_TXQ_LEN buffers over @storage
 * @head:        oldest frame
 * @count:       frames queued
 * @storage:     their storage, mapped at add
 * @storage_len: its length
 */
struct dp_txq {
	struct dp_buf bufs[DP_TXQ_LEN];
	unsigned int head;
	unsigned int count;
	uint8_t *storage;
	size_t storage_len;
};

/**
 * struct dp_slot - one attached port.
 * @port:          the port, NULL when the slot is free
 * @kind:          DP_TAG_GUEST or DP_TAG_UPLINK
 * @gen:           generation, bumped when the slot is emptied
 * @owned:         destroy the port when it is removed
 * @armed:         EPOLLOUT is armed on the port's fd
 * @q:             frames waiting for the port to be writable
 * @tx_queued:     frames that went into @q
 * @tx_queue_full: frames dropped because @q was full
 */
struct dp_slot {
	struct dp_port *port;
	enum dp_tag_kind kind;
	uint16_t gen;
	bool owned;
	bool armed;
	struct dp_txq q;
	uint64_t tx_queued;
	uint64_t tx_queue_full;
};

/**
 * struct dp_ports - the table.
 * @ep:         the worker's epoll fd
 * @slot:       slots
 * @gone:       the counters of guest ports removed since, summed, so that
 *              the guest segment's totals never go down
 * @gone_queued: frames still queued for a port when it was removed
 */
struct dp_ports {
	int ep;
	struct dp_slot slot[DP_PORTS_MAX];
	struct dp_port_stats gone;
	uint64_t gone_queued;
};

/**
 * dp_ports_init() - an empty table.
 * @ps: table
 * @ep: epoll fd the ports are registered with
 */
void dp_ports_init(struct dp_ports *ps, int ep);

/**
 * dp_ports_add() - attach a port: map its queue, register its fd.
 * @ps:    table
 * @p:     port
 * @kind:  DP_TAG_GUEST or DP_TAG_UPLINK
 * @owned: the table destroys @p when it is removed (otherwise borrowed)
 * @idx:   its slot index, or NULL
 *
 * Return: 0; -ENOSPC table full; -ENOMEM; -errno of epoll_ctl(). On error
 * nothing is attached and @p is left to the caller.
 */
int dp_ports_add(struct dp_ports *ps, struct dp_port *p, enum dp_tag_kind kind,
		 bool owned, unsigned int *idx);

/**
 * dp_ports_add_fd() - register one more fd of the port in slot @idx, for
 * @events, under the slot's tag with sub-index @sub.
 * @ps:     table
 * @idx:    the port's slot
 * @fd:     the fd (still the port's: it closes it, after dp_ports_del_fd())
 * @sub:    sub-index, not 0 (the port's own fd); the port's events name it
 * @events: epoll events (EPOLLIN, EPOLLOUT, EPOLLRDHUP...), level-triggered
 *
 * Return: 0; -EINVAL a free slot or @sub 0; -errno of epoll_ctl().
 */
int dp_ports_add_fd(struct dp_ports *ps, unsigned int idx, int fd,
		    uint32_t sub, uint32_t events);

/**
 * dp_ports_mod_fd() - change the events (and sub-index) an fd of
 * dp_ports_add_fd() is watched for: a TCP socket of the socket uplink
 * wants EPOLLOUT only while a write is blocked.
 * @ps:     table
 * @idx:    the port's slot
 * @fd:     the fd, registered
 * @sub:    its sub-index, not 0
 * @events: the new epoll events
 *
 * Return: 0; -EINVAL a free slot or @sub 0; -errno of epoll_ctl()
 * (-ENOENT: not registered).
 */
int dp_ports_mod_fd(struct dp_ports *ps, unsigned int idx, int fd,
		    uint32_t sub, uint32_t events);

/**
 * dp_ports_del_fd() - unregister an fd dp_ports_add_fd() registered. Call
 * it before closing the fd: an fd passed by another process (a frontend's
 * eventfd) stays in the epoll set after close() while that process holds
 * it, and would wake the worker for ever.
 * @ps: table
 * @fd: the fd
 *
 * Return: 0 or -errno of epoll_ctl().
 */
int dp_ports_del_fd(struct dp_ports *ps, int fd);

/**
 * dp_ports_remove() - detach the port of slot @idx: unregister its fd,
 * drop its queue (counted in gone_queued), keep a guest port's counters
 * (in gone), destroy it if owned.
 * @ps:  table
 * @idx: slot index; a free slot is ignored
 */
void dp_ports_remove(struct dp_ports *ps, unsigned int idx);

/**
 * dp_ports_find() - the slot of @p.
 * @ps: table
 * @p:  port
 *
 * Return: its index, or -ENOENT.
 */
int dp_ports_find(const struct dp_ports *ps, const struct dp_port *p);

/**
 * dp_ports_of_tag() - the slot an epoll tag names.
 * @ps:  table
 * @tag: the event's tag
 *
 * Return: the slot, or NULL for a stale tag (a port removed since).
 */
struct dp_slot *dp_ports_of_tag(struct dp_ports *ps, uint64_t tag);

/**
 * dp_ports_tx() - offer frames to a port, queueing what it cannot take now.
 * @ps:   table
 * @s:    the port's slot
 * @bufs: frames (borrowed; copied if queued)
 * @n:    how many
 * @now:  time
 *
 * Return: how many the port consumed at once; the rest were queued or,
 * with the queue full, dropped (counted).
 */
unsigned int dp_ports_tx(struct dp_ports *ps, struct dp_slot *s,
			 struct dp_buf **bufs, unsigned int n, uint64_t now);

/**
 * dp_ports_tx_fanout() - offer each frame to the ports its mask names,
 * in order, one burst per port (dp_ports_tx()).
 * @ps:    table
 * @bufs:  frames (borrowed; copied if queued)
 * @masks: for each frame, bit i for slot i; a free slot's bit is ignored
 * @n:     how many, at most DP_BURST_MAX
 * @now:   time
 */
void dp_ports_tx_fanout(struct dp_ports *ps, struct dp_buf **bufs,
			const uint64_t *masks, unsigned int n, uint64_t now);

/**
 * dp_ports_writable() - the port's fd is writable: offer its queue again.
 * @ps:  table
 * @s:   the port's slot
 * @now: time
 */
void dp_ports_writable(struct dp_ports *ps, struct dp_slot *s, uint64_t now);

/**
 * dp_ports_stats() - the port's counters with the queue's.
 * @s:   slot
 * @out: filled
 */
void dp_ports_stats(const struct dp_slot *s, struct dp_port_stats *out);

/**
 * dp_ports_stats_add() - add counters to a sum.
 * @sum: the sum
 * @s:   counters
 */
void dp_ports_stats_add(struct dp_port_stats *sum,
			const struct dp_port_stats *s);

/**
 * dp_ports_side_stats() - the counters of one side.
 * @ps:     table
 * @guests: the guest segment (every guest port that is or was, summed),
 *          else the uplink
 * @out:    filled
 */
void dp_ports_side_stats(const struct dp_ports *ps, bool guests,
			 struct dp_port_stats *out);

/**
 * dp_ports_count() - ports of one kind attached.
 * @ps:   table
 * @kind: DP_TAG_GUEST or DP_TAG_UPLINK
 *
 * Return: how many.
 */
unsigned int dp_ports_count(const struct dp_ports *ps, enum dp_tag_kind kind);

/**
 * dp_ports_print() - the ports' `stat` lines: inside.* (the guest
 * segment), outside.* (the uplink), ports.*, guestN.* for each guest port
 * when there are several, and each port's own (ops->print_stats).
 * @ps: table
 * @f:  stream
 */
void dp_ports_print(const struct dp_ports *ps, FILE *f);

/**
 * dp_ports_fini() - remove every port.
 * @ps: table
 */
void dp_ports_fini(struct dp_ports *ps);

#endif /* ARCNAT_DP_PORTSET_H */
