// SPDX-License-Identifier: MIT
/*
 * sandbox.c - user switch, capabilities, no_new_privs and the seccomp
 * allow-list of `arcnat gateway`. Theory of operation in sandbox.h; the
 * list and the reasons for each group are in docs/security.md.
 */
#include "app/sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif
#ifndef SANDBOX_ASAN
#define SANDBOX_ASAN 0
#endif

#ifndef SOL_PACKET
#define SOL_PACKET 263
#endif

/*
 * Allowed without conditions: what the netns suite saw the running gateway
 * call (docs/security.md), in groups. "a|b": a, or b on an architecture
 * without a (aarch64 has no poll, epoll_wait or renameat). The packet path
 * comes first: its calls get the highest priority in the filter.
 */
static const char *const sandbox_calls[] = {
	/* datapath: the worker's epoll loop and its devices */
	"epoll_wait|epoll_pwait", "read", "write", "readv", "writev",
	/* busy polling gives the CPU to any other task between polls */
	"sched_yield",
	/* ports come and go, EPOLLOUT on and off for a port's queue; a
	 * stream listener accepts its guests; a dgram port connects to the
	 * guest it learned (no socket() is allowed: only its own socket) */
	"epoll_ctl", "accept4", "connect",
	"recvmmsg", "sendmmsg", "sendmsg", "timerfd_settime",
	/* a vhost-user port: control messages with their fds (recv is
	 * recvfrom, send sendto), the guest memory's regions checked against
	 * their files (fstat is newfstatat in glibc) and mapped (mmap without
	 * PROT_EXEC), unmapped when the frontend goes */
	"recvmsg", "recvfrom", "sendto", "newfstatat", "fstat",
	/* its kick and call eventfds, which the frontend may have made
	 * blocking: read and written with RWF_NOWAIT (guest/vhost_user.c) */
	"preadv2", "pwritev2",
	/* the vDSO calls this when the clock source has no vDSO support */
	"clock_gettime",
	/* memory: free() of large blocks and thread stacks (mmap and mprotect
	 * are allowed without PROT_EXEC only: sandbox_conditional()) */
	"munmap", "madvise",
	/* threads: start, end, join, signal masks (glibc sets up its own
	 * handlers when the first thread starts) */
	"futex", "set_robust_list", "rseq", "rt_sigprocmask", "rt_sigaction",
	"getpid", "exit",
	/* the lease writer: wait for work, write, flush, replace */
	"poll|ppoll", "fsync", "unlinkat", "renameat|renameat2",
	/* a poll() with a timeout that a SIGSTOP interrupted resumes so */
	"restart_syscall",
	/* shutdown: the devices' descriptors, the process */
	"close", "exit_group",
};

/*
 * AddressSanitizer's runtime (sandbox.h): LeakSanitizer's helper task at
 * exit (clone without CLONE_THREAD, ptrace, wait4, prctl, getppid, the
 * thread list from /proc/self/task by open and getdents, sched_yield while
 * waiting), reading /proc/self/maps (open, lseek), the alternate signal
 * stack of each thread, the threads' CPU sets. mmap, mprotect, openat and
 * tgkill without the conditions of the plain build.
 */
static const char *const sandbox_asan_calls[] = {
	"clone", "ptrace", "wait4", "prctl", "getppid", "open", "getdents",
	"lseek", "sched_yield", "sigaltstack", "gettid", "sched_getaffinity",
	"mmap", "mprotect", "openat", "tgkill",
};

/* The number of @name ("a" or "a|b"), or a negative value if neither is a
 * call of this architecture. */
static int sandbox_nr(const char *name)
{
	const char *bar = strchr(name, '|');
	char first[32];
	int nr;

	if (!bar)
		return seccomp_syscall_resolve_name(name);
	snprintf(first, sizeof(first), "%.*s", (int)(bar - name), name);
	nr = seccomp_syscall_resolve_name(first);
	return nr >= 0 ? nr : seccomp_syscall_resolve_name(bar + 1);
}

static int sandbox_allow(scmp_filter_ctx ctx, const char *name, uint8_t prio)
{
	int nr = sandbox_nr(name);
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0;	/* not a call of this architecture */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r == 0 && prio)
		r = seccomp_syscall_priority(ctx, nr, prio);
	return r;
}

/* `arcnat run`: signals forwarded to CMD, and its exit status. */
static int sandbox_child(scmp_filter_ctx ctx, pid_t child)
{
	int r;

	if (!child)
		return 0;
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 1,
			     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)child));
	if (!r && !SANDBOX_ASAN)	/* allowed there without condition */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(wait4), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)child));
	return r;
}

/* setsockopt() and getsockopt() levels and names the socket uplink uses. */
static const int sandbox_sock_setopts[][2] = {
	{ SOL_IP, IP_RECVERR },			/* ICMP errors: the error queue */
	{ IPPROTO_TCP, TCP_NODELAY },		/* the TCP relay's sockets */
	{ IPPROTO_TCP, TCP_KEEPIDLE },
	{ SOL_SOCKET, SO_KEEPALIVE },
	{ SOL_SOCKET, SO_PEEK_OFF },		/* the retransmission queue */
	{ SOL_SOCKET, SO_LINGER },		/* an RST to the remote */
};
static const int sandbox_sock_getopts[][2] = {
	{ SOL_SOCKET, SO_ERROR },		/* a connect() that finished */
	{ SOL_SOCKET, SO_SNDBUF },		/* the window the relay offers */
};

