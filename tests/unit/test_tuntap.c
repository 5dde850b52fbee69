// SPDX-License-Identifier: MIT
/*
 * test_tuntap.c - unit tests for src/sys/tuntap.
 *
 * Needs root and /dev/net/tun; main() moves the whole program into a
 * private network namespace first (unshare(CLONE_NEWNET)), so the devices
 * made here are invisible to the host and vanish with the process. Not
 * root, it skips (exit 77); as root, a missing piece is a failure. IPv6 is turned off in that namespace
 * so that a device going up sends nothing (no DAD, no router solicitation)
 * and a read that finds nothing means what the test says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "test_exit.h"
#include "sys/netlink.h"
#include "sys/tuntap.h"

#define OFF_BASE (TUNTAP_OFF_CSUM | TUNTAP_OFF_TSO4 | TUNTAP_OFF_TSO6)
#define OFF_USO	 (TUNTAP_OFF_USO4 | TUNTAP_OFF_USO6)

/* Linux >= 6.2 takes UDP segmentation offload. */
static bool kernel_has_uso(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 2);
}

/* The IFF_* flags the kernel has for the device behind @fd. */
static unsigned int tun_flags(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
	return (unsigned short)ifr.ifr_flags;
}

static void test_tap_vnet(void **state)
{
	char ifname[IFNAMSIZ];
	unsigned int off = ~0u;
	int fd, hdr = 0;

	(void)state;
	fd = tuntap_open("antap0", TUNTAP_TAP | TUNTAP_VNET, ifname, &off);
	assert_true(fd >= 0);
	assert_string_equal(ifname, "antap0");
	assert_int_equal(off & OFF_BASE, OFF_BASE);
	if (kernel_has_uso())
		assert_int_equal(off & OFF_USO, OFF_USO);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(tun_flags(fd) & (IFF_TAP | IFF_TUN | IFF_NO_PI |
					  IFF_VNET_HDR | IFF_MULTI_QUEUE),
			 IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &hdr), 0);
	assert_int_equal(hdr, TUNTAP_VNET_HDR_LEN);
	assert_true(if_nametoindex("antap0") > 0);
	assert_int_equal(close(fd), 0);
	/* Not persistent: gone with its fd. */
	assert_int_equal(if_nametoindex("antap0"), 0);
}

