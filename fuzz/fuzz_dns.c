// SPDX-License-Identifier: MIT
/*
 * fuzz_dns.c - libFuzzer harness for the DNS forwarder (src/svc/dns with
 * dns_msg, dns_cache, dns_local): one forwarder per input, a stream of
 * client queries, upstream answers and ticks on a manual clock, and the
 * forwarder's promises checked after every step.
 *
 * Input (tools/gen_dns_corpus.py writes seeds in this format):
 *   header, 4 bytes:
 *     h0  bits 0-1 upstream servers {0, 1, 2, 4}; bit 2 small cache (8
 *         entries, 2 KiB) else 64 entries, 16 KiB; bit 3 min_ttl 30;
 *         bits 4-5 max_inflight {1, 2, 4, 16}; bit 6 neg_max_ttl 60;
 *         bit 7 timeout 200 ms (else 1000)
 *     h1  bit 0 no host address; bit 1 domain "lan.test"; bit 2 max_ttl 120
 *     h2  start time, seconds
 *     h3  ID seed (seed = 1 + h3)
 *   records, at most MAX_RECORDS: ctl, then a body by kind.
 *     ctl  bits 0-2 kind; bits 3-5 time step before it (steps[]);
 *          bits 6-7 flags of the kind
 *     kind 0  raw client query: client byte, length byte (flag 6: two
 *             bytes, big-endian), that many bytes
 *     kind 1  template query, 4 bytes: client byte; name (low nibble,
 *             names[]) and type (high nibble, types[]); ID low byte; EDNS
 *             byte (bits 0-2 opt_sizes[], 0 = no OPT; bit 3 version 1;
 *             bit 4 DO)
 *     kind 2  raw upstream message: server byte (bits 0-1 server, bit 2 a
 *             stranger), length byte, bytes; flag 6: the first two bytes
 *             become the last upstream ID sent
 *     kind 3  template answer to a recent upstream query, 7 bytes:
 *             b0 which (0 = newest of the last RECENT); b1 rcode (bits
 *             0-3), TC (4), OPT (5), from another server (6), question
 *             name upper-cased (7); b2 answers (bits 0-1), their type
 *             (bits 2-4, an_types[]), SOA in authority (5), an A record in
 *             additional (6); b3 answer TTL (bits 0-2, ttls[]), SOA TTL
 *             (bits 3-5), SOA MINIMUM (bits 6-7, minimums[]); b4 TXT size
 *             / 8; b5 bytes cut from the end; b6 if non-zero, the byte at
 *             that offset is flipped
 *     kind 4  tick
 *     kind 5  ten ticks, 100 ms apart
 *     kind 6  echo: the last upstream query with QR set, ANCOUNT from the
 *             flags, and a length byte plus that many bytes appended
 *     kind 7  six seconds pass, then a tick
 *   client byte: bit 0 TCP; bits 1-2 which client; bits 3-5 the datapath's
 *   UDP limit (caps[]); bits 6-7 the ID's high bits (template queries).
 *
 * Checks: every message the forwarder emits parses with dns_msg_parse()
 * (but for the header-only FORMERR or NOTIMP to a query without a
 * readable question);
 * upstream queries go to a configured server, are queries with RD and OPT;
 * replies are responses, to a client that is waiting (each waiting query
 * gets exactly one reply, none is left at the end), within the client's
 * size (UDP: its EDNS0 size, at most 4096, at most the datapath's limit);
 * an immediate reply carries the query's ID and, if the query's question
 * was readable, its question byte for byte; the cache's structure and
 * bounds hold (dns_cache_verify()); queries and clients in flight stay
 * within max_inflight. FUZZ_DNS_TRACE=1 prints the counters per input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "svc/dns.h"
#include "svc/dns_cache.h"
#include "svc/dns_msg.h"
#include "unit/dns_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_RECORDS 256
#define RECENT	    8
#define MAX_OUT	    64	/* waiting queries tracked (max_inflight <= 16) */

