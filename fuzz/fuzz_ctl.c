// SPDX-License-Identifier: MIT
/*
 * fuzz_ctl.c - libFuzzer harness for the control socket's request parser
 * and dispatcher (src/ctl/proto, methods, counters), without a socket:
 * what a hostile client can send, and what the statistics block could
 * hold.
 *
 * The flows backend returns a fixed page, so that the query's parser and
 * the page's JSON are what is driven. The runtime changes (forward-*,
 * guest-*: ctl/m_runtime.h) run on a real NAT emptied of its forwards before each input
 * and a model of the guest ports, as ctl/rt.c runs them on the worker.
 *
 * The services (ctl/m_info.h: lease-delete, dns-cache, dns-flush,
 * pcap-start, pcap-stop) answer from fixed data, their params from the
 * requests.
 *
 * Input: byte 0 bit 0 set: the bytes up to the first NUL are the
 * snapshot's statistics block (the counters' parser, as `stats` and
 * `metrics` convert it); bit 1 set: then a 2-byte length (big-endian) and
 * that many bytes, a cached DNS answer that `dns-cache` lists (its records
 * read by dns_msg_rr_next(), its names escaped); the rest is request
 * lines, split at '\n' as the server splits them, each at most
 * CTL_REQUEST_MAX.
 *
 * Checks: every reply is one line (one '\n', at its end) of at most
 * CTL_REPLY_MAX bytes, a JSON object with "id" and exactly one of
 * "result" and "error"; the log level is what the requests set (and is
 * put back).
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ctl/flows.h"
#include "ctl/leases.h"
#include "ctl/m_info.h"
#include "ctl/methods.h"
#include "ctl/rt.h"
#include "nat/nat.h"
#include "ctl/proto.h"

static char reply[CTL_REPLY_MAX];
static char text[CTL_REQUEST_MAX];
static struct ctl_snapshot snap;

static int fz_snapshot(void *ctx, const struct ctl_snapshot **out)
{
	(void)ctx;
	*out = &snap;
	return 0;
}

static struct ctl_flow_page page;

/* A fixed page of two flows, whatever the query (its parser is what is
 * fuzzed); a delete finds even ids only. */
static int fz_flows(void *ctx, const struct ctl_flow_query *q,
		    const struct ctl_flow_page **out)
{
	(void)ctx;
	page.n = 2;
	page.next = q->cursor < 10 ? q->cursor + 1 : CT_NONE;
	page.count = 2;
	page.capacity = 1024;
	page.flow[0] = (struct ctl_flow){
		.id = 3, .flags = CT_F_CONFIRMED | CT_F_REPLIED, .tcp_state = 4,
		.expires_ms = 7440000,
		.tuple = { { 0x0202000a, 0x016433c6, 0x409c, 0x5014, 6, { 0 } },
			   { 0x016433c6, 0x026433c6, 0x5014, 0x409c, 6, { 0 } } },
	};
	page.flow[1] = (struct ctl_flow){
		.id = 9, .flags = CT_F_CONFIRMED, .tuple = {
			{ 0x0202000a, 0x016433c6, 0x4d00, 0x4d00, 1, { 0 } },
			{ 0x016433c6, 0x026433c6, 0x4d00, 0x4d00, 1, { 0 } } },
	};
	*out = &page;
	return 0;
}

static int fz_flow_delete(void *ctx, uint32_t id, const char *key)
{
	(void)ctx;
	(void)key;
	return id & 1 ? -ENOENT : 0;
}

static struct ctl_lease_page leases;

/* One bound lease, one static host; pages until cursor 3. */
static int fz_leases(void *ctx, uint32_t cursor,
		     const struct ctl_lease_page **out)
{
	(void)ctx;
	leases.n = 2;
	leases.dhcp = true;
	leases.bound = 1;
	leases.next = cursor < 3 ? cursor + 1 : CTL_LEASES_END;
	leases.lease[0] = (struct ctl_lease){ .ip = 0x0202000a, .state = 2,
					      .expires_ms = 3600000,
					      .name = "guest" };
	leases.lease[1] = (struct ctl_lease){ .ip = 0x0902000a, .state = 4,
					      .is_static = true };
	*out = &leases;
	return 0;
}

