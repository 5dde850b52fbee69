#!/usr/bin/python3
"""Seed corpus for fuzz/fuzz_dhcp.c (input format at the top of that file).

Writes fuzz/corpus/dhcp/*: whole conversations (DISCOVER/OFFER/REQUEST/ACK,
renewal, release, decline and quarantine, INIT-REBOOT, INFORM, static hosts,
pool exhaustion, expiry, name lookups, addresses other hosts use) and
malformed messages (short, bad
cookie, an option past the end, no message type, option overload loops),
for the fuzzer to mutate. Plain struct packing, no scapy.

    /usr/bin/python3 tools/gen_dhcp_corpus.py fuzz/corpus/dhcp
"""
import os
import struct
import sys

# Record kinds and time steps (indexes into steps[] in fuzz_dhcp.c).
RAW, TEMPLATE, TICK, LOOKUP = 0, 1, 2, 3
S0, S1MS, S100MS, S1, S30, S61, S601, S3601 = range(8)

# Message types.
DISCOVER, REQUEST, DECLINE, RELEASE, INFORM = 1, 3, 4, 7, 8

# Template pools (indexes into addrs[] and names[] in fuzz_dhcp.c).
A_NONE, A_2, A_3, A_4, A_77, A_GW, A_200, A_FOREIGN = range(8)
SID_NONE, SID_OURS, SID_OTHER = 0, 1, 2


def header(pool=3, static=False, short_lease=False, short_decline=False, no_mtu=False, start=10,
           segment=False):
    h0 = pool | (4 if static else 0) | (8 if short_lease else 0)
    h0 |= (16 if short_decline else 0) | (32 if no_mtu else 0) | (64 if segment else 0)
    return bytes([h0, start])


def ctl(kind, step=S0, extra=0):
    return bytes([kind | step << 2 | extra << 5])


def tmpl(mtype, client=0, req=A_NONE, sid=SID_NONE, ciaddr=A_NONE, cid=True, name=None,
         bcast=False, mms=False, overload=False, small_cap=0, xid=1, vlan=False, step=S0):
    """A kind 1 record: a well-formed message from the template pools."""
    t0 = mtype | (0x10 if bcast else 0) | (0x20 if cid else 0) | (0x40 if name is not None else 0)
    t0 |= 0x80 if mms else 0
    t1 = client | req << 3 | sid << 6
    t2 = ciaddr | (name or 0) << 3 | (0x40 if overload else 0) | (0x80 if small_cap else 0)
    t3 = (xid << 1 | (1 if vlan else 0)) & 0xff
    return ctl(TEMPLATE, step, small_cap) + bytes([t0, t1, t2, t3])


def raw(payload, src=0, vlan=False, step=S0):
    """A kind 0 record: these bytes as the UDP payload."""
    return ctl(RAW, step, src | (4 if vlan else 0)) + struct.pack("<H", len(payload)) + payload


def tick(n=1, step=S0):
    return ctl(TICK, step, n - 1)


def lookup(addr, name):
    return ctl(LOOKUP) + bytes([addr | name << 3])


def seg(addr, mac, used=True, step=S0):
    """A kind 3 segment event: addrs[addr] used by macs[mac] (or by nobody)."""
    return ctl(LOOKUP, step, 1) + bytes([addr | mac << 3 | (0x40 if used else 0)])


def bootp(mtype=DISCOVER, mac=b"\x52\x54\x00\x00\x00\x01", xid=0x1234, flags=0, ciaddr=b"\0" * 4,
          opts=b"", op=1, htype=1, hlen=6, cookie=b"\x63\x82\x53\x63", sname=b"", file=b"", end=True, pad=True):
    """A BOOTP/DHCP message, byte by byte (RFC 2131 section 2)."""
    hdr = struct.pack("!BBBBIHH4s4s4s4s16s64s128s", op, htype, hlen, 0, xid, 0, flags, ciaddr,
                      b"\0" * 4, b"\0" * 4, b"\0" * 4, mac, sname, file)
    body = b""
    if mtype:
        body += bytes([53, 1, mtype])
    body += opts
    if end:
        body += b"\xff"
    msg = hdr + cookie + body
    if pad and len(msg) < 300:
        msg += b"\0" * (300 - len(msg))
    return msg


def opt(code, value):
    return bytes([code, len(value)]) + value


def ip(a, b, c, d):
    return bytes([a, b, c, d])


def lease(client=0, addr=A_2, name=None, cid=True):
    """DISCOVER then REQUEST (SELECTING) for the address the server offers first."""
    return (tmpl(DISCOVER, client, cid=cid, name=name)
            + tmpl(REQUEST, client, req=addr, sid=SID_OURS, cid=cid, name=name, xid=2))