static void test_tun_plain(void **state)
{
	char ifname[IFNAMSIZ];
	unsigned int off = ~0u;
	int fd;

	(void)state;
	fd = tuntap_open("antun0", 0, ifname, &off);
	assert_true(fd >= 0);
	assert_string_equal(ifname, "antun0");
	assert_int_equal(off, 0);
	assert_int_equal(tun_flags(fd) & (IFF_TAP | IFF_TUN | IFF_NO_PI |
					  IFF_VNET_HDR | IFF_MULTI_QUEUE),
			 IFF_TUN | IFF_NO_PI);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(close(fd), 0);

	/* Out pointers are optional; the kernel numbers a "%d" name. */
	fd = tuntap_open("antun%d", 0, ifname, NULL);
	assert_true(fd >= 0);
	assert_int_equal(strncmp(ifname, "antun", 5), 0);
	assert_true(if_nametoindex(ifname) > 0);
	assert_int_equal(close(fd), 0);
	fd = tuntap_open("antun1", TUNTAP_VNET, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
}

static void test_bad_args(void **state)
{
	char ifname[IFNAMSIZ] = "unchanged";

	(void)state;
	assert_int_equal(tuntap_open("", TUNTAP_TAP, ifname, NULL), -EINVAL);
	assert_int_equal(tuntap_open(NULL, TUNTAP_TAP, ifname, NULL), -EINVAL);
	/* IFNAMSIZ - 1 = 15 characters is the longest name. */
	assert_int_equal(tuntap_open("an-name-16-chars", TUNTAP_TAP, ifname,
				     NULL),
			 -EINVAL);
	assert_int_equal(tuntap_open("a/b", TUNTAP_TAP, ifname, NULL), -EINVAL);
	assert_int_equal(tuntap_open("a b", TUNTAP_TAP, ifname, NULL), -EINVAL);
	assert_int_equal(tuntap_open("..", TUNTAP_TAP, ifname, NULL), -EINVAL);
	assert_int_equal(tuntap_open("antap0", 1u << 7, ifname, NULL), -EINVAL);
	assert_string_equal(ifname, "unchanged");
}

/* Take the persistent test device away, whatever state a failed test left
 * it in. */
static int persist_teardown(void **state)
{
	int fd = tuntap_open("anpersist", TUNTAP_TAP | TUNTAP_VNET, NULL, NULL);

	(void)state;
	if (fd >= 0) {
		(void)ioctl(fd, TUNSETPERSIST, 0);
		(void)close(fd);
	}
	return if_nametoindex("anpersist") ? -1 : 0;
}

static void test_persistent_reattach(void **state)
{
	char ifname[IFNAMSIZ];
	unsigned int off = 0;
	int fd, fd2;

	(void)state;
	fd = tuntap_open("anpersist", TUNTAP_TAP | TUNTAP_VNET, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
	/* Attached: a second single-queue fd is refused. */
	assert_int_equal(tuntap_open("anpersist", TUNTAP_TAP | TUNTAP_VNET,
				     NULL, NULL),
			 -EBUSY);
	assert_int_equal(close(fd), 0);
	assert_true(if_nametoindex("anpersist") > 0);

	fd2 = tuntap_open("anpersist", TUNTAP_TAP | TUNTAP_VNET, ifname, &off);
	assert_true(fd2 >= 0);
	assert_string_equal(ifname, "anpersist");
	assert_int_equal(off & OFF_BASE, OFF_BASE);
	assert_int_equal(close(fd2), 0);

	/* Exists with another type or queue mode. */
	assert_int_equal(tuntap_open("anpersist", 0, NULL, NULL), -EBUSY);
	assert_int_equal(tuntap_open("anpersist",
				     TUNTAP_TAP | TUNTAP_MULTI_QUEUE, NULL,
				     NULL),
			 -EBUSY);
	/* Exists and is no TUN/TAP device at all. */
	assert_int_equal(tuntap_open("lo", TUNTAP_TAP, NULL, NULL), -EBUSY);

	/* Attaching without the vnet header is allowed and drops it. */
	fd = tuntap_open("anpersist", TUNTAP_TAP, NULL, &off);
	assert_true(fd >= 0);
	assert_int_equal(off, 0);
	assert_int_equal(tun_flags(fd) & IFF_VNET_HDR, 0);
	assert_int_equal(ioctl(fd, TUNSETPERSIST, 0), 0);
	assert_int_equal(close(fd), 0);
	assert_int_equal(if_nametoindex("anpersist"), 0);
}

static void test_multi_queue(void **state)
{
	const unsigned int fl = TUNTAP_TAP | TUNTAP_VNET | TUNTAP_MULTI_QUEUE;
	int fd[3];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		fd[i] = tuntap_open("anmq0", fl, NULL, NULL);
		assert_true(fd[i] >= 0);
		assert_true(tun_flags(fd[i]) & IFF_MULTI_QUEUE);
	}
	/* Single queue on a multi-queue device: other flags. */
	assert_int_equal(tuntap_open("anmq0", TUNTAP_TAP | TUNTAP_VNET, NULL,
				     NULL),
			 -EBUSY);
	for (i = 0; i < 3; i++)
		assert_int_equal(close(fd[i]), 0);
	assert_int_equal(if_nametoindex("anmq0"), 0);
}

static void test_write_then_nothing_to_read(void **state)
{
	unsigned char frame[TUNTAP_VNET_HDR_LEN + 60];
	static const unsigned char src[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	unsigned char *eth = frame + TUNTAP_VNET_HDR_LEN;
	unsigned char buf[2048];
	struct pollfd pfd;
	unsigned int idx = 0;
	struct nl *nl = NULL;
	int fd;

	(void)state;
	fd = tuntap_open("antap9", TUNTAP_TAP | TUNTAP_VNET, NULL, NULL);
	assert_true(fd >= 0);
	/* Nothing yet, and no blocking. */
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);

	assert_int_equal(nl_open(&nl), 0);
	assert_int_equal(nl_link_index(nl, "antap9", &idx), 0);
	assert_int_equal(nl_link_set_up(nl, idx, true), 0);
	nl_close(nl);

	/* Zeroed virtio header; broadcast frame of an experimental
	 * ethertype (0x88b5), which the kernel takes and drops. */
	memset(frame, 0, sizeof(frame));
	memset(eth, 0xff, 6);
	memcpy(eth + 6, src, sizeof(src));
	eth[12] = 0x88;
	eth[13] = 0xb5;
	assert_int_equal(write(fd, frame, sizeof(frame)), sizeof(frame));

	pfd.fd = fd;
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 100), 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(close(fd), 0);
}

/* Write "1" to a sysctl file of this namespace; missing files are fine
 * (a kernel without IPv6). */
static void sysctl_one(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	(void)fputs("1\n", f);
	(void)fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap_vnet),
		cmocka_unit_test(test_tun_plain),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test_teardown(test_persistent_reattach,
					  persist_teardown),
		cmocka_unit_test(test_multi_queue),
		cmocka_unit_test(test_write_then_nothing_to_read),
	};

	/* Not root is the one reason not to run; as root, every missing
	 * piece is a failure (tests/run must not count it as a skip). */
	if (geteuid() != 0)
		return test_exit_skip("needs root (CAP_NET_ADMIN)");
	if (access("/dev/net/tun", F_OK))
		return test_exit_fail("as root, no /dev/net/tun (modprobe tun)");
	if (unshare(CLONE_NEWNET))
		return test_exit_fail("as root, unshare(CLONE_NEWNET): %s",
				      strerror(errno));
	sysctl_one("/proc/sys/net/ipv6/conf/default/disable_ipv6");
	sysctl_one("/proc/sys/net/ipv6/conf/all/disable_ipv6");
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
