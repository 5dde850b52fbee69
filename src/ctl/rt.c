// SPDX-License-Identifier: MIT
/*
 * rt.c - the control socket's changes, run on the worker's thread (rt.h).
 */
#include "ctl/rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "ctl/snap.h"
#include "dp/worker.h"

/**
 * struct ctl_rt - the request area and its hand-off with the worker.
 * @cfg:         the configuration
 * @efd:         written by the worker once it ran @q
 * @outstanding: a request the control thread stopped waiting for has not
 *               run yet: @q, @port and @r are still the worker's
 * @q:           the request
 * @port:        the guest port to attach (CTL_RT_GUEST_ADD), until the
 *               worker took it
 * @r:           its result
 */
struct ctl_rt {
	struct ctl_rt_cfg cfg;
	int efd;
	bool outstanding;
	struct ctl_rt_req q;
	struct dp_port *port;
	struct ctl_rt_res r;
};

/* @name is @base, or a connection of listener @base ("@base#N"). */
static bool ctl_rt_name_matches(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '#');
}

/*
 * On the worker's thread: remove the guest port named @rt->q.arg and, for
 * a listener, the connections it accepted, named after it. Collected
 * first: removing a port empties its slot.
 */
static void ctl_rt_guest_delete(struct ctl_rt *rt, struct dp_worker *w)
{
	const struct dp_ports *ps = dp_worker_ports(w);
	struct dp_port *gone[DP_PORTS_MAX];
	unsigned int n = 0;

	rt->r.err = -ENOENT;
	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		const struct dp_slot *s = &ps->slot[i];

		if (s->port && s->kind == DP_TAG_GUEST &&
		    ctl_rt_name_matches(s->port->name, rt->q.arg))
			gone[n++] = s->port;
	}
	for (unsigned int i = 0; i < n; i++) {
		log_info("control: guest port %s removed", gone[i]->name);
		if (!dp_worker_remove_port(w, gone[i]))
			rt->r.n++;
	}
	if (rt->r.n)
		rt->r.err = 0;
}

static void ctl_rt_guest_list(struct ctl_rt *rt, struct dp_worker *w)
{
	const struct dp_ports *ps = dp_worker_ports(w);

	for (unsigned int i = 0; i < DP_PORTS_MAX; i++) {
		const struct dp_slot *s = &ps->slot[i];
		struct ctl_rt_guest *g = &rt->r.guest[rt->r.n];

		if (!s->port || s->kind != DP_TAG_GUEST)
			continue;
		g->slot = i;
		g->listener = s->port->flags & DP_PORT_LISTENER;
		g->mtu = s->port->mtu;
		memcpy(g->mac, s->port->mac, sizeof(g->mac));
		snprintf(g->name, sizeof(g->name), "%s", s->port->name);
		dp_ports_stats(s, &g->st);
		rt->r.n++;
	}
}

/* On the worker's thread: the NAT's forward, then the uplink's socket
 * (a host port in use undoes the NAT's). */
static void ctl_rt_fwd_add(struct ctl_rt *rt, struct nat *nat)
{
	int err;

	rt->r.err = nat_add_forward(nat, &rt->q.fwd);
	if (rt->r.err || !rt->cfg.uplink)
		return;
	err = rt->cfg.uplink(rt->cfg.uplink_ctx, true, &rt->q.fwd, rt->q.host,
			     false);
	if (!err)
		return;
	(void)nat_remove_forward(nat, &rt->q.fwd);
	rt->r.err = err;
	snprintf(rt->r.why, sizeof(rt->r.why), "the host's port %u: %s%s",
		 rt->q.fwd.ext_port, strerror(-err),
		 err == -EADDRINUSE ? " (another program has it)" :
		 err == -EACCES ? " (a port below "
				  "net.ipv4.ip_unprivileged_port_start)" :
		 err == -EADDRNOTAVAIL ? " (not an address of this host)" :
		 err == -EBUSY ? " (the deleted forward's connections hold it "
				 "on another address)" : "");
}

/* On the worker's thread: the NAT's forwards, and the uplink's address of
 * each (a socket uplink's forward is a host socket bound to one). */
static void ctl_rt_fwd_list(struct ctl_rt *rt, const struct nat *nat)
{
	rt->r.n = nat_list_forwards(nat, rt->r.fwd, NAT_MAX_FORWARDS);
	for (unsigned int i = 0; i < rt->r.n && i < NAT_MAX_FORWARDS; i++)
		rt->r.has_host[i] =
			rt->cfg.host &&
			!rt->cfg.host(rt->cfg.uplink_ctx, rt->r.fwd[i].proto,
				      rt->r.fwd[i].ext_port, &rt->r.host[i]);
}

