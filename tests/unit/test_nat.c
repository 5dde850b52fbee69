// SPDX-License-Identifier: MIT
/*
 * test_nat.c - the NAT's mappings, filtering and TCP rules (docs/nat.md;
 * RFC 4787, 5382), port choice, table limits, the sides and drops, and
 * what an uplink learns of a flow. Forwards, redirects and hairpinning are
 * in test_nat_fwd.c, ICMP and fragments in test_nat_icmp.c; the fixture
 * they share is nat_fx.h.
 *
 * Frames are made by pkt_build(), parsed, run through nat_process() and
 * read back through pkt_parse(). Every forwarded frame has its IPv4 header
 * checksum and full L4 checksum verified (ICMP errors: the quote's IPv4
 * header too); every dropped frame must be untouched and counted under its
 * reason. Time is advanced by hand; advance() runs the collector to the
 * end. tc_done() ends each test: nat_verify() passes, and once every flow
 * has expired the table and the mappings are back to the static forwards.
 * Addresses (RFC 5737): inside 10.0.2.x, remotes 198.51.100.x, external
 * 203.0.113.1 and .2.
 */

#include "test_exit.h"
#include "nat_fx.h"

/* ---- RFC 4787 ---- */

static void rfc4787_eim(void **state __maybe_unused)
{
	struct ep e1, e2, e3, e4;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e1 = OPEN(&c, IN1, 5000, R1, 53);
	e2 = OPEN(&c, IN1, 5000, R2, 80);
	e3 = OPEN(&c, IN1, 5000, R1, 123);
	assert_int_equal(e1.addr, e2.addr);
	assert_int_equal(e1.port, e2.port);
	assert_int_equal(e1.port, e3.port);
	e4 = OPEN(&c, IN1, 5001, R1, 53);	/* another endpoint, another mapping */
	assert_int_not_equal(e4.port, e1.port);
	REPLY(&c, R2, 80, e1, IN1, 5000);
	REPLY(&c, R1, 123, e1, IN1, 5000);
	assert_int_equal(stats(&c)->mappings, 2);
	assert_int_equal(stats(&c)->flows_out, 4);
	tc_done(&c);
}

static void rfc4787_paired_pooling(void **state __maybe_unused)
{
	bool seen[2] = { false, false };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 2);
	for (unsigned int h = 0; h < 16; h++) {
		uint32_t host = IN(20 + h);
		unsigned int idx = nat_ext_index(host, 2);
		uint32_t want = idx ? EXT2 : EXT1;

		seen[idx] = true;
		for (uint16_t j = 0; j < 3; j++) {
			struct ep e = OPEN(&c, host, 4000 + j, RMT(1 + j), 53);

			assert_int_equal(e.addr, want);
			SEND(&c, tcp(host, 4000 + j, RMT(1 + j), 80, TCP_SYN, 1, 0),
			     INSIDE, TO_OUTSIDE);
			assert_int_equal(out_src(&c).addr, want);
			SEND(&c, icmp(host, RMT(1 + j), ICMP_ECHO, 77 + j), INSIDE,
			     TO_OUTSIDE);
			assert_int_equal(out_src(&c).addr, want);
		}
	}
	assert_true(seen[0] && seen[1]);	/* both addresses were in play */
	tc_done(&c);
}

