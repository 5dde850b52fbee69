/* SPDX-License-Identifier: MIT */
/*
 * sock_tcp_defs.h - what the TCP relay's modules and its users share: its
 * limits, environment, settings and counters (uplink/sock_tcp.h has the
 * interface, uplink/sock_tcp_conn.h the per-connection machinery).
 */
#ifndef ARCNAT_UPLINK_SOCK_TCP_DEFS_H
#define ARCNAT_UPLINK_SOCK_TCP_DEFS_H

#include <stdbool.h>
#include <stdint.h>

/* Ids handed to sock_tcp_env.watch() are below this. */
#define SOCK_TCP_ID_LIMIT	(1u << 28)
/* Connections at once, at most (the id keeps 8 bits of generation). */
#define SOCK_TCP_CONNS_MAX	(1u << 20)
/* Connections towards the guest waiting for its SYN-ACK, at most (the
 * default is min(max_conns, SOCK_TCP_OPENING_DEF)). */
#define SOCK_TCP_OPENING_DEF	1024u
/* RSTs owed to the guest for segments without a connection, at most. */
#define SOCK_TCP_RSTQ		256u
/* Bytes in flight towards the guest, at most, where the kernel has no
 * SO_PEEK_OFF for TCP: each peek reads them again into a scratch buffer. */
#define SOCK_TCP_DISCARD	(1u << 20)

/**
 * struct sock_tcp_env - what the relay needs from the port hosting it.
 * @ctx:     passed back to the callbacks
 * @watch:   add @fd to the event set under @id, or change its events
 *           (EPOLLIN, EPOLLOUT, EPOLLRDHUP and EPOLLET as epoll_ctl() takes
 *           them; EPOLLERR and EPOLLHUP are always reported). Return 0 or
 *           -errno (the connection is then reset).
 * @unwatch: remove @fd, before the relay closes it
 */
struct sock_tcp_env {
	void *ctx;
	int (*watch)(void *ctx, int fd, uint32_t id, uint32_t events);
	void (*unwatch)(void *ctx, int fd);
};

/**
 * struct sock_tcp_config - the relay's settings.
 * @max_conns:    connections at once (1..SOCK_TCP_CONNS_MAX); a SYN beyond
 *                is answered with an RST
 * @max_flows:    flow indices the NAT may report (its table's capacity)
 * @ext_addr:     the external address the NAT maps to (network order): the
 *                destination of every segment towards the guest
 * @mtu:          MTU of the path to the guest: the MSS the relay announces
 *                is @mtu - 40 and its segments are no larger (0: 1500)
 * @gso:          the guest takes TSO super-frames: segments of up to 64 KiB
 *                with a vnet header (gso_size = the guest's MSS)
 * @csum_offload: leave TCP checksums of data segments to the device
 *                (VNET_F_NEEDS_CSUM); implied by @gso
 * @no_peek_off:  never use SO_PEEK_OFF (the path for kernels before 6.9,
 *                forced for tests)
 * @sndbuf:       SO_SNDBUF of host sockets (0: the kernel's autotuning)
 * @rcvbuf:       SO_RCVBUF of host sockets (0: the kernel's autotuning)
 * @connect_timeout_ns: a remote that neither accepts nor refuses by then
 *                is unreachable: RST (0: 30 s)
 * @time_wait_ns: how long a connection the relay closed first lingers to
 *                acknowledge the guest's retransmitted FIN (0: 2 s)
 * @keepalive_ns: idle time before the relay probes a silent guest, and
 *                the host socket's TCP_KEEPIDLE (0: 2 hours)
 * @persist_max_ns: how long the guest's window may stay shut while the
 *                remote's bytes wait: then both sides are reset, so that
 *                a guest that answers every probe and never reads does
 *                not hold a connection (and its socket) for ever (0: 1 hour)
 * @ooo_bytes:    a guest's out-of-order bytes kept, all connections
 *                together (0: 4 MiB); a connection keeps a quarter at most
 * @no_ooo:       keep no out-of-order bytes (drop them, as passt does)
 * @no_sack:      never negotiate SACK
 * @iss:          tests only: the relay's initial sequence number of every
 *                connection (0: random), to run one across the wrap at 2^32
 * @max_opening:  connections towards the guest (sock_tcp_accept()) waiting
 *                for its SYN-ACK at once (0: min(max_conns, 1024)); a client
 *                beyond is reset, so that a storm of clients to a guest
 *                that does not answer cannot take every slot
 * @env:          the event set
 */
