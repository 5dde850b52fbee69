// SPDX-License-Identifier: MIT
/*
 * m_runtime.c - forwards and guests changed while arcnat runs
 * (m_runtime.h).
 */
#include "ctl/m_runtime.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat/opts.h"
#include "ctl/proto.h"
#include "dp/services.h"
#include "prot/eth.h"
#include "prot/ip4.h"

/* A reason built for one reply: the dispatcher copies it into the reply
 * before the next call (one per thread: the unit tests run servers). */
static _Thread_local char ctl_rt_why[CTL_RT_WHY_MAX + 128];

/* The string param @key, or NULL (c->why set). */
static const char *ctl_rt_string(struct ctl_call *c, const char *key,
				 const char *why)
{
	struct json_object *v;

	if (!c->params || !json_object_object_get_ex(c->params, key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		c->why = why;
		return NULL;
	}
	return json_object_get_string(v);
}

/* Run @q; a worker that did not answer is the reply's error. */
static int ctl_rt_call(struct ctl_call *c, const struct ctl_rt_req *q,
		       const struct ctl_rt_res **r)
{
	int err;

	if (!c->env->rt.run) {
		c->why = "not available here";
		return CTL_E_INTERNAL;
	}
	err = c->env->rt.run(c->env->rt.ctx, q, r);
	if (err == -ETIMEDOUT) {
		c->why = "the worker did not answer in time (a change may still "
			 "be applied: list to see)";
		return CTL_E_BUSY;
	}
	if (err == -EBUSY || err == -EAGAIN) {
		c->why = "the worker did not answer in time";
		return CTL_E_BUSY;
	}
	if (err) {
		c->why = "the worker cannot be reached";
		return CTL_E_INTERNAL;
	}
	return 0;
}

static int ctl_rt_refused(struct ctl_call *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int ctl_rt_refused(struct ctl_call *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl_rt_why, sizeof(ctl_rt_why), fmt, ap);
	va_end(ap);
	c->why = ctl_rt_why;
	return CTL_E_REFUSED;
}

static const char *ctl_rt_proto(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : "udp";
}

/* "tcp:8080:10.0.2.5:80" into @buf. */
static const char *ctl_rt_fwd_text(const struct nat_forward *f, char *buf,
				   size_t cap)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &f->int_addr, a, sizeof(a));
	snprintf(buf, cap, "%s:%u:%s:%u", ctl_rt_proto(f->proto), f->ext_port,
		 a, f->int_port);
	return buf;
}

/*
 * The "spec" of a forward: PROTO:EXTPORT:INTADDR:INTPORT, or (@short_ok,
 * forward-delete) PROTO:EXTPORT alone (int_addr and int_port left 0).
 */
static int ctl_rt_fwd_spec(struct ctl_call *c, struct nat_forward *f,
			   bool short_ok, const char *const *keys)
{
	const char *s, *colon;
	uint32_t port;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	s = ctl_rt_string(c, "spec", short_ok ?
			  "\"spec\" is PROTO:EXTPORT[:INTADDR:INTPORT]" :
			  "\"spec\" is PROTO:EXTPORT:INTADDR:INTPORT");
	if (!s)
		return CTL_E_PARAMS;
	if (!opts_parse_forward(s, f))
		return 0;
	colon = strchr(s, ':');
	memset(f, 0, sizeof(*f));
	if (short_ok && colon && !strchr(colon + 1, ':') &&
	    !opts_parse_u32(colon + 1, 1, 65535, &port)) {
		if ((size_t)(colon - s) == 3 && !strncmp(s, "tcp", 3))
			f->proto = IPPROTO_TCP;
		if ((size_t)(colon - s) == 3 && !strncmp(s, "udp", 3))
			f->proto = IPPROTO_UDP;
		f->ext_port = (uint16_t)port;
		if (f->proto)
			return 0;
	}
	c->why = short_ok ? "\"spec\" is not PROTO:EXTPORT[:INTADDR:INTPORT] "
			    "(tcp or udp, ports 1-65535)" :
			    "\"spec\" is not PROTO:EXTPORT:INTADDR:INTPORT (tcp "
			    "or udp, ports 1-65535, an IPv4 address)";
	return CTL_E_PARAMS;
}

