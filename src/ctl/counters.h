/* SPDX-License-Identifier: MIT */
/*
 * counters.h - the worker's statistics block as JSON and as Prometheus
 * metrics.
 *
 * Theory of operation: every counter arcnat has is printed by the module
 * that owns it, from its own table of names, into the block SIGUSR1 dumps
 * (`stat NAME VALUE` lines, dp/stats.h). The control socket takes that
 * same block, written on the worker's thread into a buffer (ctl/snap.h),
 * and converts it here, so there is no second list of names to fall out
 * of step: a counter added to the dump is in `stats` and `metrics` at
 * once. A NAME whose first part is a port (inside, outside, guestN) is
 * that port's; the rest are the gateway's. In the Prometheus form a port's
 * counter is one family with a `port` label, names are `arcnat_` and the
 * NAME with every character outside [a-zA-Z0-9_] made '_', and a family
 * is a gauge when it counts what exists now (ctl_counters_is_gauge()),
 * else a counter whose sample ends in `_total`.
 */
#ifndef ARCNAT_CTL_COUNTERS_H
#define ARCNAT_CTL_COUNTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;

#define CTL_COUNTERS_MAX	8192u	/* `stat` lines converted, at most */
#define CTL_COUNTER_NAME_MAX	96u	/* a NAME's bytes, longer ones skipped */

/**
 * ctl_counters_is_gauge() - whether the counter NAME counts what exists
 * now (flows, mappings, table entries, open sockets, limits) rather than
 * events since the start.
 * @name: the NAME of a `stat` line, port prefix removed
 *
 * Return: true for a gauge.
 */
bool ctl_counters_is_gauge(const char *name);

/**
 * ctl_counters_json() - the block as a JSON object:
 * `{"counters": {NAME: N, ...}, "ports": {"inside": {NAME: N, ...,
 * "name": "..."}, ...}}`.
 * @text: the block (`stat` lines; other lines are skipped but for
 *        "arcnat: port guestN is NAME", which names a port)
 * @len:  its length
 *
 * Return: a new object, or NULL when out of memory.
 */
struct json_object *ctl_counters_json(const char *text, size_t len);

/**
 * ctl_counters_prom() - the block in the Prometheus text exposition format
 * (version 0.0.4), each family once with its HELP and TYPE lines.
 * @text: the block
 * @len:  its length
 * @out:  where
 * @cap:  its size
 *
 * Return: the length written (NUL-terminated), or -EMSGSIZE, -ENOMEM.
 */
ssize_t ctl_counters_prom(const char *text, size_t len, char *out, size_t cap);

#endif /* ARCNAT_CTL_COUNTERS_H */
