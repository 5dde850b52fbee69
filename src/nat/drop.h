/* SPDX-License-Identifier: MIT */
/*
 * drop.h - why the NAT refused a packet; one counter per reason.
 */
#ifndef ARCNAT_NAT_DROP_H
#define ARCNAT_NAT_DROP_H

#include "core/compiler.h"

/* X(enum suffix, name, description) */
#define NAT_DROP_LIST(X)                                                            \
	X(NONE, "none", "not dropped")                                              \
	X(NOT_IPV4, "not_ipv4", "not an IPv4 packet (NAT is IPv4 NAPT)")            \
	X(PROTO, "proto", "L4 protocol the NAT does not translate")                 \
	X(NOT_OURS, "not_ours", "from outside, to an address that is not external") \
	X(WRONG_SIDE, "wrong_side", "packet of a known flow arrived on the wrong side") \
	X(TCP_BAD_FLAGS, "tcp_bad_flags", "impossible TCP flag combination")        \
	X(TCP_NOT_SYN, "tcp_not_syn", "new TCP connection not starting with SYN")   \
	X(TCP_RST_WINDOW, "tcp_rst_window", "TCP RST outside the window")           \
	X(TCP_BAD_SYNACK, "tcp_bad_synack", "SYN-ACK not acknowledging the SYN")    \
	X(TCP_UNEXPECTED, "tcp_unexpected", "TCP segment that does not fit the state") \
	X(UNSOLICITED, "unsolicited", "from outside, no mapping for its destination") \
	X(FILTERED, "filtered", "mapping exists but the filtering mode refuses the sender") \
	X(PORT_EXHAUSTED, "port_exhausted", "no free external port within the probe bound") \
	X(TABLE_FULL, "table_full", "connection table full of replied connections") \
	X(CLASH, "clash", "the new connection's tuple is already in use")           \
	X(HAIRPIN_SELF_TCP, "hairpin_self_tcp", "TCP from an endpoint to its own mapping: a connection with itself") \
	X(HASH_FULL, "hash_full", "no hash slot for the new connection")            \
	X(ICMP_TYPE, "icmp_type", "ICMP type the NAT does not translate")           \
	X(ICMP_ERR_NO_FLOW, "icmp_err_no_flow", "ICMP error about no known flow")   \
	X(ICMP_ERR_ADDR, "icmp_err_addr", "ICMP error not addressed to the flow's endpoint") \
	X(FRAG_NO_FLOW, "frag_no_flow", "non-first fragment of no known first fragment")

enum nat_drop {
#define NAT_DROP_ENUM(sym, name, desc) NAT_DROP_##sym,
	NAT_DROP_LIST(NAT_DROP_ENUM)
#undef NAT_DROP_ENUM
	NAT_DROP__MAX
};

static_assert(NAT_DROP_NONE == 0, "NAT_DROP_NONE must be 0");

/**
 * nat_drop_name() - short stable name of a reason ("unsolicited").
 * @r: reason; out of range gives "invalid"
 *
 * Return: a static string.
 */
const char *nat_drop_name(enum nat_drop r);

#endif /* ARCNAT_NAT_DROP_H */
