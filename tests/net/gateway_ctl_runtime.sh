#!/bin/sh
# gateway_ctl_runtime.sh - forwards and guests changed while `arcnat gateway`
# runs, as nobody under its seccomp list, through `arcnat ctl` (issue 13):
# a TCP transfer from the inside runs all along (sha256 compared at the
# end) while a forward is added, carries a connection from outside, is
# deleted with that connection still open (it goes on; a new one is not let
# in), added again; a UDP forward likewise; every refusal (duplicate, taken
# port, not a guest, bad syntax, no such forward) exits 1 with its reason
# and changes nothing. Then a second guest attached at runtime: a stream
# port made by `arcnat ctl guest add` under the sandbox, a QEMU-less guest
# on it (QEMU's stream protocol, scapy) that gets a DHCP lease and pings the
# gateway, listed with its counters, deleted (arcnat closes it, the socket
# file goes); a dgram guest and a vhost-user guest (an honest frontend,
# tests/tools/vhost_fe, echoes through it) added and deleted; a TAP refused,
# saying why.
# arcnat stops cleanly (a blocked system call would have killed it).
#
#   ns an-in-$$ (inside)           ns an-rt-$$ (router)                     ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 <---TAP--->   arcnat gateway --name rt-$$              o0 198.51.100.1/24
#   slow sender, echo server :80   --inside tap0@an-in-$$  r0 <--veth-->    sha256 receiver,
#                                  --outside r0 --external-ip 198.51.100.2/24  forward clients
#   stream guest (python) <--UNIX socket $TMPD/g/s.sock-->
. "$(dirname "$0")/lib.sh"

net_checks
need_scapy
net_setup packet
NAME=rt-$$
CTL_TO=$(tscale 20)
ctl() { timeout "$CTL_TO" "$ARCNAT" ctl --name "$NAME" --timeout "$CTL_TO" "$@"; }
TOOL="$PY $(cd "$(dirname "$0")" && pwd)/ctl_runtime_tool.py"
mkdir -p "$TMPD/g" && chown 65534 "$TMPD/g" && chmod 755 "$TMPD" || fail "guest directory"

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--name "$NAME" --forward udp:5353:10.0.2.2:5353 --dhcp-range 10.0.2.50,10.0.2.60
grep -q 'sandbox: user nobody, no capabilities, no_new_privs, seccomp' "$ARC_LOG" ||
	fail "arcnat did not enter its default sandbox: $(grep sandbox "$ARC_LOG")"

# --- a transfer on another flow, all along ----------------------------------
head -c $((24 * 1024 * 1024)) /dev/urandom >"$TMPD/data" || fail "data"
WANT=$(sha "$TMPD/data")
bg out_ns timeout "$(tscale 90)" $TOOL recv_sha 5001 "$(tscale 80)" >"$TMPD/sha.out"
RECV=$BG_PID
wait_listen out_ns t 5001 || fail "receiver did not start"
bg in_ns timeout "$(tscale 90)" $TOOL slow_send 198.51.100.1 5001 "$TMPD/data" 12
SEND=$BG_PID
bg in_ns timeout "$(tscale 120)" $TOOL echo_server 10.0.2.2 80 "$(tscale 110)"
wait_listen in_ns t 80 || fail "echo server did not start"

# --- forwards ------------------------------------------------------------------
ctl forward list >"$TMPD/list0" || fail "forward list"
grep -q '^udp  *-  *198.51.100.2  *5353  *10.0.2.2  *5353 ' "$TMPD/list0" ||
	fail "the command line's forward is not listed: $(cat "$TMPD/list0")"
[ "$(ctl forward add tcp:8080:10.0.2.2:80)" = "added tcp:8080:10.0.2.2:80" ] ||
	fail "forward add tcp:8080:10.0.2.2:80"
ctl --json forward list | "$PY" -c '
import json, sys
f = json.load(sys.stdin)["forwards"]
assert [x["spec"] for x in f] == ["tcp:8080:10.0.2.2:80", "udp:5353:10.0.2.2:5353"], f
assert f[0]["external"] == "198.51.100.2" and f[0]["to_port"] == 80, f
assert all("host" not in x for x in f), f  # a packet uplink has no host socket' ||
	fail "forward list after add"
