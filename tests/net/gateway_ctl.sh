#!/bin/sh
# gateway_ctl.sh - the control socket of a running `arcnat gateway` and its
# client, `arcnat ctl` (docs/control.md): the socket where --name puts it
# (under $XDG_RUNTIME_DIR, here a directory of the test's),
# mode 0600 and owned by the user arcnat became (nobody), in a directory of
# mode 0700; status; stats while an iperf3 run moves the counters, with
# every counter of the SIGUSR1 block among them; flows (iperf3's, listed
# while it runs and after, and a UDP
# flow listed, deleted and gone); metrics read by Prometheus'
# own text parser (python3-prometheus-client), and the --metrics-file kept
# up to date by atomic renames; log-level; the client's exit statuses; a
# second arcnat refused the same name, and a default socket taken by
# another arcnat only warned about. Then hostile clients: garbage, a 1 MiB
# line, 100 clients at once, a client that never reads; after which arcnat
# still answers, still forwards (TCP, sha256 compared) and stops cleanly.
#
#   ns an-in-$$ (inside)           ns an-rt-$$ (router)                     ns an-out-$$ (outside)
#   tap0 10.0.2.2/24 <---TAP--->   arcnat gateway --name ctl-$$             o0 198.51.100.1/24
#   iperf3 -c, socat               --inside tap0@an-in-$$  r0 <--veth-->    iperf3 -s, socat
#                                  --outside r0 --external-ip 198.51.100.2/24
#   arcnat ctl and the hostile clients run in the root namespace: a UNIX
#   socket is reached by its path.
. "$(dirname "$0")/lib.sh"

net_checks
need iperf3 socat
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	fail "$PY has no prometheus_client (tools/deps.sh installs python3-prometheus-client)"
net_setup packet
NAME=ctl-$$
# The default path is under net_setup's runtime directory of the test's
# own ($XDG_RUNTIME_DIR).
CTL_TO=$(tscale 20)
ctl() { timeout "$CTL_TO" "$ARCNAT" ctl --timeout "$CTL_TO" "$@"; }
SOCK=$XDG_RUNTIME_DIR/arcnat/$NAME.sock
mkdir -p "$TMPD/metrics" && chown 65534 "$TMPD/metrics" || fail "metrics directory"
PROM=$TMPD/metrics/arcnat.prom

start_arcnat --inside "tap0@$NS_IN" --outside r0 --external-ip 198.51.100.2/24 \
	--name "$NAME" --metrics-file "$PROM" --metrics-interval 1 --flow-stats
[ "$(awk '/^Uid:/ {print $2}' "/proc/$ARC_PID/status")" = 65534 ] ||
	fail "arcnat does not run as nobody"

