#!/bin/sh
# gateway_mtu.sh - no black holes at an MTU step (AF_PACKET and TUN uplinks): ICMP
# "fragmentation needed" (RFC 1191) both ways for packets with DF, fragments
# (RFC 791) for packets without it, and TCP with TSO finding the path MTU.
#
# Run 1: guests at MTU 9000, the uplink at 1500 (o0 at 9000: the outside
# TCP server offers an MSS that does not fit r0).
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 MTU 9000       arcnat gateway --mtu 9000                   veth o0 MTU 9000
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 MTU 1500 <--veth--> 198.51.100.1/24 (+.3, +.4)
#                                   --outside r0 --external-ip 198.51.100.2/24
#
#   UDP 6000 B, no DF:   10.0.2.2 -> 198.51.100.1:7001, arrives whole (arcnat cut it, the outside reassembled)
#   ping -M do -s 8000:  10.0.2.2 -> 198.51.100.1, "Frag needed ... mtu = 1500" from 10.0.2.1
#   tracepath:           10.0.2.2 -> 198.51.100.3, pmtu 1500
#   TCP 20 MiB up:       10.0.2.2 -> 198.51.100.4:5001 (MSS 8960 offered): TSO super-frames (tcpdump on
#                        tap0), ICMP errors, the guest's path MTU 1500, sha256 equal
#
# Run 2: guests at MTU 1500, the uplink at 9000 (r0 and o0).
#
#   arcnat gateway --mtu 1500 ... --forward udp:5000:10.0.2.2:5000
#   UDP 4000 B, DF:      198.51.100.1 -> 198.51.100.2:5000: ICMP from 198.51.100.2 (mtu 1500), seen by
#                        tcpdump on o0 and as IP_MTU 1500 on the sender's socket
#   UDP 4000 B, no DF:   the same datagram arrives whole at 10.0.2.2:5000
#
# Run 3: the TUN uplink. --mtu sets both devices, so the step comes from
# tap0 set to 9000 beforehand (arcnat keeps a TAP's MTU as found) and the
# TUN arc0 at the kernel's 1500; r0 gets 198.51.100.254/24 and forwards,
# the outside routes 203.0.113.0/24 via it (as in gateway_tun.sh).
#
#   arcnat gateway --inside tap0@an-in-$$ --outside tun:arc0 --external-ip 203.0.113.2/32
#   UDP 6000 B, no DF:   10.0.2.2 -> 198.51.100.5:7005, arrives whole from 203.0.113.2
#   ping -M do -s 8000:  10.0.2.2 -> 198.51.100.6, "Frag needed ... mtu = 1500" from 10.0.2.1
. "$(dirname "$0")/lib.sh"

command -v tcpdump >/dev/null 2>&1 || skip "missing tcpdump"
command -v tracepath >/dev/null 2>&1 || skip "missing tracepath"
net_setup packet
ip -n "$NS_OUT" addr add 198.51.100.4/24 dev o0 || fail "addr o0 (3rd)"
ip -n "$NS_OUT" link set o0 mtu 9000 || fail "o0 mtu 9000"

# mtu.py: big UDP datagrams with a fixed pattern, with or without DF.
#   recv BIND PORT SIZE TIMEOUT         one datagram; "WHOLE n from ip" if it is the pattern
#   send SRC DST PORT SIZE do|dont [WAIT]  one datagram (DF with do); after WAIT s,
#                                       prints "IP_MTU n" of the connected socket
cat >"$TMPD/mtu.py" <<'PYEOF'
import socket, sys, time
IP_MTU_DISCOVER, IP_MTU = 10, 14
PMTU = {"do": 2, "dont": 0}

def pattern(n):
    return bytes((i * 7 + 3) & 0xFF for i in range(n))

m, a = sys.argv[1], sys.argv[2:]
if m == "recv":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a[0], int(a[1])))
    s.settimeout(float(a[3]))
    try:
        d, src = s.recvfrom(65535)
    except socket.timeout:
        print("NOTHING", flush=True)
        sys.exit(3)
    if d != pattern(int(a[2])):
        print("MISMATCH", len(d), flush=True)
        sys.exit(3)
    print("WHOLE", len(d), "from", src[0], flush=True)
    sys.exit(0)
