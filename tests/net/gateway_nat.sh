#!/bin/sh
# gateway_nat.sh - NAT behaviour through arcnat gateway (AF_PACKET uplink):
# hairpinning, endpoint-independent mapping, ICMP errors reaching the inside
# sender, fragmented UDP both ways, and the three filtering modes (one
# arcnat run each).
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24 as 2nd dest)
#                                   --outside r0 --external-ip 198.51.100.2/24
#                                   --forward tcp:8080:10.0.2.2:80
#                                   [--filtering eif|adf|apdf]
#
#   hairpin:  10.0.2.3 -> 198.51.100.2:8080 -> (arcnat) -> 10.0.2.2:80, seen from 198.51.100.2
#   EIM:      10.0.2.2:40000 -> 198.51.100.1:7001 and -> 198.51.100.3:7002: same external port
#   ICMP:     10.0.2.2 -> 198.51.100.1:7999 (closed): port unreachable -> ECONNREFUSED inside
#   frags:    4000/20000-byte UDP 10.0.2.2 <-> 198.51.100.1:7003 (echo), fragmented both ways
#   filtering, inside 10.0.2.2:P -> 198.51.100.1:7001 first, then to the mapped port:
#             (a) from 198.51.100.1:7001   eif yes  adf yes  apdf yes
#             (b) from 198.51.100.1:7999   eif yes  adf yes  apdf no
#             (c) from 198.51.100.3:7001   eif yes  adf no   apdf no
. "$(dirname "$0")/lib.sh"

net_setup packet

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--forward tcp:8080:10.0.2.2:80

# --- hairpin ------------------------------------------------------------------
bg in_ns timeout 15 socat TCP-LISTEN:80,bind=10.0.2.2,reuseaddr \
	SYSTEM:'echo "peer $SOCAT_PEERADDR"' 2>"$TMPD/hp.srv.err"
HS=$BG_PID
wait_listen in_ns t 80 || fail "inside TCP server did not start"
got=$(in_ns timeout 10 socat -u TCP:198.51.100.2:8080,bind=10.0.2.3 - 2>&1)
bg_stop "$HS"
[ "$got" = "peer 198.51.100.2" ] ||
	fail "hairpin 10.0.2.3 -> 198.51.100.2:8080 -> 10.0.2.2:80: expected 'peer 198.51.100.2', got '$got'"
hp=$(stat nat.hairpin) || fail "could not read statistics (stat nat.hairpin)"
[ "$hp" -gt 0 ] || fail "stat nat.hairpin is $hp after a hairpinned connection"
ok "hairpin 10.0.2.3 -> 198.51.100.2:8080 -> 10.0.2.2:80 works, server saw the external source 198.51.100.2; nat.hairpin $hp"

# --- endpoint-independent mapping ---------------------------------------------
bg out_ns timeout 15 "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7001 1 10 >"$TMPD/eim.1"
L1=$BG_PID
bg out_ns timeout 15 "$PY" "$TMPD/udptool.py" listen 198.51.100.3 7002 1 10 >"$TMPD/eim.2"
L2=$BG_PID
wait_listen out_ns u 7001 && wait_listen out_ns u 7002 || fail "UDP listeners did not start"
in_ns timeout 10 "$PY" "$TMPD/udptool.py" session 10.0.2.2 40000 0.5 eim \
	198.51.100.1:7001 198.51.100.3:7002 >/dev/null || fail "EIM sender failed"
wait_file_grep 30 "$TMPD/eim.1" '^FROM' && wait_file_grep 30 "$TMPD/eim.2" '^FROM' ||
	fail "EIM: a datagram did not arrive: '$(cat "$TMPD/eim.1")' '$(cat "$TMPD/eim.2")'"
bg_stop "$L1"
bg_stop "$L2"
read -r _ a1 p1 _ <"$TMPD/eim.1"
read -r _ a2 p2 _ <"$TMPD/eim.2"
[ "$a1" = 198.51.100.2 ] && [ "$a2" = 198.51.100.2 ] ||
	fail "EIM: sources seen $a1 and $a2 (expected 198.51.100.2 both)"
[ "$p1" = "$p2" ] || fail "EIM: one inside socket 10.0.2.2:40000 got external ports $p1 and $p2 (expected equal)"
ok "endpoint-independent mapping: 10.0.2.2:40000 -> 198.51.100.1:7001 and 198.51.100.3:7002 both seen from 198.51.100.2:$p1"

# --- ICMP port unreachable back to the inside sender ---------------------------
ie0=$(stat nat.icmp_errors) || fail "could not read statistics (stat nat.icmp_errors)"
got=$(in_ns timeout 10 "$PY" "$TMPD/udptool.py" refused 198.51.100.1 7999 3 2>&1)
case $got in
*refused*) ;;
*) fail "UDP to closed port 198.51.100.1:7999: expected ECONNREFUSED inside, got '$got'" ;;
esac
ie1=$(stat nat.icmp_errors) || fail "could not read statistics (stat nat.icmp_errors)"
[ "$ie1" -gt "$ie0" ] || fail "stat nat.icmp_errors did not increase ($ie0 -> $ie1)"
ok "UDP to a closed outside port: the inside socket got ECONNREFUSED (ICMP port unreachable translated); nat.icmp_errors $ie0 -> $ie1"