static void rfc4787_port_preservation(void **state __maybe_unused)
{
	static const uint16_t kept[] = { 50000, 50001, 49152, 65535 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(kept); i++) {
		struct ep e = OPEN(&c, IN1, kept[i], R1, 53);

		assert_int_equal(e.addr, EXT1);
		assert_int_equal(e.port, kept[i]);
	}
	/* Ports are per protocol: 50000 is still free for TCP and ICMP. */
	SEND(&c, tcp(IN2, 50000, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	assert_int_equal(out_src(&c).port, 50000);
	SEND(&c, icmp(IN2, R1, ICMP_ECHO, 50000), INSIDE, TO_OUTSIDE);
	assert_int_equal(out_src(&c).port, 50000);
	/* Outside the range it cannot be kept. */
	assert_true(OPEN(&c, IN1, 40000, R1, 53).port >= NAT_DEFAULT_PORT_MIN);
	tc_done(&c);
}

static void rfc4787_no_port_overloading(void **state __maybe_unused)
{
	struct ep e[40];
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++) {
		e[i] = OPEN(&c, IN(10 + i), 6000, R1, 53);
		for (unsigned int j = 0; j < i; j++)
			assert_int_not_equal(e[i].port, e[j].port);
	}
	for (unsigned int i = 0; i < ARRAY_SIZE(e); i++)
		REPLY(&c, R1, 53, e[i], IN(10 + i), 6000);
	/* A preserved port is not handed to a second host. */
	assert_int_equal(OPEN(&c, IN1, 50000, R1, 53).port, 50000);
	e[0] = OPEN(&c, IN2, 50000, R1, 53);
	assert_int_not_equal(e[0].port, 50000);
	assert_int_equal(e[0].port % 2, 0);
	check_verify(&c);	/* each taken port belongs to exactly one mapping */
	tc_done(&c);
}

static void rfc4787_udp_timeout_min(void **state __maybe_unused)
{
	struct nat_config cfg;
	struct nat *n = NULL;
	struct ep a, b;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	a = OPEN(&c, IN1, 5000, R1, 53);
	b = OPEN(&c, IN2, 5001, R2, 53);
	advance(&c, SEC(119));
	REPLY(&c, R1, 53, a, IN1, 5000);	/* 119 s idle: still mapped */
	assert_int_equal(ct_count(ct(&c)), 2);
	advance(&c, SEC(1));	/* 120 s unreplied: gone with its mapping */
	DROP(&c, udp(R2, 53, b.addr, b.port), OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 1);
	advance(&c, SEC(298));	/* replied: 300 s from the last packet */
	REPLY(&c, R1, 53, a, IN1, 5000);
	advance(&c, SEC(300));
	DROP(&c, udp(R1, 53, a.addr, a.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);

	/* REQ-5: nothing below 120 s without the test-only switch. */
	cfg_default(&cfg);
	ct_timeouts_default(&cfg.timeouts);
	cfg.timeouts.sec[CT_TO_UDP_UNREPLIED] = 60;
	assert_int_equal(nat_create(&n, &cfg), -EINVAL);
	assert_null(n);
	cfg.allow_short_udp = true;
	assert_int_equal(nat_create(&n, &cfg), 0);
	nat_destroy(n);
}

static void rfc4787_outbound_refresh(void **state __maybe_unused)
{
	struct ep a, ctl;
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	a = OPEN(&c, IN1, 5000, R1, 53);
	ctl = OPEN(&c, IN2, 5000, R1, 53);	/* the control: never refreshed */
	for (unsigned int i = 1; i <= 10; i++) {
		struct ep e;

		advance(&c, SEC(100));
		e = OPEN(&c, IN1, 5000, R1, 53);
		assert_int_equal(e.addr, a.addr);
		assert_int_equal(e.port, a.port);
		if (i == 2)
			DROP(&c, udp(R1, 53, ctl.addr, ctl.port), OUTSIDE, UNSOLICITED);
	}
	advance(&c, SEC(119));	/* 1119 s old, 119 s idle */
	REPLY(&c, R1, 53, a, IN1, 5000);
	tc_done(&c);
}

static void rfc4787_filtering_modes(void **state __maybe_unused)
{
	static const struct {
		enum nat_filtering mode;
		bool other_port;	/* same remote address, another port */
		bool other_addr;	/* an address the host never sent to */
		bool sent_addr;		/* an address it sent to, another port */
	} modes[] = {
		{ NAT_FILTER_EIF, true, true, true },
		{ NAT_FILTER_ADF, true, false, true },
		{ NAT_FILTER_APDF, false, false, false },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(modes); i++) {
		uint64_t filtered = 0;
		struct tc c;
		struct ep e;

		tc_init_mode(&c, modes[i].mode, 1);
		e = OPEN(&c, IN1, 5000, R1, 53);
		REPLY(&c, R1, 53, e, IN1, 5000);
		if (modes[i].other_port)
			REPLY(&c, R1, 9999, e, IN1, 5000);
		else
			DROP(&c, udp(R1, 9999, e.addr, e.port), OUTSIDE, FILTERED);
		if (modes[i].other_addr)
			REPLY(&c, R2, 53, e, IN1, 5000);
		else
			DROP(&c, udp(R2, 53, e.addr, e.port), OUTSIDE, FILTERED);
		OPEN(&c, IN1, 5000, R2, 7);
		if (modes[i].sent_addr)
			REPLY(&c, R2, 53, e, IN1, 5000);
		else
			DROP(&c, udp(R2, 53, e.addr, e.port), OUTSIDE, FILTERED);
		filtered = !modes[i].other_port + !modes[i].other_addr +
			   !modes[i].sent_addr;
		assert_int_equal(stats(&c)->drops[NAT_DROP_FILTERED], filtered);
		/* No mapping at all is another reason. */
		DROP(&c, udp(R1, 53, EXT1, e.port ^ 1), OUTSIDE, UNSOLICITED);
		tc_done(&c);
	}
}

/* ---- RFC 5382 ---- */

static void rfc5382_simultaneous_open(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, tcp(IN1, 5000, R1, 80, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE);
	k.ext = out_src(&c);
	XLATE(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_SYN, 5000, 0),
	      OUTSIDE, TO_INSIDE, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_SENT2);
	XLATE(&c, tcp(IN1, 5000, R1, 80, TCP_SYN | TCP_ACK, 1000, 5001), INSIDE,
	      TO_OUTSIDE, k.ext.addr, k.ext.port, R1, 80);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_RECV);
	SEND(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_SYN | TCP_ACK, 5000, 1001),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_ESTABLISHED);
	assert_int_equal(find_flow(&c, IN1, 5000, R1, 80, TCP)->tclass,
			 CT_TO_TCP_ESTABLISHED);
	SEND(&c, tcp(IN1, 5000, R1, 80, TCP_ACK, 1001, 5001), INSIDE, TO_OUTSIDE);
	tc_done(&c);
}

