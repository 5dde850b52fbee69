#!/bin/bash
# Rootless stacks side by side: arcnat's socket uplink, pasta and
# slirp4netns, each giving a namespace a network through host sockets.
#
#  per backend B (namespaces nb-{h,g,s}-PID-B):
#
#   nb-g (guest)                    nb-h (the "host")                  nb-s (server)
#   tap0 <-- the stack's TAP -->    the stack's process, its sockets   s0 198.51.100.1/24
#   (configured by the stack)       h0 198.51.100.2/24 <--veth-->      iperf3 -s, nbench server
#                                   default via 198.51.100.1
#
#   arcnat       arcnat attach --netns /run/netns/nb-g (sock uplink, the
#                default of attach), started in nb-h; or, without attach,
#                n/a
#   pasta        pasta --netns /run/netns/nb-g --config-net --no-map-gw
#                (Debian's passt package; 198.51.100.1 is reached as
#                itself, not mapped to the host)
#   slirp4netns  slirp4netns --configure --disable-host-loopback
#                --netns-type=path /run/netns/nb-g tap0
#
# The guest dials 198.51.100.1 in the server namespace; the host
# namespace's only route leads there, so nothing leaves the machine. Each
# stack runs as root here (the namespaces are ours); what is measured is
# its data path, which is the same rootless.
#
# Metrics at the guest's MTU 1500 and 65520 (the stack is restarted
# between the two), REPS runs each, backends interleaved (the order
# alternates every repetition): TCP guest->server (tcp_up) and
# server->guest (tcp_down) with iperf3; UDP 64-byte datagrams received per
# second with the loss (udp64_pps); TCP_RR and TCP_CRR (nbench); and
# tcp_up_loss1 / tcp_down_loss1: the same transfers while nftables in the
# guest namespace drops 1 % of the packets leaving (up) or entering (down)
# tap0 at random (this kernel has no netem).
#
# Port forwards, host to guest: each stack forwards the host's port
# FWD_PORT (5301) to the guest's 5201, where an iperf3 server of the
# guest's listens, and an iperf3 client sends through it for T seconds:
# fwd_tcp from the server's namespace to 198.51.100.2:5301 (a remote
# client, through the veth), fwd_tcp_lo from the host namespace's loopback
# to 127.0.0.1:5301. arcnat: -t 5301:5201 (the guest sees the client's
# address); pasta: -t 5301:5201 (its loopback clients are spliced into
# the namespace's loopback, the others go through its TAP); slirp4netns:
# add_hostfwd on its --api-socket (libslirp terminates the connection and
# opens another from its own address).
#
# Environment:
#   ARCNAT       binary (default build/arcnat; a private copy is run)
#   REPS         runs per metric and backend (default 3)
#   T            seconds per run (default 10)
#   QUICK=1      REPS=1 T=3
#   BACKENDS     default "arcnat pasta slirp4netns" (a missing one is n/a)
#   METRICS      default "tcp_up tcp_down udp64_pps tcp_rr tcp_crr
#                tcp_up_loss1 tcp_down_loss1 tcp_up_65520 tcp_down_65520
#                fwd_tcp_65520 fwd_tcp_lo_65520" (fwd_tcp and fwd_tcp_lo
#                run at MTU 1500)
#   ARCNAT_OPTS  extra options for arcnat attach
#   TCP_CC       congestion control set per socket (default cubic)
#   CRR_MAX      connections per TCP_CRR run at most (default 200000)
#   TW_MAX       tcp_max_tw_buckets of the guest and host namespaces
#                (default 4096: TIME_WAIT left by one TCP_CRR run must
#                not slow the next)
#   RESULTS_DIR  default build/bench-results
#   QUIET_MAX, QUIET_TRIES  as in gateway_vs_kernel.sh
#
# Exit 0 = every run of every available backend measured, 1 = setup
# failed or a run failed (the table is printed anyway), 77 = not root.
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
BACKENDS=${BACKENDS:-arcnat pasta slirp4netns}
METRICS=${METRICS:-tcp_up tcp_down udp64_pps tcp_rr tcp_crr tcp_up_loss1 tcp_down_loss1 tcp_up_65520 tcp_down_65520 fwd_tcp_65520 fwd_tcp_lo_65520}
ARCNAT_OPTS=${ARCNAT_OPTS:-}
TCP_CC=${TCP_CC-cubic}
CRR_MAX=${CRR_MAX:-200000}
CLIENT_PORTS="1024 65000"
TW_MAX=${TW_MAX:-4096}	# the guest's and host's TIME_WAIT sockets at most
RESULTS_DIR=${RESULTS_DIR:-build/bench-results}
QUIET_MAX=${QUIET_MAX:-30}
QUIET_TRIES=${QUIET_TRIES:-$([ "$QUICK" = 1 ] && echo 2 || echo 40)}
NBENCH=build/bench/net/nbench
LIFE=$((REPS * 11 * 3 * (T + 40) + 300))	# every server/daemon exits by itself
IPERF_PORT=5201
FWD_PORT=5301		# the forwarded host port, to the guest's FWD_GUEST_PORT
FWD_GUEST_PORT=5201
HOST_ADDR=198.51.100.2
NB_PORT=7777
SERVER_ADDR=198.51.100.1

