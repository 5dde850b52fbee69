#!/bin/sh
# services_dns.sh - arcnat's DNS forwarder at 10.0.2.1: forwarding to an
# upstream dnsmasq in the outside namespace, the cache, a big answer through
# TC and TCP, local names and their PTRs, a DHCP client's host name,
# malformed queries, ping to the gateway, --dns-max-ttl on cached answers,
# SERVFAIL when the upstream is gone (stopped; an address where nobody is).
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router)                       ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                              veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$  r0 (no address) <--veth--> dnsmasq on 198.51.100.1:53
#   dig @10.0.2.1, udhcpc,          --outside r0 --external-ip 198.51.100.2/24   (--no-resolv: it answers only
#   inject_services.py dns          --dns 198.51.100.1 --host-ip 198.51.100.1     its own records, never
#                                   --dhcp-range 10.0.2.100,10.0.2.120             forwards)
#
# dnsmasq's records: svc.test (and every name under it) A 198.51.100.77,
# TTL 60; big.test 12 TXT records of 250 bytes (about 3 KB: more than the
# 1232 bytes dig offers, so the answer comes truncated and dig retries over
# TCP, which arcnat's NAT redirects to the upstream server; dig +tcp too,
# counted in nat.redirects).
# The DHCP pool starts at .100 so that the leased address is not the static
# 10.0.2.2 that dig uses.
# Malformed queries (inject_services.py dns, from 10.0.2.2): no readable
# header or QR set must be dropped (drop.dns.malformed), the others
# (QDCOUNT 0 or 2, pointer loops, labels past the end, ...) answered FORMERR
# with their ID, and counted in `stat dns.formerr`; a failure of that last
# check is reported at the end so that the checks after it still run.
# Later runs: --dns-max-ttl 30 (a cached TTL <= 30), then dnsmasq stopped
# (SERVFAIL in < 8 s, dns.servfail), then --dns 198.51.100.9, an address
# where nothing answers ARP (SERVFAIL by timeout).
. "$(dirname "$0")/lib.sh"

net_checks
need dig dnsmasq busybox
need_scapy
net_setup packet
DIG_TO=$(tscale 3)
LATE_FAIL=""
# late_fail MSG: a failed check whose script goes on; the script fails at the end.
late_fail() {
	printf 'FAIL [%4ss] %s (the other checks go on)\n' "$(($(date +%s) - T0))" "$*"
	LATE_FAIL="$LATE_FAIL${LATE_FAIL:+; }$*"
}

# --- the upstream: dnsmasq on 198.51.100.1 in the outside namespace -------------
{
	echo 'address=/svc.test/198.51.100.77'
	i=0
	while [ $i -lt 12 ]; do
		printf 'txt-record=big.test,%s%s\n' "$(printf '%02d' $i)" "$(head -c 248 /dev/zero | tr '\0' x)"
		i=$((i + 1))
	done
} >"$TMPD/dnsmasq.conf"
start_dnsmasq() {
	bg out_ns timeout "$(tscale 300)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--listen-address=198.51.100.1 --bind-interfaces --local-ttl=60 --pid-file= \
		--user=root --conf-file="$TMPD/dnsmasq.conf" --log-queries \
		--log-facility="$TMPD/dnsmasq.log" >"$TMPD/dnsmasq.out" 2>&1
	DNSMASQ=$BG_PID
	wait_listen out_ns u 53 || fail "dnsmasq did not start: $(cat "$TMPD/dnsmasq.out" "$TMPD/dnsmasq.log" 2>/dev/null | tail -n 5)"
	wait_listen out_ns t 53 || fail "dnsmasq does not listen on TCP: $(tail -n 5 "$TMPD/dnsmasq.log")"
}
start_dnsmasq
# the upstream itself works (else a failure below would be this script's)
got=$(out_ns timeout 10 dig +short +time=2 +tries=1 @198.51.100.1 svc.test 2>&1)
[ "$got" = 198.51.100.77 ] || fail "dnsmasq itself does not answer svc.test: '$got'"
ok "upstream dnsmasq on 198.51.100.1 answers svc.test 198.51.100.77 (queried in the outside namespace)"

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --host-ip 198.51.100.1 --dhcp-range 10.0.2.100,10.0.2.120

