#!/bin/sh
# guest_qemu_switch.sh - a real Linux guest under QEMU (TCG) on a stream
# port and a TAP guest on the same arcnat network: the VM takes a DHCP
# lease, pings the TAP guest and a host beyond the uplink; the TAP guest
# pings the VM and sends it a line over TCP. The guest-to-guest traffic
# goes through the learning switch between the two ports (switch.forwarded
# rises, no NAT flow for it). One QEMU boot.
#
#   ns an-in-$$ (TAP guest)            ns an-rt-$$ (router)                 ns an-out-$$ (outside)
#   tap0 10.0.2.2/24          <--TAP-->  arcnat gateway                      veth o0 198.51.100.1/24
#   QEMU guest eth0 (DHCP 10.0.2.100+)   --inside tap0@an-in-$$
#   -netdev stream,addr.path= <--UNIX--> --inside stream:$TMPD/guests.sock
#     $TMPD/guests.sock                  --outside r0  r0 <--veth--> o0
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"

net_checks
need qemu-system-x86_64 busybox gzip apt-get dpkg-deb
net_setup packet
guest_image
SOCK=$TMPD/guests.sock

start_arcnat --inside "tap0@$NS_IN" --inside "stream:$SOCK" --outside r0 \
	--external-ip 198.51.100.2/24 --dns 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120
[ -S "$SOCK" ] || fail "no socket at $SOCK"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"

# The VM pings the TAP guest and the outside, says so, then listens on TCP
# port 7777 until the TAP guest, done pinging it, sends it a line.
cat >"$TMPD/vm-test.sh" <<EOF
if ping -c 3 -i 0.3 -W 5 10.0.2.2 >/tmp/ping1 2>&1; then
	result ping_tap ok "\$(grep 'packets' /tmp/ping1)"
else
	result ping_tap fail "\$(tail -n 2 /tmp/ping1 | tr '\n' ' ')"
fi
if ping -c 3 -i 0.3 -W 5 198.51.100.1 >/tmp/ping2 2>&1; then
	result ping_outside ok "\$(grep 'packets' /tmp/ping2)"
else
	result ping_outside fail "\$(tail -n 2 /tmp/ping2 | tr '\n' ' ')"
fi
result waiting ok "for the TAP guest's pings"
if timeout $(tscale 60) nc -l -p 7777 >/tmp/msg 2>&1; then
	result tcp_from_tap ok "\$(cat /tmp/msg)"
else
	result tcp_from_tap fail "\$(cat /tmp/msg)"
fi
EOF
stats_request || fail "statistics"
fw0=$(stat_last switch.forwarded)
t0=$(date +%s)
guest_boot vm "$NS_IN" "$(tscale 200)" "$TMPD/vm-test.sh"
guest_until vm waiting "$(tscale 170)" ||
	fail "the VM did not get to its pings: $(tr -d '\r' <"$TMPD/vm.console" | tail -n 10) $(tail -n 5 "$TMPD/vm.qemu")"
info "VM ready after $(($(date +%s) - t0)) s"
VM_IP=$(tr -d '\r' <"$TMPD/vm.console" | sed -n 's/^RESULT dhcp ok ip=\([0-9.]*\)\/.*/\1/p' | tail -n 1)
case $VM_IP in
10.0.2.1[0-2][0-9]) ;;
*) fail "the VM's lease is '$VM_IP', not in 10.0.2.100-120" ;;
esac
flows0=$(stat nat.flows_out) || fail "statistics"
in_ns ping -c 3 -i 0.3 -W 5 "$VM_IP" >"$TMPD/ping.out" 2>&1 ||
	fail "the TAP guest cannot ping the VM at $VM_IP: $(tail -n 3 "$TMPD/ping.out")"
ok "the TAP guest pings the VM at $VM_IP"
i=0
until echo "hello from tap0" | in_ns timeout 5 socat -u STDIN "TCP:$VM_IP:7777,connect-timeout=2" 2>"$TMPD/socat.err"; do
	i=$((i + 1))
	[ $i -lt 10 ] || fail "the TAP guest cannot connect to the VM's port 7777: $(cat "$TMPD/socat.err")"
	sleep 0.5
done
stats_request || fail "statistics"
fw=$(stat_last switch.forwarded)
[ "$(stat_last nat.flows_out)" = "$flows0" ] || fail "the TAP guest's pings to the VM made a NAT flow"
# 3 requests and 3 replies of each side's pings at least
[ "$fw" -ge $((fw0 + 12)) ] || fail "switch.forwarded went from $fw0 to $fw"
guest_wait vm
guest_expect vm ping_tap
ok "the VM pings the TAP guest 10.0.2.2: $GUEST_DETAIL"
guest_expect vm ping_outside
ok "the VM pings 198.51.100.1 beyond the uplink: $GUEST_DETAIL"
guest_expect vm tcp_from_tap
[ "$GUEST_DETAIL" = "hello from tap0" ] || fail "the VM got '$GUEST_DETAIL' over TCP"
ok "the TAP guest's TCP line reached the VM: $GUEST_DETAIL"
ok "VM and TAP guest through the switch: switch.forwarded +$((fw - fw0)), no NAT flow"
stop_arcnat
echo "PASS"
