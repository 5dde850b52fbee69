// SPDX-License-Identifier: MIT
/*
 * tuntap.c - open TUN/TAP devices (see tuntap.h).
 *
 * Theory of operation: /dev/net/tun is opened non-blocking and
 * close-on-exec, and TUNSETIFF binds the fd to a device, creating it if the
 * name is free. The kernel answers -EINVAL both for a name it refuses and
 * for an existing device of another type or queue mode; the name is checked
 * here first with the kernel's own rules (dev_valid_name()), so an -EINVAL
 * from TUNSETIFF can only mean the latter and is reported as -EBUSY, like a
 * device already in use.
 *
 * Offloads are negotiated by asking for everything arcnat can handle and
 * stepping down on -EINVAL, which is how the kernel says "a bit I do not
 * know" (USO before 6.2) or "a combination I do not take".
 */
#include "sys/tuntap.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/compiler.h"

/* UDP segmentation offload, Linux 6.2; bookworm's headers predate it. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

#define TUNTAP_DEV "/dev/net/tun"

#define TUNTAP_FLAGS_ALL (TUNTAP_TAP | TUNTAP_VNET | TUNTAP_MULTI_QUEUE)

/* Offload sets tried in turn, richest first. */
static const unsigned int tuntap_off_steps[] = {
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	TUN_F_CSUM,
	0,
};

/* The rules of the kernel's dev_valid_name(). */
static bool tuntap_name_ok(const char *name)
{
	size_t len, i;

	if (!name)
		return false;
	len = strnlen(name, IFNAMSIZ);
	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++) {
		if (name[i] == '/' || name[i] == ':' ||
		    isspace((unsigned char)name[i]))
			return false;
	}
	return true;
}

/* TUN_F_* accepted by the kernel to TUNTAP_OFF_*. */
static unsigned int tuntap_off_map(unsigned int tun_f)
{
	unsigned int off = 0;

	if (tun_f & TUN_F_CSUM)
		off |= TUNTAP_OFF_CSUM;
	if (tun_f & TUN_F_TSO4)
		off |= TUNTAP_OFF_TSO4;
	if (tun_f & TUN_F_TSO6)
		off |= TUNTAP_OFF_TSO6;
	if (tun_f & TUN_F_USO4)
		off |= TUNTAP_OFF_USO4;
	if (tun_f & TUN_F_USO6)
		off |= TUNTAP_OFF_USO6;
	return off;
}

/* Set the header size and negotiate offloads; *offloads gets the result. */
static int tuntap_vnet_setup(int fd, unsigned int *offloads)
{
	int hdr_len = TUNTAP_VNET_HDR_LEN;
	size_t i;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len))
		return -errno;
	for (i = 0; i < ARRAY_SIZE(tuntap_off_steps); i++) {
		if (!ioctl(fd, TUNSETOFFLOAD,
			   (unsigned long)tuntap_off_steps[i])) {
			*offloads = tuntap_off_map(tuntap_off_steps[i]);
			return 0;
		}
		if (errno != EINVAL)
			return -errno;
	}
	/* Even "no offloads" refused: nothing sensible is left to try. */
	return -EINVAL;
}

int tuntap_open(const char *name, unsigned int flags, char *ifname,
		unsigned int *offloads)
{
	unsigned int off = 0;
	struct ifreq ifr;
	int fd, ret;

	if (!tuntap_name_ok(name) || (flags & ~TUNTAP_FLAGS_ALL))
		return -EINVAL;

	fd = open(TUNTAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	ifr.ifr_flags = IFF_NO_PI;
	ifr.ifr_flags |= (flags & TUNTAP_TAP) ? IFF_TAP : IFF_TUN;
	if (flags & TUNTAP_VNET)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (flags & TUNTAP_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		/* The name is valid (checked above): the device exists with
		 * another type or queue mode. */
		ret = errno == EINVAL ? -EBUSY : -errno;
		goto err_fd;
	}

	if (flags & TUNTAP_VNET) {
		ret = tuntap_vnet_setup(fd, &off);
		if (ret)
			goto err_fd;
	}

	if (ifname) {
		memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
		ifname[IFNAMSIZ - 1] = '\0';
	}
	if (offloads)
		*offloads = off;
	return fd;

err_fd:
	(void)close(fd);
	return ret;
}
