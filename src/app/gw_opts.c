// SPDX-License-Identifier: MIT
/*
 * gw_opts.c - the gateway's options (gw_opts.h): the usage text, the option
 * table, each option's parser and the checks and defaults applied once all
 * are read.
 */
#include "app/gw_opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "nat/opts.h"
#include "app/sandbox.h"
#include "app/serve.h"
#include "core/compiler.h"
#include "core/log.h"
#include "prot/ip4.h"
#include "dp/fault.h"
#include "dp/persist.h"
#include "dp/services.h"
#include "dp/worker.h"
#include "pkt/martian.h"
#include "svc/dns_local.h"
#include "svc/dns_resolv.h"
#include "guest/dgram.h"
#include "guest/qemu_args.h"
#include "guest/stream.h"
#include "guest/vhost_user.h"
#include "guest/tap.h"
#include "guest/unix_listen.h"
#include "ctl/proto.h"
#include "uplink/packet.h"
#include "uplink/sock.h"
#include "uplink/tun.h"


const uint8_t gw_default_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };

static const char gw_usage[] =
"Usage: arcnat gateway --inside GUESTS... --outside IFACE[@NETNS]\n"
"                      --external-ip A.B.C.D/LEN [OPTIONS]\n"
"       arcnat gateway --inside GUESTS... --outside tun:NAME[@NETNS]\n"
"                      --external-ip A.B.C.D/LEN [OPTIONS]\n"
"       arcnat gateway --inside GUESTS... --outside sock [OPTIONS]\n"
"\n"
"A userspace NAT gateway (NAPT, RFC 4787/5382/5508) between guests (TAP\n"
"devices, QEMU stream and datagram sockets, vhost-user) and an uplink. Guests\n"
"use the gateway address as their router.\n"
"\n"
"Devices:\n"
"  --inside [tap:]IFACE[@NETNS] TAP device facing the guests: attached if it\n"
"                              exists, created otherwise, in network namespace\n"
"                              NETNS (a name under /run/netns or a path such as\n"
"                              /proc/PID/ns/net), else in arcnat's own. arcnat\n"
"                              brings it up with --mtu; guests get an address\n"
"                              and the gateway as router by DHCP.\n"
"  --inside stream:PATH        a UNIX stream socket at PATH for QEMU's\n"
"                              -netdev stream (4-byte length, frame): each\n"
"                              connection is a guest, up to 16 at once. A stale\n"
"                              socket is replaced, any other file refused.\n"
"  --inside dgram:PATH         a UNIX datagram socket at PATH, one guest (QEMU's\n"
"                              -netdev dgram, vfkit): one datagram is one frame.\n"
"                              The first sender is the guest until its socket\n"
"                              is gone; arcnat's user must be able to write to\n"
"                              it.\n"
"  --inside vhost-user:PATH    a vhost-user-net backend listening at PATH for\n"
"                              QEMU's -netdev vhost-user, whose guest memory\n"
"                              must be shared (memory-backend-memfd,share=on):\n"
"                              each connection is a guest, up to 8 at once.\n"
"                              At start arcnat prints the QEMU arguments for\n"
"                              each stream, dgram and vhost-user socket.\n"
"                              --inside is repeatable (up to 8): all of them are\n"
"                              one Ethernet segment behind the gateway, a\n"
"                              learning switch: guests reach each other\n"
"                              directly, without NAT.\n"
"  --isolate                   guests reach only the gateway and the uplink,\n"
"                              never each other (no frame between guest ports,\n"
"                              no packet routed from one guest to another).\n"
"  --no-gro                    never join a guest's consecutive TCP segments\n"
"                              into one super-frame for the uplink (default:\n"
"                              joined, as a NIC's GRO does, for guests that\n"
"                              cannot send TSO super-frames themselves).\n"
"  --busy-poll US              after traffic, the packet thread polls for US\n"
"                              microseconds before it sleeps again, 0..1000\n"
"                              (default 50; 0: it always sleeps). A request's\n"
"                              answer that comes within that time is served\n"
"                              without a wakeup (some 8 us each on a virtual\n"
"                              CPU): more requests per second, for CPU while\n"
"                              traffic flows and none while it does not.\n"
"";

/* In parts: ISO C caps a string literal at 4095 bytes. */
static const char gw_usage_uplink[] =
"  --gateway-ip A.B.C.D/LEN    the gateway's inside address and subnet\n"
"                              (default 10.0.2.1/24, MAC 02:ab:cd:00:00:01);\n"
"                              arcnat answers ARP and ping for it.\n"
"  --outside IFACE[@NETNS]     AF_PACKET uplink on an existing interface that\n"
"                              has no kernel address in the external subnet;\n"
"                              arcnat owns --external-ip there and answers ARP\n"
"                              for it.\n"
"  --outside tun:NAME[@NETNS]  L3 TUN uplink into the kernel of NETNS (default:\n"
"                              arcnat's namespace): arcnat creates NAME, brings\n"
"                              it up and routes the external prefix into it;\n"
"                              that kernel must forward (net.ipv4.ip_forward=1).\n"
"  --outside sock              rootless: each flow leaves through a host socket\n"
"                              of arcnat's (UDP, TCP; ICMP echo where\n"
"                              net.ipv4.ping_group_range allows); no\n"
"                              --external-ip (the NAT's is the reserved\n"
"                              198.18.0.1).\n"
"  --external-ip A.B.C.D/LEN   the NAT's external address; LEN is its on-link\n"
"                              prefix (AF_PACKET) or the prefix routed into the\n"
"                              TUN (/32 for the address alone).\n"
"  --next-hop A.B.C.D          AF_PACKET: router for destinations outside the\n"
"                              external prefix, itself an address in that\n"
"                              prefix (none: only on-link destinations).\n"
"  --mtu N                     MTU of the TAP and TUN devices, 576..65520\n"
"                              (default: leave the TAP's as it is, 1500 for new\n"
"                              devices).\n"
"\n";

