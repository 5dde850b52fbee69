#!/bin/bash
# A real VM's network through arcnat's guest ports and through its peers,
# side by side in one run; then each transport's own cost without a VM.
#
# Part "vm": one real guest per transport (QEMU TCG, one vCPU, the cached
# Debian kernel + busybox initramfs of tests/qemu/guest-image.sh) takes a
# DHCP lease, then downloads and uploads XFER_MB MiB over TCP, REPS times,
# with nbench get/put (bench/net/nbench.c, run in the guest), from and to a
# server beyond the transport. The server
# times each transfer (accept to the peer's close) on the host's clock.
#
#   transport        guest <-> ...                                 ... <-> server ns (198.51.100.1)
#   arcnat_stream    -netdev stream  -> arcnat --inside stream:S    --outside r0 (AF_PACKET) -> veth
#   arcnat_dgram     -netdev dgram   -> arcnat --inside dgram:S     (when `arcnat gateway --help` has it)
#   arcnat_vhost     -netdev vhost-user -> --inside vhost-user:S    (likewise; vectors=0, memfd memory)
#   passt_stream     -netdev stream  -> passt -s S, in a namespace whose only link is a veth to the server ns
#   tap_kernel       -netdev tap (vhost=off) in a router ns: ip_forward, nftables masquerade -> veth
#
# Part "raw": no VM. bench/net/sbench.c speaks QEMU's stream framing on the
# socket itself as a guest and sends (up) or receives (down) bounded floods
# of UDP datagrams of 64 and 1472 bytes to/from `nbench server` beyond the
# transport: packets per second and Gbit/s through arcnat's stream port and
# through passt's; with -D through arcnat's dgram port. vhost-user: a hook
# for the vhost-user test frontend (VHOST_FE's flood mode, or
# VHOST_BENCH_CMD); "n/a" without one.
#
# Every namespace (vb-*-PID) is created here and deleted on exit; the
# server namespaces have no route anywhere but their veth, so nothing
# leaves the machine. Every process runs under timeout(1) and is killed by
# PID on exit; every load is bounded in count and time.
#
# Under TCG the guest's emulated CPU is the bottleneck: part "vm" is a
# relative view of the transports (the output says so), part "raw" is
# what each transport costs itself.
#
# Environment:
#   ARCNAT       binary (default build/arcnat; a private copy is run)
#   QUICK=1      REPS=1, XFER_MB=16, RAW_REPS=1, RAW_N=200000, RAW_T=2 (a smoke run)
#   REPS         transfers per direction per guest (default 3)
#   RAW_REPS     raw runs per case (default 3; the receiving direction is noisy)
#   XFER_MB      MiB per transfer (default 64)
#   PARTS        default "vm raw"
#   TRANSPORTS   default "arcnat_stream passt_stream tap_kernel arcnat_vhost arcnat_dgram"
#   RAW_SIZES    UDP payload bytes (default "64 1472")
#   RAW_N, RAW_T datagrams per raw run at most (default 2000000) and seconds (default 5)
#   VHOST_FE     the vhost-user test frontend (default
#                build/tests/tools/vhost_fe): its flood mode gives the raw
#                "up" figure of arcnat_vhost, its sink mode (fed through a
#                port forward) the "down" one
#   VHOST_BENCH_CMD  instead, a command run with {SOCK} {DIR} (up|down)
#                {SIZE} {COUNT} {SECS} replaced, which prints sbench's
#                key=value line (pps=, gbps=)
#   PIN          1 (default, with 2 CPUs or more): arcnat and passt run on
#                CPU 1, sbench, vhost_fe and the nbench server on CPU 0
#                (taskset); 0: wherever the scheduler puts them
#   ARCNAT_OPTS  extra options for `arcnat gateway` (e.g. --no-gro)
#   RESULTS_DIR  default build/bench-results
#   QEMU_CACHE   the guest image cache (tests/qemu/guest-image.sh)
#
# Exit 0 every run measured (n/a is not a failure), 1 setup failed or a run
# failed (the tables are printed anyway), 77 skipped (not root).
set -u
cd "$(dirname "$0")/../.." || exit 1

ARCNAT=${ARCNAT:-build/arcnat}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${REPS:-1}
	XFER_MB=${XFER_MB:-16}
	RAW_N=${RAW_N:-200000}
	RAW_T=${RAW_T:-2}
	RAW_REPS=${RAW_REPS:-1}
else
	REPS=${REPS:-3}
	XFER_MB=${XFER_MB:-64}
	RAW_N=${RAW_N:-2000000}
	RAW_T=${RAW_T:-5}
	RAW_REPS=${RAW_REPS:-3}
fi
PARTS=${PARTS:-vm raw}
TRANSPORTS=${TRANSPORTS:-arcnat_stream passt_stream tap_kernel arcnat_vhost arcnat_dgram}
RAW_SIZES=${RAW_SIZES:-64 1472}
PIN=${PIN:-1}
ON_LOAD_CPU="" ON_STACK_CPU=""
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	# the transport (arcnat, passt) on CPU 1, the load (sbench, vhost_fe,
	# nbench server) on CPU 0: the receiving direction's figure then
	# depends less on where the scheduler puts the three
	ON_LOAD_CPU="taskset -c 0" ON_STACK_CPU="taskset -c 1"
