/* SPDX-License-Identifier: MIT */
/*
 * pcap.h - write what crosses the ports to a classic pcap file.
 *
 * Theory of operation: the worker records every packet at the boundary of
 * each port, as received and as sent, so one file shows both sides of the
 * NAT: a guest's frame before translation and the packet after it. The file
 * is LINKTYPE_ETHERNET with microsecond timestamps, which tcpdump and
 * Wireshark read; packets of an L3 port get a synthetic Ethernet header
 * (zero MACs, EtherType from the IP version). Snap length is 262144 bytes so
 * that GSO super-frames are kept whole. Writes go through stdio's buffer
 * (flushed by dp_pcap_flush() once per wakeup), so capturing costs a copy per
 * packet and nothing when it is off.
 *
 * A capture started on the control socket (`pcap-start`) has a filter and a
 * size bound: a packet is written only if it matches every part of the
 * filter that is set (an IP protocol, a TCP/UDP/SCTP port at either end, an
 * IPv4 address at either end), read from the headers in place with bounds
 * checks (dp_pcap_match(): at most one 802.1Q tag, IPv4 options, no IPv6
 * extension headers, no ports in a later fragment); and once the file has
 * max_bytes, further packets are only counted, so that a forgotten capture
 * cannot fill the disk.
 */
#ifndef ARCNAT_DP_PCAP_H
#define ARCNAT_DP_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_pcap;

#define DP_PCAP_DEFAULT_MAX	(64ull << 20)	/* bytes of a `pcap-start` */

/**
 * struct dp_pcap_filter - what a capture keeps; a field at 0 matches all.
 * @proto: IP protocol number (IPPROTO_TCP...)
 * @port:  TCP, UDP or SCTP port, source or destination, host order
 * @host:  IPv4 address, source or destination, network order
 */
struct dp_pcap_filter {
	uint8_t proto;
	uint16_t port;
	uint32_t host;
};

/**
 * struct dp_pcap_stats - what a capture did.
 * @packets:  packets written
 * @bytes:    the file's size
 * @filtered: packets the filter left out
 * @over:     packets left out because the file had reached its bound
 * @failed:   a write failed: capture stopped
 */
struct dp_pcap_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t filtered;
	uint64_t over;
	bool failed;
};

/**
 * dp_pcap_open() - create (truncate) @path and write the file header.
 * @out:  the writer
 * @path: file name
 *
 * Return: 0 or -errno.
 */
int dp_pcap_open(struct dp_pcap **out, const char *path);

/**
 * dp_pcap_open_fd() - a capture into a file already opened (by the control
 * thread, which the sandbox lets create a new file only), with a filter
 * and a size bound; the file header is written here.
 * @out:       the writer
 * @fd:        the file, open for writing; the writer's (closed with it,
 *             or here on error)
 * @f:         the filter (copied), or NULL for every packet
 * @max_bytes: the file's bound, at least the header's 24 bytes; 0: none
 *
 * Return: 0 or -errno.
 */
int dp_pcap_open_fd(struct dp_pcap **out, int fd, const struct dp_pcap_filter *f,
		    uint64_t max_bytes);

/**
 * dp_pcap_match() - whether a packet passes @f.
 * @f:    the filter
 * @data: the packet (any bytes)
 * @len:  its length
 * @l3:   true if @data starts at the IP header, else at Ethernet
 *
 * Return: true if it matches every part of @f that is set.
 */
bool dp_pcap_match(const struct dp_pcap_filter *f, const uint8_t *data,
		   size_t len, bool l3);

/**
 * dp_pcap_get_stats() - what @pc wrote and left out.
 * @pc:  writer
 * @out: filled
 */
void dp_pcap_get_stats(const struct dp_pcap *pc, struct dp_pcap_stats *out);

/**
 * dp_pcap_write() - record one packet.
 * @pc:      writer; NULL does nothing
 * @wall_ns: wall-clock time of the packet, ns since the epoch
 * @data:    the packet (borrowed)
 * @len:     its length
 * @l3:      true if @data starts at the IP header
 *
 * A write error is reported once and capture stops; forwarding goes on.
 */
void dp_pcap_write(struct dp_pcap *pc, uint64_t wall_ns, const uint8_t *data,
		   size_t len, bool l3);

/** dp_pcap_flush() - push buffered records to the file. @pc: writer or NULL */
void dp_pcap_flush(struct dp_pcap *pc);

/** dp_pcap_close() - flush and close; NULL is fine. @pc: writer */
void dp_pcap_close(struct dp_pcap *pc);

#endif /* ARCNAT_DP_PCAP_H */
