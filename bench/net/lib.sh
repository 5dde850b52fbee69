# shellcheck shell=bash
# bench/net/lib.sh - what the network benchmarks (gateway_vs_kernel.sh,
# vm_vs_peers.sh) share: messages, the root and tool checks, the
# namespaces and processes they make (removed on exit, processes by PID
# only), and the kernel NAT they compare arcnat with. Set BENCH (the
# script's name, for messages), cd to the repository root, then:
#   . bench/net/lib.sh
#
# Provided:
#   log MSG...            a time-stamped line on stderr
#   skip MSG...           "BENCH: skipped: MSG", exit 77
#   die MSG...            "FATAL: MSG", exit 1
#   bench_need TOOL...    root (else skip), /dev/net/tun and every TOOL
#                         (else die)
#   NS_LIST, PIDS         the namespaces and the processes made so far:
#                         append to them; on exit every process is killed
#                         (its children first) and every namespace deleted
#   BENCH_ON_EXIT         a command the exit runs first (stop arcnat)
#   TMPD                  a directory removed on exit, if set
#   kill_pid PID          TERM, up to 3 s, then KILL
#   kill_tree PID         the same for its children (recursively), then it
#   ns_add NS [KEY=VALUE...]
#                         a namespace with lo up, IPv6 off and these sysctls
#   kernel_nat NS TABLE IN OUT
#                         NS forwards from IN out of OUT with an nftables
#                         masquerade (table TABLE), and back only what is
#                         established or related
#
# For scripts that measure with iperf3 and nbench (set SERVER_ADDR,
# IPERF_PORT, NB_PORT, NBENCH, LIFE, QUIET_MAX, QUIET_TRIES, TCP_CC,
# CRR_MAX):
#   start_servers NS      iperf3 -s and nbench server on SERVER_ADDR in NS
#   build_nbench          (re)build NBENCH from bench/net/nbench.c
#   STACK_PIDS            the processes whose CPU time cpu_snap counts
#   cpu_snap, cpu_delta SNAP0 SNAP1 SECS
#                         "stack_pct sys_pct steal_pct" over a run
#   quiet_wait            wait (bounded) for the machine to calm down;
#                         prints the background load it saw
#   iperf_run NS ADDR PORT SECS [-R]
#                         "value Gbit/s extra" of one iperf3 run from NS
#   measure NS METRIC SECS
#                         "value unit extra" of one run from NS: tcp_up*,
#                         tcp_down* (iperf3), udp64_pps, tcp_rr, tcp_crr
#                         (nbench); value nan on failure, reason in extra
#   sanity LABEL NS       one short TCP exchange with the server works

NS_LIST=()
PIDS=()
TMPD=${TMPD:-}
BENCH_ON_EXIT=${BENCH_ON_EXIT:-}

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
skip() {
	echo "$BENCH: skipped: $*"
	exit 77
}
die() {
	log "FATAL: $*"
	exit 1
}

bench_need() {
	local b
	[ "$(id -u)" = 0 ] || skip "not root (needs network namespaces, TAP devices and nftables)"
	[ -c /dev/net/tun ] || die "as root, no /dev/net/tun (modprobe tun)"
	for b in "$@"; do
		command -v "$b" >/dev/null || die "missing $b (tools/deps.sh installs it)"
	done
}

kill_pid() {	# TERM, up to 3 s, then KILL; by PID only
	local p=$1 i
	kill -TERM "$p" 2>/dev/null || return 0
	for i in $(seq 30); do
		kill -0 "$p" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
}

kill_tree() {	# the children first (timeout's child, ip netns exec's)
	local n
	# shellcheck disable=SC2013
	for n in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		kill_tree "$n"
	done
	kill_pid "$1"
}

bench_cleanup() {
	local i n
	[ -n "$BENCH_ON_EXIT" ] && $BENCH_ON_EXIT
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
		kill_tree "${PIDS[i]}"
	done
	for n in "${NS_LIST[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	[ -n "$TMPD" ] && rm -rf "$TMPD"
	PIDS=()
	NS_LIST=()
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ns_add() {
	ip netns add "$1" || die "ip netns add $1"
	NS_LIST+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 "${@:2}" >/dev/null ||
		die "sysctl in $1"
}

kernel_nat() {
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 || die "ip_forward in $1"
	ip netns exec "$1" nft -f - <<-EOF || die "nft ruleset in $1"
	table ip $2 {
		chain postrouting {
			type nat hook postrouting priority srcnat; policy accept;
			oifname "$4" masquerade
		}
		chain forward {
			type filter hook forward priority filter; policy drop;
			iifname "$3" oifname "$4" accept
			iifname "$4" oifname "$3" ct state established,related accept
		}
	}
	EOF
}

start_servers() {	# start_servers NS: iperf3 and nbench on SERVER_ADDR
	ip netns exec "$1" timeout "$LIFE" iperf3 -s -B "$SERVER_ADDR" -p "$IPERF_PORT" >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$1" timeout "$LIFE" "$NBENCH" server -b "$SERVER_ADDR" -p "$NB_PORT" -L "$LIFE" >/dev/null 2>&1 &
	PIDS+=($!)
	local i
	for i in $(seq 50); do
		if ip netns exec "$1" ss -Hltn "sport = :$IPERF_PORT" | grep -q . &&
			ip netns exec "$1" ss -Hltn "sport = :$NB_PORT" | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	die "servers did not start in $1"
}

build_nbench() {
	if [ ! -x "$NBENCH" ] || [ bench/net/nbench.c -nt "$NBENCH" ]; then
		mkdir -p "$(dirname "$NBENCH")" || die "mkdir"
		cc -O2 -Wall -Wextra -o "$NBENCH" bench/net/nbench.c || die "build nbench"
	fi
}

# --- measurements ------------------------------------------------------------------
cpu_snap() {	# "busy total steal stack_ticks" (busy excludes steal)
	local a=0 p
	for p in ${STACK_PIDS:-}; do
		[ -r /proc/"$p"/stat ] &&
			a=$((a + $(sed 's/.*) //' /proc/"$p"/stat | awk '{ print $12 + $13 }')))
	done
	awk -v a="$a" '/^cpu /{ b = $2 + $3 + $4 + $7 + $8; print b, b + $5 + $6 + $9, $9, a }' /proc/stat
}

cpu_delta() {	# cpu_delta SNAP0 SNAP1 SECS -> "stack_pct sys_pct steal_pct"
	local b0 t0 s0 a0 b1 t1 s1 a1
	read -r b0 t0 s0 a0 <<<"$1"
	read -r b1 t1 s1 a1 <<<"$2"
	awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v s=$((s1 - s0)) -v a=$((a1 - a0)) \
		-v secs="$3" -v n="$(nproc)" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		printf "%.0f %.0f %.0f", (secs > 0 ? a / hz / secs * 100 : 0),
			(t > 0 ? b / t * 100 * n : 0), (t > 0 ? s / t * 100 * n : 0) }'
}