fi
RAW_TRANSPORTS="arcnat_stream passt_stream arcnat_dgram arcnat_vhost"
VHOST_BENCH_CMD=${VHOST_BENCH_CMD:-}
VHOST_FE=${VHOST_FE:-build/tests/tools/vhost_fe}
RESULTS_DIR=${RESULTS_DIR:-build/bench-results}
BUILD=build/bench/net
SBENCH=$BUILD/sbench
NBENCH=$BUILD/nbench
SRV=198.51.100.1
NB_PORT=7777
FWD_PORT=7778		# arcnat's port forward to vhost_fe's sink (10.0.2.50)
DOWN_PORT=9001
UP_PORT=9002
GUEST_MAC=52:54:00:12:34:56
XFER_SECS=120		# one transfer at most, in the guest (nbench -t)
# the whole guest: boot, lease, 2 x REPS transfers
VM_BUDGET=$((120 + 2 * REPS * (XFER_SECS + 15)))
LIFE=$((VM_BUDGET * 6 + 600))	# every server and daemon exits by itself

# processes and namespaces, removed on exit; arcnat gets a TERM first
BENCH=vm_vs_peers
BENCH_ON_EXIT=stop_arcnat_on_exit
# shellcheck source=bench/net/lib.sh
. bench/net/lib.sh
has() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }
stop_arcnat_on_exit() {
	if [ -n "${A_PID:-}" ] && kill -TERM "$A_PID" 2>/dev/null; then
		sleep 0.5
	fi
}

bench_need ip nft timeout python3 qemu-system-x86_64 busybox gzip passt dnsmasq make
[ -x "$ARCNAT" ] || die "$ARCNAT not built (make -j2), or set ARCNAT="

bgrun() {	# bgrun LOGFILE CMD...: in the background, tracked; PID in BG
	"${@:2}" >"$1" 2>&1 &
	BG=$!
	PIDS+=("$BG")
}

