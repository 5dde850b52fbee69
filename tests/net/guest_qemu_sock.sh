#!/bin/sh
# guest_qemu_sock.sh - a real Linux guest under QEMU (TCG) served rootless,
# the passt case: arcnat on a stream port (--inside stream:PATH) with the
# socket uplink (--outside sock), run as uid/gid 65534 with no group and
# no capability (setpriv), no TUN and no AF_PACKET. The guest takes a DHCP
# lease; pings the gateway and a server beyond the uplink (through a ping
# socket: the host namespace's net.ipv4.ping_group_range allows gid 65534
# only); downloads 4 MiB over HTTP and uploads 4 MiB over TCP (the relay;
# SHA-256 compared on the receiving side); resolves a name through the
# forwarder; reads 1 MiB from a server on the host namespace's 127.0.0.1
# through the gateway address 10.0.2.1. Then a port forward into the VM,
# -t 8080:80: a client in the server namespace, bound to 198.51.100.3:40123,
# connects to the host's 198.51.100.254:8080 and the guest's busybox httpd
# answers: its CGI prints the peer it saw (REMOTE_ADDR:REMOTE_PORT) and its
# log (-vv) names it too, both must be the client's own address and port;
# 1 MiB from the guest through the forward by SHA-256; a client on the host
# namespace's 127.0.0.1 is seen by the guest as the gateway 10.0.2.1 (the
# NAT's inbound alias). arcnat stops cleanly on SIGTERM. (No UDP forward:
# the guest image has no UDP server, busybox's nc has no -u.)
#
#   ns an-in-$$                  ns an-rt-$$ ("host")                     ns an-out-$$ (servers)
#   QEMU guest eth0 (DHCP)       arcnat gateway (uid 65534, setpriv)      o0 198.51.100.1/24 (+.3)
#     | virtio-net               --inside stream:$TMPD/s/guests.sock      dnsmasq :53, httpd.py :8080,
#   -netdev stream <--UNIX--->   --outside sock -t 8080:80                socat :8081 (upload sink)
#                                r0 198.51.100.254/24 <------veth------>  forward client (python3)
#                                lo 127.0.0.1:5003 socat (sends 1 MiB)
#
# The stream socket lives in $TMPD/s, a directory of uid 65534's (arcnat
# binds it, and replaces a stale socket root left there, as that user);
# QEMU, root, connects from the inside namespace: the socket is a file.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/../qemu/guest.sh"
. "$NET_DIR/../qemu/scenario.sh"

scenario_setup
need setpriv
# shellcheck disable=SC2034 # read by scenario.sh
SCENARIO_LOG=stream
# shellcheck disable=SC2034
SCENARIO_UPLINK="--outside sock -t 8080:80 --no-control"
# shellcheck disable=SC2034
SCENARIO_EXT=198.51.100.254
# shellcheck disable=SC2034
SCENARIO_SANDBOX="sandbox: no capabilities, no_new_privs, seccomp"
ip -n "$NS_RT" addr add 198.51.100.254/24 dev r0 || fail "addr r0"
# ping sockets for gid 65534 only, in the host namespace (never the machine's)
rt_ns sysctl -qw net.ipv4.ping_group_range="65534 65534" >/dev/null ||
	fail "ping_group_range in the host namespace"
chmod 0755 "$TMPD" || fail "chmod $TMPD"
mkdir "$TMPD/s" || fail "mkdir $TMPD/s"
chown 65534:65534 "$TMPD/s" || fail "chown $TMPD/s to uid 65534"
SOCK=$TMPD/s/guests.sock

# arcnat as uid/gid 65534 without groups: setpriv execs it, so the PID that
# lib.sh's start_arcnat finds under timeout(1) is arcnat's own
ARC_REAL=$ARCNAT
ARCNAT=$TMPD/arcnat-65534
printf '#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups "%s" "$@"\n' \
	"$ARC_REAL" >"$ARCNAT" || fail "cannot write $ARCNAT"
chmod 0700 "$ARCNAT" || fail "chmod $ARCNAT"

guest_outside_servers
# the host's loopback: 1 MiB from 127.0.0.1:5003 of the host namespace
make_data "$TMPD/lo.data" 1
LO_SHA=$(sha "$TMPD/lo.data")
bg rt_ns timeout "$(tscale 300)" socat -u OPEN:"$TMPD/lo.data",rdonly \
	TCP-LISTEN:5003,bind=127.0.0.1,reuseaddr 2>"$TMPD/lo.err"
