// SPDX-License-Identifier: MIT
/*
 * test_nat_fwd.c - the NAT's ways in (docs/nat.md): port forwards (added
 * and removed), hairpinning (RFC 4787 REQ-9), redirects (DNS over TCP to
 * the gateway, the socket uplink's wildcard redirects to the host's
 * loopback) and the inbound alias. The fixture is nat_fx.h, as in
 * test_nat.c, whose header says how every frame is checked.
 */

#include "test_exit.h"
#include "nat_fx.h"

/* ---- RFC 4787 REQ-9: hairpinning ---- */

/* The first inside host (10.0.2.2 on) paired with external address @idx. */
static uint32_t host_for_ext(unsigned int idx, unsigned int n_ext)
{
	for (unsigned int i = 2; i < 255; i++) {
		if (nat_ext_index(IN(i), n_ext) == idx)
			return IN(i);
	}
	fail_msg("no host for external address %u", idx);
	return 0;
}

static void rfc4787_hairpin(void **state __maybe_unused)
{
	struct nat_forward fwd = { .proto = UDP, .ext_addr = EXT1, .ext_port = 8053,
				   .int_port = 53 };
	uint32_t a = host_for_ext(0, 2), b = host_for_ext(1, 2);
	struct ep ea, eb, e;
	struct tc c;

	/* EIF; A and B are paired with different external addresses. */
	tc_init_mode(&c, NAT_FILTER_EIF, 2);
	ea = OPEN(&c, a, 5000, R1, 53);
	eb = OPEN(&c, b, 6000, R2, 53);
	assert_int_not_equal(ea.addr, eb.addr);
	XLATE(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, TO_INSIDE, eb.addr,
	      eb.port, a, 5000);
	XLATE(&c, udp(a, 5000, eb.addr, eb.port), INSIDE, TO_INSIDE, ea.addr,
	      ea.port, b, 6000);
	XLATE(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, TO_INSIDE, eb.addr,
	      eb.port, a, 5000);
	assert_int_equal(stats(&c)->hairpin, 1);
	/* A source without a mapping gets the one it will use outside. */
	SEND(&c, udp(b, 6001, ea.addr, ea.port), INSIDE, TO_INSIDE);
	e = out_src(&c);
	assert_int_equal(e.addr, eb.addr);
	assert_int_equal(OPEN(&c, b, 6001, R1, 53).port, e.port);
	SEND(&c, icmp(b, ea.addr, ICMP_ECHO, 9), INSIDE, LOCAL);
	tc_done(&c);

	/* APDF: a dynamic mapping cannot be hairpinned to; nothing is left. */
	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	ea = OPEN(&c, a, 5000, R1, 53);
	DROP(&c, udp(b, 6000, ea.addr, ea.port), INSIDE, FILTERED);
	assert_int_equal(stats(&c)->mappings, 1);
	assert_int_equal(ct_in_use(ct(&c)), 1);
	check_verify(&c);
	/* ... but a static forward can. */
	fwd.int_addr = a;
	assert_int_equal(nat_add_forward(c.nat, &fwd), 0);
	c.statics = 1;
	eb = OPEN(&c, b, 6000, R2, 53);
	XLATE(&c, udp(b, 6000, EXT1, 8053), INSIDE, TO_INSIDE, eb.addr, eb.port,
	      a, 53);
	XLATE(&c, udp(a, 53, eb.addr, eb.port), INSIDE, TO_INSIDE, EXT1, 8053,
	      b, 6000);
	tc_done(&c);
}

/*
 * RFC 4787 REQ-9 with the sender's own mapping (a STUN client's hairpin
 * check): the packet comes back to its sender from its own external
 * endpoint, whatever the filtering; one flow, its own reply. TCP to one's
 * own mapping is refused by name.
 */