wait_listen() {	# wait_listen NS PROTO(t|u) PORT
	local i
	for i in $(seq 50); do
		ip netns exec "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

wait_grep() {	# wait_grep TRIES FILE PATTERN (0.1 s steps)
	local i
	for i in $(seq "$1"); do
		grep -q -- "$3" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The transfer server: DOWN_PORT sends XFER bytes then waits for the peer's
# close, UP_PORT reads to EOF; one line per connection into LOG:
#   down|up BYTES SECONDS   (from accept to the peer's close, host clock)
write_xfer_server() {
	cat >"$TMPD/xfer.py" <<-'EOF'
	import select, socket, sys, time
	bind, dport, uport, nbytes, log = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
	ls = {}
	for p, kind in ((dport, "down"), (uport, "up")):
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind((bind, p))
	    s.listen(4)
	    ls[s] = kind
	chunk = bytes(65536)
	while True:
	    r, _, _ = select.select(list(ls), [], [])
	    for s in r:
	        c, _ = s.accept()
	        t0 = time.monotonic()
	        c.settimeout(120)
	        n = 0
	        try:
	            if ls[s] == "down":
	                left = nbytes
	                while left > 0:
	                    k = c.send(chunk[:min(left, len(chunk))])
	                    left -= k
	                    n += k
	                c.shutdown(socket.SHUT_WR)
	                while c.recv(65536):
	                    pass
	            else:
	                while True:
	                    d = c.recv(262144)
	                    if not d:
	                        break
	                    n += len(d)
	            dt = time.monotonic() - t0
	            line = "%s %d %.4f" % (ls[s], n, dt)
	        except OSError as e:
	            line = "%s %d nan %s" % (ls[s], n, type(e).__name__)
	        c.close()
	        with open(log, "a") as f:
	            f.write(line + "\n")
	EOF
}

start_servers() {	# start_servers NS LABEL
	: >"$TMPD/$2.xfer"
	bgrun "$TMPD/$2.xfer.err" ip netns exec "$1" timeout "$LIFE" python3 "$TMPD/xfer.py" \
		$SRV $DOWN_PORT $UP_PORT $((XFER_MB * 1048576)) "$TMPD/$2.xfer"
	# shellcheck disable=SC2086 # $ON_LOAD_CPU: taskset -c 0, or nothing
	bgrun /dev/null ip netns exec "$1" timeout "$LIFE" $ON_LOAD_CPU "$NBENCH" server -b $SRV -p $NB_PORT -L "$LIFE"
	if ! wait_listen "$1" t $DOWN_PORT || ! wait_listen "$1" t $UP_PORT || ! wait_listen "$1" u $NB_PORT; then
		die "servers did not start in $1: $(cat "$TMPD/$2.xfer.err")"
	fi
}

# --- arcnat: one gateway, one guest port per transport ---------------------------
A_RT=vb-art-$$ A_OUT=vb-aout-$$ A_PID="" A_LOG=""
A_STREAM="" A_DGRAM="" A_VHOST=""
HAVE_DGRAM=0 HAVE_VHOST=0

setup_arcnat() {
	local args i
	ns_add $A_RT
	ns_add $A_OUT
	ip -n $A_RT link add r0 type veth peer name o0 netns $A_OUT || die "veth"
	ip -n $A_RT link set r0 up
	ip -n $A_OUT addr add $SRV/24 dev o0
	ip -n $A_OUT link set o0 up
	start_servers $A_OUT arcnat
	A_STREAM=$TMPD/arcnat-stream.sock
	args=(--inside "stream:$A_STREAM")
	if [ "$HAVE_DGRAM" = 1 ]; then
		A_DGRAM=$TMPD/arcnat-dgram.sock
		args+=(--inside "dgram:$A_DGRAM")
	fi
	if [ "$HAVE_VHOST" = 1 ]; then
		A_VHOST=$TMPD/arcnat-vhost.sock
		args+=(--inside "vhost-user:$A_VHOST")
	fi
	A_LOG=$RESULTS_DIR/$STAMP-arcnat.log
	log "[arcnat] $A_BIN gateway ${args[*]} ${ARCNAT_OPTS:-} --outside r0 --external-ip 198.51.100.2/24 (log: $A_LOG)"
	# shellcheck disable=SC2086 # $ON_STACK_CPU (taskset -c 1, or nothing) and $ARCNAT_OPTS split into words
	bgrun "$A_LOG" ip netns exec $A_RT timeout "$LIFE" $ON_STACK_CPU "$A_BIN" gateway "${args[@]}" ${ARCNAT_OPTS:-} --outside r0 \
		--external-ip 198.51.100.2/24 --dns $SRV --dhcp-range 10.0.2.100,10.0.2.120 \
		--forward udp:$FWD_PORT:10.0.2.50:$FWD_PORT
	for i in $(seq 100); do
		grep -q 'arcnat: gateway ready' "$A_LOG" && break
		kill -0 "$BG" 2>/dev/null || break
		sleep 0.1
	done
	grep -q 'arcnat: gateway ready' "$A_LOG" || {
		sed 's/^/    | /' "$A_LOG" >&2
		die "arcnat did not print 'arcnat: gateway ready' within 10 s"
	}
	# ip netns exec became timeout(1): arcnat is its child
	A_PID=$(cat /proc/"$BG"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	[ -n "$A_PID" ] || die "cannot find arcnat's PID"
}

# --- passt, in a namespace whose only link leads to the server namespace --------
P_NS=vb-pns-$$ P_OUT=vb-pout-$$ P_SOCK="" P_VERSION="" P_PID=""

setup_passt() {
	ns_add $P_NS
	ns_add $P_OUT
	ip -n $P_NS link add p0 type veth peer name o0 netns $P_OUT || die "veth"
	ip -n $P_NS addr add 198.51.100.2/24 dev p0
	ip -n $P_NS link set p0 up
	# .254 is the default route passt copies for its guest; it lives in the
	# server namespace, so nothing routed by default can go anywhere else
	ip -n $P_OUT addr add $SRV/24 dev o0
	ip -n $P_OUT addr add 198.51.100.254/24 dev o0
	ip -n $P_OUT link set o0 up
	ip -n $P_NS route add default via 198.51.100.254 || die "passt ns default route"
	start_servers $P_OUT passt
	P_SOCK=$TMPD/passt.sock
	P_VERSION="passt $(dpkg-query -W -f='${Version}' passt 2>/dev/null)"
	# -f: foreground; --runas 0:0: stay root in the namespace we made (it
	# would drop to nobody); no port forwarding, no DNS handed out
	# shellcheck disable=SC2086
	bgrun "$TMPD/passt.out" ip netns exec $P_NS timeout "$LIFE" $ON_STACK_CPU passt -f -4 --runas 0:0 \
		-t none -u none --no-map-gw --no-dhcp-dns --no-dhcp-search -s "$P_SOCK" -l "$TMPD/passt.log"
	wait_grep 50 "$TMPD/passt.log" 'UNIX domain socket bound' ||
		die "passt did not bind $P_SOCK: $(grep -v syslog "$TMPD/passt.out" | tail -n 5)"
	P_PID=$(cat /proc/"$BG"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
	log "[passt] $P_VERSION on $P_SOCK in $P_NS"
}

# --- TAP + kernel NAT: QEMU's TAP in a router namespace ------------------------------
K_RT=vb-krt-$$ K_OUT=vb-kout-$$

setup_kernel() {
	ns_add $K_RT
	ns_add $K_OUT
	ip -n $K_RT tuntap add dev vbtap0 mode tap || die "tuntap add"
	ip -n $K_RT addr add 10.0.2.1/24 dev vbtap0
	ip -n $K_RT link set vbtap0 up
	ip -n $K_RT link add r0 type veth peer name o0 netns $K_OUT || die "veth"
	ip -n $K_RT addr add 198.51.100.2/24 dev r0
	ip -n $K_RT link set r0 up
	ip -n $K_OUT addr add $SRV/24 dev o0
	ip -n $K_OUT link set o0 up
	kernel_nat $K_RT vbnat vbtap0 r0
	start_servers $K_OUT kernel
	bgrun "$TMPD/dnsmasq.out" ip netns exec $K_RT timeout "$LIFE" dnsmasq --keep-in-foreground \
		--port=0 --no-resolv --no-hosts --pid-file= --user=root --interface=vbtap0 --bind-interfaces \
		--dhcp-range=10.0.2.100,10.0.2.120,255.255.255.0 --dhcp-option=option:router,10.0.2.1 \
		--dhcp-leasefile="$TMPD/dnsmasq.leases"
	wait_listen $K_RT u 67 || die "dnsmasq (DHCP) did not start: $(tail -n 5 "$TMPD/dnsmasq.out")"
}

# --- the guest ------------------------------------------------------------------------
GUEST_KERNEL="" GUEST_INITRD=""

guest_image() {
	local out
	out=$(tests/qemu/guest-image.sh 2>"$TMPD/guest-image.err") ||
		die "tests/qemu/guest-image.sh failed: $(tail -n 5 "$TMPD/guest-image.err")"
	GUEST_KERNEL=$(sed -n 's/^GUEST_KERNEL=//p' <<<"$out")
	GUEST_INITRD=$(sed -n 's/^GUEST_INITRD=//p' <<<"$out")
	if [ ! -f "$GUEST_KERNEL" ] || [ ! -f "$GUEST_INITRD" ]; then
		die "tests/qemu/guest-image.sh gave no image: $out"
	fi
	# the guest's script: REPS downloads and uploads with nbench get/put
	# (large reads and writes; the host's nbench runs on the libc the
	# image carries for busybox), appended as /test.sh and /nbench
	mkdir -p "$TMPD/overlay"
	cp "$NBENCH" "$TMPD/overlay/nbench" || die "cp $NBENCH"
	cat >"$TMPD/overlay/test.sh" <<-EOF
	r=1
	while [ \$r -le $REPS ]; do
		if timeout $((XFER_SECS + 10)) /nbench get -H $SRV -p $DOWN_PORT -t $XFER_SECS >/tmp/o 2>&1; then
			result down_\$r ok "\$(cat /tmp/o)"
		else
			result down_\$r fail "\$(cat /tmp/o)"
		fi
		if timeout $((XFER_SECS + 10)) /nbench put -H $SRV -p $UP_PORT -n $((XFER_MB * 1048576)) -t $XFER_SECS >/tmp/o 2>&1; then
			result up_\$r ok "\$(cat /tmp/o)"
		else
			result up_\$r fail "\$(cat /tmp/o)"
		fi
		r=\$((r + 1))
	done
	EOF
	(cd "$TMPD/overlay" && printf 'test.sh\nnbench\n' | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1 >"$TMPD/test.cpio.gz") ||
		die "busybox cpio failed"
	cat "$GUEST_INITRD" "$TMPD/test.cpio.gz" >"$TMPD/initrd" || die "initrd"
	log "guest: $(basename "$(dirname "$GUEST_KERNEL")"), $(basename "$GUEST_INITRD"), QEMU $(qemu-system-x86_64 --version | head -n 1 | sed 's/.*version //')"
}

# run_guest TRANSPORT NS -- QEMU-ARGS...: boot, wait (bounded), record the transfers
run_guest() {
	local tr=$1 ns=$2 con=$TMPD/$1.console rc t0 dlines ulines
	shift 3
	: >"$con"
	log "[$tr] boot (bound ${VM_BUDGET}s): $*"
	t0=$(date +%s)
	# dgram: arcnat (user nobody after start) sends to QEMU's socket, which
	# QEMU makes with its umask: 000 for that one, as the dgram test does
	local um
	um=$(umask)
	[ "$tr" = arcnat_dgram ] && umask 000
	bgrun "$TMPD/$tr.qemu" ip netns exec "$ns" timeout -k 5 "$VM_BUDGET" qemu-system-x86_64 \
		-nodefaults -no-user-config -nographic -monitor none -no-reboot \
		-accel tcg -m 256 -smp 1 -serial "file:$con" \
		-kernel "$GUEST_KERNEL" -initrd "$TMPD/initrd" -append "console=ttyS0 quiet panic=-1" "$@"
	umask "$um"
	wait "$BG"
	rc=$?
	tr -d '\r' <"$con" >"$TMPD/$tr.log"
	log "[$tr] QEMU exited ($rc) after $(($(date +%s) - t0)) s: $(grep '^RESULT dhcp' "$TMPD/$tr.log" | head -n 1)"
	local label r v bytes secs kind status gm
	case $tr in
	passt_*) label=passt ;;
	tap_*) label=kernel ;;
	*) label=arcnat ;;
	esac
	for kind in down up; do
		mapfile -t dlines < <(awk -v k=$kind '$1 == k' "$TMPD/$label.xfer")
		for r in $(seq "$REPS"); do
			status=$(awk -v t="${kind}_$r" '$1 == "RESULT" && $2 == t { print $3 }' "$TMPD/$tr.log" | tail -n 1)
			gm=$(awk -v t="${kind}_$r" '$1 == "RESULT" && $2 == t { for (i = 4; i <= NF; i++) if ($i ~ /^mbps=/) m = $i } END { print m }' "$TMPD/$tr.log")
			read -r _ bytes secs _ <<<"${dlines[r - 1]:-x 0 nan}"
			if [ "$status" = ok ] && [ "$bytes" = $((XFER_MB * 1048576)) ] && [ "$secs" != nan ]; then
				v=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b * 8 / s / 1e6 }')
				row vm "$tr" "$kind" "$r" "$v" Mbit/s "bytes=$bytes secs=$secs guest_$gm"
			else
				row vm "$tr" "$kind" "$r" nan Mbit/s "guest=${status:-missing} server_bytes=$bytes"
			fi
		done
	done
	# the next guest starts with empty server logs
	: >"$TMPD/$label.xfer"
	ulines=$(grep -c '^RESULT ' "$TMPD/$tr.log")
	if [ "$ulines" -eq 0 ]; then
		log "[$tr] the guest printed no RESULT: console tail, QEMU's output:"
		tail -n 15 "$TMPD/$tr.log" | sed 's/^/    | /' >&2
		tail -n 5 "$TMPD/$tr.qemu" | sed 's/^/    | /' >&2
	fi
	cp "$TMPD/$tr.log" "$RESULTS_DIR/$STAMP-$tr.console"
}

