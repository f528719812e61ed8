#!/usr/bin/env bash
# A local js-ipfs daemon (npm package ipfs@0.66.1, which serves the Kubo HTTP RPC API) for the
# client's integration tests, its benchmarks and the README walkthrough.
#
#   scripts/ipfs.sh install   installs js-ipfs into the cache directory (idempotent)
#   scripts/ipfs.sh start     installs if needed, initialises a repo (no swarm, no bootstrap, API and
#                             gateway on port 0 of the loopback: the daemon binds a port of the
#                             kernel's choice and prints it), starts the daemon, reads the API's
#                             port from the daemon's log, waits until the API answers with the
#                             repo's own peer id, prints the API URL and writes it to
#                             $EMR_IPFS_DIR/api-url
#   scripts/ipfs.sh stop      stops the daemon started from $EMR_IPFS_DIR
#   scripts/ipfs.sh status    prints the API URL and exits 0 if the daemon answers, exits 1 otherwise
#
# Environment:
#   EMR_IPFS_DIR        state directory: repo, pid file, log, api-url (default: $ROOT/.ipfs)
#   EMR_JS_IPFS_CACHE   where js-ipfs is installed (default: ~/.cache/emr-chain/js-ipfs)
#   EMR_IPFS_WATCH_PID  if set at `start`, the daemon is stopped (and, if EMR_IPFS_REMOVE_DIR=1, the
#                       state directory removed) as soon as that process exits; the Rust tests use
#                       this so that no test run leaves a daemon behind, even when it is killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JS_IPFS_VERSION="0.66.1"
MORTICE_VERSION="3.0.6"
CACHE="${EMR_JS_IPFS_CACHE:-$HOME/.cache/emr-chain/js-ipfs}"
STATE="${EMR_IPFS_DIR:-$ROOT/.ipfs}"
JSIPFS="$CACHE/node_modules/ipfs/src/cli.js"

log() { echo "ipfs.sh: $*" >&2; }
die() { log "$*"; exit 1; }

install() {
	command -v node >/dev/null 2>&1 || die "Node.js is required (node not found on PATH)"
	command -v npm >/dev/null 2>&1 || die "npm is required (npm not found on PATH)"
	mkdir -p "$CACHE"
	# One installer at a time (several test binaries may start daemons concurrently).
	exec 9>"$CACHE/.install.lock"
	flock 9
	local want="ipfs@$JS_IPFS_VERSION mortice@$MORTICE_VERSION"
	if [ -f "$CACHE/.installed" ] && [ "$(cat "$CACHE/.installed")" = "$want" ] && [ -f "$JSIPFS" ]; then
		exec 9>&-
		return 0
	fi
	log "installing js-ipfs $JS_IPFS_VERSION into $CACHE (one-time, needs network access to npm)"
	cat >"$CACHE/package.json" <<-EOF
		{
		  "name": "emr-chain-js-ipfs",
		  "private": true,
		  "description": "js-ipfs daemon for emr-chain's client tests (installed by scripts/ipfs.sh)",
		  "dependencies": { "ipfs": "$JS_IPFS_VERSION" },
		  "overrides": { "mortice": "$MORTICE_VERSION" }
		}
	EOF
	rm -f "$CACHE/.installed"
	(cd "$CACHE" && npm install --no-audit --no-fund --loglevel=error >"$CACHE/npm-install.log" 2>&1) ||
		{ tail -n 30 "$CACHE/npm-install.log" >&2; die "npm install of ipfs@$JS_IPFS_VERSION failed (log: $CACHE/npm-install.log)"; }
	[ -f "$JSIPFS" ] || die "npm install finished but $JSIPFS is missing"
	local got
	got=$(node -p "require('$CACHE/node_modules/mortice/package.json').version")
	[ "$got" = "$MORTICE_VERSION" ] || die "mortice override not applied (found $got, want $MORTICE_VERSION)"
	# The marker last, by rename: an install cut short is made again, not taken for done.
	echo "$want" >"$CACHE/.installed.tmp"
	mv -f "$CACHE/.installed.tmp" "$CACHE/.installed"
	exec 9>&-
}

# The peer id of the repo under $1 (from its config).
repo_peer_id() {
	node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Identity.PeerID)' "$1/config"
}

# Whether the daemon at URL $1 answers as the repo's own peer ($STATE/repo): an answer from
# another process that holds the port does not count.
api_answers() {
	local id
	id=$(curl -s -f -X POST --max-time 3 "$1/api/v0/id" 2>/dev/null | jq -r '.ID // empty' 2>/dev/null) || return 1
	[ -n "$id" ] && [ "$id" = "$(repo_peer_id "$STATE/repo")" ]
}

