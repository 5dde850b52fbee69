// SPDX-License-Identifier: MIT
/*
 * gen_corpus - write the seed corpora of the fuzzers from the frame builders,
 * so that the seeds stay valid when the builders change.
 *
 *   usage: gen_corpus DIR      (writes DIR/pkt/<name>)
 *
 * fuzz_pkt inputs are one flag byte (see fuzz/fuzz_pkt.c) and a frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pkt/build.h"
#include "pkt/parse.h"
#include "prot/arp.h"
#include "prot/icmp.h"
#include "prot/ip4.h"
#include "prot/tcp.h"

#define FRAME_MAX 2048

static const char *out_dir;
static int failures;

static void put(const char *name, unsigned int flags, const uint8_t *frame,
		int len)
{
	char path[512];
	struct pkt_meta m;
	uint8_t fl = (uint8_t)flags;
	FILE *f;

	if (len < 0) {
		fprintf(stderr, "gen_corpus: %s: build failed (%d)\n", name, len);
		failures++;
		return;
	}
	/* Every seed is a frame the parser accepts: seeds explore from valid. */
	if (pkt_parse(frame, (size_t)len, flags, &m) != PKT_DROP_OK) {
		fprintf(stderr, "gen_corpus: %s: parser rejects the seed\n", name);
		failures++;
		return;
	}
	snprintf(path, sizeof(path), "%s/pkt/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&fl, 1, 1, f) != 1 ||
	    fwrite(frame, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: %s: %s\n", path, strerror(errno));
		failures++;
	}
}

static struct pkt_spec base4(uint8_t proto)
{
	struct pkt_spec s = {
		.eth_dst = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 },
		.eth_src = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		.src4 = htonl(0x0a00020f),	/* 10.0.2.15 */
		.dst4 = htonl(0xc6336407),	/* 198.51.100.7 */
		.proto = proto,
		.sport = 40000,
		.dport = 443,
		.ip_id = 0x1234,
	};
	return s;
}

static struct pkt_spec base6(uint8_t proto)
{
	struct pkt_spec s = base4(proto);
	/* 2001:db8::15 -> 2001:db8:1::7 (documentation prefix) */
	const uint8_t src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x15 };
	const uint8_t dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x07 };

	s.ip6 = true;
	memcpy(s.src6, src, 16);
	memcpy(s.dst6, dst, 16);
	return s;
}

