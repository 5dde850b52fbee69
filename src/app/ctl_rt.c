// SPDX-License-Identifier: MIT
/*
 * ctl_rt.c - `arcnat ctl forward|guest ...` (ctl_rt.h).
 */
#include "app/ctl_rt.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static int ctl_rt_usage(const char *msg)
{
	fprintf(stderr, "arcnat ctl: %s\nTry 'arcnat ctl --help'.\n", msg);
	return 2;
}

static struct json_object *ctl_rt_param(const char *key, const char *val)
{
	struct json_object *p = json_object_new_object();

	if (p)
		json_object_object_add(p, key, json_object_new_string(val));
	return p;
}

int ctl_rt_cmd_request(int argc, char **argv, const char **method,
		       struct json_object **params)
{
	static const struct {
		const char *cmd, *sub, *method, *key, *usage;
	} cmds[] = {
		{ "forward", "add", "forward-add", "spec",
		  "forward add PROTO:EXTPORT:INTADDR:INTPORT [ADDRESS]" },
		{ "forward", "delete", "forward-delete", "spec",
		  "forward delete PROTO:EXTPORT[:INTADDR:INTPORT]" },
		{ "forward", "list", "forward-list", NULL, "forward list" },
		{ "guest", "add", "guest-add", "spec", "guest add SPEC" },
		{ "guest", "delete", "guest-delete", "name", "guest delete NAME" },
		{ "guest", "list", "guest-list", NULL, "guest list" },
	};
	bool known = false;

	*method = NULL;
	*params = NULL;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[0], cmds[i].cmd) != 0)
			continue;
		known = true;
		if (argc < 2 || strcmp(argv[1], cmds[i].sub) != 0)
			continue;
		/* forward add SPEC [ADDRESS]: the host address (sock) */
		bool addr = !strcmp(cmds[i].method, "forward-add") && argc == 4;

		if (argc != (cmds[i].key ? 3 : 2) && !addr) {
			char msg[128];

			snprintf(msg, sizeof(msg), "usage: %s", cmds[i].usage);
			return ctl_rt_usage(msg);
		}
		*method = cmds[i].method;
		if (cmds[i].key)
			*params = ctl_rt_param(cmds[i].key, argv[2]);
		if (addr && *params)
			json_object_object_add(*params, "address",
					       json_object_new_string(argv[3]));
		return 0;
	}
	if (known)
		return ctl_rt_usage(!strcmp(argv[0], "forward") ?
				    "forward add|delete|list" :
				    "guest add|delete|list");
	return 0;
}

static const char *ctl_rt_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static void ctl_rt_print_forwards(struct json_object *r)
{
	struct json_object *arr = NULL;

	json_object_object_get_ex(r, "forwards", &arr);
	printf("%-5s %-15s %-15s %-5s %-15s %-7s %s\n", "PROTO", "HOST",
	       "EXTERNAL", "PORT", "TO", "TO_PORT", "SPEC");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);

		printf("%-5s %-15s %-15s %-5s %-15s %-7s %s\n",
		       ctl_rt_str(f, "proto"), ctl_rt_str(f, "host"),
		       ctl_rt_str(f, "external"), ctl_rt_str(f, "port"),
		       ctl_rt_str(f, "to"), ctl_rt_str(f, "to_port"),
		       ctl_rt_str(f, "spec"));
	}
}

static void ctl_rt_print_guests(struct json_object *r)
{
	struct json_object *arr = NULL;

	json_object_object_get_ex(r, "guests", &arr);
	printf("%-5s %-10s %-6s %-12s %-12s %-12s %-12s %s\n", "SLOT", "KIND",
	       "MTU", "RX_PACKETS", "RX_BYTES", "TX_PACKETS", "TX_BYTES", "NAME");
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *g = json_object_array_get_idx(arr, i), *c = NULL;
		bool listener = json_object_get_boolean(
			json_object_object_get(g, "listener"));

		json_object_object_get_ex(g, "counters", &c);
		printf("%-5s %-10s %-6s %-12s %-12s %-12s %-12s %s%s\n",
		       ctl_rt_str(g, "slot"), ctl_rt_str(g, "kind"),
		       ctl_rt_str(g, "mtu"), ctl_rt_str(c, "rx_packets"),
		       ctl_rt_str(c, "rx_bytes"), ctl_rt_str(c, "tx_packets"),
		       ctl_rt_str(c, "tx_bytes"), ctl_rt_str(g, "name"),
		       listener ? " (listener)" : "");
	}
}

bool ctl_rt_cmd_print(const char *method, struct json_object *r)
{
	if (!strcmp(method, "forward-list")) {
		ctl_rt_print_forwards(r);
	} else if (!strcmp(method, "guest-list")) {
		ctl_rt_print_guests(r);
	} else if (!strcmp(method, "forward-add") ||
		   !strcmp(method, "guest-add")) {
		printf("added %s\n", ctl_rt_str(r, !strcmp(method, "guest-add") ?
						"name" : "added"));
	} else if (!strcmp(method, "forward-delete") ||
		   !strcmp(method, "guest-delete")) {
		printf("deleted %s\n", ctl_rt_str(r, "deleted"));
	} else {
		return false;
	}
	return true;
}
