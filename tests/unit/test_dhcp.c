// SPDX-License-Identifier: MIT
/*
 * test_dhcp.c - unit tests for src/svc/dhcp: the RFC 2131 state rules
 * (DISCOVER/OFFER/REQUEST/ACK in every client state, NAK, DECLINE,
 * RELEASE, INFORM), address choice, static reservations, expiry, host
 * names, configuration errors.
 *
 * The server is the inside gateway, 10.0.2.1/24 with MAC 02:ab:cd:00:00:01
 * and pool 10.0.2.2 .. .254 unless a test says otherwise; clients, the
 * manual clock and the reply parser are in dhcp_client.h. Wire details
 * (options, sizes, destinations, malformed messages) are in
 * test_dhcp_msg.c, the lease table and file in test_dhcp_lease.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "test_exit.h"
#include "core/clock.h"
#include "prot/dhcp.h"
#include "svc/dhcp.h"
#include "unit/dhcp_client.h"

static void full_exchange(void **state)
{
	struct td t;
	struct client cl;
	uint32_t ip;

	(void)state;
	td_init(&t);
	client_init(&cl, 1, true);
	cl.name = "myhost";

	assert_true(discover(&t, &cl) > 0);
	assert_int_equal(t.r.type, DHCP_OFFER);
	ip = t.r.h.yiaddr;
	assert_int_equal(ip, G(2));		/* the first guest is .2 */
	assert_int_equal(t.r.h.xid, htonl(cl.xid));
	assert_int_equal(t.r.h.ciaddr, 0);
	assert_memory_equal(t.r.h.chaddr, cl.mac, ETH_ALEN);
	assert_true(t.r.len >= BOOTP_MIN_LEN);
	assert_true((size_t)t.n >= ETH_HLEN + 20 + 8 + 300);
	check_config_opts(&t.r, true);
	assert_true(opt_is(&t.r, DHCP_OPT_CLIENT_ID, cl.cid, 7)); /* RFC 6842 */
	assert_null(t.r.opt[DHCP_OPT_HOST_NAME]);
	/* No broadcast flag: unicast to yiaddr at chaddr. */
	assert_memory_equal(t.r.eth.dst, cl.mac, ETH_ALEN);
	assert_int_equal(t.r.ip_dst, ip);
	assert_int_equal(st(&t)->offers_pending, 1);
	assert_null(dhcp_name_of(t.d, ip));	/* not learned from DISCOVER */

	assert_true(request_sel(&t, &cl, ip, GW) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.h.yiaddr, ip);
	assert_int_equal(t.r.h.xid, htonl(cl.xid));
	check_config_opts(&t.r, true);
	assert_memory_equal(t.r.eth.dst, cl.mac, ETH_ALEN);
	assert_int_equal(t.r.ip_dst, ip);
	assert_string_equal(dhcp_name_of(t.d, ip), "myhost");

	assert_int_equal(st(&t)->in[DHCP_DISCOVER], 1);
	assert_int_equal(st(&t)->in[DHCP_REQUEST], 1);
	assert_int_equal(st(&t)->out[DHCP_OFFER], 1);
	assert_int_equal(st(&t)->out[DHCP_ACK], 1);
	assert_int_equal(st(&t)->leases_active, 1);
	assert_int_equal(st(&t)->offers_pending, 0);
	assert_int_equal(st(&t)->names_learned, 1);
	td_fini(&t);
}

