#!/bin/sh
# run_fwd.sh - port forwards into the guest (-t/-u) through `arcnat run` as
# uid 65534, with real clients: the guest's servers must see each client's
# real address and port (a client on the host's loopback as the gateway,
# 10.0.2.1), whatever the forward's form (8080:80, ADDR/PORT:PORT, a
# range); 64 MiB each way by SHA-256; a forward bound to 127.0.0.1 is not
# reachable from elsewhere; a guest port without a server resets the client
# (no hang); 200 concurrent forwarded connections of 256 KiB each; UDP
# forwards answer every datagram intact to the client's own address; and
# arcnat's descriptors are back where they were once the clients are gone.
# Last, the clear errors of a forward arcnat cannot open: a host port
# below 1024 for an unprivileged user, and a host port in use.
#
#   ns an-fh-$$ ("host": arcnat runs here as uid 65534)      ns an-fc-$$ ("client")
#   arcnat run -t 8080:80 -t 127.0.0.1/8081:81 -t 9000-9002:9100-9102
#              -t 8090:90 -u 5353:53 -u 127.0.0.1/5354:54
#     h1 203.0.113.2/24 <--------------------veth---------------> c1 203.0.113.1/24
#     lo 127.0.0.1: fwd_tool.py clients (root)                    fwd_tool.py clients (root)
#     CMD (fwd_tool.py server, TCP 80 81 9100-9102, UDP 53 54; nothing on 90),
#     in its own namespaces: tap0 10.0.2.2/24, default via 10.0.2.1
#
# The client's namespace has no route to 10.0.2.0/24 and the guest none
# to it but through arcnat: the guest can only have seen 203.0.113.1 as a
# source because arcnat opened the connection with it. The user is uid/gid
# 65534 without groups or capabilities, with a 0666 TUN node bind-mounted
# over /dev/net/tun on a private mount namespace (the host's node is never
# changed), as in run_udp.sh.
. "$(dirname "$0")/lib.sh"

. "$NET_DIR/include/fwd.sh"

# --- one arcnat run, its CMD the guest's servers -----------------------------
T_START=$(date +%s)
bg_as run --verbose -t 8080:80 -t 127.0.0.1/8081:81 -t 9000-9002:9100-9102 -t 8090:90 \
	-u 5353:53 -u 127.0.0.1/5354:54 -- \
	"$PY" "$TOOL" server "$(tscale 170)" "$U/ready" "$U/done" \
	t:80 t:81 t:9100 t:9101 t:9102 u:53 u:54
P=$BG_PID
wait_servers "$P"
for p in 8080 8081 9000 9001 9002 8090; do
	wait_listen h_ns t $p || fail "arcnat does not listen on TCP port $p in $NS_H: $(h_ns ss -Hltnp)"
done
for p in 5353 5354; do
	wait_listen h_ns u $p || fail "arcnat has no UDP socket on port $p in $NS_H: $(h_ns ss -Hlunp)"
done
A=$(arc_pid "$P") || fail "arcnat's pid not found"
# shellcheck disable=SC2034 # read by lib.sh (stat)
ARC_PID=$A
FD0=$(nfds "$A")
ok "arcnat (pid $A) listens on TCP 8080 8081 9000-9002 8090 and UDP 5353 5354; the guest's servers are up; arcnat has $FD0 descriptors"
info "$(h_ns ss -Hltn | awk '{print $4}' | sort | tr '\n' ' ')"

# --- TCP ---------------------------------------------------------------------
client c_ns "-t 8080:80, $BIG MiB each way" tcp $HOST 8080 $CLI --lport 80 --up $BIG --down $BIG
[ "$(srv_count 1 "^srv t 80 from $CLI [0-9]+ up:$((BIG << 20)) down:$((BIG << 20))\$")" = 1 ] ||
	fail "-t 8080:80: the guest's server did not log $BIG MiB each way from $CLI: $(grep '^srv t 80 ' "$U/cmd.out")"
client h_ns "-t 127.0.0.1/8081:81, from the host's loopback" tcp 127.0.0.1 8081 "$GW:*" --lport 81
srv_saw 81 $GW 1 "-t 127.0.0.1/8081:81"
client c_ns "-t 127.0.0.1/8081:81, from elsewhere" refused $HOST 8081
for i in 0 1 2; do
	client c_ns "-t 9000-9002:9100-9102, port 900$i" tcp $HOST 900$i $CLI --lport 910$i
	srv_saw 910$i $CLI 1 "-t 9000-9002:9100-9102"
done
T0_=$(date +%s)
client c_ns "-t 8090:90, nothing listens on the guest's port 90" reset $HOST 8090
[ $(($(date +%s) - T0_)) -le "$(tscale 5)" ] || fail "-t 8090:90: the reset took $(($(date +%s) - T0_)) s"
client c_ns "-t 8080:80, $CONC concurrent" many $HOST 8080 $CLI $CONC $CONC_KIB
srv_saw 80 $CLI $((CONC + 1)) "-t 8080:80"
n=$(srv_count $CONC "^srv t 80 from $CLI [0-9]+ (up|down):$((CONC_KIB << 10))\$")
[ "$n" = $CONC ] || fail "$CONC concurrent: the guest's server logged $n connections that moved $CONC_KIB KiB"
ok "the guest's server logged every connection from $CLI (the client's real address), $CONC of $CONC_KIB KiB"

