/* SPDX-License-Identifier: MIT */
/*
 * nat_ref.h - a naive reference model of the NAT, for the differential test.
 *
 * Theory of operation: the model is written from docs/nat.md alone and is
 * meant to be obviously correct, not fast. Flows live in one array kept in
 * confirm order (so the early-drop victim is simply the first unreplied
 * one), mappings in another, fragment entries in a third kept in insertion
 * order; every lookup is a linear scan, a port is free when no mapping
 * uses it, an ADF permission exists when some present flow grants it, and
 * a mapping is released as soon as no flow holds it. Checksums of rewritten
 * packets are recomputed in full with the naive RFC 1071 sum of
 * ref/csum_ref.h; only where a full recomputation is impossible (a first
 * fragment, whose L4 checksum covers bytes the NAT never sees, and the
 * truncated quote of an ICMP error) is the old checksum adjusted, word by
 * word, in a plain loop.
 *
 * It shares with the real NAT only what is policy rather than data
 * structure: the TCP state machine (ct_tcp_*), the address pairing
 * (nat_ext_index()), the port-choice generator (nat_rng_next()), the
 * timeout defaults and the packet parser's struct pkt_meta.
 *
 * Expiry follows the connection table's rules: a flow is live while its
 * deadline is later than now; a lookup that finds a present flow that is no
 * longer live removes it; nat_ref_collect() removes what the real collector
 * removes once it has caught up (deadline before the start of now's tick).
 */
#ifndef ARCNAT_REF_NAT_REF_H
#define ARCNAT_REF_NAT_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "ct/tcp.h"
#include "ct/tuple.h"
#include "nat/nat.h"

/* How a flow came to be; decides which side each direction comes from. */
enum nat_ref_kind {
	NAT_REF_OUT = 0,	/* created by a packet from inside */
	NAT_REF_IN,		/* created by a packet from outside */
	NAT_REF_HAIRPIN,	/* inside to inside through an external address */
};

/**
 * struct nat_ref_flow - one flow of the model.
 * @tuple:    [CT_DIR_ORIG] as the initiator sent it, [CT_DIR_REPLY] as the
 *            reply arrives
 * @deadline: absolute expiry time, ns; live while deadline > now
 * @serial:   confirm order (early drop takes the smallest unreplied one)
 * @mapping:  id of the mapping this flow holds
 * @tcp:      TCP tracking state (TCP flows only)
 * @kind:     enum nat_ref_kind
 * @replied:  a REPLY packet has been forwarded
 */
struct nat_ref_flow {
	struct ct_tuple tuple[2];
	uint64_t deadline;
	uint64_t serial;
	uint64_t mapping;
	struct ct_tcp tcp;
	uint8_t kind;
	bool replied;
	uint64_t closed;	/* order it became replied-and-closed; 0: not */
};

/**
 * struct nat_ref_mapping - internal endpoint <-> external endpoint.
 * @id:        unique for the model's lifetime (never 0)
 * @int_addr:  internal address, network order
 * @ext_addr:  external address, network order
 * @int_port:  internal port or ICMP id, network order
 * @ext_port:  external port or ICMP id, network order
 * @proto:     IPPROTO_NUM_TCP, _UDP or _ICMP
 * @is_static: a port forward: never released
 */
struct nat_ref_mapping {
	uint64_t id;
	uint32_t int_addr;
	uint32_t ext_addr;
	uint16_t int_port;
	uint16_t ext_port;
	uint8_t proto;
	bool is_static;
};

/**
 * struct nat_ref_stats - what the model counted, for coverage reports and
 * for comparison with the NAT's counters.
 * @early_drops:  unreplied flows dropped to make room
 * @reclaimed:    closed TCP flows dropped for room or for a port
 * @frag_evicted: fragment entries evicted before they expired
 */
struct nat_ref_stats {
	uint64_t early_drops;
	uint64_t reclaimed;
	uint64_t frag_evicted;
};

struct nat_ref;

/**
 * nat_ref_create() - build a model with the same parameters as a real NAT.
 * @out: the model
 * @cfg: parameters, as for nat_create() (@cfg->seed should not be 0: the
 *       model cannot follow a random seed; @cfg->key is ignored)
 *
 * Return: 0, -EINVAL for parameters nat_create() refuses, or -ENOMEM.
 */
int nat_ref_create(struct nat_ref **out, const struct nat_config *cfg);

/**
 * nat_ref_destroy() - free a model; NULL is fine.
 * @m: model
 */
void nat_ref_destroy(struct nat_ref *m);

/**
 * nat_ref_add_forward() - add a static port forward, as nat_add_forward().
 * @m:   model
 * @fwd: the forward
 *
 * Return: 0, -EINVAL, -EADDRINUSE or -ENOSPC (see nat_add_forward()).
 */
int nat_ref_add_forward(struct nat_ref *m, const struct nat_forward *fwd);

/**
 * nat_ref_add_redirect() - add a redirect, as nat_add_redirect().
 * @m:  model
 * @rd: the rule
 *
 * Return: 0, -EINVAL, -EADDRINUSE or -ENOSPC (see nat_add_redirect()).
 */
int nat_ref_add_redirect(struct nat_ref *m, const struct nat_redirect *rd);

/**
 * nat_ref_process() - give one packet its verdict, rewriting it in place.
 * @m:    model
 * @pkt:  the packet; @pkt->meta must come from pkt_parse() of @pkt->frame;
 *        @pkt->verdict and @pkt->reason are set (reason NONE unless dropped)
 * @from: side it came from
 * @now:  current time, ns
 */
void nat_ref_process(struct nat_ref *m, struct nat_pkt *pkt,
		     enum nat_side from, uint64_t now);

/**
 * nat_ref_collect() - what nat_tick() run to completion does: remove every
 * flow whose deadline lies before the start of now's tick.
 * @m:   model
 * @now: current time, ns
 */
void nat_ref_collect(struct nat_ref *m, uint64_t now);

/** nat_ref_flow_count() - present flows. @m: model. Return: the count. */
uint32_t nat_ref_flow_count(const struct nat_ref *m);

/**
 * nat_ref_flow_at() - a present flow, in confirm order.
 * @m: model
 * @i: index below nat_ref_flow_count()
 *
 * Return: the flow (valid until the model changes).
 */
const struct nat_ref_flow *nat_ref_flow_at(const struct nat_ref *m, uint32_t i);

/** nat_ref_get_stats() - counters. @m: model. Return: pointer into @m. */
const struct nat_ref_stats *nat_ref_get_stats(const struct nat_ref *m);

/** nat_ref_mapping_count() - mappings in use (static ones included). */
uint32_t nat_ref_mapping_count(const struct nat_ref *m);

/**
 * nat_ref_mapping_at() - a mapping.
 * @m: model
 * @i: index below nat_ref_mapping_count()
 *
 * Return: the mapping (valid until the model changes).
 */
const struct nat_ref_mapping *nat_ref_mapping_at(const struct nat_ref *m,
						 uint32_t i);

/**
 * nat_ref_from_side() - the side packets of direction @dir of a flow of
 * kind @kind come from (docs/nat.md section 3).
 * @kind: enum nat_ref_kind
 * @dir:  direction
 *
 * Return: the side.
 */
enum nat_side nat_ref_from_side(enum nat_ref_kind kind, enum ct_dir dir);

#endif /* ARCNAT_REF_NAT_REF_H */
