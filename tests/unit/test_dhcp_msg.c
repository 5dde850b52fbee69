// SPDX-License-Identifier: MIT
/*
 * test_dhcp_msg.c - unit tests for src/svc/dhcp_msg (message parsing and
 * reply frames), through dhcp_input(): option values and encodings,
 * broadcast and unicast destinations (RFC 2131 section 4.1), 802.1Q tags,
 * reply size limits (BOOTP minimum, option 57, output buffer), and every
 * kind of malformed message, each a counted drop and never a reply.
 * Fixture and client in dhcp_client.h.
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

static void options_configured(void **state)
{
	static const uint8_t search[] = "\x04" "corp" "\x07" "example" "\x03" "com";
	struct td t;
	struct client cl;
	uint32_t dns[3] = { IP(10, 0, 2, 3), IP(1, 1, 1, 1), IP(9, 9, 9, 9) };

	(void)state;
	td_cfg_default(&t);
	memcpy(t.cfg.dns, dns, sizeof(dns));
	t.cfg.n_dns = 3;
	t.cfg.domain = "corp.example.com.";
	t.cfg.lease_sec = 600;
	t.cfg.mtu = 0;
	td_start(&t);
	client_init(&cl, 1, false);
	assert_true(discover(&t, &cl) > 0);
	assert_true(opt_is(&t.r, DHCP_OPT_DNS, dns, sizeof(dns)));
	assert_true(opt_is(&t.r, DHCP_OPT_DOMAIN_NAME, "corp.example.com", 16));
	assert_true(opt_is(&t.r, DHCP_OPT_DOMAIN_SEARCH, search, sizeof(search)));
	assert_int_equal(ntohl(opt32(&t.r, DHCP_OPT_LEASE_TIME)), 600);
	assert_int_equal(ntohl(opt32(&t.r, DHCP_OPT_T1)), 300);
	assert_int_equal(ntohl(opt32(&t.r, DHCP_OPT_T2)), 525);
	assert_null(t.r.opt[DHCP_OPT_MTU]);
	assert_null(t.r.opt[DHCP_OPT_CLIENT_ID]);	/* none was sent */
	td_fini(&t);
}

static void broadcast_and_unicast(void **state)
{
	struct td t;
	struct client cl;
	struct cm c;
	uint32_t ip;

	(void)state;
	td_init(&t);
	client_init(&cl, 1, true);
	/* The broadcast flag asks for broadcast (RFC 2131 4.1). */
	cm_client(&c, &cl, DHCP_DISCOVER);
	cm_hdr(&c)->flags = htons(BOOTP_FLAG_BROADCAST);
	cm_end(&c);
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	assert_int_equal(t.r.type, DHCP_OFFER);
	assert_memory_equal(t.r.eth.dst, bcast_mac, ETH_ALEN);
	assert_int_equal(t.r.ip_dst, BCAST);
	assert_int_equal(t.r.h.flags, htons(BOOTP_FLAG_BROADCAST));
	ip = t.r.h.yiaddr;
	/* REQUEST with the flag: ACK broadcast too. */
	cm_client(&c, &cl, DHCP_REQUEST);
	cm_hdr(&c)->flags = htons(BOOTP_FLAG_BROADCAST);
	cm_ip(&c, DHCP_OPT_REQUESTED_IP, ip);
	cm_ip(&c, DHCP_OPT_SERVER_ID, GW);
	cm_end(&c);
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.ip_dst, BCAST);
	/* ciaddr set: unicast to ciaddr, even with the flag. */
	cm_client(&c, &cl, DHCP_REQUEST);
	cm_hdr(&c)->flags = htons(BOOTP_FLAG_BROADCAST);
	cm_hdr(&c)->ciaddr = ip;
	cm_end(&c);
	assert_true(tx(&t, &c, ip, BCAST) > 0);	/* REBINDING */
	assert_int_equal(t.r.type, DHCP_ACK);
	assert_int_equal(t.r.ip_dst, ip);
	assert_memory_equal(t.r.eth.dst, cl.mac, ETH_ALEN);
	assert_int_equal(t.r.h.ciaddr, ip);
	/* A NAK is broadcast even without the flag. */
	assert_true(request_reboot(&t, &cl, G(77)) > 0);
	assert_int_equal(t.r.type, DHCP_NAK);
	assert_memory_equal(t.r.eth.dst, bcast_mac, ETH_ALEN);
	assert_int_equal(t.r.ip_dst, BCAST);
	assert_int_equal(t.r.h.yiaddr, 0);
	assert_int_equal(t.r.h.ciaddr, 0);
	assert_int_equal(opt32(&t.r, DHCP_OPT_SERVER_ID), GW);
	assert_null(t.r.opt[DHCP_OPT_LEASE_TIME]);
	assert_null(t.r.opt[DHCP_OPT_ROUTER]);
	assert_true(opt_is(&t.r, DHCP_OPT_CLIENT_ID, cl.cid, 7));
	/* A tagged request gets a reply with the same tag. */
	cm_client(&c, &cl, DHCP_DISCOVER);
	cm_end(&c);
	assert_true(tx_full(&t, &c, 0, BCAST, true, sizeof(t.out)) > 0);
	assert_true(t.r.vlan);
	assert_int_equal(t.r.vlan_tci, 42);
	td_fini(&t);
}

