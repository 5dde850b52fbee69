// SPDX-License-Identifier: MIT
/*
 * test_ctl_server.c - the control socket with a real worker on its own
 * thread (worker_env.h): requests over a real UNIX socket answered from a
 * snapshot the worker takes (its counters move with the frames it
 * handles), the socket's mode, and every bound against hostile clients:
 * garbage, a line over CTL_REQUEST_MAX, one client more than
 * CTL_CLIENTS_MAX, a client that never reads, an idle client; a stale
 * socket replaced and a live one refused; a stopped worker answered with
 * an error in bounded time, and served again once it runs; the metrics
 * file written atomically.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "test_exit.h"
#include "ctl/proto.h"
#include "ctl/server.h"
#include "dp/worker.h"
#include "pkt/build.h"

#include "memport.h"
#include "worker_env.h"

struct fix {
	struct env e;
	struct ctl_server *s;
	char path[108];
	char prom[128];
};

static struct ctl_server_cfg cfg_of(struct fix *f, unsigned int idle_ms)
{
	return (struct ctl_server_cfg){
		.path = f->path, .idle_ms = idle_ms, .worker = f->e.w,
		.info = { .version = "t", .command = "gateway", .name = "t",
			  .control = "", .uplink_kind = "packet",
			  .uplink = "mem", .max_flows = 1024 },
	};
}

static void start(struct fix *f, struct ctl_server_cfg *c)
{
	assert_int_equal(ctl_server_open(&f->s, c), 0);
	assert_int_equal(ctl_server_start(f->s), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(memport_init(&f->e.in, 0, 0), 0);
	assert_int_equal(memport_init(&f->e.out, DP_PORT_L3 | DP_PORT_VNET, 0), 0);
	env_worker_create(&f->e, htonl(0x0a000209));
	env_resume(&f->e);
	snprintf(f->path, sizeof(f->path), "/tmp/test_ctl.%d.sock", (int)getpid());
	snprintf(f->prom, sizeof(f->prom), "/tmp/test_ctl.%d.prom", (int)getpid());
	unlink(f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	ctl_server_destroy(f->s);
	env_pause(&f->e);
	dp_worker_destroy(f->e.w);
	nat_destroy(f->e.nat);
	memport_fini(&f->e.in);
	memport_fini(&f->e.out);
	unlink(f->path);
	unlink(f->prom);
	free(f);
	return 0;
}

static int cli(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/* One reply line, parsed; NULL at EOF before any byte of it. */
static struct json_object *read_reply(int fd)
{
	static char buf[CTL_REPLY_MAX + 1];
	size_t len = 0;

	for (;;) {
		ssize_t n = recv(fd, buf + len, 1, 0);

		if (n == 0 && len == 0)
			return NULL;
		assert_true(n == 1);
		if (buf[len] == '\n')
			break;
		assert_true(++len < CTL_REPLY_MAX);
	}
	buf[len] = 0;
	return json_tokener_parse(buf);
}

static struct json_object *req(int fd, const char *line)
{
	struct json_object *o;

	send_all(fd, line, strlen(line));
	send_all(fd, "\n", 1);
	o = read_reply(fd);
	assert_non_null(o);
	return o;
}

static int code_of(struct json_object *o)
{
	struct json_object *e, *c;

	if (!json_object_object_get_ex(o, "error", &e))
		return 0;
	assert_true(json_object_object_get_ex(e, "code", &c));
	return json_object_get_int(c);
}

static int req_code(int fd, const char *line)
{
	struct json_object *o = req(fd, line);
	int c = code_of(o);

	json_object_put(o);
	return c;
}

static uint64_t get_u64(struct json_object *o, const char *a, const char *b,
			const char *c)
{
	struct json_object *v = o;

	assert_true(json_object_object_get_ex(v, "result", &v));
	assert_true(json_object_object_get_ex(v, a, &v));
	assert_true(json_object_object_get_ex(v, b, &v));
	if (c)
		assert_true(json_object_object_get_ex(v, c, &v));
	return json_object_get_uint64(v);
}

