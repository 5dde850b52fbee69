/* SPDX-License-Identifier: MIT */
/*
 * mailbox.h - a worker's port requests from other threads.
 *
 * Theory of operation: a guest port is added to or removed from a running
 * worker only on the worker's thread (its slots, epoll set and switch are
 * not shared). Another thread (the one that made a port, or a test) posts
 * the request here, under a mutex, and signals the worker's eventfd; the
 * worker takes every pending request at once, in the order they were made,
 * and serves them between bursts. The mailbox is bounded: a full one
 * refuses the request, and the poster keeps its port. Calls (a function
 * to run on the worker's thread: the control socket's consistent snapshot
 * of counters and flows) go the same way, in a bounded list of their own.
 */
#ifndef ARCNAT_DP_MAILBOX_H
#define ARCNAT_DP_MAILBOX_H

#include <pthread.h>
#include <stdbool.h>

#include "dp/port.h"

#define DP_MAILBOX	16u	/* port requests from other threads, pending */
#define DP_CALLS	4u	/* calls from other threads, pending */

struct dp_worker;

/**
 * typedef dp_call_fn - a function another thread has the worker run on its
 * own thread, between bursts (dp_worker_call()): it may read the worker's
 * state, which no other thread may touch, and must not block.
 * @w:   the worker
 * @arg: the caller's
 */
typedef void (*dp_call_fn)(struct dp_worker *w, void *arg);

/**
 * struct dp_call - one pending call.
 * @fn:  what to run
 * @arg: its argument (the caller keeps it alive until @fn has run, or
 *       until the worker is destroyed: a call never served is dropped)
 */
struct dp_call {
	dp_call_fn fn;
	void *arg;
};

/**
 * struct dp_port_req - one request.
 * @port: the port
 * @add:  add it (the worker then owns it); else remove it
 */
struct dp_port_req {
	struct dp_port *port;
	bool add;
};

/**
 * struct dp_mailbox - pending requests.
 * @lock: guards @req and @n
 * @init: @lock is initialised
 * @req:  the requests, oldest first
 * @n:    how many
 * @call:   the calls, oldest first
 * @n_call: how many
 */
struct dp_mailbox {
	pthread_mutex_t lock;
	bool init;
	struct dp_port_req req[DP_MAILBOX];
	unsigned int n;
	struct dp_call call[DP_CALLS];
	unsigned int n_call;
};

/**
 * dp_mailbox_init() - an empty mailbox.
 * @mb: the mailbox, zeroed
 *
 * Return: 0 or -ENOMEM.
 */
int dp_mailbox_init(struct dp_mailbox *mb);

/**
 * dp_mailbox_post() - post a request, from any thread.
 * @mb:   the mailbox
 * @port: the port
 * @add:  add it, else remove it
 *
 * Return: 0, or -EAGAIN when DP_MAILBOX requests are pending (the port
 * stays the caller's).
 */
int dp_mailbox_post(struct dp_mailbox *mb, struct dp_port *port, bool add);

/**
 * dp_mailbox_take() - take every pending request, on the worker's thread.
 * @mb:  the mailbox
 * @out: filled with the requests, oldest first
 *
 * Return: how many.
 */
unsigned int dp_mailbox_take(struct dp_mailbox *mb,
			     struct dp_port_req out[DP_MAILBOX]);

/**
 * dp_mailbox_post_call() - post a call, from any thread.
 * @mb:  the mailbox
 * @fn:  what the worker is to run
 * @arg: its argument
 *
 * Return: 0, or -EAGAIN when DP_CALLS calls are pending.
 */
int dp_mailbox_post_call(struct dp_mailbox *mb, dp_call_fn fn, void *arg);

/**
 * dp_mailbox_take_calls() - take every pending call, on the worker's thread.
 * @mb:  the mailbox
 * @out: filled with the calls, oldest first
 *
 * Return: how many.
 */
unsigned int dp_mailbox_take_calls(struct dp_mailbox *mb,
				   struct dp_call out[DP_CALLS]);

/**
 * dp_mailbox_fini() - destroy the ports of requests to add nobody served
 * (they were the worker's); a zeroed or finished @mb is fine.
 * @mb: the mailbox, no longer posted to
 */
void dp_mailbox_fini(struct dp_mailbox *mb);

#endif /* ARCNAT_DP_MAILBOX_H */