/* In parts: ISO C caps a string literal at 4095 bytes. */
static const char gw_usage_nat[] =
"NAT:\n"
"  --forward PROTO:EXTPORT:INTADDR:INTPORT\n"
"                              static port forward, PROTO tcp or udp, from\n"
"                              EXTPORT on the external address to INTADDR:INTPORT\n"
"                              inside; repeatable. With --outside sock, arcnat\n"
"                              listens on EXTPORT of every host address.\n"
"  -t, --tcp-forward [ADDR/]PORTS[:PORTS]\n"
"  -u, --udp-forward [ADDR/]PORTS[:PORTS]\n"
"                              --outside sock: listen on the host's TCP (UDP)\n"
"                              PORTS, on ADDR only if given, and forward to\n"
"                              the same or the given ports of the first guest\n"
"                              (the first DHCP pool address; arcnat run's\n"
"                              --guest-ip). PORTS is P or P-Q, both sides the\n"
"                              same length: 8080, 8080:80, 127.0.0.1/8080:80,\n"
"                              8000-8010:9000-9010 (pasta's syntax).\n"
"                              Repeatable; up to 1024 ports in all. The guest\n"
"                              sees the client's own address; a client on the\n"
"                              host's loopback appears as the gateway address.\n"
"  --filtering eif|adf|apdf    which outside hosts may send to a mapping:\n"
"                              any (endpoint-independent), those the inside host\n"
"                              sent to (address-dependent), or those address and\n"
"                              port pairs (address-and-port-dependent, the\n"
"                              default). Mapping is always endpoint-independent.\n"
"  --max-flows N               connection-table size (default 65536)\n"
"  --flow-stats                count each flow's packets and bytes each way and\n"
"                              keep its age, for `arcnat ctl flows` (40 bytes\n"
"                              more per flow)\n"
"  --timeout-tcp-established S idle timeout of established TCP (default 7440)\n"
"  --timeout-tcp-transitory S  TCP opening and closing (default 240)\n"
"  --timeout-tcp-time-wait S   TCP TIME_WAIT (default 120)\n"
"  --timeout-udp S             UDP, replied or not (defaults 300 / 120)\n"
"  --timeout-icmp S            ICMP echo (default 60)\n"
"  --allow-short-udp-timeout   accept --timeout-udp below 120 s, which RFC 4787\n"
"                              REQ-5 forbids; for tests\n"
"\n";

static const char gw_usage_services[] =
"Services (the gateway answers as --gateway-ip):\n"
"  --no-dhcp                   no DHCP server\n"
"  --dhcp-range FIRST,LAST     address pool (default: .2 to the last host\n"
"                              address of the subnet, 10.0.2.2-10.0.2.254)\n"
"  --dhcp-host MAC,IP[,NAME]   static reservation, repeatable (up to 256);\n"
"                              NAME also resolves as NAME.DOMAIN\n"
"  --lease-time S              lease time (default 3600)\n"
"  --lease-file FILE           keep leases across restarts (atomic writes)\n"
"  --domain NAME               local domain, DHCP options 15 and 119\n"
"                              (default arcnat.internal)\n"
"  --no-dns                    no DNS forwarder (DHCP then hands out the\n"
"                              upstream servers)\n"
"  --dns A.B.C.D               upstream DNS server, repeatable (up to 4;\n"
"                              default: the IPv4 nameservers of\n"
"                              /etc/resolv.conf; loopback ones only with\n"
"                              --outside sock), reached through the uplink\n"
"                              from the external address, UDP port 49151\n"
"  --host-ip A.B.C.D           address answered for host.DOMAIN (default: the\n"
"                              gateway's with --outside sock, else none)\n"
"  --no-map-gateway            --outside sock: the gateway address does not\n"
"                              reach the host's loopback (by default, a TCP\n"
"                              or UDP port the gateway does not serve itself\n"
"                              is that port of 127.0.0.1 on the host)\n"
"  --dns-min-ttl S, --dns-max-ttl S\n"
"                              clamp cached TTLs (defaults 0 and 86400)\n"
"\n";

static const char gw_usage_more[] =
"Diagnostics:\n"
"  --pcap FILE                 capture every packet at both ports, as received\n"
"                              and as sent, to FILE (pcap; L3 packets get a\n"
"                              synthetic Ethernet header)\n"
"  --stats-interval S          print a one-line summary every S seconds\n"
"  --debug                     verbose log\n"
"\n"
"Control (docs/control.md; `arcnat ctl --help`):\n"
"  --control PATH              the control socket (default:\n"
"                              $XDG_RUNTIME_DIR/arcnat/NAME.sock, else\n"
"                              /run/arcnat/NAME.sock), mode 0600, owned by\n"
"                              the user arcnat runs as\n"
"  --name NAME                 this arcnat's name (default arcnat); without\n"
"                              --name or --control a default socket another\n"
"                              arcnat serves means no control socket (a\n"
"                              warning), else it is an error\n"
"  --no-control                no control socket\n"
"  --metrics-file PATH         write every counter in the Prometheus text\n"
"                              format to PATH (atomically: a temporary file\n"
"                              renamed), for node_exporter's textfile collector\n"
"  --metrics-interval S        seconds between those writes (default 5)\n"
"\n"
"Testing:\n"
"  --test-faults SPEC          FOR TESTS ONLY: lose, duplicate, reorder or\n"
"                              delay frames of the first --inside (a TAP or\n"
"                              dgram port), as this kernel has no netem:\n"
"                              drop=P%,dup=P%,reorder=P%,delay=Nms|Nus,\n"
"                              dir=rx|tx|both,seed=N (see arcnat(1))\n"
"  -h, --help                  this text\n"
"\n"
"Least privilege (see docs/security.md), once the devices are open:\n"
"  --user USER                 run as USER (started as root: default nobody);\n"
"                              no capabilities are kept, no_new_privs is set\n"
"                              and a seccomp allow-list is loaded. The\n"
"                              --lease-file directory must be writable by USER.\n"
"  --no-drop-privileges        stay root, with its capabilities (no_new_privs\n"
"                              and seccomp still apply)\n"
"  --no-sandbox                none of it, for debugging\n"
"\n"
"Signals: SIGUSR1 prints statistics (`stat NAME VALUE` lines) to stderr;\n"
"SIGINT and SIGTERM stop cleanly and print the final statistics.\n"
"Exit status: 0 after a clean stop, 1 on a runtime error, 2 on a usage error,\n"
"159 if the sandbox blocked a system call.\n"
"See arcnat(1).\n";

