// SPDX-License-Identifier: MIT
/*
 * test_ctl_info.c - leases, the DNS cache and capture on the control
 * socket (ctl/m_info, ctl/info_wk's worker side, and what they use in
 * svc/dhcp, svc/dns_cache, svc/dns_msg and dp/pcap), without a socket or
 * a worker: a real DHCP server (its leases loaded from a lease file) and a
 * real cache behind operations that call the worker's functions directly.
 * A deleted lease is gone from the table `leases` lists and from the next
 * lease file; cached answers are
 * listed with their names, types, TTLs and data, then flushed; a capture's
 * filter keeps only what it names and its bound holds; every bad param is
 * -32602 and every state error has its code.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_exit.h"
#include "core/clock.h"
#include "core/log.h"
#include "ctl/info_wk.h"
#include "ctl/leases.h"
#include "ctl/m_info.h"
#include "ctl/methods.h"
#include "ctl/proto.h"
#include "svc/dhcp.h"
#include "svc/dns_cache.h"
#include "svc/dns_msg.h"
#include "unit/dns_wire.h"

#include "memport.h"
#include "worker_env.h"

#define SEC(s)	((uint64_t)(s) * NSEC_PER_SEC)
#define T0	SEC(1000)
#define WALL0	1700000000
#define N_DYN	300	/* leases in the lease file: more than a page */

/* The fake gateway: a real server and cache, and what a call returns. */
struct fake {
	struct dhcp *d;
	struct dns_cache *c;
	uint64_t now;
	int err;			/* every operation fails so, if set */
	int pcap_err;			/* pcap_start fails so, if set */
	bool running;
	char path[256];
	struct dp_pcap_filter f;
	uint64_t max;
	struct ctl_dns_page *dp;
};

static struct fake fk;

static int fk_lease_delete(void *ctx, const uint8_t *mac, uint32_t ip,
			   struct dhcp_lease_info *out, uint64_t *now)
{
	struct fake *f = ctx;

	if (f->err)
		return f->err;
	*now = f->now;
	return dhcp_lease_delete(f->d, mac, ip, f->now, out);
}

static int fk_dns(void *ctx, uint32_t cursor, uint32_t limit,
		  const struct ctl_dns_page **out)
{
	struct fake *f = ctx;

	if (f->err)
		return f->err;
	ctl_iw_fill_dns(f->c, cursor, limit, f->now, f->dp);
	*out = f->dp;
	return 0;
}

static int fk_flush(void *ctx, uint32_t *n)
{
	struct fake *f = ctx;

	if (f->err)
		return f->err;
	*n = dns_cache_flush(f->c);
	return 0;
}

static int fk_pcap_start(void *ctx, const char *path,
			 const struct dp_pcap_filter *flt, uint64_t max)
{
	struct fake *f = ctx;

	if (f->err || f->pcap_err)
		return f->err ? f->err : f->pcap_err;
	if (f->running)
		return -EALREADY;
	f->running = true;
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->f = *flt;
	f->max = max;
	return 0;
}

static int fk_pcap_stop(void *ctx, char *path, size_t cap,
			struct dp_pcap_stats *st)
{
	struct fake *f = ctx;

	if (f->err)
		return f->err;
	if (!f->running)
		return -ENOENT;
	f->running = false;
	snprintf(path, cap, "%s", f->path);
	*st = (struct dp_pcap_stats){ .packets = 3, .bytes = 300, .filtered = 7 };
	return 0;
}

static const struct ctl_svc_ops fk_ops = {
	.lease_delete = fk_lease_delete,
	.dns_cache = fk_dns, .dns_flush = fk_flush,
	.pcap_start = fk_pcap_start, .pcap_stop = fk_pcap_stop,
};

static struct ctl_info info = { .version = "9.9.9", .command = "gateway",
				.name = "arcnat", .control = "",
				.uplink_kind = "packet", .uplink = "r0" };
static struct ctl_env env = { .info = &info, .svc = &fk_ops, .svc_ctx = &fk };
static char *reply;
static char dir[] = "/tmp/test_ctl_info.XXXXXX";
static char lease_path[128];

static const struct siphash_key test_key = {
	{ 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL }
};

static void quiet_sink(void *ctx, enum log_level lv, const char *msg)
{
	(void)ctx;
	(void)lv;
	(void)msg;
}

