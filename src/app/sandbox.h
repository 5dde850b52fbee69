/* SPDX-License-Identifier: MIT */
/*
 * sandbox.h - what arcnat gives up once its devices are open: its user,
 * its capabilities, new privileges, and every system call the running
 * gateway does not make (docs/security.md).
 *
 * Theory of operation: `arcnat gateway` opens everything that needs
 * privileges first (namespaces, TUN/TAP devices, the AF_PACKET socket, the
 * pcap file, the lease file and its directory), while it is still a single
 * thread. sandbox_drop() then switches to the target user (libcap-ng:
 * groups, gid, uid, an empty bounding set, no ambient capabilities), which
 * leaves no capability: the running datapath only reads and writes
 * descriptors it already holds. sandbox_lock() sets no_new_privs and loads
 * a seccomp allow-list (libseccomp) of the system calls that the worker,
 * the signal-waiting main thread, the lease file's writer, logging and a
 * clean shutdown make; it is loaded with TSYNC, but before the worker and
 * writer threads exist, so they start under it. A system call outside the
 * list raises SIGSYS, whose handler writes "arcnat: seccomp: blocked system
 * call N" (N the number on this architecture, see `ausyscall N`) and ends
 * the process with exit status 159 (128 + SIGSYS).
 *
 * Under AddressSanitizer the list also has the calls its runtime makes
 * (LeakSanitizer stops the threads with ptrace from a helper task at exit),
 * and the process stays dumpable so that it may ptrace its own threads and
 * read /proc/self/maps after the user switch.
 */
#ifndef ARCNAT_APP_SANDBOX_H
#define ARCNAT_APP_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#define SANDBOX_DEFAULT_USER	"nobody"
#define SANDBOX_EXIT_BLOCKED	159	/* 128 + SIGSYS */

/**
 * enum sandbox_mode - how much arcnat gives up.
 * @SANDBOX_FULL:      switch user (when root), no capabilities, no new
 *                     privileges, seccomp
 * @SANDBOX_KEEP_ROOT: stay root with the capabilities it has
 *                     (--no-drop-privileges); no new privileges, seccomp
 * @SANDBOX_OFF:       nothing (--no-sandbox)
 */
enum sandbox_mode {
	SANDBOX_FULL = 0,
	SANDBOX_KEEP_ROOT,
	SANDBOX_OFF,
};

/**
 * struct sandbox - the plan, from sandbox_init().
 * @mode:        see enum sandbox_mode
 * @switch_user: change to @uid/@gid (started as root, SANDBOX_FULL)
 * @uid:         target user
 * @gid:         its primary group
 * @user:        its name, for messages
 * @child:       a child process the main thread may still signal and reap
 *               under seccomp (kill(2) and wait4(2) of this pid only:
 *               `arcnat run` forwards signals to CMD and waits for it), or 0
 * @sock:        the socket uplink runs: it opens IPv4 datagram sockets
 *               (UDP, ping) on the worker's thread, binds them and asks
 *               for their ICMP errors (IP_RECVERR); nothing else is added
 * @guests:      the control socket may add guest ports: UNIX sockets made,
 *               bound, listened on (sandbox.c: sandbox_guests())
 */
struct sandbox {
	enum sandbox_mode mode;
	bool switch_user;
	uid_t uid;
	gid_t gid;
	char user[64];
	pid_t child;
	bool sock;
	bool guests;
};

/**
 * sandbox_init() - decide the plan and look the user up (before anything
 * is opened, so that an unknown user is a usage error).
 * @sb:   filled
 * @user: --user, or NULL for the default (SANDBOX_DEFAULT_USER when root)
 * @mode: see enum sandbox_mode; with SANDBOX_FULL and not root, arcnat
 *        keeps its user and drops the capabilities it has
 *
 * Return: 0; -ENOENT if @user does not exist; -EPERM if @user is given and
 * arcnat is not root; -ENAMETOOLONG for a name over 63 bytes.
 */
int sandbox_init(struct sandbox *sb, const char *user, enum sandbox_mode mode);

/**
 * sandbox_drop() - switch user and drop every capability. Only while the
 * process has one thread.
 * @sb: the plan
 *
 * Return: 0, or -errno (-EPERM for a libcap-ng failure).
 */
int sandbox_drop(const struct sandbox *sb);

/**
 * sandbox_dir_writable() - whether the current (possibly new) user may
 * create and rename files in a directory.
 * @dirfd: the directory
 *
 * Return: 0, or -errno of the access check (-EACCES).
 */
int sandbox_dir_writable(int dirfd);

/**
 * sandbox_lock() - no_new_privs and the seccomp allow-list (and the SIGSYS
 * handler that reports a blocked call). Nothing for SANDBOX_OFF.
 * @sb: the plan
 *
 * Return: 0, or -errno.
 */
int sandbox_lock(const struct sandbox *sb);

/**
 * sandbox_allowed() - how many system calls the allow-list of this build
 * has (for the documentation and tests).
 *
 * Return: the count.
 */
unsigned int sandbox_allowed(void);

#endif /* ARCNAT_APP_SANDBOX_H */