running_pid() {
	[ -f "$STATE/daemon.pid" ] || return 1
	local pid
	pid=$(cat "$STATE/daemon.pid")
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

start() {
	install
	mkdir -p "$STATE"
	if pid=$(running_pid) && [ -f "$STATE/api-url" ] && api_answers "$(cat "$STATE/api-url")"; then
		cat "$STATE/api-url"
		return 0
	fi
	local repo="$STATE/repo" url=""
	if [ ! -f "$repo/config" ]; then
		rm -rf "$repo"
		# The init config is merged into js-ipfs' defaults: no swarm listeners, no bootstrap
		# peers, no discovery; the API and gateway addresses are filled in below.
		cat >"$STATE/init-config.json" <<-'EOF'
			{"Addresses": {"Swarm": [], "Announce": [], "NoAnnounce": [], "Delegates": []},
			 "Bootstrap": [],
			 "Discovery": {"MDNS": {"Enabled": false}, "webRTCStar": {"Enabled": false}}}
		EOF
		IPFS_PATH="$repo" node "$JSIPFS" init --algorithm ed25519 --empty-repo "$STATE/init-config.json" \
			>"$STATE/init.log" 2>&1 || { cat "$STATE/init.log" >&2; die "js-ipfs init failed"; }
	fi
	# The API and gateway on port 0: the daemon binds ports of the kernel's choice (a port picked
	# here and handed over could be taken by another test's connection meanwhile).
	node -e '
		const fs = require("fs"); const f = process.argv[1];
		const c = JSON.parse(fs.readFileSync(f, "utf8"));
		c.Addresses = c.Addresses || {};
		c.Addresses.API = "/ip4/127.0.0.1/tcp/0";
		c.Addresses.Gateway = "/ip4/127.0.0.1/tcp/0";
		c.Addresses.RPC = "";
		c.Addresses.Swarm = []; c.Bootstrap = [];
		fs.writeFileSync(f, JSON.stringify(c, null, 2));
	' "$repo/config"
	rm -f "$STATE/api-url" "$repo/api"
	IPFS_PATH="$repo" nohup node "$JSIPFS" daemon >"$STATE/daemon.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$STATE/daemon.pid"
	local i port
	for i in $(seq 1 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 30 "$STATE/daemon.log" >&2
			die "the js-ipfs daemon exited during start-up (log: $STATE/daemon.log)"
		fi
		# "HTTP API listening on /ip4/127.0.0.1/tcp/PORT/http": the port it bound.
		port=$(sed -n 's|^HTTP API listening on /ip4/127\.0\.0\.1/tcp/\([0-9]*\)/http.*|\1|p' "$STATE/daemon.log" | head -n 1)
		if [ -n "$port" ]; then
			url="http://127.0.0.1:$port"
			if api_answers "$url"; then break; fi
		fi
		sleep 0.1
	done
	[ -n "$url" ] && api_answers "$url" || {
		kill "$pid" 2>/dev/null || true
		tail -n 30 "$STATE/daemon.log" >&2
		die "the js-ipfs daemon did not answer as its own peer within 60 s (API: ${url:-not printed})"
	}
	echo "$url" >"$STATE/api-url"
	if [ -n "${EMR_IPFS_WATCH_PID:-}" ]; then
		# Stops the daemon once the watched process (a test binary) is gone.
		local watched="$EMR_IPFS_WATCH_PID" remove="${EMR_IPFS_REMOVE_DIR:-0}"
		(
			trap '' HUP
			while kill -0 "$watched" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
			kill "$pid" 2>/dev/null || true
			for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -9 "$pid" 2>/dev/null || true
			if [ "$remove" = 1 ]; then rm -rf "$STATE"; fi
		) </dev/null >/dev/null 2>&1 &
		disown
	fi
	echo "$url"
}

stop() {
	local pid
	if pid=$(running_pid); then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
		log "stopped the daemon (pid $pid)"
	else
		log "no daemon running from $STATE"
	fi
	rm -f "$STATE/daemon.pid" "$STATE/api-url"
}

status() {
	if running_pid >/dev/null && [ -f "$STATE/api-url" ] && api_answers "$(cat "$STATE/api-url")"; then
		cat "$STATE/api-url"
		return 0
	fi
	log "no daemon answering from $STATE"
	return 1
}

case "${1:-}" in
	install) install ;;
	start) start ;;
	stop) stop ;;
	status) status ;;
	*) die "usage: $0 install|start|stop|status" ;;
esac
