// SPDX-License-Identifier: MIT
/*
 * stats.c - names of datapath drop reasons, the martian rule's reasons
 * among them, batch histogram buckets, the statistics block.
 */
#include "dp/stats.h"

#include <inttypes.h>

#include "ct/table.h"
#include "dp/mtu.h"
#include "dp/portset.h"
#include "dp/services.h"
#include "dp/switch.h"
#include "nat/nat.h"
#include "svc/arp.h"

static const char *const dp_drop_names[DP_DROP__MAX] = {
#define DP_DROP_NAME(sym, name, desc) [DP_DROP_##sym] = (name),
	DP_DROP_LIST(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *dp_drop_name(enum dp_drop reason)
{
	if ((unsigned int)reason >= DP_DROP__MAX)
		return "invalid";
	return dp_drop_names[reason];
}

static const enum dp_drop dp_martian_drops[PKT_MARTIAN__MAX] = {
#define DP_MARTIAN_DROP(sym, name, desc) [PKT_MARTIAN_##sym] = DP_DROP_##sym,
	PKT_MARTIAN_LIST(DP_MARTIAN_DROP)
#undef DP_MARTIAN_DROP
};

enum dp_drop dp_drop_of_martian(enum pkt_martian m)
{
	if ((unsigned int)m >= PKT_MARTIAN__MAX)
		return DP_DROP_NONE;
	return dp_martian_drops[m];
}

unsigned int dp_stats_hist_bucket(unsigned int n)
{
	unsigned int b = 0;

	while (n > 1 && b < DP_HIST_BUCKETS - 1) {
		n >>= 1;
		b++;
	}
	return b;
}

/* A datapath drop count; neigh_timeout is the ARP endpoint's own counter. */
static uint64_t dp_drop_count(const struct dp_stats_view *v, enum dp_drop r)
{
	if (r == DP_DROP_NEIGH_TIMEOUT)
		return arp_get_stats(v->arp)->hold_expired;
	return v->st->drops[r];
}

static uint64_t dp_port_drops(const struct dp_port_stats *s)
{
	return s->rx_dropped + s->tx_dropped + s->tx_lost + s->tx_queue_full;
}

uint64_t dp_stats_total_drops(const struct dp_stats_view *v)
{
	const struct nat_stats *ns = nat_get_stats(v->nat);
	struct dp_port_stats in, out;
	uint64_t t = 0;

	for (unsigned int i = 1; i < DP_DROP__MAX; i++)
		t += dp_drop_count(v, i);
	for (unsigned int i = 1; i < PKT_DROP__MAX; i++)
		t += v->st->pkt_drops[i];
	for (unsigned int i = 1; i < NAT_DROP__MAX; i++)
		t += ns->drops[i];
	t += dp_svc_drops(v->svc);
	t += dp_switch_drops(v->sw);
	dp_ports_side_stats(v->ports, true, &in);
	dp_ports_side_stats(v->ports, false, &out);
	t += dp_port_drops(&in) + dp_port_drops(&out);
	/* What ports removed since left queued (their own drops count in
	 * the inside's). */
	t += v->ports->gone_queued;
	return t;
}

void dp_stats_print_summary(const struct dp_stats_view *v, FILE *f)
{
	struct dp_port_stats a, b;

	dp_ports_side_stats(v->ports, true, &a);
	dp_ports_side_stats(v->ports, false, &b);
	fprintf(f,
		"arcnat: stats inside rx %" PRIu64 " tx %" PRIu64
		" | outside rx %" PRIu64 " tx %" PRIu64
		" | flows %" PRIu32 " | drops %" PRIu64 "\n",
		a.rx_packets, a.tx_packets, b.rx_packets, b.tx_packets,
		ct_count(nat_ct(v->nat)), dp_stats_total_drops(v));
	fflush(f);
}

void dp_stats_print(const struct dp_stats_view *v, FILE *f)
{
	const struct nat_stats *ns = nat_get_stats(v->nat);
	const struct arp_stats *as = arp_get_stats(v->arp);
	const struct ct_stats *cs = ct_get_stats(nat_ct(v->nat));

	fprintf(f, "arcnat: statistics\n");
	dp_ports_print(v->ports, f);
	fprintf(f, "stat drops.total %" PRIu64 "\n", dp_stats_total_drops(v));
	for (unsigned int i = 1; i < PKT_DROP__MAX; i++)
		if (v->st->pkt_drops[i])
			fprintf(f, "stat drop.pkt.%s %" PRIu64 "\n",
				pkt_drop_name(i), v->st->pkt_drops[i]);
	for (unsigned int i = 1; i < NAT_DROP__MAX; i++)
		if (ns->drops[i])
			fprintf(f, "stat drop.nat.%s %" PRIu64 "\n",
				nat_drop_name(i), ns->drops[i]);
	for (unsigned int i = 1; i < DP_DROP__MAX; i++)
		if (dp_drop_count(v, i))
			fprintf(f, "stat drop.dp.%s %" PRIu64 "\n",
				dp_drop_name(i), dp_drop_count(v, i));
	fprintf(f, "stat nat.flows %" PRIu32 "\n", ct_count(nat_ct(v->nat)));
	fprintf(f, "stat nat.flows_out %" PRIu64 "\n", ns->flows_out);
	fprintf(f, "stat nat.flows_in %" PRIu64 "\n", ns->flows_in);
	fprintf(f, "stat nat.hairpin %" PRIu64 "\n", ns->hairpin);
	fprintf(f, "stat nat.redirects %" PRIu64 "\n", ns->redirects);
	fprintf(f, "stat nat.icmp_errors %" PRIu64 "\n", ns->icmp_errors);
	fprintf(f, "stat nat.fragments %" PRIu64 "\n", ns->fragments);
	fprintf(f, "stat nat.mappings %" PRIu64 "\n", ns->mappings);
	fprintf(f, "stat ct.early_drops %" PRIu64 "\n", cs->early_drops);
	fprintf(f, "stat ct.reclaimed %" PRIu64 "\n", cs->reclaimed);
	fprintf(f, "stat nat.translated_out %" PRIu64 "\n",
		ns->translated[NAT_INSIDE]);
	fprintf(f, "stat nat.translated_in %" PRIu64 "\n",
		ns->translated[NAT_OUTSIDE]);
	fprintf(f, "stat gw.echo_replies %" PRIu64 "\n", v->st->echo);
	fprintf(f, "stat gw.arp_frames %" PRIu64 "\n", v->st->arp_in);
	fprintf(f, "stat gw.arp_replies %" PRIu64 "\n", as->replies_out);
	fprintf(f, "stat gw.arp_requests %" PRIu64 "\n", as->requests_out);
	fprintf(f, "stat gw.arp_refreshes %" PRIu64 "\n", as->refreshes);
	fprintf(f, "stat gw.arp_solicits %" PRIu64 "\n", as->solicits);
	fprintf(f, "stat gw.arp_moved %" PRIu64 "\n", as->moved);
	fprintf(f, "stat gw.held %" PRIu64 "\n", v->st->held);
	fprintf(f, "stat gro.frames %" PRIu64 "\n", v->st->gro_frames);
	fprintf(f, "stat gro.joined %" PRIu64 "\n", v->st->gro_joined);
	dp_mtu_print_stats(v->mtu, f);
	dp_switch_print_stats(v->sw, f);
	fprintf(f, "stat dp.wakeups %" PRIu64 "\n", v->st->wakeups);
	fprintf(f, "stat dp.busy_polled %" PRIu64 "\n", v->st->busy_polled);
	for (unsigned int i = 0; i < DP_HIST_BUCKETS; i++)
		fprintf(f, "stat dp.burst_%u %" PRIu64 "\n", 1u << i,
			v->st->batch_hist[i]);
	dp_svc_print_stats(v->svc, f);
	fprintf(f, "arcnat: end of statistics\n");
	fflush(f);
}
