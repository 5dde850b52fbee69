#!/bin/sh
# gateway_sock.sh - arcnat gateway with the socket uplink (--outside sock):
# every flow leaves through an ordinary socket of arcnat's in the "host"
# namespace, whose kernel routes it; arcnat runs there as user nobody
# (root only opens the TAP, then the sandbox drops to nobody with no
# capabilities and the seccomp allow-list). The guest gets a DHCP lease,
# pings beyond, echoes UDP of every size up to the MTU, keeps one mapped
# port for two remotes (EIM), resolves through the DNS forwarder (its
# upstream queries are host sockets too, and its DNS over TCP goes through
# the TCP relay), gets an ICMP port unreachable for a closed port, moves
# 64 MiB each way over TCP (sha256 compared), and gets an RST at once for a
# TCP port nobody listens on. Then, with
# net.ipv4.ping_group_range forbidding ping sockets, arcnat says so in one
# line at start and echo requests are counted drops.
#
#   ns an-in-$$ (guest)          ns an-rt-$$ ("host")                       ns an-out-$$ (servers)
#   tap0 (udhcpc) <----TAP-----> arcnat gateway --outside sock             o0 198.51.100.1/24
#   default via 10.0.2.1         --inside tap0@an-in-$$                       +198.51.100.3/24
#                                --dns 198.51.100.1                        dnsmasq, UDP echo
#                                r0 198.51.100.254/24 <-------veth------->
#
# The servers see only the host's address 198.51.100.254: neither the
# guest's 10.0.2.x nor the NAT's reserved 198.18.0.1 is ever on a wire.
. "$(dirname "$0")/lib.sh"

net_checks
need tcpdump dnsmasq dig busybox
busybox udhcpc --help 2>&1 | grep -q -- '-x OPT:VAL' ||
	fail "this busybox has no udhcpc (tools/deps.sh installs Debian's busybox, which has)"
net_setup packet
DATA=$TMPD/data.64M
make_data "$DATA" 64
XFER_TO=$(tscale 120)
ip -n "$NS_RT" addr add 198.51.100.254/24 dev r0 || fail "addr r0"
ip -n "$NS_IN" -4 addr flush dev tap0 || fail "flush tap0"
rt_ns sysctl -qw net.ipv4.ping_group_range="0 2147483647" >/dev/null ||
	fail "ping_group_range in the host namespace"
CLI_TO=$(tscale 20)

printf 'address=/svc.test/198.51.100.77\n' >"$TMPD/dnsmasq.conf"
bg out_ns timeout "$(tscale 300)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=198.51.100.1 --bind-interfaces --local-ttl=60 --pid-file= \
	--user=root --conf-file="$TMPD/dnsmasq.conf" --log-queries --log-facility=- \
	>"$TMPD/dnsmasq.out" 2>&1
wait_listen out_ns u 53 || fail "dnsmasq did not start: $(tail -n 5 "$TMPD/dnsmasq.out")"

bg out_ns timeout "$(tscale 300)" tcpdump -i o0 -n -l ip >"$TMPD/o0.tcpdump" 2>"$TMPD/o0.tcpdump.err"
TD=$BG_PID
wait_file_grep 50 "$TMPD/o0.tcpdump.err" 'listening on' || fail "tcpdump did not start"

start_arcnat --inside "tap0@$NS_IN" --outside sock --dns 198.51.100.1
uid=$(awk '/^Uid:/ {print $2}' "/proc/$ARC_PID/status")
[ "$uid" = 65534 ] || fail "arcnat runs as uid $uid, expected 65534 (nobody)"
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "no sandbox line in the log: $(grep sandbox "$ARC_LOG")"
grep -q 'ping_group_range' "$ARC_LOG" &&
	fail "arcnat complains about ping_group_range although it allows everyone"
ok "arcnat runs as nobody under the seccomp allow-list with --outside sock"

