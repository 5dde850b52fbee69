// SPDX-License-Identifier: MIT
/*
 * test_dns_local.c - unit tests for src/svc/dns_local (the names the DNS
 * forwarder answers itself), through the forwarder's dns_query() as the
 * datapath calls it: gateway, host and DHCP names under the local domain,
 * NODATA and NXDOMAIN, the reverse names of those addresses, another
 * domain, and that none of it goes upstream while other reverse names do.
 * Harness in tests/unit/dns_harness.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_exit.h"
#include "unit/dns_harness.h"

/* ---- local names ---- */

static void test_local_a(void **state)
{
	static const char *const nx[] = {
		"nobody.arcnat.internal", "a.gateway.arcnat.internal",
		"x.y.arcnat.internal",
	};
	unsigned int i;

	(void)state;
	td_init();
	assert_true(ask("GateWay.ARCnat.Internal", DNS_TYPE_A, 0x0101) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	assert_true(T.rm.flags & DNS_F_AA);
	assert_true(T.rm.flags & DNS_F_RD);
	assert_int_equal(T.rm.ancount, 1);
	assert_int_equal(answer_a_of(T.reply, &T.rm), GW);
	assert_int_equal(answer_ttl_of(T.reply, &T.rm), DNS_LOCAL_TTL);
	assert_false(T.rm.has_opt);

	assert_true(ask("host.arcnat.internal", DNS_TYPE_A, 2) > 0);
	assert_int_equal(answer_a_of(T.reply, &T.rm), HOST);
	assert_true(ask("GUEST1.arcnat.internal", DNS_TYPE_A, 3) > 0);
	assert_int_equal(answer_a_of(T.reply, &T.rm), GUEST);
	assert_true(ask("guest1.arcnat.internal", DNS_TYPE_ANY, 4) > 0);
	assert_int_equal(answer_a_of(T.reply, &T.rm), GUEST);

	for (i = 0; i < ARRAY_SIZE(nx); i++) {
		assert_true(ask(nx[i], DNS_TYPE_A, 5) > 0);
		assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NXDOMAIN);
		assert_true(T.rm.flags & DNS_F_AA);
		assert_int_equal(T.rm.ancount, 0);
	}
	/* NODATA: other types, other classes, the domain itself. */
	assert_true(ask("gateway.arcnat.internal", DNS_TYPE_AAAA, 6) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	assert_int_equal(T.rm.ancount, 0);
	assert_true(ask_c(&udp_client, "gateway.arcnat.internal", DNS_TYPE_A,
			  DNS_CLASS_CH, 7, 0) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	assert_int_equal(T.rm.ancount, 0);
	assert_true(ask("arcnat.internal", DNS_TYPE_A, 8) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	assert_int_equal(T.rm.ancount, 0);

	/* With EDNS0 the reply has OPT. */
	assert_true(ask_c(&udp_client, "gateway.arcnat.internal", DNS_TYPE_A,
			  DNS_CLASS_IN, 9, 1232) > 0);
	assert_true(T.rm.has_opt);
	assert_int_equal(T.rm.opt_size, DNS_EDNS_MAX);

	assert_int_equal(T.n_up, 0);	/* never upstream */
	assert_int_equal(st()->local, 11);
	assert_int_equal(st()->queries_udp, 11);
	td_fini();

	/* No host address: host.<domain> is unknown. */
	default_cfg(&T.cfg);
	T.cfg.host_addr = 0;
	td_start();
	assert_true(ask("host.arcnat.internal", DNS_TYPE_A, 1) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NXDOMAIN);
	td_fini();
}

/* The PTR target of the last immediate reply, compared to @want (dotted). */
static void check_ptr(const char *want)
{
	uint8_t w[DNS_NAME_MAX];
	int n = dns_name_from_str(want, w);
	size_t end = T.rm.len - (T.rm.has_opt ? DNS_OPT_LEN : 0);

	assert_int_equal(T.rm.ancount, 1);
	assert_int_equal(r16(T.reply + T.rm.q_end + 2), DNS_TYPE_PTR);
	assert_int_equal(r16(T.reply + T.rm.q_end + 10), n);
	assert_memory_equal(T.reply + end - (size_t)n, w, (size_t)n);
}

static void test_local_ptr(void **state)
{
	(void)state;
	td_init();
	assert_true(ask("1.2.0.10.in-addr.arpa", DNS_TYPE_PTR, 1) > 0);
	check_ptr("gateway.arcnat.internal");
	assert_true(T.rm.flags & DNS_F_AA);
	assert_true(ask("2.2.0.10.IN-ADDR.ARPA", DNS_TYPE_PTR, 2) > 0);
	check_ptr("host.arcnat.internal");
	assert_true(ask("15.2.0.10.in-addr.arpa", DNS_TYPE_PTR, 3) > 0);
	check_ptr("guest1.arcnat.internal");	/* lowercased */
	assert_true(ask("15.2.0.10.in-addr.arpa", DNS_TYPE_A, 4) > 0);
	assert_int_equal(dns_msg_rcode(&T.rm), DNS_RCODE_NOERROR);
	assert_int_equal(T.rm.ancount, 0);
	assert_int_equal(T.n_up, 0);

	/* Not ours: upstream. */
	assert_int_equal(ask("99.2.0.10.in-addr.arpa", DNS_TYPE_PTR, 5), 0);
	assert_int_equal(ask("01.2.0.10.in-addr.arpa", DNS_TYPE_PTR, 6), 0);
	assert_int_equal(ask("1.2.0.10.in-addr.arpa.example", DNS_TYPE_PTR, 7), 0);
	assert_int_equal(T.n_up, 3);
	td_fini();

	/* Another domain. */
	default_cfg(&T.cfg);
	T.cfg.domain = "Lan.Test.";
	td_start();
	assert_true(ask("gateway.lan.test", DNS_TYPE_A, 1) > 0);
	assert_int_equal(answer_a_of(T.reply, &T.rm), GW);
	assert_true(ask("1.2.0.10.in-addr.arpa", DNS_TYPE_PTR, 2) > 0);
	check_ptr("gateway.lan.test");
	assert_int_equal(ask("gateway.arcnat.internal", DNS_TYPE_A, 3), 0);
	td_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_a),
		cmocka_unit_test(test_local_ptr),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