vm_transport() {	# vm_transport TRANSPORT
	local dev="virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile="
	case $1 in
	arcnat_stream)
		run_guest "$1" $A_RT -- -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$A_STREAM" -device "$dev" ;;
	passt_stream)
		run_guest "$1" $P_NS -- -netdev "stream,id=n0,server=off,addr.type=unix,addr.path=$P_SOCK" -device "$dev" ;;
	tap_kernel)
		run_guest "$1" $K_RT -- -netdev "tap,id=n0,ifname=vbtap0,script=no,downscript=no,vhost=off" -device "$dev" ;;
	arcnat_dgram)
		if [ "$HAVE_DGRAM" = 1 ]; then
			run_guest "$1" $A_RT -- -netdev "dgram,id=n0,local.type=unix,local.path=$A_DGRAM.qemu,remote.type=unix,remote.path=$A_DGRAM" \
				-device "$dev"
		else
			na vm "$1" "arcnat gateway --help has no dgram: port"
		fi
		;;
	arcnat_vhost)
		if [ "$HAVE_VHOST" = 1 ]; then
			# QEMU 7.2 under TCG: vectors=0, else a segfault in msix_set_vector_notifiers
			run_guest "$1" $A_RT -- -object memory-backend-memfd,id=mem,size=256M,share=on -machine memory-backend=mem \
				-chardev "socket,id=c0,path=$A_VHOST" -netdev vhost-user,id=n0,chardev=c0 -device "$dev,vectors=0"
		else
			na vm "$1" "arcnat gateway --help has no vhost-user: port"
		fi
		;;
	esac
}

