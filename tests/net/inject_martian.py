#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""inject_martian.py - write UDP frames with martian addresses on an
interface, for tests/net/gateway_martian.sh.

Run inside the namespace that holds the interface (the guest's TAP, or the
outside end of the uplink's veth). Each CASE is REASON:SRC:DST; every
frame goes to --dst-mac, UDP from port 40000 to port 9 (discard), COUNT
times per case. Nothing here leaves the test's namespaces: the frames go
to arcnat, which must drop them. Prints "sent REASON N" per case.

With --dhcp-discover MAC, also writes one DHCPDISCOVER from 0.0.0.0:68 to
255.255.255.255:67 with that client MAC: the services must answer it
although both its addresses are martian.
"""
import argparse
import socket
import sys

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, Raw  # noqa: E402


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iface", required=True)
    ap.add_argument("--dst-mac", required=True)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--dhcp-discover", metavar="MAC")
    ap.add_argument("cases", nargs="*", metavar="REASON:SRC:DST")
    a = ap.parse_args()

    with open("/sys/class/net/%s/address" % a.iface) as f:
        src_mac = f.read().strip()
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    sent = {}
    for case in a.cases:
        reason, src, dst = case.split(":")
        for i in range(a.count):
            f = (Ether(dst=a.dst_mac, src=src_mac) /
                 IP(src=src, dst=dst, ttl=64) /
                 UDP(sport=40000, dport=9) / Raw(b"martian %s %d" % (reason.encode(), i)))
            s.send(bytes(f))
            sent[reason] = sent.get(reason, 0) + 1
    if a.dhcp_discover:
        f = (Ether(dst="ff:ff:ff:ff:ff:ff", src=a.dhcp_discover) /
             IP(src="0.0.0.0", dst="255.255.255.255") /
             UDP(sport=68, dport=67) /
             BOOTP(chaddr=mac_bytes(a.dhcp_discover), xid=0x4d415254, flags=0x8000) /
             DHCP(options=[("message-type", "discover"), "end"]))
        s.send(bytes(f))
        print("sent dhcp_discover 1")
    for reason, n in sent.items():
        print("sent %s %d" % (reason, n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
