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
. "$NET_DIR/../qemu/scenario.sh"

scenario_setup
SOCK=$TMPD/guests.sock
SCENARIO_LOG=stream

guest_outside_servers

# a stale socket at the path (its server is gone) is replaced
scenario_stale_socket "$SOCK" stream
scenario_start --inside "stream:$SOCK"
NETDEV="stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"
scenario_socket stream "$SOCK" "-netdev $NETDEV -device virtio-net-pci,netdev=n0"
ok "arcnat listens on $SOCK (a stale socket replaced) and prints the QEMU arguments"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev $NETDEV"

# --- g1: a lease, then killed while it runs (its connection goes) ------------------
scenario_first_lease g1
scenario_gone g1 1 "stream:$SOCK#1: guest disconnected"

# --- g2: the same MAC on the same socket -------------------------------------------
scenario_script "$TMPD/g2-test.sh"
t0=$(date +%s)
scenario_boot g2 "$TMPD/g2-test.sh"
guest_wait g2
info "g2 boot to power-off: $(($(date +%s) - t0)) s"
scenario_checks g2 "$LEASE1"
# the stream carries no virtio-net header: the guest's upload came as one
# frame per segment, which the datapath joins for the uplink (pkt/gro.h)
joined=$(stat gro.joined) || fail "no statistics from arcnat"
frames=$(stat_last gro.frames)
[ "$joined" -gt 0 ] && [ "$frames" -gt 0 ] ||
	fail "gro.joined $joined, gro.frames $frames after the guests' uploads (expected > 0)"
ok "the guests' upload segments were joined into super-frames for the uplink: gro.joined $joined, gro.frames $frames"

# --- no guest left: arcnat runs on, refused nothing, stops on SIGTERM -------------
scenario_gone g2 1 "stream:$SOCK#2: guest disconnected"
grep -q 'frame length out of' "$ARC_LOG" && fail "a QEMU frame was refused: $(grep 'frame length' "$ARC_LOG")"
stop_arcnat
ok "arcnat stopped cleanly after both guests left"
