// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/log.h"

struct captured {
	int n;
	enum log_level level[16];
	char msg[16][LOG_LINE_MAX];
};

static void capture_sink(void *ctx, enum log_level level, const char *msg)
{
	struct captured *c = ctx;

	if (c->n < 16) {
		c->level[c->n] = level;
		snprintf(c->msg[c->n], LOG_LINE_MAX, "%s", msg);
	}
	c->n++;
}

static int setup(void **state)
{
	static struct captured cap;

	memset(&cap, 0, sizeof(cap));
	log_set_sink(capture_sink, &cap);
	log_set_level(LOG_LEVEL_INFO);
	*state = &cap;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	log_set_sink(NULL, NULL);
	log_set_level(LOG_LEVEL_INFO);
	return 0;
}

static void log_level_filters(void **state)
{
	struct captured *cap = *state;

	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("d");
	assert_int_equal(cap->n, 3);
	assert_string_equal(cap->msg[0], "e 1");
	assert_int_equal(cap->level[0], LOG_LEVEL_ERR);
	assert_int_equal(cap->level[2], LOG_LEVEL_INFO);

	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("d2");
	assert_int_equal(cap->n, 4);
	assert_string_equal(cap->msg[3], "d2");

	log_set_level(LOG_LEVEL_ERR);
	assert_false(log_enabled(LOG_LEVEL_WARN));
	log_warn("hidden");
	assert_int_equal(cap->n, 4);
}

static void log_long_message_truncated(void **state)
{
	struct captured *cap = *state;
	char big[3 * LOG_LINE_MAX];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
	assert_int_equal(cap->n, 1);
	assert_int_equal(strlen(cap->msg[0]), LOG_LINE_MAX - 1);
}

static void log_rl_suppresses_and_reports(void **state)
{
	struct captured *cap = *state;
	struct ratelimit rl;
	uint64_t t = 10 * NSEC_PER_SEC;

	ratelimit_init(&rl, 2, NSEC_PER_SEC);
	for (int i = 0; i < 100; i++)
		log_rl(&rl, t + (uint64_t)i, LOG_LEVEL_WARN, "bad frame %d", i);
	assert_int_equal(cap->n, 2);
	assert_string_equal(cap->msg[1], "bad frame 1");

	/* The next window's first line is followed by the suppressed count. */
	assert_true(log_rl(&rl, t + NSEC_PER_SEC, LOG_LEVEL_WARN, "again"));
	assert_int_equal(cap->n, 4);
	assert_string_equal(cap->msg[2], "again");
	assert_string_equal(cap->msg[3], "(98 similar messages suppressed)");

	/* A disabled level neither prints nor uses up the limiter. */
	log_set_level(LOG_LEVEL_ERR);
	assert_false(log_rl(&rl, t + NSEC_PER_SEC, LOG_LEVEL_WARN, "x"));
	assert_int_equal(rl.used, 1);
}

static void log_default_sink_writes_stderr(void **state)
{
	int fds[2], saved;
	char buf[256] = { 0 };
	ssize_t n;

	(void)state;
	log_set_sink(NULL, NULL);
	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	log_err("no such interface: %s", "tap9");
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_true(n > 0);
	assert_string_equal(buf, "arcnat: error: no such interface: tap9\n");
}

static void log_level_names(void **state)
{
	(void)state;
	assert_string_equal(log_level_name(LOG_LEVEL_ERR), "error");
	assert_string_equal(log_level_name(LOG_LEVEL_DEBUG), "debug");
	assert_string_equal(log_level_name((enum log_level)42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(log_level_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(log_long_message_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(log_rl_suppresses_and_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(log_default_sink_writes_stderr, setup, teardown),
		cmocka_unit_test_setup_teardown(log_level_names, setup, teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
