// SPDX-License-Identifier: MIT
/*
 * test_netlink.c - unit tests for src/sys/netlink and src/sys/netns.
 *
 * Needs root and /dev/net/tun; main() moves the whole program into a
 * private network namespace (unshare(CLONE_NEWNET)) before anything else,
 * so nothing here touches the host's links, addresses or routes. Not root,
 * it skips (exit 77); as root, a missing piece is a failure. Links are TAP
 * devices from tuntap_open(), gone when their fd is closed. Routes are
 * checked against `ip -4 route`, an independent reader of the same table.
 * The netns round trip uses a PID-named namespace made with `ip netns add`,
 * deleted by the test's teardown whether the test passed or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_exit.h"
#include "sys/netlink.h"
#include "sys/netns.h"
#include "sys/tuntap.h"

#define A(a, b, c, d) htonl((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static struct nl *nl;
static char ns_name[64];

static int group_setup(void **state)
{
	(void)state;
	return nl_open(&nl) ? -1 : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nl_close(nl);
	nl_close(NULL); /* NULL-safe */
	return 0;
}

/* A TAP device that the caller closes; its index in *ifindex. */
static int tap(const char *name, unsigned int *ifindex)
{
	char ifname[IFNAMSIZ];
	int fd = tuntap_open(name, TUNTAP_TAP, ifname, NULL);

	assert_true(fd >= 0);
	assert_int_equal(nl_link_index(nl, ifname, ifindex), 0);
	assert_int_equal(*ifindex, if_nametoindex(name));
	return fd;
}

/* Whether `ip -4 -o route show exact PREFIX` prints a line with all of
 * @want1 and @want2. */
static bool route_has(const char *prefix, const char *want1,
		      const char *want2)
{
	char cmd[128], line[512];
	bool found = false;
	FILE *p;

	(void)snprintf(cmd, sizeof(cmd),
		       "ip -4 -o route show exact %s 2>&1", prefix);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p)) {
		if (strstr(line, want1) && strstr(line, want2))
			found = true;
		else
			print_message("ip route: %s", line);
	}
	assert_int_equal(pclose(p), 0);
	return found;
}

static void test_loopback(void **state)
{
	uint8_t mac[6] = { 1, 1, 1, 1, 1, 1 };
	unsigned int idx = 0, mtu = 0;
	bool up = true;

	(void)state;
	assert_int_equal(nl_link_index(nl, "lo", &idx), 0);
	assert_int_equal(idx, 1);
	/* A fresh namespace's lo is down. */
	assert_int_equal(nl_link_info(nl, 1, mac, &mtu, &up), 0);
	assert_false(up);
	assert_int_equal(mtu, 65536);
	assert_memory_equal(mac, "\0\0\0\0\0\0", 6);
	assert_int_equal(nl_link_set_up(nl, 1, true), 0);
	assert_int_equal(nl_link_info(nl, 1, NULL, NULL, &up), 0);
	assert_true(up);
	/* The kernel gave lo its addresses when it went up. */
	assert_int_equal(nl_addr4_first(nl, 1, &idx, &mtu), 0);
	assert_int_equal(idx, A(127, 0, 0, 1));
	assert_int_equal(mtu, 8);
}

static void test_link(void **state)
{
	uint8_t mac[6] = { 0 };
	unsigned int idx, mtu = 0;
	bool up = true;
	int fd;

	(void)state;
	fd = tap("annl0", &idx);
	assert_true(idx > 1);
	assert_int_equal(nl_link_info(nl, idx, mac, &mtu, &up), 0);
	assert_int_equal(mtu, 1500);
	assert_false(up);
	/* A random MAC: unicast, locally administered. */
	assert_int_equal(mac[0] & 0x03, 0x02);
	assert_int_equal(nl_link_info(nl, idx, NULL, NULL, NULL), 0);

	assert_int_equal(nl_link_set_mtu(nl, idx, 9000), 0);
	assert_int_equal(nl_link_info(nl, idx, NULL, &mtu, NULL), 0);
	assert_int_equal(mtu, 9000);
	assert_int_equal(nl_link_set_mtu(nl, idx, 10), -EINVAL);
	assert_int_equal(nl_link_set_mtu(nl, idx, 1u << 20), -EINVAL);
	assert_int_equal(nl_link_info(nl, idx, NULL, &mtu, NULL), 0);
	assert_int_equal(mtu, 9000);

	assert_int_equal(nl_link_set_up(nl, idx, true), 0);
	assert_int_equal(nl_link_info(nl, idx, NULL, NULL, &up), 0);
	assert_true(up);
	assert_int_equal(nl_link_set_up(nl, idx, false), 0);
	assert_int_equal(nl_link_info(nl, idx, NULL, NULL, &up), 0);
	assert_false(up);
	assert_int_equal(close(fd), 0);
	assert_int_equal(nl_link_info(nl, idx, NULL, NULL, NULL), -ENODEV);
}