/* On the worker's thread: run the request, then say so. */
static void ctl_rt_work(struct dp_worker *w, void *arg)
{
	struct ctl_rt *rt = arg;
	struct nat *nat = dp_worker_nat(w);
	uint64_t one = 1;

	switch (rt->q.op) {
	case CTL_RT_FWD_ADD:
		ctl_rt_fwd_add(rt, nat);
		break;
	case CTL_RT_FWD_DELETE:
		rt->r.err = nat_remove_forward(nat, &rt->q.fwd);
		if (!rt->r.err && rt->cfg.uplink)
			(void)rt->cfg.uplink(rt->cfg.uplink_ctx, false,
					     &rt->q.fwd, 0, nat_ext_port_taken(
					     nat, rt->q.fwd.proto,
					     rt->q.fwd.ext_port));
		break;
	case CTL_RT_FWD_LIST:
		ctl_rt_fwd_list(rt, nat);
		break;
	case CTL_RT_GUEST_ADD:
		/* On the worker's thread: attached now, or destroyed. */
		rt->r.err = dp_worker_add_port(w, rt->port);
		rt->port = NULL;
		if (!rt->r.err)
			log_info("control: guest port %s added", rt->r.name);
		break;
	case CTL_RT_GUEST_DELETE:
		ctl_rt_guest_delete(rt, w);
		break;
	case CTL_RT_GUEST_LIST:
		ctl_rt_guest_list(rt, w);
		break;
	}
	/* The eventfd orders the stores above before the control thread's
	 * loads (ctl/snap.c). */
	if (write(rt->efd, &one, sizeof(one)) < 0)
		return;	/* cannot happen below 2^64 - 1 requests */
}

static int ctl_rt_run(void *ctx, const struct ctl_rt_req *q,
		      const struct ctl_rt_res **out)
{
	struct ctl_rt *rt = ctx;
	int err;

	if (rt->outstanding) {
		if (ctl_wait_worker(rt->efd, 0))
			return -EBUSY;
		rt->outstanding = false;
	}
	rt->q = *q;
	rt->q.arg[sizeof(rt->q.arg) - 1] = '\0';
	rt->r.err = 0;
	rt->r.why[0] = '\0';
	rt->r.name[0] = '\0';
	rt->r.n = 0;
	*out = &rt->r;
	if (q->op == CTL_RT_GUEST_ADD) {
		if (!rt->cfg.open) {
			rt->r.err = -EOPNOTSUPP;
			return 0;
		}
		rt->r.err = rt->cfg.open(rt->cfg.open_ctx, rt->q.arg, &rt->port,
					 rt->r.why, sizeof(rt->r.why));
		if (rt->r.err)
			return 0;
		snprintf(rt->r.name, sizeof(rt->r.name), "%s", rt->port->name);
	}
	err = dp_worker_call(rt->cfg.worker, ctl_rt_work, rt);
	if (err) {
		dp_port_destroy(rt->port);
		rt->port = NULL;
		return err;
	}
	err = ctl_wait_worker(rt->efd, (int)CTL_SNAP_TIMEOUT_MS);
	if (err == -ETIMEDOUT)
		rt->outstanding = true;
	return err;
}

int ctl_rt_create(struct ctl_rt **out, const struct ctl_rt_cfg *cfg)
{
	struct ctl_rt *rt = calloc(1, sizeof(*rt));

	*out = NULL;
	if (!rt)
		return -ENOMEM;
	rt->cfg = *cfg;
	rt->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rt->efd < 0) {
		int err = -errno;

		free(rt);
		return err;
	}
	*out = rt;
	return 0;
}

struct ctl_rt_ops ctl_rt_ops(struct ctl_rt *rt)
{
	if (!rt)
		return (struct ctl_rt_ops){ 0 };
	return (struct ctl_rt_ops){
		.ctx = rt,
		.run = ctl_rt_run,
		.gw_addr = rt->cfg.gw_addr,
		.gw_plen = rt->cfg.gw_plen,
		.dns = rt->cfg.dns,
		.no_forward = rt->cfg.no_forward,
	};
}

void ctl_rt_destroy(struct ctl_rt *rt)
{
	if (!rt)
		return;
	dp_port_destroy(rt->port);
	close(rt->efd);
	free(rt);
}
