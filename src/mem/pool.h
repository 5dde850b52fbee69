/* SPDX-License-Identifier: MIT */
/*
 * pool.h - fixed-size packet buffers for one worker thread.
 *
 * Theory of operation: pool_create() maps every buffer of the pool at once
 * (one mapping, huge pages when the system has them) and fills a FIFO ring
 * with the index of each buffer. pool_alloc() takes the oldest free index
 * from the ring, pool_free() puts one back. Nothing allocates after create,
 * so the packet path never calls into the system allocator or takes a page
 * fault on a fresh page.
 *
 * Ownership: each packet buffer has exactly one owner. pool_alloc()
 * transfers ownership to the caller; pool_free() takes it back. Whoever
 * holds a buffer either frees it or hands it on (through a ring, to a port's
 * tx queue ...), and a function's doc comment says whether it consumes or
 * borrows the buffers it is given.
 *
 * Threads: a pool belongs to one worker thread and has no locks or atomics.
 * A buffer that travels to another thread (struct ring) must travel back to
 * its owning worker to be freed.
 *
 * Misuse: pool_free() always checks that the pointer is the start of one
 * of this pool's buffers and aborts otherwise (cheap: a compare and a
 * shift or divide); it also aborts on a free into a full pool, the double
 * free that would overflow the free ring. With POOL_F_DEBUG, each buffer
 * also has a free/in-use state (any double free aborts), a guard area right
 * after its usable bytes (an overrun aborts when the buffer is freed), and
 * freed buffers are poisoned with POOL_POISON_BYTE (a read after free shows
 * the poison, a write after free aborts when the buffer is next allocated).
 */
#ifndef ARCNAT_MEM_POOL_H
#define ARCNAT_MEM_POOL_H

#include <stdint.h>

/* Bounds accepted by pool_create(). */
#define POOL_MAX_BUFS	  (1u << 24)
#define POOL_MIN_BUF_SIZE 64u
#define POOL_MAX_BUF_SIZE (256u * 1024)

/* pool_create() flags. */
#define POOL_F_DEBUG (1u << 0) /* state, guard and poison checks */

/* With POOL_F_DEBUG, a free buffer's usable bytes all hold this value. */
#define POOL_POISON_BYTE 0x6b

struct pool;

/**
 * struct pool_stats - counters of one pool since it was created.
 * @allocs:      buffers handed out (pool_alloc() and pool_alloc_bulk())
 * @frees:       buffers given back (pool_free() and pool_free_bulk())
 * @alloc_fails: buffers asked for but not handed out because the pool was
 *               empty (one per failed pool_alloc(), n - returned per short
 *               pool_alloc_bulk())
 */
struct pool_stats {
	uint64_t allocs;
	uint64_t frees;
	uint64_t alloc_fails;
};

/**
 * pool_create() - map a pool of fixed-size buffers.
 * @out:      where to store the new pool; untouched on error
 * @nbufs:    number of buffers, 1 .. POOL_MAX_BUFS
 * @buf_size: usable bytes per buffer, POOL_MIN_BUF_SIZE .. POOL_MAX_BUF_SIZE;
 *            rounded up to a multiple of CACHE_LINE_SIZE (see pool_buf_size())
 * @flags:    0 or POOL_F_DEBUG
 *
 * Every buffer starts CACHE_LINE_SIZE aligned. The mapping uses huge pages
 * (MAP_HUGETLB) when it is at least 2 MiB and the system has huge pages
 * reserved, else normal pages with a transparent huge page hint. The memory
 * is touched here, not on the packet path.
 *
 * Return: 0; -EINVAL for a bound or flag out of range; -ENOMEM when the
 * memory cannot be had.
 */
int pool_create(struct pool **out, uint32_t nbufs, uint32_t buf_size,
		unsigned int flags);

/**
 * pool_destroy() - unmap a pool and free its bookkeeping.
 * @p: pool, or NULL (nothing happens)
 *
 * Buffers still allocated become invalid; the pool does not check that all
 * came back (tests do, through pool_avail()).
 */
void pool_destroy(struct pool *p);

/**
 * pool_alloc() - take one buffer.
 * @p: pool
 *
 * Buffers come out in FIFO order of their frees: a buffer just freed is the
 * last to be handed out again, which leaves stale pointers the longest time
 * to hit the poison in debug mode.
 *
 * Return: a buffer of pool_buf_size() bytes now owned by the caller, or NULL
 * if the pool is empty (counted in &pool_stats.alloc_fails).
 */
void *pool_alloc(struct pool *p);

/**
 * pool_alloc_bulk() - take up to @n buffers.
 * @p:    pool
 * @bufs: array of at least @n slots that receives the buffers
 * @n:    number of buffers wanted
 *
 * Not all-or-nothing: when fewer than @n are free, the call hands out all
 * that are left. A receive path under pressure then reads a smaller batch
 * instead of none; a caller that needs exactly @n gives the short batch back
 * with pool_free_bulk(). The shortfall is counted in
 * &pool_stats.alloc_fails.
 *
 * Return: the number of buffers stored in @bufs[0 .. return - 1], each now
 * owned by the caller.
 */
uint32_t pool_alloc_bulk(struct pool *p, void **bufs, uint32_t n);

/**
 * pool_free() - give a buffer back.
 * @p:   pool the buffer came from
 * @buf: buffer; consumed (the caller must not touch it afterwards)
 *
 * Aborts if @buf is not the start of one of @p's buffers, and in debug mode
 * if it is already free or was written past pool_buf_size().
 */
void pool_free(struct pool *p, void *buf);

/**
 * pool_free_bulk() - give @n buffers back.
 * @p:    pool the buffers came from
 * @bufs: the buffers; each is consumed
 * @n:    number of buffers in @bufs
 *
 * Same checks as pool_free(), for each buffer in order.
 */
void pool_free_bulk(struct pool *p, void *const *bufs, uint32_t n);

/**
 * pool_avail() - number of free buffers.
 * @p: pool
 *
 * Return: buffers pool_alloc() can still hand out; pool_capacity() when
 * every buffer is back.
 */
uint32_t pool_avail(const struct pool *p);

/**
 * pool_capacity() - number of buffers in the pool.
 * @p: pool
 *
 * Return: @nbufs as given to pool_create().
 */
uint32_t pool_capacity(const struct pool *p);

/**
 * pool_buf_size() - usable bytes per buffer.
 * @p: pool
 *
 * Return: @buf_size as given to pool_create(), rounded up to a multiple of
 * CACHE_LINE_SIZE. Every byte up to this size may be used.
 */
uint32_t pool_buf_size(const struct pool *p);

/**
 * pool_index() - index of a buffer, for compact references (e.g. in rings
 * of uint32_t or descriptors).
 * @p:   pool
 * @buf: start of one of @p's buffers (aborts otherwise); borrowed
 *
 * Return: the index, 0 .. pool_capacity() - 1; pool_buf() maps it back.
 */
uint32_t pool_index(const struct pool *p, const void *buf);

/**
 * pool_buf() - buffer with a given index.
 * @p:   pool
 * @idx: index, below pool_capacity() (aborts otherwise)
 *
 * Does not change ownership: it only names the buffer.
 *
 * Return: the start of the buffer.
 */
void *pool_buf(const struct pool *p, uint32_t idx);

/**
 * pool_get_stats() - copy the pool's counters.
 * @p:   pool
 * @out: receives the counters
 */
void pool_get_stats(const struct pool *p, struct pool_stats *out);

#endif /* ARCNAT_MEM_POOL_H */
