#!/bin/sh
# gateway_ctl_info.sh - leases, the DNS cache and capture on demand over the
# control socket of a running `arcnat gateway` (docs/control.md), as nobody
# under the seccomp list: a DHCP client (busybox udhcpc) gets a lease that
# `arcnat ctl leases` shows and that is in the lease file; `lease delete`
# ends it (gone from the list and from the rewritten lease file, a second
# delete is "no such lease"); a dig through the forwarder puts svc.test in
# `dns cache` with its answer, `dns flush` empties it; `pcap start FILE port
# 5001` during an iperf3 run on port 5001 with pings and DNS queries going
# on beside it, a second start refused, `pcap stop`; tcpdump reads the file
# and every packet in it is port 5001's, both sides of the NAT; a capture
# with max-bytes stays within it; a file that exists is refused. Then arcnat
# still forwards and stops cleanly.
#
#   ns an-in-$$ (inside)           ns an-rt-$$ (router)                     ns an-out-$$ (outside)
#   tap0 (udhcpc) <---TAP--->      arcnat gateway --name ctlinfo-$$         o0 198.51.100.1/24
#   iperf3 -c, dig, ping           --dns 198.51.100.1 --lease-file F  r0 <--veth--> iperf3 -s, dnsmasq
#   arcnat ctl runs in the root namespace: a UNIX socket is reached by its path.
. "$(dirname "$0")/lib.sh"

net_checks
need iperf3 dig dnsmasq busybox tcpdump
busybox udhcpc --help 2>&1 | grep -q -- '-x OPT:VAL' ||
	fail "this busybox has no udhcpc (tools/deps.sh installs Debian's busybox, which has)"
net_setup packet
NAME=ctlinfo-$$
CTL_TO=$(tscale 20)
ctl() { timeout "$CTL_TO" "$ARCNAT" ctl --name "$NAME" --timeout "$CTL_TO" "$@"; }
MAC=52:54:00:c7:1f:05
# arcnat runs as nobody: the lease file's and the captures' directories
# are nobody's, and nobody may pass through $TMPD (mktemp's 0700) to them.
chmod 711 "$TMPD" || fail "chmod $TMPD"
mkdir -p "$TMPD/leases" "$TMPD/pcap" && chown 65534 "$TMPD/leases" "$TMPD/pcap" &&
	chmod 700 "$TMPD/pcap" || fail "directories"
LEASES=$TMPD/leases/leases

# --- the upstream: dnsmasq on 198.51.100.1 in the outside namespace ----------
echo 'address=/svc.test/198.51.100.77' >"$TMPD/dnsmasq.conf"
bg out_ns timeout "$(tscale 300)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=198.51.100.1 --bind-interfaces --local-ttl=60 --pid-file= \
	--user=root --conf-file="$TMPD/dnsmasq.conf" --log-facility="$TMPD/dnsmasq.log" \
	>"$TMPD/dnsmasq.out" 2>&1
wait_listen out_ns u 53 || fail "dnsmasq did not start: $(cat "$TMPD/dnsmasq.out" 2>/dev/null | tail -n 5)"

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --host-ip 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120 \
	--lease-file "$LEASES" --name "$NAME"
[ "$(awk '/^Uid:/ {print $2}' "/proc/$ARC_PID/status")" = 65534 ] ||
	fail "arcnat does not run as nobody"

# --- leases -------------------------------------------------------------------
cat >"$TMPD/udhcpc.sh" <<'EOF'
#!/bin/sh
case $1 in
bound|renew)
	ip addr replace "$ip/${mask:-24}" dev "$interface"
	echo "$ip" >"$UDHCPC_OUT"
	;;
esac
exit 0
EOF
chmod +x "$TMPD/udhcpc.sh"
ip -n "$NS_IN" link set dev tap0 address "$MAC" || fail "tap0 MAC"
in_ns env UDHCPC_OUT="$TMPD/ip" timeout "$(tscale 20)" busybox udhcpc -i tap0 -f -q -n \
	-t 5 -T 2 -x hostname:leasetest -s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.out" 2>&1 ||
	fail "udhcpc got no lease: $(tail -n 5 "$TMPD/udhcpc.out")"
IP=$(cat "$TMPD/ip")
case $IP in 10.0.2.1[0-2][0-9]) ;; *) fail "udhcpc got '$IP', not in 10.0.2.100-120" ;; esac
ip -n "$NS_IN" route replace default via 10.0.2.1 dev tap0 || fail "inside default route"
ok "udhcpc on tap0 ($MAC) got $IP"

ctl leases >"$TMPD/leases.txt" || fail "arcnat ctl leases: exit $?"
grep -q "^$IP  *$MAC  *bound  *no  *[0-9.][0-9.]*  *leasetest$" "$TMPD/leases.txt" ||
	fail "leases does not show the lease: $(cat "$TMPD/leases.txt")"
