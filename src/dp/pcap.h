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
 */
#ifndef ARCNAT_DP_PCAP_H
#define ARCNAT_DP_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dp_pcap;

/**
 * dp_pcap_open() - create (truncate) @path and write the file header.
 * @out:  the writer
 * @path: file name
 *
 * Return: 0 or -errno.
 */
int dp_pcap_open(struct dp_pcap **out, const char *path);

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
