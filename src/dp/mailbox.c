// SPDX-License-Identifier: MIT
/*
 * mailbox.c - a worker's port requests from other threads (mailbox.h).
 */
#include "dp/mailbox.h"

#include <errno.h>
#include <string.h>

int dp_mailbox_init(struct dp_mailbox *mb)
{
	if (pthread_mutex_init(&mb->lock, NULL) != 0)
		return -ENOMEM;
	mb->n = 0;
	mb->n_call = 0;
	mb->init = true;
	return 0;
}

int dp_mailbox_post(struct dp_mailbox *mb, struct dp_port *port, bool add)
{
	int err = 0;

	pthread_mutex_lock(&mb->lock);
	if (mb->n < DP_MAILBOX)
		mb->req[mb->n++] = (struct dp_port_req){ port, add };
	else
		err = -EAGAIN;
	pthread_mutex_unlock(&mb->lock);
	return err;
}

unsigned int dp_mailbox_take(struct dp_mailbox *mb,
			     struct dp_port_req out[DP_MAILBOX])
{
	unsigned int n;

	pthread_mutex_lock(&mb->lock);
	n = mb->n;
	memcpy(out, mb->req, n * sizeof(out[0]));
	mb->n = 0;
	pthread_mutex_unlock(&mb->lock);
	return n;
}

int dp_mailbox_post_call(struct dp_mailbox *mb, dp_call_fn fn, void *arg)
{
	int err = 0;

	pthread_mutex_lock(&mb->lock);
	if (mb->n_call < DP_CALLS)
		mb->call[mb->n_call++] = (struct dp_call){ fn, arg };
	else
		err = -EAGAIN;
	pthread_mutex_unlock(&mb->lock);
	return err;
}

unsigned int dp_mailbox_take_calls(struct dp_mailbox *mb,
				   struct dp_call out[DP_CALLS])
{
	unsigned int n;

	pthread_mutex_lock(&mb->lock);
	n = mb->n_call;
	memcpy(out, mb->call, n * sizeof(out[0]));
	mb->n_call = 0;
	pthread_mutex_unlock(&mb->lock);
	return n;
}

void dp_mailbox_fini(struct dp_mailbox *mb)
{
	if (!mb->init)
		return;
	for (unsigned int i = 0; i < mb->n; i++)
		if (mb->req[i].add)
			dp_port_destroy(mb->req[i].port);
	mb->n = 0;
	mb->n_call = 0;
	pthread_mutex_destroy(&mb->lock);
	mb->init = false;
}
