// SPDX-License-Identifier: MIT
/*
 * icmp_echo.c - ICMP echo replies for addresses arcnat owns.
 */
#include "svc/icmp_echo.h"

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "pkt/csum.h"
#include "prot/icmp.h"
#include "prot/ip4.h"

bool icmp_echo_is_request(const struct pkt_meta *m)
{
	return m->l3 == PKT_L3_IPV4 && m->l4_proto == IPPROTO_ICMP &&
	       (m->flags & PKT_F_L4) && !(m->flags & PKT_F_FRAG) &&
	       m->icmp_type == ICMP_ECHO && m->icmp_code == 0;
}

int icmp_echo_reply(uint8_t *frame, const struct pkt_meta *m)
{
	struct ip4_hdr ip;
	struct icmp_hdr ic;
	uint16_t old_word, new_word;
	uint32_t tmp;

	if (!icmp_echo_is_request(m))
		return -EINVAL;

	/* Wire structs are packed; copy out and back to stay alignment-clean. */
	memcpy(&ip, frame + m->l3_off, sizeof(ip));
	memcpy(&ic, frame + m->l4_off, sizeof(ic));

	tmp = ip.saddr;
	ip.saddr = ip.daddr;
	ip.daddr = tmp;		/* a swap leaves the header sum unchanged */
	old_word = (uint16_t)(ip.ttl << 8 | ip.protocol);
	ip.ttl = ICMP_ECHO_TTL;
	new_word = (uint16_t)(ip.ttl << 8 | ip.protocol);
	ip.check = csum_replace2(ip.check, htons(old_word), htons(new_word));

	/* Type and code share a 16-bit word of the sum; the code is 0. */
	ic.type = ICMP_ECHOREPLY;
	ic.check = csum_replace2(ic.check, htons(ICMP_ECHO << 8),
				 htons(ICMP_ECHOREPLY << 8));

	memcpy(frame + m->l3_off, &ip, sizeof(ip));
	memcpy(frame + m->l4_off, &ic, sizeof(ic));
	return 0;
}