# --- raw: sbench through a stream socket ---------------------------------------------
raw_case() {	# raw_case TRANSPORT DIR SIZE REP
	local tr=$1 dir=$2 size=$3 rep=$4 out line sock ip nh dg=""
	case $tr in
	arcnat_stream) sock=$A_STREAM ip=10.0.2.200 nh=10.0.2.1 ;;
	arcnat_dgram)
		if [ "$HAVE_DGRAM" != 1 ]; then
			row raw "$tr" "${dir}_$size" "$rep" n/a pkt/s "arcnat gateway --help has no dgram: port"
			return
		fi
		sock=$A_DGRAM ip=10.0.2.201 nh=10.0.2.1 dg=-D
		;;
	passt_stream) sock=$P_SOCK ip=198.51.100.2 nh=$SRV ;;	# passt answers ARP for every address
	arcnat_vhost)
		# HOOK (issue 11, section 5): the vhost-user test frontend's
		# throughput mode. VHOST_BENCH_CMD, if set, runs for both
		# directions; else $VHOST_FE's flood mode (frames arcnat took
		# from the tx ring) for "up", and "down" is n/a (no receive mode)
		if [ "$HAVE_VHOST" != 1 ]; then
			row raw "$tr" "${dir}_$size" "$rep" n/a pkt/s "arcnat gateway --help has no vhost-user: port"
			return
		fi
		if [ -z "$VHOST_BENCH_CMD" ]; then
			if [ ! -x "$VHOST_FE" ]; then
				row raw "$tr" "${dir}_$size" "$rep" n/a pkt/s "hook: no vhost-user test frontend at $VHOST_FE (or set VHOST_BENCH_CMD)"
			elif [ "$dir" = up ]; then
				# shellcheck disable=SC2086
				out=$(timeout $((RAW_T + 30)) $ON_LOAD_CPU "$VHOST_FE" "$A_VHOST" flood "$RAW_N" $((size + 42)) $SRV $NB_PORT 2>&1)
				raw_row "$tr" "$dir" "$size" "$rep" "$out"
			else
				vhost_down "$size" "$rep"
			fi
			return
		fi
		local cmd=${VHOST_BENCH_CMD//\{SOCK\}/$A_VHOST}
		cmd=${cmd//\{DIR\}/$dir}
		cmd=${cmd//\{SIZE\}/$size}
		cmd=${cmd//\{COUNT\}/$RAW_N}
		cmd=${cmd//\{SECS\}/$RAW_T}
		out=$(timeout $((RAW_T + 30)) sh -c "$cmd" 2>&1)
		raw_row "$tr" "$dir" "$size" "$rep" "$out"
		return
		;;
	esac
	# shellcheck disable=SC2086 # $dg: -D or nothing
	out=$(timeout $((RAW_T + 30)) $ON_LOAD_CPU "$SBENCH" "$dir" $dg -S "$sock" -a $ip -g $nh -H $SRV -p $NB_PORT \
		-s "$size" -n "$RAW_N" -t "$RAW_T" 2>&1)
	raw_row "$tr" "$dir" "$size" "$rep" "$out"
}

# vhost_down SIZE REP: vhost_fe's sink (10.0.2.50) counts what arcnat puts
# on its rx ring while `nbench udp` in the server namespace floods arcnat's
# port forward udp:FWD_PORT -> 10.0.2.50 (its count query goes unanswered:
# the sink's count is the figure)
vhost_down() {
	local size=$1 rep=$2 out
	# shellcheck disable=SC2086
	timeout $((RAW_T + 30)) $ON_LOAD_CPU "$VHOST_FE" "$A_VHOST" sink $((RAW_T + 3)) >"$TMPD/sink.out" 2>&1 &
	local sp=$!
	sleep 1
	# shellcheck disable=SC2086
	timeout $((RAW_T + 20)) ip netns exec $A_OUT $ON_LOAD_CPU "$NBENCH" udp -H 198.51.100.2 -p $FWD_PORT \
		-s "$size" -n "$RAW_N" -t "$RAW_T" >/dev/null 2>&1
	wait "$sp"
	out=$(cat "$TMPD/sink.out")
	raw_row arcnat_vhost down "$size" "$rep" "$out"
}

ticks() {	# ticks PID: its utime + stime, in clock ticks (0 if gone)
	sed 's/.*) //' /proc/"$1"/stat 2>/dev/null | awk '{ print $12 + $13; f = 1 } END { if (!f) print 0 }'
}

stack_pid() {	# stack_pid TRANSPORT: the process that is the transport
	case $1 in
	passt_*) echo "${P_PID:-0}" ;;
	*) echo "${A_PID:-0}" ;;
	esac
}

# cpu_mark TRANSPORT before a raw run; cpu_secs after it: the CPU time
# the transport's process (arcnat or passt) used meanwhile, in seconds
cpu_mark() {
	CPU_PID=$(stack_pid "$1")
	CPU_K0=$(ticks "$CPU_PID")
}
cpu_secs() {
	awk -v k0="$CPU_K0" -v k1="$(ticks "$CPU_PID")" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (k1 - k0) / hz }'
}

raw_row() {	# raw_row TRANSPORT DIR SIZE REP OUTPUT
	local line pps gbps
	line=$(grep '^mode=' <<<"$5" | tail -n 1)
	# vhost_fe's flood prints "flood: frames N bytes L seconds S pps P gbit G"
	[ -z "$line" ] && line=$(sed -n 's/^flood: frames \([0-9]*\) bytes [0-9]* seconds \([0-9.]*\) pps \([0-9.]*\) gbit \([0-9.]*\).*/mode=flood sent=\1 received=\1 secs=\2 pps=\3 gbps=\4 (frames arcnat took from the ring)/p' <<<"$5" | tail -n 1)
	# its sink: "sink: frames N bytes B seconds S pps P gbit G"
	[ -z "$line" ] && line=$(sed -n 's/^sink: frames \([0-9]*\) bytes [0-9]* seconds \([0-9.]*\) pps \([0-9.]*\) gbit \([0-9.]*\).*/mode=sink received=\1 secs=\2 pps=\3 gbps=\4 (frames arcnat put on the rx ring, first to last)/p' <<<"$5" | tail -n 1)
	pps=$(sed -n 's/.*\bpps=\([0-9.]*\).*/\1/p' <<<"$line")
	gbps=$(sed -n 's/.*\bgbps=\([0-9.]*\).*/\1/p' <<<"$line")
	if [ -n "$pps" ]; then
		local cs rx
		cs=$(cpu_secs)
		rx=$(sed -n 's/.*\breceived=\([0-9]*\).*/\1/p' <<<"$line")
		row raw "$1" "${2}_$3" "$4" "$pps" pkt/s "stack_cpu_s=$cs us_per_pkt=$(awk -v c="$cs" -v n="${rx:-0}" 'BEGIN { printf "%.2f", (n > 0 ? c * 1e6 / n : 0) }') gbps=$gbps $(grep -o 'sent=[0-9]* received=[0-9]* secs=[0-9.]*\|received=[0-9]* secs=[0-9.]*' <<<"$line" | head -n 1) $(grep -o 'sent_pps=.*\|(frames.*' <<<"$line")"
	else
		row raw "$1" "${2}_$3" "$4" nan pkt/s "error=$(head -c 200 <<<"$5" | tr -s ' \n\t' '___')"
	fi
}

# --- results ------------------------------------------------------------------------------
row() {	# row PART TRANSPORT METRIC REP VALUE UNIT EXTRA
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"
	log "[$2] $1 $3 rep=$4: $5 $6 $7"
}

na() {	# na PART TRANSPORT REASON: every metric of that part n/a
	local m
	case $1 in
	vm) for m in down up; do row vm "$2" $m - n/a Mbit/s "$3"; done ;;
	esac
}

