// SPDX-License-Identifier: MIT
/*
 * services.c - DHCP and DNS on the datapath (theory in services.h).
 */
#include "dp/services.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/compiler.h"
#include "core/log.h"
#include "nat/nat.h"
#include "pkt/build.h"
#include "prot/dhcp.h"
#include "prot/dns.h"
#include "prot/eth.h"
#include "prot/ip4.h"
#include "prot/udp.h"

/* Headroom for the Ethernet, IPv4 and UDP headers of a built reply. */
#define DP_SVC_HDRS		(ETH_HLEN + 60 + UDP_HLEN)

struct dp_svc {
	struct dp_svc_cfg cfg;
	struct dhcp *dhcp;
	struct dns *dns;
	uint64_t no_mac;		/* late DNS replies to an unknown guest */
	uint64_t upstream_icmp;		/* ICMP errors about upstream queries */
	uint64_t leases_too_big;	/* snapshots that did not fit */
	uint64_t now;			/* of the latest call in, for callbacks */
	uint8_t dns_reply[DNS_EDNS_MAX];
	uint8_t frame[DP_SVC_HDRS + DNS_EDNS_MAX];
};

/* Build and send a UDP datagram from the gateway to a guest. */
static void svc_udp_to_guest(struct dp_svc *s, const uint8_t mac[ETH_ALEN],
			     uint32_t dst, uint16_t dport, uint16_t sport,
			     const uint8_t *payload, size_t len)
{
	struct pkt_spec sp = {
		.src4 = s->cfg.gw_addr,
		.dst4 = dst,
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = sport,
		.dport = ntohs(dport),
		.payload = payload,
		.payload_len = len,
	};
	int n;

	memcpy(sp.eth_dst, mac, ETH_ALEN);
	memcpy(sp.eth_src, s->cfg.gw_mac, ETH_ALEN);
	n = pkt_build(&sp, s->frame, sizeof(s->frame));
	if (n > 0)
		s->cfg.tx_inside(s->cfg.ctx, s->frame, (size_t)n);
}

/* dns callback: a query to an upstream server, from ext:DP_SVC_DNS_PORT. */
static void svc_dns_upstream(void *ctx, uint32_t server, uint16_t id,
			     const uint8_t *msg, size_t len)
{
	struct dp_svc *s = ctx;
	struct pkt_spec sp = {
		.no_eth = true,
		.src4 = s->cfg.ext_addr,
		.dst4 = server,
		.ttl = 64,
		.proto = IPPROTO_UDP,
		.sport = DP_SVC_DNS_PORT,
		.dport = DNS_PORT,
		.payload = msg,
		.payload_len = len,
	};
	int n;

	(void)id;
	n = pkt_build(&sp, s->frame, sizeof(s->frame));
	if (n > 0)
		s->cfg.tx_outside(s->cfg.ctx, s->frame, (size_t)n);
}

/* dns callback: an answer that came later; the guest's MAC from ARP. */
static void svc_dns_reply(void *ctx, const struct dns_client *c,
			  const uint8_t *msg, size_t len)
{
	struct dp_svc *s = ctx;
	uint8_t mac[ETH_ALEN];

	if (c->tcp)
		return;		/* never: TCP clients are redirected, not served */
	if (arp_lookup(s->cfg.arp, c->addr, s->now, mac) != 0) {
		s->no_mac++;
		return;
	}
	svc_udp_to_guest(s, mac, c->addr, c->port, DNS_PORT, msg, len);
}

static int svc_local_addr(void *ctx, const char *name, uint32_t *ip)
{
	const struct dp_svc *s = ctx;

	return s->dhcp ? dhcp_addr_of(s->dhcp, name, ip) : -ENOENT;
}

static const char *svc_local_name(void *ctx, uint32_t ip)
{
	const struct dp_svc *s = ctx;

	return s->dhcp ? dhcp_name_of(s->dhcp, ip) : NULL;
}

/* dhcp callback: who uses @ip, from the ARP table (no request sent). */
static int svc_addr_user(void *ctx, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	const struct dp_svc *s = ctx;

	return arp_peek(s->cfg.arp, ip, s->now, mac);
}

