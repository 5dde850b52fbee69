# shellcheck shell=sh
# tests/net/lib.sh - shared helpers of the `arcnat gateway` integration tests.
# Source it:  . "$(dirname "$0")/lib.sh"
# (tests/run skips it; run on its own it holds no test and skips, exit 77.)
#
# The common topology (packet uplink; gateway_tun.sh adapts it):
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> (+198.51.100.3/24 as 2nd dest)
#                                   --outside r0 --external-ip 198.51.100.2/24
#
# The outside namespace has no route to 10.0.2.0/24: every reply only comes
# back because arcnat translated it.
#
# Network rule: traffic only to addresses inside the namespaces created here
# (10.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) or loopback. Every
# background process is started with `timeout`, tracked by PID and killed by
# PID in cleanup (trap EXIT), which also deletes the namespaces.
#
# Provided:
#   net_setup packet|tun   net_checks, temp dir $TMPD, namespaces and links
#   net_checks             not root: skip (exit 77), the only reason to; as
#                          root, no /dev/net/tun or a missing tool fails
#   need TOOL...           fail unless each TOOL is installed (call it after
#                          net_checks, so that not root still skips first)
#   need_scapy             fail unless $PY imports scapy
#   start_arcnat ARGS...   `$ARCNAT gateway ARGS...` in the router namespace,
#                          stderr+stdout to $ARC_LOG; waits (bounded) for
#                          "arcnat: gateway ready"; fails with the log if it exits
#   try_start_arcnat ARGS  same, but returns arcnat's exit status instead of failing
#   stop_arcnat            SIGTERM, bounded wait, requires exit status 0
#   stat NAME              SIGUSR1, waits for a new statistics block, prints
#                          the value of `stat NAME` (0 when not printed)
#   stats_request / stat_last NAME   one SIGUSR1, then several values from that block
#                          (stat_last also reads the block printed at exit)
#   fail MSG / ok MSG / skip MSG / info MSG
#                          fail: exit 1; skip: exit 77, only for "cannot run
#                          here" (not root): a setup step that fails as root
#                          (ip netns add, a TAP, a veth, a tool) is a fail
#   bg CMD...              run CMD (with its own `timeout`) in the background,
#                          tracked for cleanup; its PID in $BG_PID
#   bg_stop PID            stop one of those now
#   in_ns / rt_ns / out_ns CMD...    run CMD in that namespace
#   tcp_transfer up|down ...         socat transfer of a file, sha256 compared
#   udptool ...            the UDP helper ($TMPD/udptool.py), see write_udptool
#   wait_file_grep N FILE PATTERN    poll (0.1 s steps, N tries) until FILE matches
#   wait_listen in_ns|out_ns t|u PORT   bounded wait for a listening socket
#   tscale N               N seconds times the time scale (3 for a sanitizer build)
#
# Environment:
#   ARCNAT         the binary (default build/arcnat; tests/run sets it per build dir)
#   NET_TSCALE     timeout multiplier (default 3 when ARCNAT is in a *-san dir, else 1)
#   NET_IPV6=1     leave IPv6 enabled in the namespaces (default: disabled)
#   NET_KEEP_LOGS=1  keep the temp dir (arcnat logs, captures) of a failed run
#   PY             python3 with scapy (default /usr/bin/python3)
set -u

