// SPDX-License-Identifier: MIT
/*
 * m_info.c - leases, the DNS cache and on-demand capture on the control
 * socket (m_info.h).
 */
#include "ctl/m_info.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/compiler.h"
#include "ctl/call.h"
#include "ctl/proto.h"
#include "prot/dns.h"
#include "prot/eth.h"
#include "svc/dhcp_lease.h"
#include "svc/dns_msg.h"

#define CTL_DNS_DATA_MAX	512	/* characters of one record's data */
#define CTL_DNS_HEX_MAX		64	/* rdata bytes shown of an unknown type */

static int ctl_mi_oom(struct ctl_call *c)
{
	c->why = "out of memory";
	return CTL_E_INTERNAL;
}

/* An operation's error as a reply's; @what names the service. */
static int ctl_mi_err(struct ctl_call *c, int err, const char *off)
{
	switch (err) {
	case -ETIMEDOUT:
	case -EBUSY:
	case -EAGAIN:
		c->why = "the worker did not answer in time";
		return CTL_E_BUSY;
	case -ENODEV:
		c->why = off;
		return CTL_E_NO_SERVICE;
	default:
		c->why = "the worker's state cannot be read";
		return CTL_E_INTERNAL;
	}
}

/* An integer param in [@lo, @hi]: 0 (*@v set or left), or CTL_E_PARAMS. */
static int ctl_mi_int(struct ctl_call *c, const char *key, int64_t lo,
		      int64_t hi, int64_t *v, const char *why)
{
	struct json_object *o;

	if (!c->params || !json_object_object_get_ex(c->params, key, &o))
		return 0;
	if (!json_object_is_type(o, json_type_int) ||
	    json_object_get_int64(o) < lo || json_object_get_int64(o) > hi) {
		c->why = why;
		return CTL_E_PARAMS;
	}
	*v = json_object_get_int64(o);
	return 0;
}

/* "cursor" and "limit" of a paged method. */
static int ctl_mi_page(struct ctl_call *c, uint32_t max, uint32_t *cursor,
		       uint32_t *limit)
{
	static const char *const keys[] = { "cursor", "limit", NULL };
	int64_t cu = 0, li = MIN(CTL_INFO_DEFAULT_LIMIT, max);
	int err = ctl_params_only(c, keys);

	if (!err)
		err = ctl_mi_int(c, "cursor", 0, UINT32_MAX - 1, &cu,
				 "\"cursor\" is a \"next\" of an earlier page");
	if (!err)
		err = ctl_mi_int(c, "limit", 1, max, &li,
				 "\"limit\" is out of range");
	*cursor = (uint32_t)cu;
	*limit = (uint32_t)li;
	return err;
}

/* Add @o to @arr unless the JSON would pass the page's bound. */
static bool ctl_mi_fits(struct json_object *arr, struct json_object *o,
			size_t *used)
{
	size_t n;

	if (!o)
		return false;
	n = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	if (*used + n + 1 > CTL_INFO_JSON_MAX) {
		json_object_put(o);
		return false;
	}
	*used += n + 1;
	json_object_array_add(arr, o);
	return true;
}

static struct json_object *ctl_mi_page_result(const char *key,
					      struct json_object *arr,
					      uint32_t next)
{
	struct json_object *o = json_object_new_object();

	if (!o) {
		json_object_put(arr);
		return NULL;
	}
	json_object_object_add(o, key, arr);
	json_object_object_add(o, "next", next == UINT32_MAX ? NULL :
				json_object_new_int64(next));
	return o;
}

/* ---- leases (listed by ctl/leases.h) ---- */

/* A lease as `leases` shows one (ctl/leases.c), as of @now. */
static struct json_object *ctl_mi_lease_json(const struct dhcp_lease_info *l,
					     uint64_t now)
{
	struct json_object *o = json_object_new_object();
	char mac[18], ip[INET_ADDRSTRLEN];
	uint64_t left = l->expires > now ? l->expires - now : 0;

	if (!o)
		return NULL;
	snprintf(mac, sizeof(mac), ETH_MAC_FMT, ETH_MAC_ARG(l->mac));
	inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
	json_object_object_add(o, "ip", json_object_new_string(ip));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "state", json_object_new_string(
		l->state == DHCP_LS_BOUND ? "bound" :
		l->state == DHCP_LS_OFFERED ? "offered" : "free"));
	json_object_object_add(o, "static", json_object_new_boolean(l->is_static));
	json_object_object_add(o, "expires_in", json_object_new_double(
		(double)left / 1e9));
	return o;
}

