// SPDX-License-Identifier: MIT
/*
 * ctl_info.c - `arcnat ctl` lease delete, dns cache, dns flush, pcap
 * start, pcap stop (ctl_info.h; the methods in docs/control.md).
 */
#include "app/ctl_info.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nat/opts.h"

static int ctl_info_usage(const char *msg)
{
	fprintf(stderr, "arcnat ctl: %s\nTry 'arcnat ctl --help'.\n", msg);
	return 2;
}

/* "pcap start FILE [port N] [protocol P] [host A] [max-bytes N]". */
static int ctl_info_pcap_start(int argc, char **argv,
			       struct json_object **params)
{
	char file[PATH_MAX], cwd[PATH_MAX];
	struct json_object *p;
	int i;

	if (argc < 1 || argc % 2 == 0)
		return ctl_info_usage("pcap start FILE [port N] [protocol P] "
				      "[host A] [max-bytes N]");
	/* arcnat runs elsewhere: a relative FILE is the client's. */
	if (argv[0][0] == '/') {
		snprintf(file, sizeof(file), "%s", argv[0]);
	} else if (!getcwd(cwd, sizeof(cwd)) ||
		   (size_t)snprintf(file, sizeof(file), "%s/%s", cwd, argv[0]) >=
			   sizeof(file)) {
		return ctl_info_usage("pcap start: FILE: path too long");
	}
	p = json_object_new_object();
	json_object_object_add(p, "file", json_object_new_string(file));
	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		char *end;
		long long n = strtoll(v, &end, 10);
		bool num = *v && !*end;

		if (!strcmp(k, "port") && num) {
			json_object_object_add(p, "port", json_object_new_int64(n));
		} else if (!strcmp(k, "protocol") || !strcmp(k, "proto")) {
			json_object_object_add(p, "protocol", num ?
					       json_object_new_int64(n) :
					       json_object_new_string(v));
		} else if (!strcmp(k, "host")) {
			json_object_object_add(p, "host", json_object_new_string(v));
		} else if (!strcmp(k, "max-bytes") && num) {
			json_object_object_add(p, "max_bytes",
					       json_object_new_int64(n));
		} else {
			json_object_put(p);
			return ctl_info_usage("pcap start: a filter is port N, "
					      "protocol P, host A or max-bytes N");
		}
	}
	*params = p;
	return 0;
}

int ctl_info_request(int argc, char **argv, const char **method,
		     struct json_object **params)
{
	const char *cmd = argv[0];
	const char *sub = argc > 1 ? argv[1] : "";

	*params = NULL;
	if (!strcmp(cmd, "lease")) {
		if (strcmp(sub, "delete") != 0 || argc != 3)
			return ctl_info_usage("lease delete MAC|ADDRESS");
		*method = "lease-delete";
		*params = json_object_new_object();
		json_object_object_add(*params, strchr(argv[2], ':') ? "mac" :
						"address",
				       json_object_new_string(argv[2]));
		return 0;
	}
	if (!strcmp(cmd, "dns")) {
		if (!strcmp(sub, "flush") && argc == 2) {
			*method = "dns-flush";
			return 0;
		}
		if (!strcmp(sub, "cache") && argc == 3 &&
		    !strcmp(argv[2], "flush")) {
			*method = "dns-flush";
			return 0;
		}
		if (!strcmp(sub, "cache") && argc == 2) {
			*method = "dns-cache";
			return 0;
		}
		return ctl_info_usage("dns cache | dns flush");
	}
	if (!strcmp(cmd, "pcap")) {
		if (!strcmp(sub, "start")) {
			*method = "pcap-start";
			return ctl_info_pcap_start(argc - 2, argv + 2, params);
		}
		if (!strcmp(sub, "stop") && argc == 2) {
			*method = "pcap-stop";
			return 0;
		}
		return ctl_info_usage("pcap start FILE [FILTER] | pcap stop");
	}
	return 1;
}

static const char *ctl_info_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

void ctl_info_print_dns_entry(struct json_object *e)
{
	struct json_object *an;
	size_t n = 0;

	printf("%-40s %-6s %-6s", ctl_info_str(e, "name"),
	       ctl_info_str(e, "type"), ctl_info_str(e, "ttl"));
	if (json_object_object_get_ex(e, "answers", &an))
		n = json_object_array_length(an);
	for (size_t k = 0; k < n; k++) {
		struct json_object *a = json_object_array_get_idx(an, k);

		printf("%s%s %s", k ? ", " : " ", ctl_info_str(a, "type"),
		       ctl_info_str(a, "data"));
	}
	if (!n)
		printf(" %s", !strcmp(ctl_info_str(e, "rcode"), "3") ?
			      "NXDOMAIN" : "NODATA");
	putchar('\n');
}

bool ctl_info_print(const char *method, struct json_object *r)
{
	struct json_object *d;

	if (!strcmp(method, "lease-delete")) {
		json_object_object_get_ex(r, "deleted", &d);
		printf("deleted %s %s\n", ctl_info_str(d, "mac"),
		       ctl_info_str(d, "ip"));
	} else if (!strcmp(method, "dns-flush")) {
		printf("flushed %s\n", ctl_info_str(r, "flushed"));
	} else if (!strcmp(method, "pcap-start")) {
		printf("capturing to %s (at most %s bytes)\n",
		       ctl_info_str(r, "file"), ctl_info_str(r, "max_bytes"));
	} else if (!strcmp(method, "pcap-stop")) {
		printf("%s: %s packets, %s bytes; %s filtered out, %s over the "
		       "limit%s\n", ctl_info_str(r, "file"),
		       ctl_info_str(r, "packets"), ctl_info_str(r, "bytes"),
		       ctl_info_str(r, "filtered"), ctl_info_str(r, "over_limit"),
		       json_object_object_get_ex(r, "failed", &d) &&
		       json_object_get_boolean(d) ? "; a write FAILED" : "");
	} else {
		return false;
	}
	return true;
}