# Descriptors: each forwarded connection holds one socket in arcnat (the
# client's, accepted); all closed when the connections end (both sides
# closed cleanly: no TIME_WAIT in arcnat's descriptors). A few seconds for
# the last ones; 4 of slack for a checker catching one mid-close.
_i=0
FD1=$(nfds "$A")
FD_PEAK=$FD1
while [ $_i -lt "$(tscale 10)0" ] && [ "$FD1" -gt $((FD0 + 4)) ]; do
	sleep 0.1
	FD1=$(nfds "$A")
	_i=$((_i + 1))
done
[ "$FD1" -le $((FD0 + 4)) ] ||
	fail "after the TCP clients: arcnat has $FD1 descriptors ($FD0 before, $FD_PEAK just after; expected <= $((FD0 + 4)))"
ok "after the TCP clients: arcnat's descriptors $FD0 -> $FD1 (just after: $FD_PEAK)"

# --- UDP ---------------------------------------------------------------------
# One datagram in flight at a time over a veth and a TAP with nothing else
# on them: a loss would be arcnat's, so none is allowed.
client c_ns "-u 5353:53" udp $HOST 5353 $CLI $DGRAMS --lport 53
client h_ns "-u 127.0.0.1/5354:54, from the host's loopback" udp 127.0.0.1 5354 "$GW:*" $DGRAMS --lport 54
client c_ns "-u 127.0.0.1/5354:54, from elsewhere" udp-refused $HOST 5354

# --- the statistics, the end ---------------------------------------------------
# Every client was accepted and handed to the relay; all but the one to
# port 90 were answered by the guest, that one refused (its RST); nothing
# timed out or found no slot.
stats_request || fail "no statistics on SIGUSR1"
want=$((1 + 1 + 3 + 1 + CONC))
for c in fwd_accepted:$want tcp_fwd_accepted:$want tcp_fwd_established:$((want - 1)) tcp_fwd_refused:1 \
	fwd_refused:0 tcp_fwd_syn_timeout:0 tcp_fwd_no_slot:0 tcp_fwd_exists:0 tcp_fwd_unreachable:0; do
	v=$(stat_last "outside.sock.${c%:*}")
	[ "$v" = "${c#*:}" ] || fail "stat outside.sock.${c%:*} is $v, expected ${c#*:} ($want clients, one to a guest port without a server)"
done
ok "statistics: $want clients accepted, $((want - 1)) answered by the guest, 1 refused by it, none timed out or refused by arcnat"
# busy polling (on by default, --busy-poll) served some of those
# exchanges' packets without a sleep; an option that did not reach the
# worker, or a window that never opened, leaves this 0
v=$(stat_last dp.busy_polled)
[ "$v" -gt 0 ] || fail "stat dp.busy_polled is $v after $want clients' exchanges (expected > 0: busy polling is on by default)"
ok "busy polling found $v of the worker's events"
# a UDP forward answers through its own socket, bound at start: the
# clients' flows hold no descriptor of their own
FD2=$(nfds "$A")
[ "$FD2" -le $((FD0 + 4)) ] ||
	fail "after the UDP clients: arcnat has $FD2 descriptors ($FD0 before any client; expected <= $((FD0 + 4)))"
ok "after the UDP clients too: arcnat's descriptors $FD0 -> $FD2"
: >"$U/done"
wait "$P"
rc=$?
grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" && fail "sanitizer report in $ARC_LOG"
[ "$rc" = 0 ] || fail "arcnat run (CMD the guest's servers) exit status $rc, expected 0: $(tail -n 3 "$U/cmd.out")"
grep -q '^srv .* error' "$U/cmd.out" && fail "the guest's servers reported errors: $(grep '^srv .* error' "$U/cmd.out" | head -n 3)"
ok "arcnat run exited 0 with its CMD ($(($(date +%s) - T_START)) s)"

# --- forwards arcnat cannot open ----------------------------------------------
# fwd_err WHAT PORT ARGS...: arcnat run ARGS -- (a CMD that would leave a
# file) exits 1 before CMD runs, with an "arcnat: " line naming PORT.
fwd_err() {
	_what=$1
	_port=$2
	shift 2
	rm -f "$U/ran"
	as run "$@" -- touch "$U/ran"
	_rc=$?
	[ "$_rc" = 1 ] || fail "$_what: arcnat run $*: exit status $_rc, expected 1: $(cat "$ARC_LOG")"
	[ -e "$U/ran" ] && fail "$_what: CMD ran"
	_l=$(grep '^arcnat: ' "$ARC_LOG" | grep -E "(^|[^0-9])$_port([^0-9]|\$)") ||
		fail "$_what: no 'arcnat: ' line naming port $_port: $(cat "$ARC_LOG")"
	[ "$(echo "$_l" | wc -l)" = 1 ] || fail "$_what: more than one line names the port: $_l"
	ok "$_what: exit status 1, CMD not run: $_l"
}
fwd_err "-t 80 for an unprivileged user" 80 -t 80
fwd_err "-u 53:53 for an unprivileged user" 53 -u 53:53
bg h_ns timeout "$(tscale 60)" "$PY" "$TOOL" server "$(tscale 50)" "$TMPD/busy.ready" "$TMPD/busy.done" t:8085 u:8086 \
	>"$TMPD/busy.out" 2>&1
B=$BG_PID
wait_listen h_ns t 8085 || fail "the listener on 8085 did not start: $(cat "$TMPD/busy.out")"
fwd_err "-t 8085, a host port in use" 8085 -t 8085:80
fwd_err "-u 8086, a host port in use" 8086 -u 8086:53
: >"$TMPD/busy.done"
wait "$B" 2>/dev/null
