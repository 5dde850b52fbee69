#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""inject_services.py - malformed DHCP and DNS messages for arcnat's gateway
services, for tests/net/services_dhcp.sh and tests/net/services_dns.sh.

Run inside the namespace that holds the TAP (the guest side).

  dhcp --iface tap0 [--rounds N] [--chaddr MAC]
      Writes raw frames on the TAP (Ethernet broadcast, 0.0.0.0:68 ->
      255.255.255.255:67, valid IPv4/UDP lengths and checksums built by
      scapy) whose BOOTP/DHCP message is broken in one way each: truncated
      BOOTP, no magic cookie, a bad magic cookie, an option running past the
      end, a message type option of length 2, no message type, a BOOTREPLY,
      a non-Ethernet htype, a multicast chaddr, a message type a client may
      not send, a bad option 52 (overload) and a relayed message (giaddr).
      arcnat must not answer any of them; each one is a counted drop. Prints
      "expect REASON N" for each drop.dhcp.REASON counter that must rise by
      at least N, then "sent N" and "certainly_invalid N" (all of them).

  dns --server 10.0.2.1 [--wait S]
      Sends broken DNS queries over an ordinary UDP socket to the server
      (port 53): a header cut short, an empty message, a response (QR set),
      QDCOUNT 0, QDCOUNT 2 (one or two questions present), a compression
      pointer loop (to itself; two pointers to each other), a label running
      past the end, a name without its final zero, a question without type
      and class. Each has its own ID. Prints one line per case:
          case NAME expect drop|formerr got noreply|rcode=N[,qr=B,id_ok=B]
      then "sent N", "expect_drop K", "expect_formerr M", "bad_outcomes B"
      (cases whose outcome is not the expected one).
      A drop case is one RFC-wise unanswerable: no readable header, or a
      response (answering responses invites loops); the others must get a
      FORMERR reply with the query's ID (RFC 1035 section 4.1.1).

