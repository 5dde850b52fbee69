#!/bin/sh
# guest_qemu_stream.sh - real Linux guests under QEMU (TCG) on arcnat's
# stream port (--inside stream:PATH, QEMU's -netdev stream on a UNIX
# socket). Guest g1 takes a DHCP lease and is killed (QEMU's connection
# goes away mid-run); guest g2, the same MAC, boots on the same socket: it
# gets the same address back, pings the gateway and a server beyond the
# uplink, downloads 4 MiB over HTTP and uploads 4 MiB over TCP (each
# SHA-256 compared on the receiving side) and resolves a name through the
# DNS forwarder; arcnat runs on throughout, in its default sandbox. The
# guest image is tests/qemu/guest-image.sh's (cached in build/qemu-cache/).
#
#   ns an-in-$$ (inside)                ns an-rt-$$ (router)               ns an-out-$$ (outside)
#   QEMU guest eth0 (DHCP 10.0.2.100+)  arcnat gateway                      veth o0 198.51.100.1/24
#     |  virtio-net                     --inside stream:$TMPD/guests.sock   dnsmasq :53 (svc.test A 198.51.100.77)
#   -netdev stream,addr.path=  <--UNIX socket (4-byte length, frame)-->     httpd.py :8080 (GET /down), socat :8081
#     $TMPD/guests.sock                 --outside r0  r0 <--veth--> o0
#                                       --external-ip 198.51.100.2/24 --dns 198.51.100.1
#
# The UNIX socket is a file: QEMU reaches it from any namespace. arcnat
# binds it before dropping to nobody and accepts on it in the sandbox.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"

net_checks
need qemu-system-x86_64 busybox dnsmasq gzip apt-get dpkg-deb
net_setup packet
guest_image
SOCK=$TMPD/guests.sock

guest_outside_servers

# a stale socket at the path (its server is gone) is replaced
"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK" ||
	fail "cannot leave a stale socket at $SOCK"
start_arcnat --inside "stream:$SOCK" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --host-ip 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120
[ -S "$SOCK" ] || fail "no socket at $SOCK"
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "arcnat did not enter its default sandbox: $(grep sandbox "$ARC_LOG")"
grep -qF "stream:$SOCK: connect QEMU with -netdev stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK -device virtio-net-pci,netdev=n0" "$ARC_LOG" ||
	fail "arcnat did not print the QEMU arguments: $(grep stream "$ARC_LOG")"
ok "arcnat listens on $SOCK (a stale socket replaced) and prints the QEMU arguments"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"

# --- g1: a lease, then killed while it runs ----------------------------------------
echo 'sleep 600' >"$TMPD/g1-test.sh"
t0=$(date +%s)
guest_boot g1 "$NS_IN" "$(tscale 150)" "$TMPD/g1-test.sh"
lim=$(($(tscale 150) * 2))
i=0
while [ $i -lt "$lim" ] && ! grep -q '^RESULT dhcp ' "$TMPD/g1.console"; do
	alive "$GUEST_PID" || break
	sleep 0.5
	i=$((i + 1))
done
lease1=$(tr -d '\r' <"$TMPD/g1.console" | sed -n 's/^RESULT dhcp ok //p' | tail -n 1)
[ -n "$lease1" ] || fail "g1 got no lease: $(tr -d '\r' <"$TMPD/g1.console" | tail -n 10) $(tail -n 5 "$TMPD/g1.qemu")"
info "g1 lease after $(($(date +%s) - t0)) s: $lease1"
bg_stop "$GUEST_PID"
i=0
while [ $i -lt 50 ] && ! grep -qF "stream:$SOCK#1: guest disconnected" "$ARC_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
grep -qF "stream:$SOCK#1: guest disconnected" "$ARC_LOG" || fail "arcnat did not see g1's QEMU go: $(grep stream "$ARC_LOG")"
arcnat_alive || fail "arcnat is gone after g1's QEMU was killed"
ok "g1 ($lease1) killed: its port removed, arcnat runs on"

# --- g2: the same MAC on the same socket -------------------------------------------
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
t0=$(date +%s)
guest_boot g2 "$NS_IN" "$(tscale 150)" "$TMPD/g2-test.sh"
guest_wait g2
info "g2 boot to power-off: $(($(date +%s) - t0)) s"

guest_expect g2 dhcp
case $GUEST_DETAIL in
"ip=10.0.2.1"[0-9][0-9]"/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC") ;;
*) fail "lease '$GUEST_DETAIL': expected ip=10.0.2.100-120/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC" ;;
esac
[ "$GUEST_DETAIL" = "$lease1" ] || fail "g2 got '$GUEST_DETAIL', g1 (same MAC) had '$lease1'"
ok "g2 (same MAC, after g1 was killed) got the same lease back: $GUEST_DETAIL"

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

i=0
while [ $i -lt 50 ] && ! grep -qF "stream:$SOCK#2: guest disconnected" "$ARC_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
grep -qF "stream:$SOCK#2: guest disconnected" "$ARC_LOG" || fail "arcnat did not see g2's QEMU go: $(grep stream "$ARC_LOG")"
arcnat_alive || fail "arcnat is gone after every guest left"
grep -q 'frame length out of' "$ARC_LOG" && fail "a QEMU frame was refused: $(grep 'frame length' "$ARC_LOG")"
stop_arcnat
ok "arcnat stopped cleanly after both guests left"
