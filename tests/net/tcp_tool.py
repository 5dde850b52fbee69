#!/usr/bin/python3
"""tcp_tool.py - the real TCP clients and servers of run_tcp.sh.

  tcp_tool.py server BIND BASE_PORT LIFETIME
      Listeners on BASE_PORT+0 .. +8 (see SERVICES), one thread each, the
      whole process ended after LIFETIME seconds. Results it judges itself
      (what the guest's RST looked like, what a half-closing guest sent
      after the remote's FIN) go to stdout as "srv ..." lines.
  tcp_tool.py client SERVER BASE_PORT CHECK[:ARG]... 
      The guest's side, run as arcnat run's CMD: each CHECK prints
      "ok ..." with figures or "FAIL ..." saying what was expected; exit 1
      if any failed. A check named "sync:NAME" writes $SYNC_DIR/NAME and
      waits (bounded) for $SYNC_DIR/NAME.go: the test measures arcnat
      between checks.

Data is a cyclic pattern of random bytes (one seed per run, a period of
1 MiB + 4099 bytes so that segment boundaries move); every transfer is
compared by SHA-256 of what was sent and what arrived. Every socket call
has a timeout; nothing here waits without bound.
"""
import errno
import hashlib
import os
import random
import resource
import selectors
import socket
import struct
import sys
import threading
import time

SINK, SOURCE, SLOW, HALFCLOSE, RST_BY_GUEST, RST_BY_REMOTE, ECHO1, CRR = range(8)
SERVICES = 8
PERIOD = (1 << 20) + 4099
CHUNK = 256 * 1024
IO_TIMEOUT = 60.0


OUT_LOCK = threading.Lock()


def out(*a):
    # One write per line, under a lock: the server's threads report at
    # once, and print() writes the text and its newline separately, so
    # two lines could interleave ("...EPIPEsrv halfclose ...").
    line = " ".join(str(x) for x in a) + "\n"
    with OUT_LOCK:
        sys.stdout.write(line)
        sys.stdout.flush()


def pattern(seed):
    p = random.Random(seed).randbytes(PERIOD)
    return memoryview(p + p)


def send_stream(s, pat, n, h):
    """Send n bytes of the cyclic pattern, hashing them into h."""
    off = 0
    left = n
    while left:
        k = min(CHUNK, left, PERIOD)
        mv = pat[off:off + k]
        s.sendall(mv)
        h.update(mv)
        left -= k
        off = (off + k) % PERIOD


def recv_exact(s, n, h, bufsize=CHUNK, pause=0.0, every=0):
    """Receive exactly n bytes into h; returns the count (short at EOF)."""
    buf = bytearray(bufsize)
    mv = memoryview(buf)
    got = 0
    reads = 0
    while got < n:
        r = s.recv_into(mv, min(bufsize, n - got))
        if r == 0:
            break
        h.update(mv[:r])
        got += r
        reads += 1
        if pause and every and reads % every == 0:
            time.sleep(pause)
    return got


def recv_line(s, limit=256):
    b = b""
    while not b.endswith(b"\n") and len(b) < limit:
        c = s.recv(1)
        if not c:
            break
        b += c
    return b.decode(errors="replace").strip()


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


# ------------------------------------------------------------------ server
def srv_conn(kind, c, seed):
    pat = pattern(seed)
    c.settimeout(IO_TIMEOUT)
    try:
        if kind in (SINK, SLOW):
            # read to EOF (SLOW: 4 KiB at a time, 1 ms between reads),
            # then "COUNT SHA" back: the guest half-closed and still reads
            h = hashlib.sha256()
            if kind == SLOW:
                n = recv_exact(c, 1 << 40, h, 4096, 0.001, 1)
            else:
                n = recv_exact(c, 1 << 40, h)
            c.sendall(b"%d %s\n" % (n, h.hexdigest().encode()))
        elif kind == SOURCE:
            # "N\n": N bytes of the pattern then the 64-hex SHA-256
            n = int(recv_line(c))
            h = hashlib.sha256()
            send_stream(c, pat, n, h)
            c.sendall(h.hexdigest().encode())
        elif kind == HALFCLOSE:
            # "N\n": N bytes, then our FIN; then read what the guest still
            # sends until its FIN, and say what arrived
            n = int(recv_line(c))
            h = hashlib.sha256()
            send_stream(c, pat, n, h)
            c.shutdown(socket.SHUT_WR)
            h2 = hashlib.sha256()
            m = recv_exact(c, 1 << 40, h2)
            out("srv halfclose after our FIN got %d %s" % (m, h2.hexdigest()))
        elif kind == RST_BY_GUEST:
            # one byte each way, then the guest resets: we must see it
            c.recv(1)
            c.sendall(b"k")
            try:
                d = c.recv(1)
                out("srv rst-by-guest NO-RESET recv %r" % d)
            except ConnectionResetError:
                out("srv rst-by-guest ECONNRESET")
            except socket.timeout:
                out("srv rst-by-guest TIMEOUT")
            try:
                c.sendall(b"x" * 100)
                out("srv rst-by-guest send-after-reset accepted")
            except OSError as e:
                out("srv rst-by-guest send-after-reset %s" % errno.errorcode.get(e.errno, e.errno))
        elif kind == RST_BY_REMOTE:
            # one byte each way, then we reset (SO_LINGER 0)
            c.recv(1)
            c.sendall(b"k")
            c.recv(1)          # "go": the guest has our byte
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError as e:
        out("srv kind %d error %s" % (kind, e))
    finally:
        c.close()


