/* SPDX-License-Identifier: MIT */
/*
 * dhcp.h - a DHCPv4 server (RFC 2131, RFC 2132) for the guests behind the
 * gateway: one subnet, one address pool, static reservations, leases kept
 * across restarts in a lease file.
 *
 * Theory of operation. The server owns no socket: the datapath hands it
 * every IPv4/UDP frame to port 67 (dhcp_input()), and it writes the whole
 * reply frame (Ethernet, IPv4, UDP, BOOTP) into the caller's buffer, from
 * the gateway's address and MAC. Time is always the caller's `now`
 * (monotonic nanoseconds); dhcp_create() and dhcp_snapshot() also get the
 * wall clock, because the lease file stores absolute expiry times that must
 * survive a restart.
 *
 * Leases (svc/dhcp_lease.h) live in a table of fixed size allocated in
 * dhcp_create(): one slot per pool address, plus one per static host. A
 * client is identified by its client identifier (option 61) when it sends
 * one, else by its MAC (chaddr); a static host by its MAC only. New clients
 * get the free address that has been free the longest, so that a client
 * that went away finds its old address again when it comes back (RFC 2131
 * section 4.3.1); a client the server remembers gets its old address. A
 * declined address (DHCPDECLINE: someone else uses it) is quarantined for
 * decline_sec, then returns to the pool.
 *
 * Addresses in use by other hosts. Guests with static addresses share the
 * segment, and the server only knows its own leases: RFC 2131 section 2.2
 * says a server SHOULD make sure an address is unused before it allocates
 * it. The datapath answers "who uses this address?" from the gateway's ARP
 * table (cfg->addr_user) and can put a probe on the wire (cfg->addr_probe);
 * the server stays free of the datapath and of any clock but `now`.
 *   - A candidate for an OFFER (the client's old address, its requested
 *     one, a new one) in use by a MAC other than the client's chaddr is
 *     skipped and quarantined like a declined address (in_use_skipped); at
 *     most DHCP_IN_USE_TRIES candidates per DISCOVER, then no answer
 *     (drop in_use: the client asks again and the next ones are tried).
 *   - An address offered to a client that does not hold it bound is probed
 *     (one ARP request, not waited for: the worker never blocks). A host
 *     that answers is in the ARP table before the client's REQUEST, which
 *     is then NAKed and the client starts over with another address.
 *   - A REQUEST for an address in use by another MAC is NAKed (RFC 2131
 *     4.3.2) and the address quarantined (in_use_nak), even the client's
 *     own lease: a host configured statically cannot move, the client can.
 *   - dhcp_addr_seen(): the ARP table learned a MAC for an address. If the
 *     address is leased or reserved to another MAC, a guest took
 *     it by hand: logged once per binding at warn level with both MACs,
 *     rate-limited, counted (in_use_conflicts); the holder is NAKed at its
 *     next REQUEST.
 * The client's own MAC is never "another": its own lease renews.
 *
 * Messages (RFC 2131 section 4.3):
 *   DISCOVER  offer the client's address (held for DHCP_OFFER_SEC), its
 *             requested address when free, or a new one; none left: no
 *             answer, counted (pool_exhausted).
 *   REQUEST   SELECTING (server identifier present): ours -> ACK if it
 *             names the offered address, else NAK; another server's ->
 *             our offer is withdrawn, no answer. INIT-REBOOT (requested
 *             address, no server identifier) and RENEWING/REBINDING
 *             (ciaddr): ACK if the address is the client's, or free in the
 *             pool and the server has no other record of the client (the
 *             server is authoritative for its subnet, so a lost lease file
 *             costs no guest its address); NAK if it is in another subnet,
 *             someone else's, or not the server's to give.
 *   DECLINE   quarantine the address if it was the client's.
 *   RELEASE   free the address; the binding is remembered.
 *   INFORM    ACK with the configuration but no address or lease times.
 * Replies go out as RFC 2131 section 4.1 says for giaddr 0: NAK broadcast;
 * ciaddr set -> unicast to ciaddr; broadcast flag -> broadcast; else
 * unicast to yiaddr at chaddr. Relayed messages (giaddr set) are counted
 * and dropped: a virtual link has no relay.
 *
 * Replies carry, in this order, options 53, 54, 51, 58, 59 (not for
 * INFORM), 1, 3, 6, 26 (when an MTU is set), 61 echoed (RFC 6842), 12 (for
 * static hosts with a configured name), 15 and 119 (the domain as an RFC
 * 1035 name, RFC 3397), then END, padded to BOOTP_MIN_LEN; a NAK has only
 * 53, 54 and 61. The reply is never larger than the client said it
 * accepts (option 57, at least 576 bytes of IP): an option that does not
 * fit is left out, so the less important ones go first.
 *
 * Host names: the name in option 12 of a REQUEST that is ACKed is learned
 * when it is one RFC 1123 label (or that label followed by our domain);
 * anything else is counted and ignored. A static host's configured name
 * always wins; otherwise the newest holder of a name takes it. Names are
 * answered (dhcp_name_of(), dhcp_addr_of()) while the lease is bound, and
 * always for static hosts with configured names.
 *
 * Untrusted bytes are read only through a pkt_cursor; a malformed message
 * is counted by reason and answered with -EINVAL, never with a crash.
 * Single-threaded: a server belongs to one worker.
 */