# namespaces, processes and TMPD, removed on exit; the stacks stopped first
BENCH=run_vs_peers
BENCH_ON_EXIT=rvp_on_exit
declare -A S_PID S_TPID S_LOG NA
rvp_on_exit() {
	local be
	for be in $BACKENDS; do
		stack_stop "$be"
	done
}
# shellcheck source=bench/net/lib.sh
. bench/net/lib.sh

bench_need ip nft iperf3 cc timeout python3
TMPD=$(mktemp -d) || die "mktemp"

ns_of() { echo "nb-$1-$$-$2"; }	# ns_of h|g|s BACKEND

setup_backend() {	# setup_backend BACKEND: namespaces, veth, servers
	local be=$1 h g s
	# TCP_CRR leaves ~15k sockets per run in TIME_WAIT on both sides of
	# the stack; with the defaults (28k ports, reuse on loopback only, and
	# none without timestamps) the next run's connect()s search nearly
	# full ranges and every stack falls to a fraction of its rate. The
	# TIME_WAIT table is kept small instead (the kernel ends the excess at
	# once), the same for every stack.
	local clients=(net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=$CLIENT_PORTS"
		"net.ipv4.tcp_max_tw_buckets=$TW_MAX")
	h=$(ns_of h "$be") g=$(ns_of g "$be") s=$(ns_of s "$be")
	ns_add "$h" "${clients[@]}"
	ns_add "$g" "${clients[@]}"
	ns_add "$s"
	ip -n "$h" link add h0 type veth peer name s0 netns "$s" || die "veth"
	ip -n "$h" addr add $HOST_ADDR/24 dev h0
	ip -n "$s" addr add $SERVER_ADDR/24 dev s0
	ip -n "$h" link set h0 up
	ip -n "$s" link set s0 up
	ip -n "$h" route add default via $SERVER_ADDR || die "route in $h"
	start_servers "$s"
	# the port forwards' server, in the guest (on any address: each stack
	# gives the guest its own)
	ip netns exec "$g" timeout "$LIFE" iperf3 -s -p $FWD_GUEST_PORT >/dev/null 2>&1 &
	PIDS+=($!)
}