if m == "send":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, PMTU[a[4]])
    s.bind((a[0], 0))
    s.connect((a[1], int(a[2])))
    s.send(pattern(int(a[3])))
    if len(a) > 5:
        time.sleep(float(a[5]))
        print("IP_MTU", s.getsockopt(socket.IPPROTO_IP, IP_MTU), flush=True)
    sys.exit(0)
sys.exit(2)
PYEOF
mtupy() { "$PY" "$TMPD/mtu.py" "$@"; }

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 --mtu 9000
tm=$(ip -n "$NS_IN" -o link show tap0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
rm_=$(ip -n "$NS_RT" -o link show r0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
{ [ "$tm" = 9000 ] && [ "$rm_" = 1500 ]; } || fail "MTUs: tap0 $tm (want 9000), r0 $rm_ (want 1500)"

# --- UDP without DF, bigger than the uplink MTU: fragmented, arrives whole ---
bg out_ns timeout 15 "$PY" "$TMPD/mtu.py" recv 198.51.100.1 7001 6000 10 >"$TMPD/udp1.out"
UR=$BG_PID
wait_listen out_ns u 7001 || fail "UDP receiver did not start"
in_ns timeout 5 "$PY" "$TMPD/mtu.py" send 10.0.2.2 198.51.100.1 7001 6000 dont ||
	fail "UDP send 6000 bytes without DF failed"
wait "$UR"
grep -q '^WHOLE 6000 from 198.51.100.2$' "$TMPD/udp1.out" ||
	fail "6000-byte UDP datagram without DF did not arrive whole: '$(cat "$TMPD/udp1.out")'"
fr=$(stat mtu.fragmented) || fail "could not read statistics"
fs=$(stat_last mtu.fragments)
{ [ "$fr" -ge 1 ] && [ "$fs" -ge 5 ]; } || fail "mtu.fragmented $fr (want >= 1), mtu.fragments $fs (want >= 5)"
ok "UDP 6000 B without DF 10.0.2.2 -> 198.51.100.1: arcnat cut it ($fs fragments), it arrived whole from 198.51.100.2"

# --- ping -M do -s 8000: "Frag needed", then the kernel knows mtu 1500 ------
in_ns timeout 15 ping -c 3 -i 0.5 -W 2 -M "do" -s 8000 198.51.100.1 >"$TMPD/ping.out" 2>&1
grep -E -q 'mtu ?= ?1500' "$TMPD/ping.out" ||
	fail "ping -M do -s 8000 got no 'Frag needed (mtu 1500)': $(cat "$TMPD/ping.out")"
grep -q 'From 10.0.2.1 .*Frag needed' "$TMPD/ping.out" ||
	fail "no 'From 10.0.2.1 ... Frag needed' line: $(cat "$TMPD/ping.out")"
in_ns ip route get 198.51.100.1 | grep -q 'mtu 1500' ||
	fail "the inside kernel has no path MTU 1500 for 198.51.100.1: $(in_ns ip route get 198.51.100.1)"
fn=$(stat mtu.icmp_frag_needed) || fail "could not read statistics"
tb=$(stat_last drop.dp.too_big)
{ [ "$fn" -ge 1 ] && [ "$tb" -ge "$fn" ]; } || fail "mtu.icmp_frag_needed $fn, drop.dp.too_big $tb"
ok "ping -M do -s 8000: '$(grep -m 1 'Frag needed' "$TMPD/ping.out")'; route cache mtu 1500; icmp_frag_needed $fn"

# --- tracepath: pmtu 1500 ---------------------------------------------------------
in_ns timeout 20 tracepath -n -m 3 198.51.100.3 >"$TMPD/tp.out" 2>&1
grep -q 'pmtu 1500' "$TMPD/tp.out" || fail "tracepath did not report pmtu 1500: $(cat "$TMPD/tp.out")"
grep -q 'Resume: pmtu 1500' "$TMPD/tp.out" ||
	fail "tracepath did not reach 198.51.100.3 with pmtu 1500: $(cat "$TMPD/tp.out")"
ok "tracepath 198.51.100.3: $(grep 'Resume' "$TMPD/tp.out" | sed 's/^ *//')"

# --- TCP with TSO, MSS 8960 offered: path MTU discovery, data intact ------------
DATA=$TMPD/data.20M
make_data "$DATA" 20
# a frame over tap0's MTU of 9000 can only be a TSO super-frame
bg in_ns timeout 60 tcpdump -i tap0 -n -l -c 1 'src host 10.0.2.2 and tcp and greater 9100' \
	>"$TMPD/tso.tcpdump" 2>"$TMPD/tso.tcpdump.err"
TD=$BG_PID
wait_file_grep 50 "$TMPD/tso.tcpdump.err" 'listening on' || fail "tcpdump did not start: $(cat "$TMPD/tso.tcpdump.err")"
f0=$(stat mtu.icmp_frag_needed) || fail "could not read statistics"
tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.4 5001 198.51.100.4 "$DATA" "$(tscale 60)"
wait_file_grep 30 "$TMPD/tso.tcpdump" 'length' || true
bg_stop "$TD"
grep -q 'IP 10.0.2.2.* > 198.51.100.4.5001: ' "$TMPD/tso.tcpdump" ||
	fail "no TSO super-frame (over 9100 bytes) from the guest during the transfer: '$(cat "$TMPD/tso.tcpdump")'"
f1=$(stat mtu.icmp_frag_needed) || fail "could not read statistics"
[ "$f1" -gt "$f0" ] || fail "the TCP transfer got no ICMP fragmentation needed (mtu.icmp_frag_needed $f0 -> $f1)"
in_ns ip route get 198.51.100.4 | grep -q 'mtu 1500' ||
	fail "no path MTU 1500 for 198.51.100.4 after the TCP transfer: $(in_ns ip route get 198.51.100.4)"
ok "TCP 20 MiB with TSO 10.0.2.2 -> 198.51.100.4 (offered MSS 8960): $((f1 - f0)) ICMP errors, path MTU 1500 learnt, sha256 equal, $TRANSFER_RATE"
stop_arcnat
ok "final: mtu.icmp_frag_needed $(stat_last mtu.icmp_frag_needed), mtu.fragments $(stat_last mtu.fragments), drop.dp.too_big $(stat_last drop.dp.too_big), drops.total $(stat_last drops.total)"

# --- run 2: the uplink at 9000, the guests at 1500 --------------------------------
ip -n "$NS_RT" link set r0 mtu 9000 || fail "r0 mtu 9000"
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 --mtu 1500 \
	--forward udp:5000:10.0.2.2:5000

bg out_ns timeout 15 tcpdump -i o0 -n -l -c 1 'icmp[icmptype] == 3 and icmp[icmpcode] == 4' \
	>"$TMPD/fn.tcpdump" 2>"$TMPD/fn.tcpdump.err"
TD=$BG_PID
wait_file_grep 50 "$TMPD/fn.tcpdump.err" 'listening on' || fail "tcpdump did not start: $(cat "$TMPD/fn.tcpdump.err")"
got=$(out_ns timeout 10 "$PY" "$TMPD/mtu.py" send 198.51.100.1 198.51.100.2 5000 4000 "do" 1)
wait_file_grep 30 "$TMPD/fn.tcpdump" 'need to frag' || true
bg_stop "$TD"
grep -q 'IP 198.51.100.2 > 198.51.100.1: ICMP 198.51.100.2 unreachable - need to frag (mtu 1500)' "$TMPD/fn.tcpdump" ||
	fail "no ICMP need-to-frag from 198.51.100.2 on o0: '$(cat "$TMPD/fn.tcpdump")'"
[ "$got" = "IP_MTU 1500" ] || fail "the outside sender's socket did not learn MTU 1500: '$got'"
ok "UDP 4000 B with DF 198.51.100.1 -> 198.51.100.2:5000 (-> 10.0.2.2, MTU 1500): ICMP from 198.51.100.2, sender's IP_MTU 1500"

bg in_ns timeout 15 "$PY" "$TMPD/mtu.py" recv 10.0.2.2 5000 4000 10 >"$TMPD/udp2.out"
UR=$BG_PID
wait_listen in_ns u 5000 || fail "inside UDP receiver did not start"
out_ns timeout 5 "$PY" "$TMPD/mtu.py" send 198.51.100.1 198.51.100.2 5000 4000 dont ||
	fail "UDP send 4000 bytes without DF failed"
wait "$UR"
grep -q '^WHOLE 4000 from 198.51.100.1$' "$TMPD/udp2.out" ||
	fail "4000-byte UDP datagram without DF did not arrive whole inside: '$(cat "$TMPD/udp2.out")'"
ok "UDP 4000 B without DF 198.51.100.1 -> 198.51.100.2:5000 -> 10.0.2.2: cut to the guests' MTU, arrived whole"
stop_arcnat

# --- run 3: TUN uplink at 1500, guests at 9000 -------------------------------------
ip -n "$NS_RT" link set r0 mtu 1500 || fail "r0 mtu 1500"
ip -n "$NS_RT" addr add 198.51.100.254/24 dev r0 || fail "addr r0"
rt_ns sysctl -qw net.ipv4.ip_forward=1 >/dev/null || fail "ip_forward"
ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.254 || fail "outside route"
ip -n "$NS_OUT" addr add 198.51.100.5/24 dev o0 || fail "addr o0 (.5)"
ip -n "$NS_OUT" addr add 198.51.100.6/24 dev o0 || fail "addr o0 (.6)"
ip -n "$NS_IN" link set tap0 mtu 9000 || fail "tap0 mtu 9000"
start_arcnat --inside "tap0@$NS_IN" --outside tun:arc0 --external-ip 203.0.113.2/32
am=$(ip -n "$NS_RT" -o link show arc0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
tm=$(ip -n "$NS_IN" -o link show tap0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
{ [ "$tm" = 9000 ] && [ "$am" = 1500 ]; } || fail "MTUs: tap0 $tm (want 9000), arc0 $am (want 1500)"

bg out_ns timeout 15 "$PY" "$TMPD/mtu.py" recv 198.51.100.5 7005 6000 10 >"$TMPD/udp3.out"
UR=$BG_PID
wait_listen out_ns u 7005 || fail "UDP receiver did not start"
in_ns timeout 5 "$PY" "$TMPD/mtu.py" send 10.0.2.2 198.51.100.5 7005 6000 dont ||
	fail "UDP send 6000 bytes without DF failed"
wait "$UR"
grep -q '^WHOLE 6000 from 203.0.113.2$' "$TMPD/udp3.out" ||
	fail "TUN: 6000-byte UDP datagram without DF did not arrive whole: '$(cat "$TMPD/udp3.out")'"
fs=$(stat mtu.fragments) || fail "could not read statistics"
[ "$fs" -ge 5 ] || fail "TUN: mtu.fragments $fs (want >= 5)"
ok "TUN: UDP 6000 B without DF 10.0.2.2 -> 198.51.100.5: cut by arcnat ($fs fragments) into arc0, arrived whole from 203.0.113.2"

in_ns timeout 15 ping -c 3 -i 0.5 -W 2 -M "do" -s 8000 198.51.100.6 >"$TMPD/ping3.out" 2>&1
grep -q 'From 10.0.2.1 .*Frag needed.*mtu = 1500' "$TMPD/ping3.out" ||
	fail "TUN: ping -M do -s 8000 got no 'Frag needed (mtu = 1500)' from 10.0.2.1: $(cat "$TMPD/ping3.out")"
ok "TUN: ping -M do -s 8000: '$(grep -m 1 'Frag needed' "$TMPD/ping3.out")'"
stop_arcnat
