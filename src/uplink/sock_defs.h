/* SPDX-License-Identifier: MIT */
/*
 * sock_defs.h - what the socket uplink's modules (sock, sock_dgram) and
 * their users share: its constants, the event set it is given and its
 * counters (uplink/sock.h has the port's interface).
 */
#ifndef ARCNAT_UPLINK_SOCK_DEFS_H
#define ARCNAT_UPLINK_SOCK_DEFS_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* 198.18.0.1 (RFC 2544 benchmarking range): the NAT's external address
 * with this uplink, never routed, seen by the guest only in hairpin and
 * ICMP quotes. Host order. */
#define SOCK_EXT_ADDR_HOST	0xc6120001u
/*
 * 198.19.0.0/16 (the same range's other half): the host's loopback
 * 127.0.0.0/16 as the NAT and the guest-side code see it. A loopback
 * address cannot cross a NAT (a packet to 127.0.0.1 means "this host" to
 * every stack it passes), so the port maps it at the socket boundary:
 * 198.19.b.c is 127.0.b.c on the host. The gateway address reaches it
 * through a NAT redirect (--no-map-gateway turns that off), a loopback
 * name server (127.0.0.53) is asked as 198.19.0.53, and a loopback client
 * of a port forward arrives from 198.19.b.c. Guests may not address this
 * range themselves (the worker's martian rule). Host order.
 */
#define SOCK_LO_NET_HOST	0xc6130000u
#define SOCK_LO_MASK_HOST	0xffff0000u
/* 198.18.0.0/15, both of the above: no guest's destination (the worker's
 * martian rule) and no guest subnet. Host order. */
#define SOCK_RANGE_NET_HOST	0xc6120000u
#define SOCK_RANGE_PLEN		15u
#define SOCK_MTU		65535u
/* Descriptors kept for everything else when the limit is derived. */
#define SOCK_FD_RESERVE		64u
/* The port's own packets (RSTs, ICMP errors it makes) waiting for rx. */
#define SOCK_PENDING_MAX	64u

/* Port forwards (listening host sockets) at most, TCP and UDP together. */
#define SOCK_FORWARDS_MAX	1024u

/**
 * struct sock_forward - a port forward's host side: arcnat listens on
 * @addr:@port of the host, and the NAT's static forward of external port
 * @port takes what arrives to a guest.
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @addr:  the host address, network order (0: any)
 * @port:  the host port, also the forward's external port (host order)
 */
struct sock_forward {
	uint8_t proto;
	uint32_t addr;
	uint16_t port;
};

/* Sub-index kinds, bits 28-31 (dp_worker_add_fd()). */
#define SOCK_SUB_KIND_SHIFT	28
#define SOCK_SUB_UDP		1u
#define SOCK_SUB_ICMP		2u
#define SOCK_SUB_TCP		3u	/* a TCP connection (uplink/sock_tcp) */
#define SOCK_SUB_TCP_LISTEN	4u	/* a TCP forward's listener: bits 0-15 its index */

/**
 * sock_addr_to_host() - where a translated packet's address is on the
 * host: 198.19.b.c becomes 127.0.b.c, anything else is itself.
 * @addr: IPv4 address, network order
 * Return: the host's address, network order.
 */
static inline uint32_t sock_addr_to_host(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	if ((h & SOCK_LO_MASK_HOST) != SOCK_LO_NET_HOST)
		return addr;
	return htonl(0x7f000000u | (h & ~SOCK_LO_MASK_HOST));
}

/**
 * sock_addr_from_host() - a host socket's peer address as the NAT sees
 * it: 127.0.b.c becomes 198.19.b.c.
 * @addr: IPv4 address, network order; rewritten in place
 * Return: false for a loopback address outside 127.0.0.0/16, which has no
 * image (the caller drops what came from it, counted).
 */
static inline bool sock_addr_from_host(uint32_t *addr)
{
	uint32_t h = ntohl(*addr);

	if ((h >> 24) != 127)
		return true;
	if ((h & SOCK_LO_MASK_HOST) != 0x7f000000u)
		return false;
	*addr = htonl(SOCK_LO_NET_HOST | (h & ~SOCK_LO_MASK_HOST));
	return true;
}

/**
 * sock_bound_addr() - the IPv4 address a socket is bound to (a forward's
 * host address, for the control socket's forward-list).
 * @fd:   the socket
 * @addr: the address, network order (0: every address)
 * Return: 0, -errno of getsockname(), -EAFNOSUPPORT not IPv4.
 */