# median [min..max] of PART TRANSPORT METRIC: "med min max" or "nan" or "n/a" or "-"
stats() {
	awk -F'\t' -v p="$1" -v t="$2" -v m="$3" '
		$1 == p && $2 == t && $3 == m { runs++; if ($5 == "n/a") na = 1; else if ($5 != "nan") x[++n] = $5 + 0 }
		END {
			if (!runs) { print "-"; exit }
			if (na) { print "n/a"; exit }
			if (!n) { print "nan"; exit }
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && x[j - 1] > x[j]; j--) { s = x[j]; x[j] = x[j - 1]; x[j - 1] = s }
			med = n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2
			print med, x[1], x[n]
		}' "$RAW"
}

cell() {	# cell "med min max"|nan|n/a|- FORMAT
	case $1 in
	-) echo "-" ;;
	n/a) echo "n/a" ;;
	nan) echo "FAILED" ;;
	*) awk -v f="$2" '{ printf f " [" f ".." f "]", $1, $2, $3 }' <<<"$1" ;;
	esac
}

ratio() {	# ratio STATS_A STATS_B: median A / median B
	local a=${1%% *} b=${2%% *}
	case "$a $b" in
	*n/a* | *nan* | *-*) echo "n/a" ;;
	*) awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }' ;;
	esac
}

