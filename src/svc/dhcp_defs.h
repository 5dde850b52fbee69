/* SPDX-License-Identifier: MIT */
/*
 * dhcp_defs.h - the limits, drop reasons and static-host record that the
 * DHCP server (svc/dhcp) shares with its lease table (svc/dhcp_lease) and
 * its message codec (svc/dhcp_msg).
 *
 * They live apart from dhcp.h so that the lease table and the codec, which
 * dhcp.c uses, do not include dhcp.h back: modules of a layer depend on
 * each other without cycles (docs/architecture.md "Layers").
 */
#ifndef ARCNAT_SVC_DHCP_DEFS_H
#define ARCNAT_SVC_DHCP_DEFS_H

#include <stdint.h>

#include "prot/eth.h"

#define DHCP_NAME_MAX		63	/* one RFC 1123 label */
#define DHCP_DOMAIN_MAX		253	/* RFC 1035 name, dotted, no final dot */
#define DHCP_DNS_MAX		3
#define DHCP_POOL_MAX		65536	/* addresses */
#define DHCP_HOSTS_MAX		1024	/* static reservations */
#define DHCP_DEFAULT_LEASE	3600	/* seconds */
#define DHCP_LEASE_SEC_MAX	(365u * 86400u)
#define DHCP_DEFAULT_DECLINE	600	/* seconds of quarantine */
#define DHCP_OFFER_SEC		60	/* an offer holds its address this long */
#define DHCP_GC_SLICE		256	/* lease slots aged per dhcp_tick() */
#define DHCP_IN_USE_TRIES	8	/* candidates looked at per DISCOVER */
#define DHCP_FILE_RETRY_SEC	10	/* after a failed lease file write */
#define DHCP_FILE_HEADER_MAX	128	/* the lease file's comment line */
#define DHCP_FILE_LINE_MAX	256	/* one lease in the lease file */
/* The largest lease file: every pool address bound. */
#define DHCP_FILE_MAX	(DHCP_FILE_HEADER_MAX + \
			 (size_t)DHCP_POOL_MAX * DHCP_FILE_LINE_MAX)
#define DHCP_DEFAULT_DOMAIN	"arcnat.internal"

/* X(enum suffix, name, what it means); -EINVAL ones are malformed input. */
#define DHCP_DROP_LIST(X)                                                        \
	X(BAD_FRAME, "bad_frame", "not an unfragmented IPv4/UDP frame to port 67") \
	X(SHORT, "short", "shorter than a BOOTP header and magic cookie")      \
	X(NOT_REQUEST, "not_request", "BOOTP op is not BOOTREQUEST")           \
	X(BAD_HW, "bad_hw", "not Ethernet, or chaddr not a unicast MAC")       \
	X(BAD_COOKIE, "bad_cookie", "magic cookie missing or wrong")           \
	X(BAD_OPTION, "bad_option", "option runs past its field or has a bad length") \
	X(BAD_OVERLOAD, "bad_overload", "option 52 inside sname/file, or bad value") \
	X(NO_MSG_TYPE, "no_msg_type", "no option 53 (plain BOOTP is not served)") \
	X(BAD_MSG_TYPE, "bad_msg_type", "message type a client may not send")  \
	X(BAD_REQUEST, "bad_request", "REQUEST/INFORM with no address to act on") \
	X(RELAYED, "relayed", "giaddr set: relays are not served")             \
	X(OTHER_SERVER, "other_server", "server identifier is not ours")       \
	X(NOT_OURS, "not_ours", "DECLINE/RELEASE of an address not the client's") \
	X(WRONG_SUBNET, "wrong_subnet", "INFORM from outside our subnet")      \
	X(POOL_EXHAUSTED, "pool_exhausted", "DISCOVER with no address to offer") \
	X(IN_USE, "in_use", "DISCOVER whose candidate addresses were all in use by other hosts") \
	X(NO_ROOM, "no_room", "output buffer too small for the reply")

enum dhcp_drop {
#define DHCP_DROP_ENUM(e, n, d) DHCP_DROP_##e,
	DHCP_DROP_LIST(DHCP_DROP_ENUM)
#undef DHCP_DROP_ENUM
	DHCP_DROP_MAX
};

/**
 * struct dhcp_host - a static reservation (--dhcp-host MAC,IP[,NAME]).
 * @mac:  the client's MAC
 * @ip:   its address, network order, inside the subnet
 * @name: host name (one RFC 1123 label), or "" for none
 */
struct dhcp_host {
	uint8_t mac[ETH_ALEN];
	uint32_t ip;
	char name[DHCP_NAME_MAX + 1];
};

#endif /* ARCNAT_SVC_DHCP_DEFS_H */