#define FAIL(...) \
	(fprintf(stderr, "fuzz_dns: " __VA_ARGS__), fputc('\n', stderr), abort())
#define CHECK(c) ((c) ? (void)0 : FAIL("line %d: %s", __LINE__, #c))

static const uint64_t steps[8] = {
	0, NSEC_PER_MSEC, 100 * NSEC_PER_MSEC, 999 * NSEC_PER_MSEC,
	NSEC_PER_SEC, 5 * NSEC_PER_SEC, 61 * NSEC_PER_SEC, 3600 * NSEC_PER_SEC,
};
static const unsigned int n_ups[4] = { 0, 1, 2, 4 };
static const uint32_t inflights[4] = { 1, 2, 4, 16 };
static const char *const names[16] = {
	"a.test", "B.Test", "gateway.arcnat.internal", "HOST.arcnat.internal",
	"guest1.arcnat.internal", "x.arcnat.internal", "1.2.0.10.in-addr.arpa",
	"15.2.0.10.in-addr.arpa", "99.2.0.10.in-addr.arpa", "big.test",
	"example.com", "WWW.EXAMPLE.COM", "arcnat.internal", "",
	"gateway.lan.test", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v",
};
static const uint16_t types[16] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_PTR, DNS_TYPE_TXT, DNS_TYPE_MX,
	DNS_TYPE_CNAME, DNS_TYPE_SOA, DNS_TYPE_NS, DNS_TYPE_ANY, DNS_TYPE_OPT,
	DNS_TYPE_A, DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_TXT, 99, 0,
};
static const uint16_t opt_sizes[8] = { 0, 512, 1232, 4096, 100, 65535, 1400,
				       2048 };
static const uint16_t caps[8] = { 0, 0, 512, 1232, 1400, 4096, 300, 65535 };
static const uint16_t an_types[8] = {
	DNS_TYPE_A, DNS_TYPE_AAAA, DNS_TYPE_CNAME, DNS_TYPE_TXT, DNS_TYPE_MX,
	DNS_TYPE_NS, DNS_TYPE_PTR, 99,
};
static const uint32_t ttls[8] = { 0, 1, 5, 30, 300, 86400, 0x80000000u,
				  0xffffffffu };
static const uint32_t minimums[4] = { 0, 60, 3600, 86400 };

/* A query the forwarder said it would answer later. */
struct waiting {
	struct dns_client c;
	uint16_t id;
};

/* An upstream query it sent. */
struct sent {
	uint32_t server;
	uint16_t id;
	uint8_t msg[DNS_HLEN + DNS_NAME_MAX + DNS_Q_FIXED_LEN + DNS_OPT_LEN];
	size_t len;
};

struct fz {
	struct dns *d;
	struct dns_cfg cfg;
	uint64_t now;
	struct waiting out[MAX_OUT];
	unsigned int n_out;
	uint64_t replies;
	struct sent recent[RECENT];	/* ring, newest at (n_sent - 1) */
	uint64_t n_sent;
};

static struct fz fz;
static bool trace;
static uint8_t reply[DNS_MSG_MAX];
static struct wire w;

static void on_upstream(void *ctx, uint32_t server, uint16_t id,
			const uint8_t *msg, size_t len)
{
	struct sent *s = &fz.recent[fz.n_sent++ % RECENT];
	struct dns_msg m;
	unsigned int i;
	bool known = false;

	(void)ctx;
	for (i = 0; i < fz.cfg.n_upstream; i++)
		known |= fz.cfg.upstream[i] == server;
	CHECK(known);
	CHECK(dns_msg_parse(msg, len, &m) == 0);
	CHECK(!(m.flags & DNS_F_QR) && (m.flags & DNS_F_RD));
	CHECK(dns_msg_opcode(&m) == DNS_OPCODE_QUERY);
	CHECK(m.id == id && m.has_opt && m.opt_size == DNS_EDNS_MAX);
	CHECK(m.ancount == 0 && m.nscount == 0 && m.arcount == 1);
	CHECK(len <= sizeof(s->msg));
	s->server = server;
	s->id = id;
	memcpy(s->msg, msg, len);
	s->len = len;
}

