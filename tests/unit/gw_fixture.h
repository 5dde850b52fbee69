/* SPDX-License-Identifier: MIT */
/*
 * gw_fixture.h - the gateway the worker's unit tests build (test_worker.c
 * and test_vhost_user.c through worker_env.h, test_stream.c,
 * test_persist.c): a NAT of one external address, 198.51.100.2, with the
 * default port range and timeouts, and a worker between a guest port and
 * an uplink whose gateway is 10.0.2.1/24 with MAC 02:ab:cd:00:00:01.
 *
 * gw_fixture_nat() and gw_fixture_dp() fill the configurations; a test
 * adds what is its own (forwards, DHCP, a lease writer) before it creates
 * them. Include cmocka.h first. Everything is static: each test program
 * gets its own copy.
 */
#ifndef ARCNAT_TESTS_GW_FIXTURE_H
#define ARCNAT_TESTS_GW_FIXTURE_H

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "ct/timeouts.h"
#include "dp/worker.h"
#include "nat/nat.h"

#define GW_FIXTURE_EXT	0xc6336402u	/* 198.51.100.2, host order */
#define GW_FIXTURE_GW	0x0a000201u	/* 10.0.2.1, host order */

/* The NAT's configuration: one external address, @max_flows flows. */
static inline struct nat_config gw_fixture_nat(uint32_t max_flows)
{
	struct nat_config nc = { 0 };

	nc.ext_addrs[0] = htonl(GW_FIXTURE_EXT);
	nc.n_ext_addrs = 1;
	nc.port_min = NAT_DEFAULT_PORT_MIN;
	nc.port_max = NAT_DEFAULT_PORT_MAX;
	nc.max_flows = max_flows;
	ct_timeouts_default(&nc.timeouts);
	return nc;
}

/* The worker's configuration: guest port @in, uplink @out, @nat. */
static inline struct dp_config gw_fixture_dp(struct dp_port *in,
					     struct dp_port *out,
					     struct nat *nat)
{
	static const uint8_t mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
	struct dp_config dc = { 0 };

	dc.inside = in;
	dc.outside = out;
	dc.nat = nat;
	dc.gw_addr = htonl(GW_FIXTURE_GW);
	dc.gw_plen = 24;
	memcpy(dc.gw_mac, mac, sizeof(dc.gw_mac));
	return dc;
}

#endif /* ARCNAT_TESTS_GW_FIXTURE_H */