# slirp4netns's port forward, through its API socket (slirp4netns(1)).
slirp_hostfwd() {	# slirp_hostfwd BACKEND
	local out
	out=$(printf '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "0.0.0.0", "host_port": %d, "guest_port": %d}}' \
		$FWD_PORT $FWD_GUEST_PORT | timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(4)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
print(s.recv(4096).decode(errors="replace"))' "$TMPD/slirp-$1.sock" 2>&1)
	grep -q '"return": *{"id"' <<<"$out" || die "[$1] add_hostfwd: $out"
}

# The stacks. Each start waits until the guest's tap0 has an IPv4 address
# and a default route, and sets S_PID (the stack's process, for the CPU
# accounting) or NA (why it cannot run).
stack_start() {	# stack_start BACKEND MTU
	local be=$1 mtu=$2 h g i
	h=$(ns_of h "$be") g=$(ns_of g "$be")
	S_LOG[$be]=$RESULTS_DIR/$STAMP-$be-mtu$mtu.log
	case $be in
	arcnat)
		# shellcheck disable=SC2086
		timeout "$LIFE" ip netns exec "$h" "$A_BIN" attach --netns "/run/netns/$g" \
			--mtu "$mtu" -t $FWD_PORT:$FWD_GUEST_PORT $ARCNAT_OPTS >"${S_LOG[$be]}" 2>&1 &
		;;
	pasta)
		timeout "$LIFE" ip netns exec "$h" pasta -f -4 --runas 0:0 --config-net \
			--no-map-gw --mtu "$mtu" -t $FWD_PORT:$FWD_GUEST_PORT -u none -T none -U none \
			--netns "/run/netns/$g" >"${S_LOG[$be]}" 2>&1 &
		;;
	slirp4netns)
		rm -f "$TMPD/slirp-$be.sock"
		timeout "$LIFE" ip netns exec "$h" slirp4netns --configure --mtu="$mtu" \
			--disable-host-loopback --api-socket "$TMPD/slirp-$be.sock" \
			--netns-type=path "/run/netns/$g" tap0 \
			>"${S_LOG[$be]}" 2>&1 &
		;;
	esac
	S_TPID[$be]=$!
	PIDS+=("${S_TPID[$be]}")
	for i in $(seq 100); do
		ip -n "$g" -4 route show default 2>/dev/null | grep -q . && break
		kill -0 "${S_TPID[$be]}" 2>/dev/null || break
		sleep 0.1
	done
	if ! ip -n "$g" -4 route show default 2>/dev/null | grep -q .; then
		sed 's/^/    | /' "${S_LOG[$be]}" >&2
		die "[$be] the guest namespace has no default route within 10 s"
	fi
	S_PID[$be]=$(cat /proc/"${S_TPID[$be]}"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	[ -n "${S_PID[$be]}" ] || die "[$be] cannot find the stack's PID"
	if [ "$be" = slirp4netns ]; then
		for i in $(seq 50); do
			[ -S "$TMPD/slirp-$be.sock" ] && break
			sleep 0.1
		done
		slirp_hostfwd "$be"
	fi
	log "[$be] up, pid ${S_PID[$be]} ($(cat /proc/"${S_PID[$be]}"/comm)), guest: $(ip -n "$g" -br -4 addr | grep -v '^lo' | tr -s ' ') $(ip -n "$g" -o link | grep -o 'mtu [0-9]*' | sort -u | tr '\n' ' ')"
}

stack_stop() {	# stack_stop BACKEND
	local be=$1
	[ -n "${S_TPID[$be]:-}" ] || return 0
	[ -n "${S_PID[$be]:-}" ] && kill_pid "${S_PID[$be]}"
	kill_pid "${S_TPID[$be]}"
	wait "${S_TPID[$be]}" 2>/dev/null
	S_TPID[$be]="" S_PID[$be]=""
}

# 1 % loss on the guest's tap0, one way, with nftables in the guest ns.
loss() {	# loss BACKEND up|down|off
	local g
	g=$(ns_of g "$1")
	ip netns exec "$g" nft delete table ip nbloss 2>/dev/null
	case $2 in
	up | down)
		ip netns exec "$g" nft -f - <<-EOF || die "nft loss"
		table ip nbloss {
			chain c {
				type filter hook $([ "$2" = up ] && echo output || echo input) priority 0; policy accept;
				numgen random mod 100 < 1 drop
			}
		}
		EOF
		;;
	esac
}

