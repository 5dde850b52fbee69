/* SPDX-License-Identifier: MIT */
/*
 * worker.h - one datapath worker: an epoll loop that moves packets between
 * guest ports and an uplink through the NAT (docs/architecture.md "Data
 * flow", "Ports").
 *
 * Theory of operation: the worker owns everything it touches on the packet
 * path: its buffers, its statistics, the inside ARP endpoint, and (for now,
 * with one worker) the NAT. Each wakeup reads the clock once, then drains
 * each ready port in bursts of DP_BURST_MAX: parse every frame, pick out
 * what the gateway answers itself (ARP, echo requests to its addresses),
 * hand the rest to nat_process() as one batch, and send each translated
 * packet out of the port its verdict names, Ethernet header stripped towards
 * an L3 uplink and written towards the guests. A 100 ms timerfd drives
 * expiry (a bounded slice per tick), port housekeeping and periodic
 * statistics; an eventfd carries requests from other threads (stop, print
 * statistics, add or remove a port), which the worker serves between
 * bursts, so no other thread ever reads worker state.
 *
 * Ports (dp/portset.h): one uplink and up to DP_PORTS_MAX - 1 guest ports,
 * which come and go while the worker runs. The guest ports form one
 * Ethernet segment behind a learning switch (dp/switch.h): frames between
 * guests go from port to port as they are, without NAT; frames for the
 * gateway's MAC (and broadcasts) go through the pipeline above, and the
 * gateway's frames go to the port its destination was learned on. A port
 * that cannot take a frame now gets it later, from its bounded queue.
 */
#ifndef ARCNAT_DP_WORKER_H
#define ARCNAT_DP_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/mailbox.h"
#include "dp/port.h"
#include "dp/worker_cfg.h"


struct dp_worker;

/**
 * dp_worker_create() - allocate a worker, its buffers and its event fds.
 * @out: the worker
 * @cfg: configuration (copied; the objects it points to are borrowed)
 *
 * Return: 0, -EINVAL for a bad configuration, -ENOMEM, -errno.
 */
int dp_worker_create(struct dp_worker **out, const struct dp_config *cfg);

/**
 * dp_worker_run() - forward until dp_worker_stop(); blocks.
 * @w: worker
 *
 * Return: 0 after a stop request; -errno if a device failed for good.
 */
int dp_worker_run(struct dp_worker *w);

/**
 * dp_worker_stop() - ask dp_worker_run() to return; any thread.
 * @w: worker
 */
void dp_worker_stop(struct dp_worker *w);

/**
 * dp_worker_request_stats() - ask the worker to print its statistics
 * block; any thread.
 * @w: worker
 */
void dp_worker_request_stats(struct dp_worker *w);

/**
 * dp_worker_call() - have the worker run @fn(@w, @arg) on its own thread,
 * between bursts (a consistent snapshot of its state for the control
 * socket); any thread. The worker never waits for the caller: @fn must not
 * block, and the caller learns that it ran from @fn itself (an eventfd).
 * A call posted before dp_worker_run() runs once it starts; one pending
 * when the worker is destroyed never runs.
 * @w:   worker
 * @fn:  the function
 * @arg: its argument, kept alive by the caller until @fn ran or @w is gone
 *
 * Return: 0, or -EAGAIN when DP_CALLS calls are pending.
 */
int dp_worker_call(struct dp_worker *w, dp_call_fn fn, void *arg);

struct dp_ports;

/**
 * dp_worker_ports() - the worker's ports; read only from a dp_worker_call()
 * function (the worker's thread).
 * @w: worker
 *
 * Return: the port set.
 */
const struct dp_ports *dp_worker_ports(const struct dp_worker *w);

/**
 * dp_worker_nat() - the worker's NAT (dp_config.nat); used only from a
 * dp_worker_call() function (the worker's thread).
 * @w: worker
 *
 * Return: the NAT.
 */
struct nat *dp_worker_nat(const struct dp_worker *w);

struct dp_svc;

/**
 * dp_worker_svc() - the worker's services (DHCP, DNS: dp/services.h); used
 * only from a dp_worker_call() function (the worker's thread).
 * @w: worker
 *
 * Return: the services.
 */
struct dp_svc *dp_worker_svc(const struct dp_worker *w);

/**
 * dp_worker_set_capture() - start or stop the control socket's capture
 * (`pcap-start`, `pcap-stop`): every packet dp_config.pcap would see is
 * offered to @pc too (its filter and bound apply), flushed once per
 * wakeup. Only from a dp_worker_call() function (the worker's thread).
 * @w:  worker
 * @pc: the new capture (the worker's from now on), or NULL for none
 *
 * Return: the previous capture, now the caller's, or NULL. The worker
 * closes the one it holds when it is destroyed.
 */
struct dp_pcap *dp_worker_set_capture(struct dp_worker *w, struct dp_pcap *pc);

/**
 * dp_worker_add_port() - attach one more guest port; it is the worker's from
 * this call on (destroyed when removed, with the worker, or on error).
 * @w: worker
 * @p: an Ethernet port (not DP_PORT_L3) whose MTU is 0 or at least the
 *     guest segment's
 *
 * On the worker's thread (a listening port accepting a connection), the
 * port is attached at once. From any other thread the request goes through
 * the control channel and is served between bursts (or when
 * dp_worker_run() starts); a port the worker then cannot attach is logged
 * and destroyed.
 *
 * Return: 0; -EINVAL a port of the wrong kind or MTU, -ENOSPC no free
 * slot (both on the worker's thread); -EAGAIN too many requests pending
 * (another thread); -errno.
 */
