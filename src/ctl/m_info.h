/* SPDX-License-Identifier: MIT */
/*
 * m_info.h - the control socket's methods on the gateway's services and
 * capture: `lease-delete`, `dns-cache`, `dns-flush`, `pcap-start`,
 * `pcap-stop` (docs/control.md; `leases` is ctl/leases.h's).
 *
 * Theory of operation: like the other methods (ctl/methods.h), these read
 * and change the gateway only through operations (struct ctl_svc_ops) that
 * arcnat implements with calls on the worker's thread (ctl/info_wk.h) and
 * the unit tests and the fuzzer with fixed data. The worker copies what it
 * is asked for into a bounded page (cached answers' bytes); the control
 * thread turns the page into JSON. The cache can hold more than one reply
 * may (a million entries): it is paged with a cursor, the table's slot to
 * go on from, which stays right while the cache changes because entries
 * never move (one added behind the cursor is missed, one removed is not
 * listed; none is listed twice). A page stops at the request's limit, at
 * the page's bytes, or where its JSON would pass CTL_INFO_JSON_MAX, so
 * that every page fits in a reply whatever names the DNS chose.
 */
#ifndef ARCNAT_CTL_M_INFO_H
#define ARCNAT_CTL_M_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/call.h"
#include "dp/pcap.h"
#include "svc/dhcp.h"
#include "svc/dns_cache.h"

#define CTL_DNS_PAGE		256	/* cached answers per page at most */
#define CTL_DNS_PAGE_BYTES	(256u << 10)	/* their bytes (>= DNS_MSG_MAX) */
#define CTL_INFO_DEFAULT_LIMIT	256	/* entries per page when not asked */
#define CTL_INFO_JSON_MAX	(512u << 10)	/* a page's JSON, of 1 MiB */
#define CTL_DNS_ANSWERS_MAX	64	/* records listed per cached answer */
#define CTL_PCAP_MAX_BYTES	(1ull << 40)	/* the largest max_bytes */

/* Error codes of these methods (docs/control.md "Errors"). */
#define CTL_E_NO_LEASE		(-32011)	/* lease-delete: no such lease */
#define CTL_E_NO_SERVICE	(-32012)	/* DHCP or DNS is off */
#define CTL_E_STATE		(-32013)	/* a capture runs / none runs */
#define CTL_E_FILE		(-32014)	/* the capture file: not made */

/**
 * struct ctl_dns_rec - one cached answer in a page.
 * @info:  what the cache says of it
 * @off:   where its bytes start in ctl_dns_page.bytes
 * @after: the cursor after it
 */
struct ctl_dns_rec {
	struct dns_cache_info info;
	uint32_t off;
	uint32_t after;
};

/**
 * struct ctl_dns_page - cached answers, as the worker copied them.
 * @n:     answers in @e
 * @next:  the cursor after the page, or UINT32_MAX: the table's end
 * @used:  bytes of @bytes in use
 * @e:     the answers
 * @bytes: their messages, TTLs aged, one after the other
 */
struct ctl_dns_page {
	uint32_t n;
	uint32_t next;
	uint32_t used;
	struct ctl_dns_rec e[CTL_DNS_PAGE];
	uint8_t bytes[CTL_DNS_PAGE_BYTES];
};

/**
 * struct ctl_svc_ops - the gateway's services, as these methods see them.
 * Each returns 0 or -errno: -ETIMEDOUT, -EBUSY, -EAGAIN the worker did not
 * answer in time; -ENODEV the service is off; others as said.
 * @lease_delete: end the lease of @mac (or, when NULL, of @ip); the lease
 *                as it was into *@out and the worker's clock into *@now;
 *                -ENOENT no such lease
 * @dns_cache:    a page of cached answers from @cursor, at most @limit,
 *                into *@out (valid until the next call)
 * @dns_flush:    empty the cache; the entries dropped into *@n
 * @pcap_start:   create @path (a new file) and capture into it through
 *                @f, at most @max_bytes; -EALREADY a capture runs, -errno
 *                of the file's creation
 * @pcap_stop:    stop the capture, flush and close its file; its name
 *                into @path (of @cap bytes) and what it did into *@st;
 *                -ENOENT none runs
 */
struct ctl_svc_ops {
	int (*lease_delete)(void *ctx, const uint8_t *mac, uint32_t ip,
			    struct dhcp_lease_info *out, uint64_t *now);
	int (*dns_cache)(void *ctx, uint32_t cursor, uint32_t limit,
			 const struct ctl_dns_page **out);
	int (*dns_flush)(void *ctx, uint32_t *n);
	int (*pcap_start)(void *ctx, const char *path,
			  const struct dp_pcap_filter *f, uint64_t max_bytes);
	int (*pcap_stop)(void *ctx, char *path, size_t cap,
			 struct dp_pcap_stats *st);
};

/* The methods (ctl/methods.c's table). @c: the call. Return: 0 or CTL_E_*. */
int ctl_m_lease_delete(struct ctl_call *c);
int ctl_m_dns_cache(struct ctl_call *c);
int ctl_m_dns_flush(struct ctl_call *c);
int ctl_m_pcap_start(struct ctl_call *c);
int ctl_m_pcap_stop(struct ctl_call *c);

/**
 * ctl_dns_name_text() - a name in wire form as text: labels joined by
 * dots, a final dot, every byte outside [A-Za-z0-9_-] escaped as \DDD and
 * a dot inside a label as \. (dig's presentation form).
 * @name: wire form
 * @len:  its length
 * @out:  the text; 4 * DNS_NAME_MAX + 1 bytes always suffice
 * @cap:  its size
 */
void ctl_dns_name_text(const uint8_t *name, size_t len, char *out, size_t cap);

#endif /* ARCNAT_CTL_M_INFO_H */