# --- DHCP, ping -----------------------------------------------------------------
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
in_ns env UDHCPC_OUT="$TMPD/ip" timeout "$CLI_TO" busybox udhcpc -i tap0 -f -q -n \
	-t 5 -T 2 -s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.out" 2>&1 ||
	fail "no DHCP lease: $(tail -n 3 "$TMPD/udhcpc.out")"
GIP=$(cat "$TMPD/ip")
ok "DHCP lease $GIP"

in_ns timeout 15 ping -c 3 -i 0.2 -W 2 198.51.100.1 >"$TMPD/ping.out" 2>&1 ||
	fail "ping $GIP -> 198.51.100.1 failed: $(tail -n 3 "$TMPD/ping.out")"
ok "ping $GIP -> 198.51.100.1 through a ping socket: 3/3 replies"

# --- UDP echo up to the MTU ---------------------------------------------------------
bg out_ns timeout "$(tscale 60)" "$PY" "$TMPD/udptool.py" listen 198.51.100.1 7000 0 \
	"$(tscale 50)" echo >"$TMPD/echo.out" 2>&1
wait_listen out_ns u 7000 || fail "UDP echo server did not start"
for size in 1 100 1000 1400 1472; do
	r=$(in_ns timeout 10 "$PY" "$TMPD/udptool.py" bigecho 0.0.0.0 41000 198.51.100.1 7000 \
		"$size" 3 2>&1) || fail "UDP echo of $size bytes: $r"
done
# 1472 bytes come back as 1477: fragmented into the guest by arcnat.
ok "UDP echo 1, 100, 1000, 1400 and 1472 bytes (the MTU's largest) through one socket"

# --- EIM: two remotes see the same mapped port (the guest's own, preserved) ---------
for p in 7001 7002; do
	a=198.51.100.1
	[ $p = 7002 ] && a=198.51.100.3
	bg out_ns timeout 15 "$PY" "$TMPD/udptool.py" listen "$a" "$p" 1 10 >"$TMPD/eim.$p" 2>&1
	wait_listen out_ns u "$p" || fail "UDP listener $p did not start"
done
in_ns timeout 10 "$PY" "$TMPD/udptool.py" session 0.0.0.0 42000 1 eim \
	198.51.100.1:7001 198.51.100.3:7002 >/dev/null 2>&1
wait_file_grep 50 "$TMPD/eim.7001" FROM || fail "7001 saw nothing"
wait_file_grep 50 "$TMPD/eim.7002" FROM || fail "7002 saw nothing"
s1=$(awk '/^FROM/ {print $2 ":" $3}' "$TMPD/eim.7001")
s2=$(awk '/^FROM/ {print $2 ":" $3}' "$TMPD/eim.7002")
[ "$s1" = "$s2" ] || fail "two remotes saw different sources: $s1 and $s2 (not endpoint-independent)"
[ "$s1" = 198.51.100.254:42000 ] || fail "the remotes saw $s1, expected 198.51.100.254:42000 (port preserved)"
ok "EIM: 198.51.100.1:7001 and 198.51.100.3:7002 both saw $s1"

# --- an ICMP port unreachable from the host's error queue ---------------------------
r=$(in_ns timeout 10 "$PY" "$TMPD/udptool.py" refused 198.51.100.1 7999 3 2>&1) ||
	fail "no port unreachable for a closed UDP port: $r"
ok "UDP to a closed port: the guest's socket got ECONNREFUSED (the ICMP error, translated)"

# --- DNS through the forwarder (UDP) and redirected (TCP), over host sockets ----------
for proto in +notcp +tcp; do
	got=$(in_ns timeout 15 dig +short "$proto" +time=3 +tries=1 @10.0.2.1 svc.test 2>&1)
	[ "$got" = 198.51.100.77 ] ||
		fail "dig $proto @10.0.2.1 svc.test: expected 198.51.100.77, got '$got'"
