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

net_checks
need qemu-system-x86_64 busybox dnsmasq gzip apt-get dpkg-deb
net_setup packet
guest_image

# --- the inside: tap0 (arcnat's) and vm0 (QEMU's) on one bridge ----------------
ip -n "$NS_IN" addr flush dev tap0 || fail "flush tap0"
ip -n "$NS_IN" link add br0 type bridge forward_delay 0 || fail "bridge br0"
_err=$(ip -n "$NS_IN" tuntap add dev vm0 mode tap 2>&1) || fail "TAP vm0: $_err"
ip -n "$NS_IN" link set tap0 master br0 || fail "tap0 into br0"
ip -n "$NS_IN" link set vm0 master br0 || fail "vm0 into br0"
ip -n "$NS_IN" link set vm0 up || fail "vm0 up"
ip -n "$NS_IN" link set br0 up || fail "br0 up"

guest_outside_servers

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --host-ip 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120
# the default sandbox: tap0 was opened before the drop
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "arcnat did not enter its default sandbox: $(grep sandbox "$ARC_LOG")"

# --- the guest's test: runs after its DHCP lease (see tests/qemu/guest-image.sh) --
# (busybox 1.35's wget crashes with -T: bounded by busybox timeout instead;
# its --post-file stops at the first NUL byte: the upload is nc to socat;
# nslookup asks A only: dnsmasq refuses the AAAA it has no upstream for)
cat >"$TMPD/guest-test.sh" <<EOF
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
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev tap,id=n0,ifname=vm0,script=no,downscript=no"
guest_boot g1 "$NS_IN" "$(tscale 150)" "$TMPD/guest-test.sh"
guest_wait g1
info "guest boot to power-off: $(($(date +%s) - t0)) s"

# --- the checks, on this side ---------------------------------------------------
guest_expect g1 dhcp
lease=$GUEST_DETAIL
case $lease in
"ip=10.0.2.1"[0-9][0-9]"/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC") ;;
*) fail "lease '$lease': expected ip=10.0.2.100-120/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC" ;;
esac
ok "guest DHCP lease: $lease"

guest_expect g1 ping_gateway
ok "guest pings the gateway 10.0.2.1: $GUEST_DETAIL"
guest_expect g1 ping_outside
ok "guest pings 198.51.100.1 beyond the uplink: $GUEST_DETAIL"

guest_expect g1 download
[ "$GUEST_DETAIL" = "sha256=$DOWN_SHA bytes=$SIZE" ] ||
	fail "download: the guest got '$GUEST_DETAIL', expected sha256=$DOWN_SHA bytes=$SIZE"
ok "guest downloaded 4 MiB over HTTP: its sha256 equals the server's file"

guest_expect g1 upload
up_detail=$GUEST_DETAIL
# the receiver ends at the guest's EOF; bounded
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

guest_expect g1 dns
[ "$GUEST_DETAIL" = "svc.test=198.51.100.77" ] || fail "dns: the guest resolved '$GUEST_DETAIL', expected svc.test=198.51.100.77"
grep -q 'query\[A\] svc.test from 198.51.100.2$' "$TMPD/dnsmasq.log" ||
	fail "dnsmasq did not see svc.test from 198.51.100.2 (forwarded by arcnat): $(grep query "$TMPD/dnsmasq.log" | tail -n 3)"
ok "guest resolved svc.test through arcnat's forwarder (10.0.2.1 -> dnsmasq, which saw 198.51.100.2)"

arcnat_alive || fail "arcnat is gone"
stop_arcnat