# qdig ARGS...: dig from the inside at 10.0.2.1, output to $TMPD/dig.out,
# bounded; the exit status is dig's (9 = no reply).
qdig() {
	in_ns timeout "$((DIG_TO * 4 + 5))" dig +time="$DIG_TO" +tries=1 @10.0.2.1 "$@" >"$TMPD/dig.out" 2>&1
}
dig_status() { sed -n 's/.*->>HEADER<<- .*status: \([A-Z]*\),.*/\1/p' "$TMPD/dig.out" | tail -n 1; }
# dig_answers TYPE: the answer records' data of that type (ANSWER SECTION only).
dig_answers() {
	awk -v t="$1" '/^;; ANSWER SECTION:/ {a = 1; next} /^$/ {a = 0} a && $4 == t {print $5}' "$TMPD/dig.out"
}
# snap: one statistics block, read with stat_last NAME.
snap() { stats_request || fail "could not read statistics"; }

# --- forwarded, then from the cache ---------------------------------------------------
snap
f0=$(stat_last dns.forwarded) u0=$(stat_last dns.upstream_answers)
qdig svc.test A || fail "dig @10.0.2.1 svc.test failed (status $?): $(tail -n 5 "$TMPD/dig.out")"
[ "$(dig_status)" = NOERROR ] && [ "$(dig_answers A)" = 198.51.100.77 ] ||
	fail "dig @10.0.2.1 svc.test: status '$(dig_status)', A '$(dig_answers A)' (expected NOERROR, 198.51.100.77)"
snap
f1=$(stat_last dns.forwarded) h1=$(stat_last dns.cache_hits) u1=$(stat_last dns.upstream_answers)
[ "$f1" -eq $((f0 + 1)) ] && [ "$u1" -eq $((u0 + 1)) ] ||
	fail "first svc.test query: dns.forwarded $f0 -> $f1, dns.upstream_answers $u0 -> $u1 (expected +1 each)"
grep -q 'query\[A\] svc.test from 198.51.100.2$' "$TMPD/dnsmasq.log" ||
	fail "dnsmasq did not log the query from 198.51.100.2: $(grep query "$TMPD/dnsmasq.log" | tail -n 3)"
ok "dig @10.0.2.1 svc.test: 198.51.100.77, forwarded (dns.forwarded $f0 -> $f1), dnsmasq saw it from 198.51.100.2"

qdig svc.test A || fail "second dig svc.test failed (status $?)"
[ "$(dig_answers A)" = 198.51.100.77 ] || fail "second dig svc.test: A '$(dig_answers A)'"
ttl=$(awk '/^;; ANSWER SECTION:/ {a = 1; next} a && $4 == "A" {print $2; exit}' "$TMPD/dig.out")
snap
f2=$(stat_last dns.forwarded) h2=$(stat_last dns.cache_hits)
[ "$h2" -eq $((h1 + 1)) ] && [ "$f2" -eq "$f1" ] ||
	fail "second svc.test query: dns.cache_hits $h1 -> $h2 (expected +1), dns.forwarded $f1 -> $f2 (expected unchanged)"
[ "$ttl" -le 60 ] || fail "cached answer has TTL $ttl > 60 (dnsmasq --local-ttl=60)"
[ "$(grep -c 'query\[A\] svc.test from 198.51.100.2$' "$TMPD/dnsmasq.log")" = 1 ] ||
	fail "dnsmasq saw svc.test more than once: the second query was not served from the cache"
ok "second dig svc.test: from the cache (dns.cache_hits $h1 -> $h2, dns.forwarded stays $f2, TTL $ttl <= 60, dnsmasq saw one query)"

