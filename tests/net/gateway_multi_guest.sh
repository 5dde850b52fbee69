#!/bin/sh
# gateway_multi_guest.sh - two guests on one arcnat network, each a TAP in
# its own namespace: DHCP gives each its own address (a static reservation
# for one of them), they ping each other directly through the learning
# switch (no NAT), and both reach a server beyond the uplink. A guest that
# routes the other's address through the gateway gets there too (routed,
# not NATed). A second run with --isolate and the same lease file: the
# same addresses back, each guest still pings the gateway and the outside
# server, but not the other guest, neither directly (the switch's isolated
# counter rises) nor through the gateway (drop.dp.isolated rises).
#
#   ns an-in-$$ (guest 1)          ns an-rt-$$ (router)                         ns an-out-$$ (outside)
#   tap0 MAC 52:54:00:b0:00:01     arcnat gateway                                veth o0 198.51.100.1/24
#   udhcpc -> 10.0.2.x   <--TAP--> --inside tap0@an-in-$$    r0 (no address) <--veth--> (ping target)
#                                  --inside tap:tap1@an-g2-$$
#   ns an-g2-$$ (guest 2)          --outside r0 --external-ip 198.51.100.2/24
#   tap1 MAC 52:54:00:b0:00:02     --dhcp-host 52:54:00:b0:00:02,10.0.2.50
#   udhcpc -> 10.0.2.50  <--TAP--> --lease-file F [--isolate]
. "$(dirname "$0")/lib.sh"

net_checks
need busybox
busybox udhcpc --help 2>&1 | grep -q -- '-x OPT:VAL' ||
	fail "this busybox has no udhcpc (tools/deps.sh installs Debian's busybox, which has)"
net_setup packet

NS_G2=an-g2-$$
MAC1=52:54:00:b0:00:01
MAC2=52:54:00:b0:00:02
IP2=10.0.2.50
OUT=198.51.100.1
CLI_TO=$(tscale 15)
g2_ns() { ip netns exec "$NS_G2" "$@"; }

# arcnat runs as nobody once its devices are open (docs/security.md).
mkdir "$TMPD/leases.d" && chown nobody "$TMPD/leases.d" || fail "lease directory for nobody"
LEASES=$TMPD/leases.d/leases

# Guest 1 is net_setup's tap0, without its static addresses; guest 2 a
# TAP in a namespace of its own. Both get their address by DHCP.
ip -n "$NS_IN" -4 addr flush dev tap0 || fail "flush tap0"
ip -n "$NS_IN" link set dev tap0 address "$MAC1" || fail "tap0 MAC"
ns_add "$NS_G2"
_err=$(ip -n "$NS_G2" tuntap add dev tap1 mode tap 2>&1) || fail "cannot create tap1: $_err"
ip -n "$NS_G2" link set dev tap1 address "$MAC2" || fail "tap1 MAC"
ip -n "$NS_G2" link set tap1 up || fail "tap1 up"

cat >"$TMPD/udhcpc.sh" <<'EOF'
#!/bin/sh
case $1 in
deconfig) ip -4 addr flush dev "$interface" ;;
bound|renew)
	ip addr replace "$ip/${mask:-24}" dev "$interface"
	ip route replace default via "$router" dev "$interface"
	echo "$ip" >"$UDHCPC_OUT"
	;;
esac
exit 0
EOF
chmod +x "$TMPD/udhcpc.sh"

# lease NS IFACE NAME: udhcpc in NS until bound; prints the address.
lease() {
	rm -f "$TMPD/ip.$3"
	ip netns exec "$1" env UDHCPC_OUT="$TMPD/ip.$3" timeout "$CLI_TO" \
		busybox udhcpc -i "$2" -f -q -n -t 5 -T 2 -s "$TMPD/udhcpc.sh" \
		>"$TMPD/udhcpc.$3.out" 2>&1 || return 1
	cat "$TMPD/ip.$3"
}

# pings NS ADDR: 3 echo requests, all answered.
pings() {
	ip netns exec "$1" ping -c 3 -i 0.2 -W 2 "$2" >"$TMPD/ping.out" 2>&1
}

# no_ping NS ADDR: 2 echo requests, none answered.
no_ping() {
	! ip netns exec "$1" ping -c 2 -i 0.2 -W 1 "$2" >"$TMPD/ping.out" 2>&1
}

ARGS="--inside tap0@$NS_IN --inside tap:tap1@$NS_G2 --outside r0
	--external-ip 198.51.100.2/24 --dns $OUT --lease-file $LEASES
	--dhcp-host $MAC2,$IP2"

# --- run 1: one segment ------------------------------------------------------
# shellcheck disable=SC2086 # split on purpose
start_arcnat $ARGS
IP1=$(lease "$NS_IN" tap0 g1) || fail "guest 1 got no lease: $(tail -n 3 "$TMPD/udhcpc.g1.out")"
got2=$(lease "$NS_G2" tap1 g2) || fail "guest 2 got no lease: $(tail -n 3 "$TMPD/udhcpc.g2.out")"
case $IP1 in
10.0.2.*) ;;
*) fail "guest 1: address '$IP1' is not in 10.0.2.0/24" ;;
esac
[ "$IP1" != "$IP2" ] || fail "both guests got $IP1"
[ "$got2" = "$IP2" ] || fail "guest 2 ($MAC2) got $got2, not its reservation $IP2"
ok "DHCP: guest 1 ($MAC1) $IP1, guest 2 ($MAC2) $IP2 (its reservation)"