static struct nat *fz_nat;
static struct ctl_rt_res fz_res;
static char fz_guests[DP_PORTS_MAX][DP_PORT_NAME_MAX];
static unsigned int fz_n_guests;

/* ctl/rt.c's work, on this thread: the NAT for real, guests as names. */
static int fz_rt_run(void *ctx, const struct ctl_rt_req *q,
		     const struct ctl_rt_res **out)
{
	struct ctl_rt_res *r = &fz_res;

	(void)ctx;
	r->err = 0;
	r->why[0] = r->name[0] = '\0';
	r->n = 0;
	*out = r;
	switch (q->op) {
	case CTL_RT_FWD_ADD:
		r->err = nat_add_forward(fz_nat, &q->fwd);
		break;
	case CTL_RT_FWD_DELETE:
		r->err = nat_remove_forward(fz_nat, &q->fwd);
		break;
	case CTL_RT_FWD_LIST:
		r->n = nat_list_forwards(fz_nat, r->fwd, NAT_MAX_FORWARDS);
		break;
	case CTL_RT_GUEST_ADD:
		if (strncmp(q->arg, "dgram:", 6) != 0) {
			snprintf(r->why, sizeof(r->why), "not dgram:PATH");
			r->err = q->arg[0] == 'x' ? -EINVAL : -EPERM;
		} else if (fz_n_guests == DP_PORTS_MAX - 1) {
			r->err = -ENOSPC;
		} else {
			snprintf(fz_guests[fz_n_guests], DP_PORT_NAME_MAX, "%s",
				 q->arg);
			snprintf(r->name, sizeof(r->name), "%s",
				 fz_guests[fz_n_guests++]);
		}
		break;
	case CTL_RT_GUEST_DELETE:
		r->err = -ENOENT;
		for (unsigned int i = 0; i < fz_n_guests; i++) {
			if (strcmp(fz_guests[i], q->arg) != 0)
				continue;
			memmove(fz_guests[i], fz_guests[i + 1],
				(size_t)(fz_n_guests - i - 1) * DP_PORT_NAME_MAX);
			fz_n_guests--;
			r->n = 1;
			r->err = 0;
			break;
		}
		break;
	case CTL_RT_GUEST_LIST:
		for (unsigned int i = 0; i < fz_n_guests; i++) {
			r->guest[i] = (struct ctl_rt_guest){ .slot = i + 1,
							     .mtu = 1500 };
			snprintf(r->guest[i].name, DP_PORT_NAME_MAX, "%s",
				 fz_guests[i]);
			r->n++;
		}
		break;
	}
	return 0;
}

static const struct ctl_info info = {
	.version = "fuzz", .command = "gateway", .name = "arcnat",
	.control = "", .uplink_kind = "packet", .uplink = "r0",
	.gw_addr = 0x0102000a, .gw_plen = 24, .max_flows = 1024,
	.clients_max = 16,
};

static struct ctl_dns_page dns;
static bool capturing;

static int fz_lease_delete(void *ctx, const uint8_t *mac, uint32_t ip,
			   struct dhcp_lease_info *out, uint64_t *now)
{
	(void)ctx;
	*out = (struct dhcp_lease_info){ .ip = 0x6402000a, .state = 3,
		.expires = 5000000000ull, .name = "guest" };
	*now = 1000000000ull;
	return mac || ip == 0x6402000a ? 0 : -ENOENT;
}

static int fz_dns(void *ctx, uint32_t cursor, uint32_t limit,
		  const struct ctl_dns_page **out)
{
	(void)ctx;
	(void)cursor;
	(void)limit;
	*out = &dns;
	return 0;
}

static int fz_flush(void *ctx, uint32_t *n)
{
	(void)ctx;
	*n = dns.n;
	return 0;
}

