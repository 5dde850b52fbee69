// SPDX-License-Identifier: MIT
/*
 * test_nat_icmp.c - ICMP through the NAT (docs/nat.md; RFC 5508): errors
 * translated with their quotes, queries and their timeout, echo ids whose
 * checksum words are all zero; then fragments and checksums (UDP without
 * one, a partial checksum left for the device). The fixture is nat_fx.h,
 * as in test_nat.c, whose header says how every frame is checked.
 */

#include "test_exit.h"
#include "nat_fx.h"

/* ---- RFC 5508 ---- */

static void rfc5508_error_translation(void **state __maybe_unused)
{
	const uint8_t *l4;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* UDP, the whole datagram quoted, from the remote itself. */
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	SEND(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, TO_INSIDE);
	CHECK_OUT(&c, R1, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 5000, R1, 53);
	assert_int_not_equal(ld16(l4 + offsetof(struct udp_hdr, check)), 0);
	assert_true(l4_csum_ok(l4, ntohs(ld16(l4 + 4)), IN1, R1, UDP));

	/* From a router on the way: its address stays. */
	XLATE(&c, icmp_err(ROUTER, e.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	      OUTSIDE, TO_INSIDE, ROUTER, 0, IN1, 0);
	check_quote(&c, IN1, 5000, R1, 53);

	/* TCP with only 8 bytes quoted: ports and sequence number. */
	SEND(&c, tcp(IN1, 5001, R1, 80, TCP_SYN, 0x11223344, 0), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_true(save_ip(&c, q, sizeof(q)) > IP4_HLEN_MIN + 8);
	XLATE(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, q,
	      IP4_HLEN_MIN + 8), OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	assert_int_equal(c.m.inner.l4_avail, 8);
	l4 = check_quote(&c, IN1, 5001, R1, 80);
	assert_int_equal(ntohl(ld32(l4 + 4)), 0x11223344);

	/* About an echo request: the internal id, the echo checksum right. */
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 0x1234), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(ROUTER, e.addr, ICMP_TIME_EXCEEDED, 0, q, n),
	      OUTSIDE, TO_INSIDE, ROUTER, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 0x1234, R1, 0);
	assert_int_equal(csum_finish(csum_partial(l4, c.m.inner.l4_avail, 0)), 0);
	assert_int_equal(stats(&c)->icmp_errors, 4);

	/* About a datagram no flow ever sent. */
	n = (size_t)pkt_build(&(struct pkt_spec){ .no_eth = true, .src4 = EXT1,
			      .dst4 = R2, .proto = UDP, .sport = 4444, .dport = 53 },
			      q, sizeof(q));
	DROP(&c, icmp_err(R2, EXT1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_NO_FLOW);
	tc_done(&c);
}

/*
 * docs/nat.md section 7: an error must be addressed to the flow's endpoint
 * (else anyone outside could reach any inside host by quoting a live flow),
 * and an error leaving to the outside never carries an inside address.
 */
static void rfc5508_error_addresses(void **state __maybe_unused)
{
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	/* From outside, quoting IN1's flow but sent to another inside host. */
	DROP(&c, icmp_err(R1, IN2, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_ADDR);

	/* From an inside router, about the reply it was forwarding to IN1. */
	REPLY(&c, R1, 53, e, IN1, 5000);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(IN(254), R1, ICMP_TIME_EXCEEDED, 0, q, n),
	      INSIDE, TO_OUTSIDE, EXT1, 0, R1, 0);
	check_quote(&c, R1, 53, e.addr, e.port);
	/* The same error addressed to someone else is not ours to send. */
	DROP(&c, icmp_err(IN(254), R2, ICMP_TIME_EXCEEDED, 0, q, n),
	     INSIDE, ICMP_ERR_ADDR);
	tc_done(&c);
}

static void rfc5508_error_does_not_refresh(void **state __maybe_unused)
{
	const struct ct_entry *f;
	struct nat_config cfg;
	uint64_t deadline;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	cfg_default(&cfg);
	ct_timeouts_default(&cfg.timeouts);
	cfg.timeouts.sec[CT_TO_UDP_UNREPLIED] = 10;
	cfg.timeouts.sec[CT_TO_UDP_ASSURED] = 10;
	cfg.allow_short_udp = true;
	tc_init(&c, &cfg);
	e = OPEN(&c, IN1, 5000, R1, 53);
	n = save_ip(&c, q, sizeof(q));
	f = find_flow(&c, IN1, 5000, R1, 53, UDP);
	assert_non_null(f);
	deadline = f->deadline;
	assert_true(deadline == c.now + SEC(10));
	for (unsigned int i = 0; i < 4; i++) {
		advance(&c, SEC(2));
		SEND(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
		     OUTSIDE, TO_INSIDE);
		assert_true(f->deadline == deadline);
	}
	advance(&c, SEC(2));	/* 10 s after the only packet */
	DROP(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	     OUTSIDE, ICMP_ERR_NO_FLOW);
	DROP(&c, udp(R1, 53, e.addr, e.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);
}

static void rfc5508_icmp_query_timeout(void **state __maybe_unused)
{
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, icmp(IN1, R1, ICMP_ECHO, 7), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	advance(&c, SEC(59));
	XLATE(&c, icmp(R1, e.addr, ICMP_ECHOREPLY, e.port), OUTSIDE, TO_INSIDE,
	      R1, 7, IN1, 0);
	advance(&c, SEC(61));
	DROP(&c, icmp(R1, e.addr, ICMP_ECHOREPLY, e.port), OUTSIDE, UNSOLICITED);
	tc_done(&c);
}

/* An echo reply translated back to id 0, seq 0, without data: every word
 * of it is zero and its checksum must be 0xffff, which an incremental
 * update alone gets wrong (found by fuzz_nat). send_check() verifies the
 * checksum of what comes out. */
static void echo_all_zero_checksum(void **state __maybe_unused)
{
	struct pkt_spec s;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s = icmp(IN1, R1, ICMP_ECHO, 0);
	s.icmp_seq = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 0);	/* the id was translated */
	s = icmp(R1, e.addr, ICMP_ECHOREPLY, e.port);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	assert_int_equal(ld16(c.buf + c.m.l4_off + 2), 0xffff);
	tc_done(&c);
}

/* The same inside an ICMP error: the quoted echo reply translated back to
 * id 0, seq 0, no data needs 0xffff too (found by fuzz_nat). */
static void echo_all_zero_checksum_quoted(void **state __maybe_unused)
{
	const uint8_t *l4;
	struct pkt_spec s;
	uint8_t q[256];
	struct tc c;
	struct ep e;
	size_t n;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	s = icmp(IN1, R1, ICMP_ECHO, 0);
	s.icmp_seq = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	s = icmp(R1, e.addr, ICMP_ECHO, e.port);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	s = icmp(IN1, R1, ICMP_ECHOREPLY, 0);
	s.icmp_seq = 0;
	s.payload = NULL;
	s.payload_len = 0;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	n = save_ip(&c, q, sizeof(q));
	XLATE(&c, icmp_err(R1, e.addr, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, q, n),
	      OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	l4 = check_quote(&c, IN1, 0, R1, 0);
	assert_int_equal(c.m.inner.l4_avail, 8);
	assert_int_equal(ld16(l4 + 2), 0xffff);
	assert_int_equal(csum_finish(csum_partial(l4, 8, 0)), 0);
	tc_done(&c);
}

/* ---- fragments, checksums ---- */

/* The last forwarded frame is a later fragment still carrying @data. */
static void check_frag_data(const struct tc *c, const uint8_t *data, size_t len)
{
	assert_true(c->m.flags & PKT_F_FRAG_LATER);
	assert_int_equal(c->m.l4_len, len);
	assert_memory_equal(c->buf + c->m.l4_off, data, len);
}

static void non_first_fragment(void **state __maybe_unused)
{
	/* Bytes that read as ports 5000 -> 53, 5002 -> 80 (TCP, SYN). */
	static const uint8_t as_udp[16] = { 0x13, 0x88, 0x00, 0x35, 0, 16, 0xab, 0xcd };
	static const uint8_t as_tcp[20] = { 0x13, 0x8a, 0x00, 0x50, 0, 0, 0, 1,
					    0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff };
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	SEND(&c, first_frag(udp(IN1, 5000, R1, 53), 0x4242, 16), INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 5000);
	XLATE(&c, frag(IN1, R1, UDP, 0x4242, 24, as_udp, sizeof(as_udp)),
	      INSIDE, TO_OUTSIDE, e.addr, 0, R1, 0);
	check_frag_data(&c, as_udp, sizeof(as_udp));
	DROP(&c, frag(IN1, R1, UDP, 0x4242, 24, as_udp, sizeof(as_udp)), OUTSIDE,
	     WRONG_SIDE);
	DROP(&c, frag(IN1, R1, UDP, 0x9999, 24, as_udp, sizeof(as_udp)), INSIDE,
	     FRAG_NO_FLOW);

	/* Inbound: a fragmented reply. */
	XLATE(&c, first_frag(udp(R1, 53, e.addr, e.port), 0x5151, 16), OUTSIDE,
	      TO_INSIDE, R1, 53, IN1, 5000);
	XLATE(&c, frag(R1, e.addr, UDP, 0x5151, 24, as_udp, sizeof(as_udp)),
	      OUTSIDE, TO_INSIDE, R1, 0, IN1, 0);
	check_frag_data(&c, as_udp, sizeof(as_udp));

	/* A fragmented TCP SYN; the later data reads as a TCP header. */
	SEND(&c, first_frag(tcp(IN1, 5002, R1, 80, TCP_SYN, 1, 0), 0x6000, 4), INSIDE,
	     TO_OUTSIDE);
	e = out_src(&c);
	XLATE(&c, frag(IN1, R1, TCP, 0x6000, 24, as_tcp, sizeof(as_tcp)),
	      INSIDE, TO_OUTSIDE, e.addr, 0, R1, 0);
	check_frag_data(&c, as_tcp, sizeof(as_tcp));
	assert_int_equal(stats(&c)->fragments, 3);
	tc_done(&c);
}

static uint16_t l4_field(const struct tc *c, unsigned int off)
{
	return ld16(c->buf + c->m.l4_off + off);
}

static void udp_zero_checksum(void **state __maybe_unused)
{
	const unsigned int coff = offsetof(struct udp_hdr, check);
	uint8_t pl[8] = { 0, 0, 'z', 'e', 'r', 'o', '!', '!' };
	uint16_t hdr[4], w;
	struct pkt_spec s;
	uint32_t sum;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	/* 0 means "no checksum" and stays 0, both ways. */
	s = udp(IN1, 5000, R1, 53);
	s.udp_no_csum = true;
	SEND(&c, s, INSIDE, TO_OUTSIDE);
	e = out_src(&c);
	assert_int_equal(l4_field(&c, coff), 0);
	s = udp(R1, 53, e.addr, e.port);
	s.udp_no_csum = true;
	SEND(&c, s, OUTSIDE, TO_INSIDE);
	assert_int_equal(l4_field(&c, coff), 0);

	/*
	 * The first payload word makes the datagram as it leaves (e -> R1:53)
	 * sum to 0xffff: its checksum computes to 0 and must go out as 0xffff.
	 */
	hdr[0] = htons(e.port);
	hdr[1] = htons(53);
	hdr[2] = htons(UDP_HLEN + sizeof(pl));
	hdr[3] = 0;
	sum = csum_pseudo_ip4(e.addr, R1, UDP, UDP_HLEN + sizeof(pl));
	sum = csum_partial(pl, sizeof(pl), csum_partial(hdr, sizeof(hdr), sum));
	w = (uint16_t)~csum_fold(sum);
	memcpy(pl, &w, 2);
	s = udp(IN1, 5000, R1, 53);
	s.payload = pl;
	s.payload_len = sizeof(pl);
	XLATE(&c, s, INSIDE, TO_OUTSIDE, e.addr, e.port, R1, 53);
	assert_int_equal(l4_field(&c, coff), 0xffff);
	tc_done(&c);
}

/* Send @s with its TCP checksum field holding the pseudo-header sum. */
static void send_partial(struct tc *c, struct pkt_spec s, enum nat_side from,
			 uint8_t want)
{
	int n = pkt_build(&s, c->buf, sizeof(c->buf));
	struct pkt_meta m;
	uint16_t ph;

	assert_true(n > 0);
	c->len = (size_t)n;
	assert_int_equal(pkt_parse(c->buf, c->len, 0, &m), PKT_DROP_OK);
	ph = csum_fold(csum_pseudo_ip4(s.src4, s.dst4, s.proto, (uint16_t)m.l4_len));
	memcpy(c->buf + m.l4_off + offsetof(struct tcp_hdr, check), &ph, 2);
	send_raw(c, from, NAT_PKT_CSUM_PARTIAL, want, NAT_DROP_NONE, __LINE__);
}

static void partial_checksum(void **state __maybe_unused)
{
	const unsigned int coff = offsetof(struct tcp_hdr, check);
	uint16_t want;
	struct tc c;
	struct ep e;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	send_partial(&c, tcp(IN1, 5000, R1, 80, TCP_SYN, 1, 0), NAT_INSIDE,
		     NAT_V_TO_OUTSIDE);
	e = out_src(&c);
	assert_int_not_equal(e.port, 5000);	/* the port changed too */
	want = csum_fold(csum_pseudo_ip4(e.addr, R1, TCP, (uint16_t)c.m.l4_len));
	assert_int_equal(l4_field(&c, coff), want);
	send_partial(&c, tcp(R1, 80, e.addr, e.port, TCP_SYN | TCP_ACK, 9, 2),
		     NAT_OUTSIDE, NAT_V_TO_INSIDE);
	CHECK_OUT(&c, R1, 80, IN1, 5000);
	want = csum_fold(csum_pseudo_ip4(R1, IN1, TCP, (uint16_t)c.m.l4_len));
	assert_int_equal(l4_field(&c, coff), want);
	tc_done(&c);
}

static void icmp_type(void **state __maybe_unused)
{
	struct tc c;

	tc_init_mode(&c, NAT_FILTER_APDF, 1);
	DROP(&c, icmp(IN1, R1, ICMP_TIMESTAMP, 1), INSIDE, ICMP_TYPE);
	DROP(&c, icmp(IN1, R1, ICMP_ECHOREPLY, 1), INSIDE, ICMP_TYPE);
	DROP(&c, icmp(R1, EXT1, ICMP_TIMESTAMP, 1), OUTSIDE, ICMP_TYPE);
	SEND(&c, icmp(R1, EXT1, ICMP_ECHO, 1), OUTSIDE, LOCAL);
	assert_int_equal(stats(&c)->local, 1);
	assert_int_equal(ct_count(ct(&c)), 0);
	tc_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc5508_error_translation),
		cmocka_unit_test(rfc5508_error_addresses),
		cmocka_unit_test(rfc5508_error_does_not_refresh),
		cmocka_unit_test(rfc5508_icmp_query_timeout),
		cmocka_unit_test(echo_all_zero_checksum),
		cmocka_unit_test(echo_all_zero_checksum_quoted),
		cmocka_unit_test(non_first_fragment),
		cmocka_unit_test(udp_zero_checksum),
		cmocka_unit_test(partial_checksum),
		cmocka_unit_test(icmp_type),
	};

	return TEST_RUN_GROUP(tests, NULL, NULL);
}
