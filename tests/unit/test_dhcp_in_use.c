// SPDX-License-Identifier: MIT
/*
 * test_dhcp_in_use.c - unit tests for src/svc/dhcp's "Addresses in use by
 * other hosts" (dhcp.h): an address another MAC uses is not offered (and
 * is quarantined), a REQUEST for it is NAKed, the client's own address is
 * never blocked by its own MAC, the probe before an OFFER, and the warning
 * for a leased address seen from a second MAC.
 *
 * The segment is a table of (address, MAC) pairs standing for the
 * gateway's ARP table: cfg->addr_user reads it, cfg->addr_probe records
 * the addresses probed. The server and clients are dhcp_client.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "prot/dhcp.h"
#include "svc/dhcp.h"
#include "unit/dhcp_client.h"

#define SEG_MAX		16
#define PROBES_MAX	32

/* A static guest's MAC: not one client_init() makes. */
static const uint8_t s_mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* The segment as the ARP table sees it, what was probed, what was said. */
struct seg {
	uint32_t ip[SEG_MAX];
	uint8_t mac[SEG_MAX][ETH_ALEN];
	unsigned int n;
	uint32_t probed[PROBES_MAX];
	unsigned int n_probed;
	unsigned int asked;
	unsigned int warns;
	char last_warn[256];
};

static struct seg seg;

static void seg_use(uint32_t ip, const uint8_t mac[ETH_ALEN])
{
	unsigned int i;

	for (i = 0; i < seg.n; i++)
		if (seg.ip[i] == ip)
			break;
	assert_true(i < SEG_MAX);
	if (i == seg.n)
		seg.n++;
	seg.ip[i] = ip;
	memcpy(seg.mac[i], mac, ETH_ALEN);
}

static int seg_user(void *ctx, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	unsigned int i;

	assert_ptr_equal(ctx, &seg);
	seg.asked++;
	for (i = 0; i < seg.n; i++) {
		if (seg.ip[i] == ip) {
			memcpy(mac, seg.mac[i], ETH_ALEN);
			return 0;
		}
	}
	return -ENOENT;
}

static void seg_probe(void *ctx, uint32_t ip)
{
	assert_ptr_equal(ctx, &seg);
	assert_true(seg.n_probed < PROBES_MAX);
	seg.probed[seg.n_probed++] = ip;
}

static void seg_sink(void *ctx, enum log_level level, const char *msg)
{
	(void)ctx;
	if (level != LOG_LEVEL_WARN)
		return;
	seg.warns++;
	snprintf(seg.last_warn, sizeof(seg.last_warn), "%s", msg);
}

/* A DISCOVER with a requested address (option 50). */
static int discover_req(struct td *t, const struct client *cl, uint32_t ip)
{
	struct cm c;

	cm_client(&c, cl, DHCP_DISCOVER);
	cm_ip(&c, DHCP_OPT_REQUESTED_IP, ip);
	cm_end(&c);
	return tx(t, &c, 0, BCAST);
}

/* The default server (pool .2 - .254) on the segment above. */
static void start(struct td *t, bool probe)
{
	memset(&seg, 0, sizeof(seg));
	td_cfg_default(t);
	t->cfg.addr_user = seg_user;
	t->cfg.addr_probe = probe ? seg_probe : NULL;
	t->cfg.ctx = &seg;
	t->cfg.decline_sec = 30;
	log_set_sink(seg_sink, NULL);
	td_start(t);
}