/* Malformed input: -EINVAL and a counted reason, never a reply. */
static void expect_bad(struct td *t, struct cm *c, enum dhcp_drop why)
{
	uint64_t before = st(t)->drops[why];

	assert_int_equal(tx(t, c, 0, BCAST), -EINVAL);
	assert_int_equal(st(t)->drops[why], before + 1);
}

static void malformed(void **state)
{
	struct td t;
	struct client a;
	struct cm c;
	uint8_t v[4] = { 0 };
	uint8_t type;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	/* Short: no room for the header and cookie. */
	cm_client(&c, &a, DHCP_DISCOVER);
	c.len = 239;
	expect_bad(&t, &c, DHCP_DROP_SHORT);
	c.len = 100;
	expect_bad(&t, &c, DHCP_DROP_SHORT);
	c.len = 0;
	expect_bad(&t, &c, DHCP_DROP_SHORT);
	/* Bad magic cookie. */
	cm_client(&c, &a, DHCP_DISCOVER);
	cm_end(&c);
	c.b[BOOTP_HDR_LEN + 3] = 98;
	expect_bad(&t, &c, DHCP_DROP_BAD_COOKIE);
	/* An option length past the end of the message. */
	cm_client(&c, &a, DHCP_DISCOVER);
	c.b[c.len++] = DHCP_OPT_HOST_NAME;
	c.b[c.len++] = 40;
	memcpy(c.b + c.len, "abc", 3);
	c.len += 3;
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	cm_client(&c, &a, DHCP_DISCOVER);
	c.b[c.len++] = DHCP_OPT_HOST_NAME;	/* the length byte is missing */
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	/* Options of the wrong length. */
	cm_client(&c, &a, DHCP_DISCOVER);
	cm_opt(&c, DHCP_OPT_REQUESTED_IP, v, 3);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	cm_raw(&c, DHCP_DISCOVER, a.mac, 1);
	cm_opt(&c, DHCP_OPT_CLIENT_ID, v, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	cm_raw(&c, 0, a.mac, 1);
	cm_opt(&c, DHCP_OPT_MSG_TYPE, v, 2);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	/* No message type: plain BOOTP. */
	cm_raw(&c, 0, a.mac, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_NO_MSG_TYPE);
	/* Types a client may not send, and unknown ones. */
	cm_raw(&c, DHCP_OFFER, a.mac, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_MSG_TYPE);
	cm_raw(&c, 0, a.mac, 1);
	type = 0;
	cm_opt(&c, DHCP_OPT_MSG_TYPE, &type, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_MSG_TYPE);
	cm_raw(&c, 42, a.mac, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_MSG_TYPE);
	/* op BOOTREPLY, a non-Ethernet or multicast chaddr. */
	cm_client(&c, &a, DHCP_DISCOVER);
	cm_end(&c);
	cm_hdr(&c)->op = BOOTP_REPLY;
	expect_bad(&t, &c, DHCP_DROP_NOT_REQUEST);
	cm_hdr(&c)->op = BOOTP_REQUEST;
	cm_hdr(&c)->htype = 6;
	expect_bad(&t, &c, DHCP_DROP_BAD_HW);
	cm_hdr(&c)->htype = BOOTP_HTYPE_ETHER;
	cm_hdr(&c)->chaddr[0] = 0x01;
	expect_bad(&t, &c, DHCP_DROP_BAD_HW);
	/* A REQUEST naming no address at all. */
	cm_client(&c, &a, DHCP_REQUEST);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_REQUEST);
	cm_client(&c, &a, DHCP_REQUEST);
	cm_ip(&c, DHCP_OPT_SERVER_ID, GW);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_REQUEST);
	assert_int_equal(st(&t)->out[DHCP_OFFER] + st(&t)->out[DHCP_ACK] +
			 st(&t)->out[DHCP_NAK], 0);
	assert_int_equal(st(&t)->offers_pending + st(&t)->leases_active, 0);
	td_fini(&t);
}

