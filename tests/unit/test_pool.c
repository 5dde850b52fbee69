// SPDX-License-Identifier: MIT
/*
 * test_pool.c - unit tests for src/mem/pool.
 *
 * Every pool a test makes goes through fx_pool(), and the teardown checks
 * that each one is back to its starting occupancy (all buffers free) before
 * destroying it, so a test that leaks a buffer fails.
 *
 * Misuse that must abort (double free, overrun, foreign pointer ...) runs
 * in a fork()ed child whose stderr is captured: the child must die
 * abnormally and must have said why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/compiler.h"
#include "mem/pool.h"

#define FX_MAX_POOLS 4

struct fx {
	struct pool *pools[FX_MAX_POOLS];
	uint32_t start_avail[FX_MAX_POOLS];
	unsigned int npools;
};

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < fx->npools; i++) {
		if (pool_avail(fx->pools[i]) != fx->start_avail[i]) {
			print_error("pool %u: %u buffers free, %u at start\n",
				    i, pool_avail(fx->pools[i]),
				    fx->start_avail[i]);
			ret = -1;
		}
		pool_destroy(fx->pools[i]);
	}
	free(fx);
	return ret;
}

/* Create a pool that the teardown checks and destroys. */
static struct pool *fx_pool(void **state, uint32_t nbufs, uint32_t buf_size,
			    unsigned int flags)
{
	struct fx *fx = *state;
	struct pool *p = NULL;

	assert_true(fx->npools < FX_MAX_POOLS);
	assert_int_equal(pool_create(&p, nbufs, buf_size, flags), 0);
	assert_non_null(p);
	fx->pools[fx->npools] = p;
	fx->start_avail[fx->npools] = pool_avail(p);
	fx->npools++;
	assert_int_equal(pool_avail(p), nbufs);
	assert_int_equal(pool_capacity(p), nbufs);
	return p;
}

/* A 32-bit word per buffer, different for each buffer. */
static uint32_t pattern(uint32_t i)
{
	return (i + 1) * 0x9e3779b1u;
}

static void fill(void *buf, uint32_t size, uint32_t word)
{
	uint32_t *w = buf;
	uint32_t k;

	for (k = 0; k < size / sizeof(*w); k++)
		w[k] = word;
}

static int holds(const void *buf, uint32_t size, uint32_t word)
{
	const uint32_t *w = buf;
	uint32_t k;

	for (k = 0; k < size / sizeof(*w); k++)
		if (w[k] != word)
			return 0;
	return 1;
}

static void test_create_rounds_size(void **state)
{
	struct pool_stats st;
	struct pool *p;

	p = fx_pool(state, 8, 100, 0);
	assert_int_equal(pool_buf_size(p), 128);
	p = fx_pool(state, 3, POOL_MIN_BUF_SIZE, POOL_F_DEBUG);
	assert_int_equal(pool_buf_size(p), POOL_MIN_BUF_SIZE);
	p = fx_pool(state, 1, POOL_MAX_BUF_SIZE, 0);
	assert_int_equal(pool_buf_size(p), POOL_MAX_BUF_SIZE);
	pool_get_stats(p, &st);
	assert_int_equal(st.allocs, 0);
	assert_int_equal(st.frees, 0);
	assert_int_equal(st.alloc_fails, 0);
}

/*
 * Allocate every buffer, fill each completely with its own pattern, then
 * check that none was clobbered: two buffers that overlapped, or one handed
 * out twice, would leave the later pattern in the earlier buffer.
 */