#ifndef ARCNAT_SVC_DHCP_H
#define ARCNAT_SVC_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt/meta.h"
#include "prot/dhcp.h"
#include "prot/eth.h"
#include "svc/dhcp_defs.h"

/**
 * struct dhcp_cfg - parameters of a server, copied by dhcp_create().
 * @server:      the gateway address: source of replies, options 54, 3 (and
 *               6 by default); network order
 * @plen:        subnet prefix length (8..30), option 1
 * @server_mac:  Ethernet source of replies
 * @pool_first:  first pool address, network order, inclusive; 0 (with
 *               @pool_last 0) = network + 2 .. broadcast - 1, at most
 *               DHCP_POOL_MAX addresses. The server's address is never
 *               given out, wherever the pool is.
 * @pool_last:   last pool address, network order, inclusive
 * @lease_sec:   lease time (0 = DHCP_DEFAULT_LEASE); T1 = 1/2, T2 = 7/8
 * @mtu:         option 26 (68..65535); 0 = option left out
 * @dns:         option 6 addresses, network order
 * @n_dns:       entries in @dns (0 = { @server })
 * @domain:      options 15 and 119 (NULL = DHCP_DEFAULT_DOMAIN)
 * @lease_file:  the lease file read at start (NULL = none); dhcp_snapshot()
 *               gives what to write back
 * @hosts:       static reservations (copied)
 * @n_hosts:     entries in @hosts
 * @decline_sec: quarantine of a declined address (0 = DHCP_DEFAULT_DECLINE)
 *               and of one found in use by another host
 * @addr_user:   optional: whether a host on the segment uses @ip; 0 with
 *               its MAC in @mac, or -ENOENT. Called on DISCOVER and
 *               REQUEST only, a few times each; must not call the server.
 * @addr_probe:  optional: ask the segment who has @ip (an ARP request),
 *               without waiting; an answer reaches @addr_user later
 * @ctx:         passed to @addr_user and @addr_probe
 */
struct dhcp_cfg {
	uint32_t server;
	unsigned int plen;
	uint8_t server_mac[ETH_ALEN];
	uint32_t pool_first, pool_last;
	uint32_t lease_sec;
	uint16_t mtu;
	uint32_t dns[DHCP_DNS_MAX];
	unsigned int n_dns;
	const char *domain;
	const char *lease_file;
	const struct dhcp_host *hosts;
	unsigned int n_hosts;
	uint32_t decline_sec;
	int (*addr_user)(void *ctx, uint32_t ip, uint8_t mac[ETH_ALEN]);
	void (*addr_probe)(void *ctx, uint32_t ip);
	void *ctx;
};

/**
 * struct dhcp_stats - counters of one server.
 * @in:              messages received, by type (index 1..DHCP_MSG_TYPE_MAX)
 * @out:             replies written, by type (OFFER, ACK, NAK: out[DHCP_NAK]
 *                   is the NAK count)
 * @drops:           messages not answered, by enum dhcp_drop
 * @leases_active:   bound leases now (static hosts included)
 * @offers_pending:  addresses held by an offer now
 * @quarantined:     declined addresses in quarantine now
 * @offers_expired:  offers never taken up
 * @leases_expired:  bound leases that ran out
 * @declined:        addresses put in quarantine
 * @released:        leases given back by RELEASE
 * @names_learned:   host names taken from option 12
 * @names_invalid:   option 12 values that are not a valid label (ignored)
 * @names_taken:     option 12 names held by a static host (ignored)
 * @client_id_long:  client identifiers over DHCP_CLIENT_ID_MAX bytes (the
 *                   client is then known by its MAC)
 * @file_loaded:     leases read from the lease file at start
 * @file_bad_lines:  lease file lines ignored (malformed, stale, conflicting)
 * @in_use_skipped:  OFFER candidates skipped (and quarantined): in use by
 *                   another MAC
 * @in_use_nak:      REQUESTs NAKed: the address in use by another MAC
 * @in_use_conflicts: a leased or reserved address seen in use by another
 *                   MAC (dhcp_addr_seen(), or found on a REQUEST)
 * @probes:          addresses probed before an OFFER (cfg->addr_probe)
 */