/* An address a static guest uses is neither offered nor given. */
static void in_use_not_offered(void **state)
{
	struct td t;
	struct client a, b;

	(void)state;
	start(&t, true);
	client_init(&a, 1, true);
	client_init(&b, 2, false);
	seg_use(G(2), s_mac);			/* the first pool address */

	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.type, DHCP_OFFER);
	assert_int_equal(t.r.h.yiaddr, G(3));
	assert_int_equal(st(&t)->in_use_skipped, 1);
	assert_int_equal(st(&t)->quarantined, 1);
	/* The address offered was probed; the one in use was not. */
	assert_int_equal(seg.n_probed, 1);
	assert_int_equal(seg.probed[0], G(3));
	assert_int_equal(st(&t)->probes, 1);
	assert_int_equal(lease(&t, &a), G(3));

	/* Asked for by name (INIT-REBOOT, SELECTING): NAK. */
	assert_true(request_reboot(&t, &b, G(2)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_sel(&t, &b, G(2), GW) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_int_equal(st(&t)->in_use_nak, 0);	/* quarantined: NAK anyway */

	/* Quarantine over, still in use: requested in a DISCOVER, skipped
	 * again; asked for by name, NAKed; given once the guest is gone
	 * from the ARP table. */
	advance(&t, 31);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->quarantined, 0);
	client_init(&b, 3, true);
	assert_true(discover_req(&t, &b, G(2)) > 0);
	assert_int_equal(t.r.type, DHCP_OFFER);
	assert_int_equal(t.r.h.yiaddr, G(4));
	assert_int_equal(st(&t)->in_use_skipped, 2);
	advance(&t, 31);
	dhcp_tick(t.d, t.now);
	client_init(&b, 4, true);
	assert_true(request_reboot(&t, &b, G(2)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_int_equal(st(&t)->in_use_nak, 1);
	advance(&t, 31);
	dhcp_tick(t.d, t.now);
	seg.n = 0;
	assert_true(request_reboot(&t, &b, G(2)) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(seg.warns, 0);	/* nobody held G(2): no conflict */
	td_fini(&t);
}

/* At most DHCP_IN_USE_TRIES candidates per DISCOVER, then no answer. */
static void many_in_use_bounded(void **state)
{
	struct td t;
	struct client a;
	unsigned int i, asked;

	(void)state;
	start(&t, false);
	client_init(&a, 1, true);
	for (i = 0; i < DHCP_IN_USE_TRIES + 2; i++)
		seg_use(G(2 + i), s_mac);
	assert_int_equal(discover(&t, &a), 0);
	asked = seg.asked;
	assert_int_equal(asked, DHCP_IN_USE_TRIES);
	assert_int_equal(st(&t)->drops[DHCP_DROP_IN_USE], 1);
	assert_int_equal(st(&t)->in_use_skipped, DHCP_IN_USE_TRIES);
	/* The client asks again: the next ones are tried. */
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.h.yiaddr, G(2 + DHCP_IN_USE_TRIES + 2));
	assert_int_equal(st(&t)->in_use_skipped, DHCP_IN_USE_TRIES + 2);
	assert_int_equal(st(&t)->quarantined, DHCP_IN_USE_TRIES + 2);
	td_fini(&t);
}

/* The client's own MAC in the ARP table never blocks its own address. */
static void own_address_not_blocked(void **state)
{
	struct td t;
	struct client a, c;
	uint32_t ia, ic;

	(void)state;
	start(&t, true);
	client_init(&a, 1, true);		/* by client id */
	client_init(&c, 2, false);		/* by MAC */
	ia = lease(&t, &a);
	ic = lease(&t, &c);
	seg_use(ia, a.mac);
	seg_use(ic, c.mac);
	dhcp_addr_seen(t.d, ia, a.mac, t.now);
	assert_true(request_renew(&t, &a, ia) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_true(request_reboot(&t, &c, ic) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.h.yiaddr, ia);
	/* Released and back: the remembered address is still its own. */
	assert_int_equal(release(&t, &c, ic), 0);
	assert_int_equal(lease(&t, &c), ic);
	assert_true(seg.asked > 0);
	assert_int_equal(st(&t)->in_use_skipped, 0);
	assert_int_equal(st(&t)->in_use_nak, 0);
	assert_int_equal(st(&t)->in_use_conflicts, 0);
	assert_int_equal(seg.warns, 0);
	td_fini(&t);
}

/* A host answers the probe before the client's REQUEST: NAK, next one. */
static void probe_answer_naks(void **state)
{
	struct td t;
	struct client a;

	(void)state;
	start(&t, true);
	client_init(&a, 1, true);
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.h.yiaddr, G(2));
	assert_int_equal(seg.n_probed, 1);
	assert_int_equal(seg.probed[0], G(2));
	seg_use(G(2), s_mac);			/* its ARP reply */
	dhcp_addr_seen(t.d, G(2), s_mac, t.now);	/* only offered */
	assert_true(request_sel(&t, &a, G(2), GW) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_int_equal(st(&t)->in_use_nak, 1);
	assert_int_equal(st(&t)->offers_pending, 0);
	assert_int_equal(st(&t)->quarantined, 1);
	/* The probe at work is no conflict: the client never used it. */
	assert_int_equal(st(&t)->in_use_conflicts, 0);
	assert_int_equal(seg.warns, 0);
	assert_int_equal(lease(&t, &a), G(3));
	assert_int_equal(seg.n_probed, 2);
	/* A bound client asking again is not probed. */
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(seg.n_probed, 2);
	td_fini(&t);
}

/* A guest takes a leased address by hand: one warning with both MACs; the
 * holder is NAKed at its next REQUEST and moves. */
static void leased_address_taken(void **state)
{
	struct td t;
	struct client a;
	uint32_t ia;

	(void)state;
	start(&t, false);
	client_init(&a, 1, true);
	ia = lease(&t, &a);
	dhcp_addr_seen(t.d, ia, s_mac, t.now);
	assert_int_equal(st(&t)->in_use_conflicts, 1);
	assert_int_equal(seg.warns, 1);
	assert_non_null(strstr(seg.last_warn, "10.0.2.2 leased to 52:54:00:12:34:01"));
	assert_non_null(strstr(seg.last_warn, "in use by 52:54:00:aa:bb:cc"));
	/* Seen again (the ARP entry flapping): not said again. */
	dhcp_addr_seen(t.d, ia, a.mac, t.now);
	dhcp_addr_seen(t.d, ia, s_mac, t.now + 1);
	assert_int_equal(st(&t)->in_use_conflicts, 1);
	assert_int_equal(seg.warns, 1);
	assert_int_equal(st(&t)->leases_active, 1);	/* nothing changed yet */
	/* The static guest holds it in the ARP table: the renewal is NAKed. */
	seg_use(ia, s_mac);
	assert_true(request_renew(&t, &a, ia) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_int_equal(st(&t)->in_use_nak, 1);
	assert_int_equal(st(&t)->leases_active, 0);
	assert_int_equal(st(&t)->quarantined, 1);
	assert_int_not_equal(lease(&t, &a), ia);
	/* Addresses nobody holds, or not ours: nothing said. */
	dhcp_addr_seen(t.d, G(100), s_mac, t.now);
	dhcp_addr_seen(t.d, IP(192, 168, 1, 1), s_mac, t.now);
	dhcp_addr_seen(t.d, GW, s_mac, t.now);
	assert_int_equal(st(&t)->in_use_conflicts, 1);
	td_fini(&t);
}

/* A static host's reservation used by another MAC: not offered, NAKed. */
static void reservation_in_use(void **state)
{
	struct td t;
	struct client s;

	(void)state;
	memset(&seg, 0, sizeof(seg));
	td_cfg_default(&t);
	t.cfg.addr_user = seg_user;
	t.cfg.ctx = &seg;
	t.cfg.decline_sec = 30;
	log_set_sink(seg_sink, NULL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:09,10.0.2.50,db",
					 &t.hosts[0]), 0);
	t.cfg.hosts = t.hosts;
	t.cfg.n_hosts = 1;
	td_start(&t);
	client_init(&s, 9, false);
	seg_use(G(50), s_mac);
	dhcp_addr_seen(t.d, G(50), s_mac, t.now);
	assert_int_equal(st(&t)->in_use_conflicts, 1);
	assert_non_null(strstr(seg.last_warn, "10.0.2.50 reserved to 52:54:00:12:34:09"));
	assert_int_equal(discover(&t, &s), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_IN_USE], 1);
	assert_int_equal(st(&t)->in_use_skipped, 1);
	advance(&t, 31);
	dhcp_tick(t.d, t.now);
	assert_true(request_reboot(&t, &s, G(50)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* The other host gone: the reservation is the host's again. */
	advance(&t, 31);
	dhcp_tick(t.d, t.now);
	seg.n = 0;
	assert_int_equal(lease(&t, &s), G(50));
	td_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_use_not_offered),
		cmocka_unit_test(many_in_use_bounded),
		cmocka_unit_test(own_address_not_blocked),
		cmocka_unit_test(probe_answer_naks),
		cmocka_unit_test(leased_address_taken),
		cmocka_unit_test(reservation_in_use),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
