// SPDX-License-Identifier: MIT
/*
 * test_dns.c - unit tests for src/svc/dns (the DNS forwarder): forwarding
 * and the cache, upstream IDs and the checks on answers, coalescing,
 * retries, timeouts and SERVFAIL, sizes and truncation, malformed queries,
 * and the resolv.conf reader (dns_resolv). Local names are in
 * test_dns_local.c.
 *
 * The harness (tests/unit/dns_harness.h) records every upstream query and
 * late reply (each one must parse); a test plays the upstream server by
 * answering a recorded query byte by byte. Every test ends with nothing in
 * flight and no client waiting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_exit.h"
#include "unit/dns_harness.h"

/* ---- forwarding and the cache ---- */

static void test_forward_answer_cache(void **state)
{
	const struct rep *r;
	struct dns_msg m;

	(void)state;
	td_init();
	assert_int_equal(ask("Example.COM", DNS_TYPE_A, 0x1234), 0);
	assert_int_equal(T.n_up, 1);
	assert_int_equal(T.up[0].server, UP0);
	assert_int_equal(dns_msg_parse(T.up[0].msg, T.up[0].len, &m), 0);
	assert_int_not_equal(m.id, 0x1234);
	assert_true(m.flags & DNS_F_RD);
	assert_memory_equal(m.q.name, "\7example\3com", 13);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_size, DNS_EDNS_MAX);
	assert_int_equal(st()->inflight, 1);
	assert_int_equal(st()->waiting, 1);

	T.now += MS(20);
	answer_a(&T.up[0], 300, 0x5db8d822);
	assert_int_equal(T.n_rep, 1);
	r = &T.rep[0];
	assert_int_equal(dns_msg_parse(r->msg, r->len, &m), 0);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.ancount, 1);
	assert_int_equal(answer_ttl_of(r->msg, &m), 300);
	assert_int_equal(answer_a_of(r->msg, &m), htonl(0x5db8d822));
	assert_false(m.has_opt);	/* the client sent none */
	assert_memory_equal(r->msg + DNS_HLEN, "\7Example\3COM", 13);
	assert_int_equal(r->c.addr, GUEST);
	assert_int_equal(r->c.port, 0x1234);
	assert_int_equal(r->c.udp_size, DNS_UDP_MIN);
	assert_int_equal(st()->forwarded, 1);
	assert_int_equal(st()->upstream_answers, 1);
	assert_int_equal(st()->cache_misses, 1);
	assert_int_equal(st()->cache_entries, 1);
	assert_int_equal(st()->inflight, 0);

	/* Ten seconds later: from the cache, TTL 290, OPT for this client. */
	T.now += SEC(10);
	assert_true(ask_c(&udp_client, "example.com", DNS_TYPE_A, DNS_CLASS_IN,
			  0x5678, 1232) > 0);
	assert_int_equal(T.rm.id, 0x5678);
	assert_int_equal(answer_ttl_of(T.reply, &T.rm), 290);
	assert_int_equal(answer_a_of(T.reply, &T.rm), htonl(0x5db8d822));
	assert_true(T.rm.has_opt);
	assert_int_equal(st()->cache_hits, 1);
	assert_int_equal(T.n_up, 1);
	td_fini();
}

static void test_ids_random(void **state)
{
	uint16_t first[100];
	unsigned int i, j, same = 0;
	char name[32];

	(void)state;
	td_init();
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		assert_int_equal(ask(name, DNS_TYPE_A, 0x4242), 0);
		assert_int_not_equal(T.up[i].id, 0x4242);
		first[i] = T.up[i].id;
	}
	for (i = 0; i < 100; i++)
		for (j = i + 1; j < 100; j++)
			same += first[i] == first[j];
	assert_int_equal(same, 0);	/* IDs in flight are unique */
	td_fini();

	/* Another seed, other IDs. */
	default_cfg(&T.cfg);
	T.cfg.seed = 43;
	td_start();
	for (i = 0, same = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%u.example", i);
		assert_int_equal(ask(name, DNS_TYPE_A, 0x4242), 0);
		same += T.up[i].id == first[i];
	}
	assert_true(same < 5);
	td_fini();
}

