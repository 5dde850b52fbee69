// SPDX-License-Identifier: MIT
/*
 * fuzz_dp.c - libFuzzer harness for the datapath worker: hostile frames from
 * two guest ports and hostile packets from the uplink, with hostile offload
 * metadata, through the learning switch, classification, ARP, echo, NAT and
 * the Ethernet strip/prepend, driven by dp_worker_input_port() (no threads,
 * no epoll).
 *
 * Input: records, at most FUZZ_DP_RECORDS:
 *   ctl   bit 0 from the uplink (else from the guests); bit 1 a 10-byte
 *         virtio-net header follows (flags, gso_type, then hdr_len,
 *         gso_size, csum_start, csum_offset little-endian); bits 2-4 time
 *         step before the record (0, 1 ms, ..., 2^(k-1) s);
 *         bit 5 a nat/ARP tick after it; bit 6 from the second guest
 *         port (else the first; ignored with bit 0)
 *   len   2 bytes little-endian (clamped to what is left)
 *   body
 *
 * The ports' MTUs depend on the input's length (size % 4): none, guests
 * 9000 and uplink 1500, guests 1500 and uplink 9000, or guests 576 and
 * uplink 65535, so that big packets meet ICMP "fragmentation needed", the
 * fragmenter and the GSO segment-size rules (dp/mtu) both ways.
 *
 * DHCP and the DNS forwarder are on (upstream 198.51.100.1), so guest
 * frames reach them too, and forged upstream answers reach the forwarder.
 *
 * Every other input length step ((size / 4) % 2) configures what the
 * socket uplink adds: the gateway address mapped to the host's loopback
 * (wildcard TCP and UDP redirects to 198.19.0.1), loopback clients of a
 * forward shown as the gateway (the NAT's inbound alias of 198.19.0.0/16)
 * and 198.18.0.0/15 closed to the guests; so the worker's path for
 * packets to the gateway address that belong to a flow (nat_has_flow())
 * and the reserved-destination martian are reached too.
 *
 * Bit 5 of the length ((size / 32) % 2) turns on --isolate (dp/switch,
 * dp/route): no frame may then pass from one guest port to another, and a
 * guest's packet for another guest is a counted drop, not routed back in.
 * (Bit 5: the seed of two guests, 281 bytes, keeps its switching; the
 * expiry, hairpin and MTU seeds run isolated.)
 *
 * Checks: nat_verify() after every record; every frame a port sends parses
 * (IPv4 header checksum included) and has the right link framing: frames
 * to the guests come from the gateway MAC, packets to the uplink are bare
 * IPv4 with the external source address. The exception is a frame the
 * switch passed from one guest to another: it is the record's own frame,
 * byte for byte, and never goes back to the port it came from, and
 * there is none with --isolate.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "dp/worker.h"
#include "pkt/parse.h"
#include "prot/eth.h"
#include "prot/ip4.h"

#define FUZZ_DP_RECORDS 64

static const uint8_t fz_gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
#define FZ_EXT htonl(0xcb007101)	/* 203.0.113.1 */

struct fz_port {
	struct dp_port port;
};

/* The record being processed: what a switched frame must be. */
static const struct dp_port *fz_from;
static const uint8_t *fz_data;
static size_t fz_len;
/* --isolate on for this input: no frame from one guest to another. */
static bool fz_isolate;

static int fz_rx(struct dp_port *p, struct dp_buf **bufs, unsigned int n,
		 uint64_t now)
{
	(void)p;
	(void)bufs;
	(void)n;
	(void)now;
	return 0;
}

static void fz_die(const char *what, const struct dp_port *p, enum pkt_drop r)
{
	fprintf(stderr, "fuzz_dp: %s sent a bad packet: %s (%s)\n", p->name,
		what, pkt_drop_name(r));
	abort();
}

/* A frame on a guest port not from the gateway: switched from another
 * guest, unchanged. */
static void fz_switched(const struct dp_port *p, const struct dp_buf *b)
{
	if (p == fz_from || !fz_from)
		fz_die("switched back to its own port (or from the uplink)", p,
		       PKT_DROP_OK);
	if (fz_isolate)
		fz_die("switched from one guest to another under --isolate", p,
		       PKT_DROP_OK);
	if (b->len != fz_len || memcmp(b->data, fz_data, fz_len) != 0)
		fz_die("switched frame is not the one received", p, PKT_DROP_OK);
}

static unsigned int fz_tx(struct dp_port *p, struct dp_buf **bufs,
			  unsigned int n, uint64_t now)
{
	(void)now;
	for (unsigned int i = 0; i < n; i++) {
		const struct dp_buf *b = bufs[i];
		bool l3 = p->flags & DP_PORT_L3;
		struct pkt_meta m;
		enum pkt_drop r;
		uint32_t saddr;

		dp_buf_check(b, 0);
		if (!l3 && b->len >= ETH_HLEN &&
		    memcmp(b->data + ETH_ALEN, fz_gw_mac, ETH_ALEN) != 0) {
			fz_switched(p, b);
			continue;
		}
		r = pkt_parse(b->data, b->len, l3 ? PKT_PARSE_L3 : 0, &m);
		if (r != PKT_DROP_OK)
			fz_die("unparsable", p, r);
		if (!l3 && memcmp(b->data + ETH_ALEN, fz_gw_mac, ETH_ALEN) != 0)
			fz_die("source MAC is not the gateway's", p, r);
		if (l3) {
			if (m.l3 != PKT_L3_IPV4)
				fz_die("not IPv4", p, r);
			memcpy(&saddr, b->data + offsetof(struct ip4_hdr, saddr),
			       sizeof(saddr));
			if (saddr != FZ_EXT)
				fz_die("source is not the external address", p, r);
		}
	}
	return n;
}

