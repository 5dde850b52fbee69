// SPDX-License-Identifier: MIT
/*
 * switch.c - the guest segment's learning switch (theory in switch.h).
 */
#include "dp/switch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "prot/eth.h"

/* One learned MAC. A slot is free unless @used; a used one is live while
 * its port is in the segment with the same generation and it is younger
 * than age_ns (sw_live()). */
struct dp_sw_entry {
	uint64_t seen;		/* last frame from it, ns */
	uint8_t mac[ETH_ALEN];
	uint8_t port;
	uint8_t used;
	uint16_t gen;		/* its port's generation when learned */
};

struct dp_switch {
	struct dp_switch_cfg cfg;
	struct siphash_key key;
	struct dp_sw_entry *tab;
	uint32_t bmask;		/* buckets - 1 */
	uint32_t cursor;	/* next entry dp_switch_tick() looks at */
	uint64_t segment;	/* guest ports in the segment */
	uint16_t gen[DP_SW_PORTS];
	struct dp_switch_stats st;
};

static bool sw_mac_eq(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, ETH_ALEN) == 0;
}

/* A station's own address: not a group (multicast, broadcast), not zero. */
static bool sw_station(const uint8_t *mac)
{
	static const uint8_t zero[ETH_ALEN];

	return !(mac[0] & 1) && !sw_mac_eq(mac, zero);
}

static uint64_t sw_bit(unsigned int port)
{
	return (uint64_t)1 << port;
}

int dp_switch_create(struct dp_switch **out, const struct dp_switch_cfg *cfg)
{
	struct dp_switch *sw;

	if (cfg->entries < DP_SW_WAYS || cfg->entries > DP_SW_ENTRIES_MAX ||
	    (cfg->entries & (cfg->entries - 1)) || !cfg->age_ns)
		return -EINVAL;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return -ENOMEM;
	sw->cfg = *cfg;
	sw->cfg.key = NULL;
	sw->tab = calloc(cfg->entries, sizeof(*sw->tab));
	if (!sw->tab) {
		free(sw);
		return -ENOMEM;
	}
	sw->bmask = cfg->entries / DP_SW_WAYS - 1;
	if (cfg->key) {
		sw->key = *cfg->key;
	} else {
		int err = siphash_key_random(&sw->key);

		if (err) {
			dp_switch_destroy(sw);
			return err;
		}
	}
	*out = sw;
	return 0;
}

void dp_switch_destroy(struct dp_switch *sw)
{
	if (!sw)
		return;
	free(sw->tab);
	free(sw);
}

static void sw_free(struct dp_switch *sw, struct dp_sw_entry *e)
{
	e->used = 0;
	sw->st.entries--;
}

/* Whether @e holds a live entry; a dead one is freed here (an aged one
 * counted). */
static bool sw_live(struct dp_switch *sw, struct dp_sw_entry *e, uint64_t now)
{
	if (!e->used)
		return false;
	if (!(sw->segment & sw_bit(e->port)) || e->gen != sw->gen[e->port]) {
		sw_free(sw, e);		/* its port left: flushed already */
		return false;
	}
	if (now > e->seen && now - e->seen >= sw->cfg.age_ns) {
		sw_free(sw, e);
		sw->st.aged++;
		return false;
	}
	return true;
}

static struct dp_sw_entry *sw_bucket(const struct dp_switch *sw,
				     const uint8_t *mac)
{
	uint64_t h = siphash13(&sw->key, mac, ETH_ALEN);

	return &sw->tab[(size_t)(h & sw->bmask) * DP_SW_WAYS];
}

/* Learn (or refresh, or move) @mac on @port: one bucket, DP_SW_WAYS
 * entries, no more. */
static void sw_learn(struct dp_switch *sw, unsigned int port,
		     const uint8_t *mac, uint64_t now)
{
	struct dp_sw_entry *b = sw_bucket(sw, mac), *free_e = NULL;

	for (unsigned int i = 0; i < DP_SW_WAYS; i++) {
		struct dp_sw_entry *e = &b[i];

		if (!sw_live(sw, e, now)) {
			if (!free_e)
				free_e = e;
			continue;
		}
		if (!sw_mac_eq(e->mac, mac))
			continue;
		if (e->port != port) {
			sw->st.moved++;
			e->port = (uint8_t)port;
			e->gen = sw->gen[port];
		}
		e->seen = now;
		return;
	}
	if (!free_e) {
		sw->st.table_full++;
		return;
	}
	memcpy(free_e->mac, mac, ETH_ALEN);
	free_e->port = (uint8_t)port;
	free_e->gen = sw->gen[port];
	free_e->seen = now;
	free_e->used = 1;
	sw->st.entries++;
	sw->st.learned++;
}

int dp_switch_lookup(struct dp_switch *sw, const uint8_t mac[6], uint64_t now)
{
	struct dp_sw_entry *b = sw_bucket(sw, mac);

	for (unsigned int i = 0; i < DP_SW_WAYS; i++)
		if (sw_live(sw, &b[i], now) && sw_mac_eq(b[i].mac, mac))
			return b[i].port;
	return -ENOENT;
}