# --- fragmented UDP both ways (RFC 4787 REQ-14) -----------------------------------
# 4000 and 20000-byte datagrams: the inside kernel fragments them on tap0
# (MTU 1500), the outside kernel fragments the echoes on o0; arcnat matches
# the later fragments to their first fragment's flow.
bg out_ns timeout 20 "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7003 2 15 echo >"$TMPD/frag.out"
LS=$BG_PID
wait_listen out_ns u 7003 || fail "UDP echo server did not start"
fr0=$(stat nat.fragments) || fail "could not read statistics (stat nat.fragments)"
for size in 4000 20000; do
	got=$(in_ns timeout 10 "$PY" "$TMPD/udptool.py" bigecho 10.0.2.2 40200 198.51.100.1 7003 "$size" 3 2>&1)
	case $got in
	"ECHOED $size from 198.51.100.1 7003") ;;
	*) fail "fragmented UDP: $size bytes 10.0.2.2 -> 198.51.100.1:7003 and back: '$got'" ;;
	esac
done
bg_stop "$LS"
fr1=$(stat nat.fragments) || fail "could not read statistics (stat nat.fragments)"
[ "$fr1" -gt "$fr0" ] || fail "stat nat.fragments did not increase ($fr0 -> $fr1)"
ok "fragmented UDP: 4000 and 20000-byte datagrams 10.0.2.2 <-> 198.51.100.1:7003 intact both ways; nat.fragments $fr0 -> $fr1"

# --- filtering modes ------------------------------------------------------------
# probe MODE CASE SRC_IP SRC_PORT EXPECT(allow|drop)
probe() {
	_f0=$(stat drop.nat.filtered) || fail "could not read statistics"
	out_ns timeout 5 "$PY" "$TMPD/udptool.py" send "$3" "$4" 198.51.100.2 "$MP" "probe-$2" ||
		fail "could not send probe $2"
	if [ "$5" = allow ]; then
		wait_file_grep 20 "$TMPD/filt.in.$1" "^FROM $3 $4 probe-$2" ||
			fail "filtering $1, case ($2) from $3:$4 to 198.51.100.2:$MP: expected delivered, not received inside"
		ok "filtering $1: ($2) from $3:$4 to the mapping 198.51.100.2:$MP delivered to 10.0.2.2:$IP_PORT"
	else
		sleep 1
		grep -q "probe-$2" "$TMPD/filt.in.$1" &&
			fail "filtering $1, case ($2) from $3:$4: expected dropped, but the inside received it"
		_f1=$(stat drop.nat.filtered) || fail "could not read statistics"
		[ "$_f1" -gt "$_f0" ] ||
			fail "filtering $1, case ($2) from $3:$4: not received, but drop.nat.filtered did not increase ($_f0 -> $_f1)"
		ok "filtering $1: ($2) from $3:$4 dropped (not received within 1 s; drop.nat.filtered $_f0 -> $_f1)"
	fi
}

n=0
for mode in eif adf apdf; do
	n=$((n + 1))
	stop_arcnat
	start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 --filtering "$mode"
	IP_PORT=$((40100 + n))
	bg out_ns timeout 20 "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7001 1 15 echo >"$TMPD/filt.out.$mode"
	LS=$BG_PID
	wait_listen out_ns u 7001 || fail "UDP listener did not start"
	bg in_ns timeout 25 "$PY" "$TMPD/udptool.py" session 10.0.2.2 "$IP_PORT" 20 "first-$mode" \
		198.51.100.1:7001 >"$TMPD/filt.in.$mode"
	SS=$BG_PID
	wait_file_grep 30 "$TMPD/filt.out.$mode" '^FROM' || fail "filtering $mode: the first datagram did not reach the outside"
	read -r _ _ MP _ <"$TMPD/filt.out.$mode"
	# (a) the reply from the endpoint the inside host sent to
	wait_file_grep 20 "$TMPD/filt.in.$mode" "^FROM 198.51.100.1 7001 echo:first-$mode" ||
		fail "filtering $mode, case (a): the reply from 198.51.100.1:7001 did not arrive"
	ok "filtering $mode: (a) reply from 198.51.100.1:7001 to the mapping 198.51.100.2:$MP delivered to 10.0.2.2:$IP_PORT"
	case $mode in
	eif)
		probe eif b 198.51.100.1 7999 allow
		probe eif c 198.51.100.3 7001 allow
		;;
	adf)
		probe adf b 198.51.100.1 7999 allow
		probe adf c 198.51.100.3 7001 drop
		;;
	apdf)
		probe apdf b 198.51.100.1 7999 drop
		probe apdf c 198.51.100.3 7001 drop
		;;
	esac
	bg_stop "$SS"
	bg_stop "$LS"
done
stop_arcnat
