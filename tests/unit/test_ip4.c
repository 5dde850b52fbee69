// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "test_exit.h"
#include "prot/ip4.h"

static void ip4_prefix_mask_all_lengths(void **state)
{
	(void)state;
	assert_int_equal(ip4_prefix_mask(0), 0);
	for (unsigned int plen = 1; plen <= 32; plen++) {
		uint32_t want = 0;

		for (unsigned int b = 0; b < plen; b++)
			want |= 1u << (31 - b);
		assert_int_equal(ntohl(ip4_prefix_mask(plen)), want);
	}
	assert_int_equal(ip4_prefix_mask(33), 0xffffffffu);	/* clamped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ip4_prefix_mask_all_lengths),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
