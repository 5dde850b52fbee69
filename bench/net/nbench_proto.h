/* SPDX-License-Identifier: MIT */
/*
 * nbench_proto.h - the UDP messages of nbench's server (bench/net/nbench.c),
 * shared with sbench (bench/net/sbench.c), which builds them into raw
 * Ethernet frames. Every datagram starts with struct nbench_udp_hdr, in
 * the host's byte order: client and server always run on the same machine.
 *
 *   NB_UDP_DATA   counted by the server (per session; a new session resets
 *                 the count)
 *   NB_UDP_QUERY  the server answers NB_UDP_REPLY with the count in @received
 *   NB_UDP_BLAST  the server sends @received datagrams (at most
 *                 NB_BLAST_MAX) of @size bytes (NB_BLAST_SIZE_MIN..
 *                 NB_BLAST_SIZE_MAX), each an NB_UDP_DATA of the session,
 *                 back to the sender, as fast as sendmmsg() goes and for at
 *                 most NB_BLAST_SECS seconds
 */
#ifndef ARCNAT_BENCH_NBENCH_PROTO_H
#define ARCNAT_BENCH_NBENCH_PROTO_H

#include <stdint.h>

#define NB_UDP_MAGIC	0x6e62656eu	/* "nben" */
#define NB_UDP_DATA	1u
#define NB_UDP_QUERY	2u
#define NB_UDP_REPLY	3u
#define NB_UDP_BLAST	4u

#define NB_BLAST_MAX		10000000u
#define NB_BLAST_SECS		10.0
#define NB_BLAST_SIZE_MIN	((unsigned int)sizeof(struct nbench_udp_hdr))
#define NB_BLAST_SIZE_MAX	1472u	/* an IPv4 packet of 1500 bytes */

struct nbench_udp_hdr {
	uint32_t magic;
	uint32_t type;
	uint32_t session;
	uint32_t size;			/* NB_UDP_BLAST: datagram size */
	uint64_t received;		/* NB_UDP_REPLY: count; NB_UDP_BLAST: how many */
};

#endif
