/* SPDX-License-Identifier: MIT */
/*
 * ctl_rt.h - `arcnat ctl forward ...` and `arcnat ctl guest ...`: the
 * requests and tables of the methods that change a running arcnat
 * (ctl/m_runtime.h), apart from app/ctl.c's other commands.
 */
#ifndef ARCNAT_APP_CTL_RT_H
#define ARCNAT_APP_CTL_RT_H

#include <stdbool.h>

struct json_object;

/* `arcnat ctl --help`'s lines for these commands. */
#define CTL_RT_USAGE \
"  forward add PROTO:EXTPORT:INTADDR:INTPORT [ADDRESS]\n" \
"                      add a port forward while running (--forward's syntax;\n" \
"                      with --outside sock the host's port EXTPORT, on\n" \
"                      ADDRESS or every address)\n" \
"  forward delete PROTO:EXTPORT[:INTADDR:INTPORT]\n" \
"                      delete one; its open connections go on until they end\n" \
"  forward list        every forward, from the command line or added\n" \
"  guest add SPEC      attach a guest port while running: stream:PATH,\n" \
"                      dgram:PATH, vhost-user:PATH (--inside's syntax; a TAP\n" \
"                      only without the sandbox)\n" \
"  guest delete NAME   detach a guest port (a listener with its connections)\n" \
"  guest list          the guest ports: slot, kind, MTU, counters, name\n"

/**
 * ctl_rt_cmd_request() - the method and params of `forward ...` or
 * `guest ...`.
 * @argc:   arguments from the COMMAND on
 * @argv:   them
 * @method: out: the method, or NULL when @argv is not one of these
 * @params: out: its params, or NULL
 *
 * Return: 0, or 2 after a usage error was printed.
 */
int ctl_rt_cmd_request(int argc, char **argv, const char **method,
		       struct json_object **params);

/**
 * ctl_rt_cmd_print() - print the result of one of these methods as a
 * table or a line.
 * @method: the method
 * @r:      its result
 *
 * Return: true when @method is one of these (printed).
 */
bool ctl_rt_cmd_print(const char *method, struct json_object *r);

#endif /* ARCNAT_APP_CTL_RT_H */