rm -f "$TMPD/go"
bg out_ns timeout "$(tscale 40)" $TOOL fwd_client 198.51.100.2 8080 "$TMPD/go" "$(tscale 35)" >"$TMPD/held.out"
HELD=$BG_PID
wait_file_grep "$(($(tscale 10) * 10))" "$TMPD/held.out" held ||
	fail "no connection through the added forward"
ok "forward added at runtime: a client from outside reaches the guest's :80 through 198.51.100.2:8080"

# refusals: exit 1, the reason, nothing changed
refused() {
	_want=$1
	shift
	ctl "$@" >/dev/null 2>"$TMPD/err"
	_rc=$?
	[ $_rc = 1 ] || fail "arcnat ctl $*: exit $_rc, want 1"
	grep -q -- "$_want" "$TMPD/err" || fail "arcnat ctl $*: $(cat "$TMPD/err"), want '$_want'"
}
refused "already forwarded" forward add tcp:8080:10.0.2.2:80
refused "already forwarded" forward add tcp:8080:10.0.2.3:80
refused "already forwarded" forward add tcp:8081:10.0.2.2:80
refused "not a guest address" forward add tcp:8082:198.51.100.1:80
refused "not a guest address" forward add tcp:8082:10.0.2.1:80
refused "-32602" forward add tcp:8082
refused "-32602" forward add tcp:99999:10.0.2.2:80
refused "no such forward" forward delete tcp:8083
refused "no such forward" forward delete tcp:8080:10.0.2.3:80
ctl forward add >/dev/null 2>&1
[ $? = 2 ] || fail "forward add without a spec: want exit 2"
ctl forward list >"$TMPD/list1" || fail "forward list"
[ "$(grep -c '^tcp\|^udp' "$TMPD/list1")" = 2 ] || fail "refusals changed the forwards: $(cat "$TMPD/list1")"
ok "refusals exit 1 with their reason (duplicate, taken port or target, not a guest, syntax, no such forward); nothing changed"

# delete while the forwarded connection is open: it goes on, a new one does not get in
[ "$(ctl forward delete tcp:8080)" = "deleted tcp:8080" ] || fail "forward delete tcp:8080"
ctl forward list | grep -q '^tcp' && fail "tcp:8080 still listed after delete"
: >"$TMPD/go"
wait "$HELD" || fail "the connection opened through the forward broke when the forward was deleted"
ok "forward deleted: the connection it carried went on (echo after the delete)"
out_ns $TOOL connect_fails 198.51.100.2 8080 3 ||
	fail "a new connection got through the deleted forward"
ctl forward add tcp:8080:10.0.2.2:80 >/dev/null || fail "forward add again"
rm -f "$TMPD/go"
: >"$TMPD/go"
out_ns timeout "$(tscale 20)" $TOOL fwd_client 198.51.100.2 8080 "$TMPD/go" "$(tscale 15)" >/dev/null ||
	fail "the forward added again does not carry a connection"
ctl forward delete tcp:8080:10.0.2.2:80 >/dev/null || fail "forward delete by its whole spec"
ok "a new connection is not let in after the delete; added again it carries one; deleted again"

# UDP: the command line's forward deleted at runtime, then added again
ctl forward delete udp:5353 >/dev/null || fail "forward delete udp:5353 (the command line's)"
ctl forward list | grep -q '^udp' && fail "udp:5353 still listed"
ctl forward add udp:5353:10.0.2.2:5353 >/dev/null || fail "forward add udp:5353 again"
ctl forward list | grep -q '^udp  *-  *198.51.100.2  *5353 ' || fail "udp:5353 not listed after add"
ok "the command line's UDP forward deleted and added again"

wait "$SEND" || fail "the slow transfer's sender failed"
wait "$RECV" || fail "the slow transfer's receiver failed"
[ "$(cat "$TMPD/sha.out")" = "$WANT" ] ||
	fail "the transfer that ran during the forward changes arrived changed ($(cat "$TMPD/sha.out") != $WANT)"
ok "the 24 MiB transfer that ran all along arrived intact (sha256 equal)"

