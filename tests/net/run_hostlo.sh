#!/bin/sh
# run_hostlo.sh - the host's loopback through the gateway address, `arcnat
# run` as uid 65534 on the socket uplink (the default): the gateway address
# 10.0.2.1 reaches the servers on the test host's 127.0.0.1 (a TCP port
# each way, 16 MiB by sha256; a UDP echo of every size up to 2000 bytes,
# and what source the server sees), host.arcnat.internal resolves to the
# gateway, and the only name server of the host's resolv.conf, a dnsmasq on
# 127.0.0.53 (systemd-resolved's address), answers the guest's query
# through the gateway's forwarder. With --no-map-gateway the same connect
# times out (the SYN to the gateway is a counted drop, to_gateway: nothing
# listens there and no RST is sent), while the forwarder still asks the
# loopback name server, named with --dns 127.0.0.53. A guest's packet to the loopback's
# image 198.19.0.1 itself is a counted martian (dst_uplink_range), with
# the mapping and without: the gateway address is the only way in.
#
#   ns an-lh-$$ ("host": arcnat runs here as uid 65534; its lo is the
#   "host's loopback", never the real host's)
#     127.0.0.1: socat TCP :5001 (receives) and :5002 (sends),
#                udp_tool.py echo :7001
#     127.0.0.53: dnsmasq, the only nameserver of the resolv.conf arcnat
#                 reads (bind-mounted on a private mount namespace)
#     arcnat run (--outside sock, the default)
#       CMD, in its own namespace: tap0 10.0.2.2/24, default via 10.0.2.1
#
# The user is uid/gid 65534 without groups or capabilities, with a 0666 TUN
# node bind-mounted over /dev/net/tun, as in run_cmd.sh.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/include/unpriv.sh"

net_checks
need dnsmasq getent
NS_H=an-lh-$$
h_ns() { ip netns exec "$NS_H" "$@"; }
unpriv_tmpd an-rhlo udp_tool.py
ns_add "$NS_H"
printf 'nameserver 127.0.0.53\n' >"$TMPD/resolv.conf"
chmod 0644 "$TMPD/resolv.conf"
HOST_RESOLV=$(cat /etc/resolv.conf 2>/dev/null)
DATA=$TMPD/data
make_data "$DATA" 16
chmod 0644 "$DATA"
RUN_TO=$(tscale 120)
info "namespace $NS_H ready, arcnat: $ARCNAT, time scale x$NET_TSCALE"

# --- the host's loopback services ---------------------------------------------
echo 'address=/svc.test/198.51.100.77' >"$TMPD/dnsmasq.conf"
bg h_ns timeout "$(tscale 300)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=127.0.0.53 --bind-interfaces --pid-file= --user=root --log-queries \
	--conf-file="$TMPD/dnsmasq.conf" --log-facility="$TMPD/dnsmasq.log" >"$TMPD/dnsmasq.out" 2>&1
wait_listen h_ns u 53 || fail "dnsmasq did not start: $(cat "$TMPD/dnsmasq.out" 2>/dev/null)"
bg h_ns timeout "$(tscale 300)" "$PY" "$TMPD/udp_tool.py" server "$(tscale 280)" \
	127.0.0.1:7001 >"$TMPD/udp.out" 2>&1
wait_listen h_ns u 7001 || fail "the UDP echo did not start: $(cat "$TMPD/udp.out")"

# run ARGS...: arcnat run ARGS as uid 65534 in the host namespace, with the
# test's resolv.conf and TUN node on a private mount namespace; stdout to
# $OUT, stderr (with --verbose, the final statistics) to $ARC_LOG.
run() {
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	OUT=$TMPD/out.$ARC_RUNS
	unpriv --resolv "$TMPD/resolv.conf" "$NS_H" "$RUN_TO" "$ARCNAT" run --verbose "$@" >"$OUT" 2>"$ARC_LOG"
	_rc=$?
	grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" &&
		fail "sanitizer report in $ARC_LOG"
	return $_rc
}

# --- the mapping (the default) ------------------------------------------------
bg h_ns timeout "$RUN_TO" socat -u TCP-LISTEN:5001,bind=127.0.0.1,reuseaddr CREATE:"$TMPD/up.recv"
UPS=$BG_PID
bg h_ns timeout "$RUN_TO" socat -u OPEN:"$DATA",rdonly TCP-LISTEN:5002,bind=127.0.0.1,reuseaddr
DNS_=$BG_PID
wait_listen h_ns t 5001 && wait_listen h_ns t 5002 || fail "the TCP servers did not start"
T0_=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
run -- sh -c '
	timeout 60 socat -u OPEN:"$2",rdonly TCP:10.0.2.1:5001 && echo UP-SENT
	timeout 60 socat -u TCP:10.0.2.1:5002 CREATE:"$3/down.recv" && echo DOWN-DONE
	"$1" "$4" sizes 10.0.2.1 7001 2000 1
	"$1" "$4" eim 42000 2 10.0.2.1:7001
	echo "host $(getent hosts host.arcnat.internal)"
	echo "svc $(getent hosts svc.test)"
	timeout 10 socat -u OPEN:/dev/null TCP:198.19.0.1:5001,connect-timeout=2 ||
		echo "IMAGE-REFUSED"
	' sh "$PY" "$DATA" "$U" "$TMPD/udp_tool.py"
rc=$?
_i=0
while [ $_i -lt 50 ] && alive "$UPS"; do sleep 0.1; _i=$((_i + 1)); done
bg_stop "$UPS"
bg_stop "$DNS_"
[ "$rc" = 0 ] || fail "arcnat run (the mapping): exit status $rc: $(cat "$OUT")"
grep -q UP-SENT "$OUT" && [ "$(sha "$TMPD/up.recv")" = "$(sha "$DATA")" ] ||
	fail "TCP from CMD to 10.0.2.1:5001 (127.0.0.1:5001): sha256 differs or the transfer failed: $(cat "$OUT")"
