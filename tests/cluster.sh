# cluster.sh - sourced by the cluster tests after tap.sh: a real etcd on
# loopback ports in $T (one member, or three), and back ends as separate
# configuration directories on this machine whose backend_shell runs the
# other back end's command locally.  Skips the test (only it) with a
# printed reason when etcd or python3 is missing.
if ! command -v etcd > /dev/null; then
    echo "1..0 # SKIP etcd is missing (scripts/deps installs etcd-server)"
    exit 0
fi
if ! command -v python3 > /dev/null; then
    echo "1..0 # SKIP python3 is missing (scripts/deps installs it)"
    exit 0
fi
# backend_shell runs "mbctl ..." and "xsearch ..." by name.
PATH="$top_builddir:$PATH"
# The etcd client's HTTP module, from the build tree (mailbox/http.h);
# bench/cluster sources this file too.
XAPIARY_MODULEDIR="$top_builddir/.libs"
export PATH XAPIARY_MODULEDIR
ETCD_PIDS=""
trap 'for p in $ETCD_PIDS; do kill -9 "$p" 2> /dev/null; done; rm -rf "$T"' EXIT

# free_ports N: N loopback TCP ports nothing listens on now.
free_ports() {
    python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}

# etcd_healthy URL: whether etcd at URL answers a read (python3, so that
# the tests need no curl).
etcd_healthy() {
    python3 -c '
import sys, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v3/kv/range",
        data=b"{\"key\":\"eA==\"}", headers={"Content-Type": "application/json"}), timeout=2)
except Exception:
    sys.exit(1)' "$1"
}

# start_etcd N: an N-member etcd cluster; member I (1..N) has its client
# URL in $ETCD_URL_I, its pid in $ETCD_PID_I; $ETCD_ENDPOINTS lists them
# all.  Returns once every member answers.
start_etcd() {
    n=$1
    set -- $(free_ports $((2 * n)))
    cluster=""
    ETCD_ENDPOINTS=""
    for i in $(seq 1 "$n"); do
        eval "ETCD_CPORT_$i=\$1 ETCD_PPORT_$i=\$2"
        shift 2
        eval "cluster=\"\${cluster:+\$cluster,}m$i=http://127.0.0.1:\$ETCD_PPORT_$i\""
        eval "ETCD_URL_$i=http://127.0.0.1:\$ETCD_CPORT_$i"
        eval "ETCD_ENDPOINTS=\"\${ETCD_ENDPOINTS:+\$ETCD_ENDPOINTS,}\$ETCD_URL_$i\""
    done
    for i in $(seq 1 "$n"); do
        run_member "$i"
    done
    for i in $(seq 1 "$n"); do
        wait_member "$i"
    done
}

# run_member I: (re)starts member I of the cluster start_etcd made.
run_member() {
    eval "cport=\$ETCD_CPORT_$1 pport=\$ETCD_PPORT_$1"
    etcd --name "m$1" --data-dir "$T/etcd-m$1" \
        --listen-client-urls "http://127.0.0.1:$cport" \
        --advertise-client-urls "http://127.0.0.1:$cport" \
        --listen-peer-urls "http://127.0.0.1:$pport" \
        --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        > "$T/etcd-m$1.log" 2>&1 &
    eval "ETCD_PID_$1=$!"
    ETCD_PIDS="$ETCD_PIDS $!"
}

wait_member() {
    eval "url=\$ETCD_URL_$1"
    k=0
    while ! etcd_healthy "$url" && [ $k -lt 300 ]; do
        sleep 0.1; k=$((k + 1))
    done
    etcd_healthy "$url" || { echo "Bail out! etcd member $1 did not start: $(tail -5 "$T/etcd-m$1.log")"; exit 1; }
}

# stop_member I: SIGKILL, and wait until it is gone.
stop_member() {
    eval "pid=\$ETCD_PID_$1"
    kill -9 "$pid"
    wait "$pid" 2> /dev/null
}

# backend NAME: a back end's configuration $T/NAME.conf with its own
# configdirectory, spool and search partition.
backend() {
    mkdir -p "$T/$1/search"
    cat > "$T/$1.conf" <<CONF
configdirectory: $T/$1/conf
partition-default: $T/$1/spool
t1searchpartition-default: $T/$1/search
defaultsearchtier: t1
namelock_timeout: 10
cluster_registry: etcd
etcd_endpoints: $ETCD_ENDPOINTS
servername: $1
backend_shell: env XAPIARY_CONFIG=$T/%s.conf
CONF
}

# two_backends: one etcd member and back ends be1 and be2, with $M1 and
# $M2 the mbctl of each.
two_backends() {
    start_etcd 1
    backend be1
    backend be2
    M1="$MBCTL -C $T/be1.conf"
    M2="$MBCTL -C $T/be2.conf"
}

# etcd_get KEY: the value of KEY, empty when none.
etcd_get() {
    python3 -c '
import base64, json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v3/kv/range",
    data=json.dumps({"key": base64.b64encode(sys.argv[2].encode()).decode()}).encode(),
    headers={"Content-Type": "application/json"})
kvs = json.load(urllib.request.urlopen(req, timeout=5)).get("kvs", [])
print(base64.b64decode(kvs[0]["value"]).decode() if kvs else "")' "${ETCD_URL_1}" "$1"
}