enum {
	OPT_INSIDE = 256, OPT_OUTSIDE, OPT_EXT, OPT_GW, OPT_NEXT_HOP, OPT_MTU,
	OPT_FORWARD, OPT_FILTERING, OPT_MAX_FLOWS, OPT_TO_EST, OPT_TO_TRANS,
	OPT_TO_TW, OPT_TO_UDP, OPT_TO_ICMP, OPT_SHORT_UDP, OPT_PCAP,
	OPT_STATS_INTERVAL, OPT_DEBUG, OPT_NO_DHCP, OPT_DHCP_RANGE, OPT_DHCP_HOST,
	OPT_LEASE_TIME, OPT_LEASE_FILE, OPT_DOMAIN, OPT_NO_DNS, OPT_DNS,
	OPT_HOST_IP, OPT_DNS_MIN_TTL, OPT_DNS_MAX_TTL, OPT_USER, OPT_NO_DROP,
	OPT_NO_SANDBOX, OPT_ISOLATE, OPT_TEST_FAULTS, OPT_NO_GRO,
	OPT_CONTROL, OPT_NAME, OPT_NO_CONTROL, OPT_METRICS_FILE,
	OPT_METRICS_INTERVAL,
	OPT_NO_MAP_GW, OPT_FLOW_STATS, OPT_BUSY_POLL,
	OPT_TCP_FWD = 't', OPT_UDP_FWD = 'u',
};