int dp_worker_add_port(struct dp_worker *w, struct dp_port *p);

/**
 * dp_worker_remove_port() - detach a guest port: its queued frames are
 * dropped (counted: ports.gone_queued) and, if the worker owns it, it is
 * destroyed on the worker's thread. The others are not disturbed.
 * @w: worker
 * @p: a guest port attached and not removed yet. The worker removes (and
 *     destroys) by itself a port it owns whose rx_burst failed for good:
 *     another thread must not ask to remove a port that may be gone so
 *     (its memory may belong to a new port by then).
 *
 * Threads as dp_worker_add_port().
 *
 * Return: 0; -ENOENT not a guest port of @w (on the worker's thread; from
 * another thread such a request is ignored); -EAGAIN too many requests
 * pending (another thread).
 */
int dp_worker_remove_port(struct dp_worker *w, struct dp_port *p);

/**
 * dp_worker_add_fd() - register one more fd of an attached port (a
 * vhost-user port's kick eventfd): its events go to the port's fd_event()
 * with @sub, and what that returns decides whether the worker receives
 * from the port (DP_FD_RX) or offers it its queue (DP_FD_TX). Only on the
 * worker's thread (from a port operation), or while dp_worker_run() is not
 * running.
 * @w:   worker
 * @p:   the port, attached to @w
 * @fd:  the fd, still the port's
 * @sub: sub-index, not 0; the port hands them out and retires them, so a
 *       stale event (an fd replaced in the same wakeup) is told apart
 * @events: epoll events to watch for (EPOLLIN; EPOLLOUT, EPOLLRDHUP for a
 *       socket uplink's connections), level-triggered
 *
 * Return: 0; -ENOENT @p is not attached; -EINVAL @sub 0; -errno.
 */
int dp_worker_add_fd(struct dp_worker *w, struct dp_port *p, int fd,
		     uint32_t sub, uint32_t events);

/**
 * dp_worker_mod_fd() - change what an fd of dp_worker_add_fd() is watched
 * for (a TCP socket wants EPOLLOUT only while its writes are blocked).
 * Threads as dp_worker_add_fd().
 * @w:      worker
 * @p:      the port, attached to @w
 * @fd:     the fd, registered
 * @sub:    its sub-index (may be a new one), not 0
 * @events: the new events
 *
 * Return: 0; -ENOENT @p is not attached or @fd not registered; -EINVAL
 * @sub 0; -errno.
 */
int dp_worker_mod_fd(struct dp_worker *w, struct dp_port *p, int fd,
		     uint32_t sub, uint32_t events);

/**
 * dp_worker_del_fd() - unregister an fd of dp_worker_add_fd(), before the
 * port closes it (dp_ports_del_fd() says why). Threads as
 * dp_worker_add_fd(); a port's destroy operation may call it.
 * @w:  worker
 * @fd: the fd
 *
 * Return: 0 or -errno.
 */
int dp_worker_del_fd(struct dp_worker *w, int fd);

/**
 * dp_worker_print_stats() - print the statistics block (`stat NAME VALUE`
 * lines). Only from the worker's thread, or after dp_worker_run() returned.
 * @w: worker
 * @f: stream
 */
void dp_worker_print_stats(struct dp_worker *w, FILE *f);

/**
 * dp_worker_input() - run one packet through the worker as if a port had
 * received it: for fuzzing and tests, without epoll or threads. Never while
 * dp_worker_run() is running.
 * @w:           worker
 * @from_inside: true for the first guest port (dp_config.inside), false
 *               for the uplink
 * @data:        the frame (inside) or IP packet (uplink); copied
 * @len:         its length (truncated to a buffer's capacity)
 * @vnet:        offload metadata, or NULL
 * @now:         time, ns
 */
void dp_worker_input(struct dp_worker *w, bool from_inside, const uint8_t *data,
		     size_t len, const struct pkt_vnet *vnet, uint64_t now);

/**
 * dp_worker_input_port() - dp_worker_input() for any port: as if guest
 * port @from received the frame, so that tests and fuzzers drive the
 * switch between several guest ports. Ports added with
 * dp_worker_add_port() are attached first (this thread stands in for the
 * worker's, which must not be running).
 * @w:     worker
 * @from:  an attached guest port, or NULL for the uplink; a port that is
 *         not attached (or not a guest port) drops the frame
 * @data:  the frame or IP packet; copied
 * @len:   its length (truncated to a buffer's capacity)
 * @vnet:  offload metadata, or NULL
 * @now:   time, ns
 */
void dp_worker_input_port(struct dp_worker *w, const struct dp_port *from,
			  const uint8_t *data, size_t len,
			  const struct pkt_vnet *vnet, uint64_t now);

/**
 * dp_worker_destroy() - free a worker; NULL and half-built are fine.
 * @w: worker
 */
void dp_worker_destroy(struct dp_worker *w);

#endif /* ARCNAT_DP_WORKER_H */
