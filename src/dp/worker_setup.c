// SPDX-License-Identifier: MIT
/*
 * worker_setup.c - making and freeing a worker (worker.h): its port set,
 * buffers, ARP endpoint, services, switch, MTU and martian rules, wired to
 * the datapath's callbacks in worker.c.
 */
#include "dp/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "prot/ip4.h"
#include "dp/worker_impl.h"

static int dp_epoll_add(int ep, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/*
 * The martian rule's view of the addressing: guests' sources come from
 * their subnet; neither subnet's broadcast address is a destination.
 */
static void dp_martian_rules(struct dp_worker *w)
{
	const struct pkt_subnet in = { w->cfg.gw_addr, w->route.gw_mask };
	const struct pkt_subnet out = {
		w->cfg.ext_addr,
		w->cfg.ext_plen ? ip4_prefix_mask(w->cfg.ext_plen) : 0,
	};

	w->martian_in = (struct pkt_martian_rule){ .src = in,
						   .bcast = { in, out } };
	if (w->cfg.no_dst_plen)
		w->martian_in.no_dst = (struct pkt_subnet){
			w->cfg.no_dst_addr, ip4_prefix_mask(w->cfg.no_dst_plen)
		};
	w->martian_out = (struct pkt_martian_rule){ .bcast = { in, out } };
}

/* Upstream DNS servers are reached through the uplink: none may be a
 * martian, or the forwarder would wait on queries that never leave. */
static bool dp_dns_servers_ok(const struct dp_worker *w)
{
	const struct dns_cfg *d = w->cfg.dns;

	for (unsigned int i = 0; d && i < d->n_upstream; i++)
		if (pkt_martian(&w->martian_out, w->cfg.ext_addr,
				d->upstream[i]) != PKT_MARTIAN_NONE)
			return false;
	return true;
}

/* The burst buffers and the local one, each between guard pages. */
static int dp_storage_map(struct dp_worker *w)
{
	struct dp_buf *all[DP_BURST_MAX + 1];

	for (unsigned int i = 0; i < DP_BURST_MAX; i++)
		all[i] = w->rx[i] = &w->bufs[i];
	all[DP_BURST_MAX] = &w->local;
	return dp_bufmem_map(&w->storage, all, DP_BURST_MAX + 1);
}

int dp_worker_create(struct dp_worker **out, const struct dp_config *cfg)
{
	struct arp_cfg ac = { 0 };
	struct dp_worker *w;
	int err;

	if (!cfg->inside || !cfg->outside || !cfg->nat ||
	    !(cfg->outside->flags & DP_PORT_L3) ||
	    (cfg->inside->flags & DP_PORT_L3) || cfg->gw_plen > 30 ||
	    cfg->gw_plen < 1)
		return -EINVAL;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->ep = w->tfd = w->efd = -1;
	w->cfg = *cfg;
	w->guest_mtu = cfg->inside->mtu;
	/* Only an uplink that takes super-frames gets joined segments. */
	w->gro = !cfg->no_gro && (cfg->outside->flags & DP_PORT_VNET);
	if (dp_mailbox_init(&w->mb) != 0) {
		free(w);
		return -ENOMEM;
	}
	if (!w->cfg.stats_out)
		w->cfg.stats_out = stderr;
	w->route = (struct dp_route){
		.st = &w->st,
		.gw_addr = cfg->gw_addr,
		.gw_mask = ip4_prefix_mask(cfg->gw_plen),
		.isolate = cfg->isolate,
	};
	memcpy(w->route.gw_mac, cfg->gw_mac, sizeof(w->route.gw_mac));
	dp_martian_rules(w);
	clock_init_monotonic(&w->clock);
	ratelimit_init(&w->rl_drop, 10, NSEC_PER_SEC);
	ratelimit_init(&w->rl_echo, DP_ECHO_PER_SEC, NSEC_PER_SEC);

	if (!dp_dns_servers_ok(w)) {
		err = -EINVAL;
		goto err;
	}
	err = dp_storage_map(w);
	if (err)
		goto err;

	struct dp_mtu_cfg mc = {
		.gw_addr = cfg->gw_addr,
		.mtu_min = cfg->inside->mtu,
		.mtu_max = cfg->inside->mtu,
	};

	if (!mc.mtu_min || (cfg->outside->mtu && cfg->outside->mtu < mc.mtu_min))
		mc.mtu_min = cfg->outside->mtu;
	if (cfg->outside->mtu > mc.mtu_max)
		mc.mtu_max = cfg->outside->mtu;
	memcpy(mc.gw_mac, cfg->gw_mac, sizeof(mc.gw_mac));
	err = dp_mtu_create(&w->mtu, &mc);
	if (err)
		goto err;

	struct dp_switch_cfg swc = {
		.entries = DP_SW_ENTRIES_DEFAULT,
		.age_ns = DP_SW_AGE_DEFAULT_S * NSEC_PER_SEC,
		.isolate = cfg->isolate,
	};

	memcpy(swc.gw_mac, cfg->gw_mac, sizeof(swc.gw_mac));
	err = dp_switch_create(&w->sw, &swc);
	if (err)
		goto err;

	memcpy(ac.mac, cfg->gw_mac, sizeof(ac.mac));
	ac.own[0] = cfg->gw_addr;
	ac.n_own = 1;
	ac.max_neigh = DP_INSIDE_NEIGH;
	ac.send = dp_arp_send;
	ac.deliver = dp_arp_deliver;
	ac.learned = dp_arp_learned;
	ac.ctx = w;
	err = arp_create(&w->arp, &ac);
	if (err)
		goto err;
	w->route.arp = w->arp;

	struct dp_svc_cfg sc = {
		.dhcp = cfg->dhcp,
		.dns = cfg->dns,
		.gw_addr = cfg->gw_addr,
		.ext_addr = cfg->ext_addr,
		.arp = w->arp,
		.nat = cfg->nat,
		.tx_inside = dp_svc_tx_inside,
		.tx_outside = dp_svc_tx_outside,
		.ctx = w,
		.leases = cfg->leases,
	};
	memcpy(sc.gw_mac, cfg->gw_mac, sizeof(sc.gw_mac));
	err = dp_svc_create(&w->svc, &sc, clock_read(&w->clock));
	if (err)
		goto err;

	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->ep < 0 || w->tfd < 0 || w->efd < 0) {
		err = -errno;
		goto err;
	}
	dp_ports_init(&w->ports, w->ep);
	err = dp_ports_add(&w->ports, cfg->outside, DP_TAG_UPLINK, false, &w->up);
	if (!err)
		err = dp_add_guest(w, cfg->inside, false);
	if (!err)
		err = dp_epoll_add(w->ep, w->tfd, dp_tag(DP_TAG_TIMER, 0, 0, 0));
	if (!err)
		err = dp_epoll_add(w->ep, w->efd, dp_tag(DP_TAG_CTL, 0, 0, 0));
	if (err)
		goto err;
	if (cfg->outside->ops->flow_gone)
		nat_set_flow_gone(cfg->nat, dp_flow_gone, w);
	*out = w;
	return 0;
err:
	dp_worker_destroy(w);
	return err;
}

void dp_worker_destroy(struct dp_worker *w)
{
	if (!w)
		return;
	if (w->cfg.nat && w->cfg.outside && w->cfg.outside->ops->flow_gone)
		nat_set_flow_gone(w->cfg.nat, NULL, NULL);
	dp_mailbox_fini(&w->mb);
	if (w->ep >= 0) {
		dp_ports_fini(&w->ports);
		close(w->ep);
	}
	if (w->tfd >= 0)
		close(w->tfd);
	if (w->efd >= 0)
		close(w->efd);
	dp_pcap_close(w->cap);
	dp_svc_destroy(w->svc);
	arp_destroy(w->arp);
	dp_mtu_destroy(w->mtu);
	dp_switch_destroy(w->sw);
	dp_bufmem_unmap(&w->storage);
	free(w);
}
