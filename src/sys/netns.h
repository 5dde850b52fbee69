/* SPDX-License-Identifier: MIT */
/*
 * netns.h - move the calling thread into a network namespace and back.
 *
 * Theory of operation: a network namespace is named by an open file of its
 * nsfs inode, either a bind mount under /run/netns (what `ip netns add`
 * makes) or /proc/PID/ns/net. setns(2) moves only the calling thread, and
 * only for sockets and devices it creates from then on: a netlink socket
 * (sys/netlink.h) or TUN/TAP fd (sys/tuntap.h) opened while inside stays
 * bound to that namespace after the thread leaves. The usual pattern is
 *
 *	netns_enter("guest", &saved);
 *	nl_open(&nl); fd = tuntap_open(...);
 *	netns_leave(saved);
 *
 * Changing the network namespace needs CAP_SYS_ADMIN over the target
 * namespace's owning user namespace. It is allowed in a multi-threaded
 * process, and other threads are not affected.
 */
#ifndef ARCNAT_SYS_NETNS_H
#define ARCNAT_SYS_NETNS_H

/* Where ip-netns(8) keeps its named namespaces. */
#define NETNS_RUN_DIR "/run/netns"

/**
 * netns_enter() - switch the calling thread into a network namespace.
 * @ns:    a name under /run/netns (as ip-netns makes them) or, if it contains
 *         '/', a path such as /proc/PID/ns/net
 * @saved: out: an fd (close-on-exec) of the namespace the thread was in, for
 *         netns_leave(); untouched on error
 *
 * On error the thread is still in the namespace it was in.
 *
 * Return: 0; -ENOENT no such namespace; -EPERM not allowed (no
 * CAP_SYS_ADMIN); -EINVAL an empty name, "." or "..", or a path that is not
 * a network namespace; -ENAMETOOLONG; -errno from open(2) or setns(2).
 */
int netns_enter(const char *ns, int *saved);

/**
 * netns_leave() - go back to the namespace netns_enter() saved.
 * @saved: the fd netns_enter() stored
 *
 * The fd is closed in every case, also on error, so a caller never leaks
 * it; a failure here leaves the thread in the namespace it entered.
 *
 * Return: 0; -EBADF for a negative fd; -errno from setns(2).
 */
int netns_leave(int saved);

#endif /* ARCNAT_SYS_NETNS_H */
