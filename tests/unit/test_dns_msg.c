// SPDX-License-Identifier: MIT
/*
 * test_dns_msg.c - unit tests for src/svc/dns_msg (DNS message parser,
 * builders and in-place edits).
 *
 * Messages are written byte by byte with tests/unit/dns_wire.h, so the
 * parser is never checked against itself. Hostile shapes (pointer loops,
 * forward pointers, pointers past the end or into the header, long chains,
 * oversized names, truncation at every byte) must be rejected with a
 * bounded amount of work; builders' output is read back by the parser and
 * by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "test_exit.h"
#include "prot/dns.h"
#include "svc/dns_msg.h"
#include "unit/dns_wire.h"

/* A response to "www.Example.com A" with two A records (TTL 300, 60), an
 * SOA in authority and an OPT in additional. Offsets noted for edits. */
static void mk_response(struct wire *w)
{
	w_reset(w);
	w_hdr(w, 0xbeef, DNS_F_QR | DNS_F_RD | DNS_F_RA, 1, 2, 1, 1);
	w_question(w, "www.Example.com", DNS_TYPE_A, DNS_CLASS_IN);
	w_rr_a(w, 300, 0x5db8d822);
	w_rr_a(w, 60, 0x5db8d823);
	w_rr_soa(w, "example.com", 3600, 120);
	w_opt(w, 1232, 0x00008000);	/* DO */
}

static void test_parse_query(void **state)
{
	static const uint8_t want[] = "\3www\7example\3com";
	struct dns_msg m;
	struct wire w;

	(void)state;
	w_reset(&w);
	w_hdr(&w, 0x1234, DNS_F_RD, 1, 0, 0, 0);
	w_question(&w, "WWW.example.COM", DNS_TYPE_AAAA, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_true(m.hdr_ok && m.q_ok);
	assert_int_equal(m.id, 0x1234);
	assert_int_equal(m.flags, DNS_F_RD);
	assert_int_equal(m.q.name_len, sizeof(want));
	assert_memory_equal(m.q.name, want, sizeof(want));	/* lowercased */
	assert_int_equal(m.q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(m.q.qclass, DNS_CLASS_IN);
	assert_int_equal(m.q_end, w.n);
	assert_int_equal(m.len, w.n);
	assert_false(m.has_opt);
	assert_false(m.has_an_ttl);
	assert_int_equal(dns_msg_opcode(&m), DNS_OPCODE_QUERY);

	/* With EDNS0: size, version, DO. */
	w_set16(&w, 10, 1);
	w_opt(&w, 4096, 0x00018000);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_size, 4096);
	assert_int_equal(m.opt_version, 1);
	assert_true(m.opt_do);
	assert_int_equal(m.opt_off, m.q_end);
	assert_int_equal(m.opt_len, DNS_OPT_LEN);
}

static void test_parse_response(void **state)
{
	struct dns_msg m;
	struct wire w;

	(void)state;
	mk_response(&w);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.ancount, 2);
	assert_true(m.has_an_ttl);
	assert_int_equal(m.an_min_ttl, 60);
	assert_true(m.has_soa);
	assert_int_equal(m.soa_ttl, 3600);
	assert_int_equal(m.soa_minimum, 120);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_size, 1232);
	assert_true(m.opt_do);
	assert_int_equal(m.opt_off + m.opt_len, w.n);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_NOERROR);
}

static void test_ttl_top_bit_is_zero(void **state)
{
	struct dns_msg m;
	struct wire w;

	(void)state;
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 2, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	w_rr_a(&w, 0x80000010u, 0x01020304);	/* RFC 2181 section 8 */
	w_rr_a(&w, 50, 0x01020305);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.an_min_ttl, 0);
}

/* The header says one answer; its owner name is made of @owner bytes. */
static int parse_with_owner(const uint8_t *owner, size_t n, struct dns_msg *m)
{
	struct wire w;

	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);	/* 12..23 */
	w_bytes(&w, owner, n);
	w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, 30, 4);
	w_u32(&w, 0x0a000001);
	return dns_msg_parse(w.b, w.n, m);
}