static void test_spoofed_answers_dropped(void **state)
{
	struct up u;
	struct wire w;

	(void)state;
	td_init();
	assert_int_equal(ask("bank.example", DNS_TYPE_A, 77), 0);
	u = T.up[0];

	answer_start(&w, &u, 0, 1, 0, 0);
	w_rr_a(&w, 300, 0x06060606);
	w_set16(&w, 0, u.id ^ 1);	/* wrong ID */
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	w_set16(&w, 0, u.id);
	dns_upstream_input(T.d, IP(9, 9, 9, 9), w.b, w.n, T.now); /* stranger */
	dns_upstream_input(T.d, UP1, w.b, w.n, T.now);	/* not asked yet */
	w.b[DNS_HLEN + 1] = 'c';	/* "cank.example" */
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	w.b[DNS_HLEN + 1] = 'b';
	w.b[DNS_HLEN + 15] = DNS_TYPE_AAAA;	/* other type */
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	w.b[DNS_HLEN + 15] = DNS_TYPE_A;
	w_set16(&w, 2, DNS_F_RD);	/* not a response */
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	dns_upstream_input(T.d, UP0, w.b, 5, T.now);	/* too short */
	w_set16(&w, 2, DNS_F_QR | DNS_F_RA);
	dns_upstream_input(T.d, UP0, w.b, w.n - 1, T.now);	/* malformed */
	assert_int_equal(st()->bad_answers, 8);
	assert_int_equal(T.n_rep, 0);
	assert_int_equal(st()->inflight, 1);	/* still waiting */

	/* The real one, with the name in another case (0x20 at upstream). */
	w.b[DNS_HLEN + 1] = 'B';
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	assert_int_equal(T.n_rep, 1);
	assert_int_equal(st()->upstream_answers, 1);
	/* Replayed: nobody waits for it any more. */
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	assert_int_equal(st()->bad_answers, 9);
	assert_int_equal(T.n_rep, 1);
	td_fini();
}

static void test_coalescing(void **state)
{
	struct dns_client b = { .addr = IP(10, 0, 2, 16), .port = 2000 };
	struct dns_client c = { .addr = IP(10, 0, 2, 17), .port = 3000,
				.tcp = true, .cookie = 77 };
	struct dns_msg m;
	unsigned int i;

	(void)state;
	td_init();
	assert_int_equal(ask("Dup.Test", DNS_TYPE_A, 1), 0);
	assert_int_equal(ask_c(&b, "dup.TEST", DNS_TYPE_A, DNS_CLASS_IN, 2, 1232),
			 0);
	assert_int_equal(ask_c(&c, "DUP.test", DNS_TYPE_A, DNS_CLASS_IN, 3, 0), 0);
	assert_int_equal(ask("Dup.Test", DNS_TYPE_A, 1), 0);	/* retransmitted */
	assert_int_equal(T.n_up, 1);
	assert_int_equal(st()->coalesced, 2);
	assert_int_equal(st()->duplicates, 1);
	assert_int_equal(st()->waiting, 3);

	answer_a(&T.up[0], 60, 0x01020304);
	assert_int_equal(T.n_rep, 3);
	for (i = 0; i < 3; i++) {
		const struct rep *r = &T.rep[i];

		assert_int_equal(dns_msg_parse(r->msg, r->len, &m), 0);
		assert_int_equal(m.id, i + 1);
		assert_int_equal(m.ancount, 1);
		assert_int_equal(m.has_opt, i == 1);
	}
	assert_memory_equal(T.rep[0].msg + DNS_HLEN, "\3Dup\4Test", 9);
	assert_memory_equal(T.rep[1].msg + DNS_HLEN, "\3dup\4TEST", 9);
	assert_memory_equal(T.rep[2].msg + DNS_HLEN, "\3DUP\4test", 9);
	assert_int_equal(T.rep[1].c.addr, b.addr);
	assert_true(T.rep[2].c.tcp);
	assert_int_equal(T.rep[2].c.cookie, 77);
	assert_int_equal(st()->replies, 3);
	assert_int_equal(st()->waiting, 0);
	td_fini();
}

