/* SPDX-License-Identifier: MIT */
/*
 * sock_dgram.h - the datagram sockets of the socket uplink (uplink/sock):
 * one UDP socket per NAT mapping, one ping socket per mapped echo
 * identifier (theory of operation in sock.h and at the top of
 * sock_dgram.c). The port hosting them (sock.c) dispatches to them by
 * protocol and sub-index kind and keeps their counters.
 */
#ifndef ARCNAT_UPLINK_SOCK_DGRAM_H
#define ARCNAT_UPLINK_SOCK_DGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ct/table.h"
#include "dp/port.h"
#include "pkt/meta.h"
#include "uplink/sock_defs.h"

struct sock_dgram;

/**
 * struct sock_dgram_cfg - what the datagram sockets need from their port.
 * @ext_addr:    the NAT's external address, network order
 * @ct:          the connection table (the guest's own port), or NULL
 * @pinned_udp:  the external UDP port of packets of no flow, or 0
 * @max_sockets: datagram sockets open at once
 * @name:        the port's name, for logs
 * @env:         the port's event set, read at every use (set after creation)
 * @pstats:      the port's counters (tx_packets, tx_dropped, rx_errors...)
 * @st:          the port's socket counters
 * @refuse:      no socket for @b (out of descriptors): the port answers
 *               the guest with an ICMP error from @remote
 * @ctx:         @refuse's context
 */
struct sock_dgram_cfg {
	uint32_t ext_addr;
	const struct ct_table *ct;
	uint16_t pinned_udp;
	uint32_t max_sockets;
	const char *name;
	const struct sock_env *env;
	struct dp_port_stats *pstats;
	struct sock_uplink_stats *st;
	void (*refuse)(void *ctx, uint32_t remote, const struct dp_buf *b);
	void *ctx;
};

/**
 * sock_dgram_create() - the slots of both kinds, no socket open.
 * @out: the sockets' state
 * @cfg: copied (its pointers borrowed)
 *
 * Return: 0 or -ENOMEM.
 */
int sock_dgram_create(struct sock_dgram **out, const struct sock_dgram_cfg *cfg);

/**
 * sock_dgram_destroy() - close every socket without unwatching it (closing
 * a socket of ours takes it out of an epoll set; the worker may be gone).
 * NULL is fine. @d: state
 */
void sock_dgram_destroy(struct sock_dgram *d);

/**
 * sock_dgram_udp_tx() - UDP packets from bufs[0] on, as long as they leave
 * from the same external port: one sendmmsg() on that mapping's socket,
 * opened when missing.
 * @d:    state
 * @bufs: translated packets (EXT:P -> R), borrowed
 * @n:    how many there are
 * @m0:   pkt_parse() of bufs[0]: UDP, not a fragment
 * @now:  clock, ns
 *
 * Return: packets consumed (sent or counted), at least 1.
 */
unsigned int sock_dgram_udp_tx(struct sock_dgram *d, struct dp_buf **bufs,
			       unsigned int n, const struct pkt_meta *m0,
			       uint64_t now);

/**
 * sock_dgram_echo_tx() - an ICMP packet: an echo request goes through the
 * ping socket of its identifier; anything else is a counted drop.
 * @d:   state
 * @b:   the packet, borrowed
 * @m:   its pkt_parse()
 * @now: clock, ns
 */
void sock_dgram_echo_tx(struct sock_dgram *d, const struct dp_buf *b,
			const struct pkt_meta *m, uint64_t now);

/**
 * sock_dgram_event() - an event of a datagram socket (sub-index kind UDP
 * or ICMP); a stale one (the socket closed since) is ignored.
 * @d:      state
 * @sub:    its sub-index
 * @events: EPOLL* bits
 *
 * Return: DP_FD_RX when the socket is ready, else 0.
 */
int sock_dgram_event(struct sock_dgram *d, uint32_t sub, uint32_t events);

