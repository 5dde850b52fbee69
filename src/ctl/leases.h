/* SPDX-License-Identifier: MIT */
/*
 * leases.h - the DHCP server's leases as the control socket shows them.
 *
 * Theory of operation: as for flows (ctl/flows.h), the lease table is the
 * worker's, so a page is copied on the worker's thread, bounded by
 * CTL_LEASES_PAGE_MAX leases and CTL_LEASES_SCAN slots, with a cursor for
 * the next; the control thread makes the JSON. A slot is listed when it
 * is offered, bound or declined, or a static host's.
 */
#ifndef ARCNAT_CTL_LEASES_H
#define ARCNAT_CTL_LEASES_H

#include <stdbool.h>
#include <stdint.h>

#include "svc/dhcp_lease.h"

#define CTL_LEASES_PAGE_MAX	256u	/* leases in one page, at most */
#define CTL_LEASES_SCAN		16384u	/* slots one page looks at */
#define CTL_LEASES_END		UINT32_MAX	/* no next page */

struct json_object;

/**
 * struct ctl_lease - one lease, copied.
 * @ip:         its address, network order
 * @mac:        the client's MAC
 * @state:      enum dhcp_lease_state
 * @is_static:  a --dhcp-host reservation
 * @expires_ms: milliseconds until it ends (0 for a static host)
 * @name:       the host name, "" for none
 */
struct ctl_lease {
	uint32_t ip;
	uint8_t mac[6];
	uint8_t state;
	bool is_static;
	uint64_t expires_ms;
	char name[DHCP_NAME_MAX + 1];
};

/**
 * struct ctl_lease_page - a page of leases.
 * @lease: the leases
 * @n:     how many
 * @next:  the next page's cursor, CTL_LEASES_END after the last
 * @dhcp:  there is a DHCP server (else the page is empty)
 * @bound: bound leases in the table
 */
struct ctl_lease_page {
	struct ctl_lease lease[CTL_LEASES_PAGE_MAX];
	unsigned int n;
	uint32_t next;
	bool dhcp;
	uint32_t bound;
};

/**
 * ctl_leases_scan() - one page from @cursor, on the server's thread.
 * @t:      the table, or NULL without a DHCP server
 * @cursor: the first slot
 * @now:    the table's clock, ns
 * @pg:     filled
 */
void ctl_leases_scan(const struct dhcp_leases *t, uint32_t cursor,
		     uint64_t now, struct ctl_lease_page *pg);

/**
 * ctl_leases_json() - a page as the `leases` method's result.
 * @pg: the page
 *
 * Return: a new object, or NULL out of memory.
 */
struct json_object *ctl_leases_json(const struct ctl_lease_page *pg);

#endif /* ARCNAT_CTL_LEASES_H */
