#!/bin/bash
# arcnat gateway versus kernel NAT (nftables masquerade), side by side.
#
#  kernel backend (namespaces nb-{in,rt,out}-PID-k):
#
#   nb-in (client)                nb-rt (router)                      nb-out (server)
#   eth0 10.0.2.2/24 <--veth--> i0 10.0.2.1/24
#   default via 10.0.2.1          ip_forward=1, nft masquerade out of r0
#                                 r0 198.51.100.2/24 <--veth--> s0 198.51.100.1/24
#                                                               iperf3 -s, nbench server
#
#  arcnat backend (namespaces nb-{in,rt,out}-PID-a):
#
#   nb-in (client)                nb-rt (router)                      nb-out (server)
#   tap0 10.0.2.2/24 <-- TAP --> arcnat gateway --inside tap0@nb-in
#   default via 10.0.2.1          --outside r0 (AF_PACKET, no kernel address)
#                                 --external-ip 198.51.100.2/24
#                                 r0 <--veth--> s0 198.51.100.1/24
#                                               iperf3 -s, nbench server
#
# The servers have no route back to 10.0.2.0/24: every reply works only
# because the NAT rewrote the client's address to 198.51.100.2. The router
# namespaces have no default route and no other interface, so nothing can
# leave the machine.
#
# Metrics, REPS runs each, backends interleaved (the order alternates every
# repetition): TCP throughput client->server (tcp_up) and server->client
# (tcp_down, iperf3 -R) at MTU 1500 and 9000 on every link; UDP 64-byte
# datagrams received per second (nbench udp); TCP_RR and TCP_CRR (nbench).
# Prints median [min..max] per backend and the ratio arcnat/kernel, and
# arcnat's CPU use (utime+stime of its process over the run, 100 = one core).
#
# Environment:
#   ARCNAT       binary (default build/arcnat; relative to the repository root)
#   REPS         runs per metric and backend (default 3)
#   T            seconds per run (default 10)
#   QUICK=1      REPS=1 T=3 (CI smoke test, under 2 minutes)
#   BACKENDS     default "kernel arcnat"
#   METRICS      default "tcp_up tcp_down udp64_pps tcp_rr tcp_crr tcp_up_9000 tcp_down_9000"
#   ARCNAT_OPTS  extra options for `arcnat gateway`
#   NO_GSO=1     TSO, GSO and GRO off on every link (ethtool): MTU-sized
#                packets only, to measure what GSO pass-through buys
#   TCP_CC       congestion control set per socket by iperf3 -C (default cubic;
#                "" = the namespace default)
#   CRR_MAX      connections per TCP_CRR run at most (default 200000)
#   CLIENT_PORTS the client's net.ipv4.ip_local_port_range (default
#                "1024 65000"; tcp_tw_reuse=1, so TCP_CRR reuses ports)
#   RESULTS_DIR  where the TSV files and logs go (default build/bench-results)
#   QUIET_MAX    before each run, wait (QUIET_TRIES x 0.5 s at most; 40, or 2
#                with QUICK) for the machine's background load to fall below
#                this (percent, 100 = one core; default 30); it is recorded
#
# Exit 0 = every run measured, 1 = setup failed (as root: no /dev/net/tun,
# a tool missing) or some run failed (the table is printed anyway),
# 77 = skipped (not root).
set -u
cd "$(dirname "$0")/../.." || exit 1

ARCNAT=${ARCNAT:-build/arcnat}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${REPS:-1}
	T=${T:-3}
else
	REPS=${REPS:-3}
	T=${T:-10}
fi
BACKENDS=${BACKENDS:-kernel arcnat}
METRICS=${METRICS:-tcp_up tcp_down udp64_pps tcp_rr tcp_crr tcp_up_9000 tcp_down_9000}
ARCNAT_OPTS=${ARCNAT_OPTS:-}
NO_GSO=${NO_GSO:-0}
TCP_CC=${TCP_CC-cubic}
CRR_MAX=${CRR_MAX:-200000}
CLIENT_PORTS=${CLIENT_PORTS:-1024 65000}
RESULTS_DIR=${RESULTS_DIR:-build/bench-results}
QUIET_MAX=${QUIET_MAX:-30}
QUIET_TRIES=${QUIET_TRIES:-$([ "$QUICK" = 1 ] && echo 2 || echo 40)}
BUILD=build/bench/net
NBENCH=$BUILD/nbench
LIFE=$((REPS * 7 * 2 * (T + 40) + 300))	# every server/daemon exits by itself
IPERF_PORT=5201
NB_PORT=7777
SERVER_ADDR=198.51.100.1

