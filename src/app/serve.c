// SPDX-License-Identifier: MIT
/*
 * serve.c - the worker's thread and the main thread's wait (see serve.h).
 */
#include "app/serve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/compiler.h"
#include "core/log.h"
#include "dp/worker.h"

struct serve_run {
	struct dp_worker *worker;
	pthread_t main_thread;
	int err;
};

static void *serve_thread(void *arg)
{
	struct serve_run *r = arg;

	r->err = dp_worker_run(r->worker);
	/* Wake the main thread if the worker stopped by itself. */
	pthread_kill(r->main_thread, SIGUSR2);
	return NULL;
}

/* One signal: 1 to stop serving, 0 to go on. */
static int serve_on_signal(const struct signalfd_siginfo *si, struct serve_run *r,
			const struct serve_hooks *h)
{
	switch (si->ssi_signo) {
	case SIGUSR1:
		dp_worker_request_stats(r->worker);
		return 0;
	case SIGUSR2:	/* the worker ended on its own */
		return 1;
	default:
		break;
	}
	if (h && h->signal)
		return h->signal(h->ctx, si);
	if (si->ssi_signo == SIGINT || si->ssi_signo == SIGTERM) {
		log_info("signal %u: stopping", si->ssi_signo);
		return 1;
	}
	return 0;
}

/*
 * Wait for @sfd (and the hook's fd). Return: 1 @sfd is readable, 2 the
 * hook's fd is, -errno.
 */
static int serve_wait_fds(int sfd, const struct serve_hooks *h)
{
	struct pollfd pfd[2] = {
		{ .fd = sfd, .events = POLLIN },
		{ .fd = h && h->fd_ready ? h->fd : -1, .events = POLLIN },
	};

	if (pfd[1].fd < 0)
		return 1;	/* the read blocks */
	for (;;) {
		int n = poll(pfd, 2, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (pfd[1].revents)
			return 2;
		if (pfd[0].revents)
			return 1;
	}
}

/*
 * Return: 0 after a stop by signal or hook, 1 if the worker ended by
 * itself, -errno if the signalfd cannot be read (-EIO for a short read) or
 * the wait failed.
 */
static int serve_wait_signals(int sfd, struct serve_run *r,
			   const struct serve_hooks *h)
{
	struct signalfd_siginfo si;

	for (;;) {
		int w = serve_wait_fds(sfd, h);
		ssize_t n;

		if (w == 2 && h && h->fd_ready) {
			if (h->fd_ready(h->ctx))
				return 0;
			continue;
		}
		n = w < 0 ? w : read(sfd, &si, sizeof(si));
		if (n < 0 && errno == EINTR && w > 0)
			continue;
		if (n != (ssize_t)sizeof(si)) {
			int err = w < 0 ? w : n < 0 ? -errno : -EIO;

			log_err("reading signals: %s; stopping", strerror(-err));
			return err;
		}
		if (serve_on_signal(&si, r, h))
			return si.ssi_signo == SIGUSR2 ? 1 : 0;
	}
}

int serve_worker(struct dp_worker *w, int sfd,
			const struct serve_hooks *hooks)
{
	struct serve_run r = { .worker = w, .main_thread = pthread_self() };
	pthread_t th;
	int err;

	err = pthread_create(&th, NULL, serve_thread, &r);
	if (err) {
		log_err("cannot start the worker: %s", strerror(err));
		return -err;
	}
	if (!hooks || !hooks->quiet)
		fprintf(stderr, "arcnat: gateway ready\n");
	if (hooks && hooks->ready)
		hooks->ready(hooks->ctx);
	err = serve_wait_signals(sfd, &r, hooks);
	/*
	 * Whatever ended the wait, the worker is told to stop before the join:
	 * a stop request to a worker that already returned is harmless, and a
	 * join without one would wait forever.
	 */
	dp_worker_stop(w);
	pthread_join(th, NULL);
	if (r.err)
		log_err("the worker stopped: %s", strerror(-r.err));
	return r.err ? r.err : MIN(err, 0);
}
