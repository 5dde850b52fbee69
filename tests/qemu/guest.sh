# shellcheck shell=sh
# tests/qemu/guest.sh - boot a real Linux guest under QEMU and read its
# results: the harness of the real-VM tests (tests/net/guest_qemu_*.sh).
# Source it after tests/net/lib.sh (it uses fail, info, bg, TMPD):
#   . "$NET_DIR/../qemu/guest.sh"
#
# The guest is the cached image of tests/qemu/guest-image.sh (a stock Debian
# kernel, a busybox initramfs whose /init takes a DHCP lease, runs the test
# script and powers off). The transport is a parameter: GUEST_NETDEV is
# QEMU's -netdev for id n0 (tap, stream, dgram, vhost-user: whatever the test
# wires up), GUEST_DEVICE_OPTS is appended to the virtio-net-pci device
# (e.g. ",vectors=0" for vhost-user), GUEST_QEMU_EXTRA adds arguments (e.g. a
# shared memory backend for vhost-user).
#
# Provided:
#   guest_image            build or reuse the cached image: sets GUEST_KERNEL,
#                          GUEST_INITRD; fails with the builder's reason
#   guest_boot NAME NETNS SECONDS SCRIPT
#                          boots QEMU in NETNS (TCG, 256 MiB, one CPU,
#                          headless, bounded by timeout(1) at SECONDS) in the
#                          background, with SCRIPT (a file, busybox sh run by
#                          /init after the lease) appended as /test.sh;
#                          console in $TMPD/NAME.console, QEMU's own output
#                          in $TMPD/NAME.qemu; its PID in GUEST_PID (kill
#                          it with bg_stop "$GUEST_PID"). NAME is a shell
#                          identifier: several guests may run at once, each
#                          with its own GUEST_MAC, each waited for by NAME
#   guest_wait NAME        waits for that QEMU (its timeout bounds it), then
#                          writes $TMPD/NAME.log: the console without CRs
#                          (the serial console ends its lines in CR LF);
#                          fails if QEMU timed out or the guest did not end
#                          with GUEST-DONE
#   guest_until NAME TEST SECONDS
#                          polls NAME's console (0.5 s steps, at most
#                          SECONDS, stopping early when QEMU ends) for a
#                          line `RESULT TEST ...` while the guest runs on;
#                          returns 1 if none came
#   guest_result NAME TEST prints "ok DETAIL" or "fail DETAIL" of the
#                          guest's line `RESULT TEST ok|fail DETAIL` (the
#                          last one), or "missing"
#   guest_outside_servers  dnsmasq, HTTP and an upload receiver beyond the
#                          uplink (see the function)
#   guest_expect NAME TEST checks TEST is ok and sets GUEST_DETAIL to its
#                          detail; fails with the console's tail otherwise
#                          (call it directly, not in $(...): fail exits)
#
# Environment: GUEST_MAC (default 52:54:00:12:34:56), GUEST_MEM (256),
# GUEST_ACCEL (tcg: this machine has no /dev/kvm).

GUEST_MAC=${GUEST_MAC:-52:54:00:12:34:56}
GUEST_MEM=${GUEST_MEM:-256}
GUEST_ACCEL=${GUEST_ACCEL:-tcg}
GUEST_NETDEV=${GUEST_NETDEV:-}
GUEST_DEVICE_OPTS=${GUEST_DEVICE_OPTS:-}
GUEST_QEMU_EXTRA=${GUEST_QEMU_EXTRA:-}
GUEST_PID=""

guest_image() {
	_gi_out=$("$NET_DIR/../qemu/guest-image.sh" 2>"$TMPD/guest-image.err") ||
		fail "tests/qemu/guest-image.sh failed: $(tail -n 5 "$TMPD/guest-image.err")"
	GUEST_KERNEL=$(printf '%s\n' "$_gi_out" | sed -n 's/^GUEST_KERNEL=//p')
	GUEST_INITRD=$(printf '%s\n' "$_gi_out" | sed -n 's/^GUEST_INITRD=//p')
	if [ ! -f "$GUEST_KERNEL" ] || [ ! -f "$GUEST_INITRD" ]; then
		fail "tests/qemu/guest-image.sh gave no image: $_gi_out"
	fi
	info "guest image: $(basename "$(dirname "$GUEST_KERNEL")"), $(basename "$GUEST_INITRD")"
}

