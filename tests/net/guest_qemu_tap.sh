#!/bin/sh
# guest_qemu_tap.sh - a real Linux guest under QEMU (TCG) behind arcnat's TAP
# port: it takes a DHCP lease (router and DNS 10.0.2.1), pings the gateway
# and a server beyond the uplink, downloads 4 MiB over HTTP (wget) and
# uploads 4 MiB over TCP (nc to socat), each SHA-256 compared on the
# receiving side, and resolves a name through the
# DNS forwarder. The guest image is tests/qemu/guest-image.sh's (cached in
# build/qemu-cache/; the first run downloads a Debian kernel package).
#
#   ns an-in-$$ (inside)                ns an-rt-$$ (router)               ns an-out-$$ (outside)
#   QEMU guest eth0 (DHCP 10.0.2.100+)  arcnat gateway                      veth o0 198.51.100.1/24
#     |  virtio-net                     --inside tap0@an-in-$$              dnsmasq :53 (svc.test A 198.51.100.77)
#   vm0 (QEMU's TAP) --+                --outside r0                        httpd.py :8080 (GET /down), socat :8081
#                      br0 (bridge)     --external-ip 198.51.100.2/24
#   tap0 (arcnat's) ---+ <--TAP fd-->   --dns 198.51.100.1  r0 <--veth--> o0
#
# Why a bridge: a TAP has one frame side (its file descriptors) and one
# kernel side (the interface). arcnat and QEMU both want the frame side; two
# openers of one TAP (IFF_MULTI_QUEUE, or QEMU's fd= with a dup of arcnat's
# fd) would be two queues of the same side, each talking only to the
# kernel, never to each other. So QEMU gets its own TAP, vm0, and the
# kernel bridges the two TAPs' kernel sides: the guest's frames reach arcnat
# exactly as a VM's would on a host bridge.
#
# arcnat runs with its default sandbox (nobody, seccomp): it opens tap0
# before dropping privileges.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"
. "$NET_DIR/../qemu/scenario.sh"

scenario_setup
SCENARIO_LOG=tap0

# --- the inside: tap0 (arcnat's) and vm0 (QEMU's) on one bridge ----------------
ip -n "$NS_IN" addr flush dev tap0 || fail "flush tap0"
ip -n "$NS_IN" link add br0 type bridge forward_delay 0 || fail "bridge br0"
_err=$(ip -n "$NS_IN" tuntap add dev vm0 mode tap 2>&1) || fail "TAP vm0: $_err"
ip -n "$NS_IN" link set tap0 master br0 || fail "tap0 into br0"
ip -n "$NS_IN" link set vm0 master br0 || fail "vm0 into br0"
ip -n "$NS_IN" link set vm0 up || fail "vm0 up"
ip -n "$NS_IN" link set br0 up || fail "br0 up"

guest_outside_servers

# the default sandbox: tap0 was opened before the drop
scenario_start --inside "tap0@$NS_IN"

# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev tap,id=n0,ifname=vm0,script=no,downscript=no"

# --- the guest: one boot (the kill and the restart are the socket transports') ------
scenario_script "$TMPD/guest-test.sh"
t0=$(date +%s)
scenario_boot g1 "$TMPD/guest-test.sh"
guest_wait g1
info "guest boot to power-off: $(($(date +%s) - t0)) s"

# --- the checks, on this side ---------------------------------------------------
scenario_checks g1

arcnat_alive || fail "arcnat is gone"
stop_arcnat