/* Pool 10.0.2.2-10.0.2.254 and 10.0.3.x..: a /22 for N_DYN leases. */
static void start_dhcp(void)
{
	static const struct dhcp_host host = {
		.mac = { 0x52, 0x54, 0, 0xaa, 0xbb, 0xcc }, .ip = 0, .name = "db",
	};
	static struct dhcp_host hosts[1];
	struct dhcp_cfg cfg = {
		.server = htonl(0x0a000001), .plen = 22,
		.server_mac = { 2, 0, 0, 0, 0, 1 },
		.lease_file = lease_path, .hosts = hosts, .n_hosts = 1,
	};
	FILE *f = fopen(lease_path, "w");

	assert_non_null(f);
	for (unsigned int i = 0; i < N_DYN; i++)
		fprintf(f, "%d 52:54:00:00:%02x:%02x 10.0.%u.%u %s *\n",
			WALL0 + 100 + (int)i, i >> 8, i & 0xff, i / 200 + 1,
			i % 200 + 10, i == 7 ? "seven" : "*");
	fclose(f);
	hosts[0] = host;
	hosts[0].ip = htonl(0x0a000305);	/* 10.0.3.5 */
	assert_int_equal(dhcp_create(&fk.d, &cfg, T0, WALL0), 0);
	assert_int_equal(dhcp_get_stats(fk.d)->file_loaded, N_DYN);
}

static int setup(void **state)
{
	struct dns_cache_cfg cc = { .max_entries = 1024, .key = &test_key };

	(void)state;
	log_set_sink(quiet_sink, NULL);
	reply = malloc(CTL_REPLY_MAX);
	fk.dp = malloc(sizeof(*fk.dp));
	if (!reply || !fk.dp || !mkdtemp(dir))
		return -1;
	snprintf(lease_path, sizeof(lease_path), "%s/leases", dir);
	return dns_cache_create(&fk.c, &cc);
}

static int teardown(void **state)
{
	(void)state;
	dns_cache_destroy(fk.c);
	unlink(lease_path);
	rmdir(dir);
	free(fk.dp);
	free(reply);
	return 0;
}

static int each_setup(void **state)
{
	(void)state;
	fk.d = NULL;
	fk.now = T0;
	fk.err = fk.pcap_err = 0;
	fk.running = false;
	dns_cache_flush(fk.c);
	return 0;
}

static int each_teardown(void **state)
{
	(void)state;
	dhcp_destroy(fk.d);
	fk.d = NULL;
	return 0;
}

/* Dispatch @req: one line, one JSON object, exactly one of result and
 * error. Return: the parsed reply. */
static struct json_object *call(const char *req)
{
	size_t n = ctl_dispatch(&env, req, strlen(req), reply, CTL_REPLY_MAX);
	struct json_object *o;

	assert_true(n > 1 && n <= CTL_REPLY_MAX);
	assert_int_equal(reply[n - 1], '\n');
	assert_null(memchr(reply, '\n', n - 1));
	reply[n - 1] = 0;
	o = json_tokener_parse(reply);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "result", NULL) !=
		    json_object_object_get_ex(o, "error", NULL));
	return o;
}

static int code_of(const char *req)
{
	struct json_object *o = call(req), *e, *c;
	int code = 0;

	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		code = json_object_get_int(c);
	json_object_put(o);
	return code;
}

static struct json_object *result_of(struct json_object *o)
{
	struct json_object *r = NULL;

	assert_true(json_object_object_get_ex(o, "result", &r));
	return r;
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

/* Bound leases in the table (ctl/leases.h's pages, as `leases` lists
 * them); whether @mac has one; whether the static host is listed. */
static unsigned int bound_leases(const char *mac, bool *has_mac)
{
	struct ctl_lease_page *pg = malloc(sizeof(*pg));
	uint32_t cursor = 0;
	unsigned int n = 0, pages = 0;
	uint8_t m[6];

	assert_non_null(pg);
	assert_int_equal(sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0],
				&m[1], &m[2], &m[3], &m[4], &m[5]), 6);
	*has_mac = false;
	do {
		ctl_leases_scan(dhcp_get_leases(fk.d), cursor, fk.now, pg);
		for (unsigned int i = 0; i < pg->n; i++) {
			if (pg->lease[i].state != DHCP_LS_BOUND)
				continue;
			n++;
			*has_mac |= !memcmp(pg->lease[i].mac, m, 6);
		}
		cursor = pg->next;
	} while (cursor != CTL_LEASES_END && ++pages < 1000);
	free(pg);
	return n;
}

