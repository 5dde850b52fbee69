// SPDX-License-Identifier: MIT
/* ARC_ASSERT stays on whatever NDEBUG says, and a failure aborts loudly. */
#define NDEBUG 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/assert.h"

static void assert_true_is_silent(void **state)
{
	volatile int x = 1;

	(void)state;
	ARC_ASSERT(x == 1);
}

static void assert_false_aborts_with_message(void **state)
{
	int fds[2], status;
	char buf[256] = { 0 };
	ssize_t n;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int one = 1;

		dup2(fds[1], STDERR_FILENO);
		ARC_ASSERT(one == 2);
		_exit(0);	/* not reached if the assert works */
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "assertion failed: one == 2"));
	assert_non_null(strstr(buf, "test_assert.c"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(assert_true_is_silent),
		cmocka_unit_test(assert_false_aborts_with_message),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
