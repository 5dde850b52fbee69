// SPDX-License-Identifier: MIT
/*
 * bench_nat - the NAT engine alone (no I/O): established-flow translation,
 * new-flow setup, expiry and memory, with 1 K, 100 K and 1 M flows.
 *
 * Flow population: I internal endpoints (10.0.x.y:40000) times R remote
 * endpoints (198.18.x.y:443 for TCP, :53 for UDP), one external address
 * 203.0.113.1 with the default 16 K-port range. With endpoint-independent
 * mapping each internal endpoint has one mapping whatever it talks to, so
 * 1 M flows need only I = 1024 mappings (1024 x 1024); 100 K flows are
 * 128 x 800, 1 K flows 32 x 32. The table is created with max_flows = N.
 *
 * Method. Every figure drives nat_process() with batches of 32 frames in
 * a random flow order (a random permutation of the N flows, walked
 * cyclically), so the table is hit randomly as a busy gateway's is. Frames
 * are not pre-built per flow (1 M x 2 directions would not fit in cache
 * or be fair): one 64-byte template frame per (protocol, direction) is
 * copied into a per-batch buffer and the flow's addresses and ports are
 * patched into it and into a copy of its parsed metadata. The NAT
 * rewrites frames in place, so this happens for every packet; the same
 * loop without nat_process() is timed separately and reported as harness
 * overhead, and the NAT's own cost is the difference. Time is passed in
 * (1 us per batch) as a worker would read it once per batch.
 *
 * TCP flows are set up with SYN, SYN-ACK, ACK and then measured with ACK
 * segments both ways (ESTABLISHED); UDP flows are answered once before
 * measurement (assured). New-flow rate: the first packets of all N flows
 * (SYN or UDP) into an empty table. Expiry: after the timeouts, nat_tick()
 * until nothing is pending, per flow expired. Memory: ct_memory() per
 * table entry, and the rest of the NAT (mappings, their index, port
 * bitmaps, fragment table) from the growth of the resident set.
 *
 * Prints figures, with the targets of docs/architecture.md "Performance
 * targets" and ratios where there is one; never fails on speed (exit 1 only if the NAT misbehaves).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "ct/table.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/tcp.h"

#define BATCH		32
#define RUN_NS		250000000ULL	/* per timed figure */
#define PASS		64		/* batches between clock reads */
#define FRAME_LEN	64
#define INT_PORT	40000
#define EXT_ADDR	0xcb007101u	/* 203.0.113.1 */
#define ISN_IN		1000u		/* inside host's initial sequence */
#define ISN_OUT		5000u		/* remote's */
#define TARGET_MPPS_1M	20.0
#define TARGET_MPPS_1K	40.0
#define TARGET_SETUP	2.0	/* M flows/s */
#define TARGET_BYTES	128.0

/* A template frame: bytes, parsed once, where addresses and ports are. */
struct tpl {
	uint8_t frame[FRAME_LEN];
	struct pkt_meta m;
};

struct pop {
	uint32_t n_int, n_rem;
};

struct bench {
	struct nat *nat;
	uint8_t proto;
	uint16_t rem_port;	/* network order */
	uint32_t n;		/* flows */
	uint32_t *perm;		/* flows in random order, (i << 11 | r) */
	uint32_t pos;
	uint16_t *ext_port;	/* per internal endpoint, network order */
	uint64_t now;
	uint8_t buf[BATCH][FRAME_LEN];
	struct nat_pkt pk[BATCH];
};

enum dir { OUT, IN };	/* inside -> outside, outside -> inside */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static int failed;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void die(const char *what)
{
	(void)fprintf(stderr, "bench_nat: %s\n", what);
	exit(1);
}

static uint32_t int_addr(uint32_t i)
{
	return htonl(0x0a000000u | (i + 1));	/* 10.0.x.y */
}

static uint32_t rem_addr(uint32_t r)
{
	return htonl(0xc6120000u | (r + 1));	/* 198.18.x.y */
}

