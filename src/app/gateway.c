// SPDX-License-Identifier: MIT
/*
 * gateway.c - `arcnat gateway`: device set-up, the worker thread, signals
 * (the options are gw_opts.c).
 *
 * Theory of operation: everything that can fail for a user-visible reason
 * (options, namespaces, devices, permissions) happens before the worker
 * starts, and each failure is one line on stderr and a non-zero exit. Then
 * the main thread only waits for signals (signalfd; every signal arcnat
 * handles is blocked in all threads) and turns them into requests to the
 * worker: SIGUSR1 prints statistics, SIGINT/SIGTERM stop it, after which the
 * final statistics are printed and everything is torn down in reverse order.
 */
#include "app/gateway.h"
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
#include "app/version.h"
#include "core/clock.h"
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
#include "uplink/packet.h"
#include "uplink/sock.h"
#include "uplink/tun.h"
#include "ctl/proto.h"
#include "ctl/rt.h"
#include "ctl/server.h"

/**
 * struct gateway - the gateway's options and everything it opened, from
 * gateway_parse() to gateway_free().
 * @o:         the options
 * @cmd:       the command built on the gateway, or NULL (`arcnat gateway`)
 * @inside:    the guest ports the worker does not own (yet)
 * @outside:   the uplink
 * @pcap:      --pcap
 * @nat:       the NAT
 * @worker:    the worker
 * @leases:    the lease file's writer
 * @lease_dir: its directory, or -1
 * @ctl:       the control socket and metrics file, or NULL
 * @rt:        the control socket's changes (forwards, guests), or NULL
 */
struct gateway {
	struct gw_opts o;
	const struct gateway_cmd *cmd;
	struct dp_port *inside[GW_INSIDE_MAX];
	struct dp_port *outside;
	struct dp_pcap *pcap;
	struct nat *nat;
	struct dp_worker *worker;
	struct dp_persist *leases;
	int lease_dir;
	struct ctl_server *ctl;
	struct ctl_rt *rt;
};

/* The socket uplink; its limits said at start. */
static int gw_open_sock(const struct gw_opts *o, const struct nat *nat,
			uint32_t guest_mtu, struct dp_port **out)
{
	const struct sock_uplink_cfg sc = {
		.ext_addr = o->ext_addr,
		.ct = nat_ct(nat),
		.pinned_udp = DP_SVC_DNS_PORT,
		.guest_mtu = guest_mtu,
		.fwd = o->fwd_host,
		.n_fwd = o->n_fwd,
	};
	struct sock_uplink_stats st;
	int err = sock_uplink_open(out, &sc);

	if (err) {
		log_err("--outside sock: %s", strerror(-err));
		return err;
	}
	sock_uplink_get_stats(*out, &st);
	log_info("sock: flows leave through host sockets; up to %" PRIu64
		 " datagram sockets and %" PRIu64 " TCP connections (the "
		 "descriptor limit), %u flows (--max-flows)", st.max_sockets,
		 st.max_tcp, ct_capacity(nat_ct(nat)));
	return 0;
}

static int gw_open_outside(const struct gw_opts *o, const struct nat *nat,
			   uint32_t guest_mtu, struct dp_port **out)
{
	if (o->outside_sock)
		return gw_open_sock(o, nat, guest_mtu, out);
	if (o->outside_tun) {
		const struct tun_uplink_cfg tc = {
			.ifname = o->outside,
			.netns = o->outside_ns,
			.mtu = o->mtu,
			.ext_addr = o->ext_addr,
			.ext_plen = o->ext_plen,
		};

		return tun_uplink_open(out, &tc);
	}
	const struct packet_uplink_cfg pc = {
		.ifname = o->outside,
		.netns = o->outside_ns,
		.ext_addr = o->ext_addr,
		.ext_plen = o->ext_plen,
		.next_hop = o->next_hop,
	};
	/* packet_uplink_open() says what failed. */
	return packet_uplink_open(out, &pc);
}

/* The DHCP pool's first address. Without --dhcp-range, the server's own
 * default: the first host after the network's address, skipping the
 * gateway. */
static uint32_t gw_pool_first(const struct gw_opts *o)
{
	uint32_t mask = ip4_prefix_mask(o->gw_plen);
	uint32_t a;

	if (o->dhcp.pool_first)
		return o->dhcp.pool_first;
	a = htonl(ntohl(o->gw_addr & mask) + 1);
	return a == o->gw_addr ? htonl(ntohl(a) + 1) : a;
}