static void rfc5382_established_timeout(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	tcp_establish(&c, &k);
	advance(&c, SEC(7439));
	SEND(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_ACK, k.rseq, k.iseq),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	c.now += SEC(7441);	/* no collector: the lookup must see the deadline */
	assert_int_equal(ct_count(ct(&c)), 1);
	DROP(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_ACK, k.rseq, k.iseq),
	     OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 0);
	assert_int_equal(stats(&c)->mappings, 0);
	tc_done(&c);
}

static void rfc5382_unsolicited_syn_hold(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 50000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* Silently: a DROP verdict, nothing to send, the frame untouched. */
	DROP(&c, tcp(R1, 80, EXT1, 50000, TCP_SYN, 5000, 0), OUTSIDE, UNSOLICITED);
	assert_int_equal(ct_count(ct(&c)), 0);
	advance(&c, SEC(3));
	XLATE(&c, tcp(IN1, 50000, R1, 80, TCP_SYN, 1000, 0), INSIDE, TO_OUTSIDE,
	      EXT1, 50000, R1, 80);
	advance(&c, SEC(2));
	/* The peer's retransmitted SYN now makes a simultaneous open. */
	XLATE(&c, tcp(R1, 80, EXT1, 50000, TCP_SYN, 5000, 0), OUTSIDE,
	      TO_INSIDE, R1, 80, IN1, 50000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_SYN_SENT2);
	tc_done(&c);
}

/* ---- what an uplink learns: nat_pkt.flow, nat_config.on_flow_gone ---- */

struct gone_log {
	unsigned int n;
	uint32_t flow[8];
	bool last[8];
	uint16_t ext_port[8];	/* the mapping's external port, host order */
};

static void log_gone(void *ctx, uint32_t flow, const struct ct_entry *e,
		     bool mapping_gone)
{
	struct gone_log *g = ctx;

	assert_true(g->n < 8);
	g->flow[g->n] = flow;
	g->last[g->n] = mapping_gone;
	g->ext_port[g->n] = ntohs(e->tuple[CT_DIR_REPLY].dport);
	g->n++;
}