int ctl_m_lease_delete(struct ctl_call *c)
{
	static const char *const keys[] = { "mac", "address", NULL };
	const struct ctl_svc_ops *ops = c->env->svc;
	struct json_object *mo = NULL, *ao = NULL;
	struct dhcp_lease_info l;
	uint8_t mac[ETH_ALEN];
	uint32_t ip = 0;
	uint64_t now = 0;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	if (c->params) {
		json_object_object_get_ex(c->params, "mac", &mo);
		json_object_object_get_ex(c->params, "address", &ao);
	}
	if (!mo == !ao) {
		c->why = "one of \"mac\" and \"address\"";
		return CTL_E_PARAMS;
	}
	if (mo && (!json_object_is_type(mo, json_type_string) ||
		   dhcp_mac_parse(json_object_get_string(mo),
				  (size_t)json_object_get_string_len(mo), mac))) {
		c->why = "\"mac\" is a MAC address, aa:bb:cc:dd:ee:ff";
		return CTL_E_PARAMS;
	}
	if (ao && (!json_object_is_type(ao, json_type_string) ||
		   strlen(json_object_get_string(ao)) !=
			   (size_t)json_object_get_string_len(ao) ||
		   inet_pton(AF_INET, json_object_get_string(ao), &ip) != 1)) {
		c->why = "\"address\" is an IPv4 address";
		return CTL_E_PARAMS;
	}
	err = ops && ops->lease_delete ?
	      ops->lease_delete(c->env->svc_ctx, mo ? mac : NULL, ip, &l, &now) :
	      -ENODEV;
	if (err == -ENOENT) {
		c->why = "no such lease";
		return CTL_E_NO_LEASE;
	}
	if (err)
		return ctl_mi_err(c, err, "no DHCP server (--no-dhcp)");
	c->result = json_object_new_object();
	if (!c->result)
		return ctl_mi_oom(c);
	/* The lease as it was, its time left as of the deletion. */
	json_object_object_add(c->result, "deleted", ctl_mi_lease_json(&l, now));
	return 0;
}

/* ---- the DNS cache ---- */

void ctl_dns_name_text(const uint8_t *name, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (!cap)
		return;
	out[0] = 0;
	if (len <= 1) {
		snprintf(out, cap, ".");
		return;
	}
	/* Wire form: length-prefixed labels up to the root's zero byte. */
	while (i < len && name[i]) {
		size_t n = name[i++], k;

		for (k = 0; k < n && i < len; k++, i++) {
			uint8_t b = name[i];
			int w;

			if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
			    (b >= '0' && b <= '9') || b == '-' || b == '_')
				w = snprintf(out + o, cap - o, "%c", b);
			else if (b == '.' || b == '\\')
				w = snprintf(out + o, cap - o, "\\%c", b);
			else
				w = snprintf(out + o, cap - o, "\\%03u", b);
			if (w < 0 || (size_t)w >= cap - o)
				return;
			o += (size_t)w;
		}
		if (o + 1 >= cap)
			return;
		out[o++] = '.';
		out[o] = 0;
	}
}

static const char *ctl_mi_type(uint16_t t, char *buf, size_t cap)
{
	static const struct {
		uint16_t t;
		const char *n;
	} names[] = {
		{ DNS_TYPE_A, "A" }, { DNS_TYPE_NS, "NS" },
		{ DNS_TYPE_CNAME, "CNAME" }, { DNS_TYPE_SOA, "SOA" },
		{ DNS_TYPE_PTR, "PTR" }, { DNS_TYPE_MX, "MX" },
		{ DNS_TYPE_TXT, "TXT" }, { DNS_TYPE_AAAA, "AAAA" },
		{ 33, "SRV" }, { 64, "SVCB" }, { 65, "HTTPS" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].t == t)
			return names[i].n;
	snprintf(buf, cap, "TYPE%u", t);	/* RFC 3597 */
	return buf;
}

