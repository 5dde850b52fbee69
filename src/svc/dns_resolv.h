/* SPDX-License-Identifier: MIT */
/*
 * dns_resolv.h - the host's upstream DNS servers, from resolv.conf(5), for
 * the forwarder's configuration (dns.h includes this header).
 *
 * Only "nameserver" lines matter; everything else (search, options,
 * comments) is skipped. The reader is bounded: lines longer than
 * DNS_RESOLV_LINE bytes cannot be nameserver lines and are skipped whole,
 * and at most DNS_RESOLV_MAX_LINES lines are read.
 */
#ifndef ARCNAT_SVC_DNS_RESOLV_H
#define ARCNAT_SVC_DNS_RESOLV_H

#include <stdint.h>

#define DNS_RESOLV_LINE	     512
#define DNS_RESOLV_MAX_LINES 4096

/**
 * dns_read_resolv_conf() - the IPv4 nameservers of a resolv.conf(5) file.
 * @path:    file to read
 * @servers: filled with up to @max addresses, network order, in file order
 * @max:     room in @servers
 * @n:       set to the number found (at most @max; later ones are ignored)
 *
 * Reads "nameserver ADDR" lines; IPv6 and malformed addresses are skipped,
 * and so is the rest of the file after DNS_RESOLV_MAX_LINES lines.
 * Loopback addresses (a local stub resolver such as systemd-resolved's
 * 127.0.0.53) are kept: whether they can be reached from the uplink is for
 * the caller to decide.
 *
 * Return: 0 (also when no nameserver line was found), or -errno from
 * opening the file.
 */
int dns_read_resolv_conf(const char *path, uint32_t *servers,
			 unsigned int max, unsigned int *n);

#endif /* ARCNAT_SVC_DNS_RESOLV_H */