NET_DIR=$(cd "$(dirname "$0")" && pwd)
REPO_DIR=$(cd "$NET_DIR/../.." && pwd)
ARCNAT=${ARCNAT:-build/arcnat}
case $ARCNAT in
/*) ;;
*)
	if [ -e "$ARCNAT" ]; then
		ARCNAT=$(cd "$(dirname "$ARCNAT")" && pwd)/$(basename "$ARCNAT")
	else
		ARCNAT=$REPO_DIR/$ARCNAT
	fi
	;;
esac
# The Debian python3 has scapy; a pyenv python3 earlier in PATH may not.
if [ -z "${PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi

# Sanitizer builds are 2-3x slower: scale the timeouts, never the sizes.
if [ -z "${NET_TSCALE:-}" ]; then
	case $ARCNAT in
	*-san/*) NET_TSCALE=3 ;;
	*) NET_TSCALE=1 ;;
	esac
fi
tscale() { echo $(($1 * NET_TSCALE)); }

NS_IN=an-in-$$
NS_RT=an-rt-$$
NS_OUT=an-out-$$
# shellcheck disable=SC2034 # used by the scripts
GW_MAC=02:ab:cd:00:00:01
ARC_LIFETIME=$(tscale 600)	# arcnat is killed by timeout(1) after this
TMPD=""
NS_LIST=""
BG_PIDS=""
BG_PID=""
ARC_PID=""
ARC_TPID=""
ARC_LOG=""
ARC_RUNS=0
ARC_STATS_END=0
T0=$(date +%s)

in_ns() { ip netns exec "$NS_IN" "$@"; }
rt_ns() { ip netns exec "$NS_RT" "$@"; }
out_ns() { ip netns exec "$NS_OUT" "$@"; }

ok() { printf 'ok   [%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
info() { printf '     [%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
# skip MSG: the test cannot run here (not root). tests/run counts exit 77
# as skipped, and under CI as a failure unless tests/skip-allowed names the
# script. Never for a setup step that failed: that is fail.
skip() {
	printf 'SKIP: %s\n' "$*"
	exit 77
}

show_arcnat_log() {
	[ -n "$ARC_LOG" ] && [ -f "$ARC_LOG" ] || return 0
	if grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG"; then
		echo "---- sanitizer report in $ARC_LOG ----"
		grep -m 1 -A 14 -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG"
	fi
	echo "---- last lines of $ARC_LOG (arcnat run $ARC_RUNS) ----"
	# statistics lines are many and rarely the point: show the others first
	grep -v '^stat ' "$ARC_LOG" | tail -n 25
	# counters as they are now, not as of the last block a step asked for
	if arcnat_alive; then
		stats_request 2>/dev/null || echo "(arcnat did not answer SIGUSR1)"
	fi
	echo "---- non-zero drop and error counters of the last statistics block ----"
	awk '/^arcnat: statistics/{n=0}
	     /^stat / && $3!=0 && ($2 ~ /^drops?\./ || $2 ~ /(errors|dropped|queue_full|foreign|unreachable|no_peer|peer_gone)$/) {l[n++]=$0}
	     END{for(i=0;i<n;i++) print l[i]}' "$ARC_LOG" | tail -n 30
	echo "----"
}

# fail MSG: never call it from inside $(...), it would only leave the subshell.
fail() {
	show_arcnat_log
	printf 'FAIL: %s\n' "$*"
	exit 1
}

# alive PID: the process exists and is not a zombie.
alive() {
	_st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

child_pids() { cat /proc/"$1"/task/*/children 2>/dev/null | tr ' ' '\n' | grep -v '^$'; }

# arc_pid PID: the arcnat process under PID (timeout's child, setpriv's,
# ip netns exec's), found by name.
arc_pid() {
	for _c in $(child_pids "$1"); do
		if [ "$(cat "/proc/$_c/comm" 2>/dev/null)" = arcnat ]; then
			echo "$_c"
			return 0
		fi
		arc_pid "$_c" && return 0
	done
	return 1
}

# kill_pid PID: TERM its children and it, wait up to 2 s, then KILL. By PID only.
kill_pid() {
	_kids=$(child_pids "$1")
	for _k in $_kids; do kill_pid "$_k"; done
	alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	_i=0
	while [ $_i -lt 20 ] && alive "$1"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	alive "$1" && kill -KILL "$1" 2>/dev/null
	return 0
}

bg() {
	# in_ns & co. are functions: run in the background they would leave a
	# subshell between us and the command; call ip directly instead, so
	# that $BG_PID is the command (timeout) itself
	case $1 in
	in_ns) shift && set -- ip netns exec "$NS_IN" "$@" ;;
	rt_ns) shift && set -- ip netns exec "$NS_RT" "$@" ;;
	out_ns) shift && set -- ip netns exec "$NS_OUT" "$@" ;;
	esac
	"$@" &
	BG_PID=$!
	BG_PIDS="$BG_PID $BG_PIDS"
}