/* Where -t/-u forward to: the first guest. */
static uint32_t gw_forward_guest(const struct gw_opts *o)
{
	return o->fwd_guest ? o->fwd_guest : gw_pool_first(o);
}

static int gw_build_nat(struct gw_opts *o, struct nat **nat)
{
	char a[INET_ADDRSTRLEN];
	int err;

	o->nat.ext_addrs[0] = o->ext_addr;
	o->nat.n_ext_addrs = 1;
	err = nat_create(nat, &o->nat);
	if (err) {
		log_err("cannot create the NAT: %s", strerror(-err));
		return err;
	}
	if (o->map_gateway) {
		/* Every TCP and UDP port of the gateway the services do not
		 * take is that port of the host's loopback (its image,
		 * uplink/sock_defs.h); the DNS-over-TCP redirect, an exact
		 * rule, wins over these. */
		struct nat_redirect rd = {
			.proto = IPPROTO_TCP,
			.addr = o->gw_addr,
			.to_addr = htonl(SOCK_LO_NET_HOST | 1u),
		};

		err = nat_add_redirect(*nat, &rd);
		rd.proto = IPPROTO_UDP;
		if (!err)
			err = nat_add_redirect(*nat, &rd);
		if (err) {
			log_err("the gateway's redirect to the host: %s",
				strerror(-err));
			return err;
		}
	}
	for (unsigned int i = 0; i < o->n_fwd; i++) {
		o->fwd[i].ext_addr = o->ext_addr;
		if (!o->fwd[i].int_addr)	/* -t/-u: the first guest */
			o->fwd[i].int_addr = gw_forward_guest(o);
		err = nat_add_forward(*nat, &o->fwd[i]);
		if (err) {
			inet_ntop(AF_INET, &o->fwd[i].int_addr, a, sizeof(a));
			log_err("forward %s:%u:%s:%u: %s",
				o->fwd[i].proto == IPPROTO_TCP ? "tcp" : "udp",
				o->fwd[i].ext_port, a, o->fwd[i].int_port,
				err == -EADDRINUSE ? "that external port, or that "
						     "internal address and port, is "
						     "already forwarded" :
						     strerror(-err));
			return err;
		}
	}
	if (o->n_fwd)
		log_info("%u port%s forwarded", o->n_fwd, o->n_fwd > 1 ? "s" : "");
	return 0;
}

/*
 * The lease file's directory stays open: the writer thread works in it with
 * openat() and renameat(), which also works after a privilege drop as long
 * as the directory is writable.
 */
static int gw_open_leases(const struct gw_opts *o, int *dirfd,
			  struct dp_persist **out)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct dp_persist_cfg pc = {
		.cap = DHCP_FILE_MAX,
		.retry_sec = DHCP_FILE_RETRY_SEC,
		.label = o->dhcp.lease_file,
	};
	int err;

	if (o->no_dhcp || !o->dhcp.lease_file)
		return 0;
	snprintf(dir, sizeof(dir), "%s", o->dhcp.lease_file);
	snprintf(base, sizeof(base), "%s", o->dhcp.lease_file);
	pc.name = basename(base);
	*dirfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0) {
		err = -errno;
		log_err("--lease-file %s: directory %s: %s", o->dhcp.lease_file,
			dir, strerror(-err));
		return err;
	}
	pc.dirfd = *dirfd;
	err = dp_persist_create(out, &pc);
	if (err)
		log_err("--lease-file %s: %s", o->dhcp.lease_file,
			err == -EINVAL ? "not a file name" : strerror(-err));
	return err;
}

/*
 * Everything privileged is open and no other thread exists yet: drop the
 * user and capabilities, make sure the lease file's directory is still
 * writable, then load the seccomp filter that the threads start under.
 */
/* Print the QEMU arguments that connect a guest to socket port @name. */
static void gw_print_qemu_args(const char *name, enum qemu_args_kind kind,
			       const char *path)
{
	char line[1024];

	if (qemu_args_format(kind, path, line, sizeof(line)))
		log_warn("%s: the QEMU arguments do not fit in a line", name);
	else
		log_info("%s: connect QEMU with %s", name, line);
}

/* A stream, dgram or vhost-user socket. Return: 0 or -errno (logged). */
static int gw_open_socket(const struct gw_opts *o, const struct gw_inside *in,
			  struct dp_port **port)
{
	const char *kind = in->stream ? "stream" : in->vhost ? "vhost-user" :
								 "dgram";
	int err;

