// SPDX-License-Identifier: MIT
/*
 * test_sandbox.c - the seccomp allow-list and the privilege drop, each in a
 * child process (a filter cannot be taken back): what the list allows
 * works, what it does not ends the child with exit status 159 and the line
 * "arcnat: seccomp: blocked system call N" on its standard error.
 *
 * Children leave with _exit(): no exit handlers, no leak check at exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_exit.h"
#include "app/sandbox.h"
#include "core/compiler.h"

/* What a child does after sandbox_lock(); it writes to @fd. */
typedef void (*child_fn)(int fd);

struct outcome {
	int status;		/* exit status, or -signal if killed */
	char err[256];		/* its standard error */
};

/* Run @fn in a child under @mode; @dropped (if not NULL) between
 * sandbox_drop() and sandbox_lock(). */
static void run_child2(enum sandbox_mode mode, child_fn dropped, child_fn fn,
		       struct outcome *o)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sandbox sb;

		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		if (sandbox_init(&sb, NULL, mode) || sandbox_drop(&sb))
			_exit(100);
		if (dropped)
			dropped(p[1]);
		if (sandbox_lock(&sb))
			_exit(100);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	memset(o->err, 0, sizeof(o->err));
	for (size_t off = 0; off < sizeof(o->err) - 1; off += (size_t)n) {
		n = read(p[0], o->err + off, sizeof(o->err) - 1 - off);
		if (n <= 0)
			break;
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	o->status = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
	if (o->status)
		print_message("child: status %d, stderr '%s'\n", o->status, o->err);
}

static void run_child(enum sandbox_mode mode, child_fn fn, struct outcome *o)
{
	run_child2(mode, NULL, fn, o);
}

static void blocked_line(long nr, char *buf, size_t len)
{
	snprintf(buf, len, "arcnat: seccomp: blocked system call %ld\n", nr);
}

static void do_socket(int fd)
{
	(void)fd;
	/* A new socket is nothing the running gateway makes. */
	(void)socket(AF_INET, SOCK_DGRAM, 0);
}

static void do_execve(int fd)
{
	char *const argv[] = { (char *)"/bin/true", NULL };

	(void)fd;
	execve("/bin/true", argv, NULL);
}

static void do_allowed(int fd)
{
	/* The lease writer's calls, in a directory anyone may write. */
	char name[64];
	int f;

	snprintf(name, sizeof(name), "/tmp/test_sandbox.%d", (int)getpid());
	f = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (f < 0 || write(f, "x", 1) != 1 || fsync(f) || close(f) ||
	    unlinkat(AT_FDCWD, name, 0))
		_exit(101);
	if (write(fd, "fine", 4) != 4)
		_exit(102);
}

/* Made before the fork, as the worker's epoll set and a port's fd are. */
static int ports_ep = -1, ports_fd = -1;

/* The worker's port calls at run time: a port added, EPOLLOUT armed for
 * its queue, disarmed, the port removed. */
static void do_ports(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 1 };

	if (epoll_ctl(ports_ep, EPOLL_CTL_ADD, ports_fd, &ev))
		_exit(101);
	ev.events = EPOLLIN | EPOLLOUT;
	if (epoll_ctl(ports_ep, EPOLL_CTL_MOD, ports_fd, &ev))
		_exit(102);
	if (epoll_ctl(ports_ep, EPOLL_CTL_DEL, ports_fd, NULL))
		_exit(103);
	if (write(fd, "fine", 4) != 4)
		_exit(104);
}

/* A dgram port's socket, made before the fork, and the guest's. */
static int dgram_fd = -1;
static struct sockaddr_un dgram_peer;

/* A dgram port's calls at run time: connect() to the guest it learned
 * (and again on its tick), a batch out. */
static void do_dgram(int fd)
{
	struct iovec iov = { (void *)"0123456789abcdef", 16 };
	struct mmsghdr m = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };

	if (connect(dgram_fd, (struct sockaddr *)&dgram_peer,
		    sizeof(dgram_peer)))
		_exit(101);
	if (sendmmsg(dgram_fd, &m, 1, MSG_DONTWAIT) != 1)
		_exit(102);
	if (write(fd, "fine", 4) != 4)
		_exit(103);
}

/* A stream guest's connection, made before the fork. */
static int stream_fd = -1;

/* Its socket buffers, raised when it connects (guest/stream.c). */
static void do_stream_bufs(int fd)
{
	int v = 1 << 20;

	if (setsockopt(stream_fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)) ||
	    setsockopt(stream_fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)))
		_exit(101);
	if (write(fd, "fine", 4) != 4)
		_exit(102);
}

/* Any other socket option is refused. */
static __maybe_unused void do_other_sockopt(int fd)
{
	int v = 1;

	(void)fd;
	(void)setsockopt(stream_fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v));
}

static void do_open_existing(int fd)
{
	(void)fd;
	/* Files are only created: an existing one cannot be opened. */
	(void)open("/etc/passwd", O_RDONLY | O_CLOEXEC);
}

static __maybe_unused void do_fork(int fd)
{
	(void)fd;
	/* A process, not a thread: clone without CLONE_THREAD. */
	(void)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}

