/* SPDX-License-Identifier: MIT */
/*
 * netlink.h - the few rtnetlink requests arcnat needs, through libmnl.
 *
 * Theory of operation: one struct nl is one NETLINK_ROUTE socket, bound to
 * the network namespace of the thread that called nl_open() (enter the
 * namespace first with netns_enter(), see sys/netns.h). Each call sends one
 * request with a fresh sequence number and NLM_F_ACK, then reads until the
 * kernel's acknowledgement (or NLMSG_DONE for a dump), so every call is
 * synchronous and its return value is the kernel's own verdict: a netlink
 * error ack becomes -errno. Replies carrying another sequence number (late
 * answers to a request that timed out) are skipped. A receive waits at most
 * NL_TIMEOUT_MS (else -ETIMEDOUT), and a call reads at most NL_MAX_RECV
 * datagrams (else -EOVERFLOW). Besides the errors each function lists, any
 * call can return those two, -ENOBUFS (socket receive queue overrun) and
 * -EBADMSG (a malformed answer).
 *
 * The kernel's extended ack message ("Invalid MTU"...), when there is one,
 * is logged at debug level next to the errno.
 *
 * A struct nl is not thread-safe: one per thread, or a lock around it. It
 * holds its receive buffer, so nothing allocates after nl_open().
 *
 * IPv4 addresses are in network byte order; everything else in host order.
 */
#ifndef ARCNAT_SYS_NETLINK_H
#define ARCNAT_SYS_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

/* Longest a call waits for one datagram from the kernel. */
#define NL_TIMEOUT_MS 5000
/* Most datagrams one call reads (a dump of a big table is many). */
#define NL_MAX_RECV 4096

struct nl;

/**
 * nl_open() - open an rtnetlink socket in the calling thread's namespace.
 * @out: where to store the handle; untouched on error
 *
 * Return: 0; -ENOMEM; -errno from socket(2), bind(2) or setsockopt(2).
 */
int nl_open(struct nl **out);

/**
 * nl_close() - close the socket and free the handle.
 * @nl: handle, or NULL (nothing happens)
 */
void nl_close(struct nl *nl);

/**
 * nl_link_index() - find a link by name.
 * @nl:      handle
 * @name:    link name
 * @ifindex: out: its index
 *
 * Return: 0; -ENODEV if there is no such link; -EINVAL for an empty name or
 * one of IFNAMSIZ bytes or more; -errno.
 */
int nl_link_index(struct nl *nl, const char *name, unsigned int *ifindex);

/**
 * nl_link_info() - read a link's MAC address, MTU and administrative state.
 * @nl:      handle
 * @ifindex: link
 * @mac:     out: hardware address, all zero when the link has none of 6
 *           bytes (TUN, loopback has zeros too); may be NULL
 * @mtu:     out: MTU; may be NULL
 * @up:      out: whether IFF_UP is set; may be NULL
 *
 * Return: 0; -ENODEV if there is no such link; -errno.
 */
int nl_link_info(struct nl *nl, unsigned int ifindex, uint8_t mac[6],
		 unsigned int *mtu, bool *up);

/**
 * nl_link_set_mtu() - set a link's MTU.
 * @nl:      handle
 * @ifindex: link
 * @mtu:     new MTU
 *
 * Return: 0; -EINVAL if the link does not take that MTU; -ENODEV; -errno.
 */
int nl_link_set_mtu(struct nl *nl, unsigned int ifindex, unsigned int mtu);

/**
 * nl_link_set_up() - set or clear IFF_UP on a link.
 * @nl:      handle
 * @ifindex: link
 * @up:      true for up, false for down
 *
 * Return: 0; -ENODEV; -errno.
 */
int nl_link_set_up(struct nl *nl, unsigned int ifindex, bool up);

/**
 * nl_addr4_add() - add an IPv4 address to a link.
 * @nl:      handle
 * @ifindex: link
 * @addr:    address, network byte order
 * @plen:    prefix length, 0 .. 32
 *
 * Like `ip addr add ADDR/PLEN dev IF`: no broadcast address, the kernel adds
 * the prefix route when the link is up.
 *
 * Return: 0, also when the link already has @addr/@plen; -EINVAL bad
 * @plen; -ENODEV; -errno.
 */
int nl_addr4_add(struct nl *nl, unsigned int ifindex, uint32_t addr,
		 unsigned int plen);

/**
 * nl_addr4_first() - the first IPv4 address of a link, in kernel order
 * (the primary address of the first subnet added).
 * @nl:      handle
 * @ifindex: link
 * @addr:    out: address (IFA_LOCAL), network byte order
 * @plen:    out: prefix length; may be NULL
 *
 * Return: 0; -ENOENT if the link has no IPv4 address (or does not exist);
 * -EINTR if addresses changed during the dump (NLM_F_DUMP_INTR): try
 * again; -errno.
 */
int nl_addr4_first(struct nl *nl, unsigned int ifindex, uint32_t *addr,
		   unsigned int *plen);

/**
 * nl_route4_add() - add an IPv4 route to the main table.
 * @nl:      handle
 * @dst:     destination prefix, network byte order (host bits must be zero)
 * @plen:    prefix length, 0 .. 32 (0 with @dst 0 is the default route)
 * @gw:      gateway, network byte order; 0 for an on-link route (scope link)
 * @ifindex: output link; may be 0 when @gw is set
 *
 * The route has protocol "static" and metric 0.
 *
 * Return: 0, also when the main table already has a route to @dst/@plen
 * with metric 0 (the kernel's -EEXIST: that route is kept as it is, even if
 * its next hop differs); -EINVAL bad @plen, neither @gw nor @ifindex, or a
 * prefix with host bits set; -ENETUNREACH @gw not reachable; -ENODEV;
 * -errno.
 */
int nl_route4_add(struct nl *nl, uint32_t dst, unsigned int plen, uint32_t gw,
		  unsigned int ifindex);

#endif /* ARCNAT_SYS_NETLINK_H */