static void overload(void **state)
{
	struct td t;
	struct client a;
	struct cm c;
	uint8_t v;

	(void)state;
	td_init(&t);
	client_init(&a, 1, false);
	/* Valid: the message type in 'file', the host name in 'sname'. */
	cm_raw(&c, 0, a.mac, 7);
	v = DHCP_OVERLOAD_BOTH;
	cm_opt(&c, DHCP_OPT_OVERLOAD, &v, 1);
	cm_end(&c);
	memcpy(cm_hdr(&c)->file, "\x35\x01\x01\xff", 4);	/* 53: DISCOVER */
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	assert_int_equal(t.r.type, DHCP_OFFER);
	/* Option 52 inside 'file' again: could loop, refused. */
	cm_raw(&c, 0, a.mac, 7);
	cm_opt(&c, DHCP_OPT_OVERLOAD, &v, 1);
	cm_end(&c);
	memcpy(cm_hdr(&c)->file, "\x34\x01\x03\x35\x01\x01\xff", 7);
	expect_bad(&t, &c, DHCP_DROP_BAD_OVERLOAD);
	/* Option 52 with a bad value or length. */
	cm_raw(&c, DHCP_DISCOVER, a.mac, 7);
	v = 4;
	cm_opt(&c, DHCP_OPT_OVERLOAD, &v, 1);
	cm_end(&c);
	expect_bad(&t, &c, DHCP_DROP_BAD_OVERLOAD);
	/* An option running past the end of 'sname'. */
	cm_raw(&c, DHCP_DISCOVER, a.mac, 7);
	v = DHCP_OVERLOAD_SNAME;
	cm_opt(&c, DHCP_OPT_OVERLOAD, &v, 1);
	cm_end(&c);
	memset(cm_hdr(&c)->sname, 0, BOOTP_SNAME_LEN);
	cm_hdr(&c)->sname[60] = DHCP_OPT_HOST_NAME;
	cm_hdr(&c)->sname[61] = 10;
	expect_bad(&t, &c, DHCP_DROP_BAD_OPTION);
	/* 'file' full of PAD without END: fine, nothing in it. */
	cm_raw(&c, DHCP_DISCOVER, a.mac, 7);
	v = DHCP_OVERLOAD_FILE;
	cm_opt(&c, DHCP_OPT_OVERLOAD, &v, 1);
	cm_end(&c);
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	td_fini(&t);
}

