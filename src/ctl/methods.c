// SPDX-License-Identifier: MIT
/*
 * methods.c - the control socket's dispatcher and its methods (methods.h).
 */
#include "ctl/methods.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "ctl/counters.h"
#include "ctl/flows.h"
#include "ctl/leases.h"
#include "ctl/m_info.h"
#include "ctl/m_runtime.h"
#include "ctl/proto.h"
#include "prot/eth.h"

static const char *const ctl_no_params[] = { NULL };

/* A backend's error as a reply's. */
static int ctl_be_error(struct ctl_call *c, int err)
{
	if (err == -ETIMEDOUT || err == -EBUSY || err == -EAGAIN) {
		c->why = "the worker did not answer in time";
		return CTL_E_BUSY;
	}
	if (err) {
		c->why = "the worker's state cannot be read";
		return CTL_E_INTERNAL;
	}
	return 0;
}

static int ctl_snapshot(struct ctl_call *c, const struct ctl_snapshot **s)
{
	return ctl_be_error(c, c->env->be.snapshot ?
			       c->env->be.snapshot(c->env->be.ctx, s) : -ENOSYS);
}

static struct json_object *ctl_addr(uint32_t addr, unsigned int plen)
{
	char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN + 4];

	if (!addr)
		return NULL;
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(s, sizeof(s), "%s/%u", a, plen);
	return json_object_new_string(s);
}

static double ctl_uptime(const struct ctl_info *in)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
	return now > in->started_ns ?
	       (double)(now - in->started_ns) / (double)NSEC_PER_SEC : 0.0;
}

static struct json_object *ctl_port_json(const struct ctl_port_info *p)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "slot", json_object_new_int((int)p->slot));
	json_object_object_add(o, "role", json_object_new_string(
		p->uplink ? "uplink" : p->listener ? "listener" : "guest"));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "mtu", json_object_new_int64(p->mtu));
	if (!p->uplink) {
		char mac[18];

		snprintf(mac, sizeof(mac), ETH_MAC_FMT, ETH_MAC_ARG(p->mac));
		json_object_object_add(o, "mac", json_object_new_string(mac));
	}
	return o;
}

static int ctl_m_status(struct ctl_call *c)
{
	const struct ctl_info *in = c->env->info;
	const struct ctl_snapshot *s;
	struct json_object *o, *up, *ad, *lim, *ports;
	int err = ctl_params_only(c, ctl_no_params);

	if (!err)
		err = ctl_snapshot(c, &s);
	if (err)
		return err;
	o = json_object_new_object();
	up = json_object_new_object();
	ad = json_object_new_object();
	lim = json_object_new_object();
	ports = json_object_new_array();
	if (!o || !up || !ad || !lim || !ports) {
		json_object_put(o);
		json_object_put(up);
		json_object_put(ad);
		json_object_put(lim);
		json_object_put(ports);
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	json_object_object_add(o, "version", json_object_new_string(in->version));
	json_object_object_add(o, "command", json_object_new_string(in->command));
	json_object_object_add(o, "name", json_object_new_string(in->name));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "control", json_object_new_string(in->control));
	/* Milliseconds are enough, and print short. */
	json_object_object_add(o, "uptime", json_object_new_double(
		(double)(uint64_t)(ctl_uptime(in) * 1000.0) / 1000.0));
	json_object_object_add(up, "kind", json_object_new_string(in->uplink_kind));
	json_object_object_add(up, "name", json_object_new_string(in->uplink));
	json_object_object_add(o, "uplink", up);
	json_object_object_add(ad, "gateway", ctl_addr(in->gw_addr, in->gw_plen));
	json_object_object_add(ad, "external", ctl_addr(in->ext_addr, in->ext_plen));
	json_object_object_add(o, "addresses", ad);
	json_object_object_add(lim, "flows", json_object_new_int64(in->max_flows));
	json_object_object_add(lim, "ports", json_object_new_int(DP_PORTS_MAX));
	json_object_object_add(lim, "control_clients",
			       json_object_new_int((int)in->clients_max));
	json_object_object_add(lim, "request_bytes",
			       json_object_new_int64(CTL_REQUEST_MAX));
	json_object_object_add(lim, "reply_bytes",
			       json_object_new_int64(CTL_REPLY_MAX));
	json_object_object_add(o, "limits", lim);
	for (unsigned int i = 0; i < s->n_ports; i++)
		json_object_array_add(ports, ctl_port_json(&s->port[i]));
	json_object_object_add(o, "ports", ports);
	c->result = o;
	return 0;
}