/* dhcp callback: probe an address about to be offered (rate-limited by
 * the ARP endpoint); a reply is learned and answers svc_addr_user(). */
static void svc_addr_probe(void *ctx, uint32_t ip)
{
	const struct dp_svc *s = ctx;

	(void)arp_solicit(s->cfg.arp, ip, s->now);
}

int dp_svc_create(struct dp_svc **out, const struct dp_svc_cfg *cfg,
		  uint64_t now)
{
	struct dp_svc *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->now = now;
	if (cfg->dhcp) {
		struct dhcp_cfg hc = *cfg->dhcp;

		if (cfg->arp) {
			hc.addr_user = svc_addr_user;
			hc.addr_probe = svc_addr_probe;
			hc.ctx = s;
		}
		err = dhcp_create(&s->dhcp, &hc, now, (int64_t)time(NULL));
		if (err) {
			log_err("DHCP server: %s", strerror(-err));
			goto err;
		}
	}
	if (cfg->dns) {
		struct dns_cfg dc = *cfg->dns;

		dc.local_addr = svc_local_addr;
		dc.local_name = svc_local_name;
		dc.send_upstream = svc_dns_upstream;
		dc.send_reply = svc_dns_reply;
		dc.ctx = s;
		err = dns_create(&s->dns, &dc);
		if (err) {
			log_err("DNS forwarder: %s", strerror(-err));
			goto err;
		}
		if (cfg->nat && dc.n_upstream) {
			/* DNS over TCP: the guest's connection itself goes to
			 * the first upstream server, a NAT flow like any other. */
			const struct nat_redirect rd = {
				.proto = IPPROTO_TCP,
				.addr = cfg->gw_addr,
				.port = DNS_PORT,
				.to_addr = dc.upstream[0],
				.to_port = DNS_PORT,
			};

			err = nat_add_redirect(cfg->nat, &rd);
			if (err) {
				log_err("DNS over TCP redirect: %s", strerror(-err));
				goto err;
			}
		}
	}
	*out = s;
	return 0;
err:
	dp_svc_destroy(s);
	return err;
}

void dp_svc_destroy(struct dp_svc *s)
{
	if (!s)
		return;
	dns_destroy(s->dns);
	dhcp_destroy(s->dhcp);
	free(s);
}

/* Bytes of L4 payload (the DNS message) of a parsed UDP packet. */
static size_t udp_payload_len(const struct pkt_meta *m)
{
	return m->l4_off + m->l4_len - m->payload_off;
}

bool dp_svc_inside(struct dp_svc *s, const uint8_t *frame,
		   const struct pkt_meta *m, uint64_t now)
{
	uint32_t saddr, daddr;
	int n;

	s->now = now;
	if (!(m->flags & PKT_F_L4) || (m->flags & PKT_F_FRAG))
		return false;
	if (m->l4_proto == IPPROTO_UDP && m->dport == htons(DHCP_SERVER_PORT) &&
	    s->dhcp) {
		n = dhcp_input(s->dhcp, frame, m, now, s->frame, sizeof(s->frame));
		if (n > 0)
			s->cfg.tx_inside(s->cfg.ctx, s->frame, (size_t)n);
		return true;
	}
	if (m->dport != htons(DNS_PORT) || !s->dns)
		return false;
	daddr = pkt_ip4_daddr(frame, m);
	if (daddr != s->cfg.gw_addr)
		return false;
	if (m->l4_proto != IPPROTO_UDP)
		return false;	/* DNS over TCP: the NAT's redirect */
	saddr = pkt_ip4_saddr(frame, m);

	const struct dns_client c = {
		.addr = saddr,
		.port = m->sport,
	};

	n = dns_query(s->dns, &c, frame + m->payload_off, udp_payload_len(m),
		      now, s->dns_reply, sizeof(s->dns_reply));
	if (n > 0) {
		uint8_t mac[ETH_ALEN];

		memcpy(mac, frame + ETH_ALEN, ETH_ALEN);	/* the asker */
		svc_udp_to_guest(s, mac, saddr, m->sport, DNS_PORT, s->dns_reply,
				 (size_t)n);
	}
	return true;
}

