// SPDX-License-Identifier: MIT
/*
 * run.c - `arcnat run` and `arcnat attach` (see run.h).
 *
 * The setup child and the parent talk over a SOCK_SEQPACKET socketpair: one
 * message from the child (struct run_hello, with the TAP's fd attached
 * when it succeeded), then, for `run`, one byte from the parent once the
 * gateway serves ("go": execute CMD). A child that fails prints its own
 * one-line reason on the shared stderr and exits; a parent that fails
 * closes its end, and the child, reading end of file, exits too.
 */
#include "app/run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/gateway.h"
#include "nat/opts.h"
#include "app/serve.h"
#include "core/compiler.h"
#include "core/log.h"
#include "dp/fdio.h"
#include "dp/worker.h"
#include "prot/ip4.h"
#include "sys/netlink.h"
#include "sys/netns.h"
#include "sys/tuntap.h"
#include "sys/userns.h"

#define RUN_IFNAME	"tap0"
#define RUN_MTU		65520u
#define RUN_SHELL	"/bin/sh"
#define RUN_TUN_DEV	"/dev/net/tun"
#define RUN_RESOLV	"/etc/resolv.conf"
#define RUN_RESOLV_MAX	1024u
#define RUN_EXIT_NOEXEC	126	/* as a shell: found, cannot be executed */
#define RUN_EXIT_NOENT	127	/* as a shell: not found */

/* Directories a scratch tmpfs may cover for a moment (run_resolv()). */
static const char *const run_scratch[] = { "/tmp", "/run", "/mnt", "/var/tmp" };

/**
 * struct run_hello - the setup child's one message.
 * @err: 0, or the -errno of the step that failed (the child printed why)
 * @mtu: the TAP's MTU as the kernel set it
 */
struct run_hello {
	int32_t err;
	uint32_t mtu;
};

/**
 * struct run_ctx - one `run` or `attach`.
 * @attach: `attach` rather than `run`
 * @guest:  the TAP's address, network order (0 until defaulted)
 * @ifname: the TAP's name
 * @netns:  attach --netns, or NULL
 * @pid:    attach --pid, or 0
 * @cmd:    run: CMD and its arguments, NULL-terminated
 * @plan:   the gateway's addresses and name servers
 * @child:  the setup child (for `run`, CMD), 0 once reaped
 * @sock:   the parent's end of the socketpair, or -1
 * @status: CMD's exit status once reaped, -1 before
 * @watch:  attach: a pidfd of --pid's process, or an inotify fd watching
 *          --netns's directory for its file's deletion, or -1
 * @nspath: attach: the namespace's file
 */
struct run_ctx {
	bool attach;
	uint32_t guest;
	char ifname[IFNAMSIZ];
	const char *netns;
	pid_t pid;
	char **cmd;
	struct gateway_plan plan;
	pid_t child;
	int sock;
	int status;
	int watch;
	char nspath[PATH_MAX];
};

enum {
	RUN_OPT_GUEST = GATEWAY_CMD_OPT_BASE, RUN_OPT_IFNAME, RUN_OPT_VERBOSE,
	RUN_OPT_NETNS, RUN_OPT_PID,
};