static void a_deleted_lease_is_gone(void **state)
{
	static char buf[1 << 20];
	struct dhcp_lease_info l;
	struct json_object *o, *d;
	bool seven;
	int n;

	(void)state;
	start_dhcp();
	/* The file loaded as it is: nothing to rewrite yet. */
	assert_int_equal(dhcp_snapshot(fk.d, T0, WALL0, buf, sizeof(buf)), 0);
	assert_int_equal(bound_leases("52:54:00:00:00:07", &seven), N_DYN);
	assert_true(seven);
	o = call("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
		 "{\"mac\":\"52:54:00:00:00:07\"}}");
	assert_true(json_object_object_get_ex(result_of(o), "deleted", &d));
	assert_string_equal(str_of(d, "mac"), "52:54:00:00:00:07");
	assert_string_equal(str_of(d, "ip"), "10.0.1.17");
	assert_string_equal(str_of(d, "name"), "seven");
	assert_string_equal(str_of(d, "state"), "bound");
	assert_string_equal(str_of(d, "static"), "false");
	assert_true(json_object_get_double(json_object_object_get(d,
						"expires_in")) == 107.0);
	json_object_put(o);
	assert_int_equal(bound_leases("52:54:00:00:00:07", &seven), N_DYN - 1);
	assert_false(seven);
	/* The lease file is rewritten without it. */
	n = dhcp_snapshot(fk.d, T0, WALL0, buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = 0;
	assert_null(strstr(buf, "10.0.1.17 "));
	assert_non_null(strstr(buf, "10.0.1.18 "));
	/* By address; twice is no lease. */
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1.18\"}}"), 0);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1.18\"}}"), CTL_E_NO_LEASE);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"mac\":\"52:54:00:00:00:07\"}}"),
			 CTL_E_NO_LEASE);
	assert_int_equal(bound_leases("52:54:00:00:00:08", &seven), N_DYN - 2);
	assert_false(seven);
	/* The address is the pool's again, for anyone: deleting it by
	 * the worker's own call says so too. */
	assert_int_equal(dhcp_lease_delete(fk.d, NULL, htonl(0x0a000112), T0, &l),
			 -ENOENT);
	/* Bad params. */
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\"}"),
			 CTL_E_PARAMS);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"mac\":\"52:54:00:00:00:09\",\"address\":"
				 "\"10.0.1.20\"}}"), CTL_E_PARAMS);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"mac\":\"52:54:00:00:00\"}}"), CTL_E_PARAMS);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1\"}}"), CTL_E_PARAMS);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1.20\\u0000x\"}}"),
			 CTL_E_PARAMS);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":7}}"), CTL_E_PARAMS);
}

static void services_off_and_busy(void **state)
{
	(void)state;
	fk.err = -ETIMEDOUT;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1.20\"}}"), CTL_E_BUSY);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-cache\"}"),
			 CTL_E_BUSY);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-flush\"}"),
			 CTL_E_BUSY);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-stop\"}"),
			 CTL_E_BUSY);
	fk.err = -ENODEV;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-cache\"}"),
			 CTL_E_NO_SERVICE);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"lease-delete\",\"params\":"
				 "{\"address\":\"10.0.1.20\"}}"), CTL_E_NO_SERVICE);
	fk.err = -EIO;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-flush\"}"),
			 CTL_E_INTERNAL);
	/* No operations at all. */
	env.svc = NULL;
	fk.err = 0;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-flush\"}"),
			 CTL_E_NO_SERVICE);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-stop\"}"),
			 CTL_E_NO_SERVICE);
	env.svc = &fk_ops;
}

