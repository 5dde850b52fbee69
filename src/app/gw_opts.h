/* SPDX-License-Identifier: MIT */
/*
 * gw_opts.h - the gateway's options: what `arcnat gateway` (and the
 * commands built on it, `run` and `attach`) accept, checked and completed
 * with their defaults before any device is made (gateway.c uses them).
 */
#ifndef ARCNAT_APP_GW_OPTS_H
#define ARCNAT_APP_GW_OPTS_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "app/sandbox.h"
#include "dp/fault.h"
#include "nat/nat.h"
#include "svc/dhcp.h"
#include "svc/dns.h"
#include "uplink/sock_defs.h"

#define GW_DEFAULT_ADDR		"10.0.2.1"
#define GW_DEFAULT_PLEN		24
#define GW_DEFAULT_MAX_FLOWS	65536u
#define GW_DEFAULT_BUSY_POLL_US	50u	/* --busy-poll */
#define GW_BUSY_POLL_MAX_US	1000u
#define GW_MAX_FLOWS_MAX	(1u << 24)
#define GW_MTU_MIN		576u
#define GW_MTU_MAX		65520u
#define GW_MAX_FORWARDS		1024u	/* NAT_MAX_FORWARDS, SOCK_FORWARDS_MAX */
#define GW_MAX_DHCP_HOSTS	256u
#define GW_RESOLV_CONF		"/etc/resolv.conf"

/* A command's own option values (struct option.val) start here. */
#define GATEWAY_CMD_OPT_BASE	1024
/* At most this many options of its own. */
#define GATEWAY_CMD_OPTS_MAX	16u

/**
 * struct gateway_cmd - a command built on the gateway.
 * @name:            its name, for messages ("run": "Try 'arcnat run --help'")
 * @usage:           its --help text, printed before the gateway's NAT,
 *                   services and diagnostics sections
 * @options:         its own long options (val >= GATEWAY_CMD_OPT_BASE),
 *                   ended by a zero entry, at most GATEWAY_CMD_OPTS_MAX; they
 *                   come before the gateway's, so a name both have is the
 *                   command's
 * @parse:           called for each of them with @ctx, the option's val, its
 *                   name and argument; returns 0 or a usage exit status
 *                   (having printed the reason)
 * @ctx:             for @parse
 * @args:            arguments after the options are the command's (a CMD):
 *                   parsing stops at the first non-option or "--", and
 *                   optind points at it when gateway_parse() returns
 * @keep_user:       never switch users, even when started as root (the
 *                   gateway must stay able to signal a child it started as
 *                   root): --user is refused; capabilities are still dropped
 * @default_mtu:     MTU without --mtu (0: the gateway's rule)
 * @default_outside: --outside without the option (NULL: required)
 *
 * Such a command brings its own guest port: --inside is refused.
 */
struct gateway_cmd {
	const char *name;
	const char *usage;
	const struct option *options;
	int (*parse)(void *ctx, int val, const char *name, const char *arg);
	void *ctx;
	bool args;
	bool keep_user;
	unsigned int default_mtu;
	const char *default_outside;
};

/* The gateway's MAC on the inside. */
extern const uint8_t gw_default_mac[6];

#define GW_INSIDE_MAX	8u

/**
 * struct gw_inside - one --inside.
 * @buf:    a copy of the argument without its kind, split at '@'
 * @stream: stream:PATH
 * @dgram:  dgram:PATH
 * @vhost:  vhost-user:PATH (none of them: a TAP)
 * @ns:     a TAP's namespace, or NULL
 */
struct gw_inside {
	char buf[PATH_MAX];
	bool stream;
	bool dgram;
	bool vhost;
	const char *ns;
};

/**
 * gw_inside_parse() - one --inside (or `arcnat ctl guest add`):
 * [tap:]IFACE[@NETNS], stream:PATH, dgram:PATH or vhost-user:PATH.
 * @in:  filled (@in->ns points into @in->buf)
 * @arg: the text
 *
 * Return: 0; -ENAMETOOLONG; -ERANGE a PATH not 1..107 bytes; -EINVAL.
 */
int gw_inside_parse(struct gw_inside *in, const char *arg);

struct gw_opts {
	struct gw_inside inside[GW_INSIDE_MAX];
	unsigned int n_inside;
	char outside_buf[PATH_MAX];
	char *outside;
	const char *outside_ns;
	bool outside_tun;
	bool outside_sock;
	bool no_map_gateway;
	bool map_gateway;
	uint32_t ext_addr;
	unsigned int ext_plen;
	uint32_t gw_addr;
	unsigned int gw_plen;
	uint32_t next_hop;
	uint32_t mtu;
	struct nat_forward fwd[GW_MAX_FORWARDS];	/* int_addr 0: fwd_guest */
	struct sock_forward fwd_host[GW_MAX_FORWARDS];	/* with sock: listen */
	unsigned int n_fwd;
	bool fwd_pasta;		/* some came from -t/-u */
	uint32_t fwd_guest;	/* -t/-u's guest (0: the DHCP pool's first) */
	struct nat_config nat;
	const char *pcap;
	uint32_t stats_interval;
	bool no_dhcp;
	bool no_dns;
	struct dhcp_cfg dhcp;
	struct dhcp_host hosts[GW_MAX_DHCP_HOSTS];
	struct dns_cfg dns;
	const char *user;
	bool no_drop;
	bool no_sandbox;
	bool isolate;
	bool no_gro;
	uint32_t busy_poll_us;
	bool faults;
	struct dp_fault_cfg fault;
	struct sandbox sb;
	const char *control;
	const char *name;
	bool no_control;
	const char *metrics_file;
	uint32_t metrics_interval;
};

/**
 * gw_parse() - read the command line of `arcnat gateway` or of @cmd, check
 * it and fill in the defaults. Prints its own messages: one line and a
 * hint for a usage error; --help prints the usage and exits 0.
 * @argc: argument count
 * @argv: arguments (argv[0] is rewritten to "arcnat" for getopt's messages)
 * @o:    the options, zeroed by the caller
 * @cmd:  the command built on the gateway, or NULL
 *
 * Return: 0, or the exit status (2 for a usage error).
 */
int gw_parse(int argc, char **argv, struct gw_opts *o,
	     const struct gateway_cmd *cmd);

#endif /* ARCNAT_APP_GW_OPTS_H */