# --- a big answer: TC over UDP, then TCP --------------------------------------------
snap
t0=$(stat_last dns.truncated)
qdig big.test TXT || fail "dig big.test TXT failed (status $?): $(tail -n 5 "$TMPD/dig.out")"
grep -q 'Truncated, retrying in TCP mode' "$TMPD/dig.out" ||
	fail "dig big.test TXT: no 'Truncated, retrying in TCP mode': $(grep -E 'status|MSG SIZE|Truncated' "$TMPD/dig.out")"
sz=$(sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)$/\1/p' "$TMPD/dig.out" | tail -n 1)
n=$(dig_answers TXT | wc -l)
[ "$(dig_status)" = NOERROR ] && [ "${sz:-0}" -gt 2900 ] && [ "$n" = 12 ] ||
	fail "dig big.test TXT over TCP: status '$(dig_status)', MSG SIZE '$sz', $n TXT records (expected NOERROR, > 2900, 12)"
grep -q 'SERVER: 10.0.2.1#53(10.0.2.1) (TCP)' "$TMPD/dig.out" ||
	fail "dig big.test TXT: the final answer did not come over TCP from 10.0.2.1: $(grep SERVER "$TMPD/dig.out")"
t1=$(stat dns.truncated) || fail "statistics"
[ "$t1" -gt "$t0" ] || fail "dns.truncated $t0 -> $t1 after a truncated reply"
ok "dig big.test TXT: 'Truncated, retrying in TCP mode', then over TCP 12 TXT records, MSG SIZE $sz > 2900; dns.truncated $t0 -> $t1"

# --- dig +tcp: one NAT flow redirected to the upstream server ----------------------
snap
r0=$(stat_last nat.redirects)
q0=$(grep -c 'query\[A\] svc.test from 198.51.100.2$' "$TMPD/dnsmasq.log")
qdig +tcp svc.test A || fail "dig +tcp svc.test failed (status $?): $(tail -n 5 "$TMPD/dig.out")"
[ "$(dig_answers A)" = 198.51.100.77 ] || fail "dig +tcp svc.test: A '$(dig_answers A)'"
grep -q 'SERVER: 10.0.2.1#53(10.0.2.1) (TCP)' "$TMPD/dig.out" ||
	fail "dig +tcp svc.test: the answer did not come over TCP from 10.0.2.1: $(grep SERVER "$TMPD/dig.out")"
q1=$(grep -c 'query\[A\] svc.test from 198.51.100.2$' "$TMPD/dnsmasq.log")
[ "$q1" -eq $((q0 + 1)) ] ||
	fail "dnsmasq saw svc.test from the external address $q0 -> $q1 times (expected +1: the TCP query, uncached)"
r1=$(stat nat.redirects) || fail "statistics"
[ "$r1" -eq $((r0 + 1)) ] || fail "nat.redirects $r0 -> $r1 after one dig +tcp (expected +1)"
ok "dig +tcp svc.test: answered from 10.0.2.1 over TCP by the upstream server (one NAT redirect: nat.redirects $r0 -> $r1)"

# --- local names -------------------------------------------------------------------
snap
l0=$(stat_last dns.local) f0=$(stat_last dns.forwarded)
qdig gateway.arcnat.internal A || fail "dig gateway.arcnat.internal failed (status $?)"
[ "$(dig_status)" = NOERROR ] && [ "$(dig_answers A)" = 10.0.2.1 ] ||
	fail "dig gateway.arcnat.internal: status '$(dig_status)', A '$(dig_answers A)' (expected 10.0.2.1)"
grep -q ';; flags:.* aa' "$TMPD/dig.out" || info "note: gateway.arcnat.internal answered without AA"
qdig -x 10.0.2.1 || fail "dig -x 10.0.2.1 failed (status $?)"
[ "$(dig_answers PTR)" = gateway.arcnat.internal. ] ||
	fail "dig -x 10.0.2.1: PTR '$(dig_answers PTR)' (status $(dig_status)), expected gateway.arcnat.internal."
