#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""inject_malformed.py - write malformed Ethernet frames on a TAP device,
addressed to arcnat's gateway MAC, for tests/net/gateway_malformed.sh.

Run inside the namespace that holds the TAP (the guest side); arcnat reads
what is written here as frames from a guest. Every frame goes to the gateway
MAC; IP destinations are inside the test's own namespaces (198.51.100.0/24).

Frames are built with scapy (valid layers) and then broken on purpose, one
defect each. A frame is "certainly invalid" when arcnat's pipeline must drop
it whatever else happens: the parser refuses it (src/pkt/parse.c rules), or
the NAT must (a non-first fragment with no first fragment seen). The count
of those that were actually written is printed last as

    certainly_invalid N

and the caller requires drops.total to rise by at least N. Frames that may
legitimately be forwarded (overlapping fragments of a real flow, random
non-IPv4 EtherTypes) are sent too but not counted.

Writes are paced (a short sleep every few frames) so that the TAP queue
(1000 frames) never overflows while arcnat reads.
"""
import argparse
import random
import socket
import struct
import sys
import time

from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

ETH_P_IP = 0x0800


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Injector:
    def __init__(self, iface, dst_mac, src_ip, dst_ip, pace):
        self.iface = iface
        with open("/sys/class/net/%s/address" % iface) as f:
            self.src_mac = f.read().strip()
        self.dst_mac = dst_mac
        self.src_ip = src_ip
        self.dst_ip = dst_ip
        self.pace = pace
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((iface, 0))
        self.sent = 0
        self.certain = 0
        self.refused = 0
        self.cats = {}
        self.ident = 0x4000

    def eth(self, ethertype=ETH_P_IP):
        return bytes(Ether(dst=self.dst_mac, src=self.src_mac, type=ethertype))

    def next_id(self):
        self.ident = (self.ident + 1) & 0xFFFF
        return self.ident

    def ip4(self, proto, payload, ihl=5, tot=None, ver=4, frag=0, ident=None,
            opts=b"", good_csum=True, dst=None):
        """An IPv4 header by hand (every field settable) + payload."""
        if ident is None:
            ident = self.next_id()
        hlen = ihl * 4
        if tot is None:
            tot = 20 + len(opts) + len(payload)
        src = socket.inet_aton(self.src_ip)
        dst = socket.inet_aton(dst or self.dst_ip)
        hdr = struct.pack("!BBHHHBBH4s4s", (ver << 4) | (ihl & 0xF), 0,
                          tot & 0xFFFF, ident, frag, 64, proto, 0, src, dst)
        hdr += opts
        c = csum(hdr[:min(max(hlen, 20), len(hdr))])
        if not good_csum:
            c ^= 0x5A5A  # wrong for sure
        hdr = hdr[:10] + struct.pack("!H", c) + hdr[12:]
        return hdr + payload

    def l4(self, layer):
        """Bytes of a valid L4 header+payload (checksums over our addresses)."""
        pkt = IP(src=self.src_ip, dst=self.dst_ip) / layer
        return bytes(pkt)[20:]

    def send(self, cat, frame, certain=True):
        try:
            self.sock.send(frame)
        except OSError as e:
            self.refused += 1
            self.cats.setdefault(cat, [0, 0, 0])[2] += 1
            if self.refused <= 3:
                print("note: kernel refused a %d-byte frame (%s): %s"
                      % (len(frame), cat, e.strerror), flush=True)
            return
        self.sent += 1
        c = self.cats.setdefault(cat, [0, 0, 0])
        c[0] += 1
        if certain:
            self.certain += 1
            c[1] += 1
        if self.sent % 16 == 0:
            time.sleep(self.pace)


def ip4_header_invalid(b):
    """The parser's IPv4 checks in order (version, IHL, truncation, total
    length, header checksum): True if @b (bytes after Ethernet) fails one."""
    if len(b) < 20:
        return True
    if b[0] >> 4 != 4:
        return True
    hlen = (b[0] & 0xF) * 4
    if hlen < 20 or hlen > len(b):
        return True
    tot = struct.unpack("!H", b[2:4])[0]
    if tot < hlen or tot > len(b):
        return True
    return csum(b[:hlen]) != 0


def build_all(ij, n_random, seed):
    E = ij.eth()
    P_TCP, P_UDP, P_ICMP = 6, 17, 1
    udp_ok = ij.l4(UDP(sport=40123, dport=7009) / Raw(b"x" * 32))
    tcp_ok = ij.l4(TCP(sport=40124, dport=7009, flags="S", seq=1000))

    # Ethernet header cut short: the kernel refuses these on a packet socket
    # (below the 14-byte hard header); counted only if it lets one through.
    for n in (1, 6, 13):
        ij.send("eth_truncated", E[:n])

    # IPv4 header cut short
    good = ij.ip4(P_UDP, udp_ok)
    for n in (0, 1, 10, 19):
        ij.send("ip4_truncated", E + good[:n])
    # IHL beyond the packet (60-byte header claimed, 24 bytes present)
    ij.send("ip4_ihl_beyond", E + ij.ip4(P_UDP, b"", ihl=15, tot=60)[:20] + b"\0" * 4)
    ij.send("ip4_ihl_beyond", E + ij.ip4(P_TCP, b"", ihl=6, tot=24)[:20])
    # bad version under the IPv4 EtherType
    for v in (0, 5, 6, 15):
        ij.send("ip4_bad_version", E + ij.ip4(P_UDP, udp_ok, ver=v))
    # IHL below 5
    for ihl in range(0, 5):
        ij.send("ip4_bad_ihl", E + ij.ip4(P_UDP, udp_ok, ihl=ihl))
    # total length beyond the frame, and below the header
    for tot in (len(good) + 1, 1000, 65535):
        ij.send("ip4_totlen_beyond", E + ij.ip4(P_UDP, udp_ok, tot=tot))
    for tot in (0, 10, 19):
        ij.send("ip4_totlen_short", E + ij.ip4(P_UDP, udp_ok, tot=tot))
    # header checksum wrong
    for _ in range(3):
        ij.send("ip4_bad_csum", E + ij.ip4(P_UDP, udp_ok, good_csum=False))
    # option length running past the header (record route, length 9 in 4 bytes)
    ij.send("ip4_bad_option", E + ij.ip4(P_UDP, udp_ok, ihl=6, opts=b"\x07\x09\x04\x00"))
    ij.send("ip4_bad_option", E + ij.ip4(P_UDP, udp_ok, ihl=6, opts=b"\x44\x01\x00\x00"))

    # TCP header cut short / data offset wrong
    for n in (0, 8, 19):
        ij.send("tcp_truncated", E + ij.ip4(P_TCP, tcp_ok[:n]))
    for doff in range(0, 5):
        t = bytearray(tcp_ok)
        t[12] = (doff << 4) | (t[12] & 0xF)
        ij.send("tcp_bad_doff", E + ij.ip4(P_TCP, bytes(t)))
    t = bytearray(tcp_ok)
    t[12] = (15 << 4) | (t[12] & 0xF)
    ij.send("tcp_doff_beyond", E + ij.ip4(P_TCP, bytes(t)))

    # UDP header cut short / length field wrong (below 8, beyond the datagram)
    for n in (0, 4, 7):
        ij.send("udp_truncated", E + ij.ip4(P_UDP, udp_ok[:n]))
    for ulen in (0, 4, 7, len(udp_ok) + 1, 4000):
        u = bytearray(udp_ok)
        u[4:6] = struct.pack("!H", ulen)
        ij.send("udp_bad_len", E + ij.ip4(P_UDP, bytes(u)))

    # ICMP header cut short; ICMP errors with a bad quote
    for n in (0, 3, 7):
        echo = ij.l4(ICMP(type=8, id=0x77, seq=1) / Raw(b"p" * 8))
        ij.send("icmp_truncated", E + ij.ip4(P_ICMP, echo[:n]))
    quote = ij.ip4(P_UDP, udp_ok)
    for n in (0, 8, 19):
        err = bytes(ICMP(type=3, code=3) / Raw(quote[:n]))
        ij.send("icmp_inner_truncated", E + ij.ip4(P_ICMP, err))
    badq = bytearray(quote)
    badq[0] = 0x55
    ij.send("icmp_inner_bad", E + ij.ip4(P_ICMP, bytes(ICMP(type=3, code=3) / Raw(bytes(badq)))))
    inner_err = ij.ip4(P_ICMP, bytes(ICMP(type=3, code=1) / Raw(quote[:28])))
    ij.send("icmp_nested_error",
            E + ij.ip4(P_ICMP, bytes(ICMP(type=11, code=0) / Raw(inner_err[:28]))))

    # tiny first fragments (MF, offset 0, L4 header incomplete)
    MF = 0x2000
    ij.send("frag_tiny", E + ij.ip4(P_TCP, tcp_ok[:8], frag=MF))
    ij.send("frag_tiny", E + ij.ip4(P_TCP, tcp_ok[:16], frag=MF))
    ij.send("frag_tiny", E + ij.ip4(P_UDP, udp_ok[:4], frag=MF))
    ij.send("frag_tiny", E + ij.ip4(P_ICMP, b"\x08\x00", frag=MF))
    # a TCP fragment at offset 8 (overlapping the TCP header's flags)
    ij.send("frag_overlap_l4", E + ij.ip4(P_TCP, b"\x02" * 24, frag=1))
    ij.send("frag_overlap_l4", E + ij.ip4(P_TCP, b"\x12" * 16, frag=MF | 1))
    # overlapping non-first fragments of a datagram whose first fragment was
    # never seen: nothing to match them to (frag_no_flow)
    for _ in range(3):
        i = ij.next_id()
        ij.send("frag_no_flow", E + ij.ip4(P_UDP, b"a" * 24, frag=MF | 2, ident=i))
        ij.send("frag_no_flow", E + ij.ip4(P_UDP, b"b" * 24, frag=MF | 3, ident=i))
        ij.send("frag_no_flow", E + ij.ip4(P_UDP, b"c" * 8, frag=4, ident=i))
    # overlapping fragments after a valid first fragment: arcnat may forward
    # them (it does not reassemble); the outside kernel throws them away.
    # Not counted.
    i = ij.next_id()
    big = ij.l4(UDP(sport=40125, dport=7009) / Raw(b"F" * 64))
    ij.send("frag_overlap_flow", E + ij.ip4(P_UDP, big[:32], frag=MF, ident=i), certain=False)
    ij.send("frag_overlap_flow", E + ij.ip4(P_UDP, big[16:48], frag=MF | 2, ident=i), certain=False)
    ij.send("frag_overlap_flow", E + ij.ip4(P_UDP, big[24:], frag=3, ident=i), certain=False)

    # random frames, fixed seed
    rnd = random.Random(seed)
    for k in range(n_random):
        kind = rnd.random()
        n = rnd.randint(0, 300)
        body = bytearray(rnd.getrandbits(8) for _ in range(n))
        if kind < 0.4:
            # IPv4 EtherType, random bytes
            b = bytes(body)
            if not ip4_header_invalid(b):
                b = b[:10] + bytes([b[10] ^ 0xFF]) + b[11:]  # make sure
            ij.send("random_ip4", E + b, certain=ip4_header_invalid(b))
        elif kind < 0.8:
            # plausible start (version 4, IHL 5..15), random rest, often a
            # correct checksum so that the later checks are reached
            if n < 20:
                body += bytes(20 - n)
            body[0] = 0x40 | rnd.randint(5, 15)
            hlen = (body[0] & 0xF) * 4
            if rnd.random() < 0.5:
                body[2:4] = struct.pack("!H", rnd.randint(0, len(body)))
            if rnd.random() < 0.7 and hlen <= len(body):
                body[10:12] = b"\0\0"
                body[10:12] = struct.pack("!H", csum(bytes(body[:hlen])))
            b = bytes(body)
            if ip4_header_invalid(b):
                ij.send("random_ip4_hdr", E + b)
            else:
                # a header that passes: the rest is random L4, which the
                # parser or the NAT may or may not refuse; keep it from
                # reaching anything by making it fail after all
                b = b[:10] + bytes([b[10] ^ 0xFF]) + b[11:]
                ij.send("random_ip4_hdr", E + b, certain=ip4_header_invalid(b))
        else:
            # another EtherType (not IPv4, ARP, IPv6 or VLAN, whose random
            # contents could be taken as real): dropped or ignored, not counted
            while True:
                et = rnd.getrandbits(16)
                if et not in (0x0800, 0x0806, 0x86DD, 0x8100, 0x88A8):
                    break
            ij.send("random_other", ij.eth(et) + bytes(body), certain=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iface", default="tap0")
    ap.add_argument("--dst-mac", default="02:ab:cd:00:00:01")
    ap.add_argument("--src-ip", default="10.0.2.2")
    ap.add_argument("--dst-ip", default="198.51.100.1")
    ap.add_argument("--random", type=int, default=500, help="random frames")
    ap.add_argument("--seed", type=int, default=4787)
    ap.add_argument("--pace", type=float, default=0.002,
                    help="seconds of sleep after every 16 frames")
    a = ap.parse_args()
    ij = Injector(a.iface, a.dst_mac, a.src_ip, a.dst_ip, a.pace)
    build_all(ij, a.random, a.seed)
    for cat, (sent, certain, refused) in ij.cats.items():
        print("%-22s sent %4d  certainly invalid %4d  refused by the kernel %d"
              % (cat, sent, certain, refused))
    print("sent %d" % ij.sent)
    print("refused_by_kernel %d" % ij.refused)
    print("certainly_invalid %d" % ij.certain, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