LOSRV=$BG_PID
wait_listen rt_ns t 5003 || fail "the loopback server did not start: $(cat "$TMPD/lo.err")"
ok "host namespace: socat on 127.0.0.1:5003 (1 MiB, sha256 $LO_SHA)"

scenario_stale_socket "$SOCK" stream
scenario_start --inside "stream:$SOCK"
NETDEV="stream,id=n0,server=off,addr.type=unix,addr.path=$SOCK"
scenario_socket stream "$SOCK" "-netdev $NETDEV -device virtio-net-pci,netdev=n0"
st=/proc/$ARC_PID/status
uid=$(awk '/^Uid:/ {print $2 "," $3 "," $4}' "$st")
gid=$(awk '/^Gid:/ {print $2 "," $3 "," $4}' "$st")
[ "$uid" = 65534,65534,65534 ] && [ "$gid" = 65534,65534,65534 ] ||
	fail "arcnat runs as uid $uid gid $gid, expected 65534 throughout"
[ -z "$(awk '/^Groups:/ {$1 = ""; print}' "$st" | tr -d ' ')" ] ||
	fail "arcnat has supplementary groups: $(grep '^Groups:' "$st")"
for c in CapEff CapPrm CapAmb; do
	v=$(awk -v c="$c:" '$1 == c {print $2}' "$st")
	[ "$v" = 0000000000000000 ] || fail "arcnat's $c is $v, expected none"
done
grep -q 'ping_group_range' "$ARC_LOG" &&
	fail "arcnat says ping sockets are forbidden although gid 65534 may: $(grep ping_group_range "$ARC_LOG")"
[ "$(command stat -c %u "$SOCK")" = 65534 ] || fail "$SOCK is not uid 65534's: the stale socket was not replaced"
ok "arcnat runs as uid/gid 65534, no groups, no capabilities, in its sandbox; listens on $SOCK (a stale socket replaced)"
# shellcheck disable=SC2034 # read by guest_boot
GUEST_NETDEV="-netdev $NETDEV"

# --- the guest's test: the scenario's, the host's loopback, then the forward's server
scenario_script "$TMPD/g1-test.sh"
cat >>"$TMPD/g1-test.sh" <<'EOF'
if timeout 60 nc 10.0.2.1 5003 </dev/null >/tmp/lo 2>/tmp/lo.err; then
	result hostlo ok "sha256=$(sha256sum /tmp/lo | cut -d' ' -f1) bytes=$(wc -c </tmp/lo)"
else
	result hostlo fail "$(cat /tmp/lo.err)"
fi
rm -f /tmp/lo
mkdir -p /www/cgi-bin
head -c 1048576 /dev/urandom >/www/blob
cat >/www/cgi-bin/peer <<'EOP'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "peer $REMOTE_ADDR:$REMOTE_PORT"
EOP
chmod 755 /www/cgi-bin/peer
httpd -f -vv -p 0.0.0.0:80 -h /www 2>/tmp/httpd.log &
hp=$!
sleep 0.5
result fwd_ready ok "blob sha256=$(sha256sum /www/blob | cut -d' ' -f1)"
n=0
while [ $n -lt 120 ] && ! grep -q 'url:/done' /tmp/httpd.log; do
	sleep 0.5
	n=$((n + 1))
done
if grep -q 'url:/done' /tmp/httpd.log; then
	result fwd_log ok "$(grep 'url:/cgi-bin/peer' /tmp/httpd.log | head -n 1)"
else
	result fwd_log fail "no request within 60 s: $(tail -n 3 /tmp/httpd.log | tr '\n' ' ')"
fi
kill $hp
EOF

t0=$(date +%s)
scenario_boot g1 "$TMPD/g1-test.sh"
guest_until g1 fwd_ready "$(tscale 150)" ||
	fail "the guest's httpd never got ready: $(scenario_evidence g1)"
GBLOB=$(tr -d '\r' <"$TMPD/g1.console" | sed -n 's/^RESULT fwd_ready ok blob sha256=//p' | tail -n 1)
info "the guest serves on :80 after $(($(date +%s) - t0)) s (blob sha256 $GBLOB)"

# --- the forward: a client in the server namespace to the host's 8080 -------------
# each request from its own fixed source port: the guest must see it. Then
# a client on the host namespace's loopback, whom the guest sees as the
# gateway address; its /done ends the guest's wait.
cat >"$TMPD/fwd.py" <<'EOF'
import hashlib, http.client, sys

host, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]

