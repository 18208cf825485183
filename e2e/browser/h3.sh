#!/bin/sh
# The tutorial's configuration with "listen ... ssl" and "listen ... quic"
# on one port in front of the demo's backends, loaded by headless Chromium
# over HTTP/3: the page must arrive over h3 (its nextHopProtocol, and
# HTTP/3.0 in wsgate's access log) and its WebSocket must work, which
# Chromium opens over TCP (it does not speak RFC 9220; wsgate's own tests
# cover WebSockets over HTTP/3 with quic-go's client).
# The certificate is signed by a test CA made here; Chromium trusts it by
# its key (--ignore-certificate-errors-spki-list). Needs go, node,
# e2e/node_modules (npm ci in e2e/), openssl and chromium (CHROMIUM
# overrides /usr/bin/chromium).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=""

cleanup() {
	for p in $pids; do
		if kill -0 "$p" 2>/dev/null; then
			kill -INT "$p" 2>/dev/null || true
			i=0
			while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
			kill -KILL "$p" 2>/dev/null || true
		fi
	done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ ! -d "$root/e2e/node_modules/playwright-core" ]; then
	echo "e2e/browser: e2e/node_modules/playwright-core is missing: run 'npm ci' in e2e/" >&2
	exit 1
fi
if [ -n "${WSGATE_BIN:-}" ] && [ -x "$WSGATE_BIN" ]; then
	cp "$WSGATE_BIN" "$work/wsgate"
else
	(cd "$root" && go build -o "$work/wsgate" ./cmd/wsgate)
fi

# Three free loopback ports: wsgate's, the WebSocket backend's, the app's.
set -- $(python3 -c 'import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
port=$1 wsport=$2 appport=$3

# The demo's backends (its own proxy listens on a port of its choosing).
"$work/wsgate" demo -listen 127.0.0.1:0 -ws-backend "127.0.0.1:$wsport" -app "127.0.0.1:$appport" \
	>"$work/demo.out" 2>"$work/demo.err" &
pids="$pids $!"

# A test CA and a certificate for localhost signed by it.
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=wsgate test CA" \
	-keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
	-keyout localhost.key -out localhost.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in localhost.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf \
	-out localhost.crt 2>/dev/null
spki=$(openssl x509 -in localhost.crt -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)

# The tutorial's server block, with "listen 443 ssl" and "listen 443 quic"
# on a free port.
mkdir -p logs
cat >nginx.conf <<CONF
events {}
http {
log_format h3 '\$connection \$server_protocol \$status \$request_uri';
access_log $work/access.log h3;
server {
listen 127.0.0.1:$port ssl;
listen 127.0.0.1:$port quic;
server_name localhost;
ssl_certificate $work/localhost.crt;
ssl_certificate_key $work/localhost.key;
location /ws/ {
proxy_pass http://127.0.0.1:$wsport;
proxy_http_version 1.1;
proxy_set_header Upgrade \$http_upgrade;
proxy_set_header Connection "upgrade";
proxy_set_header Host \$host;
proxy_read_timeout 86400;
}
location / {
proxy_pass http://127.0.0.1:$appport;
}
}
}
CONF
"$work/wsgate" -p "$work/" -c "$work/nginx.conf" >"$work/wsgate.out" 2>"$work/wsgate.err" &
pids="$pids $!"
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -ge 100 ]; then
		echo "e2e/browser: wsgate did not start:" >&2
		cat "$work/wsgate.err" >&2
		exit 1
	fi
	sleep 0.1
done

status=0
(cd "$root/e2e" && node browser/h3.test.mjs "https://localhost:$port/" "$spki") || status=$?

if awk '$2 == "HTTP/3.0" && $4 == "/" {f=1} END {exit !f}' "$work/access.log"; then
	echo "ok   page served over HTTP/3 (access log)"
else
	echo "FAIL page served over HTTP/3 (access log):" >&2
	cat "$work/access.log" >&2
	status=1
fi
exit $status