static void alloc_all_free_all(void **state, uint32_t n, uint32_t size,
			       unsigned int flags)
{
	struct pool *p = fx_pool(state, n, size, flags);
	uint32_t bs = pool_buf_size(p);
	struct pool_stats st;
	void **bufs;
	uint32_t i;

	bufs = calloc(n, sizeof(*bufs));
	assert_non_null(bufs);
	for (i = 0; i < n; i++) {
		bufs[i] = pool_alloc(p);
		assert_non_null(bufs[i]);
		assert_int_equal((uintptr_t)bufs[i] % CACHE_LINE_SIZE, 0);
		fill(bufs[i], bs, pattern(i));
		assert_int_equal(pool_avail(p), n - i - 1);
	}
	assert_null(pool_alloc(p));
	assert_null(pool_alloc(p));
	for (i = 0; i < n; i++)
		assert_true(holds(bufs[i], bs, pattern(i)));

	pool_get_stats(p, &st);
	assert_int_equal(st.allocs, n);
	assert_int_equal(st.alloc_fails, 2);
	assert_int_equal(st.frees, 0);

	/* Free in reverse, so the fifo order differs from the index order. */
	for (i = n; i-- > 0;)
		pool_free(p, bufs[i]);
	assert_int_equal(pool_avail(p), n);
	pool_get_stats(p, &st);
	assert_int_equal(st.frees, n);
	free(bufs);
}

static void test_alloc_all_pow2(void **state)
{
	alloc_all_free_all(state, 64, 2048, 0);
}

static void test_alloc_all_odd_stride(void **state)
{
	/* 1536 is not a power of two: pointer -> index uses the divide. */
	alloc_all_free_all(state, 17, 1500, 0);
}

static void test_alloc_all_single(void **state)
{
	alloc_all_free_all(state, 1, 64, 0);
}

static void test_alloc_all_debug(void **state)
{
	/* Filling all buf_size bytes must not trip the guard. */
	alloc_all_free_all(state, 33, 100, POOL_F_DEBUG);
}

static void test_alloc_all_large(void **state)
{
	/* 2 MiB: goes through the huge page attempt (and its fallback). */
	alloc_all_free_all(state, 1024, 2048, 0);
}

static void test_fifo_reuse_order(void **state)
{
	struct pool *p = fx_pool(state, 4, 256, 0);
	void *a, *b[3], *last;
	int i;

	a = pool_alloc(p);
	pool_free(p, a);
	/* FIFO: the buffer just freed comes back last. */
	for (i = 0; i < 3; i++) {
		b[i] = pool_alloc(p);
		assert_ptr_not_equal(b[i], a);
	}
	last = pool_alloc(p);
	assert_ptr_equal(last, a);
	assert_null(pool_alloc(p));
	pool_free(p, last);
	pool_free_bulk(p, b, 3);
}

static void test_bulk(void **state)
{
	struct pool *p = fx_pool(state, 10, 512, POOL_F_DEBUG);
	void *sentinel = &sentinel;
	struct pool_stats st;
	void *bufs[16];
	uint32_t i, j;

	for (i = 0; i < ARRAY_SIZE(bufs); i++)
		bufs[i] = sentinel;
	assert_int_equal(pool_alloc_bulk(p, bufs, 0), 0);
	assert_ptr_equal(bufs[0], sentinel);
	assert_int_equal(pool_alloc_bulk(p, bufs, 4), 4);
	assert_int_equal(pool_avail(p), 6);

	/* Asking for more than is left hands out what is left. */
	assert_int_equal(pool_alloc_bulk(p, bufs + 4, 10), 6);
	assert_int_equal(pool_avail(p), 0);
	for (i = 10; i < ARRAY_SIZE(bufs); i++)
		assert_ptr_equal(bufs[i], sentinel);
	assert_int_equal(pool_alloc_bulk(p, bufs + 10, 1), 0);
	assert_ptr_equal(bufs[10], sentinel);

	pool_get_stats(p, &st);
	assert_int_equal(st.allocs, 10);
	assert_int_equal(st.alloc_fails, 4 + 1);

	for (i = 0; i < 10; i++) {
		assert_non_null(bufs[i]);
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(bufs[i], bufs[j]);
	}
	pool_free_bulk(p, bufs, 0);
	assert_int_equal(pool_avail(p), 0);
	pool_free_bulk(p, bufs, 7);
	assert_int_equal(pool_avail(p), 7);
	pool_free_bulk(p, bufs + 7, 3);
	assert_int_equal(pool_avail(p), 10);
	pool_get_stats(p, &st);
	assert_int_equal(st.frees, 10);
}