ctl --json leases >"$TMPD/leases.json" || fail "arcnat ctl --json leases"
"$PY" - "$TMPD/leases.json" "$MAC" "$IP" <<'PYEOF' || fail "leases JSON: $(cat "$TMPD/leases.json")"
import json, sys
r = json.load(open(sys.argv[1]))
ls = [l for l in r if l["mac"] == sys.argv[2]]
assert len(ls) == 1, r
l = ls[0]
assert l["ip"] == sys.argv[3] and l["state"] == "bound" and not l["static"], l
assert l["name"] == "leasetest", l
assert 3500 < l["expires_in"] <= 3600, l
PYEOF
wait_file_grep "$(tscale 50)" "$LEASES" " $MAC $IP leasetest " ||
	fail "the lease file does not have the lease: $(cat "$LEASES" 2>/dev/null)"
ok "leases shows $MAC $IP bound, leasetest, about 3600 s left; so does the lease file"

ctl lease delete "$MAC" >"$TMPD/del.txt" || fail "lease delete $MAC: exit $?"
grep -q "^deleted $MAC $IP$" "$TMPD/del.txt" || fail "lease delete: $(cat "$TMPD/del.txt")"
ctl leases >"$TMPD/leases.txt" || fail "leases after the delete"
grep -q "$MAC" "$TMPD/leases.txt" && fail "the deleted lease is still listed: $(cat "$TMPD/leases.txt")"
i=0
while [ $i -lt "$(tscale 50)" ] && grep -q " $MAC " "$LEASES"; do
	sleep 0.1
	i=$((i + 1))
done
grep -q " $MAC " "$LEASES" && fail "the lease file still has the deleted lease: $(cat "$LEASES")"
ctl lease delete "$IP" 2>"$TMPD/err.txt"
[ $? = 1 ] || fail "a second lease delete: want exit 1"
grep -q 'error -32011' "$TMPD/err.txt" || fail "a second lease delete: $(cat "$TMPD/err.txt")"
ctl lease delete 2>/dev/null
[ $? = 2 ] || fail "lease delete without an argument: want exit 2"
ok "lease delete: gone from leases and from the lease file; again: error -32011"

# --- the DNS cache ---------------------------------------------------------------
got=$(in_ns timeout 15 dig +short +time=3 +tries=1 @10.0.2.1 svc.test A 2>&1)
[ "$got" = 198.51.100.77 ] || fail "dig @10.0.2.1 svc.test: '$got'"
ctl dns cache >"$TMPD/dns.txt" || fail "arcnat ctl dns cache: exit $?"
grep -q '^svc\.test\.  *A  *[0-9][0-9]*  *A 198\.51\.100\.77$' "$TMPD/dns.txt" ||
	fail "dns cache does not show svc.test: $(cat "$TMPD/dns.txt")"
ctl --json dns cache >"$TMPD/dns.json" || fail "arcnat ctl --json dns cache"
"$PY" - "$TMPD/dns.json" <<'PYEOF' || fail "dns cache JSON: $(cat "$TMPD/dns.json")"
import json, sys
r = json.load(open(sys.argv[1]))
e = [x for x in r if x["name"] == "svc.test."]
assert len(e) == 1, r
e = e[0]
assert e["type"] == "A" and 0 < e["ttl"] <= 60 and not e["negative"], e
assert e["answers"] == [{"name": "svc.test.", "type": "A", "ttl": e["answers"][0]["ttl"],
                         "data": "198.51.100.77"}], e
assert e["answers"][0]["ttl"] <= 60
PYEOF
ctl dns flush >"$TMPD/flush.txt" || fail "arcnat ctl dns flush"
grep -q '^flushed [1-9]' "$TMPD/flush.txt" || fail "dns flush: $(cat "$TMPD/flush.txt")"
ctl --json dns cache | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
assert r == [], r' || fail "the cache is not empty after dns flush"
ctl dns cache flush >"$TMPD/flush.txt" || fail "arcnat ctl dns cache flush"
grep -q '^flushed 0$' "$TMPD/flush.txt" || fail "dns cache flush: $(cat "$TMPD/flush.txt")"
ok "dns cache lists svc.test A 198.51.100.77 with its TTL; dns flush empties it"

# --- capture on demand -------------------------------------------------------------
CAP=$TMPD/pcap/port5001.pcap
bg out_ns timeout "$(tscale 40)" iperf3 -s -1 -B 198.51.100.1 -p 5001
wait_listen out_ns t 5001 || fail "iperf3 server did not start"
bg in_ns timeout "$(tscale 40)" iperf3 -c 198.51.100.1 -p 5001 -t 4 -b 20M
IPC=$BG_PID
# other traffic meanwhile: pings and DNS, none of it port 5001
bg in_ns timeout "$(tscale 20)" ping -c 20 -i 0.2 198.51.100.1
sleep 0.5
ctl pcap start "$CAP" port 5001 >"$TMPD/start.txt" || fail "pcap start: exit $?"
for i in 1 2 3; do
	in_ns timeout 10 dig +short +time=2 +tries=1 @10.0.2.1 "n$i.svc.test" A >/dev/null 2>&1
	sleep 0.4
