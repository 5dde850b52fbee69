// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "test_exit.h"
#include "nat/opts.h"

static void opts_u32_strict(void **state)
{
	uint32_t v = 7;

	(void)state;
	assert_int_equal(opts_parse_u32("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(opts_parse_u32("4294967295", 0, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(opts_parse_u32("4294967296", 0, UINT32_MAX, &v), -ERANGE);
	assert_int_equal(opts_parse_u32("99999999999999999999", 0, 5, &v), -ERANGE);
	assert_int_equal(opts_parse_u32("11", 0, 10, &v), -ERANGE);
	assert_int_equal(opts_parse_u32("4", 5, 10, &v), -ERANGE);
	assert_int_equal(opts_parse_u32("", 0, 10, &v), -EINVAL);
	assert_int_equal(opts_parse_u32("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(opts_parse_u32("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(opts_parse_u32(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(opts_parse_u32("0x1", 0, 10, &v), -EINVAL);
	assert_int_equal(v, UINT32_MAX);	/* untouched by failures */
}

static void opts_prefix(void **state)
{
	uint32_t a = 0;
	unsigned int l = 0;

	(void)state;
	assert_int_equal(opts_parse_prefix("198.51.100.2/24", 0, &a, &l), 0);
	assert_int_equal(a, htonl(0xc6336402));
	assert_int_equal(l, 24);
	assert_int_equal(opts_parse_prefix("10.0.2.1", 24, &a, &l), 0);
	assert_int_equal(l, 24);
	assert_int_equal(opts_parse_prefix("10.0.2.1", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("10.0.2.1/33", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("10.0.2.1/", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("10.0.2/24", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("10.0.2.256/24", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("10.0.2.1/2x", 0, &a, &l), -EINVAL);
	assert_int_equal(opts_parse_prefix("1111111111111111.0.2.1/2", 0, &a, &l),
			 -EINVAL);
}

static void opts_forward(void **state)
{
	struct nat_forward f;

	(void)state;
	assert_int_equal(opts_parse_forward("tcp:8080:10.0.2.2:80", &f), 0);
	assert_int_equal(f.proto, IPPROTO_TCP);
	assert_int_equal(f.ext_port, 8080);
	assert_int_equal(f.int_addr, htonl(0x0a000202));
	assert_int_equal(f.int_port, 80);
	assert_int_equal(opts_parse_forward("udp:53:10.0.2.3:5353", &f), 0);
	assert_int_equal(f.proto, IPPROTO_UDP);
	assert_int_equal(opts_parse_forward("icmp:1:10.0.2.2:1", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:0:10.0.2.2:80", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:80:10.0.2.2:65536", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:80:10.0.2.2", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:80:10.0.2.2:80:1", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp::10.0.2.2:80", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:80:10.0.2.2:80:", &f), -EINVAL);
	assert_int_equal(opts_parse_forward("tcp:80:host:80", &f), -EINVAL);
}

static void opts_netns_split(void **state)
{
	char a[] = "tap0@ns1", b[] = "eth0", c[] = "eth0@", d[] = "@ns",
	     e[] = "abcdefghijklmnop@ns";
	const char *ns;

	(void)state;
	assert_int_equal(opts_split_netns(a, &ns), 0);
	assert_string_equal(a, "tap0");
	assert_string_equal(ns, "ns1");
	assert_int_equal(opts_split_netns(b, &ns), 0);
	assert_null(ns);
	assert_int_equal(opts_split_netns(c, &ns), -EINVAL);
	assert_int_equal(opts_split_netns(d, &ns), -EINVAL);
	assert_int_equal(opts_split_netns(e, &ns), -EINVAL);
}

static void opts_filtering(void **state)
{
	enum nat_filtering f = NAT_FILTER_APDF;

	(void)state;
	assert_int_equal(opts_parse_filtering("eif", &f), 0);
	assert_int_equal(f, NAT_FILTER_EIF);
	assert_int_equal(opts_parse_filtering("adf", &f), 0);
	assert_int_equal(f, NAT_FILTER_ADF);
	assert_int_equal(opts_parse_filtering("apdf", &f), 0);
	assert_int_equal(f, NAT_FILTER_APDF);
	assert_int_equal(opts_parse_filtering("EIF", &f), -EINVAL);
	assert_int_equal(opts_parse_filtering("", &f), -EINVAL);
}

/* pasta's -t/-u syntax */
static void opts_port_range(void **state)
{
	static const char *const bad[] = {
		"", "0", "65536", "80:", ":80", "80:0", "8000-7999",
		"8000-8010:9000-9009", "8000-8010:9000", "1.2.3/80",
		"/80", "1.2.3.4/", "1.2.3.4/80:x", "80-", "-80", "80--90",
		"80:90:100", "8000-8010:65530-65540", " 80", "80 ",
		"all", "~80", "1.2.3.4/5/80", "127.0.0.1/8080:80:1",
	};
	struct opts_port_range r;

	(void)state;
	assert_int_equal(opts_parse_port_range("8080", &r), 0);
	assert_int_equal(r.addr, 0);
	assert_int_equal(r.host_first, 8080);
	assert_int_equal(r.host_last, 8080);
	assert_int_equal(r.guest_first, 8080);
	assert_int_equal(opts_parse_port_range("8080:80", &r), 0);
	assert_int_equal(r.host_first, 8080);
	assert_int_equal(r.guest_first, 80);
	assert_int_equal(opts_parse_port_range("127.0.0.1/8080:80", &r), 0);
	assert_int_equal(r.addr, htonl(0x7f000001));
	assert_int_equal(r.host_first, 8080);
	assert_int_equal(r.host_last, 8080);
	assert_int_equal(r.guest_first, 80);
	assert_int_equal(opts_parse_port_range("8000-8010:9000-9010", &r), 0);
	assert_int_equal(r.host_first, 8000);
	assert_int_equal(r.host_last, 8010);
	assert_int_equal(r.guest_first, 9000);
	assert_int_equal(opts_parse_port_range("10.0.0.1/8000-8010", &r), 0);
	assert_int_equal(r.addr, htonl(0x0a000001));
	assert_int_equal(r.guest_first, 8000);
	assert_int_equal(r.host_last, 8010);
	assert_int_equal(opts_parse_port_range("1-65535", &r), 0);
	assert_int_equal(r.host_last, 65535);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r.host_first = 4242;
		if (opts_parse_port_range(bad[i], &r) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_u32_strict),
		cmocka_unit_test(opts_prefix),
		cmocka_unit_test(opts_forward),
		cmocka_unit_test(opts_netns_split),
		cmocka_unit_test(opts_filtering),
		cmocka_unit_test(opts_port_range),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
