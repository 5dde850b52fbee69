// SPDX-License-Identifier: MIT
/*
 * test_mailbox.c - a worker's port requests from other threads: taken in
 * the order they were posted, bounded (a full mailbox refuses and the
 * poster keeps its port), and the ports of requests to add that nobody
 * served are destroyed with the mailbox, those to remove are not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "test_exit.h"
#include "dp/mailbox.h"

struct cport {
	struct dp_port port;
	int destroyed;
};

static void cport_destroy(struct dp_port *p)
{
	((struct cport *)p)->destroyed++;
}

static const struct dp_port_ops cport_ops = { .destroy = cport_destroy };

static void mailbox_takes_in_order_and_is_bounded(void **state)
{
	struct cport c[DP_MAILBOX + 1];
	struct dp_port_req r[DP_MAILBOX];
	struct dp_mailbox mb = { 0 };

	(void)state;
	memset(c, 0, sizeof(c));
	assert_int_equal(dp_mailbox_init(&mb), 0);
	for (unsigned int i = 0; i <= DP_MAILBOX; i++)
		c[i].port.ops = &cport_ops;
	for (unsigned int i = 0; i < DP_MAILBOX; i++)
		assert_int_equal(dp_mailbox_post(&mb, &c[i].port, i & 1), 0);
	assert_int_equal(dp_mailbox_post(&mb, &c[DP_MAILBOX].port, true),
			 -EAGAIN);
	assert_int_equal(dp_mailbox_take(&mb, r), DP_MAILBOX);
	for (unsigned int i = 0; i < DP_MAILBOX; i++) {
		assert_ptr_equal(r[i].port, &c[i].port);
		assert_int_equal(r[i].add, i & 1);
	}
	assert_int_equal(dp_mailbox_take(&mb, r), 0);
	assert_int_equal(dp_mailbox_post(&mb, &c[DP_MAILBOX].port, true), 0);
	assert_int_equal(dp_mailbox_take(&mb, r), 1);
	dp_mailbox_fini(&mb);
	for (unsigned int i = 0; i <= DP_MAILBOX; i++)
		assert_int_equal(c[i].destroyed, 0);	/* all were taken */
}

static void mailbox_fini_destroys_unserved_adds(void **state)
{
	struct cport add = { .port.ops = &cport_ops };
	struct cport del = { .port.ops = &cport_ops };
	struct dp_mailbox mb = { 0 };

	(void)state;
	dp_mailbox_fini(&mb);	/* never initialised: fine */
	assert_int_equal(dp_mailbox_init(&mb), 0);
	assert_int_equal(dp_mailbox_post(&mb, &add.port, true), 0);
	assert_int_equal(dp_mailbox_post(&mb, &del.port, false), 0);
	dp_mailbox_fini(&mb);
	assert_int_equal(add.destroyed, 1);
	assert_int_equal(del.destroyed, 0);
	dp_mailbox_fini(&mb);	/* twice: fine, nothing destroyed again */
	assert_int_equal(add.destroyed, 1);
}

static void call_fn(struct dp_worker *w, void *arg)
{
	(void)w;
	(*(int *)arg)++;
}

/* Calls (dp_worker_call()) are taken in order, bounded by DP_CALLS, and
 * never run by the mailbox itself. */
static void mailbox_calls_in_order_and_bounded(void **state)
{
	struct dp_call c[DP_CALLS];
	struct dp_mailbox mb = { 0 };
	int arg[DP_CALLS + 1] = { 0 };

	(void)state;
	assert_int_equal(dp_mailbox_init(&mb), 0);
	for (unsigned int i = 0; i < DP_CALLS; i++)
		assert_int_equal(dp_mailbox_post_call(&mb, call_fn, &arg[i]), 0);
	assert_int_equal(dp_mailbox_post_call(&mb, call_fn, &arg[DP_CALLS]),
			 -EAGAIN);
	assert_int_equal(dp_mailbox_take_calls(&mb, c), DP_CALLS);
	for (unsigned int i = 0; i < DP_CALLS; i++) {
		assert_ptr_equal(c[i].fn, call_fn);
		assert_ptr_equal(c[i].arg, &arg[i]);
	}
	assert_int_equal(dp_mailbox_take_calls(&mb, c), 0);
	assert_int_equal(dp_mailbox_post_call(&mb, call_fn, &arg[0]), 0);
	dp_mailbox_fini(&mb);
	for (unsigned int i = 0; i <= DP_CALLS; i++)
		assert_int_equal(arg[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mailbox_takes_in_order_and_is_bounded),
		cmocka_unit_test(mailbox_fini_destroys_unserved_adds),
		cmocka_unit_test(mailbox_calls_in_order_and_bounded),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