/* recv() returns 0 (or a reset) within @ms. */
static bool closed_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char b[4096];

	for (int waited = 0; waited < ms; waited += 10) {
		ssize_t n;

		if (poll(&p, 1, 10) <= 0)
			continue;
		n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
	}
	return false;
}

static void answers_from_the_worker(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	struct json_object *o, *ports;
	uint8_t fr[MEMPORT_FRAME];
	struct stat st;
	int fd;

	start(f, &c);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = cli(f->path);
	o = req(fd, "{\"id\":7,\"method\":\"status\"}");
	assert_int_equal(code_of(o), 0);
	assert_true(json_object_object_get_ex(json_object_object_get(o, "result"),
					      "ports", &ports));
	assert_int_equal(json_object_array_length(ports), 2);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(o, "result"), "control")), f->path);
	json_object_put(o);
	o = req(fd, "{\"method\":\"stats\"}");
	assert_int_equal(get_u64(o, "ports", "inside", "rx_packets"), 0);
	json_object_put(o);
	/* The worker answers an echo request: the next snapshot shows it. */
	assert_int_equal(memport_push(&f->e.in, fr, echo_frame(fr, 1), NULL), 0);
	assert_true(memport_wait(&f->e.in, 1, NULL));
	o = req(fd, "{\"method\":\"stats\"}");
	assert_int_equal(get_u64(o, "ports", "inside", "rx_packets"), 1);
	assert_int_equal(get_u64(o, "counters", "gw.echo_replies", NULL), 1);
	json_object_put(o);
	close(fd);
}

static void garbage_gets_errors_and_the_connection_goes_on(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	int fd;

	start(f, &c);
	fd = cli(f->path);
	assert_int_equal(req_code(fd, "garbage"), CTL_E_PARSE);
	assert_int_equal(req_code(fd, ""), CTL_E_PARSE);
	assert_int_equal(req_code(fd, "{}"), CTL_E_REQUEST);
	assert_int_equal(req_code(fd, "{\"method\":\"flows-of-mars\"}"),
			 CTL_E_METHOD);
	assert_int_equal(req_code(fd, "\x01\x02\xff\xfe"), CTL_E_PARSE);
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), 0);
	/* two requests in one write, answered in order */
	{
		static const char two[] = "{\"id\":1,\"method\":\"log-level\"}\n"
					  "{\"id\":2,\"method\":\"status\"}\n";

		send_all(fd, two, sizeof(two) - 1);
	}
	for (int i = 1; i <= 2; i++) {
		struct json_object *o = read_reply(fd);

		assert_non_null(o);
		assert_int_equal(json_object_get_int(json_object_object_get(o, "id")), i);
		json_object_put(o);
	}
	close(fd);
}

static void a_long_line_is_refused_and_closed(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	size_t n = CTL_REQUEST_MAX + 100;
	char *big = malloc(n);
	struct json_object *o;
	int fd;

	start(f, &c);
	fd = cli(f->path);
	memset(big, 'x', n);
	send_all(fd, big, n);
	o = read_reply(fd);
	assert_non_null(o);
	assert_int_equal(code_of(o), CTL_E_TOO_LARGE);
	json_object_put(o);
	assert_true(closed_within(fd, 3000));
	close(fd);
	free(big);
	/* and the server goes on */
	fd = cli(f->path);
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), 0);
	close(fd);
}

static void one_client_too_many(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	int fd[CTL_CLIENTS_MAX + 1];
	struct json_object *o;

	start(f, &c);
	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++) {
		fd[i] = cli(f->path);
		assert_int_equal(req_code(fd[i], "{\"method\":\"log-level\"}"), 0);
	}
	fd[CTL_CLIENTS_MAX] = cli(f->path);
	o = read_reply(fd[CTL_CLIENTS_MAX]);
	assert_non_null(o);
	assert_int_equal(code_of(o), CTL_E_TOO_MANY);
	json_object_put(o);
	assert_true(closed_within(fd[CTL_CLIENTS_MAX], 3000));
	close(fd[CTL_CLIENTS_MAX]);
	/* the others still work; one gone makes room */
	assert_int_equal(req_code(fd[3], "{\"method\":\"status\"}"), 0);
	close(fd[0]);
	usleep(100000);
	fd[0] = cli(f->path);
	assert_int_equal(req_code(fd[0], "{\"method\":\"status\"}"), 0);
	for (unsigned int i = 0; i < CTL_CLIENTS_MAX; i++)
		close(fd[i]);
}