/* An ICMP error about one of our upstream queries (port unreachable from a
 * server that is down): ours, not a NAT flow's. Counted; the forwarder's
 * timeout moves on to the next server. */
static bool svc_upstream_icmp(struct dp_svc *s, const uint8_t *pkt,
			      const struct pkt_meta *m)
{
	const struct pkt_inner *in = &m->inner;
	uint32_t src;

	if (!(m->flags & PKT_F_ICMP_ERROR) || in->proto != IPPROTO_UDP ||
	    !(in->flags & PKT_INNER_PORTS) || in->sport != htons(DP_SVC_DNS_PORT) ||
	    in->dport != htons(DNS_PORT))
		return false;
	memcpy(&src, pkt + in->l3_off + offsetof(struct ip4_hdr, saddr),
	       sizeof(src));
	if (src != s->cfg.ext_addr)
		return false;
	s->upstream_icmp++;
	return true;
}

bool dp_svc_outside(struct dp_svc *s, const uint8_t *pkt,
		    const struct pkt_meta *m, uint64_t now)
{
	if (s->dns && m->l4_proto == IPPROTO_ICMP && svc_upstream_icmp(s, pkt, m))
		return true;
	if (!s->dns || m->l4_proto != IPPROTO_UDP || !(m->flags & PKT_F_L4) ||
	    (m->flags & PKT_F_FRAG) || m->dport != htons(DP_SVC_DNS_PORT) ||
	    m->sport != htons(DNS_PORT) ||
	    pkt_ip4_daddr(pkt, m) != s->cfg.ext_addr)
		return false;
	s->now = now;
	dns_upstream_input(s->dns, pkt_ip4_saddr(pkt, m), pkt + m->payload_off,
			   udp_payload_len(m), now);
	return true;
}

/* A changed lease table goes to the lease file's writer: formatting in
 * memory here, the disk on the writer's thread (dp/persist.h). */
static void svc_leases_publish(struct dp_svc *s, uint64_t now, int64_t wall_sec)
{
	struct dp_persist *p = s->cfg.leases;
	int n = dhcp_snapshot(s->dhcp, now, wall_sec, dp_persist_buf(p),
			      dp_persist_cap(p));

	if (n > 0)
		dp_persist_publish(p, (size_t)n);
	else if (n < 0 && !s->leases_too_big++)
		log_err("dhcp: the lease file does not fit in %zu bytes",
			dp_persist_cap(p));
}

void dp_svc_addr_seen(struct dp_svc *s, uint32_t ip, const uint8_t mac[6])
{
	if (s->dhcp)
		dhcp_addr_seen(s->dhcp, ip, mac, s->now);
}

void dp_svc_tick(struct dp_svc *s, uint64_t now, int64_t wall_sec)
{
	s->now = now;
	if (s->dhcp)
		dhcp_tick(s->dhcp, now);
	if (s->dhcp && s->cfg.leases)
		svc_leases_publish(s, now, wall_sec);
	if (s->dns)
		dns_tick(s->dns, now);
}

struct dhcp *dp_svc_dhcp(const struct dp_svc *s)
{
	return s->dhcp;
}

struct dns_cache *dp_svc_dns_cache(const struct dp_svc *s)
{
	return s->dns ? dns_cache_of(s->dns) : NULL;
}

uint64_t dp_svc_drops(const struct dp_svc *s)
{
	uint64_t t = s->no_mac;

	if (s->dhcp) {
		const struct dhcp_stats *ds = dhcp_get_stats(s->dhcp);

		for (unsigned int i = 0; i < DHCP_DROP_MAX; i++)
			t += ds->drops[i];
	}
	if (s->dns) {
		const struct dns_stats *ns = dns_get_stats(s->dns);

		t += ns->drops + ns->bad_answers;
	}
	return t;
}