# bg_stop PID: stop one tracked background process (and its children).
# (stderr off: dash reports "Terminated" for a background job that a signal
# ended when a later foreground command reaps it; that is expected here)
bg_stop() {
	kill_pid "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP PIPE
	if [ -n "$ARC_TPID" ]; then
		[ -n "$ARC_PID" ] && alive "$ARC_PID" && kill -TERM "$ARC_PID" 2>/dev/null
		kill_pid "$ARC_TPID" 2>/dev/null
	fi
	for _p in $BG_PIDS; do kill_pid "$_p" 2>/dev/null; done
	for _n in $NS_LIST; do ip netns del "$_n" 2>/dev/null; done
	if [ -n "$TMPD" ] && [ -d "$TMPD" ]; then
		if [ "$_rc" != 0 ] && [ "$_rc" != 77 ] && [ -n "${NET_KEEP_LOGS:-}" ]; then
			echo "logs kept in $TMPD"
		else
			rm -rf "$TMPD"
		fi
	fi
	exit "$_rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# wait_file_grep TRIES FILE PATTERN: poll every 0.1 s.
wait_file_grep() {
	_i=0
	while [ "$_i" -lt "$1" ]; do
		grep -q -- "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_listen NS-FUNCTION PROTO PORT: bounded (5 s) wait for a listening
# socket, PROTO t (TCP) or u (UDP).
wait_listen() {
	_i=0
	while [ $_i -lt 50 ]; do
		"$1" ss -Hln"$2" "sport = :$3" 2>/dev/null | grep -q . && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# need TOOL...: every TOOL is a command. tools/deps.sh installs them all
# (CI runs it), so a missing one is a broken setup: fail, not skip.
need() {
	for _t in "$@"; do
		command -v "$_t" >/dev/null 2>&1 ||
			fail "missing $_t: tools/deps.sh installs every tool the tests use"
	done
}

need_scapy() {
	"$PY" -c 'import scapy.all' >/dev/null 2>&1 ||
		fail "$PY cannot import scapy: tools/deps.sh installs python3-scapy (or set PY)"
}

# net_checks: not root is the one reason to skip; as root everything else
# must be there (tools/deps.sh), so what is missing is a failure.
net_checks() {
	[ "$(id -u)" = 0 ] || skip "not root (network namespaces, TAP devices)"
	[ -c /dev/net/tun ] || fail "as root, no /dev/net/tun (modprobe tun)"
	need ip timeout socat sha256sum ping ss awk "$PY"
	[ -x "$ARCNAT" ] || fail "no arcnat binary at $ARCNAT (build first, or set ARCNAT)"
	# does this arcnat end its statistics blocks with a marker line?
	if grep -q -a 'arcnat: end of statistics' "$ARCNAT"; then ARC_STATS_END=1; else ARC_STATS_END=0; fi
}

ns_add() {
	_err=$(ip netns add "$1" 2>&1) || fail "ip netns add $1 failed: $_err"
	NS_LIST="$NS_LIST $1"
	ip -n "$1" link set lo up
	# IPv6 off on the test links, to keep the noise down (arcnat copes
	# either way; NET_IPV6=1 leaves it on, to check that)
	[ "${NET_IPV6:-0}" = 1 ] ||
		ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
}

# net_setup packet|tun: the namespaces and links of the drawing at the top.
#   packet: router r0 has no address; arcnat owns 198.51.100.2 on it.
#   tun:    router r0 198.51.100.254/24 and forwards; arcnat's TUN arc0 is
#           made by arcnat; outside routes 203.0.113.0/24 via 198.51.100.254.
net_setup() {
	net_checks
	TMPD=$(mktemp -d "${TMPDIR:-/tmp}/an-net-$$.XXXXXX") || fail "mktemp"
	# arcnat's control socket under a runtime directory of the test's
	# own: started as root, then nobody, arcnat cannot remove its socket
	# from a root-owned /run/arcnat, and this directory goes with $TMPD.
	export XDG_RUNTIME_DIR="$TMPD/run"
	mkdir -m 700 "$XDG_RUNTIME_DIR" || fail "mkdir $XDG_RUNTIME_DIR"
	write_udptool
	ns_add "$NS_IN"
	ns_add "$NS_RT"
	ns_add "$NS_OUT"

	_err=$(ip -n "$NS_IN" tuntap add dev tap0 mode tap 2>&1) ||
		fail "cannot create a TAP device (ip tuntap add): $_err"
	ip -n "$NS_IN" addr add 10.0.2.2/24 dev tap0 || fail "addr tap0"
	ip -n "$NS_IN" addr add 10.0.2.3/24 dev tap0 || fail "addr tap0 (2nd)"
	ip -n "$NS_IN" link set tap0 up || fail "tap0 up"
	ip -n "$NS_IN" route add default via 10.0.2.1 dev tap0 || fail "inside default route"

	ip -n "$NS_RT" link add r0 type veth peer name o0 netns "$NS_OUT" || fail "veth"
	ip -n "$NS_RT" link set r0 up || fail "r0 up"
	ip -n "$NS_OUT" addr add 198.51.100.1/24 dev o0 || fail "addr o0"
	ip -n "$NS_OUT" addr add 198.51.100.3/24 dev o0 || fail "addr o0 (2nd)"
	ip -n "$NS_OUT" link set o0 up || fail "o0 up"
	case $1 in
	packet) ;;
	tun)
		ip -n "$NS_RT" addr add 198.51.100.254/24 dev r0 || fail "addr r0"
		rt_ns sysctl -qw net.ipv4.ip_forward=1 >/dev/null || fail "ip_forward"
		ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.254 || fail "outside route"
		;;
	*) fail "net_setup: unknown mode $1" ;;
	esac
	info "namespaces $NS_IN $NS_RT $NS_OUT ready ($1 uplink), arcnat: $ARCNAT, time scale x$NET_TSCALE"
}