summary() {
	local tr m s
	echo
	echo "machine: $(nproc) CPUs, $(grep -m1 '^model name' /proc/cpuinfo | sed 's/.*: //'), kernel $(uname -r); load average before the run: $LOAD0"
	echo "arcnat: $A_VERSION"
	echo "passt: ${P_VERSION:-not run}"
	if has vm "$PARTS"; then
		echo
		echo "VM view: a guest under QEMU TCG (one emulated vCPU, no KVM), $XFER_MB MiB TCP transfers with"
		echo "nbench get/put in the guest, timed by the server; REPS=$REPS per direction. Under TCG the guest's emulated CPU"
		echo "is the bottleneck: a RELATIVE view of the transports, not their capacity."
		echo
		printf '| %-14s | %-26s | %-26s |\n' transport "download Mbit/s" "upload Mbit/s"
		printf '|%s|%s|%s|\n' "----------------" "----------------------------" "----------------------------"
		for tr in $TRANSPORTS; do
			printf '| %-14s | %-26s | %-26s |\n' "$tr" "$(cell "$(stats vm "$tr" down)" %.0f)" "$(cell "$(stats vm "$tr" up)" %.0f)"
		done
		echo
		for m in down up; do
			echo "ratio $m: arcnat_stream / passt_stream $(ratio "$(stats vm arcnat_stream $m)" "$(stats vm passt_stream $m)")," \
				"arcnat_stream / tap_kernel $(ratio "$(stats vm arcnat_stream $m)" "$(stats vm tap_kernel $m)")," \
				"arcnat_vhost / arcnat_stream $(ratio "$(stats vm arcnat_vhost $m)" "$(stats vm arcnat_stream $m)")," \
				"arcnat_dgram / arcnat_stream $(ratio "$(stats vm arcnat_dgram $m)" "$(stats vm arcnat_stream $m)")"
		done
	fi
	if has raw "$PARTS"; then
		echo
		echo "Transport cost without a VM: sbench on the socket as the guest, UDP datagrams to/from nbench"
		echo "beyond the transport, at most $RAW_N per run and ${RAW_T}s; pkt/s received by the far end,"
		echo "median [min..max] of RAW_REPS=$RAW_REPS, and Gbit/s of Ethernet frames at the median."
		echo
		local hdr="| transport    " sep="|---------------"
		for s in $RAW_SIZES; do
			for m in up down; do
				hdr="$hdr | $(printf '%-34s' "${m} ${s} B pkt/s (Gbit/s)")"
				sep="$sep|------------------------------------"
			done
		done
		echo "$hdr |"
		echo "$sep|"
		for tr in $RAW_TRANSPORTS; do
			local line
			line="| $(printf '%-13s' "$tr")"
			for s in $RAW_SIZES; do
				for m in up down; do
					local st g
					st=$(stats raw "$tr" "${m}_$s")
					g=""
					case $st in
					- | n/a | nan) ;;
					*) g=$(awk -v p="${st%% *}" -v s="$s" 'BEGIN { f = s + 42; if (f < 60) f = 60; printf " (%.2f)", p * f * 8 / 1e9 }') ;;
					esac
					line="$line | $(printf '%-34s' "$(cell "$st" %.0f)$g")"
				done
			done
			echo "$line |"
		done
		echo
		echo "the transport's CPU time per datagram delivered, microseconds (utime+stime of arcnat or passt over"
		echo "the run, divided by the far end's count; the clock tick is 10 ms), median:"
		for tr in $RAW_TRANSPORTS; do
			line="  $(printf '%-13s' "$tr")"
			for s in $RAW_SIZES; do
				for m in up down; do
					line="$line ${m}_$s $(awk -F'\t' -v t="$tr" -v m="${m}_$s" '
						$1 == "raw" && $2 == t && $3 == m && match($7, /us_per_pkt=[0-9.]+/) { x[++n] = substr($7, RSTART + 11, RLENGTH - 11) + 0 }
						END {
							if (!n) { print "-"; exit }
							for (i = 2; i <= n; i++)
								for (j = i; j > 1 && x[j - 1] > x[j]; j--) { s = x[j]; x[j] = x[j - 1]; x[j - 1] = s }
							printf "%.2f\n", (n % 2 ? x[(n + 1) / 2] : (x[n / 2] + x[n / 2 + 1]) / 2)
						}' "$RAW")"
				done
			done
			echo "$line"
		done
		echo
		for s in $RAW_SIZES; do
			for m in up down; do
				echo "ratio ${m}_$s: arcnat_stream / passt_stream $(ratio "$(stats raw arcnat_stream "${m}_$s")" "$(stats raw passt_stream "${m}_$s")")," \
					"arcnat_vhost / arcnat_stream $(ratio "$(stats raw arcnat_vhost "${m}_$s")" "$(stats raw arcnat_stream "${m}_$s")")," \
					"arcnat_dgram / arcnat_stream $(ratio "$(stats raw arcnat_dgram "${m}_$s")" "$(stats raw arcnat_stream "${m}_$s")")"
			done
		done
	fi
	echo
	echo "runs: $RAW"
}