static void a_client_that_never_reads_is_closed(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	static const char line[] = "{\"method\":\"metrics\"}\n";
	int small = 4096, fd, sent = 0, fd2;
	struct timespec t0, t1;

	start(f, &c);
	fd = cli(f->path);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	/* Requests until the server hangs up (at most 20,000, 20 s). */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; sent < 20000; sent++) {
		ssize_t w = send(fd, line, sizeof(line) - 1,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			usleep(1000);
			sent--;
		} else if (w < 0) {
			break;	/* EPIPE, ECONNRESET: closed */
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20)
			break;
	}
	assert_true(sent < 20000);
	assert_true(closed_within(fd, 5000));
	close(fd);
	/* the server answers others */
	fd2 = cli(f->path);
	assert_int_equal(req_code(fd2, "{\"method\":\"stats\"}"), 0);
	close(fd2);
}

static void an_idle_client_is_closed(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 200);
	int fd;

	start(f, &c);
	fd = cli(f->path);
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), 0);
	assert_true(closed_within(fd, 3000));
	close(fd);
}

static void stale_socket_replaced_live_one_refused(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_server *other = NULL;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), fd;

	/* a socket file nobody serves: an arcnat that died */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	start(f, &c);
	assert_int_equal(ctl_server_open(&other, &c), -EADDRINUSE);
	fd = cli(f->path);
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), 0);
	close(fd);
	ctl_server_destroy(f->s);
	f->s = NULL;
	/* a file that is not a socket is left alone */
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ctl_server_open(&other, &c), -EEXIST);
}

static void a_stopped_worker_is_busy_then_served(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	int fd;

	start(f, &c);
	fd = cli(f->path);
	env_pause(&f->e);
	assert_int_equal(req_code(fd, "{\"method\":\"stats\"}"), CTL_E_BUSY);
	/* the call that timed out still owns the snapshot: refused at once */
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), CTL_E_BUSY);
	assert_int_equal(req_code(fd, "{\"method\":\"log-level\"}"), 0);
	env_resume(&f->e);
	usleep(100000);
	assert_int_equal(req_code(fd, "{\"method\":\"stats\"}"), 0);
	assert_int_equal(req_code(fd, "{\"method\":\"status\"}"), 0);
	close(fd);
}

static void the_metrics_file_is_written(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	char buf[65536], tmp[160];
	ssize_t n = 0;
	int fd = -1;

	c.path = NULL;	/* --no-control: the thread runs for the file */
	c.metrics_file = f->prom;
	c.metrics_interval = 1;
	unlink(f->prom);
	start(f, &c);
	for (int i = 0; i < 300 && fd < 0; i++) {
		fd = open(f->prom, O_RDONLY);
		if (fd < 0)
			usleep(10000);
	}
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "# TYPE arcnat_port_rx_packets_total counter\n"));
	assert_non_null(strstr(buf, "arcnat_port_rx_packets_total{port=\"inside\"} "));
	assert_non_null(strstr(buf, "arcnat_uptime_seconds "));
	/* no temporary file left beside it */
	snprintf(tmp, sizeof(tmp), "/tmp/.test_ctl.%d.prom.tmp", (int)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	/* a missing directory is an error at start */
	c.metrics_file = "/nonexistent-dir-arcnat/m.prom";
	{
		struct ctl_server *other = NULL;

		assert_int_equal(ctl_server_open(&other, &c), -ENOENT);
	}
}

/* A UDP datagram from the guest to 198.51.100.1:@dport from :@sport. */
static size_t udp_frame(uint8_t *f, uint16_t sport, uint16_t dport)
{
	struct pkt_spec sp = {
		.src4 = htonl(0x0a000202), .dst4 = htonl(0xc6336401),
		.ttl = 64, .proto = IPPROTO_UDP, .sport = sport, .dport = dport,
		.payload = "x", .payload_len = 1,
	};
	int n;

	memcpy(sp.eth_dst, gw_mac, 6);
	memcpy(sp.eth_src, guest_mac, 6);
	n = pkt_build(&sp, f, MEMPORT_FRAME);
	assert_true(n > 0);
	return (size_t)n;
}