static int ctl_rt_result(struct ctl_call *c, const char *key, const char *val)
{
	c->result = json_object_new_object();
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	json_object_object_add(c->result, key, json_object_new_string(val));
	return 0;
}

/* forward-add's "address": the host address a socket uplink listens on. */
static int ctl_rt_fwd_host(struct ctl_call *c, uint32_t *host)
{
	struct json_object *v;
	const char *kind = c->env->info ? c->env->info->uplink_kind : NULL;

	*host = 0;
	if (!c->params || !json_object_object_get_ex(c->params, "address", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    inet_pton(AF_INET, json_object_get_string(v), host) != 1) {
		c->why = "\"address\" is an IPv4 address of the host";
		return CTL_E_PARAMS;
	}
	if (!kind || strcmp(kind, "sock") != 0) {
		c->why = "\"address\" applies to --outside sock only";
		return CTL_E_PARAMS;
	}
	return 0;
}

int ctl_m_forward_add(struct ctl_call *c)
{
	static const char *const keys[] = { "spec", "address", NULL };
	const struct ctl_rt_ops *o = &c->env->rt;
	struct ctl_rt_req q = { .op = CTL_RT_FWD_ADD };
	const struct ctl_rt_res *r;
	uint32_t mask = ip4_prefix_mask(o->gw_plen), t;
	char text[64], a[INET_ADDRSTRLEN];
	int err = ctl_rt_fwd_spec(c, &q.fwd, false, keys);

	if (!err)
		err = ctl_rt_fwd_host(c, &q.host);
	if (err)
		return err;
	if (!o->run) {
		c->why = "not available here";
		return CTL_E_INTERNAL;
	}
	ctl_rt_fwd_text(&q.fwd, text, sizeof(text));
	if (o->no_forward)
		return ctl_rt_refused(c, "forward %s: %s", text, o->no_forward);
	/* --forward's rules (app/gw_opts.c): the target is a guest. */
	t = q.fwd.int_addr;
	inet_ntop(AF_INET, &t, a, sizeof(a));
	if ((t & mask) != (o->gw_addr & mask) || t == o->gw_addr ||
	    (t & ~mask) == ~mask || (t & ~mask) == 0)
		return ctl_rt_refused(c, "forward %s: %s is not a guest address "
				      "in the gateway's subnet", text, a);
	if (o->dns && q.fwd.proto == IPPROTO_UDP &&
	    q.fwd.ext_port == DP_SVC_DNS_PORT)
		return ctl_rt_refused(c, "forward %s: that port is the DNS "
				      "forwarder's", text);
	err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	if (r->err && r->why[0])	/* the uplink's socket */
		return ctl_rt_refused(c, "forward %s: %s", text, r->why);
	switch (r->err) {
	case 0:
		return ctl_rt_result(c, "added", text);
	case -EADDRINUSE:
		return ctl_rt_refused(c, "forward %s: that external port, or "
				      "that internal address and port, is "
				      "already forwarded (or still held by "
				      "the connections of a deleted forward)",
				      text);
	case -ENOSPC:
		return ctl_rt_refused(c, "forward %s: %u forwards already",
				      text, NAT_MAX_FORWARDS);
	default:
		return ctl_rt_refused(c, "forward %s: %s", text,
				      strerror(-r->err));
	}
}

int ctl_m_forward_delete(struct ctl_call *c)
{
	static const char *const keys[] = { "spec", NULL };
	struct ctl_rt_req q = { .op = CTL_RT_FWD_DELETE };
	const struct ctl_rt_res *r;
	const char *spec;
	int err = ctl_rt_fwd_spec(c, &q.fwd, true, keys);

	if (err)
		return err;
	spec = json_object_get_string(json_object_object_get(c->params, "spec"));
	if (c->env->rt.no_forward)
		return ctl_rt_refused(c, "forward %s: %s", spec,
				      c->env->rt.no_forward);
	err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	if (r->err == -ENOENT)
		return ctl_rt_refused(c, "forward %s: no such forward", spec);
	if (r->err)
		return ctl_rt_refused(c, "forward %s: %s", spec,
				      strerror(-r->err));
	return ctl_rt_result(c, "deleted", spec);
}

/* A forward as listed: the NAT's, and its host address if it has one. */
struct ctl_rt_fwd_row {
	struct nat_forward f;
	uint32_t host;
	bool has_host;
};

static int ctl_rt_fwd_cmp(const void *a, const void *b)
{
	const struct nat_forward *x = &((const struct ctl_rt_fwd_row *)a)->f;
	const struct nat_forward *y = &((const struct ctl_rt_fwd_row *)b)->f;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->ext_port != y->ext_port)
		return x->ext_port < y->ext_port ? -1 : 1;
	return 0;
}

