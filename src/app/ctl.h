/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - `arcnat ctl`: the client of a running arcnat's control socket
 * (docs/control.md).
 */
#ifndef ARCNAT_APP_CTL_H
#define ARCNAT_APP_CTL_H

/**
 * ctl_cmd_main() - run `arcnat ctl`.
 * @argc: arguments after "arcnat" (argv[0] is "ctl")
 * @argv: them
 *
 * Return: 0 done, 1 an error reply or no answer, 2 a usage error.
 */
int ctl_cmd_main(int argc, char **argv);

#endif /* ARCNAT_APP_CTL_H */
