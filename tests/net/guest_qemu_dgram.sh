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

net_checks
need qemu-system-x86_64 busybox dnsmasq gzip apt-get dpkg-deb
net_setup packet
guest_image
chmod 711 "$TMPD" || fail "chmod $TMPD"
SOCK=$TMPD/guests.sock
HSOCK=$TMPD/hostile.sock

guest_outside_servers

# a stale socket at the path (its owner is gone) is replaced
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])' "$SOCK" ||
	fail "cannot leave a stale socket at $SOCK"
start_arcnat --inside "dgram:$SOCK" --inside "dgram:$HSOCK" --outside r0 \
	--external-ip 198.51.100.2/24 --dns 198.51.100.1 --host-ip 198.51.100.1 \
	--dhcp-range 10.0.2.100,10.0.2.120
[ -S "$SOCK" ] || fail "no socket at $SOCK"
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "arcnat did not enter its default sandbox: $(grep sandbox "$ARC_LOG")"
NETDEV="dgram,id=n0,local.type=unix,local.path=$SOCK.qemu,remote.type=unix,remote.path=$SOCK"
grep -qF "dgram:$SOCK: connect QEMU with -netdev $NETDEV -device virtio-net-pci,netdev=n0" "$ARC_LOG" ||
	fail "arcnat did not print the QEMU arguments: $(grep dgram "$ARC_LOG")"
ok "arcnat bound $SOCK (a stale socket replaced) and $HSOCK, and prints the QEMU arguments"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev $NETDEV"

# boot_writable NAME SCRIPT: guest_boot with a umask that leaves QEMU's
# socket writable by arcnat's user (nobody).
boot_writable() {
	_um=$(umask)
	umask 000
	guest_boot "$1" "$NS_IN" "$(tscale 150)" "$2"
	umask "$_um"
}

# wait_log N PATTERN: poll arcnat's log (0.1 s steps).
wait_log() { wait_file_grep "$1" "$ARC_LOG" "$2"; }

# --- g1: a lease, then killed while it runs ----------------------------------------
echo 'sleep 600' >"$TMPD/g1-test.sh"
t0=$(date +%s)
boot_writable g1 "$TMPD/g1-test.sh"
lim=$(($(tscale 150) * 2))
i=0
while [ $i -lt "$lim" ] && ! grep -q '^RESULT dhcp ' "$TMPD/g1.console"; do
	alive "$GUEST_PID" || break
	sleep 0.5
	i=$((i + 1))
done
lease1=$(tr -d '\r' <"$TMPD/g1.console" | sed -n 's/^RESULT dhcp ok //p' | tail -n 1)
[ -n "$lease1" ] || fail "g1 got no lease: $(tr -d '\r' <"$TMPD/g1.console" | tail -n 10) $(tail -n 5 "$TMPD/g1.qemu") $(grep dgram "$ARC_LOG")"
info "g1 lease after $(($(date +%s) - t0)) s: $lease1"
grep -qF "dgram:$SOCK: guest at $SOCK.qemu" "$ARC_LOG" || fail "arcnat did not log g1 as its peer: $(grep dgram "$ARC_LOG")"
bg_stop "$GUEST_PID"
# QEMU leaves its socket file behind: arcnat's tick finds nobody there.
wait_log 50 "guest at $SOCK.qemu gone" || fail "arcnat did not see g1's QEMU go: $(grep dgram "$ARC_LOG")"
arcnat_alive || fail "arcnat is gone after g1's QEMU was killed"
ok "g1 ($lease1) killed: arcnat forgot its peer and runs on"

# --- g2: the same MAC on the same paths, a hostile peer alongside -----------------
cat >"$TMPD/g2-test.sh" <<EOF
S=198.51.100.1
if ping -c 3 -i 0.3 -W 5 10.0.2.1 >/tmp/ping1 2>&1; then
	result ping_gateway ok "\$(grep 'packets' /tmp/ping1)"
else
	result ping_gateway fail "\$(tail -n 2 /tmp/ping1 | tr '\n' ' ')"
fi
if ping -c 3 -i 0.3 -W 5 \$S >/tmp/ping2 2>&1; then
	result ping_outside ok "\$(grep 'packets' /tmp/ping2)"
else
	result ping_outside fail "\$(tail -n 2 /tmp/ping2 | tr '\n' ' ')"
fi
if timeout 60 wget -q -O /tmp/down http://\$S:8080/down 2>/tmp/wget1; then
	result download ok "sha256=\$(sha256sum /tmp/down | cut -d' ' -f1) bytes=\$(wc -c </tmp/down)"
else
	result download fail "\$(cat /tmp/wget1)"
fi
rm -f /tmp/down
head -c $SIZE /dev/urandom >/tmp/up
if timeout 60 nc \$S 8081 </tmp/up 2>/tmp/nc; then
	result upload ok "sha256=\$(sha256sum /tmp/up | cut -d' ' -f1) bytes=\$(wc -c </tmp/up)"
