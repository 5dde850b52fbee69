// SPDX-License-Identifier: MIT
/*
 * userns.c - create and join user namespaces (see userns.h).
 *
 * The maps are written by the process itself, from inside the new
 * namespace, where it holds CAP_SETUID and CAP_SETGID; "deny" goes to
 * /proc/self/setgroups before the gid map, or the kernel refuses the map.
 * Each file takes one write(2) of the whole map.
 */
#include "sys/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write @text to @path in one write(2). Return: 0 or -errno. */
static int userns_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

int userns_unshare(int flags)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char map[64];
	int err;

	if (unshare(CLONE_NEWUSER | flags) < 0)
		return -errno;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)uid);
	err = userns_write("/proc/self/uid_map", map);
	if (err)
		return err;
	/* ENOENT: a kernel before 3.19, where there is nothing to deny. */
	err = userns_write("/proc/self/setgroups", "deny");
	if (err && err != -ENOENT)
		return err;
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned int)gid);
	return userns_write("/proc/self/gid_map", map);
}

int userns_join_owner(int nsfd, int *joined)
{
	struct stat own, owner;
	int ufd, err = 0;

	if (joined)
		*joined = 0;
	ufd = ioctl(nsfd, NS_GET_USERNS);
	if (ufd < 0)
		return errno == ENOTTY ? -EINVAL : -errno;
	if (fstat(ufd, &owner) < 0 || stat("/proc/self/ns/user", &own) < 0) {
		err = -errno;
		goto out;
	}
	if (own.st_dev == owner.st_dev && own.st_ino == owner.st_ino)
		goto out;	/* ours already */
	if (setns(ufd, CLONE_NEWUSER) < 0) {
		err = -errno;
		goto out;
	}
	if (joined)
		*joined = 1;
out:
	close(ufd);
	return err;
}