# --- guests ---------------------------------------------------------------------
GS=$TMPD/g/s.sock
[ "$(ctl guest add "stream:$GS")" = "added stream:$GS" ] || fail "guest add stream:$GS: $(tail -n 3 "$ARC_LOG")"
[ -S "$GS" ] || fail "no socket at $GS"
[ "$(command stat -c %u "$GS")" = 65534 ] || fail "the guest socket is not nobody's"
bg timeout "$(tscale 40)" $TOOL stream_guest "$GS" 52:54:00:aa:bb:01 "$(tscale 35)" >"$TMPD/guest.out" 2>&1
GPID=$BG_PID
i=0
until ctl --json guest list | "$PY" -c '
import json, sys
g = json.load(sys.stdin)["guests"]
c = [x for x in g if x["name"].startswith("stream:") and "#" in x["name"]]
assert c and c[0]["counters"]["rx_packets"] >= 4 and c[0]["counters"]["tx_packets"] >= 4, g
assert c[0]["kind"] == "stream" and c[0]["mtu"] == 1500
assert [x for x in g if x["listener"] and x["kind"] == "stream"]
assert [x for x in g if x["name"].startswith("tap0")]' 2>/dev/null; do
	[ $i -lt "$(($(tscale 15) * 10))" ] || fail "the runtime guest is not listed with its counters: $(ctl guest list)"
	sleep 0.1
	i=$((i + 1))
done
ctl guest list >"$TMPD/guests" || fail "guest list"
info "$(cat "$TMPD/guests")"
ok "guest added at runtime: a stream guest got a DHCP lease and pinged the gateway; listed with its counters"
refused "not replaced\|serves\|in use" guest add "stream:$GS"
refused "CAP_NET_ADMIN" guest add tap1
refused "no such guest port" guest delete "stream:$TMPD/g/nope"
[ "$(ctl guest delete "stream:$GS")" = "deleted stream:$GS" ] || fail "guest delete"
wait "$GPID" || fail "the stream guest did not finish (ping, then closed by arcnat): $(cat "$TMPD/guest.out")"
grep -q '^dhcp 10\.0\.2\.5[0-9] gw 10\.0\.2\.1 ping ok$' "$TMPD/guest.out" || fail "stream guest: $(cat "$TMPD/guest.out")"
grep -q '^closed$' "$TMPD/guest.out" || fail "stream guest not closed: $(cat "$TMPD/guest.out")"
[ -e "$GS" ] && fail "the socket file is still there after the delete"
ctl guest list | grep -q "stream:" && fail "the stream guest is still listed"
ok "guest deleted: its connection closed by arcnat, its socket file gone; a second add at a live path, a TAP and an unknown name refused"

DS=$TMPD/g/d.sock
ctl guest add "dgram:$DS" >/dev/null || fail "guest add dgram"
[ -S "$DS" ] || fail "no dgram socket"
ctl guest list | grep -q " dgram:$DS" || fail "dgram guest not listed"
ctl guest delete "dgram:$DS" >/dev/null || fail "guest delete dgram"
[ -e "$DS" ] && fail "dgram socket file left"
ok "a dgram guest added and deleted"

# a vhost-user guest added at runtime: an honest frontend echoes through it
FE=$(dirname "$ARCNAT")/tests/tools/vhost_fe
[ -x "$FE" ] || fail "no $FE (make builds it)"
VS=$TMPD/g/v.sock
ctl guest add "vhost-user:$VS" >/dev/null || fail "guest add vhost-user: $(tail -n 3 "$ARC_LOG")"
timeout "$(tscale 60)" "$FE" "$VS" echo 5 >"$TMPD/fe.out" 2>&1 ||
	fail "a frontend on the runtime vhost-user port: $(cat "$TMPD/fe.out") $(grep vhost "$ARC_LOG" | tail -n 5)"
ctl guest delete "vhost-user:$VS" >/dev/null || fail "guest delete vhost-user"
[ -e "$VS" ] && fail "vhost-user socket file left"
ok "a vhost-user guest added at runtime: a frontend echoes through it ($(cat "$TMPD/fe.out")); deleted"

# the TAP guest still works, and arcnat stops cleanly
in_ns timeout 15 ping -c 2 -i 0.2 -W 2 198.51.100.1 >/dev/null || fail "the TAP guest cannot ping out any more"
grep -q 'seccomp: blocked' "$ARC_LOG" && fail "$(grep 'seccomp: blocked' "$ARC_LOG")"
stop_arcnat