static void test_addr_route(void **state)
{
	uint32_t addr = 0;
	unsigned int idx, plen = 0;
	int fd;

	(void)state;
	fd = tap("annl1", &idx);
	assert_int_equal(nl_link_set_up(nl, idx, true), 0);
	assert_int_equal(nl_addr4_first(nl, idx, &addr, &plen), -ENOENT);

	assert_int_equal(nl_addr4_add(nl, idx, A(10, 9, 8, 7), 24), 0);
	assert_int_equal(nl_addr4_add(nl, idx, A(10, 9, 8, 7), 24), 0);
	assert_int_equal(nl_addr4_add(nl, idx, A(10, 9, 8, 7), 33), -EINVAL);
	assert_int_equal(nl_addr4_first(nl, idx, &addr, &plen), 0);
	assert_int_equal(addr, A(10, 9, 8, 7));
	assert_int_equal(plen, 24);
	assert_int_equal(nl_addr4_first(nl, idx, &addr, NULL), 0);
	assert_true(route_has("10.9.8.0/24", "dev annl1", "proto kernel"));

	/* On-link, twice, then through a gateway on that link. */
	assert_int_equal(nl_route4_add(nl, A(10, 20, 30, 0), 24, 0, idx), 0);
	assert_int_equal(nl_route4_add(nl, A(10, 20, 30, 0), 24, 0, idx), 0);
	assert_true(route_has("10.20.30.0/24", "dev annl1", "scope link"));
	assert_int_equal(nl_route4_add(nl, A(10, 77, 0, 0), 16,
				       A(10, 9, 8, 1), idx),
			 0);
	assert_true(route_has("10.77.0.0/16", "via 10.9.8.1 dev annl1",
			      "proto static"));
	/* The gateway alone is enough to find the link. */
	assert_int_equal(nl_route4_add(nl, 0, 0, A(10, 9, 8, 1), 0), 0);
	assert_true(route_has("0.0.0.0/0", "default via 10.9.8.1",
			      "dev annl1"));

	/* Host bits set, bad length, no way out, unreachable gateway. */
	assert_int_equal(nl_route4_add(nl, A(10, 20, 31, 1), 24, 0, idx),
			 -EINVAL);
	assert_int_equal(nl_route4_add(nl, A(10, 20, 32, 0), 33, 0, idx),
			 -EINVAL);
	assert_int_equal(nl_route4_add(nl, A(10, 20, 32, 0), 24, 0, 0),
			 -EINVAL);
	assert_true(nl_route4_add(nl, A(10, 20, 33, 0), 24, A(192, 0, 2, 1),
				  0) < 0);
	assert_int_equal(close(fd), 0);
}

static void test_missing(void **state)
{
	unsigned int idx = 77;
	uint32_t addr = 0;

	(void)state;
	assert_int_equal(nl_link_index(nl, "annl-missing", &idx), -ENODEV);
	assert_int_equal(idx, 77);
	assert_int_equal(nl_link_index(nl, "", &idx), -EINVAL);
	assert_int_equal(nl_link_index(nl, "an-name-16-chars", &idx), -EINVAL);
	assert_int_equal(nl_link_info(nl, 99999, NULL, NULL, NULL), -ENODEV);
	assert_int_equal(nl_link_info(nl, 0, NULL, NULL, NULL), -ENODEV);
	assert_int_equal(nl_link_set_mtu(nl, 99999, 1500), -ENODEV);
	assert_int_equal(nl_link_set_up(nl, 99999, true), -ENODEV);
	assert_int_equal(nl_addr4_add(nl, 99999, A(10, 1, 1, 1), 24), -ENODEV);
	assert_int_equal(nl_addr4_first(nl, 99999, &addr, NULL), -ENOENT);
	/* The socket is still in step after all those errors. */
	assert_int_equal(nl_link_index(nl, "lo", &idx), 0);
	assert_int_equal(idx, 1);
}