# namespaces and processes, removed on exit; arcnat is stopped first
BENCH=gateway_vs_kernel
BENCH_ON_EXIT=gvk_on_exit
gvk_on_exit() { [ -z "${A_PID:-}" ] || stop_arcnat; }
# shellcheck source=bench/net/lib.sh
. bench/net/lib.sh

bench_need ip nft iperf3 cc timeout python3
case " $BACKENDS " in
*" arcnat "*) [ -x "$ARCNAT" ] || die "$ARCNAT not built (make -j2), or set ARCNAT=" ;;
esac

# every namespace: TCP_CRR reuses the client's ports
nb_ns_add() {
	ns_add "$1" net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=$CLIENT_PORTS"
}

# --- kernel backend ------------------------------------------------------------
K_IN=nb-in-$$-k K_RT=nb-rt-$$-k K_OUT=nb-out-$$-k

setup_kernel() {
	nb_ns_add $K_IN
	nb_ns_add $K_RT
	nb_ns_add $K_OUT
	ip -n $K_IN link add eth0 type veth peer name i0 netns $K_RT || die "veth"
	ip -n $K_RT link add r0 type veth peer name s0 netns $K_OUT || die "veth"
	ip -n $K_IN addr add 10.0.2.2/24 dev eth0
	ip -n $K_RT addr add 10.0.2.1/24 dev i0
	ip -n $K_RT addr add 198.51.100.2/24 dev r0
	ip -n $K_OUT addr add $SERVER_ADDR/24 dev s0
	ip -n $K_IN link set eth0 up
	ip -n $K_RT link set i0 up
	ip -n $K_RT link set r0 up
	ip -n $K_OUT link set s0 up
	ip -n $K_IN route add default via 10.0.2.1 || die "route"
	kernel_nat $K_RT nbnat i0 r0
	start_servers $K_OUT
}

mtu_kernel() {
	ip -n $K_IN link set eth0 mtu "$1"
	ip -n $K_RT link set i0 mtu "$1"
	ip -n $K_RT link set r0 mtu "$1"
	ip -n $K_OUT link set s0 mtu "$1"
	no_gso $K_IN eth0 $K_RT i0 $K_RT r0 $K_OUT s0
}

