#!/usr/bin/env bash
# The local Ethereum (L1) for the settlement tests and the demo: anvil from the npm package
# @foundry-rs/anvil (pinned in contracts/package.json; it ships the binary, with the Prague
# hardfork and so the BLS12-381 precompiles of EIP-2537).
#
#   scripts/l1.sh install   installs the pinned npm packages (solc and anvil; idempotent) and
#                           prints the anvil binary's path
#   scripts/l1.sh start     starts anvil on 127.0.0.1:$EMR_L1_PORT (Prague, fixed mnemonic and
#                           chain id, one block per transaction), waits until it answers
#                           eth_chainId and prints the RPC URL
#   scripts/l1.sh deploy [NODE_RPC]
#                           deploys the settlement contracts from the chain's finalized state
#                           (emr-prover l1-deploy; default node http://127.0.0.1:9944) and, on a
#                           development chain, records them with sudo (//Alice)
#   scripts/l1.sh relay [NODE_RPC]
#                           runs the relayer (emr-prover relay) as //Ferdie, the development
#                           chains' relayer, paying gas with anvil's first account
#   scripts/l1.sh stop      stops the anvil started by `start` (its state is kept in
#                           $EMR_L1_DIR/state.json and loaded by the next `start`)
#   scripts/l1.sh status    prints the RPC URL and exits 0 if anvil answers, exits 1 otherwise
#
# Environment:
#   EMR_L1_PORT     RPC port (default 8545)
#   EMR_L1_DIR      pid file and log (default $HOME/.cache/emr-chain/l1)
#   EMR_NPM_DIR     where the npm packages are installed (default $HOME/.cache/emr-chain/npm-l1)
#
# The accounts are anvil's well-known development ones (mnemonic below); the first one's key,
# 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80, deploys and relays in tests
# and the demo. Never use these keys on a real network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NPM_DIR="${EMR_NPM_DIR:-$HOME/.cache/emr-chain/npm-l1}"
STATE="${EMR_L1_DIR:-$HOME/.cache/emr-chain/l1}"
PORT="${EMR_L1_PORT:-8545}"
URL="http://127.0.0.1:$PORT"
CHAIN_ID=31337
MNEMONIC="test test test test test test test test test test test junk"

log() { echo "l1.sh: $*" >&2; }
die() { log "$*"; exit 1; }

anvil_path() {
	local arch
	case "$(uname -m)" in
	x86_64 | amd64) arch=amd64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) die "no anvil build for $(uname -m)" ;;
	esac
	echo "$NPM_DIR/node_modules/@foundry-rs/anvil-$(uname -s | tr '[:upper:]' '[:lower:]')-$arch/bin/anvil"
}

install() {
	command -v npm >/dev/null 2>&1 || die "npm is required (npm not found on PATH)"
	# contracts/build.sh installs under a lock of its own (tests and scripts may install at once).
	EMR_NPM_DIR="$NPM_DIR" "$ROOT/contracts/build.sh" --install-only
	local anvil
	anvil="$(anvil_path)"
	[ -x "$anvil" ] || die "npm install finished but $anvil is missing"
}

answers() {
	curl -s -f --max-time 3 -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "$URL" 2>/dev/null |
		grep -q '"result"'
}

running_pid() {
	[ -f "$STATE/anvil.pid" ] || return 1
	local pid
	pid=$(cat "$STATE/anvil.pid")
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

start() {
	install
	mkdir -p "$STATE"
	if running_pid >/dev/null; then
		answers || die "anvil (pid $(cat "$STATE/anvil.pid")) runs but does not answer on $URL"
		log "already running"
		echo "$URL"
		return 0
	fi
	answers && die "something else answers on $URL (set EMR_L1_PORT)"
	"$(anvil_path)" --host 127.0.0.1 --port "$PORT" --chain-id "$CHAIN_ID" \
		--mnemonic "$MNEMONIC" --hardfork prague --block-time 1 \
		--state "$STATE/state.json" --state-interval 5 >"$STATE/anvil.log" 2>&1 &
	echo $! >"$STATE/anvil.pid"
	for _ in $(seq 1 300); do
		if answers; then
			log "anvil (pid $(cat "$STATE/anvil.pid")) answers on $URL; log: $STATE/anvil.log"
			echo "$URL"
			return 0
		fi
		running_pid >/dev/null || { tail -n 20 "$STATE/anvil.log" >&2; die "anvil exited"; }
		sleep 0.1
	done
	die "anvil did not answer on $URL within 30 s (log: $STATE/anvil.log)"
}

stop() {
	local pid
	if pid=$(running_pid); then
		kill "$pid"
		for _ in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		log "stopped anvil (pid $pid)"
	else
		log "not running"
	fi
	rm -f "$STATE/anvil.pid"
}

DEV_KEY=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

prover_bin() {
	local bin="${EMR_PROVER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/emr-chain/target}/release/emr-prover}"
	[ -x "$bin" ] || die "$bin is missing: build it (cargo build --release -p emr-prover)"
	echo "$bin"
}

dev_keys() {
	mkdir -p "$STATE"
	umask 077
	[ -f "$STATE/l1.key" ] || echo "$DEV_KEY" >"$STATE/l1.key"
	[ -f "$STATE/sudo.key" ] || echo "//Alice" >"$STATE/sudo.key"
	[ -f "$STATE/relayer.key" ] || echo "//Ferdie" >"$STATE/relayer.key"
}

case "${1:-}" in
deploy)
	dev_keys
	answers || die "anvil does not answer on $URL (scripts/l1.sh start)"
	"$(prover_bin)" l1-deploy --rpc "${2:-http://127.0.0.1:9944}" --l1 "$URL" \
		--l1-key "$STATE/l1.key" --sudo "$STATE/sudo.key"
	;;
relay)
	dev_keys
	exec "$(prover_bin)" relay --rpc "${2:-http://127.0.0.1:9944}" --l1 "$URL" \
		--l1-key "$STATE/l1.key" --account-key "$STATE/relayer.key"
	;;
install)
	install
	anvil_path
	;;
start) start ;;
stop) stop ;;
status)
	if running_pid >/dev/null && answers; then
		echo "$URL"
	else
		exit 1
	fi
	;;
*)
	echo "usage: $0 install|start|deploy [RPC]|relay [RPC]|stop|status" >&2
	exit 2
	;;
esac