done
ctl pcap start "$TMPD/pcap/second.pcap" 2>"$TMPD/err.txt"
[ $? = 1 ] || fail "a second pcap start: want exit 1"
grep -q 'error -32013' "$TMPD/err.txt" || fail "a second pcap start: $(cat "$TMPD/err.txt")"
[ -e "$TMPD/pcap/second.pcap" ] && fail "a refused pcap start left its file"
ctl --json pcap stop >"$TMPD/stop.json" || fail "pcap stop: exit $?"
wait "$IPC" || fail "iperf3 client failed"
[ "$(command stat -c %a "$CAP")" = 600 ] || fail "capture file mode $(command stat -c %a "$CAP")"
n=$(tcpdump -nn -r "$CAP" 2>/dev/null | wc -l)
other=$(tcpdump -nn -r "$CAP" 'not port 5001' 2>/dev/null | wc -l)
inside=$(tcpdump -nn -r "$CAP" 'src net 10.0.2.0/24' 2>/dev/null | wc -l)
outside=$(tcpdump -nn -r "$CAP" 'src 198.51.100.2' 2>/dev/null | wc -l)
info "capture: $n packets, $other not port 5001, $inside from the guest, $outside from 198.51.100.2"
"$PY" - "$TMPD/stop.json" "$n" "$CAP" <<'PYEOF' || fail "pcap stop JSON: $(cat "$TMPD/stop.json")"
import json, os, sys
r = json.load(open(sys.argv[1]))
assert r["file"] == sys.argv[3], r
assert r["packets"] == int(sys.argv[2]), (r, sys.argv[2])
assert r["bytes"] == os.path.getsize(sys.argv[3]), r
assert r["filtered"] > 0 and not r["failed"], r
PYEOF
[ "$n" -gt 100 ] || fail "tcpdump read only $n packets from the capture"
[ "$other" = 0 ] || fail "$other packets in the capture are not port 5001: $(tcpdump -nn -r "$CAP" 'not port 5001' 2>/dev/null | head -n 3)"
[ "$inside" -gt 0 ] && [ "$outside" -gt 0 ] ||
	fail "not both sides of the NAT: $inside packets from the guest, $outside from 198.51.100.2"
ok "pcap start port 5001 during iperf3: tcpdump reads $n packets, all port 5001, both sides of the NAT; a second start refused"

# bounded: max-bytes
CAP2=$TMPD/pcap/bounded.pcap
bg out_ns timeout "$(tscale 40)" iperf3 -s -1 -B 198.51.100.1 -p 5001
wait_listen out_ns t 5001 || fail "iperf3 server did not start"
ctl pcap start "$CAP2" max-bytes 20000 >/dev/null || fail "pcap start max-bytes"
in_ns timeout "$(tscale 40)" iperf3 -c 198.51.100.1 -p 5001 -t 2 >/dev/null 2>&1 || fail "iperf3 (bounded capture)"
ctl --json pcap stop >"$TMPD/stop2.json" || fail "pcap stop (bounded)"
size=$(command stat -c %s "$CAP2")
[ "$size" -le 20000 ] || fail "the bounded capture has $size bytes, over 20000"
"$PY" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["over_limit"] > 0 and r["bytes"] <= 20000, r' "$TMPD/stop2.json" || fail "bounded stop: $(cat "$TMPD/stop2.json")"
tcpdump -nn -r "$CAP2" >/dev/null 2>&1 || fail "tcpdump cannot read the bounded capture"
ok "pcap start max-bytes 20000: the file stays at $size bytes and reads"

# a file that exists is never overwritten; stop without a capture
ctl pcap start "$CAP" 2>"$TMPD/err.txt"
[ $? = 1 ] && grep -q 'error -32014' "$TMPD/err.txt" || fail "pcap start on an existing file: $(cat "$TMPD/err.txt")"
ctl pcap stop 2>"$TMPD/err.txt"
[ $? = 1 ] && grep -q 'error -32013' "$TMPD/err.txt" || fail "pcap stop without a capture: $(cat "$TMPD/err.txt")"
[ "$(tcpdump -nn -r "$CAP" 2>/dev/null | wc -l)" = "$n" ] || fail "the existing capture changed"
ok "pcap start on an existing file: error -32014, file untouched; pcap stop with none: -32013"

# --- still forwarding, and a clean stop ---------------------------------------------
DATA=$TMPD/data.4M
make_data "$DATA" 4
tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5300 198.51.100.1 "$DATA" "$(tscale 30)"
ok "arcnat forwards after it all: 4 MiB up, sha256 equal ($TRANSFER_RATE)"
grep -q 'seccomp: blocked' "$ARC_LOG" && fail "seccomp blocked a call"
stop_arcnat
ok "gateway_ctl_info: all checks passed"