static int ctl_m_stats(struct ctl_call *c)
{
	const struct ctl_snapshot *s;
	int err = ctl_params_only(c, ctl_no_params);

	if (!err)
		err = ctl_snapshot(c, &s);
	if (err)
		return err;
	c->result = ctl_counters_json(s->text, s->len);
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	json_object_object_add(c->result, "truncated",
			       json_object_new_boolean(s->truncated));
	return 0;
}

static int ctl_m_log_level(struct ctl_call *c)
{
	static const char *const keys[] = { "level", NULL };
	struct json_object *lv;
	enum log_level prev = log_get_level();
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	if (c->params && json_object_object_get_ex(c->params, "level", &lv)) {
		const char *want = json_object_get_string(lv);
		int set = -1;

		if (!json_object_is_type(lv, json_type_string)) {
			c->why = "\"level\" must be a string";
			return CTL_E_PARAMS;
		}
		for (int i = LOG_LEVEL_ERR; i <= LOG_LEVEL_DEBUG; i++)
			if (!strcmp(want, log_level_name((enum log_level)i)))
				set = i;
		if (set < 0) {
			c->why = "\"level\" is one of error, warning, info, debug";
			return CTL_E_PARAMS;
		}
		log_set_level((enum log_level)set);
		log_info("control: log level %s (was %s)",
			 log_level_name((enum log_level)set),
			 log_level_name(prev));
	}
	c->result = json_object_new_object();
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	json_object_object_add(c->result, "level", json_object_new_string(
		log_level_name(log_get_level())));
	json_object_object_add(c->result, "previous",
			       json_object_new_string(log_level_name(prev)));
	return 0;
}

ssize_t ctl_metrics_text(const struct ctl_env *env, char *out, size_t cap)
{
	const struct ctl_snapshot *s;
	ssize_t n;
	int m;
	int err = env->be.snapshot ? env->be.snapshot(env->be.ctx, &s) : -ENOSYS;

	if (err)
		return err;
	n = ctl_counters_prom(s->text, s->len, out, cap);
	if (n < 0)
		return n;
	m = snprintf(out + n, cap - (size_t)n,
		     "# HELP arcnat_uptime_seconds seconds since arcnat started\n"
		     "# TYPE arcnat_uptime_seconds gauge\n"
		     "arcnat_uptime_seconds %.3f\n"
		     "# HELP arcnat_info arcnat's version\n"
		     "# TYPE arcnat_info gauge\n"
		     "arcnat_info{version=\"%s\"} 1\n",
		     ctl_uptime(env->info), env->info->version);
	if (m < 0 || (size_t)m >= cap - (size_t)n)
		return -EMSGSIZE;
	return n + m;
}

static int ctl_m_metrics(struct ctl_call *c)
{
	/* The text is carried as a JSON string: leave room for escapes. */
	size_t cap = CTL_REPLY_MAX / 2;
	char *buf;
	ssize_t n;
	int err = ctl_params_only(c, ctl_no_params);

	if (err)
		return err;
	buf = malloc(cap);
	if (!buf) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	n = ctl_metrics_text(c->env, buf, cap);
	if (n == -ETIMEDOUT || n == -EBUSY || n == -EAGAIN) {
		free(buf);
		c->why = "the worker did not answer in time";
		return CTL_E_BUSY;
	}
	if (n < 0) {
		free(buf);
		c->why = n == -EMSGSIZE ? "the metrics are too long" :
					  "the worker's state cannot be read";
		return n == -EMSGSIZE ? CTL_E_REPLY_TOO_LARGE : CTL_E_INTERNAL;
	}
	c->result = json_object_new_string_len(buf, (int)n);
	free(buf);
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	return 0;
}

static int ctl_m_flows(struct ctl_call *c)
{
	const struct ctl_flow_page *pg;
	struct ctl_flow_query q;
	int err;

	if (ctl_flows_query_parse(c->params, &q, &c->why))
		return CTL_E_PARAMS;
	if (!c->env->be.flows) {
		c->why = "no connection table here";
		return CTL_E_INTERNAL;
	}
	err = c->env->be.flows(c->env->be.ctx, &q, &pg);
	if (err)
		return ctl_be_error(c, err);
	c->result = ctl_flows_json(pg);
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	return 0;
}