static bool same_client(const struct dns_client *a, const struct dns_client *b)
{
	return a->addr == b->addr && a->port == b->port && a->tcp == b->tcp &&
	       a->cookie == b->cookie;
}

static void on_reply(void *ctx, const struct dns_client *c, const uint8_t *msg,
		     size_t len)
{
	struct dns_msg m;
	unsigned int i;

	(void)ctx;
	CHECK(dns_msg_parse(msg, len, &m) == 0);
	CHECK(m.flags & DNS_F_QR);
	if (!c->tcp)
		CHECK(len <= c->udp_size && c->udp_size >= DNS_UDP_MIN &&
		      c->udp_size <= DNS_EDNS_MAX);
	/* Exactly one reply per waiting query. */
	for (i = 0; i < fz.n_out; i++)
		if (same_client(&fz.out[i].c, c) && fz.out[i].id == m.id)
			break;
	CHECK(i < fz.n_out);
	fz.out[i] = fz.out[--fz.n_out];
	fz.replies++;
}

static int on_local_addr(void *ctx, const char *name, uint32_t *ip)
{
	(void)ctx;
	CHECK(strlen(name) >= 1 && strlen(name) <= DNS_LABEL_MAX);
	if (!strcmp(name, "guest1")) {
		*ip = htonl(0x0a00020f);
		return 0;
	}
	return -ENOENT;
}

static const char *on_local_name(void *ctx, uint32_t ip)
{
	(void)ctx;
	return ip == htonl(0x0a00020f) ? "Guest1" : NULL;
}

static void check_step(void)
{
	const struct dns_stats *s = dns_get_stats(fz.d);
	const struct dns_cache *c = dns_get_cache(fz.d);
	const struct dns_cache_stats *cs = dns_cache_get_stats(c);
	uint32_t max_e, max_b;

	dns_cache_limits(c, &max_e, &max_b);
	CHECK(dns_cache_verify(c) == 0);
	CHECK(cs->entries <= max_e && cs->blocks <= max_b);
	CHECK((uint64_t)cs->blocks * DNS_CACHE_BLOCK <= fz.cfg.cache_bytes);
	CHECK(cs->bytes <= (uint64_t)cs->blocks * DNS_CACHE_BLOCK);
	CHECK(s->cache_entries == cs->entries && s->cache_bytes == cs->bytes);
	CHECK(s->inflight <= fz.cfg.max_inflight);
	CHECK(s->waiting <= fz.cfg.max_inflight && s->waiting == fz.n_out);
	CHECK(s->inflight <= s->waiting);
	CHECK(s->replies == fz.replies);
}

static struct dns_client client_of(uint8_t cb)
{
	struct dns_client c = { .addr = htonl(0x0a000210u + (cb >> 1 & 3)),
				.port = htons((uint16_t)(1000 + (cb >> 1 & 3))),
				.udp_size = caps[cb >> 3 & 7],
				.tcp = cb & 1 };

	c.cookie = c.tcp ? 100 + (cb >> 1 & 3) : 0;
	return c;
}