void dp_switch_port_add(struct dp_switch *sw, unsigned int port)
{
	if (port < DP_SW_PORTS)
		sw->segment |= sw_bit(port);
}

void dp_switch_port_remove(struct dp_switch *sw, unsigned int port)
{
	if (port >= DP_SW_PORTS || !(sw->segment & sw_bit(port)))
		return;
	sw->segment &= ~sw_bit(port);
	sw->gen[port]++;
	/* Bounded by the table's size, and only when a port leaves. */
	for (size_t i = 0; i < sw->cfg.entries; i++) {
		struct dp_sw_entry *e = &sw->tab[i];

		if (e->used && e->port == port) {
			sw_free(sw, e);
			sw->st.flushed++;
		}
	}
}

/* Flood to @others, the segment's ports but the one it came in by; with
 * isolate, nothing goes from one guest to another. */
static uint64_t sw_flood(struct dp_switch *sw, uint64_t others)
{
	if (!others)
		return 0;
	if (sw->cfg.isolate) {
		sw->st.isolated++;
		return 0;
	}
	sw->st.flooded++;
	return others;
}

struct dp_sw_dest dp_switch_from_guest(struct dp_switch *sw, unsigned int port,
				       const uint8_t *frame, uint32_t len,
				       uint64_t now)
{
	struct dp_sw_dest d = { 0, false };
	const uint8_t *dst = frame, *src = frame + ETH_ALEN;
	uint64_t others;
	int to;

	if (len < ETH_HLEN || port >= DP_SW_PORTS) {
		d.engine = true;	/* the parser counts the runt */
		return d;
	}
	if (!sw_station(src) || sw_mac_eq(src, sw->cfg.gw_mac)) {
		sw->st.bad_source++;
		return d;
	}
	sw_learn(sw, port, src, now);
	if (sw_mac_eq(dst, sw->cfg.gw_mac)) {
		d.engine = true;
		return d;
	}
	others = sw->segment & ~sw_bit(port);
	if (dst[0] & 1) {		/* broadcast, multicast */
		d.engine = true;
		d.ports = sw_flood(sw, others);
		return d;
	}
	to = dp_switch_lookup(sw, dst, now);
	if (to < 0) {
		sw->st.unknown++;
		d.ports = sw_flood(sw, others);
		return d;
	}
	if ((unsigned int)to == port) {
		sw->st.same_port++;
		return d;
	}
	if (sw->cfg.isolate) {
		sw->st.isolated++;
		return d;
	}
	sw->st.forwarded++;
	d.ports = sw_bit((unsigned int)to);
	return d;
}

uint64_t dp_switch_from_gateway(struct dp_switch *sw, const uint8_t *frame,
				uint32_t len, uint64_t now)
{
	if (len < ETH_HLEN)
		return 0;
	if (!(frame[0] & 1)) {
		int to = dp_switch_lookup(sw, frame, now);
		if (to >= 0)
			return sw_bit((unsigned int)to);
		sw->st.unknown++;
	}
	if (sw->segment)
		sw->st.flooded++;
	return sw->segment;
}

void dp_switch_tick(struct dp_switch *sw, uint64_t now, unsigned int budget)
{
	if (budget > sw->cfg.entries)
		budget = sw->cfg.entries;
	for (unsigned int i = 0; i < budget; i++) {
		sw_live(sw, &sw->tab[sw->cursor], now);
		sw->cursor = (sw->cursor + 1) & (sw->cfg.entries - 1);
	}
}

const struct dp_switch_stats *dp_switch_get_stats(const struct dp_switch *sw)
{
	return &sw->st;
}

uint64_t dp_switch_drops(const struct dp_switch *sw)
{
	return sw->st.bad_source + sw->st.same_port + sw->st.isolated;
}

void dp_switch_print_stats(const struct dp_switch *sw, FILE *f)
{
	const struct dp_switch_stats *s = &sw->st;

	fprintf(f, "stat switch.isolate %u\n", sw->cfg.isolate ? 1u : 0u);
	fprintf(f, "stat switch.entries %" PRIu64 "\n", s->entries);
	fprintf(f, "stat switch.learned %" PRIu64 "\n", s->learned);
	fprintf(f, "stat switch.moved %" PRIu64 "\n", s->moved);
	fprintf(f, "stat switch.aged %" PRIu64 "\n", s->aged);
	fprintf(f, "stat switch.flushed %" PRIu64 "\n", s->flushed);
	fprintf(f, "stat switch.table_full %" PRIu64 "\n", s->table_full);
	fprintf(f, "stat switch.forwarded %" PRIu64 "\n", s->forwarded);
	fprintf(f, "stat switch.flooded %" PRIu64 "\n", s->flooded);
	fprintf(f, "stat switch.unknown %" PRIu64 "\n", s->unknown);
	fprintf(f, "stat switch.bad_source %" PRIu64 "\n", s->bad_source);
	fprintf(f, "stat switch.same_port %" PRIu64 "\n", s->same_port);
	fprintf(f, "stat switch.isolated %" PRIu64 "\n", s->isolated);
}
