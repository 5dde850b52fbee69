// SPDX-License-Identifier: MIT
/*
 * pcap.c - classic pcap writer (the format of tcpdump -w).
 */
#include "dp/pcap.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	bool filtered;
	struct dp_pcap_filter filter;
	uint64_t max_bytes;		/* 0: no bound */
	struct dp_pcap_stats st;
};

static int dp_pcap_header(struct dp_pcap *pc)
{
	const struct pcap_file_hdr fh = {
		.magic = PCAP_MAGIC_USEC,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = PCAP_SNAPLEN,
		.linktype = PCAP_LINKTYPE_ETHERNET,
	};

	if (fwrite(&fh, sizeof(fh), 1, pc->f) != 1 || fflush(pc->f))
		return errno ? -errno : -EIO;
	pc->st.bytes = sizeof(fh);
	return 0;
}

int dp_pcap_open(struct dp_pcap **out, const char *path)
{
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
	err = dp_pcap_header(pc);
	if (err)
		goto err_close;
	*out = pc;
	return 0;

err_close:
	fclose(pc->f);
err_free:
	free(pc);
	return err;
}

int dp_pcap_open_fd(struct dp_pcap **out, int fd, const struct dp_pcap_filter *f,
		    uint64_t max_bytes)
{
	struct dp_pcap *pc;
	int err;

	if (max_bytes && max_bytes < sizeof(struct pcap_file_hdr)) {
		close(fd);
		return -EINVAL;
	}
	pc = calloc(1, sizeof(*pc));
	if (!pc) {
		close(fd);
		return -ENOMEM;
	}
	pc->f = fdopen(fd, "w");
	if (!pc->f) {
		err = -errno;
		close(fd);
		free(pc);
		return err;
	}
	if (f) {
		pc->filter = *f;
		pc->filtered = f->proto || f->port || f->host;
	}
	pc->max_bytes = max_bytes;
	err = dp_pcap_header(pc);
	if (err) {
		fclose(pc->f);
		free(pc);
		return err;
	}
	*out = pc;
	return 0;
}

static uint16_t dp_pcap_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool dp_pcap_match(const struct dp_pcap_filter *f, const uint8_t *data,
		   size_t len, bool l3)
{
	size_t off = 0, l4;
	uint16_t type = 0;
	uint8_t proto;
	bool ports;

	if (!l3) {
		if (len < 14)
			return false;
		type = dp_pcap_be16(data + 12);
		off = 14;
		if (type == 0x8100) {		/* one 802.1Q tag */
			if (len < 18)
				return false;
			type = dp_pcap_be16(data + 16);
			off = 18;
		}
	} else if (len) {
		type = (data[0] >> 4) == 6 ? 0x86dd : 0x0800;
	}
	if (type == 0x0800) {
		size_t ihl;

		if (len < off + 20 || (data[off] >> 4) != 4)
			return false;
		ihl = (size_t)(data[off] & 0xf) * 4;
		if (ihl < 20 || len < off + ihl)
			return false;
		proto = data[off + 9];
		if (f->host && memcmp(data + off + 12, &f->host, 4) != 0 &&
		    memcmp(data + off + 16, &f->host, 4) != 0)
			return false;
		/* A later fragment carries no ports. */
		ports = !(dp_pcap_be16(data + off + 6) & 0x1fff);
		l4 = off + ihl;
	} else if (type == 0x86dd) {
		if (len < off + 40 || (data[off] >> 4) != 6 || f->host)
			return false;
		proto = data[off + 6];
		ports = true;
		l4 = off + 40;
	} else {
		return false;
	}
	if (f->proto && proto != f->proto)
		return false;
	if (!f->port)
		return true;
	if (!ports || len < l4 + 4 ||
	    (proto != IPPROTO_TCP && proto != IPPROTO_UDP &&
	     proto != IPPROTO_SCTP))
		return false;
	return dp_pcap_be16(data + l4) == f->port ||
	       dp_pcap_be16(data + l4 + 2) == f->port;
}

void dp_pcap_get_stats(const struct dp_pcap *pc, struct dp_pcap_stats *out)
{
	*out = pc->st;
	out->failed = pc->failed;
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
	if (pc->filtered && !dp_pcap_match(&pc->filter, data, len, l3)) {
		pc->st.filtered++;
		return;
	}
	if (pc->max_bytes &&
	    pc->st.bytes + sizeof(rh) + l2 + caplen > pc->max_bytes) {
		pc->st.over++;
		return;
	}
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
	pc->st.packets++;
	pc->st.bytes += sizeof(rh) + l2 + caplen;
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
