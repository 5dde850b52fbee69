/* SPDX-License-Identifier: MIT */
/*
 * dns_harness.h - the forwarder under test for test_dns.c and
 * test_dns_local.c: a struct dns made with fixed keys and seed, callbacks
 * that record (and parse) every upstream query and late reply, a manual
 * clock, and helpers to ask questions and to answer recorded upstream
 * queries byte by byte (tests/unit/dns_wire.h).
 *
 * The forwarder is the gateway's: 10.0.2.1, host 10.0.2.2, upstream
 * servers 192.0.2.53 and 198.51.100.53 (unless a test says otherwise),
 * domain arcnat.internal; local_addr() knows "guest1" (10.0.2.15), and
 * local_name() names 10.0.2.15 "Guest1". td_fini() lets everything in
 * flight time out and checks nothing is left.
 *
 * Include after <cmocka.h>. Every helper is static: a test file uses what
 * it needs.
 */
#ifndef ARCNAT_TESTS_DNS_HARNESS_H
#define ARCNAT_TESTS_DNS_HARNESS_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "svc/dns.h"
#include "svc/dns_msg.h"
#include "unit/dns_wire.h"

#define SEC(s)	((uint64_t)(s) * NSEC_PER_SEC)
#define MS(s)	((uint64_t)(s) * NSEC_PER_MSEC)
#define T0	SEC(1000)
#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))
#define GW	IP(10, 0, 2, 1)
#define HOST	IP(10, 0, 2, 2)
#define GUEST	IP(10, 0, 2, 15)
#define UP0	IP(192, 0, 2, 53)
#define UP1	IP(198, 51, 100, 53)
#define UP2	IP(203, 0, 113, 53)
#define UP3	IP(192, 0, 2, 54)
#define MAX_UP	256
#define MAX_REP 256

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

struct up {
	uint32_t server;
	uint16_t id;
	uint8_t msg[600];
	size_t len;
};

struct rep {
	struct dns_client c;
	uint8_t msg[8192];
	size_t len;
};

/* The forwarder under test and what it said. */
struct td {
	struct dns *d;
	struct dns_cfg cfg;
	uint64_t now;
	struct up up[MAX_UP];
	unsigned int n_up;
	struct rep rep[MAX_REP];
	unsigned int n_rep;
	uint8_t reply[65536];
	struct dns_msg rm;	/* the last immediate reply, parsed */
};

static struct td T;

/* The usual client: 10.0.2.15, UDP, no limit from the datapath. */
static struct dns_client udp_client;

static inline void on_upstream(void *ctx, uint32_t server, uint16_t id,
			       const uint8_t *msg, size_t len)
{
	struct dns_msg m;
	struct up *u;

	(void)ctx;
	assert_int_equal(dns_msg_parse(msg, len, &m), 0);
	assert_false(m.flags & DNS_F_QR);
	assert_int_equal(m.id, id);
	assert_true(len <= sizeof(u->msg));
	if (T.n_up++ >= MAX_UP)
		return;		/* counted, not kept (long timeout runs) */
	u = &T.up[T.n_up - 1];
	u->server = server;
	u->id = id;
	memcpy(u->msg, msg, len);
	u->len = len;
}

static inline void on_reply(void *ctx, const struct dns_client *c,
			    const uint8_t *msg, size_t len)
{
	struct dns_msg m;
	struct rep *r;

	(void)ctx;
	assert_int_equal(dns_msg_parse(msg, len, &m), 0);
	assert_true(m.flags & DNS_F_QR);
	if (!c->tcp)
		assert_true(len <= c->udp_size && c->udp_size <= DNS_EDNS_MAX);
	assert_true(len <= sizeof(r->msg));
	if (T.n_rep++ >= MAX_REP)
		return;
	r = &T.rep[T.n_rep - 1];
	r->c = *c;
	memcpy(r->msg, msg, len);
	r->len = len;
}

static inline int on_local_addr(void *ctx, const char *name, uint32_t *ip)
{
	(void)ctx;
	if (!strcmp(name, "guest1")) {
		*ip = GUEST;
		return 0;
	}
	return -ENOENT;
}

static inline const char *on_local_name(void *ctx, uint32_t ip)
{
	(void)ctx;
	return ip == GUEST ? "Guest1" : NULL;
}