static void flow_index_and_gone_hook(void **state __maybe_unused)
{
	struct gone_log g = { 0 };
	struct nat_config cfg;
	uint32_t f1, f2, fe;
	struct ep e1, e2;
	uint8_t q[256];
	struct tc c;
	size_t n;

	cfg_default(&cfg);
	cfg.on_flow_gone = log_gone;
	cfg.flow_gone_ctx = &g;
	tc_init(&c, &cfg);
	e1 = OPEN(&c, IN1, 5000, R1, 53);
	f1 = c.flow;
	assert_ptr_equal(ct_entry_at(ct(&c), f1),
			 find_flow(&c, IN1, 5000, R1, 53, UDP));
	n = save_ip(&c, q, sizeof(q));
	e2 = OPEN(&c, IN1, 5000, R2, 53);	/* same mapping, another flow */
	f2 = c.flow;
	assert_int_not_equal(f1, f2);
	assert_int_equal(e1.port, e2.port);
	REPLY(&c, R1, 53, e1, IN1, 5000);
	assert_int_equal(c.flow, f1);
	OPEN(&c, IN1, 5000, R1, 53);
	assert_int_equal(c.flow, f1);
	/* Dropped before a flow: none reported. */
	DROP(&c, udp(R2, 99, e1.addr, e1.port), OUTSIDE, FILTERED);
	assert_int_equal(c.flow, CT_NONE);
	/* An ICMP error is reported with the flow it quotes. */
	SEND(&c, icmp_err(ROUTER, e1.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	     OUTSIDE, TO_INSIDE);
	assert_int_equal(c.flow, f1);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 7), INSIDE, TO_OUTSIDE);
	fe = c.flow;
	assert_true(fe != CT_NONE && fe != f1 && fe != f2);
	assert_int_equal(g.n, 0);

	/* The echo flow (60 s) and the unreplied f2 (120 s) go first; f2's
	 * mapping stays with f1 (replied: 300 s), which takes it along. */
	advance(&c, SEC(130));
	assert_int_equal(g.n, 2);
	for (unsigned int i = 0; i < 2; i++) {
		assert_true(g.flow[i] == fe || g.flow[i] == f2);
		assert_int_equal(g.last[i], g.flow[i] == fe);
	}
	advance(&c, SEC(200));
	assert_int_equal(g.n, 3);
	assert_int_equal(g.flow[2], f1);
	assert_true(g.last[2]);
	assert_int_equal(g.ext_port[2], e1.port);
	tc_done(&c);
}

/* ---- port choice, table limits ---- */

static void port_parity_and_range(void **state __maybe_unused)
{
	static const struct {
		uint16_t sport, lo, hi;	/* where its new port must be */
	} cases[] = {
		{ 1050, 1024, 1099 }, { 1001, 1000, 1023 }, { 80, 1000, 1023 },
		{ 53, 1000, 1023 },   { 5000, 1024, 1099 }, { 5001, 1024, 1099 },
	};
	struct nat_config cfg;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	cfg.port_min = 1000;
	cfg.port_max = 1099;
	tc_init(&c, &cfg);
	/* Take 1050 and 1001 (kept), so that later hosts must search. */
	assert_int_equal(OPEN(&c, IN(2), 1050, R1, 53).port, 1050);
	assert_int_equal(OPEN(&c, IN(2), 1001, R1, 53).port, 1001);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++) {
		for (unsigned int h = 0; h < 4; h++) {
			e = OPEN(&c, IN(10 + h), cases[i].sport, R1, 53);
			if (e.port % 2 != cases[i].sport % 2 || e.port < cases[i].lo ||
			    e.port > cases[i].hi || e.port == cases[i].sport)
				fail_msg("port %u got %u, want [%u, %u] same parity",
					 cases[i].sport, e.port, cases[i].lo,
					 cases[i].hi);
		}
	}
	tc_done(&c);

	/* No port below 1024 in the range: the whole range, same parity. */
	cfg.port_min = 2000;
	cfg.port_max = 2099;
	tc_init(&c, &cfg);
	e = OPEN(&c, IN1, 80, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2099 && e.port % 2 == 0);
	e = OPEN(&c, IN1, 53, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2099 && e.port % 2 == 1);
	tc_done(&c);
}

static void port_exhaustion(void **state __maybe_unused)
{
	struct nat_config cfg;
	unsigned int seen = 0;
	struct tc c;
	struct ep e;

	cfg_default(&cfg);
	cfg.port_min = 2000;
	cfg.port_max = 2007;
	tc_init(&c, &cfg);
	for (uint16_t i = 0; i < 8; i++) {
		e = OPEN(&c, IN1, 6000 + i, R1, 53);
		assert_true(e.port >= 2000 && e.port <= 2007 && e.port % 2 == i % 2);
		seen |= 1u << (e.port - 2000);
	}
	assert_int_equal(seen, 0xff);
	DROP(&c, udp(IN1, 6008, R1, 53), INSIDE, PORT_EXHAUSTED);
	DROP(&c, udp(IN2, 6009, R1, 53), INSIDE, PORT_EXHAUSTED);
	/* Nothing leaked: no entry, no mapping, no flow dropped for room. */
	assert_int_equal(ct_in_use(ct(&c)), 8);
	assert_int_equal(ct_count(ct(&c)), 8);
	assert_int_equal(stats(&c)->mappings, 8);
	assert_int_equal(ct_get_stats(ct(&c))->early_drops, 0);
	check_verify(&c);
	/* Existing mappings still work; TCP has its own ports. */
	OPEN(&c, IN1, 6000, R2, 53);
	SEND(&c, tcp(IN1, 6008, R1, 80, TCP_SYN, 1, 0), INSIDE, TO_OUTSIDE);
	/* Once the flows have expired the ports are free again. */
	advance(&c, SEC(241));
	assert_int_equal(stats(&c)->mappings, 0);
	e = OPEN(&c, IN1, 6008, R1, 53);
	assert_true(e.port >= 2000 && e.port <= 2007);
	tc_done(&c);
}

