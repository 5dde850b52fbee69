/* SPDX-License-Identifier: MIT */
/*
 * port.h - what the pipeline needs from a device: a guest port (TAP) or an
 * uplink (TUN, AF_PACKET, utun), each behind the same small vtable.
 *
 * Theory of operation: a worker owns its buffers (struct dp_buf, fixed at
 * start, one owner each) and lends them to a port: rx_burst() fills them,
 * tx_burst() sends from them. Devices copy into and out of the kernel
 * synchronously, so no buffer outlives the batch that holds it; a port that
 * must keep a packet (an uplink waiting for ARP) keeps its own bounded copy.
 *
 * Guest ports carry Ethernet frames. Uplinks carry IP packets (DP_PORT_L3):
 * an Ethernet uplink (AF_PACKET) strips and adds the link header itself and
 * answers ARP for the external address, so the pipeline never sees its L2.
 *
 * Each buffer keeps DP_BUF_HEADROOM bytes in front of the data so that an
 * Ethernet header can be prepended to an L3 packet without a copy. That is
 * a contract: every buffer handed to tx_burst() lies in real storage
 * (@head, @cap) with the headroom the port writes into, and every
 * tx_burst() checks it with dp_buf_check() (always on: a buffer without
 * storage is a bug of arcnat, never of a packet). Frames the gateway makes
 * itself (ARP, DHCP, DNS) are built into a buffer of the worker's too.
 *
 * Back-pressure: tx_burst() takes the buffers in order and returns how many
 * it consumed: sent, held, or refused for good ("never": a bad packet, no
 * route; counted in tx_dropped). It stops at the first one the device
 * cannot take *now* (a full kernel queue: EAGAIN, ENOBUFS; later a stream
 * socket's EAGAIN or a full virtqueue) and leaves it and the rest alone.
 * The worker copies those into the port's bounded queue, waits for the
 * port's @fd to be writable (EPOLLOUT) and offers them again, in order,
 * before any newer frame; only a full queue drops (tx_queue_full). A
 * tx_burst() must not change @data or @len of a buffer it does not
 * consume (it may write into the headroom): the same buffers go to every
 * guest port.
 */
#ifndef ARCNAT_DP_PORT_H
#define ARCNAT_DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/assert.h"
#include "pkt/vnet.h"

#define DP_BUF_HEADROOM	64u
/* A 64 KiB GSO super-frame plus an Ethernet header and one VLAN tag. */
#define DP_BUF_DATA_MAX	(65535u + 18u)
/* Packets per burst; overridable at build time to measure what batching
 * buys (docs/performance.md): make O=build-b1 CC='cc -DDP_BURST_MAX=1u' */
#ifndef DP_BURST_MAX
#define DP_BURST_MAX	64u
#endif
#define DP_PORT_NAME_MAX 64

/* dp_buf.flags */
#define DP_BUF_VNET	(1u << 0)	/* @vnet holds the frame's offload metadata */

/* dp_buf.flow of a packet that belongs to no conntrack flow (ct's CT_NONE) */
#define DP_FLOW_NONE	UINT32_MAX

/**
 * struct dp_buf - one packet buffer, owned by a worker.
 * @data:  first byte of the frame (or of the IP packet on an L3 port)
 * @len:   bytes at @data
 * @flags: DP_BUF_*
 * @vnet:  offload metadata (offsets from @data); all zero when absent
 * @flow:  towards an uplink, the connection-table index of the packet's
 *         flow (nat_pkt.flow), DP_FLOW_NONE for none (the gateway's own
 *         upstream DNS queries); a flow-level uplink (uplink/sock) keeps
 *         its per-flow handle by it. DP_FLOW_NONE everywhere else
 * @head:  start of the storage; @data - @head is the headroom left
 * @cap:   bytes of storage from @head
 */
struct dp_buf {
	uint8_t *data;
	uint32_t len;
	uint32_t flags;
	struct pkt_vnet vnet;
	uint32_t flow;
	uint8_t *head;
	uint32_t cap;
};

