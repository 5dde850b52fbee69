#!/usr/bin/python3
"""Seed corpus for fuzz/fuzz_dns.c (input format at the top of that file).
Run with /usr/bin/python3; plain struct packing, no third-party modules.

    tools/gen_dns_corpus.py fuzz/corpus/dns

Writes realistic conversations with the forwarder (local names, a forwarded
query answered and then served from the cache, coalescing, timeouts and
SERVFAIL, truncation of a large answer, negative caching, spoofed answers,
a full in-flight table, malformed queries) for the fuzzer to mutate. The
constants below mirror the tables in fuzz/fuzz_dns.c.
"""
import os
import struct
import sys

# ---- the harness's tables (fuzz/fuzz_dns.c) ----
NAMES = ["a.test", "B.Test", "gateway.arcnat.internal", "HOST.arcnat.internal",
         "guest1.arcnat.internal", "x.arcnat.internal", "1.2.0.10.in-addr.arpa",
         "15.2.0.10.in-addr.arpa", "99.2.0.10.in-addr.arpa", "big.test",
         "example.com", "WWW.EXAMPLE.COM", "arcnat.internal", "",
         "gateway.lan.test", "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v"]
T_A, T_AAAA, T_PTR, T_TXT, T_MX, T_CNAME, T_SOA, T_NS, T_ANY, T_OPT = range(10)  # types[] index
OPT_NONE, OPT_512, OPT_1232, OPT_4096 = 0, 1, 2, 3                             # opt_sizes[] index
AN_A, AN_AAAA, AN_CNAME, AN_TXT = 0, 1, 2, 3                                   # an_types[] index
TTL_0, TTL_1, TTL_5, TTL_30, TTL_300, TTL_DAY = range(6)                       # ttls[] index
# steps[]: 0, 1 ms, 100 ms, 999 ms, 1 s, 5 s, 61 s, 3600 s
S0, S1MS, S100MS, S999MS, S1S, S5S, S61S, S1H = range(8)


def header(n_up=2, small_cache=False, min_ttl=False, inflight=3, neg_small=False,
           fast=False, no_host=False, lan=False, max_ttl=False, start=100, seed=7):
    h0 = {0: 0, 1: 1, 2: 2, 4: 3}[n_up] | (4 if small_cache else 0) | (8 if min_ttl else 0) \
        | (inflight << 4) | (64 if neg_small else 0) | (128 if fast else 0)
    h1 = (1 if no_host else 0) | (2 if lan else 0) | (4 if max_ttl else 0)
    return bytes([h0, h1, start, seed])


def ctl(kind, step=S0, flags=0):
    return bytes([kind | step << 3 | flags << 6])


def client(tcp=False, who=0, cap=0, idhi=0):
    return tcp | who << 1 | cap << 3 | idhi << 6


def q(name, typ=T_A, qid=1, opt=OPT_NONE, version1=False, do=False, step=S0, **cl):
    e = opt | (8 if version1 else 0) | (16 if do else 0)
    return ctl(1, step) + bytes([client(**cl), NAMES.index(name) | typ << 4, qid, e])


def ans(which=0, rcode=0, tc=False, opt=True, other_server=False, upper=False,
        an=1, an_type=AN_A, soa=False, add_a=False, ttl=TTL_300, soa_ttl=TTL_300,
        minimum=1, txt8=0, cut=0, flip=0, step=S1MS):
    b1 = rcode | (16 if tc else 0) | (32 if opt else 0) | (64 if other_server else 0) \
        | (128 if upper else 0)
    b2 = an | an_type << 2 | (32 if soa else 0) | (64 if add_a else 0)
    b3 = ttl | soa_ttl << 3 | minimum << 6
    return ctl(3, step) + bytes([which, b1, b2, b3, txt8, cut, flip])


