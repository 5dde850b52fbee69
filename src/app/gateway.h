/* SPDX-License-Identifier: MIT */
/*
 * gateway.h - `arcnat gateway`: a NAT gateway between a TAP and an uplink.
 */
#ifndef ARCNAT_APP_GATEWAY_H
#define ARCNAT_APP_GATEWAY_H

/**
 * gateway_main() - run the gateway subcommand.
 * @argc: arguments after "arcnat" (argv[0] is "gateway")
 * @argv: them
 *
 * Return: the process exit status: 0 after a clean stop, 1 on a runtime
 * error, 2 on a usage error.
 */
int gateway_main(int argc, char **argv);

struct dp_worker;

/**
 * gateway_serve() - run @w on a thread of its own until SIGINT or SIGTERM
 * arrives on @sfd, the worker ends by itself, or @sfd cannot be read. On
 * every one of these paths the worker is asked to stop and is joined before
 * this returns, so the caller can print its final statistics.
 * @w:   a worker, created and not running
 * @sfd: signalfd of SIGINT, SIGTERM, SIGUSR1 (statistics) and SIGUSR2 (the
 *       worker's thread sends it to the caller's thread when it ends); the
 *       four are blocked in every thread
 *
 * Return: 0 after a stop by signal; the worker's error (-errno); or the
 * error reading @sfd (-errno, -EIO for a short read).
 */
int gateway_serve(struct dp_worker *w, int sfd);

#endif /* ARCNAT_APP_GATEWAY_H */