else
	result upload fail "\$(cat /tmp/nc)"
fi
if timeout 20 nslookup -type=a svc.test >/tmp/ns 2>&1; then
	result dns ok "svc.test=\$(sed -n 's/^Address: *\\([0-9.]*\\)\$/\\1/p' /tmp/ns | tail -n 1)"
else
	result dns fail "\$(tr '\n' ' ' </tmp/ns)"
fi
EOF

# The hostile peer: bound (so that arcnat can answer it), writable by
# nobody; blocking sends with a timeout, so that every datagram arrives
# and the counts are exact. Its own receive queue is never read: arcnat's
# frames for it wait in, then overflow, that port's queue only.
cat >"$TMPD/hostile.py" <<'EOF'
import errno, os, socket, sys

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
print("runt=%(runt)d empty=%(empty)d oversize=%(oversize)d frame=%(frame)d" % n, "into_guest=" + into)
EOF

t0=$(date +%s)
boot_writable g2 "$TMPD/g2-test.sh"
# once g2 holds its lease (so that it is its port's peer), the hostile peer
lim=$(($(tscale 150) * 2))
i=0
while [ $i -lt "$lim" ] && ! grep -q '^RESULT dhcp ' "$TMPD/g2.console"; do
	alive "$GUEST_PID" || break
	sleep 0.5
	i=$((i + 1))
done
grep -q '^RESULT dhcp ' "$TMPD/g2.console" || fail "g2 got no lease: $(tr -d '\r' <"$TMPD/g2.console" | tail -n 10)"
timeout 60 "$PY" "$TMPD/hostile.py" "$HSOCK" "$SOCK" "$TMPD/evil.sock" >"$TMPD/hostile.out" 2>&1 ||
	fail "the hostile peer failed: $(cat "$TMPD/hostile.out")"
info "hostile peer: $(cat "$TMPD/hostile.out")"
guest_wait g2
info "g2 boot to power-off: $(($(date +%s) - t0)) s"

guest_expect g2 dhcp
case $GUEST_DETAIL in
"ip=10.0.2.1"[0-9][0-9]"/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC") ;;
*) fail "lease '$GUEST_DETAIL': expected ip=10.0.2.100-120/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC" ;;
esac
[ "$GUEST_DETAIL" = "$lease1" ] || fail "g2 got '$GUEST_DETAIL', g1 (same MAC) had '$lease1'"
ok "g2 (same MAC and local.path, after g1 was killed) got the same lease back: $GUEST_DETAIL"

guest_expect g2 ping_gateway
ok "guest pings the gateway 10.0.2.1: $GUEST_DETAIL"
guest_expect g2 ping_outside
ok "guest pings 198.51.100.1 beyond the uplink: $GUEST_DETAIL"

guest_expect g2 download
[ "$GUEST_DETAIL" = "sha256=$DOWN_SHA bytes=$SIZE" ] ||
	fail "download: the guest got '$GUEST_DETAIL', expected sha256=$DOWN_SHA bytes=$SIZE"
ok "guest downloaded 4 MiB over HTTP: its sha256 equals the server's file"

guest_expect g2 upload
up_detail=$GUEST_DETAIL
i=0
while [ $i -lt 100 ] && alive "$UPSRV"; do
	sleep 0.1
	i=$((i + 1))
done
alive "$UPSRV" && fail "upload: the receiver still runs after the guest's EOF"
[ -f "$TMPD/up" ] || fail "upload: the receiver stored nothing: $(cat "$TMPD/up.err")"
up_sha=$(sha "$TMPD/up")
[ "$up_detail" = "sha256=$up_sha bytes=$SIZE" ] ||
	fail "upload: guest says '$up_detail', the receiver stored $(wc -c <"$TMPD/up") bytes with sha256 $up_sha"
ok "guest uploaded 4 MiB over TCP: the receiver's sha256 of what arrived equals the guest's"

guest_expect g2 dns
[ "$GUEST_DETAIL" = "svc.test=198.51.100.77" ] || fail "dns: the guest resolved '$GUEST_DETAIL', expected svc.test=198.51.100.77"
ok "guest resolved svc.test through arcnat's forwarder"

wait_log 50 "guest at $SOCK.qemu gone" || fail "no peer change logged"
[ "$(grep -c "guest at $SOCK.qemu gone" "$ARC_LOG")" = 2 ] || {
	i=0
	while [ $i -lt 50 ] && [ "$(grep -c "guest at $SOCK.qemu gone" "$ARC_LOG")" != 2 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
[ "$(grep -c "guest at $SOCK.qemu gone" "$ARC_LOG")" = 2 ] ||
	fail "arcnat did not see g2's QEMU go: $(grep dgram "$ARC_LOG")"
arcnat_alive || fail "arcnat is gone after every guest left"
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