/* A positive answer: @name CNAME www.@name, then an A and an AAAA. */
static void put_answer(const char *name, uint32_t ttl, uint32_t addr)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct wire w;
	struct dns_msg m;
	size_t cn;

	w_reset(&w);
	w_hdr(&w, 0x1111, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 3, 0, 0);
	w_question(&w, name, DNS_TYPE_A, DNS_CLASS_IN);
	w_ptr(&w, DNS_HLEN);
	cn = w.n + 10;
	w_rr_fixed(&w, DNS_TYPE_CNAME, DNS_CLASS_IN, ttl, 6);
	w_u8(&w, 3);
	w_bytes(&w, "www", 3);
	w_ptr(&w, DNS_HLEN);
	w_ptr(&w, (unsigned int)cn);
	w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, ttl, 4);
	w_u32(&w, addr);
	w_ptr(&w, (unsigned int)cn);
	w_rr_fixed(&w, DNS_TYPE_AAAA, DNS_CLASS_IN, ttl, 16);
	w_bytes(&w, v6, 16);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(dns_cache_put(fk.c, w.b, w.n, &m, fk.now), 0);
}

static struct json_object *find_entry(struct json_object *arr, const char *name)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		if (!strcmp(str_of(e, "name"), name))
			return e;
	}
	return NULL;
}

static void dns_cache_is_listed_and_flushed(void **state)
{
	struct json_object *o, *r, *arr, *e, *an, *a;
	char name[64];
	int64_t cursor = 0;
	unsigned int seen = 0;

	(void)state;
	put_answer("example.com", 300, 0x0a000001);
	for (unsigned int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "host%u.example.org", i);
		put_answer(name, 600, 0x0a000100 + i);
	}
	fk.now = T0 + SEC(100);
	o = call("{\"id\":1,\"method\":\"dns-cache\"}");
	r = result_of(o);
	assert_true(json_object_object_get_ex(r, "entries", &arr));
	assert_int_equal(json_object_array_length(arr), 41);
	e = find_entry(arr, "example.com.");
	assert_non_null(e);
	assert_string_equal(str_of(e, "type"), "A");
	assert_string_equal(str_of(e, "ttl"), "200");	/* 300 - 100 */
	assert_string_equal(str_of(e, "negative"), "false");
	assert_true(json_object_object_get_ex(e, "answers", &an));
	assert_int_equal(json_object_array_length(an), 3);
	a = json_object_array_get_idx(an, 0);
	assert_string_equal(str_of(a, "name"), "example.com.");
	assert_string_equal(str_of(a, "type"), "CNAME");
	assert_string_equal(str_of(a, "data"), "www.example.com.");
	assert_string_equal(str_of(a, "ttl"), "200");
	a = json_object_array_get_idx(an, 1);
	assert_string_equal(str_of(a, "name"), "www.example.com.");
	assert_string_equal(str_of(a, "data"), "10.0.0.1");
	a = json_object_array_get_idx(an, 2);
	assert_string_equal(str_of(a, "type"), "AAAA");
	assert_string_equal(str_of(a, "data"), "2001:db8::1");
	json_object_put(o);
	/* Paged by 3: each entry once. */
	for (unsigned int pages = 0; pages < 100; pages++) {
		struct json_object *next;
		char req[128];

		snprintf(req, sizeof(req), "{\"id\":1,\"method\":\"dns-cache\","
			 "\"params\":{\"cursor\":%lld,\"limit\":3}}",
			 (long long)cursor);
		o = call(req);
		r = result_of(o);
		json_object_object_get_ex(r, "entries", &arr);
		assert_true(json_object_array_length(arr) <= 3);
		seen += (unsigned int)json_object_array_length(arr);
		json_object_object_get_ex(r, "next", &next);
		if (json_object_is_type(next, json_type_null)) {
			json_object_put(o);
			break;
		}
		cursor = json_object_get_int64(next);
		json_object_put(o);
	}
	assert_int_equal(seen, 41);
	/* Listing is no lookup: no hit counted. */
	assert_int_equal(dns_cache_get_stats(fk.c)->hits, 0);
	/* Expired entries are not listed. */
	fk.now = T0 + SEC(400);
	o = call("{\"id\":1,\"method\":\"dns-cache\"}");
	json_object_object_get_ex(result_of(o), "entries", &arr);
	assert_int_equal(json_object_array_length(arr), 40);
	assert_null(find_entry(arr, "example.com."));
	json_object_put(o);
	/* Flush: all gone; a second flush drops nothing. */
	o = call("{\"id\":1,\"method\":\"dns-flush\"}");
	assert_string_equal(str_of(result_of(o), "flushed"), "41");
	json_object_put(o);
	assert_int_equal(dns_cache_verify(fk.c), 0);
	assert_int_equal(dns_cache_get_stats(fk.c)->entries, 0);
	o = call("{\"id\":1,\"method\":\"dns-cache\"}");
	json_object_object_get_ex(result_of(o), "entries", &arr);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(o);
	o = call("{\"id\":1,\"method\":\"dns-flush\"}");
	assert_string_equal(str_of(result_of(o), "flushed"), "0");
	json_object_put(o);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"dns-flush\",\"params\":"
				 "{\"all\":true}}"), CTL_E_PARAMS);
}