static void make_tpl(struct tpl *t, uint8_t proto, uint8_t flags, uint32_t seq,
		     uint32_t ack)
{
	static const uint8_t payload[FRAME_LEN];
	struct pkt_spec s = {
		.eth_dst = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 },
		.eth_src = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.src4 = int_addr(0), .dst4 = rem_addr(0),
		.proto = proto, .sport = INT_PORT, .dport = 443,
		.tcp_flags = flags, .seq = seq, .ack = ack,
		.payload = payload,
		.payload_len = FRAME_LEN - 14 - 20 - (proto == IPPROTO_NUM_TCP ? 20 : 8),
	};
	int n = pkt_build(&s, t->frame, sizeof(t->frame));

	if (n != FRAME_LEN || pkt_parse(t->frame, FRAME_LEN, 0, &t->m) != PKT_DROP_OK)
		die("template frame");
}

/* The flow's packet into batch slot k: template, addresses, ports, meta. */
static inline void patch(struct bench *b, unsigned int k, const struct tpl *t,
			 enum dir d, uint32_t v)
{
	uint32_t i = v >> 11, r = v & 2047;
	uint8_t *f = b->buf[k];
	struct nat_pkt *p = &b->pk[k];
	uint32_t sa = d == OUT ? int_addr(i) : rem_addr(r);
	uint32_t da = d == OUT ? rem_addr(r) : htonl(EXT_ADDR);
	uint16_t sp = d == OUT ? htons(INT_PORT) : b->rem_port;
	uint16_t dp = d == OUT ? b->rem_port : b->ext_port[i];

	memcpy(f, t->frame, FRAME_LEN);
	memcpy(f + t->m.l3_off + 12, &sa, 4);
	memcpy(f + t->m.l3_off + 16, &da, 4);
	memcpy(f + t->m.l4_off, &sp, 2);
	memcpy(f + t->m.l4_off + 2, &dp, 2);
	p->meta = t->m;
	p->meta.sport = sp;
	p->meta.dport = dp;
	p->flags = 0;
}

static inline void fill(struct bench *b, const struct tpl *t, enum dir d,
			unsigned int cnt)
{
	for (unsigned int k = 0; k < cnt; k++) {
		patch(b, k, t, d, b->perm[b->pos]);
		if (++b->pos == b->n)
			b->pos = 0;
	}
}

static uint64_t forwarded(const struct bench *b)
{
	const struct nat_stats *st = nat_get_stats(b->nat);

	return st->translated[0] + st->translated[1] + st->local;
}

/* Every flow once, in the permutation's order. Return: elapsed ns. */
static uint64_t pass(struct bench *b, const struct tpl *t, enum dir d)
{
	uint64_t before = forwarded(b), t0 = now_ns(), t1;

	b->pos = 0;
	for (uint32_t done = 0; done < b->n; done += BATCH) {
		unsigned int cnt = b->n - done < BATCH ? b->n - done : BATCH;

		fill(b, t, d, cnt);
		nat_process(b->nat, b->pk, cnt, d == OUT ? NAT_INSIDE : NAT_OUTSIDE,
			    b->now);
		b->now += NSEC_PER_USEC;
	}
	t1 = now_ns();
	if (forwarded(b) - before != b->n) {
		(void)fprintf(stderr, "bench_nat: %llu of %u packets dropped\n",
			      (unsigned long long)(b->n - (forwarded(b) - before)), b->n);
		failed = 1;
	}
	return t1 - t0;
}

/*
 * Translate for RUN_NS (or only patch frames, @nat false). Return: ns per
 * packet.
 */
static double run(struct bench *b, const struct tpl *t, enum dir d, bool nat)
{
	uint64_t pkts = 0, before = forwarded(b), t0 = now_ns(), t1;
	enum nat_side side = d == OUT ? NAT_INSIDE : NAT_OUTSIDE;

	do {
		for (unsigned int j = 0; j < PASS; j++) {
			fill(b, t, d, BATCH);
			if (nat)
				nat_process(b->nat, b->pk, BATCH, side, b->now);
			else
				__asm__ volatile("" : : "r"(b->pk) : "memory");
			b->now += NSEC_PER_USEC;
		}
		pkts += (uint64_t)PASS * BATCH;
		t1 = now_ns();
	} while (t1 - t0 < RUN_NS);
	if (nat && forwarded(b) - before != pkts) {
		(void)fprintf(stderr, "bench_nat: drops while translating\n");
		failed = 1;
	}
	return (double)(t1 - t0) / (double)pkts;
}