/* @out after a snprintf() of @n into @cap bytes: one cut short ends in
 * "..." (a name can be longer than a record's data is shown). */
static void ctl_mi_cut(char *out, size_t cap, int n)
{
	if (n >= 0 && (size_t)n < cap)
		return;
	if (cap >= 4)
		memcpy(out + cap - 4, "...", 4);
	else if (cap)
		out[0] = 0;
}

/* A record's data as text, at most CTL_DNS_DATA_MAX - 1 characters. */
static void ctl_mi_rdata(const uint8_t *msg, const struct dns_rr *rr,
			 char *out, size_t cap)
{
	const uint8_t *d = msg + rr->rdata;
	char name[4 * DNS_NAME_MAX + 1];
	size_t o, i;
	int w;

	out[0] = 0;
	if (rr->type == DNS_TYPE_A && rr->rdlen == 4) {
		inet_ntop(AF_INET, d, out, (socklen_t)cap);
	} else if (rr->type == DNS_TYPE_AAAA && rr->rdlen == 16) {
		inet_ntop(AF_INET6, d, out, (socklen_t)cap);
	} else if (rr->target_len) {
		ctl_dns_name_text(rr->target, rr->target_len, name, sizeof(name));
		if (rr->type == DNS_TYPE_MX)
			w = snprintf(out, cap, "%u %s",
				     (unsigned int)(d[0] << 8 | d[1]), name);
		else
			w = snprintf(out, cap, "%s", name);
		ctl_mi_cut(out, cap, w);
	} else {
		/* RFC 3597's generic form, the first bytes only. */
		w = snprintf(out, cap, "\\# %zu ", rr->rdlen);
		o = w > 0 ? (size_t)w : 0;
		for (i = 0; i < rr->rdlen && i < CTL_DNS_HEX_MAX && o + 3 < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%02x", d[i]);
		if (i < rr->rdlen && o + 4 < cap)
			snprintf(out + o, cap - o, "...");
	}
}

static struct json_object *ctl_mi_answers(const uint8_t *msg, size_t len,
					  const struct dns_msg *m)
{
	struct json_object *arr = json_object_new_array();
	size_t pos = m->q_end;
	unsigned int i;

	if (!arr)
		return NULL;
	for (i = 0; i < m->ancount && i < CTL_DNS_ANSWERS_MAX; i++) {
		struct json_object *o;
		struct dns_rr rr;
		char name[4 * DNS_NAME_MAX + 1], data[CTL_DNS_DATA_MAX], tb[16];

		if (dns_msg_rr_next(msg, len, &pos, &rr))
			break;
		o = json_object_new_object();
		if (!o)
			break;
		ctl_dns_name_text(rr.name, rr.name_len, name, sizeof(name));
		ctl_mi_rdata(msg, &rr, data, sizeof(data));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "type", json_object_new_string(
			ctl_mi_type(rr.type, tb, sizeof(tb))));
		json_object_object_add(o, "ttl", json_object_new_int64(rr.ttl));
		json_object_object_add(o, "data", json_object_new_string(data));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *ctl_mi_dns_json(const struct ctl_dns_page *pg,
					   const struct ctl_dns_rec *e)
{
	const uint8_t *msg = pg->bytes + e->off;
	struct json_object *o;
	struct dns_msg m;
	char name[4 * DNS_NAME_MAX + 1], tb[16];

	/* The worker copied what the cache holds, which parsed when it was
	 * stored; a page that says otherwise is listed without it. */
	if (e->off > pg->used || e->info.len > pg->used - e->off ||
	    dns_msg_parse(msg, e->info.len, &m) || !m.q_ok)
		return json_object_new_object();
	o = json_object_new_object();
	if (!o)
		return NULL;
	ctl_dns_name_text(m.q.name, m.q.name_len, name, sizeof(name));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "type", json_object_new_string(
		ctl_mi_type(e->info.qtype, tb, sizeof(tb))));
	if (e->info.qclass != DNS_CLASS_IN)
		json_object_object_add(o, "class",
				       json_object_new_int(e->info.qclass));
	json_object_object_add(o, "ttl", json_object_new_int64(e->info.ttl_left));
	json_object_object_add(o, "negative",
			       json_object_new_boolean(e->info.negative));
	json_object_object_add(o, "rcode", json_object_new_int(
		(int)dns_msg_rcode(&m)));
	json_object_object_add(o, "answers", ctl_mi_answers(msg, e->info.len, &m));
	if (m.ancount > CTL_DNS_ANSWERS_MAX)
		json_object_object_add(o, "answers_left_out", json_object_new_int(
			m.ancount - CTL_DNS_ANSWERS_MAX));
	return o;
}

int ctl_m_dns_cache(struct ctl_call *c)
{
	const struct ctl_svc_ops *ops = c->env->svc;
	const struct ctl_dns_page *pg;
	struct json_object *arr;
	uint32_t cursor, limit, next, i;
	size_t used = 0;
	int err = ctl_mi_page(c, CTL_DNS_PAGE, &cursor, &limit);

	if (err)
		return err;
	err = ops && ops->dns_cache ? ops->dns_cache(c->env->svc_ctx, cursor,
						     limit, &pg) : -ENODEV;
	if (err)
		return ctl_mi_err(c, err, "no DNS forwarder (--no-dns)");
	arr = json_object_new_array();
	if (!arr)
		return ctl_mi_oom(c);
	next = pg->next;
	for (i = 0; i < pg->n && i < CTL_DNS_PAGE; i++) {
		if (!ctl_mi_fits(arr, ctl_mi_dns_json(pg, &pg->e[i]), &used)) {
			next = i ? pg->e[i - 1].after : cursor;
			break;
		}
	}
	c->result = ctl_mi_page_result("entries", arr, next);
	return c->result ? 0 : ctl_mi_oom(c);
}

int ctl_m_dns_flush(struct ctl_call *c)
{
	static const char *const no_params[] = { NULL };
	const struct ctl_svc_ops *ops = c->env->svc;
	uint32_t n = 0;
	int err = ctl_params_only(c, no_params);

	if (err)
		return err;
	err = ops && ops->dns_flush ? ops->dns_flush(c->env->svc_ctx, &n) :
				      -ENODEV;
	if (err)
		return ctl_mi_err(c, err, "no DNS forwarder (--no-dns)");
	c->result = json_object_new_object();
	if (!c->result)
		return ctl_mi_oom(c);
	json_object_object_add(c->result, "flushed", json_object_new_int64(n));
	return 0;
}

/* ---- capture ---- */

/* "protocol": a name or a number. Return: 0, or CTL_E_PARAMS. */
static int ctl_mi_proto(struct ctl_call *c, struct dp_pcap_filter *f)
{
	static const struct {
		const char *n;
		uint8_t p;
	} names[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmp6", IPPROTO_ICMPV6 },
		{ "sctp", IPPROTO_SCTP },
	};
	struct json_object *o;
	int64_t v = 0;

	if (!c->params || !json_object_object_get_ex(c->params, "protocol", &o))
		return 0;
	if (json_object_is_type(o, json_type_string)) {
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(json_object_get_string(o), names[i].n))
				v = names[i].p;
	} else if (json_object_is_type(o, json_type_int)) {
		v = json_object_get_int64(o);
	}
	if (v < 1 || v > 255) {
		c->why = "\"protocol\" is tcp, udp, icmp, icmp6, sctp or 1..255";
		return CTL_E_PARAMS;
	}
	f->proto = (uint8_t)v;
	return 0;
}