struct dhcp_stats {
	uint64_t in[DHCP_MSG_TYPE_MAX + 1];
	uint64_t out[DHCP_MSG_TYPE_MAX + 1];
	uint64_t drops[DHCP_DROP_MAX];
	uint64_t leases_active;
	uint64_t offers_pending;
	uint64_t quarantined;
	uint64_t offers_expired;
	uint64_t leases_expired;
	uint64_t declined;
	uint64_t released;
	uint64_t names_learned;
	uint64_t names_invalid;
	uint64_t names_taken;
	uint64_t client_id_long;
	uint64_t file_loaded;
	uint64_t file_bad_lines;
	uint64_t in_use_skipped;
	uint64_t in_use_nak;
	uint64_t in_use_conflicts;
	uint64_t probes;
};

struct dhcp;

/**
 * dhcp_create() - make a server and load its lease file.
 * @out:      the server, or NULL on failure
 * @cfg:      parameters (copied, strings and hosts included)
 * @now:      current monotonic time, ns
 * @wall_sec: current wall-clock time, seconds since the epoch
 *
 * Allocates the lease table (pool size plus static hosts) and its indexes;
 * nothing is allocated later. A missing lease file is an empty one; a
 * corrupt one is read as far as it goes: bad, expired or conflicting lines
 * are logged and ignored (file_bad_lines).
 *
 * Return: 0; -EINVAL for an inconsistent @cfg (prefix length, pool outside
 * the subnet or too large, a static host outside the subnet or on the
 * server, network or broadcast address, two hosts with one MAC or address,
 * an invalid name or domain, a lease time over DHCP_LEASE_SEC_MAX, an MTU
 * below 68, more than DHCP_DNS_MAX servers or DHCP_HOSTS_MAX hosts);
 * -ENAMETOOLONG for a lease file path over PATH_MAX - 16; -ENOMEM; or the
 * error of the random key source.
 */
int dhcp_create(struct dhcp **out, const struct dhcp_cfg *cfg, uint64_t now,
		int64_t wall_sec);

/**
 * dhcp_destroy() - free a server. The lease file is not written: the last
 * dhcp_snapshot() gave its content.
 * @d: server, or NULL
 */
void dhcp_destroy(struct dhcp *d);

/**
 * dhcp_input() - handle one message from a guest and write the reply.
 * @d:     server
 * @frame: the frame (borrowed, not modified); pkt_parse() accepted it as
 *         IPv4/UDP to port 67
 * @m:     its metadata; re-checked, and the message is read through a
 *         bounded cursor over @m's payload all the same
 * @now:   current time, ns
 * @out:   where the reply frame goes (must not overlap @frame)
 * @cap:   bytes available at @out (a reply needs 342 and takes at most
 *         14 + 4 + 576, or what the client's option 57 allows)
 *
 * The reply is a complete Ethernet/IPv4/UDP frame from cfg->server:67 and
 * cfg->server_mac to port 68, with checksums, tagged like @frame if @frame
 * had an 802.1Q tag.
 *
 * Return: the reply's length; 0 if there is nothing to send (RELEASE,
 * DECLINE, a REQUEST for another server, no address to offer, a relayed
 * message); -EINVAL for a malformed message; -ENOSPC if @cap is too small.
 * Each case without a reply is counted in @drops by reason.
 */
int dhcp_input(struct dhcp *d, const uint8_t *frame, const struct pkt_meta *m,
	       uint64_t now, uint8_t *out, size_t cap);

/**
 * dhcp_addr_seen() - a host on the segment uses @ip with @mac (the
 * gateway's ARP table learned it, or its MAC changed).
 * @d:   server
 * @ip:  the address, network order
 * @mac: the MAC using it
 * @now: current time, ns
 *
 * Nothing changes but a log line and a counter when @ip is leased or
 * reserved to another MAC (see "Addresses in use by other hosts"): the
 * decision waits for the holder's next REQUEST, which is NAKed.
 */
void dhcp_addr_seen(struct dhcp *d, uint32_t ip, const uint8_t mac[ETH_ALEN],
		    uint64_t now);

/**
 * dhcp_tick() - periodic work, about every 100 ms.
 * @d:   server
 * @now: current time, ns
 *
 * Ends expired offers, leases and quarantines, DHCP_GC_SLICE slots at a
 * time. The lease file is not written here: see dhcp_snapshot().
 */