static inline int sock_bound_addr(int fd, uint32_t *addr)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		return -errno;
	if (len < sizeof(a) || a.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*addr = a.sin_addr.s_addr;
	return 0;
}

/**
 * struct sock_env - where the port's sockets are watched: the worker
 * (sock_uplink_attach()) or a test's own epoll set.
 * @ctx:     context of the callbacks
 * @watch:   watch @fd for @events under sub-index @sub, or change what it
 *           is watched for; 0 or -errno
 * @unwatch: stop watching @fd (before it is closed)
 */
struct sock_env {
	void *ctx;
	int (*watch)(void *ctx, int fd, uint32_t sub, uint32_t events);
	void (*unwatch)(void *ctx, int fd);
};

/**
 * struct sock_uplink_stats - what the port did (`stat uplink.sock.NAME`).
 * @udp_open:      UDP sockets open now
 * @udp_opened:    UDP sockets opened
 * @udp_preserved: of those, bound to the guest's own port
 * @udp_closed:    UDP sockets closed (their mapping's last flow went)
 * @echo_open:     ping sockets open now
 * @echo_opened:   ping sockets opened
 * @echo_closed:   ping sockets closed
 * @icmp_errors:   ICMP errors read from an error queue, given to the guest
 * @err_local:     error-queue entries the host made itself, not relayed
 * @no_fd:         packets refused for want of a socket (descriptor limit or
 *                 max_sockets), each answered with an ICMP error
 * @echo_denied:   echo requests dropped: ping sockets not allowed
 * @no_flow:       datagrams of no flow to an unpinned port, dropped
 * @frag:          IP fragments from the guest, given to the reassembler
 *                 (a host socket cannot send a fragment; pkt/reasm.h)
 * @frag_reassembled: datagrams put back together and relayed
 * @frag_timeout:  partial datagrams dropped after REASM_TIMEOUT_DEFAULT_NS
 * @frag_overlap:  datagrams dropped for overlapping fragments
 * @frag_dup:      exact duplicate fragments ignored
 * @frag_too_big:  datagrams dropped: they would pass 65535 bytes
 * @frag_bad_end:  datagrams dropped: last fragments that disagree
 * @frag_bad:      malformed fragments dropped (empty or unaligned inner)
 * @frag_evicted:  partial datagrams evicted for a new one (no slot free)
 * @frag_active:   partial datagrams held now
 * @frag_slots:    the bound on them
 * @lo_unmapped:   datagrams and ICMP errors from a loopback address outside
 *                 127.0.0.0/16 (it has no image in 198.19.0.0/16), dropped
 * @send_err:      datagrams the host refused (buffer full, too big...)
 * @tcp_rst:       TCP segments answered with an RST (no TCP relay: no
 *                 connection table given)
 * @other:         packets of other protocols or ICMP types, dropped
 * @pending_full:  the port's own packets dropped: SOCK_PENDING_MAX waiting
 * @fwd_accepted:  clients a TCP forward's listener accepted
 * @fwd_refused:   clients reset at once (a loopback address outside
 *                 127.0.0.0/16, no relay), and accept() failures for want
 *                 of descriptors (the client waits in the backlog)
 * @max_sockets:   the bound in force
 * @max_tcp:       the TCP relay's bound on connections (0: no relay)
 */
struct sock_uplink_stats {
	uint64_t udp_open;
	uint64_t udp_opened;
	uint64_t udp_preserved;
	uint64_t udp_closed;
	uint64_t echo_open;
	uint64_t echo_opened;
	uint64_t echo_closed;
	uint64_t icmp_errors;
	uint64_t err_local;
	uint64_t no_fd;
	uint64_t echo_denied;
	uint64_t no_flow;
	uint64_t frag;
	uint64_t frag_reassembled;
	uint64_t frag_timeout;
	uint64_t frag_overlap;
	uint64_t frag_dup;
	uint64_t frag_too_big;
	uint64_t frag_bad_end;
	uint64_t frag_bad;
	uint64_t frag_evicted;
	uint64_t frag_active;
	uint64_t frag_slots;
	uint64_t lo_unmapped;
	uint64_t send_err;
	uint64_t tcp_rst;
	uint64_t other;
	uint64_t pending_full;
	uint64_t fwd_accepted;
	uint64_t fwd_refused;
	uint64_t max_sockets;
	uint64_t max_tcp;
};

#endif /* ARCNAT_UPLINK_SOCK_DEFS_H */