def seeds():
    full_opts = (opt(61, b"\x01\x52\x54\x00\x00\x00\x01") + opt(12, b"guest")
                 + opt(55, bytes([1, 3, 6, 12, 15, 26, 28, 119])) + opt(57, b"\x05\xdc")
                 + opt(60, b"arcnat-test"))
    yield "exchange", header() + lease(name=0) + lookup(A_2, 0) + tick()
    yield "raw_exchange", (header()
                           + raw(bootp(DISCOVER, opts=full_opts))
                           + raw(bootp(REQUEST, opts=full_opts + opt(50, ip(10, 0, 2, 2))
                                       + opt(54, ip(10, 0, 2, 1))))
                           + lookup(A_2, 0))
    yield "broadcast_vlan", header() + tmpl(DISCOVER, bcast=True, vlan=True) + tmpl(
        REQUEST, req=A_2, sid=SID_OURS, bcast=True, xid=3)
    yield "renew_release", (header() + lease(name=3)
                            + tmpl(REQUEST, ciaddr=A_2, step=S601, xid=4)
                            + tmpl(RELEASE, ciaddr=A_2, sid=SID_OURS, xid=5)
                            + lookup(A_2, 3) + lease(client=1, addr=A_3))
    yield "decline_quarantine", (header(pool=0, short_decline=True) + lease()
                                 + tmpl(DECLINE, req=A_2, sid=SID_OURS, xid=6)
                                 + tmpl(DISCOVER, client=1, xid=7)
                                 + tick(step=S30) + tmpl(DISCOVER, client=1, xid=8))
    yield "other_server", header() + tmpl(DISCOVER) + tmpl(REQUEST, req=A_2, sid=SID_OTHER) + tmpl(
        REQUEST, req=A_2, sid=SID_OURS)
    yield "init_reboot", (header() + lease()
                          + tmpl(REQUEST, req=A_FOREIGN, xid=9) + tmpl(REQUEST, req=A_77, xid=10)
                          + tmpl(REQUEST, client=1, req=A_2, xid=11)
                          + tmpl(REQUEST, client=2, req=A_4, cid=False, xid=12)
                          + tmpl(REQUEST, client=3, req=A_GW, xid=13))
    yield "inform", header() + tmpl(INFORM, ciaddr=A_77) + tmpl(INFORM, ciaddr=A_FOREIGN) + raw(
        bootp(INFORM), src=2)
    yield "static_hosts", (header(pool=2, static=True) + lease(client=6, addr=A_3)
                           + lease(client=7, addr=A_200) + tmpl(REQUEST, client=0, req=A_3, xid=14)
                           + tmpl(DISCOVER, client=1, name=1) + lookup(A_3, 1) + lookup(A_200, 7))
    yield "exhaust_expire", (header(pool=1, short_lease=True) + lease(0) + lease(1, A_3)
                             + tmpl(DISCOVER, client=2) + tick(step=S61) + tmpl(DISCOVER, client=2)
                             + tmpl(DISCOVER, client=3) + tick(8, step=S3601))
    yield "names", (header(short_lease=True) + lease(0, name=0) + lease(1, A_3, name=2)
                    + lease(2, A_4, name=4) + lookup(A_2, 0) + lookup(A_3, 2)
                    + tmpl(REQUEST, client=0, ciaddr=A_2, name=3, xid=15) + tick(step=S61) + lookup(A_2, 0))
    yield "small_buffer", header() + tmpl(DISCOVER, small_cap=1, mms=True) + tmpl(
        DISCOVER, client=1, small_cap=7)
    yield "overload", (header() + tmpl(DISCOVER, overload=True)
                       + raw(bootp(0, opts=opt(52, b"\x03"), file=bytes([53, 1, 1, 255]),
                                   sname=bytes([12, 3]) + b"abc" + b"\xff")))
    # A static guest on .2: skipped (and quarantined), NAKed; the probe's
    # answer on .3 NAKs the client's REQUEST; the guest leaves.
    yield "in_use", (header(short_decline=True, segment=True) + seg(A_2, 5)
                     + lease(0, addr=A_3)
                     + tmpl(REQUEST, client=1, req=A_2, xid=16)
                     + tmpl(DISCOVER, client=2, req=A_2, xid=17) + seg(A_4, 5)
                     + tmpl(REQUEST, client=2, req=A_4, sid=SID_OURS, xid=18)
                     + tick(step=S61) + seg(A_2, 5, used=False)
                     + tmpl(REQUEST, client=1, req=A_2, step=S30, xid=19))
    # A leased address and a reservation taken by hand: warned, then the
    # holders' REQUESTs are NAKed; the client's own MAC blocks nothing.
    yield "in_use_conflict", (header(pool=2, static=True, segment=True) + lease(0)
                              + seg(A_2, 0) + tmpl(REQUEST, ciaddr=A_2, xid=20)
                              + seg(A_2, 4) + tmpl(REQUEST, ciaddr=A_2, xid=21)
                              + seg(A_3, 5) + tmpl(DISCOVER, client=6, xid=22)
                              + tmpl(REQUEST, client=6, req=A_3, xid=23)
                              + tmpl(DISCOVER, client=0, xid=24) + tick(8, step=S601))
    yield "malformed", (header()
                        + raw(bootp()[:200])
                        + raw(bootp(cookie=b"\x63\x82\x53\x64"))
                        + raw(bootp(opts=bytes([12, 40]) + b"abc", end=False, pad=False))
                        + raw(bootp(0))
                        + raw(bootp(2))
                        + raw(bootp(op=2))
                        + raw(bootp(htype=6))
                        + raw(bootp(opts=opt(52, b"\x01"), file=bytes([52, 1, 3, 53, 1, 1, 255])))
                        + raw(bootp(opts=opt(50, b"\x0a\x00\x02")))
                        + raw(bootp(REQUEST))
                        + raw(b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/dhcp"
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
