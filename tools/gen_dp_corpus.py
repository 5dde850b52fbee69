#!/usr/bin/python3
"""Seed corpus for fuzz/fuzz_dp.c (record format at the top of that file).
Run with /usr/bin/python3: Debian's python3-scapy is not on other interpreters.

Writes fuzz/corpus/dp/*: realistic conversations (ARP for the gateway, ping
the gateway, UDP and TCP out and their replies, a port forward that needs
ARP for the guest, GSO metadata, two guests on two ports through the
switch) for the fuzzer to mutate. Needs scapy.
"""
import os
import struct
import sys

from scapy.all import ARP, BOOTP, DHCP, DNS, DNSQR, DNSRR, ICMP, IP, TCP, UDP, Ether, raw  # noqa: E402

GW_MAC = "02:ab:cd:00:00:01"
G_MAC = "52:54:00:12:34:56"
G2_MAC = "52:54:00:12:34:99"
GW, G, G2, EXT, R = "10.0.2.1", "10.0.2.2", "10.0.2.3", "203.0.113.1", "198.51.100.1"


def rec(frame, outside=False, vnet=None, step=0, tick=False, port2=False):
    ctl = (1 if outside else 0) | (2 if vnet else 0) | (step << 2) | (0x20 if tick else 0) | (0x40 if port2 else 0)
    body = raw(frame)
    out = struct.pack("<BH", ctl, len(body))
    if vnet:
        out += struct.pack("<BBHHHH", *vnet)
    return out + body


def eth(p, src=G_MAC):
    return Ether(dst=GW_MAC, src=src) / p


def arp_req(mac=G_MAC, ip=G):
    return Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) / ARP(op=1, hwsrc=mac, psrc=ip, pdst=GW)


def seeds():
    yield "arp_ping", rec(arp_req()) + rec(eth(IP(src=G, dst=GW) / ICMP(id=7, seq=1) / b"ping"))
    yield "udp_out_reply", (
        rec(arp_req())
        + rec(eth(IP(src=G, dst=R) / UDP(sport=40000, dport=7) / b"hello"))
        + rec(IP(src=R, dst=EXT) / UDP(sport=7, dport=40000) / b"world", outside=True, step=1)
    )
    yield "tcp_gso", (
        rec(arp_req())
        + rec(eth(IP(src=G, dst=R) / TCP(sport=40001, dport=80, flags="S", seq=1000)))
        + rec(IP(src=R, dst=EXT) / TCP(sport=80, dport=40000, flags="SA", seq=5, ack=1001), outside=True)
        + rec(eth(IP(src=G, dst=R) / TCP(sport=40001, dport=80, flags="A", seq=1001, ack=6) / (b"x" * 1400)),
              vnet=(1, 1, 14 + 20 + 20, 1448, 34, 16, ))
    )
    yield "forward_arp", (
        rec(IP(src=R, dst=EXT) / UDP(sport=1234, dport=5353) / b"query", outside=True)
        + rec(Ether(dst=GW_MAC, src=G2_MAC) / ARP(op=2, hwsrc=G2_MAC, psrc=G2, hwdst=GW_MAC, pdst=GW))
        + rec(eth(IP(src=G2, dst=R) / UDP(sport=53, dport=1234) / b"answer", src=G2_MAC), tick=True)
    )
    yield "hairpin", (
        rec(arp_req()) + rec(arp_req(G2_MAC, G2))
        + rec(eth(IP(src=G, dst=EXT) / UDP(sport=999, dport=5353) / b"hp"))
        + rec(eth(IP(src=G, dst=EXT) / ICMP(id=9) / b"x"))
    )
    # two guests on two ports: ARP between them (broadcast, then the answer
    # switched), a ping switched both ways, one routed through the gateway,
    # a MAC that moves to the other port, and a frame for an unknown MAC
    yield "two_guests", (
        rec(Ether(dst="ff:ff:ff:ff:ff:ff", src=G_MAC) / ARP(op=1, hwsrc=G_MAC, psrc=G, pdst=G2))
        + rec(Ether(dst=G_MAC, src=G2_MAC) / ARP(op=2, hwsrc=G2_MAC, psrc=G2, hwdst=G_MAC, pdst=G), port2=True)
        + rec(Ether(dst=G2_MAC, src=G_MAC) / IP(src=G, dst=G2) / ICMP(id=5, seq=1) / b"hi")
        + rec(Ether(dst=G_MAC, src=G2_MAC) / IP(src=G2, dst=G) / ICMP(type=0, id=5, seq=1) / b"hi", port2=True)
        + rec(eth(IP(src=G, dst=G2) / UDP(sport=4000, dport=4001) / b"routed"))
        + rec(Ether(dst="52:54:00:00:00:77", src=G_MAC, type=0x88b5) / b"unknown", port2=True)
        + rec(Ether(dst=G_MAC, src=G2_MAC) / b"short", step=7, tick=True)
    )
    yield "expiry", (
        rec(arp_req())
        + rec(eth(IP(src=G, dst=R) / UDP(sport=41000, dport=9) / b"a"))
        + rec(IP(src=R, dst=EXT) / UDP(sport=9, dport=40000) / b"b", outside=True, step=7, tick=True)
    )



