#!/bin/sh
# services_dhcp.sh - arcnat's DHCP server: busybox udhcpc and ISC dhclient
# get an address and the configuration; renewal; two clients, two
# addresses; a static reservation; leases kept across a restart by
# --lease-file; malformed DHCP messages are counted drops and the server
# still answers afterwards.
#
#   ns an-in-$$ (inside)             ns an-rt-$$ (router)                        ns an-out-$$ (outside)
#   tap0 (no address; each client    arcnat gateway                              veth o0 198.51.100.1/24
#   sets the one it leases), its     --inside tap0@an-in-$$  r0 (no address) <--veth--> (nothing listens:
#   MAC changed per client  <--TAP-->--outside r0 --external-ip 198.51.100.2/24   no DNS query is sent)
#   udhcpc, dhclient,                --dns 198.51.100.1 --mtu 1400 --lease-time 60
#   inject_services.py dhcp          --lease-file F --dhcp-host 52:54:00:a0:00:50,10.0.2.50,fixed
#
# Clients, one MAC each on tap0 (ip link set tap0 address ...):
#   A 52:54:00:a0:00:01  udhcpc: options, then a renew (SIGUSR1 to udhcpc)
#   B 52:54:00:a0:00:02  udhcpc: another address than A's
#   C 52:54:00:a0:00:03  dhclient -1 -d: the lease file it writes
#   S 52:54:00:a0:00:50  udhcpc: the reservation 10.0.2.50, host name "fixed"
# After a restart with the same --lease-file (no --mtu: option 26 is 1500),
# B asks first and must get its old address back: a fresh server would give
# it the first free pool address (A's).
. "$(dirname "$0")/lib.sh"

net_checks
need busybox dhclient
busybox udhcpc --help 2>&1 | grep -q -- '-x OPT:VAL' ||
	fail "this busybox has no udhcpc (tools/deps.sh installs Debian's busybox, which has)"
need_scapy
net_setup packet

MAC_A=52:54:00:a0:00:01
MAC_B=52:54:00:a0:00:02
MAC_C=52:54:00:a0:00:03
MAC_S=52:54:00:a0:00:50
# arcnat runs as nobody once its devices are open (docs/security.md): the
# lease file's directory must be writable by that user.
mkdir "$TMPD/leases.d" && chown nobody "$TMPD/leases.d" || fail "lease directory for nobody"
LEASES=$TMPD/leases.d/leases
CLI_TO=$(tscale 15)

# The guests get their addresses by DHCP here: none on tap0 to begin with.
ip -n "$NS_IN" addr flush dev tap0 || fail "flush tap0"

# The udhcpc script: configures the leased address on tap0 (a renew is
# unicast from it) and appends the DHCP environment to $TMPD/udhcpc.env.
cat >"$TMPD/udhcpc.sh" <<EOF
#!/bin/sh
case \$1 in
deconfig) ip -4 addr flush dev "\$interface" ;;
bound|renew) ip addr replace "\$ip/\${mask:-24}" dev "\$interface" ;;
esac
echo "event=\$1 ip=\${ip:-} router=\${router:-} dns=\${dns:-} mtu=\${mtu:-} domain=\${domain:-} subnet=\${subnet:-} lease=\${lease:-} serverid=\${serverid:-} hostname=\${hostname:-} search=\${search:-}" >>"$TMPD/udhcpc.env"
exit 0
EOF
chmod +x "$TMPD/udhcpc.sh"

# set_mac MAC: give tap0 (the guest) another MAC, no address.
set_mac() {
	ip -n "$NS_IN" -4 addr flush dev tap0
	ip -n "$NS_IN" link set dev tap0 address "$1" || fail "cannot set tap0's MAC to $1"
}

# envval VAR: VAR's value in the last bound/renew line of udhcpc.env.
envval() {
	grep -E '^event=(bound|renew) ' "$TMPD/udhcpc.env" 2>/dev/null | tail -n 1 |
		tr ' ' '\n' | sed -n "s/^$1=//p"
}