run_one() {	# run_one BACKEND METRIC MTU REP
	local be=$1 m=$2 mtu=$3 rep=$4 g s0 s1 t0 t1 v extra unit cpu s_cpu sys_cpu steal bg base=$2
	g=$(ns_of g "$be")
	case $m in
	*_loss1) base=${m%_loss1} ;;
	*_65520) base=${m%_65520} ;;
	esac
	local h s
	h=$(ns_of h "$be") s=$(ns_of s "$be")
	case $m in
	tcp_up_loss1) loss "$be" up ;;
	tcp_down_loss1) loss "$be" down ;;
	esac
	STACK_PIDS=${S_PID[$be]}
	bg=$(quiet_wait)
	s0=$(cpu_snap)
	t0=$(date +%s.%N)
	case $base in
	fwd_tcp) read -r v unit extra < <(iperf_run "$s" $HOST_ADDR $FWD_PORT "$T") ;;
	fwd_tcp_lo) read -r v unit extra < <(iperf_run "$h" 127.0.0.1 $FWD_PORT "$T") ;;
	*) read -r v unit extra < <(measure "$g" "$base" "$T") ;;
	esac
	t1=$(date +%s.%N)
	s1=$(cpu_snap)
	case $m in *_loss1) loss "$be" off ;; esac
	cpu=$(cpu_delta "$s0" "$s1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
	read -r s_cpu sys_cpu steal <<<"$cpu"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$be" "$m" "$mtu" "$rep" "$v" "$unit" \
		"$s_cpu" "$sys_cpu" "$steal" "$bg" "$extra" >>"$RAW"
	log "[$be] $m mtu=$mtu rep=$rep: $v $unit stack_cpu=$s_cpu% sys_cpu=$sys_cpu% steal=$steal% bg_cpu=$bg% $extra"
	sleep 0.5
}

# --- summary -----------------------------------------------------------------------
summary() {
	local be hdr=""
	for be in $BACKENDS; do hdr="$hdr | $be"; done
	echo
	echo "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
	echo "arcnat: ${A_VERSION:-n/a}; pasta: $(dpkg-query -W -f '${Version}' passt 2>/dev/null || echo ?); slirp4netns: $(slirp4netns --version 2>/dev/null | head -n 1 | awk '{ print $3 }')"
	for be in $BACKENDS; do
		[ -n "${NA[$be]:-}" ] && echo "$be: n/a (${NA[$be]})"
	done
	echo "runs: REPS=$REPS T=${T}s, backends interleaved; median [min..max], stack CPU % median (100 = one core); TCP_CC=${TCP_CC:-default}"
	echo
	awk -F'\t' -v order="$BACKENDS" -v metrics="$METRICS" '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function fmt(v, u) { return u == "Gbit/s" ? sprintf("%.2f", v) : sprintf("%.0f", v) }
		NR > 1 { k = $1 SUBSEP $2; n[k]++; if ($5 != "nan") { g[k]++; v[k, g[k]] = $5 + 0 } else bad[k]++
			c[k, n[k]] = $7 + 0; unit[$2] = $6 }
		END {
			nb = split(order, B, " "); nm = split(metrics, M, " ")
			printf "| %-16s | %-7s |", "metric", "unit"
			for (i = 1; i <= nb; i++) printf " %-30s |", B[i]
			for (i = 2; i <= nb; i++) printf " %s/%s |", B[1], B[i]
			printf "\n|------------------|---------|"
			for (i = 1; i <= nb; i++) printf "--------------------------------|"
			for (i = 2; i <= nb; i++) printf "------|"
			printf "\n"
			for (j = 1; j <= nm; j++) {
				m = M[j]; printf "| %-16s | %-7s |", m, unit[m]
				for (i = 1; i <= nb; i++) {
					k = B[i] SUBSEP m
					if (!n[k]) { cell[i] = "-"; printf " %-30s |", "n/a"; continue }
					if (!g[k]) { cell[i] = "-"; printf " %-30s |", "FAILED"; continue }
					delete a; lo = hi = v[k, 1]
					for (r = 1; r <= g[k]; r++) { a[r] = v[k, r]; if (a[r] < lo) lo = a[r]; if (a[r] > hi) hi = a[r] }
					cell[i] = med(a, g[k])
					delete cc; for (r = 1; r <= n[k]; r++) cc[r] = c[k, r]
					s = fmt(cell[i], unit[m]) " [" fmt(lo, unit[m]) ".." fmt(hi, unit[m]) "] " sprintf("%.0f%%", med(cc, n[k]))
					if (bad[k]) s = s " " bad[k] "x fail"
					printf " %-30s |", s
				}
				for (i = 2; i <= nb; i++)
					printf " %s |", (cell[1] != "-" && cell[i] != "-" && cell[i] > 0) ? sprintf("%.2f", cell[1] / cell[i]) : "-"
				printf "\n"
			}
		}' "$RAW"
	echo
	echo "raw runs: $RAW"
}