def isolated():
    """fuzz_dp turns --isolate on by bit 5 of the input's length ((size / 32)
    % 2): two guests whose broadcast, unicast and routed frames must not
    reach each other. The ping's data makes the length fit (no MTU step)."""
    for k in range(64):
        data = (
            rec(Ether(dst=GW_MAC, src=G2_MAC) / ARP(op=2, hwsrc=G2_MAC, psrc=G2, hwdst=GW_MAC, pdst=GW), port2=True)
            + rec(Ether(dst="ff:ff:ff:ff:ff:ff", src=G_MAC) / ARP(op=1, hwsrc=G_MAC, psrc=G, pdst=G2))
            + rec(Ether(dst=G2_MAC, src=G_MAC) / IP(src=G, dst=G2) / ICMP(id=5, seq=1) / (b"i" * k))
            + rec(eth(IP(src=G, dst=G2) / UDP(sport=4000, dport=4001) / b"routed"))
            + rec(Ether(dst="52:54:00:00:00:77", src=G2_MAC, type=0x88b5) / b"unknown", port2=True)
        )
        if (len(data) // 32) % 2 and len(data) % 4 == 0:
            yield "two_guests_isolated", data
            return


def mtu_pad(data, want):
    """fuzz_dp picks the ports' MTUs by the input's length modulo 4:
    pad with 0-3 bytes (too few for a record) to get configuration @want."""
    return data + b"\0" * ((want - len(data)) % 4)


def mtu():
    big = bytes((i * 7 + 3) & 0xFF for i in range(4000))
    # guests at 9000, uplink at 1500: DF gets ICMP, no DF is fragmented,
    # TSO (DF) gets ICMP, TSO without DF a smaller gso_size
    yield "mtu_out", mtu_pad(
        rec(arp_req())
        + rec(eth(IP(src=G, dst=R, flags="DF", id=1) / UDP(sport=40000, dport=7) / big))
        + rec(eth(IP(src=G, dst=R, id=2) / UDP(sport=40000, dport=7) / big))
        + rec(eth(IP(src=G, dst=R) / TCP(sport=40001, dport=80, flags="S", seq=1000)))
        + rec(IP(src=R, dst=EXT) / TCP(sport=80, dport=40001, flags="SA", seq=5, ack=1001), outside=True)
        + rec(eth(IP(src=G, dst=R, flags="DF") / TCP(sport=40001, dport=80, flags="A", seq=1001, ack=6) / big),
              vnet=(1, 1, 14 + 20 + 20, 3000, 34, 16))
        + rec(eth(IP(src=G, dst=R) / TCP(sport=40001, dport=80, flags="A", seq=5001, ack=6) / big),
              vnet=(1, 1, 14 + 20 + 20, 3000, 34, 16)), 1)
    # guests at 1500, uplink at 9000: the forward to 10.0.2.3:53, with and without DF
    yield "mtu_in", mtu_pad(
        rec(Ether(dst=GW_MAC, src=G2_MAC) / ARP(op=2, hwsrc=G2_MAC, psrc=G2, hwdst=GW_MAC, pdst=GW))
        + rec(IP(src=R, dst=EXT, flags="DF") / UDP(sport=1234, dport=5353) / big, outside=True)
        + rec(IP(src=R, dst=EXT, flags="MF", id=9) / UDP(sport=1234, dport=5353) / big, outside=True), 2)


def services():
    mac = bytes.fromhex("525400123456")
    disc = (Ether(dst="ff:ff:ff:ff:ff:ff", src=G_MAC) / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67) / BOOTP(chaddr=mac, xid=0x1234, flags=0x8000)
            / DHCP(options=[("message-type", "discover"), ("hostname", b"guest1"), "end"]))
    req = (Ether(dst="ff:ff:ff:ff:ff:ff", src=G_MAC) / IP(src="0.0.0.0", dst="255.255.255.255")
           / UDP(sport=68, dport=67) / BOOTP(chaddr=mac, xid=0x1234)
           / DHCP(options=[("message-type", "request"), ("server_id", GW), ("requested_addr", "10.0.2.2"), "end"]))
    yield "dhcp", rec(disc) + rec(req)
    q = eth(IP(src=G, dst=GW) / UDP(sport=5555, dport=53) / DNS(id=7, rd=1, qd=DNSQR(qname="svc.test")))
    a = (IP(src="198.51.100.1", dst=EXT) / UDP(sport=53, dport=49151)
         / DNS(id=0, qr=1, ra=1, qd=DNSQR(qname="svc.test"), an=DNSRR(rrname="svc.test", rdata="198.51.100.77", ttl=60)))
    local = eth(IP(src=G, dst=GW) / UDP(sport=5556, dport=53) / DNS(id=8, rd=1, qd=DNSQR(qname="gateway.arcnat.internal")))
    tcp = eth(IP(src=G, dst=GW) / TCP(sport=40100, dport=53, flags="S", seq=1))
    yield "dns", rec(arp_req()) + rec(q) + rec(a, outside=True) + rec(q, step=1) + rec(local) + rec(tcp)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/dp"
    os.makedirs(out, exist_ok=True)
    for name, data in list(seeds()) + list(isolated()) + list(mtu()) + list(services()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"gen_dp_corpus: wrote {out}")


if __name__ == "__main__":
    main()