static void blocked_calls_end_the_process_with_a_line(void **state)
{
	struct outcome o;
	char want[96];

	(void)state;
	run_child(SANDBOX_KEEP_ROOT, do_socket, &o);
	blocked_line(SYS_socket, want, sizeof(want));
	assert_int_equal(o.status, SANDBOX_EXIT_BLOCKED);
	assert_string_equal(o.err, want);

	run_child(SANDBOX_KEEP_ROOT, do_execve, &o);
	blocked_line(SYS_execve, want, sizeof(want));
	assert_int_equal(o.status, SANDBOX_EXIT_BLOCKED);
	assert_string_equal(o.err, want);
}

static void allowed_calls_work(void **state)
{
	struct outcome o;

	(void)state;
	run_child(SANDBOX_KEEP_ROOT, do_allowed, &o);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "fine");
	ports_ep = epoll_create1(EPOLL_CLOEXEC);
	ports_fd = eventfd(0, EFD_CLOEXEC);
	assert_true(ports_ep >= 0 && ports_fd >= 0);
	run_child(SANDBOX_KEEP_ROOT, do_ports, &o);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "fine");
	close(ports_ep);
	close(ports_fd);
	{
		int peer = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		dgram_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		assert_true(peer >= 0 && dgram_fd >= 0);
		dgram_peer.sun_family = AF_UNIX;
		snprintf(dgram_peer.sun_path, sizeof(dgram_peer.sun_path),
			 "/tmp/test_sandbox.dgram.%d", (int)getpid());
		assert_int_equal(bind(peer, (struct sockaddr *)&dgram_peer,
				      sizeof(dgram_peer)), 0);
		run_child(SANDBOX_KEEP_ROOT, do_dgram, &o);
		assert_int_equal(o.status, 0);
		assert_string_equal(o.err, "fine");
		unlink(dgram_peer.sun_path);
		close(peer);
		close(dgram_fd);
	}
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
					    0, sv), 0);
		stream_fd = sv[0];
		run_child(SANDBOX_KEEP_ROOT, do_stream_bufs, &o);
		assert_int_equal(o.status, 0);
		assert_string_equal(o.err, "fine");
		close(sv[0]);
		close(sv[1]);
	}
	/* --no-sandbox: no filter at all. */
	run_child(SANDBOX_OFF, do_socket, &o);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.err, "");
}

/* The argument conditions. AddressSanitizer's runtime needs these calls
 * without them, so its build has none (sandbox.h): there an existing file
 * opens. */
static void conditions(void **state)
{
	struct outcome o;
#if defined(__SANITIZE_ADDRESS__)
	(void)state;
	run_child(SANDBOX_KEEP_ROOT, do_open_existing, &o);
	assert_int_equal(o.status, 0);
#else
	char want[96];

	(void)state;
	run_child(SANDBOX_KEEP_ROOT, do_open_existing, &o);
	blocked_line(SYS_openat, want, sizeof(want));
	assert_int_equal(o.status, SANDBOX_EXIT_BLOCKED);
	assert_string_equal(o.err, want);

	stream_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(stream_fd >= 0);
	run_child(SANDBOX_KEEP_ROOT, do_other_sockopt, &o);
	close(stream_fd);
	blocked_line(SYS_setsockopt, want, sizeof(want));
	assert_int_equal(o.status, SANDBOX_EXIT_BLOCKED);
	assert_string_equal(o.err, want);

	run_child(SANDBOX_KEEP_ROOT, do_fork, &o);
	blocked_line(SYS_clone, want, sizeof(want));
	assert_int_equal(o.status, SANDBOX_EXIT_BLOCKED);
	assert_string_equal(o.err, want);
#endif
}

static void do_report_ids(int fd)
{
	char buf[64];
	int caps = capng_have_capabilities(CAPNG_SELECT_CAPS);
	int n = snprintf(buf, sizeof(buf), "%u %u %d", (unsigned int)getuid(),
			 (unsigned int)geteuid(), caps == CAPNG_NONE);

	if (write(fd, buf, (size_t)n) != n)
		_exit(103);
}

static void do_nothing(int fd)
{
	(void)fd;
}

/* As root: the default user is nobody, and no capability is left. */
static void drop_to_nobody(void **state)
{
	struct passwd *pw = getpwnam(SANDBOX_DEFAULT_USER);
	struct sandbox sb;
	uid_t uid;
	struct outcome o;
	char want[64];

	(void)state;
	if (geteuid() != 0) {
		assert_int_equal(sandbox_init(&sb, "nobody", SANDBOX_FULL), -EPERM);
		skip();
	}
	assert_non_null(pw);
	uid = pw->pw_uid;	/* getpwnam()'s buffer is reused below */
	assert_int_equal(sandbox_init(&sb, "no-such-user-at-all", SANDBOX_FULL),
			 -ENOENT);
	run_child2(SANDBOX_FULL, do_report_ids, do_nothing, &o);
	assert_int_equal(o.status, 0);
	snprintf(want, sizeof(want), "%u %u 1", (unsigned int)uid,
		 (unsigned int)uid);
	assert_string_equal(o.err, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blocked_calls_end_the_process_with_a_line),
		cmocka_unit_test(allowed_calls_work),
		cmocka_unit_test(conditions),
		cmocka_unit_test(drop_to_nobody),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
