/* SPDX-License-Identifier: MIT */
/*
 * worker_env.h - the fixture of the unit tests that run a whole worker
 * (test_worker.c, test_vhost_user.c): a dp_worker on a thread of its own
 * between two in-memory ports (memport.h: @in, a guest port, and @out, the
 * uplink, L3 with virtio-net headers), with a NAT of one external address
 * (198.51.100.2) and one UDP port forward (198.51.100.2:5000 to a guest's
 * :53); the gateway is 10.0.2.1/24 with gw_mac, the first guest has
 * guest_mac.
 *
 * Nothing is asserted on the worker's thread: a test stops the worker
 * (env_pause()) before it reads the ports' records or the statistics and
 * starts it again with env_resume(). A test may set WORKER_ENV_EXTRA (more
 * members of struct env) before including this header; include cmocka.h
 * and memport.h first. Everything is static: each test program gets its
 * own copy.
 */
#ifndef ARCNAT_TESTS_WORKER_ENV_H
#define ARCNAT_TESTS_WORKER_ENV_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "dp/worker.h"
#include "nat/nat.h"
#include "pkt/build.h"

#include "gw_fixture.h"

#ifndef WORKER_ENV_EXTRA
#define WORKER_ENV_EXTRA
#endif

static const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct env {
	struct memport in, out;
	struct nat *nat;
	struct dp_worker *w;
	pthread_t th;
	pthread_t worker_th;		/* as the worker's thread saw itself */
	bool running;
	int run_err;
	WORKER_ENV_EXTRA
};

static void *env_thread(void *arg)
{
	struct env *e = arg;

	e->worker_th = pthread_self();
	e->run_err = dp_worker_run(e->w);
	return NULL;
}

/* Start (or restart) the worker's thread. */
static inline void env_resume(struct env *e)
{
	assert_false(e->running);
	assert_int_equal(pthread_create(&e->th, NULL, env_thread, e), 0);
	e->running = true;
}

/*
 * Stop the worker and join its thread. Until env_resume(), the ports'
 * records and statistics and the worker are the test's alone: read and
 * assert on them here. Frames the worker took before the stop have been
 * processed (it handles a stop only between bursts).
 */
static inline void env_pause(struct env *e)
{
	if (!e->running)
		return;
	dp_worker_stop(e->w);
	assert_int_equal(pthread_join(e->th, NULL), 0);
	e->running = false;
	assert_int_equal(e->run_err, 0);
}

/* The statistics block, with the worker stopped (env_pause()). Not inlined:
 * inlined, GCC 12 takes a later strstr() into the block for a dangling
 * pointer to @buf. */
static __maybe_unused __noinline char *env_stats(struct env *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	env_pause(e);
	dp_worker_print_stats(e->w, f);
	fclose(f);
	return buf;
}

/*
 * The NAT and the worker over @e's ports (initialised by the caller), not
 * yet running: the forward 198.51.100.2:5000/udp goes to @fwd_int
 * (network order) port 53; the worker busy polls for @busy_poll_ns after
 * traffic (dp_config.busy_poll_ns).
 */
static inline void env_worker_create_polling(struct env *e, uint32_t fwd_int,
					     uint64_t busy_poll_ns)
{
	struct nat_config nc = gw_fixture_nat(1024);
	struct nat_forward fwd = {
		.proto = IPPROTO_UDP,
		.ext_addr = htonl(0xc6336402),	/* 198.51.100.2 */
		.ext_port = 5000,
		.int_addr = fwd_int,
		.int_port = 53,
	};
	struct dp_config dc;

	assert_int_equal(nat_create(&e->nat, &nc), 0);
	assert_int_equal(nat_add_forward(e->nat, &fwd), 0);
	dc = gw_fixture_dp(&e->in.port, &e->out.port, e->nat);
	dc.busy_poll_ns = busy_poll_ns;
	assert_int_equal(dp_worker_create(&e->w, &dc), 0);
}

/* env_worker_create_polling() of a worker that always sleeps. */
static inline void env_worker_create(struct env *e, uint32_t fwd_int)
{
	env_worker_create_polling(e, fwd_int, 0);
}

/* An echo request from the guest (10.0.2.2, guest_mac) to the gateway,
 * into @f (MEMPORT_FRAME bytes). Return: its length. */
static inline size_t echo_frame(uint8_t *f, uint16_t seq)
{
	struct pkt_spec s = {
		.src4 = htonl(0x0a000202),
		.dst4 = htonl(0x0a000201),
		.ttl = 64,
		.proto = IPPROTO_ICMP,
		.icmp_type = 8,
		.icmp_id = 77,
		.icmp_seq = seq,
		.payload = "ping",
		.payload_len = 4,
	};
	int n;

	memcpy(s.eth_dst, gw_mac, 6);
	memcpy(s.eth_src, guest_mac, 6);
	n = pkt_build(&s, f, MEMPORT_FRAME);
	assert_true(n > 0);
	return (size_t)n;
}

#endif /* ARCNAT_TESTS_WORKER_ENV_H */
