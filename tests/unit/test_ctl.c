// SPDX-License-Identifier: MIT
/*
 * test_ctl.c - the control socket's protocol and dispatcher, without a
 * socket or a worker: request framing and parsing (ids, methods, params,
 * depth, trailing bytes, the size bound), error replies that always fit
 * and always parse, the methods against a fixed snapshot (status, stats
 * grouped per port, log-level, metrics checked line by line), a worker
 * that does not answer, names and default paths, and the counter rules
 * (gauges, families, Prometheus lines).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_exit.h"
#include "core/log.h"
#include "ctl/counters.h"
#include "ctl/methods.h"
#include "ctl/proto.h"

static const char snap_text[] =
	"arcnat: statistics\n"
	"stat inside.rx_packets 5\n"
	"stat inside.tx_bytes 700\n"
	"stat outside.rx_packets 7\n"
	"stat ports.guests 2\n"
	"arcnat: port guest3 is stream:/tmp/s#1\n"
	"stat guest3.rx_packets 4\n"
	"arcnat: port guest2 is stream:/tmp/s (a listener: no frames)\n"
	"stat guest2.stream_guests 1\n"
	"stat outside.sock.udp_open 3\n"
	"stat drops.total 9\n"
	"stat drop.pkt.bad_len 9\n"
	"stat nat.flows 12\n"
	"stat nat.flows_out 40\n"
	"stat dp.burst_1 18446744073709551615\n"
	"stat bogus line\n"
	"stat bad.value 12x\n"
	"arcnat: end of statistics\n";

/* The fake backend: a fixed snapshot, or an error. */
struct fake {
	struct ctl_snapshot s;
	int err;
	unsigned int calls;
};

static int fake_snapshot(void *ctx, const struct ctl_snapshot **out)
{
	struct fake *f = ctx;

	f->calls++;
	if (f->err)
		return f->err;
	*out = &f->s;
	return 0;
}

static struct ctl_info info = {
	.version = "9.9.9", .command = "gateway", .name = "arcnat",
	.control = "/run/arcnat/arcnat.sock", .uplink_kind = "packet",
	.uplink = "r0", .gw_plen = 24, .ext_plen = 24, .max_flows = 1024,
	.clients_max = 16,
};

static struct fake fake;
static struct ctl_env env = { .info = &info,
			      .be = { .ctx = &fake, .snapshot = fake_snapshot } };
static char *reply;

static int setup(void **state)
{
	(void)state;
	info.gw_addr = htonl(0x0a000201);
	info.ext_addr = htonl(0xc6336402);
	memset(&fake, 0, sizeof(fake));
	fake.s.text = (char *)snap_text;
	fake.s.len = sizeof(snap_text) - 1;
	fake.s.n_ports = 2;
	fake.s.port[0] = (struct ctl_port_info){ .slot = 0, .uplink = true,
						 .mtu = 1500, .name = "r0" };
	fake.s.port[1] = (struct ctl_port_info){
		.slot = 1, .mtu = 1500, .name = "tap0",
		.mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } };
	reply = malloc(CTL_REPLY_MAX);
	return reply ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(reply);
	return 0;
}

/*
 * Dispatch @req; the reply must be one line, a JSON object with the id
 * echoed. Return: the parsed reply (json_object_put() it).
 */
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
	assert_true(json_object_is_type(o, json_type_object));
	assert_true(json_object_object_get_ex(o, "id", NULL));
	/* exactly one of result and error */
	assert_true(json_object_object_get_ex(o, "result", NULL) !=
		    json_object_object_get_ex(o, "error", NULL));
	return o;
}

/* The error code of @o, 0 for a result. */
static int err_code(struct json_object *o)
{
	struct json_object *e, *c;

	if (!json_object_object_get_ex(o, "error", &e))
		return 0;
	assert_true(json_object_object_get_ex(e, "code", &c));
	assert_true(json_object_object_get_ex(e, "message", NULL));
	return json_object_get_int(c);
}

