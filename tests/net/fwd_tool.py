#!/usr/bin/python3
"""fwd_tool.py - the guest's servers and the clients of run_fwd.sh (port
forwards, arcnat's -t/-u).

  fwd_tool.py server LIFETIME READY DONE SPEC...
      The guest's side, run in arcnat run's CMD. SPEC is t:PORT (TCP) or
      u:PORT (UDP), bound to 0.0.0.0. Once every socket is bound it creates
      the file READY; it returns 0 when the file DONE appears, 1 if
      LIFETIME seconds pass first. Each TCP connection is answered at once
      with the line "seen ADDR PORT LPORT" (the client's address and port
      as this server sees them, and its own local port), then serves
      commands, one line each, until EOF:
        up N     read N bytes, answer "sha HEX" (their SHA-256)
        down N   send N bytes of the pattern (the client checks their hash)
      Each UDP datagram is answered from the same socket with
      "seen ADDR PORT LPORT " followed by the datagram itself. Every
      connection and every UDP source is reported on stdout as
      "srv t|u LPORT from ADDR PORT ..." (UDP: one line per source at the
      end, with its count).

  fwd_tool.py tcp HOST PORT SAW [--lport P] [--up MIB] [--down MIB]
      One connection to HOST:PORT: the server must have seen SAW, and the
      client's own port unless SAW ends with ":*" (a loopback client shown
      as the gateway may be given another port); --lport: the guest's
      server port it must have reached. Then MIB MiB up and down, SHA-256
      compared.
  fwd_tool.py many HOST PORT SAW N KIB
      N connections open at once (all connected before any moves data),
      then each moves KIB KiB, half of them up and half down, every one
      hashed; SAW as for tcp.
  fwd_tool.py reset HOST PORT
      A forward whose guest port has no server: the client's connect()
      succeeds (arcnat accepts first), then its recv() must give
      ECONNRESET (the guest's RST passed on), not wait and not a clean EOF.
  fwd_tool.py refused HOST PORT
      Nobody listens on HOST:PORT: connect() must fail with ECONNREFUSED.
  fwd_tool.py udp HOST PORT SAW COUNT [--lport P]
      COUNT datagrams of varied sizes from one socket, each waiting for
      its answer (one in flight: on this quiet path none may be lost; a
      datagram unanswered within 2 s fails); the answer must carry SAW
      (and the client's port, as for tcp) and the datagram intact.
  fwd_tool.py udp-refused HOST PORT
      Nobody listens on HOST:PORT for UDP: a connected socket's recv must
      give ECONNREFUSED (the ICMP port unreachable), not an answer.

Every client prints "ok ..." lines with figures or "FAIL ..." saying what
was expected, and exits 1 on any failure. Every socket call has a timeout.
"""
import hashlib
import os
import random
import socket
import sys
import threading
import time

PERIOD = (1 << 20) + 4099
SEED = 0x5EED12
CHUNK = 256 * 1024
IO_TIMEOUT = 30.0
UDP_WAIT = 2.0

OUT_LOCK = threading.Lock()
_PAT = None


def out(*a):
    # one write per line, under a lock: the server's threads report at once
    line = " ".join(str(x) for x in a) + "\n"
    with OUT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def pattern():
    global _PAT
    if _PAT is None:
        p = random.Random(SEED).randbytes(PERIOD)
        _PAT = memoryview(p + p)
    return _PAT


def send_stream(s, n):
    """Send n bytes of the cyclic pattern; returns their SHA-256."""
    pat = pattern()
    h = hashlib.sha256()
    off = 0
    left = n
    while left:
        k = min(CHUNK, left)
        mv = pat[off:off + k]
        s.sendall(mv)
        h.update(mv)
        left -= k
        off = (off + k) % PERIOD
    return h.hexdigest()


def stream_sha(n):
    """The SHA-256 of the first n bytes of the pattern."""
    pat = pattern()
    h = hashlib.sha256()
    off = 0
    while n:
        k = min(CHUNK, n)
        h.update(pat[off:off + k])
        n -= k
        off = (off + k) % PERIOD
    return h.hexdigest()


def recv_n(s, n):
    """Receive exactly n bytes (fewer at EOF); returns (count, SHA-256)."""
    h = hashlib.sha256()
    buf = bytearray(CHUNK)
    mv = memoryview(buf)
    got = 0
    while got < n:
        r = s.recv_into(mv, min(CHUNK, n - got))
        if r == 0:
            break
        h.update(mv[:r])
        got += r
    return got, h.hexdigest()


