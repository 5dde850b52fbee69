// SPDX-License-Identifier: MIT
/*
 * test_serve.c - serve_worker(), without and with hooks: every way
 * the wait for signals ends stops and joins the worker; the hooks see what
 * they should (the worker running, the signals that are not the gateway's,
 * their fd).
 *
 * The worker runs between two idle ports (an eventfd each, nothing to
 * receive). Each case is bounded by alarm(): a serve_worker() that joins a
 * worker nobody stopped hangs, and SIGALRM then ends the program as a
 * failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "test_exit.h"
#include "app/serve.h"
#include "dp/worker.h"

#define CASE_SECONDS 5

struct idle_port {
	struct dp_port port;
	int rx_err;	/* what rx_burst() returns once the fd is readable */
};

static int ip_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	struct idle_port *ip = container_of(p, struct idle_port, port);
	uint64_t v;

	(void)bufs;
	(void)n;
	(void)now;
	if (read(p->fd, &v, sizeof(v)) < 0)
		return 0;
	return ip->rx_err;
}

static unsigned int ip_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	(void)p;
	(void)now;
	for (unsigned int i = 0; i < n; i++)
		dp_buf_check(bufs[i], 0);	/* the contract, like every port */
	return n;
}

static void ip_destroy(struct dp_port *p)
{
	(void)p;
}

static const struct dp_port_ops ip_ops = {
	.rx_burst = ip_rx,
	.tx_burst = ip_tx,
	.destroy = ip_destroy,
};

static const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };

struct env {
	struct idle_port in, out;
	struct nat *nat;
	struct dp_worker *w;
	sigset_t set;
};

static void port_init(struct idle_port *p, uint32_t flags)
{
	memset(p, 0, sizeof(*p));
	p->port.ops = &ip_ops;
	p->port.flags = flags;
	snprintf(p->port.name, sizeof(p->port.name), "idle");
	p->port.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(p->port.fd >= 0);
}

static int env_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct nat_config nc = { 0 };
	struct dp_config dc = { 0 };

	assert_non_null(e);
	port_init(&e->in, 0);
	port_init(&e->out, DP_PORT_L3);
	nc.ext_addrs[0] = htonl(0xc6336402);
	nc.n_ext_addrs = 1;
	nc.port_min = NAT_DEFAULT_PORT_MIN;
	nc.port_max = NAT_DEFAULT_PORT_MAX;
	nc.max_flows = 64;
	ct_timeouts_default(&nc.timeouts);
	assert_int_equal(nat_create(&e->nat, &nc), 0);
	dc.inside = &e->in.port;
	dc.outside = &e->out.port;
	dc.nat = e->nat;
	dc.gw_addr = htonl(0x0a000201);
	dc.gw_plen = 24;
	memcpy(dc.gw_mac, gw_mac, sizeof(gw_mac));
	assert_int_equal(dp_worker_create(&e->w, &dc), 0);
	/* As gateway_main() does: blocked before any thread exists. */
	sigemptyset(&e->set);
	sigaddset(&e->set, SIGINT);
	sigaddset(&e->set, SIGTERM);
	sigaddset(&e->set, SIGUSR1);
	sigaddset(&e->set, SIGUSR2);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &e->set, NULL), 0);
	alarm(CASE_SECONDS);
	*state = e;
	return 0;
}

static int env_teardown(void **state)
{
	struct env *e = *state;
	struct timespec zero = { 0, 0 };

	alarm(0);
	/* Leave no pending signal behind for the next case. */
	while (sigtimedwait(&e->set, NULL, &zero) > 0)
		;
	dp_worker_destroy(e->w);
	nat_destroy(e->nat);
	close(e->in.port.fd);
	close(e->out.port.fd);
	free(e);
	return 0;
}

static int signal_fd(struct env *e)
{
	int sfd = signalfd(-1, &e->set, SFD_CLOEXEC);

	assert_true(sfd >= 0);
	return sfd;
}

/* The normal stop: SIGTERM. */
static void stop_by_sigterm(void **state)
{
	struct env *e = *state;
	int sfd = signal_fd(e);

	assert_int_equal(kill(getpid(), SIGTERM), 0);
	assert_int_equal(serve_worker(e->w, sfd, NULL), 0);
	close(sfd);
}

