/* SPDX-License-Identifier: MIT */
/*
 * sock.h - the socket uplink (`--outside sock`): the NAT's translated
 * packets relayed through ordinary host sockets, so that arcnat needs no
 * privilege (docs/rootless.md).
 *
 * Theory of operation: the port sits behind the NAT, which is unchanged:
 * a guest's packet 10.0.2.2:5000 -> R:80 reaches tx_burst() translated,
 * EXT:P -> R:80, where EXT is SOCK_EXT_ADDR, an address that never
 * appears on any wire. The port relays the payload through a host socket
 * and turns what the socket receives into an IPv4 packet R:80 -> EXT:P,
 * returned by rx_burst(), which the NAT translates back. The connection
 * table stays the one record of every flow (state, timeouts, filtering);
 * the port keeps only a handle per flow, in arrays indexed by what the NAT
 * made unique:
 *
 * - UDP: one socket per NAT mapping, that is per external port P (the
 *   NAT's mapping is endpoint-independent, RFC 4787 REQ-1, so one host
 *   socket per guest endpoint too). It is bound to the guest's own port
 *   when the host has it free, else to an ephemeral port; every datagram
 *   it receives, from any remote, becomes a packet to EXT:P and the NAT's
 *   filtering decides whether the guest sees it. ICMP errors come from
 *   the socket's error queue (IP_RECVERR) and become ICMP errors quoting
 *   the datagram as the NAT sent it (EXT:P -> R), which the NAT
 *   translates back (RFC 5508). The socket is closed when the last flow
 *   of its mapping leaves the table (flow_gone). One port
 *   (sock_uplink_cfg.pinned_udp: the DNS forwarder's upstream queries,
 *   which are no flow) has its socket for good.
 * - ICMP echo: one unprivileged ping socket (SOCK_DGRAM, IPPROTO_ICMP) per
 *   mapped identifier, likewise; the kernel gives it its own identifier
 *   on the wire and the port restores P in the replies. Where
 *   net.ipv4.ping_group_range forbids ping sockets, echo requests are a
 *   counted drop (sock_uplink_probe_echo() says so once, at start).
 * - TCP: one connection per conntrack flow, the relay uplink/sock_tcp
 *   (the guest's TCP peer on one side, a host socket connected to the
 *   remote on the other), fed by the flow index the worker passes in
 *   dp_buf.flow and told of each flow that goes. Without a connection
 *   table (sock_uplink_cfg.ct NULL) a segment is answered with an RST.
 *
 * Every socket is one of the port's extra fds (dp_worker_add_fd()) with a
 * sub-index: bits 28-31 its kind, bits 0-15 P, bits 16-27 a generation
 * bumped at every open, so that an event of a closed socket is stale.
 * Every refusal is counted (struct sock_uplink_stats); running out of
 * descriptors (or sock_uplink_cfg.max_sockets) also answers the guest
 * with an ICMP "communication administratively prohibited".
 */
#ifndef ARCNAT_UPLINK_SOCK_H
#define ARCNAT_UPLINK_SOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "ct/table.h"
#include "dp/port.h"
#include "dp/worker.h"
#include "uplink/sock_defs.h"

/**
 * struct sock_uplink_cfg - the socket uplink.
 * @ext_addr:    the NAT's external address, network order (SOCK_EXT_ADDR_HOST)
 * @ct:          the NAT's connection table (nat_ct()), read to find the
 *               guest's own port for a new UDP socket; NULL: ephemeral
 *               ports only
 * @pinned_udp:  an external UDP port whose socket is opened for packets of
 *               no flow and never closed (host order; 0: none): the DNS
 *               forwarder's DP_SVC_DNS_PORT
 * @max_sockets: datagram sockets open at once; 0: the descriptor limit
 *               (raised to its hard maximum) less SOCK_FD_RESERVE
 * @max_tcp:     TCP connections at once (0: the table's flows); never more
 *               than @max_sockets
 * @guest_mtu:   the guest segment's MTU: the MSS the TCP relay announces
 *               (0: 1500)
 * @fwd:         port forwards: the host sockets to listen on (borrowed,
 *               read by sock_uplink_open() only); the NAT must have a
 *               static forward of each one's external port
 * @n_fwd:       how many (at most SOCK_FORWARDS_MAX)
 */