# The machine is shared: before each run wait, bounded, until the background
# load (whole machine, 100 = one core) is below QUIET_MAX; it is recorded.
quiet_wait() {
	local i a b l=0
	for i in $(seq "$QUIET_TRIES"); do
		a=$(cpu_snap)
		sleep 0.5
		b=$(cpu_snap)
		l=$(cpu_delta "$a" "$b" 0.5 | awk '{ print $2 }')
		[ "$l" -le "$QUIET_MAX" ] && break
	done
	echo "$l"
}

iperf_value() {	# iperf_value JSONFILE -> "Gbit/s extra"
	python3 - "$1" <<-'EOF'
	import json, sys
	try:
	    d = json.load(open(sys.argv[1]))
	except Exception:
	    print("nan iperf3_output_unparsable"); sys.exit(0)
	if "error" in d:
	    print("nan error=" + d["error"].replace(" ", "_")); sys.exit(0)
	e = d["end"]
	print("%.3f retrans=%s" % (e["sum_received"]["bits_per_second"] / 1e9,
	                           e["sum_sent"].get("retransmits", "na")))
	EOF
}

kv() {	# kv KEY LINE -> value of KEY=value in LINE
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}

# iperf_run NS ADDR PORT SECS [-R] -> "value Gbit/s extra": one iperf3
# client in NS against ADDR:PORT (-R: the server sends); value nan on
# failure, the reason in extra.
iperf_run() {
	local tmp v extra
	tmp=$(mktemp)
	timeout $(($4 + 20)) ip netns exec "$1" iperf3 -c "$2" -p "$3" -t "$4" ${5:+"$5"} \
		${TCP_CC:+-C "$TCP_CC"} -J --connect-timeout 3000 >"$tmp" 2>&1
	read -r v extra < <(iperf_value "$tmp")
	rm -f "$tmp"
	echo "$v Gbit/s $extra"
}

# measure NS METRIC SECS -> "value unit extra" for a client in NS against
# SERVER_ADDR: tcp_up*, tcp_down* (iperf3, -R for down), udp64_pps, tcp_rr,
# tcp_crr (nbench; CRR_MAX connections at most). value nan on failure,
# with the reason in extra.
measure() {
	local ns=$1 m=$2 t=$3 tmp v extra unit line
	tmp=$(mktemp)
	case $m in
	tcp_up* | tcp_down*)
		local rev=""
		case $m in tcp_down*) rev=-R ;; esac
		rm -f "$tmp"
		iperf_run "$ns" "$SERVER_ADDR" "$IPERF_PORT" "$t" $rev
		return
		;;
	udp64_pps | tcp_rr | tcp_crr)
		local mode args=""
		case $m in
		udp64_pps) mode=udp args="-s 64" unit=pkt/s ;;
		tcp_rr) mode=rr unit=trans/s ;;
		tcp_crr) mode=crr args="-n $CRR_MAX" unit=conn/s ;;
		esac
		# shellcheck disable=SC2086
		timeout $((t + 20)) ip netns exec "$ns" "$NBENCH" $mode -H "$SERVER_ADDR" -p "$NB_PORT" -t "$t" $args >"$tmp" 2>&1
		line=$(grep '^mode=' "$tmp" | tail -n 1)
		if [ -n "$line" ]; then
			v=$(kv rate "$line")
			case $mode in
			udp) extra="sent_pps=$(kv sent_pps "$line") loss_pct=$(kv loss_pct "$line")" ;;
			*) extra="p50_us=$(kv p50_us "$line") p99_us=$(kv p99_us "$line")" ;;
			esac
			extra="$extra errors=$(kv errors "$line")"
		else
			v=nan
			extra="error=$(head -c 200 "$tmp" | tr -s ' \n\t' '___')"
		fi
		;;
	*) v=nan unit=- extra="unknown_metric" ;;
	esac
	rm -f "$tmp"
	echo "$v $unit $extra"
}

sanity() {	# sanity LABEL NS: one short TCP exchange must work before any load
	local out
	out=$(timeout 10 ip netns exec "$2" "$NBENCH" rr -H "$SERVER_ADDR" -p "$NB_PORT" -t 0.5 -n 100 2>&1)
	grep -q 'count=100 ' <<<"$out" || return 1
	log "[$1] sanity ok: $out"
}