qdig host.arcnat.internal A || fail "dig host.arcnat.internal failed (status $?)"
[ "$(dig_answers A)" = 198.51.100.1 ] ||
	fail "dig host.arcnat.internal (--host-ip 198.51.100.1): A '$(dig_answers A)' (status $(dig_status))"
qdig nosuchname.arcnat.internal A || fail "dig nosuchname.arcnat.internal failed (status $?)"
[ "$(dig_status)" = NXDOMAIN ] || fail "dig nosuchname.arcnat.internal: status '$(dig_status)', expected NXDOMAIN"
snap
[ "$(stat_last dns.local)" -ge $((l0 + 4)) ] && [ "$(stat_last dns.forwarded)" = "$f0" ] ||
	fail "local names: dns.local $l0 -> $(stat_last dns.local) (expected +4), dns.forwarded $f0 -> $(stat_last dns.forwarded) (expected unchanged)"
ok "local names: gateway.arcnat.internal A 10.0.2.1, PTR 10.0.2.1 gateway.arcnat.internal., host.arcnat.internal 198.51.100.1 (--host-ip), NXDOMAIN for another; dns.local +4, nothing forwarded"

# --- a DHCP client's host name -------------------------------------------------------
cat >"$TMPD/udhcpc.sh" <<EOF
#!/bin/sh
# no address configured: dig keeps using the static 10.0.2.2
[ "\$1" = bound ] && echo "ip=\${ip:-}" >"$TMPD/udhcpc.env"
exit 0
EOF
chmod +x "$TMPD/udhcpc.sh"
in_ns timeout "$(tscale 15)" busybox udhcpc -i tap0 -f -q -n -t 5 -T 2 -x hostname:guest1 \
	-s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.out" 2>&1 ||
	fail "udhcpc -x hostname:guest1 got no lease (exit status $?): $(tail -n 3 "$TMPD/udhcpc.out")"
GIP=$(sed -n 's/^ip=//p' "$TMPD/udhcpc.env" 2>/dev/null)
case $GIP in
10.0.2.1[0-2][0-9]) ;;
*) fail "udhcpc: leased address '$GIP' is not in --dhcp-range 10.0.2.100,10.0.2.120" ;;
esac
qdig guest1.arcnat.internal A || fail "dig guest1.arcnat.internal failed (status $?)"
[ "$(dig_answers A)" = "$GIP" ] ||
	fail "dig guest1.arcnat.internal: A '$(dig_answers A)' (status $(dig_status)), expected the leased $GIP"
qdig -x "$GIP" || fail "dig -x $GIP failed (status $?)"
[ "$(dig_answers PTR)" = guest1.arcnat.internal. ] ||
	fail "dig -x $GIP: PTR '$(dig_answers PTR)' (status $(dig_status)), expected guest1.arcnat.internal."
ok "DHCP host name: udhcpc -x hostname:guest1 leased $GIP; guest1.arcnat.internal A $GIP, PTR $GIP guest1.arcnat.internal."

# --- ping the gateway -------------------------------------------------------------------
e0=$(stat gw.echo_replies) || fail "statistics"
in_ns timeout 10 ping -c 3 -i 0.2 -W 2 10.0.2.1 >"$TMPD/ping.out" 2>&1 ||
	fail "ping 10.0.2.1 failed: $(tail -n 2 "$TMPD/ping.out")"
e1=$(stat gw.echo_replies) || fail "statistics"
[ "$e1" -ge $((e0 + 3)) ] || fail "gw.echo_replies $e0 -> $e1 after 3 answered pings"
ok "ping 10.0.2.1: 3/3 replies, gw.echo_replies $e0 -> $e1"

# --- malformed queries ------------------------------------------------------------------
snap
q0=$(stat_last dns.queries) m0=$(stat_last drop.dns.malformed) d0=$(stat_last drops.total) f0=$(stat_last dns.forwarded)
in_ns timeout "$(tscale 20)" "$PY" "$NET_DIR/inject_services.py" dns --server 10.0.2.1 --src 10.0.2.2 \
	--wait "$(tscale 2)" >"$TMPD/inject.out" 2>"$TMPD/inject.err" ||
	fail "inject_services.py dns failed: $(tail -n 5 "$TMPD/inject.err")"
