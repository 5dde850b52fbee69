#!/bin/sh
# run_ctl_runtime.sh - port forwards added and deleted while `arcnat run`
# runs (the socket uplink, as uid 65534 without capabilities, under its
# seccomp list), through `arcnat ctl forward`: a transfer of 768 MiB each
# way through a command-line forward (-t 8090:82) runs all along, its
# SHA-256 checked, while a TCP forward is added (arcnat listens on the
# host port at once; a client reaches the guest's server, which sees the
# client's own address; 16 MiB each way by SHA-256), one bound to
# 127.0.0.1 (reached from the host's loopback only), a UDP forward added
# (every datagram answered), and each deleted again (the port closed: the
# client is refused; a connection open through it goes on); the command line's UDP forward deleted and added
# again; a host port another program has is refused with its reason and
# leaves the forwards unchanged; a stream guest port added and deleted, a
# TAP refused. arcnat then exits 0 with its CMD.
#
#   ns an-fh-$$ ("host": arcnat runs here as uid 65534)      ns an-fc-$$ ("client")
#   arcnat run -t 8090:82 -u 5353:53 --control $U/ctl.sock
#     h1 203.0.113.2/24 <--------------------veth---------------> c1 203.0.113.1/24
#     CMD: fwd_tool.py server (TCP 80 81, UDP 53) in its own namespaces,
#     tap0 10.0.2.2/24 (run_fwd.sh's setup)
. "$(dirname "$0")/lib.sh"

. "$NET_DIR/include/fwd.sh"

CTL=$U/ctl.sock
ctl() { timeout "$(tscale 20)" "$ARCNAT" ctl --control "$CTL" --timeout "$(tscale 20)" "$@"; }

bg_as run --verbose -t 8090:82 -u 5353:53 --control "$CTL" -- \
	"$PY" "$TOOL" server "$(tscale 170)" "$U/ready" "$U/done" t:80 t:81 t:82 u:53 u:54
P=$BG_PID
wait_servers "$P"
wait_listen h_ns t 8090 || fail "arcnat does not listen on 8090"
[ -S "$CTL" ] || fail "no control socket at $CTL"
ctl forward list >"$TMPD/l0" || fail "forward list"
[ "$(grep -c '^tcp\|^udp' "$TMPD/l0")" = 2 ] || fail "forward list: $(cat "$TMPD/l0")"
GUEST=$(awk '/^tcp/ {print $5}' "$TMPD/l0")
ok "arcnat run listens on 8090 (-t) and 5353 (-u), both listed; the guest is $GUEST"

# the transfer on another flow, all along
bg c_ns timeout "$(tscale 120)" "$PY" "$TOOL" tcp $HOST 8090 $CLI --lport 82 --up 768 --down 768
BIGP=$BG_PID