void dhcp_tick(struct dhcp *d, uint64_t now);

/**
 * dhcp_snapshot() - the lease file's content, if a bound lease changed
 * since the last snapshot (or the file loaded at start had bad lines).
 * @d:        server
 * @now:      current time, ns
 * @wall_sec: wall-clock time, seconds since the epoch
 * @buf:      where the text goes (not NUL-terminated)
 * @cap:      its size; DHCP_FILE_MAX always suffices
 *
 * Only formats (memory to memory): the caller hands the text to a writer
 * that replaces the file atomically off the packet thread (dp/persist).
 *
 * Return: the text's length; 0 if nothing changed; -ENOSPC if @cap is too
 * small (the change is kept for the next call).
 */
int dhcp_snapshot(struct dhcp *d, uint64_t now, int64_t wall_sec, char *buf,
		  size_t cap);

struct dhcp_leases;

/**
 * dhcp_get_leases() - the lease table, read only (the control socket's
 * `leases`, on the server's thread).
 * @d: server
 *
 * Return: the table.
 */
const struct dhcp_leases *dhcp_get_leases(const struct dhcp *d);

/**
 * dhcp_name_of() - the host name of a guest, for PTR answers.
 * @d:  server
 * @ip: address, network order
 *
 * Return: the bare name (no domain), valid until the next dhcp_input(),
 * dhcp_tick() or dhcp_destroy(); NULL if @ip has no named, bound lease
 * (static hosts with a configured name are always answered).
 */
const char *dhcp_name_of(const struct dhcp *d, uint32_t ip);

/**
 * dhcp_addr_of() - the address of a guest by name, for A answers.
 * @d:    server
 * @name: "NAME" or "NAME.domain" (case-insensitive, final dot allowed)
 * @ip:   filled with the address (network order) on success
 *
 * Return: 0, or -ENOENT.
 */
int dhcp_addr_of(const struct dhcp *d, const char *name, uint32_t *ip);

/**
 * struct dhcp_lease_info - a lease as dhcp_lease_delete() found it.
 * @mac:       the client's MAC
 * @ip:        its address, network order
 * @name:      its host name, "" for none
 * @expires:   the end of the offer or lease (monotonic ns); 0 for a static
 *             host's reservation that is not bound now
 * @state:     DHCP_LS_OFFERED, DHCP_LS_BOUND, or DHCP_LS_FREE (a static
 *             host's unused reservation)
 * @is_static: a --dhcp-host reservation
 */
struct dhcp_lease_info {
	uint8_t mac[ETH_ALEN];
	uint32_t ip;
	char name[DHCP_NAME_MAX + 1];
	uint64_t expires;
	uint8_t state;
	bool is_static;
};

/**
 * dhcp_lease_delete() - end a lease now (dhcp_lease_forget()): the address
 * goes back to the pool and the lease file is rewritten at the next
 * dhcp_snapshot(), as for any change.
 * @d:   server
 * @mac: the client's MAC, or NULL to find the lease by @ip
 * @ip:  its address, network order (when @mac is NULL)
 * @now: current time, ns
 * @out: the lease as it was, or NULL
 *
 * Return: 0, or -ENOENT if no offer or lease that has not ended matches.
 */
int dhcp_lease_delete(struct dhcp *d, const uint8_t *mac, uint32_t ip,
		      uint64_t now, struct dhcp_lease_info *out);

/**
 * dhcp_get_stats() - the server's counters.
 * @d: server
 *
 * Return: a pointer valid until dhcp_destroy().
 */
const struct dhcp_stats *dhcp_get_stats(const struct dhcp *d);

/**
 * dhcp_drop_name() - the short name of a drop reason ("bad_cookie").
 * @r: reason
 *
 * Return: a static string ("?" for a value out of range).
 */
const char *dhcp_drop_name(enum dhcp_drop r);

/**
 * dhcp_parse_host() - parse a --dhcp-host value, "MAC,IP[,NAME]".
 * @spec: e.g. "52:54:00:12:34:56,10.0.2.10,db" (MAC bytes separated by
 *        ':' or '-')
 * @out:  filled on success
 *
 * Only the syntax is checked here (a unicast MAC, a dotted-quad address,
 * a valid label); dhcp_create() checks the address against the subnet.
 *
 * Return: 0, or -EINVAL.
 */
int dhcp_parse_host(const char *spec, struct dhcp_host *out);

#endif /* ARCNAT_SVC_DHCP_H */