/* A page of big answers stops at its bytes and goes on from there. */
static void dns_pages_are_bounded_by_bytes(void **state)
{
	struct wire *w = malloc(sizeof(*w));
	struct dns_msg m;
	char name[64];
	uint32_t cursor = 0, total = 0, pages = 0;

	(void)state;
	assert_non_null(w);
	for (unsigned int i = 0; i < 60; i++) {
		/* ~8 KiB of TXT: 33 fit in a page's 256 KiB. */
		w_reset(w);
		snprintf(name, sizeof(name), "big%u.example", i);
		w_hdr(w, 1, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 1, 0, 0);
		w_question(w, name, DNS_TYPE_TXT, DNS_CLASS_IN);
		w_ptr(w, DNS_HLEN);
		w_rr_fixed(w, DNS_TYPE_TXT, DNS_CLASS_IN, 60, 32 * 250);
		for (unsigned int k = 0; k < 32; k++) {
			uint8_t s[249];

			memset(s, 'a' + (int)(k % 26), sizeof(s));
			w_u8(w, sizeof(s));
			w_bytes(w, s, sizeof(s));
		}
		assert_int_equal(dns_msg_parse(w->b, w->n, &m), 0);
		assert_int_equal(dns_cache_put(fk.c, w->b, w->n, &m, fk.now), 0);
	}
	do {
		ctl_iw_fill_dns(fk.c, cursor, CTL_DNS_PAGE, fk.now, fk.dp);
		assert_true(fk.dp->used <= CTL_DNS_PAGE_BYTES);
		assert_true(fk.dp->n > 0);
		total += fk.dp->n;
		cursor = fk.dp->next;
		pages++;
	} while (cursor != UINT32_MAX && pages < 10);
	assert_int_equal(total, 60);
	assert_int_equal(pages, 2);
	free(w);
}

