// SPDX-License-Identifier: MIT
/*
 * fuzz_pcap.c - libFuzzer harness for the capture filter (dp/pcap.h
 * dp_pcap_match(), what `pcap-start` applies to every packet the worker
 * sees, guests' and the uplink's alike) and the capture's size bound.
 *
 * Input: byte 0: bit 0 the packet starts at IP (an L3 port), else at
 * Ethernet; bits 1-3 which of the filter's protocol, port and host are
 * set; bits 4-7 the file's bound in records of 64 bytes past the header
 * (0: none). Bytes 1-7: the protocol, the port (big-endian) and the IPv4
 * host; then the packet, written through a capture to /dev/null.
 *
 * Checks: the filter is a conjunction (a packet the whole filter keeps,
 * each of its parts keeps; one that every part keeps, the whole keeps);
 * the empty filter keeps whatever any filter keeps; the writer counts the
 * packet exactly once (written, filtered out or over the bound) and as the
 * filter says (an empty filter keeps everything, an ARP frame too, as
 * --pcap does); the file never passes its bound.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dp/pcap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_pcap_filter f = { 0 }, part[3] = { { 0 } }, none = { 0 };
	struct dp_pcap_stats st;
	struct dp_pcap *pc;
	const uint8_t *pkt;
	uint64_t max;
	size_t len;
	bool l3, all, each = true;
	int fd;

	if (size < 8)
		return 0;
	l3 = data[0] & 1;
	if (data[0] & 2)
		f.proto = part[0].proto = data[1];
	if (data[0] & 4)
		f.port = part[1].port = (uint16_t)(data[2] << 8 | data[3]);
	if (data[0] & 8)
		memcpy(&f.host, data + 4, 4);
	part[2].host = f.host;
	max = (uint64_t)(data[0] >> 4) * 64;
	max = max ? max + 24 : 0;
	pkt = data + 8;
	len = size - 8;

	all = dp_pcap_match(&f, pkt, len, l3);
	for (int i = 0; i < 3; i++)
		each &= dp_pcap_match(&part[i], pkt, len, l3);
	if (all != each)
		abort();
	if (all && !dp_pcap_match(&none, pkt, len, l3))
		abort();

	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || dp_pcap_open_fd(&pc, fd, &f, max))
		abort();
	dp_pcap_write(pc, 1700000000000000000ull, pkt, len, l3);
	dp_pcap_flush(pc);
	dp_pcap_get_stats(pc, &st);
	if (st.packets + st.filtered + st.over != 1 ||
	    st.filtered != (!all && (f.proto || f.port || f.host)) ||
	    st.failed || (max && st.bytes > max))
		abort();
	dp_pcap_close(pc);
	return 0;
}
