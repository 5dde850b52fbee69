#!/bin/sh
# gateway_dhcp_conflict.sh - DHCP never offers an address another guest
# uses (svc/dhcp.h "Addresses in use by other hosts"). Guest A is
# configured by hand with 10.0.2.2, the first pool address, and pings the
# gateway (so arcnat's ARP table knows it); it also holds 10.0.2.3 without
# using it (only arcnat's ARP probe finds that one). Guest B runs udhcpc
# (without its own ARP check, -a): it must get neither address, and A still
# pings through afterwards. Then A takes B's leased address by hand and
# talks from it: arcnat warns once with both MACs, and B, asking for its
# address again, is moved to another one.
#
#   ns an-in-$$ (guest A)            ns an-rt-$$ (router)                         ns an-out-$$
#   tap0 MAC 52:54:00:c0:00:0a       arcnat gateway                                veth o0 198.51.100.1/24
#   10.0.2.2, 10.0.2.3 (static) <--> --inside tap0@an-in-$$    r0 (no address) <--veth--> (ping target)
#                                    --inside tap:tap1@an-g2-$$
#   ns an-g2-$$ (guest B)            --outside r0 --external-ip 198.51.100.2/24
#   tap1 MAC 52:54:00:c0:00:0b  <--> (pool 10.0.2.2 - .254)
#   udhcpc -> 10.0.2.x
. "$(dirname "$0")/lib.sh"

net_checks
need busybox
busybox udhcpc --help 2>&1 | grep -q -- '-x OPT:VAL' ||
	fail "this busybox has no udhcpc (tools/deps.sh installs Debian's busybox, which has)"
net_setup packet

NS_G2=an-g2-$$
MAC_A=52:54:00:c0:00:0a
MAC_B=52:54:00:c0:00:0b
OUT=198.51.100.1
CLI_TO=$(tscale 15)
NAME=dhc-$$
CTL_TO=$(tscale 5)
ctl() { timeout "$CTL_TO" "$ARCNAT" ctl --timeout "$CTL_TO" --name "$NAME" "$@"; }

# Guest A: net_setup's tap0 with 10.0.2.2 and 10.0.2.3, by hand.
ip -n "$NS_IN" link set dev tap0 address "$MAC_A" || fail "tap0 MAC"
ip -n "$NS_IN" route replace default via 10.0.2.1 dev tap0 src 10.0.2.2 || fail "A's route"
# Guest B: a TAP in a namespace of its own, by DHCP.
ns_add "$NS_G2"
_err=$(ip -n "$NS_G2" tuntap add dev tap1 mode tap 2>&1) || fail "cannot create tap1: $_err"
ip -n "$NS_G2" link set dev tap1 address "$MAC_B" || fail "tap1 MAC"
ip -n "$NS_G2" link set tap1 up || fail "tap1 up"

cat >"$TMPD/udhcpc.sh" <<'EOF'
#!/bin/sh
case $1 in
deconfig) ip -4 addr flush dev "$interface" ;;
bound|renew)
	ip -4 addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	ip route replace default via "$router" dev "$interface"
	echo "$ip" >"$UDHCPC_OUT"
	;;
nak) echo nak >>"$UDHCPC_OUT.naks" ;;
esac
exit 0
EOF
chmod +x "$TMPD/udhcpc.sh"

# lease_b [udhcpc args]: udhcpc in B until bound; prints the address.
lease_b() {
	rm -f "$TMPD/ip.b"
	ip netns exec "$NS_G2" env UDHCPC_OUT="$TMPD/ip.b" timeout "$CLI_TO" \
		busybox udhcpc -i tap1 -f -q -n -t 5 -T 1 -s "$TMPD/udhcpc.sh" "$@" \
		>>"$TMPD/udhcpc.b.out" 2>&1 || return 1
	cat "$TMPD/ip.b"
}

# pings NS ADDR [ping args]: 3 echo requests, all answered.
pings() {
	_ns=$1 _to=$2
	shift 2
	ip netns exec "$_ns" ping -c 3 -i 0.2 -W 2 "$@" "$_to" >"$TMPD/ping.out" 2>&1
}

start_arcnat --inside "tap0@$NS_IN" --inside "tap:tap1@$NS_G2" --outside r0 \
	--external-ip 198.51.100.2/24 --dns "$OUT" --name "$NAME"
pings "$NS_IN" 10.0.2.1 || fail "A cannot ping the gateway from 10.0.2.2: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_IN" "$OUT" || fail "A cannot ping $OUT: $(tail -n 3 "$TMPD/ping.out")"
ok "guest A ($MAC_A, 10.0.2.2 and 10.0.2.3 by hand) pings the gateway and $OUT"