int ctl_m_forward_list(struct ctl_call *c)
{
	static const char *const keys[] = { NULL };
	struct ctl_rt_req q = { .op = CTL_RT_FWD_LIST };
	const struct ctl_rt_res *r;
	struct ctl_rt_fwd_row *fw;
	struct json_object *arr;
	unsigned int n;
	int err = ctl_params_only(c, keys);

	if (!err)
		err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	fw = calloc(NAT_MAX_FORWARDS, sizeof(*fw));
	c->result = json_object_new_object();
	arr = json_object_new_array();
	if (!fw || !c->result || !arr) {
		free(fw);
		json_object_put(c->result);
		json_object_put(arr);
		c->result = NULL;
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	for (n = 0; n < r->n && n < NAT_MAX_FORWARDS; n++)
		fw[n] = (struct ctl_rt_fwd_row){ r->fwd[n], r->host[n],
						 r->has_host[n] };
	qsort(fw, n, sizeof(*fw), ctl_rt_fwd_cmp);
	for (unsigned int i = 0; i < n; i++) {
		const struct nat_forward *f = &fw[i].f;
		struct json_object *o = json_object_new_object();
		char text[64], a[INET_ADDRSTRLEN], e[INET_ADDRSTRLEN];

		if (!o)
			continue;
		inet_ntop(AF_INET, &f->int_addr, a, sizeof(a));
		inet_ntop(AF_INET, &f->ext_addr, e, sizeof(e));
		json_object_object_add(o, "spec", json_object_new_string(
			ctl_rt_fwd_text(f, text, sizeof(text))));
		json_object_object_add(o, "proto", json_object_new_string(
			ctl_rt_proto(f->proto)));
		json_object_object_add(o, "external", json_object_new_string(e));
		json_object_object_add(o, "port", json_object_new_int(
			f->ext_port));
		json_object_object_add(o, "to", json_object_new_string(a));
		json_object_object_add(o, "to_port", json_object_new_int(
			f->int_port));
		if (fw[i].has_host) {	/* the host socket's (0.0.0.0: all) */
			inet_ntop(AF_INET, &fw[i].host, e, sizeof(e));
			json_object_object_add(o, "host",
					       json_object_new_string(e));
		}
		json_object_array_add(arr, o);
	}
	free(fw);
	json_object_object_add(c->result, "forwards", arr);
	json_object_object_add(c->result, "max", json_object_new_int(
		NAT_MAX_FORWARDS));
	return 0;
}

/* What a guest port is, from its name (guest/: "stream:PATH", "stream:PATH#N",
 * "dgram:PATH", "vhost-user:PATH", "vhostN", a TAP's interface). */
static const char *ctl_rt_guest_kind(const char *name)
{
	static const char *const kinds[] = { "stream", "dgram", "vhost-user" };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t n = strlen(kinds[i]);

		if (!strncmp(name, kinds[i], n) && name[n] == ':')
			return kinds[i];
	}
	if (!strncmp(name, "vhost", 5) && name[5] >= '0' && name[5] <= '9')
		return "vhost-user";
	return "tap";
}

int ctl_m_guest_add(struct ctl_call *c)
{
	static const char *const keys[] = { "spec", NULL };
	struct ctl_rt_req q = { .op = CTL_RT_GUEST_ADD };
	const struct ctl_rt_res *r;
	const char *spec;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	spec = ctl_rt_string(c, "spec", "\"spec\" is stream:PATH, dgram:PATH, "
			     "vhost-user:PATH or [tap:]IFACE[@NETNS]");
	if (!spec)
		return CTL_E_PARAMS;
	if (!spec[0] || strlen(spec) >= sizeof(q.arg)) {
		c->why = "\"spec\" is 1 to 255 bytes";
		return CTL_E_PARAMS;
	}
	snprintf(q.arg, sizeof(q.arg), "%s", spec);
	err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	if (r->err == -EINVAL && !r->why[0]) {
		c->why = "\"spec\" is not stream:PATH, dgram:PATH, "
			 "vhost-user:PATH or [tap:]IFACE[@NETNS]";
		return CTL_E_PARAMS;
	}
	if (r->err == -ENOSPC)
		return ctl_rt_refused(c, "guest %s: %u ports already", spec,
				      DP_PORTS_MAX);
	if (r->err)
		return ctl_rt_refused(c, "guest %s: %s", spec,
				      r->why[0] ? r->why : strerror(-r->err));
	err = ctl_rt_result(c, "name", r->name);
	if (!err)
		json_object_object_add(c->result, "kind", json_object_new_string(
			ctl_rt_guest_kind(r->name)));
	return err;
}