for req in sys.argv[4:]:
    path, sport = req.rsplit(":", 1)
    c = http.client.HTTPConnection(host, port, timeout=30, source_address=(src, int(sport)))
    c.request("GET", path)
    r = c.getresponse()
    b = r.read()
    c.close()
    if path == "/blob":
        print(path, r.status, len(b), hashlib.sha256(b).hexdigest(), flush=True)
    else:
        print(path, r.status, b.decode(errors="replace").strip(), flush=True)
EOF
out_ns timeout "$(tscale 90)" "$PY" "$TMPD/fwd.py" 198.51.100.254 8080 198.51.100.3 \
	/cgi-bin/peer:40123 /blob:40124 >"$TMPD/fwd.out" 2>&1 ||
	fail "the forward's client failed: $(cat "$TMPD/fwd.out") $(scenario_evidence g1)"
rt_ns timeout "$(tscale 90)" "$PY" "$TMPD/fwd.py" 127.0.0.1 8080 127.0.0.1 \
	/cgi-bin/peer:40126 /done:40127 >"$TMPD/fwd-lo.out" 2>&1 ||
	fail "the forward's loopback client failed: $(cat "$TMPD/fwd-lo.out") $(scenario_evidence g1)"
guest_wait g1
info "g1 boot to power-off: $(($(date +%s) - t0)) s"
scenario_checks g1

guest_expect g1 hostlo
[ "$GUEST_DETAIL" = "sha256=$LO_SHA bytes=1048576" ] ||
	fail "host loopback: the guest got '$GUEST_DETAIL' from 10.0.2.1:5003, expected sha256=$LO_SHA bytes=1048576"
ok "guest read 1 MiB from the host namespace's 127.0.0.1:5003 through 10.0.2.1:5003, sha256 equal"

l=$(grep '^/cgi-bin/peer ' "$TMPD/fwd.out")
[ "$l" = "/cgi-bin/peer 200 peer 198.51.100.3:40123" ] ||
	fail "forward: the guest's CGI answered '$l', expected it to see 198.51.100.3:40123: $(cat "$TMPD/fwd.out")"
guest_expect g1 fwd_log
case $GUEST_DETAIL in
"198.51.100.3:40123: url:/cgi-bin/peer") ;;
*) fail "forward: the guest's httpd logged '$GUEST_DETAIL', expected the client 198.51.100.3:40123" ;;
esac
ok "forward 198.51.100.254:8080 -> guest :80: the guest's httpd saw the client's own 198.51.100.3:40123 (CGI and log)"
l=$(grep '^/blob ' "$TMPD/fwd.out")
[ "$l" = "/blob 200 1048576 $GBLOB" ] ||
	fail "forward: the client got '$l', expected 200, 1048576 bytes, sha256 $GBLOB"
ok "forward: 1 MiB from the guest's httpd to the client, sha256 equal to the guest's"
l=$(grep '^/cgi-bin/peer ' "$TMPD/fwd-lo.out")
case $l in
"/cgi-bin/peer 200 peer 10.0.2.1:"*) ;;
*) fail "forward from the host's 127.0.0.1: the guest's CGI answered '$l', expected it to see the gateway 10.0.2.1: $(cat "$TMPD/fwd-lo.out")" ;;
esac
ok "forward from the host's 127.0.0.1:40126: the guest saw the gateway address (${l#*peer 200 peer })"

# --- counters, then SIGTERM ---------------------------------------------------------
stats_request || fail "no statistics"
# established: the download, the upload, the loopback's; the forward's 4 apart
for s in echo_opened:1 fwd_accepted:4 tcp_established:3 tcp_fwd_established:4; do
	n=$(stat_last "outside.sock.${s%%:*}")
	[ "$n" -ge "${s##*:}" ] || fail "stat outside.sock.${s%%:*} is $n, expected >= ${s##*:}"
done
for s in no_fd echo_denied fwd_refused tcp_fwd_syn_timeout tcp_fwd_refused; do
	n=$(stat_last "outside.sock.$s")
	[ "$n" = 0 ] || fail "stat outside.sock.$s is $n, expected 0"
done
ok "counters: $(grep -E 'stat outside.sock.(echo_opened|fwd_accepted|tcp_established|tcp_fwd_established|tcp_to_remote_bytes|tcp_to_guest_bytes) ' "$ARC_LOG" | tail -n 6 | awk '{print $2 "=" $3}' | tr '\n' ' ')"
bg_stop "$LOSRV"
scenario_gone g1 1 "stream:$SOCK#1: guest disconnected"
stop_arcnat
ok "arcnat (uid 65534, --outside sock) stopped cleanly after the guest left"
