#!/bin/sh
# gateway_sandbox.sh - least privilege: once its devices are open, a
# gateway started as root runs as nobody with no capabilities, no_new_privs
# and a seccomp filter in every thread, over both uplinks, and traffic still
# flows; --no-drop-privileges keeps root and its capabilities under the
# filter; --no-sandbox leaves all of it off; an unwritable --lease-file
# directory and contradictory options fail at start with one clear line.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24                arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> 203.0.113.0/24
#                                   --outside r0 --external-ip 198.51.100.2/24     via 198.51.100.254
#                                   or: r0 198.51.100.254/24, ip_forward=1,
#                                   --outside tun:arc0 --external-ip 203.0.113.2/32
#
# The checks read /proc/PID/status and /proc/PID/task/*/status of the
# running gateway.
. "$(dirname "$0")/lib.sh"

net_checks
NOBODY=$(id -u nobody 2>/dev/null) || fail "no user nobody (arcnat's default user when started as root)"
net_setup packet

# status_field PID FIELD: the value of "FIELD:" in /proc/PID/status (first word).
status_field() {
	awk -v f="$2:" '$1 == f { print $2; exit }' "/proc/$1/status"
}

# check_confined WHAT: every thread of the running gateway is nobody with
# no capabilities, no_new_privs and a seccomp filter.
check_confined() {
	n=0
	for st in /proc/"$ARC_PID"/task/*/status; do
		tid=$(basename "$(dirname "$st")")
		uid=$(awk '$1 == "Uid:" { print $2 "," $3 "," $4 "," $5 }' "$st")
		[ "$uid" = "$NOBODY,$NOBODY,$NOBODY,$NOBODY" ] || fail "$1: thread $tid: Uid $uid, expected nobody ($NOBODY) for real, effective, saved and fs"
		for f in CapInh CapPrm CapEff CapBnd CapAmb; do
			v=$(awk -v f="$f:" '$1 == f { print $2 }' "$st")
			[ "$v" = 0000000000000000 ] || fail "$1: thread $tid: $f $v, expected 0000000000000000"
		done
		v=$(awk '$1 == "NoNewPrivs:" { print $2 }' "$st")
		[ "$v" = 1 ] || fail "$1: thread $tid: NoNewPrivs $v, expected 1"
		v=$(awk '$1 == "Seccomp:" { print $2 }' "$st")
		[ "$v" = 2 ] || fail "$1: thread $tid: Seccomp $v, expected 2 (filter)"
		n=$((n + 1))
	done
	# main (signals), worker; the lease writer only with --lease-file
	[ "$n" -ge 2 ] || fail "$1: $n threads, expected at least 2"
	ok "$1: all $n threads: Uid $NOBODY (nobody), CapInh/Prm/Eff/Bnd/Amb 0, NoNewPrivs 1, Seccomp 2"
}

# traffic: ping and a UDP request/reply through the gateway.
traffic() {
	in_ns timeout 15 ping -c 2 -i 0.2 -W 2 "$1" >"$TMPD/ping.out" 2>&1 ||
		fail "$2: ping 10.0.2.2 -> $1 failed: $(tail -n 2 "$TMPD/ping.out")"
	bg out_ns timeout 15 socat -T 10 UDP-RECVFROM:7000,bind=198.51.100.1 \
		SYSTEM:'read l; echo "reply:$l"' >/dev/null 2>"$TMPD/udp.err"
	US=$BG_PID
	wait_listen out_ns u 7000 || fail "UDP server did not start"
	got=$(echo "req-$$" | in_ns timeout 10 socat -t 3 - UDP:198.51.100.1:7000 2>&1)
	bg_stop "$US"
	[ "$got" = "reply:req-$$" ] || fail "$2: UDP request/reply: got '$got'"
	ok "$2: ping and UDP request/reply through the confined gateway"
}

# --- AF_PACKET uplink, with a lease file in a directory nobody may write ----
LDIR=$TMPD/leases.d
mkdir "$LDIR" && chown nobody "$LDIR" || fail "lease directory"
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--lease-file "$LDIR/leases"
check_confined "AF_PACKET uplink, --lease-file"
traffic 198.51.100.1 "AF_PACKET uplink"
stop_arcnat

# --- --no-drop-privileges: root and its capabilities, under the filter -------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--no-drop-privileges
[ "$(status_field "$ARC_PID" Uid)" = 0 ] || fail "--no-drop-privileges: Uid $(status_field "$ARC_PID" Uid), expected 0"
eff=$(status_field "$ARC_PID" CapEff)
[ "$eff" != 0000000000000000 ] || fail "--no-drop-privileges: no capabilities left"
[ "$(status_field "$ARC_PID" NoNewPrivs)" = 1 ] || fail "--no-drop-privileges: NoNewPrivs $(status_field "$ARC_PID" NoNewPrivs)"
[ "$(status_field "$ARC_PID" Seccomp)" = 2 ] || fail "--no-drop-privileges: Seccomp $(status_field "$ARC_PID" Seccomp)"
traffic 198.51.100.1 "--no-drop-privileges"
stop_arcnat
ok "--no-drop-privileges: Uid 0 with CapEff $eff kept, NoNewPrivs 1, Seccomp 2"

# --- --no-sandbox: none of it ---------------------------------------------------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 --no-sandbox
uid=$(status_field "$ARC_PID" Uid)
eff=$(status_field "$ARC_PID" CapEff)
nnp=$(status_field "$ARC_PID" NoNewPrivs)
sec=$(status_field "$ARC_PID" Seccomp)
[ "$uid" = 0 ] && [ "$eff" != 0000000000000000 ] && [ "$nnp" = 0 ] && [ "$sec" = 0 ] ||
	fail "--no-sandbox: Uid $uid CapEff $eff NoNewPrivs $nnp Seccomp $sec, expected 0, not 0, 0, 0"
stop_arcnat
ok "--no-sandbox: Uid 0, CapEff $eff, NoNewPrivs 0, Seccomp 0"

# --- start-up errors ---------------------------------------------------------
BAD=$TMPD/root-only.d
mkdir "$BAD" && chmod 0755 "$BAD" || fail "mkdir"
try_start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--lease-file "$BAD/leases"
rc=$?
[ $rc = 1 ] || fail "a lease directory nobody cannot write: exit status $rc, expected 1"
want="arcnat: error: --lease-file: directory $BAD is not writable by user nobody: make it writable by nobody, pick another --user, or use --no-drop-privileges"
grep -qxF "$want" "$ARC_LOG" || fail "a lease directory nobody cannot write: expected the line '$want'; log: $(grep -v '^stat ' "$ARC_LOG" | tail -n 3)"
[ ! -e "$BAD/leases" ] && [ ! -e "$BAD/leases.tmp" ] || fail "files were created in $BAD"
ok "a --lease-file directory nobody cannot write: exit status 1 at start, one line saying how to fix it"

for args in "--user no-such-user-$$|--user: no user 'no-such-user-$$'" \
	"--user nobody --no-drop-privileges|--user and --no-drop-privileges exclude each other" \
	"--user nobody --no-sandbox|--user and --no-sandbox exclude each other (--no-sandbox keeps the user)"; do
	opt=${args%%|*}
	msg=${args#*|}
	# shellcheck disable=SC2086 # the options, split on purpose
	rt_ns "$ARCNAT" gateway --inside "tap0@$NS_IN" --outside r0 \
		--external-ip 198.51.100.2/24 $opt >"$TMPD/usage.out" 2>&1
	rc=$?
	[ $rc = 2 ] || fail "$opt: exit status $rc, expected 2 (usage): $(cat "$TMPD/usage.out")"
	[ "$(head -n 1 "$TMPD/usage.out")" = "arcnat: $msg" ] ||
		fail "$opt: expected 'arcnat: $msg', got '$(head -n 1 "$TMPD/usage.out")'"
done
ok "--user with an unknown user, with --no-drop-privileges or with --no-sandbox: usage errors (exit status 2, one line)"

# --- TUN uplink: the router namespace's kernel forwards (net_setup tun's links) ---
ip -n "$NS_RT" addr add 198.51.100.254/24 dev r0 || fail "addr r0"
rt_ns sysctl -qw net.ipv4.ip_forward=1 >/dev/null || fail "ip_forward"
ip -n "$NS_OUT" route add 203.0.113.0/24 via 198.51.100.254 || fail "outside route"
start_arcnat --inside "tap0@$NS_IN" --outside tun:arc0 --external-ip 203.0.113.2/32
check_confined "TUN uplink"
traffic 198.51.100.1 "TUN uplink"
stop_arcnat
