#!/bin/sh
# gateway_limits.sh - flow expiry and a full connection table in arcnat
# gateway (AF_PACKET uplink), with short timeouts and a tiny table.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24)
#                                   --outside r0 --external-ip 198.51.100.2/24
#                                   --timeout-udp 2 --allow-short-udp-timeout
#                                   --timeout-icmp 2 --max-flows N (8, or the
#                                   smallest value arcnat accepts)
#
#   expiry:     UDP 10.0.2.2:40001 <-> 198.51.100.1:7001 (echo) and a ping;
#               nat.flows > 0, then 0 again after the timeouts; a late
#               datagram from 198.51.100.1:7001 to the old mapping is dropped
#   table full: (second run, --timeout-udp 5) N+3 UDP flows, one at a time,
#               each replied by an echo server at 198.51.100.1:7002 (replied
#               flows are not early-dropped): N work, 3 are dropped
#               (drop.nat.table_full, or port_exhausted / hash_full: printed);
#               after they expire, a new flow works
. "$(dirname "$0")/lib.sh"

net_setup packet

# --- a small table: 8, or the smallest size arcnat accepts ----------------------
MAXF=""
for n in 8 16 32 64 128 256 512 1024; do
	try_start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
		--timeout-udp 2 --allow-short-udp-timeout --timeout-icmp 2 --max-flows "$n"
	rc=$?
	if [ $rc = 0 ]; then
		MAXF=$n
		break
	fi
	[ $rc = 2 ] || fail "arcnat exited with status $rc (not 2, a bad option) for --max-flows $n"
	info "--max-flows $n refused: $(grep '^arcnat: ' "$ARC_LOG" | head -n 1)"
done
[ -n "$MAXF" ] || fail "arcnat accepted none of --max-flows 8..1024"
if [ "$MAXF" = 8 ]; then
	ok "arcnat ready (pid $ARC_PID) with --max-flows 8, UDP and ICMP timeouts 2 s"
else
	ok "arcnat ready (pid $ARC_PID); --max-flows 8 was refused, the smallest accepted is $MAXF"
fi

# wait_flows_zero SECONDS: poll nat.flows every 0.5 s until 0; sets WAITED.
wait_flows_zero() {
	_t0=$(date +%s)
	_j=0
	while [ $_j -lt $(($1 * 2)) ]; do
		_fl=$(stat nat.flows) || fail "could not read statistics"
		if [ "$_fl" = 0 ]; then
			WAITED=$(($(date +%s) - _t0))
			return 0
		fi
		sleep 0.5
		_j=$((_j + 1))
	done
	return 1
}

# --- expiry -----------------------------------------------------------------------
bg out_ns timeout 40 "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7001 0 35 echo >"$TMPD/exp.out"
LS=$BG_PID
wait_listen out_ns u 7001 || fail "UDP echo server did not start"
bg in_ns timeout 45 "$PY" "$TMPD/udptool.py" session 10.0.2.2 40001 40 expiry 198.51.100.1:7001 >"$TMPD/exp.in"
SS=$BG_PID
wait_file_grep 30 "$TMPD/exp.in" '^FROM 198.51.100.1 7001 echo:expiry' ||
	fail "expiry: no reply to 10.0.2.2:40001 -> 198.51.100.1:7001"
in_ns timeout 10 ping -c 1 -W 2 198.51.100.1 >/dev/null 2>&1 || fail "ping 198.51.100.1 failed"
fl=$(stat nat.flows) || fail "could not read statistics (stat nat.flows)"
[ "$fl" -ge 1 ] || fail "stat nat.flows is $fl right after a UDP flow and a ping (expected >= 1)"
read -r _ _ MP _ <"$TMPD/exp.out"
t_last=$(date +%s)
ok "a UDP flow (10.0.2.2:40001 -> 198.51.100.1:7001, mapped to 198.51.100.2:$MP) and a ping: nat.flows $fl"
wait_flows_zero "$(tscale 10)" || fail "nat.flows did not return to 0 within $(tscale 10) s (2 s timeouts)"
[ $(($(date +%s) - t_last)) -ge 1 ] || fail "the flows were gone less than 1 s after use (timeout is 2 s)"
ok "after the 2 s timeouts the flows expired: nat.flows 0 after $(($(date +%s) - t_last)) s"
bg_stop "$LS"
stats_request || fail "could not read statistics"
u0=$(stat_last drop.nat.unsolicited)
f0=$(stat_last drop.nat.filtered)
out_ns timeout 5 "$PY" "$TMPD/udptool.py" send 198.51.100.1 7001 198.51.100.2 "$MP" late ||
	fail "could not send the late datagram"
