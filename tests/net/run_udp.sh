#!/bin/sh
# run_udp.sh - UDP through `arcnat run` as uid 65534 on the socket uplink
# (the default): every datagram size from 1 byte to what tap0's MTU allows
# (65520 - 28 = 65492) echoed intact by a server in another namespace
# (through the host's veth at MTU 1500: the host kernel fragments them), and
# endpoint-independent mapping: one guest socket, three remotes (two ports
# of one address, another address) all see the same source address and
# port, the host's 203.0.113.2 and the guest's own port 42000.
# gateway_sock.sh checks the same with `arcnat gateway --outside sock` as
# nobody under the sandbox; this is the unprivileged `arcnat run` path.
#
#   ns an-uh-$$ ("host": arcnat runs here as uid 65534)     ns an-us-$$ ("server")
#   arcnat run (--outside sock, the default)
#     h1 203.0.113.2/24 <--------------------veth-------------> s1 203.0.113.1/24 (+.3)
#                                                             udp_tool.py server: .1:7001, .1:7002, .3:7001
#     CMD (udp_tool.py sizes, eim), in its own namespace:
#     tap0 10.0.2.2/24, default via 10.0.2.1, MTU 65520
#
# The user is uid/gid 65534 without groups or capabilities, with a 0666 TUN
# node bind-mounted over /dev/net/tun on a private mount namespace, as in
# run_cmd.sh and run_tcp.sh.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/include/unpriv.sh"

net_checks
NS_H=an-uh-$$
NS_S=an-us-$$
s_ns() { ip netns exec "$NS_S" "$@"; }
unpriv_tmpd an-rudp udp_tool.py
ns_add "$NS_H"
ns_add "$NS_S"
veth_pair "$NS_H" h1 203.0.113.2/24 "$NS_S" s1 203.0.113.1/24
ip -n "$NS_S" addr add 203.0.113.3/24 dev s1 || fail "addr s1 (2nd)"
MAX=65492
RUN_TO=$(tscale 120)
info "namespaces $NS_H $NS_S ready, arcnat: $ARCNAT, time scale x$NET_TSCALE"

bg s_ns timeout "$(tscale 300)" "$PY" "$TMPD/udp_tool.py" server "$(tscale 280)" \
	203.0.113.1:7001 203.0.113.1:7002 203.0.113.3:7001 >"$TMPD/srv.out" 2>&1
wait_listen s_ns u 7002 || fail "the UDP servers did not start: $(cat "$TMPD/srv.out")"

# shellcheck disable=SC2034 # read by lib.sh (show_arcnat_log)
ARC_RUNS=1
ARC_LOG=$TMPD/arcnat.1.log
OUT=$TMPD/client.out
T0_=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
unpriv "$NS_H" "$RUN_TO" "$ARCNAT" run --verbose -- sh -c '
		"$1" "$2" sizes 203.0.113.1 7001 "$3" 1 || exit 1
		"$1" "$2" eim 42000 2 203.0.113.1:7001 203.0.113.1:7002 203.0.113.3:7001' \
	sh "$PY" "$TMPD/udp_tool.py" "$MAX" >"$OUT" 2>"$ARC_LOG"
rc=$?
grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" && fail "sanitizer report in $ARC_LOG"
[ "$rc" = 0 ] || fail "arcnat run (CMD the UDP client) exit status $rc, expected 0: $(grep -E '^FAIL' "$OUT")"
l=$(grep '^ok sizes' "$OUT") || fail "UDP sizes: no 'ok' from the client: $(cat "$OUT")"
ok "${l#ok } (arcnat run: $(($(date +%s) - T0_)) s)"
[ "$(grep -c '^seen-by ' "$OUT")" = 3 ] || fail "EIM: expected 3 answers, got: $(cat "$OUT")"
n=$(awk '/^seen-by / {print $3, $4}' "$OUT" | sort -u | wc -l)
src=$(awk '/^seen-by / {print $3 ":" $4; exit}' "$OUT")
[ "$n" = 1 ] || fail "EIM: the remotes saw different sources: $(grep '^seen-by' "$OUT")"
[ "$src" = 203.0.113.2:42000 ] ||
	fail "EIM: the remotes saw $src, expected the host's address and the guest's port, 203.0.113.2:42000"
ok "EIM: 203.0.113.1:7001, 203.0.113.1:7002 and 203.0.113.3:7001 all saw one source, $src, from the guest's socket 10.0.2.2:42000"
info "arcnat's final statistics: $(grep -E '^stat outside\.sock\.udp' "$ARC_LOG" | awk '$3 != 0 {printf "%s %s ", $2, $3}')"
