#!/bin/sh
# run_cmd.sh - `arcnat run -- CMD`, as root and as an unprivileged user:
# CMD's exit status passed through (0, 3, 126, 127, 128+N), SIGTERM, SIGINT
# and SIGHUP forwarded to CMD, CMD killed when arcnat is (SIGKILL), tap0
# configured directly (address, default route, MTU; the options change
# them; no DHCP client runs), a private /etc/resolv.conf naming the gateway
# (the host's untouched), a clear error for a /dev/net/tun the user cannot
# open, and traffic through the gateway: ping, a UDP exchange, TCP both
# ways (sha256), and a name resolved
# through resolv.conf by the gateway's DNS forwarder from a dnsmasq the test
# starts.
#
#   ns an-rh-$$ ("host": arcnat runs here)                 ns an-rs-$$ ("server")
#   root: arcnat run --outside h0             h0 <--veth--> s0 198.51.100.1/24
#                    --external-ip 198.51.100.2/24
#   user: arcnat run (--outside sock,   h1 203.0.113.2 <--veth--> s1 203.0.113.1/24
#         the default)                                       dnsmasq, socat, udptool
#     CMD, in a network namespace of its own:
#     tap0 10.0.2.2/24, default via 10.0.2.1, MTU 65520
#
# The server has no route to 10.0.2.0/24: replies come back only through the
# NAT. The unprivileged user is uid/gid 65534 without supplementary groups
# or capabilities, in a private mount namespace where a 0666 node is
# bind-mounted over the host's /dev/net/tun (mode 0600 on this machine; it is
# never changed). That user gets its namespaces from a user namespace (CMD
# is root in it, uid 0 mapped to 65534) and its uplink from host sockets
# (net.ipv4.ping_group_range of the host namespace lets it ping; TCP goes
# through the relay, uplink/sock_tcp). Last, the clear one-line errors of a
# user who cannot open /dev/net/tun, of a system without it, and of one
# without user namespaces (tests/net/userns_limit.py).
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/include/unpriv.sh"

net_checks
need dnsmasq getent
NS_H=an-rh-$$
NS_S=an-rs-$$
h_ns() { ip netns exec "$NS_H" "$@"; }
s_ns() { ip netns exec "$NS_S" "$@"; }
unpriv_tmpd an-run
write_udptool
chmod 0644 "$TMPD/udptool.py"
ns_add "$NS_H"
ns_add "$NS_S"
veth_pair "$NS_H" h0 "" "$NS_S" s0 198.51.100.1/24
veth_pair "$NS_H" h1 203.0.113.2/24 "$NS_S" s1 203.0.113.1/24
h_ns sysctl -qw net.ipv4.ping_group_range="0 2147483647" || fail "ping_group_range"
HOST_RESOLV=$(cat /etc/resolv.conf 2>/dev/null)
UPLINK_root="--outside h0 --external-ip 198.51.100.2/24 --dns 198.51.100.1"
SRV_root=198.51.100.1
UPLINK_user="--dns 203.0.113.1"
SRV_user=203.0.113.1
RUN_TO=$(tscale 60)
info "namespaces $NS_H $NS_S ready, arcnat: $ARCNAT"

# --- the server side: dnsmasq, a UDP echo ------------------------------------
echo 'address=/svc.test/198.51.100.77' >"$TMPD/dnsmasq.conf"
bg s_ns timeout "$(tscale 600)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=198.51.100.1,203.0.113.1 --bind-interfaces --pid-file= --user=root \
	--conf-file="$TMPD/dnsmasq.conf" --log-facility="$TMPD/dnsmasq.log" >"$TMPD/dnsmasq.out" 2>&1
wait_listen s_ns u 53 || fail "dnsmasq did not start: $(cat "$TMPD/dnsmasq.out" 2>/dev/null)"
bg s_ns timeout "$(tscale 600)" "$PY" "$TMPD/udptool.py" listen 0.0.0.0 7007 0 "$(tscale 600)" echo >/dev/null
wait_listen s_ns u 7007 || fail "UDP echo server did not start"
DATA=$TMPD/data
make_data "$DATA" 16
chmod 0644 "$DATA"

