#!/bin/sh
# The tutorial's configuration over TLS in front of the demo's backends,
# loaded by headless Chromium over the protocol PROTO names:
#   h2: "listen ... ssl http2". The page must arrive over h2 (its
#       nextHopProtocol) and its WebSocket must open on the same HTTP/2
#       connection (RFC 8441), which wsgate's access log shows
#       ($connection and $server_protocol of the page and of the WebSocket).
#   h3: "listen ... ssl" and "listen ... quic" on one port. The page must
#       arrive over h3 (its nextHopProtocol, and HTTP/3.0 in wsgate's access
#       log) and its WebSocket must work, which Chromium opens over TCP (it
#       does not speak RFC 9220; wsgate's own tests cover WebSockets over
#       HTTP/3 with quic-go's client).
# Usage: e2e/browser/proto.sh h2|h3
# The certificate is signed by a test CA made here; Chromium trusts it by
# its key (--ignore-certificate-errors-spki-list). Needs go, node,
# e2e/node_modules (npm ci in e2e/), openssl and chromium (CHROMIUM
# overrides /usr/bin/chromium).
set -eu

proto=${1:-}
case $proto in
h2) version=HTTP/2.0 ;;
h3) version=HTTP/3.0 ;;
*)
	echo "usage: $0 h2|h3" >&2
	exit 2
	;;
esac

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
if [ "$proto" = h2 ]; then
	listen="listen 127.0.0.1:$port ssl http2;"
else
	listen="listen 127.0.0.1:$port ssl;
listen 127.0.0.1:$port quic;"
fi

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

# The tutorial's server block, with the protocol's listen lines on a free
# port.
mkdir -p logs
cat >nginx.conf <<CONF
events {}
http {
log_format proto '\$connection \$server_protocol \$status \$request_uri';
access_log $work/access.log proto;
server {
$listen
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
(cd "$root/e2e" && node browser/proto.test.mjs "https://localhost:$port/" "$spki" "$proto") || status=$?

page=$(awk -v v="$version" '$2 == v && $4 == "/" {print $1; exit}' "$work/access.log" || true)
if [ -z "$page" ]; then
	echo "FAIL page served over $version (access log):" >&2
	cat "$work/access.log" >&2
	status=1
elif [ "$proto" = h3 ]; then
	echo "ok   page served over $version (access log)"
else
	echo "ok   page served over $version on connection $page"
	# The page and its WebSocket on one HTTP/2 connection: the same
	# $connection, HTTP/2.0, and a 101 for the WebSocket. A tunnel's line
	# is written when it ends: the browser has closed.
	i=0
	while ! awk -v c="$page" -v v="$version" '$1 == c && $2 == v && $3 == "101" && $4 ~ /^\/ws\/echo/ {f=1} END {exit !f}' "$work/access.log"; do
		i=$((i + 1))
		if [ $i -ge 100 ]; then
			echo "FAIL WebSocket /ws/echo over the page's HTTP/2 connection (access log):" >&2
			cat "$work/access.log" >&2
			status=1
			break
		fi
		sleep 0.1
	done
	[ $i -lt 100 ] && echo "ok   WebSocket /ws/echo tunnelled on the same HTTP/2 connection ($page)"
fi
exit $status