static void test_compression_good(void **state)
{
	static const uint8_t to_q[] = { 0xc0, 12 };
	static const uint8_t to_test[] = { 0xc0, 14 };	/* "test" in the question */
	static const uint8_t label_then_ptr[] = { 1, 'b', 0xc0, 12 };
	struct dns_msg m;

	(void)state;
	assert_int_equal(parse_with_owner(to_q, sizeof(to_q), &m), 0);
	assert_int_equal(parse_with_owner(to_test, sizeof(to_test), &m), 0);
	assert_int_equal(parse_with_owner(label_then_ptr, sizeof(label_then_ptr),
					  &m), 0);
}

static void test_compression_hostile(void **state)
{
	/* parse_with_owner() puts the owner at offset 24. */
	static const uint8_t self[] = { 0xc0, 24 };	/* points at itself */
	static const uint8_t forward[] = { 0xc0, 40 };	/* ahead of itself */
	static const uint8_t past_end[] = { 0xff, 0xff };
	static const uint8_t into_hdr[] = { 0xc0, 4 };
	static const uint8_t own_run[] = { 1, 'x', 0xc0, 24 }; /* its own labels */
	static const uint8_t ext_label[] = { 0x41, 0 };	/* 01 label type */
	static const uint8_t ext_label2[] = { 0x80, 0 };	/* 10 label type */
	struct dns_msg m;
	struct wire w;

	(void)state;
	assert_int_equal(parse_with_owner(self, sizeof(self), &m), -EBADMSG);
	assert_int_equal(parse_with_owner(forward, sizeof(forward), &m), -EBADMSG);
	assert_int_equal(parse_with_owner(past_end, sizeof(past_end), &m), -EBADMSG);
	assert_int_equal(parse_with_owner(into_hdr, sizeof(into_hdr), &m), -EBADMSG);
	assert_int_equal(parse_with_owner(own_run, sizeof(own_run), &m), -EBADMSG);
	assert_int_equal(parse_with_owner(ext_label, sizeof(ext_label), &m),
			 -EBADMSG);
	assert_int_equal(parse_with_owner(ext_label2, sizeof(ext_label2), &m),
			 -EBADMSG);

	/* A pointer cut by the end of the message. */
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(w.n, 24);
	w_u8(&w, 0xc0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);

	/* A question name can never hold a pointer (nothing before it). */
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_ptr(&w, 12);
	w_u16(&w, DNS_TYPE_A);
	w_u16(&w, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	assert_true(m.hdr_ok);
	assert_false(m.q_ok);
}

/* Two pointers that point at each other: A -> B -> A. */
static void test_compression_mutual_loop(void **state)
{
	struct dns_msg m;
	struct wire w;
	size_t a;

	(void)state;
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 2, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	a = w.n;			/* 24: first record's owner */
	w_ptr(&w, (unsigned int)a + 16);	/* -> the second owner (forward) */
	w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, 1, 4);
	w_u32(&w, 1);
	assert_int_equal(w.n, a + 16);
	w_ptr(&w, (unsigned int)a);	/* -> the first owner */
	w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, 1, 4);
	w_u32(&w, 2);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
}

/* A chain of backward pointers longer than DNS_MSG_MAX_HOPS is refused;
 * one as long as allowed is fine. */
static void chain(unsigned int hops, int want)
{
	struct dns_msg m;
	struct wire w;
	unsigned int i;
	size_t prev;

	w_reset(&w);
	/* Record i (i >= 1) is owned by a pointer to record i-1's owner. */
	w_hdr(&w, 1, DNS_F_QR, 1, hops + 1, 0, 0);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	prev = w.n;
	w_name(&w, "z");
	w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, 1, 4);
	w_u32(&w, 1);
	for (i = 0; i < hops; i++) {
		size_t here = w.n;

		/* A bare pointer to the previous owner, itself a pointer:
		 * the last owner takes @hops jumps to reach "z". */
		w_ptr(&w, (unsigned int)prev);
		w_rr_fixed(&w, DNS_TYPE_A, DNS_CLASS_IN, 1, 4);
		w_u32(&w, 1);
		prev = here;
	}
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), want);
}

static void test_pointer_hop_bound(void **state)
{
	(void)state;
	chain(DNS_MSG_MAX_HOPS, 0);
	chain(DNS_MSG_MAX_HOPS + 1, -EBADMSG);
}