static void test_netns_missing(void **state)
{
	char name[64];
	int saved = -1;

	(void)state;
	(void)snprintf(name, sizeof(name), "an-missing-%d", (int)getpid());
	assert_int_equal(netns_enter(name, &saved), -ENOENT);
	assert_int_equal(netns_enter("/nonexistent/ns/net", &saved), -ENOENT);
	assert_int_equal(netns_enter("", &saved), -EINVAL);
	assert_int_equal(netns_enter("..", &saved), -EINVAL);
	/* A file that is no namespace. */
	assert_int_equal(netns_enter("/proc/self/status", &saved), -EINVAL);
	assert_int_equal(saved, -1);
	assert_int_equal(netns_leave(-1), -EBADF);
}

/* The inode of the calling thread's network namespace. */
static ino_t netns_ino(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static int netns_teardown(void **state)
{
	char cmd[128];

	(void)state;
	if (!ns_name[0])
		return 0;
	(void)snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null",
		       ns_name);
	ns_name[0] = '\0';
	return system(cmd) == 0 ? 0 : -1;
}

static void test_netns_round_trip(void **state)
{
	const char *self = "/proc/thread-self/ns/net";
	ino_t home = netns_ino(self);
	char cmd[128], path[128];
	struct nl *inner = NULL;
	unsigned int idx = 0;
	int saved = -1;
	bool up = true;

	(void)state;
	(void)snprintf(ns_name, sizeof(ns_name), "an-t-%d", (int)getpid());
	(void)snprintf(cmd, sizeof(cmd), "ip netns add %s", ns_name);
	if (system(cmd) != 0) {
		ns_name[0] = '\0';
		fail_msg("as root, '%s' failed: a setup failure, not a skip", cmd);
	}
	(void)snprintf(path, sizeof(path), "%s/%s", NETNS_RUN_DIR, ns_name);

	assert_int_equal(netns_enter(ns_name, &saved), 0);
	assert_true(saved >= 0);
	assert_int_equal(netns_ino(self), netns_ino(path));
	/* A socket opened inside sees the inside: a lo still down. */
	assert_int_equal(nl_open(&inner), 0);
	assert_int_equal(nl_link_index(inner, "lo", &idx), 0);
	assert_int_equal(nl_link_info(inner, idx, NULL, NULL, &up), 0);
	assert_false(up);
	nl_close(inner);
	assert_int_equal(netns_leave(saved), 0);
	assert_int_equal(netns_ino(self), home);

	/* The same by path; our lo is up (test_loopback). */
	assert_int_equal(netns_enter(path, &saved), 0);
	assert_int_equal(netns_ino(self), netns_ino(path));
	assert_int_equal(netns_leave(saved), 0);
	assert_int_equal(netns_ino(self), home);
	assert_int_equal(nl_link_info(nl, 1, NULL, NULL, &up), 0);
	assert_true(up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_addr_route),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_netns_missing),
		cmocka_unit_test_teardown(test_netns_round_trip,
					  netns_teardown),
	};

	/* Not root is the one reason not to run; as root, every missing
	 * piece is a failure (tests/run must not count it as a skip). */
	if (geteuid() != 0)
		return test_exit_skip("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)");
	if (access("/dev/net/tun", F_OK))
		return test_exit_fail("as root, no /dev/net/tun (modprobe tun)");
	if (unshare(CLONE_NEWNET))
		return test_exit_fail("as root, unshare(CLONE_NEWNET): %s",
				      strerror(errno));
	return TEST_RUN_GROUP(tests, group_setup, group_teardown);
}
