/* SPDX-License-Identifier: MIT */
/*
 * worker_impl.h - the worker's state, private to dp/worker.c (the
 * datapath: bursts, the loop, events) and dp/worker_setup.c (making and
 * freeing it). Nothing else includes it: dp/worker.h is the interface.
 */
#ifndef ARCNAT_DP_WORKER_IMPL_H
#define ARCNAT_DP_WORKER_IMPL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/ratelimit.h"
#include "dp/bufmem.h"
#include "dp/mailbox.h"
#include "dp/mtu.h"
#include "dp/portset.h"
#include "dp/route.h"
#include "dp/services.h"
#include "dp/stats.h"
#include "dp/switch.h"
#include "dp/worker_cfg.h"
#include "pkt/martian.h"
#include "svc/arp.h"

#define DP_TICK_NS		(100 * NSEC_PER_MSEC)
#define DP_EXPIRE_BUDGET	4096u	/* connections expired per tick, at most */
#define DP_BURSTS_PER_WAKE	8u	/* bursts per port per wakeup: fairness */
#define DP_INSIDE_NEIGH		1024u
#define DP_ECHO_PER_SEC		1000u

/* Control requests, bits of dp_worker.ctl. */
#define DP_CTL_STOP	(1u << 0)
#define DP_CTL_STATS	(1u << 1)
#define DP_CTL_PORTS	(1u << 2)
#define DP_CTL_CALLS	(1u << 3)

#define DP_EVENTS	16	/* epoll events per wakeup */

struct dp_worker {
	struct dp_config cfg;
	struct arp *arp;
	struct dp_svc *svc;
	struct dp_mtu *mtu;
	struct dp_switch *sw;
	struct dp_route route;
	struct clock clock;
	struct dp_stats st;
	struct ratelimit rl_drop;
	struct ratelimit rl_echo;
	struct dp_pcap *cap;		/* the control socket's capture */
	uint64_t wall_ns;		/* for pcap, read once per wakeup */
	uint64_t next_summary;
	int ep;
	int tfd;
	int efd;
	atomic_uint ctl;
	atomic_bool running;		/* inside dp_worker_run() */
	pthread_t thread;		/* its thread, while running */
	struct dp_mailbox mb;
	struct dp_ports ports;
	unsigned int up;		/* the uplink's slot */
	uint32_t guest_mtu;		/* the guest segment's MTU */
	bool gro;			/* join guests' TCP segments (pkt/gro.h) */
	struct dp_bufmem storage;
	struct pkt_martian_rule martian_in;	/* for packets from the guests */
	struct pkt_martian_rule martian_out;	/* from the uplink */
	struct dp_buf local;		/* for frames the gateway makes */
	struct dp_buf bufs[DP_BURST_MAX];
	struct dp_buf *rx[DP_BURST_MAX];
	struct dp_buf *tx_in[DP_BURST_MAX];
	struct dp_buf *tx_out[DP_BURST_MAX];
	struct dp_buf *pkt_buf[DP_BURST_MAX];
	struct nat_pkt pkts[DP_BURST_MAX];
	uint64_t fan[DP_BURST_MAX];	/* guest ports of each frame */
};

/* dp/worker.c's, which dp_worker_create() hands to the NAT, ARP, the
 * services and the port set. */
void dp_flow_gone(void *ctx, uint32_t flow, const struct ct_entry *e,
			 bool mapping_gone);
void dp_arp_send(void *ctx, const uint8_t *frame, size_t len);
void dp_arp_learned(void *ctx, uint32_t ip, const uint8_t mac[6]);
void dp_arp_deliver(void *ctx, uint8_t *pkt, size_t len,
			   const struct pkt_vnet *vnet, const uint8_t mac[6]);
void dp_svc_tx_inside(void *ctx, uint8_t *frame, size_t len);
void dp_svc_tx_outside(void *ctx, uint8_t *pkt, size_t len);
int dp_add_guest(struct dp_worker *w, struct dp_port *p, bool owned);

#endif /* ARCNAT_DP_WORKER_IMPL_H */
