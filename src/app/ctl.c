// SPDX-License-Identifier: MIT
/*
 * ctl.c - `arcnat ctl`: one request to a running arcnat's control socket,
 * its reply printed as a table (or as JSON with --json).
 *
 * Theory of operation: the client connects, sends one request line with
 * id 1, reads one reply line of at most CTL_REPLY_MAX bytes, all within
 * --timeout (socket timeouts, so a stuck arcnat cannot hang a script), and
 * prints the result. The protocol is docs/control.md's; this is only one
 * client of it.
 */
#include "app/ctl.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/ctl_rt.h"
#include "app/ctl_info.h"
#include "nat/opts.h"
#include "core/compiler.h"
#include "ctl/proto.h"

#define CTL_CMD_TIMEOUT_S	10u

static const char ctl_cmd_usage[] =
"Usage: arcnat ctl [--control PATH | --name NAME] [--json] [--timeout S]\n"
"                  COMMAND [ARGS]\n"
"\n"
"Ask a running arcnat (gateway, run or attach) over its control socket.\n"
"\n"
"Commands:\n"
"  status              version, uptime, uplink, addresses, limits, ports\n"
"  stats [SUBSTRING]   every counter (the SIGUSR1 block's), per port where\n"
"                      it is per port; only names containing SUBSTRING\n"
"  metrics             every counter in the Prometheus text format\n"
"  log-level [LEVEL]   show the log level, or set it: error, warning, info,\n"
"                      debug\n"
"  flows [proto tcp|udp|icmp] [address A.B.C.D] [port N] [state STATE]\n"
"                      the connection table, page by page: both tuples,\n"
"                      state (a TCP state, or replied/unreplied), seconds\n"
"                      to expiry; only the flows that match every filter\n"
"  leases              the DHCP server's leases: address, MAC, name, state,\n"
"                      seconds left\n"
"  flow-delete ID [KEY]\n"
"                      delete a flow (ID and KEY as flows --json shows\n"
"                      them; with KEY, only if the flow at ID is still it)\n"
CTL_INFO_USAGE
CTL_RT_USAGE
"  call METHOD [JSON]  send METHOD with JSON (an object) as its params and\n"
"                      print the raw result: any method of docs/control.md\n"
"\n"
"Options:\n"
"  --control PATH      the socket (default: $XDG_RUNTIME_DIR/arcnat/NAME.sock,\n"
"                      else /run/arcnat/NAME.sock)\n"
"  --name NAME         the arcnat started with --name NAME (default arcnat)\n"
"  --json              print the reply's result as JSON, as it came\n"
"  --timeout S         give up after S seconds (default 10)\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 done, 1 an error reply (its code and message on stderr) or\n"
"no answer, 2 a usage error.\n"
"See arcnat(1) and docs/control.md.\n";

struct ctl_cmd {
	const char *path;
	const char *name;
	bool json;
	uint32_t timeout;
};

__printf(1, 2) static int ctl_cmd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("arcnat ctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'arcnat ctl --help'.\n", stderr);
	return 2;
}

static int ctl_cmd_connect(const struct ctl_cmd *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = (time_t)c->timeout };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "arcnat ctl: %s: path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "arcnat ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Send the whole of @buf. Return: 0 or -errno. */
static int ctl_cmd_send(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One reply line into a new object. Return: it, or NULL (said why). */
static struct json_object *ctl_cmd_recv(int fd)
{
	char *buf = malloc(CTL_REPLY_MAX + 1);
	size_t len = 0;
	struct json_object *o = NULL;

	if (!buf) {
		fprintf(stderr, "arcnat ctl: out of memory\n");
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(fd, buf + len, CTL_REPLY_MAX - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "arcnat ctl: no reply: %s\n",
				errno == EAGAIN ? "timed out" : strerror(errno));
			goto out;
		}
		if (n == 0) {
			fprintf(stderr, "arcnat ctl: the connection closed "
				"before a whole reply\n");
			goto out;
		}
		if (memchr(buf + len, '\n', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
		if (len == CTL_REPLY_MAX) {
			fprintf(stderr, "arcnat ctl: reply over %u bytes\n",
				CTL_REPLY_MAX);
			goto out;
		}
	}
	buf[len] = 0;
	o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "arcnat ctl: the reply is not a JSON object\n");
		json_object_put(o);
		o = NULL;
	}
out:
	free(buf);
	return o;
}

