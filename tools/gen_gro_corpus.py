#!/usr/bin/env python3
"""Seed inputs for fuzz/fuzz_gro.c: runs of TCP segments, some joinable.

Each input: one flag byte (1: the harness fixes TCP checksums), then
records of a 2-byte big-endian length and an Ethernet frame.
"""
import os
import struct
import sys

ETH = bytes.fromhex("02abcd000001" "525400123456" "0800")


def seg(seq, pay, flags=0x10, ip_id=1, df=True, ts=True, win=502):
    opts = b"\x01\x01\x08\x0a" + struct.pack("!II", 5, 6) if ts else b""
    thl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, seq, 77, (thl // 4) << 4,
                      flags, win, 0, 0) + opts + pay
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id,
                     0x4000 if df else 0, 64, 6, 0,
                     bytes([10, 0, 2, 2]), bytes([198, 51, 100, 1]))
    return ETH + ip + tcp


def rec(frames):
    return bytes([1]) + b"".join(struct.pack("!H", len(f)) + f for f in frames)


def main(out):
    os.makedirs(out, exist_ok=True)
    pay = bytes(range(256)) * 6
    m = 1448
    cases = {
        "run4_df": [seg(1000 + i * m, pay[:m], ip_id=i) for i in range(4)],
        "run3_ids": [seg(1000 + i * m, pay[:m], ip_id=7 + i, df=False)
                     for i in range(3)],
        "short_last_psh": [seg(1000, pay[:m]), seg(1000 + m, pay[:300],
                                                  flags=0x18)],
        "gap": [seg(1000, pay[:m]), seg(1000 + m + 1, pay[:m])],
        "small_mss": [seg(1 + i * 100, pay[:100], ts=False)
                      for i in range(20)],
        "window_change": [seg(1000, pay[:m]), seg(1000 + m, pay[:m], win=9)],
    }
    for name, frames in cases.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(rec(frames))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/gro")