static void test_name_length_bounds(void **state)
{
	char name[400];
	struct dns_msg m;
	struct wire w;
	unsigned int i;

	(void)state;
	/* 63-byte labels are fine; 64 is not a label length. */
	memset(name, 'a', 63);
	name[63] = 0;
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_question(&w, name, DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	w.b[12] = 64;
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);

	/* 255 bytes in all is the most: 4 x (1 + 62) + (1 + 1) + root. */
	for (i = 0; i < 4; i++) {
		memset(name + (size_t)i * 63, 'b', 62);
		name[(size_t)i * 63 + 62] = '.';
	}
	memcpy(name + (size_t)4 * 63, "c", 2);
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_question(&w, name, DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.q.name_len, 255);
	memcpy(name + (size_t)4 * 63, "cc", 3);	/* 256 */
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 0);
	w_question(&w, name, DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
}

static void test_every_truncation_rejected(void **state)
{
	struct dns_msg m;
	struct wire w;
	size_t n;

	(void)state;
	mk_response(&w);
	for (n = 0; n < w.n; n++) {
		int r = dns_msg_parse(w.b, n, &m);

		assert_int_equal(r, n < DNS_HLEN ? -EINVAL : -EBADMSG);
		assert_int_equal(m.hdr_ok, n >= DNS_HLEN);
	}
	/* ... and trailing bytes too. */
	w_u8(&w, 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
}

static void test_header_rules(void **state)
{
	struct dns_msg m;
	struct wire w;

	(void)state;
	w_reset(&w);
	w_hdr(&w, 7, 0, 0, 0, 0, 0);	/* no question */
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	assert_true(m.hdr_ok);
	assert_false(m.q_ok);
	assert_int_equal(m.id, 7);
	w_reset(&w);
	w_hdr(&w, 7, 0, 2, 0, 0, 0);	/* two questions */
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	w_question(&w, "b", DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	assert_false(m.q_ok);
	/* Counts that promise more records than there are. */
	w_reset(&w);
	w_hdr(&w, 7, 0, 1, 0xffff, 0xffff, 0xffff);
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	assert_true(m.q_ok);
}

static void test_opt_rules(void **state)
{
	struct dns_msg m;
	struct wire w;

	(void)state;
	/* OPT in the answer section. */
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	w_opt(&w, 512, 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	/* Two OPTs. */
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 2);
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	w_opt(&w, 512, 0);
	w_opt(&w, 512, 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	/* Non-root owner. */
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 1);
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	w_name(&w, "x");
	w_rr_fixed(&w, DNS_TYPE_OPT, 512, 0, 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
	/* Options must fill the rdata exactly. */
	w_reset(&w);
	w_hdr(&w, 1, 0, 1, 0, 0, 1);
	w_question(&w, "a", DNS_TYPE_A, DNS_CLASS_IN);
	w_u8(&w, 0);
	w_rr_fixed(&w, DNS_TYPE_OPT, 512, 0, 8);
	w_u16(&w, 10);	/* COOKIE */
	w_u16(&w, 4);
	w_u32(&w, 0xdeadbeef);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	w.b[w.n - 5] = 5;	/* option length 5 > 4 left */
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), -EBADMSG);
}

/* One answer of @type with rdata @rd (@n bytes). */
static int parse_rdata(unsigned int type, const void *rd, size_t n)
{
	struct dns_msg m;
	struct wire w;

	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 1, 0, 0);
	w_question(&w, "a.test", type, DNS_CLASS_IN);
	w_ptr(&w, 12);
	w_rr_fixed(&w, type, DNS_CLASS_IN, 30, (unsigned int)n);
	w_bytes(&w, rd, n);
	return dns_msg_parse(w.b, w.n, &m);
}

