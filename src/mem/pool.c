// SPDX-License-Identifier: MIT
/*
 * pool.c - fixed-size packet buffers, one mapping, a FIFO of free indices.
 *
 * Theory of operation: the mapping holds nbufs buffers back to back, each
 * `stride` bytes from the next. The usable part of a buffer is buf_size
 * bytes (a cache-line multiple, so every buffer starts on a cache line). In
 * debug mode each buffer is followed by a cache line of guard words, so the
 * stride is buf_size + POOL_GUARD_SIZE and usable sizes stay exact:
 *
 *   base: | buf 0 (buf_size) | guard 0 | buf 1 (buf_size) | guard 1 | ...
 *
 * Free buffers are named by index in `fifo`, a ring of uint32_t whose size
 * is nbufs rounded up to a power of two, with free-running 32-bit head and
 * tail: the slot is `index & fifo_mask` and the fill level `head - tail`,
 * which stays right when the counters wrap. pool_free() writes at head,
 * pool_alloc() reads at tail. The ring can never overflow: a free into a
 * full pool (necessarily a double free) aborts, with or without
 * POOL_F_DEBUG. Other double frees are seen only in debug mode; without it
 * they would hand one buffer to two owners later.
 *
 * Turning a pointer back into an index is a shift when the stride is a power
 * of two (a power-of-two buf_size without POOL_F_DEBUG), else a divide.
 */
#include "mem/pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/assert.h"
#include "core/compiler.h"

/* Huge page size we try for; x86-64 and arm64 (4 KiB granule) both use it. */
#define POOL_HUGE_SIZE ((size_t)2 * 1024 * 1024)

/*
 * Debug mode guard after each buffer: one whole cache line, so the stride
 * stays a cache-line multiple and an overrun of up to 64 bytes lands in it.
 */
#define POOL_GUARD_SIZE	 CACHE_LINE_SIZE
#define POOL_GUARD_WORD	 UINT64_C(0x5ca1ab1ede7ec7ed)
#define POOL_POISON_WORD UINT64_C(0x6b6b6b6b6b6b6b6b)

/* Debug mode per-buffer state; zero (calloc) is never a valid state. */
#define POOL_BUF_FREE	0xf1
#define POOL_BUF_IN_USE 0xa1

static_assert(POOL_POISON_WORD ==
		      (uint64_t)POOL_POISON_BYTE * UINT64_C(0x0101010101010101),
	      "poison word is the poison byte repeated");
static_assert(POOL_GUARD_SIZE % sizeof(uint64_t) == 0,
	      "guard is checked one 64-bit word at a time");
static_assert(POOL_MIN_BUF_SIZE % CACHE_LINE_SIZE == 0 &&
		      POOL_MAX_BUF_SIZE % CACHE_LINE_SIZE == 0,
	      "rounding buf_size up keeps it within bounds");
static_assert((uint64_t)POOL_MAX_BUF_SIZE + POOL_GUARD_SIZE <= UINT32_MAX,
	      "stride fits in uint32_t");

/**
 * struct pool - a pool of fixed-size buffers (private).
 * @base:         first buffer, the start of the mapping
 * @fifo:         free buffer indices, fifo_mask + 1 slots
 * @state:        debug mode only: POOL_BUF_FREE / POOL_BUF_IN_USE per buffer;
 *                NULL when POOL_F_DEBUG is off
 * @fifo_mask:    fifo slots - 1 (the slot count is a power of two)
 * @head:         free-running index of the next fifo slot pool_free() fills
 * @tail:         free-running index of the next fifo slot pool_alloc() reads
 * @nbufs:        number of buffers
 * @stride:       bytes from the start of one buffer to the next
 * @stride_shift: log2(@stride) when @stride is a power of two, else 0
 * @stats:        counters
 * @buf_size:     usable bytes per buffer (a CACHE_LINE_SIZE multiple)
 * @map_len:      length of the mapping at @base, for munmap()
 *
 * Everything pool_alloc() and pool_free() touch in the common case sits in
 * the first cache line.
 */
struct pool {
	char *base;
	uint32_t *fifo;
	uint8_t *state;
	uint32_t fifo_mask;
	uint32_t head;
	uint32_t tail;
	uint32_t nbufs;
	uint32_t stride;
	uint32_t stride_shift;
	struct pool_stats stats;
	uint32_t buf_size;
	size_t map_len;
} __cacheline_aligned;

static_assert(offsetof(struct pool, stats) +
			      offsetof(struct pool_stats, alloc_fails) <=
		      CACHE_LINE_SIZE,
	      "alloc/free fast path fits in one cache line");