static void names_are_escaped(void **state)
{
	static const uint8_t odd[] = { 3, 'a', '.', 'b', 2, 0x00, '\\', 0 };
	static const uint8_t plain[] = { 3, 'w', 'w', 'w', 1, '_', 0 };
	uint8_t max[DNS_NAME_MAX];
	char out[4 * DNS_NAME_MAX + 1], small[6];

	(void)state;
	ctl_dns_name_text(odd, sizeof(odd), out, sizeof(out));
	assert_string_equal(out, "a\\.b.\\000\\\\.");
	ctl_dns_name_text(plain, sizeof(plain), out, sizeof(out));
	assert_string_equal(out, "www._.");
	ctl_dns_name_text((const uint8_t *)"", 1, out, sizeof(out));
	assert_string_equal(out, ".");
	/* The longest name (63 + 63 + 63 + 61 bytes of labels), every byte
	 * escaped, fits the documented size. */
	memset(max, 0xff, sizeof(max));
	max[0] = max[64] = max[128] = 63;
	max[192] = 61;
	max[254] = 0;
	ctl_dns_name_text(max, sizeof(max), out, sizeof(out));
	assert_int_equal(strlen(out), 250 * 4 + 4);
	/* A small buffer is cut, never overrun. */
	ctl_dns_name_text(plain, sizeof(plain), small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
}

/* Frames: Ethernet (optionally tagged) or bare IPv4/UDP or TCP. */
static size_t mk_frame(uint8_t *b, bool l3, bool vlan, uint8_t proto,
		       uint32_t src, uint32_t dst, uint16_t sport,
		       uint16_t dport, uint16_t frag)
{
	size_t o = 0;

	memset(b, 0, 128);
	if (!l3) {
		o = 12;
		if (vlan) {
			b[o++] = 0x81;
			b[o++] = 0x00;
			o += 2;
		}
		b[o++] = 0x08;
		b[o++] = 0x00;
	}
	b[o] = 0x45;
	b[o + 6] = (uint8_t)(frag >> 8);
	b[o + 7] = (uint8_t)frag;
	b[o + 9] = proto;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(b + o + 12, &src, 4);
	memcpy(b + o + 16, &dst, 4);
	b[o + 20] = (uint8_t)(sport >> 8);
	b[o + 21] = (uint8_t)sport;
	b[o + 22] = (uint8_t)(dport >> 8);
	b[o + 23] = (uint8_t)dport;
	return o + 20 + 20;
}

static void capture_filter_matches(void **state)
{
	struct dp_pcap_filter any = { 0 }, port = { .port = 5001 },
			      udp = { .proto = 17 },
			      host = { .host = htonl(0x0a000205) },
			      all = { .proto = 6, .port = 5001,
				      .host = htonl(0x0a000205) };
	uint8_t b[128], v6[60] = { 0x60 };
	size_t n;

	(void)state;
	n = mk_frame(b, false, false, 6, 0x0a000205, 0xc6336401, 40000, 5001, 0);
	assert_true(dp_pcap_match(&any, b, n, false));
	assert_true(dp_pcap_match(&port, b, n, false));
	assert_false(dp_pcap_match(&udp, b, n, false));
	assert_true(dp_pcap_match(&host, b, n, false));
	assert_true(dp_pcap_match(&all, b, n, false));
	/* Either end. */
	n = mk_frame(b, true, false, 6, 0xc6336401, 0x0a000205, 5001, 40000, 0);
	assert_true(dp_pcap_match(&all, b, n, true));
	n = mk_frame(b, false, true, 17, 0x0a000206, 0x0a000207, 5001, 53, 0);
	assert_true(dp_pcap_match(&port, b, n, false));
	assert_true(dp_pcap_match(&udp, b, n, false));
	assert_false(dp_pcap_match(&host, b, n, false));
	assert_false(dp_pcap_match(&all, b, n, false));
	/* Other ports, ICMP (no ports), a later fragment. */
	n = mk_frame(b, false, false, 6, 0x0a000205, 0xc6336401, 40000, 5002, 0);
	assert_false(dp_pcap_match(&port, b, n, false));
	n = mk_frame(b, false, false, 1, 0x0a000205, 0xc6336401, 5001, 5001, 0);
	assert_false(dp_pcap_match(&port, b, n, false));
	n = mk_frame(b, false, false, 17, 0x0a000205, 0xc6336401, 5001, 5001, 3);
	assert_false(dp_pcap_match(&port, b, n, false));
	assert_true(dp_pcap_match(&udp, b, n, false));
	/* Short and odd frames: no match, no read past the end. */
	for (size_t k = 0; k < n; k++)
		assert_false(dp_pcap_match(&port, b, k, false));
	assert_false(dp_pcap_match(&any, b, 0, true));
	b[14] = 0x4f;		/* IHL 60 > what is there */
	assert_false(dp_pcap_match(&any, b, 40, false));
	/* IPv6: protocol and port; never a host (IPv4 only). */
	v6[6] = 17;
	v6[40] = 0x13;
	v6[41] = 0x89;		/* 5001 */
	assert_true(dp_pcap_match(&port, v6, sizeof(v6), true));
	assert_true(dp_pcap_match(&udp, v6, sizeof(v6), true));
	assert_false(dp_pcap_match(&host, v6, sizeof(v6), true));
	assert_false(dp_pcap_match(&port, v6, 43, true));
}

static void capture_file_is_filtered_and_bounded(void **state)
{
	struct dp_pcap_filter port = { .port = 5001 };
	struct dp_pcap_stats st;
	struct dp_pcap *pc;
	char path[160];
	struct stat sb;
	uint8_t b[128];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/cap.pcap", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	/* 24 header bytes and ten 70-byte records: 16 of record header, 14
	 * of the Ethernet header a bare IP packet gets, 40 of packet. */
	assert_int_equal(dp_pcap_open_fd(&pc, fd, &port, 24 + 10 * 70), 0);
	for (unsigned int i = 0; i < 30; i++) {
		size_t n = mk_frame(b, true, false, 6, 0x0a000205, 0xc6336401, 40000,
			     i % 2 ? 5001 : 5002, 0);
		dp_pcap_write(pc, SEC(WALL0), b, n, true);
	}
	dp_pcap_flush(pc);
	dp_pcap_get_stats(pc, &st);
	/* 15 match: 10 fit, 5 over; 15 filtered out. */
	assert_int_equal(st.packets, 10);
	assert_int_equal(st.filtered, 15);
	assert_int_equal(st.over, 5);
	assert_int_equal(st.bytes, 24 + 10 * 70);
	assert_false(st.failed);
	dp_pcap_close(pc);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 24 + 10 * 70);
	assert_int_equal(sb.st_mode & 0777, 0600);
	unlink(path);
	/* A bound below the header is refused, the fd closed. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_int_equal(dp_pcap_open_fd(&pc, fd, NULL, 10), -EINVAL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	unlink(path);
}

static void capture_params_and_states(void **state)
{
	struct json_object *o;

	(void)state;
	o = call("{\"id\":1,\"method\":\"pcap-start\",\"params\":{\"file\":"
		 "\"/tmp/x.pcap\",\"port\":5001,\"protocol\":\"tcp\",\"host\":"
		 "\"10.0.2.5\",\"max_bytes\":1000}}");
	assert_string_equal(str_of(result_of(o), "file"), "/tmp/x.pcap");
	json_object_put(o);
	assert_int_equal(fk.f.port, 5001);
	assert_int_equal(fk.f.proto, 6);
	assert_int_equal(fk.f.host, htonl(0x0a000205));
	assert_int_equal(fk.max, 1000);
	/* A second start while one runs. */
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-start\",\"params\":"
				 "{\"file\":\"/tmp/y.pcap\"}}"), CTL_E_STATE);
	o = call("{\"id\":1,\"method\":\"pcap-stop\"}");
	assert_string_equal(str_of(result_of(o), "file"), "/tmp/x.pcap");
	assert_string_equal(str_of(result_of(o), "packets"), "3");
	assert_string_equal(str_of(result_of(o), "filtered"), "7");
	json_object_put(o);
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-stop\"}"),
			 CTL_E_STATE);
	/* Defaults: every packet, DP_PCAP_DEFAULT_MAX; a numbered protocol. */
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-start\",\"params\":"
				 "{\"file\":\"/tmp/y.pcap\",\"protocol\":47}}"), 0);
	assert_int_equal(fk.f.proto, 47);
	assert_int_equal(fk.f.port, 0);
	assert_int_equal(fk.f.host, 0);
	assert_true(fk.max == DP_PCAP_DEFAULT_MAX);
	fk.running = false;
	/* The file's errors. */
	fk.pcap_err = -EEXIST;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-start\",\"params\":"
				 "{\"file\":\"/tmp/y.pcap\"}}"), CTL_E_FILE);
	fk.pcap_err = -EACCES;
	assert_int_equal(code_of("{\"id\":1,\"method\":\"pcap-start\",\"params\":"
				 "{\"file\":\"/tmp/y.pcap\"}}"), CTL_E_FILE);
	fk.pcap_err = 0;
	/* Bad params. */
	static const char *const bad[] = {
		"{}", "{\"file\":\"x.pcap\"}", "{\"file\":7}",
		"{\"file\":\"/a\\u0000b\"}",
		"{\"file\":\"/a\",\"port\":0}", "{\"file\":\"/a\",\"port\":65536}",
		"{\"file\":\"/a\",\"port\":\"80\"}",
		"{\"file\":\"/a\",\"protocol\":\"gre\"}",
		"{\"file\":\"/a\",\"protocol\":0}",
		"{\"file\":\"/a\",\"protocol\":256}",
		"{\"file\":\"/a\",\"host\":\"::1\"}",
		"{\"file\":\"/a\",\"host\":\"0.0.0.0\"}",
		"{\"file\":\"/a\",\"max_bytes\":23}",
		"{\"file\":\"/a\",\"max_bytes\":2000000000000}",
		"{\"file\":\"/a\",\"filter\":\"port 80\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[256];

		snprintf(req, sizeof(req), "{\"id\":1,\"method\":\"pcap-start\","
			 "\"params\":%s}", bad[i]);
		assert_int_equal(code_of(req), CTL_E_PARAMS);
	}
	assert_false(fk.running);
}

