/* SPDX-License-Identifier: MIT */
/*
 * flows.h - the connection table as the control socket shows it: a page of
 * flows matching a filter, and one flow deleted.
 *
 * Theory of operation: the table belongs to the worker, so a page is
 * scanned on the worker's thread (ctl/snap.h) into a fixed array, and the
 * control thread turns the copy into JSON. A scan is bounded twice: it
 * stops after CTL_FLOWS_SCAN table slots or once the page holds its limit,
 * and says where the next page starts (a cursor: the slot after the last
 * one looked at), so a table of millions is listed in pages without the
 * worker ever spending long on one. A page is a snapshot of its slots at
 * one instant; flows made or gone between pages may be missed or seen
 * twice, as with any cursor over a live table. A flow is named by its
 * table index (stable for its lifetime) and a key made of its original
 * tuple, so that a delete by a stale listing cannot hit the slot's next
 * flow. The table keeps no byte or packet counts and no creation time per
 * flow: a flow shows its two tuples, state and time to expiry only.
 */
#ifndef ARCNAT_CTL_FLOWS_H
#define ARCNAT_CTL_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "ct/table.h"

#define CTL_FLOWS_PAGE_MAX	256u	/* flows in one page, at most */
#define CTL_FLOWS_PAGE_DEFAULT	100u
#define CTL_FLOWS_SCAN		16384u	/* table slots one page looks at */
#define CTL_FLOW_KEY_LEN	32u	/* hex digits of a flow's key */

struct json_object;

/* Special values of ctl_flow_query.state (else an enum ct_tcp_state). */
#define CTL_FLOW_STATE_ANY	(-1)
#define CTL_FLOW_STATE_REPLIED	(-2)
#define CTL_FLOW_STATE_UNREPLIED (-3)

/**
 * struct ctl_flow_query - which flows, from where.
 * @proto:  IPPROTO_* or 0 for any
 * @addr:   an address either tuple holds (network order), or 0 for any
 * @port:   a port (or ICMP identifier) either tuple holds (network
 *          order), or 0 for any
 * @state:  a TCP state (enum ct_tcp_state, TCP flows only), or one of
 *          CTL_FLOW_STATE_*
 * @cursor: the first table slot to look at
 * @limit:  flows in the page, 1..CTL_FLOWS_PAGE_MAX
 */
struct ctl_flow_query {
	uint8_t proto;
	uint32_t addr;
	uint16_t port;
	int state;
	uint32_t cursor;
	uint32_t limit;
};

/**
 * struct ctl_flow - one flow, copied.
 * @id:         its table index
 * @tuple:      its original and reply tuples (ct_tuple, network order)
 * @flags:      CT_F_*
 * @tcp_state:  enum ct_tcp_state (TCP)
 * @expires_ms: milliseconds until it expires (0: due)
 */
struct ctl_flow {
	uint32_t id;
	struct ct_tuple tuple[2];
	uint8_t flags;
	uint8_t tcp_state;
	bool has_stats;
	uint64_t expires_ms;
	uint64_t age_ms;
	uint64_t packets[2];
	uint64_t bytes[2];
};

/**
 * struct ctl_flow_page - a page of flows.
 * @flow:     the flows
 * @n:        how many
 * @next:     the cursor of the next page, or CT_NONE when the table ends
 * @count:    flows in the table
 * @capacity: its size
 */
struct ctl_flow_page {
	struct ctl_flow flow[CTL_FLOWS_PAGE_MAX];
	unsigned int n;
	uint32_t next;
	uint32_t count;
	uint32_t capacity;
};

/**
 * ctl_flows_match() - whether a flow passes @q's filter.
 * @e: a confirmed entry
 * @q: the query
 *
 * Return: true when it does.
 */
bool ctl_flows_match(const struct ct_entry *e, const struct ctl_flow_query *q);

/**
 * ctl_flows_scan() - one page, on the table's thread.
 * @t:   the table
 * @q:   the query
 * @now: the table's clock, ns
 * @pg:  filled
 */
void ctl_flows_scan(const struct ct_table *t, const struct ctl_flow_query *q,
		    uint64_t now, struct ctl_flow_page *pg);

/**
 * ctl_flows_key() - a flow's key: its original tuple in hex.
 * @tup: the original tuple
 * @out: CTL_FLOW_KEY_LEN + 1 bytes
 */
void ctl_flows_key(const struct ct_tuple *tup, char *out);

/**
 * ctl_flows_delete() - delete flow @id, on the table's thread (the
 * table's deletion hook runs: the NAT frees its mapping, a socket uplink
 * closes its socket).
 * @t:   the table
 * @id:  the flow's index
 * @key: its key, or NULL to delete whatever flow is at @id
 *
 * Return: 0; -ENOENT no flow at @id, or not the one @key names.
 */
int ctl_flows_delete(struct ct_table *t, uint32_t id, const char *key);

/**
 * ctl_flows_query_parse() - a query from the `flows` method's params.
 * @params: the params object, or NULL
 * @q:      filled
 * @why:    on error, a static message
 *
 * Return: 0, or -EINVAL.
 */
int ctl_flows_query_parse(struct json_object *params,
			  struct ctl_flow_query *q, const char **why);

/**
 * ctl_flows_json() - a page as the `flows` method's result.
 * @pg: the page
 *
 * Return: a new object, or NULL out of memory.
 */
struct json_object *ctl_flows_json(const struct ctl_flow_page *pg);

#endif /* ARCNAT_CTL_FLOWS_H */