static void rfc4787_hairpin_self(void **state __maybe_unused)
{
	static const enum nat_filtering modes[] = { NAT_FILTER_APDF,
						    NAT_FILTER_ADF,
						    NAT_FILTER_EIF };
	struct conn k = { .in = IN2, .iport = 7000, .r = R2, .rport = 80 };
	struct tc c;

	for (unsigned int i = 0; i < ARRAY_SIZE(modes); i++) {
		const struct ct_entry *f;
		struct ep e, et;

		tc_init_mode(&c, modes[i], 1);
		e = OPEN(&c, IN1, 5000, R1, 3478);
		XLATE(&c, udp(IN1, 5000, e.addr, e.port), INSIDE, TO_INSIDE, e.addr,
		      e.port, IN1, 5000);
		assert_int_equal(stats(&c)->hairpin, 1);
		f = find_flow(&c, IN1, 5000, e.addr, e.port, UDP);
		assert_non_null(f);
		assert_true(ct_entry_is_self(f));
		assert_true(f->flags & CT_F_HAIRPIN);
		/* Again: the same flow carries it, nothing new is made. */
		XLATE(&c, udp(IN1, 5000, e.addr, e.port), INSIDE, TO_INSIDE, e.addr,
		      e.port, IN1, 5000);
		assert_int_equal(stats(&c)->hairpin, 1);
		assert_int_equal(ct_count(ct(&c)), 2);
		assert_int_equal(stats(&c)->mappings, 1);
		/* The mapping still works outside. */
		REPLY(&c, R1, 3478, e, IN1, 5000);
		check_verify(&c);

		/* A TCP connection with itself cannot be tracked: refused,
		 * nothing made. */
		tcp_establish(&c, &k);
		et = k.ext;
		DROP(&c, tcp(IN2, 7000, et.addr, et.port, TCP_SYN, 1, 0), INSIDE,
		     HAIRPIN_SELF_TCP);
		assert_int_equal(ct_count(ct(&c)), 3);
		assert_int_equal(stats(&c)->hairpin, 1);
		tc_done(&c);
	}
}

/* ---- redirects: DNS over TCP to the gateway goes to the upstream server ---- */

#define GW	IN(1)
#define UP	R2

static void add_dns_redirect(struct tc *c)
{
	const struct nat_redirect rd = { .proto = TCP, .addr = GW, .port = 53,
					 .to_addr = UP, .to_port = 53 };

	assert_int_equal(nat_add_redirect(c->nat, &rd), 0);
	assert_true(nat_redirects(c->nat, TCP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, UDP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, TCP, GW, htons(54)));
	assert_false(nat_redirects(c->nat, TCP, UP, htons(53)));
}

/*
 * SYN, SYN-ACK, ACK of IN1:@port -> GW:53, redirected to UP:53. Returns
 * the connection's external endpoint; *@iseq and *@rseq are the next
 * sequence numbers of the guest and of the server.
 */
static struct ep redirect_open(struct tc *c, uint16_t port, uint32_t *iseq,
			       uint32_t *rseq)
{
	uint64_t flows = ct_count(ct(c)), redirects = stats(c)->redirects;
	struct ep e;

	*iseq = 1000;
	*rseq = 5000;
	SEND(c, tcp(IN1, port, GW, 53, TCP_SYN, (*iseq)++, 0), INSIDE, TO_OUTSIDE);
	e = out_src(c);
	CHECK_OUT(c, EXT1, e.port, UP, 53);	/* DNAT and SNAT at once */
	assert_int_equal(ct_count(ct(c)), flows + 1);	/* one flow */
	assert_int_equal(stats(c)->redirects, redirects + 1);
	/* Replies get the gateway's address and port back. */
	XLATE(c, tcp(UP, 53, e.addr, e.port, TCP_SYN | TCP_ACK, (*rseq)++, *iseq),
	      OUTSIDE, TO_INSIDE, GW, 53, IN1, port);
	XLATE(c, tcp(IN1, port, GW, 53, TCP_ACK, *iseq, *rseq), INSIDE,
	      TO_OUTSIDE, EXT1, e.port, UP, 53);
	XLATE(c, tcp(UP, 53, e.addr, e.port, TCP_ACK, *rseq, *iseq), OUTSIDE,
	      TO_INSIDE, GW, 53, IN1, port);
	assert_int_equal(ct_count(ct(c)), flows + 1);
	return e;
}

static uint8_t redirect_state(const struct tc *c, uint16_t port)
{
	const struct ct_entry *e = find_flow(c, IN1, port, GW, 53, TCP);

	assert_non_null(e);
	return e->tcp.state;
}

/* One flow holds the redirection; its reply tuple maps back to the
 * gateway; it is tracked like any TCP connection; nothing else is
 * redirected (other ports, UDP, other destinations). */
