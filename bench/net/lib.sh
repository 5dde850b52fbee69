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