IP_B=$(lease_b) || fail "guest B got no lease: $(tail -n 5 "$TMPD/udhcpc.b.out")"
case $IP_B in
10.0.2.2) fail "guest B ($MAC_B) was given 10.0.2.2, which guest A uses (seen by ARP)" ;;
10.0.2.3) fail "guest B ($MAC_B) was given 10.0.2.3, which guest A holds (the probe should have found it)" ;;
10.0.2.*) ;;
*) fail "guest B: address '$IP_B' is not in 10.0.2.0/24" ;;
esac
stats_request || fail "statistics"
skipped=$(stat_last dhcp.in_use_skipped)
naks=$(stat_last dhcp.in_use_nak)
probes=$(stat_last dhcp.probes)
[ "$skipped" -ge 1 ] || fail "dhcp.in_use_skipped is $skipped: 10.0.2.2 was not skipped"
if [ "$probes" -lt 1 ] || [ "$(stat_last gw.arp_solicits)" -lt 1 ]; then
	fail "dhcp.probes $probes, gw.arp_solicits $(stat_last gw.arp_solicits): nothing probed"
fi
m=$(ctl metrics | awk '$1 == "arcnat_dhcp_in_use_skipped_total" {print $2}') || fail "arcnat ctl metrics"
[ "${m:-0}" -ge 1 ] || fail "the control socket's metrics: arcnat_dhcp_in_use_skipped_total is '$m'"
ok "guest B ($MAC_B) got $IP_B: dhcp.in_use_skipped $skipped (metrics $m), dhcp.in_use_nak $naks, dhcp.probes $probes"

pings "$NS_IN" 10.0.2.1 || fail "A cannot ping the gateway after B's lease: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_IN" "$OUT" || fail "A cannot ping $OUT after B's lease: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_G2" "$OUT" || fail "B cannot ping $OUT: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_G2" 10.0.2.2 || fail "B cannot ping A: $(tail -n 3 "$TMPD/ping.out")"
ok "A still pings the gateway and $OUT; B pings $OUT and A"

# A takes B's address by hand and talks from it: one warning, both MACs.
ip -n "$NS_IN" addr add "$IP_B/24" dev tap0 || fail "A takes $IP_B"
ip -n "$NS_IN" neigh flush dev tap0
pings "$NS_IN" 10.0.2.1 -I "$IP_B" || true	# B answers ARP for it too: any outcome
ip -n "$NS_IN" neigh flush dev tap0
pings "$NS_IN" 10.0.2.1 -I "$IP_B" || true
conf=$(stat dhcp.in_use_conflicts) || fail "statistics"
[ "$conf" -ge 1 ] || fail "dhcp.in_use_conflicts is $conf after A used B's $IP_B"
grep -q "dhcp: $IP_B leased to $MAC_B is in use by $MAC_A too" "$ARC_LOG" ||
	fail "no warning naming $IP_B, $MAC_B and $MAC_A: $(grep 'dhcp:' "$ARC_LOG" | tail -n 3)"
n=$(grep -c "dhcp: $IP_B leased to" "$ARC_LOG")
[ "$n" = 1 ] || fail "the conflict on $IP_B was logged $n times"
ok "A using B's $IP_B is warned once with both MACs (dhcp.in_use_conflicts $conf)"

# B asks for its address again (-r, as after a reboot): another one.
naks0=$(stat_last dhcp.in_use_nak)
skip0=$(stat_last dhcp.in_use_skipped)
IP_B2=$(lease_b -r "$IP_B") || fail "guest B got no lease again: $(tail -n 5 "$TMPD/udhcpc.b.out")"
case $IP_B2 in
10.0.2.2 | 10.0.2.3 | "$IP_B") fail "guest B was given $IP_B2, which guest A uses" ;;
esac
stats_request || fail "statistics"
[ $(($(stat_last dhcp.in_use_nak) + $(stat_last dhcp.in_use_skipped))) -gt $((naks0 + skip0)) ] ||
	fail "B's $IP_B neither skipped nor NAKed"
ip -n "$NS_IN" addr del "$IP_B/24" dev tap0 || fail "A gives $IP_B back"
pings "$NS_IN" "$OUT" || fail "A cannot ping $OUT at the end: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_G2" "$OUT" || fail "B cannot ping $OUT from $IP_B2: $(tail -n 3 "$TMPD/ping.out")"
ok "B asking for $IP_B again got $IP_B2; both guests ping $OUT"
stop_arcnat
echo "PASS"