/**
 * sock_dgram_rx() - packets from the ready sockets (error queues first),
 * each socket at most once.
 * @d:    state
 * @bufs: the worker's buffers; reset here before they are filled, and
 *        permuted (every buffer stays the worker's)
 * @n:    how many
 *
 * Return: packets made, in bufs[0..).
 */
unsigned int sock_dgram_rx(struct sock_dgram *d, struct dp_buf **bufs,
			   unsigned int n);

/**
 * sock_dgram_pending() - a socket is ready and not drained. No syscall.
 * @d: state
 *
 * Return: true if so.
 */
bool sock_dgram_pending(const struct sock_dgram *d);

/**
 * sock_dgram_flow_gone() - a flow left the table: with its mapping's last
 * flow, the mapping's socket closes (not the pinned port's).
 * @d:            state
 * @e:            its entry
 * @mapping_gone: it was the mapping's last flow
 */
void sock_dgram_flow_gone(struct sock_dgram *d, const struct ct_entry *e,
			  bool mapping_gone);

/**
 * sock_dgram_forward() - a UDP port forward's socket: bound now to
 * @addr:@port on the host (so that a port in use is an error at start),
 * the socket of external port @port for good. Datagrams of clients become
 * packets to EXT:@port, which the NAT's forward takes to the guest; the
 * guest's replies leave through it. Watched from
 * sock_dgram_watch_forwards() on.
 * @d:    state
 * @addr: the host address to listen on, network order (0: any)
 * @port: the host port, which is the forward's external port (host order)
 *
 * Return: 0, -EINVAL (port 0, already pinned, more than
 * SOCK_FORWARDS_MAX), or socket()'s or bind()'s -errno.
 */
int sock_dgram_forward(struct sock_dgram *d, uint32_t addr, uint16_t port);

/**
 * sock_dgram_forward_add() - sock_dgram_forward() while running (the
 * control socket's forward-add), on the worker's thread: the socket is
 * watched at once. The socket of a deleted forward that flows still hold
 * is pinned again instead.
 * @d:    the datagram side
 * @addr: the host address (network order, 0: any)
 * @port: the host port, the forward's external port (host order)
 *
 * Return: 0, or sock_dgram_forward()'s errors, -errno of the watch,
 * -EBUSY a held socket bound to another address than @addr.
 */
int sock_dgram_forward_add(struct sock_dgram *d, uint32_t addr, uint16_t port);

/**
 * sock_dgram_forward_host() - the host address a UDP forward's socket is
 * bound to (forward-list).
 * @d:    the datagram side
 * @port: the forward's port (host order)
 * @addr: the address (network order, 0: every address)
 *
 * Return: 0, -ENOENT not a forward's port, -errno of getsockname().
 */
int sock_dgram_forward_host(const struct sock_dgram *d, uint16_t port,
			    uint32_t *addr);

/**
 * sock_dgram_forward_remove() - a UDP forward deleted (forward-delete):
 * its socket is no longer pinned; it is closed now, or (@held: flows of
 * the forward's mapping are still in the table, nat_remove_forward())
 * with the mapping's last flow, as a dynamic mapping's.
 * @d:    the datagram side
 * @port: the forward's port (host order)
 * @held: flows still hold its mapping
 *
 * Return: 0, or -ENOENT not a forward's port.
 */
int sock_dgram_forward_remove(struct sock_dgram *d, uint16_t port, bool held);

/**
 * sock_dgram_watch_forwards() - put the forwards' sockets in the event set
 * (once it is given: sock_uplink_attach() or sock_uplink_set_env()).
 * @d: state
 * Return: 0 or the watch's -errno.
 */
int sock_dgram_watch_forwards(struct sock_dgram *d);

/**
 * sock_dgram_probe_echo() - sock_uplink_probe_echo(). @d: state.
 * Return: true if ping sockets may be opened.
 */
bool sock_dgram_probe_echo(struct sock_dgram *d);

#endif /* ARCNAT_UPLINK_SOCK_DGRAM_H */
