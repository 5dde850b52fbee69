/* SPDX-License-Identifier: MIT */
/*
 * m_runtime.h - the control socket's methods that change the running
 * gateway: forward-add, forward-delete, forward-list, guest-add,
 * guest-delete, guest-list (docs/control.md).
 *
 * Theory of operation: each method checks its params, says no at once to
 * what would be refused anyway (bad syntax, a forward to no guest, the DNS
 * forwarder's port), and runs the rest through the env's struct
 * ctl_rt_ops (ctl/rt.h: on the worker's thread in arcnat, a model in the
 * tests), whose errors become error replies that name the reason: a
 * refused change (-32010) leaves the gateway as it was. The syntax is the
 * command line's: a forward is --forward's PROTO:EXTPORT:INTADDR:INTPORT
 * (opts_parse_forward()), a guest --inside's stream:PATH, dgram:PATH,
 * vhost-user:PATH or [tap:]IFACE[@NETNS].
 */
#ifndef ARCNAT_CTL_M_RUNTIME_H
#define ARCNAT_CTL_M_RUNTIME_H

#include "ctl/call.h"

#define CTL_E_REFUSED	(-32010)	/* a change refused: state unchanged */

int ctl_m_forward_add(struct ctl_call *c);
int ctl_m_forward_delete(struct ctl_call *c);
int ctl_m_forward_list(struct ctl_call *c);
int ctl_m_guest_add(struct ctl_call *c);
int ctl_m_guest_delete(struct ctl_call *c);
int ctl_m_guest_list(struct ctl_call *c);

#endif /* ARCNAT_CTL_M_RUNTIME_H */
