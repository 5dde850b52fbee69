/* SPDX-License-Identifier: MIT */
/*
 * dns_wire.h - a byte-level DNS message writer for the DNS unit tests
 * (test_dns_msg.c, test_dns_cache.c, test_dns.c).
 *
 * Deliberately independent of src/svc/dns_msg.c: tests write messages
 * byte by byte, including malformed ones (pointer loops, bad lengths),
 * and check what the library makes of them. Names are written exactly as
 * given (no lowercasing), uncompressed unless w_ptr() is used.
 */
#ifndef ARCNAT_TESTS_DNS_WIRE_H
#define ARCNAT_TESTS_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "prot/dns.h"

#define W_MAX 8192

struct wire {
	uint8_t b[W_MAX];
	size_t n;
};

static inline void w_reset(struct wire *w)
{
	w->n = 0;
}

static inline void w_u8(struct wire *w, unsigned int v)
{
	if (w->n < W_MAX)
		w->b[w->n++] = (uint8_t)v;
}

static inline void w_u16(struct wire *w, unsigned int v)
{
	w_u8(w, v >> 8 & 0xff);
	w_u8(w, v & 0xff);
}

static inline void w_u32(struct wire *w, uint32_t v)
{
	w_u16(w, v >> 16);
	w_u16(w, v & 0xffff);
}

static inline void w_bytes(struct wire *w, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		w_u8(w, b[i]);
}

/* Labels of a dotted name, without the terminating root byte. */
static inline void w_labels(struct wire *w, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		w_u8(w, (unsigned int)n);
		w_bytes(w, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
}

/* A whole uncompressed name ("" is the root). */
static inline void w_name(struct wire *w, const char *s)
{
	w_labels(w, s);
	w_u8(w, 0);
}

/* A compression pointer to @off. */
static inline void w_ptr(struct wire *w, unsigned int off)
{
	w_u16(w, 0xc000 | off);
}

static inline void w_hdr(struct wire *w, unsigned int id, unsigned int flags,
			 unsigned int qd, unsigned int an, unsigned int ns,
			 unsigned int ar)
{
	w_u16(w, id);
	w_u16(w, flags);
	w_u16(w, qd);
	w_u16(w, an);
	w_u16(w, ns);
	w_u16(w, ar);
}

static inline void w_question(struct wire *w, const char *name,
			      unsigned int type, unsigned int cls)
{
	w_name(w, name);
	w_u16(w, type);
	w_u16(w, cls);
}

/* The fixed part of a record (after its owner name). */
static inline void w_rr_fixed(struct wire *w, unsigned int type,
			      unsigned int cls, uint32_t ttl,
			      unsigned int rdlen)
{
	w_u16(w, type);
	w_u16(w, cls);
	w_u32(w, ttl);
	w_u16(w, rdlen);
}

/* An A record owned by the question's name (pointer to offset 12). */
static inline void w_rr_a(struct wire *w, uint32_t ttl, uint32_t addr_host)
{
	w_ptr(w, DNS_HLEN);
	w_rr_fixed(w, DNS_TYPE_A, DNS_CLASS_IN, ttl, 4);
	w_u32(w, addr_host);
}

/* An OPT record: root owner, @size, @ttl (ext rcode, version, DO). */
static inline void w_opt(struct wire *w, unsigned int size, uint32_t ttl)
{
	w_u8(w, 0);
	w_rr_fixed(w, DNS_TYPE_OPT, size, ttl, 0);
}

/* An SOA record for @zone with the given TTL and MINIMUM. */
static inline void w_rr_soa(struct wire *w, const char *zone, uint32_t ttl,
			    uint32_t minimum)
{
	size_t rd;

	w_name(w, zone);
	w_rr_fixed(w, DNS_TYPE_SOA, DNS_CLASS_IN, ttl, 0);
	rd = w->n;
	w_labels(w, "ns1");
	w_name(w, zone);
	w_labels(w, "hostmaster");
	w_name(w, zone);
	w_u32(w, 2024010101);	/* serial */
	w_u32(w, 7200);		/* refresh */
	w_u32(w, 900);		/* retry */
	w_u32(w, 1209600);	/* expire */
	w_u32(w, minimum);
	w->b[rd - 2] = (uint8_t)((w->n - rd) >> 8);
	w->b[rd - 1] = (uint8_t)(w->n - rd);
}

/* Set a 16-bit header field (offset 0 id, 2 flags, 4.. counts). */
static inline void w_set16(struct wire *w, size_t off, unsigned int v)
{
	w->b[off] = (uint8_t)(v >> 8);
	w->b[off + 1] = (uint8_t)v;
}

static inline uint16_t r16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t r32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

#endif /* ARCNAT_TESTS_DNS_WIRE_H */
