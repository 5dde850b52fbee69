// SPDX-License-Identifier: MIT
/*
 * test_martian.c - the one rule for martian addresses (pkt/martian.h): one
 * test per reason, the edges of each class, and what stays allowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdbool.h>

#include "pkt/martian.h"
#include "prot/ip4.h"
#include "test_exit.h"

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

#define GUEST	IP(10, 0, 2, 15)
#define REMOTE	IP(198, 51, 100, 1)

/*
 * The worker's rules: guests in 10.0.2.0/24, the uplink on 198.51.100.0/24;
 * sources from the guests must be in their subnet, from the outside any
 * host will do.
 */
static struct pkt_martian_rule rule(bool from_inside)
{
	const struct pkt_subnet in = { IP(10, 0, 2, 1), ip4_prefix_mask(24) };
	const struct pkt_subnet out = { IP(198, 51, 100, 2), ip4_prefix_mask(24) };
	struct pkt_martian_rule r = { .bcast = { in, out } };

	if (from_inside)
		r.src = in;
	return r;
}

static enum pkt_martian from_guest(uint32_t s, uint32_t d)
{
	struct pkt_martian_rule r = rule(true);

	return pkt_martian(&r, s, d);
}

static enum pkt_martian from_outside(uint32_t s, uint32_t d)
{
	struct pkt_martian_rule r = rule(false);

	return pkt_martian(&r, s, d);
}

static void hosts_pass(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, REMOTE), PKT_MARTIAN_NONE);
	/* The edges of the classes are hosts. */
	assert_int_equal(from_guest(GUEST, IP(1, 0, 0, 0)), PKT_MARTIAN_NONE);
	assert_int_equal(from_guest(GUEST, IP(126, 255, 255, 255)), PKT_MARTIAN_NONE);
	assert_int_equal(from_guest(GUEST, IP(128, 0, 0, 0)), PKT_MARTIAN_NONE);
	assert_int_equal(from_guest(GUEST, IP(223, 255, 255, 255)), PKT_MARTIAN_NONE);
	/* Another guest (hairpin to the gateway's own subnet is the NAT's
	 * business), the gateway itself, the external address. */
	assert_int_equal(from_guest(GUEST, IP(10, 0, 2, 16)), PKT_MARTIAN_NONE);
	assert_int_equal(from_guest(GUEST, IP(10, 0, 2, 1)), PKT_MARTIAN_NONE);
	assert_int_equal(from_guest(GUEST, IP(198, 51, 100, 2)), PKT_MARTIAN_NONE);
	/* Another subnet's .255 is a host address like any other. */
	assert_int_equal(from_guest(GUEST, IP(203, 0, 113, 255)), PKT_MARTIAN_NONE);
	/* From the outside, any host source; even one in the guests' subnet
	 * (private ranges are reused on both sides). */
	assert_int_equal(from_outside(REMOTE, IP(198, 51, 100, 2)), PKT_MARTIAN_NONE);
	assert_int_equal(from_outside(IP(10, 0, 2, 9), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_NONE);
	assert_int_equal(from_outside(IP(203, 0, 113, 255), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_NONE);
}

static void dst_zeronet(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, IP(0, 0, 0, 0)), PKT_MARTIAN_DST_ZERONET);
	assert_int_equal(from_guest(GUEST, IP(0, 255, 255, 255)),
			 PKT_MARTIAN_DST_ZERONET);
	assert_int_equal(from_outside(REMOTE, IP(0, 1, 2, 3)), PKT_MARTIAN_DST_ZERONET);
}

static void dst_loopback(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, IP(127, 0, 0, 1)), PKT_MARTIAN_DST_LOOPBACK);
	assert_int_equal(from_guest(GUEST, IP(127, 255, 255, 255)),
			 PKT_MARTIAN_DST_LOOPBACK);
	assert_int_equal(from_outside(REMOTE, IP(127, 0, 0, 53)),
			 PKT_MARTIAN_DST_LOOPBACK);
}