/*
 * The socket uplink (uplink/sock, uplink/sock_tcp): IPv4 sockets only (UDP,
 * ping sockets, TCP), bound or connected, the options above, the send
 * and receive queues' lengths (SIOCOUTQ, FIONREAD), shutdown() for a
 * half-close and getsockname() (the control socket's forward-list shows
 * the address a forward's socket is bound to).
 */
static int sandbox_sock(scmp_filter_ctx ctx, bool sock)
{
	static const int proto[][2] = {
		{ SOCK_DGRAM, 0 }, { SOCK_DGRAM, IPPROTO_ICMP },
		{ SOCK_STREAM, 0 },
	};
	int r = 0;

	if (!sock)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(proto) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
				     SCMP_A0(SCMP_CMP_EQ, AF_INET),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
					     (scmp_datum_t)proto[i][0]),
				     SCMP_A2(SCMP_CMP_EQ,
					     (scmp_datum_t)proto[i][1]));
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_sock_setopts) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ,
					     (scmp_datum_t)sandbox_sock_setopts[i][0]),
				     SCMP_A2(SCMP_CMP_EQ,
					     (scmp_datum_t)sandbox_sock_setopts[i][1]));
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_sock_getopts) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ,
					     (scmp_datum_t)sandbox_sock_getopts[i][0]),
				     SCMP_A2(SCMP_CMP_EQ,
					     (scmp_datum_t)sandbox_sock_getopts[i][1]));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, SIOCOUTQ));
	if (!r)		/* the bytes a socket holds for the guest */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(shutdown), 0);
	if (!r)		/* a forward's host address, for forward-list */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockname),
				     0);
	return r;
}

/*
 * The control socket's changes (ctl/rt.h). `arcnat ctl guest add`: a
 * stream, vhost-user or dgram guest port made while running, as
 * guest/unix_listen.c makes it: a UNIX socket (and one to see whether a
 * live process serves the path), a stale socket file unlinked, bound, made
 * 0660, listened on, and a listener's own epoll set. `forward add` with
 * the socket uplink: a TCP listener (listen, SO_REUSEADDR). Nothing else:
 * connect, accept4 and epoll_ctl are allowed already, and the socket
 * uplink's IPv4 sockets.
 */
static int sandbox_guests(scmp_filter_ctx ctx, bool guests, bool sock)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	int nr, r = 0;

	if (!guests)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(types) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 3,
				     SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
				     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
					     (scmp_datum_t)types[i]),
				     SCMP_A2(SCMP_CMP_EQ, 0));
	if (!r && !sock)	/* sandbox_sock() allows it already */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(listen), 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(epoll_create1),
				     1, SCMP_A0(SCMP_CMP_EQ, EPOLL_CLOEXEC));
	/* chmod(2) is fchmodat on aarch64 (and in newer glibc): mode 0660. */
	nr = sandbox_nr("chmod");
	if (!r && nr >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
				     SCMP_A1(SCMP_CMP_EQ, 0660));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fchmodat), 1,
				     SCMP_A2(SCMP_CMP_EQ, 0660));
	nr = sandbox_nr("unlink");
	if (!r && nr >= 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	/* With the socket uplink, forward-add's TCP listener: the port
	 * back at once over connections in TIME_WAIT (uplink/sock.c). */
	if (!r && sock)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
				     SCMP_A2(SCMP_CMP_EQ, SO_REUSEADDR));
	return r;
}

/* The calls allowed only with some arguments. */
static int sandbox_conditional(scmp_filter_ctx ctx)
{
	/* Threads, not processes: pthread_create() falls back to clone when
	 * clone3 (whose flags a filter cannot see) says ENOSYS. */
	int r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);

	if (!r && !SANDBOX_ASAN)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD,
					     CLONE_THREAD));
	/* No new executable memory. */
	if (!r && !SANDBOX_ASAN)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (!r && !SANDBOX_ASAN)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* Files are only created, write-only and new: the lease writer's
	 * temporary file. Nothing that exists can be opened. */
	if (!r && !SANDBOX_ASAN)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ,
					     O_ACCMODE | O_CREAT | O_EXCL,
					     O_WRONLY | O_CREAT | O_EXCL));
	/* pthread_kill() to the main thread, in this process only. */
	if (!r && !SANDBOX_ASAN)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* A vhost-user guest's memory file: its seals; a ring's eventfd: its
	 * flags (it must be non-blocking). Nothing else. */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				     SCMP_A1(SCMP_CMP_EQ, F_GET_SEALS));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				     SCMP_A1(SCMP_CMP_EQ, F_GETFL));
	/* A stream guest's socket buffers (guest/stream.c), nothing else. */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
				     SCMP_A2(SCMP_CMP_EQ, SO_SNDBUF));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
				     SCMP_A2(SCMP_CMP_EQ, SO_RCVBUF));
	/* The AF_PACKET uplink's drop counter, nothing else. */
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
				     SCMP_A1(SCMP_CMP_EQ, SOL_PACKET),
				     SCMP_A2(SCMP_CMP_EQ, PACKET_STATISTICS));
	return r;
}