# udhcpc_once: udhcpc -q (quit once bound) with tap0's MAC; fails if no lease.
udhcpc_once() {
	: >"$TMPD/udhcpc.env"
	in_ns timeout "$CLI_TO" busybox udhcpc -i tap0 -f -q -n -t 5 -T 2 \
		-O mtu -O search -s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.out" 2>&1 ||
		fail "udhcpc got no lease (exit status $?): $(tail -n 4 "$TMPD/udhcpc.out")"
	grep -q '^event=bound ' "$TMPD/udhcpc.env" ||
		fail "udhcpc exited without a bound event: $(cat "$TMPD/udhcpc.env")"
}

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --mtu 1400 --lease-time 60 --lease-file "$LEASES" \
	--dhcp-host "$MAC_S,10.0.2.50,fixed"

# --- A: udhcpc gets an address and the configuration, then renews ------------
set_mac "$MAC_A"
: >"$TMPD/udhcpc.env"
bg in_ns timeout "$(tscale 40)" busybox udhcpc -i tap0 -f -t 5 -T 2 -O mtu -O search \
	-s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.A.out" 2>&1
UPID=$BG_PID
wait_file_grep "$((CLI_TO * 10))" "$TMPD/udhcpc.env" '^event=bound ' ||
	fail "udhcpc (A) got no lease within $CLI_TO s: $(tail -n 4 "$TMPD/udhcpc.A.out")"
IP_A=$(envval ip)
for kv in "router 10.0.2.1" "dns 10.0.2.1" "mtu 1400" "domain arcnat.internal" \
	"subnet 255.255.255.0" "lease 60" "serverid 10.0.2.1"; do
	# shellcheck disable=SC2086 # "name value", split on purpose
	set -- $kv
	v=$(envval "$1")
	[ "$v" = "$2" ] || fail "udhcpc (A): $1 is '$v', expected '$2' (lease line: $(grep '^event=bound' "$TMPD/udhcpc.env"))"
done
case $IP_A in
10.0.2.*) ;;
*) fail "udhcpc (A): address '$IP_A' is not in 10.0.2.0/24" ;;
esac
case " $(envval search) " in
*" arcnat.internal "*) ;;
*) fail "udhcpc (A): search (option 119) is '$(envval search)', expected arcnat.internal" ;;
esac
ok "udhcpc (A, $MAC_A): ip $IP_A, router 10.0.2.1, dns 10.0.2.1, mtu 1400 (--mtu), domain and search arcnat.internal, subnet 255.255.255.0, lease 60 s"

stats_request || fail "statistics"
rq0=$(stat_last dhcp.request)
ack0=$(stat_last dhcp.ack)
la=$(stat_last dhcp.leases_active)
[ "$la" -ge 1 ] || fail "dhcp.leases_active is $la with A bound (expected >= 1)"
UDHCPC=$(child_pids "$UPID" | head -n 1)
[ -n "$UDHCPC" ] || fail "udhcpc (A) PID not found"
# the renew is unicast from A's address: the kernel must have it
in_ns ip -4 addr show dev tap0 | grep -q "inet $IP_A/24" || fail "the udhcpc script did not configure $IP_A on tap0"
kill -USR1 "$UDHCPC" || fail "SIGUSR1 to udhcpc"
wait_file_grep "$((CLI_TO * 10))" "$TMPD/udhcpc.env" '^event=renew ' ||
	fail "udhcpc (A): no renew (ACK) within $CLI_TO s of SIGUSR1: $(tail -n 4 "$TMPD/udhcpc.A.out"); events: $(cut -d' ' -f1,2 "$TMPD/udhcpc.env" | tr '\n' ' ')"
[ "$(envval ip)" = "$IP_A" ] || fail "udhcpc (A): the renew gave $(envval ip), not $IP_A"
rq1=$(stat dhcp.request) || fail "statistics"
ack1=$(stat_last dhcp.ack)
nak1=$(stat_last dhcp.nak)
[ "$rq1" -gt "$rq0" ] && [ "$ack1" -gt "$ack0" ] ||
	fail "renew: dhcp.request $rq0 -> $rq1, dhcp.ack $ack0 -> $ack1 (both must grow)"