static const char *ctl_cmd_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static void ctl_cmd_print_status(struct json_object *r)
{
	struct json_object *up = NULL, *ad = NULL, *lim = NULL, *ports = NULL;

	json_object_object_get_ex(r, "uplink", &up);
	json_object_object_get_ex(r, "addresses", &ad);
	json_object_object_get_ex(r, "limits", &lim);
	json_object_object_get_ex(r, "ports", &ports);
	printf("arcnat %s (%s), name %s, pid %s, up %s s\n",
	       ctl_cmd_str(r, "version"), ctl_cmd_str(r, "command"),
	       ctl_cmd_str(r, "name"), ctl_cmd_str(r, "pid"),
	       ctl_cmd_str(r, "uptime"));
	printf("%-10s %s\n", "control", ctl_cmd_str(r, "control"));
	printf("%-10s %s %s\n", "uplink", ctl_cmd_str(up, "kind"),
	       ctl_cmd_str(up, "name"));
	printf("%-10s %s\n", "gateway", ctl_cmd_str(ad, "gateway"));
	printf("%-10s %s\n", "external", ctl_cmd_str(ad, "external"));
	printf("%-10s flows %s, ports %s, control clients %s, request %s B, "
	       "reply %s B\n", "limits", ctl_cmd_str(lim, "flows"),
	       ctl_cmd_str(lim, "ports"), ctl_cmd_str(lim, "control_clients"),
	       ctl_cmd_str(lim, "request_bytes"), ctl_cmd_str(lim, "reply_bytes"));
	printf("%-5s %-9s %-6s %-18s %s\n", "SLOT", "ROLE", "MTU", "MAC", "NAME");
	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i);

		printf("%-5s %-9s %-6s %-18s %s\n", ctl_cmd_str(p, "slot"),
		       ctl_cmd_str(p, "role"), ctl_cmd_str(p, "mtu"),
		       ctl_cmd_str(p, "mac"), ctl_cmd_str(p, "name"));
	}
}

static void ctl_cmd_print_counters(struct json_object *o, const char *prefix,
				   const char *filter)
{
	json_object_object_foreach(o, k, v) {
		char name[256];

		snprintf(name, sizeof(name), "%s%s", prefix, k);
		if (filter && !strstr(name, filter))
			continue;
		printf("%-44s %s\n", name, json_object_get_string(v));
	}
}

static void ctl_cmd_print_stats(struct json_object *r, const char *filter)
{
	struct json_object *cn = NULL, *ports = NULL;

	if (json_object_object_get_ex(r, "ports", &ports)) {
		json_object_object_foreach(ports, port, pv) {
			char pfx[64];

			snprintf(pfx, sizeof(pfx), "%s.", port);
			ctl_cmd_print_counters(pv, pfx, filter);
		}
	}
	if (json_object_object_get_ex(r, "counters", &cn))
		ctl_cmd_print_counters(cn, "", filter);
}

static void ctl_cmd_print_flow(struct json_object *f)
{
	struct json_object *o = NULL, *r = NULL;

	struct json_object *b = NULL;

	json_object_object_get_ex(f, "orig", &o);
	json_object_object_get_ex(f, "reply", &r);
	json_object_object_get_ex(f, "bytes", &b);	/* --flow-stats */
	printf("%-8s %-5s %-21s %-21s %-21s %-21s %-12s %-10s %s/%s\n",
	       ctl_cmd_str(f, "id"), ctl_cmd_str(f, "proto"),
	       ctl_cmd_str(o, "src"), ctl_cmd_str(o, "dst"),
	       ctl_cmd_str(r, "src"), ctl_cmd_str(r, "dst"),
	       ctl_cmd_str(f, "state"), ctl_cmd_str(f, "expires_in"),
	       ctl_cmd_str(b, "orig"), ctl_cmd_str(b, "reply"));
}