static void index_roundtrip(void **state, uint32_t n, uint32_t size,
			    unsigned int flags)
{
	struct pool *p = fx_pool(state, n, size, flags);
	uint32_t bs = pool_buf_size(p);
	char *prev = NULL;
	uint32_t i;

	for (i = 0; i < n; i++) {
		char *buf = pool_buf(p, i);

		assert_int_equal(pool_index(p, buf), i);
		if (prev)
			assert_true(buf >= prev + bs);
		prev = buf;
	}
	for (i = 0; i < n; i++) {
		void *b = pool_alloc(p);

		assert_ptr_equal(pool_buf(p, pool_index(p, b)), b);
		pool_free(p, b);
	}
}

static void test_index_roundtrip(void **state)
{
	index_roundtrip(state, 37, 2048, 0);
	index_roundtrip(state, 37, 1500, 0);
	index_roundtrip(state, 5, 2048, POOL_F_DEBUG);
}

static void test_bad_args(void **state)
{
	static const struct {
		uint32_t nbufs, size;
		unsigned int flags;
	} bad[] = {
		{0, 2048, 0},
		{POOL_MAX_BUFS + 1, 2048, 0},
		{UINT32_MAX, 2048, 0},
		{1, 0, 0},
		{1, POOL_MIN_BUF_SIZE - 1, 0},
		{1, POOL_MAX_BUF_SIZE + 1, 0},
		{1, UINT32_MAX, 0},
		{1, 2048, 1u << 1},
		{1, 2048, ~0u},
	};
	struct pool *untouched = (struct pool *)&untouched;
	struct pool *p;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		p = untouched;
		assert_int_equal(pool_create(&p, bad[i].nbufs, bad[i].size,
					     bad[i].flags),
				 -EINVAL);
		assert_ptr_equal(p, untouched);
	}
}

static void test_destroy_null(void **state)
{
	(void)state;
	pool_destroy(NULL);
}

static void test_debug_poison(void **state)
{
	struct pool *p = fx_pool(state, 1, 128, POOL_F_DEBUG);
	unsigned char *a;
	uint32_t i;

	a = pool_alloc(p);
	/* A fresh buffer is poisoned too: uninitialised reads stand out. */
	for (i = 0; i < 128; i++)
		assert_int_equal(a[i], POOL_POISON_BYTE);
	memset(a, 0, 128);
	pool_free(p, a);
	/* What a read after free would see. */
	for (i = 0; i < 128; i++)
		assert_int_equal(a[i], POOL_POISON_BYTE);
}

/* ---- misuse that must abort, each in a child process ---- */

#define CHILD_SETUP_FAILED 77

static struct pool *child_pool(uint32_t n, uint32_t size, unsigned int flags)
{
	struct pool *p;

	if (pool_create(&p, n, size, flags))
		_exit(CHILD_SETUP_FAILED);
	return p;
}

static void child_double_free_debug(void)
{
	struct pool *p = child_pool(4, 256, POOL_F_DEBUG);
	void *a = pool_alloc(p);

	/* Keep one out, so the pool is not full when the second free comes. */
	(void)pool_alloc(p);
	pool_free(p, a);
	pool_free(p, a);
}

static void child_double_free_full(void)
{
	struct pool *p = child_pool(1, 256, 0);
	void *a = pool_alloc(p);

	pool_free(p, a);
	pool_free(p, a);
}

static void child_overrun(void)
{
	struct pool *p = child_pool(4, 256, POOL_F_DEBUG);
	unsigned char *a = pool_alloc(p);

	memset(a, 0x11, 256);
	a[256] ^= 0xff; /* one byte past the usable area, whatever it held */
	pool_free(p, a);
}

static void child_write_after_free(void)
{
	struct pool *p = child_pool(1, 256, POOL_F_DEBUG);
	unsigned char *a = pool_alloc(p);

	pool_free(p, a);
	a[100] = 1;
	(void)pool_alloc(p);
}

static void child_foreign_stack(void)
{
	struct pool *p = child_pool(4, 256, 0);
	char local[256] __cacheline_aligned;

	pool_free(p, local);
}

static void child_foreign_heap(void)
{
	struct pool *p = child_pool(4, 256, POOL_F_DEBUG);
	void *m = malloc(256);

	pool_free(p, m);
}