int main(int argc, char **argv)
{
	uint8_t f[FRAME_MAX], inner[256];
	const uint8_t payload[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t zero[6] = { 0 };
	const uint8_t gw_mac[6] = { 0x02, 0xab, 0xcd, 0x00, 0x00, 0x01 };
	const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	/* hop-by-hop (PadN), routing type 0 with 0 segments left, dst opts */
	const uint8_t ext6[24] = {
		IPPROTO_NUM_ROUTING, 0, 1, 4, 0, 0, 0, 0,
		IPPROTO_NUM_DSTOPTS, 0, 0, 0, 0, 0, 0, 0,
		IPPROTO_NUM_TCP, 0, 1, 4, 0, 0, 0, 0,
	};
	const uint8_t opts4[8] = { 0x94, 0x04, 0, 0, IP4_OPT_NOP, IP4_OPT_NOP,
				   IP4_OPT_NOP, IP4_OPT_EOL }; /* router alert */
	struct pkt_spec s;
	char dir[512];
	int n, in;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	out_dir = argv[1];
	snprintf(dir, sizeof(dir), "%s/pkt", out_dir);
	mkdir(out_dir, 0755);
	mkdir(dir, 0755);

	s = base4(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_SYN;
	s.mss = 1460;
	s.sack_perm = true;
	s.has_ts = true;
	s.tsval = 1;
	s.has_wscale = true;
	s.wscale = 7;
	put("ip4_tcp_syn", 0, f, pkt_build(&s, f, sizeof(f)));
	s.vlan = true;
	s.vlan_tci = 100;
	put("ip4_tcp_syn_vlan", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_ACK | TCP_PSH;
	s.payload = payload;
	s.payload_len = sizeof(payload) - 1;
	put("ip4_tcp_data", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip4_opts = opts4;
	s.ip4_opts_len = sizeof(opts4);
	put("ip4_opts_tcp", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_UDP);
	s.dport = 53;
	s.payload = payload;
	s.payload_len = 12;
	put("ip4_udp", 0, f, pkt_build(&s, f, sizeof(f)));
	s.udp_no_csum = true;
	put("ip4_udp_nocsum", 2, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_ICMP);
	s.icmp_type = ICMP_ECHO;
	s.icmp_id = 0x4242;
	s.icmp_seq = 1;
	s.payload = payload;
	s.payload_len = 16;
	put("ip4_icmp_echo", 0, f, pkt_build(&s, f, sizeof(f)));

	/* Port unreachable quoting a UDP datagram, from the outside. */
	s = base4(IPPROTO_NUM_UDP);
	s.no_eth = true;
	s.payload = payload;
	s.payload_len = 8;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base4(IPPROTO_NUM_ICMP);
	s.src4 = htonl(0xc6336407);
	s.dst4 = htonl(0x0a00020f);
	s.icmp_type = ICMP_DEST_UNREACH;
	s.icmp_code = ICMP_PORT_UNREACH;
	s.payload = inner;
	s.payload_len = in > 0 ? (size_t)in : 0;
	put("ip4_icmp_port_unreach", 0, f, pkt_build(&s, f, sizeof(f)));

	/* Fragmentation needed quoting 8 bytes of a TCP segment. */
	s = base4(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_ACK;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base4(IPPROTO_NUM_ICMP);
	s.icmp_type = ICMP_DEST_UNREACH;
	s.icmp_code = ICMP_FRAG_NEEDED;
	s.icmp_seq = 1400;
	s.payload = inner;
	s.payload_len = in > 28 ? 28 : 0;
	put("ip4_icmp_frag_needed", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base4(IPPROTO_NUM_UDP);
	s.ip4_frag = IP4_FLAG_MF;
	s.payload = payload;
	s.payload_len = 24;
	put("ip4_frag_first", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip4_frag = 4;	/* offset 32 bytes, last */
	s.l4_raw = true;
	put("ip4_frag_later", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_TCP);
	s.tcp_flags = TCP_SYN | TCP_ACK;
	s.mss = 1440;
	s.has_wscale = true;
	s.wscale = 9;
	put("ip6_tcp_synack", 0, f, pkt_build(&s, f, sizeof(f)));
	s.ip6_ext = ext6;
	s.ip6_ext_len = sizeof(ext6);
	s.ip6_ext_first = IPPROTO_NUM_HOPOPTS;
	put("ip6_ext_tcp", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_UDP);
	s.payload = payload;
	s.payload_len = 20;
	put("ip6_udp", 0, f, pkt_build(&s, f, sizeof(f)));
	{
		const uint8_t frag_first[8] = { IPPROTO_NUM_UDP, 0, 0, 1, 0, 0, 0, 7 };
		const uint8_t frag_later[8] = { IPPROTO_NUM_UDP, 0, 0, 32, 0, 0, 0, 7 };

		s.ip6_ext = frag_first;
		s.ip6_ext_len = 8;
		s.ip6_ext_first = IPPROTO_NUM_FRAGMENT;
		put("ip6_frag_first", 0, f, pkt_build(&s, f, sizeof(f)));
		s.ip6_ext = frag_later;
		s.l4_raw = true;
		put("ip6_frag_later", 0, f, pkt_build(&s, f, sizeof(f)));
	}

	s = base6(IPPROTO_NUM_ICMPV6);
	s.icmp_type = ICMP6_ECHO_REQUEST;
	s.icmp_id = 7;
	s.payload = payload;
	s.payload_len = 8;
	put("ip6_icmp6_echo", 0, f, pkt_build(&s, f, sizeof(f)));

	s = base6(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_ACK;
	in = pkt_build(&s, inner, sizeof(inner));
	s = base6(IPPROTO_NUM_ICMPV6);
	s.icmp_type = ICMP6_PACKET_TOO_BIG;
	s.icmp_seq = 1280;
	s.payload = inner;
	s.payload_len = in > 0 ? (size_t)in : 0;
	put("ip6_icmp6_too_big", 0, f, pkt_build(&s, f, sizeof(f)));

	n = pkt_build_arp(f, sizeof(f), ARP_OP_REQUEST, bcast, guest_mac,
			  htonl(0x0a00020f), zero, htonl(0x0a000201));
	put("arp_request", 0, f, n);
	n = pkt_build_arp(f, sizeof(f), ARP_OP_REPLY, guest_mac, gw_mac,
			  htonl(0x0a000201), guest_mac, htonl(0x0a00020f));
	put("arp_reply", 0, f, n);

	s = base4(IPPROTO_NUM_UDP);
	s.no_eth = true;
	s.payload = payload;
	s.payload_len = 4;
	put("l3_ip4_udp", 1, f, pkt_build(&s, f, sizeof(f)));
	s = base6(IPPROTO_NUM_TCP);
	s.no_eth = true;
	s.tcp_flags = TCP_RST;
	put("l3_ip6_tcp", 1, f, pkt_build(&s, f, sizeof(f)));

	/* An EtherType the parser passes through (LLDP). */
	memset(f, 0, 64);
	memcpy(f, bcast, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x88;
	f[13] = 0xcc;
	put("other_ethertype", 0, f, 64);

	return failures ? 1 : 0;
}
