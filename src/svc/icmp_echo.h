/* SPDX-License-Identifier: MIT */
/*
 * icmp_echo.h - answer an ICMP echo request in place (RFC 792).
 *
 * Theory of operation: an echo request to an address arcnat owns (the
 * gateway address inside, the external address outside) becomes its own
 * reply: addresses swapped, type 8 -> 0, TTL reset, both checksums updated
 * incrementally. The payload, identifier and sequence number stay, as RFC
 * 792 asks. The caller owns the buffer and sends it back where it came from;
 * the caller also rate-limits (RFC 1812 section 4.3.2.8 lets a router do so).
 */
#ifndef ARCNAT_SVC_ICMP_ECHO_H
#define ARCNAT_SVC_ICMP_ECHO_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt/meta.h"

#define ICMP_ECHO_TTL 64

/**
 * icmp_echo_is_request() - whether @m describes an unfragmented IPv4 echo
 * request, the only kind icmp_echo_reply() answers.
 * @m: pkt_parse() result
 *
 * Return: true if so.
 */
bool icmp_echo_is_request(const struct pkt_meta *m);

/**
 * icmp_echo_reply() - turn an IPv4 echo request into its reply.
 * @frame: the frame or packet, rewritten in place (borrowed)
 * @m:     pkt_parse() result for @frame
 *
 * Return: 0; -EINVAL if @m does not describe an unfragmented IPv4 echo
 * request (nothing is changed then).
 */
int icmp_echo_reply(uint8_t *frame, const struct pkt_meta *m);

#endif /* ARCNAT_SVC_ICMP_ECHO_H */