static void test_rdata_checks(void **state)
{
	static const uint8_t a5[5] = { 1, 2, 3, 4, 5 };
	static const uint8_t cname[] = { 1, 'b', 0xc0, 12 };
	static const uint8_t cname_extra[] = { 1, 'b', 0xc0, 12, 0 };
	static const uint8_t cname_out[] = { 1, 'b', 5 };	/* label past rdata */
	static const uint8_t mx[] = { 0, 10, 0xc0, 12 };
	static const uint8_t txt[] = { 3, 'a', 'b', 'c', 0, 1, 'z' };
	static const uint8_t txt_bad[] = { 3, 'a', 'b' };
	static const uint8_t aaaa[16] = { 0x20, 0x01 };
	static const uint8_t any[3] = { 9, 9, 9 };

	(void)state;
	assert_int_equal(parse_rdata(DNS_TYPE_A, a5, 4), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_A, a5, 5), -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_AAAA, aaaa, 16), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_AAAA, aaaa, 4), -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_CNAME, cname, sizeof(cname)), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_PTR, cname, sizeof(cname)), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_NS, cname, sizeof(cname)), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_CNAME, cname_extra,
				     sizeof(cname_extra)), -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_CNAME, cname_out, sizeof(cname_out)),
			 -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_MX, mx, sizeof(mx)), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_MX, mx, 1), -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_TXT, txt, sizeof(txt)), 0);
	assert_int_equal(parse_rdata(DNS_TYPE_TXT, txt_bad, sizeof(txt_bad)),
			 -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_TXT, txt, 0), -EBADMSG);
	assert_int_equal(parse_rdata(DNS_TYPE_SOA, any, sizeof(any)), -EBADMSG);
	assert_int_equal(parse_rdata(99, any, sizeof(any)), 0);	/* opaque */
}

static void test_names(void **state)
{
	uint8_t n[DNS_NAME_MAX];
	char s[300];

	(void)state;
	assert_int_equal(dns_name_from_str("Arcnat.Internal", n), 17);
	assert_memory_equal(n, "\6arcnat\10internal", 17);
	assert_int_equal(dns_name_from_str("arcnat.internal.", n), 17);
	assert_int_equal(dns_name_from_str("", n), 1);
	assert_int_equal(n[0], 0);
	assert_int_equal(dns_name_from_str(".", n), 1);
	assert_int_equal(dns_name_from_str("a..b", n), -EINVAL);
	assert_int_equal(dns_name_from_str(".a", n), -EINVAL);
	assert_int_equal(dns_name_from_str("..", n), -EINVAL);
	memset(s, 'x', 64);
	s[64] = 0;
	assert_int_equal(dns_name_from_str(s, n), -EINVAL);
	s[63] = 0;
	assert_int_equal(dns_name_from_str(s, n), 65);
	memset(s, 'x', 299);
	s[299] = 0;
	assert_int_equal(dns_name_from_str(s, n), -EINVAL);

	assert_true(dns_name_equal((const uint8_t *)"\1A\2bC", 6,
				   (const uint8_t *)"\1a\2Bc", 6));
	assert_false(dns_name_equal((const uint8_t *)"\1A\2bC", 6,
				    (const uint8_t *)"\1a\2Bd", 6));
	assert_false(dns_name_equal((const uint8_t *)"\1a", 3,
				    (const uint8_t *)"\1a\1a", 5));
}