# as MODE (root|user), run arcnat run ARGS... in the host namespace in the
# foreground; its stderr to $ARC_LOG; returns its exit status.
as() {
	_mode=$1
	shift
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	if [ "$_mode" = root ]; then
		ip netns exec "$NS_H" timeout -k 5 "$RUN_TO" "$ARCNAT" "$@" 2>"$ARC_LOG"
	else
		unpriv "$NS_H" "$RUN_TO" "$ARCNAT" "$@" 2>"$ARC_LOG"
	fi
}

# bg_as MODE ARGS...: the same in the background; $BG_PID is the process
# that started it (timeout's parent chain), see arc_pid.
bg_as() {
	_mode=$1
	shift
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	if [ "$_mode" = root ]; then
		bg ip netns exec "$NS_H" timeout -k 5 "$RUN_TO" "$ARCNAT" "$@" 2>"$ARC_LOG"
	else
		bg_unpriv "$NS_H" "$RUN_TO" "$ARCNAT" "$@" 2>"$ARC_LOG"
	fi
}

# wait_for FILE: bounded (10 s) wait until FILE exists and is not empty.
wait_for() {
	_i=0
	while [ $_i -lt "$(($(tscale 10) * 10))" ]; do
		[ -s "$1" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# expect_rc MODE WANT WHAT ARGS...: arcnat run ARGS exits WANT.
expect_rc() {
	_m=$1 _want=$2 _what=$3
	shift 3
	as "$_m" run $UPLINK "$@" >/dev/null
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "$_m: $_what: exit status $_rc, expected $_want"
}

# TCP both ways between CMD and the server, sha256 compared.
check_tcp() {
	bg s_ns timeout "$RUN_TO" socat -u TCP-LISTEN:5001,bind="$SRV",reuseaddr CREATE:"$TMPD/up.recv"
	UPS=$BG_PID
	bg s_ns timeout "$RUN_TO" socat -u OPEN:"$DATA",rdonly TCP-LISTEN:5002,bind="$SRV",reuseaddr
	DNS_=$BG_PID
	wait_listen s_ns t 5001 && wait_listen s_ns t 5002 || fail "TCP servers did not start"
	# shellcheck disable=SC2016
	as "$M" run $UPLINK -- sh -c '
		timeout 30 socat -u OPEN:"$2",rdonly TCP:"$1":5001 && echo UP-SENT
		timeout 30 socat -u TCP:"$1":5002 CREATE:"$3/down.recv" && echo DOWN-DONE
		' sh "$SRV" "$DATA" "$U" >"$U/tcp" || fail "$M: the TCP CMD failed: $(cat "$U/tcp")"
	_i=0
	while [ $_i -lt 50 ] && alive "$UPS"; do sleep 0.1; _i=$((_i + 1)); done
	bg_stop "$UPS"
	bg_stop "$DNS_"
	grep -q UP-SENT "$U/tcp" && [ "$(sha "$TMPD/up.recv")" = "$(sha "$DATA")" ] ||
		fail "$M: TCP from CMD to the server: sha256 differs or the transfer failed: $(cat "$U/tcp")"
	grep -q DOWN-DONE "$U/tcp" && [ "$(sha "$U/down.recv")" = "$(sha "$DATA")" ] ||
		fail "$M: TCP from the server to CMD: sha256 differs or the transfer failed: $(cat "$U/tcp")"
	rm -f "$TMPD/up.recv" "$U/down.recv"
	ok "$M: 16 MiB TCP each way between CMD and $SRV, sha256 equal"
}

check_mode() {
	M=$1
	case $M in
	root) UPLINK=$UPLINK_root SRV=$SRV_root ;;
	*) UPLINK=$UPLINK_user SRV=$SRV_user ;;
	esac
	rm -f "$U"/*

	# --- exit status ---------------------------------------------------------
	expect_rc "$M" 0 "CMD true" -- true
	expect_rc "$M" 3 "CMD exit 3" -- sh -c 'exit 3'
	expect_rc "$M" 127 "CMD not found" -- "no-such-command-$$"
	grep -q "no-such-command-$$: command not found" "$ARC_LOG" ||
		fail "$M: CMD not found: no 'command not found' line: $(cat "$ARC_LOG")"
	expect_rc "$M" 126 "CMD not executable" -- "$DATA"
	expect_rc "$M" 141 "CMD killed by SIGPIPE (128+13)" -- sh -c 'kill -PIPE $$'
	ok "$M: exit status of CMD: 0, 3, 127 (not found, said on stderr), 126 (not executable), 141 (its own SIGPIPE)"

	# --- tap0, routes, resolv.conf, who CMD is ---------------------------------
	# shellcheck disable=SC2016 # expanded by CMD's shell
	as "$M" run $UPLINK -- sh -c 'ip -o addr show; ip -4 route; ip -o link show tap0;
		ip -o link show lo; cat /etc/resolv.conf; echo "uid $(id -u)"' >"$U/conf" ||
		fail "$M: the configuration dump failed: $(cat "$ARC_LOG")"
	grep -q 'tap0 *inet 10\.0\.2\.2/24 ' "$U/conf" || fail "$M: tap0 has no 10.0.2.2/24: $(cat "$U/conf")"
	grep -q '^default via 10\.0\.2\.1 dev tap0' "$U/conf" || fail "$M: no default route via 10.0.2.1: $(cat "$U/conf")"
	grep -q 'tap0: <.*,UP[,>].* mtu 65520 ' "$U/conf" ||
		fail "$M: tap0 is not up with MTU 65520: $(grep tap0: "$U/conf")"
	grep -q 'lo: <.*,UP[,>]' "$U/conf" || fail "$M: lo is not up: $(grep 'lo:' "$U/conf")"
	[ "$(grep -c ' inet ' "$U/conf")" = 2 ] || fail "$M: CMD sees other IPv4 addresses than lo's and tap0's: $(cat "$U/conf")"
	grep -q 'tap0 *inet6' "$U/conf" && fail "$M: tap0 has an IPv6 address (IPv6 should be off on it): $(cat "$U/conf")"
	grep -q '^nameserver 10\.0\.2\.1$' "$U/conf" || fail "$M: resolv.conf does not name the gateway: $(cat "$U/conf")"
	[ "$(grep -c '^nameserver' "$U/conf")" = 1 ] || fail "$M: resolv.conf names other servers: $(cat "$U/conf")"
	grep -q '^search arcnat.internal$' "$U/conf" || fail "$M: resolv.conf has no search arcnat.internal"
	grep -q '^uid 0$' "$U/conf" || fail "$M: CMD is not root in its namespace: $(grep uid "$U/conf")"
	[ "$(cat /etc/resolv.conf 2>/dev/null)" = "$HOST_RESOLV" ] || fail "$M: the host's /etc/resolv.conf changed"
	grep -q ' /etc/resolv.conf ' /proc/self/mountinfo && fail "$M: a mount on /etc/resolv.conf leaked to the caller"
	ok "$M: tap0 10.0.2.2/24 up, MTU 65520, no IPv6, default via 10.0.2.1, lo up; resolv.conf: nameserver 10.0.2.1 only; CMD is uid 0 inside; host's resolv.conf untouched"

	as "$M" run $UPLINK --guest-ip 10.0.5.9 --gateway-ip 10.0.5.1/24 --mtu 1500 \
		--ns-ifname eth7 -- sh -c 'ip -4 -o addr show dev eth7; ip -4 route; ip -o link show eth7' >"$U/conf2" ||
		fail "$M: run with --guest-ip/--gateway-ip/--mtu/--ns-ifname failed: $(cat "$ARC_LOG")"
	grep -q 'eth7 *inet 10\.0\.5\.9/24 ' "$U/conf2" && grep -q '^default via 10\.0\.5\.1 dev eth7' "$U/conf2" &&
		grep -q 'eth7:.* mtu 1500 ' "$U/conf2" || fail "$M: options not applied: $(cat "$U/conf2")"
	ok "$M: --guest-ip 10.0.5.9 --gateway-ip 10.0.5.1/24 --mtu 1500 --ns-ifname eth7 applied"

	# --- traffic: ping, UDP, TCP both ways, DNS through resolv.conf -------------
	# shellcheck disable=SC2016
	as "$M" run $UPLINK -- sh -c '
		ping -c 2 -i 0.2 -W 2 "$1" >/dev/null && echo PING-OK
		"$2" "$3" send 0.0.0.0 4444 "$1" 7007 hello-$4 5
		getent hosts svc.test' sh "$SRV" "$PY" "$TMPD/udptool.py" "$M" >"$U/traffic" ||
		fail "$M: the traffic CMD failed: $(cat "$U/traffic")"
	grep -q PING-OK "$U/traffic" || fail "$M: ping $SRV from CMD failed: $(cat "$U/traffic")"
	grep -q "^REPLY $SRV 7007 echo:hello-$M$" "$U/traffic" || fail "$M: no UDP echo: $(cat "$U/traffic")"
	grep -q '^198\.51\.100\.77 *svc\.test' "$U/traffic" ||
		fail "$M: getent hosts svc.test (resolv.conf -> 10.0.2.1 -> dnsmasq) failed: $(cat "$U/traffic")"
	ok "$M: from CMD: ping $SRV, UDP echo, svc.test resolved through resolv.conf and the gateway's forwarder ($(echo "$UPLINK" | sed 's/ --dns.*//;s/^--dns.*/--outside sock, the default/'))"
	check_tcp

	# --- signals: forwarded, and CMD's answer is the status -------------------
	for sig in TERM INT HUP; do
		rm -f "$U/ready"
		# shellcheck disable=SC2016
		bg_as "$M" run $UPLINK -- sh -c 'trap "exit 7" '"$sig"'; echo ready >"$1/ready";
			i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; exit 9' sh "$U"
		P=$BG_PID
		wait_for "$U/ready" || fail "$M: CMD did not start: $(cat "$ARC_LOG")"
		A=$(arc_pid "$P") || fail "$M: arcnat's pid not found"
		kill -"$sig" "$A"
		wait "$P"
		rc=$?
		[ "$rc" = 7 ] || fail "$M: SIG$sig to arcnat: exit status $rc, expected 7 (CMD's trap)"
	done
	for sig in TERM:143 INT:130 HUP:129; do
		rm -f "$U/ready"
		# shellcheck disable=SC2016
		bg_as "$M" run $UPLINK -- sh -c 'echo ready >"$1/ready"; exec sleep 30' sh "$U"
		P=$BG_PID
		wait_for "$U/ready" || fail "$M: CMD did not start"
		sleep 0.2	# the exec
		A=$(arc_pid "$P") || fail "$M: arcnat's pid not found"
		kill -"${sig%:*}" "$A"
		wait "$P"
		rc=$?
		[ "$rc" = "${sig#*:}" ] || fail "$M: SIG${sig%:*} to arcnat, CMD sleep: exit status $rc, expected ${sig#*:}"
	done
	ok "$M: SIGTERM, SIGINT, SIGHUP forwarded (CMD's trap exits 7: arcnat exits 7); untrapped: 143, 130, 129"

	# --- CMD cannot outlive arcnat ------------------------------------------------
	rm -f "$U/pid"
	# shellcheck disable=SC2016
	bg_as "$M" run $UPLINK -- sh -c 'echo $$ >"$1/pid"; exec sleep 60' sh "$U"
	P=$BG_PID
	wait_for "$U/pid" || fail "$M: CMD did not start"
	C=$(cat "$U/pid")
	A=$(arc_pid "$P") || fail "$M: arcnat's pid not found"
	alive "$C" || fail "$M: CMD (pid $C) is not running"
	kill -KILL "$A"
	_i=0
	while [ $_i -lt 30 ] && alive "$C"; do sleep 0.1; _i=$((_i + 1)); done
	alive "$C" && fail "$M: CMD (pid $C) still runs after arcnat was killed"
	wait "$P" 2>/dev/null
	ok "$M: arcnat killed (SIGKILL): CMD (pid $C) gone within $((_i * 100)) ms"
}

