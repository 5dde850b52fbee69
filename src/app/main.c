// SPDX-License-Identifier: MIT
/*
 * main.c - the arcnat program: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "app/ctl.h"
#include "app/gateway.h"
#include "app/run.h"
#include "app/version.h"

static const char main_usage[] =
"Usage: arcnat COMMAND [OPTIONS]\n"
"\n"
"A userspace network stack for virtual machines and containers.\n"
"\n"
"Commands:\n"
"  gateway     NAT gateway between guests (TAP devices, QEMU sockets,\n"
"              vhost-user) and an uplink (arcnat gateway --help)\n"
"  run         run a command in a network namespace of its own, behind\n"
"              the gateway (arcnat run --help)\n"
"  attach      the same for a network namespace that exists\n"
"              (arcnat attach --help)\n"
"  ctl         ask a running arcnat over its control socket\n"
"              (arcnat ctl --help)\n"
"\n"
"Options:\n"
"  -h, --help     this text\n"
"  -V, --version  print the version\n"
"\n"
"See arcnat(1).\n";

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(main_usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("arcnat %s\n", ARCNAT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "gateway"))
		return gateway_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return run_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return run_attach_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return ctl_cmd_main(argc - 1, argv + 1);
	fprintf(stderr, "arcnat: unknown command '%s'\nTry 'arcnat --help'.\n",
		argv[1]);
	return 2;
}