static int call_code(const char *req)
{
	struct json_object *o = call(req);
	int c = err_code(o);

	json_object_put(o);
	return c;
}

static struct json_object *result(struct json_object *o)
{
	struct json_object *r;

	assert_true(json_object_object_get_ex(o, "result", &r));
	return r;
}

/* @path of dot-separated keys from @o, as a string ("" when missing). */
static const char *get(struct json_object *o, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
		if (!o || !json_object_object_get_ex(o, k, &o))
			return "";
	return json_object_get_string(o);
}

static void bad_requests_get_their_codes(void **state)
{
	char deep[200] = "";

	(void)state;
	assert_int_equal(call_code(""), CTL_E_PARSE);
	assert_int_equal(call_code("{"), CTL_E_PARSE);
	assert_int_equal(call_code("garbage"), CTL_E_PARSE);
	assert_int_equal(call_code("{\"method\":\"status\"} {}"), CTL_E_PARSE);
	assert_int_equal(call_code("{'method':'status'}"), CTL_E_PARSE);
	assert_int_equal(call_code("[1,2]"), CTL_E_REQUEST);
	assert_int_equal(call_code("\"status\""), CTL_E_REQUEST);
	assert_int_equal(call_code("{}"), CTL_E_REQUEST);
	assert_int_equal(call_code("{\"method\":5}"), CTL_E_REQUEST);
	assert_int_equal(call_code("{\"id\":{},\"method\":\"status\"}"),
			 CTL_E_REQUEST);
	assert_int_equal(call_code("{\"id\":[1],\"method\":\"status\"}"),
			 CTL_E_REQUEST);
	assert_int_equal(call_code("{\"method\":\"status\",\"params\":[]}"),
			 CTL_E_REQUEST);
	assert_int_equal(call_code("{\"method\":\"nope\"}"), CTL_E_METHOD);
	assert_int_equal(call_code("{\"method\":\"status\",\"params\":{\"x\":1}}"),
			 CTL_E_PARAMS);
	/* a NUL inside the line is not the end of it */
	{
		static const char nul[] = "{\"method\":\"status\"}\0xyz";

		size_t n = ctl_dispatch(&env, nul, sizeof(nul) - 1, reply,
					CTL_REPLY_MAX);
		assert_non_null(strstr(reply, "-32700"));
		assert_true(n > 0);
	}
	/* nesting over CTL_JSON_DEPTH */
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	assert_int_equal(call_code(deep), CTL_E_PARSE);
	/* whitespace around a request is fine, params null is none */
	assert_int_equal(call_code(" {\"method\":\"status\",\"params\":null}\r"), 0);
}

static void ids_are_echoed(void **state)
{
	struct json_object *o;

	(void)state;
	o = call("{\"id\":42,\"method\":\"log-level\"}");
	assert_string_equal(get(o, "id"), "42");
	json_object_put(o);
	o = call("{\"id\":\"abc\",\"method\":\"nope\"}");
	assert_string_equal(get(o, "id"), "abc");
	assert_int_equal(err_code(o), CTL_E_METHOD);
	json_object_put(o);
	o = call("{\"method\":\"log-level\"}");
	assert_true(json_object_is_type(json_object_object_get(o, "id"),
					json_type_null));
	json_object_put(o);
}

static void request_size_is_bounded(void **state)
{
	size_t n = CTL_REQUEST_MAX + 1;
	char *big = malloc(n);
	struct ctl_req r;
	const char *why;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', n);
	/* the request, then spaces up to the bound (its NUL made a space) */
	big[snprintf(big, n, "%s", "{\"method\":\"status\"}")] = ' ';
	assert_int_equal(ctl_proto_parse(&r, big, n, &why), CTL_E_TOO_LARGE);
	ctl_req_free(&r);
	/* one byte less is within the bound */
	assert_int_equal(ctl_proto_parse(&r, big, n - 1, &why), 0);
	assert_string_equal(r.method, "status");
	ctl_req_free(&r);
	free(big);
}

