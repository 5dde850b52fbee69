#!/bin/sh
# gateway_stop.sh - SIGTERM while arcnat forwards as fast as it can: it
# exits within 2 s (times the sanitizer time scale), with status 0 and the
# final statistics block, which counts the flood it was forwarding.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24                arcnat gateway                              veth o0 198.51.100.1/24
#   iperf3 -c 198.51.100.1 <--TAP-->  --inside tap0@an-in-$$  r0 (no address) <--veth--> iperf3 -s (x2)
#     -u -b 0 (UDP flood)           --outside r0 --external-ip 198.51.100.2/24
#     and TCP, 20 s at most
#
# The floods are bounded by iperf3 -t and by timeout(1); SIGTERM comes 3 s
# into them.
. "$(dirname "$0")/lib.sh"

net_checks
need iperf3
net_setup packet

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24

for port in 5201 5202; do
	bg out_ns timeout 40 iperf3 -s -1 -B 198.51.100.1 -p "$port" >"$TMPD/iperf3.s.$port" 2>&1
	wait_listen out_ns t "$port" || fail "iperf3 server on port $port did not start"
done
bg in_ns timeout 30 iperf3 --forceflush -c 198.51.100.1 -p 5201 -u -b 0 -l 1400 -t 20 >"$TMPD/iperf3.udp" 2>&1
bg in_ns timeout 30 iperf3 --forceflush -c 198.51.100.1 -p 5202 -t 20 >"$TMPD/iperf3.tcp" 2>&1
sleep 3
# Both floods are running through arcnat now.
grep -q 'sec' "$TMPD/iperf3.udp" || fail "the UDP flood did not start: $(tail -n 3 "$TMPD/iperf3.udp")"
grep -q 'sec' "$TMPD/iperf3.tcp" || fail "the TCP stream did not start: $(tail -n 3 "$TMPD/iperf3.tcp")"

lim=$(tscale 2)
t0=$(date +%s.%N)
kill -TERM "$ARC_PID"
i=0
while [ $i -lt $((lim * 100 + 100)) ] && alive "$ARC_TPID"; do
	sleep 0.01
	i=$((i + 1))
done
t1=$(date +%s.%N)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
if alive "$ARC_TPID"; then
	kill_pid "$ARC_TPID"
	wait "$ARC_TPID" 2>/dev/null
	ARC_TPID="" ARC_PID=""
	fail "arcnat still running ${took} s after SIGTERM under load"
fi
wait "$ARC_TPID"
rc=$?
ARC_TPID="" ARC_PID=""
awk -v t="$took" -v l="$lim" 'BEGIN { exit !(t <= l) }' ||
	fail "arcnat took ${took} s to exit after SIGTERM under load (limit ${lim} s)"
[ $rc = 0 ] || fail "arcnat exited with status $rc after SIGTERM under load (expected 0)"
grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" && fail "sanitizer report in the arcnat log"
grep -q '^arcnat: statistics' "$ARC_LOG" || fail "no final statistics block after SIGTERM under load"
if [ "$ARC_STATS_END" = 1 ]; then
	grep -q '^arcnat: end of statistics' "$ARC_LOG" || fail "the final statistics block is not complete"
fi
rx=$(stat_last inside.rx_packets)
[ "$rx" -gt 10000 ] || fail "final statistics: inside.rx_packets $rx (expected the flood, > 10000)"
ok "SIGTERM under a UDP flood and a TCP stream: exit status 0 in ${took} s (limit ${lim} s), final statistics printed (inside.rx_packets $rx)"
