#!/bin/sh
# gateway_tun.sh - arcnat gateway with an L3 TUN uplink: the router
# namespace's kernel owns the outside link and forwards between it and
# arcnat's TUN. Ping, TCP both ways (100 MiB, sha256), UDP request/reply, a
# TCP port forward that keeps the client's address.
#
#   ns an-in-$$ (inside)            ns an-rt-$$ (router, ip_forward=1)           ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 (+10.0.2.3)    arcnat gateway                                veth o0 198.51.100.1/24
#   default via 10.0.2.1  <--TAP--> --inside tap0@an-in-$$                        203.0.113.0/24
#                                   --outside tun:arc0 --external-ip              via 198.51.100.254
#                                     203.0.113.2/32
#                                   --forward tcp:8080:10.0.2.2:80
#                                   arc0 (TUN, made by arcnat,
#                                     route 203.0.113.2/32 dev arc0)
#                                   r0 198.51.100.254/24 <---------------veth-------> o0
#
# External address 203.0.113.2 (TEST-NET-3) exists only as a route into
# arcnat's TUN; the outside must see it as the source of everything.
. "$(dirname "$0")/lib.sh"

net_checks
need tcpdump dnsmasq dig
net_setup tun
DATA=$TMPD/data.100M
make_data "$DATA" 100
XFER_TO=$(tscale 120)

# An upstream DNS server for the forwarder's check below (services work
# the same whatever the uplink).
printf 'address=/svc.test/198.51.100.77\n' >"$TMPD/dnsmasq.conf"
bg out_ns timeout "$(tscale 300)" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--listen-address=198.51.100.1 --bind-interfaces --local-ttl=60 --pid-file= \
	--user=root --conf-file="$TMPD/dnsmasq.conf" >"$TMPD/dnsmasq.out" 2>&1
wait_listen out_ns u 53 || fail "dnsmasq did not start: $(tail -n 5 "$TMPD/dnsmasq.out")"
wait_listen out_ns t 53 || fail "dnsmasq does not listen on TCP"

start_arcnat --inside "tap0@$NS_IN" --outside tun:arc0 --external-ip 203.0.113.2/32 \
	--forward tcp:8080:10.0.2.2:80 --dns 198.51.100.1
rt_ns ip route show 203.0.113.2 | grep -q 'dev arc0' ||
	fail "no route 203.0.113.2 dev arc0 in the router namespace: $(rt_ns ip route show | tr '\n' ';')"
ok "arcnat made arc0 and the route 203.0.113.2 dev arc0 in the router namespace"

core_checks 203.0.113.2

# --- DNS forwarder through the TUN: UDP (forwarded), TCP (redirected) -------
for proto in +notcp +tcp; do
	got=$(in_ns timeout 15 dig +short "$proto" +time=3 +tries=1 @10.0.2.1 svc.test 2>&1)
	[ "$got" = 198.51.100.77 ] ||
		fail "dig $proto @10.0.2.1 svc.test through the TUN uplink: expected 198.51.100.77, got '$got'"
done
ok "DNS via the gateway over the TUN uplink: UDP forwarded from 203.0.113.2, TCP redirected; both answered 198.51.100.77"

# --- exit and counters ----------------------------------------------------------
arcnat_alive || fail "arcnat is not running any more"
stop_arcnat
fo=$(stat_last nat.flows_out)
fi_=$(stat_last nat.flows_in)
[ "$fo" -gt 0 ] || fail "stat nat.flows_out is $fo after the run (expected > 0)"
[ "$fi_" -gt 0 ] || fail "stat nat.flows_in is $fi_ after the port forward (expected > 0)"
ok "final statistics: nat.flows_out $fo > 0, nat.flows_in $fi_ > 0"
