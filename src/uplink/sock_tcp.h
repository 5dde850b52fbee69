/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp.h - the TCP relay of the socket uplink: the guest's TCP peer on
 * one side, an ordinary host socket towards the remote on the other.
 *
 * Theory of operation (details at the top of sock_tcp.c): the relay sits
 * behind the NAT, in the "translated" space. A guest segment arrives as an
 * IPv4 packet EXT:P -> R:rp, tagged with the index of its conntrack flow;
 * the relay's segments leave as R:rp -> EXT:P and the NAT translates them
 * back. One connection per flow, found through an array indexed by the flow
 * index; connection state is preallocated (max_conns). Data from the guest
 * is acknowledged only once the host socket has accepted it; data towards
 * the guest is never copied: the host socket's receive buffer is the
 * retransmission queue, read with MSG_PEEK at the offset of the first byte
 * not yet sent, and bytes the guest acknowledges are discarded from it.
 *
 * The port hosting the relay (uplink/sock) gives it an environment to
 * watch its sockets in (an epoll set), feeds it the guest's segments
 * (sock_tcp_input()) and the sockets' events (sock_tcp_event()), and pulls
 * the segments it owes the guest (sock_tcp_output()) while
 * sock_tcp_pending() says there are some.
 */
#ifndef ARCNAT_UPLINK_SOCK_TCP_H
#define ARCNAT_UPLINK_SOCK_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "dp/port.h"
#include "pkt/meta.h"
#include "pkt/vnet.h"
#include "uplink/sock_tcp_defs.h"

struct sock_tcp;

/**
 * sock_tcp_create() - make a relay, all its connection state preallocated.
 * @out: the relay
 * @cfg: settings (copied)
 *
 * Return: 0, -EINVAL a setting out of range, -ENOMEM.
 */
int sock_tcp_create(struct sock_tcp **out, const struct sock_tcp_config *cfg);

/**
 * sock_tcp_destroy() - close every connection (RST towards the remotes),
 * unwatching its socket, and free the relay. NULL is fine. @t: relay
 */
void sock_tcp_destroy(struct sock_tcp *t);

/**
 * sock_tcp_input() - a translated guest segment (EXT:P -> R:rp).
 * @t:    relay
 * @flow: the index of its conntrack flow (CT_NONE: none)
 * @ip:   the packet, from its IPv4 header (borrowed, not kept)
 * @len:  its length
 * @m:    what pkt_parse() learned about it (offsets from @ip)
 * @vnet: its offload metadata (a TSO super-frame is taken whole), or NULL
 * @now:  clock, ns
 *
 * Anything but IPv4 TCP is a counted drop. What the guest is owed (SYN-ACK,
 * ACK, RST) waits for sock_tcp_output().
 */
void sock_tcp_input(struct sock_tcp *t, uint32_t flow, const uint8_t *ip,
		    uint32_t len, const struct pkt_meta *m,
		    const struct pkt_vnet *vnet, uint64_t now);

/**
 * sock_tcp_accept() - a client a forward's listener accepted: the relay
 * opens a connection towards the guest, a SYN from @peer:@peer_port to
 * EXT:@ext_port (the NAT's forward takes it to the guest, and may show the
 * guest another source: a loopback client appears as the gateway address),
 * and relays it like any other once the guest has answered. The client's
 * bytes stay in its socket until then. The SYN is resent at 1, 2, 4, 8 and
 * 16 s; then, or when the guest resets it (sock_tcp_input()) or an ICMP
 * unreachable quotes it (sock_tcp_icmp()), the client is reset.
 * @t:         relay
 * @fd:        the accepted socket, non-blocking; the relay owns it from
 *             here, also on failure (closed with an RST, counted)
 * @peer:      the client's address as the NAT sees it (network order,
 *             already through sock_addr_from_host())
 * @peer_port: its port, network order
 * @ext_port:  the forward's external port, network order
 * @now:       clock, ns
 *
 * Return: 0; -ENOSPC no connection slot (max_conns), -EBUSY max_opening
 * clients already wait for the guest, -EEXIST that 4-tuple is already
 * opening, -EINVAL a zero address or port, -EBADF @fd < 0 (nothing
 * closed), or the environment's -errno from watch().
 */
int sock_tcp_accept(struct sock_tcp *t, int fd, uint32_t peer,
		    uint16_t peer_port, uint16_t ext_port, uint64_t now);

/**
 * sock_tcp_can_accept() - sock_tcp_accept() would find room now (a slot,
 * and fewer than max_opening clients waiting): a listener may leave its
 * clients in the kernel's backlog rather than accept and reset them.
 * No syscall. @t: relay
 * Return: true if so.
 */
bool sock_tcp_can_accept(const struct sock_tcp *t);

/**
 * sock_tcp_icmp() - a translated ICMP error from the guest's side towards
 * a remote (a guest's "port unreachable", the gateway's "host
 * unreachable"), quoting a TCP segment of the relay's. A destination
 * unreachable that quotes the SYN of a connection still opening towards
 * the guest (sock_tcp_accept()) resets its client at once; anything else
 * is ignored (an established connection does not end on a soft error,
 * RFC 5461).
 * @t:   relay
 * @ip:  the packet, from its IPv4 header (borrowed)
 * @len: its length
 * @m:   what pkt_parse() learned about it (PKT_F_ICMP_ERROR, the quote)
 * @now: clock, ns
 */
void sock_tcp_icmp(struct sock_tcp *t, const uint8_t *ip, uint32_t len,
		   const struct pkt_meta *m, uint64_t now);

/**
 * sock_tcp_event() - a watched socket has @events.
 * @t:      relay
 * @id:     the id it was watched under; a retired one is ignored
 * @events: EPOLL* bits
 * @now:    clock, ns
 */
void sock_tcp_event(struct sock_tcp *t, uint32_t id, uint32_t events,
		    uint64_t now);

/**
 * sock_tcp_pending() - segments wait for sock_tcp_output(). No syscall.
 * @t: relay
 * Return: true if so.
 */
bool sock_tcp_pending(const struct sock_tcp *t);

/**
 * sock_tcp_output() - segments towards the guest (R:rp -> EXT:P).
 * @t:    relay
 * @bufs: buffers, each reset with headroom; IPv4 packets are written at
 *        @data, @len set, and with offloads DP_BUF_VNET and @vnet
 * @n:    how many
 * @now:  clock, ns
 *
 * Return: buffers filled (0..@n).
 */
unsigned int sock_tcp_output(struct sock_tcp *t, struct dp_buf **bufs,
			     unsigned int n, uint64_t now);

/**
 * sock_tcp_flow_gone() - the conntrack flow @flow expired or was deleted:
 * its connection, if any, is closed (RST towards the remote unless it had
 * ended in order).
 * @t:    relay
 * @flow: flow index
 */
void sock_tcp_flow_gone(struct sock_tcp *t, uint32_t flow);

/**
 * sock_tcp_tick() - timers: retransmission, zero-window probes, connect
 * timeout, TIME_WAIT, keepalive. Call every 100 ms or so.
 * @t:   relay
 * @now: clock, ns
 */
void sock_tcp_tick(struct sock_tcp *t, uint64_t now);

/**
 * sock_tcp_get_stats() - the counters. @t: relay. @out: filled.
 */
void sock_tcp_get_stats(const struct sock_tcp *t, struct sock_tcp_stats *out);

#endif /* ARCNAT_UPLINK_SOCK_TCP_H */