static void test_timeout_retry_servfail(void **state)
{
	struct dns_msg m;
	struct up u;

	(void)state;
	td_init();
	assert_int_equal(ask("slow.test", DNS_TYPE_A, 0x0aaa), 0);
	u = T.up[0];
	T.now += MS(999);
	dns_tick(T.d, T.now);
	assert_int_equal(T.n_up, 1);
	T.now += MS(1);
	dns_tick(T.d, T.now);
	assert_int_equal(T.n_up, 2);
	assert_int_equal(T.up[1].server, UP1);	/* the next server */
	assert_int_equal(T.up[1].id, u.id);	/* the same ID */
	T.now += SEC(1);
	dns_tick(T.d, T.now);
	T.now += SEC(1);
	dns_tick(T.d, T.now);
	assert_int_equal(T.n_up, 4);		/* 2 x n_upstream tries */
	assert_int_equal(T.up[2].server, UP0);
	assert_int_equal(T.up[3].server, UP1);
	assert_int_equal(T.n_rep, 0);
	T.now += SEC(1);
	dns_tick(T.d, T.now);
	assert_int_equal(T.n_up, 4);
	assert_int_equal(T.n_rep, 1);
	assert_int_equal(dns_msg_parse(T.rep[0].msg, T.rep[0].len, &m), 0);
	assert_int_equal(m.id, 0x0aaa);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_SERVFAIL);
	assert_memory_equal(m.q.name, "\4slow\4test", 11);
	assert_int_equal(st()->timeouts, 1);
	assert_int_equal(st()->servfail, 1);
	assert_int_equal(st()->retries, 3);
	assert_int_equal(st()->upstream_sent, 4);

	/* A late answer is nobody's. */
	answer_a(&u, 60, 1);
	assert_int_equal(st()->bad_answers, 1);

	/* A late answer to the first try (from UP0, after the retry went
	 * to UP1) is still good. */
	assert_int_equal(ask("a.test", DNS_TYPE_A, 1), 0);
	assert_int_equal(T.up[4].server, UP0);
	T.now += SEC(1);
	dns_tick(T.d, T.now);
	assert_int_equal(T.up[5].server, UP1);
	answer_a(&T.up[4], 60, 1);
	assert_int_equal(T.n_rep, 2);

	/* The server that answered last is asked first. */
	assert_int_equal(ask("b.test", DNS_TYPE_A, 2), 0);
	assert_int_equal(T.up[6].server, UP0);
	T.now += SEC(1);
	dns_tick(T.d, T.now);
	answer_a(&T.up[7], 60, 1);	/* UP1 answers the retry */
	assert_int_equal(T.n_rep, 3);
	assert_int_equal(ask("c.test", DNS_TYPE_A, 3), 0);
	assert_int_equal(T.up[8].server, UP1);
	td_fini();
}

static void test_lifetime_5s(void **state)
{
	(void)state;
	default_cfg(&T.cfg);
	T.cfg.upstream[2] = UP2;
	T.cfg.upstream[3] = UP3;
	T.cfg.n_upstream = 4;
	td_start();
	assert_int_equal(ask("slow.test", DNS_TYPE_A, 1), 0);
	while (T.n_rep == 0 && T.now < T0 + SEC(10)) {
		T.now += MS(100);
		dns_tick(T.d, T.now);
	}
	assert_int_equal(T.now, T0 + SEC(5));
	assert_int_equal(T.n_up, 5);	/* 8 tries allowed, 5 s is less */
	assert_int_equal(st()->timeouts, 1);
	td_fini();
}