# try_start_arcnat ARGS...: 0 when ready; otherwise arcnat's exit status
# (or 125 if it neither got ready nor exited within the bound: then it is killed).
try_start_arcnat() {
	ARC_RUNS=$((ARC_RUNS + 1))
	ARC_LOG=$TMPD/arcnat.$ARC_RUNS.log
	info "start: arcnat gateway $*"
	ip netns exec "$NS_RT" timeout -k 5 "$ARC_LIFETIME" "$ARCNAT" gateway "$@" >"$ARC_LOG" 2>&1 &
	ARC_TPID=$!
	ARC_PID=""
	_i=0
	_ready=0
	_lim=$(($(tscale 10) * 10))
	while [ $_i -lt $_lim ]; do
		[ -z "$ARC_PID" ] && ARC_PID=$(child_pids "$ARC_TPID" | head -n 1)
		if grep -q '^arcnat: gateway ready' "$ARC_LOG"; then
			_ready=1
			break
		fi
		alive "$ARC_TPID" || break
		sleep 0.1
		_i=$((_i + 1))
	done
	# arcnat may get ready between the PID look-up and the grep above
	[ $_ready = 1 ] && [ -z "$ARC_PID" ] && ARC_PID=$(child_pids "$ARC_TPID" | head -n 1)
	if [ $_ready = 1 ] && [ -n "$ARC_PID" ]; then
		# arcnat brings tap0 up; make sure the route is there (an admin-down
		# of tap0 by an earlier run flushes it)
		if ip -n "$NS_IN" -4 addr show dev tap0 2>/dev/null | grep -q 'inet 10\.0\.2\.2/'; then
			ip -n "$NS_IN" route replace default via 10.0.2.1 dev tap0 || fail "inside default route"
		fi
		return 0
	fi
	if alive "$ARC_TPID"; then
		if [ $_ready = 1 ]; then
			info "arcnat says it is ready but its PID is not found: killing it"
		else
			info "arcnat not ready within $((_lim / 10)) s: killing it"
		fi
		kill_pid "$ARC_TPID"
		wait "$ARC_TPID" 2>/dev/null
		ARC_TPID="" ARC_PID=""
		return 125
	fi
	wait "$ARC_TPID"
	_rc=$?
	ARC_TPID="" ARC_PID=""
	return $_rc
}

start_arcnat() {
	try_start_arcnat "$@"
	_rc=$?
	[ $_rc = 0 ] || fail "arcnat did not become ready (exit status $_rc; 125 = hung and killed): arcnat gateway $*"
	ok "arcnat ready (pid $ARC_PID)"
}

