// SPDX-License-Identifier: MIT
/*
 * fragment.c - IPv4 fragmentation (RFC 791 sections 2.3 and 3.2).
 */
#include "pkt/fragment.h"

#include <errno.h>
#include <string.h>

#include "pkt/csum.h"
#include "pkt/cursor.h"

/* Option type bit 7: copy the option into every fragment. */
#define IP4_OPT_COPIED	0x80u

/* The copied options of the header's option area, packed and padded with
 * end-of-options; returns their length, or -EINVAL for a malformed option
 * (an option walk is bounded by the 40-byte area: each step consumes one
 * byte at least). */
static int frag_copied_opts(const uint8_t *opts, size_t len, uint8_t *out)
{
	struct pkt_cursor c;
	size_t n = 0;

	pkt_cursor_init(&c, opts, len);
	while (pkt_cursor_remaining(&c)) {
		uint8_t type, olen;
		const uint8_t *o;

		if (!pkt_cursor_u8(&c, &type))
			return -EINVAL;
		if (type == IP4_OPT_EOL)
			break;
		if (type == IP4_OPT_NOP)
			continue;
		if (!pkt_cursor_u8(&c, &olen) || olen < 2)
			return -EINVAL;
		o = pkt_cursor_pull(&c, olen - 2u);
		if (!o)
			return -EINVAL;
		if (!(type & IP4_OPT_COPIED))
			continue;
		out[n++] = type;
		out[n++] = olen;
		memcpy(out + n, o, olen - 2u);
		n += olen - 2u;
	}
	while (n % 4)
		out[n++] = IP4_OPT_EOL;
	return (int)n;
}

int pkt_frag_init(struct pkt_frag *f, const uint8_t *ip, size_t len,
		  unsigned int mtu)
{
	const struct ip4_hdr *h;
	struct pkt_cursor c;
	unsigned int hlen;
	uint16_t fo;
	int olen;

	memset(f, 0, sizeof(*f));
	pkt_cursor_init(&c, ip, len);
	h = pkt_cursor_peek(&c, sizeof(*h));
	if (!h || ip4_version(h) != 4)
		return -EINVAL;
	hlen = ip4_hlen(h);
	if (hlen < IP4_HLEN_MIN || !pkt_cursor_at(&c, 0, hlen) ||
	    ntohs(h->tot_len) != len)
		return -EINVAL;
	olen = frag_copied_opts(ip + IP4_HLEN_MIN, hlen - IP4_HLEN_MIN,
				f->hdr_rest + IP4_HLEN_MIN);
	if (olen < 0)
		return olen;
	fo = ntohs(h->frag_off);
	f->ip = ip;
	f->hlen = (uint16_t)hlen;
	f->hlen_rest = (uint16_t)(IP4_HLEN_MIN + olen);
	f->data_len = (uint32_t)(len - hlen);
	f->base = (uint32_t)(fo & IP4_OFFSET_MASK) * 8u;
	f->flags = fo & (uint16_t)~IP4_OFFSET_MASK;
	/* The last fragment's offset must fit the 13-bit field, and the
	 * reassembled datagram 65535 bytes (RFC 791: "the maximum"). */
	if (f->base + f->data_len + IP4_HLEN_MIN > IP4_MAX_LEN)
		return -EINVAL;
	if (mtu < (unsigned int)f->hlen + 8u || mtu > IP4_MAX_LEN)
		return -EMSGSIZE;
	f->step_first = (uint16_t)((mtu - f->hlen) & ~7u);
	f->step_rest = (uint16_t)((mtu - f->hlen_rest) & ~7u);
	memcpy(f->hdr_rest, ip, IP4_HLEN_MIN);
	f->hdr_rest[0] = (uint8_t)(4u << 4 | f->hlen_rest / 4u);
	return 0;
}

int pkt_frag_next(struct pkt_frag *f, uint8_t *out, size_t cap)
{
	uint32_t left = f->data_len - f->pos;
	uint32_t chunk = f->started ? f->step_rest : f->step_first;
	unsigned int hlen = f->started ? f->hlen_rest : f->hlen;
	struct ip4_hdr h;
	uint16_t fo, c;

	if (f->started && !left)
		return 0;
	if (chunk > left)
		chunk = left;
	if (hlen + chunk > cap)
		return -ENOSPC;
	memcpy(out, f->started ? f->hdr_rest : f->ip, hlen);
	memcpy(&h, out, sizeof(h));
	/* MF on every piece but the last; the last keeps the packet's own. */
	fo = (uint16_t)((f->base + f->pos) / 8u);
	if (chunk < left)
		fo |= IP4_FLAG_MF;
	else
		fo |= f->flags & IP4_FLAG_MF;
	fo |= f->flags & (IP4_FLAG_DF | IP4_FLAG_RF);
	h.tot_len = htons((uint16_t)(hlen + chunk));
	h.frag_off = htons(fo);
	h.check = 0;
	memcpy(out, &h, sizeof(h));
	c = csum_ip4_header(out, hlen);
	memcpy(out + offsetof(struct ip4_hdr, check), &c, sizeof(c));
	memcpy(out + hlen, f->ip + f->hlen + f->pos, chunk);
	f->pos += chunk;
	f->started = 1;
	return (int)(hlen + chunk);
}
