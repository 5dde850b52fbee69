#!/bin/sh
# run_attach.sh - `arcnat attach`: tap0 made and configured in a network
# namespace that exists, served from outside it. As root: --netns NAME,
# --netns PATH and --pid (arcnat stops by itself when the namespace's file
# is deleted, or that process exits).
# As an unprivileged user: --pid of `unshare -rn sleep` started by the same
# user (arcnat joins that user namespace to create the device), and clear
# errors for another user's namespace, a process that does not exist, and
# options that do not go together.
#
#   ns an-ah-$$ ("host": arcnat runs here)               ns an-as-$$ ("server")
#   root: arcnat attach --outside h0           h0 <--veth--> s0 198.51.100.1/24
#                       --external-ip 198.51.100.2/24
#   user: arcnat attach (--outside sock, h1 203.0.113.2 <--veth--> s1 203.0.113.1/24
#         the default)
#     the target: ns an-at-$$ (ip netns add), or a process's namespace
#     tap0 10.0.2.2/24, default via 10.0.2.1, MTU 65520
#
# The unprivileged user is uid/gid 65534 without supplementary groups or
# capabilities, with a 0666 /dev/net/tun bind-mounted on a private mount
# namespace (the host's node is 0600 and stays so); its uplink is host
# sockets, and the host namespace's net.ipv4.ping_group_range lets it ping.
. "$(dirname "$0")/lib.sh"
. "$NET_DIR/include/unpriv.sh"

net_checks
need nsenter
NS_H=an-ah-$$
NS_S=an-as-$$
NS_T=an-at-$$
h_ns() { ip netns exec "$NS_H" "$@"; }
unpriv_tmpd an-attach
ns_add "$NS_H"
ns_add "$NS_S"
ns_add "$NS_T"
veth_pair "$NS_H" h0 "" "$NS_S" s0 198.51.100.1/24
veth_pair "$NS_H" h1 203.0.113.2/24 "$NS_S" s1 203.0.113.1/24
h_ns sysctl -qw net.ipv4.ping_group_range="0 2147483647" || fail "ping_group_range"
UPLINK="--outside h0 --external-ip 198.51.100.2/24 --no-dns"
ATT_TO=$(tscale 120)
info "namespaces $NS_H $NS_S $NS_T ready, arcnat: $ARCNAT"

# start_attach root|user ARGS...: arcnat attach in the background, in the
# host namespace; waits (bounded) for "gateway ready". $ARC_TPID, $ARC_PID.
start_attach() {
	_mode=$1
	shift
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	if [ "$_mode" = root ]; then
		ip netns exec "$NS_H" timeout -k 5 "$ATT_TO" "$ARCNAT" attach "$@" >"$ARC_LOG" 2>&1 &
		ARC_TPID=$!
	else
		bg_unpriv "$NS_H" "$ATT_TO" "$ARCNAT" attach "$@" >"$ARC_LOG" 2>&1
		ARC_TPID=$BG_PID
	fi
	wait_file_grep "$(($(tscale 10) * 10))" "$ARC_LOG" '^arcnat: gateway ready' ||
		fail "$_mode: arcnat attach $* did not get ready"
	ARC_PID=$(child_pids "$ARC_TPID" | head -n 1)
}

# check_tap NSENTER-ARGS...: tap0 configured in that namespace, ping $SRV.
SRV=198.51.100.1
check_tap() {
	_c=$("$@" sh -c 'ip -4 -o addr show dev tap0; ip -4 route; ip -o link show tap0' 2>&1)
	echo "$_c" | grep -q 'tap0 *inet 10\.0\.2\.2/24 ' &&
		echo "$_c" | grep -q '^default via 10\.0\.2\.1 dev tap0' &&
		echo "$_c" | grep -q 'tap0: <.*,UP[,>].* mtu 65520 ' ||
		fail "tap0 is not configured as expected: $_c"
	"$@" ping -c 2 -i 0.2 -W 2 "$SRV" >/dev/null 2>&1 || fail "ping $SRV from the namespace failed"
}

# wait_exit WANT: arcnat exits by itself (bounded) with status WANT.
wait_exit() {
	_i=0
	while [ $_i -lt "$(($(tscale 10) * 10))" ] && alive "$ARC_TPID"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	alive "$ARC_TPID" && fail "arcnat attach did not exit"
	wait "$ARC_TPID"
	_rc=$?
	ARC_TPID="" ARC_PID=""
	[ "$_rc" = "$1" ] || fail "arcnat attach exited with status $_rc, expected $1"
}

# --- root: --netns NAME, then SIGTERM ----------------------------------------
start_attach root --netns "$NS_T" $UPLINK
check_tap ip netns exec "$NS_T"
kill -TERM "$ARC_PID"
wait_exit 0
ip -n "$NS_T" link show tap0 >/dev/null 2>&1 && fail "tap0 is still there after arcnat stopped"
ok "root: attach --netns $NS_T: tap0 10.0.2.2/24, MTU 65520, default via 10.0.2.1, ping beyond; SIGTERM: exit 0, tap0 gone"