static void do_query(uint8_t cb, const uint8_t *msg, size_t len)
{
	const struct dns_stats *s = dns_get_stats(fz.d);
	struct dns_client c = client_of(cb);
	uint64_t dups = s->duplicates;
	struct dns_msg q, m;
	size_t limit;
	int r, qr;

	r = dns_query(fz.d, &c, msg, len, fz.now, reply, sizeof(reply));
	qr = dns_msg_parse(msg, len, &q);
	if (r < 0) {
		CHECK(!q.hdr_ok || (q.flags & DNS_F_QR));
		return;
	}
	CHECK(q.hdr_ok && !(q.flags & DNS_F_QR));
	if (r == 0) {
		if (s->duplicates != dups)
			return;
		CHECK(fz.n_out < MAX_OUT);
		fz.out[fz.n_out].c = c;
		fz.out[fz.n_out++].id = q.id;
		return;
	}
	if (dns_msg_parse(reply, (size_t)r, &m) != 0) {
		/* The one reply without a question: FORMERR (or NOTIMP for
		 * another opcode) to a query whose question could not be
		 * read. A header and nothing else. */
		CHECK(r == DNS_HLEN && m.hdr_ok && !q.q_ok);
		CHECK(m.qdcount == 0 && m.ancount == 0 && m.arcount == 0);
		CHECK(dns_msg_rcode(&m) == DNS_RCODE_FORMERR ||
		      dns_msg_rcode(&m) == DNS_RCODE_NOTIMP);
	}
	CHECK(m.flags & DNS_F_QR);
	CHECK(m.id == q.id);
	limit = qr == 0 && q.has_opt ? MAX(q.opt_size, DNS_UDP_MIN) : DNS_UDP_MIN;
	limit = MIN(limit, (size_t)DNS_EDNS_MAX);
	if (c.udp_size)
		limit = MIN(limit, MAX((size_t)c.udp_size, (size_t)DNS_UDP_MIN));
	if (!c.tcp)
		CHECK((size_t)r <= limit);
	if (q.q_ok && m.qdcount == 1)
		CHECK(!memcmp(reply + DNS_HLEN, msg + DNS_HLEN,
			      q.q_end - DNS_HLEN));
}

static void do_template_query(const uint8_t *b)
{
	unsigned int e = b[3];

	w_reset(&w);
	w_hdr(&w, (unsigned int)(b[0] >> 6) << 8 | b[2], DNS_F_RD, 1, 0, 0,
	      e & 7 ? 1 : 0);
	w_question(&w, names[b[1] & 15], types[b[1] >> 4], DNS_CLASS_IN);
	if (e & 7)
		w_opt(&w, opt_sizes[e & 7],
		      (e & 8 ? 0x00010000u : 0) | (e & 16 ? DNS_OPT_DO : 0));
	do_query(b[0], w.b, w.n);
}

static uint32_t server_of(uint8_t sb)
{
	if ((sb & 4) || !fz.cfg.n_upstream)
		return htonl(0x09090909);
	return fz.cfg.upstream[(sb & 3) % fz.cfg.n_upstream];
}

static const struct sent *recent(unsigned int back)
{
	if (!fz.n_sent)
		return NULL;
	back %= (unsigned int)MIN(fz.n_sent, (uint64_t)RECENT);
	return &fz.recent[(fz.n_sent - 1 - back) % RECENT];
}

/* Records of one answer of type @type, owner compressed to the question. */
static void w_answer(uint16_t type, uint32_t ttl, size_t txt)
{
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	size_t rd, left;

	w_ptr(&w, DNS_HLEN);
	w_rr_fixed(&w, type, DNS_CLASS_IN, ttl, 0);
	rd = w.n;
	switch (type) {
	case DNS_TYPE_A:
		w_u32(&w, 0xc0000201);
		break;
	case DNS_TYPE_AAAA:
		w_bytes(&w, aaaa, sizeof(aaaa));
		break;
	case DNS_TYPE_TXT:
		left = txt ? txt : 1;
		while (left) {
			size_t k = MIN(left, (size_t)255);
			uint8_t chunk[255];

			memset(chunk, 't', k);
			w_u8(&w, (unsigned int)k);
			w_bytes(&w, chunk, k);
			left -= k;
		}
		break;
	case DNS_TYPE_MX:
		w_u16(&w, 10);
		w_ptr(&w, DNS_HLEN);
		break;
	case DNS_TYPE_CNAME:
	case DNS_TYPE_NS:
	case DNS_TYPE_PTR:
		w_labels(&w, "target");
		w_ptr(&w, DNS_HLEN);
		break;
	default:
		w_u16(&w, 0xabcd);
		break;
	}
	w.b[rd - 2] = (uint8_t)((w.n - rd) >> 8);
	w.b[rd - 1] = (uint8_t)(w.n - rd);
}