/** dp_buf_reset() - empty @b with the standard headroom. @b: buffer */
static inline void dp_buf_reset(struct dp_buf *b)
{
	b->data = b->head + DP_BUF_HEADROOM;
	b->len = 0;
	b->flags = 0;
	b->vnet = (struct pkt_vnet){ 0 };
	b->flow = DP_FLOW_NONE;
}

/** dp_buf_room() - bytes that fit at @data. @b: buffer. Return: them. */
static inline uint32_t dp_buf_room(const struct dp_buf *b)
{
	return b->cap - (uint32_t)(b->data - b->head);
}

/**
 * dp_buf_check() - assert the buffer contract of tx_burst().
 * @b:        a buffer handed to a port
 * @headroom: bytes the port writes in front of @data (0 if none)
 *
 * @b has storage, @headroom bytes of it in front of @data, and its @len
 * bytes end within @cap.
 */
static inline void dp_buf_check(const struct dp_buf *b, uint32_t headroom)
{
	ARC_ASSERT(b->head != NULL);
	ARC_ASSERT(b->data >= b->head &&
		   (size_t)(b->data - b->head) >= headroom);
	ARC_ASSERT((size_t)(b->data - b->head) + b->len <= b->cap);
}

/* dp_port.flags */
#define DP_PORT_L3	(1u << 0)	/* packets start at the IP header */
#define DP_PORT_VNET	(1u << 1)	/* rx fills dp_buf.vnet, tx honours it */
/* "Writable again" is told by fd_event() (DP_FD_TX: a vhost-user guest
 * kicking its receive queue), never by EPOLLOUT on @fd. */
#define DP_PORT_KICK	(1u << 2)
#define DP_PORT_LISTENER (1u << 3)	/* carries no frames: it accepts guests */

/* What fd_event() asks the worker to do, bits of its return value. */
#define DP_FD_RX	(1u << 0)	/* frames wait: call rx_burst() */
#define DP_FD_TX	(1u << 1)	/* offer the port's queue again */

/**
 * struct dp_port_stats - device counters, kept by the port itself.
 * @rx_packets: packets handed to the pipeline
 * @rx_bytes:   their bytes
 * @rx_errors:  read errors and packets the port refused before the pipeline
 * @rx_dropped: packets the kernel dropped because arcnat's receive queue
 *              was full (where the device reports it: AF_PACKET)
 * @tx_packets: packets the device accepted
 * @tx_bytes:   their bytes
 * @tx_dropped: packets the device refused (queue full, error, no neighbour)
 * @tx_lost:    packets the device took (held for ARP) but dropped later
 *              because the next hop never answered
 * @tx_queued:    packets the device could not take at once, queued by the
 *                worker for later (they count in tx_packets when sent)
 * @tx_queue_full: packets dropped because that queue was full
 *
 * The last two are the worker's (the queue is the worker's): a port's
 * stats operation leaves them zero.
 */
struct dp_port_stats {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t rx_errors;
	uint64_t rx_dropped;
	uint64_t tx_packets;
	uint64_t tx_bytes;
	uint64_t tx_dropped;
	uint64_t tx_lost;
	uint64_t tx_queued;
	uint64_t tx_queue_full;
};

struct dp_port;
struct ct_entry;

