# shellcheck shell=sh
# tests/qemu/scenario.sh - the real-VM scenario every transport's test
# runs (tests/net/guest_qemu_{tap,stream,dgram,vhost}.sh): a guest takes a
# DHCP lease, is killed and a second one with the same MAC gets the same
# address back; the guest pings the gateway and a server beyond the uplink,
# downloads 4 MiB and uploads 4 MiB (each SHA-256 compared on the
# receiving side) and resolves a name through arcnat's forwarder; arcnat
# runs on with no guest and stops cleanly on SIGTERM. Each transport's
# script keeps what is its own: how arcnat and QEMU are started, and its
# own checks between these steps. Source it after guest.sh:
#   . "$NET_DIR/../qemu/scenario.sh"
#
# Provided:
#   scenario_setup         the checks and tools every transport's test needs,
#                          the namespaces (an AF_PACKET uplink) and the
#                          guest image
#   scenario_start [ARG...]
#                          starts arcnat with ARGs (its --inside ports) and
#                          the scenario's uplink ($SCENARIO_UPLINK), DNS
#                          server and DHCP range (10.0.2.100-120); checks
#                          it entered its sandbox ($SCENARIO_SANDBOX)
#   scenario_socket KIND PATH ARGS
#                          checks arcnat's socket is at PATH and that it
#                          printed "KIND:PATH: connect QEMU with ARGS"
#   scenario_sandbox       checks arcnat entered its default sandbox
#   scenario_stale_socket PATH stream|dgram
#                          leaves a stale UNIX socket (nobody serves it) at
#                          PATH, which arcnat must replace
#   scenario_boot NAME SCRIPT
#                          boots guest NAME in $NS_IN with SCRIPT, bounded
#                          by tscale 150; with SCENARIO_UMASK set, QEMU
#                          starts under that umask (dgram: its socket
#                          writable by arcnat's user)
#   scenario_first_lease NAME
#                          boots NAME with a script that only sleeps, waits
#                          for its lease: sets LEASE1 (the lease's detail)
#   scenario_gone NAME COUNT PATTERN
#                          kills guest NAME's QEMU if it still runs, waits
#                          (10 s) until arcnat's log holds COUNT lines with
#                          the fixed string PATTERN, and checks arcnat runs
#                          on
#   scenario_script FILE   writes the guest's test (pings, download, upload,
#                          name) to FILE, for scenario_boot
#   scenario_checks NAME [LEASE]
#                          checks NAME's RESULT lines on this side: the
#                          lease (router, DNS; equal to LEASE if given),
#                          both pings, the download's and the upload's
#                          SHA-256 against the other end's, the name and
#                          that dnsmasq saw it come from arcnat's address
#
# SCENARIO_LOG is a word of arcnat's log lines about the transport
# (stream, vhost, dgram, tap), shown when a step fails. The servers are
# guest_outside_servers' (call it first: SIZE, DOWN_SHA, UPSRV).
# The uplink is a parameter (guest_qemu_sock.sh sets all three):
# SCENARIO_UPLINK, arcnat's uplink options (default the AF_PACKET uplink
# r0 with external address 198.51.100.2 and host address 198.51.100.1);
# SCENARIO_EXT, the address the servers see arcnat's traffic come from
# (198.51.100.2); SCENARIO_SANDBOX, the fixed string of arcnat's sandbox
# line (user nobody, as root starts it).

SCENARIO_LOG=${SCENARIO_LOG:-arcnat}
SCENARIO_UMASK=${SCENARIO_UMASK:-}
SCENARIO_UPLINK=${SCENARIO_UPLINK:---outside r0 --external-ip 198.51.100.2/24 --host-ip 198.51.100.1}
SCENARIO_EXT=${SCENARIO_EXT:-198.51.100.2}
SCENARIO_SANDBOX=${SCENARIO_SANDBOX:-sandbox: user nobody, no capabilities, no_new_privs, seccomp}
LEASE1=""

scenario_setup() {
	net_checks
	need qemu-system-x86_64 busybox dnsmasq gzip apt-get dpkg-deb
	net_setup packet
	guest_image
}

scenario_start() {
	# shellcheck disable=SC2086 # SCENARIO_UPLINK is an argument list
	start_arcnat "$@" $SCENARIO_UPLINK --dns 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120
	scenario_sandbox
}

