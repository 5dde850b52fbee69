#!/bin/sh
# gateway_cli.sh - `arcnat gateway` as a user meets its command line, no
# devices needed: every option the code accepts is in --help; every bad
# value is one "arcnat: ..." line plus a hint and exit status 2, before any
# device is touched (the interfaces named here do not exist).
set -u
cd "$(dirname "$0")/../.."
ARCNAT=${ARCNAT:-$PWD/build/arcnat}
[ -x "$ARCNAT" ] || { echo "no $ARCNAT (run make)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$ARCNAT" gateway --help >"$T/help" 2>&1 || bad "--help: exit status $?"
# The options the code defines (struct option gw_options in src/app/gw_opts.c).
opts=$(sed -n 's/^\t{ "\([a-z-]*\)", .*OPT_.*},$/\1/p' src/app/gw_opts.c)
[ "$(echo "$opts" | wc -w)" -ge 25 ] || bad "found only $(echo "$opts" | wc -w) options in gw_opts.c"
for o in $opts; do
	grep -q -- "--$o" "$T/help" || bad "--$o is accepted but not in --help"
done
echo "ok: --help lists all $(echo "$opts" | wc -w) options of the code"

# usage ARGS...: must exit 2 with "arcnat: " first and the hint after.
base="--inside tap-nx-$$ --outside nx-$$ --external-ip 198.51.100.2/24"
usage() {
	# shellcheck disable=SC2086
	"$ARCNAT" gateway "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || { bad "'$*': exit $rc, want 2: $(cat "$T/err")"; return; }
	[ "$(head -c 8 "$T/err")" = "arcnat: " ] || bad "'$*': message: $(head -n 1 "$T/err")"
	[ "$(wc -l <"$T/err")" = 2 ] || bad "'$*': $(wc -l <"$T/err") lines on stderr: $(cat "$T/err")"
	grep -q "Try 'arcnat gateway --help'" "$T/err" || bad "'$*': no hint"
}
# shellcheck disable=SC2086
{
	usage --bogus
	usage --outside r0 --external-ip 198.51.100.2/24
	usage --inside t0 --external-ip 198.51.100.2/24
	usage --inside t0 --outside r0
	usage $base extra-argument
	usage --inside tap0@ $base
	usage --inside abcdefghijklmnop $base
	usage --inside tap:abcdefghijklmnop $base
	usage --inside stream: $base
	usage --inside "stream:/$(printf '%0107d' 0)" $base
	usage --inside dgram: $base
	usage --inside "dgram:/$(printf '%0107d' 0)" $base
	usage --inside vhost-user: $base
	usage --inside "vhost-user:/$(printf '%0107d' 0)" $base
	usage --inside a1 --inside a2 --inside a3 --inside a4 --inside a5 --inside a6 --inside a7 --inside a8 $base
	usage $base --external-ip 0.0.0.0/24
	usage $base --external-ip 198.51.100.2/33
	usage $base --external-ip 198.51.100.2
	usage $base --gateway-ip 10.0.2.0/24
	usage $base --gateway-ip 10.0.2.1/31
	usage $base --next-hop 10.1.1.1
	usage $base --next-hop 198.51.100.2
	usage --inside t0 --outside tun:a0 --external-ip 203.0.113.2/32 --next-hop 203.0.113.1
	usage $base --mtu 575
	usage $base --mtu 65521
	usage $base --forward tcp:80:10.0.2.5
	usage $base --forward sctp:80:10.0.2.5:80
	usage $base --forward tcp:0:10.0.2.5:80
	usage $base --forward tcp:80:0.0.0.0:80
	usage $base --forward tcp:80:10.0.2.1:80
	usage $base --forward tcp:80:10.0.3.5:80
	usage $base --forward tcp:80:10.0.2.5:80 --forward tcp:80:10.0.2.6:80
	usage $base --forward udp:49151:10.0.2.5:53
	usage $base --filtering none
	usage $base --max-flows 0
	usage $base --timeout-udp 5
	usage $base --timeout-tcp-established 0
	usage $base --stats-interval 0
	usage $base --busy-poll 1001
	usage $base --busy-poll -1
	usage $base --busy-poll 50us
	usage $base --dhcp-range 10.0.2.9,10.0.2.2
	usage $base --dhcp-host 52:54:00:00:00:01
	usage $base --lease-time 10
	usage $base --dns 127.0.0.1
	usage $base --dns-max-ttl 999999999
}
echo "ok: bad options are one 'arcnat:' line, the hint, exit status 2"

# a stream socket's path that holds another file: refused at start (exit 1),
# the file left as it was
echo keep >"$T/notsock"
"$ARCNAT" gateway --inside "stream:$T/notsock" --outside nx-$$ \
	--external-ip 198.51.100.2/24 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || bad "stream:PATH over a file: exit $rc, want 1: $(cat "$T/err")"
grep -q "not a socket: not replaced" "$T/err" || bad "stream:PATH over a file: $(cat "$T/err")"
[ "$(cat "$T/notsock")" = keep ] || bad "stream:PATH over a file: the file changed"
echo "ok: --inside stream:PATH refuses to replace a file that is not a socket"

"$ARCNAT" gateway --inside "dgram:$T/notsock" --outside nx-$$ \
	--external-ip 198.51.100.2/24 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || bad "dgram:PATH over a file: exit $rc, want 1: $(cat "$T/err")"
grep -q "^arcnat: error: --inside dgram:$T/notsock: File exists (not a socket: not replaced)" "$T/err" ||
	bad "dgram:PATH over a file: $(cat "$T/err")"
[ "$(cat "$T/notsock")" = keep ] || bad "dgram:PATH over a file: the file changed"
echo "ok: --inside dgram:PATH refuses to replace a file that is not a socket"

"$ARCNAT" gateway --inside "vhost-user:$T/notsock" --outside nx-$$ \
	--external-ip 198.51.100.2/24 >"$T/out" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || bad "vhost-user:PATH over a file: exit $rc, want 1: $(cat "$T/err")"
grep -q "^arcnat: error: --inside vhost-user:$T/notsock: File exists (not a socket: not replaced)" "$T/err" ||
	bad "vhost-user:PATH over a file: $(cat "$T/err")"
[ "$(cat "$T/notsock")" = keep ] || bad "vhost-user:PATH over a file: the file changed"
echo "ok: --inside vhost-user:PATH refuses to replace a file that is not a socket"

[ "$fails" = 0 ] || exit 1