static void do_template_answer(const uint8_t *b)
{
	const struct sent *s = recent(b[0]);
	unsigned int an = b[2] & 3, i;
	struct dns_msg q;
	size_t cut;

	if (!s || dns_msg_parse(s->msg, s->len, &q) != 0)
		return;
	w_reset(&w);
	w_bytes(&w, s->msg, q.q_end);
	w_set16(&w, 2, DNS_F_QR | DNS_F_RD | DNS_F_RA | (b[1] & 15) |
			       (b[1] & 16 ? DNS_F_TC : 0));
	w_set16(&w, 6, an);
	w_set16(&w, 8, b[2] & 32 ? 1 : 0);
	w_set16(&w, 10, (b[2] & 64 ? 1u : 0u) + (b[1] & 32 ? 1u : 0u));
	if (b[1] & 128)
		for (i = DNS_HLEN; i < q.q_end - DNS_Q_FIXED_LEN; i++)
			if (w.b[i] >= 'a' && w.b[i] <= 'z')
				w.b[i] = (uint8_t)(w.b[i] - 32);
	for (i = 0; i < an; i++)
		w_answer(an_types[b[2] >> 2 & 7], ttls[b[3] & 7], (size_t)b[4] * 8);
	if (b[2] & 32)
		w_rr_soa(&w, "test", ttls[b[3] >> 3 & 7], minimums[b[3] >> 6]);
	if (b[2] & 64)
		w_answer(DNS_TYPE_A, ttls[b[3] & 7], 0);
	if (b[1] & 32)
		w_opt(&w, 1232, 0);
	cut = MIN((size_t)b[5], w.n);
	if (b[6] && b[6] < w.n - cut)
		w.b[b[6]] ^= 0x5a;
	dns_upstream_input(fz.d, b[1] & 64 ? server_of(4) : s->server, w.b,
			   w.n - cut, fz.now);
}

static void do_echo(unsigned int an, const uint8_t *tail, size_t n)
{
	const struct sent *s = recent(0);

	if (!s)
		return;
	w_reset(&w);
	w_bytes(&w, s->msg, s->len);
	w_set16(&w, 2, DNS_F_QR | DNS_F_RD | DNS_F_RA);
	w_set16(&w, 6, an);
	w_bytes(&w, tail, n);
	dns_upstream_input(fz.d, s->server, w.b, w.n, fz.now);
}

static int setup(const uint8_t h[4])
{
	static const uint32_t ups[4] = { 0xc0000235, 0xc6336435, 0xcb007135,
					 0xc0000236 };
	unsigned int i;

	memset(&fz, 0, sizeof(fz));
	fz.cfg = (struct dns_cfg){
		.n_upstream = n_ups[h[0] & 3],
		.gateway_addr = htonl(0x0a000201),
		.host_addr = h[1] & 1 ? 0 : htonl(0x0a000202),
		.domain = h[1] & 2 ? "lan.test" : NULL,
		.local_addr = on_local_addr,
		.local_name = on_local_name,
		.send_upstream = on_upstream,
		.send_reply = on_reply,
		.cache_entries = h[0] & 4 ? 8 : 64,
		.cache_bytes = h[0] & 4 ? 2048 : 16384,
		.min_ttl = h[0] & 8 ? 30 : 0,
		.max_ttl = h[1] & 4 ? 120 : 0,
		.neg_max_ttl = h[0] & 64 ? 60 : 0,
		.max_inflight = inflights[h[0] >> 4 & 3],
		.timeout_ms = h[0] & 128 ? 200 : 0,
		.seed = 1 + (uint64_t)h[3],
	};
	for (i = 0; i < fz.cfg.n_upstream; i++)
		fz.cfg.upstream[i] = htonl(ups[i]);
	fz.now = (uint64_t)h[2] * NSEC_PER_SEC;
	return dns_create(&fz.d, &fz.cfg);
}