static void error_replies_always_fit(void **state)
{
	struct json_object *id = json_object_new_string("x");
	struct json_object *longid;
	char small[512], msg[1000], *longs;
	size_t n;

	(void)state;
	memset(msg, '"', sizeof(msg) - 1);	/* escapes double it */
	msg[sizeof(msg) - 1] = 0;
	n = ctl_proto_error(small, sizeof(small), id, CTL_E_INTERNAL, msg);
	assert_true(n > 0 && n <= sizeof(small));
	assert_int_equal(small[n - 1], '\n');
	small[n - 1] = 0;
	json_object_put(json_tokener_parse(small));
	assert_non_null(strstr(small, "\"id\":\"x\""));
	/* an id too long for the line is replaced by null */
	longs = malloc(4000);
	memset(longs, 'a', 3999);
	longs[3999] = 0;
	longid = json_object_new_string(longs);
	n = ctl_proto_error(small, sizeof(small), longid, CTL_E_METHOD, "m");
	assert_int_equal(small[n - 1], '\n');
	assert_non_null(strstr(small, "\"id\":null"));
	/* a result that does not fit is refused, not cut */
	assert_int_equal(ctl_proto_result(small, sizeof(small), NULL, longid),
			 -EMSGSIZE);
	json_object_put(longid);
	json_object_put(id);
	free(longs);
}

static void status_says_what_runs(void **state)
{
	struct json_object *o = call("{\"id\":1,\"method\":\"status\"}");
	struct json_object *r = result(o), *ports;

	(void)state;
	assert_string_equal(get(r, "version"), "9.9.9");
	assert_string_equal(get(r, "uplink/kind"), "packet");
	assert_string_equal(get(r, "uplink/name"), "r0");
	assert_string_equal(get(r, "addresses/gateway"), "10.0.2.1/24");
	assert_string_equal(get(r, "addresses/external"), "198.51.100.2/24");
	assert_string_equal(get(r, "limits/flows"), "1024");
	assert_string_equal(get(r, "limits/control_clients"), "16");
	assert_true(json_object_object_get_ex(r, "ports", &ports));
	assert_int_equal(json_object_array_length(ports), 2);
	assert_string_equal(get(json_object_array_get_idx(ports, 0), "role"),
			    "uplink");
	assert_string_equal(get(json_object_array_get_idx(ports, 1), "mac"),
			    "52:54:00:12:34:56");
	assert_string_equal(get(json_object_array_get_idx(ports, 1), "name"),
			    "tap0");
	json_object_put(o);
}

static void stats_group_ports(void **state)
{
	struct json_object *o = call("{\"method\":\"stats\"}");
	struct json_object *r = result(o);

	(void)state;
	assert_string_equal(get(r, "ports/inside/rx_packets"), "5");
	assert_string_equal(get(r, "ports/inside/tx_bytes"), "700");
	assert_string_equal(get(r, "ports/outside/rx_packets"), "7");
	assert_string_equal(get(r, "ports/outside/sock.udp_open"), "3");
	assert_string_equal(get(r, "ports/guest3/rx_packets"), "4");
	assert_string_equal(get(r, "ports/guest3/name"), "stream:/tmp/s#1");
	assert_string_equal(get(r, "ports/guest3/listener"), "false");
	assert_string_equal(get(r, "ports/guest2/name"), "stream:/tmp/s");
	assert_string_equal(get(r, "ports/guest2/listener"), "true");
	assert_string_equal(get(r, "counters/ports.guests"), "2");
	assert_string_equal(get(r, "counters/drop.pkt.bad_len"), "9");
	assert_string_equal(get(r, "counters/nat.flows"), "12");
	assert_string_equal(get(r, "counters/dp.burst_1"),
			    "18446744073709551615");
	/* lines that are not `stat NAME DIGITS` are not counters */
	assert_string_equal(get(r, "counters/bogus"), "");
	assert_string_equal(get(r, "counters/bad.value"), "");
	assert_string_equal(get(r, "truncated"), "false");
	json_object_put(o);
}

