#!/usr/bin/python3
"""Seed corpus for fuzz/fuzz_frag.c: 2 bytes little-endian MTU, then an IPv4
packet. Writes fuzz/corpus/frag/*: a UDP datagram for 576, a packet with a
copied and a non-copied option, a fragment at an offset with MF, a TCP
segment for the smallest MTU. Needs scapy (Debian's /usr/bin/python3)."""
import os
import struct
import sys

from scapy.all import IP, TCP, UDP, IPOption_Router_Alert, IPOption_RR, raw  # noqa: E402

P = bytes((i * 7 + 3) & 0xFF for i in range(4000))
SRC, DST = "10.0.2.2", "198.51.100.1"


def seeds():
    yield "udp_576", 576, IP(src=SRC, dst=DST, id=1) / UDP(sport=4000, dport=7) / P[:1400]
    yield "options", 100, IP(src=SRC, dst=DST, id=2, options=[IPOption_RR(), IPOption_Router_Alert()]) / P[:300]
    yield "later_mf", 1500, IP(src=SRC, dst=DST, id=3, flags="MF", frag=100, proto=17) / P[:4000]
    yield "tcp_68", 68, IP(src=SRC, dst=DST, id=4) / TCP(sport=4000, dport=80, flags="A") / P[:200]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/frag"
    os.makedirs(out, exist_ok=True)
    for name, mtu, pkt in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(struct.pack("<H", mtu) + raw(pkt))
    print(f"gen_frag_corpus: wrote {out}")


if __name__ == "__main__":
    main()