	if (in->stream) {
		const struct stream_cfg sc = {
			.path = in->buf,
			.mtu = o->mtu ? o->mtu : 1500,
		};
		err = stream_listen(port, &sc);
	} else if (in->vhost) {
		const struct vhost_user_cfg vc = {
			.path = in->buf,
			.mtu = o->mtu ? o->mtu : 1500,
		};
		err = vhost_user_listen(port, &vc);
	} else {
		const struct dgram_cfg dc = {
			.path = in->buf,
			.mtu = o->mtu ? o->mtu : 1500,
		};
		err = dgram_open(port, &dc);
	}
	if (err) {
		log_err("--inside %s:%s: %s%s", kind, in->buf, strerror(-err),
			err == -EEXIST ? " (not a socket: not replaced)" : "");
		return err;
	}
	gw_print_qemu_args((*port)->name,
			   in->stream ? QEMU_ARGS_STREAM :
			   in->vhost  ? QEMU_ARGS_VHOST_USER : QEMU_ARGS_DGRAM,
			   in->buf);
	return 0;
}

/*
 * --test-faults: the first --inside is wrapped (dp/fault.h). Listeners
 * (stream, vhost-user) add ports of their own and cannot be wrapped.
 * Return: 0 or -1 (logged).
 */
static int gw_wrap_faults(const struct gw_opts *o, struct dp_port **ports)
{
	struct dp_port *w;
	int err;

	if (!o->faults)
		return 0;
	if (o->inside[0].stream || o->inside[0].vhost) {
		log_err("--test-faults: the first --inside must be a TAP or a "
			"dgram port");
		return -1;
	}
	err = dp_fault_wrap(&w, ports[0], &o->fault);
	if (err) {
		log_err("--test-faults: %s", strerror(-err));
		return -1;
	}
	ports[0] = w;
	log_warn("%s: --test-faults: frames are lost, duplicated, reordered "
		 "or delayed on purpose (a testing tool)", w->name);
	return 0;
}

/*
 * Every --inside, before the sandbox: a TAP is created with privileges, a
 * stream or dgram socket is bound where the user running arcnat may write.
 * Return: 0 or -1 (logged).
 */
static int gw_open_inside(const struct gw_opts *o, struct dp_port **ports)
{
	for (unsigned int i = 0; i < o->n_inside; i++) {
		const struct gw_inside *in = &o->inside[i];

		if (in->stream || in->dgram || in->vhost) {
			if (gw_open_socket(o, in, &ports[i]))
				return -1;
			continue;
		}
		const struct tap_cfg tc = {
			.ifname = in->buf,
			.netns = in->ns,
			.mtu = o->mtu,
		};
		if (tap_open(&ports[i], &tc))
			return -1;
	}
	return gw_wrap_faults(o, ports);
}

/*
 * The first --inside is the worker's configured port (ours to destroy);
 * the others become the worker's with dp_worker_add_port() (served when it
 * starts). Stream and vhost-user listeners learn the worker they add guests to.
 */
static void gw_attach_inside(const struct gw_opts *o, struct dp_port **ports,
			     struct dp_worker *w)
{
	for (unsigned int i = 0; i < o->n_inside; i++) {
		if (o->inside[i].stream)
			stream_attach(ports[i], w);
		if (o->inside[i].vhost)
			vhost_user_attach(ports[i], w);
		if (i == 0)
			continue;
		int err = dp_worker_add_port(w, ports[i]);

		if (err)
			log_err("%s: cannot add the port: %s", ports[i]->name,
				strerror(-err));
		ports[i] = NULL;
	}
}

static int gw_enter_sandbox(const struct gw_opts *o, int lease_dir)
{
	int err;

	err = sandbox_drop(&o->sb);
	if (err)
		return err;
	if (lease_dir >= 0 && o->sb.switch_user &&
	    sandbox_dir_writable(lease_dir)) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s", o->dhcp.lease_file);
		log_err("--lease-file: directory %s is not writable by user %s: "
			"make it writable by %s, pick another --user, or use "
			"--no-drop-privileges", dirname(dir), o->sb.user,
			o->sb.user);
		return -EACCES;
	}
	err = sandbox_lock(&o->sb);
	if (err)
		log_err("cannot load the seccomp filter: %s", strerror(-err));
	else if (o->sb.mode != SANDBOX_OFF)
		log_info("sandbox: %s%s%s, no_new_privs, seccomp allow-list of %u "
			 "system calls",
			 o->sb.switch_user ? "user " : "",
			 o->sb.switch_user ? o->sb.user : "",
			 o->sb.mode == SANDBOX_FULL ?
				 (o->sb.switch_user ? ", no capabilities" :
						      "no capabilities") :
				 "root and its capabilities kept",
			 sandbox_allowed());
	return err;
}

