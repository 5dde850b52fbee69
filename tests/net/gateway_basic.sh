#!/bin/sh
# gateway_basic.sh - arcnat gateway with an AF_PACKET uplink: ping, TCP both
# ways (100 MiB, sha256), UDP request/reply, TCP and UDP port forwards that
# keep the client's address, exit status and counters.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24)
#                                   --outside r0 --external-ip 198.51.100.2/24
#                                   --forward tcp:8080:10.0.2.2:80
#                                   --forward udp:5353:10.0.2.2:53
#
# The outside has no route to 10.0.2.0/24: replies only come back through
# the NAT, and the outside must see 198.51.100.2 as the source.
. "$(dirname "$0")/lib.sh"

net_checks
need tcpdump
net_setup packet
DATA=$TMPD/data.100M
make_data "$DATA" 100
XFER_TO=$(tscale 120)

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--forward tcp:8080:10.0.2.2:80 --forward udp:5353:10.0.2.2:53

core_checks 198.51.100.2

# --- UDP port forward: outside -> 198.51.100.2:5353 -> 10.0.2.2:53 -----------
bg in_ns timeout 15 socat -T 10 UDP-RECVFROM:53,bind=10.0.2.2 \
	SYSTEM:'read l; echo "peer $SOCAT_PEERADDR $l"' 2>"$TMPD/ufwd.srv.err"
FS=$BG_PID
wait_listen in_ns u 53 || fail "inside UDP server did not start"
got=$(echo "fwd-$$" | out_ns timeout 10 socat -t 3 - UDP:198.51.100.2:5353,bind=198.51.100.1 2>&1)
bg_stop "$FS"
[ "$got" = "peer 198.51.100.1 fwd-$$" ] ||
	fail "UDP forward 198.51.100.2:5353 -> 10.0.2.2:53: expected 'peer 198.51.100.1 fwd-$$', got '$got'"
ok "UDP forward 198.51.100.2:5353 -> 10.0.2.2:53: request arrived, reply came back, client 198.51.100.1 seen"

# --- exit and counters ----------------------------------------------------------
arcnat_alive || fail "arcnat is not running any more"
stop_arcnat
fo=$(stat_last nat.flows_out)
fi_=$(stat_last nat.flows_in)
dt=$(stat_last drops.total)
[ "$fo" -gt 0 ] || fail "stat nat.flows_out is $fo after the run (expected > 0)"
[ "$fi_" -gt 0 ] || fail "stat nat.flows_in is $fi_ after the port forwards (expected > 0)"
ok "final statistics: nat.flows_out $fo > 0, nat.flows_in $fi_ > 0 (drops.total $dt)"

# --- --pcap: both ports, as received and as sent, readable by tcpdump --------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--pcap "$TMPD/cap.pcap"
in_ns timeout 15 ping -c 2 -i 0.2 -W 2 198.51.100.1 >/dev/null 2>&1 ||
	fail "ping through NAT failed in the --pcap run"
stop_arcnat
tcpdump -n -r "$TMPD/cap.pcap" >"$TMPD/cap.txt" 2>"$TMPD/cap.err" ||
	fail "tcpdump cannot read the --pcap file: $(cat "$TMPD/cap.err")"
for want in 'IP 10.0.2.2 > 198.51.100.1: ICMP echo request' \
	'IP 198.51.100.2 > 198.51.100.1: ICMP echo request' \
	'IP 198.51.100.1 > 198.51.100.2: ICMP echo reply' \
	'IP 198.51.100.1 > 10.0.2.2: ICMP echo reply'; do
	[ "$(grep -c "$want" "$TMPD/cap.txt")" -ge 2 ] ||
		fail "--pcap: expected 2 x '$want'; tcpdump shows: $(head -n 8 "$TMPD/cap.txt")"
done
ok "--pcap: tcpdump reads the file; echo requests and replies on both sides of the NAT, before and after translation"
