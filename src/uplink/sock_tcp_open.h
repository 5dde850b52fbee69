/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp_open.h - the TCP relay's connections towards the guest while
 * they open: a port forward's client, accepted on the host, becomes a SYN
 * to the guest, and the guest's SYN-ACK makes it an ordinary connection.
 * Internal to the relay (uplink/sock_tcp.c is its only user); the prefix is
 * stcp_. See the top of sock_tcp_open.c.
 */
#ifndef ARCNAT_UPLINK_SOCK_TCP_OPEN_H
#define ARCNAT_UPLINK_SOCK_TCP_OPEN_H

#include <stdbool.h>
#include <stdint.h>

#include "dp/port.h"
#include "pkt/meta.h"
#include "uplink/sock_tcp_conn.h"

/**
 * stcp_opening_init() - the table of opening connections, at create.
 * @t: relay (cfg, conns set)
 * Return: 0 or -ENOMEM.
 */
int stcp_opening_init(struct sock_tcp *t);

/** stcp_opening_fini() - free it. @t: relay */
void stcp_opening_fini(struct sock_tcp *t);

/**
 * stcp_sockopts() - the options every relay socket gets: no Nagle,
 * keepalive at the relay's idle time, the configured buffer sizes.
 * @t: relay. @fd: socket
 */
void stcp_sockopts(const struct sock_tcp *t, int fd);

/**
 * stcp_accept() - sock_tcp_accept(): a forward's client, a SYN owed to the
 * guest. @fd is the relay's from here, closed with an RST on failure.
 * @t: relay. @fd: accepted socket. @peer, @peer_port, @ext_port: the
 * 4-tuple (network order). @now: clock, ns
 * Return: 0, -ENOSPC, -EBUSY, -EEXIST, -EINVAL or the environment's -errno.
 */
int stcp_accept(struct sock_tcp *t, int fd, uint32_t peer, uint16_t peer_port,
		uint16_t ext_port, uint64_t now);

/**
 * stcp_can_accept() - a client would get a slot now. @t: relay
 * Return: true if so.
 */
bool stcp_can_accept(const struct sock_tcp *t);

/**
 * stcp_opening_input() - a guest segment that no bound connection took
 * (or whose connection lingers in TIME_WAIT): the answer to one of our
 * SYNs? A SYN-ACK binds the opening connection to @flow; an RST refuses
 * it; anything acknowledging another number gets an RST.
 * @t:    relay
 * @flow: the segment's flow index (below max_flows)
 * @s:    the segment
 * @m:    its parse (the SYN-ACK's options)
 * @now:  clock, ns
 * Return: true when the segment was one of an opening connection's (taken).
 */
bool stcp_opening_input(struct sock_tcp *t, uint32_t flow,
			const struct stcp_seg *s, const struct pkt_meta *m,
			uint64_t now);

/**
 * stcp_opening_rto() - @c (STCP_SYN_SENT) waited a retransmission timeout:
 * the SYN again, or the client reset after STCP_FWD_SYN_RETRIES.
 * @t: relay. @c: connection (may be freed). @now: clock, ns
 */
void stcp_opening_rto(struct sock_tcp *t, struct stcp_conn *c, uint64_t now);

/**
 * stcp_opening_event() - @c's client socket (STCP_SYN_SENT, watched for
 * errors only) has @events: an error or hang-up ends it.
 * @t: relay. @c: connection (may be freed). @events: EPOLL*
 */
void stcp_opening_event(struct sock_tcp *t, struct stcp_conn *c,
			uint32_t events);

/**
 * stcp_opening_out() - the SYN @c owes the guest, if any, into @b.
 * @t: relay. @c: connection (STCP_SYN_SENT). @b: buffer
 * Return: buffers filled (0 or 1).
 */
unsigned int stcp_opening_out(struct sock_tcp *t, struct stcp_conn *c,
			      struct dp_buf *b);

/**
 * stcp_opening_icmp() - sock_tcp_icmp(): an ICMP error quoting one of our
 * SYNs. @t: relay. @ip, @len, @m: the packet and its parse.
 */
void stcp_opening_icmp(struct sock_tcp *t, const uint8_t *ip, uint32_t len,
		       const struct pkt_meta *m);

#endif /* ARCNAT_UPLINK_SOCK_TCP_OPEN_H */