scenario_socket() {
	[ -S "$2" ] || fail "no socket at $2"
	grep -qF "$1:$2: connect QEMU with $3" "$ARC_LOG" ||
		fail "arcnat did not print the QEMU arguments: $(grep -F "$1" "$ARC_LOG")"
}

scenario_sandbox() {
	grep -qF "$SCENARIO_SANDBOX" "$ARC_LOG" ||
		fail "arcnat did not enter its sandbox ($SCENARIO_SANDBOX): $(grep sandbox "$ARC_LOG")"
}

scenario_stale_socket() {
	case $2 in
	stream) _ss_type=SOCK_STREAM ;;
	dgram) _ss_type=SOCK_DGRAM ;;
	*) fail "scenario_stale_socket: type $2" ;;
	esac
	"$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX, getattr(socket, sys.argv[2])).bind(sys.argv[1])' \
		"$1" "$_ss_type" || fail "cannot leave a stale socket at $1"
}

scenario_boot() {
	if [ -n "$SCENARIO_UMASK" ]; then
		_sb_um=$(umask)
		umask "$SCENARIO_UMASK"
		guest_boot "$1" "$NS_IN" "$(tscale 150)" "$2"
		umask "$_sb_um"
	else
		guest_boot "$1" "$NS_IN" "$(tscale 150)" "$2"
	fi
}

# the failure's evidence: the console's and QEMU's tails, arcnat's lines
# about the transport (QEMU's log is cut to its end: a reconnecting QEMU
# writes long lines)
scenario_evidence() {
	echo "$(tr -d '\r' <"$TMPD/$1.console" | tail -n 10) $(tail -c 2000 "$TMPD/$1.qemu") $(grep "$SCENARIO_LOG" "$ARC_LOG" | tail -n 5)"
}

scenario_first_lease() {
	echo 'sleep 600' >"$TMPD/$1-test.sh"
	_sf_t0=$(date +%s)
	scenario_boot "$1" "$TMPD/$1-test.sh"
	guest_until "$1" dhcp "$(tscale 150)"
	LEASE1=$(tr -d '\r' <"$TMPD/$1.console" | sed -n 's/^RESULT dhcp ok //p' | tail -n 1)
	[ -n "$LEASE1" ] || fail "$1 got no lease: $(scenario_evidence "$1")"
	info "$1 lease after $(($(date +%s) - _sf_t0)) s: $LEASE1"
}

scenario_gone() {
	_sg_pid=""
	eval "_sg_pid=\${GUEST_PID_$1:-}"
	alive "$_sg_pid" && bg_stop "$_sg_pid"
	_sg_i=0
	while [ $_sg_i -lt 100 ] && [ "$(grep -cF -- "$3" "$ARC_LOG")" != "$2" ]; do
		sleep 0.1
		_sg_i=$((_sg_i + 1))
	done
	[ "$(grep -cF -- "$3" "$ARC_LOG")" = "$2" ] ||
		fail "arcnat did not see $1's QEMU go ($2 x '$3'): $(grep "$SCENARIO_LOG" "$ARC_LOG" | tail -n 10)"
	arcnat_alive || fail "arcnat is gone after $1's QEMU went"
	ok "$1's QEMU gone: arcnat saw it ($3) and runs on"
}

