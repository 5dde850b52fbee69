/* SPDX-License-Identifier: MIT */
/*
 * opts.h - parsers for command-line values: each accepts exactly the
 * documented form and nothing else (no trailing junk, no silent wrap-around),
 * so that a typo is an error message rather than a surprising configuration.
 */
#ifndef ARCNAT_APP_OPTS_H
#define ARCNAT_APP_OPTS_H

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

#endif /* ARCNAT_APP_OPTS_H */
