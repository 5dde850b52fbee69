#!/bin/sh
# gateway_martian.sh - martian addresses (src/pkt/martian.h) from the guests
# and from the outside: each is dropped with its own drop.dp reason, before
# any state: no flow, no mapping, nothing sent on the uplink. DHCP from
# 0.0.0.0 to 255.255.255.255 is still answered.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24)
#   inject_martian.py               --outside r0 --external-ip 198.51.100.2/24   inject_martian.py
#   (scapy, raw frames on tap0                                                   (scapy, raw frames on o0
#    to 02:ab:cd:00:00:01)                                                        to r0's MAC, to 198.51.100.2)
#
# Every case is sent 3 times; the drop.dp.<reason> counters must rise by
# exactly that, and nat.flows, nat.flows_out, nat.flows_in and nat.mappings
# must stay 0, outside.tx_packets must not move.
. "$(dirname "$0")/lib.sh"

net_checks
"$PY" -c 'import scapy.all' >/dev/null 2>&1 || skip "missing scapy for $PY (python3-scapy)"
net_setup packet

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1

R0_MAC=$(rt_ns cat /sys/class/net/r0/address)
[ -n "$R0_MAC" ] || fail "no MAC for r0"

N=3
IN_CASES="dst_zeronet:10.0.2.2:0.1.2.3
dst_loopback:10.0.2.2:127.0.0.1
dst_multicast:10.0.2.2:239.1.2.3
dst_reserved:10.0.2.2:240.0.0.1
dst_broadcast:10.0.2.2:255.255.255.255
dst_subnet_broadcast:10.0.2.2:10.0.2.255
dst_subnet_broadcast:10.0.2.2:198.51.100.255
src_zeronet:0.0.0.0:198.51.100.1
src_loopback:127.0.0.1:198.51.100.1
src_multicast:224.0.0.5:198.51.100.1
src_reserved:240.0.0.1:198.51.100.1
src_broadcast:255.255.255.255:198.51.100.1
src_broadcast:10.0.2.255:198.51.100.1
src_not_inside:203.0.113.7:198.51.100.1"
OUT_CASES="src_zeronet:0.0.0.1:198.51.100.2
src_loopback:127.0.0.1:198.51.100.2
src_multicast:224.0.0.1:198.51.100.2
src_reserved:240.0.0.1:198.51.100.2
src_broadcast:255.255.255.255:198.51.100.2"
REASONS="dst_zeronet dst_loopback dst_multicast dst_reserved dst_broadcast
dst_subnet_broadcast src_zeronet src_loopback src_multicast src_reserved
src_broadcast src_not_inside"

# expected REASON: frames of that reason in both case lists, times N
expected() {
	printf '%s\n%s\n' "$IN_CASES" "$OUT_CASES" | awk -F: -v r="$1" -v n="$N" '$1 == r {c += n} END {print c + 0}'
}

stats_request || fail "could not read statistics"
for r in $REASONS; do
	eval "b_$r=\$(stat_last drop.dp.$r)"
done
tx0=$(stat_last outside.tx_packets)
offer0=$(stat_last dhcp.offer)

# shellcheck disable=SC2086 # one case per word
in_ns timeout "$(tscale 30)" "$PY" "$NET_DIR/inject_martian.py" --iface tap0 \
	--dst-mac "$GW_MAC" --count $N --dhcp-discover 52:54:00:4d:41:52 \
	$IN_CASES >"$TMPD/inject.in" 2>&1 || fail "inject_martian.py (inside) failed: $(tail -n 3 "$TMPD/inject.in")"
# shellcheck disable=SC2086
out_ns timeout "$(tscale 30)" "$PY" "$NET_DIR/inject_martian.py" --iface o0 \
	--dst-mac "$R0_MAC" --count $N \
	$OUT_CASES >"$TMPD/inject.out" 2>&1 || fail "inject_martian.py (outside) failed: $(tail -n 3 "$TMPD/inject.out")"

# arcnat reads asynchronously: poll (bounded) until every case is counted
want_all=0
b=0
for r in $REASONS; do want_all=$((want_all + $(expected "$r"))); done
i=0
while [ $i -lt "$(tscale 10)" ]; do
	arcnat_alive || fail "arcnat died during the injection"
	stats_request || fail "could not read statistics"
	got_all=0
	for r in $REASONS; do
		eval "b=\$b_$r"
		got_all=$((got_all + $(stat_last "drop.dp.$r") - b))
	done
	[ "$got_all" -ge "$want_all" ] && [ "$(stat_last dhcp.offer)" -gt "$offer0" ] && break
	sleep 1
	i=$((i + 1))
done

for r in $REASONS; do
	eval "b=\$b_$r"
	got=$(($(stat_last "drop.dp.$r") - b))
	want=$(expected "$r")
	[ "$got" = "$want" ] || fail "drop.dp.$r rose by $got, expected $want"
	ok "drop.dp.$r +$got (as expected)"
done
for s in nat.flows nat.flows_out nat.flows_in nat.mappings; do
	v=$(stat_last "$s")
	[ "$v" = 0 ] || fail "$s is $v after martians only: state was created"
done
[ "$(stat_last outside.tx_packets)" = "$tx0" ] ||
	fail "outside.tx_packets moved from $tx0 to $(stat_last outside.tx_packets): a martian left"
ok "$want_all martian frames, no flow, no mapping, nothing sent on the uplink"
[ "$(stat_last dhcp.offer)" -gt "$offer0" ] ||
	fail "the DHCPDISCOVER from 0.0.0.0 to 255.255.255.255 got no offer"
ok "DHCPDISCOVER 0.0.0.0 -> 255.255.255.255 still answered (dhcp.offer $offer0 -> $(stat_last dhcp.offer))"

# the guest still gets through
in_ns timeout 10 ping -c 1 -W 2 198.51.100.1 >"$TMPD/ping.out" 2>&1 ||
	fail "ping after the martians failed: $(tail -n 2 "$TMPD/ping.out")"
ok "ping 10.0.2.2 -> 198.51.100.1 works afterwards"
stop_arcnat