static int fz_pcap_start(void *ctx, const char *path,
			 const struct dp_pcap_filter *f, uint64_t max)
{
	(void)ctx;
	(void)f;
	if (path[0] != '/' || max < 24)
		abort();	/* the params' checks let it through */
	if (capturing)
		return -EALREADY;
	capturing = true;
	return 0;
}

static int fz_pcap_stop(void *ctx, char *path, size_t cap,
			struct dp_pcap_stats *st)
{
	(void)ctx;
	if (!capturing)
		return -ENOENT;
	capturing = false;
	snprintf(path, cap, "/tmp/x.pcap");
	*st = (struct dp_pcap_stats){ .packets = 1 };
	return 0;
}

static const struct ctl_svc_ops svc = {
	.lease_delete = fz_lease_delete, .dns_cache = fz_dns,
	.dns_flush = fz_flush, .pcap_start = fz_pcap_start,
	.pcap_stop = fz_pcap_stop,
};

static const struct ctl_env env = {
	.info = &info, .be = { .ctx = NULL, .snapshot = fz_snapshot,
			       .flows = fz_flows, .flow_delete = fz_flow_delete,
			       .leases = fz_leases },
	.rt = { .run = fz_rt_run, .gw_addr = 0x0102000a, .gw_plen = 24,
		.dns = true },
	.svc = &svc,
};

static void fz_check(size_t n)
{
	struct json_object *o;

	if (n == 0 || n > CTL_REPLY_MAX || reply[n - 1] != '\n' ||
	    memchr(reply, '\n', n - 1) || memchr(reply, 0, n))
		abort();
	reply[n - 1] = 0;
	o = json_tokener_parse(reply);
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "id", NULL) ||
	    json_object_object_get_ex(o, "result", NULL) ==
	    json_object_object_get_ex(o, "error", NULL))
		abort();
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	const char *end = (const char *)data + size;

	if (size == 0)
		return 0;
	log_set_level(LOG_LEVEL_ERR);	/* quiet, and a known start */
	if (!fz_nat) {
		struct nat_config nc = { .ext_addrs = { 0x026433c6 },
					 .n_ext_addrs = 1, .max_flows = 64,
					 .seed = 1 };

		if (nat_create(&fz_nat, &nc))
			abort();
	}
	{	/* no forward left from the last input: no flow holds one */
		unsigned int n = nat_list_forwards(fz_nat, fz_res.fwd,
						   NAT_MAX_FORWARDS);

		for (unsigned int i = 0; i < n; i++)
			if (nat_remove_forward(fz_nat, &fz_res.fwd[i]))
				abort();
		if (nat_get_stats(fz_nat)->mappings)
			abort();
		fz_n_guests = 0;
	}
	snap.text = text;
	snap.len = 0;
	snap.n_ports = 1;
	snprintf(snap.port[0].name, sizeof(snap.port[0].name), "tap0");
	if (data[0] & 1) {
		const char *nul = memchr(p, 0, (size_t)(end - p));
		size_t n = (size_t)((nul ? nul : end) - p);

		if (n > sizeof(text))
			n = sizeof(text);
		memcpy(text, p, n);
		snap.len = n;
		p = nul ? nul + 1 : end;
	}
	dns.n = 0;
	dns.used = 0;
	dns.next = UINT32_MAX;
	capturing = false;
	if ((data[0] & 2) && end - p >= 2) {
		size_t n = (size_t)((uint8_t)p[0] << 8 | (uint8_t)p[1]);

		p += 2;
		if (n > (size_t)(end - p))
			n = (size_t)(end - p);
		memcpy(dns.bytes, p, n);
		dns.used = (uint32_t)n;
		dns.e[0] = (struct ctl_dns_rec){ .info = { .qtype = 1,
			.qclass = 1, .ttl_left = 30, .len = (uint32_t)n } };
		dns.n = 1;
		p += n;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);

		fz_check(ctl_dispatch(&env, p, n > CTL_REQUEST_MAX ?
				      CTL_REQUEST_MAX : n, reply, sizeof(reply)));
		p = nl ? nl + 1 : end;
	}
	log_set_level(LOG_LEVEL_ERR);
	return 0;
}