# --- main ------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR" || die "mkdir"
STAMP=run_vs_peers-$(date +%Y%m%d-%H%M%S)
RAW=$RESULTS_DIR/$STAMP.tsv
printf 'backend\tmetric\tmtu\trep\tvalue\tunit\tstack_cpu_pct\tsys_cpu_pct\tsteal_pct\tbg_cpu_pct\textra\n' >"$RAW"
build_nbench
log "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r)"
log "REPS=$REPS T=$T BACKENDS='$BACKENDS' METRICS='$METRICS'"

# Which backends can run; a private copy of arcnat, so that a rebuild during
# the run does not change the binary between the MTU phases.
RUN=""
for be in $BACKENDS; do
	case $be in
	arcnat)
		if [ ! -x "$ARCNAT" ]; then
			NA[$be]="$ARCNAT not built"
		elif ! "$ARCNAT" attach --help >/dev/null 2>&1; then
			NA[$be]="this arcnat has no attach command"
		else
			A_BIN=$TMPD/arcnat
			cp "$ARCNAT" "$A_BIN" || die "cp $ARCNAT"
			A_VERSION="$ARCNAT ($("$A_BIN" --version 2>&1 | head -n 1), built $(date -r "$ARCNAT" '+%F %T'), sha256 $(sha256sum "$A_BIN" | cut -c1-12))"
		fi
		;;
	pasta) command -v pasta >/dev/null || NA[$be]="no pasta (apt-get install passt)" ;;
	slirp4netns) command -v slirp4netns >/dev/null || NA[$be]="no slirp4netns (apt-get install slirp4netns)" ;;
	*) die "unknown backend $be" ;;
	esac
	if [ -n "${NA[$be]:-}" ]; then
		log "[$be] n/a: ${NA[$be]}"
	else
		RUN="$RUN $be"
		setup_backend "$be"
	fi
done
[ -n "$RUN" ] || die "no backend can run"

for mtu in 1500 65520; do
	ms=""
	for m in $METRICS; do
		case $m in
		*_65520) [ "$mtu" = 65520 ] && ms="$ms $m" ;;
		*) [ "$mtu" = 1500 ] && ms="$ms $m" ;;
		esac
	done
	[ -n "$ms" ] || continue
	for be in $RUN; do
		stack_stop "$be"
		stack_start "$be" "$mtu"
		sanity "$be" "$(ns_of g "$be")" || die "[$be] sanity check failed (no TCP exchange with the server)"
	done
	for rep in $(seq "$REPS"); do
		order=$RUN
		[ $((rep % 2)) = 0 ] && order=$(echo "$RUN" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')
		for m in $ms; do
			for be in $order; do
				run_one "$be" "$m" "$mtu" "$rep"
			done
		done
	done
done
for be in $RUN; do stack_stop "$be"; done
summary
failed=$(awk -F'\t' 'NR > 1 && $5 == "nan"' "$RAW" | wc -l)
if [ "$failed" -gt 0 ]; then
	log "$failed run(s) failed (value nan in $RAW, reason in its last column)"
	exit 1
fi