static void two_clients_differ(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ia, ib;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	/* Interleaved: both hold offers at once. */
	assert_true(discover(&t, &a) > 0);
	ia = t.r.h.yiaddr;
	assert_true(discover(&t, &b) > 0);
	ib = t.r.h.yiaddr;
	assert_int_not_equal(ia, ib);
	assert_int_equal(st(&t)->offers_pending, 2);
	assert_true(request_sel(&t, &b, ib, GW) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	/* b cannot have a's offered address. */
	assert_true(request_reboot(&t, &b, ia) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_sel(&t, &a, ia, GW) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(st(&t)->leases_active, 2);
	/* A client without a client id is known by MAC: a third address. */
	client_init(&b, 3, false);
	assert_int_equal(lease(&t, &b), G(4));
	td_fini(&t);
}

static void same_client_same_address(void **state)
{
	struct td t;
	struct client a, b, c;
	uint32_t ia, ic;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	client_init(&c, 3, false);		/* by MAC */
	ia = lease(&t, &a);
	ic = lease(&t, &c);
	/* DISCOVER again while bound: the same address. */
	assert_true(discover(&t, &a) > 0);
	assert_int_equal(t.r.h.yiaddr, ia);
	assert_int_equal(st(&t)->leases_active, 2);
	/* Released, then another client comes: it gets a new address. */
	assert_int_equal(release(&t, &a, ia), 0);
	assert_int_equal(release(&t, &c, ic), 0);
	assert_int_equal(st(&t)->released, 2);
	assert_int_not_equal(lease(&t, &b), ia);
	/* The clients come back and find their addresses. */
	assert_int_equal(lease(&t, &a), ia);
	assert_int_equal(lease(&t, &c), ic);
	/* Same MAC, now with a client id: another client (RFC 2131 4.2). */
	c.use_cid = true;
	assert_int_not_equal(lease(&t, &c), ic);
	td_fini(&t);
}

static void static_reservation(void **state)
{
	struct td t;
	struct client s, a, b, c;
	uint32_t ip;

	(void)state;
	td_cfg_default(&t);
	t.cfg.pool_first = G(49);
	t.cfg.pool_last = G(51);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:09,10.0.2.50,db",
					 &t.hosts[0]), 0);
	assert_int_equal(dhcp_parse_host("52-54-00-12-34-0a,10.0.2.200",
					 &t.hosts[1]), 0);
	t.cfg.hosts = t.hosts;
	t.cfg.n_hosts = 2;
	td_start(&t);
	client_init(&s, 9, true);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	client_init(&c, 3, true);
	/* The static host gets its address whatever its client id. */
	assert_int_equal(lease(&t, &s), G(50));
	assert_true(opt_is(&t.r, DHCP_OPT_HOST_NAME, "db", 2));
	/* The pool has .49 and .51 for the others; .50 is never given. */
	ip = lease(&t, &a);
	assert_true(ip == G(49) || ip == G(51));
	ip = lease(&t, &b);
	assert_true(ip == G(49) || ip == G(51));
	assert_int_equal(discover(&t, &c), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_POOL_EXHAUSTED], 1);
	assert_true(request_reboot(&t, &c, G(50)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* Even released, the reserved address stays the host's. */
	assert_int_equal(release(&t, &s, G(50)), 0);
	assert_int_equal(discover(&t, &c), 0);
	assert_true(request_reboot(&t, &c, G(50)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* The static host asking for another address is told no. */
	assert_true(request_reboot(&t, &s, G(49)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* A reservation outside the pool works the same. */
	client_init(&s, 10, false);
	assert_int_equal(lease(&t, &s), G(200));
	assert_null(t.r.opt[DHCP_OPT_HOST_NAME]);
	/* Configured names are always answered; no one else may take them. */
	assert_string_equal(dhcp_name_of(t.d, G(50)), "db");
	assert_int_equal(dhcp_addr_of(t.d, "DB.arcnat.internal.", &ip), 0);
	assert_int_equal(ip, G(50));
	c.name = "db";
	assert_int_equal(release(&t, &a, G(49)), 0);
	assert_int_equal(release(&t, &a, G(51)), 0);
	ip = lease(&t, &c);
	assert_int_equal(st(&t)->names_taken, 1);
	assert_null(dhcp_name_of(t.d, ip));
	assert_int_equal(dhcp_addr_of(t.d, "db", &ip), 0);
	assert_int_equal(ip, G(50));
	td_fini(&t);
}

static void request_other_server(void **state)
{
	struct td t;
	struct client a;
	uint32_t ip;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	assert_true(discover(&t, &a) > 0);
	ip = t.r.h.yiaddr;
	assert_int_equal(st(&t)->offers_pending, 1);
	assert_int_equal(request_sel(&t, &a, ip, IP(10, 0, 2, 99)), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_OTHER_SERVER], 1);
	assert_int_equal(st(&t)->offers_pending, 0);	/* withdrawn */
	assert_int_equal(st(&t)->leases_active, 0);
	assert_int_equal(st(&t)->out[DHCP_NAK], 0);
	/* Our server id but not the offered address: NAK. */
	assert_true(request_sel(&t, &a, G(100), GW) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* Our server id and the (remembered) address: ACK. */
	assert_true(request_sel(&t, &a, ip, GW) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	td_fini(&t);
}

static void init_reboot(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ia;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, false);
	ia = lease(&t, &a);
	/* Wrong subnet, someone else's, not the client's: NAK. */
	assert_true(request_reboot(&t, &a, IP(192, 168, 1, 5)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_reboot(&t, &a, G(30)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_reboot(&t, &b, ia) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	/* Not ours to give: server, network, broadcast addresses. */
	assert_true(request_reboot(&t, &b, GW) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_reboot(&t, &b, G(0)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_true(request_reboot(&t, &b, G(255)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_int_equal(st(&t)->out[DHCP_NAK], 6);
	/* Its own address: ACK. */
	assert_true(request_reboot(&t, &a, ia) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.h.yiaddr, ia);
	/* A client we have no record of, a free address: ACK (lost file). */
	assert_true(request_reboot(&t, &b, G(30)) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.h.yiaddr, G(30));
	assert_int_equal(st(&t)->leases_active, 2);
	td_fini(&t);
}

static void renew_unicast(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ia;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	ia = lease(&t, &a);
	advance(&t, 1800);			/* T1 */
	assert_true(request_renew(&t, &a, ia) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.h.yiaddr, ia);
	assert_int_equal(t.r.h.ciaddr, ia);
	assert_int_equal(t.r.ip_dst, ia);
	assert_memory_equal(t.r.eth.dst, a.mac, ETH_ALEN);
	check_config_opts(&t.r, true);
	/* Extended: still bound past the first lease's end. */
	advance(&t, 1801 + 600);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->leases_active, 1);
	/* Renewing someone else's address: NAK. */
	assert_true(request_renew(&t, &b, ia) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	td_fini(&t);
}

static void decline_quarantine(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ip;

	(void)state;
	td_cfg_default(&t);
	t.cfg.pool_first = t.cfg.pool_last = G(2);
	t.cfg.decline_sec = 30;
	td_start(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	ip = lease(&t, &a);
	assert_int_equal(decline(&t, &a, ip), 0);
	assert_int_equal(st(&t)->declined, 1);
	assert_int_equal(st(&t)->quarantined, 1);
	assert_int_equal(st(&t)->leases_active, 0);
	/* Nobody gets it during the quarantine, not even its decliner. */
	assert_int_equal(discover(&t, &a), 0);
	assert_int_equal(discover(&t, &b), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_POOL_EXHAUSTED], 2);
	assert_true(request_reboot(&t, &b, ip) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	advance(&t, 29);
	dhcp_tick(t.d, t.now);
	assert_int_equal(discover(&t, &b), 0);
	/* Then it comes back. */
	advance(&t, 1);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->quarantined, 0);
	assert_int_equal(lease(&t, &b), ip);
	/* A DECLINE of an address not the client's is ignored. */
	assert_int_equal(decline(&t, &a, ip), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_NOT_OURS], 1);
	assert_int_equal(st(&t)->leases_active, 1);
	td_fini(&t);
}

static void release_frees(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ip;

	(void)state;
	td_cfg_default(&t);
	t.cfg.pool_first = t.cfg.pool_last = G(2);
	td_start(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, false);
	ip = lease(&t, &a);
	assert_int_equal(discover(&t, &b), 0);
	/* A RELEASE of another address, or by another client: ignored. */
	assert_int_equal(release(&t, &a, G(3)), 0);
	assert_int_equal(release(&t, &b, ip), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_NOT_OURS], 2);
	assert_int_equal(st(&t)->leases_active, 1);
	assert_int_equal(release(&t, &a, ip), 0);
	assert_int_equal(st(&t)->released, 1);
	assert_int_equal(st(&t)->leases_active, 0);
	assert_int_equal(lease(&t, &b), ip);
	/* a's remembered binding went to b: a is now someone new. */
	assert_int_equal(discover(&t, &a), 0);
	td_fini(&t);
}

static void inform_answered(void **state)
{
	struct td t;
	struct client a;
	struct cm c;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	cm_client(&c, &a, DHCP_INFORM);
	cm_hdr(&c)->ciaddr = G(77);
	cm_end(&c);
	assert_true(tx(&t, &c, G(77), GW) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.h.yiaddr, 0);
	assert_int_equal(t.r.h.ciaddr, G(77));
	assert_int_equal(t.r.ip_dst, G(77));
	assert_memory_equal(t.r.eth.dst, a.mac, ETH_ALEN);
	check_config_opts(&t.r, false);
	assert_int_equal(st(&t)->leases_active, 0);
	assert_int_equal(st(&t)->offers_pending, 0);
	/* From another subnet: not answered. */
	cm_hdr(&c)->ciaddr = IP(192, 168, 0, 7);
	assert_int_equal(tx(&t, &c, IP(192, 168, 0, 7), GW), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_WRONG_SUBNET], 1);
	/* No address at all: malformed. */
	cm_hdr(&c)->ciaddr = 0;
	assert_int_equal(tx(&t, &c, 0, BCAST), -EINVAL);
	assert_int_equal(st(&t)->drops[DHCP_DROP_BAD_REQUEST], 1);
	assert_int_equal(st(&t)->in[DHCP_INFORM], 3);
	assert_int_equal(st(&t)->out[DHCP_ACK], 1);
	td_fini(&t);
}

static void pool_exhaustion(void **state)
{
	struct td t;
	struct client cl[3];
	unsigned int i;

	(void)state;
	td_cfg_default(&t);
	t.cfg.pool_first = G(10);
	t.cfg.pool_last = G(11);
	td_start(&t);
	for (i = 0; i < 3; i++)
		client_init(&cl[i], (uint8_t)(i + 1), true);
	assert_true(discover(&t, &cl[0]) > 0);
	assert_int_equal(t.r.h.yiaddr, G(10));
	assert_true(discover(&t, &cl[1]) > 0);
	assert_int_equal(t.r.h.yiaddr, G(11));
	assert_int_equal(discover(&t, &cl[2]), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_POOL_EXHAUSTED], 1);
	assert_int_equal(st(&t)->out[DHCP_OFFER], 2);
	/* Offers not taken up end after DHCP_OFFER_SEC. */
	advance(&t, DHCP_OFFER_SEC);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->offers_expired, 2);
	assert_int_equal(st(&t)->offers_pending, 0);
	assert_true(discover(&t, &cl[2]) > 0);
	assert_int_equal(t.r.h.yiaddr, G(10));
	td_fini(&t);
}

static void lease_expiry(void **state)
{
	struct td t;
	struct client a, b;
	uint32_t ia, ip;

	(void)state;
	td_cfg_default(&t);
	t.cfg.lease_sec = 60;
	t.cfg.pool_first = G(2);
	t.cfg.pool_last = G(3);
	td_start(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	a.name = "alpha";
	ia = lease(&t, &a);
	assert_int_equal(dhcp_addr_of(t.d, "alpha", &ip), 0);
	advance(&t, 59);
	dhcp_tick(t.d, t.now);
	assert_int_equal(st(&t)->leases_active, 1);
	assert_int_equal(dhcp_addr_of(t.d, "alpha", &ip), 0);
	advance(&t, 1);
	dhcp_tick(t.d, t.now);
	assert_int_equal(dhcp_addr_of(t.d, "alpha", &ip), -ENOENT);
	assert_null(dhcp_name_of(t.d, ia));
	assert_int_equal(st(&t)->leases_active, 0);
	assert_int_equal(st(&t)->leases_expired, 1);
	/* The expired binding is remembered: a renews and gets it back. */
	assert_true(request_renew(&t, &a, ia) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	/* A second client gets the other address; expiry is lazy too. */
	assert_int_not_equal(lease(&t, &b), ia);
	advance(&t, 60);
	assert_true(request_reboot(&t, &b, ia) > 0);	/* a's ran out */
	assert_int_equal(t.r.type, DHCP_ACK);
	td_fini(&t);
}

static void host_names(void **state)
{
	static const char long_name[] =
		"a123456789012345678901234567890123456789012345678901234567890123";
	struct td t;
	struct client a, b;
	uint32_t ia, ib, ip;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	client_init(&b, 2, true);
	a.name = "web-1.arcnat.internal";	/* our domain: stripped */
	ia = lease(&t, &a);
	assert_string_equal(dhcp_name_of(t.d, ia), "web-1");
	assert_int_equal(dhcp_addr_of(t.d, "WEB-1", &ip), 0);
	assert_int_equal(ip, ia);
	assert_int_equal(dhcp_addr_of(t.d, "web-1.arcnat.internal", &ip), 0);
	assert_int_equal(dhcp_addr_of(t.d, "web-1.other.org", &ip), -ENOENT);
	assert_int_equal(dhcp_addr_of(t.d, "web-2", &ip), -ENOENT);
	assert_int_equal(dhcp_addr_of(t.d, "", &ip), -ENOENT);
	/* Invalid names are ignored and counted; the old one stays. */
	b.name = "bad_name";
	ib = lease(&t, &b);
	assert_null(dhcp_name_of(t.d, ib));
	b.name = "x.other.org";
	assert_true(request_renew(&t, &b, ib) > 0);
	b.name = long_name;			/* 64 bytes */
	assert_true(request_renew(&t, &b, ib) > 0);
	b.name = "-dash";
	assert_true(request_renew(&t, &b, ib) > 0);
	assert_int_equal(st(&t)->names_invalid, 4);
	assert_null(dhcp_name_of(t.d, ib));
	/* A name taken by a newer holder moves. */
	b.name = "web-1";
	assert_true(request_renew(&t, &b, ib) > 0);
	assert_string_equal(dhcp_name_of(t.d, ib), "web-1");
	assert_null(dhcp_name_of(t.d, ia));
	assert_int_equal(dhcp_addr_of(t.d, "web-1", &ip), 0);
	assert_int_equal(ip, ib);
	/* Renamed; the old name is gone. */
	b.name = "db";
	assert_true(request_renew(&t, &b, ib) > 0);
	assert_int_equal(dhcp_addr_of(t.d, "web-1", &ip), -ENOENT);
	assert_int_equal(dhcp_addr_of(t.d, "db", &ip), 0);
	/* Released: the name goes with the lease. */
	assert_int_equal(release(&t, &b, ib), 0);
	assert_null(dhcp_name_of(t.d, ib));
	assert_int_equal(dhcp_addr_of(t.d, "db", &ip), -ENOENT);
	assert_int_equal(st(&t)->names_learned, 3);
	td_fini(&t);
}

static void create_errors(void **state)
{
	struct td t;
	struct dhcp *d = (struct dhcp *)&t;
	struct dhcp_host h;
	unsigned int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		td_cfg_default(&t);
		switch (i) {
		case 0: t.cfg.plen = 31; break;
		case 1: t.cfg.plen = 7; break;
		case 2: t.cfg.server = IP(10, 0, 2, 0); break;	/* network */
		case 3: t.cfg.server_mac[0] = 1; break;
		case 4: t.cfg.pool_first = G(10); t.cfg.pool_last = G(5); break;
		case 5: t.cfg.pool_first = G(10); t.cfg.pool_last = G(255); break;
		case 6: t.cfg.pool_first = IP(10, 0, 3, 1); t.cfg.pool_last = IP(10, 0, 3, 9); break;
		case 7: t.cfg.lease_sec = DHCP_LEASE_SEC_MAX + 1; break;
		case 8: t.cfg.mtu = 67; break;
		case 9: t.cfg.n_dns = 4; break;
		case 10: t.cfg.n_dns = 1; break;		/* dns[0] is 0 */
		case 11: t.cfg.domain = "bad_domain.org"; break;
		case 12: t.cfg.domain = "a..b"; break;
		case 13:				/* host on the server */
			dhcp_parse_host("52:54:00:00:00:01,10.0.2.1", &t.hosts[0]);
			t.cfg.hosts = t.hosts;
			t.cfg.n_hosts = 1;
			break;
		case 14:				/* two hosts, one MAC */
			dhcp_parse_host("52:54:00:00:00:01,10.0.2.9", &t.hosts[0]);
			dhcp_parse_host("52:54:00:00:00:01,10.0.2.8", &t.hosts[1]);
			t.cfg.hosts = t.hosts;
			t.cfg.n_hosts = 2;
			break;
		default:				/* outside the subnet */
			dhcp_parse_host("52:54:00:00:00:01,10.0.3.9", &t.hosts[0]);
			t.cfg.hosts = t.hosts;
			t.cfg.n_hosts = 1;
			break;
		}
		assert_int_equal(dhcp_create(&d, &t.cfg, T0, WALL0), -EINVAL);
		assert_null(d);
	}
	/* A /16 gets the default pool capped at DHCP_POOL_MAX addresses. */
	td_cfg_default(&t);
	t.cfg.plen = 16;
	td_start(&t);
	td_fini(&t);
	dhcp_destroy(NULL);

	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2.10,db", &h), 0);
	assert_int_equal(h.mac[5], 0x56);
	assert_int_equal(h.ip, G(10));
	assert_string_equal(h.name, "db");
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2.10", &h), 0);
	assert_string_equal(h.name, "");
	assert_int_equal(dhcp_parse_host("52:54:00:12:34,10.0.2.10", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("01:54:00:12:34:56,10.0.2.10", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2.10,", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2.10,a_b", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,10.0.2.10,a,b", &h), -EINVAL);
	assert_int_equal(dhcp_parse_host("52:54:00:12:34:56,0.0.0.0", &h), -EINVAL);
	assert_string_equal(dhcp_drop_name(DHCP_DROP_BAD_COOKIE), "bad_cookie");
	assert_string_equal(dhcp_drop_name(DHCP_DROP_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_exchange),
		cmocka_unit_test(two_clients_differ),
		cmocka_unit_test(same_client_same_address),
		cmocka_unit_test(static_reservation),
		cmocka_unit_test(request_other_server),
		cmocka_unit_test(init_reboot),
		cmocka_unit_test(renew_unicast),
		cmocka_unit_test(decline_quarantine),
		cmocka_unit_test(release_frees),
		cmocka_unit_test(inform_answered),
		cmocka_unit_test(pool_exhaustion),
		cmocka_unit_test(lease_expiry),
		cmocka_unit_test(host_names),
		cmocka_unit_test(create_errors),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