static const struct option run_options[] = {
	{ "guest-ip", required_argument, NULL, RUN_OPT_GUEST },
	{ "ns-ifname", required_argument, NULL, RUN_OPT_IFNAME },
	{ "verbose", no_argument, NULL, RUN_OPT_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

static const struct option attach_options[] = {
	{ "guest-ip", required_argument, NULL, RUN_OPT_GUEST },
	{ "ns-ifname", required_argument, NULL, RUN_OPT_IFNAME },
	{ "verbose", no_argument, NULL, RUN_OPT_VERBOSE },
	{ "netns", required_argument, NULL, RUN_OPT_NETNS },
	{ "pid", required_argument, NULL, RUN_OPT_PID },
	{ NULL, 0, NULL, 0 },
};

static const char run_usage[] =
"Usage: arcnat run [OPTIONS] [--] [CMD [ARG]...]\n"
"\n"
"Run CMD (default: $SHELL, else /bin/sh) in a network namespace of its own\n"
"whose interface, besides lo, is a TAP device (tap0) wired to a NAT gateway\n"
"that arcnat runs outside the namespace, in the caller's network. When not\n"
"root, arcnat first makes a user namespace in which CMD is root (the\n"
"caller's uid and gid mapped to 0, setgroups denied), so nothing needs a\n"
"privilege. CMD also gets a mount namespace of its own with a private\n"
"/etc/resolv.conf naming the gateway. tap0 is configured directly (address,\n"
"MTU, default route via the gateway): no DHCP client is needed.\n"
"\n"
"The namespace:\n"
"  --guest-ip A.B.C.D          tap0's address (default: the first address of\n"
"                              the DHCP pool, 10.0.2.2); its prefix is the\n"
"                              gateway's\n"
"  --gateway-ip A.B.C.D/LEN    the gateway's address and subnet, tap0's\n"
"                              default route (default 10.0.2.1/24)\n"
"  --mtu N                     tap0's MTU, 576..65520 (default 65520)\n"
"  --ns-ifname NAME            the TAP's name (default tap0)\n"
"  --verbose                   the gateway's info messages, and its final\n"
"                              statistics, on stderr (CMD's stderr too)\n"
"\n"
"The uplink, where the namespace's traffic leaves (see arcnat gateway --help):\n"
"  --outside sock              the default, rootless: each flow leaves through\n"
"                              a socket of arcnat's in the caller's network\n"
"                              (TCP through a relay, UDP; ICMP echo where\n"
"                              net.ipv4.ping_group_range allows arcnat's group)\n"
"  --outside IFACE[@NETNS] --external-ip A.B.C.D/LEN [--next-hop A.B.C.D]\n"
"  --outside tun:NAME[@NETNS] --external-ip A.B.C.D/LEN\n"
"                              packet uplinks; both need root (CAP_NET_RAW,\n"
"                              CAP_NET_ADMIN)\n"
"\n"
"Signals: SIGINT, SIGTERM and SIGHUP sent to arcnat are forwarded to CMD;\n"
"those of the terminal (Ctrl-C) reach CMD directly, in arcnat's process\n"
"group, and are not sent twice. SIGUSR1 prints statistics. When arcnat dies,\n"
"CMD is killed (SIGKILL).\n"
"Exit status: CMD's, 128+N when signal N ended it; 1 when the namespace or\n"
"the gateway could not be set up, or the gateway failed (CMD is killed);\n"
"2 on a usage error; 126 CMD cannot be executed; 127 CMD not found.\n"
"\n";

static const char attach_usage[] =
"Usage: arcnat attach --netns PATH|NAME [OPTIONS]\n"
"       arcnat attach --pid PID [OPTIONS]\n"
"\n"
"The network of `arcnat run` for a network namespace that exists already\n"
"(made by `unshare`, a container runtime, `ip netns add`): arcnat creates\n"
"the TAP device tap0 inside, configures it directly (address, MTU, default\n"
"route via the gateway) and serves it, from outside the namespace. When the\n"
"namespace belongs to a user namespace that is not arcnat's (`unshare -rn`\n"
"by the same user, a rootless container), arcnat joins that one to create\n"
"the device; no privilege is needed for a namespace of the caller's own.\n"
"\n"
"The namespace:\n"
"  --netns PATH|NAME           a network namespace file (/proc/PID/ns/net, a\n"
"                              bind mount) or a name under /run/netns;\n"
"                              arcnat stops when that file is deleted (ip\n"
"                              netns del), a /proc path excepted\n"
"  --pid PID                   the network namespace of process PID; arcnat\n"
"                              stops when PID exits\n"
"  --guest-ip A.B.C.D          tap0's address (default 10.0.2.2, the first\n"
"                              address of the DHCP pool)\n"
"  --gateway-ip A.B.C.D/LEN    the gateway (default 10.0.2.1/24)\n"
"  --mtu N                     tap0's MTU, 576..65520 (default 65520)\n"
"  --ns-ifname NAME            the TAP's name (default tap0)\n"
"  --verbose                   info messages and the final statistics\n"
"\n"
"The uplink (see arcnat gateway --help):\n"
"  --outside sock              the default, rootless: host sockets\n"
"  --outside IFACE[@NETNS] --external-ip A.B.C.D/LEN [--next-hop A.B.C.D]\n"
"  --outside tun:NAME[@NETNS] --external-ip A.B.C.D/LEN\n"
"\n"
"SIGINT and SIGTERM stop; SIGUSR1 prints statistics. Exit status: 0 after a\n"
"stop, 1 on a runtime error, 2 on a usage error.\n"
"\n";

/* "arcnat: MESSAGE" and the hint. Return: the usage exit status. */
__printf(2, 3) static int run_usage_error(const struct run_ctx *c,
					   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("arcnat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'arcnat %s --help'.\n", c->attach ? "attach" : "run");
	va_end(ap);
	return 2;
}

static int run_parse_opt(void *ctx, int val, const char *name, const char *arg)
{
	struct run_ctx *c = ctx;
	uint32_t v;

	switch (val) {
	case RUN_OPT_GUEST:
		if (opts_parse_ip4(arg, &c->guest) || !c->guest)
			return run_usage_error(c, "--%s: '%s' is not an IPv4 address",
					       name, arg);
		return 0;
	case RUN_OPT_IFNAME:
		if (!arg[0] || strlen(arg) >= IFNAMSIZ || strchr(arg, '/') ||
		    strchr(arg, ':') || strchr(arg, ' '))
			return run_usage_error(c, "--%s: '%s' is not an interface "
					       "name (1..15 bytes)", name, arg);
		snprintf(c->ifname, sizeof(c->ifname), "%s", arg);
		return 0;
	case RUN_OPT_VERBOSE:
		if (!log_enabled(LOG_LEVEL_INFO))
			log_set_level(LOG_LEVEL_INFO);
		return 0;
	case RUN_OPT_NETNS:
		if (!arg[0])
			return run_usage_error(c, "--%s: empty", name);
		c->netns = arg;
		return 0;
	case RUN_OPT_PID:
		if (opts_parse_u32(arg, 1, INT32_MAX, &v))
			return run_usage_error(c, "--%s: '%s' is not a process id",
					       name, arg);
		c->pid = (pid_t)v;
		return 0;
	default:
		return run_usage_error(c, "--%s: unexpected", name);
	}
}

/* After the options: the guest's address. Return: 0 or 2. */
static int run_finish(struct run_ctx *c, struct gateway *gw)
{
	uint32_t mask, host;
	char a[INET_ADDRSTRLEN];

	gateway_get_plan(gw, &c->plan);
	mask = ip4_prefix_mask(c->plan.gw_plen);
	if (!c->guest)
		c->guest = c->plan.pool_first;
	host = c->guest & ~mask;
	inet_ntop(AF_INET, &c->guest, a, sizeof(a));
	if ((c->guest & mask) != (c->plan.gw_addr & mask) ||
	    c->guest == c->plan.gw_addr || host == 0 || host == ~mask)
		return run_usage_error(c, "--guest-ip: %s is not a host address of "
				       "the gateway's subnet other than the gateway "
				       "(--gateway-ip)", a);
	gateway_set_forward_guest(gw, c->guest);
	if (c->attach && !c->netns == !c->pid)
		return run_usage_error(c, "exactly one of --netns and --pid is "
				       "required");
	if (c->pid)
		snprintf(c->nspath, sizeof(c->nspath), "/proc/%d/ns/net",
			 (int)c->pid);
	else if (c->netns && strchr(c->netns, '/'))
		snprintf(c->nspath, sizeof(c->nspath), "%s", c->netns);
	else if (c->netns)
		snprintf(c->nspath, sizeof(c->nspath), "%s/%s", NETNS_RUN_DIR,
			 c->netns);
	return 0;
}

/* ---- the setup child ------------------------------------------------ */

/*
 * The caller's resolv.conf is replaced on this mount namespace only: a
 * file on a scratch tmpfs is bind-mounted over it, and the tmpfs is
 * detached from the directory it covered for that moment (the bind mount
 * keeps it). Nothing is written where the host sees it. A failure is a
 * warning: CMD then sees the host's file.
 */
static void run_resolv(const struct run_ctx *c)
{
	char text[RUN_RESOLV_MAX], path[64], a[INET_ADDRSTRLEN];
	const char *dir = NULL;
	size_t len = 0;
	int fd, err = 0;

	len += (size_t)snprintf(text, sizeof(text),
				"# arcnat run: the gateway's DNS forwarder\n");
	for (unsigned int i = 0; i < c->plan.n_dns; i++) {
		inet_ntop(AF_INET, &c->plan.dns[i], a, sizeof(a));
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"nameserver %s\n", a);
	}
	if (c->plan.domain && len < sizeof(text))
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"search %s\n", c->plan.domain);
	len = MIN(len, sizeof(text) - 1);

	for (size_t i = 0; i < ARRAY_SIZE(run_scratch) && !dir; i++)
		if (mount("arcnat", run_scratch[i], "tmpfs",
			  MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0755") == 0)
			dir = run_scratch[i];
	if (!dir) {
		log_warn("cannot replace %s: no tmpfs: %s", RUN_RESOLV,
			 strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
	} else {
		ssize_t n = write(fd, text, len);

		if (n != (ssize_t)len)
			err = n < 0 ? errno : EIO;
		close(fd);
	}
	if (!err && mount(path, RUN_RESOLV, NULL, MS_BIND, NULL) < 0)
		err = errno;
	if (err)
		log_warn("cannot replace %s: %s", RUN_RESOLV, strerror(err));
	if (umount2(dir, MNT_DETACH) < 0)
		log_warn("%s: cannot detach the scratch tmpfs: %s", dir,
			 strerror(errno));
}

/* run: the namespaces. Return: 0 or -errno (printed). */
static int run_unshare(const struct run_ctx *c)
{
	const int flags = CLONE_NEWNET | CLONE_NEWNS;
	int err = 0;

	if (geteuid() != 0) {
		err = userns_unshare(flags);
		if (err == -ENOSPC || err == -EUSERS) {
			log_err("cannot create a user namespace: none allowed, or "
				"the limit reached (sysctl user.max_user_namespaces); "
				"arcnat needs one when not root");
			return err;
		}
		if (err == -EPERM) {
			log_err("cannot create a user namespace: not permitted "
				"(unprivileged user namespaces are off: sysctl "
				"kernel.unprivileged_userns_clone or "
				"kernel.apparmor_restrict_unprivileged_userns); "
				"arcnat needs one when not root");
			return err;
		}
	} else if (unshare(flags) < 0) {
		err = -errno;
	}
	if (err) {
		log_err("cannot create the namespaces: %s", strerror(-err));
		return err;
	}
	/* Nothing mounted here may reach the caller's mount namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		err = -errno;
		log_err("cannot make the mount namespace private: %s",
			strerror(-err));
		return err;
	}
	run_resolv(c);
	return 0;
}

/* attach: into the namespace (and its owner). Return: 0 or -errno (printed). */
static int run_join(const struct run_ctx *c)
{
	const char *path = c->nspath;
	int fd, joined = 0, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (c->pid && err == -ENOENT)
			log_err("--pid %d: no such process", (int)c->pid);
		else
			log_err("%s: %s%s", path, strerror(-err),
				err == -EACCES || err == -EPERM ?
				" (another user's: run arcnat as that user or as "
				"root)" : "");
		return err;
	}
	err = userns_join_owner(fd, &joined);
	if (err) {
		log_err("%s: cannot join the user namespace that owns it: %s%s",
			path, strerror(-err), err == -EPERM ?
			" (it is another user's, or outside arcnat's own)" : "");
		goto out;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		err = -errno;
		log_err("%s: cannot enter the network namespace: %s%s", path,
			strerror(-err), err == -EINVAL ? " (not a network namespace)" :
			err == -EPERM ? " (it is another user's: run arcnat as "
					"that user or as root)" : "");
	}
out:
	close(fd);
	return err;
}

/*
 * IPv6 off on the TAP (before it is up): arcnat translates IPv4 only, and
 * the kernel's solicitations and reports would only be counted drops. The
 * file is the calling thread's network namespace's. Best effort.
 */
static void run_no_ipv6(const char *ifname)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1", 1) != 1)
		log_debug("%s: IPv6 stays on: %s", ifname, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Bring @name up. Return: 0 or -errno. */
static int run_link_up(struct nl *nl, const char *name, unsigned int *ifindex)
{
	int err = nl_link_index(nl, name, ifindex);

	return err ? err : nl_link_set_up(nl, *ifindex, true);
}

/*
 * In the namespace: lo up, the TAP created and configured.
 * Return: 0 or -errno (printed); *tap the TAP's fd.
 */
static int run_net(const struct run_ctx *c, int *tap, uint32_t *mtu)
{
	unsigned int lo, idx, offloads = 0, m = 0;
	struct nl *nl = NULL;
	const char *step = "open netlink in";
	int err;

	*tap = -1;
	err = nl_open(&nl);
	if (err)
		goto out;
	step = "bring up lo in";
	err = run_link_up(nl, "lo", &lo);
	if (err)
		goto out;
	step = "create the TAP device in";
	*tap = tuntap_open(c->ifname, TUNTAP_TAP | TUNTAP_VNET, NULL, &offloads);
	if (*tap < 0) {
		err = *tap;
		*tap = -1;
		goto out;
	}
	step = "find the TAP in";
	err = nl_link_index(nl, c->ifname, &idx);
	if (!err)
		run_no_ipv6(c->ifname);
	if (!err && c->plan.mtu) {
		step = "set the MTU of the TAP in";
		err = nl_link_set_mtu(nl, idx, c->plan.mtu);
	}
	if (!err) {
		step = "bring up the TAP in";
		err = nl_link_set_up(nl, idx, true);
	}
	if (!err) {
		step = "add the address to the TAP in";
		err = nl_addr4_add(nl, idx, c->guest, c->plan.gw_plen);
	}
	if (!err) {
		step = "add the default route via the gateway in";
		err = nl_route4_add(nl, 0, 0, c->plan.gw_addr, idx);
	}
	if (!err) {
		step = "read the TAP's MTU in";
		err = nl_link_info(nl, idx, NULL, &m, NULL);
	}
	*mtu = m;
out:
	if (err) {
		log_err("%s: cannot %s the namespace: %s", c->ifname, step,
			strerror(-err));
		if (*tap >= 0)
			close(*tap);
		*tap = -1;
	}
	nl_close(nl);	/* a socket would keep the namespace alive */
	return err;
}

/* One message, and @fd (when >= 0) with it. Return: 0 or -errno. */
static int run_send(int sock, const struct run_hello *h, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)h, .iov_len = sizeof(*h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	memset(&u, 0, sizeof(u));
	if (fd >= 0) {
		struct cmsghdr *cm;

		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*h) ? 0 :
									   -EIO;
}

/*
 * The child's message; *fd the descriptor that came with it (close-on-exec)
 * or -1. Return: 0; -EPIPE the child ended without one; -EBADMSG.
 */
static int run_recv(int sock, struct run_hello *h, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = h, .iov_len = sizeof(*h) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -EPIPE;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(*h) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (!h->err && *fd < 0)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EBADMSG;
	}
	return 0;
}

/* Die with the parent; Return: whether it is still there. */
static bool run_tie_to(pid_t parent)
{
	return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 &&
	       getppid() == parent;
}

/*
 * execvp() as a shell: a CMD found nowhere on PATH (glibc's execvp() says
 * EACCES when some directory of PATH cannot be searched, as for uid 65534)
 * is 127, "command not found"; a file found that cannot be executed, 126.
 * Return: only on failure, the exit status (the reason printed).
 */
static int run_execvp(char **argv)
{
	const char *path = getenv("PATH");
	char full[PATH_MAX];
	int status = RUN_EXIT_NOENT, err = ENOENT;

	if (strchr(argv[0], '/')) {
		execv(argv[0], argv);
		err = errno;
		status = err == ENOENT ? RUN_EXIT_NOENT : RUN_EXIT_NOEXEC;
		goto out;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		struct stat st;

		if (snprintf(full, sizeof(full), "%.*s/%s", (int)len,
			     len ? path : ".", argv[0]) < (int)sizeof(full) &&
		    stat(full, &st) == 0 && !S_ISDIR(st.st_mode)) {
			execv(full, argv);
			err = errno;	/* found, cannot be executed */
			status = RUN_EXIT_NOEXEC;
			break;
		}
		path += len + (path[len] == ':');
	}
out:
	fprintf(stderr, "arcnat: %s: %s\n", argv[0],
		status == RUN_EXIT_NOENT ? "command not found" : strerror(err));
	return status;
}

/* run: wait for the go, then become CMD. Never returns. */
__noreturn static void run_exec(const struct run_ctx *c, int sock, pid_t parent)
{
	sigset_t none;
	ssize_t n;
	char go;

	do {
		n = read(sock, &go, 1);
	} while (n < 0 && errno == EINTR);
	if (n != 1)
		_exit(1);	/* the parent failed and said why */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Again: a credential change (the user namespace) may clear it. */
	if (!run_tie_to(parent))
		_exit(1);
	/* Only stdin, stdout and stderr go to CMD. */
	if (close_range(3, ~0u, 0) < 0)
		(void)close(sock);
	_exit(run_execvp(c->cmd));
}

/* The setup child. Never returns. */
__noreturn static void run_child(const struct run_ctx *c, int sock, pid_t parent)
{
	struct run_hello h = { 0 };
	int tap = -1;

	if (!run_tie_to(parent))
		_exit(1);
	h.err = c->attach ? run_join(c) : run_unshare(c);
	if (!h.err)
		h.err = run_net(c, &tap, &h.mtu);
	if (run_send(sock, &h, tap) || h.err)
		_exit(1);
	close(tap);
	if (c->attach)
		_exit(0);
	run_exec(c, sock, parent);
}

/* ---- the parent ----------------------------------------------------- */

/* Block @set's signals (and SIGPIPE) and read them from a signalfd.
 * Return: the signalfd, or -1 (logged). */
static int run_signals(sigset_t *set)
{
	sigset_t block = *set;
	int sfd;

	sigaddset(&block, SIGPIPE);
	/* Before any thread exists, so every thread inherits it. */
	if (sigprocmask(SIG_BLOCK, &block, NULL) < 0) {
		log_err("sigprocmask: %s", strerror(errno));
		return -1;
	}
	sfd = signalfd(-1, set, SFD_CLOEXEC);
	if (sfd < 0)
		log_err("signalfd: %s", strerror(errno));
	return sfd;
}

/* Read and write access to the TUN device, said plainly when missing. */
static int run_check_tun(void)
{
	struct stat st;

	if (access(RUN_TUN_DEV, R_OK | W_OK) == 0)
		return 0;
	if (errno == ENOENT) {
		log_err("%s is missing: load the kernel's tun module (modprobe "
			"tun) or make the node (mknod -m 0666 %s c 10 200)",
			RUN_TUN_DEV, RUN_TUN_DEV);
	} else if (errno == EACCES && stat(RUN_TUN_DEV, &st) == 0) {
		log_err("%s: permission denied: arcnat needs to read and write it "
			"(it is mode %04o here; distributions ship it 0666)",
			RUN_TUN_DEV, (unsigned int)(st.st_mode & 07777));
	} else {
		log_err("%s: %s", RUN_TUN_DEV, strerror(errno));
	}
	return -1;
}

/* Kill and reap the child (setup failed, or the gateway did). */
static void run_kill_child(struct run_ctx *c)
{
	int st;

	if (c->child <= 0)
		return;
	(void)kill(c->child, SIGKILL);
	while (waitpid(c->child, &st, 0) < 0 && errno == EINTR)
		;
	c->child = 0;
}

/*
 * Fork the setup child and take the TAP from it.
 * Return: 0 and *port, or -1 (logged; the child is reaped).
 */
static int run_spawn(struct run_ctx *c, struct dp_port **port)
{
	struct run_hello h = { 0 };
	char name[DP_PORT_NAME_MAX], a[INET_ADDRSTRLEN];
	pid_t parent = getpid();
	int sp[2], fd, err;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		log_err("socketpair: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);	/* nothing buffered is written twice */
	c->child = fork();
	if (c->child < 0) {
		log_err("fork: %s", strerror(errno));
		close(sp[0]);
		close(sp[1]);
		c->child = 0;
		return -1;
	}
	if (c->child == 0) {
		close(sp[0]);
		run_child(c, sp[1], parent);
	}
	close(sp[1]);
	c->sock = sp[0];
	err = run_recv(c->sock, &h, &fd);
	if (err || h.err) {
		if (err)
			log_err("setting up the namespace failed: the child %s",
				err == -EPIPE ? "ended early" : "sent a bad message");
		run_kill_child(c);
		return -1;
	}
	if (c->attach) {
		while (waitpid(c->child, NULL, 0) < 0 && errno == EINTR)
			;
		c->child = 0;
		close(c->sock);
		c->sock = -1;
	}
	if (c->pid)
		snprintf(name, sizeof(name), "%s@pid:%d", c->ifname, (int)c->pid);
	else
		snprintf(name, sizeof(name), "%s@%s", c->ifname,
			 c->netns ? c->netns : "run");
	err = dp_fdio_port_create(port, fd, DP_PORT_VNET, TUNTAP_VNET_HDR_LEN,
				  h.mtu, name);
	if (err) {
		log_err("%s: %s", name, strerror(-err));
		return -1;
	}
	inet_ntop(AF_INET, &c->guest, a, sizeof(a));
	log_info("%s: TAP %s/%u, MTU %u", name, a, c->plan.gw_plen, h.mtu);
	return 0;
}

/* Signals, the gateway's configuration, the child, the gateway. */
static int run_setup(struct run_ctx *c, struct gateway *gw, sigset_t *set,
		     int *sfd)
{
	struct dp_port *port = NULL;

	*sfd = run_signals(set);
	if (*sfd < 0)
		return -1;
	if (run_check_tun() || gateway_prepare(gw))
		return -1;
	if (run_spawn(c, &port))
		return -1;
	if (gateway_start(gw, port, c->attach ? 0 : c->child)) {
		run_kill_child(c);
		return -1;
	}
	return 0;
}

/* Reap CMD if it has exited. Return: 1 it has (status kept), 0 not yet. */
static int run_reap(struct run_ctx *c)
{
	int st;

	if (c->child <= 0 || waitpid(c->child, &st, WNOHANG) != c->child)
		return 0;
	c->child = 0;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) :
		    WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 1;
	return 1;
}

static void run_ready(void *ctx)
{
	struct run_ctx *c = ctx;

	/* The network is up: CMD may start. A child that is gone already is
	 * reaped through SIGCHLD. */
	if (write(c->sock, "g", 1) != 1)
		log_debug("the child did not take the go: %s", strerror(errno));
	close(c->sock);
	c->sock = -1;
}

static int run_signal(void *ctx, const struct signalfd_siginfo *si)
{
	struct run_ctx *c = ctx;

	if (si->ssi_signo == SIGCHLD)
		return run_reap(c);
	/*
	 * The terminal's signals (the kernel's, SI_KERNEL) went to the whole
	 * foreground process group, CMD included: not twice.
	 */
	if (si->ssi_code == SI_KERNEL || c->child <= 0)
		return 0;
	log_debug("signal %u: forwarded to %d", si->ssi_signo, (int)c->child);
	if (kill(c->child, (int)si->ssi_signo) < 0 && errno != ESRCH)
		log_warn("cannot forward signal %u: %s", si->ssi_signo,
			 strerror(errno));
	return 0;
}

int run_main(int argc, char **argv)
{
	static char *shell[2];
	struct run_ctx c = { .sock = -1, .status = -1, .watch = -1 };
	const struct gateway_cmd cmd = {
		.name = "run",
		.usage = run_usage,
		.options = run_options,
		.parse = run_parse_opt,
		.ctx = &c,
		.args = true,
		.keep_user = true,
		.default_mtu = RUN_MTU,
		.default_outside = "sock",
	};
	const struct serve_hooks hooks = {
		.ctx = &c, .ready = run_ready, .signal = run_signal, .fd = -1,
		.quiet = true,
	};
	struct gateway *gw = NULL;
	sigset_t set;
	int sfd = -1, rc, err;

	snprintf(c.ifname, sizeof(c.ifname), "%s", RUN_IFNAME);
	/* CMD shares stderr: only warnings and errors unless asked. */
	log_set_level(LOG_LEVEL_WARN);
	rc = gateway_parse(&gw, argc, argv, &cmd);
	if (rc)
		return rc;
	if (optind < argc) {
		c.cmd = argv + optind;
	} else {
		shell[0] = getenv("SHELL");
		if (!shell[0] || !shell[0][0])
			shell[0] = (char *)RUN_SHELL;
		c.cmd = shell;
	}
	rc = run_finish(&c, gw);
	if (rc)
		goto out;
	rc = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (run_setup(&c, gw, &set, &sfd))
		goto out;
	err = serve_worker(gateway_worker(gw), sfd, &hooks);
	gateway_finish(gw);
	if (c.status >= 0) {
		rc = c.status;
	} else {
		/* The gateway stopped before CMD: without it CMD has no network. */
		log_err("the gateway stopped%s%s: killing %s", err ? ": " : "",
			err ? strerror(-err) : "", c.cmd[0]);
		run_kill_child(&c);
	}
out:
	run_kill_child(&c);
	gateway_free(gw);
	if (c.sock >= 0)
		close(c.sock);
	if (sfd >= 0)
		close(sfd);
	return rc;
}

static int run_pid_gone(void *ctx)
{
	const struct run_ctx *c = ctx;

	log_info("process %d exited: stopping", (int)c->pid);
	return 1;
}

/* The file's name in its directory (after the last '/'). */
static const char *run_ns_base(const struct run_ctx *c)
{
	const char *slash = strrchr(c->nspath, '/');

	return slash ? slash + 1 : c->nspath;
}

/*
 * --netns: watch the file's directory, as `ip netns del` (or a runtime)
 * unlinks the file when the namespace is done with. A /proc path is not
 * watched (inotify sees nothing there). Return: 0 or -1 (logged).
 */
static int run_watch_netns(struct run_ctx *c, struct serve_hooks *hooks,
			   int (*gone)(void *ctx))
{
	char dir[PATH_MAX];
	char *slash;

	if (!strncmp(c->nspath, "/proc/", 6))
		return 0;
	snprintf(dir, sizeof(dir), "%s", c->nspath);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
	else
		*slash = '\0';
	c->watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->watch < 0 ||
	    inotify_add_watch(c->watch, dir, IN_DELETE | IN_MOVED_FROM |
			      IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		log_err("%s: cannot watch the directory: %s", dir,
			strerror(errno));
		return -1;
	}
	hooks->fd = c->watch;
	hooks->fd_ready = gone;
	return 0;
}

/* The watched directory changed: 1 when the namespace's file is gone. */
static int run_netns_gone(void *ctx)
{
	const struct run_ctx *c = ctx;
	union {
		char buf[4096];
		struct inotify_event align;
	} u;
	ssize_t n;

	while ((n = read(c->watch, u.buf, sizeof(u.buf))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev =
				(const struct inotify_event *)(u.buf + off);

			if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) ||
			    ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) && ev->len &&
			     !strcmp(ev->name, run_ns_base(c)))) {
				log_info("%s is gone: stopping", c->nspath);
				return 1;
			}
			off += (ssize_t)sizeof(*ev) + ev->len;
		}
	}
	return 0;
}