def raw_query(msg, step=S0, **cl):
    if len(msg) > 255:
        return ctl(0, step, 1) + bytes([client(**cl)]) + struct.pack(">H", len(msg)) + msg
    return ctl(0, step) + bytes([client(**cl), len(msg)]) + msg


def raw_upstream(msg, server=0, stranger=False, last_id=False, step=S0):
    return ctl(2, step, 1 if last_id else 0) + bytes([server | (4 if stranger else 0), len(msg)]) + msg


def tick(step=S0):
    return ctl(4, step)


def ticks10(step=S0):
    return ctl(5, step)


def echo(tail=b"", an=0, step=S0):
    return ctl(6, step, an) + bytes([len(tail)]) + tail


def jump():
    return ctl(7)


def wire_name(name):
    out = b""
    for label in [x for x in name.split(".") if x]:
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def dns_query(name, qid=0x1234, flags=0x0100, qd=1, typ=1, cls=1, extra=b"", ar=0):
    hdr = struct.pack(">HHHHHH", qid, flags, qd, 0, 0, ar)
    return hdr + wire_name(name) + struct.pack(">HH", typ, cls) + extra


def opt_rr(size=1232, ttl=0):
    return b"\0" + struct.pack(">HHIH", 41, size, ttl, 0)


def seeds():
    yield "local_names", header() + b"".join([
        q("gateway.arcnat.internal", T_A, 1),
        q("HOST.arcnat.internal", T_A, 2, OPT_1232),
        q("guest1.arcnat.internal", T_ANY, 3, tcp=True, who=1),
        q("x.arcnat.internal", T_A, 4),
        q("gateway.arcnat.internal", T_AAAA, 5),
        q("1.2.0.10.in-addr.arpa", T_PTR, 6),
        q("15.2.0.10.in-addr.arpa", T_PTR, 7, OPT_4096),
        q("arcnat.internal", T_SOA, 8),
    ])
    yield "local_lan_nohost", header(no_host=True, lan=True) + b"".join([
        q("gateway.lan.test", T_A, 1),
        q("HOST.arcnat.internal", T_A, 2),
        q("1.2.0.10.in-addr.arpa", T_PTR, 3),
    ])
    yield "forward_answer_hit", header() + b"".join([
        q("a.test", T_A, 1, OPT_1232),
        ans(),
        q("a.test", T_A, 2, step=S5S),
        q("B.Test", T_AAAA, 3, who=2),
        ans(an_type=AN_AAAA, upper=True),
        q("B.Test", T_AAAA, 4, step=S61S),
        tick(S1H),
    ])
    yield "coalesce", header() + b"".join([
        q("example.com", T_A, 1),
        q("example.com", T_A, 2, who=1, opt=OPT_1232),
        q("WWW.EXAMPLE.COM", T_A, 3, tcp=True, who=2),
        q("example.com", T_A, 1),
        ans(an=2, add_a=True),
    ])
    yield "timeout_servfail", header(n_up=4, fast=True) + b"".join([
        q("a.test", T_A, 1),
        ticks10(), ticks10(),
        q("B.Test", T_A, 2),
        jump(),
        ans(),
    ])
    yield "retry_then_answer", header(n_up=2) + b"".join([
        q("a.test", T_MX, 1),
        tick(S1S),
        ans(which=1, an_type=4, step=S100MS),
    ])
    yield "big_txt", header() + b"".join([
        q("big.test", T_TXT, 1, OPT_1232),
        q("big.test", T_TXT, 2, tcp=True, who=1),
        q("big.test", T_TXT, 3, who=2),
        q("big.test", T_TXT, 4, OPT_4096, who=3, cap=4),
        ans(an=2, an_type=AN_TXT, txt8=255),
        q("big.test", T_TXT, 5, OPT_1232, step=S1S),
        q("big.test", T_TXT, 6, tcp=True, who=1),
    ])
    yield "negative", header(neg_small=True) + b"".join([
        q("example.com", T_A, 1),
        ans(rcode=3, an=0, soa=True, soa_ttl=TTL_300, minimum=1),
        q("example.com", T_A, 2, step=S5S),
        q("B.Test", T_AAAA, 3),
        ans(an=0, soa=True, soa_ttl=TTL_30, minimum=2),
        q("B.Test", T_AAAA, 4, step=S1S),
        q("B.Test", T_AAAA, 5, step=S61S),
    ])
    yield "min_max_ttl", header(min_ttl=True, max_ttl=True) + b"".join([
        q("a.test", T_A, 1),
        ans(ttl=TTL_0),
        q("a.test", T_A, 2, step=S5S),
        q("example.com", T_A, 3),
        ans(ttl=TTL_DAY),
        q("example.com", T_A, 4, step=S61S),
    ])
    yield "spoofed", header() + b"".join([
        q("a.test", T_A, 1),
        raw_upstream(dns_query("a.test", 0x4444, 0x8180), server=0),
        raw_upstream(dns_query("a.test", 0, 0x8180), server=0, last_id=True, stranger=True),
        ans(other_server=True),
        raw_upstream(dns_query("b.test", 0, 0x8180), server=0, last_id=True),
        ans(cut=3),
        ans(flip=13),
        ans(),
        ans(),
    ])
    yield "inflight_full", header(inflight=0) + b"".join([
        q("a.test", T_A, 1),
        q("B.Test", T_A, 2),
        q("a.test", T_A, 3, who=1),
        ans(),
        q("B.Test", T_A, 4),
    ])
    yield "no_upstream", header(n_up=0) + b"".join([
        q("a.test", T_A, 1),
        q("gateway.arcnat.internal", T_A, 2),
    ])
    yield "upstream_errors", header(n_up=2) + b"".join([
        q("a.test", T_A, 1),
        ans(rcode=2, an=0),
        ans(rcode=5, an=0),
        ans(),
        q("B.Test", T_A, 2),
        ans(rcode=2, an=0), ans(rcode=2, an=0), ans(rcode=2, an=0), ans(rcode=2, an=0),
    ])
    yield "upstream_tc", header() + b"".join([
        q("a.test", T_A, 1, OPT_1232),
        q("a.test", T_A, 2, tcp=True, who=1),
        ans(tc=True, an=3, cut=20),
        q("a.test", T_A, 3),
    ])
    yield "echo", header() + b"".join([
        q("example.com", T_A, 1),
        echo(b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04", an=1),
        q("a.test", T_A, 2),
        echo(b""),
    ])
    yield "eviction", header(small_cache=True, inflight=3) + b"".join(
        q(n, T_TXT, i, OPT_4096) + ans(an_type=AN_TXT, txt8=60) for i, n in enumerate(
            ["a.test", "B.Test", "big.test", "example.com", "99.2.0.10.in-addr.arpa",
             "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v", "a.test"])
    ) + tick(S1H)
    loop = dns_query("a.test", 9)[:12]  # header only; question below
    yield "malformed_queries", header() + b"".join([
        raw_query(dns_query("a.test", 1, qd=2) + wire_name("b.test") + b"\0\1\0\1"),
        raw_query(dns_query("a.test", 2, flags=0x8180)),
        raw_query(b"\x12\x34\x01"),
        raw_query(loop + b"\xc0\x0c\x00\x01\x00\x01"),
        raw_query(dns_query("a.test", 3, flags=0x1100)),
        raw_query(dns_query("a.test", 4, ar=1, extra=opt_rr(1232, 0x00010000))),
        raw_query(dns_query("a.test", 5, extra=b"\0")),
        raw_query(dns_query("a.test", 6, typ=41)),
        raw_query(dns_query("x" * 63 + ".test", 7, ar=1, extra=opt_rr(600)) + b"", tcp=True),
        raw_query(dns_query("a.test", 8, ar=1, extra=opt_rr(4096)) * 1 + b"\0" * 300),
    ])


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/dns"
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