/*
 * Async-signal-safe: one write(2) of the whole line, then _exit(2), both
 * on the list.
 */
static void sandbox_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "arcnat: seccomp: blocked system call ";
	char line[sizeof(pre) + 24], num[24], *p = num + sizeof(num);
	unsigned long v = (unsigned long)si->si_syscall;
	size_t len = sizeof(pre) - 1;

	(void)sig;
	(void)uc;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(line, pre, len);
	memcpy(line + len, p, (size_t)(num + sizeof(num) - p));
	len += (size_t)(num + sizeof(num) - p);
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
		_exit(SANDBOX_EXIT_BLOCKED);
	_exit(SANDBOX_EXIT_BLOCKED);
}

int sandbox_init(struct sandbox *sb, const char *user, enum sandbox_mode mode)
{
	struct passwd *pw;

	memset(sb, 0, sizeof(*sb));
	sb->mode = mode;
	if (mode != SANDBOX_FULL)
		return 0;
	if (geteuid() != 0) {
		if (user)
			return -EPERM;
		return 0;
	}
	if (!user)
		user = SANDBOX_DEFAULT_USER;
	if (strlen(user) >= sizeof(sb->user))
		return -ENAMETOOLONG;
	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	snprintf(sb->user, sizeof(sb->user), "%s", user);
	sb->uid = pw->pw_uid;
	sb->gid = pw->pw_gid;
	sb->switch_user = true;
	return 0;
}

int sandbox_drop(const struct sandbox *sb)
{
	int r;

	if (sb->mode != SANDBOX_FULL)
		return 0;
	capng_clear(CAPNG_SELECT_BOTH);
	if (sb->switch_user) {
		/* Groups, gid, uid; no capability survives, none can come back. */
		r = capng_change_id((int)sb->uid, (int)sb->gid,
				    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING |
				    CAPNG_CLEAR_AMBIENT);
		if (r) {
			log_err("cannot switch to user %s: libcap-ng error %d",
				sb->user, r);
			return -EPERM;
		}
	} else {
		/* Not root: drop what the file or the caller gave us. */
		r = capng_apply(CAPNG_SELECT_BOTH);
		if (r) {
			log_err("cannot drop capabilities: libcap-ng error %d", r);
			return -EPERM;
		}
		(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	}
	/* The sanitizers' runtime must ptrace its own threads and read
	 * /proc/self as the new user: stay dumpable in those builds only. */
	if (SANDBOX_ASAN && prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

int sandbox_dir_writable(int dirfd)
{
	/* The real ids: the new user's after sandbox_drop(). */
	return faccessat(dirfd, ".", W_OK | X_OK, 0) < 0 ? -errno : 0;
}

int sandbox_lock(const struct sandbox *sb)
{
	struct sigaction sa = { .sa_sigaction = sandbox_sigsys,
				.sa_flags = SA_SIGINFO };
	scmp_filter_ctx ctx;
	int r = 0;

	if (sb->mode == SANDBOX_OFF)
		return 0;
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
	/*
	 * glibc opens /proc/sys/vm/overcommit_memory the first time it gives
	 * back the top of a thread's heap (a control client's large reply
	 * freed), which openat's rule refuses: no trimming, and, as a fixed
	 * threshold also stops the dynamic one, blocks of 128 KiB and more
	 * stay mmap()ed and go back with munmap().
	 */
	mallopt(M_TRIM_THRESHOLD, INT_MAX);
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	/* no_new_privs is set by the load; TSYNC covers any thread. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	for (size_t i = 0; !r && i < ARRAY_SIZE(sandbox_calls); i++)
		r = sandbox_allow(ctx, sandbox_calls[i], i < 10 ? 255 - i : 0);
	for (size_t i = 0; !r && SANDBOX_ASAN && i < ARRAY_SIZE(sandbox_asan_calls);
	     i++)
		r = sandbox_allow(ctx, sandbox_asan_calls[i], 0);
	if (!r)
		r = sandbox_conditional(ctx);
	if (!r)
		r = sandbox_child(ctx, sb->child);
	if (!r)
		r = sandbox_sock(ctx, sb->sock);
	if (!r)
		r = sandbox_guests(ctx, sb->guests, sb->sock);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r > 0 ? -r : r;
}

unsigned int sandbox_allowed(void)
{
	unsigned int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(sandbox_calls); i++)
		n += sandbox_nr(sandbox_calls[i]) >= 0;
	for (size_t i = 0; SANDBOX_ASAN && i < ARRAY_SIZE(sandbox_asan_calls); i++)
		n += sandbox_nr(sandbox_asan_calls[i]) >= 0;
	/* clone, mmap, mprotect, openat, tgkill, fcntl, getsockopt and
	 * setsockopt with conditions (the ASan list has the first five
	 * without) */
	return n + (SANDBOX_ASAN ? 3 : 8);
}