static void test_build_reply(void **state)
{
	static const uint8_t qn[] = "\7GateWay\6arcnat\10internal";
	static const uint8_t target[] = "\4host\6arcnat\10internal";
	struct dns_reply r = { .id = 0x4242, .flags = DNS_F_RD | DNS_F_CD | DNS_F_AD,
			       .aa = true, .qname = qn, .qname_len = sizeof(qn),
			       .qtype = DNS_TYPE_A, .qclass = DNS_CLASS_IN,
			       .an_type = DNS_TYPE_A, .an_ttl = 60,
			       .a_addr = 0x0102000a };
	uint8_t out[600];
	struct dns_msg m;
	int n;

	(void)state;
	n = dns_msg_build_reply(out, sizeof(out), &r);
	assert_true(n > 0);
	assert_int_equal(dns_msg_parse(out, (size_t)n, &m), 0);
	assert_int_equal(m.id, 0x4242);
	assert_int_equal(m.flags, DNS_F_QR | DNS_F_AA | DNS_F_RD | DNS_F_RA | DNS_F_CD);
	assert_int_equal(m.ancount, 1);
	assert_int_equal(m.an_min_ttl, 60);
	assert_memory_equal(out + DNS_HLEN, qn, sizeof(qn));	/* as written */
	assert_memory_equal(out + n - 4, "\x0a\x00\x02\x01", 4);
	assert_false(m.has_opt);

	/* PTR with OPT. */
	r.an_type = DNS_TYPE_PTR;
	r.ptr = target;
	r.ptr_len = sizeof(target);
	r.edns = true;
	r.edns_size = 4096;
	n = dns_msg_build_reply(out, sizeof(out), &r);
	assert_true(n > 0);
	assert_int_equal(dns_msg_parse(out, (size_t)n, &m), 0);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_size, 4096);
	assert_memory_equal(out + n - DNS_OPT_LEN - sizeof(target), target,
			    sizeof(target));

	/* SERVFAIL echoing the question; FORMERR without one. */
	r.an_type = 0;
	r.edns = false;
	r.aa = false;
	r.rcode = DNS_RCODE_SERVFAIL;
	n = dns_msg_build_reply(out, sizeof(out), &r);
	assert_int_equal(n, DNS_HLEN + (int)sizeof(qn) + 4);
	assert_int_equal(dns_msg_parse(out, (size_t)n, &m), 0);
	assert_int_equal(dns_msg_rcode(&m), DNS_RCODE_SERVFAIL);
	assert_int_equal(m.ancount, 0);
	r.qname = NULL;
	r.rcode = DNS_RCODE_FORMERR;
	assert_int_equal(dns_msg_build_reply(out, sizeof(out), &r), DNS_HLEN);
	assert_int_equal(r16(out + 2) & DNS_F_RCODE_MASK, DNS_RCODE_FORMERR);
	assert_int_equal(r16(out + 4), 0);

	/* Extended rcode: needs OPT. */
	r.rcode = DNS_RCODE_BADVERS;
	assert_int_equal(dns_msg_build_reply(out, sizeof(out), &r), -EINVAL);
	r.edns = true;
	n = dns_msg_build_reply(out, sizeof(out), &r);
	assert_int_equal(n, DNS_HLEN + DNS_OPT_LEN);
	assert_int_equal(out[n - 6], 1);	/* 16 >> 4 */
	assert_int_equal(r16(out + 2) & DNS_F_RCODE_MASK, 0);

	/* No room. */
	r.qname = qn;
	assert_int_equal(dns_msg_build_reply(out, 20, &r), -ENOSPC);
	r.an_type = 77;
	assert_int_equal(dns_msg_build_reply(out, sizeof(out), &r), -EINVAL);
}

static void test_build_query(void **state)
{
	static const uint8_t qn[] = "\7example\3com";
	uint8_t out[512];
	struct dns_msg m;
	int n;

	(void)state;
	n = dns_msg_build_query(out, sizeof(out), 0x9999, DNS_F_RD, qn,
				sizeof(qn), DNS_TYPE_MX, DNS_CLASS_IN, 4096);
	assert_int_equal(n, DNS_HLEN + (int)sizeof(qn) + 4 + DNS_OPT_LEN);
	assert_int_equal(dns_msg_parse(out, (size_t)n, &m), 0);
	assert_int_equal(m.id, 0x9999);
	assert_int_equal(m.flags, DNS_F_RD);
	assert_int_equal(m.q.qtype, DNS_TYPE_MX);
	assert_true(m.has_opt);
	assert_int_equal(m.opt_size, 4096);
	n = dns_msg_build_query(out, sizeof(out), 1, 0, qn, sizeof(qn),
				DNS_TYPE_A, DNS_CLASS_IN, 0);
	assert_int_equal(n, DNS_HLEN + (int)sizeof(qn) + 4);
	assert_int_equal(dns_msg_build_query(out, 20, 1, 0, qn, sizeof(qn),
					     DNS_TYPE_A, DNS_CLASS_IN, 0),
			 -ENOSPC);
	assert_int_equal(dns_msg_build_query(out, sizeof(out), 1, 0, qn, 0,
					     DNS_TYPE_A, DNS_CLASS_IN, 0),
			 -EINVAL);
}

