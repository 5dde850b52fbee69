/* SPDX-License-Identifier: MIT */
/*
 * ctl_info.h - `arcnat ctl`'s commands for a lease, the DNS cache and
 * capture (app/ctl.c hands them here): the request of `lease delete`, `dns
 * cache`, `dns flush`, `pcap start`, `pcap stop`, and their replies as
 * text (`dns cache` is paged by app/ctl.c's listing, a line an entry).
 */
#ifndef ARCNAT_APP_CTL_INFO_H
#define ARCNAT_APP_CTL_INFO_H

#include <stdbool.h>

struct json_object;

#define CTL_INFO_USAGE \
"  lease delete MAC|ADDRESS\n" \
"                      end a lease now: the address goes back to the pool\n" \
"  dns cache           the DNS forwarder's cache: name, type, seconds left,\n" \
"                      answers\n" \
"  dns flush           empty the DNS cache (also: dns cache flush)\n" \
"  pcap start FILE [port N] [protocol P] [host A] [max-bytes N]\n" \
"                      capture what crosses the ports into FILE, a new file\n" \
"                      arcnat's user can create (pcap): only packets with\n" \
"                      that port, protocol (tcp, udp, icmp, sctp or a\n" \
"                      number) and IPv4 host; at most N bytes (64 MiB)\n" \
"  pcap stop           stop the capture, flush and close its file\n"

#define CTL_INFO_DNS_HEADER \
	"NAME                                     TYPE   TTL    ANSWERS"

/**
 * ctl_info_print_dns_entry() - one entry of `dns-cache` as a table line.
 * @e: the entry
 */
void ctl_info_print_dns_entry(struct json_object *e);

/**
 * ctl_info_request() - the method and params of one of these commands.
 * @argc:   the command's words
 * @argv:   them (argv[0] the command)
 * @method: set to the method
 * @params: set to its params (a new object), or NULL
 *
 * Return: 0; 1 not one of these commands; 2 a usage error (said on
 * stderr).
 */
int ctl_info_request(int argc, char **argv, const char **method,
		     struct json_object **params);

/**
 * ctl_info_print() - print the result of one of these methods as text.
 * @method: the method
 * @r:      its result
 *
 * Return: true if printed; false if @method is not one of these.
 */
bool ctl_info_print(const char *method, struct json_object *r);

#endif /* ARCNAT_APP_CTL_INFO_H */
