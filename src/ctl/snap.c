// SPDX-License-Identifier: MIT
/*
 * snap.c - the worker's state, snapshotted on its thread (snap.h).
 */
#include "ctl/snap.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "dp/worker.h"

int ctl_snap_init(struct ctl_snap *sn, struct dp_worker *w)
{
	sn->w = w;
	sn->efd = -1;
	sn->s.text = malloc(CTL_SNAP_TEXT_MAX);
	if (!sn->s.text)
		return -ENOMEM;
	sn->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return sn->efd < 0 ? -errno : 0;
}

/* On the worker's thread: fill the snapshot, then say so. */
static void ctl_snap_fill(struct dp_worker *w, void *arg)
{
	struct ctl_snap *sn = arg;
	struct ctl_snapshot *s = &sn->s;
	const struct dp_ports *ps = dp_worker_ports(w);
	FILE *f = fmemopen(s->text, CTL_SNAP_TEXT_MAX, "w");
	uint64_t one = 1;
	long n = -1;

	if (f) {
		dp_worker_print_stats(w, f);
		fflush(f);
		n = ftell(f);
		fclose(f);
	}
	s->len = n > 0 ? (size_t)n : 0;
	/* fmemopen() keeps the last byte for a NUL. */
	s->truncated = !f || s->len >= CTL_SNAP_TEXT_MAX - 1;
	s->n_ports = 0;
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		const struct dp_slot *sl = &ps->slot[i];
		struct ctl_port_info *pi = &s->port[s->n_ports];

		if (!sl->port)
			continue;
		pi->slot = i;
		pi->uplink = sl->kind != DP_TAG_GUEST;
		pi->listener = sl->port->flags & DP_PORT_LISTENER;
		pi->mtu = sl->port->mtu;
		memcpy(pi->mac, sl->port->mac, sizeof(pi->mac));
		snprintf(pi->name, sizeof(pi->name), "%s", sl->port->name);
		s->n_ports++;
	}
	/* Pairs with the read in ctl_snap_wait(): the eventfd's write and
	 * read order the stores above before the control thread's loads. */
	if (write(sn->efd, &one, sizeof(one)) < 0)
		return;	/* cannot happen below 2^64 - 1 calls */
}

/* Wait for the worker's write. Return: 0, -ETIMEDOUT, -errno. */
static int ctl_snap_wait(struct ctl_snap *sn, int timeout_ms)
{
	struct pollfd p = { .fd = sn->efd, .events = POLLIN };
	uint64_t v;
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (read(sn->efd, &v, sizeof(v)) < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return 0;
}

int ctl_snap_take(struct ctl_snap *sn, unsigned int timeout_ms)
{
	int err;

	if (sn->outstanding) {
		if (ctl_snap_wait(sn, 0))
			return -EBUSY;
		sn->outstanding = false;
	}
	err = dp_worker_call(sn->w, ctl_snap_fill, sn);
	if (err)
		return err;
	err = ctl_snap_wait(sn, (int)timeout_ms);
	if (err == -ETIMEDOUT)
		sn->outstanding = true;
	return err;
}

void ctl_snap_fini(struct ctl_snap *sn)
{
	free(sn->s.text);
	sn->s.text = NULL;
	if (sn->efd >= 0)
		close(sn->efd);
	sn->efd = -1;
}