static int ctl_mi_pcap_params(struct ctl_call *c, const char **path,
			      struct dp_pcap_filter *f, uint64_t *max)
{
	static const char *const keys[] = {
		"file", "port", "protocol", "host", "max_bytes", NULL,
	};
	struct json_object *o;
	int64_t port = 0, mb = (int64_t)DP_PCAP_DEFAULT_MAX;
	int err = ctl_params_only(c, keys);

	if (err)
		return err;
	if (!c->params || !json_object_object_get_ex(c->params, "file", &o) ||
	    !json_object_is_type(o, json_type_string) ||
	    json_object_get_string(o)[0] != '/' ||
	    strlen(json_object_get_string(o)) !=
		    (size_t)json_object_get_string_len(o) ||
	    json_object_get_string_len(o) >= PATH_MAX) {
		c->why = "\"file\" is an absolute path";
		return CTL_E_PARAMS;
	}
	*path = json_object_get_string(o);
	err = ctl_mi_int(c, "port", 1, 65535, &port, "\"port\" is 1..65535");
	if (!err)
		err = ctl_mi_int(c, "max_bytes", 24, (int64_t)CTL_PCAP_MAX_BYTES,
				 &mb, "\"max_bytes\" is 24 bytes to 1 TiB");
	if (!err)
		err = ctl_mi_proto(c, f);
	if (err)
		return err;
	f->port = (uint16_t)port;
	*max = (uint64_t)mb;
	if (json_object_object_get_ex(c->params, "host", &o) &&
	    (!json_object_is_type(o, json_type_string) ||
	     strlen(json_object_get_string(o)) !=
		     (size_t)json_object_get_string_len(o) ||
	     inet_pton(AF_INET, json_object_get_string(o), &f->host) != 1 ||
	     !f->host)) {
		c->why = "\"host\" is an IPv4 address";
		return CTL_E_PARAMS;
	}
	return 0;
}

