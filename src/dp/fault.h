/* SPDX-License-Identifier: MIT */
/*
 * fault.h - a port wrapper that loses, duplicates, reorders and delays
 * frames, for tests.
 *
 * This machine's kernel has no sch_netem, and nftables can drop packets
 * but neither reorder, duplicate nor delay them. The TCP relay must be
 * shown to survive all four between the guest and arcnat, so a guest port
 * can be wrapped in this one: frames the guest sends (rx) and frames sent
 * to it (tx) meet, each independently, a loss, a duplication and a
 * reordering chance and a fixed delay, drawn from a seeded generator so a
 * failing run can be repeated. It is a testing tool: `arcnat gateway
 * --test-faults` says so in its help and warns when it starts; nothing
 * else uses it.
 *
 * Frames held back (delayed, reordered, duplicated) live in the wrapper's
 * own guarded buffers, at most DP_FAULT_HOLD per direction; when they are
 * all in use the frame passes unharmed and `hold_full` counts it. A timerfd
 * registered as one of the port's extra fds (dp_worker_add_fd) releases
 * held frames when they are due.
 */
#ifndef ARCNAT_DP_FAULT_H
#define ARCNAT_DP_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "dp/port.h"
#include "dp/worker.h"

#define DP_FAULT_HOLD		64u	/* frames held per direction */
#define DP_FAULT_DELAY_MAX_US	1000000u	/* one second */
#define DP_FAULT_REORDER_US	1000u	/* a reordered frame waits this long at most */

enum dp_fault_dir { DP_FAULT_RX = 0, DP_FAULT_TX = 1, DP_FAULT__DIRS };

/**
 * struct dp_fault_cfg - what happens to frames of one wrapped port.
 * @drop_ppm:    chance, per million frames, that a frame is lost
 * @dup_ppm:     ... that it arrives twice (the copy right after it)
 * @reorder_ppm: ... that it is overtaken by the next frame (or arrives
 *               DP_FAULT_REORDER_US late when no next frame comes)
 * @delay_us:    every frame arrives this late (<= DP_FAULT_DELAY_MAX_US)
 * @dirs:        bit (1 << enum dp_fault_dir) per direction affected
 * @seed:        the generator's seed (the same seed, the same choices)
 */
struct dp_fault_cfg {
	uint32_t drop_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t delay_us;
	unsigned int dirs;
	uint64_t seed;
};

/**
 * struct dp_fault_stats - what the wrapper did, per direction.
 */
struct dp_fault_stats {
	uint64_t dropped[DP_FAULT__DIRS];
	uint64_t duplicated[DP_FAULT__DIRS];
	uint64_t reordered[DP_FAULT__DIRS];
	uint64_t delayed[DP_FAULT__DIRS];
	uint64_t hold_full[DP_FAULT__DIRS];
};

/**
 * dp_fault_parse() - read a fault specification: comma-separated
 * `drop=P%`, `dup=P%`, `reorder=P%` (P a decimal with up to four places,
 * 0 to 100), `delay=Nms` or `delay=Nus`, `dir=rx|tx|both` (default both),
 * `seed=N`; at least one fault.
 * @spec: the text
 * @cfg:  filled on success
 * @err:  on failure, a message naming the bad item
 * @len:  size of @err
 *
 * Return: 0 or -EINVAL.
 */
int dp_fault_parse(const char *spec, struct dp_fault_cfg *cfg, char *err,
		   unsigned int len);

/**
 * dp_fault_wrap() - wrap a port. The wrapper takes @inner's fd, flags,
 * MTU, MAC and name, and owns @inner from now on (destroying the wrapper
 * destroys it).
 * @out:   the wrapper
 * @inner: the port to wrap (not yet attached to a worker)
 * @cfg:   the faults
 *
 * Return: 0, -EINVAL for a bad configuration, -ENOMEM, -errno.
 */
int dp_fault_wrap(struct dp_port **out, struct dp_port *inner,
		  const struct dp_fault_cfg *cfg);

/**
 * dp_fault_attach() - register the wrapper's timer with the worker it was
 * added to (dp_worker_add_port or dp_config.inside), before the run.
 * @p: the wrapper
 * @w: its worker
 *
 * Return: 0 or -errno.
 */
int dp_fault_attach(struct dp_port *p, struct dp_worker *w);

/**
 * dp_fault_get_stats() - the wrapper's own counters.
 * @p:   the wrapper
 * @out: filled
 */
void dp_fault_get_stats(const struct dp_port *p, struct dp_fault_stats *out);

#endif /* ARCNAT_DP_FAULT_H */
