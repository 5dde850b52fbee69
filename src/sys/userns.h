/* SPDX-License-Identifier: MIT */
/*
 * userns.h - user namespaces: make one in which the caller is root, or join
 * the one that owns another namespace.
 *
 * Theory of operation: an unprivileged process may create a user namespace
 * and, inside it, hold every capability over the namespaces it creates
 * with it (network, mount). It may map exactly one uid and one gid: its
 * own, to 0 inside, after denying setgroups(2) (the kernel's rule for an
 * unprivileged gid map, since Linux 3.19). That is what `unshare -r` and
 * pasta do, and what `arcnat run` does when it is not root.
 *
 * Joining another process's network namespace needs CAP_SYS_ADMIN over the
 * user namespace that owns it. When that is not arcnat's own (`unshare
 * -rn`, a rootless container), the process first joins that user namespace
 * (setns(2), single-threaded only), which a process of the same user that
 * created it may do: the owner of a user namespace has every capability in
 * it.
 */
#ifndef ARCNAT_SYS_USERNS_H
#define ARCNAT_SYS_USERNS_H

/**
 * userns_unshare() - a new user namespace in which the caller is root (its
 * uid and gid mapped to 0), together with the other namespaces of @flags.
 * @flags: more CLONE_NEW* flags for unshare(2) (CLONE_NEWNET, CLONE_NEWNS),
 *         created owned by the new user namespace
 *
 * Only in a single-threaded process. On error nothing may be left half
 * done except a user namespace without maps (the caller then exits).
 *
 * Return: 0; -EPERM or -ENOSPC user namespaces are not allowed here
 * (kernel.unprivileged_userns_clone, user.max_user_namespaces, a security
 * module); -EINVAL the process has threads; -errno of writing the maps.
 */
int userns_unshare(int flags);

/**
 * userns_join_owner() - join the user namespace that owns namespace @nsfd
 * when it is not the caller's own.
 * @nsfd:   an open namespace file (/proc/PID/ns/net, a bind mount of one)
 * @joined: out: whether the caller changed user namespace; may be NULL
 *
 * Only in a single-threaded process.
 *
 * Return: 0; -EPERM not allowed (another user's namespace, or one outside
 * the caller's own); -EINVAL @nsfd is not a namespace or the process has
 * threads; -errno.
 */
int userns_join_owner(int nsfd, int *joined);

#endif /* ARCNAT_SYS_USERNS_H */
