#!/usr/bin/env bash
# test.sh is the one command that checks wsgate: dependencies, vet, the
# unit and differential tests (the RFC 6455 conformance suite,
# internal/conformance, among them), a race-detector pass, a short run of every
# fuzz target, and the real-client end-to-end suites. It prints a summary
# and exits non-zero if any step failed.
#
# Needs: Go (on PATH or in /usr/local/go/bin), and for the dependencies
# (scripts/install-deps.sh) Debian's apt-get with root or sudo, and
# Node.js 20+ with npm. When one is missing it says so before running
# anything, and stops.
#
# Environment:
#   FUZZTIME=5s      how long each fuzz target runs (0 skips fuzzing)
#   SKIP_INSTALL=1   do not run scripts/install-deps.sh
#   SKIP_RACE=1      skip the race-detector pass
#   DIFF_WSGATE=0    skip the differential cases against a built wsgate
#                    (they run by default; "go test" runs them against a
#                    second nginx, which checks the cases' stated values)
#   RACE_PKGS        packages for the race pass (default: ./internal/... but
#                    internal/difftest, which mostly waits on nginx)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin"

FUZZTIME=${FUZZTIME:-5s}
work=$(mktemp -d)
declare -a pids=() summary=()
passed=0
failed=0
t_start=$(date +%s)

# Job control: every step runs as its own process group, so that stopping
# it by its PID (as a group) also stops what it started (go test binaries,
# nginx), and wait reports its exit status.
set -m
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM -- "-$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM

step() {
	local name=$1
	shift
	local t0 rc
	t0=$(date +%s)
	echo
	echo "==> $name: $*"
	"$@" &
	local pid=$!
	pids+=("$pid")
	wait "$pid"
	rc=$?
	unset 'pids[-1]'
	local dt=$(($(date +%s) - t0))
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		summary+=("$(printf '  ok    %-52s %4ss' "$name" "$dt")")
	else
		failed=$((failed + 1))
		summary+=("$(printf '  FAIL  %-52s %4ss  (exit %s)' "$name" "$dt" "$rc")")
	fi
}

if ! command -v go >/dev/null 2>&1; then
	echo "test.sh: Go is not installed (not on PATH, not in /usr/local/go/bin): install Go 1.26 or later from https://go.dev/dl/ and run this again" >&2
	exit 1
fi

if [ "${SKIP_INSTALL:-0}" != 1 ]; then
	step "install dependencies" ./scripts/install-deps.sh
	if [ "$failed" -ne 0 ]; then
		echo >&2
		echo "test.sh: stopped: the tests need what scripts/install-deps.sh could not install (it says what above)" >&2
		exit 1
	fi
fi

step "go build" go build ./...
step "go vet" go vet ./...
# difftest runs nginx pairs that mostly wait on sockets: more of them at once.
# The real-configuration corpus is a step of its own, below.
step "go test" go test -count=1 -timeout 10m -parallel 8 $(go list ./... | grep -v '/internal/corpustest$')

# The real-configuration corpus (testdata/realconfigs): nginx -t and
# wsgate -t on every file, and the same requests through both for every
# file both accept. Run in the package's directory so that its figure
# ("wsgate -t accepts N of M files nginx accepts") is printed.
corpus() {
	(cd internal/corpustest && go test -count=1 -timeout 5m -parallel 8 -run '^TestCorpus$') | tee "$work/corpus.out"
}
step "realconfigs corpus" corpus
corpus_figure=$(grep -m1 '^wsgate -t accepts' "$work/corpus.out" 2>/dev/null)

if [ "${SKIP_RACE:-0}" != 1 ]; then
	if [ -z "${RACE_PKGS:-}" ]; then
		RACE_PKGS=$(go list ./internal/... | grep -v '/internal/difftest$' | tr '\n' ' ')
	fi
	# shellcheck disable=SC2086
	step "go test -race" go test -race -count=1 -timeout 10m $RACE_PKGS
fi

# Fuzz targets, discovered per package. A run that ends with the fuzzing
# engine's own "context deadline exceeded" and no failing input (it happens
# on a loaded machine when fuzztime expires mid-minimisation) is run once
# more; a real failure writes its input under testdata/fuzz and fails.
fuzz_one() {
	local pkg=$1 name=$2 out rc
	out=$(go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ "$rc" -ne 0 ] && grep -q 'context deadline exceeded' <<<"$out" && ! grep -q 'Failing input written' <<<"$out"; then
		echo "fuzz engine deadline, no failing input: running $name once more"
		go test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" "$pkg"
		return
	fi
	return "$rc"
}
if [ "$FUZZTIME" != 0 ]; then
	for pkg in $(go list ./...); do
		names=$(go test -list 'Fuzz.*' -run '^$' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
		for name in $names; do
			step "fuzz ${pkg#wsgate/}.$name" fuzz_one "$pkg" "$name"
		done
	done
fi

# The wsgate binary the differential cases and the end-to-end clients use.
step "build wsgate" go build -o "$work/wsgate" ./cmd/wsgate
export WSGATE_BIN="$work/wsgate"
if [ "${DIFF_WSGATE:-1}" != 0 ] && [ -x "$WSGATE_BIN" ]; then
	step "difftest nginx vs wsgate" go test -count=1 -timeout 10m -parallel 8 -run 'TestCases' ./internal/difftest
fi

# End-to-end suites with real clients: each runs wsgate with the
# tutorial's configuration and goes through it (e2e/tutorial*), after a
# check of the client toolchain on its own (e2e/toolchain*).
shopt -s nullglob
node_suites=(e2e/*.test.mjs)
py_suites=(e2e/*_test.py)
shopt -u nullglob
if [ "${#node_suites[@]}" -gt 0 ]; then
	step "e2e node ws through wsgate (+ toolchain)" node --test "${node_suites[@]}"
fi
if [ "${#py_suites[@]}" -gt 0 ]; then
	# Debian's python3 has python3-websockets; a pyenv python3 on PATH may not.
	step "e2e python websockets through wsgate (+ toolchain)" /usr/bin/python3 -m unittest discover -s e2e -p '*_test.py'
fi
# The demo page in headless Chromium (e2e/browser/run.sh builds wsgate).
chromium_bin=${CHROMIUM:-/usr/bin/chromium}
if command -v node >/dev/null && [ -x "$chromium_bin" ] && [ -d e2e/node_modules ]; then
	step "e2e chromium demo page through wsgate" ./e2e/browser/run.sh
	# The live status page (ws_status); screenshots in e2e/out.
	step "e2e chromium status page (ws_status)" node e2e/browser/status.test.mjs e2e/out
	# The tutorial's page and its WebSocket over HTTP/2 (RFC 8441).
	step "e2e chromium page and WebSocket over h2" ./e2e/browser/proto.sh h2
	# The page over HTTP/3 ("listen ... quic"; the WebSocket over TCP).
	step "e2e chromium page over h3" ./e2e/browser/proto.sh h3
fi

total=$(($(date +%s) - t_start))
echo
echo "==> summary (${total}s)"
printf '%s\n' "${summary[@]}"
[ -n "${corpus_figure:-}" ] && echo "realconfigs: $corpus_figure"
echo "summary: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