/* All the same parity (Linux connect() picks even ports): once that parity
 * is full, the other one is used rather than refusing the flow; the search
 * is exhaustive, not limited to the random probes. */
static void port_parity_full_falls_back(void **state __maybe_unused)
{
	struct nat_config cfg;
	struct tc c;

	cfg_default(&cfg);
	cfg.port_min = 3000;
	cfg.port_max = 3299;	/* 150 even ports: more than NAT_PORT_PROBES */
	tc_init(&c, &cfg);
	for (uint16_t i = 0; i < 300; i++) {
		struct ep e = OPEN(&c, IN1, (uint16_t)(6000 + 2 * i), R1, 53);
		assert_true(e.port >= 3000 && e.port <= 3299);
		assert_int_equal(e.port % 2, i < 150 ? 0 : 1);
	}
	DROP(&c, udp(IN1, 7000, R1, 53), INSIDE, PORT_EXHAUSTED);
	assert_int_equal(stats(&c)->mappings, 300);
	check_verify(&c);
	tc_done(&c);
}

/* Close @k from inside: FIN, ACK, FIN, ACK; the NAT sees TIME_WAIT. */
static void tcp_close(struct tc *c, struct conn *k)
{
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_FIN | TCP_ACK,
		    k->iseq++, k->rseq), INSIDE, TO_OUTSIDE);
	SEND(c, tcp(k->r, k->rport, k->ext.addr, k->ext.port, TCP_ACK,
		    k->rseq, k->iseq), OUTSIDE, TO_INSIDE);
	SEND(c, tcp(k->r, k->rport, k->ext.addr, k->ext.port, TCP_FIN | TCP_ACK,
		    k->rseq++, k->iseq), OUTSIDE, TO_INSIDE);
	SEND(c, tcp(k->in, k->iport, k->r, k->rport, TCP_ACK, k->iseq,
		    k->rseq), INSIDE, TO_OUTSIDE);
	assert_int_equal(conn_state(c, k), CT_TCP_TIME_WAIT);
}

/* Short connections keep their mappings through TIME_WAIT (120 s): with
 * the ports all held by closed connections, a new one takes the port of
 * the connection that closed longest ago; an open one is never touched. */
static void closed_connections_give_ports_back(void **state __maybe_unused)
{
	struct conn k[4] = {
		{ .in = IN1, .iport = 7000, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7002, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7004, .r = R1, .rport = 80 },
		{ .in = IN1, .iport = 7006, .r = R1, .rport = 80 },
	};
	struct conn n = { .in = IN1, .iport = 7008, .r = R1, .rport = 80 };
	struct nat_config cfg;
	struct tc c;

	cfg_default(&cfg);
	cfg.port_min = 2000;
	cfg.port_max = 2003;
	tc_init(&c, &cfg);
	for (unsigned int i = 0; i < 4; i++)
		tcp_establish(&c, &k[i]);
	/* All four ports open: nothing can be reclaimed. */
	DROP(&c, tcp(IN1, 7008, R1, 80, TCP_SYN, 1, 0), INSIDE, PORT_EXHAUSTED);
	tcp_close(&c, &k[2]);
	tcp_close(&c, &k[0]);
	tcp_establish(&c, &n);
	assert_int_equal(n.ext.port, k[2].ext.port);	/* closed first */
	assert_null(find_flow(&c, IN1, 7004, R1, 80, TCP));
	assert_non_null(find_flow(&c, IN1, 7000, R1, 80, TCP));
	assert_int_equal(ct_get_stats(ct(&c))->reclaimed, 1);
	/* A reopened connection (SYN in TIME_WAIT) is no longer closing. */
	k[0].iseq += 100000;
	SEND(&c, tcp(IN1, 7000, R1, 80, TCP_SYN, k[0].iseq++, 0), INSIDE,
	     TO_OUTSIDE);
	DROP(&c, tcp(IN1, 7010, R1, 80, TCP_SYN, 1, 0), INSIDE, PORT_EXHAUSTED);
	assert_int_equal(ct_get_stats(ct(&c))->reclaimed, 1);
	check_verify(&c);
	tc_done(&c);
}