bg_stop "$UPID"
ok "renew (SIGUSR1 to udhcpc): ACK for $IP_A again; dhcp.request $rq0 -> $rq1, dhcp.ack $ack0 -> $ack1, dhcp.nak $nak1"

# --- B: a second client (another MAC on tap0) gets another address ------------
set_mac "$MAC_B"
udhcpc_once
IP_B=$(envval ip)
[ -n "$IP_B" ] && [ "$IP_B" != "$IP_A" ] || fail "client B got '$IP_B', client A has '$IP_A': expected two different addresses"
la=$(stat dhcp.leases_active) || fail "statistics"
[ "$la" -ge 2 ] || fail "dhcp.leases_active is $la with A and B bound (expected >= 2)"
ok "two clients, two addresses: A ($MAC_A) $IP_A, B ($MAC_B) $IP_B; dhcp.leases_active $la"

# --- C: ISC dhclient ------------------------------------------------------------
set_mac "$MAC_C"
cat >"$TMPD/dhclient.conf" <<'EOF'
timeout 15;
retry 1;
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers,
	domain-name, domain-search, interface-mtu, host-name;
EOF
: >"$TMPD/dhclient.leases"
bg in_ns timeout "$(tscale 25)" dhclient -1 -d -v -cf "$TMPD/dhclient.conf" -sf /bin/true \
	-lf "$TMPD/dhclient.leases" -pf "$TMPD/dhclient.pid" tap0 >"$TMPD/dhclient.out" 2>&1
DPID=$BG_PID
wait_file_grep "$((CLI_TO * 10))" "$TMPD/dhclient.leases" 'fixed-address' ||
	fail "dhclient wrote no lease within $CLI_TO s: $(tail -n 6 "$TMPD/dhclient.out")"
# the lease is written at once, but give it the closing brace
wait_file_grep 20 "$TMPD/dhclient.leases" '^}' || true
bg_stop "$DPID"
L=$TMPD/dhclient.leases
IP_C=$(sed -n 's/^ *fixed-address \([0-9.]*\);/\1/p' "$L" | tail -n 1)
for want in 'option routers 10.0.2.1;' 'option domain-name-servers 10.0.2.1;' \
	'option interface-mtu 1400;' 'option domain-name "arcnat.internal";' \
	'option subnet-mask 255.255.255.0;' 'option dhcp-server-identifier 10.0.2.1;' \
	'option dhcp-lease-time 60;'; do
	grep -q -F "$want" "$L" || fail "dhclient's lease has no '$want': $(tr '\n' ' ' <"$L")"
done
case $IP_C in
10.0.2.*) ;;
*) fail "dhclient: fixed-address '$IP_C' is not in 10.0.2.0/24" ;;
esac
[ "$IP_C" != "$IP_A" ] && [ "$IP_C" != "$IP_B" ] || fail "dhclient got $IP_C, which A ($IP_A) or B ($IP_B) holds"
ok "dhclient ($MAC_C): fixed-address $IP_C; routers, domain-name-servers 10.0.2.1, interface-mtu 1400, domain-name arcnat.internal in its lease file"

# --- S: the static reservation ---------------------------------------------------
set_mac "$MAC_S"
udhcpc_once
[ "$(envval ip)" = 10.0.2.50 ] || fail "--dhcp-host $MAC_S,10.0.2.50,fixed: udhcpc got '$(envval ip)'"
[ "$(envval hostname)" = fixed ] || fail "--dhcp-host ...,fixed: option 12 (hostname) is '$(envval hostname)', expected 'fixed'"
ok "static reservation --dhcp-host $MAC_S,10.0.2.50,fixed: udhcpc got 10.0.2.50, host name 'fixed'"

