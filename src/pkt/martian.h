/* SPDX-License-Identifier: MIT */
/*
 * martian.h - the one rule for IPv4 addresses that never travel through
 * the gateway ("martians", RFC 1812 section 5.3.7).
 *
 * Theory of operation: the worker asks pkt_martian() about every IPv4
 * packet from either side before anything is created for it (a flow, a
 * mapping, a port), so that a packet the uplink could never send, or a
 * reply that could never come back, leaves no state behind; the AF_PACKET
 * uplink asks again before it puts a packet on the wire, and the
 * configuration checks and the ARP endpoints use pkt_ip4_host(), the same
 * address classes. Each answer is a distinct reason that the data path
 * counts under its own name (drop.dp.*, dp/stats.h).
 *
 * The classes: 0.0.0.0/8 ("this network", RFC 1122 section 3.2.1.3: a
 * source only while a host learns its address), 127.0.0.0/8 (loopback,
 * never on a wire), 224.0.0.0/4 (multicast: not translated, RFC 5135
 * leaves it out of a NAT's unicast rules), 240.0.0.0/4 (reserved, RFC 1112
 * section 4) and 255.255.255.255 (limited broadcast, never forwarded, RFC
 * 919); a directed broadcast of a subnet the gateway is on (RFC 1812
 * section 5.3.5: a gateway that forwards them is a smurf amplifier); a
 * destination in a range the uplink keeps for itself (the socket uplink's
 * 198.18.0.0/15: its NAT's external address and the host loopback's image
 * 198.19.0.0/16, which a guest reaches only through the gateway address,
 * uplink/sock_defs.h); and from the guests, a source outside their subnet
 * (spoofed, or a guest that has no address yet: DHCP from 0.0.0.0 is
 * taken by the services before the rule is asked).
 */
#ifndef ARCNAT_PKT_MARTIAN_H
#define ARCNAT_PKT_MARTIAN_H

#include <stdbool.h>
#include <stdint.h>

/* X(enum suffix, name, what it means); dp/stats.h counts them by name. */
#define PKT_MARTIAN_LIST(X)                                                     \
	X(DST_ZERONET, "dst_zeronet", "destination in 0.0.0.0/8")               \
	X(DST_LOOPBACK, "dst_loopback", "destination in 127.0.0.0/8")           \
	X(DST_MULTICAST, "dst_multicast", "destination in 224.0.0.0/4: multicast is not translated") \
	X(DST_RESERVED, "dst_reserved", "destination in 240.0.0.0/4 (reserved)") \
	X(DST_BROADCAST, "dst_broadcast", "destination 255.255.255.255")        \
	X(DST_SUBNET_BROADCAST, "dst_subnet_broadcast", "destination the broadcast address of the inside or the outside subnet") \
	X(DST_UPLINK_RANGE, "dst_uplink_range", "destination in the range the uplink keeps for itself (--outside sock: 198.18.0.0/15, the NAT's external address and the host loopback's image)") \
	X(SRC_ZERONET, "src_zeronet", "source in 0.0.0.0/8 (DHCP aside)")       \
	X(SRC_LOOPBACK, "src_loopback", "source in 127.0.0.0/8")                \
	X(SRC_MULTICAST, "src_multicast", "source in 224.0.0.0/4")              \
	X(SRC_RESERVED, "src_reserved", "source in 240.0.0.0/4 (reserved)")     \
	X(SRC_BROADCAST, "src_broadcast", "source 255.255.255.255 or the guests' subnet broadcast address") \
	X(SRC_NOT_INSIDE, "src_not_inside", "guest source outside the inside subnet")

enum pkt_martian {
	PKT_MARTIAN_NONE,
#define PKT_MARTIAN_ENUM(sym, name, desc) PKT_MARTIAN_##sym,
	PKT_MARTIAN_LIST(PKT_MARTIAN_ENUM)
#undef PKT_MARTIAN_ENUM
	PKT_MARTIAN__MAX
};

/**
 * struct pkt_subnet - an IPv4 subnet.
 * @addr: any address in it, network order
 * @mask: its mask, network order; 0 means no subnet
 */
struct pkt_subnet {
	uint32_t addr;
	uint32_t mask;
};

/**
 * struct pkt_martian_rule - what the rule knows of the gateway's addressing.
 * @src:   the subnet every source must be in (the guests', for packets
 *         from the inside); mask 0: any source that is a host address
 * @bcast: subnets whose directed broadcast address is no destination
 *         (mask 0: unused; subnets of /31 and /32 have none)
 * @no_dst: a subnet no address of which is a destination (mask 0: none):
 *          the uplink's own range
 */
struct pkt_martian_rule {
	struct pkt_subnet src;
	struct pkt_subnet bcast[2];
	struct pkt_subnet no_dst;
};

/**
 * pkt_ip4_host() - can @a be the address of a unicast host anywhere?
 * @a: address, network order
 *
 * Return: false for 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 and 240.0.0.0/4
 * (255.255.255.255 included); true otherwise.
 */
bool pkt_ip4_host(uint32_t a);

/**
 * pkt_martian() - may a packet from @saddr to @daddr go through?
 * @r:     the addressing it is judged by
 * @saddr: source, network order
 * @daddr: destination, network order
 *
 * The destination is judged first, then the source. Pure: no state, no
 * side effects.
 *
 * Return: PKT_MARTIAN_NONE if it may, else why not.
 */
enum pkt_martian pkt_martian(const struct pkt_martian_rule *r, uint32_t saddr,
			     uint32_t daddr);

#endif /* ARCNAT_PKT_MARTIAN_H */
