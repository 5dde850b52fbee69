/* SPDX-License-Identifier: MIT */
/*
 * gateway.h - `arcnat gateway`: a NAT gateway between a TAP and an uplink;
 * and the same gateway as steps, for the commands that bring their own
 * guest port (`arcnat run`, `arcnat attach`: app/run.h).
 *
 * The steps, in order: gateway_parse() (the gateway's options and the
 * command's own), gateway_prepare() (what a configuration error can stop:
 * NAT, pcap, lease file, before any device exists), gateway_start() (the
 * guest port, the uplink, the worker, the sandbox), serve_worker() with
 * gateway_worker() (app/serve.h: until a signal or a hook ends it),
 * gateway_finish() (final statistics),
 * gateway_free(). gateway_main() is exactly that sequence with the
 * gateway's own --inside ports.
 */
#ifndef ARCNAT_APP_GATEWAY_H
#define ARCNAT_APP_GATEWAY_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "app/gw_opts.h"

/**
 * gateway_main() - run the gateway subcommand.
 * @argc: arguments after "arcnat" (argv[0] is "gateway")
 * @argv: them
 *
 * Return: the process exit status: 0 after a clean stop, 1 on a runtime
 * error, 2 on a usage error.
 */
int gateway_main(int argc, char **argv);

struct dp_worker;
struct dp_port;
struct gateway;

/* Name servers a gateway_plan lists at most. */
#define GATEWAY_PLAN_DNS_MAX	4u


/**
 * struct gateway_plan - what a command needs of the parsed configuration.
 * @gw_addr:    the gateway's inside address, network order
 * @gw_plen:    its prefix length
 * @mtu:        the guest side's MTU (0: not set, the device's own)
 * @pool_first: the DHCP pool's first address (the default guest address)
 * @dns:        the name servers a guest should use: the gateway when the
 *              DNS forwarder runs, else the upstream servers
 * @n_dns:      how many
 * @domain:     the local domain (the search list)
 */
struct gateway_plan {
	uint32_t gw_addr;
	unsigned int gw_plen;
	unsigned int mtu;
	uint32_t pool_first;
	uint32_t dns[GATEWAY_PLAN_DNS_MAX];
	unsigned int n_dns;
	const char *domain;
};

/**
 * gateway_parse() - parse the gateway's options and @cmd's.
 * @out:  the gateway, on success
 * @argc: arguments (argv[0] is the command's name)
 * @argv: them; argv[0] is replaced by "arcnat" for getopt's messages
 * @cmd:  the command, or NULL for `arcnat gateway`
 *
 * --help prints the usage and exits 0.
 *
 * Return: 0, or the exit status of a usage error (its reason printed) or
 * of an allocation failure (1).
 */
int gateway_parse(struct gateway **out, int argc, char **argv,
		  const struct gateway_cmd *cmd);

/**
 * gateway_get_plan() - the addresses and servers a command configures its
 * guest with.
 * @gw:   parsed
 * @plan: filled
 */
void gateway_get_plan(const struct gateway *gw, struct gateway_plan *plan);

/**
 * gateway_set_forward_guest() - the guest -t/-u forward to (default: the
 * DHCP pool's first address); before gateway_prepare().
 * @gw:   the gateway
 * @addr: its address, network order
 */
void gateway_set_forward_guest(struct gateway *gw, uint32_t addr);

/**
 * gateway_prepare() - the NAT with its forwards, the pcap file and the
 * lease file: what a configuration error stops, before any device.
 * @gw: parsed
 *
 * Return: 0, or -errno (the reason logged).
 */
int gateway_prepare(struct gateway *gw);

/**
 * gateway_start() - the guest ports, the uplink, the worker, then the
 * sandbox and the lease writer.
 * @gw:     prepared
 * @inside: the guest port, consumed (destroyed on failure too); NULL to
 *          open the --inside ports
 * @child:  a process the gateway's main thread may signal and reap after
 *          the sandbox is locked (kill(2) and wait4(2) of that pid only),
 *          or 0
 *
 * Return: 0, or -errno (the reason logged).
 */
int gateway_start(struct gateway *gw, struct dp_port *inside, pid_t child);

/**
 * gateway_worker() - the worker gateway_start() made.
 * @gw: started
 *
 * Return: the worker.
 */
struct dp_worker *gateway_worker(const struct gateway *gw);

/**
 * gateway_finish() - after the worker stopped: the lease file's last
 * snapshot, then the final statistics on stderr (for a command, only when
 * the log shows info messages).
 * @gw: started
 */
void gateway_finish(struct gateway *gw);

/**
 * gateway_free() - tear everything down, in reverse order.
 * @gw: any state, or NULL
 */
void gateway_free(struct gateway *gw);

#endif /* ARCNAT_APP_GATEWAY_H */
