/* SPDX-License-Identifier: MIT */
/*
 * dns_msg.h - read and write DNS messages (RFC 1035, RFC 6891) for the
 * forwarder: one parser for everything that comes in (queries from guests,
 * answers from upstream) and the few builders and in-place edits the
 * forwarder needs.
 *
 * Theory of operation. dns_msg_parse() walks a whole message through a
 * bounded cursor (pkt/cursor.h) and fills a struct dns_msg with what the
 * forwarder decides on: the header, the one question (name lowercased and
 * uncompressed, so it can be a cache key), the smallest answer TTL, the
 * first SOA in the authority section (for RFC 2308 negative caching) and
 * the OPT record (EDNS0 UDP size). Every record is checked: the owner name,
 * the fixed part, rdata inside the message, and the rdata of the types
 * whose layout we know (A, AAAA, NS, CNAME, PTR, MX, SOA, TXT, OPT) must
 * fill its rdlength exactly. Trailing bytes after the last record are an
 * error. A message that passes can be copied, cached and edited in place
 * by the functions below without another bounds question.
 *
 * Names. A compression pointer must point strictly before the first byte of
 * the run of labels that contains it (so every jump goes backward to bytes
 * not yet visited in this name, which is what RFC 1035 4.1.4 means by "a
 * prior occurrence") and at or after the end of the header; a loop is then
 * impossible, and DNS_MSG_MAX_HOPS bounds the jumps anyway. A name longer
 * than 255 bytes, a label type other than 00 or 11 (RFC 6891 retired the
 * extended ones), or a pointer outside these rules rejects the message.
 * Consequence used by the forwarder: the question's name, right after the
 * header, can never contain a pointer, so it is always DNS_HLEN bytes in
 * and as long as its lowercased copy.
 *
 * The walk over records is bounded by the section counts (at most 3 x 65535)
 * and, since every record takes at least 11 bytes, by the message length.
 */
#ifndef ARCNAT_SVC_DNS_MSG_H
#define ARCNAT_SVC_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prot/dns.h"

#define DNS_MSG_MAX_HOPS 32	/* compression pointers followed per name */

/**
 * struct dns_question - a question, its name in canonical form.
 * @name:     uncompressed wire form, ASCII letters lowercased
 * @name_len: bytes in @name, including the root's zero byte (1..255)
 * @qtype:    QTYPE, host order
 * @qclass:   QCLASS, host order
 */
struct dns_question {
	uint8_t name[DNS_NAME_MAX];
	uint8_t name_len;
	uint16_t qtype;
	uint16_t qclass;
};

/**
 * struct dns_msg - what dns_msg_parse() found in a message.
 * @id:          header ID
 * @flags:       header flags (DNS_F_*), host order
 * @qdcount:     header counts, host order
 * @ancount:     (see @qdcount)
 * @nscount:     (see @qdcount)
 * @arcount:     (see @qdcount)
 * @hdr_ok:      the header was read (the fields above are valid)
 * @q_ok:        the question was read (@q and @q_end are valid)
 * @q:           the question
 * @q_end:       offset of the first byte after the question
 * @len:         the message's length (the end of its last record)
 * @has_opt:     an OPT record was found in the additional section
 * @opt_size:    its UDP payload size, as sent
 * @opt_ext_rcode: its extended rcode bits (upper 8 of 12)
 * @opt_version: its EDNS version
 * @opt_do:      its DO bit
 * @opt_off:     offset of the OPT record
 * @opt_len:     its length, owner name to the end of rdata
 * @has_an_ttl:  at least one record in the answer section
 * @an_min_ttl:  the smallest answer TTL (RFC 2181: top bit set reads 0)
 * @has_soa:     an SOA record was found in the authority section
 * @soa_ttl:     the first such record's TTL
 * @soa_minimum: its MINIMUM field (RFC 2308: the negative-caching TTL)
 */
struct dns_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	uint16_t ancount;
	uint16_t nscount;
	uint16_t arcount;
	bool hdr_ok;
	bool q_ok;
	struct dns_question q;
	size_t q_end;
	size_t len;
	bool has_opt;
	uint16_t opt_size;
	uint8_t opt_ext_rcode;
	uint8_t opt_version;
	bool opt_do;
	size_t opt_off;
	size_t opt_len;
	bool has_an_ttl;
	uint32_t an_min_ttl;
	bool has_soa;
	uint32_t soa_ttl;
	uint32_t soa_minimum;
};