def recv_line(s, limit=256):
    b = b""
    while not b.endswith(b"\n") and len(b) < limit:
        c = s.recv(1)
        if not c:
            break
        b += c
    return b.decode(errors="replace").strip()


# ------------------------------------------------------------------ server
def srv_tcp_conn(c, peer, lport):
    c.settimeout(IO_TIMEOUT)
    moved = []
    try:
        c.sendall(b"seen %s %d %d\n" % (peer[0].encode(), peer[1], lport))
        while True:
            line = recv_line(c)
            if not line:
                break
            cmd, _, arg = line.partition(" ")
            n = int(arg)
            if cmd == "up":
                got, sha = recv_n(c, n)
                c.sendall(b"sha %d %s\n" % (got, sha.encode()))
                moved.append("up:%d" % got)
            elif cmd == "down":
                send_stream(c, n)
                moved.append("down:%d" % n)
            else:
                c.sendall(b"error unknown command\n")
                break
        out("srv t %d from %s %d %s" % (lport, peer[0], peer[1], " ".join(moved) or "-"))
    except OSError as e:
        out("srv t %d from %s %d error %s" % (lport, peer[0], peer[1], e))
    finally:
        c.close()


def srv_tcp(ls, lport):
    while True:
        try:
            c, peer = ls.accept()
        except OSError as e:
            out("srv t %d accept error %s" % (lport, e))
            time.sleep(0.1)
            continue
        threading.Thread(target=srv_tcp_conn, args=(c, peer, lport), daemon=True).start()


def srv_udp(s, lport, seen):
    while True:
        try:
            d, src = s.recvfrom(65535)
        except OSError as e:
            out("srv u %d recv error %s" % (lport, e))
            time.sleep(0.1)
            continue
        head = b"seen %s %d %d " % (src[0].encode(), src[1], lport)
        try:
            s.sendto(head + d, src)
        except OSError as e:
            out("srv u %d send error %s to %s %d" % (lport, e, src[0], src[1]))
        with OUT_LOCK:
            seen[src] = seen.get(src, 0) + 1


def server(lifetime, ready, done, specs):
    end = time.monotonic() + lifetime
    udp_seen = {}
    for spec in specs:
        proto, _, port = spec.partition(":")
        port = int(port)
        if proto == "t":
            ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind(("0.0.0.0", port))
            ls.listen(1024)
            threading.Thread(target=srv_tcp, args=(ls, port), daemon=True).start()
        elif proto == "u":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            seen = {}
            udp_seen[port] = seen
            threading.Thread(target=srv_udp, args=(s, port, seen), daemon=True).start()
        else:
            out("FAIL bad spec", spec)
            return 2
    with open(ready, "w") as f:
        f.write("%d\n" % os.getpid())
    out("srv ready", " ".join(specs))
    rc = 1
    while time.monotonic() < end:
        if os.path.exists(done):
            rc = 0
            break
        time.sleep(0.1)
    with OUT_LOCK:
        for port, seen in sorted(udp_seen.items()):
            for src, n in sorted(seen.items()):
                sys.stdout.write("srv u %d from %s %d count %d\n" % (port, src[0], src[1], n))
        if rc:
            sys.stdout.write("srv lifetime %d s over before %s\n" % (lifetime, done))
        sys.stdout.flush()
    return rc


# ------------------------------------------------------------------ clients
class Failed(Exception):
    pass


def saw_parse(saw):
    """SAW is ADDR (the server must see the client's own port too) or
    ADDR:* (any port)."""
    if saw.endswith(":*"):
        return saw[:-2], False
    return saw, True


def check_seen(line, saw, s, lport):
    """Checks a "seen ADDR PORT LPORT" line against what the client knows;
    returns it as (addr, port, lport)."""
    addr, same_port = saw_parse(saw)
    f = line.split()
    if len(f) < 4 or f[0] != "seen":
        raise Failed("no 'seen' line from the guest's server, got %r" % line)
    mine = s.getsockname()
    if f[1] != addr:
        raise Failed("the guest's server saw %s, expected %s (the client is %s:%d)"
                     % (f[1], addr, mine[0], mine[1]))
    if same_port and int(f[2]) != mine[1]:
        raise Failed("the guest's server saw port %s, expected the client's own %d" % (f[2], mine[1]))
    if lport is not None and int(f[3]) != lport:
        raise Failed("reached the guest's port %s, expected %d" % (f[3], lport))
    return f[1], int(f[2]), int(f[3]), mine


