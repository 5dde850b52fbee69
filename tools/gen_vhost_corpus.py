#!/usr/bin/python3
"""Seed corpora for fuzz/fuzz_vhost_msg.c and fuzz/fuzz_vring.c.

fuzz/corpus/vhost_msg/*: records (ctl byte: descriptor count, bit 4 parse
only, bit 5 eventfds; 2-byte little-endian length; the message) for QEMU
7.2's bring-up of a vhost-user-net backend with one 64 KiB region, and a few refused messages.
fuzz/corpus/vring/*: a header (queue size, features, operations) and a guest
memory image with transmit chains (simple, chained, indirect) and receive
buffers. Layouts are documented at the top of each harness."""
import os
import struct
import sys

VERSION, NEED_REPLY = 0x1, 0x8
UVA = 0x7F0000000000
(GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE, _LB, _LF,
 SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE,
 SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR, GET_PROTOCOL_FEATURES,
 SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE) = range(1, 19)
FEATURES = (1 << 32) | (1 << 30) | (1 << 15) | (1 << 28) | 0x3


def msg(req, payload=b"", flags=VERSION, nfds=0, parse_only=False):
    body = struct.pack("<III", req, flags, len(payload)) + payload
    # A ring's descriptors are eventfds (bit 5), a memory table's memfds.
    events = 32 if req in (SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR) else 0
    return bytes([nfds | (16 if parse_only else 0) | events]) + struct.pack("<H", len(body)) + body


def u64(v):
    return struct.pack("<Q", v)


def state(idx, num):
    return struct.pack("<II", idx, num)


def handshake():
    out = [msg(GET_FEATURES), msg(GET_PROTOCOL_FEATURES),
           msg(SET_PROTOCOL_FEATURES, u64(0x9)), msg(GET_QUEUE_NUM),
           msg(SET_OWNER, flags=VERSION | NEED_REPLY), msg(GET_FEATURES)]
    out += [msg(SET_VRING_CALL, u64(i), nfds=1) for i in range(2)]
    out.append(msg(SET_FEATURES, u64(FEATURES)))
    region = struct.pack("<QQQQ", 0, 0x10000, UVA, 0)
    out.append(msg(SET_MEM_TABLE, struct.pack("<II", 1, 0) + region,
                   flags=VERSION | NEED_REPLY, nfds=1))
    for i in range(2):
        base = UVA + 0x4000 * i
        out += [msg(SET_VRING_NUM, state(i, 256)), msg(SET_VRING_BASE, state(i, 0)),
                msg(SET_VRING_ADDR, struct.pack("<IIQQQQ", i, 0, base, base + 0x2000,
                                                base + 0x1000, 0)),
                msg(SET_VRING_KICK, u64(i), nfds=1), msg(SET_VRING_CALL, u64(i), nfds=1)]
    out += [msg(SET_VRING_ENABLE, state(i, 1)) for i in range(2)]
    out += [msg(GET_VRING_BASE, state(i, 0)) for i in range(2)]
    out.append(msg(RESET_OWNER))
    return b"".join(out)


def refused():
    return b"".join([
        msg(GET_FEATURES, flags=0), msg(GET_FEATURES, flags=VERSION | 0x4),
        msg(SET_FEATURES, u64(1 << 29)), msg(SET_VRING_NUM, state(0, 100)),
        msg(SET_VRING_KICK, u64(0)), msg(SET_VRING_CALL, u64(0x100), nfds=1),
        msg(SET_MEM_TABLE, struct.pack("<II", 9, 0) + b"\0" * 288, nfds=9 & 15),
        msg(SET_OWNER, nfds=2), msg(40), msg(SET_VRING_ERR, u64(0x100)),
    ])


def desc(addr, ln, flags=0, nxt=0):
    return struct.pack("<QIHH", addr, ln, flags, nxt)


def vring_seed(hdr0, ops, descs, heads, extra=()):
    img = bytearray(8192)
    for i, d in enumerate(descs):
        img[16 * i:16 * i + 16] = d
    struct.pack_into("<HH", img, 0x800, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", img, 0x804 + 2 * i, h)
    for off, data in extra:
        img[off:off + len(data)] = data
    return bytes([hdr0]) + struct.pack("<H", ops) + bytes(img)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus"
    vm = os.path.join(root, "vhost_msg")
    vr = os.path.join(root, "vring")
    os.makedirs(vm, exist_ok=True)
    os.makedirs(vr, exist_ok=True)
    seeds = {os.path.join(vm, "handshake"): handshake(),
             os.path.join(vm, "refused"): refused()}
    hdr = bytes([0x01, 0, 0, 0, 0x22, 0, 0x10, 0, 0, 0, 1, 0])  # csum, num_buffers 1
    frame = bytes((i * 7) & 0xFF for i in range(60))
    # 16 entries (4), indirect (8), MRG_RXBUF (16)
    seeds[os.path.join(vr, "tx_simple")] = vring_seed(
        0x1C, 0x0000, [desc(0x1100, 72)], [0], [(0x100, hdr + frame)])
    seeds[os.path.join(vr, "tx_chained")] = vring_seed(
        0x1C, 0x0000, [desc(0x1100, 8, 1, 1), desc(0x1108, 4, 1, 2), desc(0x2800, 60)],
        [0], [(0x100, hdr), (0x1800, frame)])
    seeds[os.path.join(vr, "tx_indirect")] = vring_seed(
        0x1C, 0x0000, [desc(0x1400, 32, 4)], [0],
        [(0x100, hdr + frame), (0x400, desc(0x1100, 12, 1, 1) + desc(0x110C, 60))])
    seeds[os.path.join(vr, "rx_mrg")] = vring_seed(
        0x1C, 0xFFFF, [desc(0x2400 + 128 * i, 128, 2) for i in range(16)], list(range(16)))
    seeds[os.path.join(vr, "rx_plain")] = vring_seed(
        0x04, 0xFFFF, [desc(0x2200 + 0x400 * i, 0x400, 2, 0) for i in range(3)], [0, 1, 2])
    seeds[os.path.join(vr, "loop")] = vring_seed(
        0x1C, 0x0000, [desc(0x1100, 8, 1, 1), desc(0x1100, 8, 1, 0)], [0, 1])
    for path, data in seeds.items():
        with open(path, "wb") as f:
            f.write(data)
    print(f"gen_vhost_corpus: wrote {vm} and {vr}")


if __name__ == "__main__":
    main()
