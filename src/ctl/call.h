/* SPDX-License-Identifier: MIT */
/*
 * call.h - what the control socket's methods are given and give back: the
 * gateway as they see it (struct ctl_env: its fixed facts, a backend for
 * snapshots, its changes and services) and one call being answered
 * (struct ctl_call). The dispatcher (ctl/methods) and the modules of
 * methods (ctl/m_runtime, ctl/m_info) share it, so that the dispatcher's
 * table can name their methods without their headers naming it back.
 */
#ifndef ARCNAT_CTL_CALL_H
#define ARCNAT_CTL_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/rt.h"
#include "ctl/snap.h"

/**
 * struct ctl_info - what `status` says of the gateway that does not
 * change while it runs (all borrowed).
 * @version:       arcnat's version
 * @command:       "gateway", "run" or "attach"
 * @name:          --name
 * @control:       the socket's path ("" without one)
 * @uplink_kind:   "packet", "tun" or "sock"
 * @uplink:        the uplink's interface (or "sock")
 * @gw_addr:       the gateway's inside address, network order
 * @gw_plen:       its prefix length
 * @ext_addr:      the external address, network order (0: none, tun)
 * @ext_plen:      its prefix length
 * @max_flows:     the connection table's size
 * @clients_max:   control clients at once
 * @started_ns:    CLOCK_MONOTONIC when arcnat started
 */
struct ctl_info {
	const char *version;
	const char *command;
	const char *name;
	const char *control;
	const char *uplink_kind;
	const char *uplink;
	uint32_t gw_addr;
	unsigned int gw_plen;
	uint32_t ext_addr;
	unsigned int ext_plen;
	uint32_t max_flows;
	unsigned int clients_max;
	uint64_t started_ns;
};

/**
 * struct ctl_backend - the running gateway, as the methods see it.
 * @ctx:         for the operations
 * @snapshot:    a fresh snapshot of the worker's state into *@out (valid
 *               until the next call); 0 or -errno (-ETIMEDOUT, -EBUSY,
 *               -EAGAIN: the worker did not answer)
 * @flows:       a page of flows for @q into *@out (likewise); NULL: no
 *               connection table to show
 * @flow_delete: delete flow @id (whose key is @key, or any flow at @id
 *               when NULL): 0, -ENOENT, or the errors of @snapshot
 * @leases:      a page of DHCP leases from @cursor into *@out (likewise)
 */
struct ctl_backend {
	void *ctx;
	int (*snapshot)(void *ctx, const struct ctl_snapshot **out);
	int (*flows)(void *ctx, const struct ctl_flow_query *q,
		     const struct ctl_flow_page **out);
	int (*flow_delete)(void *ctx, uint32_t id, const char *key);
	int (*leases)(void *ctx, uint32_t cursor,
		      const struct ctl_lease_page **out);
};

struct ctl_svc_ops;

/**
 * struct ctl_env - what the dispatcher answers from.
 * @info:    the gateway's fixed facts
 * @be:      the running gateway
 * @rt:      its changes (forwards, guests: ctl/rt.h); zero: none here
 * @svc:     its services and capture on demand (ctl/m_info.h), or NULL
 * @svc_ctx: for @svc
 */
struct ctl_env {
	const struct ctl_info *info;
	struct ctl_backend be;
	struct ctl_rt_ops rt;
	const struct ctl_svc_ops *svc;
	void *svc_ctx;
};

struct json_object;

/**
 * struct ctl_call - one method call being answered (for the modules of
 * methods: ctl/m_runtime.h).
 * @env:    what to answer from
 * @params: the request's params, or NULL
 * @result: the result, set by the method
 * @why:    the error message, set by a method that fails
 */
struct ctl_call {
	const struct ctl_env *env;
	struct json_object *params;
	struct json_object *result;
	const char *why;
};

/* A method: 0 with @c->result set, or a CTL_E_* code with @c->why. */
typedef int (*ctl_method_fn)(struct ctl_call *c);

/**
 * ctl_params_only() - check that every key of @c->params is one of @keys
 * (for the modules of methods).
 * @c:    the call
 * @keys: the keys the method knows, NULL-terminated
 *
 * Return: 0, or CTL_E_PARAMS with @c->why set.
 */
int ctl_params_only(struct ctl_call *c, const char *const *keys);

#endif /* ARCNAT_CTL_CALL_H */