static void not_for_us(void **state)
{
	struct td t;
	struct client a;
	struct cm c;
	uint8_t f[1600];
	struct pkt_spec s = { 0 };
	struct pkt_meta m;
	int n;

	(void)state;
	td_init(&t);
	client_init(&a, 1, true);
	cm_client(&c, &a, DHCP_DISCOVER);
	cm_end(&c);
	/* A relayed message: not served, not malformed. */
	cm_hdr(&c)->giaddr = IP(10, 0, 3, 1);
	assert_int_equal(tx(&t, &c, IP(10, 0, 3, 1), GW), 0);
	assert_int_equal(st(&t)->drops[DHCP_DROP_RELAYED], 1);
	cm_hdr(&c)->giaddr = 0;
	/* The wrong port, or not UDP. */
	memcpy(s.eth_dst, bcast_mac, ETH_ALEN);
	memcpy(s.eth_src, a.mac, ETH_ALEN);
	s.dst4 = BCAST;
	s.proto = IPPROTO_NUM_UDP;
	s.sport = 68;
	s.dport = 68;
	s.payload = c.b;
	s.payload_len = c.len;
	n = pkt_build(&s, f, sizeof(f));
	assert_int_equal(pkt_parse(f, (size_t)n, 0, &m), PKT_DROP_OK);
	assert_int_equal(dhcp_input(t.d, f, &m, t.now, t.out, sizeof(t.out)),
			 -EINVAL);
	s.proto = IPPROTO_NUM_TCP;
	s.dport = 67;
	n = pkt_build(&s, f, sizeof(f));
	assert_int_equal(pkt_parse(f, (size_t)n, 0, &m), PKT_DROP_OK);
	assert_int_equal(dhcp_input(t.d, f, &m, t.now, t.out, sizeof(t.out)),
			 -EINVAL);
	assert_int_equal(st(&t)->drops[DHCP_DROP_BAD_FRAME], 2);
	/* No room for a reply: -ENOSPC, nothing written past cap. */
	assert_int_equal(tx_full(&t, &c, 0, BCAST, false, 341), -ENOSPC);
	assert_int_equal(t.out[0], 0xee);
	assert_int_equal(st(&t)->drops[DHCP_DROP_NO_ROOM], 1);
	assert_int_equal(tx_full(&t, &c, 0, BCAST, false, 342), 342);
	td_fini(&t);
}

static void reply_size_limits(void **state)
{
	static char dom[200];
	struct td t;
	struct client a;
	struct cm c;
	uint8_t cid[250];
	uint16_t mms = htons(576);
	size_t i;

	(void)state;
	/* 49 labels of 3 characters and one of 3: 199 bytes. */
	for (i = 0; i < 50; i++)
		memcpy(dom + 4 * i, "abc.", 4);
	dom[199] = '\0';
	td_cfg_default(&t);
	t.cfg.domain = dom;
	td_start(&t);
	client_init(&a, 1, false);
	memset(cid, 7, sizeof(cid));
	cm_raw(&c, DHCP_DISCOVER, a.mac, 1);
	cm_opt(&c, DHCP_OPT_MAX_MSG_SIZE, &mms, 2);
	cm_opt(&c, DHCP_OPT_CLIENT_ID, cid, sizeof(cid));
	cm_end(&c);
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	/* 576 bytes of IP: 548 of BOOTP. What did not fit was left out. */
	assert_true(t.r.len <= 576 - 28);
	assert_int_equal(opt32(&t.r, DHCP_OPT_SERVER_ID), GW);
	assert_int_equal(ntohl(opt32(&t.r, DHCP_OPT_LEASE_TIME)), 3600);
	assert_int_equal(opt32(&t.r, DHCP_OPT_SUBNET_MASK), IP(255, 255, 255, 0));
	assert_int_equal(opt32(&t.r, DHCP_OPT_ROUTER), GW);
	assert_int_equal(opt32(&t.r, DHCP_OPT_DNS), GW);
	assert_non_null(t.r.opt[DHCP_OPT_MTU]);
	assert_non_null(t.r.opt[DHCP_OPT_CLIENT_ID]);
	assert_int_equal(t.r.olen[DHCP_OPT_CLIENT_ID], sizeof(cid));
	assert_null(t.r.opt[DHCP_OPT_DOMAIN_NAME]);
	assert_null(t.r.opt[DHCP_OPT_DOMAIN_SEARCH]);
	assert_int_equal(st(&t)->client_id_long, 1);	/* known by MAC */
	/* A client that takes more gets everything. */
	mms = htons(1500);
	cm_raw(&c, DHCP_DISCOVER, a.mac, 1);
	cm_opt(&c, DHCP_OPT_MAX_MSG_SIZE, &mms, 2);
	cm_opt(&c, DHCP_OPT_CLIENT_ID, cid, sizeof(cid));
	cm_end(&c);
	assert_true(tx(&t, &c, 0, BCAST) > 0);
	assert_true(t.r.len > 576 - 28);
	assert_int_equal(t.r.olen[DHCP_OPT_DOMAIN_NAME], 199);
	assert_int_equal(t.r.olen[DHCP_OPT_DOMAIN_SEARCH], 201);
	td_fini(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_configured),
		cmocka_unit_test(broadcast_and_unicast),
		cmocka_unit_test(malformed),
		cmocka_unit_test(overload),
		cmocka_unit_test(not_for_us),
		cmocka_unit_test(reply_size_limits),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