/* Every flow of the table through pages of @limit, as ids and keys. */
static unsigned int list_all(int fd, unsigned int limit, const char *filter,
			     int64_t *ids, char (*keys)[40], unsigned int max)
{
	char line[512];
	int64_t cursor = 0;
	unsigned int n = 0, pages = 0;

	for (;;) {
		struct json_object *o, *r, *fl, *next;

		snprintf(line, sizeof(line),
			 "{\"method\":\"flows\",\"params\":{\"limit\":%u,"
			 "\"cursor\":%lld%s}}", limit, (long long)cursor, filter);
		o = req(fd, line);
		assert_int_equal(code_of(o), 0);
		r = json_object_object_get(o, "result");
		fl = json_object_object_get(r, "flows");
		assert_true(json_object_array_length(fl) <= limit);
		for (size_t i = 0; i < json_object_array_length(fl) && n < max; i++) {
			struct json_object *f = json_object_array_get_idx(fl, i);

			ids[n] = json_object_get_int64(json_object_object_get(f, "id"));
			snprintf(keys[n], sizeof(keys[n]), "%s", json_object_get_string(
				json_object_object_get(f, "key")));
			n++;
		}
		next = json_object_object_get(r, "next");
		pages++;
		if (!next) {
			json_object_put(o);
			break;
		}
		cursor = json_object_get_int64(next);
		json_object_put(o);
		assert_true(pages < 100);
	}
	return n;
}