int ctl_m_guest_delete(struct ctl_call *c)
{
	static const char *const keys[] = { "name", NULL };
	struct ctl_rt_req q = { .op = CTL_RT_GUEST_DELETE };
	const struct ctl_rt_res *r;
	const char *name;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	name = ctl_rt_string(c, "name", "\"name\" is a guest port's name "
			     "(guest-list)");
	if (!name)
		return CTL_E_PARAMS;
	if (!name[0] || strlen(name) >= DP_PORT_NAME_MAX) {
		c->why = "\"name\" is 1 to 63 bytes";
		return CTL_E_PARAMS;
	}
	snprintf(q.arg, sizeof(q.arg), "%s", name);
	err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	if (r->err == -ENOENT)
		return ctl_rt_refused(c, "guest %s: no such guest port", name);
	err = ctl_rt_result(c, "deleted", name);
	if (!err)
		json_object_object_add(c->result, "ports",
				       json_object_new_int((int)r->n));
	return err;
}

static struct json_object *ctl_rt_guest_json(const struct ctl_rt_guest *g)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ct = json_object_new_object();
	const struct {
		const char *name;
		uint64_t v;
	} cnt[] = {
		{ "rx_packets", g->st.rx_packets },
		{ "rx_bytes", g->st.rx_bytes },
		{ "rx_errors", g->st.rx_errors },
		{ "rx_dropped", g->st.rx_dropped },
		{ "tx_packets", g->st.tx_packets },
		{ "tx_bytes", g->st.tx_bytes },
		{ "tx_dropped", g->st.tx_dropped },
		{ "tx_lost", g->st.tx_lost },
		{ "tx_queued", g->st.tx_queued },
		{ "tx_queue_full", g->st.tx_queue_full },
	};
	char mac[18];

	if (!o || !ct) {
		json_object_put(o);
		json_object_put(ct);
		return NULL;
	}
	snprintf(mac, sizeof(mac), ETH_MAC_FMT, ETH_MAC_ARG(g->mac));
	json_object_object_add(o, "slot", json_object_new_int((int)g->slot));
	json_object_object_add(o, "kind", json_object_new_string(
		ctl_rt_guest_kind(g->name)));
	json_object_object_add(o, "name", json_object_new_string(g->name));
	json_object_object_add(o, "mtu", json_object_new_int64(g->mtu));
	json_object_object_add(o, "listener",
			       json_object_new_boolean(g->listener));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	for (size_t i = 0; i < sizeof(cnt) / sizeof(cnt[0]); i++)
		json_object_object_add(ct, cnt[i].name,
				       json_object_new_uint64(cnt[i].v));
	json_object_object_add(o, "counters", ct);
	return o;
}

int ctl_m_guest_list(struct ctl_call *c)
{
	static const char *const keys[] = { NULL };
	struct ctl_rt_req q = { .op = CTL_RT_GUEST_LIST };
	const struct ctl_rt_res *r;
	struct json_object *arr;
	int err = ctl_params_only(c, keys);

	if (!err)
		err = ctl_rt_call(c, &q, &r);
	if (err)
		return err;
	c->result = json_object_new_object();
	arr = json_object_new_array();
	if (!c->result || !arr) {
		json_object_put(c->result);
		json_object_put(arr);
		c->result = NULL;
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	for (unsigned int i = 0; i < r->n && i < DP_PORTS_MAX; i++)
		json_object_array_add(arr, ctl_rt_guest_json(&r->guest[i]));
	json_object_object_add(c->result, "guests", arr);
	return 0;
}
