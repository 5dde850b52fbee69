/* SPDX-License-Identifier: MIT */
/*
 * methods.h - the control socket's dispatcher: one request line in, one
 * reply line out (docs/control.md lists the methods).
 *
 * Theory of operation: the dispatcher parses the line (ctl/proto.h), finds
 * the method in a table, checks its params and answers. What it needs of
 * the running gateway comes through struct ctl_backend: a snapshot of the
 * worker's state (ctl/snap.h in arcnat; a fixed one in the unit tests and
 * the fuzzer), so the dispatcher itself never touches the datapath and can
 * be driven with any bytes. Every reply, error or not, fits in the
 * caller's buffer of at least CTL_REPLY_MAX bytes: a result that would not
 * is replaced by a CTL_E_REPLY_TOO_LARGE error.
 */
#ifndef ARCNAT_CTL_METHODS_H
#define ARCNAT_CTL_METHODS_H

#include <stddef.h>
#include <stdint.h>

#include "ctl/call.h"

/**
 * ctl_dispatch() - answer one request line.
 * @env:  what to answer from
 * @line: the request, without its newline (any bytes)
 * @len:  its length
 * @out:  the reply line, its newline included
 * @cap:  @out's size, at least CTL_REPLY_MAX
 *
 * Return: the reply's length (never 0).
 */
size_t ctl_dispatch(const struct ctl_env *env, const char *line, size_t len,
		    char *out, size_t cap);

/**
 * ctl_metrics_text() - every counter in the Prometheus text format, from a
 * fresh snapshot (the `metrics` method and --metrics-file).
 * @env: what to answer from
 * @out: where (NUL-terminated)
 * @cap: its size
 *
 * Return: the length, or -errno (the snapshot's; -EMSGSIZE).
 */
ssize_t ctl_metrics_text(const struct ctl_env *env, char *out, size_t cap);

#endif /* ARCNAT_CTL_METHODS_H */