static void flows_are_paged_filtered_and_deleted(void **state)
{
	struct fix *f = *state;
	struct ctl_server_cfg c = cfg_of(f, 0);
	uint8_t fr[MEMPORT_FRAME];
	int64_t ids[16];
	char keys[16][40], line[256];
	struct json_object *o, *fl, *one;
	int fd;

	start(f, &c);
	fd = cli(f->path);
	for (uint16_t i = 0; i < 5; i++)
		assert_int_equal(memport_push(&f->e.in, fr,
					      udp_frame(fr, 40000 + i, 7000 + i),
					      NULL), 0);
	assert_true(memport_wait(&f->e.out, 5, NULL));
	/* five flows, in pages of two */
	assert_int_equal(list_all(fd, 2, "", ids, keys, 16), 5);
	for (int i = 1; i < 5; i++)
		assert_true(ids[i] > ids[i - 1]);	/* each once, in order */
	/* filters */
	assert_int_equal(list_all(fd, 100, ",\"port\":7003", ids, keys, 16), 1);
	assert_int_equal(list_all(fd, 100, ",\"proto\":\"tcp\"", ids, keys, 16), 0);
	assert_int_equal(list_all(fd, 100, ",\"address\":\"198.51.100.1\"", ids,
				  keys, 16), 5);
	assert_int_equal(list_all(fd, 100, ",\"address\":\"198.51.100.9\"", ids,
				  keys, 16), 0);
	assert_int_equal(list_all(fd, 100, ",\"state\":\"unreplied\"", ids,
				  keys, 16), 5);
	assert_int_equal(list_all(fd, 100, ",\"state\":\"replied\"", ids,
				  keys, 16), 0);
	/* one flow's tuples and state */
	o = req(fd, "{\"method\":\"flows\",\"params\":{\"port\":40003}}");
	fl = json_object_object_get(json_object_object_get(o, "result"), "flows");
	assert_int_equal(json_object_array_length(fl), 1);
	one = json_object_array_get_idx(fl, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(one, "orig"), "src")), "10.0.2.2:40003");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(one, "orig"), "dst")), "198.51.100.1:7003");
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(one, "reply"), "src")), "198.51.100.1:7003");
	/* the mapping: the external address, a port of the NAT's range */
	assert_true(!strncmp(json_object_get_string(json_object_object_get(
		json_object_object_get(one, "reply"), "dst")), "198.51.100.2:", 13));
	assert_string_equal(json_object_get_string(json_object_object_get(one, "proto")),
			    "udp");
	assert_string_equal(json_object_get_string(json_object_object_get(one, "state")),
			    "unreplied");
	assert_true(json_object_get_double(json_object_object_get(one, "expires_in")) > 100);
	json_object_put(o);
	/* delete by id and key; a wrong key or a second delete finds none */
	assert_int_equal(list_all(fd, 100, ",\"port\":7001", ids, keys, 16), 1);
	snprintf(line, sizeof(line), "{\"method\":\"flow-delete\",\"params\":"
		 "{\"id\":%lld,\"key\":\"%s\"}}", (long long)ids[0], keys[0]);
	assert_int_equal(req_code(fd, line), 0);
	assert_int_equal(req_code(fd, line), CTL_E_NO_FLOW);
	assert_int_equal(list_all(fd, 100, "", ids, keys, 16), 4);
	snprintf(line, sizeof(line), "{\"method\":\"flow-delete\",\"params\":"
		 "{\"id\":%lld,\"key\":\"%032d\"}}", (long long)ids[0], 0);
	assert_int_equal(req_code(fd, line), CTL_E_NO_FLOW);
	assert_int_equal(list_all(fd, 100, "", ids, keys, 16), 4);
	assert_int_equal(req_code(fd, "{\"method\":\"flow-delete\",\"params\":{\"id\":99999999}}"),
			 CTL_E_NO_FLOW);
	/* bad params */
	assert_int_equal(req_code(fd, "{\"method\":\"flow-delete\"}"), CTL_E_PARAMS);
	assert_int_equal(req_code(fd, "{\"method\":\"flow-delete\",\"params\":{\"id\":1,\"key\":\"zz\"}}"),
			 CTL_E_PARAMS);
	assert_int_equal(req_code(fd, "{\"method\":\"flows\",\"params\":{\"limit\":257}}"),
			 CTL_E_PARAMS);
	assert_int_equal(req_code(fd, "{\"method\":\"flows\",\"params\":{\"proto\":\"sctp\"}}"),
			 CTL_E_PARAMS);
	assert_int_equal(req_code(fd, "{\"method\":\"flows\",\"params\":{\"state\":\"dancing\"}}"),
			 CTL_E_PARAMS);
	assert_int_equal(req_code(fd, "{\"method\":\"flows\",\"params\":{\"cursor\":-1}}"),
			 CTL_E_PARAMS);
	/* no DHCP server in this worker: an empty, final page that says so */
	o = req(fd, "{\"method\":\"leases\"}");
	assert_int_equal(code_of(o), 0);
	assert_int_equal(json_object_array_length(json_object_object_get(
		json_object_object_get(o, "result"), "leases")), 0);
	assert_false(json_object_get_boolean(json_object_object_get(
		json_object_object_get(o, "result"), "dhcp")));
	assert_null(json_object_object_get(json_object_object_get(o, "result"), "next"));
	json_object_put(o);
	assert_int_equal(req_code(fd, "{\"method\":\"leases\",\"params\":{\"cursor\":\"x\"}}"),
			 CTL_E_PARAMS);
	/* a cursor past the table's end: an empty last page */
	o = req(fd, "{\"method\":\"flows\",\"params\":{\"cursor\":4000000000}}");
	assert_int_equal(code_of(o), 0);
	assert_null(json_object_object_get(json_object_object_get(o, "result"), "next"));
	json_object_put(o);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(answers_from_the_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_gets_errors_and_the_connection_goes_on, setup, teardown),
		cmocka_unit_test_setup_teardown(a_long_line_is_refused_and_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(one_client_too_many, setup, teardown),
		cmocka_unit_test_setup_teardown(a_client_that_never_reads_is_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(an_idle_client_is_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(stale_socket_replaced_live_one_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_stopped_worker_is_busy_then_served, setup, teardown),
		cmocka_unit_test_setup_teardown(the_metrics_file_is_written, setup, teardown),
		cmocka_unit_test_setup_teardown(flows_are_paged_filtered_and_deleted, setup, teardown),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
