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

# debris NAME USERID: what back end NAME has of USERID (records of any
# type; spool, search tier and user-data directories), one line each;
# empty when nothing.  The namelock tree is not debris (docs/LOCKING.md).
debris() {
    XAPIARY_CONFIG="$T/$1.conf" "$MBCTL" list -a "user.$2" 2> /dev/null
    XAPIARY_CONFIG="$T/$1.conf" "$MBCTL" list -a "user.$2.*" 2> /dev/null
    find "$T/$1/spool" "$T/$1/search" "$T/$1/conf/user" -name "$2" 2> /dev/null
}
