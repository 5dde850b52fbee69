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

[ "$fails" = 0 ] || { echo "$fails failure(s)"; exit 1; }
exit 0