def srv_threaded(kind, ls, seed):
    while True:
        c, _ = ls.accept()
        threading.Thread(target=srv_conn, args=(kind, c, seed), daemon=True).start()


def srv_evented(kind, ls):
    """ECHO1: echo each byte, keep the connection until the guest closes;
    reports the most connections open at once. CRR: read a byte, send one,
    close (the remote closes first: its TIME_WAIT stays in the server)."""
    sel = selectors.DefaultSelector()
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, None)
    open_ = 0
    peak = 0
    served = 0
    last_report = 0
    while True:
        for key, _ in sel.select(1.0):
            if key.data is None:
                for _ in range(256):
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ, 1)
                    open_ += 1
                    peak = max(peak, open_)
                continue
            c = key.fileobj
            try:
                d = c.recv(16)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if d:
                try:
                    c.send(d[:1])
                except OSError:
                    pass
                if kind == ECHO1:
                    served += 1
                    continue
                served += 1
            sel.unregister(c)
            c.close()
            open_ -= 1
        if kind == ECHO1 and peak != last_report and open_ == 0:
            out("srv echo1 peak %d served %d" % (peak, served))
            last_report = peak


def server(bind, base, lifetime):
    raise_nofile()
    seed = base
    for k in range(SERVICES):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((bind, base + k))
        ls.listen(4096)
        if k in (ECHO1, CRR):
            t = threading.Thread(target=srv_evented, args=(k, ls), daemon=True)
        else:
            t = threading.Thread(target=srv_threaded, args=(k, ls, seed), daemon=True)
        t.start()
    out("srv listening %s:%d-%d" % (bind, base, base + SERVICES - 1))
    time.sleep(lifetime)
    return 0


