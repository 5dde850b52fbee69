/* SPDX-License-Identifier: MIT */
/*
 * run.h - `arcnat run -- CMD` and `arcnat attach`: the gateway for a
 * network namespace, with its guest port a TAP inside that namespace.
 *
 * Theory of operation: arcnat forks a setup child. For `run` the child
 * makes the namespaces (a user namespace first when arcnat is not root, so
 * that no privilege is needed: CMD is root inside it; then a network and a
 * mount namespace), puts a private /etc/resolv.conf naming the gateway on
 * the mount namespace, brings `lo` up, creates tap0 and configures it over
 * netlink (address, MTU, up, default route via the gateway). For `attach`
 * the child joins an existing network namespace instead (and the user
 * namespace that owns it when it is not arcnat's own). Either way it hands
 * the TAP's fd back over a socketpair (SCM_RIGHTS). The parent never
 * leaves the caller's namespaces: it runs the gateway (app/gateway.h) with
 * that TAP as its guest port and its uplink in the caller's network.
 *
 * `run`: once the worker runs, the parent tells the child to go on, and the
 * child executes CMD (close-on-exec descriptors and none of arcnat's
 * signal mask survive). The child dies with arcnat (PR_SET_PDEATHSIG,
 * SIGKILL); arcnat forwards SIGINT, SIGTERM and SIGHUP to it and exits
 * with its status (128 + N when signal N ended it, as a shell reports it).
 *
 * `attach`: the child exits after handing over the TAP; arcnat serves
 * until SIGINT or SIGTERM, with --pid until that process has exited (a
 * pidfd), with --netns until the namespace's file is deleted (inotify on
 * its directory; not for a /proc path).
 */
#ifndef ARCNAT_APP_RUN_H
#define ARCNAT_APP_RUN_H

/**
 * run_main() - `arcnat run`.
 * @argc: arguments after "arcnat" (argv[0] is "run")
 * @argv: them
 *
 * Return: CMD's exit status (128 + N for signal N); 1 when the network
 * could not be set up or failed while CMD ran (CMD is then killed); 2 on a
 * usage error; 126 CMD cannot be executed, 127 CMD not found.
 */
int run_main(int argc, char **argv);

/**
 * run_attach_main() - `arcnat attach`.
 * @argc: arguments after "arcnat" (argv[0] is "attach")
 * @argv: them
 *
 * Return: 0 after SIGINT, SIGTERM, the end of --pid's process or the
 * deletion of --netns's file; 1 on a
 * runtime error; 2 on a usage error.
 */
int run_attach_main(int argc, char **argv);

#endif /* ARCNAT_APP_RUN_H */