# The guest's test runs after its DHCP lease (see tests/qemu/guest-image.sh).
# (busybox 1.35's wget crashes with -T: bounded by busybox timeout instead;
# its --post-file stops at the first NUL byte: the upload is nc to socat;
# nslookup asks A only: dnsmasq refuses the AAAA it has no upstream for)
scenario_script() {
	cat >"$1" <<EOF
S=198.51.100.1
# after a failed step, the guest's own view: for the report on this side
diag() {
	echo "DIAG \$1: neigh: \$(ip neigh | tr '\n' ';') eth0: \$(grep 'eth0:' /proc/net/dev | tr -s ' ')"
	echo "DIAG \$1: \$(grep '^Tcp:' /proc/net/snmp | tail -n 1) \$(grep '^Udp:' /proc/net/snmp | tail -n 1)"
}
if ping -c 3 -i 0.3 -W 5 10.0.2.1 >/tmp/ping1 2>&1; then
	result ping_gateway ok "\$(grep 'packets' /tmp/ping1)"
else
	result ping_gateway fail "\$(tail -n 2 /tmp/ping1 | tr '\n' ' ')"
fi
if ping -c 3 -i 0.3 -W 5 \$S >/tmp/ping2 2>&1; then
	result ping_outside ok "\$(grep 'packets' /tmp/ping2)"
else
	result ping_outside fail "\$(tail -n 2 /tmp/ping2 | tr '\n' ' ')"
fi
if timeout 60 wget -q -O /tmp/down http://\$S:8080/down 2>/tmp/wget1; then
	result download ok "sha256=\$(sha256sum /tmp/down | cut -d' ' -f1) bytes=\$(wc -c </tmp/down)"
else
	result download fail "\$(cat /tmp/wget1)"
fi
rm -f /tmp/down
head -c $SIZE /dev/urandom >/tmp/up
if timeout 60 nc \$S 8081 </tmp/up 2>/tmp/nc; then
	result upload ok "sha256=\$(sha256sum /tmp/up | cut -d' ' -f1) bytes=\$(wc -c </tmp/up)"
else
	result upload fail "\$(cat /tmp/nc)"
	diag upload
fi
if timeout 20 nslookup -type=a svc.test >/tmp/ns 2>&1; then
	result dns ok "svc.test=\$(sed -n 's/^Address: *\\([0-9.]*\\)\$/\\1/p' /tmp/ns | tail -n 1)"
else
	result dns fail "\$(tr '\n' ' ' </tmp/ns)"
	diag dns
fi
EOF
}

scenario_checks() {
	guest_expect "$1" dhcp
	case $GUEST_DETAIL in
	"ip=10.0.2.1"[0-9][0-9]"/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC") ;;
	*) fail "lease '$GUEST_DETAIL': expected ip=10.0.2.100-120/24 router=10.0.2.1 dns=10.0.2.1 mac=$GUEST_MAC" ;;
	esac
	if [ $# -ge 2 ]; then
		[ "$GUEST_DETAIL" = "$2" ] || fail "$1 got '$GUEST_DETAIL', the guest before it (same MAC) had '$2'"
		ok "$1 (same MAC, after the first guest was killed) got the same lease back: $GUEST_DETAIL"
	else
		ok "guest DHCP lease: $GUEST_DETAIL"
	fi

	guest_expect "$1" ping_gateway
	ok "guest pings the gateway 10.0.2.1: $GUEST_DETAIL"
	guest_expect "$1" ping_outside
	ok "guest pings 198.51.100.1 beyond the uplink: $GUEST_DETAIL"

	guest_expect "$1" download
	[ "$GUEST_DETAIL" = "sha256=$DOWN_SHA bytes=$SIZE" ] ||
		fail "download: the guest got '$GUEST_DETAIL', expected sha256=$DOWN_SHA bytes=$SIZE"
	ok "guest downloaded 4 MiB over HTTP: its sha256 equals the server's file"

	guest_expect "$1" upload
	_sc_up=$GUEST_DETAIL
	# the receiver ends at the guest's EOF; bounded
	_sc_i=0
	while [ $_sc_i -lt 100 ] && alive "$UPSRV"; do
		sleep 0.1
		_sc_i=$((_sc_i + 1))
	done
	alive "$UPSRV" && fail "upload: the receiver still runs after the guest's EOF"
	[ -f "$TMPD/up" ] || fail "upload: the receiver stored nothing: $(cat "$TMPD/up.err")"
	_sc_sha=$(sha "$TMPD/up")
	[ "$_sc_up" = "sha256=$_sc_sha bytes=$SIZE" ] ||
		fail "upload: guest says '$_sc_up', the receiver stored $(wc -c <"$TMPD/up") bytes with sha256 $_sc_sha"
	ok "guest uploaded 4 MiB over TCP: the receiver's sha256 of what arrived equals the guest's"

	guest_expect "$1" dns
	[ "$GUEST_DETAIL" = "svc.test=198.51.100.77" ] || fail "dns: the guest resolved '$GUEST_DETAIL', expected svc.test=198.51.100.77"
	_sc_ext=$(printf '%s' "$SCENARIO_EXT" | sed 's/\./\\./g')
	grep -q "query\[A\] svc\.test from $_sc_ext\$" "$TMPD/dnsmasq.log" ||
		fail "dnsmasq did not see svc.test from $SCENARIO_EXT (forwarded by arcnat): $(grep query "$TMPD/dnsmasq.log" | tail -n 3)"
	ok "guest resolved svc.test through arcnat's forwarder (10.0.2.1 -> dnsmasq, which saw $SCENARIO_EXT)"
}
