#!/bin/sh
# Runs wsgate's benchmark against direct, nginx, HAProxy and wsgate and
# appends the results to bench/results/.
#
#   ./scripts/bench.sh                       full run (3 interleaved repetitions, ~15 min)
#   ./scripts/bench.sh -quick                ~1 minute smoke run
#   ./scripts/bench.sh -cases a,b -targets nginx,wsgate
#
# Other flags are passed to the runner (go run ./bench/cmd/runner -h).
set -eu
cd "$(dirname "$0")/.."

# Peers: installed only when absent, without letting the package start a
# system nginx or haproxy (policy-rc.d exit 101 forbids service starts).
need=""
command -v nginx >/dev/null 2>&1 || need="$need nginx-light"
command -v haproxy >/dev/null 2>&1 || need="$need haproxy"
command -v taskset >/dev/null 2>&1 || need="$need util-linux"
if [ -n "$need" ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	policy=/usr/sbin/policy-rc.d
	saved=""
	if [ -e "$policy" ]; then
		saved=$(mktemp)
		$sudo cp -p "$policy" "$saved"
	fi
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	restore() {
		if [ -n "$saved" ]; then $sudo mv "$saved" "$policy"; else $sudo rm -f "$policy"; fi
	}
	trap restore EXIT
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need
	restore
	trap - EXIT
fi

# Each invocation builds into its own directory: a run in progress keeps
# the binaries it started with.
mkdir -p bench/results/tmp
bin=$(mktemp -d bench/results/tmp/bin.XXXXXX)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/echo" ./bench/cmd/echo
go build -o "$bin/load" ./bench/cmd/load
go build -o "$bin/runner" ./bench/cmd/runner
"$bin/runner" -repo . -results bench/results -bin "$bin" "$@"