# stop_arcnat: SIGTERM, bounded wait, exit status must be 0, no sanitizer report.
stop_arcnat() {
	[ -n "$ARC_TPID" ] || fail "stop_arcnat: arcnat is not running"
	alive "$ARC_PID" || {
		wait "$ARC_TPID"
		_rc=$?
		ARC_TPID="" ARC_PID=""
		fail "arcnat had already exited (status $_rc) before stop_arcnat"
	}
	kill -TERM "$ARC_PID"
	_i=0
	_lim=$(($(tscale 15) * 10))
	while [ $_i -lt $_lim ] && alive "$ARC_TPID"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if alive "$ARC_TPID"; then
		kill_pid "$ARC_TPID"
		wait "$ARC_TPID" 2>/dev/null
		ARC_TPID="" ARC_PID=""
		fail "arcnat did not exit within $((_lim / 10)) s of SIGTERM"
	fi
	wait "$ARC_TPID"
	_rc=$?
	ARC_TPID="" ARC_PID=""
	grep -q -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$ARC_LOG" &&
		fail "sanitizer report in the arcnat log"
	[ $_rc = 0 ] || fail "arcnat exited with status $_rc after SIGTERM (expected 0)"
	grep -q '^arcnat: statistics' "$ARC_LOG" || fail "no statistics block printed at exit"
	if [ "$ARC_STATS_END" = 1 ] && [ "$(grep -c '^arcnat: statistics' "$ARC_LOG")" != "$(grep -c '^arcnat: end of statistics' "$ARC_LOG")" ]; then
		fail "the last statistics block has no 'arcnat: end of statistics' line"
	fi
	ok "arcnat stopped by SIGTERM: exit status 0, statistics printed"
}

arcnat_alive() { [ -n "$ARC_PID" ] && alive "$ARC_PID"; }

# stats_request: SIGUSR1 and wait (bounded) for a new, complete statistics
# block. Errors go to stderr; returns 1 on failure.
stats_request() {
	[ -n "$ARC_PID" ] || {
		echo "stats_request: arcnat is not running" >&2
		return 1
	}
	_n0=$(grep -c '^arcnat: statistics' "$ARC_LOG")
	kill -USR1 "$ARC_PID" 2>/dev/null || {
		echo "stats_request: arcnat (pid $ARC_PID) is gone" >&2
		return 1
	}
	_i=0
	_n=$_n0
	_lim=$(($(tscale 5) * 20))
	while [ $_i -lt $_lim ]; do
		_n=$(grep -c '^arcnat: statistics' "$ARC_LOG")
		[ "$_n" -gt "$_n0" ] && break
		sleep 0.05
		_i=$((_i + 1))
	done
	[ "$_n" -gt "$_n0" ] || {
		echo "stats_request: no statistics block within $((_lim / 20)) s of SIGUSR1" >&2
		return 1
	}
	if [ "$ARC_STATS_END" = 1 ]; then
		# the block ends with "arcnat: end of statistics"
		_i=0
		while [ $_i -lt $_lim ]; do
			[ "$(grep -c '^arcnat: end of statistics' "$ARC_LOG")" -ge "$_n" ] && return 0
			sleep 0.05
			_i=$((_i + 1))
		done
		echo "stats_request: statistics block not finished within $((_lim / 20)) s" >&2
		return 1
	fi
	# no end marker: the block is complete when the log stops growing
	# (two equal sizes 0.05 s apart)
	_s0=-1
	_i=0
	while [ $_i -lt 40 ]; do
		_s1=$(wc -c <"$ARC_LOG")
		[ "$_s1" = "$_s0" ] && break
		_s0=$_s1
		sleep 0.05
		_i=$((_i + 1))
	done
	return 0
}

# stat_last NAME: value of `stat NAME` in the last statistics block (0 if absent).
stat_last() {
	awk -v n="$1" '/^arcnat: statistics/ {v = 0; next} $1 == "stat" && $2 == n {v = $3} END {print v + 0}' "$ARC_LOG"
}

# stat NAME: fresh value (SIGUSR1). Use as  v=$(stat NAME) || fail "..."
stat() {
	stats_request || return 1
	stat_last "$1"
}

# make_data FILE MiB: random content, once per script.
make_data() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1" || fail "make_data $1"
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

