// SPDX-License-Identifier: MIT
/*
 * bench_ct_hash - lookups, inserts and deletes of the cuckoo index
 * (ct/hash) with 1 K, 100 K, 1 M and 4 M values at 75% load.
 *
 * Set-up as the flow table will use the index: each value is the index of
 * a 64-byte object (one cache line: the 16-byte key plus room for flow
 * state) in a separate array, mmap()ed with a huge page hint like the
 * index. The keys looked up come from a stream of 1 M copies of stored keys
 * in random order, as packet headers would (read in order, never the object
 * itself), so a hit costs the SipHash of the key, the bucket line and the
 * object line: every lookup is a hit.
 *
 * Two lookup modes: one at a time (hash, lookup, next), and batched (hash
 * 32 keys and prefetch their primary buckets, then look the 32 up), the
 * way a worker handles a burst. A figure is the rate over ~0.4 s of
 * repeated passes. Two more figures split a lookup's cost: the batched
 * lookup on precomputed hashes (the index and the object alone), and
 * SipHash alone. Inserts and deletes are timed on precomputed hashes (the
 * lookup that precedes an insert already has it), filling from empty to
 * 75% and emptying again in random order. Prints figures only; never
 * fails on speed.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/compiler.h"
#include "ct/hash.h"

#define RUN_NS	    400000000ULL /* per lookup figure */
#define CHURN_NS    200000000ULL /* per insert/delete figure */
#define NQUERY	    (1u << 20)
#define PASS	    (1u << 16)	 /* lookups between clock reads */
#define BATCH	    32
#define BENCH_SEED  0x243f6a8885a308d3ULL

/* A flow table entry stand-in: key first, one cache line in all. */
struct obj {
	uint64_t k[2];
	uint8_t state[48];
} __cacheline_aligned;

struct qkey {
	uint64_t k[2];
};

static_assert(sizeof(struct obj) == CACHE_LINE_SIZE, "one line per object");

struct bench {
	struct ct_hash h;
	struct obj *objs;
	size_t objs_len;
	uint64_t *hv;	  /* hash of each object's key */
	uint32_t *dval;	  /* the values in random order, for deletes */
	uint64_t *dhv;	  /* and their hashes, in the same order */
	struct qkey *q;	  /* NQUERY keys to look up */
	uint64_t *qh;	  /* their hashes, for the index-only figure */
	uint32_t n;
};

static volatile uint64_t sink;
static uint64_t rng_state = BENCH_SEED;

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
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static __always_inline bool obj_match(const void *ctx, uint32_t val,
				      const void *key)
{
	const struct obj *o = (const struct obj *)ctx + val;
	const struct qkey *k = key;

	return o->k[0] == k->k[0] && o->k[1] == k->k[1];
}

static void *map_big(size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(m, len, MADV_HUGEPAGE);
#endif
	return m;
}

static void die(const char *what)
{
	(void)fprintf(stderr, "bench_ct_hash: %s\n", what);
	exit(1);
}