/* nat_config.flow_stats: each flow's packets and IP bytes per direction
 * and its creation time, at its index; none kept without it. */
static void flow_stats_counted(void **state __maybe_unused)
{
	struct nat_config cfg;
	const struct ct_flow_stats *fs;
	const struct ct_entry *e;
	struct pkt_meta m;
	uint64_t t0;
	struct ep e1;
	struct tc c;
	uint32_t idx;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	assert_null(ct_flow_stats(nat_ct(c.nat)));
	nat_destroy(c.nat);

	cfg_default(&cfg);
	cfg.flow_stats = true;
	tc_init(&c, &cfg);
	t0 = c.now;
	e1 = OPEN(&c, IN(2), 5000, R1, 53);
	assert_int_equal(pkt_parse(c.buf, c.len, 0, &m), PKT_DROP_OK);
	c.now += SEC(3);
	REPLY(&c, R1, 53, e1, IN(2), 5000);
	REPLY(&c, R1, 53, e1, IN(2), 5000);
	e = find_flow(&c, IN(2), 5000, R1, 53, UDP);
	assert_non_null(e);
	idx = ct_index(nat_ct(c.nat), e);
	fs = ct_flow_stats(nat_ct(c.nat));
	assert_non_null(fs);
	assert_int_equal(fs[idx].created, t0);
	assert_int_equal(fs[idx].packets[CT_DIR_ORIG], 1);
	assert_int_equal(fs[idx].packets[CT_DIR_REPLY], 2);
	assert_int_equal(fs[idx].bytes[CT_DIR_ORIG], m.l3_len);
	assert_int_equal(fs[idx].bytes[CT_DIR_REPLY], 2 * m.l3_len);
	nat_destroy(c.nat);
}

static void table_full_early_drop(void **state __maybe_unused)
{
	const struct ct_stats *cs;
	struct nat_config cfg;
	struct ep a[7];
	struct tc c;

	cfg_default(&cfg);
	cfg.max_flows = 4;
	tc_init(&c, &cfg);
	cs = ct_get_stats(ct(&c));
	for (uint16_t i = 0; i < 4; i++) {
		a[i] = OPEN(&c, IN1, 7000 + i, R1, 53);
		advance(&c, SEC(1));
	}
	/* Full of unreplied flows: the oldest goes ... */
	a[4] = OPEN(&c, IN1, 7004, R1, 53);
	assert_int_equal(cs->early_drops, 1);
	DROP(&c, udp(R1, 53, a[0].addr, a[0].port), OUTSIDE, UNSOLICITED);
	/* ... then the next oldest, not the young one in the freed entry ... */
	a[5] = OPEN(&c, IN1, 7005, R1, 53);
	assert_int_equal(cs->early_drops, 2);
	DROP(&c, udp(R1, 53, a[1].addr, a[1].port), OUTSIDE, UNSOLICITED);
	/* ... and never one that has seen a reply. */
	REPLY(&c, R1, 53, a[2], IN1, 7002);
	a[6] = OPEN(&c, IN1, 7006, R1, 53);
	assert_int_equal(cs->early_drops, 3);
	DROP(&c, udp(R1, 53, a[3].addr, a[3].port), OUTSIDE, UNSOLICITED);
	for (uint16_t i = 4; i < 7; i++)
		REPLY(&c, R1, 53, a[i], IN1, 7000 + i);
	REPLY(&c, R1, 53, a[2], IN1, 7002);
	/* All replied: the new flow is refused. */
	DROP(&c, udp(IN1, 7007, R1, 53), INSIDE, TABLE_FULL);
	assert_int_equal(cs->table_full, 1);
	assert_int_equal(cs->early_drops, 3);
	assert_int_equal(ct_in_use(ct(&c)), 4);
	assert_int_equal(stats(&c)->mappings, 4);
	tc_done(&c);

	/*
	 * Inbound (EIF) to a mapping held only by the flow that the entry
	 * for the new one early-drops: the new flow keeps the mapping (the
	 * NAT holds it across ct_alloc(), docs/nat.md section 6).
	 */
	cfg.max_flows = 1;
	cfg.filtering = NAT_FILTER_EIF;
	tc_init(&c, &cfg);
	a[0] = OPEN(&c, IN1, 5000, R1, 53);
	REPLY(&c, R2, 53, a[0], IN1, 5000);
	assert_int_equal(ct_get_stats(ct(&c))->early_drops, 1);
	assert_int_equal(stats(&c)->mappings, 1);
	REPLY(&c, R2, 53, a[0], IN1, 5000);
	tc_done(&c);
}

