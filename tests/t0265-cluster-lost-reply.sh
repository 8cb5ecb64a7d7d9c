#!/bin/sh
# A request whose outcome is unknown is retried idempotently
# (docs/SCALING.md "The transactions"): a proxy in front of etcd passes a
# create's transaction on and drops etcd's answer.  The create sends it
# again to the next endpoint, finds its own value there and succeeds; when
# every endpoint drops the answer, the create exits 75 and keeps its
# RESERVED record, which `mbctl recover` finishes once etcd answers.
. "${top_srcdir:-$(dirname "$0")/..}/tests/tap.sh"
. "$top_srcdir/tests/cluster.sh"

start_etcd 1
# proxy NAME: forwards to etcd, drops the answer to every /v3/kv/txn.
proxy() {
    python3 - "$ETCD_URL_1" "$T/$1.port" "$T/$1.log" <<'PY' &
import http.server, sys, urllib.request
etcd, portfile, log = sys.argv[1:4]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        req = urllib.request.Request(etcd + self.path, data=body,
                                     headers={"Content-Type": "application/json"})
        answer = urllib.request.urlopen(req, timeout=5).read()
        if self.path == "/v3/kv/txn":
            with open(log, "a") as f:
                f.write("dropped\n")
            self.close_connection = True
            return          # applied by etcd, never answered
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
PY
    ETCD_PIDS="$ETCD_PIDS $!"
    k=0
    while [ ! -s "$T/$1.port" ] && [ $k -lt 200 ]; do sleep 0.05; k=$((k + 1)); done
    eval "PROXY_$1=http://127.0.0.1:$(cat "$T/$1.port")"
}
proxy p1

backend be1
backend be2
# be1 asks the proxy first, then etcd itself.
sed -i "s|^etcd_endpoints: .*|etcd_endpoints: $PROXY_p1,$ETCD_URL_1|" "$T/be1.conf"

expect_exit 0 "the answer is lost, the repeat finds its own create" $MBCTL -C "$T/be1.conf" create -s be1 user.u1
[ "$(grep -c dropped "$T/p1.log")" -eq 1 ] && pass "... the proxy dropped one answer" ||
    fail "... the proxy dropped one answer" "$(cat "$T/p1.log" 2> /dev/null)"
[ "$($MBCTL -C "$T/be1.conf" list user.u1)" = user.u1 ] && pass "... be1 has user.u1" ||
    fail "... be1 has user.u1"
expect_grep '"server":"be1"' /dev/stdin "... and etcd says be1" <<E
$(etcd_get /xapiary/users/u1)
E
expect_exit 73 "be2 cannot create user.u1" $MBCTL -C "$T/be2.conf" create -s be2 user.u1

# Only the dropping proxy: the outcome stays unknown.
sed -i "s|^etcd_endpoints: .*|etcd_endpoints: $PROXY_p1|" "$T/be1.conf"
expect_exit 75 "every answer lost: exit 75" $MBCTL -C "$T/be1.conf" create -s be1 user.u2
expect_grep "may or may not" "$T/err" "... says the outcome is unknown"
expect_grep "RESERVED" /dev/stdin "... and keeps the RESERVED record" <<E
$($MBCTL -C "$T/be1.conf" list -a user.u2)
E
expect_exit 73 "meanwhile be2 cannot create user.u2 (etcd has be1's claim)" $MBCTL -C "$T/be2.conf" create -s be2 user.u2
sed -i "s|^etcd_endpoints: .*|etcd_endpoints: $ETCD_URL_1|" "$T/be1.conf"
expect_exit 0 "recover with etcd answering" $MBCTL -C "$T/be1.conf" recover
[ "$($MBCTL -C "$T/be1.conf" list -a user.u2)" = "user.u2	-	-" ] && pass "... finished the create" ||
    fail "... finished the create" "$($MBCTL -C "$T/be1.conf" list -a user.u2)"
echo "Subject: x" | $MBCTL -C "$T/be1.conf" append user.u2 > /dev/null && pass "... user.u2 takes mail" ||
    fail "... user.u2 takes mail"
done_testing