static void bench_setup(struct bench *b, uint32_t n)
{
	uint32_t i;

	memset(b, 0, sizeof(*b));
	b->n = n;
	b->objs_len = (size_t)n * sizeof(*b->objs);
	b->objs = map_big(b->objs_len);
	b->hv = malloc((size_t)n * sizeof(*b->hv));
	b->dval = malloc((size_t)n * sizeof(*b->dval));
	b->dhv = malloc((size_t)n * sizeof(*b->dhv));
	b->q = malloc((size_t)NQUERY * sizeof(*b->q));
	b->qh = malloc((size_t)NQUERY * sizeof(*b->qh));
	if (!b->objs || !b->hv || !b->dval || !b->dhv || !b->q || !b->qh)
		die("out of memory");
	if (ct_hash_init(&b->h, n, NULL, rng_next()))
		die("ct_hash_init failed");
	for (i = 0; i < n; i++) {
		b->objs[i].k[0] = rng_next();
		/* The index in the top bits keeps keys distinct. */
		b->objs[i].k[1] = (rng_next() >> 32) | ((uint64_t)i << 32);
		memset(b->objs[i].state, 0, sizeof(b->objs[i].state));
		b->hv[i] = ct_hash_key(&b->h, b->objs[i].k, 16);
		b->dval[i] = i;
	}
	for (i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rng_next() % (i + 1)), t = b->dval[i];

		b->dval[i] = b->dval[j];
		b->dval[j] = t;
	}
	/* Sequential hashes: time the index, not a gather from hv[]. */
	for (i = 0; i < n; i++)
		b->dhv[i] = b->hv[b->dval[i]];
	for (i = 0; i < NQUERY; i++) {
		uint32_t v = (uint32_t)(rng_next() % n);

		b->q[i].k[0] = b->objs[v].k[0];
		b->q[i].k[1] = b->objs[v].k[1];
		b->qh[i] = b->hv[v];
	}
}

static void bench_teardown(struct bench *b)
{
	ct_hash_destroy(&b->h);
	(void)munmap(b->objs, b->objs_len);
	free(b->hv);
	free(b->dval);
	free(b->dhv);
	free(b->q);
	free(b->qh);
}

static void insert_all(struct bench *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		if (ct_hash_insert(&b->h, b->hv[i], i))
			die("insert failed at 75% load");
	}
}

static void delete_all(struct bench *b)
{
	for (uint32_t i = 0; i < b->n; i++) {
		if (ct_hash_delete(&b->h, b->dhv[i], b->dval[i]))
			die("delete failed");
	}
}

/* Rates (M/s) of filling to 75% and emptying again, repeated for ~0.2 s. */
static void bench_churn(struct bench *b, double *ins, double *del)
{
	uint64_t t_ins = 0, t_del = 0, ops = 0;

	do {
		uint64_t t0 = now_ns(), t1;

		insert_all(b);
		t1 = now_ns();
		delete_all(b);
		t_ins += t1 - t0;
		t_del += now_ns() - t1;
		ops += b->n;
	} while (t_ins + t_del < CHURN_NS);
	*ins = (double)ops * 1e3 / (double)t_ins;
	*del = (double)ops * 1e3 / (double)t_del;
}

static __noinline uint64_t run_single(const struct bench *b, uint32_t start)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < PASS; i++) {
		const struct qkey *q = &b->q[(start + i) & (NQUERY - 1)];
		uint64_t hv = ct_hash_key(&b->h, q, sizeof(*q));

		sum += ct_hash_lookup(&b->h, hv, q, obj_match, b->objs);
	}
	return sum;
}

static __noinline uint64_t run_batch(const struct bench *b, uint32_t start)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < PASS; i += BATCH) {
		const struct qkey *q = &b->q[(start + i) & (NQUERY - 1)];
		uint64_t hv[BATCH];
		unsigned int j;

		for (j = 0; j < BATCH; j++) {
			hv[j] = ct_hash_key(&b->h, &q[j], sizeof(*q));
			ct_hash_prefetch(&b->h, hv[j]);
		}
		for (j = 0; j < BATCH; j++)
			sum += ct_hash_lookup(&b->h, hv[j], &q[j], obj_match,
					      b->objs);
	}
	return sum;
}

/* The batched lookup with hashes precomputed: the index's own cost. */
static __noinline uint64_t run_index_only(const struct bench *b,
					  uint32_t start)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < PASS; i += BATCH) {
		uint32_t off = (start + i) & (NQUERY - 1);
		const struct qkey *q = &b->q[off];
		const uint64_t *hv = &b->qh[off];
		unsigned int j;

		for (j = 0; j < BATCH; j++)
			ct_hash_prefetch(&b->h, hv[j]);
		for (j = 0; j < BATCH; j++)
			sum += ct_hash_lookup(&b->h, hv[j], &q[j], obj_match,
					      b->objs);
	}
	return sum;
}

