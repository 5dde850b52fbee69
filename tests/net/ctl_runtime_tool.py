#!/usr/bin/env python3
"""ctl_runtime_tool.py - the helpers of gateway_ctl_runtime.sh, each bounded in time.

  slow_send HOST PORT FILE SECONDS
      connect and send FILE spread over about SECONDS (64 KiB chunks with
      pauses), then close: a transfer still running while forwards change
  recv_sha PORT TIMEOUT
      accept one connection on 0.0.0.0:PORT, print the sha256 of what it sent
  echo_server BIND PORT TIMEOUT
      answer every line of every connection with "echo LINE" until TIMEOUT
  fwd_client HOST PORT GOFILE TIMEOUT
      connect, send "one", expect its echo, print "held"; wait for GOFILE to
      exist, send "two" on the same connection, expect its echo, print "two"
  connect_fails HOST PORT SECONDS
      exit 0 when no connection can be made within SECONDS, 1 if one can
  stream_guest PATH MAC TIMEOUT
      QEMU's stream netdev protocol (a 4-byte big-endian length before each
      frame) on the UNIX socket PATH, as a guest with MAC: DHCP DISCOVER ->
      OFFER, then REQUEST -> ACK, ARP for the gateway, an echo request to it
      and its reply; prints "dhcp ADDR gw GATEWAY ping ok", then waits for
      arcnat to close the socket (prints "closed") within TIMEOUT
"""
import hashlib
import os
import socket
import struct
import sys
import time


def slow_send(host, port, path, seconds):
    data = open(path, "rb").read()
    chunk = 65536
    n = max(1, len(data) // chunk)
    pause = float(seconds) / n
    s = socket.create_connection((host, int(port)), timeout=30)
    for i in range(0, len(data), chunk):
        s.sendall(data[i:i + chunk])
        time.sleep(pause)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(30)
    while s.recv(65536):
        pass
    s.close()


def recv_sha(port, timeout):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", int(port)))
    ls.listen(1)
    ls.settimeout(float(timeout))
    c, _ = ls.accept()
    c.settimeout(float(timeout))
    h = hashlib.sha256()
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        h.update(d)
    c.close()
    print(h.hexdigest())


def echo_server(bind, port, timeout):
    import selectors
    sel = selectors.DefaultSelector()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, int(port)))
    ls.listen(16)
    sel.register(ls, selectors.EVENT_READ)
    bufs = {}
    end = time.time() + float(timeout)
    while time.time() < end:
        for key, _ in sel.select(0.5):
            if key.fileobj is ls:
                c, _ = ls.accept()
                sel.register(c, selectors.EVENT_READ)
                bufs[c] = b""
                continue
            c = key.fileobj
            try:
                d = c.recv(4096)
            except OSError:
                d = b""
            if not d:
                sel.unregister(c)
                c.close()
                continue
            bufs[c] += d
            while b"\n" in bufs[c]:
                line, bufs[c] = bufs[c].split(b"\n", 1)
                c.sendall(b"echo " + line + b"\n")


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(1)
        if not d:
            raise EOFError("connection closed")
        buf += d
    return buf


def fwd_client(host, port, gofile, timeout):
    end = time.time() + float(timeout)
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"one\n")
    assert read_line(s) == b"echo one\n"
    print("held", flush=True)
    while not os.path.exists(gofile):
        if time.time() > end:
            sys.exit("no go file")
        time.sleep(0.05)
    s.sendall(b"two\n")
    assert read_line(s) == b"echo two\n"
    print("two", flush=True)
    s.close()


def connect_fails(host, port, seconds):
    try:
        s = socket.create_connection((host, int(port)), timeout=float(seconds))
    except OSError:
        sys.exit(0)
    s.close()
    sys.exit(1)


def stream_guest(path, mac, timeout):
    from scapy.all import (ARP, BOOTP, DHCP, ICMP, IP, UDP, Ether, mac2str)
    end = time.time() + float(timeout)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(0.5)
    buf = b""

    def send(frame):
        b = bytes(frame)
        s.sendall(struct.pack(">I", len(b)) + b)

    def frames():
        nonlocal buf
        while time.time() < end:
            while len(buf) >= 4:
                n = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                f, buf = buf[4:4 + n], buf[4 + n:]
                yield Ether(f)
            try:
                d = s.recv(65536)
            except socket.timeout:
                continue
            if not d:
                return
            buf += d

    def wait_for(pred, what):
        for f in frames():
            if pred(f):
                return f
        sys.exit("no " + what)

    xid = 0x1234
    chaddr = mac2str(mac)
    disc = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
            IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
            BOOTP(chaddr=chaddr, xid=xid, flags=0x8000) /
            DHCP(options=[("message-type", "discover"), "end"]))
    send(disc)

    def is_dhcp(kind):
        return lambda f: (DHCP in f and f[BOOTP].xid == xid and
                          (kind, ) in [(o[1],) for o in f[DHCP].options
                                       if isinstance(o, tuple) and o[0] == "message-type"])
    offer = wait_for(is_dhcp(2), "DHCP OFFER")
    addr = offer[BOOTP].yiaddr
    server = [o[1] for o in offer[DHCP].options
              if isinstance(o, tuple) and o[0] == "server_id"][0]
    req = (Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
           IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
           BOOTP(chaddr=chaddr, xid=xid, flags=0x8000) /
           DHCP(options=[("message-type", "request"), ("requested_addr", addr),
                         ("server_id", server), "end"]))
    send(req)
    wait_for(is_dhcp(5), "DHCP ACK")
    send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") /
         ARP(op=1, hwsrc=mac, psrc=addr, pdst=server))
    rep = wait_for(lambda f: ARP in f and f[ARP].op == 2 and f[ARP].psrc == server,
                   "ARP reply")
    gwmac = rep[ARP].hwsrc
    send(Ether(src=mac, dst=gwmac) / IP(src=addr, dst=server) /
         ICMP(type=8, id=0x77, seq=1) / b"ctl-runtime")
    wait_for(lambda f: ICMP in f and f[ICMP].type == 0 and f[ICMP].id == 0x77,
             "echo reply")
    print("dhcp %s gw %s ping ok" % (addr, server), flush=True)
    for _ in frames():
        pass
    if time.time() >= end:
        sys.exit("not closed by arcnat")
    print("closed", flush=True)


if __name__ == "__main__":
    modes = {"slow_send": slow_send, "recv_sha": recv_sha,
             "echo_server": echo_server, "fwd_client": fwd_client,
             "connect_fails": connect_fails, "stream_guest": stream_guest}
    modes[sys.argv[1]](*sys.argv[2:])