static __noreturn __cold void pool_die(const struct pool *p, const void *buf,
				       const char *what)
{
	(void)fprintf(stderr, "arcnat: pool %p: buffer %p: %s\n",
		      (const void *)p, buf, what);
	(void)fflush(stderr);
	abort();
}

static uint32_t pool_roundup_pow2(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

/*
 * Try huge pages: the pool is the biggest thing a worker touches per packet
 * and TLB misses on it are pure loss. Fails quietly (MAP_FAILED) when the
 * system has none reserved; on success *len is rounded up to whole pages.
 */
static void *pool_mmap_huge(size_t *len)
{
#ifdef MAP_HUGETLB
	size_t hlen = ALIGN_UP(*len, POOL_HUGE_SIZE);
	void *m;

	if (*len < POOL_HUGE_SIZE)
		return MAP_FAILED;
	m = mmap(NULL, hlen, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (m != MAP_FAILED)
		*len = hlen;
	return m;
#else
	(void)len;
	return MAP_FAILED;
#endif
}

/*
 * Map @len bytes for the buffers, huge pages first. The memory is touched
 * here so that the packet path never takes a first-touch page fault.
 */
static int pool_map(struct pool *p, size_t len)
{
	size_t step = POOL_HUGE_SIZE;
	void *m = pool_mmap_huge(&len);
	size_t off;

	if (m == MAP_FAILED) {
		step = (size_t)sysconf(_SC_PAGESIZE);
		len = ALIGN_UP(len, step);
		m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return -ENOMEM;
#ifdef MADV_HUGEPAGE
		/* Just a hint (THP may be off); must precede first touch. */
		(void)madvise(m, len, MADV_HUGEPAGE);
#endif
	}
	for (off = 0; off < len; off += step)
		((volatile char *)m)[off] = 0;
	p->base = m;
	p->map_len = len;
	return 0;
}

static void pool_debug_init(struct pool *p)
{
	uint32_t i, w;

	for (i = 0; i < p->nbufs; i++) {
		char *buf = p->base + (size_t)i * p->stride;
		uint64_t *guard = (uint64_t *)(void *)(buf + p->buf_size);

		memset(buf, POOL_POISON_BYTE, p->buf_size);
		for (w = 0; w < POOL_GUARD_SIZE / sizeof(uint64_t); w++)
			guard[w] = POOL_GUARD_WORD;
		p->state[i] = POOL_BUF_FREE;
	}
}

int pool_create(struct pool **out, uint32_t nbufs, uint32_t buf_size,
		unsigned int flags)
{
	bool debug = flags & POOL_F_DEBUG;
	uint32_t stride, fifo_size, i;
	struct pool *p;
	size_t len;
	int err;

	if (nbufs < 1 || nbufs > POOL_MAX_BUFS ||
	    buf_size < POOL_MIN_BUF_SIZE || buf_size > POOL_MAX_BUF_SIZE ||
	    (flags & ~POOL_F_DEBUG))
		return -EINVAL;
	buf_size = ALIGN_UP(buf_size, (uint32_t)CACHE_LINE_SIZE);
	stride = buf_size + (debug ? POOL_GUARD_SIZE : 0);
	/* Cannot overflow on 64-bit with today's bounds; 32-bit can. */
	if (__builtin_mul_overflow((size_t)nbufs, (size_t)stride, &len) ||
	    len > SIZE_MAX - POOL_HUGE_SIZE)
		return -ENOMEM;
	fifo_size = pool_roundup_pow2(nbufs);

	p = aligned_alloc(CACHE_LINE_SIZE, sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	p->nbufs = nbufs;
	p->buf_size = buf_size;
	p->stride = stride;
	if (IS_POWER_OF_2(stride))
		p->stride_shift = (uint32_t)__builtin_ctz(stride);
	p->fifo_mask = fifo_size - 1;

	err = -ENOMEM;
	p->fifo = calloc(fifo_size, sizeof(*p->fifo));
	if (!p->fifo)
		goto err_free_pool;
	if (debug) {
		p->state = calloc(nbufs, sizeof(*p->state));
		if (!p->state)
			goto err_free_fifo;
	}
	err = pool_map(p, len);
	if (err)
		goto err_free_state;

	for (i = 0; i < nbufs; i++)
		p->fifo[i] = i;
	p->head = nbufs;
	p->tail = 0;
	if (debug)
		pool_debug_init(p);
	*out = p;
	return 0;

err_free_state:
	free(p->state);
err_free_fifo:
	free(p->fifo);
err_free_pool:
	free(p);
	return err;
}

void pool_destroy(struct pool *p)
{
	if (!p)
		return;
	if (p->base)
		(void)munmap(p->base, p->map_len);
	free(p->state);
	free(p->fifo);
	free(p);
}

/*
 * Index of @buf, aborting unless it is the start of one of @p's buffers.
 * Always on: a foreign or interior pointer in the fifo would hand the same
 * memory to two owners later, far from the bug.
 */
static uint32_t pool_ptr_index(const struct pool *p, const void *buf)
{
	/* Unsigned: a pointer below base wraps to a huge offset. */
	uintptr_t off = (uintptr_t)buf - (uintptr_t)p->base;
	uintptr_t idx;

	if (unlikely(off >= (uintptr_t)p->nbufs * p->stride))
		pool_die(p, buf, "not a buffer of this pool (foreign pointer)");
	if (likely(p->stride_shift))
		idx = off >> p->stride_shift;
	else
		idx = off / p->stride;
	if (unlikely(idx * p->stride != off))
		pool_die(p, buf,
			 "not the start of a buffer (interior pointer)");
	return (uint32_t)idx;
}

static bool pool_words_equal(const char *mem, size_t len, uint64_t word)
{
	const uint64_t *w = (const uint64_t *)(const void *)mem;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i] != word)
			return false;
	return true;
}

static void pool_debug_on_alloc(struct pool *p, uint32_t idx, char *buf)
{
	/* Only free indices enter the fifo; anything else is our own bug. */
	ARC_ASSERT(p->state[idx] == POOL_BUF_FREE);
	if (!pool_words_equal(buf, p->buf_size, POOL_POISON_WORD))
		pool_die(p, buf, "written after free (poison overwritten)");
	p->state[idx] = POOL_BUF_IN_USE;
}

static void pool_debug_on_free(struct pool *p, uint32_t idx, char *buf)
{
	if (p->state[idx] != POOL_BUF_IN_USE)
		pool_die(p, buf, "double free (buffer already free)");
	if (!pool_words_equal(buf + p->buf_size, POOL_GUARD_SIZE,
			      POOL_GUARD_WORD))
		pool_die(p, buf,
			 "overrun: guard after the usable area overwritten");
	memset(buf, POOL_POISON_BYTE, p->buf_size);
	p->state[idx] = POOL_BUF_FREE;
}

/* Take the next free buffer; the caller has checked that there is one. */
static void *pool_take(struct pool *p)
{
	uint32_t idx = p->fifo[p->tail++ & p->fifo_mask];
	char *buf = p->base + (size_t)idx * p->stride;

	if (unlikely(p->state))
		pool_debug_on_alloc(p, idx, buf);
	return buf;
}

void *pool_alloc(struct pool *p)
{
	if (unlikely(p->head == p->tail)) {
		p->stats.alloc_fails++;
		return NULL;
	}
	p->stats.allocs++;
	return pool_take(p);
}

uint32_t pool_alloc_bulk(struct pool *p, void **bufs, uint32_t n)
{
	uint32_t avail = p->head - p->tail;
	uint32_t i;

	if (unlikely(n > avail)) {
		p->stats.alloc_fails += n - avail;
		n = avail;
	}
	for (i = 0; i < n; i++)
		bufs[i] = pool_take(p);
	p->stats.allocs += n;
	return n;
}

void pool_free(struct pool *p, void *buf)
{
	uint32_t idx = pool_ptr_index(p, buf);

	if (unlikely(p->state))
		pool_debug_on_free(p, idx, buf);
	/*
	 * Without debug state this is the only double free we can see, and
	 * the one that matters most: one more index would overwrite a live
	 * fifo slot.
	 */
	if (unlikely(p->head - p->tail >= p->nbufs))
		pool_die(p, buf, "free into a full pool (double free)");
	p->fifo[p->head++ & p->fifo_mask] = idx;
	p->stats.frees++;
}

void pool_free_bulk(struct pool *p, void *const *bufs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		pool_free(p, bufs[i]);
}

uint32_t pool_avail(const struct pool *p)
{
	return p->head - p->tail;
}

uint32_t pool_capacity(const struct pool *p)
{
	return p->nbufs;
}

uint32_t pool_buf_size(const struct pool *p)
{
	return p->buf_size;
}

uint32_t pool_index(const struct pool *p, const void *buf)
{
	return pool_ptr_index(p, buf);
}

void *pool_buf(const struct pool *p, uint32_t idx)
{
	ARC_ASSERT(idx < p->nbufs);
	return p->base + (size_t)idx * p->stride;
}

void pool_get_stats(const struct pool *p, struct pool_stats *out)
{
	*out = p->stats;
}
