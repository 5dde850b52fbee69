// SPDX-License-Identifier: MIT
/*
 * leases.c - pages of the DHCP lease table (leases.h).
 */
#include "ctl/leases.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "prot/eth.h"

void ctl_leases_scan(const struct dhcp_leases *t, uint32_t cursor,
		     uint64_t now, struct ctl_lease_page *pg)
{
	uint32_t i = cursor, end;

	pg->n = 0;
	pg->dhcp = t != NULL;
	pg->next = CTL_LEASES_END;
	pg->bound = t ? t->n_bound : 0;
	if (!t)
		return;
	end = i < t->n && t->n - i > CTL_LEASES_SCAN ? i + CTL_LEASES_SCAN : t->n;
	for (; i < end && pg->n < CTL_LEASES_PAGE_MAX; i++) {
		const struct dhcp_lease *l = &t->l[i];
		struct ctl_lease *c = &pg->lease[pg->n];

		if (!l->is_static && l->state != DHCP_LS_OFFERED &&
		    l->state != DHCP_LS_BOUND && l->state != DHCP_LS_DECLINED)
			continue;
		c->ip = l->ip;
		memcpy(c->mac, l->mac, sizeof(c->mac));
		c->state = l->state;
		c->is_static = l->is_static;
		c->expires_ms = !l->is_static && l->expires > now ?
				(l->expires - now) / NSEC_PER_MSEC : 0;
		snprintf(c->name, sizeof(c->name), "%s", l->name);
		pg->n++;
	}
	if (i < t->n)
		pg->next = i;
}

static const char *ctl_lease_state(uint8_t s)
{
	switch (s) {
	case DHCP_LS_OFFERED:
		return "offered";
	case DHCP_LS_BOUND:
		return "bound";
	case DHCP_LS_DECLINED:
		return "declined";
	case DHCP_LS_RESERVED:
		return "reserved";
	default:
		return "free";
	}
}

static struct json_object *ctl_lease_json(const struct ctl_lease *l)
{
	struct json_object *o = json_object_new_object();
	char ip[INET_ADDRSTRLEN], mac[18];

	if (!o)
		return NULL;
	inet_ntop(AF_INET, &l->ip, ip, sizeof(ip));
	snprintf(mac, sizeof(mac), ETH_MAC_FMT, ETH_MAC_ARG(l->mac));
	json_object_object_add(o, "ip", json_object_new_string(ip));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "state",
			       json_object_new_string(ctl_lease_state(l->state)));
	json_object_object_add(o, "static", json_object_new_boolean(l->is_static));
	json_object_object_add(o, "expires_in", json_object_new_double(
		(double)l->expires_ms / 1000.0));
	return o;
}

struct json_object *ctl_leases_json(const struct ctl_lease_page *pg)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	for (unsigned int i = 0; i < pg->n; i++)
		json_object_array_add(a, ctl_lease_json(&pg->lease[i]));
	json_object_object_add(o, "leases", a);
	json_object_object_add(o, "next", pg->next == CTL_LEASES_END ? NULL :
				json_object_new_int64(pg->next));
	json_object_object_add(o, "dhcp", json_object_new_boolean(pg->dhcp));
	json_object_object_add(o, "bound", json_object_new_int64(pg->bound));
	return o;
}
