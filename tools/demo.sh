#!/bin/sh
# make demo: a short, narrated run of `arcnat gateway` between three network
# namespaces that this script creates and removes. Needs root and
# /dev/net/tun. Traffic stays inside the namespaces.
#
#   ns an-demo-in-PID            ns an-demo-rt-PID              ns an-demo-out-PID
#   tap0 10.0.2.2/24  <--TAP-->  arcnat gateway  r0 <--veth--> o0 198.51.100.1/24
#   default via 10.0.2.1                      (arcnat owns 198.51.100.2)
set -eu
cd "$(dirname "$0")/.."
ARCNAT=${ARCNAT:-$PWD/build/arcnat}
IN=an-demo-in-$$
RT=an-demo-rt-$$
OUT=an-demo-out-$$
LOG=$(mktemp /tmp/arcnat-demo.XXXXXX)
APID=""
SPIDS=""

say() { printf '\n== %s\n' "$*"; }
cleanup() {
	for p in $SPIDS; do kill "$p" 2>/dev/null || true; done
	[ -n "$APID" ] && kill "$APID" 2>/dev/null || true
	for n in $IN $RT $OUT; do ip netns del "$n" 2>/dev/null || true; done
	rm -f "$LOG"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; then
	echo "demo: needs root and /dev/net/tun" >&2
	exit 1
fi
[ -x "$ARCNAT" ] || { echo "demo: $ARCNAT missing: run make" >&2; exit 1; }

say "three namespaces: inside ($IN), router ($RT), outside ($OUT)"
for n in $IN $RT $OUT; do
	ip netns add "$n"
	ip -n "$n" link set lo up
	ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$RT" link add r0 type veth peer name o0 netns "$OUT"
ip -n "$RT" link set r0 up
ip -n "$OUT" addr add 198.51.100.1/24 dev o0
ip -n "$OUT" link set o0 up
ip -n "$IN" tuntap add dev tap0 mode tap
ip -n "$IN" addr add 10.0.2.2/24 dev tap0
ip -n "$IN" link set tap0 up
ip -n "$IN" route add default via 10.0.2.1

say "arcnat gateway --inside tap0@$IN --outside r0 --external-ip 198.51.100.2/24 --forward tcp:8080:10.0.2.2:80"
ip netns exec "$RT" "$ARCNAT" gateway --inside "tap0@$IN" --outside r0 \
	--external-ip 198.51.100.2/24 --forward tcp:8080:10.0.2.2:80 2>"$LOG" &
APID=$!
i=0
until grep -q 'gateway ready' "$LOG"; do
	i=$((i + 1))
	[ $i -le 100 ] && kill -0 "$APID" 2>/dev/null || { cat "$LOG"; exit 1; }
	sleep 0.1
done
grep -v '^arcnat: gateway ready' "$LOG" || true

say "ping from inside 10.0.2.2 to the outside host 198.51.100.1, through NAT"
ip netns exec "$IN" ping -c 3 -i 0.2 -W 2 198.51.100.1

say "TCP: the outside host sees the connection come from 198.51.100.2"
timeout 10 ip netns exec "$OUT" socat -T 5 TCP-LISTEN:7000,reuseaddr \
	SYSTEM:'echo "outside sees you as $SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
SPIDS="$SPIDS $!"
sleep 0.3
ip netns exec "$IN" timeout 5 socat -T 3 - TCP:198.51.100.1:7000 </dev/null

say "port forward: outside connects to 198.51.100.2:8080, inside server on :80"
timeout 10 ip netns exec "$IN" socat -T 5 TCP-LISTEN:80,reuseaddr \
	SYSTEM:'echo "inside server sees the real client $SOCAT_PEERADDR"' &
SPIDS="$SPIDS $!"
sleep 0.3
ip netns exec "$OUT" timeout 5 socat -T 3 - TCP:198.51.100.2:8080 </dev/null

say "statistics (SIGUSR1)"
kill -USR1 "$APID"
sleep 0.5
grep -E '^stat (inside|outside)\.(rx|tx)_packets|^stat nat\.(flows|flows_out|flows_in) |^stat drops.total' "$LOG" || true

say "stop (SIGTERM): clean exit"
kill -TERM "$APID"
wait "$APID" && echo "arcnat exited with status 0"
APID=""
