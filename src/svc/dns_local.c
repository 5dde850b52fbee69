// SPDX-License-Identifier: MIT
/*
 * dns_local.c - local names of the DNS forwarder. Theory of operation in
 * dns_local.h.
 */
#include "svc/dns_local.h"

#include <errno.h>
#include <string.h>

#include "core/compiler.h"

/* "in-addr.arpa." in wire form, the tail of every IPv4 reverse name. */
/* The NUL the compiler adds is the root label. */
static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
#define IN_ADDR_ARPA_LEN sizeof(in_addr_arpa)

static const uint8_t lbl_gateway[] = "\7gateway";
static const uint8_t lbl_host[] = "\4host";

int dns_local_init(struct dns_local *l, const char *domain)
{
	int n = dns_name_from_str(domain ? domain : DNS_DEFAULT_DOMAIN,
				  l->domain);

	/* Not the root, and room for one full label in front of it. */
	if (n <= 1 || (size_t)n + 1 + DNS_LABEL_MAX > DNS_NAME_MAX)
		return -EINVAL;
	l->domain_len = (size_t)n;
	return 0;
}

/*
 * If @name ends with the wire name @suffix on a label boundary, return the
 * offset where it starts, and the number of labels before it in *labels.
 * Return: the offset, or -1.
 */
static int suffix_at(const uint8_t *name, size_t len, const uint8_t *suffix,
		     size_t suffix_len, unsigned int *labels)
{
	size_t p = 0;
	unsigned int n;

	/* A name has at most 127 labels. */
	for (n = 0; n <= DNS_NAME_MAX / 2 && p < len; n++) {
		if (len - p == suffix_len &&
		    !memcmp(name + p, suffix, suffix_len)) {
			*labels = n;
			return (int)p;
		}
		if (name[p] == 0)
			break;
		p += 1 + (size_t)name[p];
	}
	return -1;
}

static bool label_is(const uint8_t *label, const uint8_t *want)
{
	return label[0] == want[0] && !memcmp(label + 1, want + 1, want[0]);
}

/* A label's text as a C string, if it has no NUL and no dot in it. */
static bool label_cstr(const uint8_t *label, char out[DNS_LABEL_MAX + 1])
{
	size_t n = label[0], i;

	for (i = 0; i < n; i++) {
		if (label[1 + i] == 0 || label[1 + i] == '.')
			return false;
		out[i] = (char)label[1 + i];
	}
	out[n] = 0;
	return true;
}

/* A decimal label 0..255 without leading zeros. */
static bool octet(const uint8_t *label, uint32_t *v)
{
	size_t n = label[0], i;

	if (n < 1 || n > 3 || (n > 1 && label[1] == '0'))
		return false;
	*v = 0;
	for (i = 0; i < n; i++) {
		if (label[1 + i] < '0' || label[1 + i] > '9')
			return false;
		*v = *v * 10 + (uint32_t)(label[1 + i] - '0');
	}
	return *v <= 255;
}

/* d.c.b.a.in-addr.arpa to a.b.c.d (network order). */
static bool reverse_addr(const uint8_t *name, size_t len, uint32_t *ip)
{
	unsigned int labels, i;
	uint8_t b[4];
	size_t p = 0;
	uint32_t v;

	if (suffix_at(name, len, in_addr_arpa, IN_ADDR_ARPA_LEN, &labels) < 0 ||
	    labels != 4)
		return false;
	for (i = 0; i < 4; i++) {
		if (!octet(name + p, &v))
			return false;
		b[3 - i] = (uint8_t)v;
		p += 1 + (size_t)name[p];
	}
	memcpy(ip, b, 4);	/* b[] is already in network order */
	return true;
}

/* The label that names @ip, wire form (length byte first), or false. */
static bool name_of(const struct dns_local *l, uint32_t ip,
		    uint8_t out[1 + DNS_LABEL_MAX])
{
	const char *s;
	size_t n, i;

	if (l->gateway_addr && ip == l->gateway_addr) {
		memcpy(out, lbl_gateway, sizeof(lbl_gateway) - 1);
		return true;
	}
	if (l->host_addr && ip == l->host_addr) {
		memcpy(out, lbl_host, sizeof(lbl_host) - 1);
		return true;
	}
	if (!l->local_name)
		return false;
	s = l->local_name(l->ctx, ip);
	if (!s)
		return false;
	n = strnlen(s, DNS_LABEL_MAX + 1);
	if (n < 1 || n > DNS_LABEL_MAX)
		return false;
	out[0] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];

		if (ch == '.')
			return false;
		out[1 + i] = (ch >= 'A' && ch <= 'Z') ? (uint8_t)(ch + 32) : ch;
	}
	return true;
}

/* The address of the one label at @label, or 0. */
static uint32_t addr_of(const struct dns_local *l, const uint8_t *label)
{
	char s[DNS_LABEL_MAX + 1];
	uint32_t ip = 0;

	if (label_is(label, lbl_gateway) && l->gateway_addr)
		return l->gateway_addr;
	if (label_is(label, lbl_host) && l->host_addr)
		return l->host_addr;
	if (l->local_addr && label_cstr(label, s) &&
	    l->local_addr(l->ctx, s, &ip) == 0)
		return ip;
	return 0;
}

static bool class_in(uint16_t qclass)
{
	return qclass == DNS_CLASS_IN || qclass == DNS_CLASS_ANY;
}

bool dns_local_lookup(const struct dns_local *l, const struct dns_question *q,
		      struct dns_local_answer *a)
{
	uint8_t label[1 + DNS_LABEL_MAX];
	unsigned int labels;
	uint32_t ip;
	int at;

	memset(a, 0, offsetof(struct dns_local_answer, ptr));
	a->ptr_len = 0;
	a->rcode = DNS_RCODE_NOERROR;
	at = suffix_at(q->name, q->name_len, l->domain, l->domain_len, &labels);
	if (at >= 0) {
		if (labels == 0)
			return true;	/* the domain itself: NODATA */
		ip = labels == 1 ? addr_of(l, q->name) : 0;
		if (!ip) {
			a->rcode = DNS_RCODE_NXDOMAIN;
			return true;
		}
		if ((q->qtype == DNS_TYPE_A || q->qtype == DNS_TYPE_ANY) &&
		    class_in(q->qclass)) {
			a->an_type = DNS_TYPE_A;
			a->addr = ip;
		}
		return true;
	}
	if (!reverse_addr(q->name, q->name_len, &ip) || !name_of(l, ip, label))
		return false;
	if ((q->qtype == DNS_TYPE_PTR || q->qtype == DNS_TYPE_ANY) &&
	    class_in(q->qclass)) {
		a->an_type = DNS_TYPE_PTR;
		memcpy(a->ptr, label, 1 + (size_t)label[0]);
		memcpy(a->ptr + 1 + label[0], l->domain, l->domain_len);
		a->ptr_len = 1 + (size_t)label[0] + l->domain_len;
	}
	return true;
}