static void fz_destroy(struct dp_port *p)
{
	close(p->fd);
}

static const struct dp_port_ops fz_ops = {
	.rx_burst = fz_rx,
	.tx_burst = fz_tx,
	.destroy = fz_destroy,
};

static void fz_port_init(struct fz_port *fp, uint32_t flags, uint32_t mtu,
			 const char *name)
{
	memset(fp, 0, sizeof(*fp));
	fp->port.ops = &fz_ops;
	fp->port.flags = flags;
	fp->port.mtu = mtu;
	fp->port.fd = eventfd(0, EFD_CLOEXEC);
	snprintf(fp->port.name, sizeof(fp->port.name), "%s", name);
	if (fp->port.fd < 0)
		abort();
}

static uint16_t fz_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_port in, out, in2;
	struct nat_config nc = { 0 };
	struct nat_forward fwd = {
		.proto = 17, .ext_port = 5353,
		.int_addr = htonl(0x0a000203), .int_port = 53,
	};
	struct dp_config dc = { 0 };
	struct dp_worker *w = NULL;
	struct nat *nat = NULL;
	uint64_t now = 1000 * NSEC_PER_SEC;
	char why[128];
	size_t off = 0;

	static const uint32_t mtus[4][2] = {
		{ 0, 0 }, { 9000, 1500 }, { 1500, 9000 }, { 576, 65535 },
	};

	fz_port_init(&in, 0, mtus[size % 4][0], "inside");
	fz_port_init(&in2, 0, mtus[size % 4][0], "inside2");
	fz_port_init(&out, DP_PORT_L3 | DP_PORT_VNET, mtus[size % 4][1],
		     "outside");
	nc.ext_addrs[0] = FZ_EXT;
	nc.n_ext_addrs = 1;
	nc.port_min = 40000;
	nc.port_max = 40063;
	nc.max_flows = 64;
	nc.seed = 1;
	ct_timeouts_default(&nc.timeouts);
	if ((size / 4) % 2) {
		nc.inbound_alias = (struct nat_alias){
			.addr = htonl(0xc6130000), .mask = htonl(0xffff0000),
			.to = htonl(0x0a000201),
		};
		dc.no_dst_addr = htonl(0xc6120000);
		dc.no_dst_plen = 15;
	}
	if (nat_create(&nat, &nc) || nat_add_forward(nat, &fwd))
		abort();
	for (unsigned int i = 0; (size / 4) % 2 && i < 2; i++) {
		const struct nat_redirect rd = {
			.proto = i ? 17 : 6, .addr = htonl(0x0a000201),
			.to_addr = htonl(0xc6130001),
		};

		if (nat_add_redirect(nat, &rd))
			abort();
	}
	dc.inside = &in.port;
	dc.outside = &out.port;
	dc.nat = nat;
	dc.gw_addr = htonl(0x0a000201);
	dc.gw_plen = 24;
	fz_isolate = (size / 32) % 2;
	dc.isolate = fz_isolate;
	memcpy(dc.gw_mac, fz_gw_mac, sizeof(dc.gw_mac));
	dc.stats_out = stderr;
	/* The services too: DHCP from the guests, DNS both ways (upstream
	 * 198.51.100.1, whose answers the fuzzer can forge from the uplink). */
	struct dhcp_cfg hc = {
		.server = dc.gw_addr,
		.plen = 24,
		.mtu = 1500,
	};
	struct dns_cfg nc2 = {
		.upstream = { htonl(0xc6336401) },
		.n_upstream = 1,
		.gateway_addr = dc.gw_addr,
		.cache_entries = 64,
		.cache_bytes = 65536,
		.max_inflight = 16,
		.seed = 1,
	};
	memcpy(hc.server_mac, fz_gw_mac, sizeof(hc.server_mac));
	dc.dhcp = &hc;
	dc.dns = &nc2;
	dc.ext_addr = FZ_EXT;
	if (dp_worker_create(&w, &dc))
		abort();
	/* The worker's from here on: attached at the first input, destroyed
	 * with the worker. */
	if (dp_worker_add_port(w, &in2.port))
		abort();

	for (unsigned int rec = 0; rec < FUZZ_DP_RECORDS && off + 3 <= size;
	     rec++) {
		uint8_t ctl = data[off];
		size_t len = fz_le16(data + off + 1);
		struct pkt_vnet v, *vp = NULL;
		unsigned int step = (ctl >> 2) & 7;

		off += 3;
		if ((ctl & 2) && off + 10 <= size) {
			v.flags = data[off];
			v.gso_type = data[off + 1];
			v.hdr_len = fz_le16(data + off + 2);
			v.gso_size = fz_le16(data + off + 4);
			v.csum_start = fz_le16(data + off + 6);
			v.csum_offset = fz_le16(data + off + 8);
			vp = &v;
			off += 10;
		}
		if (len > size - off)
			len = size - off;
		if (step)
			now += (NSEC_PER_MSEC << (3 * (step - 1)));
		fz_from = (ctl & 1) ? NULL : (ctl & 0x40) ? &in2.port : &in.port;
		fz_data = data + off;
		fz_len = len;
		dp_worker_input_port(w, fz_from, data + off, len, vp, now);
		off += len;
		if (ctl & 0x20)
			nat_tick(nat, now, 64);
		if (nat_verify(nat, why, sizeof(why))) {
			fprintf(stderr, "fuzz_dp: nat_verify: %s\n", why);
			abort();
		}
	}

	dp_worker_destroy(w);
	nat_destroy(nat);
	fz_destroy(&in.port);
	fz_destroy(&out.port);
	return 0;
}