sed 's/^/     | /' "$TMPD/inject.out"
N=$(sed -n 's/^sent \([0-9]*\)$/\1/p' "$TMPD/inject.out")
ND=$(sed -n 's/^expect_drop \([0-9]*\)$/\1/p' "$TMPD/inject.out")
NF=$(sed -n 's/^expect_formerr \([0-9]*\)$/\1/p' "$TMPD/inject.out")
B=$(sed -n 's/^bad_outcomes \([0-9]*\)$/\1/p' "$TMPD/inject.out")
[ -n "$N" ] && [ -n "$ND" ] && [ -n "$NF" ] && [ -n "$B" ] || fail "inject_services.py dns: no summary"
arcnat_alive || fail "arcnat died during the malformed DNS queries"
snap
q1=$(stat_last dns.queries) m1=$(stat_last drop.dns.malformed) d1=$(stat_last drops.total) f1=$(stat_last dns.forwarded)
[ "$B" = 0 ] || fail "$B malformed queries got another outcome than expected (see the case lines above: no reply to a header-less message or a response, FORMERR with the query's ID to the others)"
[ $((m1 - m0)) -ge "$ND" ] && [ $((d1 - d0)) -ge "$ND" ] ||
	fail "$ND unanswerable queries: drop.dns.malformed $m0 -> $m1, drops.total $d0 -> $d1 (expected +$ND each)"
[ $((q1 - q0)) -eq "$N" ] || fail "dns.queries $q0 -> $q1 for $N malformed queries"
[ "$f1" = "$f0" ] || fail "a malformed query was forwarded: dns.forwarded $f0 -> $f1"
ok "$N malformed queries: $ND without a readable header or with QR set dropped (drop.dns.malformed $m0 -> $m1, drops.total $d0 -> $d1), $NF (QDCOUNT 0/2, pointer loops, labels past the end, ...) answered FORMERR with their IDs; nothing forwarded"
# the FORMERR replies must be visible in the statistics too (a failure
# here is reported at the end, so that the checks below still run)
if ! grep -q '^stat dns.formerr ' "$ARC_LOG"; then
	late_fail "the $NF FORMERR replies are not in the statistics: SIGUSR1 prints no 'stat dns.formerr' line"
elif [ "$(stat_last dns.formerr)" -lt "$NF" ]; then
	late_fail "dns.formerr is $(stat_last dns.formerr) after $NF FORMERR replies"
else
	ok "dns.formerr $(stat_last dns.formerr) counts the $NF FORMERR replies"
fi

qdig after.svc.test A || fail "dig after.svc.test (after the malformed queries) failed (status $?)"
[ "$(dig_answers A)" = 198.51.100.77 ] || fail "after the malformed queries: after.svc.test A '$(dig_answers A)' (status $(dig_status))"
f2=$(stat dns.forwarded) || fail "statistics"
[ "$f2" -eq $((f1 + 1)) ] || fail "after.svc.test: dns.forwarded $f1 -> $f2 (expected +1)"
ok "after the malformed queries the forwarder still forwards: after.svc.test 198.51.100.77 (dns.forwarded $f1 -> $f2)"

# --- --dns-max-ttl: cached TTLs clamped (a new arcnat, an empty cache) ---------------------
stop_arcnat
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.1 --no-dhcp --dns-max-ttl 30
qdig svc.test A || fail "dig svc.test (--dns-max-ttl 30) failed (status $?)"
ttl1=$(awk '/^;; ANSWER SECTION:/ {a = 1; next} a && $4 == "A" {print $2; exit}' "$TMPD/dig.out")
qdig svc.test A || fail "second dig svc.test (--dns-max-ttl 30) failed (status $?)"
ttl2=$(awk '/^;; ANSWER SECTION:/ {a = 1; next} a && $4 == "A" {print $2; exit}' "$TMPD/dig.out")
h=$(stat dns.cache_hits) || fail "statistics"
[ "$h" = 1 ] && [ -n "$ttl2" ] && [ "$ttl2" -le 30 ] ||
	fail "--dns-max-ttl 30: the cached svc.test has TTL '$ttl2' (dns.cache_hits $h; expected a hit with TTL <= 30)"
