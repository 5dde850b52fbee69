// SPDX-License-Identifier: MIT
/*
 * opts.c - strict parsers for settings' text forms (opts.h).
 */
#include "nat/opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int opts_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int opts_parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;

	/* inet_pton() takes exactly four decimal parts, no shorthand. */
	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = a.s_addr;
	return 0;
}

int opts_parse_prefix(const char *s, unsigned int plen_default, uint32_t *addr,
		      unsigned int *plen)
{
	char buf[INET_ADDRSTRLEN];
	const char *slash;
	uint32_t len;
	size_t n;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash) {
		if (!plen_default)
			return -EINVAL;
		*plen = plen_default;
		return opts_parse_ip4(s, addr);
	}
	n = (size_t)(slash - s);
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (opts_parse_u32(slash + 1, 0, 32, &len) || opts_parse_ip4(buf, addr))
		return -EINVAL;
	*plen = len;
	return 0;
}

int opts_parse_forward(const char *s, struct nat_forward *fwd)
{
	char buf[64];
	char *proto, *ext, *addr, *port, *save = NULL;
	uint32_t e, i;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	proto = strtok_r(buf, ":", &save);
	ext = strtok_r(NULL, ":", &save);
	addr = strtok_r(NULL, ":", &save);
	port = strtok_r(NULL, ":", &save);
	if (!port || strtok_r(NULL, ":", &save))
		return -EINVAL;
	/* strtok_r() folds "::" into one separator: refuse empty fields. */
	if (strstr(s, "::") || s[strlen(s) - 1] == ':')
		return -EINVAL;
	memset(fwd, 0, sizeof(*fwd));
	if (!strcmp(proto, "tcp"))
		fwd->proto = IPPROTO_TCP;
	else if (!strcmp(proto, "udp"))
		fwd->proto = IPPROTO_UDP;
	else
		return -EINVAL;
	if (opts_parse_u32(ext, 1, 65535, &e) ||
	    opts_parse_ip4(addr, &fwd->int_addr) ||
	    opts_parse_u32(port, 1, 65535, &i))
		return -EINVAL;
	fwd->ext_port = (uint16_t)e;
	fwd->int_port = (uint16_t)i;
	return 0;
}

/* "P" or "P-Q" (1..65535, P <= Q), ending at @end. */
static int opts_ports(const char *s, const char *end, uint32_t *first,
		      uint32_t *last)
{
	char buf[16];
	char *dash;
	size_t n = (size_t)(end - s);

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (opts_parse_u32(buf, 1, 65535, first))
		return -EINVAL;
	*last = *first;
	if (dash && (opts_parse_u32(dash + 1, 1, 65535, last) || *last < *first))
		return -EINVAL;
	return 0;
}

int opts_parse_port_range(const char *s, struct opts_port_range *out)
{
	const char *slash, *colon, *ports;
	uint32_t hf, hl, gf, gl;

	if (!s || !*s)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	slash = strchr(s, '/');
	ports = s;
	if (slash) {
		size_t n = (size_t)(slash - s);
		char addr[INET_ADDRSTRLEN];

		if (n == 0 || n >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, s, n);
		addr[n] = '\0';
		if (opts_parse_ip4(addr, &out->addr))
			return -EINVAL;
		ports = slash + 1;
	}
	colon = strchr(ports, ':');
	if (opts_ports(ports, colon ? colon : ports + strlen(ports), &hf, &hl))
		return -EINVAL;
	gf = hf;
	gl = hl;
	if (colon && opts_ports(colon + 1, colon + 1 + strlen(colon + 1), &gf,
				&gl))
		return -EINVAL;
	if (gl - gf != hl - hf)
		return -EINVAL;
	out->host_first = (uint16_t)hf;
	out->host_last = (uint16_t)hl;
	out->guest_first = (uint16_t)gf;
	return 0;
}

int opts_split_netns(char *s, const char **netns)
{
	char *at = strchr(s, '@');

	*netns = NULL;
	if (at) {
		*at = '\0';
		if (!at[1])
			return -EINVAL;
		*netns = at + 1;
	}
	if (!*s || strlen(s) >= IFNAMSIZ)
		return -EINVAL;
	return 0;
}

int opts_parse_filtering(const char *s, enum nat_filtering *out)
{
	if (!strcmp(s, "eif"))
		*out = NAT_FILTER_EIF;
	else if (!strcmp(s, "adf"))
		*out = NAT_FILTER_ADF;
	else if (!strcmp(s, "apdf"))
		*out = NAT_FILTER_APDF;
	else
		return -EINVAL;
	return 0;
}