check_mode root
check_mode user

# --- the unprivileged user without a usable /dev/net/tun ----------------------
ARC_RUNS=$((ARC_RUNS + 1))
ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
# shellcheck disable=SC2086 # UNPRIV_SETPRIV split
ip netns exec "$NS_H" $UNPRIV_SETPRIV \
	timeout -k 5 "$RUN_TO" "$ARCNAT" run $UPLINK_user -- true 2>"$ARC_LOG"
rc=$?
[ "$rc" = 1 ] || fail "user, /dev/net/tun mode 0600: exit status $rc, expected 1"
[ "$(wc -l <"$ARC_LOG")" = 1 ] && grep -q '/dev/net/tun: permission denied.*mode 0600' "$ARC_LOG" ||
	fail "user, /dev/net/tun mode 0600: expected one line naming the problem, got: $(cat "$ARC_LOG")"
ok "user, the host's 0600 /dev/net/tun: exit 1, one line: $(cat "$ARC_LOG")"

# --- no /dev/net/tun at all (a tmpfs over /dev/net on a private mount) ------
ARC_RUNS=$((ARC_RUNS + 1))
ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
# shellcheck disable=SC2086 # UNPRIV_SETPRIV split
unshare -m --propagation private sh -c 'mount -t tmpfs none /dev/net || exit 120; exec "$@"' sh \
	ip netns exec "$NS_H" $UNPRIV_SETPRIV \
	timeout -k 5 "$RUN_TO" "$ARCNAT" run $UPLINK_user -- true 2>"$ARC_LOG"
