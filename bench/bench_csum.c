// SPDX-License-Identifier: MIT
/*
 * bench_csum - throughput of csum_partial() against the naive reference,
 * and the cost of an RFC 1624 incremental update against recomputing.
 *
 * Each figure: one warm-up batch, then batches doubled in size until one
 * takes >= 10 ms, then that batch size repeated until ~0.3 s have passed.
 * Every result feeds the next iteration or a volatile sink, so the compiler
 * cannot drop or hoist the work. Prints figures only; never fails on speed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/compiler.h"
#include "pkt/csum.h"
#include "ref/csum_ref.h"

#define RUN_NS	 300000000ULL
#define BATCH_NS 10000000ULL
#define PKT_LEN	 1500
/* Field offsets in the 1500-byte packet: an IPv4/TCP-like layout. */
#define CSUM_OFF  36
#define PORT_OFF  34
#define ADDR4_OFF 26
#define ADDR6_OFF 8
/*
 * Updates cycle through a batch of packets, as NAT does over a burst: on a
 * single packet, each update would wait for the previous one's stores
 * (store-to-load forwarding) and measure that latency instead.
 */
#define NPKT 32

static unsigned char buf[65536 + 64] __cacheline_aligned;
static unsigned char pkts[NPKT][PKT_LEN] __cacheline_aligned;
/* New addresses come from a table, as NAT takes them from a mapping. */
static unsigned char addrs[NPKT][16];
static size_t cur_len;
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

typedef uint64_t (*bench_fn)(uint64_t iters);

/* Return: nanoseconds per iteration of @fn. */
static double measure(bench_fn fn)
{
	uint64_t iters = 1, total_iters = 0, t, start;

	sink += fn(iters); /* warm up caches and branch predictors */
	for (;;) {
		uint64_t t0 = now_ns();

		sink += fn(iters);
		if (now_ns() - t0 >= BATCH_NS)
			break;
		iters *= 2;
	}
	start = now_ns();
	do {
		sink += fn(iters);
		total_iters += iters;
		t = now_ns();
	} while (t - start < RUN_NS);
	return (double)(t - start) / (double)total_iters;
}

static __noinline uint64_t run_partial(uint64_t iters)
{
	uint32_t s = 0;
	uint64_t i;

	/* Feed one bit back so that calls cannot overlap or be merged. */
	for (i = 0; i < iters; i++)
		s = csum_partial(buf, cur_len, s & 1);
	return s;
}

static __noinline uint64_t run_ref(uint64_t iters)
{
	uint64_t s = 0, i;

	for (i = 0; i < iters; i++) {
		buf[0] = (unsigned char)s;
		s += csum_ref(buf, cur_len);
	}
	return s;
}

/* Each update: read field and checksum, write both back, as NAT does. */
static __noinline uint64_t run_replace2(uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		unsigned char *pkt = pkts[i % NPKT];
		uint16_t old, ck, new_ = (uint16_t)(i * 0x9e37u);

		memcpy(&old, pkt + PORT_OFF, 2);
		memcpy(&ck, pkt + CSUM_OFF, 2);
		memcpy(pkt + PORT_OFF, &new_, 2);
		ck = csum_replace2(ck, old, new_);
		memcpy(pkt + CSUM_OFF, &ck, 2);
	}
	return pkts[0][CSUM_OFF];
}

static __noinline uint64_t run_replace4(uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		unsigned char *pkt = pkts[i % NPKT];
		uint32_t old, new_;
		uint16_t ck;

		memcpy(&new_, addrs[(i * 7) % NPKT], 4);
		memcpy(&old, pkt + ADDR4_OFF, 4);
		memcpy(&ck, pkt + CSUM_OFF, 2);
		memcpy(pkt + ADDR4_OFF, &new_, 4);
		ck = csum_replace4(ck, old, new_);
		memcpy(pkt + CSUM_OFF, &ck, 2);
	}
	return pkts[0][CSUM_OFF];
}

static __noinline uint64_t run_replace16(uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		unsigned char *pkt = pkts[i % NPKT];
		const unsigned char *new_ = addrs[(i * 7) % NPKT];
		unsigned char old[16];
		uint16_t ck;

		memcpy(old, pkt + ADDR6_OFF, 16);
		memcpy(&ck, pkt + CSUM_OFF, 2);
		memcpy(pkt + ADDR6_OFF, new_, 16);
		ck = csum_replace16(ck, old, new_);
		memcpy(pkt + CSUM_OFF, &ck, 2);
	}
	return pkts[0][CSUM_OFF];
}

/* The alternative to an update: change the field, sum the whole packet. */
static uint64_t run_recompute(uint64_t iters, int naive)
{
	uint64_t i;

	for (i = 0; i < iters; i++) {
		unsigned char *pkt = pkts[i % NPKT];
		uint32_t new_ = (uint32_t)(i * 0x9e3779b9u);
		uint16_t ck, zero = 0;

		memcpy(pkt + ADDR4_OFF, &new_, 4);
		memcpy(pkt + CSUM_OFF, &zero, 2);
		ck = naive ? csum_ref(pkt, PKT_LEN) :
			     csum_finish(csum_partial(pkt, PKT_LEN, 0));
		memcpy(pkt + CSUM_OFF, &ck, 2);
	}
	return pkts[0][CSUM_OFF];
}

static __noinline uint64_t run_recompute_ref(uint64_t iters)
{
	return run_recompute(iters, 1);
}

static __noinline uint64_t run_recompute_fast(uint64_t iters)
{
	return run_recompute(iters, 0);
}

int main(void)
{
	static const size_t sizes[] = { 64, 1500, 65536 };
	double ref_ns;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + (i >> 8));
	for (i = 0; i < NPKT; i++) {
		memcpy(pkts[i], buf + 64 * i, PKT_LEN);
		memcpy(addrs[i], buf + 4096 + 16 * i, 16);
	}

	printf("csum_partial vs csum_ref (naive RFC 1071), GB/s:\n");
	printf("%8s %14s %14s %8s\n", "bytes", "csum_partial", "csum_ref",
	       "ratio");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		double fast, ref;

		cur_len = sizes[i];
		fast = (double)cur_len / measure(run_partial);
		ref = (double)cur_len / measure(run_ref);
		printf("%8zu %14.2f %14.2f %7.1fx\n", cur_len, fast, ref,
		       fast / ref);
	}

	printf("\nchecksum update, %d-byte packets, %d in turn, ns per update:\n",
	       PKT_LEN, NPKT);
	ref_ns = measure(run_recompute_ref);
	printf("  %-36s %8.2f\n", "csum_replace2 (port)",
	       measure(run_replace2));
	printf("  %-36s %8.2f\n", "csum_replace4 (IPv4 address)",
	       measure(run_replace4));
	printf("  %-36s %8.2f\n", "csum_replace16 (IPv6 address)",
	       measure(run_replace16));
	printf("  %-36s %8.2f\n", "recompute with csum_partial",
	       measure(run_recompute_fast));
	printf("  %-36s %8.2f\n", "recompute with csum_ref (naive)", ref_ns);
	return 0;
}