guest_boot() {
	_gb_name=$1 _gb_ns=$2 _gb_secs=$3 _gb_script=$4
	[ -n "$GUEST_NETDEV" ] || fail "guest_boot: GUEST_NETDEV is not set"
	# the test script as a second cpio archive after the cached one
	_gb_ov=$TMPD/$_gb_name.overlay
	rm -rf "$_gb_ov"
	mkdir -p "$_gb_ov"
	cp "$_gb_script" "$_gb_ov/test.sh" || fail "guest_boot: cannot read $_gb_script"
	(cd "$_gb_ov" && echo test.sh | busybox cpio -o -H newc -R 0:0 2>/dev/null | gzip -1 >"$TMPD/$_gb_name.test.cpio.gz") ||
		fail "guest_boot: busybox cpio failed"
	cat "$GUEST_INITRD" "$TMPD/$_gb_name.test.cpio.gz" >"$TMPD/$_gb_name.initrd" || fail "guest_boot: initrd"
	: >"$TMPD/$_gb_name.console"
	info "boot guest $_gb_name in $_gb_ns (bound ${_gb_secs}s): $GUEST_NETDEV"
	# -nodefaults: no NIC but ours; romfile= (none): no iPXE ROM to load
	# (bg is lib.sh's: the redirections apply to QEMU)
	# shellcheck disable=SC2086,SC2217 # GUEST_NETDEV and GUEST_QEMU_EXTRA are argument lists
	bg ip netns exec "$_gb_ns" timeout -k 5 "$_gb_secs" qemu-system-x86_64 \
		-nodefaults -no-user-config -nographic -monitor none -no-reboot \
		-accel "$GUEST_ACCEL" -m "$GUEST_MEM" -smp 1 \
		-serial "file:$TMPD/$_gb_name.console" \
		-kernel "$GUEST_KERNEL" -initrd "$TMPD/$_gb_name.initrd" \
		-append "console=ttyS0 quiet panic=-1" \
		$GUEST_QEMU_EXTRA $GUEST_NETDEV \
		-device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC,romfile=$GUEST_DEVICE_OPTS" \
		</dev/null >"$TMPD/$_gb_name.qemu" 2>&1
	# shellcheck disable=SC2034 # for the caller: bg_stop "$GUEST_PID" kills it
	GUEST_PID=$BG_PID
	eval "GUEST_PID_$_gb_name=\$BG_PID"
}

guest_wait() {
	_gw_t0=$(date +%s)
	eval "_gw_pid=\${GUEST_PID_$1:-}"
	[ -n "$_gw_pid" ] || fail "guest_wait: no guest $1 was booted"
	wait "$_gw_pid"
	_gw_rc=$?
	tr -d '\r' <"$TMPD/$1.console" >"$TMPD/$1.log"
	info "guest $1: QEMU exited with status $_gw_rc after $(($(date +%s) - _gw_t0)) s more ($(grep -c '^RESULT ' "$TMPD/$1.log") RESULT lines)"
	grep '^RESULT \|^GUEST-' "$TMPD/$1.log" | sed 's/^/     guest| /'
	[ "$_gw_rc" = 124 ] || [ "$_gw_rc" = 137 ] &&
		fail "guest $1: QEMU killed by its timeout: $(tail -n 15 "$TMPD/$1.log") $(tail -n 5 "$TMPD/$1.qemu")"
	grep -q '^GUEST-DONE' "$TMPD/$1.log" ||
		fail "guest $1 did not finish (QEMU status $_gw_rc): $(tail -n 15 "$TMPD/$1.log") $(tail -n 5 "$TMPD/$1.qemu")"
	[ "$_gw_rc" = 0 ] || fail "guest $1: QEMU exited with status $_gw_rc: $(tail -n 5 "$TMPD/$1.qemu")"
}