static void print_target(double v, double target, const char *unit)
{
	bool higher = target != TARGET_BYTES;

	printf("  [target %s %g %s: ratio %.2f]\n", higher ? ">=" : "<=", target,
	       unit, higher ? v / target : target / v);
}

static void bench_one(const struct pop *pp, uint8_t proto)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct nat_config cfg = { .n_ext_addrs = 1 };
	bool tcp = proto == IPPROTO_NUM_TCP;
	struct tpl first, reply, ack, est_in;
	double ns_out, ns_in, ov_out, ov_in, setup_s;
	size_t rss0, rss1, ctm;
	uint64_t t0, t1, expired = 0;
	struct ct_table *ct;

	if (!b)
		die("out of memory");
	b->proto = proto;
	b->n = pp->n_int * pp->n_rem;
	b->rem_port = htons(tcp ? 443 : 53);
	b->now = 1000 * NSEC_PER_SEC;
	b->perm = malloc((size_t)b->n * sizeof(*b->perm));
	b->ext_port = calloc(pp->n_int, sizeof(*b->ext_port));
	if (!b->perm || !b->ext_port)
		die("out of memory");
	for (uint32_t f = 0; f < b->n; f++)
		b->perm[f] = (f / pp->n_rem) << 11 | (f % pp->n_rem);
	for (uint32_t f = b->n - 1; f > 0; f--) {
		uint32_t j = (uint32_t)(rng_next() % (f + 1)), x = b->perm[f];

		b->perm[f] = b->perm[j];
		b->perm[j] = x;
	}
	for (unsigned int k = 0; k < BATCH; k++)
		b->pk[k].frame = b->buf[k];
	make_tpl(&first, proto, tcp ? TCP_SYN : 0, ISN_IN, 0);
	make_tpl(&reply, proto, tcp ? TCP_SYN | TCP_ACK : 0, ISN_OUT, ISN_IN + 1);
	make_tpl(&ack, proto, TCP_ACK, ISN_IN + 1, ISN_OUT + 1);
	make_tpl(&est_in, proto, TCP_ACK, ISN_OUT + 1, ISN_IN + 1);

	cfg.ext_addrs[0] = htonl(EXT_ADDR);
	cfg.max_flows = b->n;
	cfg.seed = 42;
	rss0 = rss_bytes();
	if (nat_create(&b->nat, &cfg) != 0)
		die("nat_create");
	ct = nat_ct(b->nat);

	/* New flows: the first packet of every flow into the empty table. */
	setup_s = (double)pass(b, &first, OUT) / 1e9;
	if (ct_count(ct) != b->n)
		die("not every flow was created");
	/* Learn each internal endpoint's external port (EIM: one per endpoint). */
	for (uint32_t i = 0; i < pp->n_int; i++) {
		patch(b, 0, &first, OUT, i << 11);	/* a retransmitted first packet */
		if (nat_process(b->nat, b->pk, 1, NAT_INSIDE, b->now) != 1)
			die("no external port");
		memcpy(&b->ext_port[i], b->buf[0] + first.m.l4_off, 2);
	}
	(void)pass(b, &reply, IN);
	if (tcp)
		(void)pass(b, &ack, OUT);
	rss1 = rss_bytes();

	ov_out = run(b, tcp ? &ack : &first, OUT, false);
	ns_out = run(b, tcp ? &ack : &first, OUT, true);
	ov_in = run(b, tcp ? &est_in : &reply, IN, false);
	ns_in = run(b, tcp ? &est_in : &reply, IN, true);

	printf("%u flows (%u internal x %u remote endpoints), %s:\n", b->n,
	       pp->n_int, pp->n_rem, tcp ? "TCP" : "UDP");
	for (unsigned int d = 0; d < 2; d++) {
		double tot = d ? ns_in : ns_out, ov = d ? ov_in : ov_out;
		double net = tot - ov;

		printf("  %-18s %6.1f ns/pkt with harness (patching %4.1f ns) -> NAT %6.1f ns/pkt = %6.2f Mpps",
		       d ? "outside->inside" : "inside->outside", tot, ov, net,
		       1e3 / net);
		if (b->n >= 1000000 || b->n <= 1024)
			print_target(1e3 / net, b->n <= 1024 ? TARGET_MPPS_1K
							      : TARGET_MPPS_1M, "Mpps");
		else
			printf("\n");
	}
	printf("  %-18s %6.2f M flows/s with harness, %.2f M/s NAT alone (%.0f ns/flow)",
	       "new flows", b->n / setup_s / 1e6,
	       1e3 / (setup_s * 1e9 / b->n - ov_out), setup_s * 1e9 / b->n - ov_out);
	print_target(1e3 / (setup_s * 1e9 / b->n - ov_out), TARGET_SETUP, "M/s");

	/* Expiry: past every timeout, collect until nothing is pending. */
	b->now += 3ULL * 3600 * NSEC_PER_SEC;
	t0 = now_ns();
	while (nat_tick_pending(b->nat, b->now))
		expired += nat_tick(b->nat, b->now, 1u << 16);
	t1 = now_ns();
	if (expired != b->n || ct_count(ct) != 0 || nat_get_stats(b->nat)->mappings)
		die("expiry left flows or mappings behind");
	printf("  %-18s %6.1f ns per expired flow (%llu flows in %.1f ms)\n",
	       "expiry", (double)(t1 - t0) / (double)expired,
	       (unsigned long long)expired, (double)(t1 - t0) / 1e6);

	ctm = ct_memory(ct);
	printf("  %-18s %6.1f bytes/flow of table state (ct_memory %.1f MiB / %u)",
	       "memory", (double)ctm / ct_capacity(ct), (double)ctm / (1 << 20),
	       ct_capacity(ct));
	print_target((double)ctm / ct_capacity(ct), TARGET_BYTES, "B");
	/* The rest (mapping objects and their index, sized per flow; port
	 * bitmaps; fragment table) is private: the resident-set growth over
	 * creation and set-up minus the table tells it, for large tables. */
	printf("  %-18s %6.1f bytes/flow resident after set-up (%.1f MiB), %.1f beyond the table\n",
	       "", (double)(rss1 - rss0) / b->n, (double)(rss1 - rss0) / (1 << 20),
	       rss1 - rss0 > ctm ? (double)(rss1 - rss0 - ctm) / b->n : 0.0);
	nat_destroy(b->nat);
	free(b->ext_port);
	free(b->perm);
	free(b);
}

/* usage: bench_nat [1k|100k|1m [tcp|udp]]  (default: all, for profiling one) */
int main(int argc, char **argv)
{
	static const struct pop pops[] = { { 32, 32 }, { 128, 800 }, { 1024, 1024 } };
	static const char *const names[] = { "1k", "100k", "1m" };
	uint64_t t0 = now_ns();

	printf("bench_nat: nat_process() alone, batches of %d, random flow order, %d-byte frames\n",
	       BATCH, FRAME_LEN);
	for (unsigned int i = 0; i < sizeof(pops) / sizeof(pops[0]); i++) {
		if (argc > 1 && strcmp(argv[1], names[i]) != 0)
			continue;
		if (argc < 3 || strcmp(argv[2], "tcp") == 0)
			bench_one(&pops[i], IPPROTO_NUM_TCP);
		if (argc < 3 || strcmp(argv[2], "udp") == 0)
			bench_one(&pops[i], IPPROTO_NUM_UDP);
	}
	printf("total %.1f s\n", (double)(now_ns() - t0) / 1e9);
	return failed;
}