static __noinline uint64_t run_hash_only(const struct bench *b, uint32_t start)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < PASS; i++)
		sum += ct_hash_key(&b->h, &b->q[(start + i) & (NQUERY - 1)],
				   sizeof(struct qkey));
	return sum;
}

typedef uint64_t (*run_fn)(const struct bench *b, uint32_t start);

/* Return: million operations per second of @fn over ~RUN_NS. */
static double measure(const struct bench *b, run_fn fn)
{
	uint64_t t0, t, ops = 0, sum = 0;
	uint32_t start = 0;

	sum += fn(b, start); /* warm-up pass */
	t0 = now_ns();
	do {
		start += PASS;
		sum += fn(b, start);
		ops += PASS;
		t = now_ns();
	} while (t - t0 < RUN_NS);
	sink += sum;
	return (double)ops * 1e3 / (double)(t - t0);
}

/* Every query is a hit: check it once, outside the timed loops. */
static void check_hits(const struct bench *b)
{
	for (uint32_t i = 0; i < NQUERY; i++) {
		const struct qkey *q = &b->q[i];
		uint64_t hv = ct_hash_key(&b->h, q, sizeof(*q));
		uint32_t v = ct_hash_lookup(&b->h, hv, q, obj_match, b->objs);

		if (v == CT_HASH_EMPTY || !obj_match(b->objs, v, q))
			die("lookup missed a stored key");
	}
}

/* Transparent huge pages in use now, from /proc (0 if unknown). */
static unsigned long thp_kib(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	unsigned long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "AnonHugePages: %lu kB", &kib) == 1)
			break;
	}
	(void)fclose(f);
	return kib;
}

int main(void)
{
	static const uint32_t sizes[] = { 1000, 100000, 1000000, 4000000 };
	static struct bench b;
	double hash_only = 0;
	unsigned int i;

	printf("ct_hash: %d-slot buckets, %d%% load, batches of %d, 64-byte objects, random order\n",
	       CT_HASH_BUCKET_SLOTS, CT_HASH_LOAD_MAX_PCT, BATCH);
	printf("%8s %8s %7s | %14s | %14s | %14s | %7s %7s | %7s\n",
	       "values", "index", "B/value", "single M/s ns", "batch M/s ns",
	       "no-hash M/s ns", "ins M/s", "del M/s", "THP MiB");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		double ins, del, one, bat, idx;
		size_t mem;

		bench_setup(&b, sizes[i]);
		bench_churn(&b, &ins, &del);
		insert_all(&b);
		check_hits(&b);
		one = measure(&b, run_single);
		bat = measure(&b, run_batch);
		idx = measure(&b, run_index_only);
		if (i == 0)
			hash_only = measure(&b, run_hash_only);
		mem = ct_hash_memory(&b.h);
		printf("%8u %6.2fMi %7.2f | %7.1f %6.1f | %7.1f %6.1f | %7.1f %6.1f | %7.1f %7.1f | %7lu\n",
		       b.n, (double)mem / (1024.0 * 1024.0),
		       (double)mem / b.n, one, 1e3 / one, bat, 1e3 / bat, idx,
		       1e3 / idx, ins, del, thp_kib() / 1024);
		if (b.h.kick_fail)
			printf("  %llu inserts failed\n",
			       (unsigned long long)b.h.kick_fail);
		delete_all(&b);
		bench_teardown(&b);
	}
	printf("ct_hash_key (SipHash-1-3) of a 16-byte key alone: %.1f M/s (%.1f ns)\n",
	       hash_only, 1e3 / hash_only);
	printf("single/batch: SipHash + lookup (every lookup a hit); no-hash: batch with hashes precomputed;\n"
	       "ins/del: hashes precomputed, empty -> 75%% -> empty; B/value: index bytes per stored value\n");
	return 0;
}
