// SPDX-License-Identifier: MIT
/*
 * flows.c - pages of the connection table, and a flow deleted (flows.h).
 */
#include "ctl/flows.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "ct/tcp.h"
#include "prot/ip4.h"

bool ctl_flows_match(const struct ct_entry *e, const struct ctl_flow_query *q)
{
	const struct ct_tuple *o = &e->tuple[CT_DIR_ORIG];
	const struct ct_tuple *r = &e->tuple[CT_DIR_REPLY];

	if (q->proto && o->proto != q->proto)
		return false;
	if (q->addr && o->saddr != q->addr && o->daddr != q->addr &&
	    r->saddr != q->addr && r->daddr != q->addr)
		return false;
	if (q->port && o->sport != q->port && o->dport != q->port &&
	    r->sport != q->port && r->dport != q->port)
		return false;
	switch (q->state) {
	case CTL_FLOW_STATE_ANY:
		return true;
	case CTL_FLOW_STATE_REPLIED:
		return e->flags & CT_F_REPLIED;
	case CTL_FLOW_STATE_UNREPLIED:
		return !(e->flags & CT_F_REPLIED);
	default:
		return o->proto == IPPROTO_NUM_TCP && e->tcp.state == q->state;
	}
}

void ctl_flows_scan(const struct ct_table *t, const struct ctl_flow_query *q,
		    uint64_t now, struct ctl_flow_page *pg)
{
	const struct ct_flow_stats *fs = ct_flow_stats(t);
	uint32_t cap = ct_capacity(t);
	uint32_t i = q->cursor, end;
	unsigned int limit = q->limit && q->limit <= CTL_FLOWS_PAGE_MAX ?
			     q->limit : CTL_FLOWS_PAGE_DEFAULT;

	pg->n = 0;
	pg->count = ct_count(t);
	pg->capacity = cap;
	end = i < cap && cap - i > CTL_FLOWS_SCAN ? i + CTL_FLOWS_SCAN : cap;
	for (; i < end && pg->n < limit; i++) {
		const struct ct_entry *e = ct_entry_at(t, i);
		struct ctl_flow *f = &pg->flow[pg->n];

		if (!(e->flags & CT_F_CONFIRMED) || !ctl_flows_match(e, q))
			continue;
		f->id = i;
		memcpy(f->tuple, e->tuple, sizeof(f->tuple));
		f->flags = e->flags;
		f->tcp_state = e->tcp.state;
		f->expires_ms = e->deadline > now ?
				(e->deadline - now) / NSEC_PER_MSEC : 0;
		f->has_stats = fs != NULL;
		if (fs) {
			f->age_ms = now > fs[i].created ?
				    (now - fs[i].created) / NSEC_PER_MSEC : 0;
			memcpy(f->packets, fs[i].packets, sizeof(f->packets));
			memcpy(f->bytes, fs[i].bytes, sizeof(f->bytes));
		}
		pg->n++;
	}
	pg->next = i < cap ? i : CT_NONE;
}

void ctl_flows_key(const struct ct_tuple *tup, char *out)
{
	const uint8_t *b = (const uint8_t *)tup;

	/* The 13 meaningful bytes and the padding, which is zero. */
	for (unsigned int i = 0; i < sizeof(*tup); i++)
		snprintf(out + (size_t)2 * i, 3, "%02x", b[i]);
}

int ctl_flows_delete(struct ct_table *t, uint32_t id, const char *key)
{
	struct ct_entry *e;

	if (id >= ct_capacity(t))
		return -ENOENT;
	e = ct_entry_at(t, id);
	if (!(e->flags & CT_F_CONFIRMED))
		return -ENOENT;
	if (key) {
		char k[CTL_FLOW_KEY_LEN + 1];

		ctl_flows_key(&e->tuple[CT_DIR_ORIG], k);
		if (strcasecmp(k, key) != 0)
			return -ENOENT;
	}
	ct_delete(t, e);
	return 0;
}

static const struct {
	const char *name;
	uint8_t proto;
} ctl_protos[] = {
	{ "tcp", IPPROTO_NUM_TCP },
	{ "udp", IPPROTO_NUM_UDP },
	{ "icmp", IPPROTO_NUM_ICMP },
};

static const char *ctl_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(ctl_protos) / sizeof(ctl_protos[0]); i++)
		if (ctl_protos[i].proto == proto)
			return ctl_protos[i].name;
	return "other";
}

