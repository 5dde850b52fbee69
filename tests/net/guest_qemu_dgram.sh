#!/bin/sh
# guest_qemu_dgram.sh - real Linux guests under QEMU (TCG) on arcnat's
# dgram port (--inside dgram:PATH, QEMU's -netdev dgram with UNIX paths:
# one datagram, one frame). Guest g1 takes a DHCP lease and is killed;
# guest g2, the same MAC and the same local.path, boots again: it gets the
# same address back, pings the gateway and a server beyond the uplink,
# downloads 4 MiB over HTTP and uploads 4 MiB over TCP (each SHA-256
# compared on the receiving side) and resolves a name through the DNS
# forwarder. Meanwhile a hostile peer (python3) on a second dgram port
# sends runts, empty and oversized datagrams and tries to send into g2's
# port: counted drops and a refusal by the kernel, g2 unaffected. arcnat
# runs on throughout in its default sandbox (user nobody), keeps running
# when every guest has left and stops cleanly on SIGTERM. The guest image is
# tests/qemu/guest-image.sh's (cached in build/qemu-cache/).
#
#   ns an-in-$$ (inside)                 ns an-rt-$$ (router)               ns an-out-$$ (outside)
#   QEMU guest eth0 (DHCP 10.0.2.100+)   arcnat gateway                      veth o0 198.51.100.1/24
#     |  virtio-net                      --inside dgram:$TMPD/guests.sock    dnsmasq :53 (svc.test A 198.51.100.77)
#   -netdev dgram  local.path=guests.sock.qemu <--datagrams--> guests.sock   httpd.py :8080 (GET /down), socat :8081
#                                        --inside dgram:$TMPD/hostile.sock <-- python3 peer (evil.sock)
#                                        --outside r0  r0 <--veth--> o0
#                                        --external-ip 198.51.100.2/24 --dns 198.51.100.1
#
# The sockets are files: QEMU reaches them from any namespace. arcnat, as
# nobody after the drop, sends to QEMU's local.path: $TMPD is made
# traversable (0711) and QEMU starts with umask 000, so its socket is
# writable by nobody (docs/guests.md, "The guest's socket").
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"
. "$NET_DIR/../qemu/scenario.sh"

scenario_setup
chmod 711 "$TMPD" || fail "chmod $TMPD"
SOCK=$TMPD/guests.sock
HSOCK=$TMPD/hostile.sock
SCENARIO_LOG=dgram
# QEMU starts with umask 000: its socket writable by arcnat's user (nobody)
SCENARIO_UMASK=000

guest_outside_servers

# a stale socket at the path (its owner is gone) is replaced
scenario_stale_socket "$SOCK" dgram
scenario_start --inside "dgram:$SOCK" --inside "dgram:$HSOCK"
NETDEV="dgram,id=n0,local.type=unix,local.path=$SOCK.qemu,remote.type=unix,remote.path=$SOCK"
scenario_socket dgram "$SOCK" "-netdev $NETDEV -device virtio-net-pci,netdev=n0"
ok "arcnat bound $SOCK (a stale socket replaced) and $HSOCK, and prints the QEMU arguments"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev $NETDEV"

# --- g1: a lease, then killed while it runs ----------------------------------------
scenario_first_lease g1
grep -qF "dgram:$SOCK: guest at $SOCK.qemu" "$ARC_LOG" || fail "arcnat did not log g1 as its peer: $(grep dgram "$ARC_LOG")"
# QEMU leaves its socket file behind: arcnat's tick finds nobody there.
scenario_gone g1 1 "guest at $SOCK.qemu gone"

# --- g2: the same MAC on the same paths, a hostile peer alongside -----------------
scenario_script "$TMPD/g2-test.sh"

# The hostile peer: bound (so that arcnat can answer it), writable by
# nobody; blocking sends with a timeout, so that every datagram arrives
# and the counts are exact. Its own receive queue is never read: arcnat's
# frames for it wait in, then overflow, that port's queue only.
cat >"$TMPD/hostile.py" <<'EOF'
import errno, fcntl, os, socket, struct, sys, termios, time

