#!/bin/sh
# gateway_malformed.sh - malformed frames from a guest: arcnat gateway counts
# them as drops, keeps running, and still forwards traffic afterwards.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24)
#   inject_malformed.py             --outside r0 --external-ip 198.51.100.2/24
#   (scapy, raw frames on tap0
#    to 02:ab:cd:00:00:01)
#
# inject_malformed.py writes truncated Ethernet/IPv4/TCP/UDP/ICMP headers,
# bad total lengths, IHL, version, checksum and options, tiny and
# overlapping fragments, a TCP fragment at offset 8, wrong UDP lengths, bad
# ICMP error quotes and 500 random frames (fixed seed), and prints how many
# of the frames it wrote arcnat must drop ("certainly_invalid N").
# drops.total must rise by at least N; then a 1 MiB TCP transfer (sha256)
# and a ping must still work.
. "$(dirname "$0")/lib.sh"

net_checks
need_scapy
net_setup packet
DATA=$TMPD/data.1M
make_data "$DATA" 1

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24

# the guest's ARP entry for the gateway, so that the data checks after the
# injection do not depend on ARP
in_ns timeout 10 ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 || fail "ping before the injection failed"
ok "ping 10.0.2.2 -> 198.51.100.1 before the injection"

d0=$(stat drops.total) || fail "could not read statistics (stat drops.total)"
txd0=$(in_ns cat /sys/class/net/tap0/statistics/tx_dropped)
in_ns timeout "$(tscale 60)" "$PY" "$NET_DIR/inject_malformed.py" --iface tap0 --dst-mac "$GW_MAC" \
	--src-ip 10.0.2.2 --dst-ip 198.51.100.1 --random 500 --seed 4787 >"$TMPD/inject.out" 2>"$TMPD/inject.err" ||
	fail "inject_malformed.py failed: $(tail -n 5 "$TMPD/inject.err")"
sed 's/^/     | /' "$TMPD/inject.out"
N=$(sed -n 's/^certainly_invalid \([0-9]*\)$/\1/p' "$TMPD/inject.out")
S=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$TMPD/inject.out")
[ -n "$N" ] && [ "$N" -gt 0 ] || fail "inject_malformed.py reported no certainly-invalid frames"
txd1=$(in_ns cat /sys/class/net/tap0/statistics/tx_dropped)
[ "$txd1" = "$txd0" ] || info "note: tap0 dropped $((txd1 - txd0)) frames on its queue (arcnat did not read fast enough)"

# arcnat reads asynchronously: poll (bounded) until the drops are all counted
i=0
d1=$d0
while [ $i -lt "$(tscale 10)" ]; do
	arcnat_alive || fail "arcnat died during the injection"
	d1=$(stat drops.total) || fail "could not read statistics (stat drops.total)"
	[ $((d1 - d0)) -ge "$N" ] && break
	sleep 1
	i=$((i + 1))
done
arcnat_alive || fail "arcnat died during the injection"
[ $((d1 - d0)) -ge "$N" ] ||
	fail "drops.total rose by $((d1 - d0)) (from $d0 to $d1) for $N certainly-invalid frames of $S written"
ok "$S frames injected, $N certainly invalid: drops.total $d0 -> $d1 (+$((d1 - d0)) >= $N); arcnat still running"
# the parser reasons that moved, for the log
stats_request && awk '/^arcnat: statistics/ {delete l; n = 0; next} /^stat drop\./ && $3 != 0 {l[n++] = $2 "=" $3} END {s = ""; for (i = 0; i < n; i++) s = s " " l[i]; print "     drop counters now:" s}' "$ARC_LOG"

tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5001 198.51.100.1 "$DATA" "$(tscale 30)"
ok "after the injection: TCP 1 MiB inside -> outside, sha256 equal, $TRANSFER_RATE"
in_ns timeout 10 ping -c 2 -i 0.2 -W 2 198.51.100.1 >"$TMPD/ping.out" 2>&1 ||
	fail "ping after the injection failed: $(tail -n 2 "$TMPD/ping.out")"
ok "after the injection: ping 10.0.2.2 -> 198.51.100.1 works"
stop_arcnat