static void log_level_gets_and_sets(void **state)
{
	enum log_level was = log_get_level();
	struct json_object *o;

	(void)state;
	log_set_level(LOG_LEVEL_WARN);
	o = call("{\"method\":\"log-level\",\"params\":{\"level\":\"debug\"}}");
	assert_string_equal(get(result(o), "level"), "debug");
	assert_string_equal(get(result(o), "previous"), "warning");
	json_object_put(o);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	assert_int_equal(call_code("{\"method\":\"log-level\",\"params\":{\"level\":\"loud\"}}"),
			 CTL_E_PARAMS);
	assert_int_equal(call_code("{\"method\":\"log-level\",\"params\":{\"level\":3}}"),
			 CTL_E_PARAMS);
	assert_int_equal(log_get_level(), LOG_LEVEL_DEBUG);
	o = call("{\"method\":\"log-level\"}");
	assert_string_equal(get(result(o), "level"), "debug");
	json_object_put(o);
	log_set_level(was);
}

/* The lines of @text that start with @prefix, counted. */
static unsigned int count_lines(const char *text, const char *prefix)
{
	unsigned int n = 0;
	size_t k = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
		n += !strncmp(l, prefix, k);
	return n;
}

static void metrics_are_prometheus_text(void **state)
{
	struct json_object *o = call("{\"method\":\"metrics\"}");
	const char *t = json_object_get_string(result(o));

	(void)state;
	assert_true(json_object_is_type(result(o), json_type_string));
	/* a port's counter: one family, a label per port */
	assert_int_equal(count_lines(t, "# TYPE arcnat_port_rx_packets_total counter\n"), 1);
	assert_int_equal(count_lines(t, "# HELP arcnat_port_rx_packets_total "), 1);
	assert_int_equal(count_lines(t, "arcnat_port_rx_packets_total{port=\"inside\"} 5\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_port_rx_packets_total{port=\"outside\"} 7\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_port_rx_packets_total{port=\"guest3\"} 4\n"), 1);
	/* gauges and counters */
	assert_int_equal(count_lines(t, "# TYPE arcnat_nat_flows gauge\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_nat_flows 12\n"), 1);
	assert_int_equal(count_lines(t, "# TYPE arcnat_nat_flows_out_total counter\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_nat_flows_out_total 40\n"), 1);
	assert_int_equal(count_lines(t, "# TYPE arcnat_drops_total counter\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_drops_total 9\n"), 1);
	assert_int_equal(count_lines(t, "# TYPE arcnat_port_sock_udp_open gauge\n"), 1);
	assert_int_equal(count_lines(t, "# TYPE arcnat_port_stream_guests gauge\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_drop_pkt_bad_len_total 9\n"), 1);
	assert_int_equal(count_lines(t, "# TYPE arcnat_uptime_seconds gauge\n"), 1);
	assert_int_equal(count_lines(t, "arcnat_info{version=\"9.9.9\"} 1\n"), 1);
	/* every sample line is NAME[{...}] VALUE */
	assert_int_equal(count_lines(t, "arcnat_") + count_lines(t, "# "),
			 count_lines(t, ""));
	json_object_put(o);
}

static void a_worker_that_does_not_answer_is_busy(void **state)
{
	(void)state;
	fake.err = -ETIMEDOUT;
	assert_int_equal(call_code("{\"method\":\"stats\"}"), CTL_E_BUSY);
	assert_int_equal(call_code("{\"method\":\"status\"}"), CTL_E_BUSY);
	assert_int_equal(call_code("{\"method\":\"metrics\"}"), CTL_E_BUSY);
	fake.err = -EBUSY;
	assert_int_equal(call_code("{\"method\":\"stats\"}"), CTL_E_BUSY);
	fake.err = -EIO;
	assert_int_equal(call_code("{\"method\":\"stats\"}"), CTL_E_INTERNAL);
	/* log-level needs no snapshot */
	assert_int_equal(call_code("{\"method\":\"log-level\"}"), 0);
	fake.err = 0;
}