static void dst_multicast(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, IP(224, 0, 0, 0)), PKT_MARTIAN_DST_MULTICAST);
	assert_int_equal(from_guest(GUEST, IP(224, 0, 0, 251)),
			 PKT_MARTIAN_DST_MULTICAST);
	assert_int_equal(from_guest(GUEST, IP(239, 255, 255, 255)),
			 PKT_MARTIAN_DST_MULTICAST);
}

static void dst_reserved(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, IP(240, 0, 0, 0)), PKT_MARTIAN_DST_RESERVED);
	assert_int_equal(from_guest(GUEST, IP(250, 1, 2, 3)), PKT_MARTIAN_DST_RESERVED);
	assert_int_equal(from_guest(GUEST, IP(255, 255, 255, 254)),
			 PKT_MARTIAN_DST_RESERVED);
}

static void dst_broadcast(void **state)
{
	(void)state;
	assert_int_equal(from_guest(GUEST, IP(255, 255, 255, 255)),
			 PKT_MARTIAN_DST_BROADCAST);
	/* The destination is judged first: DHCP's 0.0.0.0 -> broadcast too
	 * (the worker lets the services see DHCP before the rule). */
	assert_int_equal(from_guest(IP(0, 0, 0, 0), IP(255, 255, 255, 255)),
			 PKT_MARTIAN_DST_BROADCAST);
}

static void dst_subnet_broadcast(void **state)
{
	struct pkt_martian_rule r;

	(void)state;
	assert_int_equal(from_guest(GUEST, IP(10, 0, 2, 255)),
			 PKT_MARTIAN_DST_SUBNET_BROADCAST);
	assert_int_equal(from_guest(GUEST, IP(198, 51, 100, 255)),
			 PKT_MARTIAN_DST_SUBNET_BROADCAST);
	assert_int_equal(from_outside(REMOTE, IP(198, 51, 100, 255)),
			 PKT_MARTIAN_DST_SUBNET_BROADCAST);
	/* The network address itself is no broadcast. */
	assert_int_equal(from_guest(GUEST, IP(198, 51, 100, 0)), PKT_MARTIAN_NONE);
	/* A /31 (RFC 3021) and a /32 have no broadcast address; a /30 has. */
	r = rule(true);
	r.bcast[1].mask = ip4_prefix_mask(31);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 51, 100, 3)), PKT_MARTIAN_NONE);
	r.bcast[1].mask = ip4_prefix_mask(32);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 51, 100, 2)), PKT_MARTIAN_NONE);
	r.bcast[1].mask = ip4_prefix_mask(30);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 51, 100, 3)),
			 PKT_MARTIAN_DST_SUBNET_BROADCAST);
	/* No subnet known (mask 0): nothing is its broadcast. */
	r.bcast[1].mask = 0;
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 51, 100, 255)), PKT_MARTIAN_NONE);
}

static void src_zeronet(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(0, 0, 0, 0), REMOTE), PKT_MARTIAN_SRC_ZERONET);
	assert_int_equal(from_outside(IP(0, 9, 9, 9), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_SRC_ZERONET);
}

static void src_loopback(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(127, 0, 0, 1), REMOTE), PKT_MARTIAN_SRC_LOOPBACK);
	assert_int_equal(from_outside(IP(127, 1, 2, 3), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_SRC_LOOPBACK);
}

static void src_multicast(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(224, 0, 0, 1), REMOTE), PKT_MARTIAN_SRC_MULTICAST);
	assert_int_equal(from_outside(IP(239, 1, 2, 3), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_SRC_MULTICAST);
}

static void src_reserved(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(240, 0, 0, 1), REMOTE), PKT_MARTIAN_SRC_RESERVED);
	assert_int_equal(from_outside(IP(254, 0, 0, 1), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_SRC_RESERVED);
}