done
[ "$(grep -c 'query\[A\] svc.test from 198.51.100.254' "$TMPD/dnsmasq.out")" -ge 2 ] ||
	fail "dnsmasq did not see both queries from the host's address: $(tail -n 4 "$TMPD/dnsmasq.out")"
ok "DNS via the gateway, UDP (the forwarder's upstream socket) and TCP (redirected, the TCP relay): both from 198.51.100.254"

# --- TCP: 64 MiB each way through the relay; a closed port refused at once ---------
tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5001 198.51.100.1 "$DATA" "$XFER_TO"
ok "TCP 64 MiB guest -> server through the relay, sha256 equal, $TRANSFER_RATE"
tcp_transfer down "$NS_OUT" "$NS_IN" 198.51.100.1 5002 198.51.100.1 "$DATA" "$XFER_TO"
ok "TCP 64 MiB server -> guest through the relay, sha256 equal, $TRANSFER_RATE"
r=$(in_ns timeout 5 socat -T 3 - TCP:198.51.100.1:80,connect-timeout=3 </dev/null 2>&1)
case $r in
*"Connection refused"*) ;;
*) fail "TCP to 198.51.100.1:80 (closed): expected Connection refused, got: $r" ;;
esac
ok "TCP to a closed port: the remote's refusal is an RST for the guest's SYN"

# --- nothing inside or reserved on the wire; counters ---------------------------------
stats_request || fail "no statistics"
bg_stop "$TD"
grep -E -q '10\.0\.2\.|198\.18\.' "$TMPD/o0.tcpdump" &&
	fail "an inside or reserved address on the wire: $(grep -E '10\.0\.2\.|198\.18\.' "$TMPD/o0.tcpdump" | head -n 2)"
grep -q 'IP 198.51.100.254 > 198.51.100.1: ICMP echo request' "$TMPD/o0.tcpdump" ||
	fail "the server did not see the echo requests from the host: $(head -n 3 "$TMPD/o0.tcpdump")"
for s in udp_opened:4 echo_opened:1 icmp_errors:1 udp_preserved:1 \
	tcp_established:3 tcp_refused:1 tcp_to_remote_bytes:67108864 \
	tcp_to_guest_bytes:67108864; do
	n=$(stat_last "outside.sock.${s%%:*}")
	[ "$n" -ge "${s##*:}" ] || fail "stat outside.sock.${s%%:*} is $n, expected >= ${s##*:}"
done
[ "$(stat_last outside.sock.no_fd)" = 0 ] || fail "sockets refused: $(stat_last outside.sock.no_fd)"
ok "the wire shows only 198.51.100.254; counters: $(grep -E 'stat outside.sock.(udp_opened|echo_opened|icmp_errors|tcp_established|tcp_refused) ' "$ARC_LOG" | tail -n 5 | awk '{print $2 "=" $3}' | tr '\n' ' ')"
stop_arcnat

# --- ping sockets forbidden: one line at start, echo a counted drop ----------------
rt_ns sysctl -qw net.ipv4.ping_group_range="1 0" >/dev/null || fail "ping_group_range 1 0"
start_arcnat --inside "tap0@$NS_IN" --outside sock --dns 198.51.100.1
n=$(grep -c 'ping_group_range' "$ARC_LOG")
[ "$n" = 1 ] || fail "expected one line about net.ipv4.ping_group_range, got $n: $(grep ping "$ARC_LOG")"
in_ns ping -c 2 -i 0.2 -W 1 198.51.100.1 >/dev/null 2>&1 &&
	fail "ping went through although ping sockets are forbidden"
n=$(stat outside.sock.echo_denied) || fail "no statistics"
[ "$n" -ge 2 ] || fail "stat outside.sock.echo_denied is $n, expected >= 2"
arcnat_alive || fail "arcnat stopped"
ok "ping_group_range forbids ping sockets: $(grep ping_group_range "$ARC_LOG" | head -c 90)...; $n echo requests counted"
stop_arcnat