static void test_upstream_error_next_server(void **state)
{
	struct dns_msg m;

	(void)state;
	td_init();
	assert_int_equal(ask("flaky.test", DNS_TYPE_A, 1), 0);
	answer_rcode(&T.up[0], DNS_RCODE_SERVFAIL);
	assert_int_equal(T.n_up, 2);
	assert_int_equal(T.up[1].server, UP1);
	answer_rcode(&T.up[1], DNS_RCODE_REFUSED);
	assert_int_equal(T.n_up, 3);
	assert_int_equal(T.up[2].server, UP0);
	assert_int_equal(st()->upstream_errors, 2);
	answer_a(&T.up[2], 60, 0x0a0b0c0d);
	assert_int_equal(T.n_rep, 1);
	assert_int_equal(dns_msg_parse(T.rep[0].msg, T.rep[0].len, &m), 0);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
	td_fini();

	/* One server: its SERVFAIL is passed on, not cached. */
	default_cfg(&T.cfg);
	T.cfg.n_upstream = 1;
	td_start();
	assert_int_equal(ask("flaky.test", DNS_TYPE_A, 1), 0);
	answer_rcode(&T.up[0], DNS_RCODE_SERVFAIL);
	assert_int_equal(T.n_rep, 1);
	assert_int_equal(dns_msg_parse(T.rep[0].msg, T.rep[0].len, &m), 0);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_SERVFAIL);
	assert_int_equal(st()->cache_entries, 0);
	assert_int_equal(st()->servfail, 0);	/* upstream's, not ours */
	td_fini();
}

static void test_inflight_full(void **state)
{
	(void)state;
	default_cfg(&T.cfg);
	T.cfg.max_inflight = 2;
	td_start();
	assert_int_equal(ask("a.test", DNS_TYPE_A, 1), 0);
	assert_int_equal(ask("b.test", DNS_TYPE_A, 2), 0);
	assert_true(ask("c.test", DNS_TYPE_A, 3) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_SERVFAIL);
	assert_int_equal(T.rm.q.qtype, DNS_TYPE_A);
	assert_int_equal(st()->inflight_full, 1);
	/* Joining a query in flight needs a client slot too. */
	assert_true(ask("a.test", DNS_TYPE_A, 4) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_SERVFAIL);
	assert_int_equal(st()->inflight_full, 2);
	assert_int_equal(T.n_up, 2);
	/* Room again once one is answered. */
	answer_a(&T.up[0], 60, 1);
	assert_int_equal(ask("c.test", DNS_TYPE_A, 5), 0);
	td_fini();
	assert_int_equal(T.n_rep, 3);	/* a answered, b and c SERVFAIL */
}