# --- main --------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR" || die "mkdir $RESULTS_DIR"
STAMP=vm_vs_peers-$(date +%Y%m%d-%H%M%S)
RAW=$RESULTS_DIR/$STAMP.tsv
printf 'part\ttransport\tmetric\trep\tvalue\tunit\textra\n' >"$RAW"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
TMPD=$(mktemp -d) || die "mktemp"
chmod 711 "$TMPD" || die "chmod $TMPD"	# arcnat, as nobody, reaches QEMU's dgram socket
make -s "$SBENCH" "$NBENCH" >&2 || die "make $SBENCH $NBENCH"
write_xfer_server

# Run a private copy: a rebuild of $ARCNAT during the run changes nothing.
A_BIN=$TMPD/arcnat
cp "$ARCNAT" "$A_BIN" || die "cp $ARCNAT"
A_VERSION="$ARCNAT ($("$A_BIN" --version 2>&1 | head -n 1), built $(date -r "$ARCNAT" '+%F %T'), sha256 $(sha256sum "$A_BIN" | cut -c1-12))"
"$A_BIN" gateway --help 2>&1 | grep -q 'dgram:' && HAVE_DGRAM=1
"$A_BIN" gateway --help 2>&1 | grep -q 'vhost-user:' && HAVE_VHOST=1
log "arcnat: $A_VERSION; dgram port: $([ $HAVE_DGRAM = 1 ] && echo yes || echo n/a), vhost-user port: $([ $HAVE_VHOST = 1 ] && echo yes || echo n/a)"
log "REPS=$REPS XFER_MB=$XFER_MB RAW_REPS=$RAW_REPS RAW_N=$RAW_N RAW_T=$RAW_T PIN=$PIN PARTS='$PARTS' TRANSPORTS='$TRANSPORTS'; load average $LOAD0"

setup_arcnat
has passt_stream "$TRANSPORTS" && setup_passt
if has vm "$PARTS"; then
	has tap_kernel "$TRANSPORTS" && setup_kernel
	guest_image
	for tr in $TRANSPORTS; do
		vm_transport "$tr"
	done
fi
if has raw "$PARTS"; then
	for rep in $(seq "$RAW_REPS"); do
		for s in $RAW_SIZES; do
			for d in up down; do
				for tr in $RAW_TRANSPORTS; do
					case $tr in
					passt_stream) has passt_stream "$TRANSPORTS" || continue ;;
					esac
					cpu_mark "$tr"
					raw_case "$tr" "$d" "$s" "$rep"
					sleep 0.3
				done
			done
		done
	done
fi
kill -TERM "$A_PID" 2>/dev/null
wait_grep 50 "$A_LOG" 'arcnat: end of statistics'
log "[arcnat] stopped; non-zero drop counters: $(awk '$1 == "stat" && $2 ~ /drop|full|error/ && $3 != 0 { printf "%s=%s ", $2, $3 }' "$A_LOG")"
A_PID=""
summary
failed=$(awk -F'\t' 'NR > 1 && $5 == "nan"' "$RAW" | wc -l)
if [ "$failed" -gt 0 ]; then
	log "$failed run(s) failed (value nan in $RAW, reason in its last column)"
	exit 1
fi
