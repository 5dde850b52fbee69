#!/bin/sh
# guest_qemu_vhost.sh - real Linux guests under QEMU (TCG) on arcnat's
# vhost-user port (--inside vhost-user:PATH, QEMU's -netdev vhost-user with
# its guest memory in a shared memfd; the virtqueues live in that memory and
# arcnat reads and writes them itself). Guest g1 takes a DHCP lease and is
# killed (QEMU's connection goes away mid-run: arcnat unmaps its memory and
# closes its fds); guest g2, the same MAC, boots on the same socket: it
# gets the same address back, pings the gateway and a server beyond the
# uplink, downloads 4 MiB over HTTP and uploads 4 MiB over TCP (each
# SHA-256 compared on the receiving side) and resolves a name through the
# DNS forwarder; arcnat runs on throughout, in its default sandbox. The
# guest image is tests/qemu/guest-image.sh's (cached in build/qemu-cache/).
#
#   ns an-in-$$ (inside)                ns an-rt-$$ (router)               ns an-out-$$ (outside)
#   QEMU guest eth0 (DHCP 10.0.2.100+)  arcnat gateway                      veth o0 198.51.100.1/24
#     |  virtio-net (vectors=0)         --inside vhost-user:$TMPD/vu.sock   dnsmasq :53 (svc.test A 198.51.100.77)
#   -netdev vhost-user  <--UNIX socket: control messages, memfd, eventfds-->  httpd.py :8080 (GET /down), socat :8081
#   memory-backend-memfd,share=on <== virtqueues in the shared memory ==>
#                                       --outside r0  r0 <--veth--> o0
#                                       --external-ip 198.51.100.2/24 --dns 198.51.100.1
#
# The UNIX socket is a file: QEMU reaches it from any namespace. arcnat
# binds it before dropping to nobody and accepts on it, maps the guest's
# memory and serves its rings in the sandbox. vectors=0: Debian's QEMU 7.2
# under TCG segfaults in msix_set_vector_notifiers when a guest starts a
# vhost-user virtio-net device with MSI-X (docs/guests.md). A backend that
# fails the handshake makes QEMU reconnect in a tight loop: each QEMU runs
# under guest_boot's timeout, and its log is cut to its end when shown.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"
. "$NET_DIR/../qemu/scenario.sh"

scenario_setup
SOCK=$TMPD/vu.sock
SCENARIO_LOG=vhost

guest_outside_servers

# a stale socket at the path (its server is gone) is replaced
scenario_stale_socket "$SOCK" stream
scenario_start --inside "vhost-user:$SOCK"
scenario_socket vhost-user "$SOCK" "-chardev socket,id=c0,path=$SOCK -netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0 -object memory-backend-memfd,id=mem,size=RAM,share=on -machine memory-backend=mem"
ok "arcnat listens on $SOCK (a stale socket replaced) and prints the QEMU arguments"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-chardev socket,id=c0,path=$SOCK -netdev vhost-user,id=n0,chardev=c0"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_DEVICE_OPTS=",vectors=0"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_QEMU_EXTRA="-object memory-backend-memfd,id=mem,size=${GUEST_MEM}M,share=on -machine memory-backend=mem"

# --- g1: a lease, then killed while it runs (arcnat unmaps its memory) ------------
scenario_first_lease g1
scenario_gone g1 1 'vhost1: frontend disconnected'

# --- g2: the same MAC on the same socket -------------------------------------------
scenario_script "$TMPD/g2-test.sh"
t0=$(date +%s)
scenario_boot g2 "$TMPD/g2-test.sh"
guest_wait g2
info "g2 boot to power-off: $(($(date +%s) - t0)) s"
scenario_checks g2 "$LEASE1"

# --- no guest left: arcnat runs on, refused nothing, stops on SIGTERM -------------
scenario_gone g2 1 'vhost2: frontend disconnected'
grep -q 'refused or bad' "$ARC_LOG" && fail "QEMU's messages or rings were refused: $(grep 'refused or bad' "$ARC_LOG")"
stop_arcnat
ok "arcnat stopped cleanly after both guests left"