stats_request || fail "statistics"
fw0=$(stat_last switch.forwarded)
flows0=$(stat_last nat.flows_out)
pings "$NS_IN" "$IP2" || fail "guest 1 cannot ping guest 2: $(tail -n 3 "$TMPD/ping.out")"
pings "$NS_G2" "$IP1" || fail "guest 2 cannot ping guest 1: $(tail -n 3 "$TMPD/ping.out")"
stats_request || fail "statistics"
fw=$(stat_last switch.forwarded)
flows=$(stat_last nat.flows_out)
[ "$fw" -ge $((fw0 + 12)) ] || fail "switch.forwarded went from $fw0 to $fw for 12 echo messages"
[ "$flows" = "$flows0" ] || fail "guest-to-guest pings made NAT flows ($flows0 -> $flows)"
[ "$(stat_last switch.learned)" -ge 2 ] || fail "switch.learned is $(stat_last switch.learned)"
ok "the guests ping each other through the switch (switch.forwarded +$((fw - fw0)), no NAT flow)"

for g in "$NS_IN" "$NS_G2"; do
	pings "$g" 10.0.2.1 || fail "$g cannot ping the gateway: $(tail -n 3 "$TMPD/ping.out")"
	pings "$g" "$OUT" || fail "$g cannot ping $OUT beyond the uplink: $(tail -n 3 "$TMPD/ping.out")"
done
[ "$(stat nat.flows_out)" -ge 2 ] || fail "no NAT flows for the pings to $OUT"
ok "both guests ping the gateway and $OUT beyond the uplink"

# A guest that sends the other's address to the gateway (a host route via
# it): routed to the other guest, not NATed out of the uplink.
ip -n "$NS_IN" route add "$IP2/32" via 10.0.2.1 dev tap0 || fail "host route"
flows0=$(stat nat.flows_out) || fail "statistics"
pings "$NS_IN" "$IP2" || fail "guest 1 cannot ping guest 2 through the gateway: $(tail -n 3 "$TMPD/ping.out")"
[ "$(stat nat.flows_out)" = "$flows0" ] || fail "a guest-to-guest packet through the gateway made a NAT flow"
ip -n "$NS_IN" route del "$IP2/32" || fail "host route del"
[ "$(stat_last drop.dp.isolated)" = 0 ] || fail "drop.dp.isolated without --isolate"
ok "guest 1 -> gateway -> guest 2 is routed inside, without NAT"
stop_arcnat
# The pool lease is kept; a reservation needs no lease in the file.
grep -qi "$MAC1 $IP1" "$LEASES" || fail "the lease file lacks guest 1's lease: $(cat "$LEASES")"

# --- run 2: --isolate, same lease file ----------------------------------------
# shellcheck disable=SC2086 # split on purpose
start_arcnat $ARGS --isolate
again1=$(lease "$NS_IN" tap0 g1) || fail "guest 1 got no lease (isolate): $(tail -n 3 "$TMPD/udhcpc.g1.out")"
again2=$(lease "$NS_G2" tap1 g2) || fail "guest 2 got no lease (isolate): $(tail -n 3 "$TMPD/udhcpc.g2.out")"
[ "$again1" = "$IP1" ] && [ "$again2" = "$IP2" ] ||
	fail "after the restart the guests got $again1 and $again2, not $IP1 and $IP2"
ok "--isolate, same lease file: the guests got $IP1 and $IP2 back"

for g in "$NS_IN" "$NS_G2"; do
	pings "$g" 10.0.2.1 || fail "$g cannot ping the gateway (isolate): $(tail -n 3 "$TMPD/ping.out")"
	pings "$g" "$OUT" || fail "$g cannot ping $OUT (isolate): $(tail -n 3 "$TMPD/ping.out")"
done
ok "isolated, each guest still pings the gateway and $OUT"

iso0=$(stat switch.isolated) || fail "statistics"
# The neighbour entries of run 1 are still there: unicast to the other's MAC.
no_ping "$NS_IN" "$IP2" || fail "isolated, guest 1 still pings guest 2"
no_ping "$NS_G2" "$IP1" || fail "isolated, guest 2 still pings guest 1"
# Without them: the ARP requests reach only the gateway, which does not answer.
ip -n "$NS_IN" neigh flush dev tap0
no_ping "$NS_IN" "$IP2" || fail "isolated, guest 1 still pings guest 2 (ARP)"
iso=$(stat switch.isolated) || fail "statistics"
[ "$iso" -ge $((iso0 + 5)) ] || fail "switch.isolated went from $iso0 to $iso"
ok "isolated: no ping between the guests, directly or by ARP (switch.isolated +$((iso - iso0)))"

ip -n "$NS_IN" route add "$IP2/32" via 10.0.2.1 dev tap0 || fail "host route"
flows0=$(stat nat.flows_out) || fail "statistics"
no_ping "$NS_IN" "$IP2" || fail "isolated, guest 1 reaches guest 2 through the gateway"
d=$(stat drop.dp.isolated) || fail "statistics"
[ "$d" -ge 2 ] || fail "drop.dp.isolated is $d after 2 pings through the gateway"
[ "$(stat_last nat.flows_out)" = "$flows0" ] || fail "an isolated guest-to-guest packet made a NAT flow"
ip -n "$NS_IN" route del "$IP2/32"
ok "isolated: guest 1 -> gateway -> guest 2 dropped (drop.dp.isolated $d), nothing NATed"
stop_arcnat
echo "PASS"