int run_attach_main(int argc, char **argv)
{
	struct run_ctx c = { .attach = true, .sock = -1, .status = -1,
			     .watch = -1 };
	const struct gateway_cmd cmd = {
		.name = "attach",
		.usage = attach_usage,
		.options = attach_options,
		.parse = run_parse_opt,
		.ctx = &c,
		.default_mtu = RUN_MTU,
		.default_outside = "sock",
	};
	struct serve_hooks hooks = { .ctx = &c, .fd = -1 };
	struct gateway *gw = NULL;
	sigset_t set;
	int sfd = -1, rc;

	snprintf(c.ifname, sizeof(c.ifname), "%s", RUN_IFNAME);
	rc = gateway_parse(&gw, argc, argv, &cmd);
	if (rc)
		return rc;
	rc = run_finish(&c, gw);
	if (rc)
		goto out;
	rc = 1;
	if (c.pid) {
		/* Pins the process: a pid reused later is not it. */
		c.watch = (int)syscall(SYS_pidfd_open, c.pid, 0);
		if (c.watch < 0) {
			log_err("--pid %d: %s", (int)c.pid, errno == ESRCH ?
				"no such process" : strerror(errno));
			goto out;
		}
		hooks.fd = c.watch;
		hooks.fd_ready = run_pid_gone;
	} else if (run_watch_netns(&c, &hooks, run_netns_gone)) {
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (run_setup(&c, gw, &set, &sfd))
		goto out;
	rc = serve_worker(gateway_worker(gw), sfd, &hooks) ? 1 : 0;
	gateway_finish(gw);
out:
	gateway_free(gw);
	if (c.watch >= 0)
		close(c.watch);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
