#!/bin/sh
# gateway_stun.sh - the real STUN client (stun, Debian stun-client) behind
# arcnat gateway against a real STUN server (stund, Debian stun-server):
# arcnat is reported as "Independent Mapping, Port Dependent Filter" (the
# default --filtering apdf) and, RFC 4787 REQ-9, "will hairpin": the
# client's request to its own external endpoint comes back to the socket
# that sent it, from that endpoint.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24)
#   stun 198.51.100.1 -v            --outside r0 --external-ip 198.51.100.2/24   stund -h 198.51.100.1
#                                                                                      -a 198.51.100.3
#
# stun's exit status encodes its verdict (stun-client 0.97, client.cxx):
# bits 1-3 the NAT type (0x06: independent mapping, port-dependent
# filter), 0x10 set when the NAT does NOT hairpin, 0x01 when it preserves
# ports.
. "$(dirname "$0")/lib.sh"

net_checks
command -v stun >/dev/null 2>&1 || skip "missing stun (stun-client)"
command -v stund >/dev/null 2>&1 || skip "missing stund (stun-server)"
net_setup packet

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24

# stund answers from both addresses and both ports (3478, 3479)
bg out_ns timeout "$(tscale 60)" stund -h 198.51.100.1 -a 198.51.100.3 >"$TMPD/stund.out" 2>&1
wait_listen out_ns u 3478 || fail "stund did not start: $(tail -n 3 "$TMPD/stund.out")"
ok "stund on 198.51.100.1 and 198.51.100.3, ports 3478 and 3479"

hp0=$(stat nat.hairpin) || fail "could not read statistics"
in_ns timeout "$(tscale 30)" stun 198.51.100.1 -v >"$TMPD/stun.out" 2>&1
rc=$?
verdict=$(grep -a '^Primary:' "$TMPD/stun.out")
info "stun exit status $rc: $verdict"
[ "$rc" -lt 124 ] || fail "stun timed out or failed to run (exit $rc): $(tail -n 5 "$TMPD/stun.out")"
case $verdict in
*"will hairpin"*) ;;
*) fail "stun says no hairpin: $verdict (exit $rc); $(grep -a -E 'test I|hairpin' "$TMPD/stun.out" | tr '\n' ' ')" ;;
esac
[ $((rc & 0x10)) = 0 ] || fail "stun's exit status $rc has the no-hairpin bit (0x10)"
[ $((rc & 0x0e)) = 6 ] ||
	fail "stun's NAT type is $((rc & 0x0e)), not 6 (independent mapping, port-dependent filter): $verdict"
hp1=$(stat nat.hairpin) || fail "could not read statistics"
[ "$hp1" -gt "$hp0" ] || fail "nat.hairpin did not move ($hp0 -> $hp1)"
ok "stun: $verdict (exit $rc); nat.hairpin $hp0 -> $hp1"
stop_arcnat
