/* SPDX-License-Identifier: MIT */
/*
 * serve.h - the gateway's two threads while it runs: the worker on a thread
 * of its own, the main thread waiting for signals (and for one more fd a
 * command may hand it) and turning them into requests to the worker.
 *
 * Theory of operation: every signal arcnat handles is blocked in all
 * threads and read from a signalfd by the main thread, so no handler ever
 * runs on the worker's thread and nothing is async-signal-unsafe. SIGUSR1
 * asks the worker for statistics; SIGUSR2 is the worker's thread telling
 * the main thread that the worker ended by itself; SIGINT and SIGTERM stop
 * (`arcnat gateway`), or go to the command's hook (`arcnat run` forwards
 * them to CMD and stops when CMD has exited: app/run.h).
 */
#ifndef ARCNAT_APP_SERVE_H
#define ARCNAT_APP_SERVE_H

#include <stdbool.h>
#include <sys/signalfd.h>

struct dp_worker;

/**
 * struct serve_hooks - what a command does while the gateway serves.
 * @ctx:      for the hooks
 * @ready:    called once the worker runs (NULL: nothing)
 * @signal:   every signal read from the signalfd but SIGUSR1 and SIGUSR2
 *            (the gateway's own) goes here; returns 1 to stop serving, 0 to
 *            go on. NULL: SIGINT and SIGTERM stop, the rest are ignored
 * @fd:       one more descriptor to wait on (a pidfd), or -1
 * @fd_ready: @fd is readable; returns 1 to stop serving, 0 to go on
 * @quiet:    no "arcnat: gateway ready" line on stderr (a command whose
 *            CMD shares it)
 */
struct serve_hooks {
	void *ctx;
	void (*ready)(void *ctx);
	int (*signal)(void *ctx, const struct signalfd_siginfo *si);
	int fd;
	int (*fd_ready)(void *ctx);
	bool quiet;
};

/**
 * serve_worker() - run @w on a thread of its own until SIGINT or SIGTERM
 * arrives on @sfd (or a hook says to stop), the worker ends by itself, or
 * @sfd cannot be read. On every one of these paths the worker is asked to
 * stop and is joined before this returns, so the caller can print its
 * final statistics.
 * @w:     a worker, created and not running
 * @sfd:   signalfd of SIGINT, SIGTERM, SIGUSR1 (statistics) and SIGUSR2 (the
 *         worker's thread sends it to the caller's thread when it ends), and
 *         of any other signal @hooks handles; all of them blocked in every
 *         thread
 * @hooks: the command's hooks, or NULL
 *
 * Return: 0 after a stop by signal or hook; the worker's error (-errno);
 * or the error reading @sfd or waiting (-errno, -EIO for a short read).
 */
int serve_worker(struct dp_worker *w, int sfd, const struct serve_hooks *hooks);

#endif /* ARCNAT_APP_SERVE_H */