guest_until() {
	_gu_pid=""
	eval "_gu_pid=\${GUEST_PID_$1:-}"
	_gu_lim=$(($3 * 2))
	_gu_i=0
	while [ $_gu_i -lt "$_gu_lim" ] && ! grep -q "^RESULT $2 " "$TMPD/$1.console"; do
		alive "$_gu_pid" || break
		sleep 0.5
		_gu_i=$((_gu_i + 1))
	done
	grep -q "^RESULT $2 " "$TMPD/$1.console"
}

guest_result() {
	_gr=$(awk -v t="$2" '$1 == "RESULT" && $2 == t {sub(/^RESULT [^ ]* /, ""); r = $0} END {print r}' "$TMPD/$1.log")
	echo "${_gr:-missing}"
}

guest_expect() {
	_ge=$(guest_result "$1" "$2")
	case $_ge in
	ok | "ok "*) GUEST_DETAIL=${_ge#ok} && GUEST_DETAIL=${GUEST_DETAIL# } ;;
	*)
		grep -v '^RESULT \|^DIAG ' "$TMPD/$1.log" | tail -n 10 >&2
		grep '^DIAG ' "$TMPD/$1.log" >&2
		fail "guest $1: $2: $_ge"
		;;
	esac
}

# guest_outside_servers: in the outside namespace on 198.51.100.1, the
# servers a guest test talks to beyond the uplink: dnsmasq on :53
# (svc.test is 198.51.100.77), HTTP on :8080 serving a 4 MiB /down
# (DOWN_SHA, SIZE), and a TCP receiver on :8081 storing one upload into
# $TMPD/up (its PID in UPSRV).
guest_outside_servers() {
	echo 'address=/svc.test/198.51.100.77' >"$TMPD/dnsmasq.conf"
	bg out_ns timeout 300 dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--listen-address=198.51.100.1 --bind-interfaces --local-ttl=60 --pid-file= \
		--user=root --conf-file="$TMPD/dnsmasq.conf" --log-queries \
		--log-facility="$TMPD/dnsmasq.log" >"$TMPD/dnsmasq.out" 2>&1
	wait_listen out_ns u 53 || fail "dnsmasq did not start: $(cat "$TMPD/dnsmasq.out" "$TMPD/dnsmasq.log" 2>/dev/null | tail -n 5)"

	SIZE=4194304
	make_data "$TMPD/down" 4
	DOWN_SHA=$(sha "$TMPD/down")
	cat >"$TMPD/httpd.py" <<'EOF'
# GET /down: the file, in one HTTP/1.0 answer.
import http.server, sys

down, bind, port = sys.argv[1], sys.argv[2], int(sys.argv[3])


class H(http.server.BaseHTTPRequestHandler):
    timeout = 60

    def do_GET(self):
        body = b"no\n"
        code = 404
        if self.path == "/down":
            with open(down, "rb") as f:
                body, code = f.read(), 200
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer((bind, port), H).serve_forever()
EOF
	bg out_ns timeout 300 "$PY" "$TMPD/httpd.py" "$TMPD/down" 198.51.100.1 8080 >"$TMPD/httpd.log" 2>&1
	wait_listen out_ns t 8080 || fail "httpd did not start: $(tail -n 5 "$TMPD/httpd.log")"
	# the upload's receiver: one connection, stored until the guest's EOF
	bg out_ns timeout 300 socat -u TCP-LISTEN:8081,bind=198.51.100.1,reuseaddr CREATE:"$TMPD/up" 2>"$TMPD/up.err"
	UPSRV=$BG_PID
	wait_listen out_ns t 8081 || fail "upload receiver did not start: $(cat "$TMPD/up.err")"
	ok "outside: dnsmasq on 198.51.100.1:53, HTTP on :8080 (4 MiB /down, sha256 $DOWN_SHA), TCP receiver on :8081"
}