static void test_no_upstream(void **state)
{
	(void)state;
	default_cfg(&T.cfg);
	T.cfg.n_upstream = 0;
	T.cfg.send_upstream = NULL;
	td_start();
	assert_true(ask("example.com", DNS_TYPE_A, 9) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_SERVFAIL);
	assert_int_equal(st()->servfail, 1);
	assert_true(ask("gateway.arcnat.internal", DNS_TYPE_A, 10) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	td_fini();
}

/* Answer @u with one TXT record of @size bytes of text. */
static void answer_txt(const struct up *u, size_t size)
{
	uint8_t text[255];
	struct wire w;
	size_t i, left;

	for (i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)('a' + i % 26);
	answer_start(&w, u, 0, 1, 0, 1);
	w_ptr(&w, DNS_HLEN);
	w_rr_fixed(&w, DNS_TYPE_TXT, DNS_CLASS_IN, 600,
		   (unsigned int)(size + (size + 254) / 255));
	for (left = size; left; ) {	/* strings of at most 255 bytes */
		size_t k = MIN(left, sizeof(text));

		w_u8(&w, (unsigned int)k);
		w_bytes(&w, text, k);
		left -= k;
	}
	w_opt(&w, 4096, 0);
	dns_upstream_input(T.d, u->server, w.b, w.n, T.now);
}

static void test_big_answer_truncation(void **state)
{
	struct dns_client c1232 = { .addr = GUEST, .port = 1 };
	struct dns_client tcp = { .addr = GUEST, .port = 2, .tcp = true,
				  .cookie = 5 };
	struct dns_client plain = { .addr = GUEST, .port = 3 };
	struct dns_client c4096 = { .addr = GUEST, .port = 4 };
	struct dns_client capped = { .addr = GUEST, .port = 5, .udp_size = 1400 };
	struct dns_msg m;
	unsigned int i;
	int r;

	(void)state;
	td_init();
	assert_int_equal(ask_c(&c1232, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN,
			       10, 1232), 0);
	assert_int_equal(ask_c(&tcp, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN, 11,
			       0), 0);
	assert_int_equal(ask_c(&plain, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN,
			       12, 0), 0);
	assert_int_equal(ask_c(&c4096, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN,
			       13, 4096), 0);
	assert_int_equal(ask_c(&capped, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN,
			       14, 4096), 0);
	answer_txt(&T.up[0], 3000);
	assert_int_equal(T.n_rep, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(dns_msg_parse(T.rep[i].msg, T.rep[i].len, &m), 0);

	/* 1232: cut, TC, header + question + OPT. */
	assert_int_equal(dns_msg_parse(T.rep[0].msg, T.rep[0].len, &m), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_int_equal(m.ancount, 0);
	assert_true(m.has_opt);
	assert_int_equal(T.rep[0].len, m.q_end + DNS_OPT_LEN);
	assert_int_equal(T.rep[0].c.udp_size, 1232);
	/* TCP: whole. */
	assert_int_equal(dns_msg_parse(T.rep[1].msg, T.rep[1].len, &m), 0);
	assert_false(m.flags & DNS_F_TC);
	assert_int_equal(m.ancount, 1);
	assert_true(T.rep[1].len > 3000);
	/* No EDNS0: 512, no OPT. */
	assert_int_equal(dns_msg_parse(T.rep[2].msg, T.rep[2].len, &m), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_false(m.has_opt);
	assert_int_equal(T.rep[2].c.udp_size, 512);
	/* 4096: whole. */
	assert_int_equal(dns_msg_parse(T.rep[3].msg, T.rep[3].len, &m), 0);
	assert_false(m.flags & DNS_F_TC);
	assert_true(m.has_opt);
	assert_true(T.rep[3].len > 3000 && T.rep[3].len <= 4096);
	/* 4096 asked, the datapath allows 1400: cut. */
	assert_int_equal(dns_msg_parse(T.rep[4].msg, T.rep[4].len, &m), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_int_equal(T.rep[4].c.udp_size, 1400);
	assert_int_equal(st()->truncated, 3);

	/* From the cache: the same rules. */
	assert_true(ask_c(&tcp, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN, 20, 0) >
		    3000);
	assert_false(T.rm.flags & DNS_F_TC);
	r = ask_c(&c1232, "big.test", DNS_TYPE_TXT, DNS_CLASS_IN, 21, 1232);
	assert_int_equal(r, (int)(T.rm.q_end + DNS_OPT_LEN));
	assert_true(T.rm.flags & DNS_F_TC);
	assert_int_equal(st()->cache_hits, 2);
	assert_int_equal(st()->truncated, 4);
	td_fini();
}

static void test_negative_via_forwarder(void **state)
{
	struct wire w;

	(void)state;
	td_init();
	assert_int_equal(ask("nx.example.com", DNS_TYPE_A, 1), 0);
	answer_start(&w, &T.up[0], DNS_RCODE_NXDOMAIN, 0, 1, 0);
	w_rr_soa(&w, "example.com", 3600, 300);
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	assert_int_equal(T.n_rep, 1);
	T.now += SEC(100);
	assert_true(ask("NX.example.com", DNS_TYPE_A, 2) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NXDOMAIN);
	assert_int_equal(T.rm.soa_ttl, 200);
	assert_int_equal(st()->cache_hits, 1);

	/* NODATA. */
	assert_int_equal(ask("v4.example.com", DNS_TYPE_AAAA, 3), 0);
	answer_start(&w, &T.up[1], DNS_RCODE_NOERROR, 0, 1, 0);
	w_rr_soa(&w, "example.com", 60, 3600);
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	T.now += SEC(59);
	assert_true(ask("v4.example.com", DNS_TYPE_AAAA, 4) > 0);
	assert_int_equal(T.rm.ancount, 0);
	assert_int_equal(T.rm.soa_ttl, 1);
	T.now += SEC(1);
	assert_int_equal(ask("v4.example.com", DNS_TYPE_AAAA, 5), 0);	/* expired */
	assert_int_equal(T.n_up, 3);
	td_fini();
}

static void test_upstream_tc(void **state)
{
	struct dns_msg m;
	struct wire w;

	(void)state;
	td_init();
	assert_int_equal(ask("tc.test", DNS_TYPE_A, 1), 0);
	answer_start(&w, &T.up[0], 0, 3, 0, 0);	/* promises 3, has 1 */
	w_set16(&w, 2, DNS_F_QR | DNS_F_TC | DNS_F_RA);
	w_rr_a(&w, 300, 1);
	dns_upstream_input(T.d, UP0, w.b, w.n, T.now);
	assert_int_equal(T.n_rep, 1);
	assert_int_equal(dns_msg_parse(T.rep[0].msg, T.rep[0].len, &m), 0);
	assert_true(m.flags & DNS_F_TC);
	assert_int_equal(m.ancount, 0);
	assert_int_equal(st()->cache_entries, 0);
	assert_int_equal(ask("tc.test", DNS_TYPE_A, 2), 0);	/* not cached */
	td_fini();
}

static void test_bad_queries(void **state)
{
	struct wire w;
	int r;

	(void)state;
	td_init();
	/* A response: dropped. */
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 0, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	assert_true(dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply,
			      sizeof(T.reply)) < 0);
	assert_true(dns_query(T.d, &udp_client, w.b, 5, T.now, T.reply,
			      sizeof(T.reply)) < 0);
	assert_int_equal(st()->drops, 2);
	/* Too small a reply buffer: the caller's bug. */
	assert_int_equal(dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply,
				   511), -EINVAL);

	/* Two questions: FORMERR without a question. */
	w_reset(&w);
	w_hdr(&w, 0x3333, DNS_F_RD, 2, 0, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	w_question(&w, "b.test", DNS_TYPE_A, DNS_CLASS_IN);
	r = dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply, sizeof(T.reply));
	assert_int_equal(r, DNS_HLEN);
	assert_int_equal(r16(T.reply), 0x3333);
	assert_int_equal(r16(T.reply + 2), DNS_F_QR | DNS_F_RD | DNS_F_RA |
					   DNS_RCODE_FORMERR);
	assert_int_equal(r16(T.reply + 4), 0);

	/* Trailing garbage: FORMERR with the question. */
	w_reset(&w);
	w_hdr(&w, 4, 0, 1, 0, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	w_u8(&w, 0);
	r = dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply, sizeof(T.reply));
	assert_int_equal(r, (int)w.n - 1);
	assert_int_equal(r16(T.reply + 2) & DNS_F_RCODE_MASK, DNS_RCODE_FORMERR);
	assert_int_equal(r16(T.reply + 4), 1);

	/* A question for type OPT. */
	assert_true(ask("a.test", DNS_TYPE_OPT, 5) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_FORMERR);
	assert_int_equal(st()->formerr, 3);

	/* Another opcode: NOTIMP. */
	w_reset(&w);
	w_hdr(&w, 6, DNS_OPCODE_STATUS << DNS_F_OPCODE_SHIFT, 1, 0, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	r = dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply, sizeof(T.reply));
	assert_true(r > 0);
	assert_int_equal(r16(T.reply + 2) & DNS_F_RCODE_MASK, DNS_RCODE_NOTIMP);
	assert_int_equal((r16(T.reply + 2) & DNS_F_OPCODE_MASK) >>
				 DNS_F_OPCODE_SHIFT, DNS_OPCODE_STATUS);
	assert_int_equal(st()->notimp, 1);

	/* EDNS version 1: BADVERS (16 = 1 in OPT, 0 in the header). */
	w_reset(&w);
	w_hdr(&w, 7, DNS_F_RD, 1, 0, 0, 1);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	w_opt(&w, 1232, 0x00010000);
	r = dns_query(T.d, &udp_client, w.b, w.n, T.now, T.reply, sizeof(T.reply));
	assert_true(r > 0);
	assert_int_equal(dns_msg_parse(T.reply, (size_t)r, &T.rm), 0);
	assert_int_equal(dns_msg_rcode(&T.rm), 0);
	assert_true(T.rm.has_opt);
	assert_int_equal(T.rm.opt_ext_rcode, 1);
	assert_int_equal(st()->badvers, 1);
	assert_int_equal(T.n_up, 0);
	td_fini();
}

static void test_resolv_conf(void **state)
{
	char path[] = "/tmp/arcnat-test-resolv-XXXXXX";
	uint32_t s[8];
	unsigned int n, i;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# generated\n; comment\nsearch example.com\n"
	      "nameserver 192.0.2.1\n"
	      "nameserver\t198.51.100.7   # trailing comment\n"
	      "nameserver 2001:db8::1\n"
	      "nameserver not-an-address\n"
	      "nameserver\n"
	      "options ndots:2\n"
	      "nameserver 127.0.0.53\n", f);
	fputs("nameserver 10.0.0.1 ", f);
	for (i = 0; i < 1000; i++)
		fputc('x', f);
	fputs("\nnameserver 10.0.0.2", f);	/* no final newline */
	fclose(f);

	assert_int_equal(dns_read_resolv_conf(path, s, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(s[0], IP(192, 0, 2, 1));
	assert_int_equal(s[1], IP(198, 51, 100, 7));
	assert_int_equal(s[2], IP(127, 0, 0, 53));
	assert_int_equal(s[3], IP(10, 0, 0, 2));
	assert_int_equal(dns_read_resolv_conf(path, s, 2, &n), 0);
	assert_int_equal(n, 2);
	unlink(path);
	assert_int_equal(dns_read_resolv_conf(path, s, 8, &n), -ENOENT);
	assert_int_equal(n, 0);
}

static void test_create_rejects(void **state)
{
	struct dns_cfg cfg;
	struct dns *d;

	(void)state;
	default_cfg(&cfg);
	cfg.send_reply = NULL;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	assert_null(d);
	default_cfg(&cfg);
	cfg.send_upstream = NULL;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.n_upstream = DNS_MAX_UPSTREAM + 1;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.upstream[1] = 0;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.domain = "a..b";
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	cfg.domain = ".";
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.max_inflight = DNS_MAX_INFLIGHT + 1;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.timeout_ms = DNS_MAX_TIMEOUT_MS + 1;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.min_ttl = 10;
	cfg.max_ttl = 5;
	assert_int_equal(dns_create(&d, &cfg), -EINVAL);
	default_cfg(&cfg);
	cfg.key = NULL;
	cfg.seed = 0;		/* random key and IDs */
	assert_int_equal(dns_create(&d, &cfg), 0);
	dns_destroy(d);
	dns_destroy(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forward_answer_cache),
		cmocka_unit_test(test_ids_random),
		cmocka_unit_test(test_spoofed_answers_dropped),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_timeout_retry_servfail),
		cmocka_unit_test(test_lifetime_5s),
		cmocka_unit_test(test_upstream_error_next_server),
		cmocka_unit_test(test_inflight_full),
		cmocka_unit_test(test_no_upstream),
		cmocka_unit_test(test_big_answer_truncation),
		cmocka_unit_test(test_negative_via_forwarder),
		cmocka_unit_test(test_upstream_tc),
		cmocka_unit_test(test_bad_queries),
		cmocka_unit_test(test_resolv_conf),
		cmocka_unit_test(test_create_rejects),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