# tcp_transfer DIR NS_SRV NS_CLI SRV_BIND PORT CONNECT_ADDR DATA TIMEOUT
#   DIR up:   the client (in NS_CLI) sends DATA, the server receives it
#   DIR down: the server sends DATA, the client (which connects) receives
# Compares sha256 of what arrived with DATA's; prints MB/s. Fails on error.
tcp_transfer() {
	_dir=$1 _sns=$2 _cns=$3 _bind=$4 _port=$5 _addr=$6 _data=$7 _to=$8
	_recv=$TMPD/recv.$_dir.$_port
	rm -f "$_recv"
	if [ "$_dir" = up ]; then
		bg ip netns exec "$_sns" timeout "$_to" socat -u \
			TCP-LISTEN:"$_port",bind="$_bind",reuseaddr CREATE:"$_recv"
	else
		bg ip netns exec "$_sns" timeout "$_to" socat -u \
			OPEN:"$_data",rdonly TCP-LISTEN:"$_port",bind="$_bind",reuseaddr
	fi
	_spid=$BG_PID
	wait_listen "$(ns_fn "$_sns")" t "$_port" || fail "TCP server on $_bind:$_port did not start"
	_t0=$(date +%s.%N)
	if [ "$_dir" = up ]; then
		ip netns exec "$_cns" timeout "$_to" socat -u OPEN:"$_data",rdonly TCP:"$_addr":"$_port"
	else
		ip netns exec "$_cns" timeout "$_to" socat -u TCP:"$_addr":"$_port" CREATE:"$_recv"
	fi
	_crc=$?
	# the server side ends by itself (EOF); bounded by its timeout
	_i=0
	while [ $_i -lt 100 ] && alive "$_spid"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	_t1=$(date +%s.%N)
	wait "$_spid"
	_src=$?
	[ $_crc = 0 ] || fail "TCP $_dir transfer to $_addr:$_port: client exit status $_crc (124 = timeout ${_to}s)"
	[ $_src = 0 ] || fail "TCP $_dir transfer to $_addr:$_port: server exit status $_src (124 = timeout ${_to}s)"
	[ -f "$_recv" ] || fail "TCP $_dir transfer: nothing received"
	_h1=$(sha "$_data")
	_h2=$(sha "$_recv")
	_sz=$(wc -c <"$_recv")
	rm -f "$_recv"
	[ "$_h1" = "$_h2" ] || fail "TCP $_dir transfer: sha256 differs (sent $_h1, received $_h2, $_sz bytes)"
	# shellcheck disable=SC2034 # read by the caller
	TRANSFER_RATE=$(awk -v a="$_t0" -v b="$_t1" -v s="$_sz" 'BEGIN {d = b - a; if (d <= 0) d = 0.001; printf "%.1f MB/s in %.1f s", s / d / 1e6, d}')
}

# ns_fn NAMESPACE-NAME: the in_ns/rt_ns/out_ns function name for it.
ns_fn() {
	case $1 in
	"$NS_IN") echo in_ns ;;
	"$NS_RT") echo rt_ns ;;
	*) echo out_ns ;;
	esac
}

