#!/bin/sh
# run_cli.sh - `arcnat run` and `arcnat attach` as a user meets their
# command lines, no devices or privileges needed: every option of their own
# (struct option run_options and attach_options in src/app/run.c) is in
# their --help, and so are the gateway's sections; every bad command line is
# one "arcnat: ..." line plus the command's own hint and exit status 2,
# before any namespace, device or CMD exists (CMD here would leave a file).
set -u
cd "$(dirname "$0")/../.."
ARCNAT=${ARCNAT:-$PWD/build/arcnat}
[ -x "$ARCNAT" ] || { echo "no $ARCNAT (run make)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# opts_of ARRAY: the long options of that struct option array in run.c.
opts_of() {
	sed -n "/^static const struct option $1\\[\\] = {/,/^};/p" src/app/run.c |
		sed -n 's/^\t{ "\([a-z-]*\)", .*RUN_OPT_.*},$/\1/p'
}
for cmd in run attach; do
	"$ARCNAT" "$cmd" --help >"$T/help" 2>&1 || bad "$cmd --help: exit status $?"
	opts=$(opts_of "${cmd}_options")
	[ "$(echo "$opts" | wc -w)" -ge 3 ] || bad "found only $(echo "$opts" | wc -w) options of $cmd in run.c"
	for o in $opts --outside --gateway-ip --mtu --dns --pcap; do
		case $o in --*) ;; *) o=--$o ;; esac
		grep -q -- "$o" "$T/help" || bad "$cmd: $o is accepted but not in --help"
	done
	grep -q "^Usage: arcnat $cmd " "$T/help" || bad "$cmd --help does not start with its usage"
	grep -q '^NAT:' "$T/help" && grep -q '^Services' "$T/help" ||
		bad "$cmd --help lacks the gateway's NAT and services sections"
	echo "ok: $cmd --help lists its $(echo "$opts" | wc -w) options and the gateway's sections"
done
"$ARCNAT" --help | grep -q '^  run ' && "$ARCNAT" --help | grep -q '^  attach ' ||
	bad "arcnat --help does not list run and attach"

# usage CMD ARGS...: exit 2, "arcnat: " first, the command's hint after,
# and no CMD ran (it would have made $T/ran).
usage() {
	_c=$1
	shift
	rm -f "$T/ran"
	"$ARCNAT" "$_c" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || { bad "$_c '$*': exit $rc, want 2: $(cat "$T/err")"; return; }
	[ "$(head -c 8 "$T/err")" = "arcnat: " ] || bad "$_c '$*': message: $(head -n 1 "$T/err")"
	[ "$(wc -l <"$T/err")" = 2 ] || bad "$_c '$*': $(wc -l <"$T/err") lines on stderr: $(cat "$T/err")"
	grep -q "Try 'arcnat $_c --help'" "$T/err" || bad "$_c '$*': no hint of its own: $(cat "$T/err")"
	[ -e "$T/ran" ] && bad "$_c '$*': CMD ran"
}
ran="touch $T/ran"
usage run --bogus -- $ran
usage run --guest-ip 10.0.3.2 -- $ran
usage run --guest-ip 10.0.2.1 -- $ran
usage run --guest-ip 10.0.2.0 -- $ran
usage run --guest-ip 10.0.2.255 -- $ran
usage run --guest-ip nope -- $ran
usage run --gateway-ip 10.9.0.1/24 --guest-ip 10.0.2.2 -- $ran
usage run --ns-ifname abcdefghijklmnop -- $ran
usage run --ns-ifname a/b -- $ran
usage run --ns-ifname '' -- $ran
usage run --mtu 575 -- $ran
usage run --mtu 65521 -- $ran
usage run --inside tap0 -- $ran
usage run --user nobody -- $ran
usage run --netns x -- $ran
usage run --outside sock --external-ip 198.51.100.2/24 -- $ran
usage attach
usage attach --pid 1 --netns x
usage attach --pid 0
usage attach --pid -3
usage attach --pid 1x
usage attach --netns ''
usage attach --netns x extra
usage attach --netns x --inside tap0
usage attach --netns x --guest-ip 10.0.3.2
usage attach --netns x --bogus
echo "ok: bad command lines of run and attach: one line, the hint, exit 2, no CMD"

