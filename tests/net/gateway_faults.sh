#!/bin/sh
# gateway_faults.sh - --test-faults, the testing tool that stands in for
# netem (this kernel has none): frames of the guest's TAP are lost,
# duplicated, reordered and delayed in both directions, and the kernel
# TCP of the guest and of the server still moves 16 MiB each way intact
# (sha256) through the NAT; ping sees the delay; the final statistics
# count each fault. Same namespaces as gateway_basic.sh.
. "$(dirname "$0")/lib.sh"

net_checks
net_setup packet
DATA=$TMPD/data.16M
make_data "$DATA" 16
XFER_TO=$(tscale 120)

# --- a fixed delay shows in the round trip ---------------------------------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--test-faults delay=40ms,dir=rx
grep -q 'test-faults: frames are lost' "$ARC_LOG" ||
	fail "--test-faults: no warning in arcnat's log"
rtt=$(in_ns timeout 15 ping -c 3 -i 0.2 -W 3 10.0.2.1 2>&1 |
	awk -F/ '/^rtt|^round-trip/ {print int($5)}')
[ -n "$rtt" ] || fail "ping of the gateway through a 40 ms delay failed"
[ "$rtt" -ge 40 ] && [ "$rtt" -lt 1000 ] ||
	fail "ping of the gateway with delay=40ms,dir=rx: average rtt $rtt ms (expected 40 to 1000)"
stop_arcnat
d=$(stat_last inside.fault_rx_delayed)
[ "$d" -ge 3 ] || fail "stat inside.fault_rx_delayed is $d (expected >= 3)"
ok "delay=40ms,dir=rx: ping of the gateway averages $rtt ms, $d frames delayed"

# --- everything at once, both ways: TCP recovers, data intact ---------------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--test-faults drop=1%,dup=1%,reorder=2%,delay=2ms,seed=$$
tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5001 198.51.100.1 "$DATA" "$XFER_TO"
ok "16 MiB guest -> server through faults, sha256 equal ($TRANSFER_RATE)"
tcp_transfer down "$NS_OUT" "$NS_IN" 198.51.100.1 5002 198.51.100.1 "$DATA" "$XFER_TO"
ok "16 MiB server -> guest through faults, sha256 equal ($TRANSFER_RATE)"
stop_arcnat
for dir in rx tx; do
	for f in dropped duplicated reordered delayed; do
		v=$(stat_last "inside.fault_${dir}_$f")
		[ "$v" -gt 0 ] || fail "stat inside.fault_${dir}_$f is $v after 32 MiB (expected > 0)"
	done
done
ok "every fault happened both ways: rx dropped $(stat_last inside.fault_rx_dropped), duplicated $(stat_last inside.fault_rx_duplicated), reordered $(stat_last inside.fault_rx_reordered); tx dropped $(stat_last inside.fault_tx_dropped), duplicated $(stat_last inside.fault_tx_duplicated), reordered $(stat_last inside.fault_tx_reordered)"

# --- refused where it cannot apply -----------------------------------------
try_start_arcnat --inside "stream:$TMPD/s.sock" --outside r0 \
	--external-ip 198.51.100.2/24 --test-faults drop=1%
rc=$?
[ $rc = 1 ] || fail "--test-faults on a stream listener: exit status $rc (expected 1)"
grep -q 'must be a TAP or a dgram port' "$ARC_LOG" ||
	fail "--test-faults on a stream listener: no clear message: $(tail -n 3 "$ARC_LOG")"
ok "--test-faults on a stream listener refused with a message (exit 1)"
