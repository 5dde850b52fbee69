/* SPDX-License-Identifier: MIT */
/*
 * rt.h - changes to the running gateway asked for on the control socket
 * (`forward add|delete|list`, `guest add|delete|list`), applied on the
 * worker's thread between bursts.
 *
 * Theory of operation: the methods (ctl/m_runtime.h) see the gateway
 * through struct ctl_rt_ops, one function that runs a request (struct
 * ctl_rt_req) and hands back its result (struct ctl_rt_res), so that the
 * unit tests and the fuzzer drive them with a model. In arcnat, struct
 * ctl_rt implements it: the request is copied into the ctl_rt, posted to
 * the worker with dp_worker_call() and the control thread waits on an
 * eventfd at most CTL_SNAP_TIMEOUT_MS; on the worker's thread the NAT is
 * changed (nat_add_forward(), nat_remove_forward()) or read
 * (nat_list_forwards()), a guest port is attached (dp_worker_add_port() on
 * the worker's thread attaches at once and says why it cannot) or removed
 * (dp_worker_remove_port()), the guest ports are listed with their
 * counters, and the eventfd is written. The worker never waits. A request
 * that timed out still owns the ctl_rt until the worker has run it: until
 * then further requests get -EBUSY (ctl/snap.h's rule), and the change may
 * still happen (the reply says so).
 *
 * A guest port is opened on the control thread, by the application's
 * opener (app/gateway.c: the code --inside uses), before it is posted: a
 * UNIX socket made after the sandbox is locked needs the calls
 * sandbox_guests() allows (app/sandbox.h); a TAP needs privileges arcnat
 * normally gave up, which the opener says.
 */
#ifndef ARCNAT_CTL_RT_H
#define ARCNAT_CTL_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/port.h"
#include "dp/portset.h"
#include "nat/nat.h"

#define CTL_RT_ARG_MAX	256u	/* a guest's spec or name, NUL included */
#define CTL_RT_WHY_MAX	256u	/* an opener's reason */

/* What a request does. */
enum ctl_rt_op {
	CTL_RT_FWD_ADD = 0,	/* nat_add_forward(@fwd) */
	CTL_RT_FWD_DELETE,	/* nat_remove_forward(@fwd) */
	CTL_RT_FWD_LIST,	/* nat_list_forwards() */
	CTL_RT_GUEST_ADD,	/* open @arg (as --inside) and attach it */
	CTL_RT_GUEST_DELETE,	/* remove the guest port named @arg */
	CTL_RT_GUEST_LIST,	/* every guest port */
};

/**
 * struct ctl_rt_req - a request.
 * @op:   what it does
 * @fwd:  the forward (CTL_RT_FWD_ADD, CTL_RT_FWD_DELETE)
 * @host: the host address a socket uplink's forward listens on (network
 *        order, 0: any; CTL_RT_FWD_ADD)
 * @arg:  the guest's spec (CTL_RT_GUEST_ADD) or name (CTL_RT_GUEST_DELETE)
 */
struct ctl_rt_req {
	enum ctl_rt_op op;
	struct nat_forward fwd;
	uint32_t host;
	char arg[CTL_RT_ARG_MAX];
};

/**
 * struct ctl_rt_guest - one guest port, as the worker saw it.
 * @slot:     its slot
 * @listener: a listener (no frames; it accepts guests)
 * @mtu:      its MTU (0: not limited)
 * @mac:      its MAC
 * @name:     its name
 * @st:       its counters (dp_ports_stats())
 */
struct ctl_rt_guest {
	unsigned int slot;
	bool listener;
	uint32_t mtu;
	uint8_t mac[6];
	char name[DP_PORT_NAME_MAX];
	struct dp_port_stats st;
};

/**
 * struct ctl_rt_res - a request's result.
 * @err:   0 or -errno: nat_add_forward()'s and nat_remove_forward()'s,
 *         the uplink's, the opener's or dp_worker_add_port()'s, -ENOENT
 *         no such guest
 * @why:   the opener's or the uplink's reason, "" for none
 * @name:  the guest port added (CTL_RT_GUEST_ADD)
 * @n:     forwards (CTL_RT_FWD_LIST: all of them, even beyond the array),
 *         guests (CTL_RT_GUEST_LIST), ports removed (CTL_RT_GUEST_DELETE)
 * @fwd:   the forwards
 * @host:  each forward's host address (network order, 0: every address),
 *         where @has_host says the uplink has one (the socket uplink)
 * @has_host: see @host
 * @guest: the guest ports
 */
struct ctl_rt_res {
	int err;
	char why[CTL_RT_WHY_MAX];
	char name[DP_PORT_NAME_MAX];
	unsigned int n;
	struct nat_forward fwd[NAT_MAX_FORWARDS];
	uint32_t host[NAT_MAX_FORWARDS];
	bool has_host[NAT_MAX_FORWARDS];
	struct ctl_rt_guest guest[DP_PORTS_MAX];
};