/* ---- TCP, fragments, checksums ---- */

static void rst_out_of_window(void **state __maybe_unused)
{
	struct conn k = { .in = IN1, .iport = 5000, .r = R1, .rport = 80 };
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	tcp_establish(&c, &k);
	DROP(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_RST, k.rseq + 0x10000000u, 0),
	     OUTSIDE, TCP_RST_WINDOW);
	DROP(&c, tcp(IN1, 5000, R1, 80, TCP_RST, k.iseq - 0x200000u, 0), INSIDE,
	     TCP_RST_WINDOW);
	assert_int_equal(conn_state(&c, &k), CT_TCP_ESTABLISHED);
	XLATE(&c, tcp(R1, 80, k.ext.addr, k.ext.port, TCP_RST, k.rseq, 0),
	      OUTSIDE, TO_INSIDE, R1, 80, IN1, 5000);
	assert_int_equal(conn_state(&c, &k), CT_TCP_CLOSE);
	tc_done(&c);
}

static void wrong_side(void **state __maybe_unused)
{
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e = OPEN(&c, IN1, 5000, R1, 53);
	/* The reply tuple from inside, the original tuple from outside. */
	DROP(&c, udp(R1, 53, e.addr, e.port), INSIDE, WRONG_SIDE);
	DROP(&c, udp(IN1, 5000, R1, 53), OUTSIDE, WRONG_SIDE);
	assert_int_equal(stats(&c)->drops[NAT_DROP_WRONG_SIDE], 2);
	REPLY(&c, R1, 53, e, IN1, 5000);
	tc_done(&c);
}

static void not_ours(void **state __maybe_unused)
{
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_EIF, 1);
	OPEN(&c, IN1, 5000, R1, 53);
	DROP(&c, udp(R1, 53, RMT(99), 5000), OUTSIDE, NOT_OURS);
	DROP(&c, udp(R1, 53, IN1, 5000), OUTSIDE, NOT_OURS);
	DROP(&c, tcp(R1, 80, RMT(98), 80, TCP_SYN, 1, 0), OUTSIDE, NOT_OURS);
	assert_int_equal(ct_count(ct(&c)), 1);
	tc_done(&c);
}

static void not_ipv4(void **state __maybe_unused)
{
	static const uint8_t mac[ETH_ALEN] = { 2, 0, 0, 0, 0, 1 };
	static const uint8_t gre[8] = { 0, 0, 0x08, 0 };
	struct pkt_spec s = udp(0, 5000, 0, 53);
	struct tc c;
	int n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s.ip6 = true;
	memset(s.src6, 0xfd, sizeof(s.src6));
	memset(s.dst6, 0x20, sizeof(s.dst6));
	DROP(&c, s, INSIDE, NOT_IPV4);
	n = pkt_build_arp(c.buf, sizeof(c.buf), ARP_OP_REQUEST, mac, mac, IN1, mac, EXT1);
	assert_true(n > 0);
	c.len = (size_t)n;
	send_raw(&c, NAT_OUTSIDE, 0, NAT_V_DROP, NAT_DROP_NOT_IPV4, __LINE__);
	/* IPv4, but neither TCP, UDP nor ICMP. */
	DROP(&c, frag(IN1, R1, 47, 0, 0, gre, sizeof(gre)), INSIDE, PROTO);
	assert_int_equal(ct_count(ct(&c)), 0);
	tc_done(&c);
}