[ "$(ctl forward add "tcp:8080:$GUEST:80")" = "added tcp:8080:$GUEST:80" ] || fail "forward add tcp:8080: $(tail -n 3 "$ARC_LOG")"
wait_listen h_ns t 8080 || fail "arcnat does not listen on 8080 after forward add"
client c_ns "forward added at runtime, 16 MiB each way" tcp $HOST 8080 $CLI --lport 80 --up 16 --down 16
ctl forward add "tcp:8081:$GUEST:81" 127.0.0.1 >/dev/null || fail "forward add tcp:8081 127.0.0.1"
client h_ns "forward added on 127.0.0.1, from the host's loopback" tcp 127.0.0.1 8081 "$GW:*" --lport 81
client c_ns "forward added on 127.0.0.1, from elsewhere" refused $HOST 8081
ctl forward add "udp:5355:$GUEST:54" >/dev/null || fail "forward add udp:5355"
client c_ns "UDP forward added at runtime" udp $HOST 5355 $CLI 50 --lport 54
# forward-list: the host socket's address beside the NAT's side
ctl --json forward list >"$TMPD/lj" || fail "forward list --json"
for want in "tcp 8080 0.0.0.0" "tcp 8081 127.0.0.1" "udp 5355 0.0.0.0" "tcp 8090 0.0.0.0"; do
	# shellcheck disable=SC2086 # three words
	set -- $want
	got=$("$PY" -c 'import json,sys
for f in json.load(open(sys.argv[1]))["forwards"]:
    if f["proto"] == sys.argv[2] and f["port"] == int(sys.argv[3]): print(f.get("host", "none"))' "$TMPD/lj" "$1" "$2")
	[ "$got" = "$3" ] || fail "forward list: $1 $2 has host '$got', want $3: $(cat "$TMPD/lj")"
done
ctl forward list | grep -q '^tcp   127\.0\.0\.1 .* 8081 ' || fail "forward list table: no HOST column for 8081: $(ctl forward list)"
ok "forward list shows each forward's host address (127.0.0.1 for the one bound there, 0.0.0.0 for all)"

# a host port another program has: refused with the reason, nothing changed
bg h_ns timeout "$(tscale 60)" socat TCP-LISTEN:8095,bind=0.0.0.0,reuseaddr,fork /dev/null
BUSY=$BG_PID
wait_listen h_ns t 8095 || fail "socat on 8095"
ctl forward add "tcp:8095:$GUEST:85" >/dev/null 2>"$TMPD/err"
[ $? = 1 ] || fail "forward add of a host port in use: want exit 1"
grep -q "8095.*another program has it" "$TMPD/err" || fail "forward add of a port in use: $(cat "$TMPD/err")"
ctl forward list | grep -q ' 8095 ' && fail "the refused forward is listed"
bg_stop "$BUSY"
ok "a host port in use: exit 1, $(cut -d: -f3- "$TMPD/err" | head -c 120), not listed"

# deleted with a connection open through it: the connection goes on (the
# relay's own socket), the port closes
cat >"$TMPD/held.py" <<'PYEOF'
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
f = s.makefile("rb")
assert f.readline().startswith(b"seen "), "no seen line"
print("held", flush=True)
end = time.time() + 30
while not os.path.exists(sys.argv[3]):
    assert time.time() < end, "no go file"
    time.sleep(0.05)
s.sendall(b"down 1048576\n")
n = 0
while n < 1048576:
    d = f.read1(65536)
    assert d, "EOF after %d bytes" % n
    n += len(d)
print("after", n, flush=True)
PYEOF
rm -f "$TMPD/go"
bg c_ns timeout "$(tscale 40)" "$PY" "$TMPD/held.py" $HOST 8080 "$TMPD/go" >"$TMPD/held.out" 2>&1
HELD=$BG_PID
wait_file_grep "$(tscale 10)0" "$TMPD/held.out" held || fail "no connection held through 8080: $(cat "$TMPD/held.out")"
ctl forward delete tcp:8080 >/dev/null || fail "forward delete tcp:8080"
client c_ns "forward deleted at runtime" refused $HOST 8080
: >"$TMPD/go"
wait "$HELD" || fail "the connection open through the deleted forward broke: $(cat "$TMPD/held.out")"
grep -q '^after 1048576' "$TMPD/held.out" || fail "held connection: $(cat "$TMPD/held.out")"
ok "the connection open through the deleted forward went on: 1 MiB from the guest after the delete"
ctl forward delete "tcp:8081:$GUEST:81" >/dev/null || fail "forward delete tcp:8081"
client h_ns "forward on 127.0.0.1 deleted" refused 127.0.0.1 8081
# UDP: the client's flow outlives the forward (the datagram socket stays
# while it does); a new source gets no answer (filtered as a dynamic
# mapping's). A forward no flow holds closes its socket at once.
ctl forward delete udp:5355 >/dev/null || fail "forward delete udp:5355"
c_ns timeout 10 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"new source", (sys.argv[1], 5355))
try:
    s.recv(100)
except socket.timeout:
    sys.exit(0)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit("a new source was answered through the deleted forward")' $HOST ||
	fail "UDP forward deleted: a new source still reaches the guest"
ok "UDP forward deleted: a new source is not answered"
ctl forward add "udp:5356:$GUEST:54" >/dev/null 2>&1 && fail "udp:5356 to the same guest port as the deleted 5355 (its flow holds the mapping) was accepted"
ctl forward delete udp:5353 >/dev/null || fail "forward delete udp:5353 (the command line's)"
client c_ns "the command line's UDP forward deleted" udp-refused $HOST 5353
ctl forward add "udp:5353:$GUEST:53" >/dev/null || fail "forward add udp:5353 again"
client c_ns "the command line's UDP forward added again" udp $HOST 5353 $CLI 20 --lport 53
ctl forward add "tcp:8080:$GUEST:80" >/dev/null || fail "forward add tcp:8080 again"
client c_ns "forward added again" tcp $HOST 8080 $CLI --lport 80

# a guest port added and deleted under arcnat run (its sandbox as uid 65534)
ctl guest add "stream:$U/g.sock" >/dev/null || fail "guest add stream under arcnat run: $(tail -n 3 "$ARC_LOG")"
[ -S "$U/g.sock" ] || fail "no stream socket at $U/g.sock"
ctl guest list | grep -q " stream:$U/g.sock (listener)" || fail "guest list: $(ctl guest list)"
ctl guest add tap1 >/dev/null 2>"$TMPD/err"
[ $? = 1 ] && grep -q CAP_NET_ADMIN "$TMPD/err" || fail "guest add tap1 under arcnat run: $(cat "$TMPD/err")"
ctl guest delete "stream:$U/g.sock" >/dev/null || fail "guest delete stream"
[ -e "$U/g.sock" ] && fail "stream socket file left"
ok "a stream guest port added and deleted under arcnat run; a TAP refused"

wait "$BIGP" || fail "the 768 MiB transfer through -t 8090:82 that ran all along failed"
ok "768 MiB each way through -t 8090:82 that ran during the changes: SHA-256 equal"
: >"$U/done"
wait "$P"
rc=$?
grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" && fail "sanitizer report in $ARC_LOG"
grep -q 'seccomp: blocked' "$ARC_LOG" && fail "$(grep 'seccomp: blocked' "$ARC_LOG")"
[ "$rc" = 0 ] || fail "arcnat run exit status $rc, expected 0: $(tail -n 5 "$ARC_LOG")"
ok "arcnat run exited 0 with its CMD"