void dp_svc_print_stats(const struct dp_svc *s, FILE *f)
{
	if (s->dhcp) {
		const struct dhcp_stats *ds = dhcp_get_stats(s->dhcp);

		fprintf(f, "stat dhcp.discover %" PRIu64 "\n", ds->in[DHCP_DISCOVER]);
		fprintf(f, "stat dhcp.request %" PRIu64 "\n", ds->in[DHCP_REQUEST]);
		fprintf(f, "stat dhcp.offer %" PRIu64 "\n", ds->out[DHCP_OFFER]);
		fprintf(f, "stat dhcp.ack %" PRIu64 "\n", ds->out[DHCP_ACK]);
		fprintf(f, "stat dhcp.nak %" PRIu64 "\n", ds->out[DHCP_NAK]);
		fprintf(f, "stat dhcp.leases_active %" PRIu64 "\n",
			ds->leases_active);
		fprintf(f, "stat dhcp.in_use_skipped %" PRIu64 "\n",
			ds->in_use_skipped);
		fprintf(f, "stat dhcp.in_use_nak %" PRIu64 "\n",
			ds->in_use_nak);
		fprintf(f, "stat dhcp.in_use_conflicts %" PRIu64 "\n",
			ds->in_use_conflicts);
		fprintf(f, "stat dhcp.probes %" PRIu64 "\n", ds->probes);
		for (unsigned int i = 0; i < DHCP_DROP_MAX; i++)
			if (ds->drops[i])
				fprintf(f, "stat drop.dhcp.%s %" PRIu64 "\n",
					dhcp_drop_name(i), ds->drops[i]);
	}
	if (s->dhcp && s->cfg.leases) {
		struct dp_persist_stats ps;

		dp_persist_get_stats(s->cfg.leases, &ps);
		fprintf(f, "stat dhcp.file_snapshots %" PRIu64 "\n",
			ps.published);
		fprintf(f, "stat dhcp.file_writes %" PRIu64 "\n", ps.writes);
		fprintf(f, "stat dhcp.file_errors %" PRIu64 "\n", ps.errors);
	}
	if (s->dns) {
		const struct dns_stats *ns = dns_get_stats(s->dns);

		fprintf(f, "stat dns.queries %" PRIu64 "\n", ns->queries_udp);
		fprintf(f, "stat dns.queries_tcp %" PRIu64 "\n", ns->queries_tcp);
		fprintf(f, "stat dns.coalesced %" PRIu64 "\n", ns->coalesced);
		fprintf(f, "stat dns.formerr %" PRIu64 "\n", ns->formerr);
		fprintf(f, "stat dns.notimp %" PRIu64 "\n", ns->notimp);
		fprintf(f, "stat dns.badvers %" PRIu64 "\n", ns->badvers);
		fprintf(f, "stat dns.local %" PRIu64 "\n", ns->local);
		fprintf(f, "stat dns.cache_hits %" PRIu64 "\n", ns->cache_hits);
		fprintf(f, "stat dns.cache_misses %" PRIu64 "\n", ns->cache_misses);
		fprintf(f, "stat dns.forwarded %" PRIu64 "\n", ns->forwarded);
		fprintf(f, "stat dns.upstream_answers %" PRIu64 "\n",
			ns->upstream_answers);
		fprintf(f, "stat dns.servfail %" PRIu64 "\n", ns->servfail);
		fprintf(f, "stat dns.truncated %" PRIu64 "\n", ns->truncated);
		fprintf(f, "stat dns.timeouts %" PRIu64 "\n", ns->timeouts);
		fprintf(f, "stat drop.dns.malformed %" PRIu64 "\n", ns->drops);
		fprintf(f, "stat drop.dns.bad_answers %" PRIu64 "\n",
			ns->bad_answers);
		fprintf(f, "stat dns.cache_entries %" PRIu32 "\n",
			ns->cache_entries);
	}
	fprintf(f, "stat dns.upstream_icmp_errors %" PRIu64 "\n",
		s->upstream_icmp);
	fprintf(f, "stat drop.dns.reply_no_mac %" PRIu64 "\n", s->no_mac);
}