static void test_truncate_strip_append(void **state)
{
	struct dns_msg m, m2;
	struct wire w;
	size_t n;
	int k;

	(void)state;
	mk_response(&w);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);

	/* Strip the OPT (last record). */
	n = dns_msg_strip_opt(w.b, &m);
	assert_int_equal(n, w.n - DNS_OPT_LEN);
	assert_int_equal(dns_msg_parse(w.b, n, &m2), 0);
	assert_false(m2.has_opt);
	assert_int_equal(m2.arcount, 0);
	assert_int_equal(m2.an_min_ttl, 60);
	assert_int_equal(dns_msg_strip_opt(w.b, &m2), n);	/* none left */

	/* Append one back, then truncate. */
	k = dns_msg_append_opt(w.b, n, sizeof(w.b), 4096, 0);
	assert_int_equal(k, (int)(n + DNS_OPT_LEN));
	assert_int_equal(dns_msg_parse(w.b, (size_t)k, &m2), 0);
	assert_true(m2.has_opt);
	assert_int_equal(m2.opt_size, 4096);
	assert_int_equal(dns_msg_append_opt(w.b, n, n + 10, 4096, 0), -ENOSPC);

	n = dns_msg_truncate(w.b, m2.q_end);
	assert_int_equal(n, m2.q_end);
	assert_int_equal(dns_msg_parse(w.b, n, &m2), 0);
	assert_true(m2.flags & DNS_F_TC);
	assert_int_equal(m2.ancount + m2.nscount + m2.arcount, 0);
	assert_int_equal(m2.q.qtype, DNS_TYPE_A);
}

/* OPT in the middle of the additional section, a record after it. */
static void test_strip_opt_middle(void **state)
{
	struct dns_msg m;
	struct wire w;
	size_t n;

	(void)state;
	w_reset(&w);
	w_hdr(&w, 1, DNS_F_QR, 1, 1, 0, 2);
	w_question(&w, "a.test", DNS_TYPE_A, DNS_CLASS_IN);
	w_rr_a(&w, 30, 1);
	w_opt(&w, 1232, 0);
	w_rr_a(&w, 40, 2);	/* owner compressed to the question */
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	n = dns_msg_strip_opt(w.b, &m);
	assert_int_equal(dns_msg_parse(w.b, n, &m), 0);
	assert_int_equal(m.arcount, 1);
	assert_false(m.has_opt);
	assert_int_equal(r32(w.b + n - 4), 2);
}

static void test_adjust_ttls(void **state)
{
	struct dns_msg m;
	struct wire w, orig;

	(void)state;
	mk_response(&w);
	/* TTLs: A 300, A 60, SOA 3600; clamp to [100, 1000], minus 30. */
	assert_int_equal(dns_msg_adjust_ttls(w.b, w.n, 100, 1000, 30), 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.an_min_ttl, 70);	/* 60 -> 100 -> 70 */
	assert_int_equal(m.soa_ttl, 970);	/* 3600 -> 1000 -> 970 */
	assert_true(m.opt_do);			/* OPT's TTL untouched */
	assert_int_equal(m.opt_size, 1232);
	/* Saturates at 0. */
	assert_int_equal(dns_msg_adjust_ttls(w.b, w.n, 0, 0xffffffffu, 5000), 0);
	assert_int_equal(dns_msg_parse(w.b, w.n, &m), 0);
	assert_int_equal(m.an_min_ttl, 0);
	assert_int_equal(m.soa_ttl, 0);
	/* A malformed message is not touched. */
	mk_response(&w);
	w.b[w.n - 2] = 0xff;	/* OPT rdlength: past the end */
	orig = w;
	assert_int_equal(dns_msg_adjust_ttls(w.b, w.n, 5, 5, 0), -EBADMSG);
	assert_memory_equal(w.b, orig.b, w.n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_query),
		cmocka_unit_test(test_parse_response),
		cmocka_unit_test(test_ttl_top_bit_is_zero),
		cmocka_unit_test(test_compression_good),
		cmocka_unit_test(test_compression_hostile),
		cmocka_unit_test(test_compression_mutual_loop),
		cmocka_unit_test(test_pointer_hop_bound),
		cmocka_unit_test(test_name_length_bounds),
		cmocka_unit_test(test_every_truncation_rejected),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_opt_rules),
		cmocka_unit_test(test_rdata_checks),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_build_reply),
		cmocka_unit_test(test_build_query),
		cmocka_unit_test(test_truncate_strip_append),
		cmocka_unit_test(test_strip_opt_middle),
		cmocka_unit_test(test_adjust_ttls),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