ok "--dns-max-ttl 30: the cached svc.test answer has TTL $ttl2 <= 30 (upstream's 60; the forwarded first answer had $ttl1)"

# --- the upstream gone: SERVFAIL, bounded -------------------------------------------------
bg_stop "$DNSMASQ"
snap
s0=$(stat_last dns.servfail) to0=$(stat_last dns.timeouts)
ta=$(date +%s%N)
in_ns timeout 20 dig +time=8 +tries=1 @10.0.2.1 gone.svc.test A >"$TMPD/dig.out" 2>&1
rc=$?
tb=$(date +%s%N)
ms=$(((tb - ta) / 1000000))
[ "$(dig_status)" = SERVFAIL ] ||
	fail "upstream gone: dig gone.svc.test exit $rc, status '$(dig_status)' after $ms ms (expected SERVFAIL): $(grep -E 'timed out|status' "$TMPD/dig.out" | head -n 2)"
[ "$ms" -lt 8000 ] || fail "upstream gone: SERVFAIL after $ms ms (expected < 8 s)"
snap
[ "$(stat_last dns.servfail)" -gt "$s0" ] || fail "dns.servfail $s0 -> $(stat_last dns.servfail) after a SERVFAIL"
# The server's port-unreachable errors are recognised as ours, not a NAT drop.
[ "$(stat_last dns.upstream_icmp_errors)" -gt 0 ] ||
	fail "upstream gone: no dns.upstream_icmp_errors counted for the ICMP port-unreachable replies"
ok "upstream gone (dnsmasq stopped): SERVFAIL in $ms ms; dns.servfail $s0 -> $(stat_last dns.servfail), dns.timeouts $to0 -> $(stat_last dns.timeouts), dns.upstream_icmp_errors $(stat_last dns.upstream_icmp_errors)"
# cached names still answer without the upstream
qdig svc.test A || fail "dig svc.test (cached) failed with the upstream gone (status $?)"
[ "$(dig_answers A)" = 198.51.100.77 ] || fail "with the upstream gone, cached svc.test: A '$(dig_answers A)' (status $(dig_status))"
ok "with the upstream gone the cached svc.test still answers 198.51.100.77"

stop_arcnat

# --- an upstream address where nothing answers at all (no ARP reply, so no
# ICMP error either): SERVFAIL by timeout ---------------------------------------------
start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--dns 198.51.100.9 --no-dhcp
ta=$(date +%s%N)
in_ns timeout 20 dig +time=8 +tries=1 @10.0.2.1 nowhere.test A >"$TMPD/dig.out" 2>&1
rc=$?
tb=$(date +%s%N)
ms=$(((tb - ta) / 1000000))
[ "$(dig_status)" = SERVFAIL ] ||
	fail "--dns 198.51.100.9 (nobody there): dig exit $rc, status '$(dig_status)' after $ms ms (expected SERVFAIL): $(grep -E 'timed out|status' "$TMPD/dig.out" | head -n 2)"
[ "$ms" -lt 8000 ] || fail "--dns 198.51.100.9: SERVFAIL after $ms ms (expected < 8 s)"
sf=$(stat dns.servfail) || fail "statistics"
[ "$sf" -ge 1 ] || fail "--dns 198.51.100.9: dns.servfail is $sf after a SERVFAIL"
ok "--dns 198.51.100.9 (no host there): SERVFAIL in $ms ms; dns.servfail $sf, dns.timeouts $(stat_last dns.timeouts)"
stop_arcnat
[ -z "$LATE_FAIL" ] || fail "$LATE_FAIL"