static void nat_verify_clean(void **state __maybe_unused)
{
	struct conn k = { .in = IN2, .iport = 4000, .r = R2, .rport = 443 };
	char why[128] = "";
	struct ct_entry *f;
	uint32_t owner;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_ADF, 2);
	check_verify(&c);
	e = OPEN(&c, IN1, 5000, R1, 53);
	REPLY(&c, R1, 99, e, IN1, 5000);
	tcp_establish(&c, &k);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 3), INSIDE, TO_OUTSIDE);
	check_verify(&c);
	/* It does look: a flow that lost its mapping is reported. */
	f = find_flow(&c, IN1, 5000, R1, 53, UDP);
	assert_non_null(f);
	owner = f->owner;
	f->owner = CT_NONE;
	assert_int_equal(nat_verify(c.nat, why, sizeof(why)), -EUCLEAN);
	assert_true(why[0] != '\0');
	f->owner = owner;
	tc_done(&c);
}

static void nat_create_rejects_bad_config(void **state __maybe_unused)
{
	static const struct {
		unsigned int n_ext;
		uint32_t ext0;
		uint16_t port_min, port_max;
		unsigned int filtering;
		int to_class;		/* -1: default timeouts */
		uint32_t to_sec;
		uint32_t max_flows;
	} bad[] = {
		{ 0, 1, 0, 0, 0, -1, 0, 64 },			/* no address */
		{ NAT_MAX_EXT_ADDRS + 1, 1, 0, 0, 0, -1, 0, 64 },
		{ 1, 0, 0, 0, 0, -1, 0, 64 },			/* address 0 */
		{ 1, 1, 2000, 1999, 0, -1, 0, 64 },		/* min > max */
		{ 1, 1, 0, 2000, 0, -1, 0, 64 },		/* min 0, max set */
		{ 1, 1, 0, 0, NAT_FILTER_EIF + 1, -1, 0, 64 },	/* filtering */
		{ 1, 1, 0, 0, 0, CT_TO_ICMP, 0, 64 },		/* timeout 0 */
		{ 1, 1, 0, 0, 0, CT_TO_TCP_ESTABLISHED, CT_TO_MAX + 1, 64 },
		{ 1, 1, 0, 0, 0, CT_TO_UDP_UNREPLIED, 119, 64 },
		{ 1, 1, 0, 0, 0, CT_TO_UDP_ASSURED, 60, 64 },
		{ 1, 1, 0, 0, 0, -1, 0, CT_MAX_FLOWS + 1 },
	};
	struct nat_config cfg;
	struct nat *n;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg_default(&cfg);
		cfg.n_ext_addrs = bad[i].n_ext;
		cfg.ext_addrs[0] = bad[i].ext0 ? EXT1 : 0;
		cfg.port_min = bad[i].port_min;
		cfg.port_max = bad[i].port_max;
		cfg.filtering = (enum nat_filtering)bad[i].filtering;
		cfg.max_flows = bad[i].max_flows;
		if (bad[i].to_class >= 0) {
			ct_timeouts_default(&cfg.timeouts);
			cfg.timeouts.sec[bad[i].to_class] = bad[i].to_sec;
		}
		n = NULL;
		if (nat_create(&n, &cfg) != -EINVAL || n)
			fail_msg("bad config %u accepted", i);
	}
	/* The base is fine, and so is a one-port range. */
	cfg_default(&cfg);
	cfg.port_min = 1000;
	cfg.port_max = 1000;
	assert_int_equal(nat_create(&n, &cfg), 0);
	nat_destroy(n);
	nat_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flow_index_and_gone_hook),
		cmocka_unit_test(rfc4787_eim),
		cmocka_unit_test(rfc4787_paired_pooling),
		cmocka_unit_test(rfc4787_port_preservation),
		cmocka_unit_test(rfc4787_no_port_overloading),
		cmocka_unit_test(rfc4787_udp_timeout_min),
		cmocka_unit_test(rfc4787_outbound_refresh),
		cmocka_unit_test(rfc4787_filtering_modes),
		cmocka_unit_test(rfc5382_simultaneous_open),
		cmocka_unit_test(rfc5382_established_timeout),
		cmocka_unit_test(rfc5382_unsolicited_syn_hold),
		cmocka_unit_test(port_parity_and_range),
		cmocka_unit_test(port_exhaustion),
		cmocka_unit_test(port_parity_full_falls_back),
		cmocka_unit_test(closed_connections_give_ports_back),
		cmocka_unit_test(table_full_early_drop),
		cmocka_unit_test(rst_out_of_window),
		cmocka_unit_test(wrong_side),
		cmocka_unit_test(not_ours),
		cmocka_unit_test(not_ipv4),
		cmocka_unit_test(nat_verify_clean),
		cmocka_unit_test(nat_create_rejects_bad_config),
		cmocka_unit_test(flow_stats_counted),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
