// SPDX-License-Identifier: MIT
/*
 * dns_resolv.c - read the nameservers of a resolv.conf(5) file. See
 * dns_resolv.h.
 */
#include "svc/dns_resolv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int dns_read_resolv_conf(const char *path, uint32_t *servers,
			 unsigned int max, unsigned int *n)
{
	char line[DNS_RESOLV_LINE];
	unsigned int lines;
	FILE *f;

	*n = 0;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (lines = 0;
	     lines < DNS_RESOLV_MAX_LINES && fgets(line, sizeof(line), f);
	     lines++) {
		char *save = NULL, *kw, *addr;
		struct in_addr ia;

		if (!strchr(line, '\n') && !feof(f)) {
			int ch;

			/* Too long for a nameserver line: skip the rest. */
			do
				ch = fgetc(f);
			while (ch != '\n' && ch != EOF);
			continue;
		}
		kw = strtok_r(line, " \t\r\n", &save);
		if (!kw || strcmp(kw, "nameserver") != 0)
			continue;
		addr = strtok_r(NULL, " \t\r\n", &save);
		if (!addr || inet_pton(AF_INET, addr, &ia) != 1 || *n >= max)
			continue;
		servers[(*n)++] = ia.s_addr;
	}
	fclose(f);
	return 0;
}