# --- malformed DHCP messages -------------------------------------------------------
set_mac "$MAC_A"
stats_request || fail "statistics"
d0=$(stat_last drops.total)
o0=$(stat_last dhcp.offer)
in_ns timeout "$(tscale 30)" "$PY" "$NET_DIR/inject_services.py" dhcp --iface tap0 --rounds 2 \
	>"$TMPD/inject.out" 2>"$TMPD/inject.err" ||
	fail "inject_services.py dhcp failed: $(tail -n 5 "$TMPD/inject.err")"
N=$(sed -n 's/^certainly_invalid \([0-9]*\)$/\1/p' "$TMPD/inject.out")
[ -n "$N" ] && [ "$N" -gt 0 ] || fail "inject_services.py reported nothing sent: $(cat "$TMPD/inject.out")"
i=0
d1=$d0
while [ $i -lt "$(tscale 10)" ]; do
	arcnat_alive || fail "arcnat died during the DHCP injection"
	d1=$(stat drops.total) || fail "statistics"
	[ $((d1 - d0)) -ge "$N" ] && break
	sleep 1
	i=$((i + 1))
done
[ $((d1 - d0)) -ge "$N" ] || {
	sed 's/^/     | /' "$TMPD/inject.out"
	fail "drops.total rose by $((d1 - d0)) ($d0 -> $d1) for $N malformed DHCP messages"
}
o1=$(stat_last dhcp.offer)
[ "$o1" = "$o0" ] || fail "arcnat answered a malformed DHCP message: dhcp.offer $o0 -> $o1"
# every reason the injector expects must have moved by its count (the
# counters are cumulative; none moved before except by these messages)
why=""
for r in $(sed -n 's/^expect \([a-z_]*\) [0-9]*$/\1/p' "$TMPD/inject.out"); do
	want=$(sed -n "s/^expect $r \\([0-9]*\\)$/\\1/p" "$TMPD/inject.out")
	have=$(stat_last "drop.dhcp.$r")
	[ "$have" -ge "$want" ] || why="$why drop.dhcp.$r=$have<$want"
	info "drop.dhcp.$r $have (injected $want)"
done
[ -z "$why" ] || fail "DHCP drop reasons not counted as expected:$why"
udhcpc_once
[ "$(envval ip)" = "$IP_A" ] || fail "after the injection, A got '$(envval ip)' instead of its address $IP_A"
ok "$N malformed DHCP messages (truncated BOOTP, no/bad magic cookie, option past the end, no message type, ...): drops.total $d0 -> $d1, each drop.dhcp reason counted, none answered; udhcpc (A) still gets $IP_A"

# --- --lease-file: restart, B asks first and gets its address back ------------------
wait_file_grep "$(($(tscale 5) * 10))" "$LEASES" " $MAC_B $IP_B " ||
	fail "the lease file has no line for B ($MAC_B $IP_B) within $(tscale 5) s: $(cat "$LEASES" 2>/dev/null)"
stop_arcnat
ip -n "$NS_IN" link set dev tap0 mtu 1500 || fail "tap0 mtu 1500"
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --lease-time 60 --lease-file "$LEASES" \
	--dhcp-host "$MAC_S,10.0.2.50,fixed"
set_mac "$MAC_B"
udhcpc_once
[ "$(envval ip)" = "$IP_B" ] ||
	fail "--lease-file: after the restart B got '$(envval ip)', before it had $IP_B (lease file: $(grep -v '^#' "$LEASES" | tr '\n' ';'))"
[ "$(envval mtu)" = 1500 ] || fail "without --mtu, option 26 is '$(envval mtu)', expected 1500"
la=$(stat dhcp.leases_active) || fail "statistics"
stop_arcnat
ok "--lease-file: after a restart B ($MAC_B) asks first and gets $IP_B again; mtu 1500 without --mtu; dhcp.leases_active $la"

# control: the same without --lease-file, to show that the check above
# depends on the file (a fresh server gives B the first free address)
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --lease-time 60
udhcpc_once
if [ "$(envval ip)" = "$IP_B" ]; then
	info "control: without --lease-file B also gets $IP_B: the --lease-file check above does not tell the two apart"
else
	info "control: without --lease-file B gets $(envval ip), not $IP_B"
fi
stop_arcnat