static void redirect_one_flow(void **state __maybe_unused)
{
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	assert_int_equal(redirect_state(&c, 40000), CT_TCP_ESTABLISHED);
	assert_non_null(find_flow(&c, UP, 53, EXT1, e.port, TCP));
	/* The same source port keeps its mapping (endpoint independent). */
	XLATE(&c, tcp(IN1, 40000, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE,
	      EXT1, e.port, R1, 80);
	/* Not redirected: UDP to the gateway, TCP to another port of it. */
	SEND(&c, udp(IN1, 40002, GW, 53), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, GW, 53);
	SEND(&c, tcp(IN1, 40004, GW, 54, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, GW, 54);
	/* A guest's own connection to the server is its own flow. */
	SEND(&c, tcp(IN2, 40000, UP, 53, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, EXT1, out_src(&c).port, UP, 53);
	assert_int_not_equal(out_src(&c).port, e.port);
	assert_int_equal(stats(&c)->redirects, 1);
	assert_int_equal(stats(&c)->flows_out, 5);
	check_verify(&c);
	tc_done(&c);
}

/* The redirection ends with the connection: FIN both ways, TIME_WAIT for
 * its timeout, then no flow and no mapping; a late segment is not
 * redirected any more (not a SYN). An RST closes it the same way. */
static void redirect_ends_with_tcp(void **state __maybe_unused)
{
	struct nat_config cfg;
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	tc_init(&c, &cfg);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	SEND(&c, tcp(IN1, 40000, GW, 53, TCP_FIN | TCP_ACK, iseq++, rseq),
	     INSIDE, TO_OUTSIDE);
	XLATE(&c, tcp(UP, 53, e.addr, e.port, TCP_FIN | TCP_ACK, rseq++, iseq),
	      OUTSIDE, TO_INSIDE, GW, 53, IN1, 40000);
	SEND(&c, tcp(IN1, 40000, GW, 53, TCP_ACK, iseq, rseq), INSIDE, TO_OUTSIDE);
	assert_int_equal(redirect_state(&c, 40000), CT_TCP_TIME_WAIT);
	advance(&c, SEC(CT_TO_DEFAULT_TCP_TIME_WAIT) - SEC(1));
	assert_int_equal(ct_count(ct(&c)), 1);
	advance(&c, SEC(2));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 0);
	DROP(&c, tcp(IN1, 40000, GW, 53, TCP_ACK, iseq, rseq), INSIDE, TCP_NOT_SYN);
	DROP(&c, tcp(UP, 53, e.addr, e.port, TCP_ACK, rseq, iseq), OUTSIDE,
	     UNSOLICITED);

	e = redirect_open(&c, 40002, &iseq, &rseq);
	XLATE(&c, tcp(UP, 53, e.addr, e.port, TCP_RST, rseq, 0), OUTSIDE,
	      TO_INSIDE, GW, 53, IN1, 40002);
	assert_int_equal(redirect_state(&c, 40002), CT_TCP_CLOSE);
	advance(&c, SEC(CT_TO_DEFAULT_TCP_CLOSE) + SEC(1));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->redirects, 2);
	tc_done(&c);
}

/* Packets from outside never match a redirect: without a flow, the server
 * and the rule's address are strangers like any other; with one, only the
 * server's endpoint gets through (APDF), and with ADF the permission is
 * for the server the flow really reaches, not for the gateway address. */
static void redirect_not_from_outside(void **state __maybe_unused)
{
	uint32_t iseq, rseq;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	add_dns_redirect(&c);
	DROP(&c, tcp(UP, 53, EXT1, 53, TCP_SYN, 1, 0), OUTSIDE, UNSOLICITED);
	DROP(&c, tcp(UP, 53, EXT1, 40000, TCP_SYN | TCP_ACK, 1, 1), OUTSIDE,
	     UNSOLICITED);
	DROP(&c, tcp(R1, 1234, GW, 53, TCP_SYN, 1, 0), OUTSIDE, NOT_OURS);
	assert_int_equal(ct_count(ct(&c)), 0);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	DROP(&c, tcp(UP, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	DROP(&c, tcp(R1, 53, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	assert_int_equal(ct_count(ct(&c)), 1);
	tc_done(&c);

	tc_init_mode(&c, NAT_FILTER_ADF, 1);
	add_dns_redirect(&c);
	e = redirect_open(&c, 40000, &iseq, &rseq);
	XLATE(&c, tcp(UP, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, TO_INSIDE,
	      UP, 54, IN1, 40000);
	DROP(&c, tcp(GW, 54, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	check_verify(&c);
	tc_done(&c);
}

static void redirect_rejects_bad_rules(void **state __maybe_unused)
{
	const struct nat_redirect bad[] = {
		{ .proto = ICMP, .addr = GW, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = 0, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = GW, .port = 53, .to_addr = 0, .to_port = 53 },
		{ .proto = TCP, .addr = EXT1, .port = 53, .to_addr = UP, .to_port = 53 },
		{ .proto = TCP, .addr = GW, .port = 53, .to_addr = EXT1, .to_port = 53 },
	};
	struct nat_redirect rd = { .proto = UDP, .addr = GW, .port = 1,
				   .to_addr = UP, .to_port = 53 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(nat_add_redirect(c.nat, &bad[i]), -EINVAL);
	add_dns_redirect(&c);
	rd.proto = TCP;
	rd.port = 53;
	rd.to_addr = R1;
	assert_int_equal(nat_add_redirect(c.nat, &rd), -EADDRINUSE);
	/* A wildcard is a rule of its own: one per address and protocol. */
	rd.port = 0;
	rd.to_port = 0;
	assert_int_equal(nat_add_redirect(c.nat, &rd), 0);
	assert_int_equal(nat_add_redirect(c.nat, &rd), -EADDRINUSE);
	rd.proto = UDP;
	rd.to_port = 53;
	for (unsigned int i = 2; i < NAT_MAX_REDIRECTS; i++) {
		rd.port = (uint16_t)i;
		assert_int_equal(nat_add_redirect(c.nat, &rd), 0);
	}
	rd.port = NAT_MAX_REDIRECTS;
	assert_int_equal(nat_add_redirect(c.nat, &rd), -ENOSPC);
	tc_done(&c);
}

/* ---- the socket uplink's loopback image (uplink/sock_defs.h) ---- */

#define SOCK_EXT	IP4(198, 18, 0, 1)
#define LO1		IP4(198, 19, 0, 1)

/* Every TCP and UDP port of the gateway to the same port of LO1, which
 * the wildcard TCP rule takes after the exact DNS one, in that order on
 * purpose: the exact rule must win whatever the order. */
static void add_lo_redirects(struct tc *c)
{
	const struct nat_redirect any_tcp = { .proto = TCP, .addr = GW,
					      .to_addr = LO1 };
	const struct nat_redirect any_udp = { .proto = UDP, .addr = GW,
					      .to_addr = LO1 };

	const struct nat_redirect dns = { .proto = TCP, .addr = GW, .port = 53,
					  .to_addr = UP, .to_port = 53 };

	assert_int_equal(nat_add_redirect(c->nat, &any_tcp), 0);
	assert_int_equal(nat_add_redirect(c->nat, &any_udp), 0);
	assert_int_equal(nat_add_redirect(c->nat, &dns), 0);
	assert_true(nat_redirects(c->nat, TCP, GW, htons(8080)));
	assert_true(nat_redirects(c->nat, UDP, GW, htons(53)));
	assert_false(nat_redirects(c->nat, TCP, IN2, htons(8080)));
	assert_false(nat_redirects(c->nat, ICMP, GW, 0));
}

/*
 * A wildcard redirect: a new flow to any port of the gateway goes to that
 * port of LO1, replies come back from the gateway's port, and an ICMP
 * error about the flow reaches the guest about its own packet to the
 * gateway. The exact rule for TCP port 53 is not overridden.
 */
static void redirect_wildcard(void **state __maybe_unused)
{
	struct nat_config cfg;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	cfg_default(&cfg);
	cfg.ext_addrs[0] = SOCK_EXT;
	tc_init(&c, &cfg);
	add_lo_redirects(&c);
	SEND(&c, tcp(IN1, 40000, GW, 8080, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	CHECK_OUT(&c, SOCK_EXT, e.port, LO1, 8080);
	XLATE(&c, tcp(LO1, 8080, e.addr, e.port, TCP_SYN | TCP_ACK, 5000, 1001),
	      OUTSIDE, TO_INSIDE, GW, 8080, IN1, 40000);
	XLATE(&c, tcp(IN1, 40000, GW, 8080, TCP_ACK, 1001, 5001), INSIDE,
	      TO_OUTSIDE, SOCK_EXT, e.port, LO1, 8080);
	/* Not from LO1's other ports, nor from the gateway's address. */
	DROP(&c, tcp(LO1, 8081, e.addr, e.port, TCP_SYN, 1, 0), OUTSIDE, FILTERED);

	/* DNS over TCP still goes upstream (the exact rule). */
	SEND(&c, tcp(IN1, 40002, GW, 53, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, SOCK_EXT, out_src(&c).port, UP, 53);

	/* UDP, and the host's port unreachable about it: to the guest from
	 * the gateway, quoting the guest's own datagram to the gateway. */
	SEND(&c, udp(IN1, 5000, GW, 9999), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	CHECK_OUT(&c, SOCK_EXT, e.port, LO1, 9999);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(LO1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			   q, n), OUTSIDE, TO_INSIDE, GW, 0, IN1, 0);
	check_quote(&c, IN1, 5000, GW, 9999);
	/* The DNS server's port of the gateway is redirected like any other
	 * here (the gateway's services take it before the NAT sees it). */
	SEND(&c, udp(IN1, 5002, GW, 53), INSIDE, TO_OUTSIDE);
	CHECK_OUT(&c, SOCK_EXT, out_src(&c).port, LO1, 53);
	assert_int_equal(stats(&c)->redirects, 4);
	tc_done(&c);
}

/*
 * The inbound alias: a forward's client on the host's loopback (LO1)
 * reaches the guest from the gateway's address, the guest's replies to
 * the gateway go back to the client, and nat_has_flow() tells those
 * replies from other packets to the gateway. Other clients keep their
 * address; an ICMP error from the guest about the flow is translated.
 */
static void inbound_alias(void **state __maybe_unused)
{
	const struct nat_forward fwd_tcp = { TCP, 0, 8080, IN(2), 80 };
	const struct nat_forward fwd_udp = { UDP, 0, 8053, IN(2), 53 };
	struct nat_config cfg;
	struct pkt_meta m;
	uint8_t q[256];
	struct tc c;
	size_t n;

	cfg_default(&cfg);
	cfg.ext_addrs[0] = SOCK_EXT;
	cfg.inbound_alias = (struct nat_alias){ IP4(198, 19, 0, 0),
						IP4(255, 255, 0, 0), GW };
	tc_init(&c, &cfg);
	assert_int_equal(nat_add_forward(c.nat, &fwd_tcp), 0);
	assert_int_equal(nat_add_forward(c.nat, &fwd_udp), 0);
	c.statics = 2;
	add_lo_redirects(&c);

	XLATE(&c, tcp(LO1, 40000, SOCK_EXT, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, GW, 40000, IN(2), 80);
	/* The guest's SYN-ACK to the gateway belongs to the flow. */
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2),
				  .dst4 = GW, .proto = TCP, .sport = 80,
				  .dport = 40000, .tcp_flags = TCP_SYN | TCP_ACK,
				  .seq = 700, .ack = 101 }, c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_true(nat_has_flow(c.nat, c.buf, &m, c.now));
	XLATE(&c, tcp(IN(2), 80, GW, 40000, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, SOCK_EXT, 8080, LO1, 40000);
	SEND(&c, tcp(LO1, 40000, SOCK_EXT, 8080, TCP_ACK, 101, 701), OUTSIDE,
	     TO_INSIDE);
	assert_int_equal(find_flow(&c, LO1, 40000, SOCK_EXT, 8080, TCP)->tcp.state,
			 CT_TCP_ESTABLISHED);
	/* Another port of the gateway: no flow (a new one is a redirect). */
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2),
				  .dst4 = GW, .proto = TCP, .sport = 80,
				  .dport = 40001, .tcp_flags = TCP_ACK },
				  c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_false(nat_has_flow(c.nat, c.buf, &m, c.now));

	/* A client elsewhere keeps its address. */
	XLATE(&c, tcp(R1, 40000, SOCK_EXT, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40000, IN(2), 80);

	/* UDP, and the guest's port unreachable about the datagram it got. */
	XLATE(&c, udp(IP4(198, 19, 0, 53), 41000, SOCK_EXT, 8053), OUTSIDE,
	      TO_INSIDE, GW, 41000, IN(2), 53);
	n = save_ip(&c, q, sizeof(q));
	c.len = (size_t)pkt_build(&(struct pkt_spec){ .src4 = IN(2), .dst4 = GW,
				  .proto = ICMP, .icmp_type = ICMP_DEST_UNREACH,
				  .icmp_code = ICMP_PORT_UNREACH, .payload = q,
				  .payload_len = n }, c.buf, sizeof(c.buf));
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	assert_true(nat_has_flow(c.nat, c.buf, &m, c.now));
	XLATE(&c, icmp_err(IN(2), GW, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	      INSIDE, TO_OUTSIDE, SOCK_EXT, 0, IP4(198, 19, 0, 53), 0);
	check_quote(&c, IP4(198, 19, 0, 53), 41000, SOCK_EXT, 8053);
	assert_int_equal(stats(&c)->flows_in, 3);
	tc_done(&c);

	/* The alias's subnet must be one. */
	cfg.inbound_alias.mask = IP4(255, 0, 255, 0);
	assert_int_equal(nat_create(&c.nat, &cfg), -EINVAL);
	cfg.inbound_alias.mask = IP4(255, 255, 255, 0);
	cfg.inbound_alias.addr = IP4(198, 19, 0, 1);
	assert_int_equal(nat_create(&c.nat, &cfg), -EINVAL);
}

/* ---- forwards, sides, drops ---- */

static void port_forward(void **state __maybe_unused)
{
	const struct nat_forward fwds[] = {
		{ UDP, EXT1, 8053, SRV, 53 },
		{ TCP, 0, 8080, SRV, 80 },
		{ UDP, EXT1, 50000, SRV, 5000 },	/* inside the dynamic range */
	};
	const struct {
		struct nat_forward f;
		int err;
	} bad[] = {
		{ { UDP, EXT1, 8053, IN1, 53 }, -EADDRINUSE },	/* port taken */
		{ { UDP, EXT1, 8054, SRV, 53 }, -EADDRINUSE },	/* mapped already */
		{ { ICMP, EXT1, 8055, SRV, 55 }, -EINVAL },
		{ { UDP, EXT2, 8056, SRV, 56 }, -EINVAL },	/* not configured */
		{ { UDP, EXT1, 0, SRV, 57 }, -EINVAL },
		{ { UDP, EXT1, 8058, SRV, 0 }, -EINVAL },
	};
	const struct nat_forward tcp8053 = { TCP, EXT1, 8053, SRV, 8053 };
	const struct ct_entry *f;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(fwds); i++)
		assert_int_equal(nat_add_forward(c.nat, &fwds[i]), 0);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(nat_add_forward(c.nat, &bad[i].f), bad[i].err);
	assert_int_equal(nat_add_forward(c.nat, &tcp8053), 0);	/* other protocol */
	c.statics = ARRAY_SIZE(fwds) + 1;
	assert_int_equal(stats(&c)->mappings, c.statics);

	/* The server sees the real client and answers from the forward. */
	XLATE(&c, udp(R1, 40000, EXT1, 8053), OUTSIDE, TO_INSIDE, R1, 40000,
	      SRV, 53);
	XLATE(&c, udp(SRV, 53, R1, 40000), INSIDE, TO_OUTSIDE, EXT1, 8053, R1,
	      40000);
	/* Its own outgoing flows use the forward's port too. */
	XLATE(&c, udp(SRV, 53, R2, 53), INSIDE, TO_OUTSIDE, EXT1, 8053, R2, 53);
	/* TCP through a forward, to ESTABLISHED. */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	SEND(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK, 101, 701), OUTSIDE, TO_INSIDE);
	f = find_flow(&c, R1, 40001, EXT1, 8080, TCP);
	assert_non_null(f);
	assert_int_equal(f->tcp.state, CT_TCP_ESTABLISHED);
	/* A forwarded port inside the dynamic range is never handed out. */
	assert_int_not_equal(OPEN(&c, IN1, 50000, R1, 53).port, 50000);
	tc_done(&c);
}

/*
 * nat_remove_forward(): new connections no longer reach the target, the
 * flows of the forward go on (their mapping demoted, released with the last
 * one: nat_verify() checks every reference), the port stays taken until
 * then, and the same forward added again makes the mapping static again.
 */
static void forward_remove(void **state __maybe_unused)
{
	const struct nat_forward t80 = { TCP, 0, 8080, SRV, 80 };
	const struct nat_forward u53 = { UDP, EXT1, 8053, SRV, 53 };
	const struct nat_forward other = { TCP, 0, 8080, IN1, 80 };
	const struct nat_forward by_port = { TCP, 0, 8080, 0, 0 };
	const struct nat_forward wrong = { TCP, 0, 8080, SRV, 81 };
	const struct nat_forward ext2 = { TCP, EXT2, 8080, 0, 0 };
	const struct nat_forward bad_proto = { ICMP, 0, 8080, 0, 0 };
	struct nat_forward list[4];
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	assert_int_equal(nat_add_forward(c.nat, &t80), 0);
	assert_int_equal(nat_add_forward(c.nat, &u53), 0);
	assert_int_equal(nat_list_forwards(c.nat, list, 4), 2);
	assert_int_equal(nat_list_forwards(c.nat, list, 1), 2);	/* one written */
	assert_int_equal(list[0].ext_addr, EXT1);
	/* Nothing removed on a mismatch. */
	assert_int_equal(nat_remove_forward(c.nat, &wrong), -ENOENT);
	assert_int_equal(nat_remove_forward(c.nat, &ext2), -EINVAL);
	assert_int_equal(nat_remove_forward(c.nat, &bad_proto), -EINVAL);
	assert_int_equal(stats(&c)->mappings, 2);

	/* A connection through the forward, then the forward goes. */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_SYN, 100, 0), OUTSIDE,
	      TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_SYN | TCP_ACK, 700, 101), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	SEND(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK, 101, 701), OUTSIDE, TO_INSIDE);
	assert_int_equal(nat_remove_forward(c.nat, &by_port), 0);
	assert_int_equal(nat_remove_forward(c.nat, &by_port), -ENOENT);
	assert_int_equal(nat_list_forwards(c.nat, list, 4), 1);
	assert_int_equal(list[0].proto, UDP);
	check_verify(&c);
	/* The established connection goes on, both ways ... */
	XLATE(&c, tcp(R1, 40001, EXT1, 8080, TCP_ACK | TCP_PSH, 101, 701),
	      OUTSIDE, TO_INSIDE, R1, 40001, SRV, 80);
	XLATE(&c, tcp(SRV, 80, R1, 40001, TCP_ACK, 701, 102), INSIDE,
	      TO_OUTSIDE, EXT1, 8080, R1, 40001);
	/* ... a new one is filtered like any dynamic mapping's ... */
	DROP(&c, tcp(R2, 40002, EXT1, 8080, TCP_SYN, 1, 0), OUTSIDE, FILTERED);
	/* ... and the port is still taken, by that mapping only. */
	assert_int_equal(nat_add_forward(c.nat, &other), -EADDRINUSE);
	assert_int_equal(stats(&c)->mappings, 2);
	/* The same forward again: static again, open to anyone. */
	assert_int_equal(nat_add_forward(c.nat, &t80), 0);
	XLATE(&c, tcp(R2, 40002, EXT1, 8080, TCP_SYN, 1, 0), OUTSIDE,
	      TO_INSIDE, R2, 40002, SRV, 80);
	assert_int_equal(nat_remove_forward(c.nat, &t80), 0);
	check_verify(&c);
	/* Its flows expire: the mapping and its port go with them. */
	advance(&c, SEC(CT_TO_MAX) + SEC(1));
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 1);
	check_verify(&c);
	assert_int_equal(nat_add_forward(c.nat, &other), 0);
	/* Removed with no flow: released at once. */
	assert_int_equal(nat_remove_forward(c.nat, &u53), 0);
	assert_int_equal(stats(&c)->mappings, 1);
	c.statics = 1;
	tc_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc4787_hairpin),
		cmocka_unit_test(rfc4787_hairpin_self),
		cmocka_unit_test(port_forward),
		cmocka_unit_test(forward_remove),
		cmocka_unit_test(redirect_one_flow),
		cmocka_unit_test(redirect_ends_with_tcp),
		cmocka_unit_test(redirect_not_from_outside),
		cmocka_unit_test(redirect_rejects_bad_rules),
		cmocka_unit_test(redirect_wildcard),
		cmocka_unit_test(inbound_alias),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