grep -q DOWN-DONE "$OUT" && [ "$(sha "$U/down.recv")" = "$(sha "$DATA")" ] ||
	fail "TCP from 127.0.0.1:5002 to CMD through 10.0.2.1: sha256 differs or the transfer failed: $(cat "$OUT")"
ok "16 MiB TCP each way between CMD and the host's 127.0.0.1 through the gateway address, sha256 equal ($(($(date +%s) - T0_)) s)"
l=$(grep '^ok sizes' "$OUT") || fail "UDP echo through 10.0.2.1:7001: $(grep -E '^(FAIL|ok)' "$OUT")"
seen=$(awk '/^seen-by / {print $3; exit}' "$OUT")
[ "$seen" = 127.0.0.1 ] || fail "the UDP server on 127.0.0.1 saw the guest as '$seen', expected 127.0.0.1: $(cat "$OUT")"
ok "UDP echo through 10.0.2.1:7001 to the host's 127.0.0.1:7001: ${l#ok }; the server saw 127.0.0.1"
grep -q '^host 10\.0\.2\.1 *host\.arcnat\.internal' "$OUT" ||
	fail "host.arcnat.internal did not resolve to the gateway: $(grep '^host' "$OUT")"
grep -q '^svc 198\.51\.100\.77 *svc\.test' "$OUT" ||
	fail "svc.test through the forwarder and the host's 127.0.0.53: $(grep '^svc' "$OUT") (dnsmasq log: $(cat "$TMPD/dnsmasq.log" 2>/dev/null))"
grep -q 'svc\.test' "$TMPD/dnsmasq.log" || fail "dnsmasq on 127.0.0.53 never saw the query"
grep -q -i 'no usable nameserver' "$ARC_LOG" && fail "arcnat warned about resolv.conf: $(grep -i nameserver "$ARC_LOG")"
ok "host.arcnat.internal is 10.0.2.1; svc.test answered by the host's 127.0.0.53 (resolv.conf's only server) through the forwarder"
grep -q IMAGE-REFUSED "$OUT" || fail "CMD reached 198.19.0.1 directly: $(cat "$OUT")"
v=$(stat_last drop.dp.dst_uplink_range)
[ "$v" -ge 1 ] || fail "CMD's SYN to 198.19.0.1: drop.dp.dst_uplink_range is $v"
v=$(stat_last nat.redirects)
[ "$v" -ge 3 ] || fail "nat.redirects is $v, expected the TCP, UDP flows to the gateway"
ok "198.19.0.1 from CMD: not reached, drop.dp.dst_uplink_range $(stat_last drop.dp.dst_uplink_range); nat.redirects $v"

# --- --no-map-gateway ---------------------------------------------------------
bg h_ns timeout "$RUN_TO" socat -u TCP-LISTEN:5001,bind=127.0.0.1,reuseaddr CREATE:"$TMPD/up2.recv"
UPS=$BG_PID
wait_listen h_ns t 5001 || fail "the TCP server did not start"
T0_=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
run --no-map-gateway --dns 127.0.0.53 -- sh -c '
	timeout 10 socat -u OPEN:/dev/null TCP:10.0.2.1:5001,connect-timeout=2 ||
		echo "GW-NOT-REACHED $?"
	timeout 10 socat -u OPEN:/dev/null TCP:198.19.0.1:5001,connect-timeout=2 ||
		echo "IMAGE-NOT-REACHED $?"
	echo "host [$(getent hosts host.arcnat.internal)]"
	echo "svc $(getent hosts svc.test)"
	'
rc=$?
bg_stop "$UPS"
[ "$rc" = 0 ] || fail "arcnat run --no-map-gateway: exit status $rc: $(cat "$OUT")"
grep -q GW-NOT-REACHED "$OUT" || fail "--no-map-gateway: CMD reached 127.0.0.1:5001 through 10.0.2.1: $(cat "$OUT")"
grep -q IMAGE-NOT-REACHED "$OUT" || fail "--no-map-gateway: CMD reached 198.19.0.1: $(cat "$OUT")"
[ -s "$TMPD/up2.recv" ] && fail "--no-map-gateway: the server got a connection"
grep -q '^host \[\]' "$OUT" || fail "--no-map-gateway: host.arcnat.internal resolved: $(grep '^host' "$OUT")"
gw=$(stat_last drop.dp.to_gateway)
img=$(stat_last drop.dp.dst_uplink_range)
[ "$gw" -ge 1 ] || fail "--no-map-gateway: the SYN to 10.0.2.1:5001 was not counted (drop.dp.to_gateway $gw)"
[ "$img" -ge 1 ] || fail "--no-map-gateway: the SYN to 198.19.0.1 was not counted (drop.dp.dst_uplink_range $img)"
[ "$(stat_last nat.redirects)" = 0 ] || fail "--no-map-gateway: nat.redirects $(stat_last nat.redirects)"
grep -q '^svc 198\.51\.100\.77 *svc\.test' "$OUT" ||
	fail "--no-map-gateway --dns 127.0.0.53: svc.test did not resolve: $(grep '^svc' "$OUT")"
ok "--no-map-gateway: 10.0.2.1:5001 and 198.19.0.1:5001 time out (2 s), drop.dp.to_gateway $gw, drop.dp.dst_uplink_range $img, host.arcnat.internal unknown, svc.test still answered by --dns 127.0.0.53 ($(($(date +%s) - T0_)) s)"
[ "$(cat /etc/resolv.conf 2>/dev/null)" = "$HOST_RESOLV" ] || fail "the host's /etc/resolv.conf changed"
exit 0