static void names_and_default_paths(void **state)
{
	char p[108], longname[80];

	(void)state;
	assert_true(ctl_name_ok("arcnat"));
	assert_true(ctl_name_ok("vm-1.net_2"));
	assert_false(ctl_name_ok(""));
	assert_false(ctl_name_ok(".hidden"));
	assert_false(ctl_name_ok("a/b"));
	assert_false(ctl_name_ok("a b"));
	assert_false(ctl_name_ok(NULL));
	memset(longname, 'a', 65);
	longname[65] = 0;
	assert_false(ctl_name_ok(longname));
	longname[64] = 0;
	assert_true(ctl_name_ok(longname));

	assert_int_equal(setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1), 0);
	assert_int_equal(ctl_default_path(p, sizeof(p), "vm1"), 0);
	assert_string_equal(p, "/run/user/1000/arcnat/vm1.sock");
	assert_int_equal(setenv("XDG_RUNTIME_DIR", "relative", 1), 0);
	assert_int_equal(ctl_default_path(p, sizeof(p), "vm1"), 0);
	assert_string_equal(p, "/run/arcnat/vm1.sock");
	assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
	assert_int_equal(ctl_default_path(p, sizeof(p), "arcnat"), 0);
	assert_string_equal(p, "/run/arcnat/arcnat.sock");
	assert_int_equal(ctl_default_path(p, sizeof(p), "../x"), -EINVAL);
	assert_int_equal(setenv("XDG_RUNTIME_DIR",
				"/a/very/long/runtime/directory/that/goes/on/"
				"and/on/and/on/and/on", 1), 0);
	assert_int_equal(ctl_default_path(p, sizeof(p), longname),
			 -ENAMETOOLONG);
	assert_int_equal(unsetenv("XDG_RUNTIME_DIR"), 0);
}

static void gauges_are_what_exists_now(void **state)
{
	(void)state;
	assert_true(ctl_counters_is_gauge("nat.flows"));
	assert_true(ctl_counters_is_gauge("nat.mappings"));
	assert_true(ctl_counters_is_gauge("ports.guests"));
	assert_true(ctl_counters_is_gauge("switch.entries"));
	assert_true(ctl_counters_is_gauge("dhcp.leases_active"));
	assert_true(ctl_counters_is_gauge("dns.cache_entries"));
	assert_true(ctl_counters_is_gauge("sock.udp_open"));
	assert_true(ctl_counters_is_gauge("sock.tcp_active"));
	assert_true(ctl_counters_is_gauge("sock.max_sockets"));
	assert_false(ctl_counters_is_gauge("nat.flows_out"));
	assert_false(ctl_counters_is_gauge("rx_packets"));
	assert_false(ctl_counters_is_gauge("sock.udp_opened"));
	assert_false(ctl_counters_is_gauge("drops.total"));
}

static void prom_output_is_bounded(void **state)
{
	char small[64];

	(void)state;
	assert_int_equal(ctl_counters_prom(snap_text, sizeof(snap_text) - 1,
					   small, sizeof(small)), -EMSGSIZE);
	assert_int_equal(ctl_counters_prom("", 0, small, sizeof(small)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_requests_get_their_codes),
		cmocka_unit_test(ids_are_echoed),
		cmocka_unit_test(request_size_is_bounded),
		cmocka_unit_test(error_replies_always_fit),
		cmocka_unit_test(status_says_what_runs),
		cmocka_unit_test(stats_group_ports),
		cmocka_unit_test(log_level_gets_and_sets),
		cmocka_unit_test(metrics_are_prometheus_text),
		cmocka_unit_test(a_worker_that_does_not_answer_is_busy),
		cmocka_unit_test(names_and_default_paths),
		cmocka_unit_test(gauges_are_what_exists_now),
		cmocka_unit_test(prom_output_is_bounded),
	};

	return TEST_RUN_GROUP(tests, setup, teardown);
}