struct sock_uplink_cfg {
	uint32_t ext_addr;
	const struct ct_table *ct;
	uint16_t pinned_udp;
	uint32_t max_sockets;
	uint32_t max_tcp;
	uint32_t guest_mtu;
	const struct sock_forward *fwd;
	unsigned int n_fwd;
};

/**
 * sock_uplink_open() - build the port (DP_PORT_L3 | DP_PORT_VNET, MTU
 * SOCK_MTU). The forwards' sockets are bound and listening when it
 * returns (a port in use is an error now, not at the first client); no
 * other socket is opened until a packet needs one.
 * @out: the port
 * @cfg: configuration (copied; @cfg->ct borrowed)
 *
 * Return: 0, -EINVAL (no external address, too many forwards), -ENOMEM,
 * -errno (a forward's socket: logged, naming it).
 */
int sock_uplink_open(struct dp_port **out, const struct sock_uplink_cfg *cfg);

/**
 * sock_uplink_attach() - the worker whose epoll set the port's sockets
 * join (dp_worker_add_fd()); before dp_worker_run().
 * @p: the port
 * @w: the worker it is the uplink of
 */
void sock_uplink_attach(struct dp_port *p, struct dp_worker *w);

/**
 * sock_uplink_set_env() - sock_uplink_attach() without a worker: the
 * port's sockets are watched through @env (tests drive the port with
 * their own epoll set and call fd_event and rx_burst themselves).
 * @p:   the port
 * @env: copied
 */
void sock_uplink_set_env(struct dp_port *p, const struct sock_env *env);

/**
 * sock_uplink_forward_add() - a port forward's host socket while running
 * (the control socket's forward-add, after the NAT's static forward):
 * a TCP listener, or the UDP forward's pinned socket, bound and watched
 * now. On the worker's thread (after sock_uplink_attach()).
 * @p: the port
 * @f: the forward
 *
 * Return: 0; -EINVAL; -ENOSPC SOCK_FORWARDS_MAX listeners; -errno of
 * socket(), bind() (-EADDRINUSE: another program has the port), listen().
 */
int sock_uplink_forward_add(struct dp_port *p, const struct sock_forward *f);

/**
 * sock_uplink_forward_host() - the host address a forward's socket is bound
 * to (the control socket's forward-list). On the worker's thread.
 * @p:     the port
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @port:  the forward's port (host order)
 * @addr:  the address (network order, 0: every address)
 *
 * Return: 0, -ENOENT no socket for that forward, -errno of getsockname().
 */
int sock_uplink_forward_host(const struct dp_port *p, uint8_t proto,
			     uint16_t port, uint32_t *addr);

/**
 * sock_uplink_forward_remove() - a forward deleted (forward-delete, after
 * nat_remove_forward()): a TCP listener is closed (the connections it
 * gave the relay go on); a UDP forward's socket is unpinned, closed now
 * unless @held (sock_dgram_forward_remove()). On the worker's thread.
 * @p:     the port
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @port:  the forward's port (host order)
 * @held:  flows still hold the forward's mapping
 *
 * Return: 0, or -ENOENT no such forward's socket.
 */
int sock_uplink_forward_remove(struct dp_port *p, uint8_t proto, uint16_t port,
			       bool held);

/**
 * sock_uplink_probe_echo() - whether this process may open ping sockets
 * (net.ipv4.ping_group_range); logs one line saying why not. Call it as
 * the user arcnat runs as. Echo requests are counted drops until a later
 * probe (every socket open is one) succeeds.
 * @p: the port
 *
 * Return: true if allowed.
 */
bool sock_uplink_probe_echo(struct dp_port *p);

/**
 * sock_uplink_get_stats() - the port's counters.
 * @p:   the port
 * @out: filled
 */
void sock_uplink_get_stats(const struct dp_port *p,
			   struct sock_uplink_stats *out);

#endif /* ARCNAT_UPLINK_SOCK_H */