int gateway_parse(struct gateway **out, int argc, char **argv,
		  const struct gateway_cmd *cmd)
{
	struct gateway *gw = calloc(1, sizeof(*gw));
	int rc;

	if (!gw) {
		log_err("out of memory");
		return 1;
	}
	gw->cmd = cmd;
	gw->lease_dir = -1;
	rc = gw_parse(argc, argv, &gw->o, cmd);
	if (rc) {
		free(gw);
		return rc;
	}
	*out = gw;
	return 0;
}

void gateway_set_forward_guest(struct gateway *gw, uint32_t addr)
{
	gw->o.fwd_guest = addr;
}

void gateway_get_plan(const struct gateway *gw, struct gateway_plan *plan)
{
	const struct gw_opts *o = &gw->o;

	memset(plan, 0, sizeof(*plan));
	plan->gw_addr = o->gw_addr;
	plan->gw_plen = o->gw_plen;
	plan->mtu = o->mtu;
	plan->pool_first = gw_pool_first(o);
	if (!o->no_dns) {
		plan->dns[plan->n_dns++] = o->gw_addr;
	} else {
		for (unsigned int i = 0; i < o->dns.n_upstream &&
					 plan->n_dns < GATEWAY_PLAN_DNS_MAX; i++)
			plan->dns[plan->n_dns++] = o->dns.upstream[i];
	}
	plan->domain = o->dns.domain ? o->dns.domain : DNS_DEFAULT_DOMAIN;
}

int gateway_prepare(struct gateway *gw)
{
	int err;

	/* Configuration errors first, before any device is created. */
	err = gw_build_nat(&gw->o, &gw->nat);
	if (err)
		return err;
	if (gw->o.pcap) {
		err = dp_pcap_open(&gw->pcap, gw->o.pcap);
		if (err) {
			log_err("--pcap %s: %s", gw->o.pcap, strerror(-err));
			return err;
		}
	}
	if (gw_open_leases(&gw->o, &gw->lease_dir, &gw->leases))
		return -EIO;
	return 0;
}

/*
 * `arcnat ctl guest add SPEC` (ctl/rt.h), on the control thread: the code
 * --inside uses. A socket is made under the sandbox (sandbox.h: guests); a
 * TAP needs CAP_NET_ADMIN and /dev/net/tun, which only an arcnat without
 * the sandbox still has.
 */
static int gw_ctl_open_guest(void *ctx, const char *spec, struct dp_port **out,
			     char *why, size_t cap)
{
	struct gateway *gw = ctx;
	const struct gw_opts *o = &gw->o;
	struct gw_inside in;
	int err = gw_inside_parse(&in, spec);

	if (err) {
		snprintf(why, cap, "not stream:PATH, dgram:PATH or vhost-user:PATH "
			 "(PATH 1 to 107 bytes), or [tap:]IFACE[@NETNS]");
		return -EINVAL;
	}
	if (in.stream || in.dgram || in.vhost) {
		err = gw_open_socket(o, &in, out);
		if (err == -EEXIST)
			snprintf(why, cap, "%s (not a socket: not replaced)",
				 strerror(EEXIST));
		else if (err == -EADDRINUSE)
			snprintf(why, cap, "another process serves that socket");
		if (err)
			return err;
		if (in.stream)
			stream_attach(*out, gw->worker);
		if (in.vhost)
			vhost_user_attach(*out, gw->worker);
		return 0;
	}
	if (o->sb.mode != SANDBOX_OFF || geteuid() != 0) {
		snprintf(why, cap, "a TAP needs CAP_NET_ADMIN and /dev/net/tun, "
			 "which arcnat gave up at start (its sandbox); name it "
			 "with --inside, or run arcnat with --no-sandbox as root");
		return -EPERM;
	}
	const struct tap_cfg tc = { .ifname = in.buf, .netns = in.ns,
				    .mtu = o->mtu };
	return tap_open(out, &tc);
}

