// SPDX-License-Identifier: MIT
/*
 * fuzz_frag.c - libFuzzer harness for pkt/fragment: hostile IPv4 headers
 * (options, offsets, flags) cut for hostile MTUs.
 *
 * Input: 2 bytes little-endian MTU, then an IPv4 packet. Each input is cut
 * twice: as it is, and with its total length set to the input's length
 * (so that the fuzzer reaches the option walk and the offsets without
 * having to guess the length).
 *
 * Checks, for every packet pkt_frag_init() accepts: each fragment fits the
 * MTU, has a sound header checksum, the packet's identification, addresses,
 * protocol and TTL, and its offset follows the previous fragment's end;
 * every fragment but the last has MF and a multiple of 8 data bytes, the
 * last one the packet's own MF; the data put back together is the
 * packet's; and the walk ends within 65535 / 8 + 1 fragments.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/fragment.h"
#include "prot/ip4.h"

static uint8_t pkt[IP4_MAX_LEN];
static uint8_t out[IP4_MAX_LEN];

static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz_frag: %s\n", what);
	abort();
}

static void fz_cut(const uint8_t *ip, size_t len, unsigned int mtu)
{
	const struct ip4_hdr *h = (const struct ip4_hdr *)ip;
	unsigned int hlen, base, at, count = 0;
	uint16_t fo0;
	struct pkt_frag f;
	int n;

	if (pkt_frag_init(&f, ip, len, mtu) != 0)
		return;
	hlen = ip4_hlen(h);
	fo0 = ntohs(h->frag_off);
	base = (fo0 & IP4_OFFSET_MASK) * 8u;
	at = base;
	while ((n = pkt_frag_next(&f, out, sizeof(out))) > 0) {
		const struct ip4_hdr *o = (const struct ip4_hdr *)out;
		unsigned int oh = ip4_hlen(o), data = (unsigned int)n - oh;
		uint16_t fo = ntohs(o->frag_off);
		bool last;

		if (++count > IP4_MAX_LEN / 8 + 1)
			fz_die("too many fragments");
		if ((unsigned int)n > mtu || ntohs(o->tot_len) != n || oh < 20)
			fz_die("fragment length");
		if (csum_ip4_header(out, oh) != 0)
			fz_die("header checksum");
		if (o->id != h->id || o->saddr != h->saddr ||
		    o->daddr != h->daddr || o->protocol != h->protocol ||
		    o->ttl != h->ttl)
			fz_die("header fields differ");
		if ((fo & IP4_OFFSET_MASK) * 8u != at)
			fz_die("offset does not follow");
		last = at + data == base + (len - hlen);
		if (!last && (!(fo & IP4_FLAG_MF) || data % 8))
			fz_die("inner fragment without MF or unaligned");
		if (last && (fo & IP4_FLAG_MF) != (fo0 & IP4_FLAG_MF))
			fz_die("last fragment's MF is not the packet's");
		if (memcmp(out + oh, ip + hlen + (at - base), data) != 0)
			fz_die("data differs");
		at += data;
	}
	if (n < 0)
		fz_die("no room in a 64 KiB buffer");
	if (at != base + (len - hlen))
		fz_die("data missing");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned int mtu;
	uint16_t tot;
	size_t len;

	if (size < 2)
		return 0;
	mtu = (unsigned int)(data[0] | data[1] << 8);
	len = size - 2;
	if (len > sizeof(pkt))
		len = sizeof(pkt);
	memcpy(pkt, data + 2, len);
	fz_cut(pkt, len, mtu);
	if (len >= IP4_HLEN_MIN) {
		tot = htons((uint16_t)len);
		memcpy(pkt + offsetof(struct ip4_hdr, tot_len), &tot, 2);
		fz_cut(pkt, len, mtu);
	}
	return 0;
}
