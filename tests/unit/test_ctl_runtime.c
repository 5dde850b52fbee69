// SPDX-License-Identifier: MIT
/*
 * test_ctl_runtime.c - forward-add|delete|list and guest-add|delete|list
 * (ctl/m_runtime.h) through the dispatcher, run by a real ctl_rt on a real
 * worker on its own thread (worker_env.h): forwards in the worker's NAT,
 * every refusal with its reason and the state unchanged (bad syntax, a
 * target outside the guests' subnet, the DNS forwarder's port, a duplicate,
 * a taken port, a missing forward, more than NAT_MAX_FORWARDS); a dgram
 * guest port opened by guest/dgram.c, attached, listed with its counters,
 * refused a second time, deleted (its socket file gone); a worker that does
 * not answer (-32003 in bounded time, the change applied once it runs);
 * no ctl_rt at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_exit.h"
#include "ctl/m_runtime.h"
#include "ctl/methods.h"
#include "ctl/proto.h"
#include "ctl/rt.h"
#include "dp/services.h"
#include "dp/worker.h"
#include "guest/dgram.h"

#include "memport.h"
#include "worker_env.h"

struct fix {
	struct env e;
	struct ctl_rt *rt;
	struct ctl_info info;
	struct ctl_env env;
	char dir[64];
	char *reply;
	unsigned int opens;
};

/* The opener (app/gateway.c's, for dgram:PATH only). */
static int open_guest(void *ctx, const char *spec, struct dp_port **out,
		      char *why, size_t cap)
{
	struct fix *f = ctx;
	struct dgram_cfg dc = { .mtu = 1500 };

	f->opens++;
	if (strncmp(spec, "dgram:", 6) != 0) {
		snprintf(why, cap, "only dgram:PATH in this test");
		return -EINVAL;
	}
	dc.path = spec + 6;
	return dgram_open(out, &dc);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	struct ctl_rt_cfg rc = {
		.open = open_guest,
		.gw_addr = htonl(GW_FIXTURE_GW),
		.gw_plen = 24,
		.dns = true,
	};

	assert_non_null(f);
	assert_int_equal(memport_init(&f->e.in, 0, 0), 0);
	assert_int_equal(memport_init(&f->e.out, DP_PORT_L3 | DP_PORT_VNET, 0), 0);
	env_worker_create(&f->e, htonl(0x0a000209));
	rc.worker = f->e.w;
	rc.open_ctx = f;
	assert_int_equal(ctl_rt_create(&f->rt, &rc), 0);
	env_resume(&f->e);
	f->info = (struct ctl_info){ .version = "t", .command = "gateway",
				     .name = "t", .control = "",
				     .uplink_kind = "packet", .uplink = "mem" };
	f->env.info = &f->info;
	f->env.rt = ctl_rt_ops(f->rt);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_ctl_rt.%d", (int)getpid());
	assert_int_equal(mkdir(f->dir, 0700), 0);
	f->reply = malloc(CTL_REPLY_MAX);
	assert_non_null(f->reply);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	env_pause(&f->e);
	dp_worker_destroy(f->e.w);
	ctl_rt_destroy(f->rt);
	nat_destroy(f->e.nat);
	memport_fini(&f->e.in);
	memport_fini(&f->e.out);
	rmdir(f->dir);
	free(f->reply);
	free(f);
	return 0;
}

/* Dispatch @req (one line of JSON, no id needed). Return: the reply. */
static struct json_object *call(struct fix *f, const char *req)
{
	size_t n = ctl_dispatch(&f->env, req, strlen(req), f->reply,
				CTL_REPLY_MAX);
	struct json_object *o;

	assert_true(n > 1 && n <= CTL_REPLY_MAX);
	assert_int_equal(f->reply[n - 1], '\n');
	f->reply[n - 1] = 0;
	o = json_tokener_parse(f->reply);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "result", NULL) !=
		    json_object_object_get_ex(o, "error", NULL));
	return o;
}

/* The reply's error code (0: a result) and, in @msg, its message. */
static int code_of(struct fix *f, const char *req, char *msg, size_t cap)
{
	struct json_object *o = call(f, req), *e, *c, *m;
	int code = 0;

	if (msg)
		msg[0] = 0;
	if (json_object_object_get_ex(o, "error", &e)) {
		assert_true(json_object_object_get_ex(e, "code", &c));
		assert_true(json_object_object_get_ex(e, "message", &m));
		code = json_object_get_int(c);
		if (msg)
			snprintf(msg, cap, "%s", json_object_get_string(m));
	}
	json_object_put(o);
	return code;
}