static inline unsigned int dns_msg_opcode(const struct dns_msg *m)
{
	return (m->flags & DNS_F_OPCODE_MASK) >> DNS_F_OPCODE_SHIFT;
}

static inline unsigned int dns_msg_rcode(const struct dns_msg *m)
{
	return m->flags & DNS_F_RCODE_MASK;
}

/**
 * dns_msg_parse() - check a whole message and describe it.
 * @buf: the message (borrowed, not modified)
 * @len: its length
 * @m:   filled; on an error, @m->hdr_ok and @m->q_ok say how far it got
 *
 * Exactly one question is accepted (QDCOUNT 1). Section rules as in the
 * theory of operation; an OPT record anywhere but the additional section,
 * with a non-root owner, or twice, is an error (RFC 6891 section 6.1.1).
 *
 * Return: 0; -EINVAL if @len is shorter than a header; -EBADMSG for
 * anything malformed after the header.
 */
int dns_msg_parse(const uint8_t *buf, size_t len, struct dns_msg *m);

/**
 * dns_name_from_str() - a dotted name to lowercased wire form.
 * @s:   "example.com" or "example.com."; "" and "." are the root
 * @out: output, at least DNS_NAME_MAX bytes
 *
 * No escapes: every byte between dots is taken as is. Empty labels (two
 * dots in a row, a leading dot) and labels over 63 bytes are refused.
 *
 * Return: the wire length (1..255), or -EINVAL.
 */
int dns_name_from_str(const char *s, uint8_t out[DNS_NAME_MAX]);

/**
 * dns_name_equal() - compare two uncompressed wire names, ASCII case
 * insensitively.
 * @a:     a name
 * @a_len: its length
 * @b:     the other
 * @b_len: its length
 *
 * Return: true if equal.
 */
bool dns_name_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
		    size_t b_len);

/**
 * struct dns_reply - a response dns_msg_build_reply() writes from scratch.
 * @id:       ID (the client's)
 * @flags:    the query's flags: opcode, RD and CD are kept, QR and RA set,
 *            everything else cleared
 * @aa:       set AA (we own the name)
 * @rcode:    0..4095; values over 15 need @edns (upper bits go in OPT)
 * @qname:    the question's name as the client wrote it, or NULL for a
 *            response without question (a FORMERR to an unreadable one)
 * @qname_len: its length
 * @qtype:    the question's type
 * @qclass:   the question's class
 * @an_type:  0 for no answer, DNS_TYPE_A or DNS_TYPE_PTR for one record
 *            whose owner is the question's name (compressed to it)
 * @an_ttl:   its TTL
 * @a_addr:   the A record's address, network order
 * @ptr:      the PTR record's target, uncompressed wire form
 * @ptr_len:  its length
 * @edns:     append an OPT record
 * @edns_size: the UDP payload size it advertises
 */
struct dns_reply {
	uint16_t id;
	uint16_t flags;
	bool aa;
	uint16_t rcode;
	const uint8_t *qname;
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t an_type;
	uint32_t an_ttl;
	uint32_t a_addr;
	const uint8_t *ptr;
	size_t ptr_len;
	bool edns;
	uint16_t edns_size;
};

/**
 * dns_msg_build_reply() - write a response from a struct dns_reply.
 * @out: output buffer
 * @cap: its size
 * @r:   what to write
 *
 * Return: the length written, -EINVAL for a bad spec (rcode > 15 without
 * @edns, a bad name length, an unknown @an_type), or -ENOSPC.
 */
int dns_msg_build_reply(uint8_t *out, size_t cap, const struct dns_reply *r);

/**
 * dns_msg_build_query() - write a query with one question and,
 * if @edns_size is not 0, an OPT record advertising it.
 * @out:      output buffer
 * @cap:      its size
 * @id:       ID
 * @flags:    header flags (DNS_F_RD usually)
 * @name:     the question's name, uncompressed wire form
 * @name_len: its length
 * @qtype:    type
 * @qclass:   class
 * @edns_size: 0 for no OPT record
 *
 * Return: the length written, -EINVAL (bad name length) or -ENOSPC.
 */
int dns_msg_build_query(uint8_t *out, size_t cap, uint16_t id, uint16_t flags,
			const uint8_t *name, size_t name_len, uint16_t qtype,
			uint16_t qclass, uint16_t edns_size);

/**
 * dns_msg_set_id() - rewrite a message's ID in place.
 * @msg: a message of at least DNS_HLEN bytes
 * @id:  new ID
 */