Exit status 0 when the messages were sent (the caller judges the outcome),
2 on a usage or environment error.
"""
import argparse
import socket
import struct
import sys
import time

from scapy.all import DNS, DNSQR, IP, UDP, Ether, Raw  # noqa: E402

DHCP_MAGIC = b"\x63\x82\x53\x63"


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


# ---- DHCP ---------------------------------------------------------------

def bootp_header(op=1, htype=1, hlen=6, chaddr=b"\x52\x54\x00\xdd\x00\x01",
                 xid=0x5e5e0001, giaddr=b"\0\0\0\0"):
    """The 236-byte BOOTP header, by hand (every field settable)."""
    return (struct.pack("!BBBBIHH", op, htype, hlen, 0, xid, 0, 0x8000) +
            b"\0" * 4 * 3 + giaddr + chaddr.ljust(16, b"\0") +
            b"\0" * 64 + b"\0" * 128)


def opts(*items):
    """Options from (code, bytes) pairs; raw bytes are copied as they are."""
    out = b""
    for it in items:
        if isinstance(it, bytes):
            out += it
        else:
            code, val = it
            out += bytes([code, len(val)]) + val
    return out


def dhcp_cases(chaddr):
    disc = (53, b"\x01")
    end = b"\xff"
    good = bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts(disc, end)
    return [
        # (name, drop reason, BOOTP/DHCP message)
        ("truncated_bootp", "short", good[:100]),
        ("bootp_no_cookie", "short", bootp_header(chaddr=chaddr)),
        ("cookie_cut", "short", bootp_header(chaddr=chaddr) + DHCP_MAGIC[:2]),
        ("bad_magic_cookie", "bad_cookie",
         bootp_header(chaddr=chaddr) + b"\x63\x82\x53\x64" + opts(disc, end)),
        ("option_past_end", "bad_option",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts(disc) + b"\x0c\xc8abc"),
        ("option_len_missing", "bad_option",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts(disc) + b"\x0c"),
        ("msg_type_len_2", "bad_option",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts((53, b"\x01\x01"), end)),
        ("no_msg_type", "no_msg_type",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts((12, b"nomsgtype"), end)),
        ("no_options", "no_msg_type", bootp_header(chaddr=chaddr) + DHCP_MAGIC),
        ("bootreply", "not_request",
         bootp_header(op=2, chaddr=chaddr) + DHCP_MAGIC + opts(disc, end)),
        ("htype_not_ether", "bad_hw",
         bootp_header(htype=6, chaddr=chaddr) + DHCP_MAGIC + opts(disc, end)),
        ("chaddr_multicast", "bad_hw",
         bootp_header(chaddr=b"\x01\x00\x5e\x00\x00\x01") + DHCP_MAGIC + opts(disc, end)),
        ("msg_type_offer", "bad_msg_type",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts((53, b"\x02"), end)),
        ("overload_bad", "bad_overload",
         bootp_header(chaddr=chaddr) + DHCP_MAGIC + opts(disc, (52, b"\x07"), end)),
        ("relayed", "relayed",
         bootp_header(chaddr=chaddr, giaddr=b"\x0a\x00\x02\xfe") + DHCP_MAGIC +
         opts(disc, end)),
    ]


def run_dhcp(a):
    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = f.read().strip()
    chaddr = mac_bytes(a.chaddr)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    sock.bind((a.iface, 0))
    expect = {}
    sent = 0
    for r in range(a.rounds):
        for name, reason, msg in dhcp_cases(chaddr):
            fr = (Ether(dst="ff:ff:ff:ff:ff:ff", src=src_mac) /
                  IP(src="0.0.0.0", dst="255.255.255.255", ttl=64) /
                  UDP(sport=68, dport=67) / Raw(msg))
            sock.send(bytes(fr))
            sent += 1
            expect[reason] = expect.get(reason, 0) + 1
            if r == 0:
                print("case %s drop.dhcp.%s (%d bytes)" % (name, reason, len(msg)))
            time.sleep(0.002)
    for reason in sorted(expect):
        print("expect %s %d" % (reason, expect[reason]))
    print("sent %d" % sent)
    print("certainly_invalid %d" % sent)
    return 0


# ---- DNS ----------------------------------------------------------------

def dns_cases():
    def q(ident, name="svc.test", **kw):
        return bytes(DNS(id=ident, rd=1, qd=DNSQR(qname=name, qtype="A"), **kw))

    def hdr(ident, flags=0x0100, qd=1, an=0, ns=0, ar=0):
        return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)

    base = 0x5100
    cases = []
    i = [0]

    def add(name, expect, msg):
        cases.append((name, expect, base + i[0], msg))
        i[0] += 1

    ident = lambda: base + i[0]  # noqa: E731  the ID the next case gets
    add("header_cut_7", "drop", q(ident())[:7])
    add("header_cut_11", "drop", q(ident())[:11])
    add("empty", "drop", b"")
    m = q(ident())
    add("response_bit", "drop", m[:2] + bytes([m[2] | 0x80]) + m[3:])
    add("response_qd0", "drop", hdr(ident(), flags=0x8180, qd=0))
    add("qdcount_0", "formerr", hdr(ident(), qd=0))
    m = q(ident())
    add("qdcount_2_one_present", "formerr", m[:4] + b"\x00\x02" + m[6:])
    m = q(ident())
    add("qdcount_2_two_present", "formerr",
        m[:4] + b"\x00\x02" + m[6:] + bytes(DNSQR(qname="other.test", qtype="A")))
    add("pointer_loop_self", "formerr", hdr(ident()) + b"\xc0\x0c" + b"\x00\x01\x00\x01")
    add("pointer_loop_pair", "formerr", hdr(ident()) + b"\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01")
    add("pointer_past_end", "formerr", hdr(ident()) + b"\xc0\xff" + b"\x00\x01\x00\x01")
    add("label_past_end", "formerr", hdr(ident()) + b"\x28abc")
    add("label_past_end_2", "formerr", hdr(ident()) + b"\x03svc\x3ftest\x00\x00\x01\x00\x01")
    add("name_no_final_zero", "formerr", hdr(ident()) + b"\x03svc\x04test")
    add("question_no_type", "formerr", hdr(ident()) + b"\x03svc\x04test\x00\x00")
    return cases


def run_dns(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.src, 0))
    cases = dns_cases()
    for name, expect, ident, msg in cases:
        s.sendto(msg, (a.server, 53))
        time.sleep(0.01)
    got = {}
    extra = []
    end = time.monotonic() + a.wait
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d, src = s.recvfrom(65535)
        except socket.timeout:
            break
        except ConnectionRefusedError:
            extra.append("icmp-refused")
            continue
        if len(d) < 12:
            extra.append("short reply %d bytes" % len(d))
            continue
        rid, flags = struct.unpack("!HH", d[:4])
        got.setdefault(rid, []).append((flags, d))
    bad = 0
    n_drop = n_formerr = 0
    for name, expect, ident, msg in cases:
        replies = got.pop(ident, [])
        if expect == "drop":
            n_drop += 1
        else:
            n_formerr += 1
        if not replies:
            outcome = "noreply"
            good = expect == "drop"
        else:
            flags, d = replies[0]
            qr = (flags >> 15) & 1
            rcode = flags & 0xF
            outcome = "rcode=%d,qr=%d,replies=%d" % (rcode, qr, len(replies))
            good = expect == "formerr" and rcode == 1 and qr == 1 and len(replies) == 1
        if not good:
            bad += 1
        print("case %s expect %s got %s%s (%d bytes)" %
              (name, expect, outcome, "" if good else "  <-- unexpected", len(msg)))
    for rid in sorted(got):
        bad += 1
        print("unexpected reply with id 0x%04x" % rid)
    for e in extra:
        print("unexpected: %s" % e)
    print("sent %d" % len(cases))
    print("expect_drop %d" % n_drop)
    print("expect_formerr %d" % n_formerr)
    print("bad_outcomes %d" % bad)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dhcp")
    d.add_argument("--iface", required=True)
    d.add_argument("--rounds", type=int, default=2)
    d.add_argument("--chaddr", default="52:54:00:dd:00:01")
    n = sub.add_parser("dns")
    n.add_argument("--server", default="10.0.2.1")
    n.add_argument("--src", default="0.0.0.0")
    n.add_argument("--wait", type=float, default=1.5)
    a = p.parse_args()
    if not 1 <= getattr(a, "rounds", 1) <= 50 or not 0 < getattr(a, "wait", 1) <= 10:
        print("bad --rounds or --wait", file=sys.stderr)
        return 2
    sys.stdout.reconfigure(line_buffering=True)
    return run_dhcp(a) if a.mode == "dhcp" else run_dns(a)


if __name__ == "__main__":
    sys.exit(main())
