/* SPDX-License-Identifier: MIT */
/*
 * opts.h - parsers for the text forms of settings (numbers, addresses,
 * prefixes, port forwards, filtering), for the command line (app/) and the
 * control socket (ctl/), hence here, below both: each accepts exactly the
 * documented form and nothing else (no trailing junk, no silent wrap-around),
 * so that a typo is an error message rather than a surprising configuration.
 */
#ifndef ARCNAT_NAT_OPTS_H
#define ARCNAT_NAT_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "nat/nat.h"

/**
 * opts_parse_u32() - a decimal number in [@min, @max].
 * @s:   text
 * @min: smallest value accepted
 * @max: largest value accepted
 * @out: the value
 *
 * Return: 0; -EINVAL not a plain decimal number; -ERANGE out of bounds.
 */
int opts_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/**
 * opts_parse_ip4() - a dotted-quad IPv4 address ("10.0.2.1").
 * @s:   text
 * @out: address, network order
 *
 * Return: 0 or -EINVAL.
 */
int opts_parse_ip4(const char *s, uint32_t *out);

/**
 * opts_parse_prefix() - "A.B.C.D/LEN" (LEN 0..32); without "/LEN" when
 * @plen_default is non-zero, that length is used.
 * @s:            text
 * @plen_default: length when none is given, 0 to require one
 * @addr:         address, network order
 * @plen:         prefix length
 *
 * Return: 0 or -EINVAL.
 */
int opts_parse_prefix(const char *s, unsigned int plen_default, uint32_t *addr,
		      unsigned int *plen);

/**
 * opts_parse_forward() - "tcp|udp:EXTPORT:INTADDR:INTPORT".
 * @s:   text
 * @fwd: the forward (ext_addr left 0 for the caller to fill in)
 *
 * Return: 0 or -EINVAL (ports must be 1..65535).
 */
int opts_parse_forward(const char *s, struct nat_forward *fwd);

/**
 * struct opts_port_range - one -t/-u value in pasta's syntax.
 * @addr:        the host address to listen on, network order; 0 for any
 * @host_first:  the first host port
 * @host_last:   the last host port (== @host_first for one)
 * @guest_first: the guest port @host_first goes to; the others follow in
 *               step (host_first + k -> guest_first + k)
 */
struct opts_port_range {
	uint32_t addr;
	uint16_t host_first;
	uint16_t host_last;
	uint16_t guest_first;
};

/**
 * opts_parse_port_range() - pasta's -t/-u syntax: "[ADDR/]PORTS[:PORTS]",
 * where PORTS is "P" or "P-Q" and the guest's side, when given, spans as
 * many ports as the host's: "8080", "8080:80", "127.0.0.1/8080:80",
 * "8000-8010:9000-9010", "8000-8010" (the same ports in the guest).
 * @s:   text
 * @out: the range
 *
 * Return: 0 or -EINVAL (a bad address, port 0, a range that runs
 * backwards, past 65535 or whose two sides differ in length).
 */
int opts_parse_port_range(const char *s, struct opts_port_range *out);

/**
 * opts_split_netns() - split "IFACE@NETNS" in place.
 * @s:     text, modified: the '@' becomes a NUL
 * @netns: out: the namespace part, or NULL when there is none
 *
 * Return: 0; -EINVAL if the interface or the namespace part is empty or
 * the interface name is too long for Linux (15 bytes).
 */
int opts_split_netns(char *s, const char **netns);

/**
 * opts_parse_filtering() - "eif", "adf" or "apdf".
 * @s:   text
 * @out: the mode
 *
 * Return: 0 or -EINVAL.
 */
int opts_parse_filtering(const char *s, enum nat_filtering *out);

#endif /* ARCNAT_NAT_OPTS_H */