# NO_GSO=1: segmentation and receive offloads off on every link of the
# topology, so that every packet is MTU-sized: what GSO pass-through buys.
no_gso() {	# no_gso NS IFACE [NS IFACE]...
	[ "$NO_GSO" = 1 ] || return 0
	while [ $# -ge 2 ]; do
		ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 ||
			die "ethtool -K $2 in $1 failed (is ethtool installed?)"
		shift 2
	done
}

# --- arcnat backend ----------------------------------------------------------------
A_IN=nb-in-$$-a A_RT=nb-rt-$$-a A_OUT=nb-out-$$-a
A_PID="" A_TIMEOUT_PID="" A_LOG="" A_BIN="" A_VERSION=""

setup_arcnat() {
	nb_ns_add $A_IN
	nb_ns_add $A_RT
	nb_ns_add $A_OUT
	ip -n $A_IN tuntap add dev tap0 mode tap || die "tuntap add"
	ip -n $A_IN addr add 10.0.2.2/24 dev tap0
	ip -n $A_IN link set tap0 up
	ip -n $A_RT link add r0 type veth peer name s0 netns $A_OUT || die "veth"
	ip -n $A_OUT addr add $SERVER_ADDR/24 dev s0
	ip -n $A_RT link set r0 up
	ip -n $A_OUT link set s0 up
	start_servers $A_OUT
}

start_arcnat() {	# start_arcnat MTU
	local mtu=$1 i
	mtu_arcnat "$mtu"
	A_LOG=$RESULTS_DIR/$STAMP-arcnat-mtu$mtu.log
	log "[arcnat] ip netns exec $A_RT $A_BIN gateway --inside tap0@$A_IN --outside r0" \
		"--external-ip 198.51.100.2/24 --mtu $mtu $ARCNAT_OPTS  (log: $A_LOG)"
	: >"$A_LOG"
	# shellcheck disable=SC2086
	timeout "$LIFE" ip netns exec $A_RT "$A_BIN" gateway --inside tap0@$A_IN --outside r0 \
		--external-ip 198.51.100.2/24 --mtu "$mtu" $ARCNAT_OPTS >"$A_LOG" 2>&1 &
	A_TIMEOUT_PID=$!
	PIDS+=("$A_TIMEOUT_PID")
	for i in $(seq 100); do
		grep -q 'arcnat: gateway ready' "$A_LOG" && break
		kill -0 "$A_TIMEOUT_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q 'arcnat: gateway ready' "$A_LOG"; then
		sed 's/^/    | /' "$A_LOG" >&2
		die "arcnat did not print 'arcnat: gateway ready' within 10 s"
	fi
	A_PID=$(cat /proc/"$A_TIMEOUT_PID"/task/*/children 2>/dev/null | awk "{ print \$1; exit }")
	[ -n "$A_PID" ] || die "cannot find arcnat's PID"
	STACK_PIDS=$A_PID
	# arcnat brings tap0 up; make sure the guest side is configured
	ip -n $A_IN addr replace 10.0.2.2/24 dev tap0
	ip -n $A_IN route replace default via 10.0.2.1 dev tap0 || die "route via tap0"
	no_gso_arcnat
	log "[arcnat] ready, pid $A_PID, $(ip -n $A_IN -o link show tap0 | grep -o 'mtu [0-9]*')"
}

stop_arcnat() {	# TERM makes arcnat print its statistics
	[ -n "$A_PID" ] || return 0
	kill_pid "$A_PID"
	wait "$A_TIMEOUT_PID" 2>/dev/null
	log "[arcnat] stopped; non-zero counters: $(awk '$1 == "stat" && $3 != 0 { printf "%s=%s ", $2, $3 }' "$A_LOG")"
	A_PID="" STACK_PIDS=""
}

mtu_arcnat() {
	ip -n $A_IN link set tap0 mtu "$1"
	ip -n $A_RT link set r0 mtu "$1"
	ip -n $A_OUT link set s0 mtu "$1"
}

no_gso_arcnat() {	# after arcnat set the TAP's offloads up
	no_gso $A_IN tap0 $A_RT r0 $A_OUT s0
}

# --- measurements ------------------------------------------------------------------
run_one() {	# run_one BACKEND METRIC MTU REP
	local be=$1 m=$2 mtu=$3 rep=$4 cl s0 s1 t0 t1 v extra unit cpu a_cpu sys_cpu steal bg
	case $be in
	kernel) cl=$K_IN ;;
	arcnat) cl=$A_IN ;;
	esac
	bg=$(quiet_wait)
	s0=$(cpu_snap)
	t0=$(date +%s.%N)
	read -r v unit extra < <(measure "$cl" "$m" "$T")
	t1=$(date +%s.%N)
	s1=$(cpu_snap)
	cpu=$(cpu_delta "$s0" "$s1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
	read -r a_cpu sys_cpu steal <<<"$cpu"
	[ -z "$A_PID" ] && a_cpu=-	# kernel rows: arcnat idle (expect 0)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$be" "$m" "$mtu" "$rep" "$v" "$unit" \
		"$a_cpu" "$sys_cpu" "$steal" "$bg" "$extra" >>"$RAW"
	log "[$be] $m mtu=$mtu rep=$rep: $v $unit arcnat_cpu=$a_cpu% sys_cpu=$sys_cpu% steal=$steal% bg_cpu=$bg% $extra"
	sleep 0.5
}

# --- summary -----------------------------------------------------------------------
summary() {	# table on stdout and $SUM (TSV)
	printf 'metric\tunit\tkernel_median\tkernel_min\tkernel_max\tarcnat_median\tarcnat_min\tarcnat_max\tratio_arcnat_kernel\tarcnat_cpu_pct_median\n' >"$SUM"
	local m
	for m in $METRICS; do
		awk -F'\t' -v m="$m" '
		function stats(be,   n, runs, i, j, t) {
			n = runs = 0
			for (i = 1; i <= N; i++)
				if (B[i] == be && ++runs && V[i] != "nan" && V[i] != "") x[++n] = V[i] + 0
			if (runs == 0) return "-\t-\t-"
			for (i = 2; i <= n; i++)	# insertion sort, n is small
				for (j = i; j > 1 && x[j - 1] > x[j]; j--) { t = x[j]; x[j] = x[j - 1]; x[j - 1] = t }
			if (n == 0) return "nan\tnan\tnan"
			med = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
			return med "\t" x[1] "\t" x[n]
		}
		function cpumed(   n, i, j, t) {
			n = 0
			for (i = 1; i <= N; i++)
				if (B[i] == "arcnat" && C[i] != "-" && C[i] != "") y[++n] = C[i] + 0
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && y[j - 1] > y[j]; j--) { t = y[j]; y[j] = y[j - 1]; y[j - 1] = t }
			return n ? (n % 2 ? y[(n + 1) / 2] : (y[n / 2] + y[n / 2 + 1]) / 2) : "-"
		}
		$2 == m { N++; B[N] = $1; V[N] = $5; C[N] = $7; unit = $6 }
		END {
			if (!N) exit
			k = stats("kernel"); split(k, kk, "\t")
			a = stats("arcnat"); split(a, aa, "\t")
			r = (kk[1] !~ /^(nan|-)$/ && aa[1] !~ /^(nan|-)$/ && kk[1] > 0) ? sprintf("%.2f", aa[1] / kk[1]) : "-"
			print m "\t" unit "\t" k "\t" a "\t" r "\t" cpumed()
		}' "$RAW" >>"$SUM"
	done
	echo
	echo "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
	has arcnat && echo "arcnat: $A_VERSION"
	awk -F'\t' -v q="$QUIET_MAX" 'NR > 1 { n++; b[n] = $10 + 0; if ($10 + 0 > q) busy++ }
		END { if (n) printf "background load before the runs (100 = one core): max %d%%, %d of %d runs above QUIET_MAX=%d%%\n", \
			max(b, n), busy, n, q }
		function max(a, k,   i, m) { m = a[1]; for (i = 2; i <= k; i++) if (a[i] > m) m = a[i]; return m }' "$RAW"
	echo "runs: REPS=$REPS T=${T}s per run, backends interleaved; median [min..max]; TCP_CC=${TCP_CC:-default}"
	echo
	awk -F'\t' 'function f(v, u) {
			if (v == "nan") return "FAILED"
			return u == "Gbit/s" ? sprintf("%.2f", v) : sprintf("%.0f", v)
		}
		function cell(a, b, c, u) {
			if (a == "-") return "-"
			return a == "nan" ? "FAILED" : f(a, u) " [" f(b, u) ".." f(c, u) "]"
		}
		NR == 1 {
			printf "| %-14s | %-8s | %-28s | %-28s | %-6s | %-10s |\n", "metric", "unit", "kernel", "arcnat", "ratio", "arcnat CPU"
			printf "|%s|%s|%s|%s|%s|%s|\n", "----------------", "----------", "------------------------------", "------------------------------", "--------", "------------"
			next
		}
		{
			printf "| %-14s | %-8s | %-28s | %-28s | %-6s | %-10s |\n", $1, $2, cell($3, $4, $5, $2), cell($6, $7, $8, $2), $9, ($10 == "-" ? "-" : $10 "%")
		}' "$SUM"
	echo
	echo "raw runs: $RAW"
	echo "summary:  $SUM"
}

# --- main ------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR" "$BUILD" || die "mkdir"
STAMP=gateway_vs_kernel-$(date +%Y%m%d-%H%M%S)
RAW=$RESULTS_DIR/$STAMP.tsv
SUM=$RESULTS_DIR/$STAMP-summary.tsv
printf 'backend\tmetric\tmtu\trep\tvalue\tunit\tarcnat_cpu_pct\tsys_cpu_pct\tsteal_pct\tbg_cpu_pct\textra\n' >"$RAW"

build_nbench
log "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
log "REPS=$REPS T=$T BACKENDS='$BACKENDS' METRICS='$METRICS'"

has() { case " $BACKENDS " in *" $1 "*) return 0 ;; esac; return 1; }

# Run a private copy: a rebuild of $ARCNAT during the run (make in another
# shell) must not change the binary between the MTU phases.
if has arcnat; then
	TMPD=$(mktemp -d) || die "mktemp"
	A_BIN=$TMPD/arcnat
	cp "$ARCNAT" "$A_BIN" || die "cp $ARCNAT"
	A_VERSION="$ARCNAT ($("$A_BIN" --version 2>&1 | head -n 1), built $(date -r "$ARCNAT" '+%F %T'), sha256 $(sha256sum "$A_BIN" | cut -c1-12))"
	log "arcnat: $A_VERSION"
fi
has kernel && setup_kernel
has arcnat && setup_arcnat

for mtu in 1500 9000; do
	ms=""
	for m in $METRICS; do
		case $m in
		*_9000) [ "$mtu" = 9000 ] && ms="$ms $m" ;;
		*) [ "$mtu" = 1500 ] && ms="$ms $m" ;;
		esac
	done
	[ -n "$ms" ] || continue
	if has kernel; then
		mtu_kernel $mtu
		sanity kernel $K_IN || die "[kernel] sanity check failed"
	fi
	if has arcnat; then
		stop_arcnat
		start_arcnat $mtu
		sanity arcnat $A_IN || die "[arcnat] sanity check failed"
	fi
	for rep in $(seq "$REPS"); do
		order=$BACKENDS
		[ $((rep % 2)) = 0 ] && order=$(echo "$BACKENDS" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
		for m in $ms; do
			for be in $order; do
				run_one "$be" "$m" "$mtu" "$rep"
			done
		done
	done
done
has arcnat && stop_arcnat
summary
failed=$(awk -F'\t' 'NR > 1 && $5 == "nan"' "$RAW" | wc -l)
if [ "$failed" -gt 0 ]; then
	log "$failed run(s) failed (value nan in $RAW, reason in its last column)"
	exit 1
fi
