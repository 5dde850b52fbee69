/* SPDX-License-Identifier: MIT */
/*
 * methods.h - the control socket's dispatcher: one request line in, one
 * reply line out (docs/control.md lists the methods).
 *
 * Theory of operation: the dispatcher parses the line (ctl/proto.h), finds
 * the method in a table, checks its params and answers. What it needs of
 * the running gateway comes through struct ctl_backend: a snapshot of the
 * worker's state (ctl/snap.h in arcnat; a fixed one in the unit tests and
 * the fuzzer), so the dispatcher itself never touches the datapath and can
 * be driven with any bytes. Every reply, error or not, fits in the
 * caller's buffer of at least CTL_REPLY_MAX bytes: a result that would not
 * is replaced by a CTL_E_REPLY_TOO_LARGE error.
 */
#ifndef ARCNAT_CTL_METHODS_H
#define ARCNAT_CTL_METHODS_H

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

/**
 * ctl_dispatch() - answer one request line.
 * @env:  what to answer from
 * @line: the request, without its newline (any bytes)
 * @len:  its length
 * @out:  the reply line, its newline included
 * @cap:  @out's size, at least CTL_REPLY_MAX
 *
 * Return: the reply's length (never 0).
 */
size_t ctl_dispatch(const struct ctl_env *env, const char *line, size_t len,
		    char *out, size_t cap);

/**
 * ctl_metrics_text() - every counter in the Prometheus text format, from a
 * fresh snapshot (the `metrics` method and --metrics-file).
 * @env: what to answer from
 * @out: where (NUL-terminated)
 * @cap: its size
 *
 * Return: the length, or -errno (the snapshot's; -EMSGSIZE).
 */
ssize_t ctl_metrics_text(const struct ctl_env *env, char *out, size_t cap);

#endif /* ARCNAT_CTL_METHODS_H */