/* forward-add|delete with --outside sock (ctl/rt.h), on the worker's
 * thread: the forward's host socket. */
static int gw_ctl_uplink_fwd(void *ctx, bool add, const struct nat_forward *f,
			     uint32_t host, bool held)
{
	struct gateway *gw = ctx;
	const struct sock_forward sf = { .proto = f->proto, .addr = host,
					 .port = f->ext_port };

	if (add)
		return sock_uplink_forward_add(gw->outside, &sf);
	return sock_uplink_forward_remove(gw->outside, f->proto, f->ext_port,
					  held);
}

/* forward-list with --outside sock: a forward's host address. */
static int gw_ctl_uplink_host(void *ctx, uint8_t proto, uint16_t port,
			      uint32_t *addr)
{
	const struct gateway *gw = ctx;

	return sock_uplink_forward_host(gw->outside, proto, port, addr);
}

/*
 * The control socket (--control, --name, --no-control) and the metrics
 * file, before the sandbox. A default socket that cannot be had (another
 * arcnat serves it, /run is not ours) is a warning: arcnat runs without
 * one; a socket asked for by name or path is an error.
 */
static int gw_open_control(struct gateway *gw)
{
	struct gw_opts *o = &gw->o;
	struct ctl_server_cfg c = { 0 };
	char path[UNIX_LISTEN_PATH_MAX];
	bool dflt = !o->control && !o->name;
	struct timespec ts;
	int err = 0;

	if (o->no_control && !o->metrics_file)
		return 0;
	if (o->control) {
		c.path = o->control;
	} else if (!o->no_control) {
		err = ctl_default_path(path, sizeof(path),
				       o->name ? o->name : "arcnat");
		c.path = path;
		c.make_dir = true;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	c.chown = o->sb.switch_user;
	c.uid = o->sb.uid;
	c.gid = o->sb.gid;
	c.metrics_file = o->metrics_file;
	c.metrics_interval = o->metrics_interval;
	c.worker = gw->worker;
	if (!o->no_control) {
		const struct ctl_rt_cfg rc = {
			.worker = gw->worker,
			.open = gw_ctl_open_guest,
			.open_ctx = gw,
			.gw_addr = o->gw_addr,
			.gw_plen = o->gw_plen,
			.dns = !o->no_dns,
			.uplink = o->outside_sock ? gw_ctl_uplink_fwd : NULL,
			.host = o->outside_sock ? gw_ctl_uplink_host : NULL,
			.uplink_ctx = gw,
		};

		int rerr = ctl_rt_create(&gw->rt, &rc);

		if (rerr) {
			log_err("control socket: %s", strerror(-rerr));
			return rerr;
		}
		c.rt = ctl_rt_ops(gw->rt);
		/* guest add: UNIX sockets made under the sandbox */
		o->sb.guests = true;
	}
	c.info = (struct ctl_info){
		.version = ARCNAT_VERSION,
		.command = gw->cmd ? gw->cmd->name : "gateway",
		.name = o->name ? o->name : "arcnat",
		.control = "",
		.uplink_kind = o->outside_tun ? "tun" :
			       o->outside_sock ? "sock" : "packet",
		.uplink = o->outside,
		.gw_addr = o->gw_addr, .gw_plen = o->gw_plen,
		.ext_addr = o->ext_addr, .ext_plen = o->ext_plen,
		.max_flows = o->nat.max_flows,
		.started_ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC +
			      (uint64_t)ts.tv_nsec,
	};
	if (!err)
		err = ctl_server_open(&gw->ctl, &c);
	if (err && dflt && c.path && err != -ENOMEM) {
		log_warn("control socket %s: %s; running without one (--name or "
			 "--control chooses another)", c.path,
			 err == -EADDRINUSE ? "another arcnat serves it" :
					      strerror(-err));
		c.path = NULL;
		err = c.metrics_file ? ctl_server_open(&gw->ctl, &c) : 0;
	}
	if (err)
		log_err("control socket %s%s: %s", c.path ? c.path : "",
			c.metrics_file ? " or --metrics-file" : "",
			err == -EADDRINUSE ? "another arcnat serves it" :
					     strerror(-err));
	return err;
}

int gateway_start(struct gateway *gw, struct dp_port *inside, pid_t child)
{
	struct gw_opts *o = &gw->o;
	struct dp_config dc = { 0 };
	int err;

	if (inside) {
		gw->inside[0] = inside;
		if (gw_wrap_faults(o, gw->inside))
			return -EIO;
	} else if (gw_open_inside(o, gw->inside)) {
		return -EIO;
	}
	err = gw_open_outside(o, gw->nat, gw->inside[0]->mtu, &gw->outside);
	if (err)
		return err;

	dc.inside = gw->inside[0];
	dc.outside = gw->outside;
	dc.nat = gw->nat;
	dc.gw_addr = o->gw_addr;
	dc.gw_plen = o->gw_plen;
	memcpy(dc.gw_mac, gw_default_mac, sizeof(dc.gw_mac));
	dc.pcap = gw->pcap;
	dc.stats_interval = o->stats_interval;
	dc.dhcp = o->no_dhcp ? NULL : &o->dhcp;
	dc.dns = o->no_dns ? NULL : &o->dns;
	dc.ext_addr = o->ext_addr;
	dc.ext_plen = o->ext_plen;
	if (o->outside_sock) {
		dc.no_dst_addr = htonl(SOCK_RANGE_NET_HOST);
		dc.no_dst_plen = SOCK_RANGE_PLEN;
	}
	dc.leases = gw->leases;
	dc.isolate = o->isolate;
	dc.no_gro = o->no_gro;
	dc.busy_poll_ns = (uint64_t)o->busy_poll_us * NSEC_PER_USEC;
	err = dp_worker_create(&gw->worker, &dc);
	if (err) {
		log_err("cannot create the worker: %s", strerror(-err));
		return err;
	}
	if (!inside)
		gw_attach_inside(o, gw->inside, gw->worker);
	if (o->outside_sock)
		sock_uplink_attach(gw->outside, gw->worker);
	if (o->faults) {
		err = dp_fault_attach(gw->inside[0], gw->worker);
		if (err) {
			log_err("--test-faults: %s", strerror(-err));
			return err;
		}
	}
	err = gw_open_control(gw);
	if (err)
		return err;
	o->sb.child = child;
	err = gw_enter_sandbox(o, gw->lease_dir);
	if (err)
		return err;
	if (gw->ctl) {
		err = ctl_server_start(gw->ctl);
		if (err) {
			log_err("cannot start the control thread: %s",
				strerror(-err));
			return err;
		}
	}
	if (o->outside_sock)	/* as the user arcnat now is */
		sock_uplink_probe_echo(gw->outside);
	if (gw->leases) {
		err = dp_persist_start(gw->leases);
		if (err) {
			log_err("cannot start the lease file writer: %s",
				strerror(-err));
			return err;
		}
	}
	return 0;
}

struct dp_worker *gateway_worker(const struct gateway *gw)
{
	return gw->worker;
}

void gateway_finish(struct gateway *gw)
{
	ctl_server_stop(gw->ctl);
	/* Writes the worker's last snapshot before the statistics count it. */
	dp_persist_stop(gw->leases);
	/* A command's user sees them with --verbose (its CMD's stderr is
	 * the same). */
	if (!gw->cmd || log_enabled(LOG_LEVEL_INFO))
		dp_worker_print_stats(gw->worker, stderr);
}

void gateway_free(struct gateway *gw)
{
	if (!gw)
		return;
	ctl_server_destroy(gw->ctl);
	dp_worker_destroy(gw->worker);
	ctl_rt_destroy(gw->rt);
	dp_persist_destroy(gw->leases);
	if (gw->lease_dir >= 0)
		close(gw->lease_dir);
	dp_pcap_close(gw->pcap);
	nat_destroy(gw->nat);
	dp_port_destroy(gw->outside);
	for (unsigned int i = 0; i < GW_INSIDE_MAX; i++)
		dp_port_destroy(gw->inside[i]);	/* those the worker does not own */
	free(gw);
}

int gateway_main(int argc, char **argv)
{
	struct gateway *gw = NULL;
	sigset_t set;
	int sfd = -1, rc;

	rc = gateway_parse(&gw, argc, argv, NULL);
	if (rc)
		return rc;
	rc = 1;

	/* Blocked before any thread exists, so every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		goto out;
	sigdelset(&set, SIGPIPE);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(errno));
		goto out;
	}
	if (gateway_prepare(gw) || gateway_start(gw, NULL, 0))
		goto out;
	rc = serve_worker(gw->worker, sfd, NULL) ? 1 : 0;
	gateway_finish(gw);
out:
	gateway_free(gw);
	if (sfd >= 0)
		close(sfd);
	return rc;
}
