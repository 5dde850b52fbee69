#!/bin/sh
# gateway_vhost_hostile.sh - a hostile vhost-user frontend against the real
# gateway, in its default sandbox: tests/tools/vhost_fe (a frontend and
# guest in one, without QEMU) first moves frames honestly (echo through
# both rings), then sends an unknown message, a ring outside its memory, a
# descriptor outside its memory and a chain that loops, checks that the
# ring still answers, and finally publishes an available index from
# nowhere, which breaks the ring: arcnat closes that connection, counts and
# logs every refusal by reason, and runs on. The TAP guest in the inside
# namespace is answered before, during and after; a frontend that connects
# again works; arcnat stops cleanly.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24                arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 <--veth--> o0
#                                   --inside vhost-user:$TMPD/vu.sock
#   vhost_fe (10.0.2.50) <--UNIX socket, memfd memory-->
#                                   --outside r0 --external-ip 198.51.100.2/24
. "$(dirname "$0")/lib.sh"

net_checks
net_setup packet
FE=$(dirname "$ARCNAT")/tests/tools/vhost_fe
[ -x "$FE" ] || fail "no $FE (make builds it)"
SOCK=$TMPD/vu.sock

start_arcnat --inside "tap0@$NS_IN" --inside "vhost-user:$SOCK" --outside r0 \
	--external-ip 198.51.100.2/24 --no-dns
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "arcnat did not enter its default sandbox: $(grep sandbox "$ARC_LOG")"

tap_ping() {
	in_ns timeout 15 ping -c 2 -i 0.2 -W 2 198.51.100.1 >"$TMPD/ping.out" 2>&1 ||
		fail "$1: the TAP guest cannot ping beyond the uplink: $(tail -n 2 "$TMPD/ping.out")"
}

tap_ping "before"
timeout 60 "$FE" "$SOCK" echo 5 >"$TMPD/fe1.out" 2>&1 ||
	fail "an honest frontend: $(cat "$TMPD/fe1.out") $(grep vhost "$ARC_LOG" | tail -n 5)"
ok "an honest frontend: $(cat "$TMPD/fe1.out")"

timeout 60 "$FE" "$SOCK" hostile >"$TMPD/fe2.out" 2>&1 ||
	fail "hostile frontend: $(cat "$TMPD/fe2.out") $(grep vhost "$ARC_LOG" | tail -n 5)"
grep -q "echo after them answered" "$TMPD/fe2.out" || fail "hostile: $(cat "$TMPD/fe2.out")"
grep -q "connection closed after a broken ring" "$TMPD/fe2.out" || fail "hostile: $(cat "$TMPD/fe2.out")"
ok "hostile frontend: bad message, ring and descriptor outside memory, a loop: counted, the ring still answers; a broken ring: closed"
i=0
while [ $i -lt 50 ] && ! grep -q 'vhost2: frontend disconnected' "$ARC_LOG"; do
	sleep 0.1
	i=$((i + 1))
done
line=$(grep 'vhost2: frontend disconnected' "$ARC_LOG") || fail "arcnat did not log the hostile frontend's end: $(grep vhost "$ARC_LOG")"
# the loop ends at the 64-buffer bound of a chain, before the ring size
for why in msg.unknown_req=1 tx.avail_idx=1 tx.buf_addr=1 tx.too_many_segs=1; do
	case $line in
	*"$why"*) ;;
	*) fail "the hostile frontend's end does not count $why: $line" ;;
	esac
done
grep -q 'vhost2: guest broke its transmit ring: connection closed' "$ARC_LOG" ||
	fail "no broken-ring line: $(grep vhost2 "$ARC_LOG")"
ok "arcnat counted each by reason: ${line#*: }"
arcnat_alive || fail "arcnat is gone after the hostile frontend"
tap_ping "after"
ok "the TAP guest is answered after the hostile frontend"

timeout 60 "$FE" "$SOCK" echo 3 >"$TMPD/fe3.out" 2>&1 ||
	fail "a frontend after the hostile one: $(cat "$TMPD/fe3.out")"
ok "a frontend after the hostile one works: $(cat "$TMPD/fe3.out")"

stop_arcnat
grep -q '^stat inside.rx_errors [1-9]' "$ARC_LOG" || fail "inside.rx_errors does not count the refusals: $(grep rx_errors "$ARC_LOG")"
ok "arcnat stopped cleanly; $(grep '^stat inside.rx_errors' "$ARC_LOG")"