int ctl_m_pcap_start(struct ctl_call *c)
{
	const struct ctl_svc_ops *ops = c->env->svc;
	struct dp_pcap_filter f = { 0 };
	const char *path = NULL;
	uint64_t max = 0;
	int err = ctl_mi_pcap_params(c, &path, &f, &max);

	if (err)
		return err;
	err = ops && ops->pcap_start ?
	      ops->pcap_start(c->env->svc_ctx, path, &f, max) : -ENODEV;
	if (err == -EALREADY) {
		c->why = "a capture runs already (pcap-stop ends it)";
		return CTL_E_STATE;
	}
	if (err == -EEXIST) {
		c->why = "the file exists (pcap-start makes a new file)";
		return CTL_E_FILE;
	}
	if (err == -ETIMEDOUT || err == -EBUSY || err == -EAGAIN ||
	    err == -ENODEV)
		return ctl_mi_err(c, err, "no capture here");
	if (err) {
		c->why = strerror(-err);	/* the file's: EACCES, ENOENT */
		return CTL_E_FILE;
	}
	c->result = json_object_new_object();
	if (!c->result)
		return ctl_mi_oom(c);
	json_object_object_add(c->result, "file", json_object_new_string(path));
	json_object_object_add(c->result, "max_bytes", json_object_new_int64(
		(int64_t)max));
	return 0;
}

int ctl_m_pcap_stop(struct ctl_call *c)
{
	static const char *const no_params[] = { NULL };
	const struct ctl_svc_ops *ops = c->env->svc;
	struct dp_pcap_stats st = { 0 };
	char path[PATH_MAX] = "";
	int err = ctl_params_only(c, no_params);

	if (err)
		return err;
	err = ops && ops->pcap_stop ?
	      ops->pcap_stop(c->env->svc_ctx, path, sizeof(path), &st) : -ENODEV;
	if (err == -ENOENT) {
		c->why = "no capture runs";
		return CTL_E_STATE;
	}
	if (err)
		return ctl_mi_err(c, err, "no capture here");
	c->result = json_object_new_object();
	if (!c->result)
		return ctl_mi_oom(c);
	json_object_object_add(c->result, "file", json_object_new_string(path));
	json_object_object_add(c->result, "packets",
			       json_object_new_int64((int64_t)st.packets));
	json_object_object_add(c->result, "bytes",
			       json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(c->result, "filtered",
			       json_object_new_int64((int64_t)st.filtered));
	json_object_object_add(c->result, "over_limit",
			       json_object_new_int64((int64_t)st.over));
	json_object_object_add(c->result, "failed",
			       json_object_new_boolean(st.failed));
	return 0;
}
