# shellcheck shell=sh
# tests/net/include/fwd.sh - what run_fwd.sh and run_ctl_runtime.sh share:
# the checks, the "host" and "client" namespaces joined by a veth
# (h1 203.0.113.2/24 <-> c1 203.0.113.1/24), arcnat as uid 65534 (as,
# bg_as, through include/unpriv.sh), the guest's fwd_tool.py servers
# (wait_servers) and their log ($U/cmd.out: srv_count, srv_saw) and the
# client (client). Source it after lib.sh; it sets TMPD, TOOL, U, HOST,
# CLI, GW and the sizes.

net_checks
. "$NET_DIR/include/unpriv.sh"
NS_H=an-fh-$$
NS_C=an-fc-$$
h_ns() { ip netns exec "$NS_H" "$@"; }
c_ns() { ip netns exec "$NS_C" "$@"; }
unpriv_tmpd an-rfwd fwd_tool.py
TOOL=$TMPD/fwd_tool.py
ns_add "$NS_H"
ns_add "$NS_C"
veth_pair "$NS_H" h1 203.0.113.2/24 "$NS_C" c1 203.0.113.1/24
# shellcheck disable=SC2034 # read by the scripts that source this one
HOST=203.0.113.2
CLI=203.0.113.1
GW=10.0.2.1
BIG=64
CONC=200
CONC_KIB=256
DGRAMS=300
RUN_TO=$(tscale 180)
info "namespaces $NS_H $NS_C ready, arcnat: $ARCNAT, time scale x$NET_TSCALE"

# as ARGS...: arcnat ARGS as uid 65534 in the host namespace, in the
# foreground, its stderr to $ARC_LOG; returns its exit status.
# bg_as ARGS...: the same in the background ($BG_PID, see arc_pid).
as() {
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	unpriv "$NS_H" "$RUN_TO" "$ARCNAT" "$@" >"$U/cmd.out" 2>"$ARC_LOG"
}
bg_as() {
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	bg_unpriv "$NS_H" "$RUN_TO" "$ARCNAT" "$@" >"$U/cmd.out" 2>"$ARC_LOG"
}

# wait_servers PID: bounded (30 s) wait for the guest's fwd_tool.py
# servers under arcnat (started by bg_as, $BG_PID) to say they are ready;
# the test fails if they do not, or if arcnat ends first.
wait_servers() {
	_i=0
	while [ $_i -lt "$(tscale 30)0" ] && [ ! -e "$U/ready" ] && alive "$1"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -e "$U/ready" ] ||
		fail "the guest's servers did not start (arcnat alive: $(alive "$1" && echo yes || echo no)): $(cat "$U/cmd.out")"
}

nfds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

# client NS-FUNCTION WHAT ARGS...: one fwd_tool.py client (bounded); its
# "ok" line reported, or the test fails with its "FAIL" line.
client() {
	_ns=$1
	_what=$2
	shift 2
	_o=$("$_ns" timeout "$(tscale 90)" "$PY" "$TOOL" "$@" 2>&1)
	_rc=$?
	[ "$_rc" = 0 ] || fail "$_what: exit status $_rc (124 = timeout): $(echo "$_o" | tail -n 3)"
	_l=$(echo "$_o" | grep '^ok ') || fail "$_what: no 'ok' from the client: $_o"
	ok "$_what: ${_l#ok }"
}

# srv_count MIN ERE: the number of the guest's server's lines matching
# ERE, waiting (bounded, 5 s) for MIN of them: the server logs a
# connection when it has seen its EOF, after the client is done.
srv_count() {
	_i=0
	while [ "$(grep -c -E "$2" "$U/cmd.out")" -lt "$1" ] && [ $_i -lt "$(tscale 5)0" ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	grep -c -E "$2" "$U/cmd.out"
}

# srv_saw PORT ADDR MIN WHAT: the guest's server itself logged at least
# MIN connections on its PORT from ADDR, and none from another address.
srv_saw() {
	_n=$(srv_count "$3" "^srv t $1 from $2 ")
	[ "$_n" -ge "$3" ] || fail "$4: the guest's server logged $_n connections on port $1 from $2 (expected >= $3): $(grep "^srv t $1 " "$U/cmd.out" | head -n 3)"
	_o=$(grep "^srv t $1 from " "$U/cmd.out" | grep -v "^srv t $1 from $2 ")
	[ -z "$_o" ] || fail "$4: the guest's server on port $1 saw other sources: $(echo "$_o" | head -n 3)"
}
