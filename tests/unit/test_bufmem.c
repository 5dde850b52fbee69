// SPDX-License-Identifier: MIT
/*
 * test_bufmem.c - the worker's guarded buffer storage: every buffer has
 * its room and headroom, buffers do not overlap, and a write just before a
 * buffer's head or just past its cap faults (in a child process).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_exit.h"
#include "dp/bufmem.h"

#define N 3

static void map_n(struct dp_bufmem *m, struct dp_buf *b)
{
	struct dp_buf *v[N];

	for (unsigned int i = 0; i < N; i++)
		v[i] = &b[i];
	memset(m, 0, sizeof(*m));
	assert_int_equal(dp_bufmem_map(m, v, N), 0);
}

static void bufmem_buffers_have_room_and_do_not_overlap(void **state)
{
	struct dp_bufmem m;
	struct dp_buf b[N];

	(void)state;
	map_n(&m, b);
	for (unsigned int i = 0; i < N; i++) {
		assert_true(b[i].cap >= DP_BUF_HEADROOM + DP_BUF_DATA_MAX);
		assert_ptr_equal(b[i].data, b[i].head + DP_BUF_HEADROOM);
		assert_int_equal(dp_buf_room(&b[i]), b[i].cap - DP_BUF_HEADROOM);
		memset(b[i].head, (int)i, b[i].cap);	/* all of it writable */
		if (i)
			assert_true(b[i].head >= b[i - 1].head + b[i - 1].cap);
	}
	for (unsigned int i = 0; i < N; i++)
		assert_int_equal(b[i].head[b[i].cap - 1], i);
	dp_bufmem_unmap(&m);
	dp_bufmem_unmap(&m);	/* twice is fine */
}

/* A write at @p in a child: true if the child died of it. */
static bool faults(volatile uint8_t *p)
{
	int st;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, 2);	/* a sanitizer's report of the fault */
		*p = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0);
}

static void bufmem_guard_pages_fault(void **state)
{
	struct dp_bufmem m;
	struct dp_buf b[N];

	(void)state;
	map_n(&m, b);
	assert_false(faults(b[1].head));
	assert_true(faults(b[1].head - 1));
	assert_true(faults(b[1].head + b[1].cap));
	assert_true(faults(b[0].head - 1));
	assert_true(faults(b[N - 1].head + b[N - 1].cap));
	dp_bufmem_unmap(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bufmem_buffers_have_room_and_do_not_overlap),
		cmocka_unit_test(bufmem_guard_pages_fault),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