# Port forwards (-t/-u, pasta's syntax): in every command's --help; a bad
# spelling, ranges of different lengths, more than 1024 ports, and a
# forward with a packet uplink (arcnat listens on the host: only the
# socket uplink does) are usage errors whose message is about the
# forward (not getopt's: an arcnat without -t/-u would pass otherwise).
for cmd in run attach gateway; do
	"$ARCNAT" "$cmd" --help >"$T/help" 2>&1
	for o in '-t, --tcp-forward' '-u, --udp-forward'; do
		grep -q -- "$o" "$T/help" || bad "$cmd --help: no '$o'"
	done
done
usage_fwd() {
	usage "$@"
	if grep -q -E 'unrecognized option|invalid option' "$T/err" ||
		! head -n 1 "$T/err" | grep -q -- '-forward'; then
		bad "$1 '$*': the message is not about the forward: $(head -n 1 "$T/err")"
	fi
}
for o in -t -u --tcp-forward --udp-forward; do
	usage_fwd run "$o" 80x -- $ran
	usage_fwd run "$o" 8080:80:90 -- $ran
	usage_fwd run "$o" 0 -- $ran
	usage_fwd run "$o" 65536 -- $ran
	usage_fwd run "$o" 8080: -- $ran
	usage_fwd run "$o" 8000-8010:9000-9001 -- $ran
	usage_fwd run "$o" 8010-8000 -- $ran
	usage_fwd run "$o" 127.0.0.1/ -- $ran
	usage_fwd run "$o" 300.0.0.1/8080 -- $ran
	usage_fwd run "$o" '' -- $ran
done
usage_fwd run -t 2000-3024 -- $ran
usage_fwd run -t 2000-2600 -u 3000-3424 -- $ran
usage_fwd run --outside h0 --external-ip 198.51.100.2/24 -t 8080 -- $ran
usage_fwd run --outside h0 --external-ip 198.51.100.2/24 -u 5353:53 -- $ran
usage_fwd attach --netns x --outside h0 --external-ip 198.51.100.2/24 -t 8080
usage_fwd gateway --inside tap-nx-$$ --outside nx-$$ --external-ip 198.51.100.2/24 -t 8080:80
usage_fwd gateway --inside tap-nx-$$ --outside nx-$$ --external-ip 198.51.100.2/24 -u 127.0.0.1/5353:53
echo "ok: bad forwards (-t/-u): one line, the hint, exit 2, no CMD"

# A forward's host port in use: exit 1 with a line that names it (here
# through `arcnat gateway --inside stream:... --outside sock`, which needs
# neither devices nor privileges; run_fwd.sh checks `arcnat run`'s).
busy() {
	_proto=$1
	_opt=$2
	python3 - "$T" "$_proto" <<-'EOF' &
	import os, socket, sys, time
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if sys.argv[2] == "t" else socket.SOCK_DGRAM)
	s.bind(("127.0.0.1", 0))
	if sys.argv[2] == "t":
	    s.listen(1)
	open(sys.argv[1] + "/busy.tmp", "w").write("%d\n" % s.getsockname()[1])
	os.rename(sys.argv[1] + "/busy.tmp", sys.argv[1] + "/busy")
	end = time.monotonic() + 20
	while time.monotonic() < end and not os.path.exists(sys.argv[1] + "/busy.done"):
	    time.sleep(0.05)
	EOF
	_bp=$!
	_i=0
	while [ ! -s "$T/busy" ] && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	_port=$(cat "$T/busy" 2>/dev/null)
	if [ -z "$_port" ]; then
		bad "$_opt: the busy port's holder did not start"
	else
		timeout 10 "$ARCNAT" gateway --inside "stream:$T/gw.sock" --outside sock \
			"$_opt" "127.0.0.1/$_port:80" >"$T/out" 2>"$T/err"
		rc=$?
		_l=$(grep '^arcnat: ' "$T/err" | grep -E "(^|[^0-9])$_port([^0-9]|\$)")
		if [ "$rc" != 1 ]; then
			bad "$_opt 127.0.0.1/$_port:80, a port in use: exit $rc, want 1: $(cat "$T/err")"
		elif [ "$(echo "$_l" | grep -c .)" != 1 ]; then
			bad "$_opt 127.0.0.1/$_port:80, a port in use: want one line naming $_port: $(cat "$T/err")"
		else
			echo "ok: $_opt, a port in use: exit 1, $_l"
		fi
	fi
	: >"$T/busy.done"
	wait "$_bp"
	rm -f "$T/busy" "$T/busy.done" "$T/gw.sock"
}
busy t -t
busy u -u

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0