static const struct option gw_options[] = {
	{ "inside", required_argument, NULL, OPT_INSIDE },
	{ "outside", required_argument, NULL, OPT_OUTSIDE },
	{ "external-ip", required_argument, NULL, OPT_EXT },
	{ "gateway-ip", required_argument, NULL, OPT_GW },
	{ "next-hop", required_argument, NULL, OPT_NEXT_HOP },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "forward", required_argument, NULL, OPT_FORWARD },
	{ "tcp-forward", required_argument, NULL, OPT_TCP_FWD },
	{ "udp-forward", required_argument, NULL, OPT_UDP_FWD },
	{ "filtering", required_argument, NULL, OPT_FILTERING },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "timeout-tcp-established", required_argument, NULL, OPT_TO_EST },
	{ "timeout-tcp-transitory", required_argument, NULL, OPT_TO_TRANS },
	{ "timeout-tcp-time-wait", required_argument, NULL, OPT_TO_TW },
	{ "timeout-udp", required_argument, NULL, OPT_TO_UDP },
	{ "timeout-icmp", required_argument, NULL, OPT_TO_ICMP },
	{ "allow-short-udp-timeout", no_argument, NULL, OPT_SHORT_UDP },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "no-dhcp", no_argument, NULL, OPT_NO_DHCP },
	{ "dhcp-range", required_argument, NULL, OPT_DHCP_RANGE },
	{ "dhcp-host", required_argument, NULL, OPT_DHCP_HOST },
	{ "lease-time", required_argument, NULL, OPT_LEASE_TIME },
	{ "lease-file", required_argument, NULL, OPT_LEASE_FILE },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "no-dns", no_argument, NULL, OPT_NO_DNS },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "host-ip", required_argument, NULL, OPT_HOST_IP },
	{ "no-map-gateway", no_argument, NULL, OPT_NO_MAP_GW },
	{ "flow-stats", no_argument, NULL, OPT_FLOW_STATS },
	{ "dns-min-ttl", required_argument, NULL, OPT_DNS_MIN_TTL },
	{ "dns-max-ttl", required_argument, NULL, OPT_DNS_MAX_TTL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-drop-privileges", no_argument, NULL, OPT_NO_DROP },
	{ "no-sandbox", no_argument, NULL, OPT_NO_SANDBOX },
	{ "isolate", no_argument, NULL, OPT_ISOLATE },
	{ "test-faults", required_argument, NULL, OPT_TEST_FAULTS },
	{ "no-gro", no_argument, NULL, OPT_NO_GRO },
	{ "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "no-control", no_argument, NULL, OPT_NO_CONTROL },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "metrics-interval", required_argument, NULL, OPT_METRICS_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};



/* The command whose options are parsed, for "Try 'arcnat NAME --help'". */
static const char *gw_cmd_name = "gateway";

/* Print "arcnat: <message>" and the hint; Return: the usage exit status. */
__printf(1, 2) static int gw_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("arcnat: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'arcnat %s --help'.\n", gw_cmd_name);
	va_end(ap);
	return 2;
}

static int gw_timeout(struct gw_opts *o, int idx, const char *name,
		      const char *val)
{
	uint32_t v;

	if (opts_parse_u32(val, 1, CT_TO_MAX, &v))
		return gw_usage_error("--%s: '%s' is not a number of seconds "
				      "in 1..2592000", name, val);
	o->nat.timeouts.sec[idx] = v;
	return 0;
}

/* The host side of forward o->fwd[o->n_fwd], made just now: with sock,
 * arcnat listens on @addr and the external port. */
static void gw_forward_host(struct gw_opts *o, uint32_t addr)
{
	const struct nat_forward *f = &o->fwd[o->n_fwd];

	o->fwd_host[o->n_fwd++] = (struct sock_forward){
		.proto = f->proto,
		.addr = addr,
		.port = f->ext_port,
	};
}

/* -t/-u: a range of host ports to as many guest ports. */
static int gw_parse_pasta_forward(struct gw_opts *o, bool tcp, const char *arg)
{
	const char *opt = tcp ? "tcp-forward" : "udp-forward";
	struct opts_port_range r;
	unsigned int n;

	if (opts_parse_port_range(arg, &r))
		return gw_usage_error("--%s: '%s' is not [ADDR/]PORTS[:PORTS] "
				      "(PORTS: P or P-Q, both sides as long)",
				      opt, arg);
	n = (unsigned int)(r.host_last - r.host_first) + 1;
	if (n > GW_MAX_FORWARDS - o->n_fwd)
		return gw_usage_error("--%s: '%s': more than %u forwarded ports "
				      "in all", opt, arg, GW_MAX_FORWARDS);
	for (unsigned int k = 0; k < n; k++) {
		o->fwd[o->n_fwd] = (struct nat_forward){
			.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP,
			.ext_port = (uint16_t)(r.host_first + k),
			.int_port = (uint16_t)(r.guest_first + k),
		};
		gw_forward_host(o, r.addr);
	}
	o->fwd_pasta = true;
	return 0;
}

/* Forward targets must be guests: inside the gateway's subnet, not it. */
static int gw_check_forwards(const struct gw_opts *o)
{
	uint32_t mask = ip4_prefix_mask(o->gw_plen);
	char a[INET_ADDRSTRLEN];

	for (unsigned int i = 0; i < o->n_fwd; i++) {
		const struct nat_forward *f = &o->fwd[i];
		uint32_t t = f->int_addr;

		inet_ntop(AF_INET, &t, a, sizeof(a));
		if (t && ((t & mask) != (o->gw_addr & mask) || t == o->gw_addr ||
			  (t & ~mask) == ~mask || (t & ~mask) == 0))
			return gw_usage_error("--forward: %s is not a guest address "
					      "in the gateway's subnet (--gateway-ip)",
					      a);
		for (unsigned int j = 0; j < i; j++) {
			const struct nat_forward *g = &o->fwd[j];

			if (g->proto == f->proto &&
			    (g->ext_port == f->ext_port ||
			     (g->int_addr == t && g->int_port == f->int_port)))
				return gw_usage_error(
					"%s port %u is forwarded twice (the same "
					"external port, or the same guest port "
					"twice)", f->proto == IPPROTO_TCP ? "TCP" :
					"UDP", f->ext_port);
		}
	}
	return 0;
}

/* The gateway address must be a host of its subnet; the next hop an
 * on-link host of the external prefix other than the external address. */
static int gw_check_addrs(const struct gw_opts *o)
{
	uint32_t gmask = ip4_prefix_mask(o->gw_plen);
	uint32_t emask = ip4_prefix_mask(o->ext_plen);

	if (!pkt_ip4_host(o->gw_addr) || (o->gw_addr & ~gmask) == 0 ||
	    (o->gw_addr & ~gmask) == ~gmask)
		return gw_usage_error("--gateway-ip: not a host address of its "
				      "subnet");
	if (o->next_hop && ((o->next_hop & emask) != (o->ext_addr & emask) ||
			    o->next_hop == o->ext_addr))
		return gw_usage_error("--next-hop: must be another address in "
				      "the --external-ip prefix (on-link)");
	return 0;
}

static int gw_parse_service(struct gw_opts *o, int c, const char *name,
			    const char *arg);
static int gw_finish(struct gw_opts *o, const struct gateway_cmd *cmd,
		     int argc, char **argv);
static int gw_finish_core(struct gw_opts *o, const struct gateway_cmd *cmd,
			  int argc, char **argv);
static int gw_finish_services(struct gw_opts *o);
static int gw_finish_sock(struct gw_opts *o);
static int gw_finish_sandbox(struct gw_opts *o, const struct gateway_cmd *cmd);

int gw_inside_parse(struct gw_inside *in, const char *arg)
{
	const char *v = arg;

	memset(in, 0, sizeof(*in));
	if (!strncmp(arg, "stream:", 7)) {
		in->stream = true;
		v = arg + 7;
	} else if (!strncmp(arg, "dgram:", 6)) {
		in->dgram = true;
		v = arg + 6;
	} else if (!strncmp(arg, "vhost-user:", 11)) {
		in->vhost = true;
		v = arg + 11;
	} else if (!strncmp(arg, "tap:", 4)) {
		v = arg + 4;
	}
	if (strlen(v) >= sizeof(in->buf))
		return -ENAMETOOLONG;
	snprintf(in->buf, sizeof(in->buf), "%s", v);
	if ((in->stream || in->dgram || in->vhost) && (!in->buf[0] || strlen(in->buf) > 107))
		return -ERANGE;
	if (!in->stream && !in->dgram && !in->vhost && opts_split_netns(in->buf, &in->ns))
		return -EINVAL;
	return 0;
}

/* One --inside. Split a copy: argv stays as the user wrote it (ps).
 * Return: 0, or the usage exit status. */
static int gw_parse_inside(struct gw_opts *o, const char *name, const char *arg)
{
	int err;

	if (o->n_inside == GW_INSIDE_MAX)
		return gw_usage_error("--%s: more than %u", name, GW_INSIDE_MAX);
	err = gw_inside_parse(&o->inside[o->n_inside], arg);
	if (err == -ENAMETOOLONG)
		return gw_usage_error("--%s: '%s' is too long", name, arg);
	if (err == -ERANGE)
		return gw_usage_error("--%s: '%s': PATH must be 1..107 bytes",
				      name, arg);
	if (err)
		return gw_usage_error("--%s: '%s' is not [tap:]IFACE[@NETNS], "
				      "stream:PATH, dgram:PATH or vhost-user:PATH "
				      "(IFACE up to 15 bytes)",
				      name, arg);
	o->n_inside++;
	return 0;
}

/* --help: the command's text (or the gateway's devices), then the rest. */
static void gw_print_usage(const struct gateway_cmd *cmd)
{
	if (cmd) {
		fputs(cmd->usage, stdout);
	} else {
		fputs(gw_usage, stdout);
		fputs(gw_usage_uplink, stdout);
	}
	fputs(gw_usage_nat, stdout);
	fputs(gw_usage_services, stdout);
	fputs(gw_usage_more, stdout);
}

/*
 * The command's options first (getopt_long() takes the first exact match),
 * then the gateway's. Return: 0, or -E2BIG for too many.
 */
static int gw_merge_options(const struct gateway_cmd *cmd, struct option *all,
			    size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; cmd && cmd->options && cmd->options[i].name; i++) {
		if (i == GATEWAY_CMD_OPTS_MAX)
			return -E2BIG;
		all[n++] = cmd->options[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(gw_options) && n < cap; i++)
		all[n++] = gw_options[i];	/* ends with the zero entry */
	return 0;
}

/* Return: 0, or the exit status for a usage error. */
int gw_parse(int argc, char **argv, struct gw_opts *o,
		    const struct gateway_cmd *cmd)
{
	struct option all[ARRAY_SIZE(gw_options) + GATEWAY_CMD_OPTS_MAX];
	uint32_t v;
	int c;

	o->nat.filtering = NAT_FILTER_APDF;
	o->nat.max_flows = GW_DEFAULT_MAX_FLOWS;
	o->nat.port_min = NAT_DEFAULT_PORT_MIN;
	o->nat.port_max = NAT_DEFAULT_PORT_MAX;
	ct_timeouts_default(&o->nat.timeouts);
	opts_parse_ip4(GW_DEFAULT_ADDR, &o->gw_addr);
	o->gw_plen = GW_DEFAULT_PLEN;
	o->busy_poll_us = GW_DEFAULT_BUSY_POLL_US;
	if (cmd)
		o->mtu = cmd->default_mtu;
	gw_cmd_name = cmd ? cmd->name : "gateway";
	ARC_ASSERT(gw_merge_options(cmd, all, ARRAY_SIZE(all)) == 0);

	/* getopt_long() names argv[0] in its messages: make that "arcnat". */
	argv[0] = (char *)"arcnat";
	optind = 1;
	/* "+": a command's arguments (CMD ARGS) are not permuted into options. */
	while ((c = getopt_long(argc, argv, cmd && cmd->args ? "+ht:u:" : "ht:u:",
				all, NULL)) != -1) {
		const char *name = "";
		int rc = 0;

		for (size_t i = 0; c >= 256 && all[i].name; i++)
			if (all[i].val == c)
				name = all[i].name;
		if (c >= GATEWAY_CMD_OPT_BASE && cmd) {
			rc = cmd->parse(cmd->ctx, c, name, optarg);
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case 'h':
			gw_print_usage(cmd);
			exit(0);
		case OPT_INSIDE:
			rc = gw_parse_inside(o, name, optarg);
			break;
		case OPT_OUTSIDE:
			o->outside_tun = !strncmp(optarg, "tun:", 4);
			snprintf(o->outside_buf, sizeof(o->outside_buf), "%s",
				 optarg + (o->outside_tun ? 4 : 0));
			o->outside = o->outside_buf;
			if (strlen(optarg) >= sizeof(o->outside_buf) ||
			    opts_split_netns(o->outside_buf, &o->outside_ns))
				rc = gw_usage_error("--%s: '%s' is not IFACE[@NETNS] or "
						    "tun:NAME[@NETNS]", name, optarg);
			break;
		case OPT_EXT:
			if (opts_parse_prefix(optarg, 0, &o->ext_addr, &o->ext_plen) ||
			    o->ext_plen == 0 || !pkt_ip4_host(o->ext_addr))
				rc = gw_usage_error("--%s: '%s' is not A.B.C.D/LEN "
						    "(LEN 1..32, a unicast host address)",
						    name, optarg);
			break;
		case OPT_GW:
			if (opts_parse_prefix(optarg, 0, &o->gw_addr, &o->gw_plen) ||
			    o->gw_plen < 1 || o->gw_plen > 30)
				rc = gw_usage_error("--%s: '%s' is not A.B.C.D/LEN "
						    "(LEN 1..30)", name, optarg);
			break;
		case OPT_NEXT_HOP:
			if (opts_parse_ip4(optarg, &o->next_hop) ||
			    !pkt_ip4_host(o->next_hop))
				rc = gw_usage_error("--%s: '%s' is not a unicast IPv4 "
						    "address", name, optarg);
			break;
		case OPT_MTU:
			if (opts_parse_u32(optarg, GW_MTU_MIN, GW_MTU_MAX, &o->mtu))
				rc = gw_usage_error("--%s: '%s' is not in 576..65520",
						    name, optarg);
			break;
		case OPT_FORWARD:
			if (o->n_fwd == GW_MAX_FORWARDS)
				rc = gw_usage_error("--%s: more than %u forwarded "
						    "ports (at '%s')", name,
						    GW_MAX_FORWARDS, optarg);
			else if (opts_parse_forward(optarg, &o->fwd[o->n_fwd]))
				rc = gw_usage_error("--%s: '%s' is not tcp|udp:EXTPORT:"
						    "INTADDR:INTPORT", name, optarg);
			else if (!o->fwd[o->n_fwd].int_addr)	/* 0: -t/-u's */
				rc = gw_usage_error("--forward: 0.0.0.0 is not a "
						    "guest address in the gateway's "
						    "subnet (--gateway-ip)");
			else
				gw_forward_host(o, 0);
			break;
		case OPT_TCP_FWD:
		case OPT_UDP_FWD:
			rc = gw_parse_pasta_forward(o, c == OPT_TCP_FWD, optarg);
			break;
		case OPT_FILTERING:
			if (opts_parse_filtering(optarg, &o->nat.filtering))
				rc = gw_usage_error("--%s: '%s' is not eif, adf or "
						    "apdf", name, optarg);
			break;
		case OPT_MAX_FLOWS:
			if (opts_parse_u32(optarg, 1, GW_MAX_FLOWS_MAX, &v))
				rc = gw_usage_error("--%s: '%s' is not in 1..16777216",
						    name, optarg);
			o->nat.max_flows = v;
			break;
		case OPT_TO_EST:
			rc = gw_timeout(o, CT_TO_TCP_ESTABLISHED, name, optarg);
			break;
		case OPT_TO_TRANS:
			rc = gw_timeout(o, CT_TO_TCP_TRANSITORY, name, optarg);
			break;
		case OPT_TO_TW:
			rc = gw_timeout(o, CT_TO_TCP_TIME_WAIT, name, optarg);
			break;
		case OPT_TO_UDP:
			rc = gw_timeout(o, CT_TO_UDP_ASSURED, name, optarg);
			o->nat.timeouts.sec[CT_TO_UDP_UNREPLIED] =
				o->nat.timeouts.sec[CT_TO_UDP_ASSURED];
			break;
		case OPT_TO_ICMP:
			rc = gw_timeout(o, CT_TO_ICMP, name, optarg);
			break;
		case OPT_SHORT_UDP:
			o->nat.allow_short_udp = true;
			break;
		case OPT_PCAP:
			o->pcap = optarg;
			break;
		case OPT_STATS_INTERVAL:
			if (opts_parse_u32(optarg, 1, 86400, &o->stats_interval))
				rc = gw_usage_error("--%s: '%s' is not in 1..86400",
						    name, optarg);
			break;
		case OPT_DEBUG:
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case OPT_CONTROL:
			o->control = optarg;
			if (!optarg[0] || strlen(optarg) >= UNIX_LISTEN_PATH_MAX)
				rc = gw_usage_error("--%s: PATH must be 1..107 bytes",
						    name);
			break;
		case OPT_NAME:
			o->name = optarg;
			if (!ctl_name_ok(optarg))
				rc = gw_usage_error("--%s: '%s' is not 1..64 of "
						    "[A-Za-z0-9._-], not starting "
						    "with '.'", name, optarg);
			break;
		case OPT_NO_CONTROL:
			o->no_control = true;
			break;
		case OPT_METRICS_FILE:
			o->metrics_file = optarg;
			if (!optarg[0])
				rc = gw_usage_error("--%s: empty path", name);
			break;
		case OPT_METRICS_INTERVAL:
			if (opts_parse_u32(optarg, 1, 86400, &o->metrics_interval))
				rc = gw_usage_error("--%s: '%s' is not in 1..86400",
						    name, optarg);
			break;
		case OPT_USER:
			o->user = optarg;
			if (!optarg[0])
				rc = gw_usage_error("--%s: empty user name", name);
			break;
		case OPT_NO_DROP:
			o->no_drop = true;
			break;
		case OPT_NO_SANDBOX:
			o->no_sandbox = true;
			break;
		case OPT_ISOLATE:
			o->isolate = true;
			break;
		case OPT_NO_GRO:
			o->no_gro = true;
			break;
		case OPT_BUSY_POLL:
			if (opts_parse_u32(optarg, 0, GW_BUSY_POLL_MAX_US,
					   &o->busy_poll_us))
				rc = gw_usage_error("--%s: '%s' is not in 0..%u",
						    name, optarg,
						    GW_BUSY_POLL_MAX_US);
			break;
		case OPT_TEST_FAULTS: {
			char why[256];

			if (dp_fault_parse(optarg, &o->fault, why, sizeof(why)))
				rc = gw_usage_error("--%s: %s", name, why);
			o->faults = true;
			break;
		}
		default:
			rc = gw_parse_service(o, c, name, optarg);
			break;
		}
		if (rc)
			return rc;
	}
	return gw_finish(o, cmd, argc, argv);
}

/* The services' options. Return: 0, or the usage exit status. */
static int gw_parse_service(struct gw_opts *o, int c, const char *name,
			    const char *arg)
{
	char first[INET_ADDRSTRLEN];
	const char *comma;
	uint32_t v;

	switch (c) {
	case OPT_NO_DHCP:
		o->no_dhcp = true;
		return 0;
	case OPT_NO_DNS:
		o->no_dns = true;
		return 0;
	case OPT_DHCP_RANGE:
		comma = strchr(arg, ',');
		if (!comma || (size_t)(comma - arg) >= sizeof(first))
			break;
		memcpy(first, arg, (size_t)(comma - arg));
		first[comma - arg] = '\0';
		if (opts_parse_ip4(first, &o->dhcp.pool_first) ||
		    opts_parse_ip4(comma + 1, &o->dhcp.pool_last) ||
		    ntohl(o->dhcp.pool_first) > ntohl(o->dhcp.pool_last))
			break;
		return 0;
	case OPT_DHCP_HOST:
		if (o->dhcp.n_hosts == GW_MAX_DHCP_HOSTS)
			return gw_usage_error("--%s: more than %u reservations",
					      name, GW_MAX_DHCP_HOSTS);
		if (dhcp_parse_host(arg, &o->hosts[o->dhcp.n_hosts]))
			return gw_usage_error("--%s: '%s' is not MAC,IP[,NAME]",
					      name, arg);
		o->dhcp.n_hosts++;
		return 0;
	case OPT_LEASE_TIME:
		if (opts_parse_u32(arg, 60, DHCP_LEASE_SEC_MAX, &o->dhcp.lease_sec))
			return gw_usage_error("--%s: '%s' is not in 60..%u", name,
					      arg, DHCP_LEASE_SEC_MAX);
		return 0;
	case OPT_LEASE_FILE:
		o->dhcp.lease_file = arg;
		return 0;
	case OPT_DOMAIN:
		o->dhcp.domain = arg;
		o->dns.domain = arg;
		return 0;
	case OPT_DNS:
		if (o->dns.n_upstream == DNS_MAX_UPSTREAM)
			return gw_usage_error("--%s: more than %u servers", name,
					      DNS_MAX_UPSTREAM);
		/* Loopback (--outside sock only): gw_finish_services(). */
		if (opts_parse_ip4(arg, &o->dns.upstream[o->dns.n_upstream]) ||
		    (!pkt_ip4_host(o->dns.upstream[o->dns.n_upstream]) &&
		     ntohl(o->dns.upstream[o->dns.n_upstream]) >> 24 != 127))
			break;
		o->dns.n_upstream++;
		return 0;
	case OPT_HOST_IP:
		if (opts_parse_ip4(arg, &o->dns.host_addr) ||
		    !pkt_ip4_host(o->dns.host_addr))
			break;
		return 0;
	case OPT_FLOW_STATS:
		o->nat.flow_stats = true;
		return 0;
	case OPT_NO_MAP_GW:
		o->no_map_gateway = true;
		return 0;
	case OPT_DNS_MIN_TTL:
	case OPT_DNS_MAX_TTL:
		if (opts_parse_u32(arg, 0, 7 * 86400, &v))
			return gw_usage_error("--%s: '%s' is not in 0..604800", name,
					      arg);
		*(c == OPT_DNS_MIN_TTL ? &o->dns.min_ttl : &o->dns.max_ttl) = v;
		return 0;
	default:	/* getopt_long() printed the reason */
		fprintf(stderr, "Try 'arcnat %s --help'.\n", gw_cmd_name);
		return 2;
	}
	return gw_usage_error("--%s: '%s' is not a valid value", name, arg);
}

/* After the options: required ones, consistency, defaults. */
static int gw_finish(struct gw_opts *o, const struct gateway_cmd *cmd,
		     int argc, char **argv)
{
	int rc;

	rc = gw_finish_core(o, cmd, argc, argv);
	if (rc)
		return rc;
	return gw_finish_services(o);
}

static int gw_finish_core(struct gw_opts *o, const struct gateway_cmd *cmd,
			  int argc, char **argv)
{
	int rc;

	if (optind < argc && !(cmd && cmd->args))
		return gw_usage_error("'%s': unexpected argument", argv[optind]);
	if (cmd && o->n_inside)
		return gw_usage_error("--inside: not an option of 'arcnat %s' (it "
				      "brings its own guest port)", cmd->name);
	if (!cmd && !o->n_inside)
		return gw_usage_error("--inside is required");
	if (!o->outside && cmd && cmd->default_outside) {
		snprintf(o->outside_buf, sizeof(o->outside_buf), "%s",
			 cmd->default_outside);
		o->outside = o->outside_buf;
	}
	if (!o->outside)
		return gw_usage_error("--outside is required");
	if (gw_finish_sock(o))
		return 2;
	if (!o->ext_plen)
		return gw_usage_error("--external-ip is required");
	if (ct_timeouts_validate(&o->nat.timeouts, o->nat.allow_short_udp))
		return gw_usage_error("--timeout-udp below 120 s needs "
				      "--allow-short-udp-timeout (RFC 4787 REQ-5)");
	if (o->next_hop && o->outside_tun)
		return gw_usage_error("--next-hop applies to an AF_PACKET uplink, "
				      "not to tun:");
	if (gw_check_addrs(o))
		return 2;
	if (gw_check_forwards(o))
		return 2;
	if (o->no_control && (o->control || o->name))
		return gw_usage_error("--no-control: not with --control or --name");
	if (o->control && o->name)
		return gw_usage_error("--control and --name: one or the other");
	rc = gw_finish_sandbox(o, cmd);
	o->sb.sock = o->outside_sock;	/* its system calls (sandbox.h) */
	return rc;
}

/* --outside sock: the reserved external address, and what does not apply. */
static int gw_finish_sock(struct gw_opts *o)
{
	o->outside_sock = !o->outside_tun && !o->outside_ns &&
			  !strcmp(o->outside, "sock");
	if (!o->outside_sock && o->no_map_gateway)
		return gw_usage_error("--no-map-gateway applies to --outside sock");
	if (!o->outside_sock && o->fwd_pasta)
		return gw_usage_error("-t/--tcp-forward and -u/--udp-forward "
				      "listen on the host: they need --outside "
				      "sock (with a packet uplink, --forward)");
	if (!o->outside_sock)
		return 0;
	if (o->ext_plen)
		return gw_usage_error("--external-ip does not apply to --outside "
				      "sock (its external address is the "
				      "reserved 198.18.0.1)");
	if (o->next_hop)
		return gw_usage_error("--next-hop applies to an AF_PACKET uplink, "
				      "not to sock");
	if ((o->gw_addr & ip4_prefix_mask(MIN(o->gw_plen, SOCK_RANGE_PLEN))) ==
	    (htonl(SOCK_RANGE_NET_HOST) & ip4_prefix_mask(MIN(o->gw_plen,
							       SOCK_RANGE_PLEN))))
		return gw_usage_error("--gateway-ip: the guests' subnet overlaps "
				      "198.18.0.0/15, which --outside sock "
				      "keeps for itself");
	o->ext_addr = htonl(SOCK_EXT_ADDR_HOST);
	o->ext_plen = 32;
	/* A loopback client of a forward appears as the gateway. */
	o->nat.inbound_alias = (struct nat_alias){
		.addr = htonl(SOCK_LO_NET_HOST),
		.mask = htonl(SOCK_LO_MASK_HOST),
		.to = o->gw_addr,
	};
	o->map_gateway = !o->no_map_gateway;
	if (o->map_gateway && !o->dns.host_addr)
		o->dns.host_addr = o->gw_addr;
	return 0;
}

/* Who arcnat becomes once its devices are open (app/sandbox.h). */
static int gw_finish_sandbox(struct gw_opts *o, const struct gateway_cmd *cmd)
{
	enum sandbox_mode mode = o->no_sandbox ? SANDBOX_OFF :
				 o->no_drop ? SANDBOX_KEEP_ROOT : SANDBOX_FULL;
	int err;

	if (o->user && o->no_drop)
		return gw_usage_error("--user and --no-drop-privileges exclude "
				      "each other");
	if (o->user && o->no_sandbox)
		return gw_usage_error("--user and --no-sandbox exclude each other "
				      "(--no-sandbox keeps the user)");
	if (o->user && cmd && cmd->keep_user)
		return gw_usage_error("--user: not an option of 'arcnat %s' (arcnat "
				      "keeps its user to signal CMD)", cmd->name);
	if (cmd && cmd->keep_user) {
		/* Root stays uid 0 (without capabilities), as sandbox_init()
		 * leaves a user who is not root. */
		memset(&o->sb, 0, sizeof(o->sb));
		o->sb.mode = mode;
		return 0;
	}
	err = sandbox_init(&o->sb, o->user, mode);
	if (err == -ENOENT)
		return gw_usage_error("--user: no user '%s'%s",
				      o->user ? o->user : SANDBOX_DEFAULT_USER,
				      o->user ? "" : " (the default when started "
				      "as root): pass --user USER or "
				      "--no-drop-privileges");
	if (err == -EPERM)
		return gw_usage_error("--user: switching users needs root (arcnat "
				      "runs as uid %u)", (unsigned int)getuid());
	if (err)
		return gw_usage_error("--user: '%s': %s", o->user, strerror(-err));
	return 0;
}

/* Whether upstream server @a can be asked through the uplink; a loopback
 * one becomes its image with the socket uplink. */
static bool gw_upstream_ok(const struct gw_opts *o, uint32_t *a)
{
	if (pkt_ip4_host(*a))
		return true;
	return o->outside_sock && (ntohl(*a) >> 24) == 127 &&
	       sock_addr_from_host(a);
}

/* DHCP and DNS parameters from the options and the defaults. */
static int gw_finish_services(struct gw_opts *o)
{
	uint32_t found[DNS_MAX_UPSTREAM];
	unsigned int n = 0;

	for (unsigned int i = 0; i < o->dns.n_upstream; i++) {
		char a[INET_ADDRSTRLEN];
		uint32_t u = o->dns.upstream[i];

		if (gw_upstream_ok(o, &o->dns.upstream[i]))
			continue;
		inet_ntop(AF_INET, &u, a, sizeof(a));
		return gw_usage_error("--dns %s: a loopback server is reached "
				      "only with --outside sock (in 127.0.0.0/16)",
				      a);
	}
	if (!o->no_dns && !o->dns.n_upstream) {
		/* A loopback resolver of this host (systemd-resolved's
		 * 127.0.0.53, a local dnsmasq) is reached by the socket
		 * uplink as its image (uplink/sock_defs.h); a packet uplink
		 * cannot reach it: skipped, as pasta and slirp4netns do. */
		if (dns_read_resolv_conf(GW_RESOLV_CONF, found, DNS_MAX_UPSTREAM,
					 &n) == 0) {
			for (unsigned int i = 0; i < n; i++)
				if (gw_upstream_ok(o, &found[i]))
					o->dns.upstream[o->dns.n_upstream++] =
						found[i];
		}
		if (!o->dns.n_upstream)
			log_warn("no usable nameserver in %s and no --dns: the DNS "
				 "forwarder answers local names only (SERVFAIL "
				 "for the rest)", GW_RESOLV_CONF);
	}
	for (unsigned int i = 0; !o->no_dns && i < o->n_fwd; i++)
		if (o->fwd[i].proto == IPPROTO_UDP &&
		    o->fwd[i].ext_port == DP_SVC_DNS_PORT)
			return gw_usage_error("--forward udp:%u: that port is the DNS "
					      "forwarder's (use --no-dns to free it)",
					      DP_SVC_DNS_PORT);
	o->dns.gateway_addr = o->gw_addr;

	o->dhcp.server = o->gw_addr;
	o->dhcp.plen = o->gw_plen;
	memcpy(o->dhcp.server_mac, gw_default_mac, sizeof(o->dhcp.server_mac));
	o->dhcp.mtu = (uint16_t)(o->mtu ? o->mtu : 1500);
	o->dhcp.hosts = o->hosts;
	if (o->no_dns) {
		/* Guests then ask the upstream servers themselves. */
		for (unsigned int i = 0; i < o->dns.n_upstream && i < DHCP_DNS_MAX; i++)
			o->dhcp.dns[o->dhcp.n_dns++] = o->dns.upstream[i];
	}
	return 0;
}