# --- the socket -------------------------------------------------------------
[ -S "$SOCK" ] || fail "no socket at $SOCK"
[ "$(command stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(command stat -c %a "$SOCK"), want 600"
[ "$(command stat -c %u "$SOCK")" = 65534 ] || fail "socket owned by uid $(command stat -c %u "$SOCK"), want 65534"
[ "$(command stat -c %a "$(dirname "$SOCK")")" = 700 ] ||
	fail "directory $(dirname "$SOCK") mode $(command stat -c %a "$(dirname "$SOCK")"), want 700"
ok "socket $SOCK: mode 0600, owned by nobody, directory 0700"

# --- status -----------------------------------------------------------------
ctl --name "$NAME" status >"$TMPD/status.txt" || fail "arcnat ctl status: exit $?"
grep -q '^uplink  *packet r0$' "$TMPD/status.txt" || fail "status: $(cat "$TMPD/status.txt")"
grep -q '^gateway  *10.0.2.1/24$' "$TMPD/status.txt" || fail "status: no gateway line"
grep -q '^external  *198.51.100.2/24$' "$TMPD/status.txt" || fail "status: no external line"
ctl --control "$SOCK" --json status >"$TMPD/status.json" || fail "arcnat ctl --json status"
"$PY" - "$TMPD/status.json" "$ARC_PID" <<'PYEOF' || fail "status JSON: $(cat "$TMPD/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["pid"] == int(sys.argv[2]), s["pid"]
assert s["uplink"] == {"kind": "packet", "name": "r0"}, s["uplink"]
assert s["limits"]["control_clients"] == 16
roles = sorted((p["role"], p["name"]) for p in s["ports"])
assert [r for r, n in roles] == ["guest", "uplink"], roles
assert roles[0][1].startswith("tap0"), roles
assert s["uptime"] > 0
PYEOF
ok "status: uplink, addresses, limits, two ports, pid"

# --- stats while traffic runs ----------------------------------------------
bg out_ns timeout "$(tscale 40)" iperf3 -s -1 -B 198.51.100.1 -p 5201
wait_listen out_ns t 5201 || fail "iperf3 server did not start"
bg in_ns timeout "$(tscale 40)" iperf3 -c 198.51.100.1 -p 5201 -t 4
IPC=$BG_PID
sleep 1
prev=0
moved=0
for i in 1 2 3 4; do
	v=$(ctl --name "$NAME" --json stats | "$PY" -c '
import json, sys
print(json.load(sys.stdin)["ports"]["inside"]["rx_packets"])') || fail "stats during iperf3"
	info "inside.rx_packets $v"
	[ "$v" -gt "$prev" ] && moved=$((moved + 1))
	prev=$v
	if [ $i = 2 ]; then
		# iperf3's control and data connections, established now
		ctl --name "$NAME" --json flows proto tcp port 5201 state established \
			>"$TMPD/flows.during.json" || fail "flows during iperf3"
	fi
	sleep 0.5
done
wait "$IPC" || fail "iperf3 client failed"
[ "$moved" = 4 ] || fail "inside.rx_packets did not grow at each of 4 looks during iperf3 ($moved)"
ok "stats during iperf3: inside.rx_packets grew at each look (last $prev)"
"$PY" -c '
import json, sys
fl = json.load(open(sys.argv[1]))
assert len(fl) >= 2 and all(f["state"] == "ESTABLISHED" for f in fl), fl
# --flow-stats: the data connection has carried megabytes, acknowledged
assert max(f["bytes"]["orig"] + f["bytes"]["reply"] for f in fl) > 1 << 20, fl
assert all(f["packets"]["reply"] > 0 and f["age"] >= 0 for f in fl), fl' "$TMPD/flows.during.json" ||
	fail "flows during iperf3: $(cat "$TMPD/flows.during.json")"
ok "flows during iperf3: $(grep -c '"id"' "$TMPD/flows.during.json") established TCP flows to port 5201, with their age, packets and bytes each way"

# every counter of the SIGUSR1 block is in `stats` (same names, per port)
ARC_STATS_END=1
stats_request || fail "SIGUSR1"
awk '/^arcnat: statistics/ {delete s; n = 0} $1 == "stat" {s[n++] = $2} END {for (i = 0; i < n; i++) print s[i]}' \
	"$ARC_LOG" | sort -u >"$TMPD/sigusr1.names"
ctl --name "$NAME" --json stats | "$PY" -c '
import json, sys
r = json.load(sys.stdin)
names = set(r["counters"])
for port, c in r["ports"].items():
    names |= {port + "." + k for k in c if k not in ("name", "listener")}
print("\n".join(sorted(names)))' >"$TMPD/ctl.names" || fail "stats JSON"
missing=$(comm -23 "$TMPD/sigusr1.names" "$TMPD/ctl.names")
[ -z "$missing" ] || fail "counters of the SIGUSR1 block missing from stats: $missing"
ok "stats has all $(wc -l <"$TMPD/sigusr1.names") counters of the SIGUSR1 block"

# --- flows ------------------------------------------------------------------
ctl --name "$NAME" --json flows proto tcp port 5201 >"$TMPD/flows.json" || fail "flows"
"$PY" - "$TMPD/flows.json" <<'PYEOF' || fail "flows of iperf3: $(cat "$TMPD/flows.json")"
import json, sys
fl = json.load(open(sys.argv[1]))
assert len(fl) >= 2, fl  # iperf3's control and data connections
for f in fl:
    assert f["proto"] == "tcp" and f["orig"]["dst"] == "198.51.100.1:5201", f
    assert f["orig"]["src"].startswith("10.0.2.2:"), f
    assert f["reply"]["src"] == "198.51.100.1:5201", f
    assert f["reply"]["dst"].startswith("198.51.100.2:"), f
    assert f["state"] in ("ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE"), f
    assert f["replied"] and f["expires_in"] > 0, f
PYEOF
ctl --name "$NAME" flows proto tcp >"$TMPD/flows.txt" || fail "flows (table)"
grep -q '198.51.100.1:5201' "$TMPD/flows.txt" || fail "flows table: $(cat "$TMPD/flows.txt")"
in_ns sh -c 'echo hello | timeout 5 socat -u - UDP:198.51.100.1:5400,sourceport=5401' ||
	fail "UDP datagram to 198.51.100.1:5400"
ctl --name "$NAME" --json flows proto udp port 5400 >"$TMPD/udp.json" || fail "flows udp"
set -- $("$PY" -c '
import json, sys
fl = json.load(open(sys.argv[1]))
assert len(fl) == 1, fl
assert fl[0]["orig"]["src"] == "10.0.2.2:5401", fl
print(fl[0]["id"], fl[0]["key"])' "$TMPD/udp.json") || fail "the UDP flow: $(cat "$TMPD/udp.json")"
[ $# = 2 ] || fail "no id and key"
ctl --name "$NAME" flow-delete "$1" "$2" | grep -q "^deleted flow $1$" || fail "flow-delete $1 $2"
n=$(ctl --name "$NAME" --json flows proto udp port 5400 | "$PY" -c '
import json, sys
print(len(json.load(sys.stdin)))') || fail "flows after flow-delete"
[ "$n" = 0 ] || fail "the UDP flow is still listed after flow-delete ($n)"
ctl --name "$NAME" flow-delete "$1" "$2" 2>"$TMPD/err.txt"
[ $? = 1 ] || fail "a second flow-delete: want exit 1"
grep -q 'error -32005' "$TMPD/err.txt" || fail "a second flow-delete: $(cat "$TMPD/err.txt")"
ok "flows: iperf3's TCP flows with both tuples; a UDP flow listed, deleted, gone"

# --- leases -------------------------------------------------------------------
# A DHCP client that only asks (its script configures nothing): the lease
# is bound to tap0's MAC.
printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" >"%s"\nexit 0\n' "$TMPD/lease.ip" >"$TMPD/udhcpc.sh"
chmod +x "$TMPD/udhcpc.sh"
in_ns timeout "$CTL_TO" busybox udhcpc -i tap0 -f -q -n -t 5 -T 2 -x hostname:ctlguest \
	-s "$TMPD/udhcpc.sh" >"$TMPD/udhcpc.out" 2>&1 || fail "no DHCP lease: $(tail -n 3 "$TMPD/udhcpc.out")"
MAC=$(ip -n "$NS_IN" -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
ctl --name "$NAME" --json leases >"$TMPD/leases.json" || fail "leases"
"$PY" - "$TMPD/leases.json" "$(cat "$TMPD/lease.ip")" "$MAC" <<'PYEOF' || fail "leases: $(cat "$TMPD/leases.json")"
import json, sys
ls = [l for l in json.load(open(sys.argv[1])) if l["state"] == "bound"]
assert len(ls) == 1, ls
l = ls[0]
assert l["ip"] == sys.argv[2] and l["mac"] == sys.argv[3], (l, sys.argv)
assert l["name"] == "ctlguest" and not l["static"] and l["expires_in"] > 3000, l
PYEOF
ctl --name "$NAME" leases | grep -q "^$(cat "$TMPD/lease.ip") .* bound " || fail "leases (table)"
ok "leases: the bound lease of tap0's MAC, its name and time left"

# --- metrics ----------------------------------------------------------------
ctl --name "$NAME" metrics >"$TMPD/metrics.txt" || fail "arcnat ctl metrics"
cat >"$TMPD/prom.py" <<'PYEOF'
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
bad = [(n, f.type) for n, f in fams.items() if f.type not in ("counter", "gauge")]
assert not bad, bad
rx = {s.labels["port"]: s.value for s in fams["arcnat_port_rx_packets"].samples}
assert rx["inside"] > 1000 and rx["outside"] > 1000, rx
assert fams["arcnat_port_rx_packets"].type == "counter"
assert fams["arcnat_nat_flows"].type == "gauge"
assert fams["arcnat_nat_flows_out"].type == "counter"
assert fams["arcnat_nat_flows_out"].samples[0].value >= 2
assert fams["arcnat_uptime_seconds"].samples[0].value > 0
print(len(fams))
PYEOF
n=$("$PY" "$TMPD/prom.py" "$TMPD/metrics.txt") || fail "metrics do not parse as expected: $(head -n 20 "$TMPD/metrics.txt")"
ok "metrics: $n families, each a counter or a gauge, parsed by prometheus_client"
[ -s "$PROM" ] || fail "no --metrics-file $PROM"
m0=$(command stat -c %Y.%y "$PROM")
"$PY" "$TMPD/prom.py" "$PROM" >/dev/null || fail "--metrics-file does not parse"
i=0
while [ $i -lt 40 ] && [ "$(command stat -c %Y.%y "$PROM")" = "$m0" ]; do
	sleep 0.1
	i=$((i + 1))
done
[ "$(command stat -c %Y.%y "$PROM")" != "$m0" ] || fail "--metrics-file not rewritten within 4 s"
[ "$(ls -A "$TMPD/metrics")" = arcnat.prom ] ||
	fail "the metrics directory holds more than the file: $(ls -A "$TMPD/metrics")"
ok "--metrics-file rewritten every second, parses, no temporary file left"

# --- log-level and the client's exit statuses --------------------------------
[ "$(ctl --name "$NAME" log-level debug)" = debug ] || fail "log-level debug"
[ "$(ctl --name "$NAME" log-level)" = debug ] || fail "log-level after set"
ctl --name "$NAME" log-level info >/dev/null || fail "log-level info"
ctl --name "$NAME" log-level loud 2>"$TMPD/err.txt"
[ $? = 1 ] || fail "log-level loud: want exit 1"
grep -q 'error -32602' "$TMPD/err.txt" || fail "log-level loud: $(cat "$TMPD/err.txt")"
ctl --name "$NAME" call no-such-method 2>/dev/null
[ $? = 1 ] || fail "an unknown method: want exit 1"
ctl --name "$NAME" frobnicate 2>/dev/null
[ $? = 2 ] || fail "an unknown command: want exit 2"
ctl --name "$NAME" --control "$SOCK" status 2>/dev/null
[ $? = 2 ] || fail "--name and --control: want exit 2"
ctl --control "$TMPD/nothing.sock" status 2>/dev/null
[ $? = 1 ] || fail "no such socket: want exit 1"
"$ARCNAT" ctl --help | grep -q '^Usage: arcnat ctl' || fail "arcnat ctl --help"
ok "log-level get and set; exit 1 on an error reply or no socket, 2 on bad usage"

# --- a second arcnat: a taken name refused, a taken default warned about ----
timeout "$CTL_TO" "$ARCNAT" run --name "$NAME" -- true >"$TMPD/second.log" 2>&1
[ $? = 1 ] || fail "a second arcnat with the same --name: want exit 1: $(cat "$TMPD/second.log")"
grep -q "another arcnat serves it" "$TMPD/second.log" || fail "no clear error: $(cat "$TMPD/second.log")"
mkdir -p "$TMPD/xdg" && chmod 700 "$TMPD/xdg"
XDG_RUNTIME_DIR=$TMPD/xdg timeout "$CTL_TO" "$ARCNAT" run -- sleep "$(tscale 6)" >"$TMPD/xdg1.log" 2>&1 &
XPID=$!
i=0
while [ $i -lt 50 ] && [ ! -S "$TMPD/xdg/arcnat/arcnat.sock" ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -S "$TMPD/xdg/arcnat/arcnat.sock" ] || fail "arcnat run made no default socket in \$XDG_RUNTIME_DIR/arcnat"
XDG_RUNTIME_DIR=$TMPD/xdg timeout "$CTL_TO" "$ARCNAT" run -- true >"$TMPD/xdg2.log" 2>&1 ||
	fail "a second arcnat run with the default socket taken failed: $(cat "$TMPD/xdg2.log")"
grep -q "running without one" "$TMPD/xdg2.log" || fail "no warning: $(cat "$TMPD/xdg2.log")"
XDG_RUNTIME_DIR=$TMPD/xdg ctl status | grep -q '(run)' || fail "the first arcnat run does not answer"
kill "$XPID" 2>/dev/null
wait "$XPID" 2>/dev/null
ok "the same --name refused (exit 1, clear error); a taken default socket is a warning"

# --- hostile clients ----------------------------------------------------------
cat >"$TMPD/hostile.py" <<'PYEOF'
import json, socket, sys, time
path, what = sys.argv[1], sys.argv[2]
def conn(rcvbuf=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(path)    # blocking: waits while the backlog is full
    s.settimeout(10)
    return s
def lines(s, n=1):
    buf = b""
    out = []
    while len(out) < n:
        d = s.recv(65536)
        if not d:
            break
        buf += d
        while b"\n" in buf and len(out) < n:
            l, buf = buf.split(b"\n", 1)
            out.append(json.loads(l))
    return out
def eof(s, limit=10):
    end = time.time() + limit
    s.settimeout(1)
    while time.time() < end:
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
    return False
if what == "garbage":
    s = conn()
    s.sendall(b"garbage\n\x00\xff\xfe{]\n{\"method\":\"status\"}\n")
    r = lines(s, 3)
    assert [x.get("error", {}).get("code") for x in r] == [-32700, -32700, None], r
    assert "result" in r[2]
elif what == "huge":
    s = conn()
    try:
        s.sendall(b"x" * (1 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = lines(s, 1)
    assert r and r[0]["error"]["code"] == -32001, r
    assert eof(s)
elif what == "many":
    socks = [conn() for _ in range(100)]
    for i, s in enumerate(socks):
        try:
            s.sendall(b'{"id":%d,"method":"status"}\n' % i)
        except (BrokenPipeError, ConnectionResetError):
            pass
    ok = refused = 0
    for s in socks:
        try:
            r = lines(s, 1)
        except ConnectionResetError:
            r = []
        if r and "result" in r[0]:
            ok += 1
        elif r and r[0]["error"]["code"] == -32002:
            refused += 1
    assert 1 <= ok <= 16 and ok + refused == 100, (ok, refused)
    print(ok, refused)
elif what == "noread":
    s = conn(rcvbuf=4096)
    sent = 0
    t0 = time.time()
    try:
        while sent < 100000 and time.time() - t0 < 30:
            s.sendall(b'{"method":"metrics"}\n')
            sent += 1
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    assert sent < 100000, sent
    assert eof(s), "not closed"
    print(sent)
PYEOF
hostile() { timeout "$CTL_TO" "$PY" "$TMPD/hostile.py" "$SOCK" "$@"; }
hostile garbage || fail "garbage"
ok "garbage gets parse errors, and the same connection is answered after"
hostile huge || fail "a 1 MiB line"
ok "a 1 MiB line: error -32001 and the connection closed"
r=$(hostile many) || fail "100 clients at once"
ok "100 clients at once: $r (answered, refused with -32002)"
r=$(hostile noread) || fail "a client that never reads"
ok "a client that never reads is closed (after $r requests)"
arcnat_alive || fail "arcnat died under hostile clients"
ctl --name "$NAME" status >/dev/null || fail "status after the hostile clients"
DATA=$TMPD/data.8M
make_data "$DATA" 8
tcp_transfer up "$NS_OUT" "$NS_IN" 198.51.100.1 5300 198.51.100.1 "$DATA" "$(tscale 30)"
ok "after the hostile clients arcnat answers and forwards: 8 MiB up, sha256 equal ($TRANSFER_RATE)"
grep -q 'seccomp: blocked' "$ARC_LOG" && fail "seccomp blocked a call"

stop_arcnat
ok "gateway_ctl: all checks passed"