port, guests, me = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(me)
os.chmod(me, 0o666)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
s.settimeout(5)
n = {"runt": 0, "empty": 0, "oversize": 0, "frame": 0}
for r in range(2):
    for i in range(1, 14):
        s.sendto(os.urandom(i), port)
        n["runt"] += 1
    for i in range(5):
        s.sendto(b"", port)
        n["empty"] += 1
    for i in range(5):
        s.sendto(os.urandom(65554 + 1000 * i), port)
        n["oversize"] += 1
    if r == 0:
        # a whole frame: broadcast, an EtherType nobody serves (local
        # experimental 0x88b5): this sender becomes the port's peer
        s.sendto(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x66" + b"\x88\xb5" + bytes(46), port)
        n["frame"] += 1
# into the real guest's port: the kernel refuses a second sender there
try:
    s.sendto(b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x66" + b"\x88\xb5" + bytes(46), guests)
    into = "sent"
except OSError as e:
    into = errno.errorcode.get(e.errno, str(e.errno))
# Stay bound until arcnat has read every datagram (a UNIX datagram counts
# in its sender's queue until read): gone before, the frame's sender cannot
# be answered and the frame is dropped. Bounded (10 s), then a moment for
# arcnat to learn the sender after its read.
for i in range(1000):
    if struct.unpack("i", fcntl.ioctl(s, termios.TIOCOUTQ, b"\0" * 4))[0] == 0:
        break
    time.sleep(0.01)
time.sleep(0.5)
print("runt=%(runt)d empty=%(empty)d oversize=%(oversize)d frame=%(frame)d" % n, "into_guest=" + into)
EOF

t0=$(date +%s)
scenario_boot g2 "$TMPD/g2-test.sh"
# once g2 holds its lease (so that it is its port's peer), the hostile peer
guest_until g2 dhcp "$(tscale 150)" || fail "g2 got no lease: $(tr -d '\r' <"$TMPD/g2.console" | tail -n 10)"
timeout 60 "$PY" "$TMPD/hostile.py" "$HSOCK" "$SOCK" "$TMPD/evil.sock" >"$TMPD/hostile.out" 2>&1 ||
	fail "the hostile peer failed: $(cat "$TMPD/hostile.out")"
info "hostile peer: $(cat "$TMPD/hostile.out")"
guest_wait g2
info "g2 boot to power-off: $(($(date +%s) - t0)) s"
scenario_checks g2 "$LEASE1"

# --- no guest left: arcnat runs on and stops on SIGTERM ----------------------------
scenario_gone g2 2 "guest at $SOCK.qemu gone"
stop_arcnat

# --- the counts --------------------------------------------------------------------
hp=$(sed -n "s|^arcnat: port \\(guest[0-9]*\\) is dgram:$HSOCK\$|\\1|p" "$ARC_LOG" | tail -n 1)
gp=$(sed -n "s|^arcnat: port \\(guest[0-9]*\\) is dgram:$SOCK\$|\\1|p" "$ARC_LOG" | tail -n 1)
{ [ -n "$hp" ] && [ -n "$gp" ]; } || fail "no per-port statistics for the two dgram ports: $(grep '^arcnat: port' "$ARC_LOG")"
got="runt=$(stat_last "$hp.dgram_runt") empty=$(stat_last "$hp.dgram_empty") oversize=$(stat_last "$hp.dgram_oversize") frame=$(stat_last "$hp.rx_packets") into_guest=EPERM"
[ "$got" = "$(cat "$TMPD/hostile.out")" ] ||
	fail "hostile port $hp counted '$got', the peer sent '$(cat "$TMPD/hostile.out")'"
bad=$(($(stat_last "$hp.dgram_runt") + $(stat_last "$hp.dgram_empty") + $(stat_last "$hp.dgram_oversize")))
[ "$(stat_last "$hp.rx_errors")" = "$bad" ] || fail "$hp.rx_errors $(stat_last "$hp.rx_errors"), want $bad (runts, empty, oversize)"
ok "hostile peer: $got, all counted on $hp; the kernel refused it on the guest's port"
[ "$(stat_last "$gp.dgram_peers")" = 2 ] || fail "$gp.dgram_peers $(stat_last "$gp.dgram_peers"), want 2 (g1, g2)"
[ "$(stat_last "$gp.rx_errors")" = 0 ] || fail "$gp.rx_errors $(stat_last "$gp.rx_errors"), want 0"
ok "guest port $gp: two peers in turn, no receive error; arcnat stopped cleanly after both guests left"