def tcp_connect(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(IO_TIMEOUT)
    s.connect((host, port))
    return s


def tcp_up(s, n):
    sha = send_stream_cmd(s, "up", n)
    line = recv_line(s)
    f = line.split()
    if len(f) != 3 or f[0] != "sha":
        raise Failed("up %d: the guest's server answered %r" % (n, line))
    if int(f[1]) != n or f[2] != sha:
        raise Failed("up %d: the guest's server got %s bytes, sha256 %s, sent %s" % (n, f[1], f[2], sha))


def send_stream_cmd(s, cmd, n):
    s.sendall(b"%s %d\n" % (cmd.encode(), n))
    return send_stream(s, n)


def tcp_down(s, n):
    s.sendall(b"down %d\n" % n)
    got, sha = recv_n(s, n)
    want = stream_sha(n)
    if got != n or sha != want:
        raise Failed("down %d: got %d bytes, sha256 %s, expected %s" % (n, got, sha, want))


def cmd_tcp(host, port, saw, lport, up_mib, down_mib):
    t0 = time.monotonic()
    s = tcp_connect(host, port)
    addr, sport, gport, mine = check_seen(recv_line(s), saw, s, lport)
    msg = "tcp %s:%d from %s:%d: the guest's server on port %d saw %s:%d" % (
        host, port, mine[0], mine[1], gport, addr, sport)
    figs = []
    if up_mib:
        t = time.monotonic()
        tcp_up(s, up_mib << 20)
        figs.append("%d MiB up (%.0f MB/s)" % (up_mib, (up_mib << 20) / 1e6 / (time.monotonic() - t)))
    if down_mib:
        t = time.monotonic()
        tcp_down(s, down_mib << 20)
        figs.append("%d MiB down (%.0f MB/s)" % (down_mib, (down_mib << 20) / 1e6 / (time.monotonic() - t)))
    s.close()
    if figs:
        msg += "; " + ", ".join(figs) + ", sha256 equal"
    out("ok", msg, "(%.1f s)" % (time.monotonic() - t0))


def cmd_many(host, port, saw, n, kib):
    t0 = time.monotonic()
    socks = []
    try:
        for i in range(n):
            s = tcp_connect(host, port)
            socks.append(s)
            check_seen(recv_line(s), saw, s, None)
        errs = []
        lock = threading.Lock()
        start = threading.Barrier(n)

        def one(i, s):
            try:
                start.wait(IO_TIMEOUT)
                if i % 2:
                    tcp_down(s, kib << 10)
                else:
                    tcp_up(s, kib << 10)
            except (OSError, Failed, threading.BrokenBarrierError) as e:
                with lock:
                    errs.append("connection %d (%s): %s" % (i, "down" if i % 2 else "up", e))
        th = [threading.Thread(target=one, args=(i, s), daemon=True) for i, s in enumerate(socks)]
        for t in th:
            t.start()
        for t in th:
            t.join(IO_TIMEOUT * 2)
        if any(t.is_alive() for t in th):
            raise Failed("%d of %d connections still moving data after %.0f s"
                         % (sum(t.is_alive() for t in th), n, IO_TIMEOUT * 2))
        if errs:
            raise Failed("%d of %d connections failed, first: %s" % (len(errs), n, errs[0]))
    finally:
        for s in socks:
            s.close()
    out("ok many: %d connections to %s:%d open at once, each moved %d KiB (half up, half down), "
        "all sha256 equal, all seen as %s (%.1f s)" % (n, host, port, kib, saw, time.monotonic() - t0))


def cmd_reset(host, port):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(IO_TIMEOUT)
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        # arcnat accepts first and passes the guest's RST on: a refused
        # connect() means nobody listens there (no forward at all)
        raise Failed("%s:%d: connect() refused: no forward listens there" % (host, port))
    except ConnectionResetError:
        # the handshake was done (the kernel answers for the listener) and
        # the RST came before connect() with a timeout read SO_ERROR
        out("ok reset: %s:%d: connected, then reset (ECONNRESET already at connect()) after %.2f s"
            % (host, port, time.monotonic() - t0))
        return
    try:
        d = s.recv(1)
    except ConnectionResetError:
        out("ok reset: %s:%d: connect() succeeded, recv() got ECONNRESET after %.2f s"
            % (host, port, time.monotonic() - t0))
        return
    except socket.timeout:
        raise Failed("%s:%d: no reset within %.0f s (a hang)" % (host, port, IO_TIMEOUT))
    raise Failed("%s:%d: recv() gave %r, expected ECONNRESET" % (host, port, d))


def cmd_refused(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(IO_TIMEOUT)
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        out("ok refused: nobody listens on %s:%d (ECONNREFUSED)" % (host, port))
        return
    except socket.timeout:
        raise Failed("%s:%d: connect() timed out, expected ECONNREFUSED" % (host, port))
    raise Failed("%s:%d: connect() succeeded, expected ECONNREFUSED" % (host, port))


def udp_size(i):
    # mostly up to one Ethernet frame, every 50th far beyond (fragments on
    # the way from the client's namespace, one datagram to the guest)
    if i % 50 == 49:
        return 32000 + i
    return (i * 37) % 1472 + 1


def cmd_udp(host, port, saw, count, lport):
    t0 = time.monotonic()
    rng = random.Random(SEED + port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    first = None
    total = 0
    smin, smax = 1 << 20, 0
    for i in range(count):
        size = udp_size(i)
        d = b"%06d " % i + rng.randbytes(max(size - 7, 0))
        s.send(d)
        end = time.monotonic() + UDP_WAIT
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Failed("datagram %d (%d bytes) to %s:%d: no answer within %.0f s (%d answered)"
                             % (i, len(d), host, port, UDP_WAIT, i))
            s.settimeout(left)
            try:
                r = s.recv(65535)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                raise Failed("datagram %d to %s:%d: ECONNREFUSED (port unreachable)" % (i, host, port))
            f = r.split(b" ", 4)
            if len(f) == 5 and f[4][:7] == b"%06d " % i:
                break
            # an answer to an earlier datagram (duplicated): wrong here
            raise Failed("datagram %d: unexpected answer %r" % (i, r[:60]))
        seen = b" ".join(f[:4]).decode(errors="replace")
        a = check_seen(seen, saw, s, lport)
        if first is None:
            first = a
        elif a[:3] != first[:3]:
            raise Failed("datagram %d: the guest saw %s:%d, the first was seen as %s:%d"
                         % (i, a[0], a[1], first[0], first[1]))
        if f[4] != d:
            raise Failed("datagram %d: %d bytes sent, %d came back (or changed)" % (i, len(d), len(f[4])))
        total += len(d)
        smin, smax = min(smin, len(d)), max(smax, len(d))
    mine = s.getsockname()
    out("ok udp %s:%d from %s:%d: %d datagrams (%d bytes, %d to %d each) all answered intact, "
        "none lost; the guest's server on port %d saw %s:%d (%.1f s)"
        % (host, port, mine[0], mine[1], count, total, smin, smax,
           first[2], first[0], first[1], time.monotonic() - t0))


def cmd_udp_refused(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((host, port))
    s.settimeout(1.0)
    for i in range(5):
        try:
            s.send(b"anyone there?")
            r = s.recv(65535)
            raise Failed("udp %s:%d: answered %r, expected port unreachable" % (host, port, r[:40]))
        except ConnectionRefusedError:
            out("ok udp-refused: nobody listens on %s:%d for UDP (ECONNREFUSED)" % (host, port))
            return
        except socket.timeout:
            pass
    raise Failed("udp %s:%d: neither an answer nor ECONNREFUSED in 5 tries" % (host, port))


def opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        v = int(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def main(argv):
    if len(argv) < 2:
        print(__doc__)
        return 2
    mode, a = argv[1], argv[2:]
    if mode == "server":
        return server(float(a[0]), a[1], a[2], a[3:])
    try:
        lport = opt(a, "--lport")
        up = opt(a, "--up", 0)
        down = opt(a, "--down", 0)
        host, port = a[0], int(a[1])
        if mode == "tcp":
            cmd_tcp(host, port, a[2], lport, up, down)
        elif mode == "many":
            cmd_many(host, port, a[2], int(a[3]), int(a[4]))
        elif mode == "reset":
            cmd_reset(host, port)
        elif mode == "refused":
            cmd_refused(host, port)
        elif mode == "udp":
            cmd_udp(host, port, a[2], int(a[3]), lport)
        elif mode == "udp-refused":
            cmd_udp_refused(host, port)
        else:
            out("FAIL unknown mode", mode)
            return 2
    except Failed as e:
        out("FAIL %s %s" % (mode, e))
        return 1
    except OSError as e:
        out("FAIL %s %s:%s: %s" % (mode, a[0], a[1], e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