static void child_past_end(void)
{
	struct pool *p = child_pool(4, 256, 0);

	/* The address right after the last buffer. */
	pool_free(p, (char *)pool_buf(p, 3) + 256);
}

static void child_interior_shift(void)
{
	struct pool *p = child_pool(4, 2048, 0);

	pool_free(p, (char *)pool_alloc(p) + CACHE_LINE_SIZE);
}

static void child_interior_divide(void)
{
	struct pool *p = child_pool(4, 1500, 0);

	(void)pool_alloc(p);
	pool_free(p, (char *)pool_alloc(p) + 1);
}

static void child_buf_out_of_range(void)
{
	struct pool *p = child_pool(4, 256, 0);

	(void)pool_buf(p, 4);
}

/*
 * Run @fn in a child. Pass if the child died abnormally (SIGABRT from
 * abort(); a sanitizer that caught the bug first would exit non-zero) and
 * its stderr contains @msg, so it died for the reason under test.
 */
static void expect_abort(void (*fn)(void), const char *msg)
{
	char out[4096], drain[256];
	size_t len = 0;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	(void)fflush(stdout);
	(void)fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit no_core = {0, 0};

		(void)setrlimit(RLIMIT_CORE, &no_core);
		close(fds[0]);
		if (dup2(fds[1], STDERR_FILENO) < 0)
			_exit(CHILD_SETUP_FAILED);
		fn();
		_exit(0);
	}
	close(fds[1]);
	for (;;) {
		if (len < sizeof(out) - 1)
			r = read(fds[0], out + len, sizeof(out) - 1 - len);
		else
			r = read(fds[0], drain, sizeof(drain));
		if (r <= 0)
			break;
		if (len < sizeof(out) - 1)
			len += (size_t)r;
	}
	out[len] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);

	if (WIFEXITED(status)) {
		print_message("child exited %d, stderr: %s\n",
			      WEXITSTATUS(status), out);
		assert_int_not_equal(WEXITSTATUS(status), 0);
		assert_int_not_equal(WEXITSTATUS(status), CHILD_SETUP_FAILED);
	} else {
		assert_true(WIFSIGNALED(status));
		if (WTERMSIG(status) != SIGABRT)
			print_message("child died of signal %d, stderr: %s\n",
				      WTERMSIG(status), out);
		assert_int_equal(WTERMSIG(status), SIGABRT);
	}
	if (!strstr(out, msg))
		print_message("expected \"%s\" in: %s\n", msg, out);
	assert_non_null(strstr(out, msg));
}

static void test_abort_double_free(void **state)
{
	(void)state;
	expect_abort(child_double_free_debug,
		     "double free (buffer already free)");
	/* Without debug state, a free into a full pool is still caught. */
	expect_abort(child_double_free_full, "free into a full pool");
}

static void test_abort_overrun(void **state)
{
	(void)state;
	expect_abort(child_overrun, "overrun");
}

static void test_abort_write_after_free(void **state)
{
	(void)state;
	expect_abort(child_write_after_free, "written after free");
}

static void test_abort_foreign_pointer(void **state)
{
	(void)state;
	expect_abort(child_foreign_stack, "foreign pointer");
	expect_abort(child_foreign_heap, "foreign pointer");
	expect_abort(child_past_end, "foreign pointer");
	expect_abort(child_interior_shift, "interior pointer");
	expect_abort(child_interior_divide, "interior pointer");
	expect_abort(child_buf_out_of_range, "assertion failed");
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		FX_TEST(test_create_rounds_size),
		FX_TEST(test_alloc_all_pow2),
		FX_TEST(test_alloc_all_odd_stride),
		FX_TEST(test_alloc_all_single),
		FX_TEST(test_alloc_all_debug),
		FX_TEST(test_alloc_all_large),
		FX_TEST(test_fifo_reuse_order),
		FX_TEST(test_bulk),
		FX_TEST(test_index_roundtrip),
		FX_TEST(test_bad_args),
		FX_TEST(test_destroy_null),
		FX_TEST(test_debug_poison),
		FX_TEST(test_abort_double_free),
		FX_TEST(test_abort_overrun),
		FX_TEST(test_abort_write_after_free),
		FX_TEST(test_abort_foreign_pointer),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
