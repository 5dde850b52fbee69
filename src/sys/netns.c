// SPDX-License-Identifier: MIT
/*
 * netns.c - enter and leave network namespaces (see netns.h).
 *
 * Theory of operation: netns_enter() first opens the thread's own namespace
 * (/proc/thread-self/ns/net, not /proc/self: the process's main thread may
 * be elsewhere), then the target, then calls setns(2) with CLONE_NEWNET so
 * the kernel also checks that the target really is a network namespace.
 * Opening the current namespace first means that nothing has changed yet if
 * that fails, and netns_leave() can always find its way back.
 */
#include "sys/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NETNS_SELF "/proc/thread-self/ns/net"

/* Build the path for @ns into @path (PATH_MAX bytes). */
static int netns_path(const char *ns, char *path)
{
	int n;

	if (!ns || !ns[0])
		return -EINVAL;
	if (strchr(ns, '/')) {
		if (strlen(ns) >= PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(path, ns, strlen(ns) + 1);
		return 0;
	}
	/* A bare name must name an entry of /run/netns, not the folder itself
	 * or its parent. */
	if (!strcmp(ns, ".") || !strcmp(ns, ".."))
		return -EINVAL;
	n = snprintf(path, PATH_MAX, "%s/%s", NETNS_RUN_DIR, ns);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int netns_enter(const char *ns, int *saved)
{
	char path[PATH_MAX];
	int self, fd, ret;

	if (!saved)
		return -EINVAL;
	ret = netns_path(ns, path);
	if (ret)
		return ret;

	self = open(NETNS_SELF, O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto err_self;
	}
	if (setns(fd, CLONE_NEWNET)) {
		ret = -errno;
		goto err_fd;
	}
	(void)close(fd);
	*saved = self;
	return 0;

err_fd:
	(void)close(fd);
err_self:
	(void)close(self);
	return ret;
}

int netns_leave(int saved)
{
	int ret = 0;

	if (saved < 0)
		return -EBADF;
	if (setns(saved, CLONE_NEWNET))
		ret = -errno;
	(void)close(saved);
	return ret;
}