static void src_broadcast(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(255, 255, 255, 255), REMOTE),
			 PKT_MARTIAN_SRC_BROADCAST);
	assert_int_equal(from_outside(IP(255, 255, 255, 255), IP(198, 51, 100, 2)),
			 PKT_MARTIAN_SRC_BROADCAST);
	/* The guests' subnet broadcast address is nobody's source. */
	assert_int_equal(from_guest(IP(10, 0, 2, 255), REMOTE), PKT_MARTIAN_SRC_BROADCAST);
}

static void src_not_inside(void **state)
{
	(void)state;
	assert_int_equal(from_guest(IP(10, 0, 3, 15), REMOTE), PKT_MARTIAN_SRC_NOT_INSIDE);
	assert_int_equal(from_guest(IP(203, 0, 113, 7), REMOTE),
			 PKT_MARTIAN_SRC_NOT_INSIDE);
	/* Spoofing an outside host, or the external address. */
	assert_int_equal(from_guest(REMOTE, IP(203, 0, 113, 7)),
			 PKT_MARTIAN_SRC_NOT_INSIDE);
	assert_int_equal(from_guest(IP(198, 51, 100, 2), REMOTE),
			 PKT_MARTIAN_SRC_NOT_INSIDE);
}

/* The socket uplink's range (uplink/sock_defs.h): 198.18.0.0/15 is no
 * destination for a guest; its edges and other rules' sources are not
 * touched, and without it the range is a host like any other. */
static void dst_uplink_range(void **state)
{
	struct pkt_martian_rule r = rule(true);

	(void)state;
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 19, 0, 1)), PKT_MARTIAN_NONE);
	r.no_dst = (struct pkt_subnet){ IP(198, 18, 0, 0), ip4_prefix_mask(15) };
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 18, 0, 1)),
			 PKT_MARTIAN_DST_UPLINK_RANGE);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 19, 0, 1)),
			 PKT_MARTIAN_DST_UPLINK_RANGE);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 19, 255, 255)),
			 PKT_MARTIAN_DST_UPLINK_RANGE);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 17, 255, 255)),
			 PKT_MARTIAN_NONE);
	assert_int_equal(pkt_martian(&r, GUEST, IP(198, 20, 0, 0)),
			 PKT_MARTIAN_NONE);
	/* The address classes are judged first. */
	assert_int_equal(pkt_martian(&r, GUEST, IP(127, 0, 0, 1)),
			 PKT_MARTIAN_DST_LOOPBACK);
}

static void ip4_host(void **state)
{
	(void)state;
	assert_true(pkt_ip4_host(IP(10, 0, 2, 15)));
	assert_true(pkt_ip4_host(IP(1, 0, 0, 0)));
	assert_true(pkt_ip4_host(IP(223, 255, 255, 255)));
	assert_false(pkt_ip4_host(IP(0, 0, 0, 0)));
	assert_false(pkt_ip4_host(IP(0, 1, 0, 0)));
	assert_false(pkt_ip4_host(IP(127, 0, 0, 53)));
	assert_false(pkt_ip4_host(IP(224, 0, 0, 1)));
	assert_false(pkt_ip4_host(IP(240, 0, 0, 1)));
	assert_false(pkt_ip4_host(IP(255, 255, 255, 255)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hosts_pass),
		cmocka_unit_test(dst_zeronet),
		cmocka_unit_test(dst_loopback),
		cmocka_unit_test(dst_multicast),
		cmocka_unit_test(dst_reserved),
		cmocka_unit_test(dst_broadcast),
		cmocka_unit_test(dst_subnet_broadcast),
		cmocka_unit_test(src_zeronet),
		cmocka_unit_test(src_loopback),
		cmocka_unit_test(src_multicast),
		cmocka_unit_test(src_reserved),
		cmocka_unit_test(src_broadcast),
		cmocka_unit_test(src_not_inside),
		cmocka_unit_test(dst_uplink_range),
		cmocka_unit_test(ip4_host),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