static void ctl_cmd_print_lease(struct json_object *l)
{
	printf("%-15s %-17s %-9s %-6s %-10s %s\n", ctl_cmd_str(l, "ip"),
	       ctl_cmd_str(l, "mac"), ctl_cmd_str(l, "state"),
	       json_object_get_boolean(json_object_object_get(l, "static")) ?
	       "yes" : "no", ctl_cmd_str(l, "expires_in"),
	       ctl_cmd_str(l, "name"));
}

/* Print the result of @method as the command wants. */
static void ctl_cmd_print(const struct ctl_cmd *c, const char *method,
			  struct json_object *r, const char *arg)
{
	if (c->json) {
		puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (!strcmp(method, "status")) {
		ctl_cmd_print_status(r);
	} else if (!strcmp(method, "stats")) {
		ctl_cmd_print_stats(r, arg);
	} else if (!strcmp(method, "metrics") &&
		   json_object_is_type(r, json_type_string)) {
		fputs(json_object_get_string(r), stdout);
	} else if (!strcmp(method, "log-level")) {
		printf("%s\n", ctl_cmd_str(r, "level"));
	} else if (!strcmp(method, "flow-delete")) {
		printf("deleted flow %s\n", ctl_cmd_str(r, "deleted"));
	} else if (ctl_rt_cmd_print(method, r)) {
		/* forward, guest: app/ctl_rt.c */
	} else if (ctl_info_print(method, r)) {
		/* lease delete, dns flush, pcap: app/ctl_info.c */
	} else {
		puts(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	}
}

/* The request for the command in @argv. Return: 0 or a usage status. */
static int ctl_cmd_request(int argc, char **argv, struct json_object **req,
			   const char **method, const char **arg)
{
	const char *cmd = argv[0];
	struct json_object *params = NULL;

	*arg = NULL;
	*method = cmd;
	if (!strcmp(cmd, "status") || !strcmp(cmd, "metrics")) {
		if (argc > 1)
			return ctl_cmd_usage_error("%s: no arguments", cmd);
	} else if (!strcmp(cmd, "stats")) {
		if (argc > 2)
			return ctl_cmd_usage_error("stats: at most one SUBSTRING");
		*arg = argc > 1 ? argv[1] : NULL;
	} else if (!strcmp(cmd, "log-level")) {
		if (argc > 2)
			return ctl_cmd_usage_error("log-level: at most one LEVEL");
		if (argc > 1) {
			params = json_object_new_object();
			json_object_object_add(params, "level",
					       json_object_new_string(argv[1]));
		}
	} else if (!strcmp(cmd, "flows")) {
		if (argc % 2 == 0)
			return ctl_cmd_usage_error("flows: FILTER VALUE pairs");
		params = json_object_new_object();
		for (int i = 1; i + 1 < argc; i += 2) {
			const char *k = argv[i];
			uint32_t port;

			if (!strcmp(k, "port")) {
				if (opts_parse_u32(argv[i + 1], 1, 65535, &port)) {
					json_object_put(params);
					return ctl_cmd_usage_error("flows: port '%s' "
								   "is not 1..65535",
								   argv[i + 1]);
				}
				json_object_object_add(params, "port",
						       json_object_new_int((int)port));
			} else if (!strcmp(k, "proto") || !strcmp(k, "address") ||
				   !strcmp(k, "state")) {
				json_object_object_add(params, k,
						       json_object_new_string(argv[i + 1]));
			} else {
				json_object_put(params);
				return ctl_cmd_usage_error("flows: unknown filter '%s'",
							   k);
			}
		}
	} else if (!strcmp(cmd, "leases")) {
		if (argc > 1)
			return ctl_cmd_usage_error("leases: no arguments");
	} else if (!strcmp(cmd, "flow-delete")) {
		uint32_t id;

		if (argc < 2 || argc > 3 || opts_parse_u32(argv[1], 0, UINT32_MAX, &id))
			return ctl_cmd_usage_error("flow-delete: ID [KEY]");
		params = json_object_new_object();
		json_object_object_add(params, "id", json_object_new_int64(id));
		if (argc > 2)
			json_object_object_add(params, "key",
					       json_object_new_string(argv[2]));
	} else if (!strcmp(cmd, "forward") || !strcmp(cmd, "guest")) {
		int rc = ctl_rt_cmd_request(argc, argv, method, &params);

		if (rc)
			return rc;
	} else if (!strcmp(cmd, "lease") || !strcmp(cmd, "dns") ||
		   !strcmp(cmd, "pcap")) {
		int rc = ctl_info_request(argc, argv, method, &params);

		if (rc)
			return rc;
	} else if (!strcmp(cmd, "call")) {
		if (argc < 2 || argc > 3)
			return ctl_cmd_usage_error("call: METHOD [JSON]");
		*method = argv[1];
		if (argc > 2) {
			params = json_tokener_parse(argv[2]);
			if (!params || !json_object_is_type(params, json_type_object)) {
				json_object_put(params);
				return ctl_cmd_usage_error("call: '%s' is not a "
							   "JSON object", argv[2]);
			}
		}
	} else {
		return ctl_cmd_usage_error("unknown command '%s'", cmd);
	}
	*req = json_object_new_object();
	json_object_object_add(*req, "id", json_object_new_int(1));
	json_object_object_add(*req, "method", json_object_new_string(*method));
	if (params)
		json_object_object_add(*req, "params", params);
	return 0;
}

/* Print an error reply. Return: true when @o is one. */
static bool ctl_cmd_error(struct json_object *o)
{
	struct json_object *e;

	if (!json_object_object_get_ex(o, "error", &e))
		return false;
	fprintf(stderr, "arcnat ctl: error %s: %s\n", ctl_cmd_str(e, "code"),
		ctl_cmd_str(e, "message"));
	return true;
}

/*
 * Send @req, read its reply. Return: the reply when it has a result (the
 * caller puts it), NULL after saying why (an error reply, no reply).
 */
static struct json_object *ctl_cmd_call(const struct ctl_cmd *c, int fd,
					struct json_object *req)
{
	const char *line = json_object_to_json_string_ext(req,
							  JSON_C_TO_STRING_PLAIN);
	struct json_object *rep;

	if (ctl_cmd_send(fd, line, strlen(line)) || ctl_cmd_send(fd, "\n", 1)) {
		fprintf(stderr, "arcnat ctl: %s: sending: %s\n", c->path,
			strerror(errno));
		return NULL;
	}
	rep = ctl_cmd_recv(fd);
	if (!rep || ctl_cmd_error(rep)) {
		json_object_put(rep);
		return NULL;
	}
	if (!json_object_object_get_ex(rep, "result", NULL)) {
		fprintf(stderr, "arcnat ctl: the reply has no result\n");
		json_object_put(rep);
		return NULL;
	}
	return rep;
}

/* Pages a listing asks for at most: a table of 2^25 flows in 256s. */
#define CTL_CMD_PAGES_MAX	(1u << 18)

/**
 * struct ctl_cmd_list - a method whose result comes in pages.
 * @method: its name
 * @array:  the result's array
 * @limit:  send a "limit" of 256
 * @header: the table's header line
 * @print:  one element as a table line
 * @total:  the result's key of the table's total ("count"), or NULL
 */
struct ctl_cmd_list {
	const char *method;
	const char *array;
	bool limit;
	const char *header;
	void (*print)(struct json_object *e);
	const char *total;
};

static const struct ctl_cmd_list ctl_cmd_lists[] = {
	{ "flows", "flows", true,
	  "ID       PROTO ORIG SRC              ORIG DST              "
	  "REPLY SRC             REPLY DST             STATE        EXPIRES    "
	  "BYTES ORIG/REPLY",
	  ctl_cmd_print_flow, "count" },
	{ "leases", "leases", false,
	  "ADDRESS         MAC               STATE     STATIC EXPIRES    NAME",
	  ctl_cmd_print_lease, NULL },
	{ "dns-cache", "entries", true, CTL_INFO_DNS_HEADER,
	  ctl_info_print_dns_entry, NULL },
};

/* Every page of a listing, printed as they come. Return: the exit status. */
static int ctl_cmd_list(const struct ctl_cmd *c, int fd, struct json_object *req,
			const struct ctl_cmd_list *l)
{
	struct json_object *params = NULL, *all = json_object_new_array();
	unsigned int n = 0;

	json_object_object_get_ex(req, "params", &params);
	if (!params) {
		params = json_object_new_object();
		json_object_object_add(req, "params", params);
	}
	if (l->limit)
		json_object_object_add(params, "limit", json_object_new_int(256));
	if (!c->json)
		puts(l->header);
	for (unsigned int page = 0; page < CTL_CMD_PAGES_MAX; page++) {
		struct json_object *rep = ctl_cmd_call(c, fd, req), *res, *arr, *next;

		if (!rep) {
			json_object_put(all);
			return 1;
		}
		json_object_object_get_ex(rep, "result", &res);
		if (json_object_object_get_ex(res, l->array, &arr)) {
			for (size_t i = 0; i < json_object_array_length(arr); i++) {
				struct json_object *e = json_object_array_get_idx(arr, i);

				if (c->json)
					json_object_array_add(all, json_object_get(e));
				else
					l->print(e);
				n++;
			}
		}
		if (!json_object_object_get_ex(res, "next", &next) ||
		    json_object_is_type(next, json_type_null)) {
			if (!c->json && l->total)
				printf("%u %s of %s in the table\n", n, l->array,
				       ctl_cmd_str(res, l->total));
			json_object_put(rep);
			break;
		}
		json_object_object_add(params, "cursor", json_object_get(next));
		json_object_put(rep);
	}
	if (c->json)
		puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(all);
	return fflush(stdout) ? 1 : 0;
}

static int ctl_cmd_parse(int argc, char **argv, struct ctl_cmd *c)
{
	static const struct option opts[] = {
		{ "control", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	c->timeout = CTL_CMD_TIMEOUT_S;
	argv[0] = "arcnat ctl";
	optind = 1;
	/* "+": options end at the COMMAND. */
	while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->path = optarg;
			break;
		case 'n':
			c->name = optarg;
			if (!ctl_name_ok(optarg))
				return ctl_cmd_usage_error("--name: '%s' is not "
							   "1..64 of [A-Za-z0-9._-]",
							   optarg);
			break;
		case 'j':
			c->json = true;
			break;
		case 't':
			if (opts_parse_u32(optarg, 1, 3600, &c->timeout))
				return ctl_cmd_usage_error("--timeout: '%s' is "
							   "not in 1..3600", optarg);
			break;
		case 'h':
			fputs(ctl_cmd_usage, stdout);
			exit(0);
		default:
			fputs("Try 'arcnat ctl --help'.\n", stderr);
			return 2;
		}
	}
	if (c->path && c->name)
		return ctl_cmd_usage_error("--control and --name: one or the other");
	if (optind >= argc)
		return ctl_cmd_usage_error("a COMMAND is required");
	return 0;
}

int ctl_cmd_main(int argc, char **argv)
{
	struct ctl_cmd c = { 0 };
	struct json_object *req = NULL, *rep = NULL, *res = NULL;
	const char *method, *arg;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd = -1, rc;

	rc = ctl_cmd_parse(argc, argv, &c);
	if (rc)
		return rc;
	rc = ctl_cmd_request(argc - optind, argv + optind, &req, &method, &arg);
	if (rc)
		return rc;
	rc = 1;
	if (!c.path) {
		if (ctl_default_path(path, sizeof(path),
				     c.name ? c.name : "arcnat")) {
			fprintf(stderr, "arcnat ctl: the default path is too long\n");
			goto out;
		}
		c.path = path;
	}
	fd = ctl_cmd_connect(&c, c.path);
	if (fd < 0)
		goto out;
	/* A listing is paged (but not `call flows`: that one is raw). */
	for (size_t i = 0; i < ARRAY_SIZE(ctl_cmd_lists); i++) {
		if (!strcmp(method, ctl_cmd_lists[i].method) &&
		    strcmp(argv[optind], "call") != 0) {
			rc = ctl_cmd_list(&c, fd, req, &ctl_cmd_lists[i]);
			goto out;
		}
	}
	rep = ctl_cmd_call(&c, fd, req);
	if (!rep)
		goto out;
	json_object_object_get_ex(rep, "result", &res);
	ctl_cmd_print(&c, method, res, arg);
	rc = fflush(stdout) ? 1 : 0;
out:
	if (fd >= 0)
		close(fd);
	json_object_put(req);
	json_object_put(rep);
	return rc;
}