static int ctl_m_flow_delete(struct ctl_call *c)
{
	static const char *const keys[] = { "id", "key", NULL };
	struct json_object *id, *key = NULL;
	const char *k = NULL;
	int64_t v;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	if (!c->params || !json_object_object_get_ex(c->params, "id", &id) ||
	    !json_object_is_type(id, json_type_int) ||
	    (v = json_object_get_int64(id)) < 0 || v > UINT32_MAX) {
		c->why = "\"id\" is a flow's id (flows)";
		return CTL_E_PARAMS;
	}
	if (json_object_object_get_ex(c->params, "key", &key)) {
		k = json_object_get_string(key);
		if (!json_object_is_type(key, json_type_string) ||
		    strlen(k) != CTL_FLOW_KEY_LEN ||
		    strspn(k, "0123456789abcdefABCDEF") != CTL_FLOW_KEY_LEN) {
			c->why = "\"key\" is a flow's key (flows): 32 hex digits";
			return CTL_E_PARAMS;
		}
	}
	if (!c->env->be.flow_delete) {
		c->why = "no connection table here";
		return CTL_E_INTERNAL;
	}
	err = c->env->be.flow_delete(c->env->be.ctx, (uint32_t)v, k);
	if (err == -ENOENT) {
		c->why = "no such flow";
		return CTL_E_NO_FLOW;
	}
	if (err)
		return ctl_be_error(c, err);
	c->result = json_object_new_object();
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	json_object_object_add(c->result, "deleted", json_object_new_int64(v));
	return 0;
}

static int ctl_m_leases(struct ctl_call *c)
{
	static const char *const keys[] = { "cursor", NULL };
	const struct ctl_lease_page *pg;
	struct json_object *cur;
	int64_t v = 0;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	if (c->params && json_object_object_get_ex(c->params, "cursor", &cur) &&
	    (!json_object_is_type(cur, json_type_int) ||
	     (v = json_object_get_int64(cur)) < 0 || v >= CTL_LEASES_END)) {
		c->why = "\"cursor\" is a cursor a page returned";
		return CTL_E_PARAMS;
	}
	if (!c->env->be.leases) {
		c->why = "no lease table here";
		return CTL_E_INTERNAL;
	}
	err = c->env->be.leases(c->env->be.ctx, (uint32_t)v, &pg);
	if (err)
		return ctl_be_error(c, err);
	c->result = ctl_leases_json(pg);
	if (!c->result) {
		c->why = "out of memory";
		return CTL_E_INTERNAL;
	}
	return 0;
}

static const struct {
	const char *name;
	ctl_method_fn fn;
} ctl_methods[] = {
	{ "leases", ctl_m_leases },
	{ "flows", ctl_m_flows },
	{ "flow-delete", ctl_m_flow_delete },
	{ "status", ctl_m_status },
	{ "stats", ctl_m_stats },
	{ "log-level", ctl_m_log_level },
	{ "metrics", ctl_m_metrics },
	{ "forward-add", ctl_m_forward_add },
	{ "forward-delete", ctl_m_forward_delete },
	{ "forward-list", ctl_m_forward_list },
	{ "guest-add", ctl_m_guest_add },
	{ "guest-delete", ctl_m_guest_delete },
	{ "guest-list", ctl_m_guest_list },
	{ "lease-delete", ctl_m_lease_delete },
	{ "dns-cache", ctl_m_dns_cache },
	{ "dns-flush", ctl_m_dns_flush },
	{ "pcap-start", ctl_m_pcap_start },
	{ "pcap-stop", ctl_m_pcap_stop },
};

size_t ctl_dispatch(const struct ctl_env *env, const char *line, size_t len,
		    char *out, size_t cap)
{
	struct ctl_call c = { .env = env };
	struct ctl_req r;
	ctl_method_fn fn = NULL;
	ssize_t n;
	int code;

	code = ctl_proto_parse(&r, line, len, &c.why);
	if (code)
		goto err;
	for (size_t i = 0; i < ARRAY_SIZE(ctl_methods); i++)
		if (!strcmp(r.method, ctl_methods[i].name))
			fn = ctl_methods[i].fn;
	if (!fn) {
		code = CTL_E_METHOD;
		c.why = "no such method";
		goto err;
	}
	c.params = r.params;
	code = fn(&c);
	if (code)
		goto err;
	n = ctl_proto_result(out, cap, r.id, c.result);
	json_object_put(c.result);
	if (n > 0) {
		ctl_req_free(&r);
		return (size_t)n;
	}
	code = n == -EMSGSIZE ? CTL_E_REPLY_TOO_LARGE : CTL_E_INTERNAL;
	c.why = n == -EMSGSIZE ? "the reply would be too long" : "out of memory";
err:
	n = (ssize_t)ctl_proto_error(out, cap, r.id, code, c.why);
	ctl_req_free(&r);
	return (size_t)n;
}