# The UDP helper, written to $TMPD/udptool.py. Every mode is bounded in time.
#   listen BIND_IP PORT COUNT TIMEOUT [echo]
#       prints "FROM ip port data" per datagram; with echo, answers each with
#       "echo:<data>" from the same socket. Exits 0 after COUNT datagrams
#       (COUNT 0: at TIMEOUT), 3 if TIMEOUT passes first.
#   send BIND_IP BIND_PORT DST_IP DST_PORT DATA [REPLY_TIMEOUT]
#       one datagram; with REPLY_TIMEOUT waits for one reply and prints
#       "REPLY ip port data" (exit 3 if none).
#   session BIND_IP BIND_PORT DURATION DATA DST_IP:PORT [DST_IP:PORT...]
#       one socket: sends DATA to each destination, then prints every
#       datagram received ("FROM ip port data") until DURATION passes.
#   refused DST_IP DST_PORT TRIES
#       connected socket: send, recv with a 1 s timeout, TRIES times; prints
#       "refused" and exits 0 on ConnectionRefusedError, exits 3 otherwise.
#   bigecho BIND_IP BIND_PORT DST_IP DST_PORT SIZE TIMEOUT
#       sends SIZE bytes (a fixed pattern) and requires "echo:"+them back;
#       prints "ECHOED SIZE from ip port" (exit 0), else exit 3.
#   flows DST_IP DST_PORT BASE_PORT N WAIT [FIRST_K FIRST_WAIT]
#       N sockets bound to BASE_PORT.. (kept open), one at a time: send
#       "flow<i>", wait up to WAIT s (FIRST_WAIT for the first FIRST_K) for a
#       reply; prints "flow i ok|noreply" and "summary ok K noreply M".
write_udptool() {
	cat >"$TMPD/udptool.py" <<'EOF'
import socket, sys, time

def out(*a):
    print(*a, flush=True)

def dec(b):
    return b.decode(errors="replace").strip()

def main():
    m = sys.argv[1]
    a = sys.argv[2:]
    if m == "listen":
        ip, port, count, tmo = a[0], int(a[1]), int(a[2]), float(a[3])
        echo = len(a) > 4 and a[4] == "echo"
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((ip, port))
        end = time.monotonic() + tmo
        n = 0
        while count == 0 or n < count:
            left = end - time.monotonic()
            if left <= 0:
                return 0 if count == 0 else 3
            s.settimeout(left)
            try:
                d, src = s.recvfrom(65535)
            except socket.timeout:
                continue
            n += 1
            out("FROM", src[0], src[1], dec(d))
            if echo:
                s.sendto(b"echo:" + d, src)
        return 0
    if m == "send":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((a[0], int(a[1])))
        s.sendto(a[4].encode(), (a[2], int(a[3])))
        if len(a) > 5:
            s.settimeout(float(a[5]))
            try:
                d, src = s.recvfrom(65535)
            except (socket.timeout, ConnectionRefusedError):
                out("NOREPLY")
                return 3
            out("REPLY", src[0], src[1], dec(d))
        return 0
    if m == "session":
        ip, port, dur, data = a[0], int(a[1]), float(a[2]), a[3].encode()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, port))
        for d in a[4:]:
            h, p = d.rsplit(":", 1)
            s.sendto(data, (h, int(p)))
        out("SENT", len(a) - 4)
        end = time.monotonic() + dur
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return 0
            s.settimeout(left)
            try:
                d, src = s.recvfrom(65535)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                continue
            out("FROM", src[0], src[1], dec(d))
    if m == "refused":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a[0], int(a[1])))
        s.settimeout(1.0)
        for i in range(int(a[2])):
            try:
                s.send(b"anyone there?")
                s.recv(65535)
                out("unexpected reply")
                return 3
            except ConnectionRefusedError:
                out("refused")
                return 0
            except socket.timeout:
                out("try", i, "timeout")
        return 3
    if m == "bigecho":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((a[0], int(a[1])))
        size, tmo = int(a[4]), float(a[5])
        payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
        s.sendto(payload, (a[2], int(a[3])))
        s.settimeout(tmo)
        try:
            d, src = s.recvfrom(65535)
        except (socket.timeout, ConnectionRefusedError) as e:
            out("NOREPLY", e)
            return 3
        if d != b"echo:" + payload:
            out("MISMATCH", len(d))
            return 3
        out("ECHOED", len(payload), "from", src[0], src[1])
        return 0
    if m == "flows":
        ip, port, base, n, wait = a[0], int(a[1]), int(a[2]), int(a[3]), float(a[4])
        first_k = int(a[5]) if len(a) > 6 else 0
        first_wait = float(a[6]) if len(a) > 6 else wait
        socks = []
        okc = 0
        for i in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", base + i))
            socks.append(s)
            s.sendto(b"flow%d" % i, (ip, port))
            s.settimeout(first_wait if i < first_k else wait)
            try:
                s.recvfrom(65535)
                out("flow", i, "ok")
                okc += 1
            except (socket.timeout, ConnectionRefusedError):
                out("flow", i, "noreply")
        out("summary ok", okc, "noreply", n - okc)
        return 0
    out("unknown mode", m)
    return 2

sys.exit(main())
EOF
}

udptool() { "$PY" "$TMPD/udptool.py" "$@"; }