sleep 1
grep -q 'late' "$TMPD/exp.in" && fail "a datagram to the expired mapping 198.51.100.2:$MP reached the inside"
stats_request || fail "could not read statistics"
u1=$(stat_last drop.nat.unsolicited)
f1=$(stat_last drop.nat.filtered)
[ "$u1" -gt "$u0" ] ||
	fail "late datagram to the expired mapping: drop.nat.unsolicited $u0 -> $u1 (filtered $f0 -> $f1), expected an increase"
ok "a datagram from 198.51.100.1:7001 to the expired mapping 198.51.100.2:$MP was dropped (drop.nat.unsolicited $u0 -> $u1)"
bg_stop "$SS"

# --- full table ---------------------------------------------------------------------
# A run of its own with a 5 s UDP timeout, so that the N replied flows
# surely outlive the attempts that must fail even on a loaded machine.
stop_arcnat
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--timeout-udp 5 --allow-short-udp-timeout --timeout-icmp 2 --max-flows "$MAXF"
bg out_ns timeout 60 "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7002 0 55 echo >"$TMPD/full.out"
LS=$BG_PID
wait_listen out_ns u 7002 || fail "UDP echo server did not start"
stats_request || fail "could not read statistics"
tf0=$(stat_last drop.nat.table_full)
pe0=$(stat_last drop.nat.port_exhausted)
hf0=$(stat_last drop.nat.hash_full)
NF=$((MAXF + 3))
# one at a time, each replied before the next (replied flows cannot be
# early-dropped): up to 1 s for each of the first N, 0.3 s for the others
in_ns timeout "$(tscale 30)" "$PY" "$TMPD/udptool.py" flows 198.51.100.1 7002 42000 "$NF" 0.3 "$MAXF" 1 >"$TMPD/full.in" ||
	fail "the flow opener failed: $(tail -n 3 "$TMPD/full.in")"
read -r _ _ okc _ noc <<EOF
$(grep '^summary' "$TMPD/full.in")
EOF
stats_request || fail "could not read statistics"
tf1=$(stat_last drop.nat.table_full)
pe1=$(stat_last drop.nat.port_exhausted)
hf1=$(stat_last drop.nat.hash_full)
info "$NF flows: $okc replied, $noc not; drop.nat.table_full $tf0 -> $tf1, port_exhausted $pe0 -> $pe1, hash_full $hf0 -> $hf1"
[ "$okc" = "$MAXF" ] || fail "with --max-flows $MAXF, $okc of $NF replied flows worked (expected exactly $MAXF): $(tr '\n' ' ' <"$TMPD/full.in")"
d=$(((tf1 - tf0) + (pe1 - pe0) + (hf1 - hf0)))
[ "$d" -ge 3 ] || fail "3 flows refused but the table_full/port_exhausted/hash_full drops rose by $d only"
which=""
[ "$tf1" -gt "$tf0" ] && which="$which drop.nat.table_full +$((tf1 - tf0))"
[ "$pe1" -gt "$pe0" ] && which="$which drop.nat.port_exhausted +$((pe1 - pe0))"
[ "$hf1" -gt "$hf0" ] && which="$which drop.nat.hash_full +$((hf1 - hf0))"
ok "table of $MAXF: $okc flows worked, the other $noc were dropped, counted as$which"
wait_flows_zero "$(tscale 15)" || fail "nat.flows did not return to 0 after the full-table test"
ok "the $MAXF flows expired (5 s timeout) $WAITED s later (nat.flows 0)"
got=$(in_ns timeout 10 "$PY" "$TMPD/udptool.py" send 10.0.2.2 43000 198.51.100.1 7002 again 2)
[ "$got" = "REPLY 198.51.100.1 7002 echo:again" ] || fail "a new flow after expiry did not work: '$got'"
ok "a new flow after expiry works again (10.0.2.2:43000 -> 198.51.100.1:7002 echoed)"
bg_stop "$LS"
stop_arcnat