/* forward-list's specs, joined by spaces, into @buf. */
static const char *fwd_list(struct fix *f, char *buf, size_t cap)
{
	struct json_object *o = call(f, "{\"method\":\"forward-list\"}"), *r, *a;
	size_t len = 0;

	buf[0] = 0;
	assert_true(json_object_object_get_ex(o, "result", &r));
	assert_true(json_object_object_get_ex(r, "forwards", &a));
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s;

		assert_true(json_object_object_get_ex(
			json_object_array_get_idx(a, i), "spec", &s));
		len += (size_t)snprintf(buf + len, cap - len, "%s%s",
					i ? " " : "", json_object_get_string(s));
		assert_true(len < cap);
	}
	json_object_put(o);
	return buf;
}

#define FWD(m, spec) "{\"method\":\"forward-" m "\",\"params\":{\"spec\":\"" spec "\"}}"

static void forwards_added_deleted_listed(void **state)
{
	struct fix *f = *state;
	char msg[512], list[4096];

	/* The command line's forward (worker_env.h) is listed. */
	assert_string_equal(fwd_list(f, list, sizeof(list)),
			    "udp:5000:10.0.2.9:53");
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.5:80"), msg,
				 sizeof(msg)), 0);
	assert_string_equal(fwd_list(f, list, sizeof(list)),
			    "tcp:8080:10.0.2.5:80 udp:5000:10.0.2.9:53");
	/* A duplicate, a taken port, a taken target: refused, said why. */
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.5:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "already forwarded"));
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.6:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_int_equal(code_of(f, FWD("add", "tcp:8081:10.0.2.5:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	/* Not a guest: outside the subnet, the gateway, its broadcast. */
	assert_int_equal(code_of(f, FWD("add", "tcp:8082:10.0.3.5:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "10.0.3.5 is not a guest address"));
	assert_int_equal(code_of(f, FWD("add", "tcp:8082:10.0.2.1:80"), NULL, 0),
			 CTL_E_REFUSED);
	assert_int_equal(code_of(f, FWD("add", "tcp:8082:10.0.2.255:80"), NULL,
				 0), CTL_E_REFUSED);
	/* The DNS forwarder's upstream port. */
	assert_int_equal(code_of(f, FWD("add", "udp:49151:10.0.2.5:53"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "DNS"));
	/* Bad syntax, every way. */
	static const char *const bad[] = {
		FWD("add", "tcp:8080"), FWD("add", "sctp:1:10.0.2.5:1"),
		FWD("add", "tcp:0:10.0.2.5:80"), FWD("add", "tcp:8080:10.0.2.5:65536"),
		FWD("add", "tcp:8080:10.0.2:80"), FWD("add", "tcp::10.0.2.5:80"),
		FWD("add", ""), FWD("delete", "tcp"), FWD("delete", "tcp:"),
		FWD("delete", "tcp:8080:"), FWD("delete", "icmp:8080"),
		FWD("delete", "tcp:x"), FWD("delete", "tcpx:80"),
		"{\"method\":\"forward-add\"}",
		"{\"method\":\"forward-add\",\"params\":{\"spec\":5}}",
		"{\"method\":\"forward-add\",\"params\":{\"spec\":\"tcp:1:10.0.2.5:1\",\"x\":1}}",
		"{\"method\":\"forward-list\",\"params\":{\"x\":1}}",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(code_of(f, bad[i], NULL, 0), CTL_E_PARAMS);
	assert_string_equal(fwd_list(f, list, sizeof(list)),
			    "tcp:8080:10.0.2.5:80 udp:5000:10.0.2.9:53");
	/* Deleted by its port, or by the whole spec (which must match). */
	assert_int_equal(code_of(f, FWD("delete", "tcp:8080:10.0.2.6:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "no such forward"));
	assert_int_equal(code_of(f, FWD("delete", "udp:8080"), NULL, 0),
			 CTL_E_REFUSED);
	assert_int_equal(code_of(f, FWD("delete", "tcp:8080"), NULL, 0), 0);
	assert_int_equal(code_of(f, FWD("delete", "tcp:8080"), NULL, 0),
			 CTL_E_REFUSED);
	assert_int_equal(code_of(f, FWD("delete", "udp:5000:10.0.2.9:53"), NULL,
				 0), 0);
	assert_string_equal(fwd_list(f, list, sizeof(list)), "");
	/* Added again after its deletion. */
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.6:80"), NULL, 0),
			 0);
	assert_string_equal(fwd_list(f, list, sizeof(list)),
			    "tcp:8080:10.0.2.6:80");
}

/* NAT_MAX_FORWARDS at most: the next one is refused and nothing changes. */
static void forwards_bounded(void **state)
{
	struct fix *f = *state;
	struct json_object *o, *r, *a;
	char req[128], msg[512];

	/* worker_env.h's forward is the first. */
	for (unsigned int i = 1; i < NAT_MAX_FORWARDS; i++) {
		snprintf(req, sizeof(req), FWD("add", "tcp:%u:10.0.2.5:%u"),
			 10000 + i, 10000 + i);
		assert_int_equal(code_of(f, req, NULL, 0), 0);
	}
	assert_int_equal(code_of(f, FWD("add", "tcp:9999:10.0.2.5:9999"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "1024 forwards already"));
	o = call(f, "{\"method\":\"forward-list\"}");
	assert_true(json_object_object_get_ex(o, "result", &r));
	assert_true(json_object_object_get_ex(r, "forwards", &a));
	assert_int_equal(json_object_array_length(a), NAT_MAX_FORWARDS);
	json_object_put(o);
	assert_int_equal(code_of(f, FWD("delete", "tcp:10001"), NULL, 0), 0);
	assert_int_equal(code_of(f, FWD("add", "tcp:9999:10.0.2.5:9999"), NULL,
				 0), 0);
}

/* guest-list: the guests' names (listeners marked) and rx_packets. */
static unsigned int guest_list(struct fix *f, char *buf, size_t cap)
{
	struct json_object *o = call(f, "{\"method\":\"guest-list\"}"), *r, *a;
	size_t len = 0, n;

	buf[0] = 0;
	assert_true(json_object_object_get_ex(o, "result", &r));
	assert_true(json_object_object_get_ex(r, "guests", &a));
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(a, i), *v, *c;

		assert_true(json_object_object_get_ex(g, "kind", &v));
		len += (size_t)snprintf(buf + len, cap - len, "%s%s",
					i ? " " : "", json_object_get_string(v));
		assert_true(json_object_object_get_ex(g, "mtu", &v));
		assert_int_equal(json_object_get_int(v), i ? 1500 : 0);
		assert_true(json_object_object_get_ex(g, "counters", &c));
		assert_true(json_object_object_get_ex(c, "rx_packets", NULL));
		assert_true(json_object_object_get_ex(c, "tx_queue_full", NULL));
		assert_true(json_object_object_get_ex(g, "name", NULL));
		assert_true(json_object_object_get_ex(g, "slot", NULL));
		assert_true(len < cap);
	}
	json_object_put(o);
	return (unsigned int)n;
}

static void guests_added_deleted_listed(void **state)
{
	struct fix *f = *state;
	char req[512], path[128], msg[512], list[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/g.sock", f->dir);
	assert_int_equal(guest_list(f, list, sizeof(list)), 1);
	assert_string_equal(list, "tap");	/* the memport, named "mem..." */
	snprintf(req, sizeof(req), "{\"method\":\"guest-add\",\"params\":"
		 "{\"spec\":\"dgram:%s\"}}", path);
	{
		struct json_object *o = call(f, req), *r, *v;

		assert_true(json_object_object_get_ex(o, "result", &r));
		assert_true(json_object_object_get_ex(r, "name", &v));
		assert_true(!strncmp(json_object_get_string(v), "dgram:", 6));
		assert_true(json_object_object_get_ex(r, "kind", &v));
		assert_string_equal(json_object_get_string(v), "dgram");
		json_object_put(o);
	}
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(guest_list(f, list, sizeof(list)), 2);
	assert_string_equal(list, "tap dgram");
	/* The same path again: the live socket is not replaced. */
	assert_int_equal(code_of(f, req, msg, sizeof(msg)), CTL_E_REFUSED);
	assert_int_equal(guest_list(f, list, sizeof(list)), 2);
	/* What the opener refuses, with its reason. */
	assert_int_equal(code_of(f, "{\"method\":\"guest-add\",\"params\":"
				 "{\"spec\":\"tap0\"}}", msg, sizeof(msg)),
			 CTL_E_REFUSED);
	assert_non_null(strstr(msg, "only dgram:PATH in this test"));
	assert_int_equal(code_of(f, "{\"method\":\"guest-add\",\"params\":"
				 "{\"spec\":\"\"}}", NULL, 0), CTL_E_PARAMS);
	assert_int_equal(code_of(f, "{\"method\":\"guest-add\"}", NULL, 0),
			 CTL_E_PARAMS);
	assert_int_equal(code_of(f, "{\"method\":\"guest-delete\",\"params\":"
				 "{\"name\":7}}", NULL, 0), CTL_E_PARAMS);
	assert_int_equal(code_of(f, "{\"method\":\"guest-delete\",\"params\":"
				 "{\"name\":\"nope\"}}", msg, sizeof(msg)),
			 CTL_E_REFUSED);
	assert_non_null(strstr(msg, "no such guest port"));
	/* A prefix of a name is not the name. */
	snprintf(req, sizeof(req), "{\"method\":\"guest-delete\",\"params\":"
		 "{\"name\":\"dgram:%s\"}}", f->dir);
	assert_int_equal(code_of(f, req, NULL, 0), CTL_E_REFUSED);
	snprintf(req, sizeof(req), "{\"method\":\"guest-delete\",\"params\":"
		 "{\"name\":\"dgram:%s\"}}", path);
	assert_int_equal(code_of(f, req, NULL, 0), 0);
	assert_int_equal(guest_list(f, list, sizeof(list)), 1);
	assert_int_equal(stat(path, &st), -1);	/* unlinked with its port */
	assert_int_equal(code_of(f, req, NULL, 0), CTL_E_REFUSED);
	/* Added again at the same path. */
	snprintf(req, sizeof(req), "{\"method\":\"guest-add\",\"params\":"
		 "{\"spec\":\"dgram:%s\"}}", path);
	assert_int_equal(code_of(f, req, NULL, 0), 0);
	assert_int_equal(guest_list(f, list, sizeof(list)), 2);
	env_pause(&f->e);	/* the worker destroys it, and unlinks it */
	dp_worker_destroy(f->e.w);
	f->e.w = NULL;
	assert_int_equal(stat(path, &st), -1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A worker that does not answer: -32003 within the bound, and the change
 * happens once it runs (the reply said it might). */
static void worker_stopped(void **state)
{
	struct fix *f = *state;
	char msg[512], list[256];
	double t0;

	env_pause(&f->e);
	t0 = now_s();
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.5:80"), msg,
				 sizeof(msg)), CTL_E_BUSY);
	assert_true(now_s() - t0 < 3.0);
	assert_non_null(strstr(msg, "may still be applied"));
	/* Refused at once while the first one is pending. */
	t0 = now_s();
	assert_int_equal(code_of(f, "{\"method\":\"forward-list\"}", NULL, 0),
			 CTL_E_BUSY);
	assert_true(now_s() - t0 < 0.5);
	env_resume(&f->e);
	for (int i = 0; i < 100 && code_of(f, "{\"method\":\"forward-list\"}",
					   NULL, 0); i++)
		usleep(20000);
	assert_string_equal(fwd_list(f, list, sizeof(list)),
			    "tcp:8080:10.0.2.5:80 udp:5000:10.0.2.9:53");
}

/* No ctl_rt: every method says it is not available, nothing crashes. */
static void not_available(void **state)
{
	struct fix *f = *state;
	static const char *const reqs[] = {
		FWD("add", "tcp:8080:10.0.2.5:80"), FWD("delete", "tcp:8080"),
		"{\"method\":\"forward-list\"}", "{\"method\":\"guest-list\"}",
		"{\"method\":\"guest-add\",\"params\":{\"spec\":\"dgram:/x\"}}",
		"{\"method\":\"guest-delete\",\"params\":{\"name\":\"x\"}}",
	};
	char msg[256];

	f->env.rt = ctl_rt_ops(NULL);
	for (size_t i = 0; i < ARRAY_SIZE(reqs); i++) {
		assert_int_equal(code_of(f, reqs[i], msg, sizeof(msg)),
				 CTL_E_INTERNAL);
		assert_string_equal(msg, "not available here");
	}
	/* The socket uplink's refusal. */
	f->env.rt = ctl_rt_ops(f->rt);
	f->env.rt.no_forward = "not with --outside sock yet";
	assert_int_equal(code_of(f, FWD("add", "tcp:8080:10.0.2.5:80"), msg,
				 sizeof(msg)), CTL_E_REFUSED);
	assert_non_null(strstr(msg, "not with --outside sock yet"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(forwards_added_deleted_listed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(forwards_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(guests_added_deleted_listed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(worker_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(not_available, setup, teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