static inline void default_cfg(struct dns_cfg *cfg)
{
	*cfg = (struct dns_cfg){ .upstream = { UP0, UP1 }, .n_upstream = 2,
				 .gateway_addr = GW, .host_addr = HOST,
				 .local_addr = on_local_addr,
				 .local_name = on_local_name,
				 .send_upstream = on_upstream,
				 .send_reply = on_reply,
				 .key = &test_key, .seed = 42 };
}

static inline void td_start(void)
{
	T.d = NULL;
	T.n_up = T.n_rep = 0;
	T.now = T0;
	udp_client = (struct dns_client){ .addr = GUEST, .port = 0x1234 };
	assert_int_equal(dns_create(&T.d, &T.cfg), 0);
}

static inline void td_init(void)
{
	default_cfg(&T.cfg);
	td_start();
}

static inline const struct dns_stats *st(void)
{
	return dns_get_stats(T.d);
}

/* Everything in flight times out; nothing may be left behind. */
static inline void td_fini(void)
{
	unsigned int i;

	for (i = 0; i < 20; i++) {
		T.now += SEC(1);
		dns_tick(T.d, T.now);
	}
	assert_int_equal(st()->inflight, 0);
	assert_int_equal(st()->waiting, 0);
	dns_destroy(T.d);
	T.d = NULL;
}


/* A query from @c; 0 opt_size: no OPT. Parses an immediate reply into
 * T.rm. Returns what dns_query() returned. */
static inline int ask_c(const struct dns_client *c, const char *name,
			unsigned int type, unsigned int cls, unsigned int id,
			unsigned int opt_size)
{
	struct wire w;
	int r;

	w_reset(&w);
	w_hdr(&w, id, DNS_F_RD, 1, 0, 0, opt_size ? 1 : 0);
	w_question(&w, name, type, cls);
	if (opt_size)
		w_opt(&w, opt_size, 0);
	r = dns_query(T.d, c, w.b, w.n, T.now, T.reply, sizeof(T.reply));
	if (r > 0) {
		assert_int_equal(dns_msg_parse(T.reply, (size_t)r, &T.rm), 0);
		assert_int_equal(T.rm.id, id);
		assert_true(T.rm.flags & DNS_F_QR);
		/* The question comes back as the client wrote it. */
		assert_memory_equal(T.reply + DNS_HLEN, w.b + DNS_HLEN,
				    T.rm.q_end - DNS_HLEN);
	}
	return r;
}

static inline int ask(const char *name, unsigned int type, unsigned int id)
{
	return ask_c(&udp_client, name, type, DNS_CLASS_IN, id, 0);
}

/* First answer's A address of a reply. */
static inline uint32_t answer_a_of(const uint8_t *msg, const struct dns_msg *m)
{
	uint32_t a;

	assert_true(m->ancount >= 1);
	/* Our answers: owner is a 2-byte pointer, then 10 bytes, then rdata. */
	memcpy(&a, msg + m->q_end + 2 + DNS_RR_FIXED_LEN, 4);
	return a;
}

static inline uint32_t answer_ttl_of(const uint8_t *msg,
				     const struct dns_msg *m)
{
	return r32(msg + m->q_end + 2 + 4);
}

/* Start an answer to the recorded upstream query @u: its header and
 * question with QR, RA and @rcode; the counts are the caller's. */
static inline void answer_start(struct wire *w, const struct up *u,
				unsigned int rcode, unsigned int an,
				unsigned int ns, unsigned int ar)
{
	struct dns_msg m;

	assert_int_equal(dns_msg_parse(u->msg, u->len, &m), 0);
	w_reset(w);
	w_bytes(w, u->msg, m.q_end);
	w_set16(w, 2, DNS_F_QR | DNS_F_RD | DNS_F_RA | rcode);
	w_set16(w, 6, an);
	w_set16(w, 8, ns);
	w_set16(w, 10, ar);
}

/* Answer @u with one A record (and the upstream's own OPT). */
static inline void answer_a(const struct up *u, uint32_t ttl,
			    uint32_t addr_host)
{
	struct wire w;

	answer_start(&w, u, 0, 1, 0, 1);
	w_rr_a(&w, ttl, addr_host);
	w_opt(&w, 1232, 0);
	dns_upstream_input(T.d, u->server, w.b, w.n, T.now);
}

static inline void answer_rcode(const struct up *u, unsigned int rcode)
{
	struct wire w;

	answer_start(&w, u, rcode, 0, 0, 0);
	dns_upstream_input(T.d, u->server, w.b, w.n, T.now);
}

#endif /* ARCNAT_TESTS_DNS_HARNESS_H */
