#!/bin/sh
# run_frag.sh - a guest's IPv4 fragments through `arcnat run --mtu 1500` as
# uid 65534 on the socket uplink: the guest's kernel fragments UDP
# datagrams of 1473, 4000 and 65507 bytes (the largest) and an echo request
# of `ping -s 3000`; a host socket cannot send a fragment, so arcnat puts
# them back together (pkt/reasm) and relays each whole. The server's echoes
# must come back whole and identical, the ping must be answered, and the
# counters must say that the datagrams were reassembled, none dropped.
# Without reassembly every one of these is lost (outside.sock.frag).
#
#   ns an-fh-$$ ("host": arcnat runs here as uid 65534)     ns an-fs-$$ ("server")
#   arcnat run --mtu 1500 (--outside sock, the default)
#     h1 203.0.113.2/24 <--------------------veth-------------> s1 203.0.113.1/24
#                                                             udp_tool.py server .1:7001 (echo)
#     CMD (frag_client.py, ping -s 3000), in its own namespace:
#     tap0 10.0.2.2/24, default via 10.0.2.1, MTU 1500
#
# The user is uid/gid 65534 without groups or capabilities, with a 0666 TUN
# node bind-mounted over /dev/net/tun on a private mount namespace, as in
# run_udp.sh; ping sockets are allowed in the host namespace.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/include/unpriv.sh"

net_checks
NS_H=an-fh-$$
NS_S=an-fs-$$
s_ns() { ip netns exec "$NS_S" "$@"; }
unpriv_tmpd an-rfrag udp_tool.py
export XDG_RUNTIME_DIR="$TMPD/run"
mkdir -m 700 "$XDG_RUNTIME_DIR" || fail "mkdir $XDG_RUNTIME_DIR"
chown 65534:65534 "$XDG_RUNTIME_DIR" || fail "chown $XDG_RUNTIME_DIR"
cat >"$TMPD/frag_client.py" <<'EOF' || fail "write frag_client.py"
import socket, sys, time
host, port, tmo = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((host, port))
s.settimeout(tmo)
for n in map(int, sys.argv[4:]):
    msg = bytes((i * 7 + n) & 0xFF for i in range(n))
    for attempt in range(3):
        s.send(msg)
        try:
            d = s.recv(65535)
        except socket.timeout:
            continue
        if d != msg:
            print("FAIL size %d: the echo differs (%d bytes back)" % (n, len(d)), flush=True)
            sys.exit(1)
        print("ok size %d echoed whole (try %d)" % (n, attempt + 1), flush=True)
        break
    else:
        print("FAIL size %d: no echo in 3 tries of %.1f s" % (n, tmo), flush=True)
        sys.exit(1)
EOF
chmod 0644 "$TMPD/frag_client.py"
ns_add "$NS_H"
ns_add "$NS_S"
veth_pair "$NS_H" h1 203.0.113.2/24 "$NS_S" s1 203.0.113.1/24
ip netns exec "$NS_H" sysctl -qw net.ipv4.ping_group_range="0 2147483647" >/dev/null ||
	fail "ping_group_range in the host namespace"
RUN_TO=$(tscale 60)
info "namespaces $NS_H $NS_S ready, arcnat: $ARCNAT, time scale x$NET_TSCALE"

bg s_ns timeout "$(tscale 90)" "$PY" "$TMPD/udp_tool.py" server "$(tscale 80)" \
	203.0.113.1:7001 >"$TMPD/srv.out" 2>&1
wait_listen s_ns u 7001 || fail "the UDP server did not start: $(cat "$TMPD/srv.out")"

# shellcheck disable=SC2034 # read by lib.sh (show_arcnat_log)
ARC_RUNS=1
ARC_LOG=$TMPD/arcnat.1.log
OUT=$TMPD/client.out
T0_=$(date +%s)
# shellcheck disable=SC2016 # expanded by the inner shell
unpriv "$NS_H" "$RUN_TO" "$ARCNAT" run --verbose --mtu 1500 -- sh -c '
		ip link show tap0 | grep -q " mtu 1500 " || { echo "FAIL tap0: $(ip link show tap0)"; exit 1; }
		"$1" "$2" 203.0.113.1 7001 "$3" 1472 1473 4000 65507 || exit 1
		ping -c 3 -i 0.2 -W 2 -s 3000 203.0.113.1 | grep -q "^3 packets transmitted, 3 received" &&
			echo "ok ping -s 3000: 3 of 3 answered" || echo "FAIL ping -s 3000"' \
	sh "$PY" "$TMPD/frag_client.py" 3 >"$OUT" 2>"$ARC_LOG"
rc=$?
grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" && fail "sanitizer report in $ARC_LOG"
[ "$rc" = 0 ] || fail "arcnat run (CMD the UDP client) exit status $rc, expected 0: $(cat "$OUT")"
grep '^FAIL' "$OUT" && fail "the guest: $(grep '^FAIL' "$OUT")"
for n in 1472 1473 4000 65507; do
	grep -q "^ok size $n " "$OUT" || fail "no echo of $n bytes: $(cat "$OUT")"
done
ok "UDP datagrams of 1472, 1473, 4000 and 65507 bytes from a guest with MTU 1500 echoed whole ($(($(date +%s) - T0_)) s)"
grep -q '^ok ping -s 3000' "$OUT" || fail "ping -s 3000: $(cat "$OUT")"
ok "ping -s 3000 to the server: 3 of 3 answered"

# The final statistics block arcnat printed at exit.
last() { awk -v n="stat outside.sock.$1" '$1 " " $2 == n {v = $3} END {print v + 0}' "$ARC_LOG"; }
re=$(last frag_reassembled)
fr=$(last frag)
# 1473 (2 fragments), 4000 (3), 65507 (45), 3 pings of 3028 (3 each): 6
# datagrams at least, 59 fragments at least (more if a try was repeated)
[ "$re" -ge 6 ] || fail "frag_reassembled $re, expected at least 6"
[ "$fr" -ge 59 ] || fail "frag $fr fragments, expected at least 59"
for c in frag_overlap frag_too_big frag_bad_end frag_bad frag_evicted frag_active; do
	[ "$(last $c)" = 0 ] || fail "outside.sock.$c is $(last $c), expected 0"
done
ok "counters: $fr fragments, $re datagrams reassembled, none dropped, none held at exit"