static void print_trace(void)
{
	const struct dns_stats *s = dns_get_stats(fz.d);

	fprintf(stderr,
		"fuzz_dns: udp %llu tcp %llu local %llu hits %llu misses %llu "
		"fwd %llu coal %llu dup %llu sent %llu answers %llu errs %llu "
		"servfail %llu formerr %llu trunc %llu bad %llu drops %llu "
		"full %llu timeouts %llu replies %llu cache %u\n",
		(unsigned long long)s->queries_udp,
		(unsigned long long)s->queries_tcp,
		(unsigned long long)s->local,
		(unsigned long long)s->cache_hits,
		(unsigned long long)s->cache_misses,
		(unsigned long long)s->forwarded,
		(unsigned long long)s->coalesced,
		(unsigned long long)s->duplicates,
		(unsigned long long)s->upstream_sent,
		(unsigned long long)s->upstream_answers,
		(unsigned long long)s->upstream_errors,
		(unsigned long long)s->servfail,
		(unsigned long long)s->formerr,
		(unsigned long long)s->truncated,
		(unsigned long long)s->bad_answers,
		(unsigned long long)s->drops,
		(unsigned long long)s->inflight_full,
		(unsigned long long)s->timeouts,
		(unsigned long long)s->replies, s->cache_entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 4;
	unsigned int rec, i;

	if (size < 4)
		return 0;
	trace = getenv("FUZZ_DNS_TRACE") != NULL;
	CHECK(setup(data) == 0);

	for (rec = 0; rec < MAX_RECORDS && off < size; rec++) {
		uint8_t ctl = data[off++];
		const uint8_t *b = data + off;
		size_t left = size - off, n;

		fz.now += steps[ctl >> 3 & 7];
		switch (ctl & 7) {
		case 0:
			if (ctl & 64) {
				if (left < 3)
					goto out;
				n = (size_t)b[1] << 8 | b[2];
				if (left - 3 < n)
					goto out;
				do_query(b[0], b + 3, n);
				off += 3 + n;
			} else {
				if (left < 2 || left - 2 < b[1])
					goto out;
				do_query(b[0], b + 2, b[1]);
				off += 2 + (size_t)b[1];
			}
			break;
		case 1:
			if (left < 4)
				goto out;
			do_template_query(b);
			off += 4;
			break;
		case 2: {
			uint8_t msg[256];
			const struct sent *s = recent(0);

			if (left < 2 || left - 2 < b[1])
				goto out;
			n = b[1];
			memcpy(msg, b + 2, n);
			if ((ctl & 64) && s && n >= 2) {
				msg[0] = (uint8_t)(s->id >> 8);
				msg[1] = (uint8_t)s->id;
			}
			dns_upstream_input(fz.d, server_of(b[0]), msg, n, fz.now);
			off += 2 + n;
			break;
		}
		case 3:
			if (left < 7)
				goto out;
			do_template_answer(b);
			off += 7;
			break;
		case 4:
			dns_tick(fz.d, fz.now);
			break;
		case 5:
			for (i = 0; i < 10; i++) {
				fz.now += 100 * NSEC_PER_MSEC;
				dns_tick(fz.d, fz.now);
			}
			break;
		case 6:
			if (left < 1 || left - 1 < b[0])
				goto out;
			do_echo(ctl >> 6, b + 1, b[0]);
			off += 1 + (size_t)b[0];
			break;
		default:
			fz.now += 6 * NSEC_PER_SEC;
			dns_tick(fz.d, fz.now);
			break;
		}
		check_step();
	}
out:
	/* Everything in flight ends within the query lifetime plus a try:
	 * each waiting client got exactly one reply. */
	for (i = 0; i < 80; i++) {
		fz.now += 100 * NSEC_PER_MSEC;
		dns_tick(fz.d, fz.now);
	}
	check_step();
	CHECK(dns_get_stats(fz.d)->inflight == 0);
	CHECK(fz.n_out == 0);
	if (trace)
		print_trace();
	dns_destroy(fz.d);
	fz.d = NULL;
	return 0;
}