# ------------------------------------------------------------------ client
class Client:
    def __init__(self, host, base):
        self.host = host
        self.base = base
        self.pat = pattern(base)
        self.failed = 0

    def conn(self, kind, rcvbuf=0, timeout=IO_TIMEOUT):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((self.host, self.base + kind))
        return s

    def fail(self, msg):
        out("FAIL " + msg)
        self.failed += 1

    def send_for_verdict(self, kind, mib):
        """Send MIB MiB of the pattern to service KIND, half-close and read
        its "COUNT SHA" verdict: (bytes, the verdict expected, the one
        read, seconds)."""
        n = mib << 20
        t0 = time.monotonic()
        s = self.conn(kind)
        h = hashlib.sha256()
        send_stream(s, self.pat, n, h)
        s.shutdown(socket.SHUT_WR)
        reply = recv_line(s)
        s.close()
        return n, "%d %s" % (n, h.hexdigest()), reply, time.monotonic() - t0

    def up(self, mib, label="up"):
        """The guest sends, half-closes, and still reads the remote's
        verdict: count and SHA-256 of what arrived."""
        n, want, reply, dt = self.send_for_verdict(SINK, mib)
        if reply != want:
            return self.fail("%s: %d MiB guest -> remote: expected '%s' from the remote, got '%s'"
                             % (label, mib, want, reply))
        out("ok %s: %d MiB guest -> remote, sha256 equal, %.2f Gbit/s in %.1f s (the guest half-closed and still read the verdict)"
            % (label, mib, n * 8 / dt / 1e9, dt))

    def down(self, mib, label="down", rcvbuf=0, pause=0.0):
        n = mib << 20
        t0 = time.monotonic()
        s = self.conn(SOURCE, rcvbuf)
        s.sendall(b"%d\n" % n)
        h = hashlib.sha256()
        if rcvbuf:
            got = recv_exact(s, n, h, 1024, pause, 64)
        else:
            got = recv_exact(s, n, h)
        trailer = b""
        while len(trailer) < 64:
            d = s.recv(64 - len(trailer))
            if not d:
                break
            trailer += d
        rb = s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        s.close()
        dt = time.monotonic() - t0
        if got != n or trailer.decode(errors="replace") != h.hexdigest():
            return self.fail("%s: %d MiB remote -> guest: expected %d bytes and sha256 %s, got %d bytes, sha256 %s"
                             % (label, mib, n, trailer.decode(errors="replace"), got, h.hexdigest()))
        out("ok %s: %d MiB remote -> guest, sha256 equal, %.2f Gbit/s in %.1f s%s"
            % (label, mib, n * 8 / dt / 1e9, dt,
               " (guest SO_RCVBUF %d, the kernel's %d; reads of 1 KiB, %.0f ms pause every 64)"
               % (rcvbuf, rb, pause * 1000)
               if rcvbuf else ""))

    def slow(self, mib):
        """The remote reads 4 KiB per ms: the guest's sends block on the
        relay's window, data intact."""
        _, want, reply, dt = self.send_for_verdict(SLOW, mib)
        if reply != want:
            return self.fail("slow remote: %d MiB: expected '%s', got '%s'" % (mib, want, reply))
        out("ok slow remote (reads 4 KiB, sleeps 1 ms): %d MiB guest -> remote intact in %.1f s" % (mib, dt))

    def halfclose_remote(self, mib):
        """The remote sends and shuts its write side; the guest sees EOF,
        then sends its own bytes, which the remote still reads (srv line)."""
        n = mib << 20
        s = self.conn(HALFCLOSE)
        s.sendall(b"%d\n" % n)
        h = hashlib.sha256()
        got = recv_exact(s, n + 1, h)
        if got != n:
            return self.fail("half-close by the remote: expected %d bytes then EOF, got %d" % (n, got))
        h2 = hashlib.sha256()
        send_stream(s, self.pat, n, h2)
        s.shutdown(socket.SHUT_WR)
        s.close()
        out("ok half-close by the remote: %d MiB then EOF in the guest, which then sent %d MiB (sha256 %s, the remote's verdict below)"
            % (mib, mib, h2.hexdigest()))

    def rst_guest(self):
        s = self.conn(RST_BY_GUEST)
        s.sendall(b"h")
        if s.recv(1) != b"k":
            return self.fail("RST by the guest: no byte from the remote first")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        out("ok RST by the guest: SO_LINGER 0 close sent (the remote's view below)")

    def rst_remote(self):
        s = self.conn(RST_BY_REMOTE, timeout=10)
        s.sendall(b"h")
        if s.recv(1) != b"k":
            return self.fail("RST by the remote: no byte from the remote first")
        t0 = time.monotonic()
        s.sendall(b"g")
        try:
            d = s.recv(1)
            return self.fail("RST by the remote: expected ECONNRESET, recv returned %r (FIN instead of RST?)" % d)
        except ConnectionResetError:
            pass
        except socket.timeout:
            return self.fail("RST by the remote: expected ECONNRESET, nothing within 10 s")
        out("ok RST by the remote: the guest's recv got ECONNRESET %.0f ms after the remote's SO_LINGER 0 close"
            % ((time.monotonic() - t0) * 1000))
        s.close()

    def refused(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        t0 = time.monotonic()
        try:
            s.connect((self.host, port))
            return self.fail("refused remote %s:%d: connect succeeded" % (self.host, port))
        except ConnectionRefusedError:
            dt = time.monotonic() - t0
        except (socket.timeout, OSError) as e:
            return self.fail("refused remote %s:%d: expected ECONNREFUSED within 2 s, got %s after %.1f s"
                             % (self.host, port, e, time.monotonic() - t0))
        finally:
            s.close()
        if dt > 2:
            return self.fail("refused remote: ECONNREFUSED only after %.1f s (expected < 2 s)" % dt)
        out("ok refused remote %s:%d: ECONNREFUSED in %.0f ms" % (self.host, port, dt * 1000))

    def unreachable(self, addr, bound):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(bound)
        t0 = time.monotonic()
        try:
            s.connect((addr, self.base))
            return self.fail("unreachable remote %s: connect succeeded" % addr)
        except socket.timeout:
            return self.fail("unreachable remote %s: connect still pending after %.0f s (expected an error within it)"
                             % (addr, bound))
        except OSError as e:
            dt = time.monotonic() - t0
            name = errno.errorcode.get(e.errno, str(e.errno))
        finally:
            s.close()
        out("ok unreachable remote %s: connect failed with %s in %.1f s (bound %.0f s)" % (addr, name, dt, bound))

    def concurrent(self, n, bound):
        """n non-blocking connections open at once, a byte each way on
        each, all still open at the end."""
        raise_nofile()
        t0 = time.monotonic()
        end = t0 + bound
        sel = selectors.DefaultSelector()
        socks = []
        state = {}
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex((self.host, self.base + ECHO1))
            if e not in (0, errno.EINPROGRESS):
                s.close()
                break
            socks.append(s)
            state[s.fileno()] = 0
            sel.register(s, selectors.EVENT_WRITE)
        opened = len(socks)
        done = 0
        errors = 0
        while done + errors < opened and time.monotonic() < end:
            for key, ev in sel.select(1.0):
                s = key.fileobj
                fd = s.fileno()
                if state[fd] == 0:
                    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if e:
                        errors += 1
                        sel.unregister(s)
                        continue
                    try:
                        s.send(b"c")
                    except OSError:
                        errors += 1
                        sel.unregister(s)
                        continue
                    state[fd] = 1
                    sel.modify(s, selectors.EVENT_READ)
                else:
                    try:
                        d = s.recv(1)
                    except BlockingIOError:
                        continue
                    except OSError:
                        d = b""
                    sel.unregister(s)
                    if d == b"c":
                        done += 1
                    else:
                        errors += 1
        dt = time.monotonic() - t0
        still = 0
        for s in socks:
            try:
                s.send(b"")
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    still += 1
            except OSError:
                pass
        for s in socks:
            s.close()
        sel.close()
        if done != n or still != n:
            return self.fail("%d concurrent connections: expected all %d to connect and exchange a byte within %.0f s: opened %d, exchanged %d, errors %d, still open %d"
                             % (n, n, bound, opened, done, errors, still))
        out("ok %d concurrent connections open at once, each exchanged a byte, in %.1f s" % (n, dt))

    def crr(self, n, bound, par=16):
        """n short connections, par at a time: connect, a byte each way,
        the remote closes first, then the guest."""
        t0 = time.monotonic()
        end = t0 + bound
        sel = selectors.DefaultSelector()
        started = 0
        done = 0
        errors = 0
        active = 0

        def start():
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            e = s.connect_ex((self.host, self.base + CRR))
            if e not in (0, errno.EINPROGRESS):
                s.close()
                return False
            sel.register(s, selectors.EVENT_WRITE, [0])
            return True

        while (done + errors < n) and time.monotonic() < end and errors < 100:
            while active < par and started < n:
                started += 1
                if start():
                    active += 1
                else:
                    errors += 1
            for key, _ in sel.select(1.0):
                s = key.fileobj
                st = key.data
                try:
                    if st[0] == 0:
                        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                            raise OSError("connect")
                        s.send(b"r")
                        st[0] = 1
                        sel.modify(s, selectors.EVENT_READ, st)
                        continue
                    d = s.recv(2)
                    if st[0] == 1:
                        if d != b"r":
                            raise OSError("reply %r" % d)
                        st[0] = 2
                        continue
                    if d:
                        raise OSError("data after the reply")
                    done += 1      # EOF: the remote closed
                except BlockingIOError:
                    continue
                except OSError:
                    errors += 1
                sel.unregister(s)
                s.close()
                active -= 1
        dt = time.monotonic() - t0
        sel.close()
        if done != n:
            return self.fail("%d short connections: expected all within %.0f s; done %d, errors %d in %.1f s"
                             % (n, bound, done, errors, dt))
        out("ok %d short connections (connect, a byte each way, close; %d in flight): %.1f s, %.0f/s"
            % (n, par, dt, n / dt))

    def sync(self, name):
        d = os.environ.get("SYNC_DIR", "")
        if not d:
            return
        open(os.path.join(d, name), "w").close()
        go = os.path.join(d, name + ".go")
        for _ in range(1200):
            if os.path.exists(go):
                return
            time.sleep(0.05)
        self.fail("sync %s: no go within 60 s" % name)


def client(host, base, checks):
    c = Client(host, base)
    for ch in checks:
        name, _, arg = ch.partition(":")
        a = arg.split(",") if arg else []
        try:
            if name == "up":
                c.up(int(a[0]), a[1] if len(a) > 1 else "up")
            elif name == "down":
                c.down(int(a[0]), a[1] if len(a) > 1 else "down")
            elif name == "squeeze":
                c.down(int(a[0]), "small guest window", 4096, 0.002)
            elif name == "slow":
                c.slow(int(a[0]))
            elif name == "halfclose":
                c.halfclose_remote(int(a[0]))
            elif name == "rst":
                c.rst_guest()
                c.rst_remote()
            elif name == "refused":
                c.refused(int(a[0]))
            elif name == "unreachable":
                c.unreachable(a[0], float(a[1]))
            elif name == "concurrent":
                c.concurrent(int(a[0]), float(a[1]))
            elif name == "crr":
                c.crr(int(a[0]), float(a[1]))
            elif name == "sync":
                c.sync(a[0])
            else:
                c.fail("unknown check " + ch)
        except (OSError, ValueError) as e:
            c.fail("%s: %s" % (ch, e))
    out("client done, %d failed" % c.failed)
    return 1 if c.failed else 0


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "server":
        return server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    if len(sys.argv) >= 4 and sys.argv[1] == "client":
        return client(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    out(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