/**
 * struct dp_port_ops - a device's operations.
 * @rx_burst: fill up to @n buffers (each reset, with headroom); return how
 *            many were filled (0 when nothing is pending), or -errno when
 *            the device failed for good (a peer that hung up: the worker
 *            polls @fd level-triggered, so a port must not return 0 for
 *            ever on an fd that stays in EPOLLHUP). Never blocks.
 * @tx_burst: send @n packets in order; borrows the buffers, each checked
 *            with dp_buf_check(). Returns how many it consumed (sent, held,
 *            or refused for good and counted in tx_dropped); fewer than @n
 *            means the next one cannot be taken now: bufs[ret..n) are left
 *            untouched for the worker to queue (see the top of this file).
 *            Never blocks.
 * @fd_event: one of the port's extra fds (dp_worker_add_fd()) has @events:
 *            @sub is the sub-index it was registered under; a sub-index
 *            the port has retired since is stale and ignored (return 0).
 *            Returns DP_FD_* bits, or -errno when the port failed for
 *            good (removed as for rx_burst). Never blocks. May be NULL
 *            for a port without extra fds.
 * @flow_gone: the conntrack flow @flow (dp_buf.flow) has left the table
 *            (@e: its entry, for this call only); @mapping_gone: it was
 *            the last flow of its NAT mapping, whose external port is free
 *            again. An uplink that keeps a host socket per flow or per
 *            mapping closes it (uplink/sock). Called by the worker from the
 *            NAT, also in the middle of a batch: a later packet of that
 *            batch may carry @flow for a new flow already. May be NULL.
 * @rx_pending: the port has output that no fd event announces (a TCP
 *            relay's ACK owed after tx_burst): the worker calls rx_burst
 *            while this is true, a bounded number of times per round.
 *            Cheap, no system call. May be NULL (never).
 * @tick:     periodic work (ARP retries, expiry of held packets); may be NULL
 * @stats:    the port's counters into @out; NULL: a copy of dp_port.stats
 * @print_stats: more `stat PREFIX.NAME VALUE` lines of the port's own
 *            (an uplink's ARP endpoint); may be NULL
 * @destroy:  close and free; NULL-safe on a half-built port
 */
struct dp_port_ops {
	int (*rx_burst)(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
			uint64_t now);
	unsigned int (*tx_burst)(struct dp_port *p, struct dp_buf **bufs,
				 unsigned int n, uint64_t now);
	int (*fd_event)(struct dp_port *p, uint32_t sub, uint32_t events,
			uint64_t now);
	void (*flow_gone)(struct dp_port *p, uint32_t flow,
			  const struct ct_entry *e, bool mapping_gone);
	bool (*rx_pending)(const struct dp_port *p);
	void (*tick)(struct dp_port *p, uint64_t now);
	void (*stats)(const struct dp_port *p, struct dp_port_stats *out);
	void (*print_stats)(const struct dp_port *p, FILE *f, const char *prefix);
	void (*destroy)(struct dp_port *p);
};

/**
 * struct dp_port - a device, embedded first in each implementation.
 * @ops:   operations
 * @fd:    readable when rx_burst() has something (for epoll)
 * @flags: DP_PORT_*
 * @mtu:   L3 MTU of the device
 * @mac:   the port's own MAC (Ethernet ports; zero for L3 ports)
 * @name:  for logs ("tap0", "tun:arc0", "eth1@ns")
 * @stats: counters, written by the port alone; others read them only
 *         through dp_port_get_stats()
 */
struct dp_port {
	const struct dp_port_ops *ops;
	int fd;
	uint32_t flags;
	uint32_t mtu;
	uint8_t mac[6];
	char name[DP_PORT_NAME_MAX];
	struct dp_port_stats stats;
};

/**
 * dp_port_get_stats() - a port's counters, through its own operation.
 * @p:   port
 * @out: filled; tx_queued and tx_queue_full zero (the worker's)
 */
static inline void dp_port_get_stats(const struct dp_port *p,
				     struct dp_port_stats *out)
{
	if (p->ops->stats) {
		*out = (struct dp_port_stats){ 0 };
		p->ops->stats(p, out);
	} else {
		*out = p->stats;
	}
	out->tx_queued = 0;
	out->tx_queue_full = 0;
}

/** dp_port_destroy() - destroy @p; NULL is fine. @p: port */
static inline void dp_port_destroy(struct dp_port *p)
{
	if (p)
		p->ops->destroy(p);
}

#endif /* ARCNAT_DP_PORT_H */