/* ctl/info_wk's calls on a real worker on its thread (worker_env.h): a
 * capture of an echo request and its reply; a second start refused
 * without a file; an existing file; no DNS forwarder; a stopped worker:
 * the start times out, further calls are refused until the worker has run
 * it, and then the capture it started runs and stops. */
static void capture_on_a_real_worker(void **state)
{
	struct dp_pcap_filter icmp = { .proto = IPPROTO_ICMP };
	struct dp_pcap_stats st;
	struct env e = { 0 };
	struct ctl_iw iw = { 0 };
	char path[160], path2[160], path3[160], got[256];
	uint8_t fr[MEMPORT_FRAME];
	struct stat sb;
	uint32_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/w1.pcap", dir);
	snprintf(path2, sizeof(path2), "%s/w2.pcap", dir);
	snprintf(path3, sizeof(path3), "%s/w3.pcap", dir);
	assert_int_equal(memport_init(&e.in, 0, 0), 0);
	assert_int_equal(memport_init(&e.out, DP_PORT_L3 | DP_PORT_VNET, 0), 0);
	env_worker_create(&e, htonl(0x0a000209));
	env_resume(&e);
	assert_int_equal(ctl_iw_init(&iw, e.w), 0);
	/* This worker has no DNS forwarder, and no capture yet. */
	assert_int_equal(ctl_iw_ops.dns_flush(&iw, &n), -ENODEV);
	assert_int_equal(ctl_iw_ops.pcap_stop(&iw, got, sizeof(got), &st),
			 -ENOENT);
	assert_int_equal(ctl_iw_ops.pcap_start(&iw, path, &icmp, 1 << 20), 0);
	assert_int_equal(ctl_iw_ops.pcap_start(&iw, path2, &icmp, 1 << 20),
			 -EALREADY);
	assert_int_equal(access(path2, F_OK), -1);
	assert_int_equal(memport_push(&e.in, fr, echo_frame(fr, 1), NULL), 0);
	assert_true(memport_wait(&e.in, 1, NULL));
	assert_int_equal(ctl_iw_ops.pcap_stop(&iw, got, sizeof(got), &st), 0);
	assert_string_equal(got, path);
	assert_int_equal(st.packets, 2);	/* the request and the reply */
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, st.bytes);
	assert_int_equal(ctl_iw_ops.pcap_start(&iw, path, &icmp, 0), -EEXIST);
	/* A stopped worker. */
	env_pause(&e);
	assert_int_equal(ctl_iw_ops.pcap_start(&iw, path3, &icmp, 1 << 20),
			 -ETIMEDOUT);
	assert_int_equal(ctl_iw_ops.dns_flush(&iw, &n), -EBUSY);
	assert_int_equal(ctl_iw_ops.pcap_stop(&iw, got, sizeof(got), &st),
			 -EBUSY);
	env_resume(&e);
	assert_int_equal(memport_push(&e.in, fr, echo_frame(fr, 2), NULL), 0);
	assert_true(memport_wait(&e.in, 2, NULL));
	assert_int_equal(ctl_iw_ops.pcap_stop(&iw, got, sizeof(got), &st), 0);
	assert_string_equal(got, path3);
	assert_int_equal(st.packets, 2);
	env_pause(&e);
	ctl_iw_fini(&iw);
	dp_worker_destroy(e.w);
	nat_destroy(e.nat);
	memport_fini(&e.in);
	memport_fini(&e.out);
	unlink(path);
	unlink(path3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_deleted_lease_is_gone,
						each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(services_off_and_busy,
						each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(dns_cache_is_listed_and_flushed,
						each_setup, each_teardown),
		cmocka_unit_test_setup_teardown(dns_pages_are_bounded_by_bytes,
						each_setup, each_teardown),
		cmocka_unit_test(names_are_escaped),
		cmocka_unit_test(capture_filter_matches),
		cmocka_unit_test(capture_file_is_filtered_and_bounded),
		cmocka_unit_test_setup_teardown(capture_params_and_states,
						each_setup, each_teardown),
		cmocka_unit_test(capture_on_a_real_worker),
	};

	return TEST_RUN_GROUP(tests, setup, teardown);
}
