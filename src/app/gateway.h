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

#endif /* ARCNAT_APP_GATEWAY_H */
