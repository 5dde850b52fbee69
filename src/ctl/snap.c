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
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "dp/services.h"
#include "dp/worker.h"
#include "nat/nat.h"
#include "svc/dhcp.h"

int ctl_snap_init(struct ctl_snap *sn, struct dp_worker *w)
{
	sn->w = w;
	sn->efd = -1;
	sn->s.text = malloc(CTL_SNAP_TEXT_MAX);
	sn->page = malloc(sizeof(*sn->page));
	sn->leases = malloc(sizeof(*sn->leases));
	if (!sn->s.text || !sn->page || !sn->leases)
		return -ENOMEM;
	sn->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return sn->efd < 0 ? -errno : 0;
}

/* On the worker's thread: the statistics block and the ports. */
static void ctl_snap_stats(struct dp_worker *w, struct ctl_snap *sn)
{
	struct ctl_snapshot *s = &sn->s;
	const struct dp_ports *ps = dp_worker_ports(w);
	FILE *f = fmemopen(s->text, CTL_SNAP_TEXT_MAX, "w");
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
}

/* On the worker's thread: do what @sn->kind says, then say so. */
static void ctl_snap_fill(struct dp_worker *w, void *arg)
{
	struct ctl_snap *sn = arg;
	struct ct_table *t = nat_ct(dp_worker_nat(w));
	const struct dhcp *dhcp = dp_svc_dhcp(dp_worker_svc(w));
	uint64_t one = 1, now;
	struct timespec ts;

	/* The worker's clock is CLOCK_MONOTONIC (core/clock.h). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	switch (sn->kind) {
	case CTL_SNAP_STATS:
		ctl_snap_stats(w, sn);
		break;
	case CTL_SNAP_FLOWS:
		ctl_flows_scan(t, &sn->q, now, sn->page);
		break;
	case CTL_SNAP_LEASES:
		ctl_leases_scan(dhcp ? dhcp_get_leases(dhcp) : NULL,
				sn->lease_cursor, now, sn->leases);
		break;
	case CTL_SNAP_FLOW_DELETE:
		sn->del_err = ctl_flows_delete(t, sn->del_id,
					       sn->del_key[0] ? sn->del_key : NULL);
		break;
	}
	/* Pairs with the read in ctl_wait_worker(): the eventfd's write and
	 * read order the stores above before the control thread's loads. */
	if (write(sn->efd, &one, sizeof(one)) < 0)
		return;	/* cannot happen below 2^64 - 1 calls */
}

int ctl_wait_worker(int efd, int timeout_ms)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;
	int n;

	do {
		n = poll(&p, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	if (read(efd, &v, sizeof(v)) < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	return 0;
}

/* The call the worker is to make, once what an earlier one owns is free. */
static int ctl_snap_run(struct ctl_snap *sn, unsigned int timeout_ms)
{
	int err = dp_worker_call(sn->w, ctl_snap_fill, sn);

	if (err)
		return err;
	err = ctl_wait_worker(sn->efd, (int)timeout_ms);
	if (err == -ETIMEDOUT)
		sn->outstanding = true;
	return err;
}

/* Whether the snapshot is the control thread's: no call still pending. */
static bool ctl_snap_free(struct ctl_snap *sn)
{
	if (sn->outstanding) {
		if (ctl_wait_worker(sn->efd, 0))
			return false;
		sn->outstanding = false;
	}
	return true;
}

int ctl_snap_take(struct ctl_snap *sn, unsigned int timeout_ms)
{
	if (!ctl_snap_free(sn))
		return -EBUSY;
	sn->kind = CTL_SNAP_STATS;
	return ctl_snap_run(sn, timeout_ms);
}

int ctl_snap_flows(struct ctl_snap *sn, const struct ctl_flow_query *q,
		   unsigned int timeout_ms)
{
	if (!ctl_snap_free(sn))
		return -EBUSY;
	sn->kind = CTL_SNAP_FLOWS;
	sn->q = *q;
	return ctl_snap_run(sn, timeout_ms);
}

int ctl_snap_leases(struct ctl_snap *sn, uint32_t cursor,
		    unsigned int timeout_ms)
{
	if (!ctl_snap_free(sn))
		return -EBUSY;
	sn->kind = CTL_SNAP_LEASES;
	sn->lease_cursor = cursor;
	return ctl_snap_run(sn, timeout_ms);
}

int ctl_snap_flow_delete(struct ctl_snap *sn, uint32_t id, const char *key,
			 unsigned int timeout_ms)
{
	int err;

	if (!ctl_snap_free(sn))
		return -EBUSY;
	sn->kind = CTL_SNAP_FLOW_DELETE;
	sn->del_id = id;
	snprintf(sn->del_key, sizeof(sn->del_key), "%s", key ? key : "");
	err = ctl_snap_run(sn, timeout_ms);
	return err ? err : sn->del_err;
}

void ctl_snap_fini(struct ctl_snap *sn)
{
	free(sn->s.text);
	sn->s.text = NULL;
	free(sn->page);
	sn->page = NULL;
	free(sn->leases);
	sn->leases = NULL;
	if (sn->efd >= 0)
		close(sn->efd);
	sn->efd = -1;
}
