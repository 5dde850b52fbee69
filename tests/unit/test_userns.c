// SPDX-License-Identifier: MIT
/*
 * test_userns.c - unit tests for src/sys/userns.
 *
 * Every case runs in forked children, which report by exit status (0 for
 * success, a distinct code per check otherwise), so that the test program
 * itself never changes namespace. As root the children first become uid and
 * gid 65534 (the unprivileged case `arcnat run` is for); not root they stay
 * who they are, and a kernel that refuses user namespaces to them makes the
 * program skip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <grp.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_exit.h"
#include "sys/userns.h"

#define NOBODY 65534u

/*
 * Become uid/gid 65534 when root, dumpable again as after an execve() of
 * arcnat by that user (the uid change made /proc/self root's, and the map
 * files could not be written). Return: 0 or -1.
 */
static int drop_to_nobody(void)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY) ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -1;
	return 0;
}

/* The first line of @path into @buf. Return: 0 or -1. */
static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok ? 0 : -1;
}

/* "0 OUTER 1" with any spacing. */
static int map_is(const char *path, unsigned int outer)
{
	unsigned int in, out, count;
	char line[128];

	return read_line(path, line, sizeof(line)) == 0 &&
	       sscanf(line, "%u %u %u", &in, &out, &count) == 3 && in == 0 &&
	       out == outer && count == 1;
}

static ino_t ns_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* Wait for @pid; Return: its exit status, or 100 + signal. */
static int reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

/* Whether user namespaces can be made here at all (else: skip). */
static bool userns_possible(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(drop_to_nobody() || userns_unshare(0) ? 1 : 0);
	return pid > 0 && reap(pid) == 0;
}

static int child_unshare(void)
{
	unsigned int uid, gid;
	ino_t net = ns_ino("/proc/self/ns/net");
	char line[64];
	int err;

	if (drop_to_nobody())
		return 9;
	uid = (unsigned int)geteuid();
	gid = (unsigned int)getegid();
	err = userns_unshare(CLONE_NEWNET);
	if (err)
		return 10;
	if (getuid() != 0 || getgid() != 0)
		return 11;
	if (!map_is("/proc/self/uid_map", uid))
		return 12;
	if (!map_is("/proc/self/gid_map", gid))
		return 13;
	if (read_line("/proc/self/setgroups", line, sizeof(line)) ||
	    strncmp(line, "deny", 4) != 0)
		return 14;
	if (ns_ino("/proc/self/ns/net") == net)
		return 15;
	return 0;
}

/* The caller becomes root of a new user namespace, its ids mapped to 0,
 * setgroups denied, and the other namespace is made too. */
static void unshare_maps_the_caller(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child_unshare());
	assert_int_equal(reap(pid), 0);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* A process with threads cannot make one: -EINVAL, said by the kernel. */
static void unshare_refused_with_threads(void **state)
{
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t th;

		if (drop_to_nobody() || pthread_create(&th, NULL, idle_thread, NULL))
			_exit(9);
		_exit(userns_unshare(CLONE_NEWNET) == -EINVAL ? 0 : 10);
	}
	assert_int_equal(reap(pid), 0);
}

/* Our own namespace: nothing to join. Not a namespace: -EINVAL. */
static void join_own_and_not_a_namespace(void **state)
{
	int fd, joined = 7;

	(void)state;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(userns_join_owner(fd, &joined), 0);
	assert_int_equal(joined, 0);
	close(fd);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(userns_join_owner(fd, &joined), -EINVAL);
	close(fd);
}

/*
 * `unshare -rn` by the same user: the network namespace's owner is joined,
 * after which the network namespace can be entered (what `arcnat attach`
 * does); without the join, entering it is refused.
 */
static void join_owner_of_same_user(void **state)
{
	int ready[2], hold[2];
	pid_t owner, joiner;
	char b;

	(void)state;
	assert_int_equal(pipe2(ready, O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	owner = fork();
	assert_true(owner >= 0);
	if (owner == 0) {
		close(ready[0]);
		close(hold[1]);
		if (drop_to_nobody() || userns_unshare(CLONE_NEWNET))
			_exit(9);
		if (write(ready[1], "r", 1) != 1)
			_exit(10);
		(void)!read(hold[0], &b, 1);	/* until the parent closes it */
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &b, 1), 1);

	joiner = fork();
	assert_true(joiner >= 0);
	if (joiner == 0) {
		char path[64];
		int fd, joined = 0;

		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)owner);
		if (drop_to_nobody())
			_exit(9);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(10);
		if (setns(fd, CLONE_NEWNET) == 0)
			_exit(11);	/* must need the owner's user namespace */
		if (userns_join_owner(fd, &joined) || !joined)
			_exit(12);
		if (getuid() != 0)
			_exit(13);
		if (setns(fd, CLONE_NEWNET))
			_exit(14);
		_exit(0);
	}
	assert_int_equal(reap(joiner), 0);
	close(hold[1]);
	assert_int_equal(reap(owner), 0);
	close(ready[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unshare_maps_the_caller),
		cmocka_unit_test(unshare_refused_with_threads),
		cmocka_unit_test(join_own_and_not_a_namespace),
		cmocka_unit_test(join_owner_of_same_user),
	};

	if (!userns_possible()) {
		if (geteuid() == 0)
			return TEST_EXIT_FAIL;	/* root can always make one */
		test_exit_skip("user namespaces are not allowed to this user");
	}
	return TEST_RUN_GROUP(tests, NULL, NULL);
}