# --- root: --netns PATH, --guest-ip, --mtu ---------------------------------------
start_attach root --netns "/run/netns/$NS_T" --guest-ip 10.0.2.77 --mtu 9000 $UPLINK
c=$(ip netns exec "$NS_T" sh -c 'ip -4 -o addr show dev tap0; ip -o link show tap0')
echo "$c" | grep -q 'inet 10\.0\.2\.77/24 ' && echo "$c" | grep -q ' mtu 9000 ' ||
	fail "--guest-ip 10.0.2.77 --mtu 9000 not applied: $c"
kill -TERM "$ARC_PID"
wait_exit 0
ok "root: attach --netns /run/netns/$NS_T --guest-ip 10.0.2.77 --mtu 9000 applied"

# --- root: --netns NAME, arcnat stops when the namespace is deleted ---------------
NS_T2=an-at2-$$
ns_add "$NS_T2"
start_attach root --netns "$NS_T2" $UPLINK
check_tap ip netns exec "$NS_T2"
ip netns del "$NS_T2" || fail "ip netns del $NS_T2"
wait_exit 0
grep -q "/run/netns/$NS_T2 is gone: stopping" "$ARC_LOG" || fail "no '... is gone' line: $(cat "$ARC_LOG")"
ok "root: attach --netns $NS_T2, then ip netns del $NS_T2: arcnat stopped by itself, exit 0"

# --- root: --pid, arcnat stops when the process exits ---------------------------
bg ip netns exec "$NS_T" timeout 60 sleep 60
TP=$BG_PID
sleep 0.2
start_attach root --pid "$TP" $UPLINK
check_tap nsenter -t "$TP" -n
bg_stop "$TP"
wait_exit 0
grep -q "process $TP exited: stopping" "$ARC_LOG" || fail "no 'process $TP exited' line"
ok "root: attach --pid $TP: tap0 configured; the process ended: arcnat stopped by itself, exit 0"

# --- user: --pid of `unshare -rn` by the same user --------------------------------
# shellcheck disable=SC2086 # UNPRIV_SETPRIV split
bg ip netns exec "$NS_H" $UNPRIV_SETPRIV \
	unshare -rn timeout 60 sleep 60
UP_=$BG_PID
sleep 0.3
# unshare execs: BG_PID is timeout, in the new namespaces
[ "$(readlink "/proc/$UP_/ns/user")" != "$(readlink /proc/self/ns/user)" ] ||
	fail "unshare -rn did not make a user namespace"
SRV=203.0.113.1
start_attach user --pid "$UP_" --no-dns
check_tap nsenter -t "$UP_" -n
grep -q 'sandbox: no capabilities' "$ARC_LOG" || fail "user: no sandbox line: $(cat "$ARC_LOG")"
bg_stop "$UP_"
wait_exit 0
ok "user: attach --pid of 'unshare -rn sleep' (uid 65534, --outside sock, the default): user namespace joined, tap0 configured, ping $SRV; stopped when it exited"

# --- user: clear errors ------------------------------------------------------------
bg ip netns exec "$NS_T" timeout 60 sleep 60
TP=$BG_PID
sleep 0.2
err_case() {
	_want=$1 _pat=$2
	shift 2
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	unpriv "$NS_H" "$ATT_TO" "$ARCNAT" attach "$@" >"$ARC_LOG" 2>&1
	_rc=$?
	[ "$_rc" = "$_want" ] || fail "user: attach $*: exit status $_rc, expected $_want: $(cat "$ARC_LOG")"
	grep -q -- "$_pat" "$ARC_LOG" || fail "user: attach $*: no line matching '$_pat': $(cat "$ARC_LOG")"
}
err_case 1 "/proc/$TP/ns/net: Permission denied (another user's" --pid "$TP" --no-dns
err_case 1 "cannot enter the network namespace: Operation not permitted (it is another user's" \
	--netns "/run/netns/$NS_T" --no-dns
err_case 1 "--pid 999999999: no such process" --pid 999999999 --no-dns
err_case 2 "exactly one of --netns and --pid" --no-dns
err_case 2 "exactly one of --netns and --pid" --pid "$TP" --netns "$NS_T" --no-dns
bg_stop "$TP"
ok "user: a root-owned namespace refused, by --pid and by --netns (exit 1), no such process (exit 1), neither or both of --netns/--pid (exit 2), each said in one line"

for l in "$TMPD"/arcnat.*.log; do
	grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$l" && ARC_LOG=$l && fail "sanitizer report in $l"
done
ok "no sanitizer report in any of the $ARC_RUNS arcnat logs"
