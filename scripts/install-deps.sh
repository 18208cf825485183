#!/usr/bin/env bash
# install-deps.sh installs what wsgate's tests need on Debian 12, and
# nothing that is already there:
#   nginx-light         the reference for differential tests
#   chromium            the browser for end-to-end tests
#   python3-websockets  a second real WebSocket client (/usr/bin/python3)
#   openssl             the test CA of the HTTP/2 browser test
#   haproxy             only with BENCH=1, for bench/
#   e2e/node_modules    ws and playwright-core, pinned by e2e/package-lock.json
# What it needs to do that: Debian's apt-get (Debian 12 or a derivative),
# root or sudo for the system packages, and Node.js 20 or later with npm
# for the npm packages. When one is missing it says which and what to do,
# and exits 1 before changing anything.
# Safe to run again: it only acts on what is missing. A system nginx is
# never left running on port 80.
set -euo pipefail
cd "$(dirname "$0")/.."

have_cmd() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

# cannot says what is missing and what to do, and stops.
cannot() {
	echo "install-deps: cannot install what the tests need: $1" >&2
	shift
	local l
	for l in "$@"; do
		echo "  $l" >&2
	done
	exit 1
}

missing=()
have_cmd nginx || missing+=(nginx-light)
have_cmd chromium || missing+=(chromium)
have_cmd openssl || missing+=(openssl)
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || missing+=(python3-websockets)
if [ "${BENCH:-0}" = 1 ]; then
	have_cmd haproxy || missing+=(haproxy)
fi

# Node.js and npm are checked before anything is installed, so that a
# machine without them is told so at once, not after apt-get.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ! have_cmd node || ! have_cmd npm || [ "$node_major" -lt 20 ]; then
	cannot "Node.js 20 or later with npm is needed (found: $(node --version 2>/dev/null || echo 'no node'), $(npm --version 2>/dev/null || echo 'no npm'))" \
		"install it from https://nodejs.org/ or your distribution (Debian 12's own nodejs is 18: use NodeSource's or nvm's 20+)," \
		"then run this again."
fi

SUDO=()
if [ "${#missing[@]}" -gt 0 ]; then
	if ! have_cmd apt-get || ! have_cmd dpkg; then
		cannot "${missing[*]} are missing, and this machine has no apt-get (Debian's package manager)." \
			"install them with your package manager (the Debian names: ${missing[*]}), or run on Debian 12;" \
			"then run this again."
	fi
	if [ "$(id -u)" -ne 0 ]; then
		if ! have_cmd sudo; then
			cannot "${missing[*]} are missing; installing them needs root, and sudo is not installed." \
				"run as root:  su -c 'apt-get update && apt-get install -y --no-install-recommends ${missing[*]}'" \
				"then run this again."
		fi
		if ! sudo -n true 2>/dev/null && ! [ -t 0 ]; then
			cannot "${missing[*]} are missing; installing them needs root, and sudo asks for a password with no terminal to type it in." \
				"run it once from a terminal, or as root:  sudo $0"
		fi
		SUDO=(sudo)
	fi
	echo "install-deps: installing ${missing[*]}"
	# Debian starts services on install; policy-rc.d exit 101 forbids it
	# (invoke-rc.d(8)). Only a file created here is removed afterwards.
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
		"${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	remove_policy() {
		if [ "$made_policy" = 1 ]; then
			"${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
			made_policy=0
		fi
	}
	trap remove_policy EXIT
	"${SUDO[@]}" apt-get update
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
	remove_policy
	trap - EXIT
	# Should a system nginx have started anyway, stop exactly that one.
	if [ -s /run/nginx.pid ]; then
		pid=$(cat /run/nginx.pid)
		if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ]; then
			echo "install-deps: stopping the system nginx (pid $pid) started by the install"
			"${SUDO[@]}" kill -QUIT "$pid" || true
		fi
	fi
else
	echo "install-deps: system packages present"
fi

# npm packages, exactly as locked. Skipped when the installed versions
# already match the lock file.
node_ok() {
	node -e '
		const lock = require("./e2e/package-lock.json").packages;
		for (const p of ["ws", "playwright-core"]) {
			const want = lock["node_modules/" + p].version;
			const got = require("./e2e/node_modules/" + p + "/package.json").version;
			if (got !== want) process.exit(1);
		}' >/dev/null 2>&1
}
if node_ok; then
	echo "install-deps: e2e npm packages present"
else
	echo "install-deps: installing e2e npm packages"
	npm ci --prefix e2e --no-audit --no-fund --ignore-scripts
fi
