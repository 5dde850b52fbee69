#!/usr/bin/python3
"""udp_tool.py - the UDP client and servers of run_udp.sh.

  udp_tool.py server LIFETIME ADDR:PORT...
      An echo on each ADDR:PORT (the datagram back as it came) and, for a
      datagram "who", the reply "seen IP PORT" (the source it came from).
      Ends after LIFETIME seconds.
  udp_tool.py sizes SERVER PORT MAX TIMEOUT
      One socket: every size from 1 to MAX bytes (a pattern that differs
      per size) sent and its echo required identical; a lost one is tried
      again up to 3 times, each wait at most TIMEOUT seconds. Prints
      "ok sizes 1..MAX ..." or "FAIL ...".
  udp_tool.py eim BIND_PORT TIMEOUT ADDR:PORT...
      One socket bound to BIND_PORT sends "who" to each ADDR:PORT and
      prints "seen-by ADDR:PORT IP PORT" for each answer.
"""
import socket
import sys
import threading
import time


def out(*a):
    print(*a, flush=True)


def serve(s):
    while True:
        d, src = s.recvfrom(65535)
        if d == b"who":
            s.sendto(b"seen %s %d" % (src[0].encode(), src[1]), src)
        else:
            s.sendto(d, src)


def server(lifetime, eps):
    for ep in eps:
        h, p = ep.rsplit(":", 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((h, int(p)))
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    out("listening", *eps)
    time.sleep(lifetime)
    return 0


def sizes(host, port, mx, tmo):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(tmo)
    base = bytes(range(256)) * 257
    retries = 0
    t0 = time.monotonic()
    for n in range(1, mx + 1):
        k = n % 251
        msg = base[k:k + n]
        for attempt in range(4):
            s.send(msg)
            try:
                while True:
                    d = s.recv(65535)
                    if d == msg:
                        break
                    if len(d) != n:
                        continue    # a late echo of an earlier size
                    out("FAIL size %d: the echo differs" % n)
                    return 1
                break
            except socket.timeout:
                retries += 1
        else:
            out("FAIL size %d: no echo in 4 tries of %.1f s" % (n, tmo))
            return 1
    out("ok sizes 1..%d bytes each echoed intact through the relay in %.1f s, %d retries"
        % (mx, time.monotonic() - t0, retries))
    return 0


def eim(bport, tmo, eps):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", bport))
    s.settimeout(tmo)
    for ep in eps:
        h, p = ep.rsplit(":", 1)
        for _ in range(3):
            s.sendto(b"who", (h, int(p)))
            try:
                d, src = s.recvfrom(65535)
            except socket.timeout:
                continue
            out("seen-by %s:%d %s" % (src[0], src[1], d.decode(errors="replace")[5:]))
            break
        else:
            out("FAIL no answer from", ep)
            return 1
    return 0


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "server":
        return server(float(a[1]), a[2:])
    if len(a) == 5 and a[0] == "sizes":
        return sizes(a[1], int(a[2]), int(a[3]), float(a[4]))
    if len(a) >= 4 and a[0] == "eim":
        return eim(int(a[1]), float(a[2]), a[3:])
    out(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