void dns_msg_set_id(uint8_t *msg, uint16_t id);

/**
 * dns_msg_set_flags() - rewrite a message's flags in place.
 * @msg:   a message of at least DNS_HLEN bytes
 * @flags: new flags, host order
 */
void dns_msg_set_flags(uint8_t *msg, uint16_t flags);

/**
 * dns_msg_get_flags() - a message's flags.
 * @msg: a message of at least DNS_HLEN bytes
 *
 * Return: the flags, host order.
 */
uint16_t dns_msg_get_flags(const uint8_t *msg);

/**
 * dns_msg_truncate() - cut a parsed message to its header and question
 * and set TC (RFC 2181 section 9: the receiver retries over TCP).
 * @msg:   the message (its first @q_end bytes are kept)
 * @q_end: the end of its question (struct dns_msg.q_end)
 *
 * The answer, authority and additional counts become 0.
 *
 * Return: the new length, @q_end.
 */
size_t dns_msg_truncate(uint8_t *msg, size_t q_end);

/**
 * dns_msg_strip_opt() - remove the OPT record of a parsed message.
 * @msg: the message, as parsed into @m
 * @m:   its description (@m->has_opt, @m->opt_off, @m->opt_len)
 *
 * Moves later records down and decrements ARCOUNT. A compression pointer
 * into the removed bytes would dangle: re-parse the result before trusting
 * it (the forwarder does).
 *
 * Return: the new length (@m->len if there was no OPT record).
 */
size_t dns_msg_strip_opt(uint8_t *msg, const struct dns_msg *m);

/**
 * dns_msg_append_opt() - append an OPT record with no options and count it.
 * @msg:       a message whose records end at @len
 * @len:       its length
 * @cap:       the buffer's size
 * @udp_size:  the UDP payload size to advertise
 * @ext_rcode: the upper 8 bits of a 12-bit rcode (0 usually)
 *
 * Return: the new length, or -ENOSPC (nothing written).
 */
int dns_msg_append_opt(uint8_t *msg, size_t len, size_t cap, uint16_t udp_size,
		       uint8_t ext_rcode);

/**
 * dns_msg_adjust_ttls() - rewrite every record's TTL in place:
 * ttl = max(min(ttl, @hi), @lo) - @sub, never below 0.
 * @msg: a message that dns_msg_parse() accepts
 * @len: its length
 * @lo:  lower clamp
 * @hi:  upper clamp
 * @sub: seconds to take off after clamping (the age of a cached copy)
 *
 * OPT records are left alone (their TTL field is not a TTL). A TTL with
 * the top bit set counts as 0 (RFC 2181 section 8).
 *
 * The message is checked whole before the first byte is written.
 *
 * Return: 0, or -EBADMSG (or -EINVAL) if it does not parse; nothing is
 * written then.
 */
int dns_msg_adjust_ttls(uint8_t *msg, size_t len, uint32_t lo, uint32_t hi,
			uint32_t sub);

/**
 * struct dns_rr - one resource record, as dns_msg_rr_next() read it.
 * @name:       its owner, uncompressed wire form, lowercased
 * @name_len:   bytes in @name
 * @type:       TYPE
 * @rclass:     CLASS
 * @ttl:        TTL (top bit set: 0)
 * @rdata:      offset of its rdata in the message
 * @rdlen:      rdata's length
 * @target:     for NS, CNAME, PTR and MX, the name in its rdata,
 *              uncompressed, lowercased
 * @target_len: bytes in @target, 0 for other types
 */
struct dns_rr {
	uint8_t name[DNS_NAME_MAX];
	size_t name_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	size_t rdata;
	size_t rdlen;
	uint8_t target[DNS_NAME_MAX];
	size_t target_len;
};

/**
 * dns_msg_rr_next() - read the record at *@pos (the answer section starts
 * at dns_msg.q_end), for the control socket's listing of cached answers.
 * Bounded like dns_msg_parse(): names through a cursor, at most
 * DNS_MSG_MAX_HOPS pointers each, rdata inside the message.
 * @msg: the message (any bytes)
 * @len: its length
 * @pos: where the record starts; set past it
 * @rr:  filled
 *
 * Return: 0, or -EBADMSG (nothing more can be read).
 */
int dns_msg_rr_next(const uint8_t *msg, size_t len, size_t *pos,
		    struct dns_rr *rr);

#endif /* ARCNAT_SVC_DNS_MSG_H */