# core_checks EXT: ping, 100 MiB TCP each way, UDP request/reply and a TCP
# port forward (ext:8080 -> 10.0.2.2:80) through a running arcnat whose
# external address is EXT; the outside must see EXT as every source.
# Needs $DATA and $XFER_TO. Shared by gateway_basic.sh (AF_PACKET) and
# gateway_tun.sh (TUN).
core_checks() {
	ext=$1
	extre=$(printf '%s' "$ext" | sed 's/\./\\./g')
	# --- ping, and the source address the outside sees ---------------------------
	bg out_ns timeout 20 tcpdump -i o0 -n -l -c 3 icmp >"$TMPD/ping.tcpdump" 2>"$TMPD/ping.tcpdump.err"
	TD=$BG_PID
	wait_file_grep 50 "$TMPD/ping.tcpdump.err" 'listening on' || fail "tcpdump did not start: $(cat "$TMPD/ping.tcpdump.err")"
	in_ns timeout 15 ping -c 3 -i 0.2 -W 2 198.51.100.1 >"$TMPD/ping.out" 2>&1 ||
		fail "ping 10.0.2.2 -> 198.51.100.1 failed: $(tail -n 3 "$TMPD/ping.out")"
	wait_file_grep 30 "$TMPD/ping.tcpdump" 'IP 198.51.100.1 > ' || true
	bg_stop "$TD"
	grep -q "IP $extre > 198.51.100.1: ICMP echo request" "$TMPD/ping.tcpdump" ||
		fail "outside did not see the echo requests from $ext: $(head -n 4 "$TMPD/ping.tcpdump")"
	grep -q '10\.0\.2\.' "$TMPD/ping.tcpdump" &&
		fail "an inside address leaked to the outside: $(grep '10\.0\.2\.' "$TMPD/ping.tcpdump" | head -n 2)"
	ok "ping 10.0.2.2 -> 198.51.100.1: 3/3 replies; the outside saw source $ext (tcpdump on o0)"

	# --- TCP, 100 MiB each way ------------------------------------------------------
	tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5001 198.51.100.1 "$DATA" "$XFER_TO"
	ok "TCP 100 MiB inside -> outside (10.0.2.2 -> 198.51.100.1:5001), sha256 equal, $TRANSFER_RATE"
	tcp_transfer down "$NS_OUT" "$NS_IN" 198.51.100.1 5002 198.51.100.1 "$DATA" "$XFER_TO"
	ok "TCP 100 MiB outside -> inside (inside connects, 198.51.100.1:5002 sends), sha256 equal, $TRANSFER_RATE"

	# --- UDP request (inside -> outside) and reply (outside -> inside) ------------
	bg out_ns timeout 15 socat -T 10 UDP-RECVFROM:7000,bind=198.51.100.1 \
		SYSTEM:'read l; echo "reply:$l:$SOCAT_PEERADDR"' >/dev/null 2>"$TMPD/udp.srv.err"
	US=$BG_PID
	wait_listen out_ns u 7000 || fail "UDP server did not start"
	got=$(echo "req-$$" | in_ns timeout 10 socat -t 3 - UDP:198.51.100.1:7000 2>&1)
	bg_stop "$US"
	[ "$got" = "reply:req-$$:$ext" ] ||
		fail "UDP request/reply: expected 'reply:req-$$:$ext', got '$got'"
	ok "UDP 10.0.2.2 -> 198.51.100.1:7000 and back: reply content right, the server saw source $ext"

	# --- TCP port forward: outside -> $ext:8080 -> 10.0.2.2:80 -----------
	bg in_ns timeout 15 socat TCP-LISTEN:80,bind=10.0.2.2,reuseaddr \
		SYSTEM:'echo "peer $SOCAT_PEERADDR"' 2>"$TMPD/fwd.srv.err"
	FS=$BG_PID
	wait_listen in_ns t 80 || fail "inside TCP server did not start"
	got=$(out_ns timeout 10 socat -u TCP:$ext:8080,bind=198.51.100.1 - 2>&1)
	bg_stop "$FS"
	[ "$got" = "peer 198.51.100.1" ] ||
		fail "TCP forward $ext:8080 -> 10.0.2.2:80: expected 'peer 198.51.100.1', got '$got'"
	ok "TCP forward $ext:8080 -> 10.0.2.2:80: the inside server saw the real client 198.51.100.1"
}

# Sourced by a test: nothing more to do. Run on its own (tests/run leaves
# it out): it holds no test, so it says so and skips.
case $0 in
*/lib.sh | lib.sh) skip "lib.sh: helpers for the other scripts, no test of its own" ;;
esac