/**
 * struct ctl_rt_ops - the running gateway's changes, as the methods see
 * them.
 * @ctx:        for @run
 * @run:        run @q; *@out is its result (valid until the next call).
 *              Return: 0 (the result's own error in (*@out)->err);
 *              -ETIMEDOUT, -EBUSY, -EAGAIN the worker did not answer
 * @gw_addr:    the gateway's inside address (forward targets are guests
 *              of its subnet), network order
 * @gw_plen:    its prefix length
 * @dns:        UDP port DP_SVC_DNS_PORT is the DNS forwarder's
 * @no_forward: why forwards cannot be changed here, or NULL
 */
struct ctl_rt_ops {
	void *ctx;
	int (*run)(void *ctx, const struct ctl_rt_req *q,
		   const struct ctl_rt_res **out);
	uint32_t gw_addr;
	unsigned int gw_plen;
	bool dns;
	const char *no_forward;
};

/**
 * ctl_rt_open_fn - open (and make ready to attach to @w) the guest port
 * @spec names, as --inside does; on the control thread.
 * @ctx:  ctl_rt_cfg.open_ctx
 * @spec: stream:PATH, dgram:PATH, vhost-user:PATH or [tap:]IFACE[@NETNS]
 * @out:  the port
 * @why:  a reason for the client on error ("" for strerror() alone)
 * @cap:  its size
 *
 * Return: 0 or -errno.
 */
typedef int (*ctl_rt_open_fn)(void *ctx, const char *spec,
			      struct dp_port **out, char *why, size_t cap);

/**
 * ctl_rt_uplink_fn - the uplink's side of a forward, on the worker's thread
 * (the socket uplink's host socket: sock_uplink_forward_add(),
 * sock_uplink_forward_remove()), after the NAT's change.
 * @ctx:  ctl_rt_cfg.uplink_ctx
 * @add:  added (else deleted)
 * @f:    the forward
 * @host: the host address to listen on (network order, 0: any; @add)
 * @held: flows still hold the deleted forward's mapping (!@add)
 *
 * Return: 0 or -errno (an add that fails is undone in the NAT).
 */
typedef int (*ctl_rt_uplink_fn)(void *ctx, bool add, const struct nat_forward *f,
				uint32_t host, bool held);

/**
 * ctl_rt_host_fn - the host address a forward's uplink socket is bound to
 * (sock_uplink_forward_host()), on the worker's thread, for forward-list.
 * @ctx:   ctl_rt_cfg.uplink_ctx
 * @proto: IPPROTO_TCP or IPPROTO_UDP
 * @port:  the forward's external port (host order)
 * @addr:  the address (network order, 0: every address)
 *
 * Return: 0, or -ENOENT (no socket for it).
 */
typedef int (*ctl_rt_host_fn)(void *ctx, uint8_t proto, uint16_t port,
			      uint32_t *addr);

struct dp_worker;
struct ctl_rt;

/**
 * struct ctl_rt_cfg - what ctl_rt_create() needs.
 * @worker:     the worker
 * @open:       the guest opener, or NULL (guest add: -EOPNOTSUPP)
 * @open_ctx:   its context
 * @uplink:     the uplink's side of forwards, or NULL (none)
 * @uplink_ctx: its context, and @host's
 * @host:       the uplink's host address of a forward, or NULL (none)
 * @gw_addr:    see struct ctl_rt_ops
 * @gw_plen:    see struct ctl_rt_ops
 * @dns:        see struct ctl_rt_ops
 * @no_forward: see struct ctl_rt_ops (borrowed)
 */
struct ctl_rt_cfg {
	struct dp_worker *worker;
	ctl_rt_open_fn open;
	void *open_ctx;
	ctl_rt_uplink_fn uplink;
	void *uplink_ctx;
	ctl_rt_host_fn host;
	uint32_t gw_addr;
	unsigned int gw_plen;
	bool dns;
	const char *no_forward;
};

/**
 * ctl_rt_create() - the request area and its eventfd; before the sandbox.
 * @out: the ctl_rt
 * @cfg: copied
 *
 * Return: 0, -ENOMEM, -errno.
 */
int ctl_rt_create(struct ctl_rt **out, const struct ctl_rt_cfg *cfg);

/**
 * ctl_rt_ops() - the ops that run requests through @rt.
 * @rt: the ctl_rt, or NULL (no ops: the methods say so)
 *
 * Return: the ops.
 */
struct ctl_rt_ops ctl_rt_ops(struct ctl_rt *rt);

/**
 * ctl_rt_destroy() - free; NULL is fine. Only once the worker is stopped
 * for good or destroyed (a pending request would write into it); a guest
 * port opened for a request that never ran is destroyed.
 * @rt: the ctl_rt
 */
void ctl_rt_destroy(struct ctl_rt *rt);

#endif /* ARCNAT_CTL_RT_H */