rc=$?
[ "$rc" = 1 ] || fail "user, no /dev/net/tun: exit status $rc, expected 1"
[ "$(wc -l <"$ARC_LOG")" = 1 ] && grep -q '/dev/net/tun is missing.*modprobe tun' "$ARC_LOG" ||
	fail "user, no /dev/net/tun: expected one line naming the problem, got: $(cat "$ARC_LOG")"
ok "user, no /dev/net/tun: exit 1, one line: $(cat "$ARC_LOG")"

# --- the unprivileged user where no user namespace may be made ---------------
ARC_RUNS=$((ARC_RUNS + 1))
ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
# shellcheck disable=SC2086 # UNPRIV_SETPRIV split
ip netns exec "$NS_H" "$PY" "$NET_DIR/userns_limit.py" \
	sh -c "$UNPRIV_MOUNT" sh "$TMPD/tun" "" $UNPRIV_SETPRIV \
	timeout -k 5 "$RUN_TO" "$ARCNAT" run $UPLINK_user -- true 2>"$ARC_LOG"
rc=$?
[ "$rc" = 1 ] || fail "user, no user namespaces allowed: exit status $rc, expected 1"
[ "$(wc -l <"$ARC_LOG")" = 1 ] && grep -q 'cannot create a user namespace: .*user.max_user_namespaces' "$ARC_LOG" ||
	fail "user, no user namespaces allowed: expected one line naming the problem, got: $(cat "$ARC_LOG")"
ok "user, user.max_user_namespaces 0: exit 1, one line: $(cat "$ARC_LOG")"

for l in "$TMPD"/arcnat.*.log; do
	grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$l" && ARC_LOG=$l && fail "sanitizer report in $l"
done
ok "no sanitizer report in any of the $ARC_RUNS arcnat logs"
