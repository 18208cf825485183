#!/bin/sh
# Builds wsgate, starts `wsgate demo` on free loopback ports, runs the
# headless Chromium test against it, stops the demo and exits non-zero on
# any failure. Run from anywhere; needs go, node, e2e/node_modules
# (npm ci in e2e/) and chromium (CHROMIUM overrides /usr/bin/chromium).
# The screenshot goes to e2e/out/demo.png.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/e2e/out"
mkdir -p "$out"
work=$(mktemp -d)
demo_pid=""

cleanup() {
	if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
		kill -INT "$demo_pid" 2>/dev/null || true
		i=0
		while kill -0 "$demo_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		kill -KILL "$demo_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ ! -d "$root/e2e/node_modules/playwright-core" ]; then
	echo "e2e/browser: e2e/node_modules/playwright-core is missing: run 'npm ci' in e2e/" >&2
	exit 1
fi
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	echo "e2e/browser: chromium not found at ${CHROMIUM:-/usr/bin/chromium}" >&2
	exit 1
fi

# scripts/test.sh has built wsgate already and says where (WSGATE_BIN).
if [ -n "${WSGATE_BIN:-}" ] && [ -x "$WSGATE_BIN" ]; then
	cp "$WSGATE_BIN" "$work/wsgate"
else
	(cd "$root" && go build -o "$work/wsgate" ./cmd/wsgate)
fi

# Port 0 lets the demo pick free loopback ports; it prints the URL to open.
# The output files exist before the demo starts: the shell opens a
# background command's redirections in the child, maybe after the first
# read below.
: >"$work/demo.out"
: >"$work/demo.err"
"$work/wsgate" demo -listen 127.0.0.1:0 -ws-backend 127.0.0.1:0 -app 127.0.0.1:0 \
	>"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!

url=""
i=0
while [ $i -lt 100 ]; do
	url=$(sed -n 's/^Open \(http:[^ ]*\) in a browser\.$/\1/p' "$work/demo.out")
	[ -n "$url" ] && break
	if ! kill -0 "$demo_pid" 2>/dev/null; then break; fi
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$url" ]; then
	echo "e2e/browser: wsgate demo did not start:" >&2
	cat "$work/demo.out" "$work/demo.err" >&2
	exit 1
fi
echo "e2e/browser: demo at $url (pid $demo_pid)"

status=0
(cd "$root/e2e" && node browser/demo.test.mjs "$url" "$out/demo.png") || status=$?

# The same round trip from wsgate probe (10 echoes of 32 bytes), for
# comparison with the page's figure printed above.
ws_url="ws${url#http}ws/echo"
"$work/wsgate" probe --count 10 "$ws_url" | grep 'echo:' || { echo "e2e/browser: wsgate probe $ws_url failed" >&2; status=1; }

# Stop the demo with Ctrl-C's signal and check it stopped cleanly.
kill -INT "$demo_pid"
i=0
while kill -0 "$demo_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 "$demo_pid" 2>/dev/null; then
	echo "e2e/browser: wsgate demo still running 10s after SIGINT" >&2
	status=1
else
	wait "$demo_pid" || { echo "e2e/browser: wsgate demo exited with status $?" >&2; cat "$work/demo.err" >&2; status=1; }
	grep -q '^stopped$' "$work/demo.out" || { echo "e2e/browser: demo did not report a clean stop" >&2; status=1; }
fi
demo_pid=""
if [ -s "$work/demo.err" ]; then
	echo "e2e/browser: wsgate demo's messages:" >&2
	cat "$work/demo.err" >&2
fi
exit $status
