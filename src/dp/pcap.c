// SPDX-License-Identifier: MIT
/*
 * pcap.c - classic pcap writer (the format of tcpdump -w).
 */
#include "dp/pcap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compiler.h"
#include "core/log.h"

#define PCAP_MAGIC_USEC	0xa1b2c3d4u
#define PCAP_SNAPLEN	262144u
#define PCAP_LINKTYPE_ETHERNET 1u

struct pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;
	uint32_t orig_len;
};

static_assert(sizeof(struct pcap_file_hdr) == 24, "pcap file header");
static_assert(sizeof(struct pcap_rec_hdr) == 16, "pcap record header");

struct dp_pcap {
	FILE *f;
	bool failed;
};

int dp_pcap_open(struct dp_pcap **out, const char *path)
{
	const struct pcap_file_hdr fh = {
		.magic = PCAP_MAGIC_USEC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};
	struct dp_pcap *pc;
	int err;

	pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->f = fopen(path, "we");
	if (!pc->f) {
		err = -errno;
		goto err_free;
	}
	if (fwrite(&fh, sizeof(fh), 1, pc->f) != 1 || fflush(pc->f)) {
		err = errno ? -errno : -EIO;
		goto err_close;
	}
	*out = pc;
	return 0;

err_close:
	fclose(pc->f);
err_free:
	free(pc);
	return err;
}

void dp_pcap_write(struct dp_pcap *pc, uint64_t wall_ns, const uint8_t *data,
		   size_t len, bool l3)
{
	static const uint8_t eth_ip4[14] = { [12] = 0x08, [13] = 0x00 };
	static const uint8_t eth_ip6[14] = { [12] = 0x86, [13] = 0xdd };
	size_t l2 = l3 ? sizeof(eth_ip4) : 0;
	size_t caplen = len + l2 > PCAP_SNAPLEN ? PCAP_SNAPLEN - l2 : len;
	struct pcap_rec_hdr rh;

	if (!pc || pc->failed)
		return;
	rh.ts_sec = (uint32_t)(wall_ns / 1000000000u);
	rh.ts_usec = (uint32_t)(wall_ns % 1000000000u / 1000u);
	rh.incl_len = (uint32_t)(caplen + l2);
	rh.orig_len = (uint32_t)(len + l2);
	if (fwrite(&rh, sizeof(rh), 1, pc->f) != 1)
		goto fail;
	if (l2 && fwrite(len && (data[0] >> 4) == 6 ? eth_ip6 : eth_ip4, l2, 1,
			 pc->f) != 1)
		goto fail;
	if (caplen && fwrite(data, caplen, 1, pc->f) != 1)
		goto fail;
	return;
fail:
	log_err("pcap: write failed (%s); capture stopped", strerror(errno));
	pc->failed = true;
}

void dp_pcap_flush(struct dp_pcap *pc)
{
	if (pc && !pc->failed && fflush(pc->f)) {
		log_err("pcap: write failed (%s); capture stopped", strerror(errno));
		pc->failed = true;
	}
}

void dp_pcap_close(struct dp_pcap *pc)
{
	if (!pc)
		return;
	dp_pcap_flush(pc);
	fclose(pc->f);
	free(pc);
}
