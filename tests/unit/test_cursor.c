// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_exit.h"
#include "pkt/cursor.h"

static void cursor_reads_within_window(void **state)
{
	const uint8_t data[] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde };
	struct pkt_cursor c;
	uint16_t v16;
	uint32_t v32;
	uint8_t v8;

	(void)state;
	pkt_cursor_init(&c, data, sizeof(data));
	assert_true(pkt_cursor_be16(&c, &v16));
	assert_int_equal(v16, 0x1234);
	assert_true(pkt_cursor_be32(&c, &v32));
	assert_int_equal(v32, 0x56789abc);
	assert_int_equal(pkt_cursor_remaining(&c), 1);
	assert_false(pkt_cursor_be16(&c, &v16));
	assert_int_equal(c.off, 6);	/* a failed read consumes nothing */
	assert_true(pkt_cursor_u8(&c, &v8));
	assert_int_equal(v8, 0xde);
	assert_false(pkt_cursor_u8(&c, &v8));
	assert_null(pkt_cursor_peek(&c, 1));
	assert_non_null(pkt_cursor_peek(&c, 0));
}

static void cursor_limit_narrows(void **state)
{
	uint8_t data[16] = { 0 };
	struct pkt_cursor c;

	(void)state;
	pkt_cursor_init(&c, data, sizeof(data));
	assert_true(pkt_cursor_skip(&c, 4));
	assert_false(pkt_cursor_limit(&c, 13));
	assert_true(pkt_cursor_limit(&c, 8));
	assert_int_equal(c.len, 12);
	assert_null(pkt_cursor_pull(&c, 9));
	assert_non_null(pkt_cursor_pull(&c, 8));
	assert_int_equal(pkt_cursor_remaining(&c), 0);
}

/* Huge sizes and offsets never wrap around the bounds check. */
static void cursor_no_overflow(void **state)
{
	uint8_t data[8] = { 0 };
	struct pkt_cursor c;

	(void)state;
	pkt_cursor_init(&c, data, sizeof(data));
	assert_null(pkt_cursor_peek(&c, SIZE_MAX));
	assert_null(pkt_cursor_at(&c, SIZE_MAX, 1));
	assert_null(pkt_cursor_at(&c, 4, SIZE_MAX - 2));
	assert_false(pkt_cursor_skip(&c, SIZE_MAX));
	assert_false(pkt_cursor_limit(&c, SIZE_MAX));
	assert_non_null(pkt_cursor_at(&c, 8, 0));
	assert_null(pkt_cursor_at(&c, 9, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cursor_reads_within_window),
		cmocka_unit_test(cursor_limit_narrows),
		cmocka_unit_test(cursor_no_overflow),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