/* "state": a TCP state's name, "replied" or "unreplied". */
static int ctl_state_parse(const char *s, int *out)
{
	if (!strcasecmp(s, "replied")) {
		*out = CTL_FLOW_STATE_REPLIED;
		return 0;
	}
	if (!strcasecmp(s, "unreplied")) {
		*out = CTL_FLOW_STATE_UNREPLIED;
		return 0;
	}
	for (int i = CT_TCP_NONE + 1; i < CT_TCP__MAX; i++) {
		if (!strcasecmp(s, ct_tcp_state_name((enum ct_tcp_state)i))) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* An integer param in [lo, hi]. Return: 0, 1 when absent, -EINVAL. */
static int ctl_int_param(struct json_object *params, const char *key,
			 int64_t lo, int64_t hi, int64_t *v)
{
	struct json_object *o;

	if (!json_object_object_get_ex(params, key, &o))
		return 1;
	if (!json_object_is_type(o, json_type_int))
		return -EINVAL;
	*v = json_object_get_int64(o);
	return *v < lo || *v > hi ? -EINVAL : 0;
}

int ctl_flows_query_parse(struct json_object *params,
			  struct ctl_flow_query *q, const char **why)
{
	struct json_object *o;
	int64_t v;
	int r;

	memset(q, 0, sizeof(*q));
	q->state = CTL_FLOW_STATE_ANY;
	q->limit = CTL_FLOWS_PAGE_DEFAULT;
	if (!params)
		return 0;
	json_object_object_foreach(params, k, val) {
		static const char *const known[] = {
			"proto", "address", "port", "state", "cursor", "limit",
		};
		bool ok = false;

		(void)val;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= !strcmp(k, known[i]);
		if (!ok) {
			*why = "unknown parameter";
			return -EINVAL;
		}
	}
	if (json_object_object_get_ex(params, "proto", &o)) {
		const char *s = json_object_get_string(o);

		for (size_t i = 0; s && i < sizeof(ctl_protos) / sizeof(ctl_protos[0]); i++)
			if (!strcmp(s, ctl_protos[i].name))
				q->proto = ctl_protos[i].proto;
		if (!json_object_is_type(o, json_type_string) || !q->proto) {
			*why = "\"proto\" is one of tcp, udp, icmp";
			return -EINVAL;
		}
	}
	if (json_object_object_get_ex(params, "address", &o)) {
		struct in_addr a;

		if (!json_object_is_type(o, json_type_string) ||
		    inet_pton(AF_INET, json_object_get_string(o), &a) != 1 ||
		    !a.s_addr) {
			*why = "\"address\" is an IPv4 address A.B.C.D";
			return -EINVAL;
		}
		q->addr = a.s_addr;
	}
	if (json_object_object_get_ex(params, "state", &o) &&
	    (!json_object_is_type(o, json_type_string) ||
	     ctl_state_parse(json_object_get_string(o), &q->state))) {
		*why = "\"state\" is a TCP state (ESTABLISHED...), replied or unreplied";
		return -EINVAL;
	}
	r = ctl_int_param(params, "port", 1, 65535, &v);
	if (r < 0) {
		*why = "\"port\" is 1..65535";
		return -EINVAL;
	}
	if (!r)
		q->port = htons((uint16_t)v);
	r = ctl_int_param(params, "cursor", 0, UINT32_MAX, &v);
	if (r < 0) {
		*why = "\"cursor\" is a cursor a page returned";
		return -EINVAL;
	}
	if (!r)
		q->cursor = (uint32_t)v;
	r = ctl_int_param(params, "limit", 1, CTL_FLOWS_PAGE_MAX, &v);
	if (r < 0) {
		*why = "\"limit\" is 1..256";
		return -EINVAL;
	}
	if (!r)
		q->limit = (uint32_t)v;
	return 0;
}

/* "A.B.C.D:P" of one end of a tuple (ports in network order). */
static struct json_object *ctl_end(uint32_t addr, uint16_t port)
{
	char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN + 8];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(s, sizeof(s), "%s:%u", a, ntohs(port));
	return json_object_new_string(s);
}

static struct json_object *ctl_tuple_json(const struct ct_tuple *t)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "src", ctl_end(t->saddr, t->sport));
	json_object_object_add(o, "dst", ctl_end(t->daddr, t->dport));
	return o;
}

/* A per-direction counter pair: {"orig": N, "reply": N}. */
static struct json_object *ctl_dirs_json(const uint64_t v[2])
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "orig", json_object_new_int64((int64_t)v[0]));
	json_object_object_add(o, "reply", json_object_new_int64((int64_t)v[1]));
	return o;
}

static struct json_object *ctl_flow_json(const struct ctl_flow *f)
{
	struct json_object *o = json_object_new_object();
	const struct ct_tuple *orig = &f->tuple[CT_DIR_ORIG];
	char key[CTL_FLOW_KEY_LEN + 1];
	const char *state;

	if (!o)
		return NULL;
	ctl_flows_key(orig, key);
	if (orig->proto == IPPROTO_NUM_TCP)
		state = ct_tcp_state_name((enum ct_tcp_state)f->tcp_state);
	else
		state = f->flags & CT_F_REPLIED ? "replied" : "unreplied";
	json_object_object_add(o, "id", json_object_new_int64(f->id));
	json_object_object_add(o, "key", json_object_new_string(key));
	json_object_object_add(o, "proto",
			       json_object_new_string(ctl_proto_name(orig->proto)));
	json_object_object_add(o, "orig", ctl_tuple_json(orig));
	json_object_object_add(o, "reply",
			       ctl_tuple_json(&f->tuple[CT_DIR_REPLY]));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "replied",
			       json_object_new_boolean(f->flags & CT_F_REPLIED));
	json_object_object_add(o, "inbound",
			       json_object_new_boolean(f->flags & CT_F_INBOUND));
	json_object_object_add(o, "hairpin",
			       json_object_new_boolean(f->flags & CT_F_HAIRPIN));
	json_object_object_add(o, "expires_in", json_object_new_double(
		(double)f->expires_ms / 1000.0));
	if (f->has_stats) {
		json_object_object_add(o, "age", json_object_new_double(
			(double)f->age_ms / 1000.0));
		json_object_object_add(o, "packets", ctl_dirs_json(f->packets));
		json_object_object_add(o, "bytes", ctl_dirs_json(f->bytes));
	}
	return o;
}

struct json_object *ctl_flows_json(const struct ctl_flow_page *pg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	for (unsigned int i = 0; i < pg->n; i++)
		json_object_array_add(a, ctl_flow_json(&pg->flow[i]));
	json_object_object_add(o, "flows", a);
	json_object_object_add(o, "next", pg->next == CT_NONE ? NULL :
				json_object_new_int64(pg->next));
	json_object_object_add(o, "count", json_object_new_int64(pg->count));
	json_object_object_add(o, "capacity",
			       json_object_new_int64(pg->capacity));
	return o;
}