/* The signalfd gives a short read (here: end of file of a pipe). */
static void stop_on_short_read(void **state)
{
	struct env *e = *state;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	close(p[1]);
	assert_int_equal(serve_worker(e->w, p[0], NULL), -EIO);
	close(p[0]);
}

/* The signalfd cannot be read at all (here: a directory). */
static void stop_on_read_error(void **state)
{
	struct env *e = *state;
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(serve_worker(e->w, fd, NULL), -EISDIR);
	close(fd);
}

/* The worker ends by itself (a device failed): its error is returned. */
static void worker_ends_by_itself(void **state)
{
	struct env *e = *state;
	uint64_t one = 1;
	int sfd = signal_fd(e);

	e->in.rx_err = -ENETDOWN;
	assert_int_equal(write(e->in.port.fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(serve_worker(e->w, sfd, NULL), -ENETDOWN);
	close(sfd);
}

/* What the hooks saw. */
struct hook_log {
	int ready;
	int signals;
	unsigned int last_signo;
	int fd_calls;
	int stop_on_signal;	/* the signal hook's answer */
	int efd;		/* the hooks' extra fd */
};

static void hk_ready(void *ctx)
{
	struct hook_log *l = ctx;

	l->ready++;
	/* The worker runs: SIGUSR1 (statistics) is the gateway's, not the
	 * hook's; SIGTERM is the hook's to judge. */
	assert_int_equal(kill(getpid(), SIGUSR1), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
}

static int hk_signal(void *ctx, const struct signalfd_siginfo *si)
{
	struct hook_log *l = ctx;
	uint64_t one = 1;

	l->signals++;
	l->last_signo = si->ssi_signo;
	if (!l->stop_on_signal && l->efd >= 0)	/* go on, then the fd ends it */
		assert_int_equal(write(l->efd, &one, sizeof(one)), sizeof(one));
	return l->stop_on_signal;
}

static int hk_fd_ready(void *ctx)
{
	struct hook_log *l = ctx;

	l->fd_calls++;
	return 1;
}

/* A signal hook that stops: called once the worker runs, for SIGTERM only. */
static void hooks_signal_stops(void **state)
{
	struct env *e = *state;
	struct hook_log l = { .stop_on_signal = 1, .efd = -1 };
	const struct serve_hooks h = {
		.ctx = &l, .ready = hk_ready, .signal = hk_signal, .fd = -1,
	};
	int sfd = signal_fd(e);

	assert_int_equal(serve_worker(e->w, sfd, &h), 0);
	assert_int_equal(l.ready, 1);
	assert_int_equal(l.signals, 1);
	assert_int_equal(l.last_signo, SIGTERM);
	close(sfd);
}

/* A signal hook that goes on: SIGTERM no longer stops; the fd hook does. */
static void hooks_fd_stops(void **state)
{
	struct env *e = *state;
	struct hook_log l = { .stop_on_signal = 0 };
	struct serve_hooks h = {
		.ctx = &l, .ready = hk_ready, .signal = hk_signal,
		.fd_ready = hk_fd_ready,
	};
	int sfd = signal_fd(e);

	l.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(l.efd >= 0);
	h.fd = l.efd;
	assert_int_equal(serve_worker(e->w, sfd, &h), 0);
	assert_int_equal(l.signals, 1);
	assert_int_equal(l.fd_calls, 1);
	close(l.efd);
	close(sfd);
}

/* With hooks, the worker ending by itself still ends the wait. */
static void hooks_worker_ends(void **state)
{
	struct env *e = *state;
	struct hook_log l = { .efd = -1 };
	uint64_t one = 1;
	const struct serve_hooks h = {
		.ctx = &l, .signal = hk_signal, .fd = -1,
	};
	int sfd = signal_fd(e);

	e->in.rx_err = -ENETDOWN;
	assert_int_equal(write(e->in.port.fd, &one, sizeof(one)), sizeof(one));
	assert_int_equal(serve_worker(e->w, sfd, &h), -ENETDOWN);
	assert_int_equal(l.signals, 0);
	close(sfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stop_by_sigterm, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(stop_on_short_read, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(stop_on_read_error, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(worker_ends_by_itself, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(hooks_signal_stops, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(hooks_fd_stops, env_setup,
						env_teardown),
		cmocka_unit_test_setup_teardown(hooks_worker_ends, env_setup,
						env_teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