# etcd_put KEY VALUE, etcd_del KEY: what another node's write does.
etcd_put() {
    python3 -c '
import base64, json, sys, urllib.request
b = lambda s: base64.b64encode(s.encode()).decode()
body = {"key": b(sys.argv[2])}
path = "/v3/kv/deleterange"
if len(sys.argv) > 3:
    body["value"] = b(sys.argv[3]); path = "/v3/kv/put"
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + path, data=json.dumps(body).encode(),
    headers={"Content-Type": "application/json"}), timeout=5).read()' "${ETCD_URL_1}" "$@"
}
etcd_del() { etcd_put "$1"; }

# etcd_compact: compacts etcd's history up to its current revision.
etcd_compact() {
    python3 -c '
import json, sys, urllib.request
def post(path, body):
    return json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1] + path,
        data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}), timeout=5))
rev = post("/v3/kv/range", {"key": "eA=="})["header"]["revision"]
post("/v3/kv/compaction", {"revision": rev, "physical": True})' "${ETCD_URL_1}"
}

# tcp_proxy NAME: a TCP proxy in front of etcd member 1 at $PROXY_NAME.
# SIGUSR1 to $PROXY_PID_NAME cuts it (every connection closed, new ones
# refused), SIGUSR2 mends it; $T/NAME.conns counts the connections it
# passed on (one per request of ours: libcurl's handle is not reused).
tcp_proxy() {
    python3 - "${ETCD_URL_1#http://}" "$T/$1" <<'PY' &
import os, signal, socket, sys, threading
host, port = sys.argv[1].rsplit(":", 1)
base = sys.argv[2]
cut = False
live = set()
lock = threading.Lock()
conns = 0
def close_all():
    with lock:
        for s in list(live):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
def on_cut(*a):
    global cut
    cut = True
    close_all()
    open(base + ".cut", "w").close()
def on_mend(*a):
    global cut
    cut = False
    os.unlink(base + ".cut")
signal.signal(signal.SIGUSR1, on_cut)
signal.signal(signal.SIGUSR2, on_mend)
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    with lock:
        live.discard(a)
        live.discard(b)
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(64)
with open(base + ".port.tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(base + ".port.tmp", base + ".port")
while True:
    try:
        c, _ = ls.accept()
    except InterruptedError:
        continue
    if cut:
        c.close()
        continue
    try:
        u = socket.create_connection((host, int(port)))
    except OSError:
        c.close()
        continue
    conns += 1
    with open(base + ".conns.tmp", "w") as f:
        f.write(str(conns))
    os.rename(base + ".conns.tmp", base + ".conns")
    with lock:
        live.update((c, u))
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()
PY
    eval "PROXY_PID_$1=$!"
    ETCD_PIDS="$ETCD_PIDS $!"
    k=0
    while [ ! -s "$T/$1.port" ] && [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
    eval "PROXY_$1=http://127.0.0.1:$(cat "$T/$1.port")"
}
proxy_conns() { cat "$T/$1.conns" 2> /dev/null || echo 0; }

# start_lmtpd CONF: lmtpd -v for the back end of CONF on $T/lmtp.sock,
# logging to $T/lmtpd.log; $LMTPD_PID.
start_lmtpd() {
    rm -f "$T/lmtp.sock"
    "$top_builddir/lmtpd" -C "$1" -v --listen "unix:$T/lmtp.sock" > /dev/null 2> "$T/lmtpd.log" &
    LMTPD_PID=$!
    ETCD_PIDS="$ETCD_PIDS $!"
    wait_log "listening on"
}

# wait_log TEXT [N]: waits until $T/lmtpd.log has N (1) lines with TEXT.
# (The log file may not be there yet: the shell of lmtpd's & makes it.)
log_count() { cat "$T/lmtpd.log" 2> /dev/null | grep -c -- "$1"; }
wait_log() {
    k=0
    while [ "$(log_count "$1")" -lt "${2:-1}" ] && [ $k -lt 400 ]; do
        sleep 0.05; k=$((k + 1))
    done
    [ "$(log_count "$1")" -ge "${2:-1}" ] && return 0
    fail "lmtpd logs '$1' ${2:-1} times" "$(tail -5 "$T/lmtpd.log")"
    return 1
}

# rcpt ADDR...: one LMTP connection to $T/lmtp.sock, RCPT TO each ADDR;
# prints each reply line.
rcpt() {
    python3 - "$T/lmtp.sock" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rwb")
def cmd(line):
    if line:
        f.write(line.encode() + b"\r\n"); f.flush()
    while True:
        l = f.readline().decode()
        if l[3:4] != "-":
            return l.strip()
cmd(None)
cmd("LHLO test")
cmd("MAIL FROM:<a@example.org>")
for a in sys.argv[2:]:
    print(cmd("RCPT TO:<%s@example.org>" % a))
cmd("QUIT")
PY
}

# rcpt_until ADDR PATTERN: new connections until ADDR's reply matches
# PATTERN (grep -E), the wait for the listener to apply a change; prints
# the last reply.
rcpt_until() {
    k=0
    while ! rcpt "$1" | grep -Eq -- "$2" && [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
    rcpt "$1"
}

# debris NAME USERID: what back end NAME has of USERID (records of any
# type; spool, search tier and user-data directories), one line each;
# empty when nothing.  The namelock tree is not debris (docs/LOCKING.md).
debris() {
    XAPIARY_CONFIG="$T/$1.conf" "$MBCTL" list -a "user.$2" 2> /dev/null
    XAPIARY_CONFIG="$T/$1.conf" "$MBCTL" list -a "user.$2.*" 2> /dev/null
    find "$T/$1/spool" "$T/$1/search" "$T/$1/conf/user" -name "$2" 2> /dev/null
}