struct sock_tcp_config {
	uint32_t max_conns;
	uint32_t max_flows;
	uint32_t ext_addr;
	uint32_t mtu;
	bool gso;
	bool csum_offload;
	bool no_peek_off;
	uint32_t sndbuf;
	uint32_t rcvbuf;
	uint64_t connect_timeout_ns;
	uint64_t time_wait_ns;
	uint64_t keepalive_ns;
	uint64_t persist_max_ns;
	uint32_t ooo_bytes;
	bool no_ooo;
	bool no_sack;
	uint32_t iss;
	uint32_t max_opening;
	struct sock_tcp_env env;
};

/**
 * struct sock_tcp_stats - the relay's counters.
 * @active:          connections open now (a gauge)
 * @opened:          guest SYNs that got a connection slot
 * @established:     connections the remote accepted (SYN-ACK sent)
 * @closed:          connections that ended in order (FIN both ways)
 * @refused:         remotes that refused (RST to the guest)
 * @unreachable:     remotes that failed otherwise or timed out (RST)
 * @table_full:      SYNs refused because max_conns were open (RST)
 * @socket_failed:   SYNs refused because socket() failed (fd limit) (RST)
 * @rst_from_guest:  connections the guest reset (RST to the remote)
 * @rst_from_remote: connections the remote reset (RST to the guest)
 * @aborted:         connections reset for another reason (retries
 *                   exhausted, a socket error, flow gone, a guest window
 *                   shut longer than persist_max_ns)
 * @flow_gone:       connections closed because their flow went
 * @rst_sent:        RST segments sent to the guest
 * @rst_dropped:     RSTs not sent because their queue was full
 * @no_conn:         guest segments without a connection (answered by RST)
 * @bad_segment:     guest segments dropped: no TCP, a flow index out of
 *                   range, unacceptable numbers
 * @ooo:             guest segments beyond rcv_nxt (kept as far as there is
 *                   room, a duplicate ACK with SACK blocks sent)
 * @ooo_kept:        bytes of those kept
 * @ooo_written:     kept bytes written once the hole before them filled
 * @short_writes:    guest segments the host socket took only in part
 * @to_remote_bytes: bytes the host sockets accepted (acknowledged to the guest)
 * @to_guest_bytes:  bytes acknowledged by the guest (discarded)
 * @segs_in:         guest segments handled
 * @segs_out:        segments sent to the guest
 * @retransmits:     retransmission timeouts (go-back-N from snd_una)
 * @fast_retransmits: segments resent after three duplicate ACKs
 * @probes:          zero-window and keepalive probes sent to the guest
 * @wnd_polls:       looks at a shut window of ours (STCP_WND_POLL_NS,
 *                   backing off while the remote does not read)
 * @fwd_accepted:    clients of a forward handed over that got a slot (a SYN
 *                   went to the guest)
 * @fwd_established: of those, answered by the guest's SYN-ACK
 * @fwd_no_slot:     clients reset: max_conns open, or max_opening waiting
 * @fwd_exists:      clients reset: that 4-tuple was already opening
 * @fwd_syn_timeout: clients reset: the guest never answered our SYNs
 * @fwd_refused:     clients reset: the guest refused (RST)
 * @fwd_unreachable: clients reset: an ICMP unreachable for our SYN
 * @fwd_client_gone: clients that reset before the guest answered
 */
struct sock_tcp_stats {
	uint64_t active;
	uint64_t opened;
	uint64_t established;
	uint64_t closed;
	uint64_t refused;
	uint64_t unreachable;
	uint64_t table_full;
	uint64_t socket_failed;
	uint64_t rst_from_guest;
	uint64_t rst_from_remote;
	uint64_t aborted;
	uint64_t flow_gone;
	uint64_t rst_sent;
	uint64_t rst_dropped;
	uint64_t no_conn;
	uint64_t bad_segment;
	uint64_t ooo;
	uint64_t ooo_kept;
	uint64_t ooo_written;
	uint64_t short_writes;
	uint64_t to_remote_bytes;
	uint64_t to_guest_bytes;
	uint64_t segs_in;
	uint64_t segs_out;
	uint64_t retransmits;
	uint64_t fast_retransmits;
	uint64_t probes;
	uint64_t wnd_polls;
	uint64_t fwd_accepted;
	uint64_t fwd_established;
	uint64_t fwd_no_slot;
	uint64_t fwd_exists;
	uint64_t fwd_syn_timeout;
	uint64_t fwd_refused;
	uint64_t fwd_unreachable;
	uint64_t fwd_client_gone;
};

#endif /* ARCNAT_UPLINK_SOCK_TCP_DEFS_H */
