/* SPDX-License-Identifier: MIT */
/*
 * timeouts.h - how long an idle connection lives, per protocol state.
 *
 * Defaults follow docs/architecture.md "Connection tracking and NAT
 * rules" and the RFCs behind it: an
 * established TCP connection lives 2 h 4 min idle (RFC 5382 REQ-5), a UDP
 * mapping at least 2 min (RFC 4787 REQ-5; 5 min recommended), ICMP query
 * mappings 60 s (RFC 5508 REQ-1). Every value is configurable.
 */
#ifndef ARCNAT_CT_TIMEOUTS_H
#define ARCNAT_CT_TIMEOUTS_H

#include <stdbool.h>
#include <stdint.h>

enum ct_timeout_class {
	CT_TO_TCP_ESTABLISHED = 0,
	CT_TO_TCP_TRANSITORY,	/* SYN_SENT .. SYN_RECV, FIN_WAIT .. LAST_ACK */
	CT_TO_TCP_TIME_WAIT,
	CT_TO_TCP_CLOSE,	/* after an in-window RST */
	CT_TO_UDP_UNREPLIED,
	CT_TO_UDP_ASSURED,	/* a reply has been seen */
	CT_TO_ICMP,
	CT_TO__MAX
};

#define CT_TO_DEFAULT_TCP_ESTABLISHED	7440
#define CT_TO_DEFAULT_TCP_TRANSITORY	240
#define CT_TO_DEFAULT_TCP_TIME_WAIT	120
#define CT_TO_DEFAULT_TCP_CLOSE		10
#define CT_TO_DEFAULT_UDP_UNREPLIED	120
#define CT_TO_DEFAULT_UDP_ASSURED	300
#define CT_TO_DEFAULT_ICMP		60

#define CT_TO_UDP_MIN	120	/* RFC 4787 REQ-5 */
#define CT_TO_MAX	(30u * 24 * 3600)	/* 30 days; keeps deadlines sane */

/**
 * struct ct_timeouts - idle timeouts in seconds, indexed by class.
 * @sec: seconds per enum ct_timeout_class
 */
struct ct_timeouts {
	uint32_t sec[CT_TO__MAX];
};

/**
 * ct_timeouts_default() - the defaults above.
 * @t: filled
 */
void ct_timeouts_default(struct ct_timeouts *t);

/**
 * ct_timeouts_validate() - check configured values.
 * @t:               timeouts
 * @allow_short_udp: accept UDP timeouts below the 120 s of RFC 4787 REQ-5
 *                   (for tests that must see expiry quickly)
 *
 * Return: 0, or -EINVAL if a value is 0, above CT_TO_MAX, or a UDP value is
 * below CT_TO_UDP_MIN without @allow_short_udp.
 */
int ct_timeouts_validate(const struct ct_timeouts *t, bool allow_short_udp);

/**
 * ct_timeout_name() - "tcp_established", ... for options and messages.
 * @c: class
 *
 * Return: a static string, "invalid" when out of range.
 */
const char *ct_timeout_name(enum ct_timeout_class c);

#endif /* ARCNAT_CT_TIMEOUTS_H */
